"""Shortest walking times from stations, on compact arrays with compiled Dijkstra.

Stations sit part-way along edges. :func:`with_stations` splits each edge holding
stations at the stations' access points, so every station becomes a node of a
*routing graph* whose links ("pieces") keep a reference to the edge they come from
and the stretch of it they cover (``start_m``..``end_m`` from the edge's ``u``
end). Times at nodes are then exact, and the time to any point on a piece is
``min(t[a] + (x - start) / speed, t[b] + (end - x) / speed)``, so the partial
edge length counts on both the station and the building side.

* :func:`nearest_times`: one multi-source Dijkstra (``min_only=True``) gives, for
  every node, the time to the nearest station and which station it is;
* :func:`point_times`: the same for snapped points (buildings);
* :func:`station_reach`: per-station bounded Dijkstra for all stations at once,
  in chunks, returned as a sparse table (what each service circle is built from).

Times are minutes; lengths metres.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from planner.network import Snap, WalkNetwork, symmetric_csr

log = logging.getLogger(__name__)

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

#: Networks with at least this many nodes search per-station reach on sub-networks.
PRUNE_MIN_NODES = 20_000

#: ... and at least this many (stations x nodes): below it one plain call is cheaper.
PRUNE_MIN_WORK = 5_000_000

#: Stations are grouped by square cells this many search radii wide.
CELL_RADII = 4.0


@dataclass(frozen=True)
class RoutingGraph:
    """The walking network with stations inserted as nodes.

    Attributes
    ----------
    net
        The underlying :class:`~planner.network.WalkNetwork`.
    n_nodes
        Network nodes plus one node per snapped station.
    a, b
        End nodes of each piece.
    edge
        Network edge each piece lies on.
    start_m, end_m
        Stretch of ``edge`` the piece covers, metres from the edge's ``u`` end;
        ``a`` is at ``start_m`` and ``b`` at ``end_m``.
    time_min
        Walking time of each piece, minutes.
    station_node
        Routing node of each station (``-1`` for stations not on the network).
    node_station
        Station of each routing node (``-1`` for network nodes).
    csr
        Symmetric CSR matrix of piece times.
    """

    net: WalkNetwork
    n_nodes: int
    a: IntArray
    b: IntArray
    edge: IntArray
    start_m: FloatArray
    end_m: FloatArray
    time_min: FloatArray
    station_node: IntArray
    node_station: IntArray
    csr: sparse.csr_matrix
    _key: FloatArray
    _order: IntArray
    _width: float
    node_xy: FloatArray | None = None
    detour_factor: float = np.inf

    @property
    def speed_m_per_min(self) -> float:
        return self.net.speed_m_per_min

    @property
    def source_nodes(self) -> IntArray:
        """Routing nodes of the stations on the network."""
        return self.station_node[self.station_node >= 0]

    def locate(self, edge: IntArray, offset_m: FloatArray) -> IntArray:
        """Piece holding each point given by network edge and offset (metres)."""
        key = edge.astype("float64") * self._width + offset_m
        pos = np.searchsorted(self._key, key, side="right") - 1
        return self._order[np.clip(pos, 0, len(self._order) - 1)]

    def nodes_by_x(self) -> IntArray:
        """Node ids sorted by x coordinate (computed once, cached)."""
        cache = self.__dict__.get("_by_x_cache")
        if cache is None:
            assert self.node_xy is not None
            cache = np.argsort(self.node_xy[:, 0], kind="stable")
            object.__setattr__(self, "_by_x_cache", cache)
        return np.asarray(cache, dtype="int64")

    def incidence(self) -> tuple[IntArray, IntArray, NDArray[np.bool_]]:
        """Pieces at each node as CSR arrays ``(ptr, piece, at_a)``."""
        ends = np.concatenate([self.a, self.b])
        piece = np.concatenate([np.arange(len(self.a)), np.arange(len(self.b))])
        at_a = np.concatenate([np.ones(len(self.a), bool), np.zeros(len(self.b), bool)])
        order = np.argsort(ends, kind="stable")
        ptr = np.zeros(self.n_nodes + 1, dtype="int64")
        np.cumsum(np.bincount(ends, minlength=self.n_nodes), out=ptr[1:])
        return ptr, piece[order].astype("int64"), at_a[order]


def with_stations(net: WalkNetwork, snap: Snap) -> RoutingGraph:
    """Split the network's edges at the stations' access points.

    Parameters
    ----------
    net
        The walking network.
    snap
        The stations snapped onto public edges (:func:`planner.network.snap_points`).
        Stations not on the network (``edge == -1``) get no node.
    """
    n = net.n_nodes
    n_st = len(snap)
    ok = np.flatnonzero(snap.ok)
    e = snap.edge[ok]
    off = np.clip(snap.offset_m[ok], 0.0, net.length_m[e])
    order = np.lexsort((off, e))
    ok, e, off = ok[order], e[order], off[order]
    k = len(ok)
    snode = n + np.arange(k, dtype="int64")
    station_node = np.full(n_st, -1, dtype="int64")
    station_node[ok] = snode
    node_station = np.full(n + k, -1, dtype="int64")
    node_station[snode] = ok

    split = np.zeros(net.n_edges, dtype=bool)
    split[e] = True
    whole = np.flatnonzero(~split)
    first = np.ones(k, dtype=bool)
    first[1:] = e[1:] != e[:-1]
    last = np.ones(k, dtype=bool)
    last[:-1] = e[:-1] != e[1:]
    prev_node = np.where(first, net.u[e], np.roll(snode, 1))
    prev_off = np.where(first, 0.0, np.roll(off, 1))
    a = np.concatenate([net.u[whole], prev_node, snode[last]])
    b = np.concatenate([net.v[whole], snode, net.v[e[last]]])
    edge = np.concatenate([whole, e, e[last]])
    start = np.concatenate([np.zeros(len(whole)), prev_off, off[last]])
    end = np.concatenate([net.length_m[whole], off, net.length_m[e[last]]])
    time = (end - start) / net.speed_m_per_min
    csr = symmetric_csr(n + k, a, b, time)
    access_xy = shapely.get_coordinates(snap.access[ok])[:, :2] if k else np.zeros((0, 2))
    node_xy = np.concatenate([net.node_xy, access_xy])
    # Straight distance between a piece's ends over its walking length: with it, a
    # walk of d metres never leaves the disc of radius factor x d (exact pruning).
    chord = np.hypot(*(node_xy[a] - node_xy[b]).T)
    plen = end - start
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(chord <= 1e-9, 1.0, chord / plen)
    factor = float(np.nanmax(ratio, initial=1.0)) if len(ratio) else 1.0
    width = float(net.length_m.max(initial=0.0)) * 2.0 + 1.0
    key = edge.astype("float64") * width + start
    korder = np.argsort(key, kind="stable")
    return RoutingGraph(
        net=net,
        n_nodes=n + k,
        a=a,
        b=b,
        edge=edge,
        start_m=start,
        end_m=end,
        time_min=time,
        station_node=station_node,
        node_station=node_station,
        csr=csr,
        _key=key[korder],
        _order=korder.astype("int64"),
        _width=width,
        node_xy=node_xy,
        detour_factor=max(1.0, factor) * (1 + 1e-9),
    )


@dataclass(frozen=True)
class NodeTimes:
    """Time to the nearest station for every routing node.

    ``time_min`` is ``inf`` where no station is reachable (within the limit);
    ``station`` is the station index (row of the stations layer), ``-1`` there. It
    is derived from ``source_node`` (the routing node of the nearest station, as
    scipy returns it, negative where none) on first access.
    """

    time_min: FloatArray
    source_node: IntArray
    node_station: IntArray

    @cached_property
    def station(self) -> IntArray:
        src = self.source_node
        out = self.node_station[np.maximum(src, 0)]
        out[src < 0] = -1
        return np.asarray(out, dtype="int64")


def nearest_times(
    rg: RoutingGraph, *, limit_min: float = np.inf, stations: IntArray | None = None
) -> NodeTimes:
    """One multi-source Dijkstra from every station (or the given station indices).

    Parameters
    ----------
    rg
        The routing graph.
    limit_min
        Stop searching beyond this time, minutes (``inf``: the whole network).
    stations
        Station indices to use as sources (default: every station on the network).
    """
    if stations is None:
        sources = rg.source_nodes
    else:
        st = rg.station_node[np.asarray(stations, dtype="int64")]
        sources = st[st >= 0]
    if len(sources) == 0:
        return NodeTimes(
            time_min=np.full(rg.n_nodes, np.inf),
            source_node=np.full(rg.n_nodes, -1, "int64"),
            node_station=rg.node_station,
        )
    dist, _pred, src = dijkstra(
        rg.csr,
        directed=True,
        indices=sources,
        min_only=True,
        limit=limit_min,
        return_predecessors=True,
    )
    return NodeTimes(
        time_min=np.asarray(dist, dtype="float64"),
        source_node=np.asarray(src),
        node_station=rg.node_station,
    )


def point_times(rg: RoutingGraph, times: NodeTimes, snap: Snap) -> tuple[FloatArray, IntArray]:
    """Time to the nearest station and its index for snapped points (buildings).

    Points not on the network get ``inf`` and ``-1``.
    """
    n = len(snap)
    t_out = np.full(n, np.inf)
    s_out = np.full(n, -1, dtype="int64")
    ok = np.flatnonzero(snap.ok)
    if len(ok) == 0:
        return t_out, s_out
    p = rg.locate(snap.edge[ok], snap.offset_m[ok])
    x = np.clip(snap.offset_m[ok], rg.start_m[p], rg.end_m[p])
    speed = rg.speed_m_per_min
    ta = times.time_min[rg.a[p]] + (x - rg.start_m[p]) / speed
    tb = times.time_min[rg.b[p]] + (rg.end_m[p] - x) / speed
    use_b = tb < ta
    t_out[ok] = np.where(use_b, tb, ta)
    s_out[ok] = np.where(use_b, times.station[rg.b[p]], times.station[rg.a[p]])
    s_out[~np.isfinite(t_out)] = -1
    return t_out, s_out


@dataclass(frozen=True)
class Reach:
    """Per-station walking times as a sparse table (one row per reached node).

    ``station[i]`` reaches routing node ``node[i]`` in ``time_min[i]`` minutes
    (at most ``limit_min``). Rows are grouped by station (stations close together
    come one after another, not in index order).
    """

    station: IntArray
    node: IntArray
    time_min: FloatArray
    limit_min: float


def station_reach(
    rg: RoutingGraph,
    *,
    limit_min: float,
    stations: IntArray | None = None,
    chunk: int = 64,
) -> Reach:
    """Bounded per-station Dijkstra for many stations at once.

    Runs :func:`scipy.sparse.csgraph.dijkstra` on ``chunk`` stations per call
    (bounding memory at ``chunk x n_nodes`` floats) and keeps only reached nodes.

    Parameters
    ----------
    rg
        The routing graph.
    limit_min
        Largest time of interest (the largest threshold), minutes.
    stations
        Station indices (default: every station on the network).
    chunk
        Stations per Dijkstra call.
    """
    if stations is None:
        idx = np.flatnonzero(rg.station_node >= 0)
    else:
        idx = np.asarray(stations, dtype="int64")
        idx = idx[rg.station_node[idx] >= 0]
    st_parts: list[IntArray] = []
    node_parts: list[IntArray] = []
    time_parts: list[FloatArray] = []
    for part, sub_nodes in _chunks(rg, idx, limit_min=limit_min, chunk=chunk):
        if sub_nodes is None:
            dist = dijkstra(rg.csr, directed=True, indices=rg.station_node[part], limit=limit_min)
            dist = np.atleast_2d(dist)
            rows, cols = np.nonzero(dist <= limit_min)
            node_parts.append(cols.astype("int64"))
        else:
            sub = _submatrix(rg.csr, sub_nodes)
            local = np.searchsorted(sub_nodes, rg.station_node[part])
            dist = np.atleast_2d(dijkstra(sub, directed=True, indices=local, limit=limit_min))
            rows, cols = np.nonzero(dist <= limit_min)
            node_parts.append(sub_nodes[cols])
        st_parts.append(part[rows])
        time_parts.append(dist[rows, cols])
    if not st_parts:
        empty_i = np.zeros(0, dtype="int64")
        return Reach(empty_i, empty_i, np.zeros(0), limit_min)
    return Reach(
        station=np.concatenate(st_parts),
        node=np.concatenate(node_parts),
        time_min=np.concatenate(time_parts),
        limit_min=limit_min,
    )


def _chunks(
    rg: RoutingGraph, idx: IntArray, *, limit_min: float, chunk: int
) -> list[tuple[IntArray, IntArray | None]]:
    """Stations in groups of at most ``chunk``, each with the nodes it can reach.

    A walk of ``limit_min`` minutes stays within ``limit_min x speed x detour_factor``
    metres (straight line) of its station, so stations close together are searched on
    the sub-network inside their bounding box grown by that radius: the search then
    costs in proportion to the area a circle covers, not to the whole network.
    ``None`` means the whole network (small networks, or no usable bound).
    """
    radius = limit_min * rg.speed_m_per_min * rg.detour_factor
    xy = rg.node_xy
    small = rg.n_nodes < PRUNE_MIN_NODES or len(idx) * rg.n_nodes < PRUNE_MIN_WORK
    if xy is None or not np.isfinite(radius) or small or len(idx) == 0:
        return [(idx[lo : lo + chunk], None) for lo in range(0, len(idx), chunk)]
    sxy = xy[rg.station_node[idx]]
    by_x = rg.nodes_by_x()
    xs = xy[by_x, 0]
    cell = CELL_RADII * radius
    key = np.floor((sxy - sxy.min(axis=0)) / cell).astype("int64")
    order = np.lexsort((key[:, 0], key[:, 1]))
    k = key[order]
    new_group = np.ones(len(order), dtype=bool)
    new_group[1:] = (k[1:] != k[:-1]).any(axis=1)
    starts = np.flatnonzero(new_group)
    ends = np.append(starts[1:], len(order))
    out: list[tuple[IntArray, IntArray | None]] = []
    for g0, g1 in zip(starts, ends, strict=True):
        for lo in range(g0, g1, chunk):
            sel = order[lo : min(lo + chunk, g1)]
            lo_xy = sxy[sel].min(axis=0) - radius
            hi_xy = sxy[sel].max(axis=0) + radius
            i0 = np.searchsorted(xs, lo_xy[0], side="left")
            cand = by_x[i0 : np.searchsorted(xs, hi_xy[0], side="right")]
            y = xy[cand, 1]
            sub_nodes = np.sort(cand[(y >= lo_xy[1]) & (y <= hi_xy[1])])
            if len(sub_nodes) > rg.n_nodes // 2:
                out.append((idx[sel], None))
            else:
                out.append((idx[sel], sub_nodes))
    return out


def _submatrix(csr: sparse.csr_matrix, nodes: IntArray) -> sparse.csr_matrix:
    """Rows and columns ``nodes`` (sorted) of a CSR matrix, with numpy only."""
    local = np.full(csr.shape[0], -1, dtype="int64")
    local[nodes] = np.arange(len(nodes))
    starts = csr.indptr[nodes]
    lens = csr.indptr[nodes + 1] - starts
    total = int(lens.sum())
    row = np.repeat(np.arange(len(nodes)), lens)
    pos = np.repeat(starts, lens) + (np.arange(total) - np.repeat(np.cumsum(lens) - lens, lens))
    col = local[csr.indices[pos]]
    keep = col >= 0
    indptr = np.zeros(len(nodes) + 1, dtype="int64")
    np.cumsum(np.bincount(row[keep], minlength=len(nodes)), out=indptr[1:])
    return sparse.csr_matrix(
        (csr.data[pos[keep]], col[keep], indptr), shape=(len(nodes), len(nodes))
    )
