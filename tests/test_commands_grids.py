"""``python -m planner grids``: output files, properties, report and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest

from planner.cli import main
from planner.grids.project import open_project
from planner.street import Street
from tests.grid_streets import block_street


def _folder(street: Street, path: Path) -> Path:
    path.mkdir()
    for name in ("boundary", "communities", "compounds", "buildings", "roads"):
        layer = street.layer(name)
        if len(layer):
            layer.to_crs(4326).to_file(path / f"{name}.geojson", driver="GeoJSON")
    (path / "street.json").write_text(
        json.dumps({"name": "测试街道", "code_county": "610113", "code_street": "003"}),
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    street = block_street(households=[60, 30, 45, 0], xs=(150, 300, 450, 600, 750), ys=(200, 400))
    return _folder(street, tmp_path_factory.mktemp("src") / "street")


def test_grids_command_writes_geojson_report_and_project(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(["grids", str(source), "--out", str(out), "--project", str(tmp_path / "p.gpkg")])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "RESULT: all rules hold" in printed
    grids = gpd.read_file(out / "grids.geojson")
    assert grids.crs.to_epsg() == 4326
    for col in ("code", "community", "households", "population", "buildings"):
        assert col in grids.columns
    assert grids["code"].str.fullmatch(r"\d{20}").all()
    # code parts from street.json: service object, county 610113, street 003
    assert grids["code"].str.startswith("100000" + "610113" + "003").all()
    assert (out / "grid_report.txt").read_text(encoding="utf-8").startswith("Proof")
    assert json.loads((out / "grid_report.json").read_text(encoding="utf-8"))["ok"] is True
    assert len(open_project(tmp_path / "p.gpkg").editor.grids) == len(grids)


def test_bounds_flags_and_json(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "grids",
            str(source),
            "--out",
            str(tmp_path),
            "--min-households",
            "100",
            "--max-households",
            "250",
            "--json",
        ]
    )
    report = json.loads(capsys.readouterr().out.split("\nWrote")[0])
    grids = gpd.read_file(tmp_path / "grids.geojson")
    assert code == (0 if report["ok"] else 1)
    inr = grids["households"].between(100, 250)
    assert (grids.loc[~inr, "reason"] != "").all()
    assert len(grids) > 16  # smaller grids than with the defaults


def test_exit_1_when_a_rule_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a community of 100 households alone cannot reach the minimum of 200: explained, exit 0;
    # a building cut by a community boundary cannot be kept whole: a failed rule, exit 1
    street = block_street(households=[60], community_x=450.0, compound_every=0)
    src = _folder(street, tmp_path / "cut")
    code = main(["grids", str(src), "--out", str(tmp_path / "o")])
    printed = capsys.readouterr().out
    assert code == 1
    assert "FAIL" in printed and "building" in printed


def test_bad_settings_exit_2(
    source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "grids",
            str(source),
            "--out",
            str(tmp_path),
            "--min-households",
            "600",
            "--max-households",
            "500",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    # the user set the min above the max: say so, not blame the target they never set
    assert "--min-households 600: is above --max-households 500" in err
    assert "grid_target_households" not in err and "--target-households" not in err


def test_grids_demo_codes_use_street_json_codes_and_flags_win(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo's street.json says 610113/099: codes carry it, not the settings default."""
    main(["grids", "demo", "--out", str(tmp_path / "a")])
    codes = gpd.read_file(tmp_path / "a" / "grids.geojson")["code"]
    assert len(codes) and codes.str.startswith("1000006101130990").all()
    doc = json.loads((tmp_path / "a" / "grids.geojson").read_text(encoding="utf-8"))
    assert "Synthetic data" in doc["attribution"]  # the source's data credit goes along
    main(["grids", "demo", "--out", str(tmp_path / "b"), "--code-county", "110108"])
    codes = gpd.read_file(tmp_path / "b" / "grids.geojson")["code"]
    assert codes.str.startswith("100000110108099").all()  # a flag wins, even the default
    capsys.readouterr()
