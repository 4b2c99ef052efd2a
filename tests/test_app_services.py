"""What the app asks of the planner (planner/app/services.py), on the tiny street."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner.app import services as svc
from planner.errors import InputError
from planner.load.uploads import stage_upload
from planner.settings import Settings
from tests.app_street import tiny_street


def test_street_figures_and_community_table() -> None:
    s = tiny_street()
    figs = svc.street_figures(s)
    assert figs["households"] == 4 * (40 + 50 + 60 + 70 + 80)
    assert figs["communities"] == 2 and figs["stations"] == 3
    assert abs(figs["area_km2"] - 0.8) < 1e-9
    table = svc.community_table(s, lang="en")
    assert list(table["Households"]) == [600, 600]
    assert table["Stations"].sum() == 3  # every station counted in the community holding it


def test_export_files_geojson_per_layer_gpkg_and_csv() -> None:
    files = svc.export_files(tiny_street())
    for name in ("boundary", "communities", "compounds", "buildings", "roads", "stations"):
        data = json.loads(files[f"{name}.geojson"])
        assert data["type"] == "FeatureCollection" and data["features"], name
    lon, lat = json.loads(files["stations.geojson"])["features"][0]["geometry"]["coordinates"]
    assert 115 < lon < 118 and 39 < lat < 41  # WGS84 longitude/latitude, not UTM metres
    # the command line's names: planner.gpkg (was street.gpkg), the marker written last
    assert files["planner.gpkg"][:16] == b"SQLite format 3\x00"
    assert "street.gpkg" not in files and "community_figures.csv" not in files
    assert "summary.json" in files["COMPLETE"].decode().splitlines()


def test_coverage_labels_and_summary_without_coverage() -> None:
    assert svc.coverage_column_label("households_covered_15", "zh") == "15 分钟覆盖户数"
    assert svc.coverage_column_label("households_share_5_pct", "en") == "Covered in 5 min %"
    assert svc.coverage_column_label("other") == "other"
    summary = {
        "households_total": 1000,
        "households_covered_pct": {"5": 20.0, "15": 80.0, "20": 95.0},
        "households_covered": {"5": 200, "15": 800, "20": 950},
    }

    class Cov:
        pass

    cov = Cov()
    cov.summary = summary  # type: ignore[attr-defined]
    s = Settings(thresholds_min=(5.0, 15.0, 20.0))  # the gaps follow gap_minutes (15)
    metrics = dict(svc.coverage_summary(cov, s, lang="en")["metrics"])
    assert metrics["Covered in 15 min"] == "80.0%" and metrics["Households in gaps"] == "200"


def test_uploaded_csv_without_coordinates_is_refused_by_name(tmp_path: Path) -> None:
    demo = Path(__file__).resolve().parents[1] / "data" / "demo" / "boundary.geojson"
    files = [
        ("boundary.geojson", demo.read_bytes()),
        ("stations.csv", "name,address\n站1,某路1号\n".encode()),
    ]
    folder = stage_upload(files, dest=tmp_path, limit_mb=10)
    with pytest.raises(InputError, match=r"stations\.csv.*longitude"):
        svc.load({"kind": "upload", "path": str(folder)}, Settings())


def test_grids_for_codes_with_the_streets_own_codes() -> None:
    from dataclasses import replace

    from tests.grid_streets import block_street

    street = block_street(households=[60, 30, 45, 0], xs=(150, 300, 450, 600, 750), ys=(200, 400))
    street = replace(street, meta={"code_county": "610113", "code_street": "099"})
    result = svc.grids_for(street, Settings())
    assert result.grids["code"].str.startswith("100000610113099").all()


def test_export_files_carry_the_streets_attribution() -> None:
    from dataclasses import replace

    street = replace(tiny_street(), attribution="© OpenStreetMap contributors (ODbL)")
    files = svc.export_files(street)
    doc = json.loads(files["buildings.geojson"])
    assert doc["attribution"] == "© OpenStreetMap contributors (ODbL)"
