"""``python -m planner site``: files written, figures, messages and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest

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


def test_site_bad_target_share_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["site", "demo", "--target-share", "1.5", "--out", str(tmp_path)]) == 2
    assert "--target-share" in capsys.readouterr().err


def test_site_grids_without_code_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    grids = tmp_path / "grids.geojson"
    grids.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"x":1},'
        '"geometry":{"type":"Polygon","coordinates":[[[108.9,34.2],[108.91,34.2],'
        "[108.91,34.21],[108.9,34.2]]]}}]}",
        encoding="utf-8",
    )
    code = main(["site", "demo", "-k", "1", "--grids", str(grids), "--out", str(tmp_path / "o")])
    assert code == 2
    assert "'code'" in capsys.readouterr().err


def test_site_target_share_reports_the_share_reached(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["site", "demo", "--target-share", "0.95", "--out", str(out), "--no-circles"]) == 0
    s = json.loads((out / "siting.json").read_text(encoding="utf-8"))
    reached = s["households_covered_after"] / s["households_total"]
    assert reached >= 0.95
    printed = capsys.readouterr().out
    # the share reached is reported, next to the target (not the target as the outcome)
    assert f"reach {reached:.1%} of households (target 95.0%)" in printed
    assert s["message"] in printed
    # household figures are whole numbers, written as integers
    for key in ("households_total", "households_covered_before", "households_covered_after"):
        assert isinstance(s[key], int), key
    assert all(isinstance(site["households_served"], int) for site in s["sites"])


def test_site_more_stations_than_needed_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["site", "demo", "-k", "3", "--out", str(out), "--no-circles"]) == 0
    s = json.loads((out / "siting.json").read_text(encoding="utf-8"))
    n = s["stations_proposed"]
    assert n < 3 and s["households_covered_after"] == s["households_total"]
    assert f"{n} already cover every household any candidate can reach" in s["message"]
    assert s["message"] in capsys.readouterr().out


@pytest.mark.parametrize("k", ["0", "-1"])
def test_site_k_below_one_is_refused(
    k: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["site", "demo", "-k", k, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert "1 or more" in captured.err
    assert "status optimal" not in captured.out
    assert not (out / "siting.json").exists()
