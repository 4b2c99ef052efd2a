"""Stations and buildings on a piece of the walking network cut off from the main one
(planner/network/walk.py ``snap_stations``/``piece_facts``, the coverage warnings, the
``stations.csv`` columns and the red map's cut-off symbol)."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pytest

from planner.coverage.figures import compute_coverage
from planner.coverage.layers import compute_coverage_layers
from planner.maps.redmap import red_map
from planner.network.walk import from_layers, piece_facts, snap_buildings, snap_stations
from planner.settings import Settings
from planner.street import Street
from tests.coverage_streets import network_layers, points, squares, street

#: The piece: 9 nodes in a row at y = 53 m, 10 m apart (80 m of links), 53 m north of
#: the main network (a 400 m road of 17 nodes along y = 0), as seen on a real extract.
PIECE_Y_M = 53.0


def _layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    main = [(x, 0.0) for x in range(0, 401, 25)]
    piece = [(100.0 + 10.0 * k, PIECE_Y_M) for k in range(9)]
    edges = [(i, i + 1) for i in range(16)] + [(17 + k, 18 + k) for k in range(8)]
    return network_layers(main + piece, edges)


def _street() -> Street:
    nodes, edges = _layers()
    stations = points([(140.0, PIECE_Y_M), (300.0, 0.0)], station_id=["cut", "main"])
    b = squares(
        [(150.0, PIECE_Y_M + 6.0), (250.0, 6.0)],
        households=[40, 10],
        kind="residential",
        building_id=["b_piece", "b_main"],
    )
    return street(nodes, edges, stations=stations, buildings=b)


def test_piece_facts_give_size_and_distance_to_main() -> None:
    nodes, edges = _layers()
    net = from_layers(nodes, edges)
    st = points([(140.0, PIECE_Y_M), (300.0, 0.0)])
    snap = snap_stations(net, st, Settings())
    facts = piece_facts(net, snap, st.geometry)
    assert facts.component.tolist() == [1, 0]
    assert facts.nodes.tolist() == [9, 17]
    assert facts.length_m[0] == pytest.approx(80.0)
    assert facts.main_m[0] == pytest.approx(53.0) and facts.main_m[1] == 0.0
    assert facts.off_main.tolist() == [True, False]


def test_station_within_slack_snaps_to_main_network_as_buildings_do() -> None:
    nodes, edges = _layers()
    net = from_layers(nodes, edges)
    st = points([(140.0, PIECE_Y_M)])
    wide = Settings(snap_main_slack_m=60.0)
    snap = snap_stations(net, st, wide)
    assert net.component[net.u[snap.edge[0]]] == 0
    assert snap.snap_m[0] == pytest.approx(53.0)
    # the one rule: a building standing on the same spot snaps the same way
    b = squares([(140.0, PIECE_Y_M)], households=[1])
    comps = gpd.GeoDataFrame({"compound_id": [], "gated": []}, geometry=[], crs=b.crs)
    b_snap = snap_buildings(net, b, comps, wide)
    assert b_snap.edge[0] == snap.edge[0]
    cov = compute_coverage(_street(), settings=wide)
    row = cov.stations.set_index("station_id").loc["cut"]
    assert bool(row["on_main_network"]) and row["piece_nodes"] == 17
    assert not any(
        "cut off from the main network" in p.message and "cut:" in p.message for p in cov.problems
    )


def test_station_beyond_slack_is_flagged_warned_and_drawn_apart() -> None:
    settings = Settings()  # 10 m slack: 53 m is too far
    layers = compute_coverage_layers(_street(), settings=settings)
    st = layers.stations.set_index("station_id")
    assert bool(st.loc["cut", "on_network"]) and not bool(st.loc["cut", "on_main_network"])
    assert st.loc["cut", "piece_nodes"] == 9
    assert st.loc["cut", "main_network_m"] == pytest.approx(53.0)
    assert bool(st.loc["main", "on_main_network"]) and st.loc["main", "piece_nodes"] == 17
    msgs = [p.message for p in layers.coverage.problems]
    warn = [m for m in msgs if m.startswith("1 station(s) stand on a piece")]
    assert len(warn) == 1
    assert re.search(r"cut: piece of 9 nodes, 80 m of links, 53 m from the main", warn[0])
    bw = [m for m in msgs if "attached to 1 piece(s)" in m]
    assert len(bw) == 1 and "9 nodes" in bw[0] and "b_piece" in bw[0] and "59 m from" in bw[0]
    assert "40 households" in bw[0]
    html = red_map(_street(), coverage=layers).get_root().render()
    html = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html)
    assert html.count("未接入主路网") == 2  # tooltip and popup of the one cut-off station
    assert "所在路网碎片 9 个节点，距主路网 53 m" in html
    # its ring (quotes escaped in the icon's JSON); the other station has none
    assert html.count('stroke-dasharray=\\"3 2\\"') == 1
    assert html.count("#7f7f7f") == 1  # drawn grey, not red
    en = red_map(_street(), coverage=layers, lang="en").get_root().render()
    assert "cut off from the main walking network: on a piece of 9 nodes" in en


def test_no_piece_warning_on_a_connected_network() -> None:
    nodes, edges = network_layers([(0, 0), (100, 0), (200, 0)], [(0, 1), (1, 2)])
    st = street(
        nodes,
        edges,
        stations=points([(50.0, 3.0)], station_id=["s"]),
        buildings=squares([(150.0, 8.0)], households=[5], kind="residential"),
    )
    cov = compute_coverage(st)
    assert not any("piece" in p.message for p in cov.problems)
    assert cov.stations["on_main_network"].tolist() == [True]
    assert np.isnan(cov.stations["main_network_m"]).sum() == 0
