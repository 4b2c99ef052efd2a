"""Shared fixtures: a small hand-made street written as a folder in any layer format.

The street is a 1 km square in Beijing's UTM zone (EPSG:32650): two communities,
two gated compounds with gates and internal paths, four buildings, a road grid
reaching 200 m beyond the boundary, and three stations (one in the margin).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pytest
from hypothesis import settings as hypothesis_settings
from shapely.geometry import LineString, Point, box

# Property tests draw the same examples on every run, so CI is repeatable; set
# HYPOTHESIS_PROFILE=explore to search fresh random examples (and add any failure
# found as a plain regression test).
hypothesis_settings.register_profile("repeatable", derandomize=True)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

# --- app19: the app's disk cache is off in tests (they replace its computations); the
# app servers the browser tests start inherit it (tests/test_app_store.py turns it on) ---
os.environ.setdefault("PLANNER_APP_CACHE", "off")

UTM = "EPSG:32650"
X0, Y0 = 440_000.0, 4_428_000.0  # about 116.30 E, 40.00 N


def _b(x0: float, y0: float, x1: float, y1: float):  # type: ignore[no-untyped-def]
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def _l(*pts: tuple[float, float]) -> LineString:
    return LineString([(X0 + x, Y0 + y) for x, y in pts])


def _p(x: float, y: float) -> Point:
    return Point(X0 + x, Y0 + y)


def street_layers() -> dict[str, gpd.GeoDataFrame]:
    """The fixture street's layers in UTM (EPSG:32650)."""
    roads = []
    for k in range(5):
        c = k * 250.0
        roads.append(
            {
                "road_id": f"v{k}",
                "name": f"{k}路",
                "highway": "residential",
                "bridge": False,
                "compound_id": "",
                "geometry": _l((c, -200), (c, 1200)),
            }
        )
        roads.append(
            {
                "road_id": f"h{k}",
                "name": f"{k}街",
                "highway": "primary",
                "bridge": False,
                "compound_id": "",
                "geometry": _l((-200, c), (1200, c)),
            }
        )
    roads += [
        {
            "road_id": "m1",
            "name": "高速",
            "highway": "motorway",
            "bridge": False,
            "compound_id": "",
            "geometry": _l((-200, 900), (1200, 900)),
        },
        {
            "road_id": "g1",
            "name": "",
            "highway": "footway",
            "bridge": False,
            "compound_id": "",
            "geometry": _l((125, 0), (125, 50)),
        },
        {
            "road_id": "i1",
            "name": "",
            "highway": "footway",
            "bridge": False,
            "compound_id": "X1",
            "geometry": _l((125, 50), (125, 150)),
        },
        {
            "road_id": "g2",
            "name": "",
            "highway": "footway",
            "bridge": False,
            "compound_id": "",
            "geometry": _l((625, 500), (625, 550)),
        },
        {
            "road_id": "i2",
            "name": "",
            "highway": "footway",
            "bridge": False,
            "compound_id": "X2",
            "geometry": _l((625, 550), (625, 650)),
        },
    ]
    return {
        "boundary": gpd.GeoDataFrame(
            {"name": ["测试街道"]}, geometry=[_b(0, 0, 1000, 1000)], crs=UTM
        ),
        "communities": gpd.GeoDataFrame(
            {"community_id": ["C1", "C2"], "name": ["西社区", "东社区"], "code": ["001", "002"]},
            geometry=[_b(0, 0, 500, 1000), _b(500, 0, 1000, 1000)],
            crs=UTM,
        ),
        "compounds": gpd.GeoDataFrame(
            {"compound_id": ["X1", "X2"], "name": ["阳光小区", "和平小区"], "gated": [True, True]},
            geometry=[_b(50, 50, 200, 200), _b(550, 550, 700, 700)],
            crs=UTM,
        ),
        "gates": gpd.GeoDataFrame(
            {"gate_id": ["G1", "G2"], "compound_id": ["X1", "X2"]},
            geometry=[_p(125, 50), _p(625, 550)],
            crs=UTM,
        ),
        "buildings": gpd.GeoDataFrame(
            {
                "building_id": ["B1", "B2", "B3", "B4"],
                "name": ["1号楼", "2号楼", "1号楼", "商场"],
                "kind": ["residential", "residential", "residential", "shop"],
                "floors": [6, 6, None, 2],
                "height_m": [None, None, 30.0, None],
                "households": [40, None, None, None],
            },
            geometry=[
                _b(70, 100, 110, 130),
                _b(140, 100, 180, 130),
                _b(600, 600, 640, 630),
                _b(300, 300, 340, 330),
            ],
            crs=UTM,
        ),
        "roads": gpd.GeoDataFrame(roads, crs=UTM),
        "stations": gpd.GeoDataFrame(
            {
                "station_id": ["S1", "S2", "S3"],
                "name": ["一站", "中心", "三站"],
                "kind": ["社区党群服务站", "street_centre", None],
                "floor_area_m2": [300.0, 1200.0, None],
            },
            geometry=[_p(260, 260), _p(1300, 500), _p(760, 760)],
            crs=UTM,
        ),
    }


def write_folder(
    folder: Path,
    layers: dict[str, gpd.GeoDataFrame],
    *,
    fmt: str = "geojson",
    stations_csv: bool = False,
    encoding: str = "utf-8",
) -> Path:
    """Write ``layers`` as a street folder (.geojson in WGS84, .gpkg/.shp in their CRS)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, gdf in layers.items():
        if name == "stations" and stations_csv:
            w = gdf.to_crs("EPSG:4326")
            table = w.drop(columns="geometry").assign(lon=w.geometry.x, lat=w.geometry.y)
            table.to_csv(folder / "stations.csv", index=False, encoding=encoding)
        elif fmt == "geojson":
            gdf.to_crs("EPSG:4326").to_file(folder / f"{name}.geojson", driver="GeoJSON")
        elif fmt == "gpkg":
            gdf.to_file(folder / f"{name}.gpkg", driver="GPKG")
        elif fmt == "shp":
            with warnings.catch_warnings():  # 10-character field names: the loader undoes it
                warnings.simplefilter("ignore")
                gdf.to_file(folder / f"{name}.shp", driver="ESRI Shapefile", encoding="utf-8")
        else:
            raise ValueError(fmt)
    return folder


@pytest.fixture
def layers() -> dict[str, gpd.GeoDataFrame]:
    return street_layers()


@pytest.fixture
def street_folder(tmp_path: Path) -> Path:
    return write_folder(tmp_path / "street", street_layers())


@pytest.fixture
def make_folder(tmp_path: Path) -> Callable[..., Path]:
    counter = iter(range(1000))

    def make(layers: dict[str, gpd.GeoDataFrame] | None = None, **kw: object) -> Path:
        return write_folder(tmp_path / f"street{next(counter)}", layers or street_layers(), **kw)  # type: ignore[arg-type]

    return make


@pytest.fixture(autouse=True)
def _fresh_streamlit_caches() -> None:
    """Clear Streamlit's process-wide caches before each test.

    Under pytest-xdist one worker runs several app test files; a street cached by
    an earlier file would otherwise be served instead of the test's own loader.
    """
    import sys

    if "streamlit" in sys.modules:
        import streamlit as st

        st.cache_data.clear()
        st.cache_resource.clear()
    if "planner.app.cache" in sys.modules:  # its record of computed steps goes with them
        sys.modules["planner.app.cache"].forget_computed()
