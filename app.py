"""The red map app: ``streamlit run app.py`` (Chinese by default, English switch).

Only UI lives here: widgets call functions of the ``planner`` package, results are
cached at this edge (``st.cache_data``, keyed by hashable JSON strings; the folium map too,
so every run gets its own copy), session state is set up in one place
(:mod:`planner.app.state`) and the view is mirrored in the URL. Every script, style
and font the map needs is served by the app itself (``./static`` -> planner/maps/static,
see planner/maps/offline.py); nothing is fetched from outside unless a basemap is chosen.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from planner.app import (
    city_page,  # --- city: the city page (issue 17) ---
    editor_page,
    organisation_page,
    pages_common,
    services_page,  # --- services: the facilities page (issue 16)
)
from planner.app import editor as app_editor
from planner.app import map as app_map
from planner.app import project as app_project
from planner.app import services as svc
from planner.app.state import (
    HOUSEHOLD_RANGE,
    PAGES,
    SETTING_KEYS,
    SOURCES,
    SPEED_RANGE_KMH,
    THRESHOLD_CHOICES,
    can_edit,
    init_state,
    settings_from_state,
    view_query,
)
from planner.errors import InputError, PlannerError
from planner.i18n import (
    LANG_NAMES,
    STRINGS,
    column_label,
    layer_name,
    msg,
    station_kind_label,
    t,
)
from planner.i18n import markdown_literal as md
from planner.load import uploads
from planner.maps import offline
from planner.maps.redmap import ALL_LAYERS, BASEMAPS, basemap_notice, red_map
from planner.maps.style import layer_label
from planner.schema import STATION_KINDS
from planner.settings import Result, Settings, settings_for
from planner.street import Street

offline.use_local_assets()
logger = logging.getLogger("planner.app")
UPLOAD_DIR = Path(tempfile.gettempdir()) / "planner-uploads"


@st.cache_resource
def _clean_old_uploads() -> int:
    """Once per server process: remove upload folders older than a day."""
    return len(uploads.clean_old_uploads(UPLOAD_DIR))


st.set_page_config(page_title="红色地图 Red map", page_icon="🗺️", layout="wide")
#: The cookie holding this browser's secret (see planner.app.state.init_state).
BROWSER_COOKIE = "planner_browser"


def _browser_secret() -> str:
    """This browser's secret: from its cookie, or made now and set as the cookie.

    Never in the URL: a reload in the same browser keeps editing its own projects,
    a link opened elsewhere stays read-only.
    """
    secret = str(st.context.cookies.get(BROWSER_COOKIE, ""))
    if re.fullmatch(r"[0-9a-f]{32}", secret):
        return secret
    if "browser_secret" not in st.session_state:
        st.session_state["browser_secret"] = secrets.token_hex(16)
    # Our own script (no user text in it), run in the page: the cookie is the app's. It is
    # written on every run of a session whose request carried no cookie (the session's
    # cookies never change), so the page's elements keep their places across reruns:
    # an element present on the first run only would remount every element after it,
    # the editor's map included (a rebuilt map loses its zoom and the next click).
    st.html(
        f"<script>document.cookie = '{BROWSER_COOKIE}="
        f"{st.session_state['browser_secret']}; path=/; max-age=31536000; "
        "SameSite=Strict';</script>",
        unsafe_allow_javascript=True,
    )
    return str(st.session_state["browser_secret"])


init_state(st.session_state, st.query_params, browser=_browser_secret())
S = st.session_state
_clean_old_uploads()


def _uploads() -> Path:
    """This session's own upload folder (its key never leaves the server)."""
    if "uploads" not in S:  # removed with the session's state when the session ends
        S["uploads"] = uploads.SessionUploads(UPLOAD_DIR)
    folder: Path = S["uploads"].path()
    return folder


_RUN_STARTED = time.perf_counter()


def _log_run(event: str) -> None:
    """Benchmarks count script runs: one line per event in $PLANNER_RUN_LOG when set."""
    path = os.environ.get("PLANNER_RUN_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(
                f"{event}\t{S.get('page', '')}\t{time.perf_counter() - _RUN_STARTED:.3f}"
                f"\t{time.time():.3f}\n"
            )


