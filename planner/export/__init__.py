"""Exports other systems take: RFC 7946 GeoJSON, GeoPackage, Shapefile, CSV and Excel.

* :mod:`planner.export.geojson` - the GeoJSON writer (WGS84, UTF-8, rounded coordinates);
* :mod:`planner.export.formats` - GeoPackage, Shapefile, CSV, xlsx and :func:`export_all`.
"""

from planner.export.formats import export_all, write_csv, write_geopackage, write_xlsx
from planner.export.geojson import write_geojson

__all__ = ["export_all", "write_csv", "write_geojson", "write_geopackage", "write_xlsx"]
