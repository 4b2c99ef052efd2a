"""The walking network as compact arrays: walking times, snapping, connected pieces.

A :class:`WalkNetwork` holds the street's ``nodes``/``edges`` layers as numpy arrays
(edge end points, lengths in metres, walking times in minutes, edge geometries) and
a symmetric CSR matrix of walking times for :mod:`scipy.sparse.csgraph`. Points
(stations, buildings) are snapped by projection onto the nearest *walkable* edge,
not onto the nearest node: the partial edge length counts.

Gated compounds: a building inside a gated compound that has internal paths snaps
only onto that compound's internal paths, so it reaches the outside only through
the compound's gates (internal paths meet the public network only at gates). Every
other point (buildings outside gated compounds, stations) snaps onto public edges.

All geometry is in the street's projected CRS (metres).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from planner.errors import InputError
from planner.settings import Settings
from planner.street import Street

log = logging.getLogger(__name__)

#: Smallest walking time of an edge, minutes (csgraph drops zero weights).
MIN_EDGE_TIME_MIN = 1e-9

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
ObjArray = NDArray[np.object_]


@dataclass(frozen=True)
class WalkNetwork:
    """The walking network as arrays (projected CRS, metres and minutes).

    Attributes
    ----------
    n_nodes
        Number of nodes; node ids are ``0..n_nodes-1`` (row position in ``nodes``).
    u, v
        End node ids of each edge.
    length_m
        Edge length, metres.
    time_min
        Walking time of each edge, minutes (``length_m / speed_m_per_min``).
    compound_id
        Compound of an internal path, ``''`` for public edges.
    geometry
        Edge LineStrings (projected CRS), running from ``u`` to ``v``.
    node_xy
        Node coordinates, metres, shape ``(n_nodes, 2)``.
    speed_m_per_min
        Walking speed used for ``time_min``, metres per minute.
    component
        Connected piece label of each node (0 = the piece with the most nodes).
    csr
        Symmetric ``n_nodes x n_nodes`` CSR matrix of edge times (minutes); parallel
        edges keep the shortest, self-loops are dropped.
    """

    n_nodes: int
    u: IntArray
    v: IntArray
    length_m: FloatArray
    time_min: FloatArray
    compound_id: ObjArray
    geometry: ObjArray
    node_xy: FloatArray
    speed_m_per_min: float
    component: IntArray
    csr: sparse.csr_matrix
    crs: CRS | None = None

    @property
    def n_edges(self) -> int:
        return len(self.u)


def symmetric_csr(n: int, a: IntArray, b: IntArray, weight: FloatArray) -> sparse.csr_matrix:
    """Symmetric CSR matrix from undirected edges, keeping the lightest parallel edge.

    Weights are floored at :data:`MIN_EDGE_TIME_MIN` so zero-length links stay links.
    """
    keep = a != b
    rows = np.concatenate([a[keep], b[keep]])
    cols = np.concatenate([b[keep], a[keep]])
    w = np.maximum(np.concatenate([weight[keep], weight[keep]]), MIN_EDGE_TIME_MIN)
    if len(rows):
        order = np.lexsort((w, cols, rows))
        rows, cols, w = rows[order], cols[order], w[order]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        rows, cols, w = rows[first], cols[first], w[first]
    mat = sparse.csr_matrix((w, (rows, cols)), shape=(n, n))
    mat.sort_indices()
    return mat


def from_layers(
    nodes: gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame,
    *,
    settings: Settings | None = None,
    file: str = "edges",
) -> WalkNetwork:
    """Build a :class:`WalkNetwork` from the ``nodes`` and ``edges`` layers.

    Parameters
    ----------
    nodes, edges
        Layers with the columns of :mod:`planner.schema` in a projected CRS
        (metres); ``node_id`` is the row position; ``u``/``v`` refer to it.
    settings
        ``walk_speed_kmh`` gives the walking time of each edge.
    file
        Name used in error messages.

    Raises
    ------
    InputError
        The network is empty, the CRS is geographic, or edges name unknown nodes
        (all bad edges are listed together).
    """
    settings = settings or Settings()
    _check_layers(nodes, edges)
    n = len(nodes)
    u = edges["u"].to_numpy(dtype="int64")
    v = edges["v"].to_numpy(dtype="int64")
    node_xy = shapely.get_coordinates(nodes.geometry.to_numpy())[:, :2]
    geoms = _edge_lines(edges, node_xy, u, v)
    length = pd.to_numeric(edges["length_m"], errors="coerce").to_numpy(dtype="float64")
    fix_len = ~np.isfinite(length) | (length < 0)
    if fix_len.any():
        length = length.copy()
        length[fix_len] = shapely.length(geoms[fix_len])
    speed = settings.walk_m_per_min
    time = length / speed
    csr = symmetric_csr(n, u, v, time)
    _ncomp, labels = connected_components(csr, directed=False)
    labels = _relabel_by_size(labels)
    comp = edges["compound_id"] if "compound_id" in edges else pd.Series("", index=edges.index)
    compound = comp.fillna("").astype(str).to_numpy(dtype=object)
    log.info("walking network: %d nodes, %d edges, %d pieces", n, len(u), labels.max() + 1)
    return WalkNetwork(
        n_nodes=n,
        u=u,
        v=v,
        length_m=length,
        time_min=time,
        compound_id=compound,
        geometry=geoms,
        node_xy=node_xy,
        speed_m_per_min=speed,
        component=labels,
        csr=csr,
        crs=nodes.crs,
    )


def _check_layers(nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame) -> None:
    """Refuse an empty network, a geographic CRS and edges naming unknown nodes."""
    if len(nodes) == 0 or len(edges) == 0:
        raise InputError(
            "the walking network is empty (no nodes or no edges)",
            fix="give a roads layer with walkable lines inside and around the street",
        )
    if nodes.crs is not None and nodes.crs.is_geographic:
        raise InputError(
            f"the walking network is in a geographic CRS ({nodes.crs.to_string()}), "
            "lengths would be in degrees",
            fix="project the street to its UTM zone first (the loaders do this)",
        )
    n = len(nodes)
    u = edges["u"].to_numpy(dtype="int64")
    v = edges["v"].to_numpy(dtype="int64")
    bad = (u < 0) | (u >= n) | (v < 0) | (v >= n)
    if bad.any():
        ids = ", ".join(str(i) for i in edges.index[bad][:20])
        raise InputError(
            f"{int(bad.sum())} edges refer to node ids outside 0 to {n - 1} (edges {ids})",
            fix="node_id must be the row position of the nodes layer",
        )


def _edge_lines(edges: gpd.GeoDataFrame, node_xy: FloatArray, u: IntArray, v: IntArray) -> ObjArray:
    """The edges' lines, a straight line between the end nodes where one is missing."""
    geoms: ObjArray = np.asarray(edges.geometry.to_numpy(), dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        geoms = geoms.copy()
        geoms[missing] = shapely.linestrings(
            np.stack([node_xy[u[missing]], node_xy[v[missing]]], axis=1)
        )
    return geoms


def from_street(street: Street, *, settings: Settings | None = None) -> WalkNetwork:
    """:func:`from_layers` on ``street.nodes`` and ``street.edges``."""
    return from_layers(street.nodes, street.edges, settings=settings)


def _relabel_by_size(labels: IntArray) -> IntArray:
    """Relabel components so 0 is the largest, 1 the next, and so on."""
    sizes = np.bincount(labels)
    order = np.argsort(-sizes, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[labels].astype("int64")


@dataclass(frozen=True)
class Snap:
    """Points snapped onto network edges.

    Attributes
    ----------
    edge
        Edge index of each point, ``-1`` when the point is farther than
        ``max_m`` from every edge it may use.
    offset_m
        Distance along the edge from its ``u`` end to the access point, metres
        (in the units of ``length_m``).
    to_v_m
        Remaining length from the access point to ``v``, metres.
    snap_m
        Straight distance from the point to its access point, metres (NaN when
        nothing is in reach).
    access
        Access points on the edges (shapely Points; None when not snapped).
    """

    edge: IntArray
    offset_m: FloatArray
    to_v_m: FloatArray
    snap_m: FloatArray
    access: ObjArray

    @property
    def ok(self) -> NDArray[np.bool_]:
        return self.edge >= 0

    def __len__(self) -> int:
        return len(self.edge)


def snap_points(
    net: WalkNetwork,
    points: gpd.GeoSeries | ObjArray,
    *,
    compound_id: pd.Series | Sequence[str] | None = None,
    gated_compounds: Iterable[str] = (),
    max_m: float = 300.0,
    main_slack_m: float = 0.0,
) -> Snap:
    """Snap points onto the nearest walkable edge by projection.

    Parameters
    ----------
    net
        The walking network.
    points
        Shapely points (array or GeoSeries), projected CRS, metres.
    compound_id
        Compound of each point (``''`` if none); ``None`` snaps all onto public edges.
    gated_compounds
        Ids of gated compounds. A point in a gated compound that has internal
        edges snaps only onto those; every other point snaps only onto edges that
        are not internal paths of a gated compound.
    max_m
        Points farther than this from every allowed edge are not snapped
        (``edge == -1``), metres.
    main_slack_m
        A point whose nearest allowed edge lies off the network's main piece
        (``component`` 0) snaps to the nearest allowed edge on the main piece
        instead when that is at most this much farther, metres (0: never).

    Returns
    -------
    Snap
    """
    pts = np.asarray(
        points.to_numpy() if isinstance(points, gpd.GeoSeries) else points, dtype=object
    )
    n = len(pts)
    gated = {str(c) for c in gated_compounds}
    edge_group = np.where(np.isin(net.compound_id, list(gated)), net.compound_id, "")
    if compound_id is None:
        pt_comp = np.full(n, "", dtype=object)
    else:
        pt_comp = np.asarray(pd.Series(compound_id).fillna("").astype(str), dtype=object)
    has_internal = set(edge_group[edge_group != ""].tolist())
    point_group = np.where(np.isin(pt_comp, list(has_internal)), pt_comp, "")
    edge = np.full(n, -1, dtype="int64")
    dist = np.full(n, np.nan)
    valid = ~(shapely.is_missing(pts) | shapely.is_empty(pts)) if n else np.zeros(0, bool)
    # One STRtree per group: the public edges, and each gated compound's paths
    # (a loop over compounds, never over points or edges).
    for group in pd.unique(point_group[valid]):
        eidx = np.flatnonzero(edge_group == group)
        pidx = np.flatnonzero((point_group == group) & valid)
        if len(eidx) and len(pidx):
            _nearest_edges(net, pts, pidx, eidx, main_slack_m, edge, dist)
    edge[(edge >= 0) & (dist > max_m)] = -1
    return _project(net, pts, edge, dist)


def _nearest_edges(
    net: WalkNetwork,
    pts: ObjArray,
    pidx: IntArray,
    eidx: IntArray,
    main_slack_m: float,
    edge: IntArray,
    dist: FloatArray,
) -> None:
    """Write into ``edge`` and ``dist`` the nearest of edges ``eidx`` to points
    ``pidx``, preferring the main piece of the network within ``main_slack_m``."""
    tree = shapely.STRtree(net.geometry[eidx])
    (qi, ti), d = tree.query_nearest(pts[pidx], return_distance=True, all_matches=False)
    edge[pidx[qi]] = eidx[ti]
    dist[pidx[qi]] = d
    main = eidx[net.component[net.u[eidx]] == 0]
    off = pidx[qi][net.component[net.u[eidx[ti]]] != 0]
    if main_slack_m > 0 and len(off) and len(main):
        (oi, mi), dm = shapely.STRtree(net.geometry[main]).query_nearest(
            pts[off], return_distance=True, all_matches=False
        )
        near = dm <= dist[off[oi]] + main_slack_m
        edge[off[oi][near]] = main[mi[near]]
        dist[off[oi][near]] = dm[near]


def _project(net: WalkNetwork, pts: ObjArray, edge: IntArray, dist: FloatArray) -> Snap:
    """The :class:`Snap` of points onto their chosen edges (``-1``: none)."""
    n = len(pts)
    ok = edge >= 0
    offset = np.full(n, np.nan)
    to_v = np.full(n, np.nan)
    access = np.full(n, None, dtype=object)
    if ok.any():
        lines = net.geometry[edge[ok]]
        frac = shapely.line_locate_point(lines, pts[ok], normalized=True)
        frac = np.nan_to_num(frac, nan=0.0)
        access[ok] = shapely.line_interpolate_point(lines, frac, normalized=True)
        length = net.length_m[edge[ok]]
        offset[ok] = frac * length
        to_v[ok] = length - offset[ok]
    return Snap(edge=edge, offset_m=offset, to_v_m=to_v, snap_m=dist, access=access)


def gated_compound_ids(compounds: gpd.GeoDataFrame) -> list[str]:
    """Ids of the compounds marked ``gated``."""
    if len(compounds) == 0 or "gated" not in compounds:
        return []
    ids = compounds.loc[compounds["gated"].astype(bool), "compound_id"].astype(str)
    return [str(c) for c in ids]


def snap_buildings(
    net: WalkNetwork,
    buildings: gpd.GeoDataFrame,
    compounds: gpd.GeoDataFrame,
    settings: Settings,
) -> Snap:
    """Snap buildings (their centroids) as the coverage figures do: a building of a
    gated compound with internal paths onto those paths, the others onto the other
    links, the main network preferred within ``settings.snap_main_slack_m``, none
    farther than ``settings.snap_max_m``. Projected CRS, metres."""
    return snap_points(
        net,
        buildings.geometry.centroid,
        compound_id=buildings.get("compound_id"),
        gated_compounds=gated_compound_ids(compounds),
        max_m=settings.snap_max_m,
        main_slack_m=settings.snap_main_slack_m,
    )


def point_components(net: WalkNetwork, snap: Snap) -> IntArray:
    """Connected piece of each snapped point (``-1`` if not snapped)."""
    out = np.full(len(snap), -1, dtype="int64")
    ok = snap.ok
    out[ok] = net.component[net.u[snap.edge[ok]]]
    return out


def components_table(
    net: WalkNetwork,
    *,
    building_component: IntArray,
    households: ArrayLike,
    station_component: IntArray,
) -> pd.DataFrame:
    """One row per connected piece of the network with what lies on it.

    Columns: ``component``, ``nodes``, ``edges``, ``length_km``, ``buildings``,
    ``households``, ``stations`` and ``households_stranded`` (households on a piece
    with no service station while another piece has one: no station can reach them,
    whatever the walk time; with no station at all, none are counted stranded).
    """
    ncomp = int(net.component.max()) + 1
    nodes = np.bincount(net.component, minlength=ncomp)
    ecomp = net.component[net.u]
    edges = np.bincount(ecomp, minlength=ncomp)
    length = np.bincount(ecomp, weights=net.length_m, minlength=ncomp) / 1000.0
    hh = np.asarray(households, dtype="float64")
    okb = building_component >= 0
    bcount = np.bincount(building_component[okb], minlength=ncomp)
    bhh = np.bincount(building_component[okb], weights=hh[okb], minlength=ncomp)
    oks = station_component >= 0
    scount = np.bincount(station_component[oks], minlength=ncomp)
    return pd.DataFrame(
        {
            "component": np.arange(ncomp),
            "nodes": nodes,
            "edges": edges,
            "length_km": length.round(3),
            "buildings": bcount,
            "households": bhh.round().astype("int64"),
            "stations": scount,
            "households_stranded": np.where((scount == 0) & (scount.sum() > 0), bhh, 0)
            .round()
            .astype("int64"),
        }
    )