_log_run("start")


def L(key: str, **fmt: Any) -> str:
    return t(key, S["lang"], **fmt)


# ----------------------------------------------------------------------------- caches
@st.cache_data(show_spinner=False, max_entries=4)
def cached_street(source_json: str) -> Street:
    return svc.load(json.loads(source_json), Settings())


def for_result(settings_text: str, result: Result) -> str:
    """The settings JSON with only what ``result`` reads (:func:`planner.settings.settings_for`).

    The cache key of the grids and of the coverage: a change to one's settings does
    not recompute the other.
    """
    return settings_json(settings_for(Settings.from_dict(json.loads(settings_text)), result))


def cached_coverage(source_json: str, settings_json: str) -> Any:
    return _cached_coverage(source_json, for_result(settings_json, "coverage"))


def cached_grids(source_json: str, settings_json: str) -> Any:
    return _cached_grids(source_json, for_result(settings_json, "grids"))


@st.cache_data(show_spinner=False, max_entries=8)
def _cached_coverage(source_json: str, settings_json: str) -> Any:
    street = cached_street(source_json)
    settings = Settings.from_dict(json.loads(settings_json))
    return svc.coverage_for(street, settings)


@st.cache_data(show_spinner=False, max_entries=8)
def _cached_grids(source_json: str, settings_json: str) -> Any:
    street = cached_street(source_json)
    return svc.grids_for(street, Settings.from_dict(json.loads(settings_json)))


def build_map(
    source_json: str,
    settings_json: str,
    basemap: str,
    key: str,
    lang: str,
    layers: tuple[str, ...],
    with_coverage: bool = True,
    grids: Any = None,
) -> Any:
    """The red map of the street with its coverage and ``grids`` (the project's current
    grids, :func:`project_grids`; ``None`` draws none)."""
    street = cached_street(source_json)
    settings = Settings.from_dict(json.loads(settings_json))
    coverage = cached_coverage(source_json, settings_json) if with_coverage else None
    return red_map(
        street,
        coverage=coverage,
        grids=None if grids is None else grids.grids,
        basemap=basemap,  # type: ignore[arg-type]
        tianditu_key=key,
        lang=lang,
        layers=layers,
        walk_speed_kmh=settings.walk_speed_kmh,
    )


@st.cache_data(show_spinner=False, max_entries=12)
def cached_map(
    source_json: str,
    settings_json: str,
    basemap: str,
    key: str,
    lang: str,
    layers: tuple[str, ...],
    with_coverage: bool,
    grids_token: str,
    _grids: Any,
) -> dict[str, Any]:
    """The red map rendered once into the strings the map component draws (fast reruns).

    ``grids_token`` (:func:`planner.app.project.grids_token`) names ``_grids``, so an
    edit of the project draws its new grids.
    """
    m = build_map(source_json, settings_json, basemap, key, lang, layers, with_coverage, _grids)
    return app_map.map_payload(m)


def coverage_or_none(source_json: str, settings_json: str) -> Any:
    """Coverage, or ``None`` (with the reason shown once) when it cannot be computed."""
    try:
        return cached_coverage(source_json, settings_json)
    except (PlannerError, ValueError) as exc:
        S.setdefault("capability_errors", {})["coverage"] = str(exc)
        return None


def grids_or_none(source_json: str, settings_json: str) -> Any:
    """The grid division, or ``None`` (with the reason shown once) when it fails."""
    try:
        return cached_grids(source_json, settings_json)
    except (PlannerError, ValueError) as exc:
        S.setdefault("capability_errors", {})["grids"] = str(exc)
        return None


def _cannot(step: str) -> None:
    """Say why ``step`` ("coverage" or "grids") could not be computed for this street:
    the layers it lacks (in the reader's language), else the planner's reason."""
    why = S.get("capability_errors", {}).get(step, L("no_data"))
    street = cached_street(source_json())
    why = pages_common.step_reason(street, step, why, S["lang"])
    st.warning(L("cannot_compute", what=L("step_" + step), why=md(why)))


