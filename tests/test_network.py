"""Walking network arrays, snapping by projection, gated compounds, connected pieces."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from planner.errors import InputError
from planner.network.walk import components_table, from_layers, point_components, snap_points
from planner.settings import Settings
from tests.coverage_streets import lattice_layers, network_layers


def test_edge_times_follow_walking_speed() -> None:
    nodes, edges = network_layers([(0, 0), (1000, 0), (1000, 500)], [(0, 1), (1, 2)])
    net = from_layers(nodes, edges, settings=Settings(walk_speed_kmh=4))
    assert net.time_min.tolist() == pytest.approx([15.0, 7.5])
    assert net.csr[0, 1] == pytest.approx(15.0) and net.csr[1, 0] == pytest.approx(15.0)


def test_parallel_edges_keep_the_shortest() -> None:
    nodes, edges = network_layers([(0, 0), (100, 0)], [(0, 1), (1, 0)], bends={0: [(50, 80)]})
    net = from_layers(nodes, edges)
    assert net.csr[0, 1] == pytest.approx(100 / Settings().walk_m_per_min)


def test_snap_projects_onto_bent_edge() -> None:
    # edge goes (0,0) -> (300,0) -> (300,400); the point lies beside the second leg
    nodes, edges = network_layers([(0, 0), (300, 400)], [(0, 1)], bends={0: [(300, 0)]})
    net = from_layers(nodes, edges)
    snap = snap_points(net, shapely.points([(320, 100), (150, -12)]))
    assert snap.edge.tolist() == [0, 0]
    assert snap.offset_m.tolist() == pytest.approx([400.0, 150.0])
    assert snap.to_v_m.tolist() == pytest.approx([300.0, 550.0])
    assert snap.snap_m.tolist() == pytest.approx([20.0, 12.0])
    assert shapely.get_coordinates(snap.access).ravel().tolist() == pytest.approx(
        [300, 100, 150, 0]
    )


def test_points_too_far_are_not_snapped() -> None:
    nodes, edges = network_layers([(0, 0), (100, 0)], [(0, 1)])
    net = from_layers(nodes, edges)
    snap = snap_points(net, shapely.points([(50, 10), (50, 400)]), max_m=300)
    assert snap.ok.tolist() == [True, False]
    assert np.isnan(snap.offset_m[1])


def test_gated_compound_buildings_snap_only_onto_internal_paths() -> None:
    # public road along y=0; compound path along y=60 from a gate at (0,0)
    xy = [(0, 0), (500, 0), (0, 60), (500, 60)]
    nodes, edges = network_layers(xy, [(0, 1), (0, 2), (2, 3)], edge_compound=["", "c1", "c1"])
    net = from_layers(nodes, edges)
    pts = shapely.points([(400, 20), (400, 20), (400, 20)])
    snap = snap_points(net, pts, compound_id=["c1", "", "c2"], gated_compounds=["c1", "c2"])
    # in c1: its internal path (y=60); outside: public road; c2 has no paths: public
    assert snap.edge.tolist() == [2, 0, 0]
    # a compound that is not gated does not restrict its buildings
    open_snap = snap_points(net, pts[:1], compound_id=["c1"], gated_compounds=[])
    assert open_snap.edge.tolist() == [0]


def test_components_and_stranded_households() -> None:
    nodes, edges = network_layers(
        [(0, 0), (100, 0), (1000, 0), (1100, 0), (1200, 0)], [(0, 1), (2, 3), (3, 4)]
    )
    net = from_layers(nodes, edges)
    assert net.component.tolist() == [1, 1, 0, 0, 0]  # 0 = the largest piece
    b = snap_points(net, shapely.points([(50, 5), (1150, 5)]))
    s = snap_points(net, shapely.points([(1010, 0)]))
    table = components_table(
        net,
        building_component=point_components(net, b),
        households=[40, 7],
        station_component=point_components(net, s),
    )
    assert table["households_stranded"].tolist() == [0, 40]
    assert table["stations"].tolist() == [1, 0]
    assert table["nodes"].tolist() == [3, 2]


def test_bad_networks_are_refused_with_a_fix() -> None:
    nodes, edges = network_layers([(0, 0), (100, 0)], [(0, 1)])
    bad = edges.copy()
    bad["v"] = 7
    with pytest.raises(InputError, match="outside 0 to 1"):
        from_layers(nodes, bad)
    with pytest.raises(InputError, match="empty"):
        from_layers(nodes, edges.iloc[:0])
    with pytest.raises(InputError, match="geographic"):
        from_layers(nodes.to_crs(4326), edges.to_crs(4326))


def test_missing_lengths_come_from_geometry() -> None:
    nodes, edges = lattice_layers(2, 2, 50.0)
    edges = edges.copy()
    edges["length_m"] = np.nan
    net = from_layers(nodes, edges)
    assert net.length_m.tolist() == pytest.approx([50.0] * 4)


def test_a_point_next_to_a_stray_footbridge_snaps_to_the_main_network() -> None:
    # the main road (3 nodes) and two short pieces of their own (OSM steps that stop
    # short of the street): 8 m and 40 m north of the road
    nodes, edges = network_layers(
        [(0, 0), (500, 0), (1000, 0), (100, 8), (160, 8), (400, 40), (460, 40)],
        [(0, 1), (1, 2), (3, 4), (5, 6)],
    )
    net = from_layers(nodes, edges)
    pts = shapely.points([(130, 10), (430, 45)])
    plain = snap_points(net, pts)
    assert plain.edge.tolist() == [2, 3]  # the nearest links: both stray pieces
    snap = snap_points(net, pts, main_slack_m=10.0)
    # 10 m to the road against 2 m to the first piece: the road; 45 m against 5 m: stays
    assert snap.edge.tolist() == [0, 3]
    assert snap.snap_m[0] == pytest.approx(10.0)
    assert snap.offset_m[0] == pytest.approx(130.0)
