"""The app's session state, set up in one place, and the view mirrored in the URL.

The Streamlit script calls :func:`init_state` once per run with ``st.session_state``
and ``st.query_params``; keys missing from the session get their default, and on the
first run of a session the view (page, language, basemap, layers, selected grid), the
sidebar's settings and the project id are read from the URL, so a shared link opens
the same view with the same figures. :func:`view_query` gives the query parameters to
write back after each run.

Projects belong to the session that made them. A session edits only the projects in
its ``owned_projects`` (an edit right held in the server-side session state, never in
the URL): the project it started, the copies it made (:func:`take_copy`) and the
project files it opened. A project id that arrives in a link opens read-only
(:func:`can_edit` is false) until the receiver makes a copy of its own, so whoever
holds a view link can look but never change, undo or overwrite the sender's project.
The one exception is the browser that made the project: its secret (a cookie, never
in the URL; see :func:`init_state`) matches the owner recorded in the project's work
file, so a reload there keeps editing. Two tabs of that browser are kept apart by the
version check of :mod:`planner.app.project`.

Everything here works on plain mappings, so it is tested without Streamlit.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping, MutableMapping
from typing import Any

from planner.errors import SettingsError
from planner.maps.redmap import ALL_LAYERS, BASEMAPS, DEFAULT_LAYERS
from planner.schema import STATION_KINDS
from planner.settings import Settings

#: Pages in the order the navigation lists them; the first opens by default.
PAGES: tuple[str, ...] = (
    "redmap",
    "overview",
    "editor",
    "siting",
    "facilities",
    "export",
    "organisation",
    "city",  # --- city: a city output folder (issue 17) ---
)
SOURCES: tuple[str, ...] = ("demo", "upload", "osm", "place")

_DEFAULT_SETTINGS = Settings()

#: Session keys and their defaults (copied for each session).
DEFAULTS: dict[str, Any] = {
    "lang": "zh",
    "page": PAGES[0],
    "basemap": "none",
    "tianditu_key": "",
    "layers": list(DEFAULT_LAYERS),
    "source": {"kind": "demo"},  # what is loaded: kind + path/name/digest
    "source_choice": "demo",  # the sidebar radio (not yet loaded)
    "load_error": "",
    "walk_speed_kmh": _DEFAULT_SETTINGS.walk_speed_kmh,
    "thresholds_min": list(_DEFAULT_SETTINGS.thresholds_min),
    "grid_min_households": _DEFAULT_SETTINGS.grid_min_households,
    "grid_max_households": _DEFAULT_SETTINGS.grid_max_households,
    "service_kinds": list(_DEFAULT_SETTINGS.service_kinds),
    "selected_grid": "",
    "selected_atoms": [],
    "edit_message": "",
    "edit_error": "",
    "siting_result": None,
    "scenarios": {},
    "project": "",  # the planner's project id: names the autosave; kept in the URL
    "project_name": "",  # what the planner calls it (kept in the project's work file)
    "owned_projects": [],  # the ids this session may edit: never in the URL
    "_view_loaded": False,
}

#: The sidebar's settings, kept in the session and in the URL (so a link carries them).
SETTING_KEYS: tuple[str, ...] = (
    "walk_speed_kmh",
    "thresholds_min",
    "grid_min_households",
    "grid_max_households",
    "service_kinds",
)
#: What the sidebar's widgets offer (values from a URL must fit them too):
#: walking speed, km/h; service-circle thresholds, minutes; households per grid.
SPEED_RANGE_KMH: tuple[float, float] = (2.0, 7.0)
THRESHOLD_CHOICES: tuple[float, ...] = (5.0, 10.0, 15.0, 20.0, 30.0)
HOUSEHOLD_RANGE: tuple[int, int] = (50, 1500)

_PROJECT_ID = re.compile(r"^[0-9a-f]{12}$")


def new_project_id() -> str:
    """A fresh project id (12 hex digits): each new browser tab without one starts its own."""
    return secrets.token_hex(6)


def init_state(
    state: MutableMapping[str, Any], query: Mapping[str, Any], *, browser: str = ""
) -> None:
    """Fill ``state`` with defaults; on a session's first run, apply the URL's view.

    ``browser`` is the browser's own secret (a cookie the app sets, never in the URL):
    a project made in the same browser opens editable again after a reload, while a
    link opened in another browser stays read-only. The project's work (settings,
    siting request, scenarios: :func:`planner.app.project.load_work`) is read back
    first; settings in the URL win over it.
    """
    from planner.app.project import load_work, owner_of

    for key, value in DEFAULTS.items():
        if key not in state:
            state[key] = value.copy() if isinstance(value, list | dict) else value
    if state["_view_loaded"]:
        return
    state["_view_loaded"] = True
    state["browser_digest"] = browser_digest(browser)
    project = str(query.get("project", ""))
    if _PROJECT_ID.match(project):
        state["project"] = project  # from a link: read-only unless made in this browser
        owner = owner_of(project)
        if owner and owner == state["browser_digest"]:
            state["owned_projects"] = [*state["owned_projects"], project]
        load_work(state, SETTING_KEYS)
    else:
        take_copy(state)  # a project of this session's own
    _settings_from_query(state, query)
    page = str(query.get("page", ""))
    if page in PAGES:
        state["page"] = page
    lang = str(query.get("lang", ""))
    if lang in ("zh", "en"):
        state["lang"] = lang
    basemap = str(query.get("basemap", ""))
    if basemap in BASEMAPS:
        state["basemap"] = basemap
    layers = query.get("layers")
    if layers is not None:
        chosen = [x for x in str(layers).split(",") if x in ALL_LAYERS]
        state["layers"] = chosen
    grid = query.get("grid")
    if grid:
        state["selected_grid"] = str(grid)


def browser_digest(browser: str) -> str:
    """What the work file keeps of a browser's secret (a SHA-256 digest; '' for none)."""
    if not re.fullmatch(r"[0-9a-f]{32}", browser):
        return ""
    return hashlib.sha256(browser.encode("ascii")).hexdigest()


