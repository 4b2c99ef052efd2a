import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Point, Polygon

from planner.export.geojson import write_geojson


def test_rfc7946_wgs84_ccw_rounded_utf8(tmp_path: Path) -> None:
    # clockwise outer ring with a counter-clockwise hole, in UTM metres
    outer = [(440000, 4428000), (440000, 4428100), (440100, 4428100), (440100, 4428000)]
    hole = [(440020, 4428020), (440080, 4428020), (440080, 4428080), (440020, 4428080)]
    gdf = gpd.GeoDataFrame(
        {"name": ["阳光小区"], "n": [np.int64(3)], "area": [np.nan], "ok": [np.True_]},
        geometry=[Polygon(outer, [hole])],
        crs="EPSG:32650",
    )
    assert not shapely.is_ccw(gdf.geometry.iloc[0].exterior)
    path = write_geojson(gdf, tmp_path / "sub" / "x.geojson")
    text = path.read_text(encoding="utf-8")
    assert "阳光小区" in text  # real UTF-8, not \u escapes
    fc = json.loads(text)
    assert "crs" not in fc
    assert fc["features"][0]["properties"] == {"name": "阳光小区", "n": 3, "area": None, "ok": True}
    rings = fc["features"][0]["geometry"]["coordinates"]
    assert shapely.is_ccw(shapely.LinearRing(rings[0]))
    assert not shapely.is_ccw(shapely.LinearRing(rings[1]))
    x, y = rings[0][0]
    assert 116 < x < 117 and 39 < y < 41
    assert all(len(repr(v).split(".")[1]) <= 7 for v in (x, y))
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


@pytest.mark.parametrize("precision", [3, 7])
def test_precision(tmp_path: Path, precision: int) -> None:
    gdf = gpd.GeoDataFrame(geometry=[Point(116.123456789, 39.987654321)], crs="EPSG:4326")
    fc = json.loads(write_geojson(gdf, tmp_path / "p.geojson", precision=precision).read_text())
    assert fc["features"][0]["geometry"]["coordinates"] == [
        round(116.123456789, precision),
        round(39.987654321, precision),
    ]


def test_an_invalid_polygon_is_written_as_polygons_only() -> None:
    from planner.export.geojson import rfc7946_geometries

    # a zero-width spike: make_valid alone gives a polygon plus a line
    spiked = shapely.Polygon([(0, 0), (1, 0), (1, 1), (0.5, 1), (0.5, 2), (0.5, 1), (0, 1)])
    assert shapely.make_valid(spiked).geom_type == "GeometryCollection"
    out = rfc7946_geometries([spiked], precision=7)[0]
    assert out.geom_type in ("Polygon", "MultiPolygon") and out.is_valid
    assert out.area == pytest.approx(1.0)
