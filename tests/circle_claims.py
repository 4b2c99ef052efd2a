"""Does a circle claim land across a gap in the network? The issue 13 acceptance check.

Points are sampled uniformly inside each union circle; each is given the walking time
of the nearest point on its nearest walkable link (any link, public or internal). A
point *bleeds* when that time exceeds the circle's threshold by more than the walking
time of the corridor's half-width (``circle_buffer_m / speed``) or the link is not
reached at all: the circle then covers ground whose nearest path is not within reach.

Used by ``tests/test_circle_claims.py`` and ``bench/bench_circle_claims.py``. Projected
CRS, metres and minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from planner.coverage.figures import Coverage, compute_coverage
from planner.network.routing import point_times
from planner.network.walk import snap_points
from planner.settings import Settings
from planner.street import Street

BEIJING = Path(__file__).parent / "data" / "beijing-haidian-xueyuanlu"
#: The boundary the coverage tests draw on the Beijing extract (WGS84 lon/lat).
BEIJING_BOX = (116.347, 39.999, 116.357, 40.007)


@dataclass(frozen=True)
class Claims:
    """Per threshold (minutes): points sampled and the share that bleed (0..1)."""

    samples: dict[float, int]
    bleed_share: dict[float, float]
    worst_excess_min: dict[float, float]


def beijing_street(tmp: Path) -> Street:
    """The Beijing extract clipped to :data:`BEIJING_BOX` with stations part-way along
    every 40th public link (as ``test_real_extract_times_equal_networkx`` places them)."""
    from planner.load.sources import load_street

    boundary = tmp / "boundary.geojson"
    gpd.GeoDataFrame(geometry=[shapely.box(*BEIJING_BOX)], crs="EPSG:4326").to_file(boundary)
    st = load_street(BEIJING / "map.osm.pbf", boundary=boundary)
    public = st.edges[st.edges["compound_id"] == ""].iloc[::40]
    pts = shapely.line_interpolate_point(public.geometry.to_numpy(), 0.37, normalized=True)
    stations = gpd.GeoDataFrame(
        {"station_id": [f"s{i}" for i in range(len(pts))]}, geometry=pts, crs=st.crs
    )
    return st.with_layers(stations=stations)


def sample_in(polygon: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points uniform inside ``polygon`` (rejection sampling in its bounds)."""
    shapely.prepare(polygon)
    x0, y0, x1, y1 = polygon.bounds
    out: list[np.ndarray] = []
    got = 0
    while got < n:
        xy = rng.uniform((x0, y0), (x1, y1), size=(4 * n, 2))
        pts = shapely.points(xy)
        keep = pts[shapely.contains(polygon, pts)]
        out.append(keep)
        got += len(keep)
    return np.concatenate(out)[:n]


def circle_claims(
    cov: Coverage, union: gpd.GeoDataFrame, *, n: int = 1000, seed: int = 13
) -> Claims:
    """Sample ``n`` points in each union circle (``minutes``, geometry) of ``cov``."""
    speed = cov.settings.walk_m_per_min
    slack_min = cov.settings.circle_buffer_m / speed
    rng = np.random.default_rng(seed)
    samples: dict[float, int] = {}
    share: dict[float, float] = {}
    worst: dict[float, float] = {}
    for minutes, geom in zip(union["minutes"], union.geometry, strict=True):
        pts = sample_in(geom, n, rng)
        snap = snap_points(cov.net, pts, max_m=1e9)
        t, _st = point_times(cov.rg, cov.times, snap)
        excess = t - float(minutes)
        bad = ~np.isfinite(t) | (excess > slack_min)
        samples[float(minutes)] = len(pts)
        share[float(minutes)] = float(bad.mean())
        worst[float(minutes)] = float(np.max(np.where(np.isfinite(excess), excess, np.inf)))
    return Claims(samples, share, worst)


def beijing_claims(tmp: Path, *, settings: Settings | None = None) -> Claims:
    """:func:`circle_claims` of the union circles on :func:`beijing_street`."""
    cov = compute_coverage(beijing_street(tmp), settings=settings)
    union = cov.circle_builder().union_circles(cov.times, list(cov.thresholds))
    return circle_claims(cov, union)
