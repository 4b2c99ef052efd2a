"""GCJ-02 and BD-09 against published reference points.

Reference values: the README/test of the wandergis/coordtransform library, the
most widely used implementation of the published algorithm, for the point
(116.404, 39.915) near Tiananmen, Beijing.
"""

import numpy as np
import pytest
from pyproj import Geod

from planner import crs

P = (116.404, 39.915)
WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
GEOD = Geod(ellps="WGS84")


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])


def test_forward_transforms_match_the_reference() -> None:
    g = crs.wgs84_to_gcj02(*P)
    assert np.allclose(g, WGS84_TO_GCJ02, atol=1e-9)
    b = crs.gcj02_to_bd09(*P)
    assert np.allclose(b, GCJ02_TO_BD09, atol=1e-9)


def test_inverse_recovers_the_reference_point_within_a_metre() -> None:
    back = crs.to_wgs84(*WGS84_TO_GCJ02, "gcj02")
    assert metres(P, (float(back[0]), float(back[1]))) < 1.0
    gcj = crs.bd09_to_gcj02(*GCJ02_TO_BD09)
    assert metres(P, (float(gcj[0]), float(gcj[1]))) < 1.0
    # the offsets themselves are hundreds of metres: a no-op would fail above
    assert metres(P, WGS84_TO_GCJ02) > 300


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_round_trip_at_the_reference_point(system: crs.PointCRS) -> None:
    fwd = crs.from_wgs84(*P, system)
    back = crs.to_wgs84(*fwd, system)
    assert metres(P, (float(back[0]), float(back[1]))) < 0.01
