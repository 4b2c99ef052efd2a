"""The grid editor page of the app (``app.py`` calls :func:`page_editor`).

Only UI lives here: the page wires Streamlit widgets and the editor map to
:mod:`planner.app.editor` (clicks, drawn lines, edits, autosave). What the page needs
from the app script (the street source, the grid settings, the cached division) comes
in one :class:`EditorInputs`.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, cast

import streamlit as st

from planner.app import editor as app_editor
from planner.app.state import can_edit
from planner.grids.codes import provisional_note
from planner.grids.division import GridResult
from planner.i18n import markdown_literal as md
from planner.i18n import msg, render, t
from planner.maps.redmap import red_map
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


def _editor(street: Street, settings: Settings, inputs: EditorInputs) -> Any:
    """The session's grid editor (reopened from the autosave after a reload or from a link)."""
    return app_editor.editor_for(
        S,
        street,
        key=app_editor.editor_key(inputs.source, inputs.grid_settings, S["project"]),
        settings=settings,
        division=inputs.division,
    )


def _edit(inputs: EditorInputs, what: str, fn: Any, *args: Any) -> None:
    """Apply one edit (refused edits keep their reason), autosave, and redraw."""
    app_editor.apply_edit(S, msg(what), fn, *args, source=inputs.source)
    st.rerun()


def page_editor(street: Street, settings: Settings, inputs: EditorInputs) -> None:
    """The grid editor page: the map on the left, the selection and the edits on the right."""
    editor = _editor(street, settings, inputs)
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
        _ownership_panel(inputs)
        grid, other = _grid_pickers(editor)
        _edit_buttons(street, editor, grid, other, out.get("last_active_drawing"), inputs)
        _edit_messages()
        _rule_report(editor)
        _project_file_panel(inputs)


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
        tianditu_key=S["tianditu_key"],
        lang=S["lang"],
        layers=("boundary", "grids", "atoms", "stations"),
        highlight_grids=[S["selected_grid"]] if S["selected_grid"] else [],
        highlight_atoms=[str(int(a)) for a in S["selected_atoms"]],
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


def _ownership_panel(inputs: EditorInputs) -> None:
    """A project from a link (or a reload) is read-only until this session copies it."""
    if can_edit(S):
        return
    st.info(L("read_only_note"))
    if st.button(L("make_copy"), key="ed_copy", type="primary"):
        app_editor.make_copy(S, source=inputs.source, grid_settings=inputs.grid_settings)
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


def _edit_buttons(
    street: Street, editor: Any, grid: str, other: str, drawing: Any, inputs: EditorInputs
) -> None:
    """Move, merge, split, lock, undo, redo, re-divide: disabled on a read-only project."""
    off = not can_edit(S)
    atoms = list(S["selected_atoms"])
    c1, c2 = st.columns(2)
    if c1.button(L("move"), key="ed_move", disabled=off or not (other and atoms)):
        _edit(inputs, "move", editor.move_atoms, atoms, other)
    if c2.button(L("merge"), key="ed_merge", disabled=off or not (grid and other)):
        _edit(inputs, "merge", editor.merge, grid, other)
    c3, c4 = st.columns(2)
    if c3.button(L("split"), key="ed_split", disabled=off or not grid):
        line = app_editor.line_from_drawing(drawing, crs=street.crs, basemap=S["basemap"])
        _edit(inputs, "split", editor.split, grid, line)
    locked = grid in editor.locked
    if c4.button(L("unlock") if locked else L("lock"), key="ed_lock", disabled=off or not grid):
        _edit(
            inputs, "unlock" if locked else "lock", editor.unlock if locked else editor.lock, grid
        )
    c5, c6, c7 = st.columns(3)
    if c5.button(L("undo"), key="ed_undo", disabled=off or not editor.undo_stack):
        _edit(inputs, "undo", editor.undo)
    if c6.button(L("redo"), key="ed_redo", disabled=off or not editor.redo_stack):
        _edit(inputs, "redo", editor.redo)
    if c7.button(L("redivide"), key="ed_redivide", disabled=off):
        _edit(inputs, "redivide", editor.redivide)


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
