"""The project on screen as every page sees it: its current grids, its edit status,
the work kept with it (settings, siting results, scenarios) and its version.

One source of truth. A project's grids are the grid editor's (after any move, merge,
split, lock, re-division or opened project file) as soon as the project has an editor,
in the session or autosaved (:mod:`planner.app.editor`); only a project nobody has
opened in the editor yet shows the street's fresh division. The red map, the overview,
the tables, the siting figures and every export read :func:`current_grids`, so an edit
reaches all of them; :func:`grids_token` names the grids in the app's cache keys.

The work kept with a project (:func:`save_work`, :func:`load_work`) is a small JSON file
beside the autosaved project file (``work-<project>.json`` in
:func:`planner.app.editor.autosave_dir`, written atomically): the sidebar's settings,
the last siting result and the saved scenarios (the siting page's, and the facilities
page's what-if scenarios: their changes and figures). A reload (a new session with the same
project id in its URL) reads it back, so nothing of it is lost.

Two tabs on one project: a session remembers the version of the project file it last
read or wrote (:func:`file_version`); :func:`check_version` refuses to save over a
file that changed since ("changed elsewhere: reload or make a copy") instead of
silently overwriting the other tab's edits.

Everything here works on plain mappings (the session state), so it is tested
without Streamlit.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, MutableMapping
from pathlib import Path
from typing import Any

import pandas as pd

from planner._atomic import write_text
from planner.app.editor import autosave_dir, autosave_path, editor_for
from planner.errors import PlannerError
from planner.grids.division import GridResult
from planner.grids.edits import GridEditor
from planner.i18n import from_english, render, t
from planner.settings import Settings
from planner.street import Street

State = MutableMapping[str, Any]

#: Session keys kept in the project's work file (settings: :data:`planner.app.state.SETTING_KEYS`).
WORK_KEYS: tuple[str, ...] = (
    "siting_request",
    "scenarios",
    "source",
    "project_name",
    "service_scenarios",  # --- svcapp: the facilities page's what-if scenarios ---
)


def current_editor(
    state: State, street: Street, *, key: str, settings: Settings
) -> GridEditor | None:
    """The project's grid editor, from the session or its autosave; ``None`` if it has none.

    Never divides: a project that was never opened in the editor has no editor yet.
    """
    return editor_for(state, street, key=key, settings=settings, division=lambda: None)


def current_grids(
    state: State,
    street: Street,
    *,
    key: str,
    settings: Settings,
    division: Callable[[], GridResult | None],
) -> GridResult | None:
    """The project's current grids: the editor's (:meth:`GridEditor.result`) when the
    project has an editor, else ``division()`` (the street's fresh division; ``None``
    when it cannot be made, the page says why).

    Parameters
    ----------
    key
        The project's editor key (:func:`planner.app.editor.editor_key`).
    settings
        The sidebar's settings (grid codes follow the street's own, as in the CLI).
    """
    editor = current_editor(state, street, key=key, settings=settings)
    if editor is not None:
        return editor.result()
    return division()


def grids_token(result: GridResult | None) -> str:
    """A short digest naming a set of grids (codes, atoms, locks): a cache key that
    changes with every edit and undo."""
    if result is None:
        return ""
    a = result.atoms
    labels = pd.Series(a["code"].astype(str).to_numpy(), index=a["atom_id"].to_numpy())
    h = hashlib.sha256(pd.util.hash_pandas_object(labels, index=True).to_numpy().tobytes())
    locked = sorted(result.grids.loc[result.grids["locked"].astype(bool), "code"].astype(str))
    h.update(",".join(locked).encode())
    return h.hexdigest()[:16]


def edit_status(editor: GridEditor | None, lang: str = "zh") -> str:
    """One line for every page: how many edits the project has and its last change."""
    if editor is None or not editor.history:
        return t("project_status_none", lang)
    last = editor.history[-1]
    what = from_english(last.message, "edit_")
    return t(
        "project_status",
        lang,
        n=len(editor.history),
        what=render(what if what is not None else last.message, lang),
        time=_local_time(last.time),
    )


def _local_time(iso: str) -> str:
    """``2026-12-02T16:20:05+00:00`` -> ``2026-12-02 16:20`` (UTC, as recorded)."""
    m = re.match(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d)", iso)
    return f"{m.group(1)} {m.group(2)} UTC" if m else iso


# ----------------------------------------------------------------------------- work file
def work_path(project: str) -> Path:
    """The work file of a project id (settings, siting, scenarios) beside the autosaves."""
    if not re.fullmatch(r"[0-9a-f]{12}", project):
        raise ValueError(f"not a project id: {project!r}")
    return autosave_dir() / f"work-{project}.json"


def save_work(state: Mapping[str, Any], setting_keys: tuple[str, ...]) -> Path | None:
    """Write the session's work of its project (atomic); ``None`` when the session does
    not own the project (a link opened read-only writes nothing).

    ``siting_sites`` is kept as GeoJSON text (longitude/latitude), the rest as JSON.
    """
    from planner.app.state import can_edit

    project = str(state.get("project", ""))
    if not project or not can_edit(state):
        return None
    work = {k: state.get(k) for k in (*setting_keys, *WORK_KEYS)}
    work["owner"] = owner_of(project) or str(state.get("browser_digest", ""))
    path = work_path(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(work, ensure_ascii=False, sort_keys=True, default=list))
    return path


def owner_of(project: str) -> str:
    """The browser digest recorded as the maker of ``project`` ('' when none is)."""
    try:
        work = json.loads(work_path(project).read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return ""
    return str(work.get("owner", "")) if isinstance(work, dict) else ""


def load_work(state: State, setting_keys: tuple[str, ...]) -> bool:
    """Read the project's work file into the session (missing keys stay as they are);
    ``False`` when there is none or it cannot be read (the session keeps its defaults)."""
    project = str(state.get("project", ""))
    try:
        path = work_path(project)
        work = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return False
    if not isinstance(work, dict):
        return False
    for key in (*setting_keys, *WORK_KEYS):
        if work.get(key) is not None:
            state[key] = work[key]
    return True


def recent_projects(browser_digest: str, *, limit: int = 10) -> list[dict[str, str]]:
    """The projects this browser made, newest first: ``project``, ``name`` (as the
    planner named it, '' if unnamed) and ``saved`` (``YYYY-MM-DD HH:MM`` UTC of the last
    save of its work)."""
    from datetime import UTC, datetime

    if not browser_digest:
        return []
    found: list[tuple[float, dict[str, str]]] = []
    for path in autosave_dir().glob("work-*.json"):
        try:
            work = json.loads(path.read_text(encoding="utf-8"))
            mtime = path.stat().st_mtime
        except (ValueError, OSError):
            continue
        if not isinstance(work, dict) or work.get("owner") != browser_digest:
            continue
        saved = datetime.fromtimestamp(mtime, UTC).strftime("%Y-%m-%d %H:%M")
        entry = {
            "project": path.stem.removeprefix("work-"),
            "name": str(work.get("project_name") or ""),
            "saved": saved,
        }
        found.append((mtime, entry))
    found.sort(key=lambda x: x[0], reverse=True)
    return [entry for _m, entry in found[:limit]]


def open_recent(state: State, project: str, setting_keys: tuple[str, ...]) -> bool:
    """Make ``project`` (one this browser made) the session's project, with its work
    (street source, settings, siting, scenarios); ``False`` when it is not this browser's."""
    digest = str(state.get("browser_digest", ""))
    if not digest or owner_of(project) != digest:
        return False
    state["project"] = project
    if project not in state.get("owned_projects", []):
        state["owned_projects"] = [*state.get("owned_projects", []), project]
    state.update(editor=None, editor_key="", selected_atoms=[], selected_grid="")
    load_work(state, setting_keys)
    return True


