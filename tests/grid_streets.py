"""Small hand-made streets for the grid tests (projected CRS, metres)."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, Polygon, box

from planner.street import Street, from_layers

CRS = "EPSG:32650"  # UTM 50N (Beijing)
X0, Y0 = 440_000.0, 4_420_000.0


def block_street(
    *,
    xs: Sequence[float] = (300.0, 600.0),
    ys: Sequence[float] = (300.0,),
    width: float = 900.0,
    height: float = 600.0,
    households: Sequence[int] | None = None,
    community_x: float | None = 450.0,
    compound_every: int = 2,
    rows: int = 3,
    cols: int = 3,
    river: bool = False,
    wobble: float = 0.0,
    seed: int = 0,
) -> Street:
    """A street of blocks cut by roads at ``xs`` (vertical) and ``ys`` (horizontal).

    Every block holds ``rows`` x ``cols`` buildings; every ``compound_every``-th block
    is a gated compound (outline 4 m inside the block). ``households`` gives the
    households of each building in order (cycled); 0 makes a non-residential one.
    ``community_x`` splits the street into two communities west/east of that x
    (None: no community layer). ``wobble`` moves boundary corners by up to that many
    metres, so the boundary is not a rectangle.
    """
    rng = np.random.default_rng(seed)
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=float)
    corners += rng.uniform(-wobble, wobble, size=corners.shape) if wobble else 0.0
    # keep the corners outside the outermost roads
    boundary = Polygon(corners + np.array([X0, Y0]))
    roads = []
    for i, x in enumerate(xs):
        roads.append(
            {
                "road_id": f"v{i}",
                "highway": "secondary" if i == 0 else "residential",
                "geometry": LineString([(X0 + x, Y0 - 50), (X0 + x, Y0 + height + 50)]),
            }
        )
    for i, y in enumerate(ys):
        roads.append(
            {
                "road_id": f"h{i}",
                "highway": "residential",
                "geometry": LineString([(X0 - 50, Y0 + y), (X0 + width + 50, Y0 + y)]),
            }
        )
    # a footway that must not cut
    roads.append(
        {
            "road_id": "f0",
            "highway": "footway",
            "geometry": LineString([(X0 + 10, Y0 + 10), (X0 + width - 10, Y0 + height - 10)]),
        }
    )
    xb = [0.0, *sorted(xs), width]
    yb = [0.0, *sorted(ys), height]
    compounds, buildings = [], []
    hh = list(households) if households is not None else [40]
    k = 0
    block = 0
    for yi in range(len(yb) - 1):
        for xi in range(len(xb) - 1):
            bx0, bx1, by0, by1 = xb[xi] + 8, xb[xi + 1] - 8, yb[yi] + 8, yb[yi + 1] - 8
            if bx1 - bx0 < 30 or by1 - by0 < 30:
                block += 1
                continue
            blk = box(X0 + bx0, Y0 + by0, X0 + bx1, Y0 + by1)
            blk = blk.intersection(boundary.buffer(-12))
            cid = ""
            if compound_every and block % compound_every == 0 and not blk.is_empty:
                cid = f"c{block}"
                compounds.append({"compound_id": cid, "name": f"小区{block}", "geometry": blk})
            dx = (bx1 - bx0) / cols
            dy = (by1 - by0) / rows
            for r in range(rows):
                for c in range(cols):
                    cx = X0 + bx0 + (c + 0.5) * dx
                    cy = Y0 + by0 + (r + 0.5) * dy
                    w = min(dx, dy) * 0.3
                    geom = box(cx - w, cy - w * 0.6, cx + w, cy + w * 0.6)
                    if not blk.contains(geom):
                        continue
                    h = int(hh[k % len(hh)])
                    k += 1
                    buildings.append(
                        {
                            "building_id": f"b{len(buildings)}",
                            "kind": "residential" if h else "other",
                            "households": h,
                            "population": h * 2.62,
                            "compound_id": cid,
                            "geometry": geom,
                        }
                    )
            block += 1
    layers: dict[str, gpd.GeoDataFrame] = {
        "boundary": gpd.GeoDataFrame({"name": ["测试街道"]}, geometry=[boundary], crs=CRS),
        "roads": gpd.GeoDataFrame(roads, crs=CRS),
    }
    if buildings:
        layers["buildings"] = gpd.GeoDataFrame(buildings, crs=CRS)
    if compounds:
        layers["compounds"] = gpd.GeoDataFrame(compounds, crs=CRS)
    if community_x is not None:
        west = box(X0 - 100, Y0 - 100, X0 + community_x, Y0 + height + 100).intersection(boundary)
        east = box(X0 + community_x, Y0 - 100, X0 + width + 100, Y0 + height + 100).intersection(
            boundary
        )
        layers["communities"] = gpd.GeoDataFrame(
            {"community_id": ["w", "e"], "name": ["西社区", "东社区"], "code": ["001", "002"]},
            geometry=[west, east],
            crs=CRS,
        )
    if river:
        strip = shapely.geometry.box(
            X0 - 50, Y0 + height * 0.45, X0 + width + 50, Y0 + height * 0.45 + 12
        )
        layers["barriers"] = gpd.GeoDataFrame(
            {"barrier_id": ["r0"], "kind": ["river"], "name": ["小河"]}, geometry=[strip], crs=CRS
        )
    return from_layers(layers, crs=CRS, name="测试街道")


def random_street(
    *,
    seed: int,
    n_roads: int = 5,
    n_buildings: int = 40,
    max_households: int = 120,
    communities: bool = True,
    compounds: int = 2,
    radius: float = 500.0,
    straddle_free: bool = True,
) -> Street:
    """A random street: a star-shaped boundary, random straight roads of random classes
    (some that do not cut), random buildings with random households, compounds and
    two communities split by a random line."""
    rng = np.random.default_rng(seed)
    k = int(rng.integers(5, 11))
    ang = np.sort(rng.uniform(0, 2 * np.pi, k))
    rad = radius * rng.uniform(0.6, 1.0, k)
    boundary = Polygon(np.c_[X0 + rad * np.cos(ang), Y0 + rad * np.sin(ang)]).buffer(0)
    if boundary.geom_type != "Polygon":
        boundary = max(boundary.geoms, key=lambda p: p.area)
    classes = ["primary", "secondary", "residential", "tertiary", "footway", "service"]
    roads = []
    for i in range(n_roads):
        a = rng.uniform(0, np.pi)
        off = rng.uniform(-0.7, 0.7) * radius
        d = np.array([np.cos(a), np.sin(a)])
        nrm = np.array([-d[1], d[0]])
        c = np.array([X0, Y0]) + nrm * off
        p0, p1 = c - d * 2 * radius, c + d * 2 * radius
        roads.append(
            {
                "road_id": f"r{i}",
                "highway": classes[int(rng.integers(len(classes)))],
                "geometry": LineString([p0, p1]),
            }
        )
    # buildings: random small rectangles inside the boundary, not overlapping each other
    inner = boundary.buffer(-15)
    minx, miny, maxx, maxy = inner.bounds
    geoms: list[Polygon] = []
    tries = 0
    while len(geoms) < n_buildings and tries < n_buildings * 20:
        tries += 1
        cx, cy = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        w, h = rng.uniform(10, 40), rng.uniform(8, 16)
        g = box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        if inner.contains(g) and not any(g.distance(o) < 3 for o in geoms):
            geoms.append(g)
    hh = rng.integers(0, max_households + 1, len(geoms))
    hh[rng.random(len(geoms)) < 0.15] = 0
    buildings = gpd.GeoDataFrame(
        {
            "building_id": [f"b{i}" for i in range(len(geoms))],
            "households": hh,
            "population": hh * 2.62,
            "kind": np.where(hh > 0, "residential", "other"),
        },
        geometry=geoms,
        crs=CRS,
    )
    layers: dict[str, gpd.GeoDataFrame] = {
        "boundary": gpd.GeoDataFrame({"name": ["随机街道"]}, geometry=[boundary], crs=CRS),
        "buildings": buildings,
    }
    if roads:
        layers["roads"] = gpd.GeoDataFrame(roads, crs=CRS)
    comp = []
    for _ in range(compounds if len(geoms) else 0):
        b = geoms[int(rng.integers(len(geoms)))]
        cgeom = b.buffer(float(rng.uniform(20, 70)), join_style="mitre").intersection(inner)
        if straddle_free:  # outlines go around buildings, as walls do
            ins = [o.buffer(1.0) for o in geoms if cgeom.contains(o.centroid)]
            outs = [o.buffer(1.0) for o in geoms if not cgeom.contains(o.centroid)]
            cgeom = shapely.union_all([cgeom, *ins]).difference(shapely.union_all(outs))
            cgeom = cgeom.intersection(inner)
        if (
            not cgeom.is_empty
            and cgeom.geom_type == "Polygon"
            and not any(cgeom.intersects(o) for o in comp)
        ):
            comp.append(cgeom)
    if comp:
        layers["compounds"] = gpd.GeoDataFrame(
            {"compound_id": [f"c{i}" for i in range(len(comp))]}, geometry=comp, crs=CRS
        )
    if communities:
        a = rng.uniform(0, np.pi)
        d = np.array([np.cos(a), np.sin(a)])
        c = np.array([X0, Y0]) + rng.uniform(-0.3, 0.3, 2) * radius
        half = Polygon(
            [
                c - d * 3 * radius,
                c + d * 3 * radius,
                c + d * 3 * radius + [-d[1] * 3 * radius, d[0] * 3 * radius],
                c - d * 3 * radius + [-d[1] * 3 * radius, d[0] * 3 * radius],
            ]
        )
        # community lines go around buildings, as real ones do
        inside = [g for g in geoms if half.contains(g.centroid)]
        outside = [g for g in geoms if not half.contains(g.centroid)]
        half = shapely.union_all([half, *[g.buffer(1.5) for g in inside]])
        half = half.difference(shapely.union_all([g.buffer(1.5) for g in outside]))
        one, two = boundary.intersection(half), boundary.difference(half)
        parts = [p for p in (one, two) if not p.is_empty and p.area > 1]
        layers["communities"] = gpd.GeoDataFrame(
            {
                "community_id": [f"k{i}" for i in range(len(parts))],
                "name": [f"社区{i}" for i in range(len(parts))],
            },
            geometry=parts,
            crs=CRS,
        )
    return from_layers(layers, crs=CRS, name="随机街道")