def _safe(func: Any, *args: Any) -> Any:
    """``func(*args)``, or ``None`` when the planner cannot compute it (shown elsewhere)."""
    try:
        return func(*args)
    except (PlannerError, ValueError):
        return None


@st.cache_data(show_spinner=False, max_entries=4)
def cached_exports(
    source_json: str,
    settings_json: str,
    images: bool,
    grids_token: str,
    _grids: Any,
    siting_token: str,
    _siting: Any,
) -> dict[str, bytes]:
    """The CLI's files for the street with the project's current grids (``_grids``,
    named by ``grids_token``) and the proposed sites of the last siting run
    (``_siting``, named by ``siting_token``)."""
    street = cached_street(source_json)
    return svc.export_files(
        street,
        settings=Settings.from_dict(json.loads(settings_json)),
        coverage=_safe(cached_coverage, source_json, settings_json),
        grids=_grids,
        siting=_siting,
        images=images,
    )


def project_key(settings: Settings) -> str:
    """The key of the project's editor and autosave (:func:`planner.app.editor.editor_key`)."""
    tj = for_result(settings_json(settings), "grids")
    return app_editor.editor_key(source_json(), tj, S["project"])


def project_grids(street: Street, settings: Settings) -> Any:
    """The project's current grids (:func:`planner.app.project.current_grids`): the
    editor's after any edit, else the street's division; ``None`` when there are none
    (the reason is shown by :func:`_cannot`)."""
    sj, tj = source_json(), settings_json(settings)
    return app_project.current_grids(
        S,
        street,
        key=project_key(settings),
        settings=settings,
        division=lambda: grids_or_none(sj, tj),
    )


def project_status(street: Street, settings: Settings) -> None:
    """The project's edit count and last change, on every page."""
    editor = app_project.current_editor(S, street, key=project_key(settings), settings=settings)
    note = "" if can_edit(S) else " " + L("status_read_only")
    st.caption(app_project.edit_status(editor, S["lang"]) + note)


def source_json() -> str:
    return json.dumps(S["source"], sort_keys=True)


def settings_json(settings: Settings) -> str:
    return json.dumps(settings.to_dict(), sort_keys=True, default=list)


# ----------------------------------------------------------------------------- sidebar
def _try_load(source: dict[str, Any]) -> None:
    """Load ``source``; on success make it current, on failure keep the current street."""
    try:
        with st.spinner("…"):
            cached_street(json.dumps(source, sort_keys=True))
    except (InputError, PlannerError, OSError, ValueError) as exc:
        S["load_error"] = str(exc)
        return
    S["source"] = source
    S["load_error"] = ""
    S["selected_grid"] = ""
    S["selected_atoms"] = []


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
        on_change=_copy_widget,
        args=(wkey, state_key),
    )
    return str(S[state_key])


def sidebar() -> Settings:
    """The sidebar, one panel after another; returns the settings chosen there."""
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
        st.text_input(L("project_name"), key="project_name", on_change=_save_work)
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
        on_click=app_project.open_recent,
        args=(S, str(chosen), SETTING_KEYS),
    )


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
        st.error(L("load_failed") + "\n\n" + md(S["load_error"]))


def _upload_panel(choice: str) -> None:
    """Uploaded layer files (or an OSM extract), a stations file and a register."""
    limit = Settings().upload_limit_mb
    st.html(pages_common.uploader_css(S["lang"], limit))  # the widgets' own words
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
    crs = st.selectbox(L("points_crs"), ["wgs84", "gcj02", "bd09"], key="points_crs")
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
        S["load_error"] = str(exc)
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
            format_func=lambda k, lang=S["lang"]: station_kind_label(k, lang),
            help=L("service_kinds_help"),
        )
        if st.form_submit_button(L("apply")):
            S["walk_speed_kmh"] = speed
            S["thresholds_min"] = thresholds or [15.0]
            S["grid_min_households"], S["grid_max_households"] = lo, hi
            S["service_kinds"] = kinds or list(Settings().service_kinds)
            _save_work()


def _save_work() -> None:
    """Keep the settings, siting request and scenarios with the project (if owned)."""
    try:
        app_project.save_work(S, SETTING_KEYS)
    except OSError as exc:
        S["save_error"] = msg("autosave_failed", reason=str(exc))


