"""What a walk reaches of the network, as tables a circle is drawn from.

A *group* is what one drawing is made for: one station (its own circle) or every
station at once (the union). For each group the walk's times at the two ends of
each *piece* of network it touches are an :class:`EndTimes` table; for one
threshold, :func:`walk_ends` tells how far the walk gets into each piece from
either end and how each frontier end is drawn, and :func:`pieces` turns that into
the reached stretches (:class:`Pieces`) the corridors are drawn around. Buildings
whose connector line may have to be drawn are matched to the piece holding their
access point (:func:`connector_reach`, :func:`needed_connectors`).

Two kinds of end-time table:

* :func:`routing_end_times`: pieces of the routing graph, stations being nodes
  (the union of every station's circle, from the multi-source times);
* :func:`station_end_times`: each station *alone* on the network: the network's
  edges plus the station's own edge split at the station. A station's circle then
  does not depend on where the other stations stand, and a table holds at most
  stations x (edges + 1) rows, not stations x (edges + stations).

Lengths are metres in ``length_m`` units (the network's walking lengths), times
minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from planner.network.routing import RoutingGraph

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
ObjArray = NDArray[np.object_]

#: Tolerance when comparing a walking time with a threshold, minutes.
TIME_TOL_MIN = 1e-9

#: A reached building farther from its access point than this share of the corridor
#: half-width always gets its connector drawn (closer ones stand inside the corridor).
CONNECTOR_SNAP_SHARE = 0.98


@dataclass(frozen=True)
class Pieces:
    """Reached stretches of network edges: ``group`` reaches ``edge`` from
    ``start_m`` to ``end_m`` (metres from the edge's ``u`` end, in ``length_m`` units).

    ``frontier`` flags stretches of a straight link where the walk stops part-way:
    their corridor ends square (the reached node they start from is drawn round by
    a whole link), so it reaches exactly as far as the walk.
    """

    group: IntArray
    edge: IntArray
    start_m: FloatArray
    end_m: FloatArray
    frontier: BoolArray | None = None

    def subset(self, keep: BoolArray | IntArray) -> Pieces:
        """The stretches flagged in ``keep`` (a mask) or at its positions."""
        fr = None if self.frontier is None else self.frontier[keep]
        return Pieces(self.group[keep], self.edge[keep], self.start_m[keep], self.end_m[keep], fr)

    def regroup(self, group: IntArray) -> Pieces:
        """The same stretches under other group numbers."""
        return Pieces(group, self.edge, self.start_m, self.end_m, self.frontier)


@dataclass(frozen=True)
class EndTimes:
    """Per reached (group, piece): the piece and the walk's time at its two ends.

    The piece lies on network ``edge`` from ``start_m`` to ``end_m`` (metres from
    the edge's ``u`` end), between nodes ``a`` (at ``start_m``) and ``b``; the
    group's walk reaches ``a`` in ``ta`` and ``b`` in ``tb`` minutes (``inf``: not
    within the limit). Node ids are below ``n_nodes``, so ``group * n_nodes + node``
    names a node of one group's walk.
    """

    group: IntArray
    edge: IntArray
    a: IntArray
    b: IntArray
    start_m: FloatArray
    end_m: FloatArray
    ta: FloatArray
    tb: FloatArray
    n_nodes: int

    def __len__(self) -> int:
        return len(self.group)


@dataclass(frozen=True)
class WalkEnds:
    """For each row of an :class:`EndTimes` table and one threshold: how far the walk
    reaches into the piece from its ``a`` end and from its ``b`` end (metres, -1 if
    that end is not reached), whether the piece is reached ``full``, whether each
    frontier stretch ends ``square`` and how much shorter a round-capped frontier
    stretch is drawn (``cut``, metres; 0 where it ends square)."""

    reach_a_m: FloatArray
    reach_b_m: FloatArray
    full: BoolArray
    square_a: BoolArray
    square_b: BoolArray
    cut_a_m: FloatArray
    cut_b_m: FloatArray


@dataclass(frozen=True)
class EdgeFacts:
    """What the walk-end rules need to know of the network's edges.

    ``length_m`` walking length; ``straight`` flags two-vertex lines;
    ``geometry_per_length`` is geometry metres per walking metre (1 where the
    lengths agree); ``speed_m_per_min`` walking speed; ``buffer_m`` corridor
    half-width.
    """

    length_m: FloatArray
    straight: BoolArray
    geometry_per_length: FloatArray
    speed_m_per_min: float
    buffer_m: float


@dataclass(frozen=True)
class Connectors:
    """Buildings that may get a connector line drawn (far enough from their access
    point): the edge their access point lies on, its offset from the edge's ``u``
    end (``length_m`` units), the distance from building to access point
    (``snap_m``), the line (projected CRS) and the drawing layer it belongs to
    (0: the outside network; k: the walled compounds of colour k)."""

    edge: IntArray
    x_m: FloatArray
    snap_m: FloatArray
    geometry: ObjArray
    layer: IntArray

    def __len__(self) -> int:
        return len(self.edge)

    @classmethod
    def none(cls) -> Connectors:
        empty_i = np.zeros(0, dtype="int64")
        empty_f = np.zeros(0)
        return cls(empty_i, empty_f, empty_f, np.zeros(0, dtype=object), empty_i)


@dataclass(frozen=True)
class ConnectorReach:
    """Per (group, connector) the group reaches: the :class:`EndTimes` row whose piece
    holds the access point, and the walking time to the access point, minutes."""

    row: IntArray
    conn: IntArray
    time_min: FloatArray


def _group_min(
    group: IntArray, piece: IntArray, ta: FloatArray, tb: FloatArray, n_pieces: int
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """The smallest ``ta`` and ``tb`` per (group, piece), rows in key order."""
    key = group * n_pieces + piece
    order = np.argsort(key, kind="stable")
    key = key[order]
    start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, "int64")
    if len(start) == 0:
        empty_f = np.zeros(0)
        return start.astype("int64"), start.astype("int64"), empty_f, empty_f
    ta_min = np.minimum.reduceat(ta[order], start)
    tb_min = np.minimum.reduceat(tb[order], start)
    g, p = np.divmod(key[start], n_pieces)
    return g.astype("int64"), p.astype("int64"), ta_min, tb_min


def _incident_rows(ptr: IntArray, node: IntArray) -> tuple[IntArray, IntArray]:
    """For reached nodes ``node``: which reached row and which incidence entry each
    (node, incident piece) pair comes from."""
    deg = ptr[node + 1] - ptr[node]
    rows = np.repeat(np.arange(len(node)), deg)
    k = np.arange(len(rows)) - np.repeat(np.cumsum(deg) - deg, deg)
    return rows, ptr[node][rows] + k


def routing_end_times(
    rg: RoutingGraph, group: IntArray, node: IntArray, time_min: FloatArray
) -> EndTimes:
    """End times of the routing graph's pieces touched by reached nodes.

    Row ``i`` of ``group``/``node``/``time_min`` says group ``group[i]`` reaches
    routing node ``node[i]`` in ``time_min[i]`` minutes.
    """
    ptr, piece, at_a = rg.incidence()
    rows, inc = _incident_rows(ptr, node)
    t = time_min[rows]
    g, p, ta, tb = _group_min(
        group[rows],
        piece[inc],
        np.where(at_a[inc], t, np.inf),
        np.where(at_a[inc], np.inf, t),
        len(rg.a),
    )
    return EndTimes(g, rg.edge[p], rg.a[p], rg.b[p], rg.start_m[p], rg.end_m[p], ta, tb, rg.n_nodes)


def network_incidence(rg: RoutingGraph) -> tuple[IntArray, IntArray, BoolArray]:
    """Edges at each network node as CSR arrays ``(ptr, edge, at_u)``."""
    net = rg.net
    ends = np.concatenate([net.u, net.v])
    edge = np.tile(np.arange(net.n_edges, dtype="int64"), 2)
    at_u = np.arange(len(ends)) < net.n_edges
    order = np.argsort(ends, kind="stable")
    ptr = np.zeros(net.n_nodes + 1, dtype="int64")
    np.cumsum(np.bincount(ends, minlength=net.n_nodes), out=ptr[1:])
    return ptr, edge[order], at_u[order]


def station_end_times(
    rg: RoutingGraph,
    incidence: tuple[IntArray, IntArray, BoolArray],
    stations: IntArray,
    group: IntArray,
    node: IntArray,
    time_min: FloatArray,
) -> EndTimes:
    """End times of each station's walk with that station alone on the network.

    Parameters
    ----------
    rg
        The routing graph (for the network and where each station stands).
    incidence
        :func:`network_incidence` of ``rg``.
    stations
        Station indices; group ``j`` is ``stations[j]``.
    group, node, time_min
        Group ``group[i]`` reaches network node ``node[i]`` in ``time_min[i]``
        minutes (:func:`planner.network.routing.network_reach`).

    Returns
    -------
    EndTimes
        The network's edges each walk touches, with the station's own edge replaced
        by its two halves meeting at the station (node ``n_nodes - 1`` of every
        group, reached at 0 minutes).
    """
    net = rg.net
    ptr, edge, at_u = incidence
    rows, inc = _incident_rows(ptr, node)
    t = time_min[rows]
    g, e, ta, tb = _group_min(
        group[rows],
        edge[inc],
        np.where(at_u[inc], t, np.inf),
        np.where(at_u[inc], np.inf, t),
        net.n_edges,
    )
    own_e = rg.station_edge[stations]
    own_x = rg.station_offset_m[stations]
    # the station's own edge: its times at u and v (inf if the walk does not get there)
    k = np.arange(len(stations), dtype="int64")
    key = g * net.n_edges + e
    own_key = k * net.n_edges + own_e
    pos = np.searchsorted(key, own_key)
    found = pos < len(key)
    found[found] = key[pos[found]] == own_key[found]
    t_u = np.full(len(k), np.inf)
    t_v = np.full(len(k), np.inf)
    t_u[found] = ta[pos[found]]
    t_v[found] = tb[pos[found]]
    keep = np.ones(len(key), dtype=bool)
    keep[pos[found]] = False
    s_node = np.full(len(k), net.n_nodes, dtype="int64")
    zero = np.zeros(len(k))
    return EndTimes(
        group=np.concatenate([g[keep], k, k]),
        edge=np.concatenate([e[keep], own_e, own_e]),
        a=np.concatenate([net.u[e[keep]], net.u[own_e], s_node]),
        b=np.concatenate([net.v[e[keep]], s_node, net.v[own_e]]),
        start_m=np.concatenate([np.zeros(int(keep.sum())), zero, own_x]),
        end_m=np.concatenate([net.length_m[e[keep]], own_x, net.length_m[own_e]]),
        ta=np.concatenate([ta[keep], t_u, zero]),
        tb=np.concatenate([tb[keep], zero, t_v]),
        n_nodes=net.n_nodes + 1,
    )


def walk_ends(ends: EndTimes, threshold_min: float, facts: EdgeFacts) -> WalkEnds:
    """How far each group's walk reaches into each piece within ``threshold_min``.

    A frontier stretch on a straight link ends square where a whole link of
    positive length draws the node it starts from round; elsewhere (at the
    station, on bent links, whose bend a square end would cut) it ends round,
    drawn one corridor half-width short so its cap ends where the walk ends.
    """
    speed = facts.speed_m_per_min
    plen = ends.end_m - ends.start_m
    tol = threshold_min + TIME_TOL_MIN
    ra = np.clip((tol - ends.ta) * speed, -1.0, None)
    rb = np.clip((tol - ends.tb) * speed, -1.0, None)
    full = ra + rb >= plen
    e = ends.edge
    g = ends.group
    n = ends.n_nodes
    whole = full & (facts.length_m[e] > 0)
    round_nodes = np.concatenate([g[whole] * n + ends.a[whole], g[whole] * n + ends.b[whole]])
    straight = facts.straight[e]
    sq_a = ~full & straight & np.isin(g * n + ends.a, round_nodes)
    sq_b = ~full & straight & np.isin(g * n + ends.b, round_nodes)
    cut = facts.buffer_m / facts.geometry_per_length[e]
    return WalkEnds(
        reach_a_m=ra,
        reach_b_m=rb,
        full=full,
        square_a=sq_a,
        square_b=sq_b,
        cut_a_m=np.where(sq_a, 0.0, cut),
        cut_b_m=np.where(sq_b, 0.0, cut),
    )


def pieces(ends: EndTimes, w: WalkEnds) -> Pieces:
    """Stretches reached, from the walk ends of one threshold (:func:`walk_ends`).

    A piece reached from both ends together with its length is one whole
    stretch; otherwise each end the walk enters gives a frontier stretch
    (``frontier`` set where it ends square).
    """
    plen = ends.end_m - ends.start_m
    full = w.full
    has_a = full | (w.reach_a_m >= 0)
    has_b = ~full & (w.reach_b_m >= 0)
    a_end = np.where(full, plen, np.clip(w.reach_a_m - w.cut_a_m, 0.0, plen))
    b_len = np.clip(w.reach_b_m - w.cut_b_m, 0.0, plen)
    return Pieces(
        group=np.concatenate([ends.group[has_a], ends.group[has_b]]),
        edge=np.concatenate([ends.edge[has_a], ends.edge[has_b]]),
        start_m=np.concatenate([ends.start_m[has_a], (ends.end_m - b_len)[has_b]]),
        end_m=np.concatenate([(ends.start_m + a_end)[has_a], ends.end_m[has_b]]),
        frontier=np.concatenate([w.square_a[has_a], w.square_b[has_b]]),
    )


def connector_reach(ends: EndTimes, conn: Connectors, speed_m_per_min: float) -> ConnectorReach:
    """Per (group, connector): the row of ``ends`` holding the access point (the
    later piece where two meet at it) and the walking time to the access point."""
    if len(conn) == 0 or len(ends) == 0:
        empty_i = np.zeros(0, dtype="int64")
        return ConnectorReach(empty_i, empty_i, np.zeros(0))
    rows = pd.DataFrame(
        {"row": np.arange(len(ends)), "edge": ends.edge, "start": ends.start_m, "end": ends.end_m}
    )
    cons = pd.DataFrame({"conn": np.arange(len(conn)), "edge": conn.edge, "x": conn.x_m})
    m = rows.merge(cons, on="edge")
    m = m[(m["start"] <= m["x"]) & (m["x"] <= m["end"])]
    row = m["row"].to_numpy(dtype="int64")
    c = m["conn"].to_numpy(dtype="int64")
    # one piece per (group, connector): the later one where two pieces meet at it
    order = np.lexsort((ends.start_m[row], c, ends.group[row]))
    row, c = row[order], c[order]
    g = ends.group[row]
    last = np.r_[(g[1:] != g[:-1]) | (c[1:] != c[:-1]), True] if len(g) else np.zeros(0, bool)
    row, c = row[last], c[last]
    x = conn.x_m[c]
    t = np.minimum(
        ends.ta[row] + (x - ends.start_m[row]) / speed_m_per_min,
        ends.tb[row] + (ends.end_m[row] - x) / speed_m_per_min,
    )
    return ConnectorReach(row, c, t)


def needed_connectors(
    ends: EndTimes,
    w: WalkEnds,
    reach: ConnectorReach,
    conn: Connectors,
    threshold_min: float,
    buffer_m: float,
) -> tuple[IntArray, IntArray]:
    """``(group, connector)`` of buildings reached within the threshold whose point the
    drawn corridor could miss: standing farther than 98 % of the corridor half-width
    from the access point, or with the access point on the undrawn tip of a
    round-capped frontier stretch."""
    ok = reach.time_min <= threshold_min + TIME_TOL_MIN
    row, c = reach.row[ok], reach.conn[ok]
    x = conn.x_m[c]
    covered = (
        w.full[row]
        | (x - ends.start_m[row] <= w.reach_a_m[row] - w.cut_a_m[row])
        | (ends.end_m[row] - x <= w.reach_b_m[row] - w.cut_b_m[row])
    )
    need = ~covered | (conn.snap_m[c] > buffer_m * CONNECTOR_SNAP_SHARE)
    return ends.group[row[need]], c[need]


def point_end_times(
    ends: EndTimes, group: IntArray, edge: IntArray, x_m: FloatArray, speed_m_per_min: float
) -> FloatArray:
    """Each group's walking time to points on the network, minutes.

    Point ``i`` lies on network ``edge[i]`` at ``x_m[i]`` metres (``length_m``
    units) from its ``u`` end; its time in group ``group[i]``'s walk is the
    quicker way in from the two ends of the piece of ``ends`` holding it (on a
    station's own edge, the half it lies on). Points on no piece of the group's
    table (neither end reached within the walk's limit) get ``inf``.
    """
    out = np.full(len(group), np.inf)
    if len(ends) == 0 or len(group) == 0:
        return out
    n_e = int(max(ends.edge.max(), edge.max())) + 1
    row_key = ends.group * n_e + ends.edge
    keys, rank = np.unique(row_key, return_inverse=True)
    # rows sorted by (key, start): one search on rank x width + start finds the piece
    width = float(np.max(ends.end_m, initial=0.0)) * 2.0 + 2.0
    comp = rank * width + ends.start_m
    order = np.argsort(comp, kind="stable")
    comp = comp[order]
    q_key = group * n_e + edge
    q_rank = np.searchsorted(keys, q_key)
    found = q_rank < len(keys)
    found[found] = keys[q_rank[found]] == q_key[found]
    q = np.flatnonzero(found)
    j = np.searchsorted(comp, q_rank[q] * width + x_m[q], side="right") - 1
    j = np.maximum(j, np.searchsorted(comp, q_rank[q] * width, side="left"))
    row = order[j]
    x = np.clip(x_m[q], ends.start_m[row], ends.end_m[row])
    out[q] = np.minimum(
        ends.ta[row] + (x - ends.start_m[row]) / speed_m_per_min,
        ends.tb[row] + (ends.end_m[row] - x) / speed_m_per_min,
    )
    return out
