"""Service-circle polygons drawn from the reached walking network.

A circle is the network a station reaches within a threshold, *including the
partial edge at the frontier* (each edge is cut at the reached length), buffered
by ``Settings.circle_buffer_m``. It is never a convex hull or a radius: a walled
compound the walk does not enter stays a hole. One shortest-path tree serves all
thresholds, so the 5-, 10- and 15-minute circles of a station always nest.

Three views of several stations:

* :meth:`CircleBuilder.station_circles`: each station's own circle (they overlap),
  drawn with that station alone on the network (so it does not change when another
  station is added), a batch of stations at a time so memory grows with the
  network a batch reaches, not with stations x network;
* :meth:`CircleBuilder.nearest_split`: the reached area split by nearest station
  (each place goes to the station whose walk reaches it first; the split runs
  midway along each edge between the two stations' times, and across open ground
  by a Voronoi partition of the reached network);
* :meth:`CircleBuilder.union_circles`: the union per threshold.

:func:`gap_polygons` gives the residential parts of the street (compounds and
residential buildings) outside every circle of the gap threshold
(``Settings.gap_minutes``, 15 minutes by default).

Geometry is vectorised with shapely 2 (substrings of many edges at once; each
circles drawn from the network's faces prepared once by
:class:`planner.coverage._faces.FaceIndex`, circles run on all cores); the
loops left are over circles (station x threshold), never over edges or nodes.
The tables the stretches come from are in :mod:`planner.coverage._reached`.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS
from scipy import sparse

from planner._threads import parallel, workers
from planner.coverage._faces import (
    LINK_CELL_SHARE,
    Drawn,
    FaceIndex,
    LinkCells,
    polygonal,
    without_hairlines,
)
from planner.coverage._kept import KeptCircles, release_freed_memory
from planner.coverage._reached import (
    CONNECTOR_SNAP_SHARE,
    TIME_TOL_MIN,
    Connectors,
    EdgeFacts,
    EndTimes,
    Pieces,
    connector_reach,
    needed_connectors,
    network_incidence,
    pieces,
    point_end_times,
    routing_end_times,
    station_end_times,
    walk_ends,
)
from planner.network.routing import NodeTimes, Reach, RoutingGraph, network_reach, point_times
from planner.network.walk import Snap, WalkNetwork

log = logging.getLogger(__name__)

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
ObjArray = NDArray[np.object_]
_T = TypeVar("_T")

__all__ = ["CONNECTOR_SNAP_SHARE", "CircleBuilder", "Pieces", "gap_polygons", "residential_area"]

#: Buildings closer than this to their access point get no connector line, metres.
CONNECTOR_MIN_M = 1.0

#: Rows of the reached-pieces table one batch of stations may hold: a station adds at
#: most one row per network edge (plus one), so a batch holds
#: ``CIRCLE_BATCH_ROWS // (edges + 1)`` stations (about 93 on the demo street). The
#: table and the batch's drawings are what the circle step holds at once besides the
#: finished circles: about 1 KB a row (``docs/benchmarks/coverage.md``).
CIRCLE_BATCH_ROWS = 100_000

#: (station, network point) pairs the cut of the stations' own circles at the network's
#: gaps times at once (:meth:`CircleBuilder._clip_own_late`): about 25 MB of arrays.
CLIP_CHUNK_PAIRS = 250_000


def _colours(geoms: ObjArray, gap_m: float) -> IntArray:
    """A colour per polygon such that polygons of one colour lie more than ``gap_m``
    apart (greedy colouring of the "closer than gap_m" graph, largest degree first)."""
    import networkx as nx

    a, b = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=gap_m)
    g = nx.Graph()
    g.add_nodes_from(range(len(geoms)))
    g.add_edges_from(zip(a[a < b].tolist(), b[a < b].tolist(), strict=True))
    colour = nx.greedy_color(g, strategy="largest_first")
    return np.asarray([colour[i] for i in range(len(geoms))], dtype="int64")


def _polygons_of(drawn: Sequence[Drawn | None]) -> ObjArray:
    """The polygons of drawn circles (empty where nothing was drawn)."""
    return np.asarray(
        [shapely.Polygon() if d is None else d.polygon for d in drawn] + [None], dtype=object
    )[:-1]


@dataclass(frozen=True)
class _LateCells:
    """Cells a group's walk reaches late (:meth:`CircleBuilder._late_cells`): ``group``
    (sorted), ``cell`` (of :class:`~planner.coverage._faces.LinkCells`), the earliest
    time the walk reaches one of the cell's points and the earliest time it gets into
    a link near the cell (``near_min``), minutes."""

    group: IntArray
    cell: IntArray
    time_min: FloatArray
    near_min: FloatArray


@dataclass(frozen=True)
class _EdgeVertices:
    """Every vertex of the network's edge lines, to cut stretches out of them.

    ``xy`` the vertices (metres), ``cum_m`` each one's distance along its line,
    ``ptr`` the vertices of edge ``e`` (``ptr[e]`` to ``ptr[e + 1] - 1``),
    ``key`` = edge x ``width`` + ``cum_m`` (sorted: one search finds a vertex),
    ``length_m`` each line's geometric length.
    """

    xy: FloatArray
    cum_m: FloatArray
    ptr: IntArray
    key: FloatArray
    width: float
    length_m: FloatArray


def _edge_vertices(geometry: ObjArray) -> _EdgeVertices:
    """:class:`_EdgeVertices` of edge lines (projected CRS)."""
    coords, idx = shapely.get_coordinates(geometry, return_index=True)
    xy = coords[:, :2]
    seg = np.hypot(*np.diff(xy, axis=0).T)
    same = idx[1:] == idx[:-1]
    cum = np.concatenate([[0.0], np.cumsum(np.where(same, seg, 0.0))])
    start_of_line = np.concatenate([[True], ~same])
    cum = cum - np.maximum.accumulate(np.where(start_of_line, cum, 0.0))
    ptr = np.zeros(len(geometry) + 1, dtype="int64")
    np.cumsum(np.bincount(idx, minlength=len(geometry)), out=ptr[1:])
    length = np.asarray(shapely.length(geometry), dtype="float64")
    width = float(length.max(initial=0.0)) * 2.0 + 2.0
    return _EdgeVertices(xy, cum, ptr, idx.astype("float64") * width + cum, width, length)


@dataclass(frozen=True)
class _Walls:
    """Gated compounds with internal paths, as drawing layers.

    Layer 0 is the outside network; layer k >= 1 the own paths of the walled
    compounds of colour k (compounds of one colour lie more than two corridor
    half-widths apart, so a corridor drawn inside one never reaches another).
    ``edge_layer`` is each edge's layer, ``walls`` all walls merged (None: no
    walled compound), ``layer_walls[k]`` the walls of layer k (None for layer 0).
    """

    edge_layer: IntArray
    walls: shapely.Geometry | None = None
    layer_walls: list[shapely.Geometry | None] = field(default_factory=lambda: [None])


def _walls(net: WalkNetwork, compounds: gpd.GeoDataFrame | None, buffer_m: float) -> _Walls:
    """The drawing layers of ``compounds`` (``compound_id``, ``gated``, geometry)."""
    none = _Walls(np.zeros(net.n_edges, dtype="int64"))
    if compounds is None or len(compounds) == 0:
        return none
    gated = compounds[compounds["gated"].astype(bool)]
    with_paths = set(net.compound_id[net.compound_id != ""].tolist())
    walled = gated[gated["compound_id"].astype(str).isin(with_paths)]
    if len(walled) == 0:
        return none
    geoms = np.asarray(shapely.make_valid(walled.geometry.to_numpy()), dtype=object)
    colour = _colours(geoms, 2.0 * buffer_m)
    ids = walled["compound_id"].astype(str).to_numpy()
    layer_of = dict(zip(ids.tolist(), (colour + 1).tolist(), strict=True))
    edge_layer = pd.Series(net.compound_id).map(layer_of).fillna(0).to_numpy(dtype="int64")
    walls = shapely.union_all(geoms)
    shapely.prepare(walls)
    layer_walls: list[shapely.Geometry | None] = [None]
    for k in range(int(colour.max()) + 1):
        wall_k = shapely.union_all(geoms[colour == k])
        shapely.prepare(wall_k)
        layer_walls.append(wall_k)
    return _Walls(edge_layer, walls, layer_walls)


def _connectors(
    net: WalkNetwork, points: Snap | None, point_geoms: ObjArray | None, edge_layer: IntArray
) -> Connectors:
    """Connectors of every building more than :data:`CONNECTOR_MIN_M` from its access
    point (near the frontier even a close one can fall outside the corridor's cap)."""
    if points is None or point_geoms is None:
        return Connectors.none()
    ok = np.flatnonzero(points.ok & (points.snap_m > CONNECTOR_MIN_M))
    if len(ok) == 0:
        return Connectors.none()
    e = points.edge[ok]
    ends = np.stack(
        [
            shapely.get_coordinates(np.asarray(point_geoms, dtype=object)[ok])[:, :2],
            shapely.get_coordinates(points.access[ok])[:, :2],
        ],
        axis=1,
    )
    return Connectors(
        edge=e,
        x_m=np.clip(points.offset_m[ok], 0.0, net.length_m[e]),
        snap_m=points.snap_m[ok],
        geometry=np.asarray(shapely.linestrings(ends), dtype=object),
        layer=edge_layer[e],
    )


def _each(func: Callable[[int], _T], n: int) -> list[_T]:
    """``func(0) .. func(n - 1)`` on all cores (one circle each: GEOS releases the GIL)."""
    threads = workers()
    if threads > 1 and n > 1:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            return list(pool.map(func, range(n)))
    return [func(k) for k in range(n)]


def _new_keys(seen: IntArray, keys: IntArray) -> IntArray:
    """``seen`` with ``keys`` added (sorted, each once)."""
    return np.union1d(seen, keys).astype("int64")


def _near_matrix(
    n_edges: int,
    edge_near: tuple[IntArray, IntArray],
    conn_edge: IntArray,
    conn_near: tuple[IntArray, IntArray],
) -> sparse.csr_matrix:
    """Which links' cells (:class:`~planner.coverage._faces.LinkCells`) can meet the
    circle of a walk that gets into a link, as a 0/1 sparse matrix (link x link).

    A point of a link's corridor lies within ``buffer_m`` of the link and so within
    ``buffer_m + step_m / 2`` of one of its points; the cell holding it is that of a
    point no farther, whose link lies within ``2 * buffer_m + step_m`` of the first
    (``edge_near``, CSR ``(ptr, edge)``). A point of a building connector's corridor
    lies within ``buffer_m + length`` of the access point: the links within
    ``2 * buffer_m + step_m + length`` of the connector (``conn_near``, CSR over the
    connectors, whose access points lie on links ``conn_edge``). Row ``e`` holds both
    kinds for link ``e``.
    """
    ptr, near = edge_near
    own = sparse.csr_matrix((np.ones(len(near)), near, ptr), shape=(n_edges, n_edges))
    n_conn = len(conn_edge)
    if n_conn == 0:
        return own
    on_link = sparse.csr_matrix(
        (np.ones(n_conn), (conn_edge, np.arange(n_conn))), shape=(n_edges, n_conn)
    )
    cptr, cnear = conn_near
    via = sparse.csr_matrix((np.ones(len(cnear)), cnear, cptr), shape=(n_conn, n_edges))
    both = (own + on_link @ via).tocsr()
    both.data[:] = 1.0
    return both


class CircleBuilder:
    """Builds circle polygons on one routing graph.

    Parameters
    ----------
    rg
        The routing graph (network with stations as nodes).
    buffer_m
        Half-width of the corridor drawn around reached links, metres.
    points, point_geoms
        Optional buildings: their snap onto the network and their own points
        (centroids). A reached building's connector (the straight line from its
        point to its access point on the network) is drawn with the reached
        links, so the map shows a covered building inside its circle even when it
        stands farther than ``buffer_m`` from the path.
    compounds
        Optional compounds (``compound_id``, ``gated``, geometry). The walls of a
        gated compound with internal paths are respected: corridors of outside
        links stop at its wall, and its inside is drawn only from its own reached
        paths, so a compound the walk does not enter stays a hole.
    """

    def __init__(
        self,
        rg: RoutingGraph,
        *,
        buffer_m: float,
        points: Snap | None = None,
        point_geoms: ObjArray | None = None,
        compounds: gpd.GeoDataFrame | None = None,
    ) -> None:
        self.rg = rg
        self.buffer_m = float(buffer_m)
        net = rg.net
        self._v = _edge_vertices(net.geometry)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = self._v.length_m / net.length_m
        self._facts = EdgeFacts(
            length_m=net.length_m,
            straight=shapely.get_num_coordinates(net.geometry) == 2,
            geometry_per_length=np.where(np.isfinite(scale), scale, 1.0),
            speed_m_per_min=rg.speed_m_per_min,
            buffer_m=self.buffer_m,
        )
        self._w = _walls(net, compounds, self.buffer_m)
        self._conn = _connectors(net, points, point_geoms, self._w.edge_layer)
        self._faces: dict[int, tuple[FaceIndex, IntArray, IntArray]] = {}
        self._cells: LinkCells | None = None
        self._near: sparse.csr_matrix | None = None

    # ----------------------------------------------------------------- geometry
    def lines(self, pieces: Pieces) -> ObjArray:
        """LineStrings of reached stretches (vectorised substrings of the edges)."""
        v = self._v
        e = pieces.edge
        scale = self._facts.geometry_per_length[e]
        s = np.clip(pieces.start_m * scale, 0.0, v.length_m[e])
        t = np.clip(pieces.end_m * scale, s, v.length_m[e])
        base = e.astype("float64") * v.width
        lo = np.searchsorted(v.key, base + s, side="right")
        hi = np.searchsorted(v.key, base + t, side="left")
        n_int = np.maximum(hi - lo, 0)
        counts = n_int + 2
        ends = np.cumsum(counts)
        starts = ends - counts
        out = np.empty((int(ends[-1]) if len(ends) else 0, 2))
        out[starts] = self._point_at(e, s)
        out[ends - 1] = self._point_at(e, t)
        total_int = int(n_int.sum())
        if total_int:
            first_int = np.cumsum(n_int) - n_int
            k = np.arange(total_int) - np.repeat(first_int, n_int)
            out[np.repeat(starts + 1, n_int) + k] = v.xy[np.repeat(lo, n_int) + k]
        return np.asarray(
            shapely.linestrings(out, indices=np.repeat(np.arange(len(e)), counts)), dtype=object
        )

    def _point_at(self, e: IntArray, s: FloatArray) -> FloatArray:
        """Coordinates at distance ``s`` (geometry metres) along edges ``e``."""
        v = self._v
        j = np.searchsorted(v.key, e * v.width + s, side="right") - 1
        j = np.clip(j, v.ptr[e], np.maximum(v.ptr[e + 1] - 2, v.ptr[e]))
        j1 = np.minimum(j + 1, v.ptr[e + 1] - 1)
        seg = v.cum_m[j1] - v.cum_m[j]
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(seg > 0, (s - v.cum_m[j]) / seg, 0.0)
        f = np.clip(f, 0.0, 1.0)[:, None]
        result: FloatArray = v.xy[j] + f * (v.xy[j1] - v.xy[j])
        # a stretch ending at a vertex ends exactly on it, so stretches meeting at a
        # node share the node's coordinates bit for bit (needed to polygonize them)
        result = np.where(f >= 1.0 - 1e-9, v.xy[j1], result)
        return result

    def prepare(self) -> CircleBuilder:
        """Build the network's face indexes now (otherwise on the first circle drawn).

        They depend on the network, the buildings and the walls only, so one
        preparation serves every station, threshold and view.
        """
        for k in range(len(self._w.layer_walls)):
            self._layer(k)
        return self

    def _layer(self, layer: int) -> tuple[FaceIndex, IntArray, IntArray]:
        """The face index of the outside network (layer 0) or of the own paths of one
        colour of walled compounds, with their connectors, and the maps from network
        edge and connector to their index in it (-1: another layer). Built once."""
        if layer not in self._faces:
            net = self.rg.net
            conn = self._conn
            edges = np.flatnonzero(self._w.edge_layer == layer)
            conns = np.flatnonzero(conn.layer == layer)
            local_e = np.full(net.n_edges, -1, dtype="int64")
            local_e[edges] = np.arange(len(edges))
            local_c = np.full(len(conn), -1, dtype="int64")
            local_c[conns] = np.arange(len(conns))
            index = FaceIndex(
                net.geometry[edges],
                net.length_m[edges],
                conn.geometry[conns],
                buffer_m=self.buffer_m,
                carve=conn.snap_m[conns] > self.buffer_m * CONNECTOR_SNAP_SHARE,
            )
            self._faces[layer] = (index, local_e, local_c)
        return self._faces[layer]

    def polygons(
        self,
        pieces: Pieces,
        groups: int,
        connectors: pd.DataFrame | None = None,
        *,
        base: Sequence[Drawn | None] | None = None,
    ) -> list[Drawn | None]:
        """One drawn circle per group ``0..groups-1`` (None where nothing is reached).

        ``connectors`` (columns ``g``, ``bi``: group and connector) adds reached
        buildings' connectors; ``base`` (one drawing per group, e.g. the circle of
        the next smaller threshold) is contained in the result exactly, so the
        circles nest.
        """
        if connectors is not None and len(connectors):
            cg = connectors["g"].to_numpy(dtype="int64")
            bi = connectors["bi"].to_numpy(dtype="int64")
        else:
            cg = bi = np.zeros(0, dtype="int64")
        return self._draw_groups(pieces, groups, cg, bi, base)

    def _draw_groups(
        self,
        pcs: Pieces,
        groups: int,
        cg: IntArray,
        bi: IntArray,
        base: Sequence[Drawn | None] | None,
    ) -> list[Drawn | None]:
        """:meth:`polygons` with the connectors as arrays (group ``cg``, connector
        ``bi``); the groups are drawn on all cores."""
        out: list[Drawn | None] = [None] * groups if base is None else list(base)
        present = np.union1d(pcs.group, cg).astype("int64")
        if len(present) == 0:
            return out
        # only stretches short of their whole edge are drawn as lines (a whole edge
        # is drawn from its prepared corridor)
        lines = np.full(len(pcs.group), None, dtype=object)
        edge_len = self.rg.net.length_m[pcs.edge]
        short = (pcs.end_m - pcs.start_m < edge_len - 1e-6) | (edge_len <= 0)
        if short.any():
            lines[short] = self.lines(pcs.subset(short))
        p_order = np.argsort(pcs.group, kind="stable")
        p_bounds = np.searchsorted(pcs.group[p_order], np.append(present, groups))
        c_order = np.argsort(cg, kind="stable")
        c_bounds = np.searchsorted(cg[c_order], np.append(present, groups))
        prepared = [self._layer(k) for k in range(len(self._w.layer_walls))]

        def one(k: int) -> Drawn:
            pi = p_order[p_bounds[k] : p_bounds[k + 1]]
            ci = bi[c_order[c_bounds[k] : c_bounds[k + 1]]]
            return self._draw_one(pcs.subset(pi), lines[pi], ci, out[int(present[k])], prepared)

        for g, d in zip(present.tolist(), _each(one, len(present)), strict=True):
            out[g] = d
        return out

    def _draw_one(
        self,
        pcs: Pieces,
        lines: ObjArray,
        conns: IntArray,
        prev: Drawn | None,
        prepared: list[tuple[FaceIndex, IntArray, IntArray]],
    ) -> Drawn:
        """One group's circle from its stretches (with their ``lines`` where short of
        a whole edge) and connectors, containing ``prev``: each drawing layer drawn
        from its own face index, outside corridors stopped at every wall."""
        frontier = np.zeros(len(pcs.group), dtype=bool) if pcs.frontier is None else pcs.frontier
        reached = pcs.end_m - pcs.start_m
        walls = self._w.walls
        drawn: list[Drawn] = []
        for index, local_e, local_c in prepared:
            mine = local_e[pcs.edge] >= 0
            lc = local_c[conns]
            drawn.append(
                index.draw(
                    local_e[pcs.edge[mine]],
                    reached[mine],
                    lines[mine],
                    lc[lc >= 0],
                    square=frontier[mine],
                    base=prev if walls is None else None,
                )
            )
        if walls is None:
            return drawn[0]
        # outside corridors stop at every wall; each compound's inside is drawn
        # from its own paths only
        kept = [shapely.difference(drawn[0].polygon, walls)]
        for d, wall in zip(drawn[1:], self._w.layer_walls[1:], strict=True):
            if not shapely.is_empty(d.polygon):
                kept.append(shapely.intersection(d.polygon, wall))
        if prev is not None:
            kept.append(prev.polygon)
        poly = without_hairlines(polygonal(shapely.union_all(np.asarray(kept, dtype=object))))
        return Drawn.plain(poly)

    # ------------------------------------------------------------ nested drawing
    def _nested(self, ends: EndTimes, groups: int, thresholds: Sequence[float]) -> list[ObjArray]:
        """Per threshold (ascending), one polygon per group ``0..groups-1``: each circle
        is everything reached within the threshold unioned with the previous
        (smaller) circle, so one tree gives nested circles by construction. The
        connectors drawn at a threshold stay drawn at the larger ones."""
        conn = self._conn
        reach = connector_reach(ends, conn, self.rg.speed_m_per_min)
        need = np.zeros(0, dtype="int64")
        drawn: list[Drawn | None] | None = None
        out: list[ObjArray] = []
        for t in thresholds:
            w = walk_ends(ends, t, self._facts)
            g, c = needed_connectors(ends, w, reach, conn, t, self.buffer_m)
            need = _new_keys(need, g * max(len(conn), 1) + c)
            cg, bi = np.divmod(need, max(len(conn), 1))
            drawn = self._draw_groups(pieces(ends, w), groups, cg, bi, drawn)
            out.append(_polygons_of(drawn))
        return out

    # -------------------------------------------------------------------- views
    def station_circles(
        self, reach: Reach | None, thresholds_min: Sequence[float], *, station_ids: Sequence[str]
    ) -> gpd.GeoDataFrame:
        """Each station's own circle for each threshold (one row per station x threshold).

        Each station is drawn alone on the network (the other stations are no nodes
        of its walk), a batch of stations at a time (:data:`CIRCLE_BATCH_ROWS`).

        Parameters
        ----------
        reach
            The stations' reach (:func:`planner.network.routing.station_reach` or
            :func:`~planner.network.routing.network_reach`; only its rows at network
            nodes are read) up to :meth:`reach_limit` at least, or None to search
            each batch here, which keeps memory to one batch's table. A reach
            stopping short of that is searched again here (the cut at the network's
            gaps needs each station's times up to the largest threshold plus the
            corridor's walking time).
        thresholds_min
            Thresholds, minutes.
        station_ids
            Station id of each station index.

        Returns
        -------
        GeoDataFrame
            Columns ``station_id``, ``station``, ``minutes``, ``area_m2``, geometry
            (projected CRS); rows by threshold, then station. Stations not on the
            network (or, with ``reach``, absent from it) have no rows.
        """
        thresholds = sorted(float(t) for t in thresholds_min)
        stations = (
            np.flatnonzero(self.rg.station_node >= 0)
            if reach is None
            else np.unique(reach.station).astype("int64")
        )
        limit = self.reach_limit(thresholds)
        if reach is not None and reach.limit_min < limit - TIME_TOL_MIN:
            log.debug(
                "circles: reach ends at %g min, short of %g: searched again",
                *(reach.limit_min, limit),
            )
            reach = None
        incidence = network_incidence(self.rg)
        kept = KeptCircles(len(thresholds))
        # the cut's timing (array work, no polygon) runs beside the drawing
        with ThreadPoolExecutor(max_workers=1) as beside:
            for batch, rows in self._batches(stations, reach, limit):
                kept.add(self._batch_circles(batch, rows, incidence, thresholds, beside))
                # the batch's tables and drawings are gone: their pages go back
                release_freed_memory()
        n = len(stations)
        by_t = kept.polygons()
        ids = np.asarray(station_ids, dtype=object)
        crs = self.rg.net.crs
        gdf = gpd.GeoDataFrame(
            {
                "station_id": np.tile(ids[stations], len(thresholds)) if n else [],
                "station": np.tile(stations, len(thresholds)),
                "minutes": np.repeat(np.asarray(thresholds, dtype="float64"), n),
            },
            geometry=gpd.GeoSeries(
                np.concatenate(by_t) if by_t else np.zeros(0, dtype=object), crs=crs
            ),
            crs=crs,
        )
        gdf["area_m2"] = gdf.geometry.area
        return gdf

    def _batch_circles(
        self,
        batch: IntArray,
        rows: tuple[IntArray, IntArray, FloatArray],
        incidence: tuple[IntArray, IntArray, BoolArray],
        thresholds: Sequence[float],
        beside: ThreadPoolExecutor,
    ) -> list[ObjArray]:
        """One batch's own circles (:meth:`station_circles`), per ascending threshold:
        its tables and drawings live only in this call."""
        ends = station_end_times(self.rg, incidence, batch, *rows)
        late = beside.submit(self._late_cells, ends, thresholds)
        drawn = self._nested(ends, len(batch), thresholds)
        return self._clip_own_late(drawn, late.result(), thresholds)

    def _batches(
        self, stations: IntArray, reach: Reach | None, limit_min: float
    ) -> Iterator[tuple[IntArray, tuple[IntArray, IntArray, FloatArray]]]:
        """Batches of ``stations`` (sorted) with their reach at network nodes as
        ``(group, node, time)`` rows, group = position in the batch."""
        size = max(1, CIRCLE_BATCH_ROWS // (self.rg.net.n_edges + 1))
        n_net = self.rg.net.n_nodes
        if reach is not None:
            order = np.argsort(reach.station, kind="stable")
            st_sorted = reach.station[order]
        for lo in range(0, len(stations), size):
            batch = stations[lo : lo + size]
            if reach is None:
                r = network_reach(self.rg, limit_min=limit_min, stations=batch)
                rows = np.arange(len(r.station))
                station, node, time = r.station, r.node, r.time_min
            else:
                a = int(np.searchsorted(st_sorted, batch[0], side="left"))
                b = int(np.searchsorted(st_sorted, batch[-1], side="right"))
                rows = order[a:b]
                station, node, time = reach.station, reach.node, reach.time_min
            rows = rows[node[rows] < n_net]
            log.debug("circles: stations %d-%d, %d reached nodes", lo, lo + len(batch), len(rows))
            yield batch, (np.searchsorted(batch, station[rows]), node[rows], time[rows])

    def union_circles(self, times: NodeTimes, thresholds_min: Sequence[float]) -> gpd.GeoDataFrame:
        """The union of all stations' circles per threshold (one row per threshold).

        Built from the multi-source times: the same reached network as the union of
        the stations' own circles. Columns: ``minutes``, ``area_m2``, geometry.
        """
        thresholds = sorted(float(t) for t in thresholds_min)
        reached = np.flatnonzero(times.time_min <= thresholds[-1])
        ends = routing_end_times(
            self.rg, np.zeros(len(reached), dtype="int64"), reached, times.time_min[reached]
        )
        polys = [p[0] for p in self._nested(ends, 1, thresholds)]
        polys = self._clip_late(polys, times, thresholds)
        crs = self.rg.net.crs
        gdf = gpd.GeoDataFrame(
            {"minutes": thresholds}, geometry=gpd.GeoSeries(polys, crs=crs), crs=crs
        )
        gdf["area_m2"] = gdf.geometry.area
        return gdf

    def _link_cells(self) -> LinkCells:
        """The :class:`~planner.coverage._faces.LinkCells` of the network (built once)."""
        if self._cells is None:
            net = self.rg.net
            self._cells = LinkCells(
                net.geometry,
                net.length_m,
                step_m=self.buffer_m * LINK_CELL_SHARE,
                margin_m=self.buffer_m * 4,
            )
        return self._cells

    def _clip_late(
        self, polys: Sequence[shapely.Geometry], times: NodeTimes, thresholds: Sequence[float]
    ) -> list[shapely.Geometry]:
        """Each circle (ascending ``thresholds``) without the ground whose nearest link is
        reached more than the corridor's walking time after its threshold (or never):
        the corridor never claims the far side of a gap in the network. The ground cut
        at a larger threshold is cut at every smaller one too, so the circles nest."""
        cells = self._link_cells()
        n = len(cells.edge)
        length = self.rg.net.length_m[cells.edge]
        snap = Snap(
            edge=cells.edge,
            offset_m=cells.offset_m,
            to_v_m=length - cells.offset_m,
            snap_m=np.zeros(n),
            access=np.full(n, None, dtype=object),
        )
        t, _station = point_times(self.rg, times, snap)
        slack_min = self._slack_min()
        return [
            cells.clip(p, t, float(m) + slack_min) for p, m in zip(polys, thresholds, strict=True)
        ]

    def reach_limit(self, thresholds_min: Sequence[float]) -> float:
        """How far each station's walk must be searched for its own circles
        (:meth:`station_circles`): the largest threshold plus the corridor's walking
        time, minutes."""
        return max((float(t) for t in thresholds_min), default=0.0) + self._slack_min()

    def _near_links(self) -> sparse.csr_matrix:
        """:func:`_near_matrix` of the network and the buildings' connectors (built once)."""
        if self._near is None:
            cells = self._link_cells()
            conn = self._conn
            reach_m = 2.0 * self.buffer_m + cells.step_m
            conn_len = np.asarray(shapely.length(conn.geometry), dtype="float64")
            self._near = _near_matrix(
                self.rg.net.n_edges,
                cells.near(self.rg.net.geometry, reach_m),
                conn.edge,
                cells.near(conn.geometry, reach_m + conn_len),
            )
        return self._near

    def _slack_min(self) -> float:
        """The corridor half-width's walking time, minutes: ground whose nearest link is
        reached up to this much after a threshold may lie inside its circle."""
        return self.buffer_m / self.rg.speed_m_per_min

    def _late_cells(self, ends: EndTimes, thresholds: Sequence[float]) -> list[_LateCells]:
        """The cells that may be cut from each group's own circles (:meth:`_clip_own_late`),
        a chunk of at most :data:`CLIP_CHUNK_PAIRS` (group, point) pairs timed at once.

        Only the cells of links near what the walk touches can meet a circle
        (:meth:`_near_links`), so only their points are timed; a chunk keeps the cells
        late for the smallest threshold (the only ones any threshold can cut). Array
        work only (no polygon), so :meth:`station_circles` runs it while the circles
        are drawn.
        """
        cells = self._link_cells()
        if len(cells.cells) == 0 or not thresholds or len(ends) == 0:
            return []
        cg, ce, ct = self._near_touched(ends, thresholds)
        per_group = np.bincount(cg, weights=cells.points_per_edge[ce])
        chunk = np.floor_divide(np.cumsum(per_group) - per_group, CLIP_CHUNK_PAIRS)
        bounds = np.searchsorted(cg, np.flatnonzero(np.r_[True, chunk[1:] != chunk[:-1]]))
        first = float(min(thresholds)) + self._slack_min()
        out = []
        for a, b in itertools.pairwise([*bounds.tolist(), len(cg)]):
            g, c, t, near_t = self._earliest_cells(ends, cg[a:b], ce[a:b], ct[a:b])
            keep = ~(t <= first)
            out.append(_LateCells(g[keep], c[keep], t[keep], near_t[keep]))
        return out

    def _clip_own_late(
        self, by_t: Sequence[ObjArray], late: Sequence[_LateCells], thresholds: Sequence[float]
    ) -> list[ObjArray]:
        """Each station's own circles (per ascending threshold, one polygon per group)
        cut like the union (:meth:`_clip_late`), with the times of *that* station's
        walk (``late``, :meth:`_late_cells`): without the ground whose nearest link it
        reaches more than the corridor's walking time after the threshold, or not
        within its walk's limit. Nested like the union's cuts; a cell is cut from a
        circle only once the walk gets near it (``near_min``), and only the late cells
        meeting the circle are tested against it.
        """
        polys_by_t = [np.array(p, dtype=object) for p in by_t]
        for chunk in late:
            for polys, minutes in zip(polys_by_t, thresholds, strict=True):
                cut = ~(chunk.time_min <= float(minutes) + self._slack_min())
                cut &= chunk.near_min <= float(minutes) + TIME_TOL_MIN
                self._cut_cells(polys, chunk.group[cut], chunk.cell[cut])
        return polys_by_t

    def _near_touched(
        self, ends: EndTimes, thresholds: Sequence[float]
    ) -> tuple[IntArray, IntArray, FloatArray]:
        """``(group, edge, time)`` (sorted by group and edge, each pair once) of the links
        whose cells can meet a group's circles: those near a link its walk gets into,
        or near the connector of a building on such a link (:meth:`_near_links`);
        ``time`` is the smallest of ``thresholds`` (ascending) by which the walk gets
        into such a link (a circle of a smaller threshold needs not look at the link).

        One sparse product (walk's links x :func:`_near_matrix`) per threshold, so the
        pairs are found and deduplicated in compiled code.
        """
        near = self._near_links()
        n = self.rg.net.n_edges
        t_in = np.minimum(ends.ta, ends.tb)
        groups = int(ends.group.max()) + 1 if len(ends.group) else 0
        keys: list[IntArray] = []
        for minutes in thresholds:
            sel = t_in <= float(minutes) + TIME_TOL_MIN
            walked = sparse.csr_matrix(
                (np.ones(int(sel.sum())), (ends.group[sel], ends.edge[sel])), shape=(groups, n)
            )
            hit = (walked @ near).tocsr()
            hit.sort_indices()
            rows = np.repeat(np.arange(groups, dtype="int64"), np.diff(hit.indptr))
            keys.append(rows * n + hit.indices.astype("int64"))
        if not keys:
            empty = np.zeros(0, dtype="int64")
            return empty, empty, np.zeros(0)
        last = keys[-1]
        time = np.full(len(last), float(thresholds[-1]))
        for minutes, key in zip(thresholds[-2::-1], keys[-2::-1], strict=True):
            time[np.searchsorted(last, key)] = float(minutes)
        group, edge = np.divmod(last, n)
        return group.astype("int64"), edge.astype("int64"), time

    def _earliest_cells(
        self, ends: EndTimes, group: IntArray, edge: IntArray, near_min: FloatArray
    ) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
        """``(group, cell, time, near)``: each cell of the points along ``edge``, the
        earliest time ``group``'s walk reaches one of its points, and the earliest
        ``near_min`` of their links (when the walk first gets near), minutes."""
        cells = self._link_cells()
        pos, pt = cells.points_on(edge)
        g = group[pos]
        t = point_end_times(ends, g, cells.edge[pt], cells.offset_m[pt], self.rg.speed_m_per_min)
        key = g * len(cells.cells) + cells.cell[pt]
        order = np.argsort(key, kind="stable")
        key, t, near = key[order], t[order], near_min[pos][order]
        first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else pos[:0]
        ug, uc = np.divmod(key[first], len(cells.cells))
        if len(first) == 0:
            return ug.astype("int64"), uc.astype("int64"), t[:0], near[:0]
        return (
            ug.astype("int64"),
            uc.astype("int64"),
            np.minimum.reduceat(t, first),
            np.minimum.reduceat(near, first),
        )

    def _cut_cells(self, polys: ObjArray, group: IntArray, cell: IntArray) -> None:
        """Cut from ``polys[group]`` the cells ``cell`` that meet it (in place; ``group``
        sorted). A link whose own cells are all cut is cut as one merged polygon
        (:meth:`~planner.coverage._faces.LinkCells.merged`: the same ground, a
        fraction of the pieces to test and merge). Each polygon is prepared and cut by
        one thread only: GEOS builds a prepared geometry's index on first use, which
        threads must not share."""
        cells = self._link_cells()
        group, piece = cells.merged(group, cell)
        present = np.unique(group)
        bounds = np.searchsorted(group, np.append(present, np.iinfo(np.int64).max))

        def one(k: int) -> shapely.Geometry:
            poly = polys[present[k]]
            mine = cells.pieces(piece[bounds[k] : bounds[k + 1]])
            shapely.prepare(poly)
            return cells.cut_by(poly, mine[shapely.intersects(poly, mine)])

        polys[present] = np.asarray([*_each(one, len(present)), None], dtype=object)[:-1]

    def nearest_split(
        self,
        times: NodeTimes,
        unions: gpd.GeoDataFrame,
        *,
        station_ids: Sequence[str],
        sample_m: float | None = None,
    ) -> gpd.GeoDataFrame:
        """The reached area split by nearest station, per threshold.

        Each piece of an edge goes to the station reaching it first (the split point
        lies where the two ends' times meet); the area between links goes to the
        nearest reached link (Voronoi partition of points every ``sample_m`` along
        the reached links). Each station's territory is clipped to the union circle
        of each threshold in ``unions``, so the territories of one threshold tile it.

        Columns: ``station_id``, ``station``, ``minutes``, ``area_m2``, geometry.
        """
        crs = self.rg.net.crs
        pcs = self._nearest_pieces(times, float(unions["minutes"].max()))
        if len(pcs.group) == 0:
            return gpd.GeoDataFrame(
                {"station_id": [], "station": [], "minutes": [], "area_m2": []},
                geometry=gpd.GeoSeries([], crs=crs),
                crs=crs,
            )
        envelope = shapely.box(*unions.total_bounds).buffer(self.buffer_m * 4)
        st_arr, ter = self._territories(pcs, envelope, float(sample_m or self.buffer_m))
        return _clip_to_unions(st_arr, ter, unions, np.asarray(station_ids, dtype=object), crs)

    def _nearest_pieces(self, times: NodeTimes, tmax: float) -> Pieces:
        """Each piece of the routing graph split where the walks from its two ends'
        nearest stations meet, each part given to its station, cut at ``tmax``."""
        rg = self.rg
        speed = rg.speed_m_per_min
        ta = times.time_min[rg.a]
        tb = times.time_min[rg.b]
        sa = times.station[rg.a]
        sb = times.station[rg.b]
        plen = rg.end_m - rg.start_m
        with np.errstate(invalid="ignore"):
            x = np.clip(((tb - ta) * speed + plen) / 2.0, 0.0, plen)
        x = np.where(np.isfinite(tb), np.where(np.isfinite(ta), x, 0.0), plen)
        la = np.minimum(x, np.clip((tmax - ta) * speed, -1.0, None))
        lb = np.minimum(plen - x, np.clip((tmax - tb) * speed, -1.0, None))
        has_a = (la >= 0) & (sa >= 0)
        has_b = (lb > 0) & (sb >= 0)
        return Pieces(
            group=np.concatenate([sa[has_a], sb[has_b]]),
            edge=np.concatenate([rg.edge[has_a], rg.edge[has_b]]),
            start_m=np.concatenate([rg.start_m[has_a], (rg.end_m - lb)[has_b]]),
            end_m=np.concatenate([(rg.start_m + la)[has_a], rg.end_m[has_b]]),
        )

    def _territories(
        self, pcs: Pieces, envelope: shapely.Geometry, step_m: float
    ) -> tuple[IntArray, ObjArray]:
        """Stations (sorted) and their territories: the Voronoi cells of points every
        ``step_m`` along each station's stretches, merged per station (the whole
        ``envelope`` when one station holds every point)."""
        lines = self.lines(pcs)
        count = np.ceil(shapely.length(lines) / step_m).astype("int64") + 1
        line_idx = np.repeat(np.arange(len(lines)), count)
        k = np.arange(len(line_idx)) - np.repeat(np.cumsum(count) - count, count)
        frac = k / np.maximum(count - 1, 1)[line_idx]
        pts = shapely.line_interpolate_point(lines[line_idx], frac, normalized=True)
        xy = np.round(shapely.get_coordinates(pts), 3)
        xy, first = np.unique(xy, axis=0, return_index=True)
        label = pcs.group[line_idx][first]
        st_arr = np.unique(label).astype("int64")
        if len(xy) < 3 or len(st_arr) < 2:
            return st_arr, np.asarray([envelope] * len(st_arr) + [None], dtype=object)[:-1]
        cells = shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=envelope, ordered=True)
        cell_arr = np.asarray(shapely.get_parts(cells), dtype=object)
        # GEOS can return a cell as a collection of its polygon and a sliver line
        # (seen on a real-sized street); the union needs polygons only
        odd = shapely.get_type_id(cell_arr) == 7
        cell_arr[odd] = [polygonal(g) for g in cell_arr[odd]]
        # cells grouped by station with one sort (not one scan per station)
        order = np.argsort(label, kind="stable")
        bounds = np.searchsorted(label[order], np.append(st_arr, st_arr[-1] + 1))
        ter = [
            shapely.coverage_union_all(cell_arr[order[bounds[i] : bounds[i + 1]]])
            for i in range(len(st_arr))
        ]
        return st_arr, np.asarray([*ter, None], dtype=object)[:-1]


def _clip_to_unions(
    st_arr: IntArray, ter: ObjArray, unions: gpd.GeoDataFrame, ids: ObjArray, crs: CRS | None
) -> gpd.GeoDataFrame:
    """Territories clipped to each threshold's union circle, one row per station and
    threshold (empty ones dropped)."""
    frames = []
    for minutes, geom in zip(unions["minutes"], unions.geometry, strict=True):
        cut = np.asarray(parallel(shapely.intersection, ter, geom), dtype=object)
        # the territories' and the union's borders can meet along a line (the union is
        # cut along medial lines too): keep the polygons of each overlay only
        mixed = shapely.get_type_id(cut) == 7
        cut[mixed] = [polygonal(g) for g in cut[mixed]]
        frames.append((float(minutes), cut))
    frames.sort(key=lambda f: f[0])
    n = len(st_arr)
    gdf = gpd.GeoDataFrame(
        {
            "station_id": np.tile(ids[st_arr], len(frames)) if n else [],
            "station": np.tile(st_arr, len(frames)),
            "minutes": np.repeat([f[0] for f in frames], n).astype("float64"),
        },
        geometry=gpd.GeoSeries(np.concatenate([f[1] for f in frames]) if frames else [], crs=crs),
        crs=crs,
    )
    gdf = gdf[~gdf.geometry.is_empty].reset_index(drop=True)
    gdf["area_m2"] = gdf.geometry.area
    return gdf


def residential_area(compounds: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame) -> shapely.Geometry:
    """Compounds plus residential buildings (kind residential or with households), merged."""
    res = buildings[(buildings["kind"] == "residential") | (buildings["households"] > 0)]
    parts = np.concatenate([compounds.geometry.to_numpy(), res.geometry.to_numpy()]).astype(object)
    if len(parts) == 0:
        return shapely.Polygon()
    return shapely.union_all(shapely.make_valid(parts))


def _uncovered_residential(
    compounds: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, uncovered: gpd.GeoDataFrame
) -> shapely.Geometry:
    """Compounds with no covered household, plus other uncovered residential footprints."""
    unc = uncovered[(uncovered["kind"] == "residential") | (uncovered["households"] > 0)]
    total = buildings.groupby(buildings["compound_id"].astype(str))["households"].sum()
    lost = unc.groupby(unc["compound_id"].astype(str))["households"].sum()
    comp_ids = compounds["compound_id"].astype(str)
    tot = comp_ids.map(total).fillna(0).to_numpy()
    los = comp_ids.map(lost).fillna(0).to_numpy()
    whole = (tot > 0) & (los >= tot)
    whole_ids = set(comp_ids[whole])
    rest = unc[~unc["compound_id"].astype(str).isin(whole_ids)]
    parts = np.concatenate([compounds.geometry.to_numpy()[whole], rest.geometry.to_numpy()]).astype(
        object
    )
    if len(parts) == 0:
        return shapely.Polygon()
    return shapely.union_all(shapely.make_valid(parts))


def gap_polygons(
    compounds: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    covered: shapely.Geometry,
    *,
    uncovered_buildings: gpd.GeoDataFrame | None = None,
    min_area_m2: float = 1.0,
) -> gpd.GeoDataFrame:
    """Residential parts of the street outside ``covered`` (the gap-threshold union).

    Parameters
    ----------
    compounds, buildings
        Street layers (projected CRS).
    covered
        Union circle of the gap threshold (``Settings.gap_minutes``).
    uncovered_buildings
        Buildings the network figures count as uncovered. When given (the usual
        case), the residential parts are where uncovered households live: every
        compound none of whose households is covered, and the footprints of the
        other uncovered residential buildings; a covered compound is no gap even
        though its courtyards lie beyond the corridors drawn along its paths.
        Without it, all compounds and residential buildings count. Their
        households are summed per gap polygon (by representative point).
    min_area_m2
        Smaller slivers are dropped, m².

    Returns
    -------
    GeoDataFrame
        ``gap_id``, ``compound_id`` (compound holding most of the gap, '' if none),
        ``area_m2``, ``households_uncovered``, ``buildings_uncovered``, geometry.
    """
    crs = buildings.crs
    if uncovered_buildings is None:
        res = residential_area(compounds, buildings)
    else:
        res = _uncovered_residential(compounds, buildings, uncovered_buildings)
    gap = shapely.difference(res, covered) if not shapely.is_empty(covered) else res
    parts = np.asarray(shapely.get_parts(shapely.get_parts(gap)), dtype=object)
    parts = parts[shapely.get_type_id(parts) == 3] if len(parts) else parts
    parts = parts[shapely.area(parts) >= min_area_m2] if len(parts) else parts
    gdf = gpd.GeoDataFrame(
        {"gap_id": [f"gap{i + 1}" for i in range(len(parts))]},
        geometry=gpd.GeoSeries(parts, crs=crs),
        crs=crs,
    )
    gdf["compound_id"] = ""
    if len(gdf) and len(compounds):
        rep = gpd.GeoDataFrame(geometry=gdf.geometry.representative_point(), crs=crs)
        hit = gpd.sjoin(rep, compounds[["compound_id", "geometry"]], predicate="within")
        hit = hit[~hit.index.duplicated()]
        gdf.loc[hit.index, "compound_id"] = hit["compound_id"].astype(str)
    gdf["area_m2"] = gdf.geometry.area
    gdf["households_uncovered"] = 0
    gdf["buildings_uncovered"] = 0
    if uncovered_buildings is not None and len(uncovered_buildings):
        gdf = _attribute_uncovered(gdf, uncovered_buildings, crs=crs)
    return gdf


def _attribute_uncovered(
    gaps: gpd.GeoDataFrame, uncovered: gpd.GeoDataFrame, *, crs: CRS | None
) -> gpd.GeoDataFrame:
    """Give every uncovered building (and its households) to exactly one gap.

    A building goes to the gap holding its representative point; failing that
    (its footprint lies under the drawn circle although the network says it is
    beyond the threshold, or its gap was a sliver below ``min_area_m2``) to the
    nearest gap. With no gap polygon at all, the footprints of those buildings
    become the gaps. So the gaps' ``households_uncovered`` add up to the
    households the coverage figures count as uncovered.
    """
    geoms = uncovered.geometry.to_numpy()
    households = uncovered["households"].to_numpy(dtype=np.float64)
    if len(gaps) == 0:
        parts = np.asarray(shapely.get_parts(shapely.union_all(geoms)), dtype=object)
        parts = parts[shapely.get_type_id(parts) == 3]
        gaps = gpd.GeoDataFrame(
            {
                "gap_id": [f"gap{i + 1}" for i in range(len(parts))],
                "compound_id": "",
                "area_m2": shapely.area(parts),
                "households_uncovered": 0,
                "buildings_uncovered": 0,
            },
            geometry=gpd.GeoSeries(parts, crs=crs),
            crs=crs,
        )
        if len(gaps) == 0:
            return gaps
    gap_geoms = gaps.geometry.to_numpy()
    tree = shapely.STRtree(gap_geoms)
    reps = shapely.point_on_surface(geoms)
    which = np.full(len(geoms), -1, dtype=np.int64)
    b_idx, g_idx = tree.query(reps, predicate="within")
    first = np.unique(b_idx, return_index=True)[1]
    which[b_idx[first]] = g_idx[first]
    rest = np.flatnonzero(which < 0)
    if rest.size:
        r_idx, n_idx = tree.query_nearest(geoms[rest], all_matches=False)
        which[rest[r_idx]] = n_idx
    gaps = gaps.copy()
    gaps["households_uncovered"] = (
        np.bincount(which, weights=households, minlength=len(gaps)).round().astype("int64")
    )
    gaps["buildings_uncovered"] = np.bincount(which, minlength=len(gaps)).astype("int64")
    return gaps
