"""Grids edited elsewhere are re-proved: the command, its exit codes, and the three edits."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from planner.cli import main
from planner.cli.check_grids import grids_near, recode
from planner.export import formats as ex
from planner.grids.gridfile import read_grids
from planner.grids.rules import check_grids
from planner.settings import Settings
from planner.street import Street
from tests.export_streets import X0, Y0, small_street


@pytest.fixture(scope="module")
def street() -> Street:
    return small_street()


def _grids(street: Street) -> gpd.GeoDataFrame:
    """8 grids of 400 m x 600 m, one compound (384 households) each; all rules hold."""
    rows = []
    for j in range(2):
        for i in range(4):
            rows.append(
                {
                    "grid_id": f"g{j}{i}",
                    "code": f"1000006101130030{'01' if i < 2 else '02'}{j * 4 + i + 1:02d}",
                    "community_id": "c1" if i < 2 else "c2",
                    "geometry": shapely.box(
                        X0 + 400 * i, Y0 + 600 * j, X0 + 400 * (i + 1), Y0 + 600 * (j + 1)
                    ),
                }
            )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=street.crs)


def _edited(street: Street) -> gpd.GeoDataFrame:
    """The same grids after three edits in a desktop GIS: a gap, an overlap, a cut compound."""
    g = _grids(street)
    geoms = list(g.geometry)
    # 1. gap: a 40 m triangle cut from the street's south-west corner (800 m², no buildings)
    geoms[0] = geoms[0].difference(shapely.Polygon([(X0, Y0), (X0 + 40, Y0), (X0, Y0 + 40)]))
    # 2. overlap: the north-row grid of column 1 reaches 10 m into column 0 (1,000 m²)
    geoms[5] = geoms[5].union(shapely.box(X0 + 390, Y0 + 700, X0 + 400, Y0 + 800))
    # 3. cut compound: the line between south-row columns 2 and 3 moved 120 m west, through
    #    the gap between two rows of buildings of the compound at x 860-1140 (no building
    #    is cut; 4 buildings, 96 households, change grid: 288 and 480, both in range)
    geoms[2] = shapely.box(X0 + 800, Y0, X0 + 1080, Y0 + 600)
    geoms[3] = shapely.box(X0 + 1080, Y0, X0 + 1600, Y0 + 600)
    return g.set_geometry(gpd.GeoSeries(geoms, crs=g.crs))


def test_unedited_grids_keep_every_rule(street: Street) -> None:
    report = check_grids(_grids(street), street, settings=Settings())
    assert report.ok, report.to_text()
    assert [v for v in report.violations if v.severity == "error"] == []


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp"])
def test_edited_file_gives_exactly_the_three_violations(
    tmp_path: Path, street: Street, fmt: str
) -> None:
    edited = _edited(street)
    if fmt == "geojson":
        path = ex.write_geojson(edited, tmp_path / "grids.geojson")
    elif fmt == "gpkg":
        path = ex.write_geopackage(tmp_path / "grids.gpkg", layers={"grids": edited})
    else:
        ex.write_shapefiles(tmp_path, layers={"grids": edited})
        path = tmp_path / "grids.shp"
    back = read_grids(path, street)
    report = check_grids(back, street, settings=Settings())
    errors = [v for v in report.violations if v.severity == "error"]
    assert sorted(v.rule for v in errors) == ["compounds_whole", "coverage", "no_overlap"], (
        report.to_text()
    )
    by_rule = {v.rule: v for v in errors}
    codes = edited["code"].tolist()
    assert set(by_rule["no_overlap"].grids) == {codes[4], codes[5]}
    assert "1,000 m²" in by_rule["no_overlap"].message
    assert set(by_rule["compounds_whole"].grids) == {codes[2], codes[3]}
    assert "800 m²" in by_rule["coverage"].message
    # every violation is placed: lon/lat near the edit
    for v in errors:
        assert v.lon is not None and 108 < v.lon < 110 and 34 < v.lat < 35


def test_grids_near_names_the_grid_beside_a_gap(street: Street) -> None:
    g = _edited(street)
    lonlat = gpd.GeoSeries([shapely.Point(X0 + 10, Y0 + 10)], crs=street.crs).to_crs(4326)
    lon, lat = float(lonlat.x.iloc[0]), float(lonlat.y.iloc[0])
    assert grids_near(g, lon, lat) == [g["code"].iloc[0]]
    # a point on the line between two grids names both, nearest first
    mid = gpd.GeoSeries([shapely.Point(X0 + 400.5, Y0 + 300)], crs=street.crs).to_crs(4326)
    near = grids_near(g, float(mid.x.iloc[0]), float(mid.y.iloc[0]))
    assert near == [g["code"].iloc[1], g["code"].iloc[0]]


def test_command_exit_codes_and_messages(
    tmp_path: Path,
    street: Street,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import planner.cli.check_grids as cmd

    monkeypatch.setattr(cmd, "load_from_args", lambda args, settings, **_: street)
    ok = ex.write_geojson(_grids(street), tmp_path / "ok.geojson")
    assert main(["check-grids", str(ok), "street-folder"]) == 0
    assert "RESULT: all rules hold" in capsys.readouterr().out
    bad = ex.write_geojson(_edited(street), tmp_path / "bad.geojson", coordinate_system="gcj02")
    assert main(["check-grids", str(bad), "street-folder"]) == 1
    out = capsys.readouterr().out
    codes = _edited(street)["code"].tolist()
    assert f"grids {codes[4]} and {codes[5]} overlap by 1,000 m² near 108." in out
    assert "gap near" in out and codes[0] in out
    assert main(["check-grids", str(tmp_path / "missing.geojson"), "street-folder"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_recode_numbers_grids_again(
    tmp_path: Path,
    street: Street,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import planner.cli.check_grids as cmd

    monkeypatch.setattr(cmd, "load_from_args", lambda args, settings, **_: street)
    g = _grids(street).drop(columns=["code", "community_id"])
    src = ex.write_geojson(g, tmp_path / "drawn.geojson")
    assert (
        main(
            [
                "check-grids",
                str(src),
                "street-folder",
                "--recode",
                "--code-county",
                "610113",
                "--code-street",
                "003",
            ]
        )
        == 0
    )
    out = read_grids(tmp_path / "drawn.recoded.geojson", street)
    assert out["code"].str.len().eq(20).all()
    assert out["code"].str[6:15].eq("610113003").all()
    assert out["code"].is_unique
    again = recode(out, street, Settings(code_county="610113", code_street="003"))
    assert again["code"].tolist() == out["code"].tolist()  # deterministic
    assert "re-coded 8 grids" in capsys.readouterr().err


def test_json_report_names_grids_near_a_gap(
    tmp_path: Path,
    street: Street,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import json

    import planner.cli.check_grids as cmd

    monkeypatch.setattr(cmd, "load_from_args", lambda args, settings, **_: street)
    path = ex.write_geopackage(tmp_path / "edited.gpkg", layers={"grids": _edited(street)})
    assert main(["check-grids", str(path), "street-folder", "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False and doc["file"] == str(path)
    failed = {c["name"] for c in doc["checks"] if not c["passed"]}
    assert failed == {"coverage", "no_overlap", "compounds_whole"}
    gap = next(c for c in doc["checks"] if c["name"] == "coverage")["violations"][0]
    assert gap["near_grids"] and gap["near_grids"][0] in set(_edited(street)["code"])
