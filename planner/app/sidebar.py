"""The app's sidebar: language and page, the street (demo, uploads, an OSM extract or a
place name), this browser's projects, the basemap and the settings form.

Only UI lives here: uploads are staged by :mod:`planner.load.uploads` in the session's
own folder under :func:`upload_dir`, the street is loaded through
:func:`planner.app.cache.cached_street` and the settings are read back from the session
by :func:`planner.app.state.settings_from_state`.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import streamlit as st

from planner.app import pages_common
from planner.app import project as app_project
from planner.app.cache import cached_street
from planner.app.session import L, S, copy_widget, save_work
from planner.app.state import (
    HOUSEHOLD_RANGE,
    PAGES,
    SETTING_KEYS,
    SOURCES,
    SPEED_RANGE_KMH,
    THRESHOLD_CHOICES,
    can_edit,
    settings_from_state,
)
from planner.errors import InputError, PlannerError, error_text
from planner.i18n import LANG_NAMES, LANGS, station_kind_label, t
from planner.i18n import markdown_literal as md
from planner.load import uploads
from planner.maps.redmap import BASEMAPS, basemap_notice
from planner.schema import STATION_KINDS
from planner.settings import Settings


def upload_dir() -> Path:
    """The folder under which each session stages its uploads (in the system's temp folder)."""
    return Path(tempfile.gettempdir()) / "planner-uploads"


@st.cache_resource
def clean_old_uploads() -> int:
    """Once per server process: remove upload folders older than a day."""
    return len(uploads.clean_old_uploads(upload_dir()))


def _uploads() -> Path:
    """This session's own upload folder (its key never leaves the server)."""
    if "uploads" not in S:  # removed with the session's state when the session ends
        S["uploads"] = uploads.SessionUploads(upload_dir())
    folder: Path = S["uploads"].path()
    return folder


def _try_load(source: dict[str, Any]) -> None:
    """Load ``source``; on success make it current, on failure keep the current street."""
    try:
        with st.spinner("…"):
            cached_street(json.dumps(source, sort_keys=True))
    except (InputError, PlannerError, OSError, ValueError) as exc:
        S["load_error"] = load_error(exc)
        return
    S["source"] = source
    S["load_error"] = ""
    S["selected_grid"] = ""
    S["selected_atoms"] = []


def load_error(exc: BaseException) -> dict[str, str]:
    """A failed load's message in each language (:func:`planner.errors.error_text`),
    kept as plain text so the language switch shows the other one."""
    return {lang: error_text(exc, lang) for lang in LANGS}


def _choice(widget: Any, label: str, options: tuple[str, ...], state_key: str, prefix: str) -> str:
    """A radio/selectbox whose labels follow the language; the value lives in S[state_key].

    The widget key carries the language, so switching language makes a fresh widget
    that starts from the stored value instead of a stale translated label.
    """
    lang = S["lang"]
    wkey = f"w_{state_key}_{lang}"
    widget(
        label,
        list(options),
        index=list(options).index(S[state_key]),
        key=wkey,
        format_func=lambda x: t(prefix + x, lang),
        on_change=copy_widget,
        args=(wkey, state_key),
    )
    return str(S[state_key])


def sidebar() -> Settings:
    """The sidebar, one panel after another; returns the settings chosen there."""
    # Streamlit's own words on every upload widget (sidebar and pages) in the language
    st.html(pages_common.uploader_css(S["lang"], Settings().upload_limit_mb))
    with st.sidebar:
        _language_and_page()
        st.divider()
        _street_panel()
        st.divider()
        _projects_panel()
        st.divider()
        _basemap_panel()
        st.divider()
        _settings_form()
    try:
        return settings_from_state(S)
    except PlannerError as exc:
        st.sidebar.error(md(exc))
        return Settings()


def _language_and_page() -> None:
    st.radio(
        "语言 / Language",
        ["zh", "en"],
        key="lang",
        horizontal=True,
        format_func=lambda x: LANG_NAMES[x],
    )
    _choice(st.radio, L("page"), PAGES, "page", "page_")


def _projects_panel() -> None:
    """The current project's name, and this browser's projects to reopen by name."""
    st.subheader(L("recent_projects"))
    if can_edit(S):
        st.text_input(L("project_name"), key="project_name", on_change=save_work)
    recent = [
        p
        for p in app_project.recent_projects(str(S.get("browser_digest", "")))
        if p["project"] != S["project"]
    ]
    if not recent:
        return
    names = {
        p["project"]: L(
            "project_saved_at",
            name=p["name"] or L("project_unnamed", project=p["project"]),
            saved=p["saved"],
        )
        for p in recent
    }
    chosen = st.selectbox(
        L("recent_projects"),
        list(names),
        format_func=lambda p: names[p],
        key="w_recent",
        label_visibility="collapsed",
    )
    # a callback: it runs before the widgets of the next run exist, so it may set them
    st.button(
        L("open_recent"),
        key="open_recent",
        on_click=_open_recent,
        args=(str(chosen),),
    )


def _open_recent(project: str) -> None:
    """Reopen ``project`` (a button callback: :func:`planner.app.project.open_recent`)."""
    app_project.open_recent(S, project, SETTING_KEYS)


def _street_panel() -> None:
    """Which street: the demo, uploaded files, an OSM extract or a place name."""
    st.subheader(L("street"))
    choice = _choice(st.radio, L("source"), SOURCES, "source_choice", "source_")
    if choice == "demo":
        if S["source"].get("kind") != "demo" and st.button(L("load"), key="load_demo"):
            _try_load({"kind": "demo"})
    elif choice in ("upload", "osm"):
        _upload_panel(choice)
    else:
        name = st.text_input(L("place_name"), key="place_name")
        if st.button(L("load"), key="load_place", disabled=not name):
            _try_load({"kind": "place", "name": name})
    if S["load_error"]:
        err = S["load_error"]
        shown = err.get(S["lang"], "") if isinstance(err, dict) else str(err)
        st.error(L("load_failed") + "\n\n" + md(shown))


def _upload_panel(choice: str) -> None:
    """Uploaded layer files (or an OSM extract), a stations file and a register."""
    limit = Settings().upload_limit_mb
    types = (
        ["zip", "geojson", "json", "gpkg", "shp", "shx", "dbf", "prj", "cpg", "csv", "xlsx"]
        if choice == "upload"
        else ["osm", "xml", "pbf", "geojson", "gpkg"]  # .osm.xml ends with xml
    )
    files = st.file_uploader(
        L("source_upload") if choice == "upload" else L("source_osm"),
        type=types,
        accept_multiple_files=True,
        key=f"files_{choice}",
        help=L("upload_help", limit=limit),
    )
    extras: dict[uploads.ExtraKind, Any] = {
        "stations": st.file_uploader(
            L("stations_file"), type=["csv", "geojson", "gpkg", "xlsx"], key=f"st_{choice}"
        ),
        "register": st.file_uploader(L("register_file"), type=["csv", "xlsx"], key=f"reg_{choice}"),
        "station_kinds": st.file_uploader(
            L("station_kinds_file"),
            type=["csv", "xlsx", "yaml", "yml"],
            key=f"kinds_{choice}",
            help=L("station_kinds_help"),
        ),
    }
    crs = st.selectbox(
        L("points_crs"),
        ["wgs84", "gcj02", "bd09"],
        key="points_crs",
        format_func=lambda c: L(f"points_crs_{c}"),
    )
    if st.button(L("load"), key=f"load_{choice}", disabled=not files):
        _load_uploads(choice, files or [], extras, crs, limit)


def _load_uploads(
    choice: str, files: list[Any], extras: dict[uploads.ExtraKind, Any], crs: str, limit: int
) -> None:
    """Stage the uploads in this session's own folder, under names the planner makes
    (:mod:`planner.load.uploads`), and load them."""
    source: dict[str, Any] = {"kind": choice, "points_crs": crs}
    try:
        path = uploads.stage_upload(
            [(f.name, f.getvalue()) for f in files], dest=_uploads(), limit_mb=limit
        )
        source["path"] = str(path)
        for name, extra in extras.items():
            if extra is not None:  # saved as stations.csv / register.xlsx, never extra.name
                source[name] = str(
                    uploads.stage_extra(
                        name, extra.name, extra.getvalue(), dest=_uploads(), limit_mb=limit
                    )
                )
    except InputError as exc:
        S["load_error"] = load_error(exc)
    else:
        _try_load(source)


def _basemap_panel() -> None:
    _choice(st.selectbox, L("basemap"), BASEMAPS, "basemap", "basemap_")
    if S["basemap"] == "tianditu":
        st.text_input(L("tianditu_key"), key="tianditu_key", type="password")
    notice = basemap_notice(S["basemap"], tianditu_key=S["tianditu_key"], lang=S["lang"])
    if notice:
        (st.warning if S["basemap"] == "tianditu" and not S["tianditu_key"] else st.caption)(notice)


def _settings_form() -> None:
    """Walking speed, thresholds and the households per grid, applied together."""
    lang = str(S["lang"])
    with st.form("settings_form"):
        st.markdown(f"**{L('settings')}**")
        speed = st.number_input(L("walk_speed"), *SPEED_RANGE_KMH, float(S["walk_speed_kmh"]), 0.1)
        thresholds = st.multiselect(
            L("thresholds"),
            list(THRESHOLD_CHOICES),
            default=[float(x) for x in S["thresholds_min"]],
        )
        lo, hi = st.slider(
            L("household_range"),
            *HOUSEHOLD_RANGE,
            (int(S["grid_min_households"]), int(S["grid_max_households"])),
            10,
        )
        kinds = st.multiselect(
            L("service_kinds"),
            list(STATION_KINDS),
            default=[k for k in S["service_kinds"] if k in STATION_KINDS],
            format_func=lambda k: station_kind_label(k, lang),
            help=L("service_kinds_help"),
        )
        if st.form_submit_button(L("apply")):
            S["walk_speed_kmh"] = speed
            S["thresholds_min"] = thresholds or [15.0]
            S["grid_min_households"], S["grid_max_households"] = lo, hi
            S["service_kinds"] = kinds or list(Settings().service_kinds)
            save_work()