# ----------------------------------------------------------------------------- pages
def completeness_panel(street: Street) -> None:
    """Where the households come from: the warning when most are guessed, the table."""
    table, warning = svc.completeness_table(street, lang=S["lang"])
    if warning:
        st.error(md(warning))
    if len(table):
        st.caption(L("completeness_title"))
        st.dataframe(table, hide_index=True, use_container_width=True)


def load_report(street: Street) -> None:
    """The load report beside the map: key counts, notes, and the full text."""
    rep = street.report
    st.markdown(f"**{L('load_report')}** · {md(street.name)}")
    if street.synthetic:
        st.warning(L("synthetic_note"))
    completeness_panel(street)
    figs = svc.street_figures(street)
    c1, c2 = st.columns(2)
    c1.metric(L("households"), f"{figs['households']:,}")
    c2.metric(L("stations"), figs["stations"])
    counts = {k: v for k, v in rep.counts.items() if v}
    if counts:
        st.dataframe(
            {
                L("street_layers"): [layer_name(k, S["lang"]) for k in counts],
                L("count"): list(counts.values()),
            },
            hide_index=True,
            use_container_width=True,
        )
    for note in rep.notes[:8]:
        key = f"severity_{note.severity}"
        st.caption(f"{L(key) if key in STRINGS else note.severity}: {md(note)}")
    with st.expander(L("load_report")):
        st.text("\n".join(svc.report_lines(street, lang=S["lang"])))


def page_redmap(street: Street, settings: Settings) -> None:
    wkey = f"w_layers_{S['lang']}"
    st.sidebar.multiselect(
        L("street_layers"),
        list(ALL_LAYERS),
        default=S["layers"],
        key=wkey,
        format_func=lambda k, lang=S["lang"]: layer_label(k, lang),
        on_change=_copy_widget,
        args=(wkey, "layers"),
    )
    sj, tj = source_json(), settings_json(settings)
    # progressive: the street first, then coverage, then grids, each added when computed
    # step -> computed (True) or failed (False, the reason is shown beside the map)
    done: dict[str, bool] = S.setdefault("_map_steps", {}).setdefault(sj + tj, {})
    steps: tuple[Result, ...] = ("coverage", "grids")
    for step in steps:
        # a step already computed for the same inputs (other settings changed) is reused
        if step not in done and S["_map_steps"].get(f"{step}:{sj}{for_result(tj, step)}"):
            done[step] = True
    grids = project_grids(street, settings) if done.get("grids") is True else None
    left, right = st.columns([3, 1])
    with left:
        payload = cached_map(
            sj,
            tj,
            S["basemap"],
            S["tianditu_key"],
            S["lang"],
            tuple(S["layers"]),
            done.get("coverage") is True,
            app_project.grids_token(grids),
            grids,
        )
        # no returned objects: panning and zooming never rerun the script
        app_map.show_map(payload, key="redmap", height=640, returned_objects=[])
    with right:
        load_report(street)
        for step in S.get("capability_errors", {}):
            _cannot(step)
    for step, func, label in (
        ("coverage", lambda: coverage_or_none(sj, tj), "layer_circle"),
        ("grids", lambda: project_grids(street, settings), "layer_grids"),
    ):
        if step in done:
            continue
        with left, st.spinner(f"{L(label, minutes=max(settings.thresholds_min))} …"):
            result = func()
        done[step] = result is not None
        S["_map_steps"][f"{step}:{sj}{for_result(tj, step)}"] = result is not None
        if result is not None:
            st.rerun()


def _copy_widget(src: str, dst: str) -> None:
    S[dst] = list(S[src]) if isinstance(S[src], list) else S[src]


def norm_panel(coverage: Any, settings: Settings) -> None:
    """The floor-area norm (30 m² per 100 households) per community and per station."""
    if coverage is None:
        return
    st.subheader(
        L(
            "norm_title",
            norm=settings.floor_area_per_100_households_m2,
            minimum=settings.community_min_floor_area_m2,
        )
    )
    left, right = st.columns(2)
    for col, title, table in (
        (left, "norm_by_community", svc.norm_by_community(coverage, lang=S["lang"])),
        (right, "norm_by_station", svc.norm_by_station(coverage, lang=S["lang"])),
    ):
        col.caption(L(title))
        col.dataframe(table, hide_index=True, use_container_width=True)


