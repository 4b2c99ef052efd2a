"""Candidate sites for new stations: user lists, suitable POIs, generated network points.

Three sources, combined by :func:`street_candidates`:

* a user list: points (vacant shops, community rooms, property offices), or the
  buildings of the street flagged ``available`` (their representative point);
* the street's POIs of suitable kinds (:data:`SUITABLE_POI_KINDS`);
* points generated along the public walking network inside the street, near the
  households no station covers yet, thinned to ``candidate_spacing_m``.

Then the real-world constraints: candidates inside exclusion areas and candidates
closer than ``min_station_spacing_m`` to an existing station are removed
(:func:`filter_candidates`), and pairs of candidates closer than that spacing
become conflicts that may not both open (:func:`spacing_conflicts`).

All geometry is in the street's projected CRS (metres).
"""

from __future__ import annotations

import logging
from typing import TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS

from planner.siting.problem import IntArray

log = logging.getLogger(__name__)

#: POI kinds that can host a station (OSM-like values and the demo's kinds).
SUITABLE_POI_KINDS: tuple[str, ...] = (
    "vacant_shop",
    "community_room",
    "community_centre",
    "property_office",
    "social_facility",
    "townhall",
    "library",
    "office",
    "shop_vacant",
    "vacant",
)

#: A coordinate reference system as geopandas takes it (a pyproj CRS or "EPSG:...").
CRSLike: TypeAlias = CRS | str | None

#: Columns of a candidates layer.
CANDIDATE_COLUMNS: tuple[str, ...] = ("candidate_id", "name", "source", "kind")


def _frame(
    ids: ArrayLike | pd.Series,
    names: ArrayLike | pd.Series,
    source: str,
    kinds: ArrayLike | pd.Series,
    geoms: ArrayLike,
    crs: CRSLike,
) -> gpd.GeoDataFrame:
    """A candidates layer (:data:`CANDIDATE_COLUMNS`) of one source."""
    return gpd.GeoDataFrame(
        {
            "candidate_id": pd.Series(ids, dtype=object).astype(str).to_numpy(),
            "name": pd.Series(names, dtype=object).fillna("").astype(str).to_numpy(),
            "source": source,
            "kind": pd.Series(kinds, dtype=object).fillna("").astype(str).to_numpy(),
        },
        geometry=gpd.GeoSeries(np.asarray(geoms, dtype=object), crs=crs).to_numpy(),
        crs=crs,
    )


def empty_candidates(crs: CRSLike) -> gpd.GeoDataFrame:
    """A candidates layer with no rows."""
    return _frame([], [], "user", [], [], crs)


def user_candidates(points: gpd.GeoDataFrame, *, crs: CRSLike) -> gpd.GeoDataFrame:
    """Candidates from a user layer: points, or polygons (their representative point).

    Parameters
    ----------
    points
        Any CRS; reprojected to ``crs``. Optional columns ``candidate_id`` (or
        ``poi_id``/``id``), ``name``, ``kind``.
    crs
        The street's projected CRS.
    """
    gdf = points.to_crs(crs)
    geoms = gdf.geometry.to_numpy()
    poly = shapely.get_type_id(geoms) != 0
    geoms = np.where(poly, shapely.point_on_surface(geoms), geoms)
    id_col = next((c for c in ("candidate_id", "poi_id", "id") if c in gdf.columns), None)
    ids = gdf[id_col].astype(str) if id_col else [f"U{i + 1:03d}" for i in range(len(gdf))]
    names = gdf["name"] if "name" in gdf.columns else [""] * len(gdf)
    kinds = gdf["kind"] if "kind" in gdf.columns else ["user"] * len(gdf)
    return _frame(ids, names, "user", kinds, geoms, crs)


