"""What-if scenarios: hand computations, two separate runs, bad files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planner.coverage.completeness import reach_column
from planner.coverage.whatif import (
    apply_changes,
    evaluate,
    parse_scenario,
    read_scenario,
    run_whatif,
)
from planner.crs import WGS84
from planner.errors import InputError
from planner.settings import Settings
from planner.street import Street, from_layers
from tests.coverage_streets import CRS, network_layers, points, squares
from tests.test_service_completeness import _line_street

ROOT = Path(__file__).resolve().parents[1]


def _lonlat(street: Street, x: float, y: float) -> tuple[float, float]:
    p = gpd.GeoSeries([shapely.Point(x, y)], crs=street.crs).to_crs(WGS84).iloc[0]
    return float(p.x), float(p.y)


def test_closing_a_path_cuts_off_the_buildings_beyond() -> None:
    st = _line_street(points([(0, 0)], station_id=["A"], floor_area_m2=[300.0]))
    lon, lat = _lonlat(st, 750, 0)  # on the link 500-1000 m
    sc = parse_scenario({"changes": [{"close_path": {"lon": lon, "lat": lat}}]})
    w = run_whatif(st, sc, settings=Settings(service_catalogue=("party_mass",)))
    # before: b100, b450, b900 within 1,000 m (60 households); after: b900 is cut off
    street = w.by_area.iloc[0]
    assert street["households_covered_before"] == 60 and street["households_covered_after"] == 30
    assert w.summary["households_losing_coverage"] == 30
    assert w.summary["households_gaining_coverage"] == 0
    lost = w.buildings.set_index("building_id")
    assert bool(lost.loc["b900", "covered_before"]) and not bool(lost.loc["b900", "covered_after"])
    assert lost.loc["b900", "lost"] == "party_mass"
    # 2SFCA: A's 300 m² now shared by 30 households, not 60: 1,000 m² per 100
    st_after = w.stations.set_index("station_id")
    assert st_after.loc["A", "m2_per_100_households_before"] == 500.0
    assert st_after.loc["A", "m2_per_100_households_after"] == 1000.0


def _gated_street() -> Street:
    # public path y = 0 (nodes 0, 1, 2); a walled compound north of it with one internal
    # path (nodes 3-4) and no gate: its building reaches nothing
    nodes, edges = network_layers(
        [(0, 0), (500, 0), (1000, 0), (500, 100), (500, 200)],
        [(0, 1), (1, 2), (3, 4)],
        edge_compound=["", "", "C1"],
    )
    compounds = gpd.GeoDataFrame(
        {"compound_id": ["C1"], "gated": [True]},
        geometry=[shapely.box(400, 50, 600, 250)],
        crs=CRS,
    )
    buildings = squares(
        [(510, 150)], building_id=["b1"], households=[50], compound_id=["C1"], kind="residential"
    )
    stations = points([(0, 0)], station_id=["A"], floor_area_m2=[100.0])
    return from_layers(
        {"nodes": nodes, "edges": edges, "buildings": buildings, "stations": stations,
         "compounds": compounds},
        crs=CRS,
    )  # fmt: skip


def test_opening_a_gate_lets_the_compound_walk_out() -> None:
    st = _gated_street()
    lon, lat = _lonlat(st, 500, 50)
    sc = parse_scenario({"changes": [{"open_gate": {"compound_id": "C1", "lon": lon, "lat": lat}}]})
    s = Settings(service_catalogue=("party_mass",))
    before = evaluate(st, s)
    after = evaluate(apply_changes(st, sc), s)
    assert not np.isfinite(before.coverage.buildings["time_min"].iloc[0])
    # hand: 500 m along the path, 100 m through the new gate, 50 m along the inner path
    assert after.coverage.buildings["time_min"].iloc[0] == pytest.approx(650 / (4000 / 60))
    w = run_whatif(st, sc, settings=s)
    assert w.summary["households_gaining_coverage"] == 50


def _folder_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "street"
    shutil.copytree(ROOT / "data" / "demo", folder)
    return folder


def test_before_and_after_equal_two_separate_runs(tmp_path: Path) -> None:
    from planner.load.sources import load_street

    def load(source: str | Path) -> Street:
        r = load_street(source)
        return r[0] if isinstance(r, tuple) else r

    demo = load("demo")
    s = Settings()
    sc = parse_scenario(
        {
            "name": "t",
            "changes": [
                {"remove_station": {"station_id": "ZD05"}},
                {"add_station": {"station_id": "X1", "name": "新站", "lon": 108.9431,
                                 "lat": 34.2102, "floor_area_m2": 300}},
                {"add_poi": {"poi_id": "Q1", "name": "幸福食堂", "kind": "canteen",
                             "lon": 108.94, "lat": 34.21}},
            ],
        }
    )  # fmt: skip
    w = run_whatif(demo, sc, settings=s)
    # the same changes made to the files, loaded and run on their own
    folder = _folder_copy(tmp_path)
    stations = gpd.read_file(folder / "stations.geojson")
    stations = stations[stations["station_id"] != "ZD05"]
    new = gpd.GeoDataFrame(
        {"station_id": ["X1"], "name": ["新站"], "kind": ["community_station"],
         "floor_area_m2": [300.0]},
        geometry=[shapely.Point(108.9431, 34.2102)],
        crs=WGS84,
    )  # fmt: skip
    pd.concat([stations, new], ignore_index=True).to_file(folder / "stations.geojson")
    pois = gpd.read_file(folder / "pois.geojson")
    q1 = gpd.GeoDataFrame(
        {"poi_id": ["Q1"], "name": ["幸福食堂"], "kind": ["canteen"]},
        geometry=[shapely.Point(108.94, 34.21)],
        crs=WGS84,
    )
    pd.concat([pois, q1], ignore_index=True).to_file(folder / "pois.geojson")
    separate = evaluate(load(folder), s)
    alone = evaluate(demo, s)
    for state, other in ((w.before, alone), (w.after, separate)):
        pd.testing.assert_frame_equal(
            state.by_area(None), other.by_area(None), check_exact=False, atol=1e-6
        )
        got = state.completeness.buildings[reach_column("canteen")].to_numpy()
        assert (got == other.completeness.buildings[reach_column("canteen")].to_numpy()).all()
        assert state.capacity.building_m2_per_100 == pytest.approx(
            other.capacity.building_m2_per_100, abs=1e-6
        )
    assert w.summary["households_gaining_a_kind"] > 0


def test_removing_a_station_only_loses_coverage_on_the_demo() -> None:
    """Its speed is ``bench/bench_whatif.py``'s (target 5 s); here what it answers."""
    from planner.load.sources import load_street

    r = load_street("demo")
    demo = r[0] if isinstance(r, tuple) else r
    sc = parse_scenario({"changes": [{"remove_station": {"station_id": "ZD05"}}]})
    w = run_whatif(demo, sc, settings=Settings())
    assert w.summary["households_losing_coverage"] > 0
    assert w.summary["households_gaining_coverage"] == 0  # fewer stations never reach more
    assert w.summary["households_gaining_a_kind"] == 0


