"""Build the walking network (nodes and edges) from road lines.

The network is a simple undirected graph held as two GeoDataFrames with the
columns of :mod:`planner.schema` (``nodes`` and ``edges``), in the street's
projected CRS (metres). ``node_id`` equals the row position; every edge has
``u < v``; there are no self-loops and no parallel edges (a loop or a second
link between the same two nodes is split at its midpoint by an extra node), so
later steps can build a CSR matrix from ``u``/``v``/``length_m`` directly.

Which roads are walkable
------------------------
Every line is walkable except the OSM ``highway`` classes in
:data:`NON_WALKABLE` (motorways and their ramps, cycle-only ways, roads under
construction or only planned, raceways, bus guideways, platforms), and lines
tagged ``foot=no``. This follows OSMnx's ``walk`` network filter. Trunk roads
are kept: in Chinese cities they usually carry sidewalks; where one does not,
remove it from the roads layer or tag it ``foot=no``.

Noding
------
``node_at="intersections"`` (user road layers): lines are cut wherever they
meet or cross (shapely/GEOS noding), except lines with ``bridge=True`` (bridges
and tunnels), which join the network only at their own end points. First, a line
end that touches no other line but lies within :data:`SNAP_M` (0.5 m) of one is
moved onto it: hand-drawn layers often miss a junction by a few centimetres.
``node_at="endpoints"`` (OSM graph edges, already noded): only end points that
coincide (to the millimetre) are merged.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from planner import schema

log = logging.getLogger(__name__)

NodeAt = Literal["intersections", "endpoints"]

#: OSM ``highway`` classes people cannot walk on (OSMnx ``walk`` filter).
NON_WALKABLE: frozenset[str] = frozenset(
    {
        "motorway",
        "motorway_link",
        "cycleway",
        "construction",
        "proposed",
        "planned",
        "abandoned",
        "razed",
        "raceway",
        "bus_guideway",
        "busway",
        "platform",
        "no",
    }
)

#: End points closer than this are the same node, metres.
NODE_PRECISION_M = 0.001

#: Road ends touching nothing are joined to another line this close, metres (drawing gaps).
SNAP_M = 0.5


def walkable_mask(roads: gpd.GeoDataFrame) -> NDArray[np.bool_]:
    """Rows of ``roads`` that belong in the walking network (see module docstring)."""
    keep = np.ones(len(roads), dtype=bool)
    if "highway" in roads.columns:
        hw = roads["highway"].astype(object).where(roads["highway"].notna(), "").astype(str)
        keep &= ~hw.str.strip().str.lower().isin(NON_WALKABLE).to_numpy()
    if "foot" in roads.columns:
        foot = roads["foot"].astype(object).where(roads["foot"].notna(), "").astype(str)
        keep &= (foot.str.strip().str.lower() != "no").to_numpy()
    return keep


def _str_col(df: pd.DataFrame, name: str, default: str) -> NDArray[np.object_]:
    if name not in df.columns:
        return np.full(len(df), default, dtype=object)
    s = df[name].astype(object).where(df[name].notna(), default).astype(str)
    return s.to_numpy(dtype=object)


def _bool_col(df: pd.DataFrame, name: str) -> NDArray[np.bool_]:
    if name not in df.columns:
        return np.zeros(len(df), dtype=bool)
    s = df[name]
    if s.dtype == bool:
        return s.to_numpy()
    txt = s.astype(object).where(s.notna(), "").astype(str).str.strip().str.lower()
    return txt.isin(["true", "1", "yes", "y", "t", "viaduct", "tunnel", "bridge"]).to_numpy()


def _split_pieces_at_points(
    pieces: NDArray[np.object_], src: NDArray[np.intp], points: NDArray[np.object_]
) -> tuple[NDArray[np.object_], NDArray[np.intp]]:
    """Cut ``pieces`` where one of ``points`` lies on their interior (tolerance 1 mm)."""
    if len(points) == 0 or len(pieces) == 0:
        return pieces, src
    tree = shapely.STRtree(pieces)
    pt_idx, piece_idx = tree.query(points, predicate="dwithin", distance=NODE_PRECISION_M)
    if len(pt_idx) == 0:
        return pieces, src
    out_lines: list[BaseGeometry] = []
    out_src: list[int] = []
    touched = np.unique(piece_idx)
    for i in touched:  # only the few pieces a bridge end lands on
        line = pieces[i]
        length = line.length
        at = shapely.line_locate_point(line, points[pt_idx[piece_idx == i]])
        cuts = np.unique(at[(at > NODE_PRECISION_M) & (at < length - NODE_PRECISION_M)])
        bounds = np.concatenate([[0.0], cuts, [length]])
        for a, b in itertools.pairwise(bounds):
            out_lines.append(substring(line, a, b))
            out_src.append(int(src[i]))
    keep = np.ones(len(pieces), dtype=bool)
    keep[touched] = False
    new_pieces = np.concatenate([pieces[keep], np.array(out_lines, dtype=object)])
    new_src = np.concatenate([src[keep], np.array(out_src, dtype=np.intp)])
    return new_pieces, new_src


def _source_of(mids: NDArray[np.object_], lines: NDArray[np.object_]) -> NDArray[np.intp]:
    """Index of the line each noded piece came from (its midpoint lies on that line)."""
    tree = shapely.STRtree(lines)
    qi, li = tree.query(mids, predicate="dwithin", distance=NODE_PRECISION_M)
    out = np.full(len(mids), -1, dtype=np.intp)
    first = np.unique(qi, return_index=True)[1]
    out[qi[first]] = li[first]
    missing = np.flatnonzero(out < 0)
    if len(missing):
        _q, near = tree.query_nearest(mids[missing], all_matches=False)
        out[missing] = near
    return out


@dataclass(frozen=True)
class _LooseEnds:
    """Line ends within ``snap_m`` of another line they do not touch: end ``end[i]``
    (``k`` for the start of line ``k``, ``n + k`` for its end) may move onto line
    ``line[i]``, ``dist_m[i]`` metres away; ``movable`` flags every end that may move."""

    end: NDArray[np.intp]
    line: NDArray[np.intp]
    dist_m: NDArray[np.float64]
    movable: NDArray[np.bool_]


def _loose_ends(
    lines: NDArray[np.object_], ends: NDArray[np.object_], own: NDArray[np.intp], snap_m: float
) -> _LooseEnds:
    """Ends that touch nothing and may move onto a line within ``snap_m``: not of a line
    shorter than ``4 * snap_m`` or lying partly along another line (drawn twice), and
    not onto a line the line's other end already meets (which would fold it)."""
    n = len(lines)
    pi, li = shapely.STRtree(lines).query(ends, predicate="dwithin", distance=snap_m)
    other = li != own[pi]
    pi, li = pi[other], li[other]
    dist = shapely.distance(ends[pi], lines[li])
    touching = np.zeros(2 * n, dtype=bool)
    touching[pi[dist <= NODE_PRECISION_M]] = True
    movable = ~touching & (shapely.length(lines)[own] > 4 * snap_m)
    # a line lying partly along another (drawn twice) keeps its ends
    loose = np.unique(own[pi[movable[pi]]])
    qa, qb = shapely.STRtree(lines).query(lines[loose], predicate="intersects")
    diff = loose[qa] != qb
    along = shapely.relate_pattern(lines[loose[qa[diff]]], lines[qb[diff]], "1********")
    overlapping = np.zeros(n, dtype=bool)
    overlapping[loose[qa[diff]][along]] = True
    movable &= ~overlapping[own]
    folds = shapely.distance(ends[(pi + n) % (2 * n)], lines[li]) <= NODE_PRECISION_M
    keep = movable[pi] & ~folds
    return _LooseEnds(pi[keep], li[keep], dist[keep], movable)