def page_overview(street: Street, settings: Settings) -> None:
    completeness_panel(street)
    figs = svc.street_figures(street)
    cols = st.columns(5)
    cols[0].metric(L("households"), f"{figs['households']:,}")
    cols[1].metric(L("layer_communities"), figs["communities"])
    cols[2].metric(L("layer_compounds"), figs["compounds"])
    cols[3].metric(L("stations"), figs["stations"])
    cols[4].metric(L("area_km2"), f"{figs['area_km2']:.2f}")
    coverage = coverage_or_none(source_json(), settings_json(settings))
    if coverage is None:
        _cannot("coverage")
    else:
        summary = svc.coverage_summary(coverage, settings, lang=S["lang"])
        cc = st.columns(len(summary["metrics"]))
        for col, (label, value) in zip(cc, summary["metrics"], strict=False):
            col.metric(label, value)
    st.subheader(L("per_community"))
    table = svc.community_table(street, lang=S["lang"])
    if coverage is not None:
        table = svc.add_coverage_columns(table, coverage, lang=S["lang"])
    if len(table):
        table = table.rename(columns={"community_id": column_label("community_id", S["lang"])})
        st.dataframe(table, hide_index=True, use_container_width=True)
        chart = table.set_index(table.columns[0])
        tmax = settings.gap_minutes
        covered = t("covered_households", S["lang"], minutes=tmax)
        if covered in chart.columns:
            chart = pd.DataFrame(
                {
                    covered: chart[covered],
                    L("not_covered"): chart[L("households")] - chart[covered],
                }
            )
            st.bar_chart(chart, horizontal=True, stack=True, color=["#c8161d", "#bbbbbb"])
        else:
            st.bar_chart(chart[[L("households")]], horizontal=True, color="#c8161d")
    grids = project_grids(street, settings)
    st.subheader(L("per_grid"))
    if grids is None:
        _cannot("grids")
    else:
        st.dataframe(
            svc.grid_table(grids, coverage, lang=S["lang"]),
            hide_index=True,
            use_container_width=True,
        )
    norm_panel(coverage, settings)
    st.subheader(L("worst_compounds"))
    if coverage is None:
        _cannot("coverage")
    else:
        st.dataframe(
            svc.worst_compounds(street, coverage, lang=S["lang"]),
            hide_index=True,
            use_container_width=True,
        )


def page_editor(street: Street, settings: Settings) -> None:
    """The grid editor page (:mod:`planner.app.editor_page`)."""
    sj, tj = source_json(), settings_json(settings)
    editor_page.page_editor(
        street,
        settings,
        editor_page.EditorInputs(
            source=sj, grid_settings=for_result(tj, "grids"), division=lambda: grids_or_none(sj, tj)
        ),
    )


@st.cache_data(show_spinner=False, max_entries=8)
def cached_siting(
    source_json: str, settings_json: str, mode: str, value: float, grids_token: str, _grids: Any
) -> dict[str, Any]:
    """One siting run (``mode`` "k" or "target"), its figures per area on the project's
    current grids (``_grids``, named by ``grids_token``), and the coverage after it."""
    street = cached_street(source_json)
    settings = Settings.from_dict(json.loads(settings_json))
    coverage = cached_coverage(source_json, settings_json)
    grids = None if _grids is None else _grids.grids
    if mode == "k":
        result = svc.propose_sites(street, coverage, settings, k=int(value), grids=grids)
    else:
        result = svc.propose_sites(street, coverage, settings, target_share=value, grids=grids)
    outcome = svc.siting_outcome(result)
    after = svc.coverage_for(svc.with_new_stations(street, outcome["sites"]), settings)
    return {**outcome, "after": after}


def siting_result(street: Street, settings: Settings) -> dict[str, Any] | None:
    """The project's last siting run (its request is kept in the project's work, so a
    reload shows it again), or ``None`` when none was asked for."""
    if not S.get("siting_request"):
        return None
    mode, value = S["siting_request"]
    grids = project_grids(street, settings)
    return cached_siting(
        source_json(),
        settings_json(settings),
        str(mode),
        float(value),
        app_project.grids_token(grids),
        grids,
    )


