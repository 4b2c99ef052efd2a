"""The grid editor page of the app (``app.py`` calls :func:`page_editor`).

Only UI lives here: the page wires Streamlit widgets and the editor map to
:mod:`planner.app.editor` (clicks, drawn lines, edits, autosave). What the page needs
from the app script (the street source, the grid settings, the cached division) comes
in one :class:`EditorInputs`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, cast

import geopandas as gpd
import shapely
import streamlit as st

from planner.app import editor as app_editor
from planner.app import editor_map, preview, selection
from planner.app import map as app_map
from planner.app.pages_common import EDITOR_SLOT
from planner.app.selection import Selection, after_click, after_lasso, short_label
from planner.app.session import capability_error
from planner.app.state import can_edit
from planner.grids.codes import provisional_note
from planner.grids.division import GridResult
from planner.grids.edits import GridEditor
from planner.i18n import markdown_literal as md
from planner.i18n import msg, render, t
from planner.settings import Settings
from planner.street import Street

S = cast("MutableMapping[str, Any]", st.session_state)  # the session state, typed


@dataclass(frozen=True)
class EditorInputs:
    """What the editor page takes from the app script.

    Attributes
    ----------
    source
        The street source as JSON (the cache key of the street; saved in project files).
    grid_settings
        The JSON of the settings the grids read (:func:`planner.settings.settings_for`).
    division
        The (cached) division of the street into grids, ``None`` when it failed.
    """

    source: str
    grid_settings: str
    division: Callable[[], GridResult | None]


def L(key: str, **fmt: Any) -> str:
    """A catalogue string in the session's language."""
    return t(key, S["lang"], **fmt)


def _editor(street: Street, settings: Settings, inputs: EditorInputs) -> GridEditor | None:
    """The session's grid editor (reopened from the autosave after a reload or from a link)."""
    return app_editor.editor_for(
        S,
        street,
        key=app_editor.editor_key(inputs.source, inputs.grid_settings, S["project"]),
        settings=settings,
        division=inputs.division,
    )


def _edit(inputs: EditorInputs, what: str, fn: Callable[..., object], *args: Any) -> None:
    """Apply one edit (refused edits keep their reason) and autosave in the background.

    A button callback: the edit is applied before the editor's fragment runs again,
    so that run draws the result (only the editing layer of the map changes), then
    writes the project file in a worker thread; the run waits for the file before it
    ends.
    """
    started = time.perf_counter()
    app_editor.apply_edit(S, msg(what), fn, *args, source=inputs.source, background=True)
    S["split_line"] = ""
    _log_step(f"edit:{what}", started)


def page_editor(street: Street, settings: Settings, inputs: EditorInputs) -> None:
    """The grid editor page: the map on the left, the selection and the edits on the right.

    The page's body is a fragment (:func:`_workbench`): clicks, lassos and edits rerun
    it alone, not the whole app.
    """
    editor = _editor(street, settings, inputs)
    if editor is None:
        st.warning(md(capability_error("grids")))
        return
    S.setdefault("target_grid", "")
    # the view to restore when the map frame is rebuilt (page switch, new basemap);
    # fixed while the fragment reruns, so a pan in progress is never pulled back
    S["editor_view_shown"] = S.get("editor_view")
    # the page's first element (drawn in app.py's EDITOR_SLOT): it takes the place of
    # keep_map's hiding style, so a kept map frame shows as soon as this run starts
    st.caption(L("editor_help"))
    _workbench(street, settings, inputs)


#: keep_map's first element in the slot: the slot takes no room and shows nothing.
_HIDE_SLOT = (
    f"<style>.st-key-{EDITOR_SLOT}{{height:0!important;min-height:0!important;"
    "overflow:hidden!important;visibility:hidden!important;pointer-events:none!important}"
    "</style><span></span>"
)