def _join_gaps(
    ends: NDArray[np.object_],
    own: NDArray[np.intp],
    loose: _LooseEnds,
    snap_m: float,
    row_of_end: NDArray[np.intp],
    xy: NDArray[np.float64],
    new_xy: NDArray[np.float64],
) -> tuple[int, NDArray[np.intp]]:
    """Gaps between two loose ends: the ends of a cluster meet at its first end's
    position (written into ``new_xy``). Returns the ends joined and the ends of the
    clusters (which no longer move)."""
    cand = np.unique(loose.end)
    a, b = shapely.STRtree(ends[cand]).query(ends[cand], predicate="dwithin", distance=snap_m)
    sel = (a < b) & (own[cand[a]] != own[cand[b]])
    if not sel.any():
        return 0, np.zeros(0, dtype=np.intp)
    graph = coo_matrix((np.ones(int(sel.sum())), (a[sel], b[sel])), shape=(len(cand), len(cand)))
    _k, labels = connected_components(graph, directed=False)
    sizes = np.bincount(labels)
    rep = np.full(len(sizes), -1)
    order = np.arange(len(cand))[::-1]
    rep[labels[order]] = order  # the smallest member of each cluster
    grouped = sizes[labels] > 1
    members = cand[grouped]
    new_xy[row_of_end[members]] = xy[row_of_end[cand[rep[labels[grouped]]]]]
    return int(grouped.sum() - (sizes > 1).sum()), members


