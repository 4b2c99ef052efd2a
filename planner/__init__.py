"""The planner: seamless management grids and 15-minute walking service circles
for a Chinese urban sub-district (街道).

Modules are exposed by concept, so calls read ``planner.load.load_street(...)``.
"""

from planner import crs, errors, schema, settings, street
from planner.errors import InputError, PlannerError, SettingsError
from planner.settings import Settings
from planner.street import LoadReport, Street

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
]
__version__ = "0.1.0"
