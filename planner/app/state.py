"""The app's session state, set up in one place, and the view mirrored in the URL.

The Streamlit script calls :func:`init_state` once per run with ``st.session_state``
and ``st.query_params``; keys missing from the session get their default, and on the
first run of a session the view (page, language, basemap, layers, selected grid) is
read from the URL so a shared link opens the same view. :func:`view_query` gives the
query parameters to write back after each run. Both work on plain mappings, so they
are tested without Streamlit.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, MutableMapping
from typing import Any

from planner.maps.redmap import ALL_LAYERS, BASEMAPS, DEFAULT_LAYERS
from planner.settings import Settings

#: Pages in the order the navigation lists them; the first opens by default.
PAGES: tuple[str, ...] = ("redmap", "overview", "editor", "siting", "export")
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
    "selected_grid": "",
    "selected_atoms": [],
    "edit_message": "",
    "edit_error": "",
    "siting_result": None,
    "scenarios": {},
    "project": "",  # the planner's project id: names the autosave; kept in the URL
    "_view_loaded": False,
}

_PROJECT_ID = re.compile(r"^[0-9a-f]{12}$")


def new_project_id() -> str:
    """A fresh project id (12 hex digits): each new browser tab without one starts its own."""
    return secrets.token_hex(6)


def init_state(state: MutableMapping[str, Any], query: Mapping[str, Any]) -> None:
    """Fill ``state`` with defaults; on a session's first run, apply the URL's view."""
    for key, value in DEFAULTS.items():
        if key not in state:
            state[key] = value.copy() if isinstance(value, list | dict) else value
    if state["_view_loaded"]:
        return
    state["_view_loaded"] = True
    project = str(query.get("project", ""))
    state["project"] = project if _PROJECT_ID.match(project) else new_project_id()
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


def view_query(state: Mapping[str, Any]) -> dict[str, str]:
    """The query parameters describing the current view (only what differs from default).

    The project id is always there: a reload (or a shared link) reopens the same
    autosaved project, while a new tab without it starts its own, so two planners on
    one server never overwrite each other's edits.
    """
    out: dict[str, str] = {}
    if state.get("project"):
        out["project"] = str(state["project"])
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
    )
