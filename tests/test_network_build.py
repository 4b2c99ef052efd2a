import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, box

from planner.network.build import NON_WALKABLE, build_network, walkable_mask
from planner.network.walk import from_layers

CRS = "EPSG:32650"


def roads(*lines: LineString, **cols: list[object]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(dict(cols), geometry=list(lines), crs=CRS)


def test_crossing_lines_are_noded_at_the_crossing() -> None:
    nodes, edges = build_network(
        roads(LineString([(0, 0), (100, 0)]), LineString([(50, -50), (50, 50)]))
    )
    assert len(nodes) == 5
    assert len(edges) == 4
    centre = nodes.index[nodes.geometry.distance(Point(50, 0)) < 1e-6]
    assert len(centre) == 1
    assert ((edges["u"] == centre[0]) | (edges["v"] == centre[0])).sum() == 4
    assert edges["length_m"].sum() == pytest.approx(200.0)


def test_t_junction_splits_the_through_road() -> None:
    nodes, edges = build_network(
        roads(LineString([(0, 0), (100, 0)]), LineString([(30, 0), (30, 40)]))
    )
    assert len(nodes) == 4
    assert len(edges) == 3
    assert sorted(edges["length_m"].round(6)) == [30.0, 40.0, 70.0]


def test_bridge_connects_only_at_its_end_points() -> None:
    # a bridge over a riverside path: crosses it without a junction,
    # but its end lands on the middle of a street, which is split there
    lines = roads(
        LineString([(0, 0), (100, 0)]),  # riverside path
        LineString([(50, -20), (50, 20)]),  # bridge over it
        LineString([(0, 20), (100, 20)]),  # street on the far bank
        bridge=[False, True, False],
    )
    nodes, edges = build_network(lines)
    labels = from_layers(nodes, edges).component
    path_nodes = nodes.index[nodes.geometry.y == 0]
    bridge_top = nodes.index[nodes.geometry.distance(Point(50, 20)) < 1e-6]
    assert len(bridge_top) == 1  # the far-bank street got a node at the bridge end
    assert not (nodes.geometry.distance(Point(50, 0)) < 1e-6).any()  # no node mid-bridge
    assert labels[path_nodes[0]] != labels[bridge_top[0]]
    assert len(edges) == 4  # path, bridge, street split in two


def test_endpoints_mode_does_not_node_crossings() -> None:
    lines = roads(
        LineString([(0, 0), (100, 0)]),
        LineString([(50, -50), (50, 50)]),
        LineString([(100, 0), (100, 50)]),
    )
    nodes, edges = build_network(lines, node_at="endpoints")
    assert len(edges) == 3
    assert len(nodes) == 5  # (0,0), (100,0) shared, (50,-50), (50,50), (100,50)
    assert from_layers(nodes, edges).component.max() == 1


@pytest.mark.parametrize("hw", ["motorway", "motorway_link", "construction"])
def test_non_walkable_classes_are_dropped(hw: str) -> None:
    assert hw in NON_WALKABLE
    lines = roads(
        LineString([(0, 0), (100, 0)]),
        LineString([(0, 10), (100, 10)]),
        highway=["residential", hw],
    )
    edges = build_network(lines)[1]
    assert list(edges["highway"]) == ["residential"]


def test_foot_no_is_not_walkable_and_trunk_is() -> None:
    lines = roads(
        LineString([(0, 0), (1, 0)]),
        LineString([(0, 1), (1, 1)]),
        highway=["trunk", "secondary"],
        foot=["", "no"],
    )
    assert list(walkable_mask(lines)) == [True, False]


def test_edges_are_simple_u_below_v_with_geometry_from_u() -> None:
    # two different links between the same two nodes, and a closed loop
    lines = roads(
        LineString([(0, 0), (100, 0)]),
        LineString([(100, 0), (50, 40), (0, 0)]),
        LineString([(200, 0), (250, 0), (250, 50), (200, 0)]),
    )
    nodes, edges = build_network(lines)
    assert (edges["u"] < edges["v"]).all()
    assert not edges.duplicated(["u", "v"]).any()
    start = np.array([g.coords[0] for g in edges.geometry])
    assert np.allclose(start, np.array([(p.x, p.y) for p in nodes.geometry[edges["u"]]]))
    assert edges["length_m"].sum() == pytest.approx(
        100 + 2 * np.hypot(50, 40) + 50 + 50 + np.hypot(50, 50)
    )
    assert (nodes["node_id"] == np.arange(len(nodes))).all()


def test_gate_compound_and_in_street_flags() -> None:
    lines = roads(
        LineString([(0, 0), (100, 0)]), LineString([(50, 0), (50, 80)]), compound_id=["", "X1"]
    )
    gates = gpd.GeoDataFrame({"gate_id": ["G1"]}, geometry=[Point(50.4, 0.3)], crs=CRS)
    comps = gpd.GeoDataFrame({"compound_id": ["X1"]}, geometry=[box(20, 40, 80, 100)], crs=CRS)
    nodes, edges = build_network(lines, gates=gates, compounds=comps, boundary=box(-1, -1, 60, 60))
    gate = nodes.loc[nodes["is_gate"]]
    assert len(gate) == 1 and gate.geometry.iloc[0].equals(Point(50, 0))
    top = nodes.loc[nodes.geometry.distance(Point(50, 80)) < 1e-6].iloc[0]
    assert top["compound_id"] == "X1" and not top["in_street"]
    assert set(edges["compound_id"]) == {"", "X1"}


def test_component_labels_rank_by_size() -> None:
    lines = roads(
        LineString([(0, 0), (10, 0)]),
        LineString([(100, 0), (110, 0)]),
        LineString([(110, 0), (120, 0)]),
    )
    nodes, edges = build_network(lines)
    labels = from_layers(nodes, edges).component
    assert np.bincount(labels).tolist() == [3, 2]


def test_many_lines_node_into_a_grid() -> None:
    lines = [LineString([(0, k * 10), (100, k * 10)]) for k in range(11)]
    lines += [LineString([(k * 10, 0), (k * 10, 100)]) for k in range(11)]
    nodes, edges = build_network(roads(*lines))
    assert len(nodes) == 121
    assert len(edges) == 2 * 11 * 10
    assert from_layers(nodes, edges).component.max() == 0


coord = st.integers(min_value=0, max_value=40).map(float)
segment = st.tuples(coord, coord, coord, coord).filter(lambda t: (t[0], t[1]) != (t[2], t[3]))


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(segment, min_size=1, max_size=25))
def test_network_invariants_on_random_lines(segs: list[tuple[float, float, float, float]]) -> None:
    lines = [LineString([(a, b), (c, d)]) for a, b, c, d in segs]
    nodes, edges = build_network(roads(*lines), snap_m=0)
    assert (nodes["node_id"] == np.arange(len(nodes))).all()
    assert (edges["u"] < edges["v"]).all()
    assert not edges.duplicated(["u", "v"]).any()
    # noding neither loses nor doubles any walkable length
    total = shapely.union_all(np.array(lines, dtype=object)).length
    assert edges["length_m"].sum() == pytest.approx(total, rel=1e-9, abs=1e-6)
    # every line end is a node; every edge ends on its nodes
    ends = shapely.points(np.array([p for g in lines for p in (g.coords[0], g.coords[-1])]))
    assert (
        shapely.distance(ends[:, None], nodes.geometry.to_numpy()[None, :]).min(axis=1) < 1e-6
    ).all()
    xy = shapely.get_coordinates(nodes.geometry.to_numpy())
    first = shapely.get_coordinates(shapely.get_point(edges.geometry.to_numpy(), 0))
    last = shapely.get_coordinates(shapely.get_point(edges.geometry.to_numpy(), -1))
    assert np.allclose(first, xy[edges["u"]]) and np.allclose(last, xy[edges["v"]])
    # with near-miss joining on (coordinates in metres, 0.5 m), the graph stays simple and
    # loses no more length than the joins moved
    edges2 = build_network(roads(*lines))[1]
    assert (edges2["u"] < edges2["v"]).all() and not edges2.duplicated(["u", "v"]).any()
    moved = 2 * 0.5 * edges2.attrs["snapped_ends"]
    assert abs(edges2["length_m"].sum() - total) <= moved + 1e-6


