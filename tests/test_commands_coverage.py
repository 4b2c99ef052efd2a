"""``python -m planner coverage``: files written, their columns, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from planner.cli import coverage as command
from planner.cli import parser as cli
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
    monkeypatch.setattr(command, "load_from_args", lambda args, settings, **_: st)
    return st


def test_command_writes_every_output(fake_load, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    code = cli.main(
        ["coverage", "demo", "--out", str(out), "--minutes", "5,15", "--speed-kmh", "4.5"]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "4.5 km/h" in printed
    assert "beyond 15 min (the gap map):" in printed
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
    monkeypatch.setattr(command, "load_from_args", lambda args, settings, **_: st)
    assert cli.main(["coverage", "demo", "--out", str(tmp_path)]) == 0
    assert "no service station" in capsys.readouterr().err
    s = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert s["households_covered"] == {"5": 0, "10": 0, "15": 0}
    gaps = gpd.read_file(tmp_path / "gaps.geojson")
    assert gaps["households_uncovered"].sum() == s["households_total"]


# --- review of the command by a new user ---------------------------------------------


_CMD = ("python", "-m", "planner", "coverage", "demo")
ROOT = Path(__file__).resolve().parents[1]  # python -m planner runs this checkout


def _summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def test_repeated_minutes_count_once(fake_load, tmp_path: Path) -> None:
    out = tmp_path / "rep"
    assert cli.main(["coverage", "demo", "--out", str(out), "--minutes", "15,5,5,15"]) == 0
    s = _summary(out)
    assert s["thresholds_min"] == [5.0, 15.0]
    assert set(s["households_covered"]) == {"5", "15"}
    b = gpd.read_file(out / "buildings.geojson")
    assert [c for c in b.columns if c.startswith("covered_")] == ["covered_5", "covered_15"]


@pytest.mark.parametrize(
    ("flags", "typed", "fix"),
    [
        (["--minutes", "0"], "--minutes 0:", "--minutes 5,10,15"),
        (["--speed-kmh", "0.1"], "--speed-kmh 0.1:", "--speed-kmh 4"),
        (["--minutes", "5,10"], "--minutes 5,10 leaves out 15 minutes", "--gap-minutes"),
        (["--gap-minutes", "12"], "--gap-minutes 12:", "one of the --minutes values"),
    ],
)
def test_bad_settings_name_the_flag_typed_and_the_fix(
    fake_load, tmp_path: Path, capsys, flags: list[str], typed: str, fix: str
) -> None:
    out = tmp_path / "bad"
    assert cli.main(["coverage", "demo", "--out", str(out), *flags]) == 2
    err = capsys.readouterr().err
    assert typed in err and "Fix:" in err and fix in err
    assert "thresholds_min" not in err and "walk_speed_kmh" not in err
    assert "gap_minutes=" not in err and "Traceback" not in err
    assert not out.exists()  # refused before anything is written


def test_load_warnings_are_printed_and_in_the_summary(monkeypatch, tmp_path: Path, capsys):
    from planner.errors import Problem
    from planner.street import LoadReport

    st = _street()
    note = Problem(
        "1 stations lie more than 1,000 m outside the street and were left out: A2",
        fix="check their coordinates",
        file="stations.csv",
        feature_id="A2",
        severity="warning",
    )
    st.report = LoadReport(source="test", notes=[note])
    monkeypatch.setattr(command, "load_from_args", lambda args, settings, **_: st)
    out = tmp_path / "lw"
    assert cli.main(["coverage", "demo", "--out", str(out), "-q"]) == 0
    err = capsys.readouterr().err
    assert err.count("were left out: A2") == 1
    assert "file stations.csv, feature A2" in err
    s = _summary(out)
    assert [p["feature_id"] for p in s["problems"]] == ["A2"]
    assert s["load"]["notes"][0]["message"] == note.message


def test_far_station_dropped_by_the_loader_is_reported(tmp_path: Path) -> None:
    """End to end on the demo street: a station 100 km away is not silently dropped."""
    import subprocess
    import sys

    csv = tmp_path / "far.csv"
    csv.write_text(
        "station_id,name,kind,longitude,latitude\n"
        "A1,一站,community_station,108.9364742,34.2073951\n"
        "A2,远站,community_station,109.9,34.9\n",
        encoding="utf-8",
    )
    out = tmp_path / "far"
    cmd = [sys.executable, *_CMD[1:], "--stations", str(csv)]
    r = subprocess.run(
        [*cmd, "--out", str(out), "-q"], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    assert r.stderr.count("left out: A2") == 1
    s = _summary(out)
    assert any(p["feature_id"] == "A2" for p in s["problems"])


def test_each_problem_printed_once_even_when_quiet(tmp_path: Path) -> None:
    """The log line and the ``warning:`` line used to repeat every problem."""
    import subprocess
    import sys

    out = tmp_path / "once"
    r = subprocess.run(
        [sys.executable, *_CMD[1:], "--out", str(out), "-q", "--service-kinds", "red_office"],
        capture_output=True,
        cwd=ROOT,
        text=True,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("no service station") == 1
    assert r.stderr.startswith("warning: [file stations]")
    assert "--service-kinds" in r.stderr  # the fix names the flag this command has


def test_grids_of_points_are_refused(fake_load, tmp_path: Path, capsys) -> None:
    path = tmp_path / "points.geojson"
    path.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature",'
        '"properties":{"code":"1"},"geometry":{"type":"Point","coordinates":[117.0,0.001]}}]}',
        encoding="utf-8",
    )
    out = tmp_path / "o"
    assert cli.main(["coverage", "demo", "--out", str(out), "--grids", str(path)]) == 2
    err = capsys.readouterr().err
    assert "points.geojson" in err and "feature 1" in err and "Point" in err
    assert "polygon" in err and "Fix:" in err
    assert not out.exists()


def test_grids_without_crs_lonlat_accepted_projected_refused(
    fake_load, tmp_path: Path, capsys
) -> None:
    g = squares([(250, 125), (250, 375)], size=250, code=["01", "02"])
    g.to_crs(4326).to_file(tmp_path / "ll.shp")
    (tmp_path / "ll.prj").unlink()
    out = tmp_path / "ll"
    assert (
        cli.main(["coverage", "demo", "--out", str(out), "--grids", str(tmp_path / "ll.shp")]) == 0
    )
    table = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig", dtype={"id": str})
    grid_rows = table[table.level == "grid"]
    assert grid_rows["households"].sum() == table.loc[0, "households"]
    g.to_file(tmp_path / "utm.shp")  # metres, and no .prj to say so
    (tmp_path / "utm.prj").unlink()
    capsys.readouterr()
    code = cli.main(
        ["coverage", "demo", "--out", str(tmp_path / "u"), "--grids", str(tmp_path / "utm.shp")]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "utm.shp" in err and "coordinate reference system" in err and "Fix:" in err


def test_service_kinds_flag(fake_load, tmp_path: Path, capsys) -> None:
    out = tmp_path / "k"
    # the test stations are community stations: counting grid stations only leaves none
    assert cli.main(["coverage", "demo", "--out", str(out), "--service-kinds", "grid_station"]) == 0
    assert _summary(out)["service_kinds"] == ["grid_station"]
    assert _summary(out)["stations"] == 0
    args = ["coverage", "demo", "--out", str(out), "--service-kinds", "社区党群服务站,grid_station"]
    assert cli.main(args) == 0  # Chinese names too
    s = _summary(out)
    assert s["service_kinds"] == ["community_station", "grid_station"] and s["stations"] == 2
    capsys.readouterr()
    bad = [
        "coverage",
        "demo",
        "--out",
        str(tmp_path / "x"),
        "--service-kinds",
        "community,grid_station",
    ]
    assert cli.main(bad) == 2
    err = capsys.readouterr().err
    assert "--service-kinds" in err and "community," in err
    assert "unknown station kind(s) community;" in err
    assert "community_station" in err and "convenience_point" in err


def test_output_cells_blank_not_inf_and_rounded(monkeypatch, tmp_path: Path) -> None:
    st = _street()
    compounds = squares([(250, 250)], size=600, compound_id=["k1"], name=["大院"], gated=[False])
    b = st.buildings.copy()
    b["compound_id"] = "k1"
    b["population"] = b["households"] * 2.62
    st = st.with_layers(stations=st.stations.iloc[:0], compounds=compounds, buildings=b)
    monkeypatch.setattr(command, "load_from_args", lambda args, settings, **_: st)
    out = tmp_path / "z"
    assert cli.main(["coverage", "demo", "--out", str(out), "-q"]) == 0
    text = (out / "uncovered_compounds.csv").read_text(encoding="utf-8-sig")
    assert "inf" not in text
    unc = pd.read_csv(out / "uncovered_compounds.csv", encoding="utf-8-sig")
    assert unc["compound_id"].tolist() == ["k1"]
    assert unc[["time_min", "time_max_min", "walk_m"]].isna().all().all()
    stations = pd.read_csv(out / "stations.csv", encoding="utf-8-sig")
    assert len(stations) == 0
    assert {"circle_area_m2_5", "circle_area_m2_10", "circle_area_m2_15"} <= set(stations.columns)
    s = _summary(out)
    table = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
    assert table.loc[0, "population"] == s["population_total"]
    assert (table["population"] == table["population"].round()).all()


def test_gap_areas_rounded_like_circle_areas(fake_load, tmp_path: Path) -> None:
    out = tmp_path / "g"
    assert (
        cli.main(["coverage", "demo", "--out", str(out), "--minutes", "1,2", "--gap-minutes", "2"])
        == 0
    )
    gaps = json.loads((out / "gaps.geojson").read_text(encoding="utf-8"))["features"]
    assert gaps
    for f in gaps:
        a = f["properties"]["area_m2"]
        assert a == round(a, 1)


def test_gaps_and_uncovered_figures_follow_the_gap_threshold(fake_load, tmp_path: Path) -> None:
    out = tmp_path / "g20"
    slow = ["--speed-kmh", "0.5"]  # 125 m in 15 minutes: some households lie beyond
    assert cli.main(["coverage", "demo", "--out", str(out), "--minutes", "5,10,15,20", *slow]) == 0
    s = _summary(out)
    assert s["gap_minutes"] == 15.0
    assert "households_via_margin_15" in s and "households_via_margin_20" not in s
    assert s["households_uncovered_15"] == s["households_total"] - s["households_covered"]["15"]
    table = pd.read_csv(out / "coverage.csv", encoding="utf-8-sig")
    assert "households_uncovered_15" in table.columns
    assert "households_uncovered_20" not in table.columns
    gaps = gpd.read_file(out / "gaps.geojson")
    assert (gaps["minutes"] == 15).all()
    b = gpd.read_file(out / "buildings.geojson")
    beyond_15 = b.loc[~b["covered_15"] & (b["households"] > 0), "households"].sum()
    assert gaps["households_uncovered"].sum() == beyond_15
    assert beyond_15 > b.loc[~b["covered_20"], "households"].sum()  # not the 20-min gaps
    out10 = tmp_path / "g10"
    args = ["coverage", "demo", "--out", str(out10), "--minutes", "5,10", "--gap-minutes", "10"]
    args += slow
    assert cli.main(args) == 0
    assert _summary(out10)["gap_minutes"] == 10.0
    assert "households_uncovered_10" in _summary(out10)
    assert (gpd.read_file(out10 / "gaps.geojson")["minutes"] == 10).all()


def test_demo_circles_and_gaps_files_hold_only_polygons(tmp_path: Path) -> None:
    """Overlays along compound walls and the 7-decimal rounding once wrote
    GeometryCollections (a polygon plus the line of a collapsed crack)."""
    import geopandas as gpd

    from planner.load.sources import load_street
    from planner.settings import Settings

    command.write_outputs(load_street("demo"), tmp_path, settings=Settings())
    for name in ("circles.geojson", "gaps.geojson"):
        g = gpd.read_file(tmp_path / name)
        assert set(g.geom_type) <= {"Polygon", "MultiPolygon"}, (name, g.geom_type.value_counts())
        assert g.is_valid.all()


def test_out_that_is_a_file_is_refused_naming_the_flag(fake_load, tmp_path: Path, capsys) -> None:
    f = tmp_path / "taken.txt"
    f.write_text("x", encoding="utf-8")
    assert cli.main(["coverage", "demo", "--out", str(f)]) == 2
    err = capsys.readouterr().err
    assert f"--out {f} is a file, not a folder" in err and "Fix:" in err
    assert f.read_text(encoding="utf-8") == "x"


def test_minutes_given_twice_both_lists_count(fake_load, tmp_path: Path) -> None:
    out = tmp_path / "twice"
    assert (
        cli.main(["coverage", "demo", "--out", str(out), "--minutes", "5", "--minutes", "10,15"])
        == 0
    )
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["thresholds_min"] == [5.0, 10.0, 15.0]
