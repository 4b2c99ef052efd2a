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
* :func:`station_reach`: a bounded Dijkstra from each station separately (compiled
  kernel, :mod:`planner.network._reach_kernel`), returned as a sparse table (what each
  service circle is built from).

Times are minutes; lengths metres.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from planner._threads import workers
from planner.network.walk import Snap, WalkNetwork, symmetric_csr

log = logging.getLogger(__name__)

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

#: Per-station reach for at most this many (stations x routing nodes) is one scipy
#: call (a dense matrix of that many floats, about a millisecond): loading the
#: compiled kernel costs 0.2-0.5 s once per process, which small jobs (a street's own
#: stations) should not pay.
REACH_DENSE_MAX = 250_000

#: Per-station reach is split over threads only with at least this many stations
#: per thread (below it starting the threads costs more than it saves).
REACH_MIN_STATIONS_PER_THREAD = 100

#: Tolerance when comparing a walking time with a limit, minutes (as the coverage figures).
TIME_EPS_MIN = 1e-9

#: Reach rows (station, network node) :func:`station_point_minutes` holds at once: a
#: chunk of ``POINT_MINUTES_ROWS // (nodes + 1)`` stations is timed to the points
#: at a time (about 1,130 on the demo street).
POINT_MINUTES_ROWS = 1_000_000


