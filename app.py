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
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from planner.app import editor as app_editor
from planner.app import map as app_map
from planner.app import services as svc
from planner.app import services_page  # --- services: the facilities page (issue 16)
from planner.app.state import (
    HOUSEHOLD_RANGE,
    PAGES,
    SOURCES,
    SPEED_RANGE_KMH,
    THRESHOLD_CHOICES,
    can_edit,
    init_state,
    settings_from_state,
    view_query,
)
from planner.errors import InputError, PlannerError
from planner.grids.codes import provisional_note
from planner.i18n import (
    LANG_NAMES,
    STRINGS,
    column_label,
    layer_name,
    msg,
    render,
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
UPLOAD_DIR = Path(tempfile.gettempdir()) / "planner-uploads"


@st.cache_resource
def _clean_old_uploads() -> int:
    """Once per server process: remove upload folders older than a day."""
    return len(uploads.clean_old_uploads(UPLOAD_DIR))


st.set_page_config(page_title="红色地图 Red map", page_icon="🗺️", layout="wide")
init_state(st.session_state, st.query_params)
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
    with_grids: bool = True,
) -> Any:
    street = cached_street(source_json)
    settings = Settings.from_dict(json.loads(settings_json))
    coverage = cached_coverage(source_json, settings_json) if with_coverage else None
    grids = cached_grids(source_json, settings_json) if with_grids else None
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
    with_coverage: bool = True,
    with_grids: bool = True,
) -> dict[str, Any]:
    """The red map rendered once into the strings the map component draws (fast reruns)."""
    m = build_map(source_json, settings_json, basemap, key, lang, layers, with_coverage, with_grids)
    return app_map.map_payload(m)


@st.cache_data(show_spinner=False, max_entries=4)
def cached_map_html(
    source_json: str, settings_json: str, basemap: str, key: str, lang: str, layers: tuple[str, ...]
) -> str:
    ok_cov = coverage_or_none(source_json, settings_json) is not None
    ok_grids = grids_or_none(source_json, settings_json) is not None
    m = build_map(source_json, settings_json, basemap, key, lang, layers, ok_cov, ok_grids)
    return offline.standalone_html(m)


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
    """Say why ``step`` ("coverage" or "grids") could not be computed for this street."""
    why = S.get("capability_errors", {}).get(step, L("no_data"))
    st.warning(L("cannot_compute", what=L("step_" + step), why=md(why)))


def _safe(func: Any, *args: Any) -> Any:
    """``func(*args)``, or ``None`` when the planner cannot compute it (shown elsewhere)."""
    try:
        return func(*args)
    except (PlannerError, ValueError):
        return None


@st.cache_data(show_spinner=False, max_entries=4)
def cached_exports(source_json: str, settings_json: str, images: bool) -> dict[str, bytes]:
    street = cached_street(source_json)
    return svc.export_files(
        street,
        settings=Settings.from_dict(json.loads(settings_json)),
        coverage=_safe(cached_coverage, source_json, settings_json),
        grids=_safe(cached_grids, source_json, settings_json),
        images=images,
    )


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
            type=["csv", "xlsx"],
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
        st.text(rep.to_text())


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
            done.get("grids") is True,
        )
        # no returned objects: panning and zooming never rerun the script
        app_map.show_map(payload, key="redmap", height=640, returned_objects=[])
    with right:
        load_report(street)
        for name, message in S.get("capability_errors", {}).items():
            st.warning(f"{name}: {md(message)}")
    for step, func, label in (
        ("coverage", coverage_or_none, "layer_circle"),
        ("grids", grids_or_none, "layer_grids"),
    ):
        if step in done:
            continue
        with left, st.spinner(f"{L(label, minutes=max(settings.thresholds_min))} …"):
            result = func(sj, tj)
        done[step] = result is not None
        S["_map_steps"][f"{step}:{sj}{for_result(tj, step)}"] = result is not None
        if result is not None:
            st.rerun()


def _copy_widget(src: str, dst: str) -> None:
    S[dst] = list(S[src]) if isinstance(S[src], list) else S[src]


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
    grids = grids_or_none(source_json(), settings_json(settings))
    st.subheader(L("per_grid"))
    if grids is None:
        _cannot("grids")
    else:
        st.dataframe(
            svc.grid_table(grids, coverage, lang=S["lang"]),
            hide_index=True,
            use_container_width=True,
        )
    st.subheader(L("worst_compounds"))
    if coverage is None:
        _cannot("coverage")
    else:
        st.dataframe(
            svc.worst_compounds(street, coverage, lang=S["lang"]),
            hide_index=True,
            use_container_width=True,
        )


def _editor(street: Street, settings: Settings) -> Any:
    """The session's grid editor (reopened from the autosave after a reload or from a link)."""
    sj, tj = source_json(), settings_json(settings)
    return app_editor.editor_for(
        S,
        street,
        key=app_editor.editor_key(sj, for_result(tj, "grids"), S["project"]),
        settings=settings,
        division=lambda: grids_or_none(sj, tj),
    )


