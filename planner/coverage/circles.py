"""Service-circle polygons drawn from the reached walking network.

A circle is the network a station reaches within a threshold, *including the
partial edge at the frontier* (each edge is cut at the reached length), buffered
by ``Settings.circle_buffer_m``. It is never a convex hull or a radius: a walled
compound the walk does not enter stays a hole. One shortest-path tree serves all
thresholds, so the 5-, 10- and 15-minute circles of a station always nest.

Three views of several stations:

* :meth:`CircleBuilder.station_circles`: each station's own circle (they overlap);
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
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from planner._threads import parallel, workers
from planner.coverage._faces import Drawn, FaceIndex, polygonal, without_hairlines
from planner.network.routing import NodeTimes, Reach, RoutingGraph
from planner.network.walk import Snap

log = logging.getLogger(__name__)

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
ObjArray = NDArray[np.object_]

#: Buildings closer than this to their access point get no connector line, metres.
CONNECTOR_MIN_M = 1.0

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
    frontier: NDArray[np.bool_] | None = None

    def subset(self, keep: NDArray[np.bool_]) -> Pieces:
        """The stretches flagged in ``keep``."""
        fr = None if self.frontier is None else self.frontier[keep]
        return Pieces(self.group[keep], self.edge[keep], self.start_m[keep], self.end_m[keep], fr)


def _new_rows(seen: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``rows`` (columns ``g``, ``bi``) not already in ``seen``."""
    if len(seen) == 0 or len(rows) == 0:
        return rows.drop_duplicates()
    m = rows.merge(seen.drop_duplicates(), on=["g", "bi"], how="left", indicator=True)
    return m.loc[m["_merge"] == "left_only", ["g", "bi"]].drop_duplicates()


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
        point_geoms: Any = None,
        compounds: gpd.GeoDataFrame | None = None,
    ) -> None:
        self.rg = rg
        self.buffer_m = float(buffer_m)
        net = rg.net
        coords, idx = shapely.get_coordinates(net.geometry, return_index=True)
        self._xy = coords[:, :2]
        seg = np.hypot(*np.diff(self._xy, axis=0).T)
        same = idx[1:] == idx[:-1]
        step = np.where(same, seg, 0.0)
        cum = np.concatenate([[0.0], np.cumsum(step)])
        start_of_line = np.concatenate([[True], ~same])
        line_start_cum = np.maximum.accumulate(np.where(start_of_line, cum, 0.0))
        self._cum = cum - line_start_cum
        self._vline = idx.astype("int64")
        self._ptr = np.zeros(net.n_edges + 1, dtype="int64")
        np.cumsum(np.bincount(idx, minlength=net.n_edges), out=self._ptr[1:])
        self._geom_len = shapely.length(net.geometry)
        self._straight = shapely.get_num_coordinates(net.geometry) == 2
        self._width = float(self._geom_len.max(initial=0.0)) * 2.0 + 2.0
        self._vkey = self._vline.astype("float64") * self._width + self._cum
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = self._geom_len / net.length_m
        self._scale = np.where(np.isfinite(scale), scale, 1.0)
        self._inc = rg.incidence()
        self._conn = pd.DataFrame({"p": [], "bi": [], "x": [], "snap": []})
        self._conn_geom = np.zeros(0, dtype=object)
        self._conn_layer = np.zeros(0, dtype="int64")
        self._walls: Any = None
        # layer 0: the outside network; layer k >= 1: the own paths of the walled
        # compounds of colour k (compounds of one colour lie more than two corridor
        # half-widths apart, so a corridor drawn inside one never reaches another)
        self._edge_layer = np.zeros(net.n_edges, dtype="int64")
        self._layer_walls: list[Any] = [None]
        if compounds is not None and len(compounds):
            gated = compounds[compounds["gated"].astype(bool)]
            with_paths = set(net.compound_id[net.compound_id != ""].tolist())
            walled = gated[gated["compound_id"].astype(str).isin(with_paths)]
            if len(walled):
                geoms = np.asarray(shapely.make_valid(walled.geometry.to_numpy()), dtype=object)
                colour = _colours(geoms, 2.0 * self.buffer_m)
                ids = walled["compound_id"].astype(str).to_numpy()
                layer_of = dict(zip(ids.tolist(), (colour + 1).tolist(), strict=True))
                cid = pd.Series(net.compound_id).map(layer_of)
                self._edge_layer = cid.fillna(0).to_numpy(dtype="int64")
                self._walls = shapely.union_all(geoms)
                shapely.prepare(self._walls)
                for k in range(int(colour.max()) + 1):
                    wall_k = shapely.union_all(geoms[colour == k])
                    shapely.prepare(wall_k)
                    self._layer_walls.append(wall_k)
        # Every reached building more than CONNECTOR_MIN_M from its access point gets
        # a connector (near the frontier even a close one can fall outside the cap).
        far = points.ok & (points.snap_m > CONNECTOR_MIN_M) if points is not None else None
        if points is not None and point_geoms is not None and far is not None and far.any():
            ok = np.flatnonzero(far)
            piece = rg.locate(points.edge[ok], points.offset_m[ok])
            x = np.clip(points.offset_m[ok], rg.start_m[piece], rg.end_m[piece])
            self._conn = pd.DataFrame(
                {"p": piece, "bi": np.arange(len(ok)), "x": x, "snap": points.snap_m[ok]}
            )
            self._conn_layer = self._edge_layer[points.edge[ok]]
            pg = np.asarray(point_geoms, dtype=object)[ok]
            self._conn_geom = np.asarray(
                shapely.linestrings(
                    np.stack(
                        [
                            shapely.get_coordinates(pg)[:, :2],
                            shapely.get_coordinates(points.access[ok])[:, :2],
                        ],
                        axis=1,
                    )
                ),
                dtype=object,
            )

    # ----------------------------------------------------------------- geometry
    def lines(self, pieces: Pieces) -> ObjArray:
        """LineStrings of reached stretches (vectorised substrings of the edges)."""
        e = pieces.edge
        s = np.clip(pieces.start_m * self._scale[e], 0.0, self._geom_len[e])
        t = np.clip(pieces.end_m * self._scale[e], s, self._geom_len[e])
        base = e.astype("float64") * self._width
        lo = np.searchsorted(self._vkey, base + s, side="right")
        hi = np.searchsorted(self._vkey, base + t, side="left")
        n_int = np.maximum(hi - lo, 0)
        sxy = self._point_at(e, s)
        txy = self._point_at(e, t)
        counts = n_int + 2
        ends = np.cumsum(counts)
        starts = ends - counts
        out = np.empty((int(ends[-1]) if len(ends) else 0, 2))
        out[starts] = sxy
        out[ends - 1] = txy
        total_int = int(n_int.sum())
        if total_int:
            first_int = np.cumsum(n_int) - n_int
            k = np.arange(total_int) - np.repeat(first_int, n_int)
            out[np.repeat(starts + 1, n_int) + k] = self._xy[np.repeat(lo, n_int) + k]
        return np.asarray(
            shapely.linestrings(out, indices=np.repeat(np.arange(len(e)), counts)), dtype=object
        )

    def _point_at(self, e: IntArray, s: FloatArray) -> FloatArray:
        """Coordinates at distance ``s`` (geometry metres) along edges ``e``."""
        j = np.searchsorted(self._vkey, e * self._width + s, side="right") - 1
        j = np.clip(j, self._ptr[e], np.maximum(self._ptr[e + 1] - 2, self._ptr[e]))
        j1 = np.minimum(j + 1, self._ptr[e + 1] - 1)
        seg = self._cum[j1] - self._cum[j]
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(seg > 0, (s - self._cum[j]) / seg, 0.0)
        f = np.clip(f, 0.0, 1.0)[:, None]
        result: FloatArray = self._xy[j] + f * (self._xy[j1] - self._xy[j])
        # a stretch ending at a vertex ends exactly on it, so stretches meeting at a
        # node share the node's coordinates bit for bit (needed to polygonize them)
        result = np.where(f >= 1.0 - 1e-9, self._xy[j1], result)
        return result

    def prepare(self) -> CircleBuilder:
        """Build the network's face indexes now (otherwise on the first circle drawn).

        They depend on the network, the buildings and the walls only, so one
        preparation serves every station, threshold and view.
        """
        for k in range(len(self._layer_walls)):
            self._layer(k)
        return self

    def _layer(self, layer: int) -> tuple[FaceIndex, IntArray, IntArray]:
        """The face index of the outside network (layer 0) or of the own paths of one
        colour of walled compounds, with their connectors, and the maps from network
        edge and connector to their index in it (-1: another layer). Built once."""
        cache: dict[int, tuple[FaceIndex, IntArray, IntArray]] = self.__dict__.setdefault(
            "_faces", {}
        )
        if layer not in cache:
            net = self.rg.net
            edges = np.flatnonzero(self._edge_layer == layer)
            conns = np.flatnonzero(self._conn_layer == layer)
            local_e = np.full(net.n_edges, -1, dtype="int64")
            local_e[edges] = np.arange(len(edges))
            local_c = np.full(len(self._conn_geom), -1, dtype="int64")
            local_c[conns] = np.arange(len(conns))
            snap = self._conn["snap"].to_numpy(dtype="float64")[conns]
            index = FaceIndex(
                net.geometry[edges],
                net.length_m[edges],
                self._conn_geom[conns],
                buffer_m=self.buffer_m,
                carve=snap > self.buffer_m * CONNECTOR_SNAP_SHARE,
            )
            cache[layer] = (index, local_e, local_c)
        return cache[layer]

    def polygons(
        self,
        pieces: Pieces,
        groups: int,
        connectors: pd.DataFrame | None = None,
        *,
        base: Sequence[Drawn | None] | None = None,
    ) -> list[Drawn | None]:
        """One drawn circle per group ``0..groups-1`` (None where nothing is reached).

        ``connectors`` (columns ``g``, ``bi``) adds reached buildings' connectors;
        ``base`` (one drawing per group, e.g. the circle of the next smaller
        threshold) is contained in the result exactly, so the circles nest.
        """
        out: list[Drawn | None] = [None] * groups if base is None else list(base)
        # only stretches short of their whole edge are drawn as lines (a whole edge
        # is drawn from its prepared corridor)
        lines = np.full(len(pieces.group), None, dtype=object)
        edge_len = self.rg.net.length_m[pieces.edge]
        short = (pieces.end_m - pieces.start_m < edge_len - 1e-6) | (edge_len <= 0)
        if short.any():
            lines[short] = self.lines(pieces.subset(short))
        frontier = (
            np.zeros(len(pieces.group), dtype=bool) if pieces.frontier is None else pieces.frontier
        )
        bi = (
            connectors["bi"].to_numpy(dtype="int64")
            if connectors is not None and len(connectors)
            else np.zeros(0, dtype="int64")
        )
        cg = (
            connectors["g"].to_numpy(dtype="int64")
            if connectors is not None and len(connectors)
            else np.zeros(0, dtype="int64")
        )
        # every piece is drawn on the edge it lies on; its length in walking metres
        reached = pieces.end_m - pieces.start_m
        present = np.union1d(pieces.group, cg).astype("int64")
        if len(present) == 0:
            return out
        p_order = np.argsort(pieces.group, kind="stable")
        p_bounds = np.searchsorted(pieces.group[p_order], np.append(present, groups))
        c_order = np.argsort(cg, kind="stable")
        c_bounds = np.searchsorted(cg[c_order], np.append(present, groups))
        walls = self._walls
        layers = range(len(self._layer_walls))
        prepared = {k: self._layer(k) for k in layers}

        def one(k: int) -> Drawn:
            g = int(present[k])
            pi = p_order[p_bounds[k] : p_bounds[k + 1]]
            ci = c_order[c_bounds[k] : c_bounds[k + 1]]
            prev = out[g]
            drawn: dict[int, Drawn] = {}
            for w in layers:
                index, local_e, local_c = prepared[w]
                mine = pi[local_e[pieces.edge[pi]] >= 0]
                lc = local_c[bi[ci]]
                drawn[w] = index.draw(
                    local_e[pieces.edge[mine]],
                    reached[mine],
                    lines[mine],
                    lc[lc >= 0],
                    square=frontier[mine],
                    base=prev if walls is None else None,
                )
            if walls is None:
                return drawn[0]
            # outside corridors stop at every wall; each compound's inside is drawn
            # from its own paths only
            kept = [shapely.difference(drawn[0].polygon, walls)]
            for w in layers[1:]:
                if not shapely.is_empty(drawn[w].polygon):
                    kept.append(shapely.intersection(drawn[w].polygon, self._layer_walls[w]))
            if prev is not None:
                kept.append(prev.polygon)
            poly = without_hairlines(polygonal(shapely.union_all(np.asarray(kept, dtype=object))))
            return Drawn.plain(poly)

        threads = workers()
        if threads > 1 and len(present) > 1:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                results = list(pool.map(one, range(len(present))))
        else:
            results = [one(k) for k in range(len(present))]
        for g, d in zip(present.tolist(), results, strict=True):
            out[g] = d
        return out

    def _connector_times(self, ends: pd.DataFrame) -> pd.DataFrame:
        """Per (group, building): walking time to the building's access point."""
        if len(self._conn) == 0:
            return pd.DataFrame({"g": [], "bi": [], "t": []})
        m = ends.merge(self._conn, on="p")
        p = m["p"].to_numpy(dtype="int64")
        rg = self.rg
        speed = rg.speed_m_per_min
        x = m["x"].to_numpy()
        t = np.minimum(
            m["ta"].to_numpy() + (x - rg.start_m[p]) / speed,
            m["tb"].to_numpy() + (rg.end_m[p] - x) / speed,
        )
        out = pd.DataFrame({"g": m["g"].to_numpy(), "bi": m["bi"].to_numpy(), "t": t})
        result = out.groupby(["g", "bi"], as_index=False, sort=False).agg(t=("t", "min"))
        return result

    # ------------------------------------------------------------ reached pieces
    def _end_times(self, group: IntArray, node: IntArray, time_min: FloatArray) -> pd.DataFrame:
        """Per (group, piece): the time at its ``a`` end and at its ``b`` end."""
        ptr, piece, at_a = self._inc
        deg = ptr[node + 1] - ptr[node]
        rows = np.repeat(np.arange(len(node)), deg)
        k = np.arange(len(rows)) - np.repeat(np.cumsum(deg) - deg, deg)
        inc = ptr[node][rows] + k
        df = pd.DataFrame(
            {
                "g": group[rows],
                "p": piece[inc],
                "ta": np.where(at_a[inc], time_min[rows], np.inf),
                "tb": np.where(at_a[inc], np.inf, time_min[rows]),
            }
        )
        return df.groupby(["g", "p"], sort=False, as_index=False).min()

    def _walk_ends(self, ends: pd.DataFrame, threshold_min: float) -> dict[str, Any]:
        """Per row of ``ends`` (group, piece): how far the walk reaches into the piece
        from each end within ``threshold_min`` and how each frontier end is drawn.

        A frontier stretch on a straight link ends square where a whole link of
        positive length draws the node it starts from round; elsewhere (at the
        station, on bent links, whose bend a square end would cut) it ends round,
        drawn one corridor half-width short (``cut_a``/``cut_b``, metres in
        ``length_m`` units) so its cap ends where the walk ends.
        """
        rg = self.rg
        p = ends["p"].to_numpy()
        g = ends["g"].to_numpy().astype("int64")
        plen = rg.end_m[p] - rg.start_m[p]
        speed = rg.speed_m_per_min
        tol = threshold_min + 1e-9
        ra = np.clip((tol - ends["ta"].to_numpy()) * speed, -1.0, None)
        rb = np.clip((tol - ends["tb"].to_numpy()) * speed, -1.0, None)
        full = ra + rb >= plen
        e = rg.edge[p]
        n = rg.n_nodes
        whole = full & (rg.net.length_m[e] > 0)
        round_nodes = np.concatenate([g[whole] * n + rg.a[p][whole], g[whole] * n + rg.b[p][whole]])
        straight = self._straight[e]
        sq_a = ~full & straight & np.isin(g * n + rg.a[p], round_nodes)
        sq_b = ~full & straight & np.isin(g * n + rg.b[p], round_nodes)
        cut = self.buffer_m / self._scale[e]
        return {
            "p": p,
            "e": e,
            "plen": plen,
            "ra": ra,
            "rb": rb,
            "full": full,
            "sq_a": sq_a,
            "sq_b": sq_b,
            "cut_a": np.where(sq_a, 0.0, cut),
            "cut_b": np.where(sq_b, 0.0, cut),
        }

    def _pieces(self, w: dict[str, Any], group: IntArray) -> Pieces:
        """Stretches reached, from the walk ends of one threshold (:meth:`_walk_ends`).

        A link reached from both ends together with its length is one whole
        stretch; otherwise each end the walk enters gives a frontier stretch (see
        :meth:`_walk_ends`; ``frontier`` set where it ends square).
        """
        rg = self.rg
        p, plen, ra, rb, full = w["p"], w["plen"], w["ra"], w["rb"], w["full"]
        has_a = full | (ra >= 0)
        has_b = ~full & (rb >= 0)
        a_end = np.where(full, plen, np.clip(ra - w["cut_a"], 0.0, plen))
        b_len = np.clip(rb - w["cut_b"], 0.0, plen)
        return Pieces(
            group=np.concatenate([group[has_a], group[has_b]]),
            edge=np.concatenate([w["e"][has_a], w["e"][has_b]]),
            start_m=np.concatenate([rg.start_m[p][has_a], (rg.end_m[p] - b_len)[has_b]]),
            end_m=np.concatenate([(rg.start_m[p] + a_end)[has_a], rg.end_m[p][has_b]]),
            frontier=np.concatenate([w["sq_a"][has_a], w["sq_b"][has_b]]),
        )

    def _needed_connectors(
        self, conn: pd.DataFrame, ends: pd.DataFrame, w: dict[str, Any], threshold_min: float
    ) -> pd.DataFrame:
        """Connectors of buildings reached within the threshold whose point the drawn
        corridor could miss: standing farther than 98 % of the corridor half-width
        from the access point, or with the access point on the undrawn tip of a
        round-capped frontier stretch."""
        c = conn[conn["t"] <= threshold_min + 1e-9]
        if len(c) == 0:
            return pd.DataFrame({"g": [], "bi": []})
        info = self._conn.iloc[c["bi"].to_numpy(dtype="int64")]
        m = pd.DataFrame(
            {
                "g": c["g"].to_numpy(),
                "bi": c["bi"].to_numpy(),
                "p": info["p"].to_numpy(),
                "x": info["x"].to_numpy(),
                "snap": info["snap"].to_numpy(),
            }
        ).merge(ends[["g", "p"]].assign(row=np.arange(len(ends))), on=["g", "p"], how="left")
        row = m["row"].to_numpy(dtype="int64")
        rg = self.rg
        p = m["p"].to_numpy(dtype="int64")
        x = m["x"].to_numpy()
        covered = (
            w["full"][row]
            | (x - rg.start_m[p] <= w["ra"][row] - w["cut_a"][row])
            | (rg.end_m[p] - x <= w["rb"][row] - w["cut_b"][row])
        )
        need = ~covered | (m["snap"].to_numpy() > self.buffer_m * CONNECTOR_SNAP_SHARE)
        return m.loc[need, ["g", "bi"]]

    # -------------------------------------------------------------------- views
    def station_circles(
        self, reach: Reach, thresholds_min: Sequence[float], *, station_ids: Sequence[str]
    ) -> gpd.GeoDataFrame:
        """Each station's own circle for each threshold (one row per station x threshold).

        Columns: ``station_id``, ``minutes``, ``area_m2``, geometry (projected CRS).
        """
        thresholds = sorted(float(t) for t in thresholds_min)
        ends = self._end_times(reach.station, reach.node, reach.time_min)
        conn = self._connector_times(ends)
        stations = np.unique(reach.station)
        rows: list[pd.DataFrame] = []
        need = pd.DataFrame({"g": [], "bi": []})
        drawn: list[Drawn | None] | None = None
        for t in thresholds:
            # each circle = everything reached within t, unioned with the previous
            # (smaller) circle: one tree, nested by construction
            w = self._walk_ends(ends, t)
            pcs = self._pieces(w, ends["g"].to_numpy())
            pos = np.searchsorted(stations, pcs.group)
            new_need = _new_rows(need, self._needed_connectors(conn, ends, w, t))
            need = pd.concat([need, new_need])
            c = pd.DataFrame(
                {
                    "g": np.searchsorted(stations, need["g"].to_numpy(dtype="int64")),
                    "bi": need["bi"].to_numpy(dtype="int64"),
                }
            )
            drawn = self.polygons(
                Pieces(pos, pcs.edge, pcs.start_m, pcs.end_m, pcs.frontier),
                len(stations),
                c,
                base=drawn,
            )
            rows.append(
                pd.DataFrame(
                    {
                        "station": stations,
                        "minutes": t,
                        "geometry": _polygons_of(drawn),
                    }
                )
            )
        df = (
            pd.concat(rows, ignore_index=True)
            if rows
            else pd.DataFrame({"station": [], "minutes": [], "geometry": []})
        )
        ids = np.asarray(station_ids, dtype=object)
        gdf = gpd.GeoDataFrame(
            {
                "station_id": ids[df["station"].to_numpy(dtype="int64")] if len(df) else [],
                "station": df["station"].to_numpy(dtype="int64"),
                "minutes": df["minutes"].to_numpy(dtype="float64"),
            },
            geometry=gpd.GeoSeries(df["geometry"].to_numpy(), crs=self.rg.net.crs),
            crs=self.rg.net.crs,
        )
        gdf["area_m2"] = gdf.geometry.area
        return gdf

    def union_circles(self, times: NodeTimes, thresholds_min: Sequence[float]) -> gpd.GeoDataFrame:
        """The union of all stations' circles per threshold (one row per threshold).

        Built from the multi-source times: the same reached network as the union of
        the stations' own circles. Columns: ``minutes``, ``area_m2``, geometry.
        """
        thresholds = sorted(float(t) for t in thresholds_min)
        reached = np.flatnonzero(times.time_min <= thresholds[-1])
        ends = self._end_times(
            np.zeros(len(reached), dtype="int64"), reached, times.time_min[reached]
        )
        conn = self._connector_times(ends)
        need = pd.DataFrame({"g": [], "bi": []})
        polys = []
        last: list[Drawn | None] | None = None
        for t in thresholds:
            w = self._walk_ends(ends, t)
            pcs = self._pieces(w, np.zeros(len(ends), dtype="int64"))
            new_need = _new_rows(need, self._needed_connectors(conn, ends, w, t))
            need = pd.concat([need, new_need])
            last = self.polygons(pcs, 1, need, base=last)
            polys.append(_polygons_of(last)[0])
        gdf = gpd.GeoDataFrame(
            {"minutes": thresholds},
            geometry=gpd.GeoSeries(polys, crs=self.rg.net.crs),
            crs=self.rg.net.crs,
        )
        gdf["area_m2"] = gdf.geometry.area
        return gdf

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
        rg = self.rg
        tmax = float(unions["minutes"].max())
        speed = rg.speed_m_per_min
        ta = times.time_min[rg.a]
        tb = times.time_min[rg.b]
        sa = times.station[rg.a]
        sb = times.station[rg.b]
        plen = rg.end_m - rg.start_m
        with np.errstate(invalid="ignore"):
            x = np.clip(((tb - ta) * speed + plen) / 2.0, 0.0, plen)
        x = np.where(np.isfinite(tb), np.where(np.isfinite(ta), x, 0.0), plen)
        ra = np.clip((tmax - ta) * speed, -1.0, None)
        rb = np.clip((tmax - tb) * speed, -1.0, None)
        la = np.minimum(x, ra)
        lb = np.minimum(plen - x, rb)
        has_a = (la >= 0) & (sa >= 0)
        has_b = (lb > 0) & (sb >= 0)
        pcs = Pieces(
            group=np.concatenate([sa[has_a], sb[has_b]]),
            edge=np.concatenate([rg.edge[has_a], rg.edge[has_b]]),
            start_m=np.concatenate([rg.start_m[has_a], (rg.end_m - lb)[has_b]]),
            end_m=np.concatenate([(rg.start_m + la)[has_a], rg.end_m[has_b]]),
        )
        ids = np.asarray(station_ids, dtype=object)
        crs = rg.net.crs
        if len(pcs.group) == 0:
            return gpd.GeoDataFrame(
                {"station_id": [], "station": [], "minutes": [], "area_m2": []},
                geometry=gpd.GeoSeries([], crs=crs),
                crs=crs,
            )
        step = float(sample_m or self.buffer_m)
        lines = self.lines(pcs)
        glen = shapely.length(lines)
        count = np.ceil(glen / step).astype("int64") + 1
        line_idx = np.repeat(np.arange(len(lines)), count)
        k = np.arange(len(line_idx)) - np.repeat(np.cumsum(count) - count, count)
        frac = k / np.maximum(count - 1, 1)[line_idx]
        pts = shapely.line_interpolate_point(lines[line_idx], frac, normalized=True)
        xy = np.round(shapely.get_coordinates(pts), 3)
        xy, first = np.unique(xy, axis=0, return_index=True)
        label = pcs.group[line_idx][first]
        territory: dict[int, shapely.Geometry] = {}
        if len(xy) >= 3 and len(np.unique(label)) > 1:
            env = shapely.box(*unions.total_bounds).buffer(self.buffer_m * 4)
            cells = shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=env, ordered=True)
            cell_arr = np.asarray(shapely.get_parts(cells), dtype=object)
            for st in np.unique(label):
                territory[int(st)] = shapely.coverage_union_all(cell_arr[label == st])
        else:
            for st in np.unique(label):
                territory[int(st)] = shapely.box(*unions.total_bounds).buffer(self.buffer_m * 4)
        st_arr = np.array(sorted(territory), dtype="int64")
        ter = np.array([territory[int(s)] for s in st_arr], dtype=object)
        frames = []
        for _, row in unions.sort_values("minutes").iterrows():
            clipped = parallel(shapely.intersection, ter, row.geometry)
            frames.append(
                pd.DataFrame(
                    {"station": st_arr, "minutes": float(row["minutes"]), "geometry": clipped}
                )
            )
        df = pd.concat(frames, ignore_index=True)
        gdf = gpd.GeoDataFrame(
            {
                "station_id": ids[df["station"].to_numpy()],
                "station": df["station"].to_numpy(dtype="int64"),
                "minutes": df["minutes"].to_numpy(dtype="float64"),
            },
            geometry=gpd.GeoSeries(df["geometry"].to_numpy(), crs=crs),
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
    gaps: gpd.GeoDataFrame, uncovered: gpd.GeoDataFrame, *, crs: Any
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
