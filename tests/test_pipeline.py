"""``python -m planner demo --out DIR`` end to end, each output re-read by an independent reader.

The pipeline runs once (module fixture) through the real command line; a spy keeps the
in-memory result so every file can be compared with the figures it was written from.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from planner import pipeline
from planner.cli import main
from planner.crs import gcj02_to_wgs84
from planner.grids.gridfile import read_grids
from tests.rfc7946 import check_rfc7946

LAYERS = [
    "boundary",
    "communities",
    "compounds",
    "buildings",
    "roads",
    "stations",
    "grids",
    "circles",
    "gaps",
]
TABLES = ["coverage_by_community", "coverage_by_grid", "coverage_by_station", "uncovered_compounds"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pipeline.RunResult, int]:
    out = tmp_path_factory.mktemp("demo_out")
    kept: dict[str, Any] = {}
    real = pipeline.run_pipeline

    def spy(*args: Any, **kwargs: Any) -> pipeline.RunResult:
        kept["result"] = real(*args, **kwargs)
        return kept["result"]

    mp = pytest.MonkeyPatch()
    import planner.cli.run as cmd

    mp.setattr(cmd, "run_pipeline", spy)
    # what native code (the HiGHS solver) writes on descriptor 1 is caught here
    with tempfile.TemporaryFile() as native:
        saved = os.dup(1)
        os.dup2(native.fileno(), 1)
        try:
            code = main(["demo", "--out", str(out), "--quiet"])
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
            mp.undo()
        native.seek(0)
        kept["stdout"] = native.read()
    assert kept["stdout"] == b"", kept["stdout"][:200]  # --quiet means quiet
    return out, kept["result"], code


def test_exit_code_and_every_file(run: tuple[Path, pipeline.RunResult, int]) -> None:
    out, result, code = run
    assert code == 0 and result.rules_ok
    names = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    expected = (
        {f"{n}.geojson" for n in LAYERS}
        | {f"{t}.csv" for t in TABLES}
        | {
            "planner.gpkg",
            "redmap.html",
            "redmap.png",
            "redmap.pdf",
            "grid_rules.txt",
            "summary.json",
            "shapefile/fields.csv",
        }
    )
    expected |= {
        f"shapefile/{n}.{ext}" for n in LAYERS for ext in ("shp", "shx", "dbf", "prj", "cpg")
    }
    if result.siting is not None:  # siting ran: the proposed sites are exported too
        expected |= {"sites.geojson", "shapefile/sites.shp"}
        assert len(result.siting.sites) >= 1
        sites = pyogrio.read_dataframe(out / "sites.geojson")
        assert len(sites) == len(result.siting.sites)
    assert expected <= names, sorted(expected - names)
    assert not [n for n in names if ".tmp" in n or n.endswith(".aux.xml")]
    assert {str(p.relative_to(out)) for p in result.files} <= names


def test_circles_and_gaps_match_the_coverage_command(
    run: tuple[Path, pipeline.RunResult, int], tmp_path: Path
) -> None:
    out, result, _ = run
    assert main(["coverage", "demo", "--out", str(tmp_path)]) == 0
    cov_s = json.loads((tmp_path / "summary.json").read_text("utf-8"))
    run_s = json.loads((out / "summary.json").read_text("utf-8"))["coverage"]
    assert run_s["gap_area_m2"] == cov_s["gap_area_m2"] > 0
    assert run_s["gaps"] == cov_s["gaps"]

    def union_15(path: Path) -> tuple[float, float]:
        c = gpd.read_file(path)
        u = c[(c["view"] == "union") & (c["minutes"] == 15)]
        assert (c["threshold_min"] == c["minutes"]).all()
        return float(u["area_m2"].iloc[0]), float(u.to_crs(result.street.crs).area.iloc[0])

    a_run, a_run_geom = union_15(out / "circles.geojson")
    a_cov, a_cov_geom = union_15(tmp_path / "circles.geojson")
    assert a_run == a_cov > 0
    assert a_run_geom == pytest.approx(a_cov_geom, rel=1e-6)
    g_run = gpd.read_file(out / "gaps.geojson")
    g_cov = gpd.read_file(tmp_path / "gaps.geojson")
    assert list(g_run.columns) == list(g_cov.columns)
    assert g_run["area_m2"].sum() == pytest.approx(g_cov["area_m2"].sum())
    # every uncovered household is in exactly one gap: the sums agree with the tables
    uncovered = cov_s["households_total"] - cov_s["households_covered"]["15"]
    assert g_run["households_uncovered"].sum() == g_cov["households_uncovered"].sum() == uncovered
    table = pd.read_csv(tmp_path / "coverage.csv", encoding="utf-8-sig")
    assert table.loc[table["level"] == "street", "households_uncovered_15"].item() == uncovered


def test_siting_after_figures_match_coverage_with_the_new_sites(
    run: tuple[Path, pipeline.RunResult, int],
) -> None:
    from planner.coverage.figures import area_figures, compute_coverage

    out, result, _ = run
    assert result.siting is not None and len(result.siting.sites) >= 1
    street, sites = result.street, result.siting.sites
    new = gpd.GeoDataFrame(
        {"station_id": sites["site_id"].to_numpy(), "name": "new", "kind": "community_station"},
        geometry=sites.geometry.to_numpy(),
        crs=street.crs,
    )
    both = gpd.GeoDataFrame(pd.concat([street.stations, new], ignore_index=True), crs=street.crs)
    after = area_figures(
        compute_coverage(street.with_layers(stations=both), settings=result.settings),
        grids=result.grids.grids,
    )
    want = after.set_index(["level", after["id"].astype(str)])["households_covered_15"].to_dict()
    table = pd.read_csv(out / "siting_by_area.csv", encoding="utf-8-sig", dtype={"id": str})
    got = table.set_index(["level", "id"])["households_covered_after"].to_dict()
    assert got == want
    street_row = table[table["level"] == "street"].iloc[0]
    assert street_row["households_newly_covered"] > 0
    summary = json.loads((out / "summary.json").read_text("utf-8"))["siting"]
    assert street_row["households_covered_after"] == summary["households_covered_after"]
    gpkg = pyogrio.read_dataframe(out / "planner.gpkg", layer="siting_by_area")
    assert gpkg["households_covered_after"].sum() == table["households_covered_after"].sum()


def test_grid_codes_use_the_street_json_codes(run: tuple[Path, pipeline.RunResult, int]) -> None:
    _, result, _ = run
    meta = json.loads(
        (Path(__file__).resolve().parents[1] / "data" / "demo" / "street.json").read_text("utf-8")
    )
    prefix = meta["code_county"] + meta["code_street"]
    assert result.settings.code_county + result.settings.code_street == prefix
    assert all(c[6:15] == prefix for c in result.grids.grids["code"])


def test_code_flag_equal_to_the_default_still_wins(tmp_path: Path) -> None:
    """A county code the user gives wins over street.json even when it equals the default."""
    from planner.cli import main

    code = main(
        [
            "demo",
            "--out",
            str(tmp_path),
            "--quiet",
            "--no-html",
            "--no-images",
            "--formats",
            "geojson",
            "--no-siting",
            "--code-county",
            "110108",
        ]
    )
    assert code in (0, 1)
    grids = json.loads((tmp_path / "grids.geojson").read_text(encoding="utf-8"))
    codes = [f["properties"]["code"] for f in grids["features"]]
    assert codes and all(c[6:12] == "110108" for c in codes)
    # without the flag the demo's own street.json codes are used
    street_codes = json.loads((Path("data/demo/street.json")).read_text(encoding="utf-8"))
    assert street_codes["code_county"] != "110108"


def test_geojson_layers_are_rfc7946_and_equal_in_memory(
    run: tuple[Path, pipeline.RunResult, int],
) -> None:
    out, result, _ = run
    for name in LAYERS:
        assert check_rfc7946(out / f"{name}.geojson") == [], name
    g = pyogrio.read_dataframe(out / "grids.geojson")
    mem = result.grids.grids
    assert g["code"].tolist() == mem["code"].tolist()
    assert g["households"].tolist() == mem["households"].tolist()
    assert g["community"].tolist() == mem["community"].tolist()  # Chinese names intact
    assert len(pyogrio.read_dataframe(out / "circles.geojson")) == len(result.coverage.circles)
    gaps = pyogrio.read_dataframe(out / "gaps.geojson").to_crs(mem.crs)
    assert gaps.area.sum() == pytest.approx(result.coverage.gaps.area.sum(), rel=1e-4)


def test_grids_round_trip_identical(run: tuple[Path, pipeline.RunResult, int]) -> None:
    out, result, _ = run
    mem = result.grids.grids
    geoms = np.asarray(mem.geometry.values, dtype=object)
    for path in (out / "grids.geojson", out / "planner.gpkg", out / "shapefile" / "grids.shp"):
        back = read_grids(path, result.street)
        assert back["code"].tolist() == mem["code"].tolist()
        assert back["households"].tolist() == mem["households"].tolist()
        got = np.asarray(back.geometry.values, dtype=object)
        if path.suffix == ".geojson":
            # 7 decimals: every difference lies within 1 cm of the grid's outline (snap
            # rounding also drops zero-width spikes, which have no area to lose)
            diff = shapely.symmetric_difference(got, geoms)
            xy, owner = shapely.get_coordinates(diff, return_index=True)
            far = shapely.distance(shapely.boundary(geoms)[owner], shapely.points(xy))
            assert float(far.max(initial=0.0)) < 0.01
            assert np.allclose(shapely.area(got), shapely.area(geoms), rtol=1e-4)
        else:  # full double precision
            assert float(np.max(shapely.hausdorff_distance(got, geoms))) < 1e-6, path.name


def test_geopackage_tables_equal_csv_and_memory(run: tuple[Path, pipeline.RunResult, int]) -> None:
    out, result, _ = run
    listed = dict(pyogrio.list_layers(out / "planner.gpkg"))
    assert set(LAYERS) <= set(listed) and all(listed[t] is None for t in TABLES)
    mem = result.coverage.table("community")
    gpkg = pyogrio.read_dataframe(out / "planner.gpkg", layer="coverage_by_community")
    csv = pd.read_csv(out / "coverage_by_community.csv", encoding="utf-8-sig")
    assert (out / "coverage_by_community.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    for col in ("households", "households_covered_15", "households_uncovered_15"):
        assert gpkg[col].tolist() == mem[col].tolist() == csv[col].tolist()
    assert csv["name"].tolist() == mem["name"].tolist()
    from openpyxl import load_workbook

    ws = load_workbook(out / "tables.xlsx", read_only=True)["coverage_by_grid"]
    rows = list(ws.iter_rows(values_only=True))
    codes = [r[rows[0].index("code")] for r in rows[1:]]
    assert codes == result.grids.grids["code"].tolist()  # all 20 digits, as text
    assert all(re.search(r"[\u4e00-\u9fff]", n) for n in csv["name"])
    shp = pyogrio.read_dataframe(out / "shapefile" / "communities.shp")
    assert shp["name"].tolist() == result.street.communities["name"].tolist()


def test_summary_and_maps(run: tuple[Path, pipeline.RunResult, int]) -> None:
    out, result, _ = run
    s = json.loads((out / "summary.json").read_text("utf-8"))
    assert s["synthetic"] is True
    assert s["grids"]["count"] == len(result.grids.grids) and s["grids"]["rules_ok"] is True
    assert s["coverage"]["households_covered"] == result.coverage.summary["households_covered"]
    html = (out / "redmap.html").read_text("utf-8")
    assert not re.findall(r'<script[^>]+src="https?://', html)  # standalone, offline
    assert (out / "redmap.pdf").read_bytes().startswith(b"%PDF")
    assert (out / "redmap.png").read_bytes().startswith(b"\x89PNG")


def test_gcj02_export_converts_back_within_1_m(
    run: tuple[Path, pipeline.RunResult, int], tmp_path: Path
) -> None:
    _, result, _ = run
    pipeline.export_results(
        result,
        tmp_path,
        formats=["geojson", "gpkg"],
        coordinate_system="gcj02",
        html=False,
        images=False,
    )
    doc = json.loads((tmp_path / "stations.geojson").read_text("utf-8"))
    assert doc["coordinate_system"] == "GCJ-02"
    info = pyogrio.read_info(tmp_path / "planner.gpkg", layer="stations")
    assert info["layer_metadata"]["coordinate_system"] == "GCJ-02"
    st = pyogrio.read_dataframe(tmp_path / "stations.geojson")
    lon, lat = gcj02_to_wgs84(st.geometry.x.to_numpy(), st.geometry.y.to_numpy())
    back = gpd.GeoSeries(shapely.points(lon, lat), crs=4326).to_crs(result.street.crs)
    mem = result.street.stations.geometry
    assert float(np.max(back.distance(mem.reset_index(drop=True), align=False))) < 1.0
    assert float(np.min(st.to_crs(result.street.crs).distance(mem, align=False))) > 50


def test_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["run", str(tmp_path / "no-such-folder"), "--out", str(tmp_path / "o"), "--quiet"])
        == 2
    )
    assert "error" in capsys.readouterr().err
    assert main(["demo", "--out", str(tmp_path / "o"), "--formats", "geojson,kml"]) == 2
    assert "kml" in capsys.readouterr().err


def test_rule_violation_exits_1(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, run: tuple[Path, pipeline.RunResult, int]
) -> None:
    import planner.cli.run as cmd

    _, result, _ = run
    broken = pipeline.RunResult(
        street=result.street, settings=result.settings, grids=_FailingGrids(result.grids)
    )
    monkeypatch.setattr(cmd, "run_pipeline", lambda *a, **k: broken)
    assert main(["demo", "--out", str(tmp_path), "--quiet"]) == 1


class _FailingGrids:
    """A grid result whose proof failed (what the pipeline returns for broken grids)."""

    def __init__(self, real: Any) -> None:
        self.grids = real.grids
        self.report = type("R", (), {"ok": False, "checks": [], "quality": {}, "violations": []})()


#: Runs the command line with the solver's import broken (``None`` in sys.modules).
_WITHOUT_HIGHSPY = (
    "import sys; sys.modules['highspy'] = None\n"
    "from planner.cli import main\n"
    "raise SystemExit(main(sys.argv[1:]))\n"
)


@pytest.mark.parametrize(
    "command",
    [["demo", "--quiet"], ["site", "demo", "-k", "1"]],
    ids=["demo", "site"],
)
def test_missing_solver_fails_loudly_with_the_fix(tmp_path: Path, command: list[str]) -> None:
    import subprocess

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_HIGHSPY, *command, "--out", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, (done.returncode, done.stdout[-1000:], done.stderr[-2000:])
    assert "Traceback" not in done.stderr and "skipped" not in done.stdout + done.stderr
    assert "'highspy'" in done.stderr and "pip install highspy" in done.stderr, done.stderr
    assert "pip install -e ." in done.stderr, done.stderr
    assert not out.exists() or not any(out.iterdir())  # said before any long step ran