def _edit(what: str, fn: Any, *args: Any) -> None:
    """Apply one edit (refused edits keep their reason), autosave, and redraw."""
    app_editor.apply_edit(S, msg(what), fn, *args, source=source_json())
    st.rerun()


def page_editor(street: Street, settings: Settings) -> None:
    editor = _editor(street, settings)
    if editor is None:
        st.warning(md(S.get("capability_errors", {}).get("grids", L("no_data"))))
        return
    st.caption(L("editor_help"))
    provisional = provisional_note(editor.grids, S["lang"])
    if provisional:
        st.warning(provisional)
    left, right = st.columns([3, 1.2])
    with left:
        out = _editor_map(street, editor, settings) or {}
    _select_clicked_atom(street, editor, out.get("last_clicked"))
    with right:
        _ownership_panel(settings)
        grid, other = _grid_pickers(editor)
        _edit_buttons(street, editor, grid, other, out.get("last_active_drawing"))
        _edit_messages()
        _rule_report(editor)
        _project_file_panel(settings)


def _editor_map(street: Street, editor: Any, settings: Settings) -> dict[str, Any] | None:
    """The editor's map: grids, atoms (selected ones highlighted) and the line tool."""
    from streamlit_folium import st_folium

    grids = editor.grids
    atoms = editor.atoms.copy()
    atoms["grid_id"] = editor.labels.reindex(atoms.index).to_numpy()
    m = red_map(
        street,
        grids=grids.assign(grid_id=grids["code"]),
        atoms=atoms,
        basemap=S["basemap"],
        tianditu_key=S["tianditu_key"],  # type: ignore[arg-type]
        lang=S["lang"],
        layers=("boundary", "grids", "atoms", "stations"),
        highlight_grids=[S["selected_grid"]] if S["selected_grid"] else [],
        highlight_atoms=[int(a) for a in S["selected_atoms"]],
        draw_tool=True,
        walk_speed_kmh=settings.walk_speed_kmh,
        legend_open=False,
    )
    out: dict[str, Any] | None = st_folium(
        m,
        key="editor_map",
        height=600,
        use_container_width=True,
        returned_objects=["last_clicked", "last_active_drawing"],
    )
    return out


def _select_clicked_atom(street: Street, editor: Any, click: dict[str, float] | None) -> None:
    """A new click on the map selects the atom under it (or deselects it) and its grid."""
    if not click or click == S.get("_last_click"):
        return
    S["_last_click"] = click
    atom = app_editor.atom_at(
        editor.atoms, click["lng"], click["lat"], crs=street.crs, basemap=S["basemap"]
    )
    if atom is None:
        return
    selected = [int(a) for a in S["selected_atoms"]]
    S["selected_grid"] = editor.grid_of_atom(atom)
    S["selected_atoms"] = (
        [a for a in selected if a != atom] if atom in selected else [*selected, atom]
    )
    st.rerun()


def _ownership_panel(settings: Settings) -> None:
    """A project from a link (or a reload) is read-only until this session copies it."""
    if can_edit(S):
        return
    st.info(L("read_only_note"))
    if st.button(L("make_copy"), key="ed_copy", type="primary"):
        app_editor.make_copy(
            S, source=source_json(), grid_settings=for_result(settings_json(settings), "grids")
        )
        st.rerun()


def _grid_pickers(editor: Any) -> tuple[str, str]:
    """The selection, the grid it is in, and the grid to move to or merge with."""
    st.markdown(
        f"**{L('selected')}**: {L('grid')} {md(S['selected_grid'] or '—')} · "
        f"{L('atoms')} {', '.join(map(str, S['selected_atoms'])) or '—'}"
    )
    codes = ["", *(str(c) for c in editor.grids["code"])]
    grid = st.selectbox(
        L("grid"),
        codes,
        key=f"w_grid_{S['selected_grid']}",
        format_func=lambda c: c or "—",
        index=codes.index(S["selected_grid"]) if S["selected_grid"] in codes else 0,
    )
    if grid != S["selected_grid"]:
        S["selected_grid"] = grid
    other = st.selectbox(
        L("move_to") + " / " + L("merge"), codes, key="w_other", format_func=lambda c: c or "—"
    )
    return str(grid), str(other)


