"""Exports other systems take: RFC 7946 GeoJSON, GeoPackage, Shapefile, CSV and Excel.

* :mod:`planner.export.geojson` - the GeoJSON writer (WGS84, UTF-8, rounded coordinates);
* :mod:`planner.export.formats` - GeoPackage, Shapefile, CSV, xlsx (formula-safe) and
  :func:`export_all`;
* :mod:`planner.export.outputs` - the files of a run, by one writer
  (:func:`write_run_files`) used by the command line, the pipeline and the app.
"""

from planner.export.formats import export_all, write_csv, write_geopackage, write_xlsx
from planner.export.geojson import write_geojson
from planner.export.outputs import write_run_files

__all__ = [
    "export_all",
    "write_csv",
    "write_geojson",
    "write_geopackage",
    "write_run_files",
    "write_xlsx",
]