def _snap_dangling_ends(
    lines: NDArray[np.object_], *, snap_m: float
) -> tuple[NDArray[np.object_], NDArray[np.object_], int]:
    """Join line ends that touch nothing to what lies within ``snap_m`` metres.

    First, such ends near each other (a gap between two lines) meet at one of them;
    then the remaining ones move onto the nearest other line. Ends of lines shorter
    than ``4 * snap_m`` or lying partly along another line (drawn twice), and moves
    that would fold a line onto one its other end already meets, are left alone.
    Returns the lines, the points where ends landed on other lines (the caller cuts
    those lines there) and the number of ends joined.
    """
    n = len(lines)
    empty = np.empty(0, dtype=object)
    if n < 2 or snap_m <= 0:
        return lines, empty, 0
    ends = np.concatenate([shapely.get_point(lines, 0), shapely.get_point(lines, -1)])
    own = np.concatenate([np.arange(n), np.arange(n)])
    loose = _loose_ends(lines, ends, own, snap_m)
    if len(loose.end) == 0:
        return lines, empty, 0
    xy, idx = shapely.get_coordinates(lines, return_index=True)
    first_row = np.searchsorted(idx, np.arange(n))
    last_row = np.searchsorted(idx, np.arange(n), side="right") - 1
    row_of_end = np.where(np.arange(2 * n) < n, first_row[own], last_row[own])
    new_xy = xy.copy()
    joined, clustered = _join_gaps(ends, own, loose, snap_m, row_of_end, xy, new_xy)
    # the other loose ends move onto the nearest other line
    movable = loose.movable.copy()
    movable[clustered] = False
    keep = movable[loose.end]
    pi, li, dist = loose.end[keep], loose.line[keep], loose.dist_m[keep]
    targets = empty
    if len(pi):
        order = np.lexsort((dist, pi))
        pi, li = pi[order], li[order]
        first = np.unique(pi, return_index=True)[1]
        pi, li = pi[first], li[first]
        targets = shapely.line_interpolate_point(
            lines[li], shapely.line_locate_point(lines[li], ends[pi])
        )
        new_xy[row_of_end[pi]] = shapely.get_coordinates(targets)
        joined += len(pi)
    moved = shapely.set_coordinates(shapely.transform(lines, lambda c: c), new_xy)
    lines = np.where(shapely.length(moved) > NODE_PRECISION_M, moved, lines)
    log.info("joined %d road end(s) within %.2f m of another line", joined, snap_m)
    return lines, targets, joined


def _node_lines(
    lines: NDArray[np.object_], bridge: NDArray[np.bool_], node_at: NodeAt, *, snap_m: float
) -> tuple[NDArray[np.object_], NDArray[np.intp], int]:
    """Cut lines into links; returns the links, the line each came from, ends snapped."""
    idx_all = np.arange(len(lines))
    if node_at == "endpoints" or len(lines) == 0:
        return lines, idx_all, 0
    plain = lines[~bridge]
    plain_idx = idx_all[~bridge]
    plain, snapped, joined = _snap_dangling_ends(plain, snap_m=snap_m)
    if len(plain):
        noded = shapely.node(shapely.multilinestrings(plain))
        pieces = shapely.get_parts(noded)
        mids = shapely.line_interpolate_point(pieces, 0.5, normalized=True)
        src = plain_idx[_source_of(mids, plain)]
        pieces, src = _split_pieces_at_points(pieces, src, snapped)
    else:
        pieces = np.empty(0, dtype=object)
        src = np.empty(0, dtype=np.intp)
    bridges = lines[bridge]
    if len(bridges):
        ends = np.concatenate([shapely.get_point(bridges, 0), shapely.get_point(bridges, -1)])
        pieces, src = _split_pieces_at_points(pieces, src, ends)
        pieces = np.concatenate([pieces, bridges])
        src = np.concatenate([src, idx_all[bridge]])
    return pieces, src.astype(np.intp), joined


