"""Each station's own circles on the real Beijing extract equal a straightforward
reference: the union of a corridor buffered around every reached stretch and the
connector of every building drawn, then cut at the network's gaps cell by cell with
that station's own walking times (issue 13 item 5, issue 20 item 2).

The planner draws the same circles from prepared faces, nested across thresholds, and
cuts only the cells near its walk; a speed-up that dropped a corridor, a connector or a
cut, or claimed a hole, shows here as ground one side has and the other has not.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.ops import substring

from planner.coverage._faces import CONNECTOR_QUAD_SEGS, HOLE_QUAD_SEGS, QUAD_SEGS
from planner.coverage._reached import (
    connector_reach,
    needed_connectors,
    network_incidence,
    pieces,
    point_end_times,
    station_end_times,
    walk_ends,
)
from planner.coverage.circles import CircleBuilder
from planner.network.routing import RoutingGraph, network_reach, with_stations
from planner.network.walk import from_layers, snap_points
from planner.settings import Settings

EXTRACT = Path(__file__).parent / "data" / "beijing-haidian-xueyuanlu" / "map.osm.pbf"
THRESHOLDS = (5.0, 10.0, 15.0)
BUF = Settings().circle_buffer_m


@pytest.fixture(scope="module")
def drawn() -> tuple[CircleBuilder, RoutingGraph, gpd.GeoDataFrame]:
    """Six stations part-way along random links of the whole extract (481 nodes), its
    building centroids as connectors, and the planner's own circles of every station."""
    from planner.load.sources import load_street

    st = load_street(EXTRACT)
    net = from_layers(st.nodes, st.edges)
    rng = np.random.default_rng(20)
    e = rng.choice(net.n_edges, 6, replace=False)
    stations = shapely.line_interpolate_point(
        net.geometry[e], rng.uniform(0.2, 0.8, 6), normalized=True
    )
    rg = with_stations(net, snap_points(net, stations, max_m=1e9))
    centroids = st.buildings.geometry.centroid.to_numpy()
    cb = CircleBuilder(
        rg,
        buffer_m=BUF,
        points=snap_points(net, centroids, max_m=1e9),
        point_geoms=centroids,
    )
    own = cb.station_circles(None, THRESHOLDS, station_ids=[f"s{i}" for i in range(6)])
    return cb, rg, own


def _reference(cb: CircleBuilder, rg: RoutingGraph, station: int) -> list[shapely.Geometry]:
    """One station's circles per threshold, drawn the plain way (one buffer per reached
    stretch and connector, one union, one cut by the late cells)."""
    net = rg.net
    r = network_reach(rg, limit_min=cb.reach_limit(THRESHOLDS), stations=np.array([station]))
    on_net = r.node < net.n_nodes
    ends = station_end_times(
        rg,
        network_incidence(rg),
        np.array([station]),
        np.zeros(int(on_net.sum()), dtype="int64"),
        r.node[on_net],
        r.time_min[on_net],
    )
    facts, conn, speed = cb._facts, cb._conn, rg.speed_m_per_min
    conn_reach = connector_reach(ends, conn, speed)
    cells = cb._link_cells()
    cell_t = point_end_times(
        ends, np.zeros(len(cells.edge), dtype="int64"), cells.edge, cells.offset_m, speed
    )
    drawn_conns: set[int] = set()
    out = []
    for minutes in THRESHOLDS:
        w = walk_ends(ends, minutes, facts)
        pcs = pieces(ends, w)
        scale = facts.geometry_per_length[pcs.edge]
        bufs = []
        for k in range(len(pcs.edge)):
            line = substring(
                net.geometry[pcs.edge[k]], pcs.start_m[k] * scale[k], pcs.end_m[k] * scale[k]
            )
            cap = "flat" if pcs.frontier is not None and pcs.frontier[k] else "round"
            bufs.append(shapely.buffer(line, BUF, quad_segs=QUAD_SEGS, cap_style=cap))
        _g, c = needed_connectors(ends, w, conn_reach, conn, minutes, BUF)
        drawn_conns |= set(c.tolist())
        for j in sorted(drawn_conns):
            bufs.append(shapely.buffer(conn.geometry[j], BUF, quad_segs=CONNECTOR_QUAD_SEGS))
        union = shapely.union_all(np.asarray(bufs, dtype=object))
        out.append(cells.clip(union, cell_t, minutes + BUF / speed))
    return out


def test_station_circles_equal_the_plain_union_of_corridors_cut_at_gaps(drawn) -> None:
    cb, rg, own = drawn
    assert len(own) == 18
    # the planner draws the holes of whole blocks a hair outside the true set (their
    # arcs' chords lie at least BUF from every line): at most this much more ground
    # per metre of hole outline
    hair_m = BUF / np.cos(np.pi / (4 * HOLE_QUAD_SEGS)) - BUF
    for station in np.unique(own["station"]).tolist():
        ref = _reference(cb, rg, station)
        mine = own[own["station"] == station].sort_values("minutes").geometry.to_numpy()
        for minutes, got, want in zip(THRESHOLDS, mine, ref, strict=True):
            missing = shapely.area(shapely.difference(want, got))
            extra = shapely.area(shapely.difference(got, want))
            outline = shapely.length(shapely.boundary(want))
            assert missing <= 1e-4 * want.area + 1.0, (station, minutes, missing, want.area)
            assert extra <= hair_m * outline + 1e-4 * want.area + 1.0, (
                station,
                minutes,
                extra,
                want.area,
            )
