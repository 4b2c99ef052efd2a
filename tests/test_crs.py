import numpy as np
import pytest
from pyproj import Transformer

from planner import crs


def test_utm_zone_for_beijing_and_xian() -> None:
    assert crs.utm_crs_for(116.35, 40.0).to_epsg() == 32650
    assert crs.utm_crs_for(108.95, 34.27).to_epsg() == 32649


@pytest.mark.parametrize("kind", ["gcj02", "bd09"])
def test_round_trip_under_one_metre(kind: crs.PointCRS) -> None:
    rng = np.random.default_rng(0)
    lon = rng.uniform(100, 125, 500)
    lat = rng.uniform(20, 45, 500)
    slon, slat = crs.from_wgs84(lon, lat, kind)
    # the shift is real (hundreds of metres), so the test would notice a no-op
    assert np.median(np.hypot(slon - lon, slat - lat)) > 1e-3
    blon, blat = crs.to_wgs84(slon, slat, kind)
    geod = Transformer.from_crs("EPSG:4326", "EPSG:4978", always_xy=True)
    a = np.array(geod.transform(lon, lat, np.zeros_like(lon)))
    b = np.array(geod.transform(blon, blat, np.zeros_like(lon)))
    assert np.max(np.linalg.norm(a - b, axis=0)) < 1.0