def _end_node_ids(
    links: NDArray[np.object_],
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    """Node ids of each link's two ends, and the node coordinates (x, y)."""
    start = shapely.get_coordinates(shapely.get_point(links, 0))
    end = shapely.get_coordinates(shapely.get_point(links, -1))
    both = np.concatenate([start, end])
    key = np.round(both / NODE_PRECISION_M).astype(np.int64)
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    n = len(links)
    return inverse[:n], inverse[n:], both[first]


def _split_at_midpoints(
    links: NDArray[np.object_],
) -> tuple[NDArray[np.object_], NDArray[np.object_]]:
    first = [substring(g, 0.0, 0.5, normalized=True) for g in links]
    second = [substring(g, 0.5, 1.0, normalized=True) for g in links]
    return np.array(first, dtype=object), np.array(second, dtype=object)


def _simplify_graph(
    links: NDArray[np.object_], src: NDArray[np.intp]
) -> tuple[NDArray[np.object_], NDArray[np.intp]]:
    """Split self-loops and second parallel links at their midpoint (a few at most)."""
    for _ in range(3):
        u, v, _xy = _end_node_ids(links)
        lo, hi = np.minimum(u, v), np.maximum(u, v)
        order = np.lexsort((shapely.length(links), hi, lo))
        pair = np.stack([lo[order], hi[order]], axis=1)
        dup_sorted = np.zeros(len(order), dtype=bool)
        if len(order) > 1:
            dup_sorted[1:] = np.all(pair[1:] == pair[:-1], axis=1)
        bad = np.zeros(len(links), dtype=bool)
        bad[order[dup_sorted]] = True
        bad |= u == v
        if not bad.any():
            break
        a, b = _split_at_midpoints(links[bad])
        links = np.concatenate([links[~bad], a, b])
        src = np.concatenate([src[~bad], src[bad], src[bad]])
    return links, src


def build_network(
    roads: gpd.GeoDataFrame,
    *,
    node_at: NodeAt = "intersections",
    boundary: BaseGeometry | None = None,
    compounds: gpd.GeoDataFrame | None = None,
    gates: gpd.GeoDataFrame | None = None,
    gate_tolerance_m: float = 1.0,
    snap_m: float = SNAP_M,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Walking network from road lines.

    Parameters
    ----------
    roads
        Lines in a projected CRS (metres). Optional columns: ``highway``, ``name``,
        ``bridge`` (bool), ``compound_id``, ``foot``.
    node_at
        ``"intersections"``: cut lines where they meet or cross (bridges only at
        their end points); ``"endpoints"``: only merge shared end points.
    boundary
        The street polygon; sets ``in_street`` of nodes (all True when None).
    compounds
        Compound polygons with ``compound_id``; sets the nodes' ``compound_id``.
    gates
        Gate points; nodes within ``gate_tolerance_m`` metres of one get ``is_gate``.
    snap_m
        With ``"intersections"``: a line end touching no other line is moved onto
        the nearest other line within this many metres (bridges excepted), joining
        near-misses of hand-drawn layers. 0 turns it off.

    Returns
    -------
    nodes, edges
        GeoDataFrames with the schema columns of ``nodes`` and ``edges``, in the
        CRS of ``roads``. ``length_m`` is in metres.
    """
    crs = roads.crs
    walk = roads.loc[walkable_mask(roads)]
    parts, part_src = shapely.get_parts(walk.geometry.to_numpy(), return_index=True)
    is_line = shapely.get_type_id(parts) == shapely.GeometryType.LINESTRING
    parts, part_src = parts[is_line], part_src[is_line]
    ok = ~shapely.is_empty(parts) & (shapely.length(parts) > 0)
    parts, part_src = parts[ok], part_src[ok]
    bridge = _bool_col(walk, "bridge")[part_src]

    links, link_src, n_snapped = _node_lines(parts, bridge, node_at, snap_m=snap_m)
    if len(links):
        keep = shapely.length(links) > NODE_PRECISION_M
        links, link_src = links[keep], link_src[keep]
        links, link_src = _simplify_graph(links, link_src)
    row = part_src[link_src] if len(links) else np.empty(0, dtype=np.intp)
    edges, xy = _edge_layer(links, walk, row, crs)
    nodes = _node_layer(
        shapely.points(xy) if len(xy) else np.empty(0, dtype=object),
        crs,
        boundary=boundary,
        compounds=compounds,
        gates=gates,
        gate_tolerance_m=gate_tolerance_m,
    )
    log.info(
        "walking network: %d nodes, %d edges from %d road lines", len(nodes), len(edges), len(roads)
    )
    out_edges = schema.conform("edges", edges)
    out_edges.attrs["snapped_ends"] = n_snapped
    return schema.conform("nodes", nodes), out_edges


def _edge_layer(
    links: NDArray[np.object_], walk: gpd.GeoDataFrame, row: NDArray[np.intp], crs: CRS | None
) -> tuple[gpd.GeoDataFrame, NDArray[np.float64]]:
    """The edges layer of ``links`` (each turned to run from its lower node id; road
    attributes from row ``row`` of ``walk``) and the node coordinates."""
    if len(links):
        u, v, xy = _end_node_ids(links)
    else:
        u = v = np.empty(0, dtype=np.intp)
        xy = np.empty((0, 2))
    flip = u > v
    links = links.copy()
    if flip.any():
        links[flip] = shapely.reverse(links[flip])
    lo, hi = np.where(flip, v, u), np.where(flip, u, v)
    edges = gpd.GeoDataFrame(
        {
            "u": lo.astype(np.int64),
            "v": hi.astype(np.int64),
            "length_m": shapely.length(links).astype(np.float64),
            "highway": _str_col(walk, "highway", "footway")[row],
            "name": _str_col(walk, "name", "")[row],
            "compound_id": _str_col(walk, "compound_id", "")[row],
        },
        geometry=gpd.GeoSeries(links, crs=crs),
        crs=crs,
    )
    edges["highway"] = edges["highway"].where(edges["highway"] != "", "footway")
    return edges, xy


def _node_layer(
    pts: NDArray[np.object_],
    crs: CRS | None,
    *,
    boundary: BaseGeometry | None,
    compounds: gpd.GeoDataFrame | None,
    gates: gpd.GeoDataFrame | None,
    gate_tolerance_m: float,
) -> gpd.GeoDataFrame:
    """The nodes layer: ``in_street``, the compound each node lies in and ``is_gate``."""
    n = len(pts)
    in_street = (
        shapely.intersects(boundary, pts) if boundary is not None and n else np.ones(n, bool)
    )
    node_compound = np.full(n, "", dtype=object)
    if compounds is not None and len(compounds) and n:
        tree = shapely.STRtree(compounds.geometry.to_numpy())
        pi, ci = tree.query(pts, predicate="intersects")
        first = np.unique(pi, return_index=True)[1]
        node_compound[pi[first]] = (
            compounds["compound_id"].astype(str).to_numpy(dtype=object)[ci[first]]
        )
    is_gate = np.zeros(n, dtype=bool)
    if gates is not None and len(gates) and n:
        gate_node = nearest_nodes(pts, gates.geometry.to_numpy(), max_m=gate_tolerance_m)
        is_gate[gate_node[gate_node >= 0]] = True
    return gpd.GeoDataFrame(
        {
            "node_id": np.arange(n, dtype=np.int64),
            "compound_id": node_compound,
            "is_gate": is_gate,
            "in_street": np.asarray(in_street, dtype=bool),
        },
        geometry=gpd.GeoSeries(pts, crs=crs),
        crs=crs,
    )


def nearest_nodes(
    node_points: NDArray[np.object_], points: NDArray[np.object_], *, max_m: float
) -> NDArray[np.intp]:
    """Index of the node within ``max_m`` metres of each point, -1 where none is."""
    out = np.full(len(points), -1, dtype=np.intp)
    if len(node_points) == 0 or len(points) == 0:
        return out
    tree = shapely.STRtree(node_points)
    qi, ni = tree.query_nearest(points, max_distance=max_m, all_matches=False)
    out[qi] = ni
    return out
