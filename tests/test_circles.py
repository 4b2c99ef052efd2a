"""Service-circle polygons: partial frontier edges, holes, nesting, map agrees with figures."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
import shapely
import shapely.ops
from shapely.ops import substring

from planner.coverage.circles import gap_polygons
from planner.coverage.figures import compute_coverage, covered_column
from planner.network.routing import station_reach
from planner.settings import Settings
from tests.circle_claims import sample_in
from tests.coverage_streets import lattice_layers, network_layers, points, squares, street
from tests.test_routing import random_network, reference_graph

BUF = Settings().circle_buffer_m
SPEED = Settings().walk_m_per_min
CELL = Settings().circle_cell_m


def _circles(st, thresholds=(5.0, 10.0, 15.0), settings=None):
    cov = compute_coverage(
        st, settings=settings or Settings(thresholds_min=thresholds, gap_minutes=max(thresholds))
    )
    cb = cov.circle_builder()
    reach = station_reach(cov.rg, limit_min=cb.reach_limit(thresholds))
    ids = cov.stations["station_id"].tolist()
    own = cb.station_circles(reach, thresholds, station_ids=ids)
    union = cb.union_circles(cov.times, thresholds)
    return cov, cb, own, union


def test_partial_frontier_edge_is_cut_at_the_reached_length() -> None:
    nodes, edges = network_layers([(0, 0), (2000, 0)], [(0, 1)])
    st = street(nodes, edges, stations=points([(600, 0)], station_id=["s"]))
    _cov, _cb, own, union = _circles(st)
    for minutes in (5.0, 10.0, 15.0):
        reach_m = minutes * SPEED
        poly = own[own["minutes"] == minutes].geometry.iloc[0]
        minx, _miny, maxx, _maxy = poly.bounds
        # the corridor ends square where the walk ends; a reached end node gets the
        # whole corridor half-width beyond it (a round cap, drawn between the cells)
        assert maxx == pytest.approx(
            600 + reach_m if 600 + reach_m < 2000 else 2000 + BUF, abs=0.1 * CELL
        )
        assert minx == pytest.approx(600 - reach_m if 600 - reach_m > 0 else -BUF, abs=0.1 * CELL)
    assert union.geometry.iloc[0].equals_exact(own.geometry.iloc[0], 1e-6)


def test_river_with_one_bridge_is_not_claimed_across() -> None:
    # north bank y=100, south bank y=0, one bridge at x=1000 (river between y=20 and 80)
    xy = [(0, 100), (1000, 100), (2000, 100), (0, 0), (1000, 0), (2000, 0)]
    nodes, edges = network_layers(xy, [(0, 1), (1, 2), (3, 4), (4, 5), (1, 4)])
    b = squares(
        [(0, -10), (1500, 110)],
        households=[30, 20],
        kind="residential",
        building_id=["south", "north"],
    )
    st = street(nodes, edges, buildings=b, stations=points([(0, 100)], station_id=["s"]))
    cov, _cb, own, _union = _circles(st, thresholds=(5.0, 15.0, 35.0))
    t = dict(zip(cov.buildings["building_id"], cov.buildings["time_min"], strict=True))
    assert t["south"] == pytest.approx((1000 + 100 + 1000) / SPEED)
    assert t["north"] == pytest.approx(1500 / SPEED)
    c15 = own[own["minutes"] == 15].geometry.iloc[0]
    c35 = own[own["minutes"] == 35].geometry.iloc[0]
    assert not c15.intersects(shapely.Point(0, 0))  # 100 m away across the river
    assert not c15.intersects(shapely.Point(1000, 50))  # the bridge is beyond 15 min
    assert c35.contains(shapely.Point(0, 0))
    assert cov.buildings[covered_column(35)].tolist() == [True, True]
    assert cov.buildings[covered_column(15)].tolist() == [False, False]


def test_gated_compound_is_entered_only_through_its_gate() -> None:
    # public road y=0 (gate node at x=700); compound path from the gate north, then west
    xy = [(0, 0), (700, 0), (1000, 0), (700, 200), (300, 200)]
    nodes, edges = network_layers(
        xy, [(0, 1), (1, 2), (1, 3), (3, 4)], edge_compound=["", "", "c1", "c1"]
    )
    compound = squares([(500, 160)], size=400, compound_id=["c1"], gated=[True], households=[0])
    b = squares(
        [(320, 40)], households=[100], kind="residential", compound_id=["c1"], building_id=["in"]
    )
    st_pts = points([(300, 0)], station_id=["s"])
    st = street(nodes, edges, buildings=b, stations=st_pts, compounds=compound)
    cov, _cb, own, _union = _circles(st)
    # gate 400 m, up 200 m, west 380 m: the wall is not crossed
    assert cov.buildings["time_min"].iloc[0] == pytest.approx(980 / SPEED)
    c5 = own[own["minutes"] == 5].geometry.iloc[0]
    c15 = own[own["minutes"] == 15].geometry.iloc[0]
    access = cov.buildings["access"].iloc[0]
    assert not c5.intersects(access)
    assert c15.intersects(access)
    assert not c15.contains(shapely.Point(500, 100))  # a convex hull would claim this
    ungated = street(
        nodes, edges, buildings=b, stations=st_pts, compounds=compound.assign(gated=[False])
    )
    open_cov = compute_coverage(ungated)
    assert open_cov.buildings["time_min"].iloc[0] == pytest.approx(20 / SPEED)


def test_a_corridor_inside_one_walled_compound_stops_at_its_neighbours_wall() -> None:
    # compounds A (x 200..400) and B (x 400..600) share a wall at x = 400; A's path
    # from its gate at (300, 0) runs to 10 m from that wall; B's path is reached
    # from nowhere (a piece of its own): B must stay out of every circle
    xy = [(0, 0), (300, 0), (1000, 0), (300, 100), (390, 100), (500, 300), (500, 150), (410, 150)]
    nodes, edges = network_layers(
        xy,
        [(0, 1), (1, 2), (1, 3), (3, 4), (5, 6), (6, 7)],
        edge_compound=["", "", "A", "A", "B", "B"],
    )
    compounds = squares(
        [(300, 160), (500, 160)],
        size=200,
        compound_id=["A", "B"],
        gated=[True, True],
        households=[0, 0],
    )
    st = street(nodes, edges, stations=points([(250, 0)], station_id=["s"]), compounds=compounds)
    _cov, _cb, own, union = _circles(st, thresholds=(5.0,))
    b_inside = compounds.geometry.iloc[1].buffer(-1e-6)
    for poly in [*own.geometry, *union.geometry]:
        assert poly.contains(shapely.Point(395, 100))  # A's corridor reaches its wall
        assert shapely.intersection(poly, b_inside).area < 1e-6


def _lattice_street(seed: int = 0):
    nodes, edges = random_network(seed)
    rng = np.random.default_rng(seed)
    bxy = rng.uniform([0, 0], [640, 480], (120, 2))
    b = squares(
        [tuple(p) for p in bxy],
        size=6,
        households=rng.integers(5, 60, len(bxy)),
        kind="residential",
    )
    s = points([(40, 60), (500, 400), (600, 40)], station_id=["a", "b", "c"])
    return street(nodes, edges, buildings=b, stations=s)


def test_circles_nest_and_contain_every_covered_access_point() -> None:
    thresholds = (2.0, 4.0, 6.0)
    cov, _cb, own, union = _circles(_lattice_street(), thresholds=thresholds)
    b = cov.buildings
    for sid in range(len(cov.stations)):
        polys = [
            own[(own.station == sid) & (own.minutes == t)].geometry.iloc[0] for t in thresholds
        ]
        assert shapely.difference(polys[0], polys[1]).area < 1e-3
        assert shapely.difference(polys[1], polys[2]).area < 1e-3
    checked = 0
    for t in thresholds:
        ucirc = union[union.minutes == t].geometry.iloc[0]
        sel = b[b[covered_column(t)]]
        for _, row in sel.iterrows():
            circ = own[(own.station == row["station"]) & (own.minutes == t)].geometry.iloc[0]
            assert circ.buffer(1e-6).contains(row["access"])
            assert ucirc.buffer(1e-6).contains(row["access"])
            checked += 1
        # and an uncovered building's access point is outside the union by network logic
    assert checked > 50


def test_points_inside_circles_are_reachable_within_the_threshold() -> None:
    """Independent check: reached lines from networkx + shapely substring per edge,
    plus the connectors of reached buildings (centroid to access point)."""
    st = _lattice_street(4)
    thresholds = (3.0, 6.0)
    cov, _cb, own, _union = _circles(st, thresholds=thresholds)
    net = cov.net
    snap = cov.station_snap
    on_edge: dict[int, list[tuple[float, object]]] = {}
    for i in range(len(snap)):
        on_edge.setdefault(int(snap.edge[i]), []).append((snap.offset_m[i], f"s{i}"))
    bsnap = cov.building_snap
    for i in range(len(bsnap)):
        on_edge.setdefault(int(bsnap.edge[i]), []).append((bsnap.offset_m[i], f"b{i}"))
    g = reference_graph(net.u, net.v, net.length_m, on_edge)
    centroids = cov.buildings.geometry.centroid.to_numpy()
    rng = np.random.default_rng(7)

    def reached_lines(dist: dict, t: float, connectors: bool = True) -> shapely.Geometry:
        reached = []
        for e in range(net.n_edges):
            line, ln = net.geometry[e], net.length_m[e]
            pts = [
                (0.0, int(net.u[e])),
                *sorted(on_edge.get(e, []), key=lambda x: x[0]),
                (ln, int(net.v[e])),
            ]
            for (o1, n1), (o2, n2) in itertools.pairwise(pts):
                ra = (t - dist.get(n1, np.inf)) * SPEED
                rb = (t - dist.get(n2, np.inf)) * SPEED
                scale = line.length / ln if ln > 0 else 1.0
                if ra >= 0:
                    reached.append(substring(line, o1 * scale, min(o1 + ra, o2) * scale))
                if rb >= 0:
                    reached.append(substring(line, max(o2 - rb, o1) * scale, o2 * scale))
        for i in range(len(bsnap)):
            if connectors and dist.get(f"b{i}", np.inf) <= t and bsnap.snap_m[i] > 1.0:
                reached.append(shapely.LineString([centroids[i], bsnap.access[i]]))
        return shapely.union_all(reached)

    network = shapely.union_all(net.geometry)
    for sid in range(len(snap)):
        dist = nx.single_source_dijkstra_path_length(g, f"s{sid}")
        for t in thresholds:
            poly = own[(own.station == sid) & (own.minutes == t)].geometry.iloc[0]
            xmin, ymin, xmax, ymax = poly.bounds
            cand = shapely.points(rng.uniform([xmin, ymin], [xmax, ymax], (400, 2)))
            inside = cand[shapely.contains(poly, cand)]
            assert len(inside) > 20
            d = shapely.distance(reached_lines(dist, t), inside)
            # (the field's edge runs between cell centres)
            assert d.max() <= BUF + 0.5 * CELL
            # and the circle holds the corridor around everything reached one
            # corridor half-width of walking before the threshold, except the ground
            # nearer to a link this station does not reach within the threshold (issue
            # 13 item 5; the border follows the medial line within a cell)
            early = reached_lines(dist, t - BUF / SPEED, connectors=False)
            inner = [g for g in shapely.get_parts(early) if g.length > 0]
            corridor = shapely.union_all(shapely.buffer(inner, BUF * 0.95))
            missing = shapely.difference(corridor, poly)
            if missing.area >= 1e-3:
                in_time = reached_lines(dist, t, connectors=False)
                late = shapely.difference(network, shapely.buffer(in_time, 1e-6))
                pts = sample_in(missing, 200, rng)
                d_late = shapely.distance(late, pts)
                d_ok = shapely.distance(in_time, pts)
                assert (d_late <= d_ok + CELL).all()
            # and every building the walk reaches stands inside the circle
            reached_b = [i for i in range(len(bsnap)) if dist.get(f"b{i}", np.inf) <= t]
            assert shapely.contains(poly.buffer(1e-6), centroids[reached_b]).all()


def test_nearest_split_tiles_the_union() -> None:
    cov, cb, _own, union = _circles(_lattice_street(2), thresholds=(3.0, 6.0))
    split = cb.nearest_split(cov.times, union, station_ids=cov.stations["station_id"])
    for t in (3.0, 6.0):
        parts = split[split.minutes == t]
        assert len(parts) == 3
        u = union[union.minutes == t].geometry.iloc[0]
        assert parts.area.sum() == pytest.approx(u.area, rel=1e-6)  # no overlaps
        assert shapely.union_all(parts.geometry.to_numpy()).symmetric_difference(u).area < 1.0
    # each covered building's access point lies in its nearest station's territory
    parts = split[split.minutes == 6.0].set_index("station")
    b = cov.buildings[cov.buildings[covered_column(6.0)]]
    inside = [
        parts.geometry[s].buffer(BUF * 0.5).contains(a)
        for s, a in zip(b["station"], b["access"], strict=True)
    ]
    assert np.mean(inside) > 0.95


def test_gaps_are_residential_land_outside_every_circle() -> None:
    nodes, edges = lattice_layers(8, 3, 200.0)
    compound = squares(
        [(1300, 200), (100, 100)], size=150, compound_id=["far", "near"], gated=[True, True]
    )
    b = squares(
        [(100, 100), (1300, 200), (1350, 330)],
        size=10,
        households=[10, 50, 8],
        kind="residential",
        compound_id=["near", "far", ""],
    )
    st = street(
        nodes, edges, buildings=b, compounds=compound, stations=points([(0, 0)], station_id=["s"])
    )
    cov, _cb, _own, union = _circles(st)
    unc = cov.buildings[~cov.buildings[covered_column(15)]]
    gaps = gap_polygons(
        cov.compounds, cov.buildings, union.geometry.iloc[-1], uncovered_buildings=unc
    )
    assert set(unc["households"]) == {50, 8}
    assert gaps["households_uncovered"].sum() == 58
    assert "far" in set(gaps["compound_id"])
    # the covered building stands 100 m from the road; its compound is no gap, not even
    # its courtyard beyond the drawn corridors
    assert not gaps.geometry.union_all().intersects(shapely.Point(100, 100))
    assert not gaps.geometry.union_all().intersects(shapely.Point(60, 140))
    assert "near" not in set(gaps["compound_id"])
    assert shapely.intersection(gaps.geometry.union_all(), union.geometry.iloc[-1]).area < 1e-6


def test_every_uncovered_household_belongs_to_exactly_one_gap() -> None:
    # three uncovered buildings: one in the open, one under the drawn circle (the network
    # says it is beyond the threshold), one too small to leave a gap above min_area_m2
    b = squares(
        [(0, 0), (100, 0), (300, 0)],
        size=10,
        households=[7, 11, 13],
        kind="residential",
        compound_id="",
    )
    b.loc[2, "geometry"] = shapely.box(299.5, -0.5, 300.5, 0.5)  # 1 m²
    none = b.iloc[:0].copy()
    drawn = shapely.box(50, -50, 150, 50)  # covers the second building
    gaps = gap_polygons(none, b, drawn, uncovered_buildings=b, min_area_m2=2.0)
    assert len(gaps) == 1  # only the first building's footprint is drawn as a gap
    assert gaps["households_uncovered"].sum() == 7 + 11 + 13
    assert gaps["buildings_uncovered"].sum() == 3
    # no gap polygon left at all: the uncovered footprints become the gaps
    everything = shapely.box(-100, -100, 400, 100)
    gaps = gap_polygons(none, b, everything, uncovered_buildings=b)
    assert gaps["households_uncovered"].sum() == 31 and gaps["buildings_uncovered"].sum() == 3
    assert set(gaps.columns) >= {"gap_id", "compound_id", "area_m2", "households_uncovered"}


def test_a_station_circle_does_not_depend_on_the_other_stations() -> None:
    # one straight road; station b stands 200 m from a, within a's 5-minute walk: a's
    # own circles are the same with b and without it (b is no node of a's walk)
    nodes, edges = network_layers([(0, 0), (2000, 0)], [(0, 1)])
    _c, _cb, alone, _u = _circles(
        street(nodes, edges, stations=points([(600, 0)], station_id=["a"]))
    )
    both_st = points([(600, 0), (800, 0)], station_id=["a", "b"])
    _c, _cb, both, _u = _circles(street(nodes, edges, stations=both_st))
    for minutes in (5.0, 10.0, 15.0):
        p1 = alone[(alone.station_id == "a") & (alone.minutes == minutes)].geometry.iloc[0]
        p2 = both[(both.station_id == "a") & (both.minutes == minutes)].geometry.iloc[0]
        assert p1.symmetric_difference(p2).area < 1e-6


def test_station_circles_searched_in_batches_equal_those_from_a_given_reach(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from planner.coverage import circles

    thresholds = (2.0, 4.0)
    cov, cb, own, _union = _circles(_lattice_street(3), thresholds=thresholds)
    monkeypatch.setattr(circles, "CIRCLE_BATCH_ROWS", 1)  # one station per batch
    ids = cov.stations["station_id"].tolist()
    batched = cb.station_circles(None, thresholds, station_ids=ids)
    assert batched[["station_id", "station", "minutes"]].equals(
        own[["station_id", "station", "minutes"]]
    )
    for a, b in zip(own.geometry, batched.geometry, strict=True):
        assert a.symmetric_difference(b).area < 1e-6


def test_circle_memory_grows_with_the_network_not_stations_times_stations(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """2,000 stations on a 12-edge street: the reached-pieces tables hold at most one
    row per station and network edge (plus its own edge's split), in batches of at
    most CIRCLE_BATCH_ROWS, and the step's traced memory stays small. The routing
    graph holding every station would give each station ~2,000 nodes to walk
    (4 million pairs: hundreds of MB)."""
    import tracemalloc

    from planner.coverage import _reached, circles

    nodes, edges = lattice_layers(3, 3, 200.0)
    rng = np.random.default_rng(0)
    n_st = 2000
    st = street(
        nodes,
        edges,
        stations=points(
            [tuple(p) for p in rng.uniform(0, 400, (n_st, 2))],
            station_id=[f"s{i}" for i in range(n_st)],
        ),
    )
    settings = Settings(thresholds_min=(3.0,), gap_minutes=3.0)
    cov = compute_coverage(st, settings=settings)
    cb = cov.circle_builder()
    cb.circle_field()
    n_edges = cov.net.n_edges
    rows: list[int] = []
    real = _reached.station_end_times

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        rows.append(len(out))
        return out

    monkeypatch.setattr(circles, "station_end_times", spy)
    monkeypatch.setattr(circles, "CIRCLE_BATCH_ROWS", 20_000)
    tracemalloc.start()
    own = cb.station_circles(None, (3.0,), station_ids=cov.stations["station_id"].tolist())
    _cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(own) == int(cov.stations["on_network"].sum()) > 1900
    assert len(rows) > 1 and max(rows) <= 20_000
    assert sum(rows) <= len(own) * (n_edges + 1)
    assert peak < 48 * 2**20, f"{peak / 2**20:.0f} MB traced"


def test_station_circles_from_a_reach_short_of_the_largest_threshold_are_searched_again() -> None:
    """A reach searched short of the largest threshold cannot draw its circle: the
    circles are drawn from a search of their own, the same as without a reach."""
    thresholds = (2.0, 4.0)
    cov, cb, own, _union = _circles(_lattice_street(3), thresholds=thresholds)
    short = station_reach(cov.rg, limit_min=3.0)
    assert short.limit_min < cb.reach_limit(thresholds) == pytest.approx(4.0)
    again = cb.station_circles(short, thresholds, station_ids=cov.stations["station_id"].tolist())
    for a, b in zip(own.geometry, again.geometry, strict=True):
        assert a.symmetric_difference(b).area < 1e-6


def test_station_circles_on_a_street_whose_voronoi_cell_is_a_collection() -> None:
    """Street 44 of the 64-street synthetic city: GEOS returns one of its 316 territory
    cells as a collection of a polygon and a line, which made the circles fail with
    "Overlay input is mixed-dimension"; every station now gets its polygonal circles."""
    from planner.coverage.layers import compute_coverage_layers
    from planner.load.sources import load_street
    from planner.settings import Settings

    circles = compute_coverage_layers(load_street("demo-city:64/44"), settings=Settings()).circles
    assert len(circles) > 0
    assert set(shapely.get_type_id(circles.geometry.values)) <= {3, 6}
    assert shapely.is_valid(circles.geometry.values).all()


def test_builders_on_one_network_share_its_field() -> None:
    """The field is built once per network and setting: a second builder on the same
    coverage (a service kind's gaps, a scenario) reuses it; another cell size does not."""
    from planner.coverage.circles import CircleBuilder

    cov, cb, _own, _union = _circles(_lattice_street(1), thresholds=(3.0,))
    again = cov.circle_builder()
    assert again.circle_field() is cb.circle_field()
    finer = CircleBuilder(
        cov.rg,
        buffer_m=BUF,
        points=cov.building_snap,
        point_geoms=cov.buildings.geometry.centroid.to_numpy(),
        compounds=cov.compounds,
        cell_m=2.0,
    )
    assert finer.circle_field() is not cb.circle_field()
    assert finer.circle_field().cell_m == 2.0
    bare = CircleBuilder(cov.rg, buffer_m=BUF)  # no buildings: no connectors
    assert bare.circle_field() is not cb.circle_field()