# ----------------------------------------------------------------------------- scenarios
def new_scenario_name(scenarios: Mapping[str, Any], base: str) -> str:
    """A name no saved scenario has: ``base``, else ``base (2)``, ``base (3)``, ..."""
    if base not in scenarios:
        return base
    n = 2
    while f"{base} ({n})" in scenarios:
        n += 1
    return f"{base} ({n})"


def add_scenario(
    scenarios: MutableMapping[str, Any], name: str, row: dict[str, Any], *, replace: bool
) -> bool:
    """Save ``row`` under ``name``; an existing name is overwritten only with ``replace``.

    Returns ``False`` (nothing changed) for a taken name without ``replace`` or an
    empty name.
    """
    name = name.strip()
    if not name or (name in scenarios and not replace):
        return False
    scenarios[name] = {**row, "scenario": name}
    return True


# ----------------------------------------------------------------------------- versions
def file_version(path: Path) -> str:
    """The version of a project file: its modification time (ns) and size; '' if absent."""
    try:
        st = path.stat()
    except OSError:
        return ""
    return f"{st.st_mtime_ns}:{st.st_size}"


class ChangedElsewhere(PlannerError):
    """The project file changed since this session read it (another tab saved)."""


def check_version(state: Mapping[str, Any]) -> None:
    """Raise :class:`ChangedElsewhere` when the session's project file is not the version
    it last read or wrote (``state["project_version"]``)."""
    key = state.get("editor_key")
    if not key:
        return
    now = file_version(autosave_path(str(key)))
    seen = state.get("project_version")
    if seen is not None and now != seen:
        raise ChangedElsewhere(t("changed_elsewhere", "en"))


def remember_version(state: State) -> None:
    """Note the version of the session's project file as read or written now."""
    key = state.get("editor_key")
    if key:
        state["project_version"] = file_version(autosave_path(str(key)))
