"""The app's work done at server start, before any browser connects.

Started by :mod:`planner.app.serve` in a background thread beside the Streamlit server:

1. the imports the first script run would make (geopandas, shapely, scipy, folium, the
   planner's modules, the app's pages), about 3 CPU s otherwise spent after the browser
   connects;
2. the default view of a fresh session (the state's defaults,
   :data:`planner.app.state.DEFAULTS`: the demo street, default settings, Chinese, no
   basemap, the default layers): the street, its coverage, its grid division and the
   rendered red map, through the same cached functions the pages call
   (:mod:`planner.app.cache`), so a session arriving after it finds them in memory and
   draws circles and grids at once.

Nothing is read from or written to the disk cache beyond what those functions do
anyway (:mod:`planner.app.store` keeps each computed result, as when a page computes it).
A step the first session reaches while the warm-up is still computing it waits for it
(``st.cache_data`` computes one value once), never computes it twice; the red map
draws the street meanwhile, as on any cold open. A failure is
logged and leaves the pages to compute (and report) it as before.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("planner.app.warm")

#: The libraries and planner modules a cold open of the demo street imports that
#: register nothing with Streamlit: imported at once, while the server starts. Only
#: what the first view uses (checked in one process, 2026-12-03: osmnx and
#: planner.pipeline are not imported by it, so they are not warmed: each import here
#: costs CPU the server's start and the browser share).
LIBRARIES: tuple[str, ...] = (
    "numpy",
    "pandas",
    "shapely",
    "pyproj",
    "geopandas",
    "pyogrio",
    "scipy",
    "folium",
    "branca",
    "planner.maps.redmap",
    "planner.app.services",
)

#: The app's modules (app.py and the red map page): imported once the server's runtime
#: exists (see :func:`register_map_component` for the map component).
APP_MODULES: tuple[str, ...] = (
    "planner.app.map",
    "planner.app.cache",
    "planner.app.session",
    "planner.app.sidebar",
    "planner.app.state",
    "planner.app.redmap_page",
    "planner.app.overview_page",
    "planner.app.pages_common",
    "planner.app.project",
)

#: Whether the warm-up is on: ``$PLANNER_APP_WARM`` "0" turns it off.
ENV = "PLANNER_APP_WARM"

_STATE: dict[str, float] = {}
_LOCK = threading.Lock()


def enabled() -> bool:
    """Whether the server warms up (``$PLANNER_APP_WARM`` is not "0")."""
    return os.environ.get(ENV, "1") != "0"


def mark(event: str) -> None:
    """Record that ``event`` finished (seconds since the process started the warm-up),
    and write it to ``$PLANNER_RUN_LOG`` when set (the benchmark's run log, same
    columns as app.py's: event, page, seconds, epoch)."""
    now = time.perf_counter()
    with _LOCK:
        start = _STATE.setdefault("start", now)
        _STATE[event] = now - start
    path = os.environ.get("PLANNER_RUN_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"{event}\t-\t{now - start:.3f}\t{time.time():.3f}\n")


def done() -> dict[str, float]:
    """The warm-up's finished events and their seconds since it started (a copy)."""
    with _LOCK:
        return dict(_STATE)


def warm_imports(modules: tuple[str, ...] = LIBRARIES) -> None:
    """Import ``modules``. (networkx and numba's kernels are left to the coverage and
    the division that use them: a server reading kept results never needs them, and
    warming them cost its restart 0.4-0.5 CPU s, docs/benchmarks/app.md.)"""
    for name in modules:
        importlib.import_module(name)


def register_map_component() -> None:
    """Import ``streamlit_folium`` and register its map component with the server's
    runtime (which must exist).

    Streamlit registers a component declared at import only inside a script run; the
    module imported here, outside one, would never be imported (so registered) again,
    and the browser would get a 404 for the map's frame.
    """
    import streamlit_folium as sf
    from streamlit import runtime

    registry = runtime.get_instance().component_registry
    component = sf._component_func
    if registry.get_component_path(component.name) is None:
        registry.register_component(component)


def warm_app_imports(modules: tuple[str, ...] = APP_MODULES) -> None:
    """Import the app's own modules and the map component (registered with the
    server's runtime, which must exist)."""
    register_map_component()
    for name in modules:
        importlib.import_module(name)


def default_view() -> tuple[str, str, dict[str, Any]]:
    """A fresh session's street source (JSON), settings (JSON) and view (basemap,
    language, layers): what the red map of a first visit without a link shows."""
    from planner.app.cache import settings_json
    from planner.app.state import DEFAULTS, settings_from_state

    source = json.dumps(DEFAULTS["source"], sort_keys=True)
    settings = settings_json(settings_from_state(DEFAULTS))
    view = {
        "basemap": str(DEFAULTS["basemap"]),
        "lang": str(DEFAULTS["lang"]),
        "layers": tuple(DEFAULTS["layers"]),
    }
    return source, settings, view


def warm_default_view() -> None:
    """Compute the default view's street, coverage, grids and red map (with circles
    and grids, as :func:`planner.app.redmap_page.page_redmap` draws it for a new project)
    into the app's caches."""
    from planner.app import cache
    from planner.app.project import grids_token

    sj, tj, view = default_view()
    cache.cached_street(sj)
    mark("warm_street")
    cache.cached_coverage(sj, tj)
    mark("warm_coverage")
    grids = cache.cached_grids(sj, tj)
    mark("warm_grids")
    cache.cached_map(
        sj, tj, view["basemap"], "", view["lang"], view["layers"], True, grids_token(grids), grids
    )
    mark("warm_map")


def _wait_for_runtime(timeout_s: float = 60.0) -> bool:
    """Wait until the Streamlit runtime exists (its caches are the ones the sessions
    read); ``False`` after ``timeout_s`` seconds."""
    from streamlit import runtime

    deadline = time.monotonic() + timeout_s
    while not runtime.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def run(
    imports: Callable[[], None] = warm_imports,
    app_imports: Callable[[], None] = warm_app_imports,
    view: Callable[[], None] = warm_default_view,
    runtime_ready: Callable[[], bool] = lambda: _wait_for_runtime(),
) -> None:
    """The warm-up: ``imports``, then, once the server's runtime exists
    (``runtime_ready``), ``app_imports`` and ``view``. Never raises (a failure is
    logged; the pages compute and report it as before)."""
    mark("warm_start")
    try:
        imports()
        mark("warm_imports")
        if runtime_ready():
            app_imports()
            mark("warm_app_imports")
            view()
        mark("warm_end")
    except Exception:  # the pages will compute (and explain) whatever failed here
        logger.exception("warm-up at server start failed")
        mark("warm_failed")


def start(target: Callable[[], None] = run) -> threading.Thread | None:
    """Start the warm-up in a daemon thread (``None`` when ``$PLANNER_APP_WARM`` is "0");
    it never delays the server, which starts beside it."""
    if not enabled():
        return None
    thread = threading.Thread(target=target, name="planner-warm-up", daemon=True)
    thread.start()
    return thread
