"""A city as input, read once: city-wide layers and the street-boundary layer.

:func:`read_city` reads ``CITY_SOURCE`` once in the process that starts the run:

- ``demo-city:N`` - the synthetic city of N streets (:func:`planner.synthetic.city.make_city`),
  its own street layer unless ``--streets`` gives one;
- a folder of city-wide layer files (the folder format of a street, docs/readme/load.md),
  with ``--streets`` (required);
- a folder of street folders, one sub-folder per street (:mod:`planner.city.folders`),
  merged into city-wide layers; ``--streets`` or each folder's boundary and
  ``street.json`` codes give the streets;
- one city-wide OpenStreetMap extract (``.osm``, ``.osm.pbf``, ``.xml`` with OSM
  content), with ``--streets``: parsed once around the streets with the margin
  (:func:`planner.load.osm.read_osm_tables`); each street builds its layers from its
  share of the parsed tables (:data:`OSM_TABLES`).

City-wide registers are read once too: a stations file (``--stations``, replaces the
source's stations; split to streets by location like every layer), a household
register (``--register``, split to streets by key in
:func:`planner.city.registers.split_register`) and the organisation registers
(``--party-register`` ..., split by grid code, key or point in
:func:`planner.city.registers.split_org_registers`).

The streets file (GeoJSON, GeoPackage, Shapefile) holds one polygon per street with
``street_code`` (unique, not empty), ``county_code`` (6 digits, GB/T 2260) and ``name``.
Every problem is raised together as one :class:`~planner.errors.InputError` naming the
file, the feature and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from planner.errors import InputError, Problem, ProblemLog
from planner.load.readers import read_folder, read_layer_file
from planner.network.build import NodeAt
from planner.organisation.registers import RegisterFiles, RegisterTables
from planner.synthetic.city import STREET_COLUMNS

__all__ = ["OSM_TABLES", "CityInput", "check_streets", "read_city", "read_streets"]

STREETS_FIX = (
    "give a polygon layer with one feature per street and the fields street_code "
    "(unique), county_code (6 digits) and name"
)


@dataclass
class CityInput:
    """City-wide WGS84 layers, the streets (WGS84, :data:`STREET_COLUMNS`) and metadata."""

    source: str
    layers: dict[str, gpd.GeoDataFrame]
    streets: gpd.GeoDataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    streets_file: str = ""
    # --- city: city-wide inputs (issue 17 item 1) ---
    #: How the walking network is noded (``endpoints`` for OSM ways, as a street's load).
    node_at: NodeAt = "intersections"
    #: The city-wide household register's rows (:func:`planner.load.register.read_register`).
    register: pd.DataFrame | None = None
    #: The files the layers came from (messages name them), layer -> file.
    files: dict[str, str] = field(default_factory=dict)
    #: The city-wide organisation registers (party, staff, property, incidents), read,
    #: and the files they were read from.
    org_registers: RegisterTables | None = None
    org_files: RegisterFiles | None = None
    #: The city-wide ``--stations`` file, when one was given ("" otherwise: the stations
    #: are the source's own layer).
    stations_file: str = ""

    def street(self, code: str) -> gpd.GeoDataFrame:
        """The one-row street layer of ``code``."""
        return self.streets.loc[self.streets["street_code"] == code]


def read_city(
    source: str,
    *,
    streets: str | Path | None = None,
    stations: str | Path | None = None,
    register: str | Path | None = None,
    margin_m: float = 1000.0,
    org_files: RegisterFiles | None = None,
) -> CityInput:
    """Read ``source``, the streets file and the city-wide registers once (see the
    module docstring).

    Parameters
    ----------
    source
        ``demo-city:N``, a folder of city-wide layers or a city-wide OSM extract.
    streets
        The street-boundary file (needed for a folder or an extract).
    stations
        A city-wide stations file (GeoJSON/GPKG/Shapefile or CSV lon/lat in WGS84).
    register
        A city-wide household register (.csv/.xlsx, :mod:`planner.load.register`).
    margin_m
        An extract keeps roads, barriers and POIs this far beyond the streets, m (the
        run's ``margin_m``; the share of each street is cut with it again).
    org_files
        City-wide organisation registers (split to streets by
        :func:`planner.city.registers.split_org_registers`).

    Raises
    ------
    InputError
        An unknown source, a folder or extract without ``--streets``, a bad streets
        file or register.
    """
    city = _read_source(source, streets=streets, margin_m=margin_m)
    problems = ProblemLog()
    if stations is not None:
        layer = read_layer_file(Path(stations), layer="stations", problems=problems)
        if layer is not None:
            city.layers["stations"] = layer
            city.files["stations"] = city.stations_file = str(stations)
    if register is not None:
        from planner.load.register import read_register

        city.register = read_register(Path(register), problems=problems)
        city.files["register"] = str(register)
    if org_files:
        from planner.organisation.registers import read_registers

        city.org_registers = read_registers(org_files, problems=problems)
        city.org_files = org_files
    problems.raise_if_errors()
    return city


def _read_source(source: str, *, streets: str | Path | None, margin_m: float) -> CityInput:
    """The city's layers and streets from ``source`` (see :func:`read_city`)."""
    from planner.city.folders import is_street_folders
    from planner.load.osm import is_osm_extract
    from planner.load.sources import DEMO_CITY_PREFIX, parse_demo_city

    if source.startswith(DEMO_CITY_PREFIX):
        from planner.synthetic.city import CitySpec, make_city

        n, k = parse_demo_city(source)
        if k is not None:
            raise InputError(
                Problem(
                    f"{source} is one street; the city command runs a whole city",
                    fix=f"give demo-city:{n} (every street), or run single-street commands "
                    f"on {source}",
                    file=source,
                )
            )
        city = make_city(CitySpec(n_streets=n))
        own = read_streets(streets) if streets is not None else city.streets
        return CityInput(source, dict(city.layers), own, dict(city.meta), str(streets or ""))
    path = Path(source).expanduser()
    extract = path.is_file() and is_osm_extract(path)
    if not (path.is_dir() or extract):
        raise InputError(
            Problem(
                f"no such city folder or OSM extract: {source}",
                fix="give demo-city:N, a folder of city-wide layer files or a city-wide "
                "OSM extract (.osm, .osm.pbf), with --streets",
                file=source,
            )
        )
    if not extract and is_street_folders(path):
        return _read_street_folders(path, streets)
    if streets is None:
        kind = "OSM extract" if extract else "folder"
        raise InputError(
            Problem(
                f"the city {kind} {source} needs --streets",
                fix="give --streets FILE: " + STREETS_FIX,
                file=source,
            )
        )
    layer = read_streets(streets)
    if extract:
        return _read_extract(path, layer, str(streets), margin_m=margin_m)
    problems = ProblemLog()
    contents = read_folder(path, problems=problems)
    problems.raise_if_errors()
    files = {k: str(p) for k, p in contents.files.items()}
    return CityInput(
        source, dict(contents.layers), layer, dict(contents.meta), str(streets), files=files
    )


def _read_street_folders(path: Path, streets: str | Path | None) -> CityInput:
    """A city of one folder per street (:mod:`planner.city.folders`): the folders merged
    into city-wide layers; the streets from ``--streets`` or the folders' boundaries."""
    from planner.city.folders import read_street_folders

    folders = read_street_folders(path, need_streets=streets is None)
    layer = (
        read_streets(streets) if streets is not None else check_streets(folders.streets, str(path))
    )
    return CityInput(
        str(path), folders.layers, layer, folders.meta, str(streets or ""), files=folders.files
    )


#: Layers of a city read from an OSM extract: the extract's reader tables, which each
#: street turns into its layers with its own boundary (:func:`planner.city.task.load_part`).
OSM_TABLES: tuple[str, str] = ("osm_ways", "osm_features")


def _read_extract(
    path: Path, streets: gpd.GeoDataFrame, streets_file: str, *, margin_m: float
) -> CityInput:
    """A city-wide OSM extract parsed once around the streets (+ the margin and the
    share slack, :data:`planner.city.partition.SLACK_M`).

    The city keeps the reader tables (:data:`OSM_TABLES`): each street's share is cut
    from them by its margin like any layer, and the street's task builds its layers from
    its share with its own boundary (:func:`planner.load.osm.layers_from_tables`), as a
    single-street load of the extract with that boundary does.
    """
    from planner.city.partition import SLACK_M
    from planner.load.osm import ATTRIBUTION, read_osm_tables

    ways, features = read_osm_tables(path, clip=streets, margin_m=margin_m + SLACK_M)
    layers = dict(zip(OSM_TABLES, (ways, features), strict=True))
    meta = {"name": path.name.split(".")[0], "attribution": ATTRIBUTION}
    files = {k: f"{path} ({k})" for k in ("boundary", "buildings", "compounds", "gates",
             "roads", "barriers", "landuse", "pois", "stations", "communities")}  # fmt: skip
    return CityInput(
        str(path), layers, streets, meta, streets_file, node_at="endpoints", files=files
    )


def read_streets(path: str | Path) -> gpd.GeoDataFrame:
    """The street-boundary layer of ``path`` in WGS84, checked (codes unique, polygons).

    Raises
    ------
    InputError
        Naming the file, the feature (``street_code`` or row number) and the field.
    """
    problems = ProblemLog()
    file = str(path)
    gdf = read_layer_file(Path(path), layer="streets", problems=problems)
    problems.raise_if_errors()
    if gdf is None or gdf.empty:
        raise InputError(Problem("the streets file holds no streets", fix=STREETS_FIX, file=file))
    return check_streets(gdf, file)


def check_streets(gdf: gpd.GeoDataFrame, file: str) -> gpd.GeoDataFrame:
    """The streets of ``gdf`` (WGS84) checked and reduced to :data:`STREET_COLUMNS` and
    the polygon; ``file`` is what messages name (the streets file, or the city folder
    whose street folders' boundaries made the layer).

    Raises
    ------
    InputError
        Naming the file, the feature (``street_code`` or row number) and the field.
    """
    problems = ProblemLog()
    missing = [c for c in STREET_COLUMNS if c not in gdf.columns]
    for col in missing:
        problems.add(
            f"the streets file has no field {col!r}", file=file, field=col, fix=STREETS_FIX
        )
    problems.raise_if_errors()
    codes = gdf["street_code"].astype("string").fillna("").str.strip()
    for i, code in enumerate(codes):
        feature = code or f"row {i + 1}"
        if not code:
            problems.add("street_code is empty", file=file, feature_id=feature, field="street_code",
                         fix="give every street its code")  # fmt: skip
        elif (codes == code).sum() > 1:
            problems.add(f"street_code {code} is given twice", file=file, feature_id=feature,
                         field="street_code", fix="give every street its own code")  # fmt: skip
        county = str(gdf["county_code"].iloc[i])
        if not (county.isdigit() and len(county) == 6):
            problems.add(f"county_code {county!r} is not 6 digits", file=file, feature_id=feature,
                         field="county_code", fix="give the GB/T 2260 county code, e.g. 610113")  # fmt: skip
        if gdf.geometry.iloc[i] is None or gdf.geom_type.iloc[i] not in ("Polygon", "MultiPolygon"):
            problems.add("the street is not a polygon", file=file, feature_id=feature,
                         field="geometry", fix="draw each street as a polygon")  # fmt: skip
    problems.raise_if_errors()
    out = gdf.assign(street_code=codes, county_code=gdf["county_code"].astype(str))
    out["name"] = out["name"].astype(str)
    return out[[*STREET_COLUMNS, "geometry"]].reset_index(drop=True)
