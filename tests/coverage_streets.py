"""Hand-made streets for the coverage tests (projected CRS, metres)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from planner.street import Street, from_layers

CRS = "EPSG:32650"


def network_layers(
    xy: Sequence[tuple[float, float]],
    edges: Sequence[tuple[int, int]],
    *,
    edge_compound: Sequence[str] | None = None,
    bends: dict[int, list[tuple[float, float]]] | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Nodes and edges layers from coordinates and (u, v) pairs (straight lines
    unless ``bends`` gives interior vertices for an edge)."""
    xy_arr = np.asarray(xy, dtype=float)
    nodes = gpd.GeoDataFrame(
        {"node_id": np.arange(len(xy_arr))},
        geometry=shapely.points(xy_arr),
        crs=CRS,
    )
    bends = bends or {}
    lines = []
    for i, (u, v) in enumerate(edges):
        pts = [tuple(xy_arr[u]), *bends.get(i, []), tuple(xy_arr[v])]
        lines.append(shapely.LineString(pts))
    geoms = np.array(lines, dtype=object)
    e = gpd.GeoDataFrame(
        {
            "u": [u for u, _ in edges],
            "v": [v for _, v in edges],
            "length_m": shapely.length(geoms),
            "compound_id": list(edge_compound) if edge_compound is not None else "",
        },
        geometry=geoms,
        crs=CRS,
    )
    return nodes, e


def points(xy: Sequence[tuple[float, float]], **cols: Any) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=shapely.points(np.asarray(xy, float)), crs=CRS)


def squares(xy: Sequence[tuple[float, float]], size: float = 4.0, **cols: Any) -> gpd.GeoDataFrame:
    """Small square buildings centred on the given points."""
    geoms = [shapely.box(x - size / 2, y - size / 2, x + size / 2, y + size / 2) for x, y in xy]
    return gpd.GeoDataFrame(cols, geometry=geoms, crs=CRS)


def street(
    nodes: gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame,
    *,
    buildings: gpd.GeoDataFrame | None = None,
    stations: gpd.GeoDataFrame | None = None,
    compounds: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
) -> Street:
    layers = {"nodes": nodes, "edges": edges}
    for name, gdf in (
        ("buildings", buildings),
        ("stations", stations),
        ("compounds", compounds),
        ("communities", communities),
        ("boundary", boundary),
    ):
        if gdf is not None:
            layers[name] = gdf
    return from_layers(layers, crs=CRS, name="test")


def lattice_layers(
    nx: int, ny: int, spacing: float = 100.0
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A square lattice of ``nx`` x ``ny`` nodes."""
    ii, jj = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    xy = np.stack([ii.ravel() * spacing, jj.ravel() * spacing], axis=1)
    idx = np.arange(nx * ny).reshape(nx, ny)
    h = np.stack([idx[:-1, :].ravel(), idx[1:, :].ravel()], axis=1)
    v = np.stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()], axis=1)
    pairs = np.concatenate([h, v])
    return network_layers([tuple(p) for p in xy], [tuple(p) for p in pairs])
