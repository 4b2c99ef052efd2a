"""The synthetic street builder (private to :mod:`planner.synthetic.demo`).

:class:`Builder` lays out one street in a local metric frame (metres, x east,
y north, the street's bounding box from (0, 0) to (W, H)) and returns its layers in
WGS84. Use :func:`planner.synthetic.demo.make_street`, not this module.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from shapely.geometry import LineString, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

from planner.crs import WGS84, utm_crs_for
from planner.synthetic._lines import Road, node_roads, river_centreline, snap_ends, towards
from planner.synthetic._names import (
    COMMUNITY_STEMS,
    COMPOUND_STEMS,
    COMPOUND_SUFFIXES,
    EW_NAMES,
    LOCAL_STEMS,
    NS_NAMES,
    VILLAGE_STEMS,
    Names,
    cn_number,
    street_short_name,
)

if TYPE_CHECKING:
    from planner.synthetic.demo import StreetSpec

log = logging.getLogger(__name__)

#: Half-width of the corridor kept free of compounds and buildings around a road, m.
ROAD_HALF_WIDTH_M: dict[str, float] = {
    "primary": 20.0,
    "secondary": 15.0,
    "tertiary": 10.0,
    "residential": 7.0,
    "service": 3.0,
    "footway": 1.5,
}

#: Columns of the layers that may be empty (an empty layer keeps them).
LAYER_COLUMNS: dict[str, list[str]] = {
    "compounds": ["compound_id", "name", "gated", "community_id"],
    "gates": ["gate_id", "compound_id"],
    "barriers": ["barrier_id", "kind", "name"],
    "landuse": ["landuse_id", "kind", "name"],
    "stations": ["station_id", "name", "kind", "floor_area_m2", "opening_hours", "address"],
    "pois": ["poi_id", "name", "kind"],
}

#: Land-use names by block use (the street's short name goes in front).
LANDUSE_NAMES: dict[str, tuple[str, ...]] = {
    "park": ("滨河公园", "街心公园", "体育公园", "游园"),
    "school": ("学校",),
    "campus": ("职业技术学院", "职业技术学院东校区", "培训学院"),
    "commercial": ("商业中心", "购物广场", "综合市场", "美食街", "商业街"),
    "office": ("商务园", "科技园", "创业大厦"),
    "hospital": ("社区卫生服务中心", "中医医院", "口腔医院"),
    "public": ("街道办事处",),
    "village": ("城中村",),
}

#: The land-use kind of a block use where it is not the use itself.
LANDUSE_KIND: dict[str, str] = {"village": "residential", "office": "commercial"}

#: Opening hours of stations open office hours.
HOURS_OFFICE = "09:00-17:30"

#: Building styles: length, depth, gap along x, gap along y (metres), floors low and
#: high, gross floor area per household (m², 0 for non-residential).
BUILDING_STYLES: dict[str, tuple[float, float, float, float, int, int, float]] = {
    "walkup": (50.0, 11.5, 10.0, 20.0, 4, 6, 100.0),
    "midrise": (56.0, 13.0, 16.0, 34.0, 7, 11, 115.0),
    "highslab": (46.0, 15.0, 24.0, 56.0, 12, 18, 125.0),
    "tower": (26.0, 26.0, 40.0, 56.0, 11, 18, 130.0),
    "village": (12.0, 14.0, 3.0, 4.0, 4, 6, 80.0),
    "school": (60.0, 16.0, 20.0, 40.0, 4, 5, 0.0),
    "campus": (64.0, 18.0, 26.0, 40.0, 5, 9, 0.0),
    "shop": (48.0, 24.0, 14.0, 20.0, 2, 4, 0.0),
    "office": (34.0, 30.0, 30.0, 30.0, 12, 24, 0.0),
    "public": (50.0, 22.0, 24.0, 30.0, 3, 6, 0.0),
    "standalone": (40.0, 12.0, 16.0, 24.0, 4, 7, 95.0),
}

#: Buildings of a block by its use: (style, kind, most buildings) per holder, in order
#: (a commercial block holds offices and shops). Residential, village, green and park
#: blocks hold none here (compounds hold the homes).
BLOCK_HOLDERS: dict[str, tuple[tuple[str, str, int], ...]] = {
    "office": (("office", "office", 5),),
    "commercial": (("office", "office", 2), ("shop", "shop", 4)),
    "school": (("school", "school", 3),),
    "campus": (("campus", "school", 14),),
    "public": (("public", "public", 3),),
    "hospital": (("public", "public", 3),),
    "standalone": (("standalone", "residential", 3),),
}


# --- services: facilities of every service kind on the demo street (issue 16) ---
#: POI ``kind`` (an OSM value), name suffix and how many per community (at least one
#: per street): each feeds a service kind of :data:`planner.schema.SERVICE_KINDS`.
SERVICE_POI_PLAN: tuple[tuple[str, str, float], ...] = (
    ("canteen", "社区食堂", 0.6),
    ("kindergarten", "幼儿园", 0.8),
    ("childcare", "托育中心", 0.4),
    ("day_care", "日间照料中心", 0.6),
    ("clinic", "社区卫生服务站", 0.8),
    ("pitch", "健身广场", 1.0),
    ("toilets", "公共厕所", 1.0),
    ("school", "小学", 0.4),
    ("marketplace", "菜市场", 0.4),
    ("sports_centre", "全民健身中心", 0.2),
    ("school", "中学", 0.2),
    ("hospital", "社区卫生服务中心", 0.2),
    ("nursing_home", "养老院", 0.2),
    ("arts_centre", "文化活动中心", 0.2),
    ("library", "城市书房", 0.4),
    ("garden", "小游园", 0.8),
    ("bank", "银行", 0.6),
    ("pharmacy", "药店", 0.8),
    ("parcel_locker", "快递驿站", 0.8),
    ("convenience", "便利店", 1.0),
)


class Builder:
    def __init__(self, spec: StreetSpec) -> None:
        self.spec = spec
        self.rng = np.random.default_rng(spec.seed)
        # names come from their own stream, so renaming never moves geometry
        self.names = Names(np.random.default_rng([spec.seed, 1]))

    # -- layout ------------------------------------------------------------
    def build(self) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, Any], CRS]:
        """Lay the street out; return its WGS84 layers, ``street.json`` metadata and UTM CRS."""
        s = self.spec
        self._grid()
        self._cells()
        self._public_roads()
        self._blocks()
        self._assign_blocks()
        self._compounds()
        self._gates_and_paths()
        self._buildings()
        roads = node_roads(self.roads, self.extra_cuts)
        roads += snap_ends(self.footways, roads) + self.internal
        self.final_roads = roads
        self._stations()
        self._pois()
        log.info(
            "synthetic street %s: %d compounds, %d buildings, %d roads",
            s.name,
            len(self.compounds),
            len(self.bldg),
            len(roads),
        )
        return self._finish()

    def _grid(self) -> None:
        s, rng = self.spec, self.rng
        w = s.block_m * rng.uniform(0.9, 1.1, s.n_cols)
        h = s.block_m * rng.uniform(0.9, 1.1, s.n_rows)
        if s.river:
            h[0] *= 1.25
        xs = np.concatenate([[0.0], np.cumsum(w)])
        ys = np.concatenate([[0.0], np.cumsum(h)])
        self.W, self.H = float(xs[-1]), float(ys[-1])
        m = s.margin_m
        self.extent = box(-m, -m, self.W + m, self.H + m)

        def outward(start: float, step_sign: float, limit: float) -> list[float]:
            out, x = [], start
            while True:
                x += step_sign * s.block_m * rng.uniform(0.9, 1.1)
                if abs(x - start) > limit - 150:
                    break
                out.append(float(x))
            return out

        self.xs = xs
        self.ys = ys
        self.xs_left = outward(0.0, -1, m)[::-1]
        self.xs_right = outward(self.W, 1, m)
        self.ys_low = outward(0.0, -1, m)[::-1]
        self.ys_high = outward(self.H, 1, m)
        self.xs_all = np.array([*self.xs_left, *xs, *self.xs_right])
        self.ys_all = np.array([*self.ys_low, *ys, *self.ys_high])
        if s.river:
            y0 = float(ys[0] + (ys[1] - ys[0]) * rng.uniform(0.47, 0.53))
            self.river_f = river_centreline(rng, y0)
            self.river_hw = s.river_width_m / 2
            xgrid = np.arange(-m - 100, self.W + m + 100.1, 20.0)
            xgrid = np.unique(np.concatenate([xgrid, self.xs_all]))
            self.river_x = xgrid
            line = LineString(np.column_stack([xgrid, self.river_f(xgrid)]))
            self.river_line = line
            self.river_poly = line.buffer(self.river_hw, cap_style="flat").intersection(self.extent)
        if s.railway:
            top = self.ys_high[0] if self.ys_high else self.H + m / 2
            self.rail_y = float(self.H + (top - self.H) * rng.uniform(0.22, 0.28))

    def _cells(self) -> None:
        """Street cells (superblocks; the river row split at the centreline) and communities."""
        s = self.spec
        cells: list[dict[str, Any]] = []
        for r in range(s.n_rows):
            for c in range(s.n_cols):
                if s.drop_corner and s.n_cols > 1 and s.n_rows > 1 and c == 0 and r == s.n_rows - 1:
                    continue
                xa, xb = float(self.xs[c]), float(self.xs[c + 1])
                ya, yb = float(self.ys[r]), float(self.ys[r + 1])
                if s.river and r == 0:
                    xx = self.river_x[(self.river_x > xa) & (self.river_x < xb)]
                    xx = np.concatenate([[xa], xx, [xb]])
                    yy = self.river_f(xx)
                    centre = list(zip(xx.tolist(), yy.tolist(), strict=True))
                    south = Polygon([(xa, ya), (xb, ya), *centre[::-1]])
                    north = Polygon([*centre, (xb, yb), (xa, yb)])
                    cells.append({"c": c, "band": 0, "geom": south})
                    cells.append({"c": c, "band": 1, "geom": north})
                else:
                    band = r + 1 if s.river else r
                    cells.append({"c": c, "band": band, "geom": box(xa, ya, xb, yb)})
        # snake order through bands -> contiguous chunks of about equal area
        order = sorted(cells, key=lambda d: (d["band"], d["c"] if d["band"] % 2 == 0 else -d["c"]))
        areas = np.array([d["geom"].area for d in order])
        n = min(s.n_communities, len(order))
        cum = np.cumsum(areas) - areas / 2
        group = np.minimum((cum / areas.sum() * n).astype(int), n - 1)
        # make sure every group is used (monotone, each index at least once)
        for k in range(n):
            if k not in group:
                group[min(k, len(group) - 1)] = k
        group = np.maximum.accumulate(group)
        self.street_poly = shapely.union_all([d["geom"] for d in order])
        stems = self.names.shuffled(COMMUNITY_STEMS)
        comms = []
        for k in range(n):
            geom = shapely.union_all([order[i]["geom"] for i in np.flatnonzero(group == k)])
            stem = stems[k % len(stems)] + (
                "" if k < len(stems) else cn_number(k // len(stems) + 1)
            )
            comms.append(
                {
                    "community_id": f"SQ{k + 1:02d}",
                    "name": self.names.take([f"{stem}社区"]),
                    "code": f"{k + 1:03d}",
                    "geometry": geom,
                }
            )
        self.communities = comms

    def _public_roads(self) -> None:
        """Arterials on the block grid, local roads inside each superblock, and where
        they cross the river or the railway, bridges and underpasses."""
        s = self.spec
        m = s.margin_m
        ns = self.names.shuffled(NS_NAMES)
        ew = self.names.shuffled(EW_NAMES)
        local_name = _LocalRoadNames(self.names, self.names.shuffled(LOCAL_STEMS))
        self._stem_i = 0
        roads = self._arterials(ns, ew, -m, self.W + m, -m, self.H + m)
        roads += self._local_roads(local_name, -m, self.W + m, -m, self.H + m)
        if s.river:
            roads = self._river_crossings(roads)
        if s.railway:
            roads = self._rail_crossings(roads, -m, self.W + m)
        self.roads = roads
        self.extra_cuts: dict[int, list[tuple[float, float]]] = {}

    def _arterials(
        self, ns: list[str], ew: list[str], x_lo: float, x_hi: float, y_lo: float, y_hi: float
    ) -> list[Road]:
        """The north-south and east-west arterials on the block grid, named from the
        pools (numbered 经/纬 roads once a pool runs out)."""

        def name_from(pool: list[str], i: int, fallback: str) -> str:
            return self.names.take(
                [pool[i]] if i < len(pool) else [f"{fallback}{cn_number(i - len(pool) + 1)}路"]
            )

        roads: list[Road] = []
        self.ns_arterials: list[tuple[float, str]] = []
        for i, x in enumerate(self.xs_all):
            hw = "primary" if i % 2 == 0 else "secondary"
            nm = name_from(ns, i, "经")
            roads.append(Road(LineString([(x, y_lo), (x, y_hi)]), nm, hw))
            self.ns_arterials.append((float(x), nm))
        for i, y in enumerate(self.ys_all):
            hw = "primary" if i % 2 == 1 else "secondary"
            roads.append(Road(LineString([(x_lo, y), (x_hi, y)]), name_from(ew, i, "纬"), hw))
        return roads

    def _local_roads(
        self,
        local_name: _LocalRoadNames,
        x_lo: float,
        x_hi: float,
        y_lo: float,
        y_hi: float,
    ) -> list[Road]:
        """Local roads inside every superblock (street and margin): one north-south and
        (mostly) one east-west road across each superblock wider than 280 m."""
        s, rng = self.spec, self.rng
        roads: list[Road] = []
        xe = np.concatenate([[x_lo], self.xs_all, [x_hi]])
        ye = np.concatenate([[y_lo], self.ys_all, [y_hi]])
        river_row = (float(self.ys[0]), float(self.ys[1])) if s.river else None
        for j in range(len(ye) - 1):
            ya, yb = float(ye[j]), float(ye[j + 1])
            in_river_row = river_row is not None and abs(ya - river_row[0]) < 1e-9
            for i in range(len(xe) - 1):
                xa, xb = float(xe[i]), float(xe[i + 1])
                # diagonal corner cells of the margin get no north-south local road: a
                # network clipped with a round buffer would cut it off at the railway
                corner = (xb <= 0 or xa >= self.W) and (yb <= 0 or ya >= self.H)
                if xb - xa > 280:
                    x = xa + (xb - xa) * rng.uniform(0.42, 0.58)
                    hw = "tertiary" if rng.random() < 0.4 else "residential"
                    nm = local_name("ns")
                    if not corner:
                        roads.append(Road(LineString([(x, ya), (x, yb)]), nm, hw))
                if yb - ya > 280 and not in_river_row and rng.random() < 0.9:
                    y = ya + (yb - ya) * rng.uniform(0.42, 0.58)
                    roads.append(
                        Road(LineString([(xa, y), (xb, y)]), local_name("ew"), "residential")
                    )
        return roads

    def _river_crossings(self, roads: list[Road]) -> list[Road]:
        """Riverside roads on both banks; the designated arterials bridge the river,
        every other road ends at its bank."""
        s = self.spec
        bridge_cols = s.bridge_cols
        if bridge_cols is None:
            bridge_cols = tuple(range(1, s.n_cols, 3)) or (0,)
        bridge_x = {float(self.xs[i]) for i in bridge_cols if 0 <= i <= s.n_cols}
        bridge_x |= {float(x) for x in self.xs_left[::-1][: s.margin_bridges]}
        off = self.river_hw + 14.0
        roads = list(roads)
        for sign, nm in ((1, "滨河北路"), (-1, "滨河南路")):
            side = self.river_line.offset_curve(sign * off).intersection(self.extent)
            for part in shapely.get_parts(side):
                roads.append(Road(part, self.names.take([nm]), "residential"))
        cut_zone = self.river_poly.buffer(8.0)
        span_zone = self.river_poly.buffer(5.0)
        designated = [_vertical_at(r, bridge_x, arterial=True) for r in roads]
        return self._cross_barrier(roads, cut_zone, span_zone, designated, bridge_suffix="桥")

    def _rail_crossings(self, roads: list[Road], x_lo: float, x_hi: float) -> list[Road]:
        """The railway: two arterials pass under it (the one nearest the street's
        middle and one more east), every other road ends at it."""
        rail = LineString([(x_lo, self.rail_y), (x_hi, self.rail_y)])
        self.rail_line = rail
        cut_zone = rail.buffer(12.0, cap_style="flat")
        span_zone = rail.buffer(9.0, cap_style="flat")
        xs_sorted = sorted(self.xs_all, key=lambda x: abs(x - self.W * 0.35))
        under = {float(xs_sorted[0]), float(xs_sorted[2 if len(xs_sorted) > 2 else 0])}
        marked = [not r.bridge and _vertical_at(r, under, arterial=True) for r in roads]
        return self._cross_barrier(roads, cut_zone, span_zone, marked, bridge_suffix="下穿通道")

    def _cross_barrier(
        self,
        roads: list[Road],
        cut_zone: BaseGeometry,
        span_zone: BaseGeometry,
        designated: list[bool],
        *,
        bridge_suffix: str,
    ) -> list[Road]:
        """Cut roads at a barrier; designated crossings get one bridge segment instead.

        The bridge spans ``span_zone`` (the barrier plus abutments); the road pieces
        on either side end exactly at its end points. Other roads stop at ``cut_zone``.
        """
        shapely.prepare(cut_zone)
        out: list[Road] = []
        for r, cross in zip(roads, designated, strict=True):
            if not r.geom.intersects(cut_zone):
                out.append(r)
                continue
            if cross:
                span = r.geom.intersection(span_zone)
                parts = [p for p in shapely.get_parts(span) if p.length > 1]
                span_line = max(parts, key=lambda p: p.length)
                a, b = span_line.coords[0], span_line.coords[-1]
                if r.geom.project(Point(a)) > r.geom.project(Point(b)):
                    a, b = b, a
                start, end = r.geom.coords[0], r.geom.coords[-1]
                out.append(replace(r, geom=LineString([start, a])))
                out.append(
                    replace(
                        r,
                        geom=LineString([a, b]),
                        bridge=True,
                        name=r.name + bridge_suffix,
                        node=False,
                    )
                )
                out.append(replace(r, geom=LineString([b, end])))
            else:
                for p in shapely.get_parts(r.geom.difference(cut_zone)):
                    if p.length > 30:
                        out.append(replace(r, geom=p))
        return out

    def _blocks(self) -> None:
        corridors = [
            r.geom.buffer(ROAD_HALF_WIDTH_M[r.highway], cap_style="flat", join_style="mitre")
            for r in self.roads
        ]
        self.corridor_union = shapely.union_all(corridors)
        obstacles = self.corridor_union
        if self.spec.river:
            obstacles = obstacles.union(self.river_poly.buffer(10.0))
        rest = self.street_poly.difference(obstacles)
        blocks = [b for b in shapely.get_parts(rest) if b.area > 2500.0]
        blocks = [shapely.simplify(b, 0.5) for b in blocks]
        blocks.sort(key=lambda b: (round(b.centroid.y, 1), round(b.centroid.x, 1)))
        self.blocks = blocks

    def _assign_blocks(self) -> None:
        """Give each block a use: residential, village, standalone, park, school, ..."""
        s, rng = self.spec, self.rng
        n = len(self.blocks)
        areas = np.array([b.area for b in self.blocks])
        cx = np.array([b.centroid.x for b in self.blocks])
        cy = np.array([b.centroid.y for b in self.blocks])
        use = np.array(["residential"] * n, dtype=object)
        free = np.ones(n, dtype=bool)

        def pick(k: int, weights: NDArray[np.float64], label: str) -> None:
            w = np.where(free, weights, 0.0)
            k = min(k, int((w > 0).sum()))
            if k <= 0:
                return
            chosen = rng.choice(n, size=k, replace=False, p=w / w.sum())
            use[chosen] = label
            free[chosen] = False

        def count(share: float, least: int) -> int:
            # minimum counts only where the street is big enough to hold them all
            return max(least, round(n * share)) if n >= 30 else round(n * share)

        dist_c = np.hypot(cx - self.W / 2, cy - self.H * 0.55)
        big = (areas > 30000).astype(float)
        # the street office and shops near the centre, on the main roads
        pick(count(0.09, 2), np.exp(-dist_c / 600.0) * big + 1e-9, "commercial")
        pick(count(0.02, 1), np.exp(-dist_c / 900.0) * big + 1e-9, "office")
        pick(1, np.exp(-dist_c / 300.0) * big + 1e-9, "public")
        # park by the river (north bank) or anywhere
        if s.river:
            near_river = np.abs(cy - self.river_f(cx)) < 250
            pick(count(0.02, 1), (near_river & (cy > self.river_f(cx))) * areas + 1e-9, "park")
            pick(count(0.02, 1), areas, "park")
        else:
            pick(count(0.03, 1), areas, "park")
        pick(count(0.03, 2), areas**2 * (areas > 40000), "campus")
        pick(count(0.06, 3), ((areas > 20000) & (areas < 90000)).astype(float), "school")
        pick(count(0.015, 1), (areas > 15000).astype(float), "hospital")
        pick(count(s.village_share, 0), (areas > 20000).astype(float), "village")
        small = (areas < 14000).astype(float)
        pick(count(s.standalone_share, 1), small + 1e-6, "standalone")
        # leftover tiny blocks are green space
        use[(areas < 6000) & (use == "residential")] = "green"
        self.block_use = use

    def _compounds(self) -> None:
        s, rng = self.spec, self.rng
        # every stem once with a random suffix first, then the other combinations
        nrng = self.names.rng
        stems = self.names.shuffled(COMPOUND_STEMS)
        first = [
            f"{a}{COMPOUND_SUFFIXES[int(nrng.integers(len(COMPOUND_SUFFIXES)))]}" for a in stems
        ]
        rest = [f"{a}{b}" for a in stems for b in COMPOUND_SUFFIXES if f"{a}{b}" not in first]
        self._compound_names: list[str] = first + [rest[i] for i in nrng.permutation(len(rest))]
        self._cname_i = 0
        villages = self.names.shuffled(VILLAGE_STEMS)
        comps: list[dict[str, Any]] = []
        comm_geoms = [c["geometry"] for c in self.communities]
        comm_tree = shapely.STRtree(comm_geoms)
        for bi, (blk, use) in enumerate(zip(self.blocks, self.block_use, strict=True)):
            if use not in ("residential", "village"):
                continue
            pieces = [blk]
            if use == "residential":
                minx, miny, maxx, maxy = blk.bounds
                w, h = maxx - minx, maxy - miny
                nx = 2 if w > 220 and rng.random() < 0.75 else 1
                ny = 2 if h > 200 and rng.random() < 0.75 else 1
                if nx * ny > 1:
                    xc = minx + w * rng.uniform(0.4, 0.6)
                    yc = miny + h * rng.uniform(0.4, 0.6)
                    xcuts = [minx - 1, xc, maxx + 1] if nx == 2 else [minx - 1, maxx + 1]
                    ycuts = [miny - 1, yc, maxy + 1] if ny == 2 else [miny - 1, maxy + 1]
                    pieces = []
                    for i in range(nx):
                        for j in range(ny):
                            g = 4.0
                            cell = box(
                                xcuts[i] + (g if i else 0),
                                ycuts[j] + (g if j else 0),
                                xcuts[i + 1] - (g if i < nx - 1 else 0),
                                ycuts[j + 1] - (g if j < ny - 1 else 0),
                            )
                            pieces += list(shapely.get_parts(blk.intersection(cell)))
            for p in pieces:
                if p.geom_type != "Polygon" or p.area < 3500:
                    continue
                k = len(comps) + 1
                if use == "village":
                    name = self.names.take([f"{villages[(k) % len(villages)]}村"])
                    gated = False
                    style = "village"
                else:
                    name = self._next_compound_name()
                    gated = bool(rng.random() >= s.open_share)
                    style = str(
                        rng.choice(
                            ["walkup", "midrise", "highslab", "tower"], p=[0.7, 0.15, 0.05, 0.1]
                        )
                    )
                ci = comm_tree.query(p.representative_point(), predicate="intersects")
                comps.append(
                    {
                        "compound_id": f"XQ{k:03d}" if len(self.blocks) < 600 else f"XQ{k:05d}",
                        "name": name,
                        "gated": gated,
                        "community_id": self.communities[int(ci[0])]["community_id"]
                        if len(ci)
                        else "",
                        "geometry": p,
                        "style": style,
                        "block": bi,
                    }
                )
        self.compounds = comps

    def _next_compound_name(self) -> str:
        pool = self._compound_names
        while self._cname_i < len(pool):
            nm = pool[self._cname_i]
            self._cname_i += 1
            if nm not in self.names.used:
                self.names.used.add(nm)
                return nm
        k = self._cname_i
        self._cname_i += 1
        return self.names.take([f"{pool[k % len(pool)]}{cn_number(k // len(pool) + 1)}期"])

    def _gates_and_paths(self) -> None:
        """Internal paths (a spine and a cross path) and gates where they meet a road side."""
        road_geoms = np.array([r.geom for r in self.roads], dtype=object)
        att_idx = np.flatnonzero(np.array([not r.bridge for r in self.roads]))
        out = _PathLayers(road_geoms, att_idx, shapely.STRtree(road_geoms[att_idx]))
        shapely.prepare(self.corridor_union)
        parks = [
            {"geometry": self.blocks[i], "style": "park", "compound_id": "", "public": True}
            for i in np.flatnonzero(self.block_use == "park")
        ]
        for comp in [*self.compounds, *parks]:
            self._paths_of(comp, out)
        self.compounds = [c for c in self.compounds if c.get("has_gate")]
        self.gates = out.gates
        self.footways = out.footways
        self.internal = out.internal
        self.path_geoms = out.path_geoms

    def _paths_of(self, comp: dict[str, Any], out: _PathLayers) -> None:
        """One compound's (or park's) paths and gates, appended to ``out``; marks the
        compound ``has_gate`` and records its ``centre`` and path axes."""
        rng = self.rng
        public = bool(comp.get("public"))
        q: Polygon = comp["geometry"]
        minx, miny, maxx, maxy = q.bounds
        cx = minx + (maxx - minx) * rng.uniform(0.45, 0.55)
        cy = miny + (maxy - miny) * rng.uniform(0.45, 0.55)
        lines = _path_axes(q, cx, cy)
        # candidate gates: ends of the paths lying on a road-facing side
        ends = [(li, e) for li, (_, a, b) in enumerate(lines) for e in (a, b)]
        facing = [(li, e) for li, e in ends if self.corridor_union.distance(Point(e)) < 1.0]
        if not facing:
            return
        if public:  # a park is open on every side its paths reach
            chosen = facing
        else:
            k = min(len(facing), int(rng.integers(1, 4)))
            chosen_idx = sorted(rng.choice(len(facing), size=k, replace=False).tolist())
            chosen = [facing[i] for i in chosen_idx]
        gate_pts = {e for _, e in chosen}
        for p in _compound_paths(q, lines, gate_pts, (cx, cy)):
            if public:
                out.footways.append(Road(p, "公园步道", "footway", node=False))
                continue
            highway = "footway" if comp["style"] == "village" else "service"
            out.internal.append(Road(p, "", highway, compound_id=comp["compound_id"], node=False))
            out.path_geoms.append(p)
        for gi, g in enumerate(sorted(gate_pts)):
            self._attach_gate(g, out)
            if not public:
                out.gates.append(
                    {
                        "gate_id": f"{comp['compound_id']}-M{gi + 1}",
                        "compound_id": comp["compound_id"],
                        "geometry": Point(g),
                    }
                )
        comp["has_gate"] = True
        comp["centre"] = (
            cx,
            cy,
            any(a == "ns" for a, _, _ in lines),
            any(a == "ew" for a, _, _ in lines),
        )

    def _attach_gate(self, g: tuple[float, float], out: _PathLayers) -> None:
        """A footway from gate ``g`` to the nearest road that is no bridge (which gets
        cut there)."""
        gp = Point(g)
        j = int(out.att_idx[out.tree.query_nearest(gp)[0]])
        road = out.road_geoms[j]
        att = road.interpolate(road.project(gp))
        a_xy = (float(att.x), float(att.y))
        self.extra_cuts.setdefault(j, []).append(a_xy)
        out.footways.append(Road(LineString([g, a_xy]), "", "footway", node=False))

    def _buildings(self) -> None:
        """Residential buildings on a lattice per compound; non-residential per block."""
        holders = self._holders()
        cand, own, lane_rows = self._candidate_boxes(holders)
        keep = self._accepted(cand, own, holders)
        idx = np.flatnonzero(keep)
        geoms = cand[idx]
        own_k = own[idx]
        comp_ids = np.array(
            [
                self.compounds[holders[o]["compound"]]["compound_id"]
                if holders[o]["compound"] >= 0
                else ""
                for o in own_k
            ],
            dtype=object,
        )
        kinds = np.array([holders[o]["kind"] for o in own_k], dtype=object)
        table = self._building_figures(geoms, own_k, holders, kinds)
        table.insert(0, "building_id", [f"B{i + 1:05d}" for i in range(len(idx))])
        table.insert(1, "name", _building_names(kinds, comp_ids, own_k))
        table.insert(2, "kind", kinds)
        table["compound_id"] = comp_ids
        self.bldg = table
        self.bldg_geoms = geoms
        self._village_lanes(holders, lane_rows)

    def _holders(self) -> list[dict[str, Any]]:
        """What holds buildings: each compound (residential, with its path centre), then
        each block of another use as :data:`BLOCK_HOLDERS` says, with a cap on its
        buildings (``max``)."""
        holders: list[dict[str, Any]] = [
            {
                "geom": comp["geometry"],
                "style": comp["style"],
                "compound": ci,
                "kind": "residential",
                "centre": comp["centre"],
            }
            for ci, comp in enumerate(self.compounds)
        ]
        for bi, (blk, use) in enumerate(zip(self.blocks, self.block_use, strict=True)):
            for style, kind, most in BLOCK_HOLDERS.get(str(use), ()):
                holders.append(
                    {
                        "geom": blk,
                        "style": style,
                        "compound": -1,
                        "kind": kind,
                        "block": bi,
                        "max": most,
                    }
                )
        return holders

    def _candidate_boxes(
        self, holders: list[dict[str, Any]]
    ) -> tuple[
        NDArray[np.object_], NDArray[np.int64], dict[int, tuple[NDArray[np.float64], float, float]]
    ]:
        """Lattice boxes of every holder at once, the holder of each, and the rows of
        each village (for its lanes)."""
        boxes: list[NDArray[np.float64]] = []
        owner: list[NDArray[np.int64]] = []
        lane_rows: dict[int, tuple[NDArray[np.float64], float, float]] = {}
        for hi, hd in enumerate(holders):
            xs, ys, blen, bdep, gy = self._lattice(hd)
            if not len(xs) or not len(ys):
                continue
            if hd["style"] == "village":
                lane_rows[hi] = (ys, bdep, gy)
            gx_, gy_ = np.meshgrid(xs, ys)
            x, y = gx_.ravel(), gy_.ravel()
            boxes.append(np.stack([x, y, x + blen, y + bdep]))
            owner.append(np.full(gx_.size, hi, dtype=np.int64))
        x0, y0, x1, y1 = np.concatenate(boxes, axis=1)
        cand = np.asarray(shapely.box(x0, y0, x1, y1), dtype=object)
        return cand, np.concatenate(owner), lane_rows

    def _lattice(
        self, hd: dict[str, Any]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], float, float, float]:
        """A holder's lattice: x and y of the boxes' lower-left corners, box length and
        depth, and the gap between rows (metres). In a compound the columns and rows
        leave a lane free along its paths; elsewhere the lattice starts at a random
        offset."""
        s, rng = self.spec, self.rng
        blen, bdep, gx, gy, *_ = BUILDING_STYLES[hd["style"]]
        blen = blen * rng.uniform(0.85, 1.15) if hd["style"] not in ("village", "tower") else blen
        gx = gx / math.sqrt(s.density)
        gy = gy / math.sqrt(s.density) if hd["style"] not in ("village",) else gy
        minx, miny, maxx, maxy = hd["geom"].bounds
        px, py = blen + gx, bdep + gy
        if "centre" not in hd:
            ox = minx + 6 + rng.uniform(0, px * 0.5)
            oy = miny + 6 + rng.uniform(0, py * 0.4)
            xs = np.arange(ox, maxx - 6 - blen + 1e-9, px)
            ys = np.arange(oy, maxy - 6 - bdep + 1e-9, py)
            return xs, ys, blen, bdep, gy
        cx, cy, has_ns, has_ew = hd["centre"]
        hx = min(max(gx / 2, 7.0), 10.0) if has_ns else -blen / 2
        if has_ns and hd["style"] not in ("village", "tower"):
            # shorter slabs (two stair units) where half the compound is narrow
            room = min(cx - minx, maxx - cx) - 6.0 - hx - 0.5
            if blen > room:
                blen = max(room, 24.0)
                px = blen + gx
        hy = min(max(gy / 2, 7.0), 12.0) if has_ew else -bdep / 2
        right = np.arange(cx + hx, maxx - 6 - blen + 1e-9, px)
        left = np.arange(cx - hx - blen, minx + 6 - 1e-9, -px)[::-1]
        xs = np.concatenate([left, right]) if has_ns else right
        up = np.arange(cy + hy, maxy - 6 - bdep + 1e-9, py)
        down = np.arange(cy - hy - bdep, miny + 6 - 1e-9, -py)[::-1]
        ys = np.concatenate([down, up]) if has_ew else up
        if not has_ns:
            xs = np.concatenate([np.arange(cx - blen / 2 - px, minx + 6 - 1e-9, -px)[::-1], xs])
        if not has_ew:
            ys = np.concatenate([np.arange(cy - bdep / 2 - py, miny + 6 - 1e-9, -py)[::-1], ys])
        return xs, ys, blen, bdep, gy

    def _accepted(
        self, cand: NDArray[np.object_], own: NDArray[np.int64], holders: list[dict[str, Any]]
    ) -> NDArray[np.bool_]:
        """The boxes kept: inside their holder 6 m from its edge, clear of the paths;
        residential lattices never clash, while non-residential holders share blocks
        (shops and offices) and hold only a few buildings: accepted greedily, capped,
        without overlap."""
        inner = np.array(
            [hd["geom"].buffer(-6.0, join_style="mitre") for hd in holders], dtype=object
        )
        ok = shapely.within(cand, inner[own])
        if self.path_geoms:
            ptree = shapely.STRtree(
                np.array([p.buffer(5.0) for p in self.path_geoms], dtype=object)
            )
            hit_c, _ = ptree.query(cand, predicate="intersects")
            ok[np.unique(hit_c)] = False
        keep = ok.copy()
        capped = np.array([hd.get("max") is not None for hd in holders])
        keep[capped[own]] = False
        taken: list[BaseGeometry] = []
        counts: dict[int, int] = {}
        for ki in np.flatnonzero(ok & capped[own]):
            o = int(own[ki])
            if counts.get(o, 0) >= holders[o]["max"]:
                continue
            if any(cand[ki].intersects(t) for t in taken):
                continue
            keep[ki] = True
            taken.append(cand[ki])
            counts[o] = counts.get(o, 0) + 1
        return np.asarray(keep, dtype=bool)

    def _building_figures(
        self,
        geoms: NDArray[np.object_],
        own_k: NDArray[np.int64],
        holders: list[dict[str, Any]],
        kinds: NDArray[np.object_],
    ) -> pd.DataFrame:
        """Floors (one count per holder, +/- 1 storey per building), height,
        households and residents of each building, with the configured shares of
        households missing (estimated later) or given by height only."""
        s, rng = self.spec, self.rng
        n = len(geoms)
        style_k = [holders[o]["style"] for o in own_k]
        lo = np.array([BUILDING_STYLES[st][4] for st in style_k])
        hi_ = np.array([BUILDING_STYLES[st][5] for st in style_k])
        per_hh = np.array([BUILDING_STYLES[st][6] for st in style_k])
        base = {}
        for o in np.unique(own_k):
            style = BUILDING_STYLES[holders[o]["style"]]
            base[int(o)] = int(rng.integers(style[4], style[5] + 1))
        floors = np.array([base[int(o)] for o in own_k]) + rng.integers(-1, 2, n)
        floors = np.clip(floors, lo, hi_)
        area = shapely.area(geoms)
        is_res = kinds == "residential"
        hh = np.where(
            is_res, np.round(area * floors / np.maximum(per_hh, 1) * rng.uniform(0.9, 1.1, n)), 0
        )
        pop = np.round(hh * rng.uniform(2.35, 2.9, n), 0)
        height = np.round(floors * rng.uniform(2.9, 3.1, n), 1)
        floors_f = floors.astype(float)
        hh_f = hh.astype(float)
        pop_f = pop.astype(float)
        res_idx = np.flatnonzero(is_res)
        u = rng.random(len(res_idx))
        miss = res_idx[u < s.missing_households_share]
        only_h = res_idx[
            (u >= s.missing_households_share)
            & (u < s.missing_households_share + s.height_only_share)
        ]
        hh_f[miss] = np.nan
        pop_f[miss] = np.nan
        hh_f[only_h] = np.nan
        pop_f[only_h] = np.nan
        floors_f[only_h] = np.nan
        height_f = np.where(rng.random(n) < 0.3, height, np.nan)
        height_f[only_h] = height[only_h]
        return pd.DataFrame(
            {"floors": floors_f, "height_m": height_f, "households": hh_f, "population": pop_f}
        )

    def _village_lanes(
        self,
        holders: list[dict[str, Any]],
        lane_rows: dict[int, tuple[NDArray[np.float64], float, float]],
    ) -> None:
        """East-west lanes between every other row of urban-village houses, noded with the spine."""
        for hi, (ys, bdep, gap) in lane_rows.items():
            comp = self.compounds[holders[hi]["compound"]]
            cid = comp["compound_id"]
            inner = comp["geometry"].buffer(-3.0, join_style="mitre")
            minx, _, maxx, _ = comp["geometry"].bounds
            lanes: list[Road] = []
            for k in range(0, len(ys) - 1, 2):
                if abs(ys[k + 1] - ys[k] - bdep - gap) > 1e-6:
                    continue  # the wider gap of the cross path
                y = float(ys[k] + bdep + gap / 2)
                cut = LineString([(minx, y), (maxx, y)]).intersection(inner)
                lanes += [
                    Road(p, "", "footway", compound_id=cid)
                    for p in shapely.get_parts(cut)
                    if p.geom_type == "LineString" and p.length > 20
                ]
            mine = [replace(r, node=True) for r in self.internal if r.compound_id == cid]
            paths = shapely.union_all([r.geom for r in mine])
            lanes = [r for r in lanes if r.geom.intersects(paths)]  # reachable lanes only
            if not lanes:
                continue
            noded = [replace(r, node=False) for r in node_roads(mine + lanes, {})]
            self.internal = [r for r in self.internal if r.compound_id != cid] + noded

    # -- stations and candidates -------------------------------------------
    def _snap(self, xy: tuple[float, float]) -> tuple[tuple[float, float], str]:
        """A point at the side of the public road nearest ``xy`` (inside its corridor)."""
        roads = [
            r
            for r in self.final_roads
            if not r.compound_id and not r.bridge and r.highway != "footway"
        ]
        geoms = np.array([r.geom for r in roads], dtype=object)
        tree = shapely.STRtree(geoms)
        p = Point(xy)
        j = int(tree.query_nearest(p)[0])
        road = roads[j]
        on = road.geom.interpolate(road.geom.project(p))
        dx, dy = xy[0] - on.x, xy[1] - on.y
        d = math.hypot(dx, dy)
        off = min(d, ROAD_HALF_WIDTH_M[road.highway] - 1.5)
        if d > 1e-9:
            return (on.x + dx / d * off, on.y + dy / d * off), road.name
        return (on.x, on.y), road.name

    def _community_at(self, xy: tuple[float, float]) -> dict[str, Any]:
        """The community holding point ``xy`` (the nearest one if none holds it), so a
        station is named after the community it stands in."""
        pt = Point(xy)
        return min(self.communities, key=lambda c: c["geometry"].distance(pt))

    def _stations(self) -> None:
        """Party-mass service stations (street centre, community and grid stations),
        allied positions (red property, neighbourhood centres, convenience points) and
        neighbouring streets' stations in the margin."""
        self.stations: list[dict[str, Any]] = []
        if self.spec.station_plan == "demo":
            self._demo_party_stations()
        else:
            self._party_stations()
        self._red_property_stations()
        self._service_points()
        # stations of neighbouring streets in the margin (west, north-west, south-west)
        W, H = self.W, self.H
        margin_anchors = [(-450.0, 0.55 * H), (0.30 * W, H + 420.0), (-380.0, -420.0)]
        neigh = ["西邻街道", "北邻街道", "南邻街道"]
        for k, xy in enumerate(margin_anchors):
            stem = COMMUNITY_STEMS[(k + 11) % 20]
            name = f"{neigh[k]}{stem}社区党群服务站（街道外）"
            self._add_station("community_station", name, xy, 300, HOURS_OFFICE)

    def _add_station(
        self, kind: str, name: str, xy: tuple[float, float], area: float, hours: str
    ) -> None:
        """A station at the road point nearest ``xy``, with a house number on that road."""
        pt, road = self._snap(xy)
        no = int(self.rng.integers(1, 300))
        n = len(self.stations)
        self.stations.append(
            {
                "station_id": f"ZD{n + 1:02d}" if n < 99 else f"ZD{n + 1:04d}",
                "name": name,
                "kind": kind,
                "floor_area_m2": float(area),
                "opening_hours": hours,
                "address": f"{road}{no}号",
                "geometry": Point(pt),
            }
        )

    def _demo_party_stations(self) -> None:
        """The demo's stations, anchored in fractions of the street's bounding box so
        that the south-east bank of the river and the north-east corner are left
        uncovered."""
        W, H = self.W, self.H
        street_short = self.spec.name.split("（")[0].removesuffix("街道")
        self._add_station(
            "street_centre",
            f"{street_short}街道党群服务中心",
            (0.48 * W, 0.56 * H),
            1200,
            "08:30-20:00",
        )
        plan = [(0.12, 0.08), (0.22, 0.42), (0.76, 0.44), (0.42, 0.82), (0.70, 0.78)]
        for k in range(len(self.communities) - 1):  # the last community has no station
            fx, fy = plan[k % len(plan)]
            self._add_station(
                "community_station",
                f"{self._community_at((fx * W, fy * H))['name']}党群服务站",
                (fx * W, fy * H),
                [320, 1350, 420, 280, 800][k % 5],
                HOURS_OFFICE,
            )
        self._add_station(
            "grid_station",
            f"{self._community_at((0.05 * W, 0.30 * H))['name']}第三网格党群服务站",
            (0.05 * W, 0.30 * H),
            60,
            HOURS_OFFICE,
        )

    def _party_stations(self) -> None:
        """A street centre in the middle, a station in five of six communities and a
        grid station per five communities."""
        rng = self.rng
        street_short = self.spec.name.split("（")[0].removesuffix("街道")
        comm_pts = [c["geometry"].representative_point() for c in self.communities]
        self._add_station(
            "street_centre",
            f"{street_short}街道党群服务中心",
            (0.5 * self.W, 0.5 * self.H),
            1200,
            "08:30-20:00",
        )
        for k, comm in enumerate(self.communities):
            if k % 6 == 5:
                continue
            p = comm_pts[k]
            area = float(rng.choice([280, 350, 420, 600, 800, 1000]))
            self._add_station(
                "community_station", f"{comm['name']}党群服务站", (p.x, p.y), area, HOURS_OFFICE
            )
        for k in range(max(1, len(self.communities) // 5)):
            j = (k * 3 + 1) % len(comm_pts)
            p = comm_pts[j]
            name = f"{self.communities[j]['name']}第{cn_number(k + 3)}网格党群服务站"
            self._add_station("grid_station", name, (p.x + 150, p.y + 150), 60, HOURS_OFFICE)

    def _red_property_stations(self) -> None:
        """Red property stations at the gates of some of the biggest compounds."""
        rng = self.rng
        comp_sizes = np.array(
            [c["geometry"].area * (c["style"] != "village") for c in self.compounds]
        )
        n_red = 3 if self.spec.station_plan == "demo" else max(3, len(self.communities) // 2)
        big = np.argsort(-comp_sizes, kind="stable")[: n_red * 3]
        red = sorted(rng.choice(big, size=min(n_red, len(big)), replace=False).tolist())
        for ci in red:
            comp = self.compounds[ci]
            gate = next((g for g in self.gates if g["compound_id"] == comp["compound_id"]), None)
            p = gate["geometry"] if gate is not None else comp["geometry"].representative_point()
            area = float(rng.integers(40, 120))
            name = f"{comp['name']}红色物业服务站"
            self._add_station("red_property", name, (p.x, p.y), area, "08:00-20:00")

    def _service_points(self) -> None:
        """Neighbourhood centres in commercial blocks and convenience points at random
        places inside the street."""
        s, rng = self.spec, self.rng
        W, H = self.W, self.H
        com_blocks = [self.blocks[i] for i in np.flatnonzero(self.block_use == "commercial")]
        n_nc = 1 if s.station_plan == "demo" else max(1, len(self.communities) // 5)
        for k in range(n_nc):
            b = com_blocks[k % len(com_blocks)] if com_blocks else self.street_poly
            p = b.representative_point()
            name = f"{self.names.take([f'{LOCAL_STEMS[k % 20]}邻里中心'])}"
            self._add_station("neighbourhood_centre", name, (p.x, p.y), 1500, "08:00-21:00")
        n_conv = 3 if s.station_plan == "demo" else max(3, len(self.communities) // 2)
        conv_pts = rng.uniform([0.1 * W, 0.1 * H], [0.9 * W, 0.9 * H], size=(n_conv * 4, 2))
        inside = [tuple(p) for p in conv_pts if self.street_poly.contains(Point(p))][:n_conv]
        for k, p in enumerate(inside):
            area = float(rng.integers(30, 90))
            name = f"{LOCAL_STEMS[(k + 7) % 20]}便民服务点"
            self._add_station("convenience_point", name, p, area, "07:00-22:00")

    def _pois(self) -> None:
        s, rng = self.spec, self.rng
        out: list[dict[str, Any]] = []
        n_rooms = s.n_pois // 2
        n_shops = s.n_pois - n_rooms
        # vacant shops on public roads inside the street
        for k, (xy, road) in enumerate(self._roadside_points(n_shops, rng)):
            out.append(
                {
                    "poi_id": f"P{len(out) + 1:03d}",
                    "name": f"{road}临街空置商铺{k + 1}",
                    "kind": "vacant_shop",
                    "geometry": Point(xy),
                }
            )
        # community rooms at compound gates
        gates = self.gates
        pick = sorted(rng.choice(len(gates), size=min(n_rooms, len(gates)), replace=False).tolist())
        comp_name = {c["compound_id"]: c["name"] for c in self.compounds}
        for gi in pick:
            g = gates[gi]
            out.append(
                {
                    "poi_id": f"P{len(out) + 1:03d}",
                    "name": f"{comp_name[g['compound_id']]}社区用房",
                    "kind": "community_room",
                    "geometry": g["geometry"],
                }
            )
        self.pois = out
        if s.service_pois:
            self._service_pois()

    def _roadside_points(
        self, n: int, rng: np.random.Generator
    ) -> list[tuple[tuple[float, float], str]]:
        """``n`` points at the side of public roads inside the street, with the road's name."""
        roads = [
            r
            for r in self.final_roads
            if not r.compound_id
            and not r.bridge
            and r.highway in ("primary", "secondary", "tertiary", "residential")
        ]
        lines = shapely.MultiLineString([r.geom for r in roads]).intersection(
            self.street_poly.buffer(-25)
        )
        total = lines.length
        ds = np.sort(rng.uniform(0, total, n))
        merged = shapely.line_merge(lines) if lines.geom_type == "MultiLineString" else lines
        parts = list(shapely.get_parts(merged))
        lens = np.cumsum([p.length for p in parts])
        out = []
        for d in ds:
            j = int(np.searchsorted(lens, d))
            j = min(j, len(parts) - 1)
            p = parts[j].interpolate(d - (lens[j - 1] if j else 0.0))
            out.append(self._snap((p.x + rng.uniform(-20, 20), p.y + rng.uniform(-20, 20))))
        return out

    def _service_pois(self) -> None:
        """The facilities of :data:`SERVICE_POI_PLAN` at random roadsides (own stream)."""
        rng = np.random.default_rng([self.spec.seed, 2])
        n_comm = len(self.communities)
        for kind, suffix, per_community in SERVICE_POI_PLAN:
            n = max(1, round(per_community * n_comm))
            for k, (xy, road) in enumerate(self._roadside_points(n, rng)):
                self.pois.append(
                    {
                        "poi_id": f"P{len(self.pois) + 1:03d}",
                        "name": f"{road}第{cn_number(k + 1)}{suffix}" if k else f"{road}{suffix}",
                        "kind": kind,
                        "geometry": Point(xy),
                    }
                )

    # -- output ---------------------------------------------------------------
    def _finish(self) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, Any], CRS]:
        """The layers in WGS84 (the local frame moved to the street's origin in its UTM
        zone), the ``street.json`` metadata and the UTM CRS."""
        s = self.spec
        utm = utm_crs_for(s.origin_lon, s.origin_lat)
        e0, n0 = Transformer.from_crs(WGS84, utm, always_xy=True).transform(
            s.origin_lon, s.origin_lat
        )
        frame = _Framer(utm, (e0 - self.W / 2, n0 - self.H / 2))
        comps = [
            {k: c[k] for k in ("compound_id", "name", "gated", "community_id", "geometry")}
            for c in self.compounds
        ]
        roads = [
            {
                "road_id": f"R{i + 1:05d}",
                "name": r.name,
                "highway": r.highway,
                "bridge": r.bridge,
                "compound_id": r.compound_id,
                "geometry": r.geom,
            }
            for i, r in enumerate(self.final_roads)
        ]
        layers: dict[str, gpd.GeoDataFrame] = {
            "boundary": frame([{"name": s.name, "geometry": self.street_poly}]),
            "communities": frame(self.communities),
            "compounds": frame(comps, layer="compounds"),
            "buildings": frame(self.bldg, self.bldg_geoms),
            "roads": frame(roads),
            "gates": frame(self.gates, layer="gates"),
            "barriers": frame(self._barriers(), layer="barriers"),
            "landuse": frame(self._landuse(), layer="landuse"),
            "stations": frame(self.stations, layer="stations"),
            "pois": frame(self.pois, layer="pois"),
        }
        meta = {
            "name": s.name,
            "synthetic": True,
            "code_county": s.code_county,
            "code_street": s.code_street,
            "points_crs": "wgs84",
            "attribution": "合成数据，非真实地点 / Synthetic data, not a real place "
            f"(planner.synthetic, seed {s.seed})",
        }
        return layers, meta, utm

    def _barriers(self) -> list[dict[str, Any]]:
        """The river and the railway, where the street has them."""
        barriers = []
        if self.spec.river:
            barriers.append(
                {
                    "barrier_id": "BR1",
                    "kind": "river",
                    "name": "清水河",
                    "geometry": self.river_poly,
                }
            )
        if self.spec.railway:
            barriers.append(
                {
                    "barrier_id": "BR2",
                    "kind": "railway",
                    "name": "西康铁路（示意）",
                    "geometry": self.rail_line,
                }
            )
        return barriers

    def _landuse(self) -> list[dict[str, Any]]:
        """A land-use polygon for each block of a named use (:data:`LANDUSE_NAMES`):
        schools numbered 第一小学, 第二中学...; other uses from their name pool,
        numbered once the pool runs out."""
        short = street_short_name(self.spec.name)
        lu: list[dict[str, Any]] = []
        seen: dict[str, int] = {}
        school_no = 0
        for bi, use in enumerate(self.block_use):
            if use not in LANDUSE_NAMES:
                continue
            if use == "school":
                school_no += 1
                level = "小学" if school_no % 2 else "中学"
                nm = f"{short}第{cn_number(school_no)}{level}"
            else:
                k = seen.get(use, 0)
                seen[use] = k + 1
                pool = LANDUSE_NAMES[use]
                nm = f"{short}{pool[k % len(pool)]}"
                if k >= len(pool):
                    nm += cn_number(k // len(pool) + 1)
            lu.append(
                {
                    "landuse_id": f"LU{len(lu) + 1:03d}",
                    "kind": LANDUSE_KIND.get(use, use),
                    "name": nm,
                    "geometry": self.blocks[bi],
                }
            )
        return lu


class _Framer:
    """Turns records in the local frame into WGS84 layers: shifted by ``offset``
    (metres) into ``utm``, then projected. An empty layer keeps the columns of
    :data:`LAYER_COLUMNS`."""

    def __init__(self, utm: CRS, offset: tuple[float, float]) -> None:
        self.utm = utm
        self.offset = np.array(offset)

    def __call__(
        self,
        records: list[dict[str, Any]] | pd.DataFrame,
        geoms: NDArray[np.object_] | None = None,
        layer: str = "",
    ) -> gpd.GeoDataFrame:
        df = (
            pd.DataFrame(records).copy()
            if not isinstance(records, pd.DataFrame)
            else records.copy()
        )
        if geoms is None and "geometry" not in df:  # an empty layer keeps its columns
            empty = pd.DataFrame({c: pd.Series(dtype=object) for c in LAYER_COLUMNS.get(layer, [])})
            return gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs=WGS84), crs=WGS84)
        if geoms is None:
            geoms = df.pop("geometry").to_numpy()
        g = shapely.transform(np.asarray(geoms, dtype=object), lambda c: c + self.offset)
        gdf = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(g, crs=self.utm), crs=self.utm)
        return gdf.to_crs(WGS84)


class _LocalRoadNames:
    """Names of local roads: "文苑路", then "文苑一路", "文苑二路"... (the Xi'an habit of
    numbered roads); ``路`` for north-south roads, ``街`` for east-west ones."""

    def __init__(self, names: Names, stems: list[str]) -> None:
        self.names = names
        self.stems = stems
        self.counters = {"ns": 0, "ew": 0}

    def __call__(self, kind: str) -> str:
        k = self.counters[kind]
        self.counters[kind] += 1
        stems = self.stems
        stem = stems[(k + (0 if kind == "ns" else len(stems) // 2)) % len(stems)]
        suffix = "路" if kind == "ns" else "街"
        rnd = k // len(stems)
        return self.names.take([f"{stem}{cn_number(rnd) if rnd else ''}{suffix}"])


def _vertical_at(road: Road, xs: set[float], *, arterial: bool) -> bool:
    """Whether ``road`` is a straight north-south line at one of ``xs`` (and, with
    ``arterial``, a primary or secondary road)."""
    coords = road.geom.coords
    return (
        (not arterial or road.highway in ("primary", "secondary"))
        and len(coords) == 2
        and coords[0][0] == coords[1][0]
        and float(coords[0][0]) in xs
    )


@dataclass
class _PathLayers:
    """What the compounds' paths and gates add, and the roads gates attach to:
    ``road_geoms`` (every road), ``att_idx`` (those a gate may attach to: no
    bridge) and their STRtree."""

    road_geoms: NDArray[np.object_]
    att_idx: NDArray[np.intp]
    tree: shapely.STRtree
    gates: list[dict[str, Any]] = field(default_factory=list)
    footways: list[Road] = field(default_factory=list)
    internal: list[Road] = field(default_factory=list)
    path_geoms: list[BaseGeometry] = field(default_factory=list)


PathAxis = tuple[str, tuple[float, float], tuple[float, float]]


def _path_axes(q: Polygon, cx: float, cy: float) -> list[PathAxis]:
    """The compound's path axes through ``(cx, cy)``: a north-south spine and, in a
    compound at least 110 m wide (or without a spine), an east-west path; each the
    longest piece of the axis inside ``q``, at least 40 m long."""
    minx, miny, maxx, maxy = q.bounds
    lines: list[PathAxis] = []
    for axis in ("ns", "ew"):
        if axis == "ns":
            probe = LineString([(cx, miny - 1), (cx, maxy + 1)])
        else:
            if maxx - minx < 110 and len(lines):
                continue
            probe = LineString([(minx - 1, cy), (maxx + 1, cy)])
        parts = [p for p in shapely.get_parts(q.intersection(probe)) if p.geom_type == "LineString"]
        if not parts:
            continue
        seg = max(parts, key=lambda p: p.length)
        if seg.length < 40:
            continue
        lines.append((axis, seg.coords[0], seg.coords[-1]))
    return lines


def _compound_paths(
    q: Polygon,
    lines: list[PathAxis],
    gate_pts: set[tuple[float, float]],
    centre: tuple[float, float],
) -> list[LineString]:
    """The paths along the axes: ending at a gate or 6 m short of the wall, split at
    the centre where two axes cross inside the compound; none shorter than 1 m."""
    paths: list[LineString] = []
    has_centre = len(lines) == 2 and q.contains(Point(centre))
    for _axis, a, b in lines:
        a2 = a if a in gate_pts else towards(a, b, 6.0)
        b2 = b if b in gate_pts else towards(b, a, 6.0)
        if has_centre:
            paths += [LineString([a2, centre]), LineString([centre, b2])]
        else:
            paths.append(LineString([a2, b2]))
    return [p for p in paths if p.length > 1.0]


def _building_names(
    kinds: NDArray[np.object_], comp_ids: NDArray[np.object_], own_k: NDArray[np.int64]
) -> list[str]:
    """ "n号楼" within a compound (numbered per compound or holder), a descriptive name
    with its number for other buildings."""
    names = []
    seq: dict[str, int] = {}
    label = {"school": "教学楼", "shop": "商业楼", "office": "写字楼", "public": "综合楼"}
    for kind, comp, o in zip(kinds, comp_ids, own_k, strict=True):
        key = str(comp or f"b{o}")
        seq[key] = seq.get(key, 0) + 1
        names.append(f"{seq[key]}号楼" if kind == "residential" else f"{label[kind]}{seq[key]}")
    return names