def can_edit(state: Mapping[str, Any]) -> bool:
    """Whether this session may change (and autosave) the project it shows."""
    return str(state.get("project", "")) in state.get("owned_projects", [])


def take_copy(state: MutableMapping[str, Any]) -> str:
    """Give the session a new project id of its own (and the right to edit it).

    The caller saves what is on screen under the new id: "make my copy" of a project
    opened from a link, a project file opened from disk, a session's first project.
    """
    project = new_project_id()
    state["owned_projects"] = [*state.get("owned_projects", []), project]
    state["project"] = project
    return project


def _settings_from_query(state: MutableMapping[str, Any], query: Mapping[str, Any]) -> None:
    """The sidebar's settings from the URL, all or none.

    Values that do not parse, lie outside what the sidebar offers, or do not make
    valid :class:`~planner.settings.Settings` leave every setting at its default.
    """
    values: dict[str, Any] = {}
    try:
        for key in SETTING_KEYS:
            raw = query.get(key)
            if raw is not None:
                values[key] = _parse_setting(key, str(raw))
        settings_from_state({**state, **values})
    except (ValueError, SettingsError):
        return
    state.update(values)


def _parse_setting(key: str, raw: str) -> Any:
    """One sidebar setting from its URL text; ``ValueError`` when the sidebar cannot show it."""
    if key == "thresholds_min":
        minutes = [float(x) for x in raw.split(",") if x.strip()]
        if not minutes or not set(minutes) <= set(THRESHOLD_CHOICES):
            raise ValueError(raw)
        return minutes
    if key == "service_kinds":
        kinds = [x for x in raw.split(",") if x.strip()]
        if not kinds or not set(kinds) <= set(STATION_KINDS):
            raise ValueError(raw)
        return kinds
    if key == "walk_speed_kmh":
        speed = float(raw)
        if not SPEED_RANGE_KMH[0] <= speed <= SPEED_RANGE_KMH[1]:
            raise ValueError(raw)
        return speed
    households = int(raw)
    if not HOUSEHOLD_RANGE[0] <= households <= HOUSEHOLD_RANGE[1]:
        raise ValueError(raw)
    return households


def _setting_text(key: str, value: Any) -> str:
    if key == "thresholds_min":
        return ",".join(f"{float(x):g}" for x in value)
    if key == "service_kinds":
        return ",".join(k for k in STATION_KINDS if k in set(map(str, value)))
    return f"{value:g}" if isinstance(value, float) else str(value)


def view_query(state: Mapping[str, Any]) -> dict[str, str]:
    """The query parameters describing the current view (only what differs from default).

    The project id is always there, and the sidebar's settings when they differ from
    the defaults: a shared link shows the receiver the same project with the same
    figures (read-only: see :func:`can_edit`), and a new tab without a project id
    starts a project of its own.
    """
    out: dict[str, str] = {}
    if state.get("project"):
        out["project"] = str(state["project"])
    for key in SETTING_KEYS:
        value = state.get(key, DEFAULTS[key])
        if _setting_text(key, value) != _setting_text(key, DEFAULTS[key]):
            out[key] = _setting_text(key, value)
    if state.get("page", PAGES[0]) != PAGES[0]:
        out["page"] = str(state["page"])
    if state.get("lang", "zh") != "zh":
        out["lang"] = str(state["lang"])
    if state.get("basemap", "none") != "none":
        out["basemap"] = str(state["basemap"])
    layers = list(state.get("layers", DEFAULT_LAYERS))
    if sorted(layers) != sorted(DEFAULT_LAYERS):
        out["layers"] = ",".join(layers)
    if state.get("selected_grid"):
        out["grid"] = str(state["selected_grid"])
    return out


def settings_from_state(state: Mapping[str, Any], base: Settings | None = None) -> Settings:
    """The planner :class:`Settings` chosen in the sidebar (validated)."""
    base = base or Settings()
    lo = int(state.get("grid_min_households", base.grid_min_households))
    hi = int(state.get("grid_max_households", base.grid_max_households))
    target = min(max(base.grid_target_households, lo), hi)
    thresholds = tuple(sorted(float(x) for x in state.get("thresholds_min", base.thresholds_min)))
    thresholds = thresholds or base.thresholds_min
    # the sidebar picks thresholds only: the promise stays 15 min while 15 is picked
    gap = base.gap_minutes if base.gap_minutes in thresholds else max(thresholds)
    return base.with_(
        walk_speed_kmh=float(state.get("walk_speed_kmh", base.walk_speed_kmh)),
        thresholds_min=thresholds,
        gap_minutes=gap,
        grid_min_households=lo,
        grid_max_households=hi,
        grid_target_households=target,
        service_kinds=_service_kinds(state.get("service_kinds", base.service_kinds), base),
    )


def _service_kinds(chosen: Any, base: Settings) -> tuple[str, ...]:
    """The picked station kinds in catalogue order (the same settings whatever order they
    were picked in); ``base``'s when none is picked."""
    picked = {str(k) for k in chosen}
    return tuple(k for k in STATION_KINDS if k in picked) or base.service_kinds
