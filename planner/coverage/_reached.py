"""What a walk reaches of the network, as tables a circle is drawn from.

A *group* is what one drawing is made for: one station (its own circle) or every
station at once (the union). For each group the walk's times at the two ends of
each *piece* of network it touches are an :class:`EndTimes` table, from which
:class:`planner.coverage._field.CircleField` times the ground nearest each piece.
Buildings whose connector line may have to be drawn are matched to the piece holding
their access point (:func:`connector_reach`).

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
#: half-width gets its connector drawn (closer ones stand in the ground of their access
#: point).
CONNECTOR_SNAP_SHARE = 0.98


@dataclass(frozen=True)
class Pieces:
    """Reached stretches of network edges: ``group`` reaches ``edge`` from
    ``start_m`` to ``end_m`` (metres from the edge's ``u`` end, in ``length_m`` units)."""

    group: IntArray
    edge: IntArray
    start_m: FloatArray
    end_m: FloatArray


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
