"""Shape of grids: how much of their boundary follows real features, and compactness.

Two figures the policy asks of a grid ("clearly bounded ... easy to manage"):

- **boundary on features**: the share of a grid's *internal* boundary (the parts not
  on the street's own outline) that lies within :data:`FEATURE_TOLERANCE_M` of a
  feature a person sees on the ground: a road or path centre line, a compound wall
  (compound outline), a land-use outline (a campus or hospital wall), a river bank
  or railway (barriers) or a community line. Lines drawn between buildings are not
  features.
- **Polsby-Popper compactness** ``4 pi A / P^2`` (1 = circle, a 1:10 strip about
  0.26, a 1:40 strip about 0.08). A grid below ``Settings.grid_min_compactness`` is
  listed; it is *forced* when it is a single atom (or a single unit that cannot be
  split: one compound, one dedicated area), so no other grouping of the atoms can
  make it more compact.

All geometry is in the street's projected CRS (metres); the grids layer is
reprojected to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from planner.street import Street

#: A grid boundary within this distance of a feature line lies on it, m (a road is
#: drawn as its centre line while a grid edge may follow a wall beside it).
FEATURE_TOLERANCE_M = 3.0

#: Internal boundaries are judged in pieces of at most this length, m.
_PIECE_M = 3.0

#: Feature lines are indexed in segments of at most this length, m.
_TREE_PIECE_M = 25.0


@dataclass(frozen=True)
class FeatureShare:
    """Internal grid boundary on features, for the street and for each grid.

    Attributes
    ----------
    internal_m
        Length of internal boundary (shared between grids, each stretch once: half the
        sum of the grids' own internal boundaries), m.
    on_feature_m
        The part of it within :data:`FEATURE_TOLERANCE_M` of a feature, m.
    per_grid
        Share (0-1) of each grid's own internal boundary on features, in the order of
        the grids given (NaN for a grid with no internal boundary).
    """

    internal_m: float
    on_feature_m: float
    per_grid: NDArray[np.float64]

    @property
    def share(self) -> float:
        """Share of the street's internal grid boundary on features (1.0 when none)."""
        return self.on_feature_m / self.internal_m if self.internal_m > 0 else 1.0


def polsby_popper(geoms: NDArray[np.object_] | gpd.GeoSeries) -> NDArray[np.float64]:
    """Polsby-Popper compactness ``4 pi A / P^2`` of each polygon (projected CRS).

    Examples
    --------
    >>> from shapely import box
    >>> import numpy as np
    >>> polsby_popper(np.array([box(0, 0, 10, 10), box(0, 0, 100, 1)])).round(3).tolist()
    [0.785, 0.031]
    """
    arr = np.asarray(geoms.values if isinstance(geoms, gpd.GeoSeries) else geoms, dtype=object)
    area = shapely.area(arr)
    perim = shapely.length(arr)
    return np.asarray(4 * np.pi * area / np.maximum(perim, 1e-9) ** 2, dtype=np.float64)


def feature_lines(street: Street) -> NDArray[np.object_]:
    """Every line a grid boundary may follow, as an array of lines (street CRS): roads
    and paths (any class), compound, land-use and community outlines, barriers (river
    outlines, railways)."""
    parts: list[NDArray[np.object_]] = []
    if len(street.roads):
        parts.append(np.asarray(street.roads.geometry.values, dtype=object))
    for layer in (street.compounds, street.landuse, street.communities, street.barriers):
        if len(layer):
            g = np.asarray(layer.geometry.values, dtype=object)
            area = np.isin(shapely.get_type_id(g), [3, 6])
            parts.append(np.where(area, shapely.boundary(shapely.make_valid(g)), g))
    if not parts:
        return np.zeros(0, dtype=object)
    allg = shapely.get_parts(np.concatenate(parts))
    return np.asarray(allg[~shapely.is_missing(allg) & ~shapely.is_empty(allg)], dtype=object)


def polygonal(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Each geometry's polygonal part: a collection (a polygon and the line fragments a
    repair left) becomes its polygons; polygons pass unchanged; nothing gives an empty
    polygon."""
    geoms = np.asarray(geoms, dtype=object).copy()
    other = ~np.isin(shapely.get_type_id(geoms), [3, 6])
    if other.any():
        parts, idx = shapely.get_parts(geoms[other], return_index=True)
        poly = np.isin(shapely.get_type_id(parts), [3, 6])
        rebuilt = np.full(int(other.sum()), shapely.Polygon(), dtype=object)
        for k in np.unique(idx[poly]):  # few such geometries
            rebuilt[k] = shapely.union_all(parts[poly & (idx == k)])
        geoms[other] = rebuilt
    return geoms


def internal_boundaries(geoms: NDArray[np.object_], outline: BaseGeometry) -> NDArray[np.object_]:
    """Each polygon's boundary less the street outline (within 0.5 m of it): its
    internal boundary, shared with its neighbours (each shared stretch appears in the
    two polygons beside it)."""
    bnd = shapely.boundary(polygonal(np.asarray(geoms, dtype=object)))
    edge = shapely.buffer(shapely.boundary(outline), 0.5)
    return np.asarray(shapely.difference(bnd, edge), dtype=object)


def _short(lines: NDArray[np.object_]) -> NDArray[np.object_]:
    """The lines as segments of at most :data:`_TREE_PIECE_M` (small boxes: a tree
    of long roads answers distance queries slowly)."""
    parts = shapely.get_parts(shapely.segmentize(np.asarray(lines, dtype=object), _TREE_PIECE_M))
    xy, idx = shapely.get_coordinates(parts, return_index=True)
    same = idx[:-1] == idx[1:]
    if not same.any():
        return np.zeros(0, dtype=object)
    return np.asarray(
        shapely.linestrings(np.stack([xy[:-1][same], xy[1:][same]], axis=1)), dtype=object
    )


def feature_tree(street: Street, *, features: NDArray[np.object_] | None = None) -> shapely.STRtree:
    """A search tree of the feature lines (default :func:`feature_lines` of the street)
    in short segments, for :func:`on_feature_length`."""
    return shapely.STRtree(_short(feature_lines(street) if features is None else features))


def on_feature_length(
    lines: NDArray[np.object_], tree: shapely.STRtree
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Length of each line, and of its part within :data:`FEATURE_TOLERANCE_M` of a
    feature of ``tree``: the lines are cut into pieces of at most
    :data:`_PIECE_M`, a piece counting when its middle lies that close to a feature."""
    lines = np.asarray(lines, dtype=object)
    total = np.asarray(shapely.length(lines), dtype=np.float64)
    on = np.zeros(len(lines))
    parts, owner = shapely.get_parts(shapely.segmentize(lines, _PIECE_M), return_index=True)
    if len(parts) == 0:
        return total, on
    xy, ring = shapely.get_coordinates(parts, return_index=True)
    same = ring[:-1] == ring[1:]
    a, b = xy[:-1][same], xy[1:][same]
    seg_owner = owner[ring[:-1][same]]
    length = np.hypot(*(b - a).T)
    mid = shapely.points((a + b) / 2)
    hit = np.zeros(len(mid), dtype=bool)
    if len(tree.geometries):
        i, _ = tree.query(mid, predicate="dwithin", distance=FEATURE_TOLERANCE_M)
        hit[i] = True
    np.add.at(on, seg_owner[hit], length[hit])
    return total, on


def feature_share(
    grids: gpd.GeoDataFrame, street: Street, *, features: NDArray[np.object_] | None = None
) -> FeatureShare:
    """Share of internal grid boundary lying on features (roads, walls, water, lines).

    Parameters
    ----------
    grids
        Grid polygons in any CRS (reprojected to ``street.crs``).
    street
        The street (its roads, compounds, land use, communities, barriers, outline).
    features
        The feature lines (default :func:`feature_lines` of the street).

    Returns
    -------
    FeatureShare
    """
    geoms = np.asarray(grids.to_crs(street.crs).geometry.values, dtype=object)
    tree = feature_tree(street, features=features)
    own_len, own_on = on_feature_length(internal_boundaries(geoms, street.boundary_geom), tree)
    per = np.where(own_len > 0, own_on / np.maximum(own_len, 1e-9), np.nan)
    # in a coverage every internal stretch borders two grids: the street's figures are half
    # the sums over the grids
    return FeatureShare(
        internal_m=float(own_len.sum()) / 2,
        on_feature_m=float(own_on.sum()) / 2,
        per_grid=per.astype(np.float64),
    )


def low_compactness(
    grids: gpd.GeoDataFrame,
    *,
    minimum: float,
    forced: NDArray[np.bool_] | None = None,
) -> pd.DataFrame:
    """Grids below the compactness ``minimum``: position, Polsby-Popper, forced or not.

    ``forced`` marks grids made of one indivisible piece (one atom or unit), whose
    shape no grouping can change.
    """
    pp = polsby_popper(grids.geometry)
    low = np.flatnonzero(pp < minimum)
    f = np.zeros(len(grids), dtype=bool) if forced is None else np.asarray(forced, dtype=bool)
    return pd.DataFrame({"pos": low, "compactness": pp[low], "forced": f[low]})