def available_buildings(buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Candidates at the buildings flagged ``available`` (truthy column), if any."""
    if "available" not in buildings.columns or len(buildings) == 0:
        return empty_candidates(buildings.crs)
    flag = buildings["available"].astype(str).str.strip().str.lower()
    on = flag.isin(["true", "1", "yes", "y", "是"]).to_numpy()
    b = buildings[on]
    return _frame(
        "B:" + b["building_id"].astype(str),
        b["name"] if "name" in b.columns else [""] * len(b),
        "building",
        ["building"] * len(b),
        shapely.point_on_surface(b.geometry.to_numpy()),
        buildings.crs,
    )


def poi_candidates(
    pois: gpd.GeoDataFrame, *, kinds: tuple[str, ...] = SUITABLE_POI_KINDS
) -> gpd.GeoDataFrame:
    """The street's POIs whose ``kind`` is one of ``kinds``."""
    if len(pois) == 0:
        return empty_candidates(pois.crs)
    p = pois[pois["kind"].astype(str).isin(kinds)]
    if "in_street" in p.columns:
        p = p[p["in_street"].astype(bool)]
    return _frame(p["poi_id"], p["name"], "poi", p["kind"], p.geometry.to_numpy(), pois.crs)


def network_candidates(
    edges: gpd.GeoDataFrame,
    *,
    boundary: shapely.Geometry,
    targets: NDArray[np.object_],
    reach_m: float,
    spacing_m: float,
) -> gpd.GeoDataFrame:
    """Points along the public walking network near uncovered households.

    Parameters
    ----------
    edges
        The street's ``edges`` layer (projected CRS). Internal paths of compounds
        (``compound_id`` set) are skipped: a station is reached from public streets.
    boundary
        The street boundary; candidates lie inside it.
    targets
        Points of the uncovered households' buildings.
    reach_m
        Keep points within this straight distance of a target (the walk of the
        threshold: a point farther away cannot reach it on foot), metres.
    spacing_m
        Points are laid along edges at this spacing, then thinned to one per
        ``spacing_m`` square cell (the one nearest the cell centre), metres.

    Returns
    -------
    geopandas.GeoDataFrame
        Candidates with ids ``N0001``..., source ``"network"``.
    """
    crs = edges.crs
    if len(edges) == 0 or len(targets) == 0:
        return empty_candidates(crs)
    public = edges
    if "compound_id" in edges.columns:
        public = edges[edges["compound_id"].fillna("").astype(str) == ""]
    lines = public.geometry.to_numpy()
    pts, which = _points_along(lines, spacing_m)
    # inside the street, near uncovered households
    keep = shapely.contains_xy(boundary, *shapely.get_coordinates(pts).T)
    if keep.any():
        hit, _ = shapely.STRtree(targets).query(pts[keep], predicate="dwithin", distance=reach_m)
        near = np.zeros(int(keep.sum()), bool)
        near[hit] = True
        keep[np.flatnonzero(keep)[~near]] = False
    pts, which = pts[keep], which[keep]
    if pts.size == 0:
        return empty_candidates(crs)
    kept = _one_per_cell(pts, spacing_m)
    pts = pts[kept]
    road = (
        public["name"].fillna("").astype(str).to_numpy()
        if "name" in public.columns
        else np.full(lines.size, "", dtype=object)
    )
    src_road = road[which[kept]]
    names = np.where(
        src_road != "", np.char.add(src_road.astype(str), "旁路网候选点"), "路网候选点"
    )
    ids = [f"N{i + 1:04d}" for i in range(pts.size)]
    log.info("generated %d network candidates (spacing %.0f m)", pts.size, spacing_m)
    return _frame(ids, names, "network", ["network"] * pts.size, pts, crs)


def _points_along(
    lines: NDArray[np.object_], spacing_m: float
) -> tuple[NDArray[np.object_], NDArray[np.int64]]:
    """Points every ``spacing_m`` along each line (at least one, centred in its
    stretch) and the line each lies on."""
    length = shapely.length(lines)
    n_pts = np.maximum(1, np.floor(length / spacing_m)).astype(np.int64)
    which = np.repeat(np.arange(lines.size), n_pts)
    first = np.repeat(np.cumsum(n_pts) - n_pts, n_pts)
    j = np.arange(which.size) - first
    frac = (j + 0.5) / n_pts[which]
    pts = np.asarray(
        shapely.line_interpolate_point(lines[which], frac, normalized=True), dtype=object
    )
    return pts, which.astype(np.int64)


def _one_per_cell(pts: NDArray[np.object_], spacing_m: float) -> NDArray[np.int64]:
    """Positions of the points kept, in order: one per ``spacing_m`` square cell,
    the one nearest the cell centre."""
    xy = shapely.get_coordinates(pts)
    cell = np.floor(xy / spacing_m).astype(np.int64)
    centre = (cell + 0.5) * spacing_m
    d = np.hypot(*(xy - centre).T)
    order = np.lexsort((d, cell[:, 1], cell[:, 0]))
    c = cell[order]
    keep = np.ones(order.size, bool)
    keep[1:] = np.any(c[1:] != c[:-1], axis=1)
    return np.sort(order[keep]).astype(np.int64)


def filter_candidates(
    candidates: gpd.GeoDataFrame,
    *,
    stations: gpd.GeoDataFrame,
    min_spacing_m: float,
    exclusion: shapely.Geometry | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Drop candidates inside exclusion areas or too close to an existing station.

    Parameters
    ----------
    candidates
        Candidate sites (projected CRS).
    stations
        Existing stations (fixed).
    min_spacing_m
        Minimum distance between stations, metres (0: no spacing rule).
    exclusion
        Union of exclusion polygons (projected CRS), or None.

    Returns
    -------
    kept, dropped
        The kept candidates (index reset) and a table of dropped ones
        (``candidate_id``, ``reason``).
    """
    geoms = candidates.geometry.to_numpy()
    reason = np.full(len(candidates), "", dtype=object)
    if exclusion is not None and not shapely.is_empty(exclusion):
        shapely.prepare(exclusion)
        inside = shapely.intersects(exclusion, geoms)
        reason[inside] = "inside an exclusion area"
    if min_spacing_m > 0 and len(stations) and len(candidates):
        tree = shapely.STRtree(stations.geometry.to_numpy())
        hit, _ = tree.query(geoms, predicate="dwithin", distance=min_spacing_m)
        close = np.zeros(len(candidates), bool)
        close[hit] = True
        reason[close & (reason == "")] = f"within {min_spacing_m:g} m of an existing station"
    drop = reason != ""
    dropped = pd.DataFrame(
        {
            "candidate_id": candidates["candidate_id"].to_numpy()[drop],
            "reason": reason[drop],
        }
    )
    kept = candidates[~drop].reset_index(drop=True)
    return kept, dropped


def spacing_conflicts(candidates: gpd.GeoDataFrame, *, min_spacing_m: float) -> IntArray:
    """Pairs ``(i, j)``, ``i < j``, of candidates closer than ``min_spacing_m`` metres."""
    if min_spacing_m <= 0 or len(candidates) < 2:
        return np.zeros((0, 2), np.int64)
    geoms = candidates.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="dwithin", distance=min_spacing_m)
    # dwithin is "<=": strictly closer pairs conflict, equal distance is allowed
    d = shapely.distance(geoms[a], geoms[b])
    keep = (a < b) & (d < min_spacing_m)
    return np.stack([a[keep], b[keep]], axis=1).astype(np.int64)


def combine(*layers: gpd.GeoDataFrame, crs: CRSLike) -> gpd.GeoDataFrame:
    """Concatenate candidate layers, making ids unique (suffix ``#2``... on repeats)."""
    parts = [lay for lay in layers if len(lay)]
    if not parts:
        return empty_candidates(crs)
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=crs)
    ids = out["candidate_id"].astype(str)
    dup = ids.groupby(ids).cumcount()
    out["candidate_id"] = np.where(dup > 0, ids + "#" + (dup + 1).astype(str), ids)
    return out