@dataclass(frozen=True)
class RoutingGraph:
    """The walking network with stations inserted as nodes.

    Attributes
    ----------
    net
        The underlying :class:`~planner.network.walk.WalkNetwork`.
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
    station_edge, station_offset_m
        Network edge each station stands on and its offset from the edge's ``u`` end,
        metres (``-1`` and ``nan`` for stations not on the network).
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
    station_edge: IntArray
    station_offset_m: FloatArray
    csr: sparse.csr_matrix
    _key: FloatArray
    _order: IntArray
    _width: float
    node_xy: FloatArray | None = None

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
        The stations snapped onto public edges (:func:`planner.network.walk.snap_points`).
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
    station_edge = np.full(n_st, -1, dtype="int64")
    station_edge[ok] = e
    station_offset = np.full(n_st, np.nan)
    station_offset[ok] = off

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
        station_edge=station_edge,
        station_offset_m=station_offset,
        csr=csr,
        _key=key[korder],
        _order=korder.astype("int64"),
        _width=width,
        node_xy=node_xy,
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
    (at most ``limit_min``). Rows are grouped by station; stations close together
    may come one after another rather than in index order.
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
) -> Reach:
    """Bounded per-station Dijkstra for many stations, as a sparse table.

    Each station is searched on its own by the compiled kernel
    :func:`planner.network._reach_kernel.bounded_reach` (4-ary heap, distance array reset
    through the nodes it touched), so a station costs in proportion to what it
    reaches within ``limit_min``, not to the size of the network, and memory is
    proportional to the reached pairs. With many stations the work is split over
    the machine's cores (the kernel releases the GIL). Small jobs (at most
    :data:`REACH_DENSE_MAX` stations x nodes) run as one scipy call instead, which
    saves loading the kernel; both give the same table (up to the order of the
    rows).

    The routing graph holds every station as a node, so each station's table also
    lists the other stations it reaches; :func:`network_reach` leaves them out.

    Parameters
    ----------
    rg
        The routing graph.
    limit_min
        Largest time of interest (the largest threshold), minutes; ``inf`` for
        everything each station's piece of the network connects it to.
    stations
        Station indices (default: every station on the network); stations not on
        the network are left out.
    """
    idx = _on_network(rg, stations)
    if len(idx) == 0:
        return _no_reach(limit_min)
    src = rg.station_node[idx]
    if len(idx) * rg.n_nodes <= REACH_DENSE_MAX:
        dist = dijkstra(rg.csr, directed=True, indices=src, limit=limit_min).ravel()
        flat = np.flatnonzero(np.isfinite(dist))  # scipy leaves inf beyond the limit
        rows, cols = np.divmod(flat, rg.n_nodes)
        return Reach(station=idx[rows], node=cols, time_min=dist[flat], limit_min=limit_min)
    seeds = _Seeds(np.arange(len(src) + 1, dtype="int64"), src, np.zeros(len(src)))
    xy = None if rg.node_xy is None else rg.node_xy[src]
    pos, node, time = _search(rg.csr, seeds, limit_min, xy, rg.speed_m_per_min)
    return Reach(station=idx[pos], node=node, time_min=time, limit_min=limit_min)


def network_reach(
    rg: RoutingGraph,
    *,
    limit_min: float,
    stations: IntArray | None = None,
) -> Reach:
    """Per-station reach over the network's own nodes, each station alone on it.

    Unlike :func:`station_reach`, the other stations are no nodes here: station
    ``i`` on edge ``e`` at ``x`` metres from its ``u`` end starts from ``u`` and
    ``v``, ``x / speed`` and ``(length - x) / speed`` minutes away, and the table
    lists network nodes only (ids below ``rg.net.n_nodes``, the same ids in the
    routing graph). So what a station reaches does not depend on where the other
    stations stand, and a station costs what it reaches of the network: with
    thousands of stations the routing graph is mostly station nodes, and
    :func:`station_reach` would list stations x stations rows.

    Same search as :func:`station_reach` (compiled kernel, threads; one scipy call
    for small jobs), same parameters; times are minutes.
    """
    idx = _on_network(rg, stations)
    if len(idx) == 0:
        return _no_reach(limit_min)
    net = rg.net
    e = rg.station_edge[idx]
    x = rg.station_offset_m[idx]
    speed = rg.speed_m_per_min
    ends = np.stack([net.u[e], net.v[e]], axis=1)
    t0 = np.stack([x / speed, (net.length_m[e] - x) / speed], axis=1)
    if 2 * len(idx) * net.n_nodes <= REACH_DENSE_MAX:
        pos, node, time = _dense_seeded(net.csr, ends, t0, limit_min)
    else:
        seeds = _Seeds(np.arange(0, 2 * len(idx) + 1, 2, dtype="int64"), ends.ravel(), t0.ravel())
        pos, node, time = _search(net.csr, seeds, limit_min, net.node_xy[ends[:, 0]], speed)
    return Reach(station=idx[pos], node=node, time_min=time, limit_min=limit_min)


def station_point_minutes(rg: RoutingGraph, points: Snap, *, limit_min: float) -> sparse.csr_matrix:
    """Sparse walking minutes from every station of ``rg`` to snapped points (buildings).

    One bounded search per station, each station alone on the network
    (:func:`network_reach`, compiled kernel), a chunk of stations at a time
    (:data:`POINT_MINUTES_ROWS`); a point's time from a station is the better of its
    edge's two ends plus the stretch to it, or, from a station on the same edge, the
    stretch between them: the same minutes as timing it from its piece of the routing
    graph, as :func:`point_times` does, without the station x station rows that graph
    would list (memory grows with stations x (network nodes + points reached)).

    Parameters
    ----------
    rg
        The routing graph (its stations are the rows).
    points
        Points snapped onto ``rg.net`` (:func:`planner.network.walk.snap_points`); those
        not on the network get empty columns.
    limit_min
        Only pairs within this walking time are stored, minutes.

    Returns
    -------
    scipy.sparse.csr_matrix
        ``(stations, points)`` minutes, explicit zeros kept (a point at a station).
    """
    n_st, n_p = len(rg.station_node), len(points)
    ok = np.flatnonzero(points.ok)
    on = _on_network(rg, None)
    if ok.size == 0 or on.size == 0:
        return sparse.csr_matrix((n_st, n_p))
    # each station alone on the network (network_reach), a chunk of stations at a time:
    # on the routing graph every other station is a node too, and a chunk of
    # many stations would list stations x stations rows (20,000 stations: ~10 GB)
    size = max(1, POINT_MINUTES_ROWS // (rg.net.n_nodes + 1))
    parts = [
        _chunk_point_minutes(rg, points, ok, on[lo : lo + size], limit_min)
        for lo in range(0, on.size, size)
    ]
    r, c, v = (np.concatenate([p[k] for p in parts]) for k in range(3))
    return _with_pattern(r, ok[c], v, (n_st, n_p))


def _chunk_point_minutes(
    rg: RoutingGraph, points: Snap, ok: IntArray, stations: IntArray, limit_min: float
) -> tuple[IntArray, IntArray, FloatArray]:
    """:func:`station_point_minutes` of ``stations`` (on the network) to the points
    ``ok`` (on it): ``(station, position in ok, minutes)``, each pair once, within
    ``limit_min``. A point is reached through either end of its edge (times from
    :func:`network_reach`) or, from a station on the same edge, along it."""
    net, speed = rg.net, rg.speed_m_per_min
    reach = network_reach(rg, limit_min=limit_min, stations=stations)
    t_csc = _with_pattern(
        reach.station, reach.node, reach.time_min, (len(rg.station_node), net.n_nodes)
    ).tocsc()
    e, x = points.edge[ok], points.offset_m[ok]
    rows, cols, vals = [], [], []
    for ends, off in ((net.u[e], x / speed), (net.v[e], (net.length_m[e] - x) / speed)):
        sub = t_csc[:, ends].tocoo()  # (stations, ok points); keeps explicit zeros
        rows.append(sub.row.astype(np.int64))
        cols.append(sub.col.astype(np.int64))
        vals.append(sub.data + off[sub.col])
    # stations on a point's own edge walk along it
    st_e = rg.station_edge[stations]
    order = np.argsort(st_e, kind="stable")
    lo = np.searchsorted(st_e[order], e, side="left")
    hi = np.searchsorted(st_e[order], e, side="right")
    count = hi - lo
    k = np.repeat(np.arange(len(e)), count)
    within = np.arange(len(k)) - np.repeat(np.cumsum(count) - count, count)
    j = order[np.repeat(lo, count) + within]
    rows.append(stations[j])
    cols.append(k)
    vals.append(np.abs(rg.station_offset_m[stations[j]] - x[k]) / speed)
    r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    keep = v <= limit_min + TIME_EPS_MIN
    r, c, v = r[keep], c[keep], np.minimum(v[keep], limit_min)
    order = np.lexsort((v, c, r))
    r, c, v = r[order], c[order], v[order]
    first = np.ones(r.size, bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    return r[first], c[first], v[first]


def _with_pattern(
    rows: IntArray, cols: IntArray, vals: FloatArray, shape: tuple[int, int]
) -> sparse.csr_matrix:
    """CSR from triplets (no duplicates) keeping explicit zeros."""
    order = np.lexsort((cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=shape[0]), out=indptr[1:])
    return sparse.csr_matrix((vals.astype(np.float64), cols.astype(np.int64), indptr), shape=shape)


def _on_network(rg: RoutingGraph, stations: IntArray | None) -> IntArray:
    """The given station indices (default all) that stand on the network."""
    if stations is None:
        return np.flatnonzero(rg.station_node >= 0)
    idx: IntArray = np.asarray(stations, dtype="int64")
    return idx[rg.station_node[idx] >= 0]


def _no_reach(limit_min: float) -> Reach:
    empty_i = np.zeros(0, dtype="int64")
    return Reach(empty_i, empty_i, np.zeros(0), limit_min)


@dataclass(frozen=True)
class _Seeds:
    """Where each search starts: source ``i`` from nodes ``node[ptr[i]:ptr[i + 1]]``,
    ``time_min`` minutes away."""

    ptr: IntArray
    node: IntArray
    time_min: FloatArray

    def __len__(self) -> int:
        return len(self.ptr) - 1

    def take(self, order: IntArray) -> _Seeds:
        """The sources in ``order`` (their seeds kept together)."""
        count = np.diff(self.ptr)[order]
        ptr = np.zeros(len(order) + 1, dtype="int64")
        np.cumsum(count, out=ptr[1:])
        start = np.repeat(self.ptr[order], count)
        k = np.arange(int(ptr[-1])) - np.repeat(ptr[:-1], count)
        return _Seeds(ptr, self.node[start + k], self.time_min[start + k])

    def part(self, lo: int, hi: int) -> _Seeds:
        """Sources ``lo..hi-1``."""
        a, b = int(self.ptr[lo]), int(self.ptr[hi])
        return _Seeds(self.ptr[lo : hi + 1] - a, self.node[a:b], self.time_min[a:b])


def _dense_seeded(
    csr: sparse.csr_matrix, ends: IntArray, t0: FloatArray, limit_min: float
) -> tuple[IntArray, IntArray, FloatArray]:
    """:func:`network_reach`'s table for a small job: one scipy call from every edge
    end involved, then per source the better of its two ends."""
    n = csr.shape[0]
    nodes, inv = np.unique(ends.ravel(), return_inverse=True)
    dist = dijkstra(csr, directed=True, indices=nodes, limit=limit_min)
    inv = inv.reshape(ends.shape)
    best = np.minimum(dist[inv[:, 0]] + t0[:, :1], dist[inv[:, 1]] + t0[:, 1:])
    flat = np.flatnonzero(best.ravel() <= limit_min)
    rows, cols = np.divmod(flat, n)
    return rows, cols, best.ravel()[flat]


def _search(
    csr: sparse.csr_matrix,
    seeds: _Seeds,
    limit_min: float,
    xy: FloatArray | None,
    speed_m_per_min: float,
) -> tuple[IntArray, IntArray, FloatArray]:
    """The compiled searches from ``seeds``, nearby sources one after another, split
    over threads; returns ``(source, node, time)`` rows (source = seed position)."""
    from planner.network._reach_kernel import seeded_reach

    order = np.arange(len(seeds), dtype="int64")
    if xy is not None:
        # nearby stations one after another: each search then finds much of the
        # network arrays it needs still in the CPU cache (~14% faster on 100k nodes)
        cell = limit_min * speed_m_per_min if np.isfinite(limit_min) else 1000.0
        key = np.floor((xy - xy.min(axis=0)) / max(cell, 1.0))
        order = np.lexsort((key[:, 0], key[:, 1])).astype("int64")
        seeds = seeds.take(order)

    def run(part: _Seeds) -> tuple[IntArray, IntArray, FloatArray]:
        return seeded_reach(
            csr.indptr, csr.indices, csr.data, part.ptr, part.node, part.time_min, limit_min
        )

    threads = min(workers(), len(seeds) // REACH_MIN_STATIONS_PER_THREAD)
    if threads <= 1:
        pos, node, time = run(seeds)
        return order[pos], node, time
    bounds = np.linspace(0, len(seeds), threads + 1).astype("int64")
    with ThreadPoolExecutor(max_workers=threads) as pool:
        parts = list(
            pool.map(
                lambda lo, hi: run(seeds.part(lo, hi)), bounds[:-1].tolist(), bounds[1:].tolist()
            )
        )
    pos = np.concatenate([p[0] + lo for p, lo in zip(parts, bounds[:-1], strict=True)])
    node = np.concatenate([p[1] for p in parts])
    time = np.concatenate([p[2] for p in parts])
    return order[pos], node, time
