"""``python -m planner coverage``: files written, their columns, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from planner import cli
from planner.commands import coverage as command
from tests.coverage_streets import lattice_layers, points, squares, street


def _street():
    nodes, edges = lattice_layers(6, 6, 100.0)
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 500, (40, 2))
    b = squares(
        [tuple(p) for p in xy],
        size=8,
        households=rng.integers(5, 50, 40),
        kind="residential",
        community_id=["c1"] * 20 + ["c2"] * 20,
    )
    comm = squares([(125, 250), (375, 250)], size=250, community_id=["c1", "c2"])
    stations = points(
        [(0, 0), (500, 500)],
        station_id=["s1", "s2"],
        name=["一站", "二站"],
        floor_area_m2=[300.0, 800.0],
    )
    return street(nodes, edges, buildings=b, stations=stations, communities=comm)


@pytest.fixture(autouse=True)
def only_this_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parse with the coverage command alone (other commands are not under test)."""
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("coverage",))


@pytest.fixture
def fake_load(monkeypatch: pytest.MonkeyPatch):
    st = _street()
    monkeypatch.setattr(command, "load_from_args", lambda args, settings: st)
    return st


def test_command_writes_every_output(fake_load, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    code = cli.main(
        ["coverage", "demo", "--out", str(out), "--minutes", "5,15", "--speed-kmh", "4.5"]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "4.5 km/h" in printed
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for key in (
        "households_total",
        "buildings_total",
        "stations",
        "households_covered",
        "buildings_covered",
    ):
        assert key in s
    assert set(s["households_covered"]) == {"5", "15"}
    assert s["walk_speed_kmh"] == 4.5
    assert s["households_total"] == int(fake_load.buildings["households"].sum())
    circles = gpd.read_file(out / "circles.geojson")
    assert circles.crs.to_epsg() == 4326
    assert set(circles["view"]) == {"station", "nearest", "union"}
    own = circles[circles.view == "station"]
    assert len(own) == 2 * 2 and set(own["minutes"]) == {5.0, 15.0}
    assert (circles["speed_kmh"] == 4.5).all()
    assert (circles["threshold_min"] == circles["minutes"]).all()  # as documented
    b = gpd.read_file(out / "buildings.geojson")
    assert {"time_min", "station_id", "covered_5", "covered_15"} <= set(b.columns)
    assert b["covered_15"].sum() == s["buildings_covered"]["15"]
    raw = (out / "coverage.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
    assert table["level"].tolist() == ["street", "community", "community"]
    assert table.loc[0, "households_covered_15"] == s["households_covered"]["15"]
    assert (out / "gaps.geojson").exists() and (out / "stations.csv").exists()
    assert not list(out.glob(".*"))  # no temp files left behind


def test_command_with_grids_file(fake_load, tmp_path: Path) -> None:
    grids = squares(
        [(250, 125), (250, 375)], size=250, code=["01", "02"], community_id=["c1", "c2"]
    ).to_crs(4326)
    gpath = tmp_path / "grids.geojson"
    grids.to_file(gpath, driver="GeoJSON")
    out = tmp_path / "o"
    assert cli.main(["coverage", "demo", "--out", str(out), "--grids", str(gpath)]) == 0
    table = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig", dtype={"id": str})
    assert table.loc[table.level == "grid", "id"].tolist() == ["01", "02"]


def test_quiet_prints_nothing_and_still_writes(fake_load, tmp_path: Path, capsys) -> None:
    out = tmp_path / "q"
    assert cli.main(["coverage", "demo", "--out", str(out), "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["households_total"] > 0


def test_bad_minutes_exit_2_with_message(fake_load, tmp_path: Path, capsys) -> None:
    code = cli.main(["coverage", "demo", "--out", str(tmp_path), "--minutes", "5,ten"])
    assert code == 2
    assert "--minutes" in capsys.readouterr().err
    code = cli.main(["coverage", "demo", "--out", str(tmp_path), "--minutes", "0,15"])
    assert code == 2


def test_zero_stations_still_writes_all_uncovered(monkeypatch, tmp_path: Path, capsys) -> None:
    st = _street()
    st = st.with_layers(stations=st.stations.iloc[:0])
    monkeypatch.setattr(command, "load_from_args", lambda args, settings: st)
    assert cli.main(["coverage", "demo", "--out", str(tmp_path)]) == 0
    assert "no service station" in capsys.readouterr().err
    s = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert s["households_covered"] == {"5": 0, "10": 0, "15": 0}
    gaps = gpd.read_file(tmp_path / "gaps.geojson")
    assert gaps["households_uncovered"].sum() == s["households_total"]
