"""The planner: seamless management grids and 15-minute walking service circles
for a Chinese urban sub-district (街道).

Subpackages follow the data (see :data:`MODULES` and the README's architecture), so
calls read ``planner.load.load_street(...)``, ``planner.grids.divide(...)`` or
``planner.coverage.compute_coverage(...)``. Only the light foundation (settings, errors,
street, schema, crs) is imported with the package; every subpackage is imported on
first use (module ``__getattr__``, PEP 562), so ``import planner`` stays fast.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from planner import crs, errors, schema, settings, street
from planner.errors import InputError, PlannerError, SettingsError
from planner.settings import Settings
from planner.street import LoadReport, Street

#: Subpackages and top-level modules by concept, imported lazily on first attribute access.
#: tests/test_package.py fails when a module of planner/ is missing here or in the README.
MODULES: dict[str, str] = {
    # shared foundation (imported with the package: settings, errors, schema, street, crs)
    "i18n": "Chinese/English labels and messages",
    "pipeline": "the whole run: load, grids, coverage, siting, every export",
    # the pipeline, one subpackage per stage of the data
    "load": "any source (demo, folder, OSM extract, place) to a validated Street",
    "network": "the walking network: built from roads, compact arrays, routing",
    "coverage": "walking coverage: times, figures, service circles, gaps, output layers",
    "grids": "grids: atoms, division, rules' proof, codes, edits, project and grid files",
    "siting": "proposed new service stations (maximal coverage, fewest stations)",
    "export": "GeoJSON, GeoPackage, Shapefile, CSV and Excel",
    "maps": "the red map as HTML and PNG/PDF, its style, offline assets",
    # front ends and data
    "cli": "the command line, one module per command",
    "app": "what the Streamlit app calls: services, state, map, editor",
    "synthetic": "the synthetic demo street generator",
    # --- org: the grid as an organisation (issue 15) ---
    "organisation": "party branches, grid staff, red property, incidents: registers and rules",
    # --- city: issue 17 ---
    "city": "every street of a city at once on Dask: partition, tasks, rollups, city map",
}

__all__ = [
    "InputError",
    "LoadReport",
    "PlannerError",
    "Settings",
    "SettingsError",
    "Street",
    "crs",
    "errors",
    "schema",
    "settings",
    "street",
    *MODULES,
]
__version__ = "0.1.0"


def __getattr__(name: str) -> ModuleType:
    """Import ``planner.<name>`` on first use (PEP 562)."""
    if name in MODULES:
        module = importlib.import_module(f"planner.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'planner' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(MODULES))
