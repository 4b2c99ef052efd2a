"""Service kinds, completeness and 2SFCA capacity against hand computations on a line.

The street is one straight 2,000 m path along y = 0; at 4 km/h a minute is 66.7 m, so
5 minutes reach 333 m, 10 minutes 667 m and 15 minutes 1,000 m. Buildings stand 8 m off
the path at x = 100, 450, 900, 1400 and 1900 m with 10, 20, 30, 40 and 50 households.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planner.coverage.capacity import capacity_by_area, compute_capacity, station_supply
from planner.coverage.completeness import (
    complete_column,
    completeness_by_area,
    compute_completeness,
    reach_column,
)
from planner.coverage.figures import compute_coverage
from planner.coverage.service_kinds import read_service_kinds_file, service_points
from planner.errors import ProblemLog, SettingsError
from planner.schema import CIRCLES, SERVICE_KINDS, kind_minutes
from planner.settings import Settings
from planner.street import Street, from_layers
from tests.coverage_streets import CRS, network_layers, points, squares

XS = (100.0, 450.0, 900.0, 1400.0, 1900.0)
HOUSEHOLDS = (10, 20, 30, 40, 50)
KINDS = ("community_service", "kindergarten", "primary_school", "party_mass", "pocket_park")


def _line_street(stations: gpd.GeoDataFrame, **layers: gpd.GeoDataFrame) -> Street:
    nodes, edges = network_layers(
        [(x, 0.0) for x in range(0, 2001, 500)], [(i, i + 1) for i in range(4)]
    )
    buildings = squares(
        [(x, 8.0) for x in XS],
        building_id=[f"b{int(x)}" for x in XS],
        households=list(HOUSEHOLDS),
        kind="residential",
    )
    return from_layers(
        {"nodes": nodes, "edges": edges, "buildings": buildings, "stations": stations, **layers},
        crs=CRS,
        name="line",
    )


def _facilities_street() -> Street:
    stations = points([(0, 0)], station_id=["S1"], name=["一号站"], kind=["community_station"])
    pois = points(
        [(600, 0), (1000, 0)],
        poi_id=["P1", "P2"],
        name=["阳光幼儿园", "育才小学"],
        kind=["kindergarten", "school"],
    )
    park = gpd.GeoDataFrame(
        {"landuse_id": ["L1"], "kind": ["park"], "name": [""]},
        geometry=[shapely.box(1480, 5, 1520, 45)],
        crs=CRS,
    )
    return _line_street(stations, pois=pois, landuse=park)


def test_catalogue_circles_and_minutes() -> None:
    assert {k.circle for k in SERVICE_KINDS.values()} == set(CIRCLES)
    assert SERVICE_KINDS["kindergarten"].circle == "life_5"
    assert SERVICE_KINDS["primary_school"].circle == "life_10"
    assert SERVICE_KINDS["middle_school"].circle == "life_15"
    assert kind_minutes("kindergarten", (4.0, 8.0, 12.0)) == 4.0
    assert kind_minutes("party_mass", (4.0, 8.0, 12.0)) == 12.0


def test_settings_choose_kinds_and_minutes() -> None:
    s = Settings.from_dict(
        {"service_catalogue": ["canteen"], "service_circle_minutes": [5, 10, 20]}
    )
    assert s.service_catalogue == ("canteen",) and s.service_circle_minutes == (5.0, 10.0, 20.0)
    with pytest.raises(SettingsError, match=r"service_catalogue.*unknown service kind.*bakery"):
        Settings(service_catalogue=("bakery",))
    with pytest.raises(SettingsError, match=r"service_circle_minutes.*three increasing"):
        Settings(service_circle_minutes=(10.0, 5.0, 15.0))


def test_facilities_from_stations_pois_landuse_and_names() -> None:
    st = _facilities_street()
    pts = service_points(st.stations, st.pois, st.landuse, kinds=KINDS)
    got = sorted(zip(pts["service_kind"], pts["layer"], pts["source_id"], strict=True))
    assert got == [
        ("community_service", "stations", "S1"),
        ("kindergarten", "pois", "P1"),
        ("party_mass", "stations", "S1"),
        ("pocket_park", "landuse", "L1"),
        ("primary_school", "pois", "P2"),  # kind "school", named 小学
    ]


def test_completeness_per_building_matches_hand_computation() -> None:
    st = _facilities_street()
    cov = compute_coverage(st, settings=Settings(service_catalogue=KINDS))
    comp = compute_completeness(cov, st)
    b = comp.buildings.set_index("building_id")
    # hand: metres along the path from each facility; limits 333 / 667 / 1,000 m
    expected = {
        "b100": (True, False, False, True, False),
        "b450": (False, True, True, True, False),
        "b900": (False, True, True, True, True),
        "b1400": (False, False, True, False, True),
        "b1900": (False, False, False, False, True),
    }
    for bid, flags in expected.items():
        assert tuple(bool(b.loc[bid, reach_column(k)]) for k in KINDS) == flags, bid
        assert b.loc[bid, "missing_kinds"] == flags.count(False)
    assert b.loc["b900", "missing"] == "community_service"
    assert comp.time_min.loc[b.index.get_loc("b900"), "kindergarten"] == pytest.approx(
        300 / (4000 / 60)
    )
    assert bool(b.loc["b900", complete_column("party_15")])
    assert not bool(b.loc["b450", complete_column("party_15")])


def test_completeness_by_area_shares_complete_and_most_missing() -> None:
    st = _facilities_street()
    cov = compute_coverage(st, settings=Settings(service_catalogue=KINDS))
    row = completeness_by_area(compute_completeness(cov, st), cov).iloc[0]
    assert row["level"] == "street" and row["households"] == 150
    assert row["share_community_service_pct"] == 6.7  # 10 / 150
    assert row["share_kindergarten_pct"] == 33.3  # 50 / 150
    assert row["share_primary_school_pct"] == 60.0  # 90 / 150
    assert row["share_party_mass_pct"] == 40.0  # 60 / 150
    assert row["share_pocket_park_pct"] == 80.0  # 120 / 150
    assert row["complete_life_5_pct"] == 0.0
    assert row["complete_life_10_pct"] == 60.0
    assert row["complete_party_15_pct"] == 20.0  # b900 only
    assert row["households_complete_all"] == 0
    assert row["missing_most"] == "社区服务站 93%; 幼儿园 67%; 党群服务中心（站） 60%"


def test_margin_facilities_follow_the_margin_setting() -> None:
    st = _facilities_street()
    st.pois["in_street"] = [False, True]
    s = Settings(service_catalogue=KINDS, count_margin_stations=False)
    comp = compute_completeness(compute_coverage(st, settings=s), st)
    assert not comp.buildings[reach_column("kindergarten")].any()


def test_mapping_file_adds_names_and_names_bad_rows(tmp_path: Path) -> None:
    f = tmp_path / "kinds.csv"
    f.write_text("原文,服务类型\n幸福食堂,社区食堂\n老街坊,bakery\n", encoding="utf-8")
    problems = ProblemLog()
    mapping = read_service_kinds_file(f, problems=problems)
    assert mapping == {"幸福食堂": "canteen"}
    (p,) = problems.problems
    assert p.file == str(f) and p.feature_id == "row 3" and p.field == "服务类型"
    assert "bakery" in p.message and "canteen (社区食堂)" in p.fix
    st = _line_street(points([(0, 0)], station_id=["S1"], name=["幸福食堂"], kind=["other"]))
    pts = service_points(st.stations, st.pois, st.landuse, kinds=("canteen",), mapping=mapping)
    assert pts["source_id"].tolist() == ["S1"]


def test_service_mapping_without_a_kind_column_names_the_service_field(tmp_path: Path) -> None:
    """The service-kinds file is read by the station-kinds reader (one reader): its own
    columns, words and fix, not the station kinds'."""
    f = tmp_path / "kinds.csv"
    f.write_text("原文,站点类型\n幸福食堂,canteen\n", encoding="utf-8")
    problems = ProblemLog()
    assert read_service_kinds_file(f, problems=problems) == {}
    (p,) = problems.problems
    assert p.field == "service_kind" and "its service kind" in p.message
    assert "text,service_kind" in p.fix