def keep_map(street: Street, settings: Settings, inputs: EditorInputs) -> None:
    """On every other page, in app.py's :data:`~planner.app.pages_common.EDITOR_SLOT`
    before the page's content: the slot hidden, and the editor's map as last drawn, so a
    switch back to the editor shows it at once.

    The browser keeps a component's frame only while each run sends it at the same
    place: the same keyed container, the same blocks as the editor page's, the same map
    component with the same arguments (nothing is computed or redrawn). Without it the
    switch rebuilds the frame: Leaflet, the base map's document and the editing layer
    (1.06-1.72 s of the demo's overview -> editor switch at load 2). No map is sent
    before the editor was shown, or when its map would differ (another project, grid
    settings, basemap, language or walking speed): the editor page then draws a new
    frame.
    """
    st.html(_HIDE_SLOT)  # also hides what the editor drew in the slot until it is replaced
    kept = S.get("_editor_map_sent")
    if not kept or kept[0] != _map_identity(settings, inputs):
        return
    # the editor's body is a fragment, which Streamlit draws in a container of its own
    with st.container():
        left, _right = st.columns(_COLUMNS)
        with left:
            app_map.show_map(**kept[1], on_change=lambda value: _on_map(street, value))


#: The editor page's columns: the map, the panels.
_COLUMNS = (3, 1.2)


def _map_identity(settings: Settings, inputs: EditorInputs) -> tuple[Any, ...]:
    """What the editor's map frame is drawn for: the project's editor and the base map's
    inputs (street, basemap, key, language, walking speed)."""
    return (
        app_editor.editor_key(inputs.source, inputs.grid_settings, S["project"]),
        inputs.source,
        S["basemap"],
        S["tianditu_key"],
        S["lang"],
        settings.walk_speed_kmh,
    )


@st.fragment
def _workbench(street: Street, settings: Settings, inputs: EditorInputs) -> None:
    """The map, the selection, the pending edit with its badges, and the edit buttons."""
    started = time.perf_counter()
    editor: GridEditor = S["editor"]
    left, right = st.columns(_COLUMNS)  # the slot's columns, as keep_map draws them
    with left:
        provisional = provisional_note(editor.grids, S["lang"])
        if provisional:
            st.warning(provisional)
        _editor_map(street, editor, settings, inputs)
        _log_step("editor_map_sent", started)
        app_editor.start_save(S)  # the edit is on its way to the browser: write the file
        _map_notes()
    with right:
        _ownership_panel(inputs)
        _selection_panel(editor)
        _move_panel(editor, inputs)
        _grid_panel(street, editor, inputs)
        _history_buttons(editor, inputs)
        _edit_messages()
        _rule_report(editor)
        # the edit is drawn above; its autosave (a worker thread) ends before this run does
        app_editor.finish_save(S)
        _project_file_panel(inputs)
    _log_step("editor_run", started)


