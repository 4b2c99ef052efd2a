"""Editor glue: clicks to atoms, drawn lines, autosave paths (planner/app/editor.py)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from pyproj import Transformer
from shapely.geometry import box

from planner.app.editor import atom_at, autosave_path, line_from_drawing
from planner.crs import wgs84_to_gcj02
from tests.app_street import CRS, X0, Y0

ATOMS = gpd.GeoDataFrame(
    {"atom_id": [10, 11]},
    geometry=[box(X0, Y0, X0 + 500, Y0 + 800), box(X0 + 500, Y0, X0 + 1000, Y0 + 800)],
    crs=CRS,
)
TO_WGS = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)


def test_click_selects_the_atom_under_it() -> None:
    lon, lat = TO_WGS.transform(X0 + 750, Y0 + 400)
    assert atom_at(ATOMS, lon, lat, crs=CRS) == 11
    lon, lat = TO_WGS.transform(X0 + 100, Y0 + 100)
    assert atom_at(ATOMS, lon, lat, crs=CRS) == 10
    lon, lat = TO_WGS.transform(X0 + 5000, Y0 + 5000)
    assert atom_at(ATOMS, lon, lat, crs=CRS) is None


def test_click_on_an_amap_basemap_is_shifted_back_from_gcj02() -> None:
    lon, lat = TO_WGS.transform(X0 + 520, Y0 + 400)  # 20 m inside the east atom
    glon, glat = wgs84_to_gcj02([lon], [lat])
    assert atom_at(ATOMS, float(glon[0]), float(glat[0]), crs=CRS, basemap="amap") == 11


def test_drawn_line_in_street_crs() -> None:
    a = TO_WGS.transform(X0 + 250, Y0 - 10)
    b = TO_WGS.transform(X0 + 250, Y0 + 810)
    line = line_from_drawing(
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [a, b]}}, crs=CRS
    )
    assert line is not None
    assert line.coords[0][0] == pytest.approx(X0 + 250, abs=0.01)
    assert line_from_drawing(None, crs=CRS) is None
    assert line_from_drawing({"geometry": {"type": "Point", "coordinates": a}}, crs=CRS) is None


def test_autosave_path_per_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANNER_AUTOSAVE_DIR", str(tmp_path))
    p1, p2 = autosave_path('{"kind": "demo"}'), autosave_path('{"kind": "upload"}')
    assert p1.parent == tmp_path and p1 != p2 and p1.suffix == ".gpkg"
    assert autosave_path('{"kind": "demo"}') == p1
