"""The fixed columns of every layer of a :class:`~planner.street.Street`, with units.

This module is the one place where layer columns are defined. Loaders build layers
with :func:`conform`, which adds missing optional columns with their defaults and
casts types, so every later step can rely on the columns below being present.

All geometry columns are in the street's projected metric CRS (local UTM zone)
while inside the planner; WGS84 (EPSG:4326) only at the edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str  # "str", "int", "float", "bool"
    unit: str
    description: str
    default: Any = None


def _c(name: str, dtype: str, unit: str, description: str, default: Any = None) -> Column:
    return Column(name, dtype, unit, description, default)


#: Layer name -> (geometry type, columns). Geometry types are what the layer holds.
LAYERS: dict[str, tuple[str, tuple[Column, ...]]] = {
    "boundary": (
        "Polygon",
        (
            _c("street_id", "str", "", "street id"),
            _c("name", "str", "", "street name (Chinese)", ""),
            _c("area_m2", "float", "m²", "area of the street"),
        ),
    ),
    "communities": (
        "Polygon",
        (
            _c("community_id", "str", "", "community id, unique"),
            _c("name", "str", "", "community name (Chinese)", ""),
            _c("code", "str", "", "3-digit community code used in grid codes", ""),
            _c("area_m2", "float", "m²", "area"),
        ),
    ),
    "compounds": (
        "Polygon",
        (
            _c("compound_id", "str", "", "compound (小区) id, unique"),
            _c("name", "str", "", "compound name (Chinese)", ""),
            _c("community_id", "str", "", "community holding most of the compound", ""),
            _c("gated", "bool", "", "walled compound entered only through its gates", True),
            _c("area_m2", "float", "m²", "area"),
        ),
    ),
    "buildings": (
        "Polygon",
        (
            _c("building_id", "str", "", "building id, unique"),
            _c("name", "str", "", "name or address, e.g. 3号楼", ""),
            _c("kind", "str", "", "residential, school, shop, office, public, other", "other"),
            _c("compound_id", "str", "", "compound holding the building ('' if none)", ""),
            _c("community_id", "str", "", "community holding the building", ""),
            _c("floors", "int", "storeys", "number of storeys above ground", 0),
            _c("footprint_m2", "float", "m²", "footprint area"),
            _c("households", "int", "households", "households living in the building", 0),
            _c("population", "float", "residents", "residents (households x 2.62 if unknown)", 0.0),
            _c("households_estimated", "bool", "", "households estimated, not registered", False),
        ),
    ),
    "gates": (
        "Point",
        (
            _c("gate_id", "str", "", "gate id"),
            _c("compound_id", "str", "", "compound the gate opens"),
            _c("node_id", "int", "", "network node at the gate (-1 if not on the network)", -1),
        ),
    ),
    "roads": (
        "LineString",
        (
            _c("road_id", "str", "", "road id"),
            _c("name", "str", "", "road name", ""),
            _c("highway", "str", "", "OSM highway class (primary, residential, footway, ...)"),
            _c("bridge", "bool", "", "bridge segment", False),
        ),
    ),
    "barriers": (
        "Geometry",
        (
            _c("barrier_id", "str", "", "barrier id"),
            _c("kind", "str", "", "river or railway"),
            _c("name", "str", "", "name", ""),
        ),
    ),
    "landuse": (
        "Polygon",
        (
            _c("landuse_id", "str", "", "land-use id"),
            _c("kind", "str", "", "park, school, campus, commercial, industrial, ..."),
            _c("name", "str", "", "name", ""),
        ),
    ),
    "nodes": (
        "Point",
        (
            _c("node_id", "int", "", "node id = row position 0..n-1"),
            _c("compound_id", "str", "", "compound the node is inside ('' if outside)", ""),
            _c("is_gate", "bool", "", "the node is a compound gate", False),
            _c("in_street", "bool", "", "node inside the street boundary", True),
        ),
    ),
    "edges": (
        "LineString",
        (
            _c("u", "int", "", "from node id"),
            _c("v", "int", "", "to node id"),
            _c("length_m", "float", "m", "length"),
            _c("highway", "str", "", "OSM highway class", "footway"),
            _c("name", "str", "", "road name", ""),
            _c("compound_id", "str", "", "compound of an internal path ('' if public)", ""),
        ),
    ),
    "stations": (
        "Point",
        (
            _c("station_id", "str", "", "station id, unique"),
            _c("name", "str", "", "station name (Chinese)", ""),
            _c("kind", "str", "", "station kind (see STATION_KINDS)", "community_station"),
            _c("floor_area_m2", "float", "m²", "floor area (NaN if unknown)", np.nan),
            _c("opening_hours", "str", "", "opening hours, e.g. 09:00-17:00", ""),
            _c("address", "str", "", "address", ""),
            _c("in_street", "bool", "", "inside the street (False: in the margin)", True),
        ),
    ),
    "pois": (
        "Point",
        (
            _c("poi_id", "str", "", "POI id"),
            _c("name", "str", "", "name", ""),
            _c("kind", "str", "", "OSM amenity/shop/office value"),
            _c("in_street", "bool", "", "inside the street", True),
        ),
    ),
}

#: Station kinds: key -> (Chinese label, English label).
STATION_KINDS: dict[str, tuple[str, str]] = {
    "street_centre": ("街道党群服务中心", "Street party-mass service centre"),
    "community_station": ("社区党群服务站", "Community party-mass service station"),
    "grid_station": ("网格党群服务站", "Grid party-mass service station"),
    "red_property": ("红色物业", "Red property management"),
    "red_office": ("红色楼宇", "Red office building"),
    "neighbourhood_centre": ("邻里中心", "Neighbourhood centre"),
    "convenience_point": ("便民服务点", "Convenience service point"),
}

#: Chinese and common English aliases accepted in a stations file's ``kind`` column.
STATION_KIND_ALIASES: dict[str, str] = {
    **{zh: key for key, (zh, _en) in STATION_KINDS.items()},
    **{en.lower(): key for key, (_zh, en) in STATION_KINDS.items()},
    "街道党群服务中心": "street_centre",
    "党群服务中心": "street_centre",
    "社区党群服务站": "community_station",
    "党群服务站": "community_station",
    "社区服务站": "community_station",
    "网格党群服务站": "grid_station",
    "网格站": "grid_station",
    "红色物业": "red_property",
    "红色楼宇": "red_office",
    "邻里中心": "neighbourhood_centre",
    "便民服务点": "convenience_point",
    "便民点": "convenience_point",
}

BUILDING_KINDS: tuple[str, ...] = ("residential", "school", "shop", "office", "public", "other")


def columns(layer: str) -> tuple[Column, ...]:
    """The columns of ``layer`` (without geometry)."""
    return LAYERS[layer][1]


def column_names(layer: str) -> list[str]:
    return [c.name for c in columns(layer)]


def _cast(series: pd.Series, dtype: str, default: Any) -> pd.Series:
    if dtype == "str":
        out = series.astype(object).where(series.notna(), default if default is not None else "")
        return out.astype(str)
    if dtype == "int":
        fill = 0 if default is None else default
        return pd.to_numeric(series, errors="coerce").fillna(fill).round().astype("int64")
    if dtype == "float":
        return pd.to_numeric(series, errors="coerce").astype("float64")
    if dtype == "bool":
        fill = False if default is None else default
        return series.astype(object).where(series.notna(), fill).astype(bool)
    raise ValueError(dtype)


def conform(layer: str, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``gdf`` with exactly the schema columns of ``layer`` (plus geometry), typed.

    Missing columns get their default; ``area_m2``/``footprint_m2``/``length_m`` are
    computed from geometry when missing (the CRS must be projected). Extra columns
    are kept after the schema columns. The input is not modified.
    """
    out = gdf.copy()
    n = len(out)
    for col in columns(layer):
        if col.name not in out.columns:
            if col.name in ("area_m2", "footprint_m2"):
                out[col.name] = out.geometry.area if n else pd.Series(dtype="float64")
            elif col.name == "length_m":
                out[col.name] = out.geometry.length if n else pd.Series(dtype="float64")
            else:
                out[col.name] = pd.Series([col.default] * n, index=out.index, dtype=object)
        out[col.name] = _cast(out[col.name], col.dtype, col.default)
    names = column_names(layer)
    extra = [c for c in out.columns if c not in names and c != out.geometry.name]
    ordered = out[[*names, *extra, out.geometry.name]]
    return gpd.GeoDataFrame(ordered, geometry=out.geometry.name, crs=gdf.crs)


def empty(layer: str, crs: Any) -> gpd.GeoDataFrame:
    """An empty layer with the schema columns."""
    gdf = gpd.GeoDataFrame(
        {c.name: pd.Series(dtype=object) for c in columns(layer)},
        geometry=gpd.GeoSeries([], crs=crs),
        crs=crs,
    )
    return conform(layer, gdf)