def page_siting(street: Street, settings: Settings) -> None:
    coverage = coverage_or_none(source_json(), settings_json(settings))
    if coverage is None:
        _cannot("coverage")
        return
    _siting_request()
    if not S.get("siting_request"):
        return
    mode_r, value_r = S["siting_request"]
    try:
        with st.spinner("…"):
            res = siting_result(street, settings)
    except (PlannerError, TypeError, ValueError) as exc:
        st.error(md(exc))
        return
    if res is None:
        return
    achieved = svc.siting_text(coverage, res["after"], len(res["sites"]), settings, lang=S["lang"])
    # the plan's own message is English: shown as it is only in English
    detail = f" ({md(res['message'])})" if S["lang"] == "en" and res.get("message") else ""
    if not res.get("feasible", True):
        st.warning(L("siting_not_reached_with", what=md(achieved)) + detail)
    else:
        st.caption(md(achieved) + detail)
    _before_after(coverage, res["after"], settings)
    norm_panel(res["after"], settings)
    _siting_map(street, res, settings)
    # the table gets the full width below the map (a side column cut its columns off)
    st.dataframe(
        svc.site_table(res["sites"], lang=S["lang"]), hide_index=True, use_container_width=True
    )
    base_name = (
        L("scenario_k", k=int(value_r))
        if mode_r == "k"
        else L("scenario_target", share=float(value_r) * 100)
    )
    _scenarios(coverage, res, base_name)


def _siting_request() -> None:
    """k new stations or a target share; the button keeps the request in the session."""
    c1, c2, c3 = st.columns([1, 1, 1])
    mode = c1.radio(
        L("siting_mode"),
        ["k", "target"],
        key="siting_mode",
        horizontal=True,
        format_func=lambda m, lang=S["lang"]: t("siting_k" if m == "k" else "siting_target", lang),
    )
    if mode == "k":
        value = float(c2.number_input(L("siting_k"), 1, 20, 3, key="siting_k"))
    else:
        value = float(c2.slider(L("siting_target"), 0.5, 1.0, 0.95, 0.01, key="siting_share"))
    if c3.button(L("run_siting"), key="run_siting", type="primary"):
        S["siting_request"] = [mode, value]
        _save_work()


def _before_after(coverage: Any, after_coverage: Any, settings: Settings) -> None:
    before = svc.coverage_summary(coverage, settings, lang=S["lang"])["metrics"]
    after = svc.coverage_summary(after_coverage, settings, lang=S["lang"])["metrics"]
    st.markdown(f"**{L('before')} → {L('after')}**")
    cols = st.columns(len(after))
    for col, (label, value_after), (_l, value_before) in zip(cols, after, before, strict=False):
        col.metric(label, value_after, f"{L('before')}: {value_before}", delta_color="off")


def _siting_map(street: Street, res: dict[str, Any], settings: Settings) -> None:
    from streamlit_folium import st_folium

    m = red_map(
        street,
        coverage=res["after"],
        sites=res["sites"],
        basemap=S["basemap"],  # type: ignore[arg-type]
        tianditu_key=S["tianditu_key"],
        lang=S["lang"],
        walk_speed_kmh=settings.walk_speed_kmh,
        legend_open=False,
    )
    st_folium(m, key="siting_map", height=560, use_container_width=True, returned_objects=[])


