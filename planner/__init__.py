"""The planner: seamless management grids and 15-minute walking service circles
for a Chinese urban sub-district (街道).

Modules are exposed by concept, so calls read ``planner.load.load_street(...)``,
``planner.grids.divide(...)`` or ``planner.rules.check_grids(...)``. Only the light
foundation (settings, errors, street, schema, crs) is imported with the package; every
other module is imported on first use (module ``__getattr__``, PEP 562), so
``import planner`` stays fast.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from planner import crs, errors, schema, settings, street
from planner.errors import InputError, PlannerError, SettingsError
from planner.settings import Settings
from planner.street import LoadReport, Street

#: Modules by concept, imported lazily on first attribute access.
MODULES: dict[str, str] = {
    # inputs
    "load": "any source (demo, folder, OSM extract, place) to a validated Street",
    "readers": "layer files and tables (GeoJSON, GeoPackage, Shapefile, CSV, Excel)",
    "register": "household register joined onto buildings",
    "validate": "checks on input layers",
    "osm": "OpenStreetMap extracts and downloads",
    "offline": "offline checks for downloads",
    "synthetic": "the synthetic demo street",
    "uploads": "files uploaded to the app",
    # walking network and service circles
    "network_build": "the walking network from roads and gates",
    "network": "the walking network as compact arrays",
    "routing": "walking times on the network",
    "coverage": "households within reach of stations",
    "circles": "15-minute service circle polygons",
    # grids
    "atoms": "indivisible pieces grids are made of",
    "grids": "division of the street into grids",
    "rules": "proof of the grid rules",
    "codes": "CJ/T 349 grid codes",
    "edits": "editing grids by hand",
    "gridfile": "reading a grid layer back",
    "project": "editable project files (.gpkg)",
    # new stations
    "siting": "proposed new service stations",
    # outputs
    "geojson": "RFC 7946 GeoJSON writer",
    "exports": "GeoPackage, Shapefile, CSV and Excel",
    "redmap": "the interactive red map (HTML)",
    "mapimage": "the red map as PNG/PDF",
    "pipeline": "the whole run: load, grids, coverage, siting, export",
    "i18n": "Chinese/English labels",
    "atomic": "atomic file writes",
    # front ends
    "cli": "the command line",
    "app_services": "what the app computes",
    "app_state": "the app's session state",
    "app_map": "the app's map",
    "app_editor": "the app's grid editor",
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
