"""Each station's own circles on the real Beijing extract agree with the rule they draw,
computed point by point without the raster (issue 13 item 5, issue 20 item 2).

The rule (:mod:`planner.coverage._field`): a point is covered at ``T`` minutes when the
nearest point ``q`` of its nearest walkable link (found exactly by GEOS here, by a
distance transform and a k-d tree on ``circle_cell_m`` cells in the planner) lies within
``w`` (``circle_buffer_m``) and the station's walk reaches ``q`` within ``T``; or when it
lies within ``w`` of an end of that link's piece the walk reaches within ``T`` (measured
along and across the link); or within ``w`` of the connector of a building whose access
point the walk reaches within ``T``, its nearest link point reached within ``T`` too.
The planner draws that set as a filled contour between cell centres: a point it gets
wrong must lie within about a cell of the drawn edge, and such points must be few.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planner.coverage._reached import (
    EndTimes,
    connector_reach,
    network_incidence,
    station_end_times,
)
from planner.coverage.circles import CircleBuilder
from planner.network.routing import RoutingGraph, network_reach, with_stations
from planner.network.walk import from_layers, snap_points
from planner.settings import Settings

EXTRACT = Path(__file__).parent / "data" / "beijing-haidian-xueyuanlu" / "map.osm.pbf"
THRESHOLDS = (5.0, 10.0, 15.0)
BUF = Settings().circle_buffer_m
CELL = Settings().circle_cell_m


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
        cell_m=CELL,
        points=snap_points(net, centroids, max_m=1e9),
        point_geoms=centroids,
    )
    own = cb.station_circles(None, THRESHOLDS, station_ids=[f"s{i}" for i in range(6)])
    return cb, rg, own


def _walk(rg: RoutingGraph, station: int) -> EndTimes:
    """The station's walk alone on the network, as end times of the pieces it touches."""
    net = rg.net
    r = network_reach(rg, limit_min=max(THRESHOLDS), stations=np.array([station]))
    on_net = r.node < net.n_nodes
    return station_end_times(
        rg,
        network_incidence(rg),
        np.array([station]),
        np.zeros(int(on_net.sum()), dtype="int64"),
        r.node[on_net],
        r.time_min[on_net],
    )


def _on_pieces(ends: EndTimes, edge: np.ndarray, x_m: np.ndarray) -> pd.DataFrame:
    """For points at ``x_m`` walking metres along ``edge``: the piece of the walk holding
    each (``point``, ``row``), the time there and the along-distances to its two ends."""
    rows = pd.DataFrame({"row": np.arange(len(ends)), "edge": ends.edge})
    pts = pd.DataFrame({"point": np.arange(len(edge)), "edge": edge, "x": x_m})
    m = pts.merge(rows, on="edge")
    r = m["row"].to_numpy()
    x = m["x"].to_numpy()
    keep = (x >= ends.start_m[r] - 1e-9) & (x <= ends.end_m[r] + 1e-9)
    m, r, x = m[keep], r[keep], x[keep]
    return m.assign(
        from_a=x - ends.start_m[r],
        from_b=ends.end_m[r] - x,
        ta=ends.ta[r],
        tb=ends.tb[r],
    )


