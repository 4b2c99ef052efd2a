"""Walking times equal networkx Dijkstra, with stations and buildings part-way along edges."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
import shapely

from planner.network import from_layers, snap_points
from planner.routing import nearest_times, point_times, station_reach, with_stations
from planner.settings import Settings
from tests.coverage_streets import lattice_layers, network_layers, points

SPEED = Settings().walk_m_per_min


def reference_graph(
    edges_u: np.ndarray,
    edges_v: np.ndarray,
    length: np.ndarray,
    on_edge: dict[int, list[tuple[float, object]]],
) -> nx.Graph:
    """networkx graph (minutes) with extra points spliced into their edges.

    ``on_edge[e]`` lists (offset from u in metres, node name) of points on edge e;
    the edge is replaced by a chain through them, an independent construction
    from the planner's piece arrays.
    """
    g = nx.Graph()
    for e, (u, v, ln) in enumerate(zip(edges_u, edges_v, length, strict=True)):
        chain = [(0.0, int(u)), *sorted(on_edge.get(e, []), key=lambda t: t[0]), (ln, int(v))]
        for (o1, n1), (o2, n2) in itertools.pairwise(chain):
            w = (o2 - o1) / SPEED
            if n1 == n2:
                continue
            if g.has_edge(n1, n2):
                w = min(w, g[n1][n2]["weight"])
            g.add_edge(n1, n2, weight=w)
    return g


def random_network(seed: int = 1):
    """A lattice with random detours (bent edges), a parallel edge and a zero-length edge."""
    nodes, edges = lattice_layers(9, 7, 80.0)
    rng = np.random.default_rng(seed)
    geoms = edges.geometry.to_numpy().copy()
    for i in rng.choice(len(geoms), 25, replace=False):
        (x0, y0), (x1, y1) = shapely.get_coordinates(geoms[i])
        mx, my = (x0 + x1) / 2 + rng.normal(0, 15), (y0 + y1) / 2 + rng.normal(0, 15)
        geoms[i] = shapely.LineString([(x0, y0), (mx, my), (x1, y1)])
    edges = edges.set_geometry(geoms)
    edges["length_m"] = shapely.length(geoms)
    extra = edges.iloc[[3]].copy()
    extra["length_m"] = extra["length_m"] * 0.5  # parallel shortcut
    zero = edges.iloc[[10]].copy()
    zero["length_m"] = 0.0
    import pandas as pd

    edges = pd.concat([edges, extra, zero], ignore_index=True)
    return nodes, edges


@pytest.mark.parametrize("seed", [1, 2])
def test_times_equal_networkx_with_partial_edges(seed: int) -> None:
    nodes, edges = random_network(seed)
    net = from_layers(nodes, edges)
    rng = np.random.default_rng(seed + 10)
    st_xy = rng.uniform([0, 0], [640, 480], (6, 2))
    b_xy = rng.uniform([0, 0], [640, 480], (80, 2))
    st_snap = snap_points(net, shapely.points(st_xy))
    b_snap = snap_points(net, shapely.points(b_xy))
    # two stations on the same edge, and a building on that edge between them
    rg = with_stations(net, st_snap)
    times = nearest_times(rg)
    bt, bs = point_times(rg, times, b_snap)

    on_edge: dict[int, list[tuple[float, object]]] = {}
    for i in range(len(st_snap)):
        on_edge.setdefault(int(st_snap.edge[i]), []).append((st_snap.offset_m[i], f"s{i}"))
    for i in range(len(b_snap)):
        on_edge.setdefault(int(b_snap.edge[i]), []).append((b_snap.offset_m[i], f"b{i}"))
    g = reference_graph(net.u, net.v, net.length_m, on_edge)
    ref = nx.multi_source_dijkstra_path_length(g, {f"s{i}" for i in range(len(st_snap))})
    ref_nodes = np.array([ref[i] for i in range(net.n_nodes)])
    assert np.abs(times.time_min[: net.n_nodes] - ref_nodes).max() < 1e-6
    ref_b = np.array([ref[f"b{i}"] for i in range(len(b_snap))])
    assert np.abs(bt - ref_b).max() < 1e-6
    # which station: its own time to the building equals the nearest time
    for i in range(len(b_snap)):
        own = nx.dijkstra_path_length(g, f"s{bs[i]}", f"b{i}")
        assert own == pytest.approx(ref_b[i], abs=1e-6)


def test_station_and_building_on_same_edge_walk_directly() -> None:
    nodes, edges = network_layers([(0, 0), (1000, 0)], [(0, 1)])
    net = from_layers(nodes, edges)
    st = snap_points(net, shapely.points([(400, 5)]))
    b = snap_points(net, shapely.points([(700, -5)]))
    rg = with_stations(net, st)
    t, s = point_times(rg, nearest_times(rg), b)
    assert t[0] == pytest.approx(300 / SPEED)
    assert s[0] == 0


@pytest.mark.parametrize("prune", [False, True])
def test_station_reach_equals_single_source_networkx(
    prune: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also with the sub-network pruning large networks use (forced on here)."""
    from planner import routing

    if prune:
        monkeypatch.setattr(routing, "PRUNE_MIN_NODES", 0)
        monkeypatch.setattr(routing, "PRUNE_MIN_WORK", 0)
    nodes, edges = lattice_layers(20, 20, 80.0) if prune else random_network(3)
    net = from_layers(nodes, edges)
    st_xy = np.array([[100, 100], [500, 300], [320, 10], [321, 12]])
    if prune:  # and one far away, in its own group
        st_xy = np.vstack([st_xy, [1500, 1500]])
    st_snap = snap_points(net, shapely.points(st_xy))
    rg = with_stations(net, st_snap)
    reach = station_reach(rg, limit_min=6.0, chunk=3)
    on_edge: dict[int, list[tuple[float, object]]] = {}
    for i in range(len(st_snap)):
        on_edge.setdefault(int(st_snap.edge[i]), []).append((st_snap.offset_m[i], f"s{i}"))
    g = reference_graph(net.u, net.v, net.length_m, on_edge)
    for i in range(len(st_xy)):
        ref = nx.single_source_dijkstra_path_length(g, f"s{i}", cutoff=6.0)
        ref_nodes = {k: v for k, v in ref.items() if isinstance(k, int | np.integer)}
        sel = (reach.station == i) & (reach.node < net.n_nodes)
        got = dict(zip(reach.node[sel].tolist(), reach.time_min[sel].tolist(), strict=True))
        assert set(got) == set(ref_nodes)
        assert max(abs(got[k] - ref_nodes[k]) for k in got) < 1e-6


def test_no_stations_gives_infinite_times() -> None:
    nodes, edges = lattice_layers(3, 3)
    net = from_layers(nodes, edges)
    rg = with_stations(net, snap_points(net, shapely.points(np.zeros((0, 2)))))
    times = nearest_times(rg)
    assert np.isinf(times.time_min).all() and (times.station == -1).all()


def test_walking_speed_setting_scales_times() -> None:
    nodes, edges = network_layers([(0, 0), (1200, 0)], [(0, 1)])
    fast = from_layers(nodes, edges, settings=Settings(walk_speed_kmh=6))
    rg = with_stations(fast, snap_points(fast, points([(0, 0)]).geometry))
    assert nearest_times(rg).time_min[1] == pytest.approx(12.0)