def test_bad_scenarios_name_the_change_and_field(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(
        "changes:\n  - remove_station: {}\n  - fly_away: {x: 1}\n  - add_poi: {poi_id: Q, kind: canteen, lon: abc, lat: 34.2}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        read_scenario(f)
    text = str(info.value)
    assert "change 1 (remove_station) has no station_id" in text
    assert "change 2: unknown action 'fly_away'" in text
    assert "change 3 (add_poi): lon='abc' is not a valid number" in text
    assert str(f) in text
    st = _line_street(points([(0, 0)], station_id=["A"]))
    with pytest.raises(InputError, match="change 1: there is no station_id 'ZZ'"):
        apply_changes(st, parse_scenario({"changes": [{"remove_station": {"station_id": "ZZ"}}]}))


def test_whatif_command_writes_the_tables_and_exits_2_on_a_bad_file(tmp_path: Path) -> None:
    good = tmp_path / "s.json"
    good.write_text('{"changes": [{"remove_station": {"station_id": "ZD05"}}]}', encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = [sys.executable, "-m", "planner", "whatif", "demo", "-q"]
    proc = subprocess.run(
        [*run, "--scenario", str(good), "--out", str(tmp_path / "o")],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    for name in (
        "whatif_by_area.csv",
        "whatif_buildings.csv",
        "whatif_stations.csv",
        "whatif.json",
    ):
        assert (tmp_path / "o" / name).exists()
    table = pd.read_csv(tmp_path / "o" / "whatif_by_area.csv")
    assert {"households_covered_before", "households_covered_after"} <= set(table.columns)
    bad = tmp_path / "b.json"
    bad.write_text('{"changes": [{"remove_station": {}}]}', encoding="utf-8")
    proc = subprocess.run(
        [*run, "--scenario", str(bad), "--out", str(tmp_path / "b")],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 2 and "has no station_id" in proc.stderr
    assert "Traceback" not in proc.stderr