def _scenarios(coverage: Any, res: dict[str, Any], base_name: str) -> None:
    """Save the run as a scenario under a name no scenario has yet (an existing name
    is replaced only when asked); compare the saved ones with the street as it is."""
    default = app_project.new_scenario_name(S["scenarios"], base_name)
    c4, c5, c6 = st.columns([3, 1.2, 1])
    # keyed by the offered name: after a save the next free name is offered
    name = c4.text_input(L("save_scenario"), default, key=f"scenario_name_{default}")
    replace = c5.checkbox(L("scenario_replace"), key="scenario_replace")
    if c6.button(L("save_scenario"), key="save_scenario"):
        row = svc.scenario_row(name, res["after"].summary, sites=len(res["sites"]))
        if app_project.add_scenario(S["scenarios"], name, row, replace=replace):
            S["scenario_message"] = ("ok", name.strip())
            _save_work()
        else:
            S["scenario_message"] = ("taken", name.strip())
        st.rerun()
    kind, shown = S.pop("scenario_message", ("", ""))
    if kind == "ok":
        st.success(L("scenario_saved", name=md(shown)))
    elif kind == "taken":
        st.error(L("scenario_name_taken", name=md(shown)))
    if S["scenarios"]:
        st.subheader(L("scenarios"))
        base = svc.scenario_row(L("before"), coverage.summary, sites=0)
        st.dataframe(
            svc.scenario_table([base, *S["scenarios"].values()], lang=S["lang"]),
            hide_index=True,
            use_container_width=True,
        )


#: Media types of the export page's downloads, by file ending.
_MIME = {
    ".geojson": "application/geo+json",
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".gpkg": "application/geopackage+sqlite3",
    ".zip": "application/zip",
    ".html": "text/html",
    ".png": "image/png",
    ".pdf": "application/pdf",
    ".json": "application/json",
}


def page_export(street: Street, settings: Settings) -> None:
    """The command line's files (planner.export.outputs.write_run_files), one button each."""
    from planner.export.outputs import zip_files

    images = bool(S.get("_export_images"))
    with st.spinner("…"):
        grids = project_grids(street, settings)
        siting = _safe(siting_result, street, settings)
        files = cached_exports(
            source_json(),
            settings_json(settings),
            images,
            app_project.grids_token(grids),
            grids,
            json.dumps(S.get("siting_request")),
            None if siting is None else siting["layers"],
        )
    st.caption(L("export_intro"))
    st.download_button(
        L("export_all"),
        zip_files(files),
        file_name="planner-export.zip",
        mime="application/zip",
        key="dl_all",
        type="primary",
    )
    for group, downloads in svc.export_downloads(files):
        st.markdown(f"**{L(group)}**")
        cols = st.columns(4)
        for i, (name, data) in enumerate(downloads.items()):
            mime = _MIME.get(Path(name).suffix, "text/plain")
            cols[i % 4].download_button(name, data, file_name=name, mime=mime, key=f"dl_{name}")
        if group == "export_maps" and not images and st.button(L("export_png"), key="make_png"):
            S["_export_images"] = True
            st.rerun()


PAGE_FUNCS = {
    "redmap": page_redmap,
    "overview": page_overview,
    "editor": page_editor,
    "siting": page_siting,
    "export": page_export,
    "organisation": organisation_page.render,  # --- org: the organisation page (issue 15) ---
    "facilities": lambda street, settings: services_page.page(
        coverage_or_none(source_json(), settings_json(settings)), lang=S["lang"]
    ),  # --- services: the facilities page
    "city": city_page.render,  # --- city: the city page (issue 17) ---
}


def main() -> None:
    settings = sidebar()
    st.title(L("app_title"))
    if not st.get_option("server.enableStaticServing"):
        # .streamlit/config.toml is read from the current folder: started elsewhere, the
        # vendored map scripts are not served and the map would stay blank
        st.warning(L("static_off"))
    try:
        street = cached_street(source_json())
    except (InputError, PlannerError, OSError, ValueError) as exc:
        st.error(L("load_failed") + "\n\n" + md(exc))
        return
    st.caption(f"{md(street.name)} · {L('page_' + S['page'])}")
    project_status(street, settings)
    if can_edit(S) and not app_project.work_path(S["project"]).exists():
        _save_work()  # records this browser as the project's maker (reload keeps editing)
    note = pages_common.missing_note(street, S["page"], S["lang"])
    if note:
        st.info(note)
    try:
        PAGE_FUNCS[S["page"]](street, settings)
    except Exception as exc:  # one page's failure never shows a traceback or stops the app
        logger.exception("page %s failed", S["page"])
        st.error(L("page_failed", why=md(pages_common.step_reason(street, "", str(exc)))))
    st.query_params.from_dict(view_query(S))


main()
_log_run("end")
