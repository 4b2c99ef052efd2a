"""Loading: every source a planner has (demo, folder, OSM extract, place) into a :class:`~planner.street.Street`.

* :mod:`planner.load.sources` - :func:`load_street`: one resolver per source kind (demo,
  folder, OSM extract, place or polygon online) and the options over them (boundary,
  stations, register);
* :mod:`planner.load.assemble` - :func:`assemble`: WGS84 layers of any source to a validated
  Street, in small steps (outline, projection, layers, network, report);
* :mod:`planner.load._layers` - the assembly step of each layer (communities, compounds,
  gates, buildings and households, roads, stations, POIs);
* :mod:`planner.load.readers` - layer files and street folders (GeoJSON, GeoPackage, Shapefile);
* :mod:`planner.load.tables` - tables (CSV in UTF-8/GBK, Excel workbooks) and point CSVs;
* :mod:`planner.load.validate` - checks on input layers, each recording its problems;
* :mod:`planner.load.register` - the household register joined onto buildings;
* :mod:`planner.load.kinds` - station kinds as registers write them (catalogue, the
  user's mapping file, ``other``);
* :mod:`planner.load.osm` - OpenStreetMap extracts (.osm, .pbf) and downloads;
* :mod:`planner.load._osm_gates` - gated compounds on OSM data: internal paths, walls and
  gates (the folder format's ``compound_id`` and gates);
* :mod:`planner.load.admin_codes` - county/street codes from OSM admin relations' tags;
* :mod:`planner.load.dxf` - CAD drawings (DXF) with a CAD-layer mapping;
* :mod:`planner.load.uploads` - files uploaded in the app, staged safely.
"""

from planner.load.assemble import assemble
from planner.load.readers import read_layer_file
from planner.load.register import join_register, read_register
from planner.load.sources import DEMO_DIR, load_street
from planner.load.tables import read_table

__all__ = [
    "DEMO_DIR",
    "assemble",
    "join_register",
    "load_street",
    "read_layer_file",
    "read_register",
    "read_table",
]
