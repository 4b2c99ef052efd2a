"""One street's share of the city-wide layers: the street polygon and everything within its margin.

:func:`street_part` is the only code that decides what a street task sees, used by a
city run (:mod:`planner.city.run`, once per street, handed to the Dask workers) and by a
single-street load of ``demo-city:N/K`` (:mod:`planner.load.sources`), so both load
the same street from the same layers and give the same answers.

A street's share is every feature of every city-wide layer that intersects the street
buffered by ``margin_m`` (+ :data:`SLACK_M`), with the street's own polygon as its
``boundary``; :func:`planner.load.assemble.assemble` then keeps what a single-street
load keeps (buildings in the street, roads and stations in the margin: walks cross
street borders and a neighbour's stations serve across).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.crs import WGS84, utm_crs_for
from planner.network.build import NodeAt
from planner.organisation.registers import RegisterTables

__all__ = ["SLACK_M", "StreetPart", "layer_trees", "street_part"]

#: Metres added to the margin when cutting a street's share (the share must hold every
#: feature the load keeps; the load itself applies the exact margin).
SLACK_M = 50.0


@dataclass
class StreetPart:
    """What one street task loads: WGS84 layers, the street's metadata, file names.

    Attributes
    ----------
    code
        The street code (3 digits for the synthetic city; any text from a streets file).
    files
        Layer -> the file it came from (messages name it); empty: the source.
    layers
        Layer name -> GeoDataFrame in WGS84 (the street's polygon as ``boundary``).
    meta
        ``street.json``-like metadata: ``name``, ``code_county``, ``code_street``,
        ``synthetic``, ``attribution``.
    source
        What messages name as the source (``demo-city:4/2``, the city folder and code).
    """

    code: str
    layers: dict[str, gpd.GeoDataFrame]
    meta: dict[str, Any]
    source: str
    files: dict[str, str] = field(default_factory=dict)
    #: How the walking network is noded (``endpoints`` for an OSM extract's ways).
    node_at: NodeAt = "intersections"
    #: The street's rows of a city-wide household register
    #: (:func:`planner.city.registers.split_register`), None without one.
    register: pd.DataFrame | None = None
    #: The street's rows of the city-wide organisation registers, None without them.
    org_registers: RegisterTables | None = None


def _wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf.to_crs(WGS84) if gdf.crs is not None and not gdf.crs.equals(WGS84) else gdf


def layer_trees(layers: dict[str, gpd.GeoDataFrame]) -> dict[str, shapely.STRtree]:
    """A spatial index (``STRtree``) of every layer's geometries in WGS84, for
    :func:`street_part` (a city's shares are then cut in time ~ their size, not the
    city's)."""
    return {
        name: shapely.STRtree(_wgs84(gdf).geometry.to_numpy())
        for name, gdf in layers.items()
        if name != "boundary"
    }


def street_part(
    layers: dict[str, gpd.GeoDataFrame],
    street: gpd.GeoDataFrame,
    *,
    margin_m: float,
    meta: dict[str, Any],
    source: str,
    trees: dict[str, shapely.STRtree] | None = None,
) -> StreetPart:
    """Cut one street's share out of city-wide layers.

    Parameters
    ----------
    layers
        City-wide layers (any CRS; the share is returned in WGS84 degrees).
    street
        One row of the street-boundary layer: ``street_code``, ``county_code``,
        ``name`` and the polygon.
    margin_m
        The load's margin (``Settings.margin_m``), metres.
    meta
        The city's metadata (``synthetic``, ``attribution``), merged into the street's.
    source
        The source named in messages.
    trees
        Layer name -> a spatial index of that layer's WGS84 geometries
        (:func:`layer_trees`), built once per city: each street then queries it instead
        of testing every feature of the city. Without it every feature is tested.
    """
    row = street.to_crs(WGS84)
    polygon = shapely.union_all(row.geometry.to_numpy())
    c = polygon.centroid
    utm = utm_crs_for(c.x, c.y)
    local = gpd.GeoSeries([polygon], crs=WGS84).to_crs(utm).iloc[0]
    reach = gpd.GeoSeries([local.buffer(margin_m + SLACK_M)], crs=utm).to_crs(WGS84).iloc[0]
    shapely.prepare(reach)
    out: dict[str, gpd.GeoDataFrame] = {}
    for name, gdf in layers.items():
        if name == "boundary":
            continue
        g = _wgs84(gdf)
        if trees is not None and name in trees:
            keep = np.sort(trees[name].query(reach, predicate="intersects"))
            out[name] = g.iloc[keep].reset_index(drop=True)
        else:
            mask = shapely.intersects(reach, g.geometry.to_numpy())
            out[name] = g.loc[mask].reset_index(drop=True)
    first = row.iloc[0]
    code = str(first["street_code"])
    out["boundary"] = gpd.GeoDataFrame(
        {"name": [str(first["name"])]}, geometry=[polygon], crs=WGS84
    )
    street_meta = {
        "name": str(first["name"]),
        "synthetic": bool(meta.get("synthetic", False)),
        "code_county": str(first["county_code"]),
        "code_street": code,
        "points_crs": "wgs84",
    }
    if meta.get("attribution"):
        street_meta["attribution"] = str(meta["attribution"])
    return StreetPart(code=code, layers=out, meta=street_meta, source=source)