def _log_step(event: str, started: float) -> None:
    """Benchmarks time the editor's steps: one line per step in $PLANNER_RUN_LOG when set
    (the format of app.py's run log: event, page, seconds, epoch)."""
    path = os.environ.get("PLANNER_RUN_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"{event}\teditor\t{time.perf_counter() - started:.3f}\t{time.time():.3f}\n")


@st.cache_data(show_spinner=False, max_entries=4)
def _base_payload(
    source: str, _street: Street, basemap: str, tianditu_key: str, lang: str, speed: float
) -> dict[str, Any]:
    """The editor's base map as strings (rendered once per street, basemap and language)."""
    return app_map.map_payload(
        editor_map.base_map(
            _street,
            basemap=basemap,  # type: ignore[arg-type]
            tianditu_key=tianditu_key,
            lang=lang,
            walk_speed_kmh=speed,
        )
    )


def _atoms_json(editor: GridEditor) -> dict[str, Any]:
    """The editor's atoms as map GeoJSON, computed once per editor and basemap."""
    key = (id(editor), S.get("editor_key", ""), S["basemap"])
    cached = S.get("_atoms_json")
    if not cached or cached[0] != key:
        cached = (key, editor_map.atoms_json(editor.atoms, S["basemap"]))
        S["_atoms_json"] = cached
    data: dict[str, Any] = cached[1]
    return data


def _editor_map(
    street: Street, editor: GridEditor, settings: Settings, inputs: EditorInputs
) -> None:
    """The editor's map: the base map once, the editing layer redrawn in place (and kept
    for :func:`keep_map`)."""
    sel = Selection.from_state(S)
    payload = _base_payload(
        inputs.source,
        street,
        S["basemap"],
        S["tianditu_key"],
        S["lang"],
        settings.walk_speed_kmh,
    )
    view = editor_map.LayerView(
        labels={c: short_label(c, editor.settings) for c in editor.grids["code"]},
        selected=sel.atoms,
        source=sel.grid,
        target=sel.target,
        locked=editor.locked,
        parts=_split_parts(editor),
    )
    layer = editor_map.layer_script(editor.grids, _atoms_json(editor), view, basemap=S["basemap"])
    shown = S.get("editor_view_shown")
    args: dict[str, Any] = {
        "payload": payload,
        "key": "editor_map",
        "height": 600,
        "returned_objects": ["last_clicked", "last_active_drawing", "zoom", "center"],
        "feature_group": layer,
        "zoom": shown[0] if shown else None,
        "center": shown[1] if shown else None,
    }
    S["_editor_map_sent"] = (_map_identity(settings, inputs), args)
    app_map.show_map(**args, on_change=lambda value: _on_map(street, value))


def _on_map(street: Street, value: dict[str, Any]) -> None:
    """What the map reported: the view (kept), a click or a lasso (selection), a line (split)."""
    editor: GridEditor | None = S.get("editor")
    center = value.get("center")
    if value.get("zoom") and isinstance(center, dict):
        S["editor_view"] = (int(value["zoom"]), (float(center["lat"]), float(center["lng"])))
    if editor is None:
        return
    click = value.get("last_clicked")
    if click and click != S.get("_last_click"):
        S["_last_click"] = click
        atom = app_editor.atom_at(
            editor.atoms, click["lng"], click["lat"], crs=street.crs, basemap=S["basemap"]
        )
        after_click(Selection.from_state(S), editor, atom, whole_compound=_compounds()).to_state(S)
        S["lasso_left_out"] = 0
    drawing = value.get("last_active_drawing")
    if drawing and drawing != S.get("_last_drawing"):
        S["_last_drawing"] = drawing
        _take_drawing(street, editor, drawing)


def _take_drawing(street: Street, editor: GridEditor, drawing: dict[str, Any]) -> None:
    """A lasso adds the atoms inside it to the selection; a line is kept for a split."""
    crs, basemap = street.crs, S["basemap"]
    lasso = app_editor.polygon_from_drawing(drawing, crs=crs, basemap=basemap)
    if lasso is not None:
        sel, left_out = after_lasso(
            Selection.from_state(S), editor, lasso, whole_compound=_compounds()
        )
        sel.to_state(S)
        S["lasso_left_out"] = left_out
        return
    line = app_editor.line_from_drawing(drawing, crs=crs, basemap=basemap)
    if line is not None:
        S["split_line"] = line.wkt
        grid = app_editor.grid_crossed(editor.grids, line, prefer=S["selected_grid"])
        if grid:
            S["selected_grid"] = grid
            if grid != Selection.from_state(S).grid or S["selected_atoms"]:
                Selection(grid=grid).to_state(S)


def _compounds() -> bool:
    """Whether a pick takes whole compounds (else single atoms)."""
    return bool(S.get("select_compounds"))


def _map_notes() -> None:
    left_out = int(S.get("lasso_left_out") or 0)
    if left_out:
        st.caption(L("ed_lasso_left_out", n=left_out))


def _selection_panel(editor: GridEditor) -> None:
    """What is selected; pick single atoms or whole compounds; clear it (button or Esc)."""
    sel = Selection.from_state(S)
    hh = int(editor.atoms.loc[list(sel.atoms), "households"].sum()) if sel.atoms else 0
    label = short_label(sel.grid, editor.settings) if sel.grid else "—"
    st.markdown(
        f"**{L('selected')}**: {L('grid')} {md(label)} · "
        f"{L('atoms')} {len(sel.atoms)} ({L('ed_households', n=hh)})"
    )
    c1, c2 = st.columns([1.4, 1])
    c1.toggle(L("ed_mode_compound"), key="select_compounds", help=L("ed_mode_help"))
    c2.button(
        L("clear_selection"),
        key="ed_clear",
        shortcut="Escape",
        help=L("ed_esc_hint"),
        on_click=_clear_selection,
        disabled=not (sel.atoms or sel.target or sel.grid),
    )


def _clear_selection() -> None:
    Selection().to_state(S)
    S["split_line"], S["lasso_left_out"] = "", 0


def _set_target(code: str) -> None:
    S["target_grid"] = code


def _move_panel(editor: GridEditor, inputs: EditorInputs) -> None:
    """Where the selection goes: a click on the map or a short-label button, the badges
    of the grids the move (or merge) would touch, and the confirm buttons."""
    sel = Selection.from_state(S)
    off = not can_edit(S)
    if sel.grid:
        near = selection.neighbours(editor, sel.grid)
        if near:
            st.caption(L("ed_pick_target"))
            cols = st.columns(min(len(near), 4))
            for i, code in enumerate(near):
                label = short_label(code, editor.settings)
                cols[i % len(cols)].button(
                    label,
                    key=f"ed_to_{code}",
                    type="primary" if code == sel.target else "secondary",
                    on_click=_set_target,
                    args=("" if code == sel.target else code,),
                )
    pending = _pending(editor, sel)
    if pending is not None:
        _badges(editor, pending)
    c1, c2 = st.columns(2)
    target = short_label(sel.target, editor.settings) if sel.target else ""
    c1.button(
        L("ed_confirm_move", label=target) if target else L("move"),
        key="ed_move",
        type="primary",
        disabled=off or not (sel.atoms and sel.target) or not _ok(pending),
        on_click=_edit,
        args=(inputs, "move", editor.move_atoms, list(sel.atoms), sel.target),
    )
    c2.button(
        L("merge"),
        key="ed_merge",
        disabled=off or not (sel.grid and sel.target),
        on_click=_edit,
        args=(inputs, "merge", editor.merge, sel.grid, sel.target),
    )


def _ok(pending: preview.Trial | None) -> bool:
    return pending is None or pending.ok


def _pending(editor: GridEditor, sel: Selection) -> preview.Trial | None:
    """The move (atoms selected) or merge (a grid only) the selection and target make,
    tried and undone once per state (kept in the session)."""
    if not sel.target or not sel.grid:
        return None
    if sel.atoms:
        key: tuple[Any, ...] = ("move", sel.atoms, sel.target)
        atoms, target = list(sel.atoms), sel.target
        edit: Callable[[GridEditor], object] = lambda e: e.move_atoms(atoms, target)  # noqa: E731
    else:
        key = ("merge", sel.grid, sel.target)
        grid, other = sel.grid, sel.target
        edit = lambda e: e.merge(grid, other)  # noqa: E731
    return _cached_trial(editor, key, edit)


def _cached_trial(
    editor: GridEditor, key: tuple[Any, ...], edit: Callable[[GridEditor], object]
) -> preview.Trial:
    """:func:`planner.app.preview.trial`, once per edit and editor state."""
    full = (id(editor), len(editor.history), len(editor.undo_stack), editor.locked, *key)
    cached = S.get("_trial")
    if not cached or cached[0] != full:
        cached = (full, preview.trial(editor, edit))
        S["_trial"] = cached
    result: preview.Trial = cached[1]
    return result


def _badges(editor: GridEditor, pending: preview.Trial) -> None:
    """Badges of the grids an edit would touch, or the reason it would be refused."""
    if not pending.ok:
        st.error(L("ed_would_refuse", reason=md(render(pending.error or "", S["lang"]))))
        return
    st.caption(L("ed_badges"))
    table = preview.badges(editor.grids, pending.grids, editor.settings)
    for row in table.itertuples(index=False):
        bounds = ":green-badge" if row.in_bounds else ":red-badge"
        shape_ok = ":green-badge" if row.pieces == 1 else ":red-badge"
        st.markdown(
            f"**{md(short_label(str(row.code), editor.settings))}** "
            f"{bounds}[{L('ed_badge_households', before=row.households_before, n=row.households)}] "
            f":blue-badge[{L('ed_badge_load', load=row.load)}] "
            f"{bounds}[{L('ed_badge_bounds', lo=row.lo, hi=row.hi)}] "
            f"{shape_ok}[{L('ed_one_piece') if row.pieces == 1 else L('ed_pieces', n=row.pieces)}] "
            f":gray-badge[{L('ed_badge_compactness', c=row.compactness)}]"
        )


def _split_parts(editor: GridEditor) -> gpd.GeoDataFrame | None:
    """The two parts a split along the drawn line would make (street CRS), or ``None``."""
    trial = _split_trial(editor)
    if trial is None or not trial.ok or len(trial.grids) != 2:
        return None
    parts = trial.grids[["code", "geometry"]].copy()
    parts["part"] = ["part_a", "part_b"]
    return parts


def _split_trial(editor: GridEditor) -> preview.Trial | None:
    """The split of the picked grid along the drawn line, tried and undone (or ``None``)."""
    wkt, grid = S.get("split_line") or "", S.get("selected_grid") or ""
    if not wkt or not grid:
        return None
    line = shapely.from_wkt(wkt)
    return _cached_trial(editor, ("split", grid, wkt), lambda e: e.split(grid, line))


def _grid_panel(street: Street, editor: GridEditor, inputs: EditorInputs) -> None:
    """The picked grid (picker), the grid to merge with, split along the line, lock."""
    off = not can_edit(S)
    codes = ["", *(str(c) for c in editor.grids["code"])]
    grid = st.selectbox(
        L("grid"),
        codes,
        key=f"w_grid_{S['selected_grid']}",
        format_func=lambda c: c or "—",
        index=codes.index(S["selected_grid"]) if S["selected_grid"] in codes else 0,
    )
    if grid != S["selected_grid"]:
        Selection(grid=str(grid)).to_state(S)
    st.selectbox(
        L("move_to") + " / " + L("merge"),
        codes,
        key="w_other",
        format_func=lambda c: c or "—",
        on_change=lambda: _set_target(str(S["w_other"] or "")),
    )
    split = _split_trial(editor)
    if split is None:
        st.caption(L("ed_draw_line_first"))
    elif not split.ok:
        st.warning(L("ed_split_refused", reason=md(render(split.error or "", S["lang"]))))
    else:
        st.caption(L("ed_split_preview", label=short_label(str(grid), editor.settings)))
        _badges(editor, split)
    line = shapely.from_wkt(S["split_line"]) if S.get("split_line") else None
    c3, c4 = st.columns(2)
    c3.button(
        L("ed_confirm_split"),
        key="ed_split",
        disabled=off or split is None or not split.ok,
        on_click=_edit,
        args=(inputs, "split", editor.split, str(grid), line),
    )
    locked = grid in editor.locked
    c4.button(
        L("unlock") if locked else L("lock"),
        key="ed_lock",
        disabled=off or not grid,
        on_click=_edit,
        args=(
            inputs,
            "unlock" if locked else "lock",
            editor.unlock if locked else editor.lock,
            grid,
        ),
    )


def _history_buttons(editor: GridEditor, inputs: EditorInputs) -> None:
    """Undo, redo, re-divide: disabled on a read-only project."""
    off = not can_edit(S)
    c5, c6, c7 = st.columns(3)
    c5.button(
        L("undo"),
        key="ed_undo",
        disabled=off or not editor.undo_stack,
        on_click=_edit,
        args=(inputs, "undo", editor.undo),
    )
    c6.button(
        L("redo"),
        key="ed_redo",
        disabled=off or not editor.redo_stack,
        on_click=_edit,
        args=(inputs, "redo", editor.redo),
    )
    c7.button(
        L("redivide"),
        key="ed_redivide",
        disabled=off,
        on_click=_edit,
        args=(inputs, "redivide", app_editor.redivide, editor),  # keeps untouched grids
    )


def _ownership_panel(inputs: EditorInputs) -> None:
    """A project from a link (or a reload) is read-only until this session copies it."""
    if can_edit(S):
        return
    st.info(L("read_only_note"))
    st.button(
        L("make_copy"),
        key="ed_copy",
        type="primary",
        on_click=_make_copy,
        args=(inputs,),
    )


def _make_copy(inputs: EditorInputs) -> None:
    app_editor.make_copy(S, source=inputs.source, grid_settings=inputs.grid_settings)


def _edit_messages() -> None:
    """The last edit: done, or refused with its reason; a failed autosave or open."""
    lang = S["lang"]
    if S["edit_error"]:
        st.error(L("edit_refused", reason=md(render(S["edit_error"], lang))))
    elif S["edit_message"]:
        st.success(L("edit_done", what=md(render(S["edit_message"], lang))))
    if S.get("save_error"):
        st.error(md(render(S["save_error"], lang)))


def _rule_report(editor: GridEditor) -> None:
    report = editor.report
    (st.success if report.ok else st.warning)(
        f"{L('rule_report')}: " + (L("rules_ok") if report.ok else "✗")
    )
    with st.expander(L("rule_report"), expanded=not report.ok):
        st.text(report.to_text(S["lang"]))


def _project_file_panel(inputs: EditorInputs) -> None:
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
        _open_project(upload, inputs)


def _open_project(upload: Any, inputs: EditorInputs) -> None:
    """Open an uploaded project file as a new project of this session's own.

    Read from a private temporary copy, never from a path shared by sessions; the
    project shown before is left as it was.
    """
    if app_editor.open_uploaded(
        S,
        upload.getvalue(),
        name=upload.name,
        source=inputs.source,
        grid_settings=inputs.grid_settings,
    ):
        st.rerun()