def _edit_buttons(street: Street, editor: Any, grid: str, other: str, drawing: Any) -> None:
    """Move, merge, split, lock, undo, redo, re-divide: disabled on a read-only project."""
    off = not can_edit(S)
    atoms = list(S["selected_atoms"])
    c1, c2 = st.columns(2)
    if c1.button(L("move"), key="ed_move", disabled=off or not (other and atoms)):
        _edit("move", editor.move_atoms, atoms, other)
    if c2.button(L("merge"), key="ed_merge", disabled=off or not (grid and other)):
        _edit("merge", editor.merge, grid, other)
    c3, c4 = st.columns(2)
    if c3.button(L("split"), key="ed_split", disabled=off or not grid):
        line = app_editor.line_from_drawing(drawing, crs=street.crs, basemap=S["basemap"])
        _edit("split", editor.split, grid, line)
    locked = grid in editor.locked
    if c4.button(L("unlock") if locked else L("lock"), key="ed_lock", disabled=off or not grid):
        _edit("unlock" if locked else "lock", editor.unlock if locked else editor.lock, grid)
    c5, c6, c7 = st.columns(3)
    if c5.button(L("undo"), key="ed_undo", disabled=off or not editor.undo_stack):
        _edit("undo", editor.undo)
    if c6.button(L("redo"), key="ed_redo", disabled=off or not editor.redo_stack):
        _edit("redo", editor.redo)
    if c7.button(L("redivide"), key="ed_redivide", disabled=off):
        _edit("redivide", editor.redivide)


def _edit_messages() -> None:
    """The last edit: done, or refused with its reason; a failed autosave or open."""
    lang = S["lang"]
    if S["edit_error"]:
        st.error(L("edit_refused", reason=md(render(S["edit_error"], lang))))
    elif S["edit_message"]:
        st.success(L("edit_done", what=md(render(S["edit_message"], lang))))
    if S.get("save_error"):
        st.error(md(render(S["save_error"], lang)))


def _rule_report(editor: Any) -> None:
    report = editor.report
    (st.success if report.ok else st.warning)(
        f"{L('rule_report')}: " + (L("rules_ok") if report.ok else "✗")
    )
    with st.expander(L("rule_report"), expanded=not report.ok):
        st.text(report.to_text(S["lang"]))


def _project_file_panel(settings: Settings) -> None:
    """Download the session's project file; open a project file as a project of one's own."""
    path = app_editor.autosave_path(S["editor_key"])
    if can_edit(S) and path.exists():
        st.caption(L("autosaved", path=md(path)))
        st.download_button(
            L("save_project"),
            path.read_bytes(),
            file_name="project.gpkg",
            mime="application/geopackage+sqlite3",
            key="dl_project",
        )
    upload = st.file_uploader(L("open_project"), type=["gpkg"], key="open_project")
    if upload is not None and st.button(L("open_project"), key="ed_open"):
        _open_project(upload, settings)


def _open_project(upload: Any, settings: Settings) -> None:
    """Open an uploaded project file as a new project of this session's own.

    Read from a private temporary copy, never from a path shared by sessions; the
    project shown before is left as it was.
    """
    grid_settings = for_result(settings_json(settings), "grids")
    if app_editor.open_uploaded(
        S, upload.getvalue(), name=upload.name, source=source_json(), grid_settings=grid_settings
    ):
        st.rerun()


@st.cache_data(show_spinner=False, max_entries=8)
def cached_siting(source_json: str, settings_json: str, mode: str, value: float) -> dict[str, Any]:
    street = cached_street(source_json)
    settings = Settings.from_dict(json.loads(settings_json))
    coverage = cached_coverage(source_json, settings_json)
    if mode == "k":
        result = svc.propose_sites(street, coverage, settings, k=int(value))
    else:
        result = svc.propose_sites(street, coverage, settings, target_share=value)
    outcome = svc.siting_outcome(result)
    after = svc.coverage_for(svc.with_new_stations(street, outcome["sites"]), settings)
    return {**outcome, "after": after}


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
            res = cached_siting(source_json(), settings_json(settings), mode_r, float(value_r))
    except (PlannerError, TypeError, ValueError) as exc:
        st.error(md(exc))
        return
    if not res.get("feasible", True):
        st.warning(f"{L('siting_not_reached')}: {md(res.get('message', ''))}")
    elif res.get("message"):
        st.caption(md(res["message"]))
    _before_after(coverage, res["after"], settings)
    _siting_map(street, res, settings)
    # the table gets the full width below the map (a side column cut its columns off)
    st.dataframe(
        svc.site_table(res["sites"], lang=S["lang"]), hide_index=True, use_container_width=True
    )
    _scenarios(coverage, res, f"{mode_r}={value_r:g}")


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


def _scenarios(coverage: Any, res: dict[str, Any], default_name: str) -> None:
    """Save the run as a scenario; compare the saved ones with the street as it is."""
    c4, c5 = st.columns([3, 1])
    name = c4.text_input(L("save_scenario"), default_name, key="scenario_name")
    if c5.button(L("save_scenario"), key="save_scenario"):
        S["scenarios"][name] = svc.scenario_row(name, res["after"].summary, sites=len(res["sites"]))
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
        files = cached_exports(source_json(), settings_json(settings), images)
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
    "facilities": lambda street, settings: services_page.page(
        coverage_or_none(source_json(), settings_json(settings)), lang=S["lang"]
    ),  # --- services: the facilities page
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
    PAGE_FUNCS[S["page"]](street, settings)
    st.query_params.from_dict(view_query(S))


main()
_log_run("end")