def test_near_miss_ends_are_joined_and_far_ones_are_not() -> None:
    lines = roads(
        LineString([(0, 0), (100, 0)]),
        LineString([(40, 0.3), (40, 50)]),  # stops 30 cm short of the road: joined
        LineString([(70, 2.0), (70, 50)]),  # 2 m short: a real dead end
        LineString([(100.2, 0.1), (150, 0)]),  # end-to-end gap of 22 cm: joined
    )
    nodes, edges = build_network(lines)
    labels = from_layers(nodes, edges).component
    assert edges.attrs["snapped_ends"] == 2
    main = labels[nodes.index[nodes.geometry.distance(Point(0, 0)) < 1e-6][0]]
    at = lambda x, y: labels[nodes.geometry.distance(Point(x, y)).idxmin()]  # noqa: E731
    assert at(40, 50) == main and at(150, 0) == main
    assert at(70, 50) != main
    assert len(edges) == 6  # road cut at 40, spur, far spur, extension, and 2 halves
    # the original lines were not modified
    assert lines.geometry.iloc[1].coords[0] == (40, 0.3)
    _n, edges_off = build_network(lines, snap_m=0)
    assert edges_off.attrs["snapped_ends"] == 0


def test_compound_path_ending_at_a_wall_gap_is_not_joined_across_it() -> None:
    # an internal path ending 1 m from a public road (the wall between) stays apart
    lines = roads(LineString([(0, 0), (100, 0)]), LineString([(50, 1.0), (50, 30)]))
    nodes, edges = build_network(lines)
    assert from_layers(nodes, edges).component.max() == 1
