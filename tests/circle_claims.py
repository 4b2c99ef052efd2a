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

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from planner.coverage.figures import Coverage, compute_coverage
from planner.network.routing import network_reach, point_times
from planner.network.walk import Snap, snap_points
from planner.settings import Settings
from planner.street import Street

BEIJING = Path(__file__).parent / "data" / "beijing-haidian-xueyuanlu"
#: The boundary the coverage tests draw on the Beijing extract (WGS84 lon/lat).
BEIJING_BOX = (116.347, 39.999, 116.357, 40.007)


@dataclass(frozen=True)
class Claims:
    """Per threshold (minutes): points sampled, the share that bleed (0..1), the worst
    excess over the threshold (minutes) and, for many circles per threshold (the
    stations' own), the largest share one circle has."""

    samples: dict[float, int]
    bleed_share: dict[float, float]
    worst_excess_min: dict[float, float]
    worst_circle_share: dict[float, float] = field(default_factory=dict)


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


def _own_times(cov: Coverage, station: int, snap: Snap, limit_min: float) -> np.ndarray:
    """Walking time from ``station`` alone on the network to snapped points, minutes
    (``inf`` beyond ``limit_min``): the network's node times from a bounded search
    plus the stretch along the point's edge, or straight along the station's own edge."""
    rg = cov.rg
    net = cov.net
    speed = rg.speed_m_per_min
    r = network_reach(rg, limit_min=limit_min, stations=np.asarray([station]))
    node_t = np.full(net.n_nodes, np.inf)
    node_t[r.node] = r.time_min
    e = snap.edge
    x = snap.offset_m
    t = np.minimum(node_t[net.u[e]] + x / speed, node_t[net.v[e]] + (net.length_m[e] - x) / speed)
    own = e == rg.station_edge[station]
    t[own] = np.minimum(t[own], np.abs(x[own] - rg.station_offset_m[station]) / speed)
    return np.where(t <= limit_min, t, np.inf)


def station_claims(
    cov: Coverage, own: gpd.GeoDataFrame, *, n: int = 1000, seed: int = 13
) -> Claims:
    """Sample ``n`` points in each station's own circle (``station``, ``minutes``,
    geometry, from :meth:`~planner.coverage.circles.CircleBuilder.station_circles`);
    a point bleeds when its nearest link is reached *from that station* later than the
    threshold plus the corridor's walking time. Shares are over all of a threshold's
    samples."""
    speed = cov.settings.walk_m_per_min
    slack_min = cov.settings.circle_buffer_m / speed
    rng = np.random.default_rng(seed)
    bad_n: dict[float, int] = {}
    samples: dict[float, int] = {}
    worst: dict[float, float] = {}
    circle: dict[float, float] = {}
    for st, minutes, geom in zip(own["station"], own["minutes"], own.geometry, strict=True):
        m = float(minutes)
        pts = sample_in(geom, n, rng)
        snap = snap_points(cov.net, pts, max_m=1e9)
        t = _own_times(cov, int(st), snap, m + slack_min + 1.0)
        excess = t - m
        bad = int((excess > slack_min).sum())
        samples[m] = samples.get(m, 0) + len(pts)
        bad_n[m] = bad_n.get(m, 0) + bad
        worst[m] = max(worst.get(m, -np.inf), float(excess.max(initial=-np.inf)))
        circle[m] = max(circle.get(m, 0.0), bad / max(len(pts), 1))
    share = {m: bad_n[m] / samples[m] for m in samples}
    return Claims(samples, share, worst, circle)


def beijing_station_claims(tmp: Path, *, n: int = 1000) -> tuple[Claims, int]:
    """:func:`station_claims` of every station's own circles on :func:`beijing_street`,
    with the number of stations drawn."""
    cov = compute_coverage(beijing_street(tmp))
    ids = cov.stations["station_id"].astype(str).tolist()
    own = cov.circle_builder().station_circles(None, list(cov.thresholds), station_ids=ids)
    return station_claims(cov, own, n=n), int(own["station"].nunique())
