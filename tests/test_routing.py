"""Walking times equal networkx Dijkstra, with stations and buildings part-way along edges."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
import shapely

from planner.network.routing import (
    nearest_times,
    network_reach,
    point_times,
    station_reach,
    with_stations,
)
from planner.network.walk import from_layers, snap_points
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


def reach_reference(
    net, st_snap, limit: float
) -> tuple[nx.Graph, dict[int, dict[int, float]], np.ndarray]:
    """networkx single-source times from each station, keyed by routing node.

    Station ``j``'s routing node is ``rg.station_node[j]``; the reference graph
    names it ``s{j}``, so every routing node (network nodes and stations) is compared.
    """
    on_edge: dict[int, list[tuple[float, object]]] = {}
    for i in np.flatnonzero(st_snap.ok):
        on_edge.setdefault(int(st_snap.edge[i]), []).append((st_snap.offset_m[i], f"s{i}"))
    g = reference_graph(net.u, net.v, net.length_m, on_edge)
    rg = with_stations(net, st_snap)
    name = {f"s{j}": int(rg.station_node[j]) for j in np.flatnonzero(st_snap.ok)}
    out: dict[int, dict[int, float]] = {}
    for j in np.flatnonzero(st_snap.ok):
        ref = nx.single_source_dijkstra_path_length(g, f"s{j}", cutoff=limit)
        out[int(j)] = {name.get(k, k): v for k, v in ref.items()}  # type: ignore[call-overload]
    return g, out, rg.station_node


def assert_reach_equals(reach, ref: dict[int, dict[int, float]], stations) -> None:
    assert set(np.unique(reach.station).tolist()) == {int(j) for j in stations if ref.get(j)}
    for j in stations:
        sel = reach.station == j
        got = dict(zip(reach.node[sel].tolist(), reach.time_min[sel].tolist(), strict=True))
        assert len(got) == sel.sum()  # each node once per station
        assert set(got) == set(ref[j])
        assert max(abs(got[k] - ref[j][k]) for k in got) < 1e-6
        assert (reach.time_min[sel] <= reach.limit_min).all()


@pytest.fixture(params=["kernel", "scipy"])
def reach_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test through both ways station_reach computes: the compiled kernel and
    (small jobs) one scipy call."""
    from planner.network import routing

    monkeypatch.setattr(routing, "REACH_DENSE_MAX", 0 if request.param == "kernel" else 10**12)
    return str(request.param)


@pytest.mark.parametrize(
    ("layers", "limit"),
    [
        (lambda: random_network(3), 6.1),
        (lambda: lattice_layers(20, 20, 80.0), 6.1),
        (lambda: random_network(4), np.inf),
    ],
)
def test_station_reach_equals_single_source_networkx(layers, limit: float, reach_path: str) -> None:
    """Two stations on the same edge, two at the very same point, one far away (on a
    corner node). Limits off the lattice's 1.2-minute steps: a zero-length piece counts
    1e-9 min (MIN_EDGE_TIME_MIN), which would decide a node at exactly the limit."""
    nodes, edges = layers()
    net = from_layers(nodes, edges)
    st_xy = np.array([[100, 100], [500, 300], [320, 10], [321, 12], [500, 300], [1500, 1500]])
    st_snap = snap_points(net, shapely.points(st_xy), max_m=1e9)
    rg = with_stations(net, st_snap)
    reach = station_reach(rg, limit_min=limit)
    _g, ref, _ = reach_reference(net, st_snap, limit)
    assert_reach_equals(reach, ref, range(len(st_xy)))
    starts = np.flatnonzero(np.diff(reach.station)) + 1  # rows grouped by station
    assert len(np.unique(reach.station[np.r_[0, starts]])) == len(starts) + 1
    if np.isinf(limit):  # the whole network, from every station
        assert (np.bincount(reach.station) == rg.n_nodes).all()


def test_station_reach_subset_disconnected_and_off_network(reach_path: str) -> None:
    """``stations=`` gives only those stations; a station on a separate piece reaches
    only that piece; a station not on the network reaches nothing."""
    nodes, edges = network_layers(
        [(0, 0), (300, 0), (600, 0), (5000, 0), (5200, 0)], [(0, 1), (1, 2), (3, 4)]
    )
    net = from_layers(nodes, edges)
    st_snap = snap_points(
        net, shapely.points([(100, 5), (5100, 5), (9000, 9000), (450, -5)]), max_m=100.0
    )
    assert st_snap.edge[2] == -1
    rg = with_stations(net, st_snap)
    _g, ref, _ = reach_reference(net, st_snap, 10.0)
    full = station_reach(rg, limit_min=10.0)
    assert_reach_equals(full, ref, [0, 1, 3])
    island = set(full.node[full.station == 1].tolist())
    assert island == {3, 4, int(rg.station_node[1])}
    sub = station_reach(rg, limit_min=10.0, stations=np.array([3, 2, 1]))
    assert np.unique(sub.station).tolist() == [1, 3]
    assert_reach_equals(sub, ref, [3, 1])
    # no limit: each station reaches its whole piece of the network, nothing beyond
    whole = station_reach(rg, limit_min=np.inf)
    assert set(whole.node[whole.station == 1].tolist()) == island
    assert len(whole.node[whole.station == 0]) == 3 + 2  # nodes 0-2, stations 0 and 3
    assert np.isfinite(whole.time_min).all()
    # limit 0: each station reaches only its own node
    zero = station_reach(rg, limit_min=0.0)
    assert dict(zip(zero.station.tolist(), zero.node.tolist(), strict=True)) == {
        j: int(rg.station_node[j]) for j in (0, 1, 3)
    }
    assert (zero.time_min == 0).all()


