"""Service-circle polygons drawn from the reached walking network.

A circle of ``T`` minutes is the ground whose *nearest* walkable link point a
station's walk reaches within ``T``, up to ``Settings.circle_buffer_m`` from that
point, *including the partial link at the frontier* (the walk's time along a link
runs from its two ends), plus the ground within the half-width of a node the walk
reaches and the connector lines of the buildings it reaches. It is never a convex
hull or a radius: a walled compound the walk does not enter stays a hole, and ground
nearer to a link reached later than ``T`` (or not at all) is never claimed, so a
circle does not reach across a gap in the network (issue 13 item 5). The circles of
one walk nest by construction.

The circles are drawn from a raster field of the network
(:class:`planner.coverage._field.CircleField`, ``Settings.circle_cell_m`` cells)
built once per network: each circle is one filled contour, computed in C++ by
contourpy, of the field timed from the walk's node times.

Three views of several stations:

* :meth:`CircleBuilder.station_circles`: each station's own circle (they overlap),
  drawn with that station alone on the network (so it does not change when another
  station is added), a batch of stations at a time so memory grows with the
  network a batch reaches, not with stations x network;
* :meth:`CircleBuilder.nearest_split`: the reached area split by nearest station
  (each place goes to the station whose walk reaches it first; the split runs
  midway along each edge between the two stations' times, and across open ground
  by a Voronoi partition of the reached network);
* :meth:`CircleBuilder.union_circles`: the union per threshold (from the
  multi-source times: the ground whose nearest link point *some* station reaches).

:func:`gap_polygons` gives the residential parts of the street (compounds and
residential buildings) outside every circle of the gap threshold
(``Settings.gap_minutes``, 15 minutes by default).

Circles run on all cores; the loops left are over circles (station x threshold),
never over edges, nodes or cells. The tables the walks' times come from are in
:mod:`planner.coverage._reached`. Lengths are metres in the network's projected CRS,
times minutes.
"""

from __future__ import annotations

import hashlib
import logging
import weakref
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

from planner._threads import parallel, workers
from planner.coverage._field import CELL_M, CircleField, FieldRows, WallLayers
from planner.coverage._kept import KeptCircles, release_freed_memory
from planner.coverage._reached import (
    CONNECTOR_SNAP_SHARE,
    TIME_TOL_MIN,
    Connectors,
    EndTimes,
    Pieces,
    connector_reach,
    network_incidence,
    routing_end_times,
    station_end_times,
)
from planner.network.routing import NodeTimes, Reach, RoutingGraph, network_reach
from planner.network.walk import Snap, WalkNetwork

log = logging.getLogger(__name__)

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
ObjArray = NDArray[np.object_]
_T = TypeVar("_T")

__all__ = ["CONNECTOR_SNAP_SHARE", "CircleBuilder", "Pieces", "gap_polygons", "residential_area"]

#: Rows of the reached-pieces table one batch of stations may hold: a station adds at
#: most one row per network edge (plus one), so a batch holds
#: ``CIRCLE_BATCH_ROWS // (edges + 1)`` stations (about 93 on the demo street). The
#: table and the batch's drawings are what the circle step holds at once besides the
#: finished circles (``docs/benchmarks/coverage.md``).
CIRCLE_BATCH_ROWS = 100_000


def polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygons of ``geom`` (a collection's points and lines dropped)."""
    if shapely.get_type_id(geom) in (3, 6):
        return geom
    parts = np.asarray(shapely.get_parts(geom), dtype=object)
    polys = parts[np.isin(shapely.get_type_id(parts), [3, 6])]
    if len(polys) == 0:
        return shapely.Polygon()
    return shapely.union_all(polys)


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
    ``edge_layer`` is each edge's layer, ``layer_walls[k]`` the walls of layer k
    (None for layer 0).
    """

    edge_layer: IntArray
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
    layer_walls: list[shapely.Geometry | None] = [None]
    for k in range(int(colour.max()) + 1):
        wall_k = shapely.union_all(geoms[colour == k])
        shapely.prepare(wall_k)
        layer_walls.append(wall_k)
    return _Walls(edge_layer, layer_walls)


def _connectors(
    net: WalkNetwork,
    points: Snap | None,
    point_geoms: ObjArray | None,
    edge_layer: IntArray,
    buffer_m: float,
) -> Connectors:
    """Connectors of the buildings standing more than :data:`CONNECTOR_SNAP_SHARE` of
    the corridor half-width ``buffer_m`` from their access point (a closer building
    lies in the ground of its access point, drawn with the link when it is reached)."""
    if points is None or point_geoms is None:
        return Connectors.none()
    ok = np.flatnonzero(points.ok & (points.snap_m > buffer_m * CONNECTOR_SNAP_SHARE))
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


#: Fields kept per live network (:func:`_shared_field`): id of the network -> its
#: fields by :func:`_field_key`. An entry goes when its network is collected.
_FIELDS: dict[int, dict[str, CircleField]] = {}


def _field_key(conn: Connectors, walls: _Walls, buffer_m: float, cell_m: float) -> str:
    """What a field depends on besides its network, as a digest: the connectors (edge,
    offset, line), the walls (each edge's layer and the walls' WKB), half-width, cell."""
    h = hashlib.sha1(f"{buffer_m!r}/{cell_m!r}".encode())
    h.update(np.ascontiguousarray(conn.edge).tobytes())
    h.update(np.ascontiguousarray(conn.x_m).tobytes())
    h.update(np.ascontiguousarray(shapely.get_coordinates(conn.geometry)).tobytes())
    h.update(np.ascontiguousarray(walls.edge_layer).tobytes())
    for wall in walls.layer_walls:
        h.update(b"-" if wall is None else shapely.to_wkb(wall))
    return h.hexdigest()


def _shared_field(net: WalkNetwork, key: str, build: Callable[[], CircleField]) -> CircleField:
    """The field ``key`` of ``net``, built by ``build`` the first time and kept while
    ``net`` lives (a weak reference drops it with the network)."""
    mine = _FIELDS.get(id(net))
    if mine is None:
        mine = _FIELDS[id(net)] = {}
        weakref.finalize(net, _FIELDS.pop, id(net), None)
    if key not in mine:
        mine[key] = build()
    return mine[key]


def forget_kept_fields() -> None:
    """Drop every circle field kept per network (:func:`_shared_field`): the next
    drawing on a street builds its field again (for benchmarks timing a first drawing)."""
    _FIELDS.clear()


def _each(func: Callable[[int], _T], n: int) -> list[_T]:
    """``func(0) .. func(n - 1)`` on all cores (one walk's circles each: numpy and
    shapely release the GIL for most of it)."""
    threads = workers()
    if threads > 1 and n > 1:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            return list(pool.map(func, range(n)))
    return [func(k) for k in range(n)]


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
        gated compound with internal paths are respected: the ground inside its wall
        belongs to its own paths only and the ground outside to the outside network,
        so corridors of outside links stop at its wall and a compound the walk does
        not enter stays a hole.
    cell_m
        Cell size of the network's field (``Settings.circle_cell_m``), metres.
    """

    def __init__(
        self,
        rg: RoutingGraph,
        *,
        buffer_m: float,
        points: Snap | None = None,
        point_geoms: ObjArray | None = None,
        compounds: gpd.GeoDataFrame | None = None,
        cell_m: float = CELL_M,
    ) -> None:
        self.rg = rg
        self.buffer_m = float(buffer_m)
        self.cell_m = float(cell_m)
        net = rg.net
        self._v = _edge_vertices(net.geometry)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = self._v.length_m / net.length_m
        #: geometry metres per walking metre of each edge (1 where they agree)
        self._scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        self._w = _walls(net, compounds, self.buffer_m)
        self._conn = _connectors(net, points, point_geoms, self._w.edge_layer, self.buffer_m)
        self._field: CircleField | None = None

    def circle_field(self) -> CircleField:
        """The network's :class:`~planner.coverage._field.CircleField`: it depends on
        the network, the buildings' connectors, the walls, the half-width and the cell
        size only, so it serves every station, threshold and view, and every builder on
        the same network (the coverage's, a service kind's, a scenario's) reuses the
        one built first (:func:`_shared_field`, while the network lives)."""
        if self._field is None:
            key = _field_key(self._conn, self._w, self.buffer_m, self.cell_m)
            self._field = _shared_field(self.rg.net, key, self._build_field)
        return self._field

    def _build_field(self) -> CircleField:
        """A new :class:`~planner.coverage._field.CircleField` of this builder's network."""
        return CircleField(
            self.rg.net.geometry,
            self._scale,
            self._conn.geometry,
            WallLayers(self._w.edge_layer, self._w.layer_walls),
            self._conn.layer,
            buffer_m=self.buffer_m,
            cell_m=self.cell_m,
        )

    def _field_circles(
        self, ends: EndTimes, groups: int, thresholds: Sequence[float]
    ) -> list[ObjArray]:
        """Per threshold (ascending), one polygon per group ``0..groups-1`` drawn from
        the network's field (:meth:`circle_field`), the groups on all cores; nested by
        construction."""
        field_ = self.circle_field()
        speed = self.rg.speed_m_per_min
        reach = connector_reach(ends, self._conn, speed)
        c_group = ends.group[reach.row]
        order = np.argsort(ends.group, kind="stable")
        bounds = np.searchsorted(ends.group[order], np.arange(groups + 1))
        c_order = np.argsort(c_group, kind="stable")
        c_bounds = np.searchsorted(c_group[c_order], np.arange(groups + 1))

        def one(k: int) -> list[shapely.Geometry]:
            r = order[bounds[k] : bounds[k + 1]]
            c = c_order[c_bounds[k] : c_bounds[k + 1]]
            rows = FieldRows(
                edge=ends.edge[r],
                start_m=ends.start_m[r],
                end_m=ends.end_m[r],
                ta=ends.ta[r],
                tb=ends.tb[r],
                conn=reach.conn[c],
                conn_min=reach.time_min[c],
            )
            return field_.draw(rows, thresholds, speed)

        drawn = _each(one, groups)
        return [
            np.asarray([*(d[j] for d in drawn), None], dtype=object)[:-1]
            for j in range(len(thresholds))
        ]

    # ----------------------------------------------------------------- geometry
    def lines(self, pieces: Pieces) -> ObjArray:
        """LineStrings of reached stretches (vectorised substrings of the edges)."""
        v = self._v
        e = pieces.edge
        scale = self._scale[e]
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

    # ------------------------------------------------------------ nested drawing
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
            stopping short of that is searched again here.
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
        for batch, rows in self._batches(stations, reach, limit):
            kept.add(self._batch_circles(batch, rows, incidence, thresholds))
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
    ) -> list[ObjArray]:
        """One batch's own circles (:meth:`station_circles`), per ascending threshold:
        its tables and drawings live only in this call."""
        ends = station_end_times(self.rg, incidence, batch, *rows)
        return self._field_circles(ends, len(batch), thresholds)

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
        polys = [p[0] for p in self._field_circles(ends, 1, thresholds)]
        crs = self.rg.net.crs
        gdf = gpd.GeoDataFrame(
            {"minutes": thresholds}, geometry=gpd.GeoSeries(polys, crs=crs), crs=crs
        )
        gdf["area_m2"] = gdf.geometry.area
        return gdf

    def reach_limit(self, thresholds_min: Sequence[float]) -> float:
        """How far each station's walk must be searched for its own circles
        (:meth:`station_circles`): the largest threshold, minutes (a link neither of
        whose ends is reached by then has no ground in any circle)."""
        return max((float(t) for t in thresholds_min), default=0.0)

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