def test_two_step_floating_catchment_matches_hand_computation() -> None:
    # A at 0 (300 m²), B at 1,000 (30 m²), C at 2,000 (size unknown); catchment 1,000 m
    stations = points(
        [(0, 0), (1000, 0), (2000, 0)],
        station_id=["A", "B", "C"],
        floor_area_m2=[300.0, 30.0, np.nan],
    )
    st = _line_street(stations)
    cov = compute_coverage(st)
    cap = compute_capacity(cov)
    t = cap.stations.set_index("station_id")
    # A reaches b100, b450, b900 (60 households): R = 100 * 300 / 60 = 500
    # B reaches every building (150): R = 100 * 30 / 150 = 20 < 30, overloaded
    assert t.loc["A", "households_catchment"] == 60 and t.loc["A", "m2_per_100_households"] == 500.0
    assert t.loc["B", "households_catchment"] == 150 and t.loc["B", "m2_per_100_households"] == 20.0
    assert bool(t.loc["A", "norm_met"]) and bool(t.loc["B", "overloaded"])
    assert t.loc["C", "supply_source"] == "unknown" and t.loc["C", "norm_met"] is pd.NA
    # A_i: 520 for the three near A, 20 beyond
    assert cap.building_m2_per_100 == pytest.approx([520, 520, 520, 20, 20])
    area = capacity_by_area(cap, cov).iloc[0]
    assert area["m2_per_100_households"] == pytest.approx((60 * 520 + 90 * 20) / 150)
    assert area["households_below_norm"] == 90 and not bool(area["below_norm"])