def test_station_reach_without_stations_is_empty(reach_path: str) -> None:
    nodes, edges = lattice_layers(3, 3)
    net = from_layers(nodes, edges)
    rg = with_stations(net, snap_points(net, shapely.points(np.zeros((0, 2)))))
    for reach in (
        station_reach(rg, limit_min=15.0),
        station_reach(rg, limit_min=15.0, stations=np.zeros(0, dtype="int64")),
    ):
        assert len(reach.station) == len(reach.node) == len(reach.time_min) == 0
        assert reach.station.dtype == reach.node.dtype == np.int64
    rg1 = with_stations(net, snap_points(net, shapely.points([(50, 0)])))
    empty = station_reach(rg1, limit_min=15.0, stations=np.zeros(0, dtype="int64"))
    assert len(empty.node) == 0


@pytest.mark.parametrize("reach_fn", [station_reach, network_reach])
def test_station_reach_threads_give_the_same_table(
    monkeypatch: pytest.MonkeyPatch, reach_fn
) -> None:
    from planner.network import routing

    monkeypatch.setattr(routing, "REACH_DENSE_MAX", 0)
    nodes, edges = random_network(5)
    net = from_layers(nodes, edges)
    rng = np.random.default_rng(7)
    st_snap = snap_points(net, shapely.points(rng.uniform([0, 0], [640, 480], (40, 2))))
    rg = with_stations(net, st_snap)
    one = reach_fn(rg, limit_min=4.0)
    monkeypatch.setattr(routing, "REACH_MIN_STATIONS_PER_THREAD", 1)
    monkeypatch.setattr(routing, "workers", lambda: 3)
    three = reach_fn(rg, limit_min=4.0)
    for a, b in ((one.station, three.station), (one.node, three.node)):
        assert np.array_equal(a, b)
    assert np.array_equal(one.time_min, three.time_min)


def test_reach_kernel_equals_scipy_and_grows_its_output(monkeypatch: pytest.MonkeyPatch) -> None:
    """Random graph with integer weights (many equal-time ties, exact sums), zero
    weights, sources repeated; the output buffer starts too small and is regrown."""
    from scipy import sparse
    from scipy.sparse.csgraph import dijkstra

    from planner.network import _reach_kernel as reach_kernel

    rng = np.random.default_rng(11)
    n = 300
    a, b = rng.integers(0, n, 1200), rng.integers(0, n, 1200)
    w = rng.integers(0, 4, 1200).astype(float)
    mat = sparse.coo_matrix((w, (a, b)), shape=(n, n)).tocsr()  # directed; sums duplicates
    mat.sum_duplicates()
    sources = np.array([0, 5, 5, 299, 17])
    monkeypatch.setattr(reach_kernel, "OUT_GUESS_PER_SOURCE", 1)
    for limit in (3.0, 7.5, np.inf):
        s, v, t = reach_kernel.bounded_reach(mat.indptr, mat.indices, mat.data, sources, limit)
        ref = dijkstra(mat, directed=True, indices=sources, limit=limit)
        rows, cols = np.nonzero(np.isfinite(ref))
        got = sorted(zip(s.tolist(), v.tolist(), t.tolist(), strict=True))
        want = sorted(zip(rows.tolist(), cols.tolist(), ref[rows, cols].tolist(), strict=True))
        assert got == want
    with pytest.raises(ValueError, match="limit"):
        reach_kernel.bounded_reach(mat.indptr, mat.indices, mat.data, sources, -1.0)
    with pytest.raises(ValueError, match="sources"):
        reach_kernel.bounded_reach(mat.indptr, mat.indices, mat.data, np.array([n]), 1.0)


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


@pytest.mark.parametrize(
    ("layers", "limit"),
    [(lambda: random_network(3), 6.1), (lambda: random_network(4), np.inf)],
)
def test_network_reach_is_each_station_alone_on_the_network(
    layers, limit: float, reach_path: str
) -> None:
    """Each station's times at the network's nodes, against networkx on the network
    with only that station spliced in; no other station appears in the table."""
    nodes, edges = layers()
    net = from_layers(nodes, edges)
    st_xy = np.array([[100, 100], [500, 300], [320, 10], [321, 12], [500, 300], [1500, 1500]])
    st_snap = snap_points(net, shapely.points(st_xy), max_m=1e9)
    rg = with_stations(net, st_snap)
    reach = network_reach(rg, limit_min=limit)
    assert (reach.node < net.n_nodes).all()
    for j in range(len(st_xy)):
        alone = {int(st_snap.edge[j]): [(float(st_snap.offset_m[j]), "s")]}
        g = reference_graph(net.u, net.v, net.length_m, alone)
        want = dict(nx.single_source_dijkstra_path_length(g, "s", cutoff=limit))
        want.pop("s")
        sel = reach.station == j
        got = dict(zip(reach.node[sel].tolist(), reach.time_min[sel].tolist(), strict=True))
        assert len(got) == sel.sum()
        assert set(got) == set(want)
        assert max(abs(got[k] - want[k]) for k in got) < 1e-6
    # a subset, in any order; stations off the network are left out
    sub = network_reach(rg, limit_min=limit, stations=np.array([4, 1]))
    assert np.unique(sub.station).tolist() == [1, 4]


def test_network_reach_without_stations_is_empty() -> None:
    nodes, edges = random_network(5)
    net = from_layers(nodes, edges)
    st_snap = snap_points(net, shapely.points([(100, 100), (300, 200)]))
    rg = with_stations(net, st_snap)
    empty = network_reach(rg, limit_min=4.0, stations=np.zeros(0, dtype="int64"))
    assert len(empty.station) == len(empty.node) == len(empty.time_min) == 0
    assert empty.station.dtype == empty.node.dtype == np.int64
