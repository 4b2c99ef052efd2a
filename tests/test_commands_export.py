"""``python -m planner export``: layer files, and the data credit OpenStreetMap needs."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box

from planner.cli import main
from planner.cli.export import EXPORT_LAYERS
from planner.load import osm
from planner.load import sources as load

OSM = Path(__file__).parent / "data" / "beijing-haidian-xueyuanlu" / "map.osm"


def test_export_of_an_osm_street_carries_the_odbl_attribution(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    boundary = tmp_path / "b.geojson"
    gpd.GeoDataFrame(geometry=[box(116.350, 40.000, 116.355, 40.004)], crs="EPSG:4326").to_file(
        boundary
    )
    out = tmp_path / "out"
    code = main(
        ["export", str(OSM), "--boundary", str(boundary), "--margin-m", "200", "--out", str(out)]
    )
    assert code == 0
    for name in EXPORT_LAYERS:
        doc = json.loads((out / f"{name}.geojson").read_text(encoding="utf-8"))
        assert "© OpenStreetMap contributors" in doc["attribution"], name
    capsys.readouterr()


def test_export_of_a_folder_without_credit_has_no_attribution(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", str(street_folder), "--out", str(tmp_path / "o")]) == 0
    doc = json.loads((tmp_path / "o" / "boundary.geojson").read_text(encoding="utf-8"))
    assert "attribution" not in doc
    capsys.readouterr()


def test_loader_uses_the_osm_modules_attribution() -> None:
    assert load.OSM_ATTRIBUTION is osm.ATTRIBUTION
