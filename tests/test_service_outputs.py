"""The run's service completeness and capacity files (issue 16): written by the one export path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from planner.pipeline import RunResult, run_pipeline
from planner.schema import SERVICE_KINDS
from planner.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Path]:
    out = tmp_path_factory.mktemp("svc") / "out"
    result = run_pipeline("demo", out, settings=Settings(), new_sites=0, html=False, images=False)
    return result, out


def test_completeness_by_grid_one_row_per_grid_with_every_kind(run: tuple[RunResult, Path]) -> None:
    result, out = run
    table = pd.read_csv(out / "completeness_by_grid.csv", dtype={"code": str})
    assert result.grids is not None
    assert sorted(table["code"]) == sorted(result.grids.grids["code"].astype(str))
    for kind in SERVICE_KINDS:
        assert f"share_{kind}_pct" in table.columns
    for circle in ("life_5", "life_10", "life_15", "party_15", "convenience_15"):
        assert f"complete_{circle}_pct" in table.columns
    assert {"complete_all_pct", "missing_most", "m2_per_100_households", "below_norm"} <= set(
        table.columns
    )
    # the grid rows agree with the buildings layer: households reaching the party-mass kind
    layer = gpd.read_file(out / "completeness.geojson")
    assert len(layer) == len(result.coverage.buildings)  # type: ignore[union-attr]
    reach = layer.loc[layer["reach_party_mass"].astype(bool), "households"].sum()
    street = pd.read_csv(out / "completeness_by_community.csv")
    assert reach == pytest.approx(
        (street["share_party_mass_pct"] * street["households"] / 100).sum(), abs=5
    )


def test_capacity_by_station_and_summary(run: tuple[RunResult, Path]) -> None:
    result, out = run
    table = pd.read_csv(out / "capacity_by_station.csv", dtype={"station_id": str})
    cov = result.coverage
    assert cov is not None
    assert table["station_id"].tolist() == cov.coverage.stations["station_id"].tolist()
    assert {"households_catchment", "m2_per_100_households", "norm_met", "overloaded"} <= set(
        table.columns
    )
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    services = summary["coverage"]["services"]
    assert services["capacity_catchment_min"] == 15.0
    over = table.loc[table["overloaded"].astype(str) == "True", "station_id"].tolist()
    assert services["stations_overloaded"] == over


def test_workbook_and_geopackage_hold_the_service_tables(run: tuple[RunResult, Path]) -> None:
    _result, out = run
    sheets = pd.ExcelFile(out / "tables.xlsx").sheet_names
    assert {"completeness_by_grid", "completeness_by_community", "capacity_by_station"} <= set(
        sheets
    )
    import pyogrio

    names = {row[0] for row in pyogrio.list_layers(out / "planner.gpkg")}
    assert {"completeness", "completeness_by_grid", "capacity_by_station"} <= names


def test_cli_refuses_a_bad_service_kinds_file_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "kinds.csv"
    bad.write_text("text,service_kind\n老街坊,bakery\n", encoding="utf-8")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "planner",
            "run",
            "demo",
            "--out",
            str(tmp_path / "o"),
            "--service-kinds-file",
            str(bad),
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    assert str(bad) in proc.stderr and "row 2" in proc.stderr and "bakery" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_run_takes_the_catalogue_and_the_circle_minutes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--service-catalogue`` (Chinese names too) and ``--circle-minutes`` reach the
    run's settings (the pipeline is replaced: the hand-over only); a bad list exits 2."""
    import planner.cli.run as cmd
    from planner.cli.parser import main

    given: dict[str, Settings] = {}

    def fake_pipeline(source: object, out_dir: object, **kw: object) -> RunResult:
        assert isinstance(kw["settings"], Settings)
        given["settings"] = kw["settings"]
        raise SystemExit(0)

    monkeypatch.setattr(cmd, "run_pipeline", fake_pipeline)
    out = ["--out", str(tmp_path / "o"), "-q"]
    with pytest.raises(SystemExit):
        main(["run", "demo", *out, "--service-catalogue", "kindergarten,社区食堂",
              "--circle-minutes", "4,8,12"])  # fmt: skip
    s = given["settings"]
    assert set(s.service_catalogue) == {"kindergarten", "canteen"}
    assert s.service_circle_minutes == (4.0, 8.0, 12.0)
    with pytest.raises(SystemExit):
        main(["run", "demo", *out])
    assert given["settings"].service_circle_minutes == (5.0, 10.0, 15.0)
    assert len(given["settings"].service_catalogue) == len(SERVICE_KINDS)
    assert main(["run", "demo", *out, "--circle-minutes", "5,ten,15"]) == 2
    assert "--circle-minutes '5,ten,15' is not a list of numbers" in capsys.readouterr().err


def test_completeness_by_grid_reuses_the_coverage_rows_of_the_same_grids(
    run: tuple[RunResult, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run's grid table of completeness is the coverage's own grid rows (computed
    with these grids), not computed again, and equals a table computed afresh."""
    from planner.coverage import layers

    result, _ = run
    assert result.coverage is not None and result.grids is not None
    grids = result.grids.grids
    fresh = layers.service_grid_table(result.coverage, grids.copy())  # another frame

    def again(*_a: object, **_k: object) -> None:
        raise AssertionError("completeness by area computed again")

    monkeypatch.setattr(layers, "service_by_area", again)
    reused = layers.service_grid_table(result.coverage, grids)
    assert len(reused) == len(grids) > 0
    pd.testing.assert_frame_equal(reused, fresh)