def test_capacity_column_replaces_floor_area() -> None:
    st = pd.DataFrame(
        {"floor_area_m2": [100.0, np.nan, 50.0], "capacity_households": [200, np.nan, ""]}
    )
    supply, source = station_supply(st, 30.0)
    assert supply[0] == 60.0 and np.isnan(supply[1]) and supply[2] == 50.0
    assert source.tolist() == ["capacity", "unknown", "floor_area"]


@pytest.fixture(scope="module")
def beijing() -> Street:
    from planner.load.sources import load_street

    root = Path(__file__).parent / "data" / "beijing-haidian-xueyuanlu"
    result = load_street(root / "map.osm.pbf")
    return result[0] if isinstance(result, tuple) else result


def test_kinds_mapped_from_osm_tags_on_the_beijing_extract(beijing: Street) -> None:
    pts = service_points(beijing.stations, beijing.pois, beijing.landuse)
    by_name = {}
    for kind, name in zip(pts["service_kind"], pts["name"], strict=True):
        by_name.setdefault(name, set()).add(kind)
    assert by_name["中国农业大学附属实验小学"] == {"primary_school"}  # amenity=school, 小学
    assert by_name["北京石油学院附属中学"] == {"middle_school"}
    assert by_name["未来之星实验幼儿园"] == {"kindergarten"}
    assert by_name["中国农业大学东区社区卫生服务中心"] == {"health_centre", "medical"}
    assert by_name["中国银行"] == {"finance"}  # amenity=bank
    assert by_name["近邻宝"] == {"delivery"}  # amenity=post_office
    counts = pts.groupby("service_kind").size()
    assert counts["grocery"] >= 15 and counts["pocket_park"] >= 9  # shop=convenience, leisure=park
    # leisure=pitch/sports_centre/stadium read as POIs for the sports grounds; atm for finance
    osm_key = beijing.pois.set_index("poi_id")["osm_key"]
    pitches = beijing.pois.loc[beijing.pois["kind"] == "pitch", "poi_id"]
    assert len(pitches) == 15 and set(osm_key[pitches]) == {"leisure"}
    assert counts["small_sports"] >= 15 and counts["mid_sports"] >= 4
    assert (beijing.pois["kind"] == "atm").sum() == 4 and counts["finance"] == 8


def test_readme_table_is_the_catalogue() -> None:
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "` | `" in line]
    listed = {}
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 4 and cells[1].strip("`") in SERVICE_KINDS:
            listed[cells[1].strip("`")] = (cells[0], cells[2])
    assert list(listed) == list(SERVICE_KINDS)
    for key, (circle, zh) in listed.items():
        kind = SERVICE_KINDS[key]
        assert zh == kind.zh and circle == f"{CIRCLES[kind.circle].zh} `{kind.circle}`"


def test_kind_gaps_hold_exactly_the_households_missing_the_kind() -> None:
    from planner.coverage.completeness import kind_gaps

    st = _facilities_street()
    cov = compute_coverage(st, settings=Settings(service_catalogue=KINDS))
    comp = compute_completeness(cov, st)
    gaps = kind_gaps(comp, cov, "kindergarten")
    # hand: the kindergarten at 600 m misses b100, b1400 and b1900 (10 + 40 + 50)
    assert gaps["households_uncovered"].sum() == 100
    assert set(gaps["service_kind"]) == {"kindergarten"} and set(gaps["minutes"]) == {5.0}
    reached = cov.buildings.geometry[cov.buildings["building_id"].isin(["b450", "b900"])]
    assert not gaps.geometry.union_all().intersects(reached.union_all())
    with pytest.raises(ValueError, match="'canteen' was not checked"):
        kind_gaps(comp, cov, "canteen")


def test_coverage_command_writes_kind_gaps_and_refuses_unknown_kinds(tmp_path: Path) -> None:
    from planner.cli.parser import main

    out = tmp_path / "o"
    assert main(["coverage", "demo", "--out", str(out), "-q", "--kind-gaps", "幼儿园"]) == 0
    gaps = gpd.read_file(out / "gaps_kindergarten.geojson")
    assert len(gaps) > 0 and (gaps["households_uncovered"] > 0).all()
    assert main(["coverage", "demo", "--out", str(out), "-q", "--kind-gaps", "bakery"]) == 2
