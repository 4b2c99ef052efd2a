"""``python -m planner site``: files written, figures, messages and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest

pytest.importorskip("planner.coverage", reason="the site command needs the coverage engine")

from planner.cli import main


def test_site_demo_k3_raises_covered_households(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["site", "demo", "-k", "3", "--out", str(out)]) == 0
    s = json.loads((out / "siting.json").read_text(encoding="utf-8"))
    for key in (
        "households_covered_before",
        "households_covered_after",
        "method",
        "optimality_gap",
        "greedy_households_covered_after",
        "mip_time_s",
        "k",
        "threshold_min",
        "speed_kmh",
    ):
        assert key in s, key
    assert s["households_covered_after"] > s["households_covered_before"]
    assert s["method"] == "mip" and s["k"] == 3
    sites = gpd.read_file(out / "sites.geojson")
    assert len(sites) == s["stations_proposed"] >= 1
    assert sites.crs.to_epsg() == 4326
    assert {"rank", "households_newly_covered", "recommended_floor_area_m2"} <= set(sites.columns)
    figures = (out / "figures.csv").read_text(encoding="utf-8-sig")
    assert figures.startswith("level,id")


def test_site_unreachable_target_exits_2_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cand = tmp_path / "cand.csv"
    cand.write_text("name,longitude,latitude\nfar,10.0,10.0\n", encoding="utf-8")
    out = tmp_path / "out"
    code = main(
        ["site", "demo", "--target-share", "1.0", "--candidates", str(cand), "--out", str(out)]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "cannot be reached" in err
    assert (out / "unreachable.geojson").exists()
    assert json.loads((out / "siting.json").read_text(encoding="utf-8"))["feasible"] is False


def test_site_needs_one_question(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["site", "demo", "--out", str(tmp_path)])
