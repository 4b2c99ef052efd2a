"""Circles never claim land across a gap in the network (issue 13, item 5): on the real
Beijing extract, of 1,000 points sampled uniformly inside each union circle, at most 1%
lie nearest to a link reached later than the threshold plus the corridor's walking time
(before the clip by link cells: 3.1 %, 1.9 % and 1.6 % at 5, 10 and 15 minutes)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import shapely

from planner.coverage.figures import compute_coverage
from tests.circle_claims import (
    beijing_claims,
    beijing_station_claims,
    circle_claims,
    station_claims,
)
from tests.coverage_streets import network_layers, points, street


def test_beijing_union_circles_claim_no_ground_across_gaps(tmp_path: Path) -> None:
    claims = beijing_claims(tmp_path)
    assert claims.samples == {5.0: 1000, 10.0: 1000, 15.0: 1000}
    for minutes, share in claims.bleed_share.items():
        assert share <= 0.01, (minutes, share)


def test_parallel_unconnected_path_is_not_claimed() -> None:
    # a reached road along y = 0 and, 30 m north, a path joined to it only 1.2 km away
    # (walked in 18+ minutes): the corridor of the road must stop at the medial line
    xy = [(0, 0), (300, 0), (300, 30), (0, 30), (300, 600), (300, 1200), (1500, 0)]
    edges = [(0, 1), (2, 3), (1, 6), (6, 5), (5, 4), (4, 2)]
    nodes, e = network_layers(xy, edges)
    st = street(nodes, e, stations=points([(0.0, 0.0)], station_id=["s"]))
    cov = compute_coverage(st)
    union = cov.circle_builder().union_circles(cov.times, [5.0])
    circle = union.geometry.iloc[0]
    # the medial line (y = 15 m) bounds the road's corridor (25 m) all along the path
    assert circle.contains(shapely.LineString([(10, 13), (290, 13)]))
    assert not circle.intersects(shapely.LineString([(10, 17), (290, 17)]))
    # beyond the path's end the corridor keeps its full half-width
    assert circle.contains(shapely.Point(330, 20))
    claims = circle_claims(cov, union)
    assert claims.bleed_share[5.0] == 0.0
    assert np.isfinite(claims.worst_excess_min[5.0])


def test_cut_circles_are_polygons_and_still_nest() -> None:
    from planner.load.sources import load_street

    cov = compute_coverage(load_street("demo"))
    union = cov.circle_builder().union_circles(cov.times, [5.0, 10.0, 15.0])
    assert set(union.geometry.geom_type) <= {"Polygon", "MultiPolygon"}
    geoms = union.sort_values("minutes").geometry.to_numpy()
    for small, big in itertools.pairwise(geoms):
        assert shapely.area(shapely.difference(small, big)) < 1e-3


def test_beijing_station_circles_claim_no_ground_across_gaps(tmp_path: Path) -> None:
    """Each station's own circle is cut at the gaps like the union (before the cut:
    9.5 %, 9.5 % and 8.3 % of the points sampled in the 14 stations' circles at 5, 10
    and 15 minutes lay nearest to a link that station reaches too late)."""
    claims, n_stations = beijing_station_claims(tmp_path)
    assert n_stations == 14
    assert claims.samples == {5.0: 14_000, 10.0: 14_000, 15.0: 14_000}
    for minutes, share in claims.bleed_share.items():
        assert share <= 0.01, (minutes, share)
    for minutes, share in claims.worst_circle_share.items():
        assert share <= 0.02, (minutes, share)


def test_station_circle_is_cut_at_a_path_only_another_station_reaches() -> None:
    # the road along y = 0 (station a) and, 30 m north, a path joined to it only
    # 1.2 km away, with its own station b: the union may claim the path's side, but
    # a's own circle stops at the medial line (b's walk does not count for a)
    xy = [(0, 0), (300, 0), (300, 30), (0, 30), (300, 600), (300, 1200), (1500, 0)]
    edges = [(0, 1), (2, 3), (1, 6), (6, 5), (5, 4), (4, 2)]
    nodes, e = network_layers(xy, edges)
    st = street(nodes, e, stations=points([(0.0, 0.0), (150.0, 30.0)], station_id=["a", "b"]))
    cov = compute_coverage(st)
    own = cov.circle_builder().station_circles(None, [5.0, 10.0], station_ids=["a", "b"])
    for minutes in (5.0, 10.0):
        a = own[(own["station_id"] == "a") & (own["minutes"] == minutes)].geometry.iloc[0]
        b = own[(own["station_id"] == "b") & (own["minutes"] == minutes)].geometry.iloc[0]
        assert a.contains(shapely.LineString([(10, 13), (290, 13)]))
        assert not a.intersects(shapely.LineString([(10, 17), (290, 17)]))
        assert b.contains(shapely.LineString([(10, 17), (290, 17)]))
        assert not b.intersects(shapely.LineString([(10, 13), (290, 13)]))
        # beyond the path's end a's corridor keeps its full half-width
        assert a.contains(shapely.Point(330, 20))
    claims = station_claims(cov, own)
    assert claims.bleed_share == {5.0: 0.0, 10.0: 0.0}


def test_cut_station_circles_still_nest() -> None:
    from planner.load.sources import load_street

    cov = compute_coverage(load_street("demo"))
    ids = cov.stations["station_id"].astype(str).tolist()
    own = cov.circle_builder().station_circles(None, [5.0, 10.0, 15.0], station_ids=ids)
    assert set(own.geometry.geom_type) <= {"Polygon", "MultiPolygon"}
    for _sid, rows in own.groupby("station_id"):
        geoms = rows.sort_values("minutes").geometry.to_numpy()
        for small, big in itertools.pairwise(geoms):
            assert shapely.area(shapely.difference(small, big)) < 1e-3
