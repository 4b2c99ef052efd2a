"""Glue between the grid editor page and :mod:`planner.grids.edits`: clicks, lines, autosave.

streamlit-folium cannot edit preloaded shapes, so a planner edits grids by clicking
atoms (selected with :func:`atom_at`), by lassoing them (:func:`polygon_from_drawing`)
and by drawing a line to split a grid (:func:`line_from_drawing`). After every edit the page saves the project file
(:func:`autosave_path`, :func:`autosave`), so a page reload or a failed step loses
nothing: a new session shows the autosaved project (:func:`editor_for`).

The session's editor lives in the session state (a plain mapping here, so it is tested
without Streamlit): :func:`apply_edit` applies one edit and autosaves it,
:func:`make_copy` turns the project on screen into a project of the session's own, and
:func:`open_uploaded` opens a project file. Only a project the session owns is changed
or autosaved (:func:`planner.app.state.can_edit`): one opened from a link is read-only,
so two sessions never write the same autosave.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import os
from collections.abc import Callable, MutableMapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon, shape

from planner.app.state import can_edit, take_copy
from planner.crs import WGS84, gcj02_to_wgs84
from planner.errors import PlannerError, RuleViolation
from planner.grids.codes import effective_code_settings
from planner.grids.division import GridResult
from planner.grids.edits import GridEditor
from planner.i18n import Message, msg
from planner.settings import Settings
from planner.street import Street

logger = logging.getLogger(__name__)

State = MutableMapping[str, Any]


def autosave_dir() -> Path:
    """Folder of autosaved projects: ``$PLANNER_AUTOSAVE_DIR`` or ``~/.planner/autosave``."""
    env = os.environ.get("PLANNER_AUTOSAVE_DIR")
    return Path(env) if env else Path.home() / ".planner" / "autosave"


def autosave_path(source_key: str) -> Path:
    """The autosave project file of a street source (a GeoPackage named by its digest)."""
    digest = hashlib.sha256(source_key.encode("utf-8")).hexdigest()[:16]
    return autosave_dir() / f"project-{digest}.gpkg"


def _to_street_xy(lon: float, lat: float, crs: Any, basemap: str) -> tuple[float, float]:
    if basemap == "amap":  # the editor map was drawn in GCJ-02 to match Amap tiles
        glon, glat = gcj02_to_wgs84([lon], [lat])
        lon, lat = float(glon[0]), float(glat[0])
    x, y = Transformer.from_crs(WGS84, crs, always_xy=True).transform(lon, lat)
    return float(x), float(y)


def atom_at(atoms: Any, lon: float, lat: float, *, crs: Any, basemap: str = "none") -> int | None:
    """The ``atom_id`` of the atom under a clicked point (longitude/latitude), or ``None``.

    Parameters
    ----------
    atoms
        Atoms (GeoDataFrame in the street CRS) with an ``atom_id`` column.
    lon, lat
        The click, degrees as the map shows them (GCJ-02 when ``basemap="amap"``).
    crs
        The street's projected CRS.
    """
    if atoms is None or len(atoms) == 0:
        return None
    x, y = _to_street_xy(lon, lat, crs, basemap)
    pt = Point(x, y)
    geoms = np.asarray(atoms.geometry.values)
    tree = shapely.STRtree(geoms)
    hits = tree.query(pt, predicate="intersects")
    if len(hits) == 0:
        nearest = tree.query_nearest(pt, max_distance=15.0)
        if len(nearest) == 0:
            return None
        hits = nearest
    return int(atoms["atom_id"].to_numpy()[int(hits[0])])


def _drawn(drawing: Any, kind: str) -> dict[str, Any] | None:
    """The GeoJSON geometry of a Leaflet.draw feature when it is of type ``kind``."""
    if not drawing or not isinstance(drawing, dict):
        return None
    geom = drawing.get("geometry", drawing)
    if not isinstance(geom, dict) or geom.get("type") != kind:
        return None
    return geom


def line_from_drawing(drawing: Any, *, crs: Any, basemap: str = "none") -> LineString | None:
    """The drawn line (Leaflet.draw GeoJSON feature, lon/lat) in the street CRS, or ``None``."""
    geom = _drawn(drawing, "LineString")
    if geom is None:
        return None
    line = shape(geom)
    coords = [_to_street_xy(x, y, crs, basemap) for x, y in line.coords]
    if len(coords) < 2:
        return None
    return LineString(coords)


def polygon_from_drawing(drawing: Any, *, crs: Any, basemap: str = "none") -> Polygon | None:
    """The drawn polygon (a lasso: Leaflet.draw GeoJSON feature, lon/lat) in the street
    CRS, repaired if it crosses itself; ``None`` when the drawing is not a polygon."""
    geom = _drawn(drawing, "Polygon")
    if geom is None:
        return None
    ring = shape(geom).exterior
    coords = [_to_street_xy(x, y, crs, basemap) for x, y in ring.coords]
    if len(coords) < 4:
        return None
    poly = Polygon(coords)
    if not poly.is_valid:
        fixed = shapely.make_valid(poly)
        parts = [g for g in shapely.get_parts(fixed) if g.geom_type == "Polygon"]
        if not parts:
            return None
        poly = max(parts, key=lambda g: g.area)
    return poly


def grid_crossed(grids: Any, line: LineString, *, prefer: str = "") -> str:
    """The grid a drawn split line is meant for: the grid holding the longest stretch
    of the line, or ``prefer`` (the grid picked) when it holds at least half as much
    ("" when the line crosses no grid).

    ``grids`` has ``code`` and geometry in the street CRS (metres), like ``line``.
    """
    if len(grids) == 0:
        return ""
    codes = grids["code"].astype(str).to_numpy()
    inside = shapely.length(
        shapely.intersection(np.asarray(grids.geometry.values, dtype=object), line)
    )
    best = int(np.argmax(inside))
    if prefer in codes and inside[codes == prefer].max() >= 0.5 * inside[best] > 0:
        return prefer
    return str(codes[best]) if inside[best] > 0 else ""


def autosave(
    editor: GridEditor,
    path: Path,
    *,
    source: str = "",
    extra: dict[str, pd.DataFrame] | None = None,
) -> Path:
    """Save the editor's state to ``path`` (atomic write by :func:`planner.grids.project.save_project`;
    the extras already in the file, such as the organisation edits, are kept, and
    ``extra`` is written too)."""
    from planner.grids.project import save_project

    path.parent.mkdir(parents=True, exist_ok=True)
    out: Path = save_project(path, editor, source=source, extra=extra)
    return out


def editor_key(source: str, grid_settings: str, project: str) -> str:
    """What names a session's editor and its autosave: street source, grid settings, project.

    ``grid_settings`` is the JSON of the settings the grids read
    (:func:`planner.settings.settings_for`), so a new walking speed keeps the editor.
    """
    return source + grid_settings + project


def editor_for(
    state: State,
    street: Street,
    *,
    key: str,
    settings: Settings,
    division: Callable[[], GridResult | None],
) -> GridEditor | None:
    """The session's grid editor for ``key`` (:func:`editor_key`).

    Kept in ``state`` across reruns; otherwise the autosaved project of ``key`` (a page
    reload, a shared link, read through one consistent snapshot), or a fresh editor on
    ``division()``. ``None`` when there is no autosave and the division failed (the
    page says why).
    """
    if state.get("editor_key") == key and state.get("editor") is not None:
        editor: GridEditor = state["editor"]
        return editor
    reopened = _reopen(autosave_path(key))
    if reopened is None:
        result = division()
        if result is None:
            return None
        # new codes (splits) take the street's own county/street codes, as the division did
        coded = effective_code_settings(settings, street.meta)
        reopened = GridEditor.from_result(street, result, settings=coded)
    state.update(editor=reopened, editor_key=key, selected_atoms=[])
    _remember_version(state)
    return reopened


def _remember_version(state: State) -> None:
    """Note the version of the project file read or written (two-tab check)."""
    from planner.app.project import remember_version

    remember_version(state)


def _reopen(path: Path) -> GridEditor | None:
    """The editor autosaved at ``path``, or ``None`` (none there, or damaged: logged)."""
    from planner.grids.project import open_project

    if not path.exists():
        return None
    try:
        return open_project(path).editor
    except Exception as exc:  # a damaged autosave must not block the editor
        logger.warning("could not reopen autosave %s (%s); starting afresh", path, exc)
        return None


def save_for_session(
    state: State,
    *,
    source: str,
    background: bool = False,
    extra: dict[str, pd.DataFrame] | None = None,
) -> None:
    """Autosave the session's editor to its project file, if the session owns the project.

    A failed save is kept in ``state["save_error"]`` (the edit stands). With
    ``background=True`` a snapshot of the editor is taken now (:func:`snapshot`) and
    written later by a worker thread: :func:`start_save` starts it (the page does so
    once the edit is drawn, so the two do not compete) and :func:`finish_save` waits
    for it and records the outcome. Saves run one at a time, in order, so the file
    always ends with the latest state. ``extra``: tables to keep with the project
    (:func:`autosave`; a foreground save only).
    """
    if not can_edit(state):
        return
    finish_save(state)
    path = autosave_path(state["editor_key"])
    if background:
        state["_save_due"] = (snapshot(state["editor"]), path, source)
        return
    try:
        out = autosave(state["editor"], path, source=source, extra=extra)
    except (OSError, PlannerError) as exc:
        state["save_error"] = msg("autosave_failed", reason=str(exc))
        return
    state["autosaved"] = str(out)
    _remember_version(state)


def start_save(state: State) -> None:
    """Start writing the background autosave :func:`save_for_session` left due, if any."""
    due = state.get("_save_due")
    if due is None:
        return
    state["_save_due"] = None
    editor, path, source = due
    state["_saving"] = _SAVER.submit(autosave, editor, path, source=source)


#: One writer thread per server process: background autosaves run one at a time.
_SAVER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="planner-autosave")


def snapshot(editor: GridEditor) -> GridEditor:
    """A copy of ``editor`` that later edits do not change (for a background save).

    Edits replace the editor's labels and grids by new objects and append to its
    history and stacks, so a shallow copy with its own lists (and reasons) keeps
    today's state; atoms, communities and the street are shared, never changed.
    """
    snap = copy.copy(editor)
    snap.history = list(editor.history)
    snap.undo_stack = list(editor.undo_stack)
    snap.redo_stack = list(editor.redo_stack)
    snap.reasons = dict(editor.reasons)
    return snap


def finish_save(state: State) -> None:
    """Wait for the session's background autosave, if any (started now if only due),
    and record its outcome."""
    start_save(state)
    future: Future[Path] | None = state.get("_saving")
    if future is None:
        return
    state["_saving"] = None
    try:
        state["autosaved"] = str(future.result())
    except (OSError, PlannerError) as exc:
        state["save_error"] = msg("autosave_failed", reason=str(exc))
        return
    _remember_version(state)


def apply_edit(
    state: State,
    what: Message | str,
    fn: Callable[..., object],
    *args: Any,
    source: str,
    background: bool = False,
    **kwargs: Any,
) -> bool:
    """Apply one edit of the session's editor, then autosave; ``True`` if it was applied.

    ``background=True`` writes the autosave in a worker thread (:func:`save_for_session`).

    ``what`` names the edit in ``state["edit_message"]`` (a catalogue message such as
    ``msg("lock")`` is shown in the reader's language).

    A refused edit (a grid rule, or a project this session does not own) leaves the
    state as it was and keeps the reason in ``state["edit_error"]`` (a catalogue
    message, rendered in the language shown at each rerun).
    """
    state["edit_message"], state["save_error"] = "", ""
    if not can_edit(state):
        state["edit_error"] = msg("edit_read_only")
        return False
    from planner.app.project import ChangedElsewhere, check_version

    finish_save(state)  # our own save in flight is not "another tab"
    try:
        check_version(state)  # another tab saved this project since: never overwrite it
    except ChangedElsewhere:
        state["edit_error"] = msg("changed_elsewhere")
        return False
    try:
        fn(*args, **kwargs)
    except RuleViolation as exc:
        state["edit_error"] = exc.message if exc.message is not None else str(exc)
        return False
    state.update(edit_error="", edit_message=what, selected_atoms=[], target_grid="")
    save_for_session(state, source=source, background=background)
    return True


def make_copy(
    state: State,
    *,
    source: str,
    grid_settings: str,
    extra: dict[str, pd.DataFrame] | None = None,
) -> str:
    """ "Make my copy": the project on screen becomes a new project of this session's own.

    The copy starts exactly where the shown project is (grids, locks, history, undo,
    and the tables kept with it, such as the organisation edits; ``extra`` when
    given, else those of the shown project's file) and is autosaved under its new
    id; the original file is not touched. Returns the new project id.
    """
    if extra is None:
        extra = _extras_of(autosave_path(str(state.get("editor_key", ""))))
    project = take_copy(state)
    state["editor_key"] = editor_key(source, grid_settings, project)
    state.update(edit_error="", edit_message=msg("copy_made", project=project), save_error="")
    save_for_session(state, source=source, extra=extra)
    return project


def _extras_of(path: Path) -> dict[str, pd.DataFrame]:
    """The extras of the project file ``path`` ({} when none or damaged: logged)."""
    from planner.grids.project import read_extra

    try:
        return read_extra(path)
    except PlannerError as exc:
        logger.warning("the extras of %s cannot be read (%s); the copy has none", path, exc)
        return {}


def open_uploaded(state: State, data: bytes, *, name: str, source: str, grid_settings: str) -> bool:
    """Open the bytes of an uploaded project file as a new project of this session's own.

    Read from a private temporary copy (:func:`planner.grids.project.read_project`),
    never from a shared path; the project shown before (perhaps another session's,
    from a link) is left alone. ``False`` with the reason in ``state["save_error"]``
    when the file is not a planner project.
    """
    from planner.grids.project import read_project

    try:
        opened = read_project(data, name=name)
    except PlannerError as exc:
        state["save_error"] = msg("open_failed", reason=str(exc))
        return False
    state.update(editor=opened.editor, selected_atoms=[])
    make_copy(state, source=source, grid_settings=grid_settings, extra=opened.extra)
    state["edit_message"] = msg("open_project")
    return True


def redivide(editor: GridEditor, *, seed: int = 0) -> None:
    """The re-divide button: divide the street again keeping the grids people know.

    As ``grids --keep`` does on the command line
    (:func:`planner.grids.keep.redivide_editor`): locked grids stay exactly as they are,
    grids whose households are still within the bounds keep their land and their code,
    only the others are divided again (their codes inherited by the grid holding most
    of their households, or retired and never given again). Applied to ``editor`` as
    one edit (one entry in its history; undo restores the grids before it), refused
    like any edit when it would break a grid rule anew.
    """
    from planner.grids.keep import redivide_editor

    fresh, kept = redivide_editor(editor, seed=seed)
    new = fresh.labels.reindex(editor.labels.index)
    if new.isna().any():  # the street's atoms are the editor's own: never expected
        raise RuleViolation(msg("edit_redivided_lost", atoms=int(new.isna().sum())))
    new = new.astype(str)
    editor.reasons.update({c: r for c, r in fresh.reasons.items() if c in set(new)})
    editor._apply(
        new,
        "redivide",
        {"locked": sorted(editor.locked), "keep": True},
        msg(
            "edit_redivided_kept",
            locked=len(editor.locked),
            kept=kept.households_kept,
            total=kept.households_before,
        ),
        set(editor.labels) | set(new),
    )