def _rule(cb: CircleBuilder, ends: EndTimes, pts: np.ndarray, minutes: float) -> np.ndarray:
    """Whether each point is covered at ``minutes`` by the rule, computed exactly."""
    net = cb.rg.net
    speed = cb.rg.speed_m_per_min
    tree = shapely.STRtree(net.geometry)
    _p, link = tree.query_nearest(pts, all_matches=False)
    d = shapely.distance(net.geometry[link], pts)
    scale = cb._scale[link]
    x = shapely.line_locate_point(net.geometry[link], pts) / scale
    on = _on_pieces(ends, link, x)
    t = np.minimum(on["ta"] + on["from_a"] / speed, on["tb"] + on["from_b"] / speed)
    dd = d[on["point"].to_numpy()]
    ok = (t <= minutes) & (dd <= BUF)
    ok |= (on["ta"] <= minutes) & (np.hypot(dd, on["from_a"]) <= BUF)
    ok |= (on["tb"] <= minutes) & (np.hypot(dd, on["from_b"]) <= BUF)
    covered = np.zeros(len(pts), dtype=bool)
    covered[on["point"].to_numpy()[ok.to_numpy()]] = True
    # the link's time at each point (inf: the walk does not touch it), for connectors
    link_t = np.full(len(pts), np.inf)
    np.minimum.at(link_t, on["point"].to_numpy(), t.to_numpy())
    conn = cb._conn
    reach = connector_reach(ends, conn, speed)
    reached = np.zeros(len(conn), dtype=bool)
    reached[reach.conn[reach.time_min <= minutes]] = True
    p_idx, c_idx = shapely.STRtree(conn.geometry).query_nearest(
        pts, max_distance=BUF, all_matches=False
    )
    ok = reached[c_idx] & ((d[p_idx] > BUF + CELL) | (link_t[p_idx] <= minutes))
    covered[p_idx[ok]] = True
    return covered


def _near_the_rule(
    cb: CircleBuilder, ends: EndTimes, xy: np.ndarray, minutes: float, drawn_in: np.ndarray
) -> np.ndarray:
    """Whether the rule says ``drawn_in`` at some point within 1.5 cells of each point
    of ``xy`` (metres; 16 directions at three distances)."""
    angle = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    steps = (
        np.concatenate(
            [r * np.stack([np.cos(angle), np.sin(angle)], axis=1) for r in (0.5, 1.0, 1.5)]
        )
        * CELL
    )
    around = (xy[:, None, :] + steps[None, :, :]).reshape(-1, 2)
    rule = _rule(cb, ends, shapely.points(around), minutes).reshape(len(xy), len(steps))
    return (rule == drawn_in[:, None]).any(axis=1)


def test_station_circles_follow_the_rule_point_by_point(drawn) -> None:
    cb, rg, own = drawn
    assert len(own) == 18
    rng = np.random.default_rng(5)
    wrong_total = checked = 0
    for station in np.unique(own["station"]).tolist():
        ends = _walk(rg, station)
        mine = own[own["station"] == station].sort_values("minutes").geometry.to_numpy()
        for minutes, got in zip(THRESHOLDS, mine, strict=True):
            x0, y0, x1, y1 = shapely.bounds(got)
            xy = rng.uniform((x0 - BUF, y0 - BUF), (x1 + BUF, y1 + BUF), (3000, 2))
            pts = shapely.points(xy)
            want = _rule(cb, ends, pts, minutes)
            drawn_in = shapely.contains_xy(got, xy[:, 0], xy[:, 1])
            wrong = drawn_in != want
            # every disagreement lies within about a cell of the rule's edge (the
            # contour interpolates between cell centres, and ground narrower than a
            # cell between two covered strips is drawn covered): the rule gives the
            # drawn answer somewhere within 1.5 cells of it
            assert _near_the_rule(cb, ends, xy[wrong], minutes, ~want[wrong]).all()
            assert want.sum() > 100
            wrong_total += int(wrong.sum())
            checked += len(pts)
    print(f"{wrong_total} of {checked} points disagree")
    assert wrong_total <= 0.01 * checked, (wrong_total, checked)


def test_station_circles_are_valid_polygons_that_nest(drawn) -> None:
    _cb, _rg, own = drawn
    geoms = own.geometry.to_numpy()
    assert shapely.is_valid(geoms).all()
    assert set(shapely.get_type_id(geoms)) <= {3, 6}
    for _s, rows in own.groupby("station"):
        g = rows.sort_values("minutes").geometry.to_numpy()
        for small, big in itertools.pairwise(g):
            assert shapely.area(shapely.difference(small, big)) < 1e-3
