"""Line helpers of the synthetic street generator (private to :mod:`planner.synthetic.demo`).

Roads are built as lines in a local metric frame (metres) and *noded*: split where
they meet, so that lines share exact end points at every junction and a walking
network can be built by matching end points.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import LineString, Point


def split_line(line: LineString, cuts: list[tuple[float, tuple[float, float]]]) -> list[LineString]:
    """Split ``line`` at (distance along, exact point) cuts; pieces end exactly at the points."""
    coords = np.asarray(line.coords)
    seg = np.hypot(*np.diff(coords, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    total = cum[-1]
    eps = 1e-6
    merged: list[tuple[float, tuple[float, float]]] = []
    for d, p in sorted(cuts):
        if not merged or d - merged[-1][0] > 1e-3:
            merged.append((d, p))
    cuts = merged
    start: tuple[float, float] = (float(coords[0, 0]), float(coords[0, 1]))
    end: tuple[float, float] = (float(coords[-1, 0]), float(coords[-1, 1]))
    inner: list[tuple[float, tuple[float, float]]] = []
    for d, p in cuts:
        if d <= eps:
            start = p
        elif d >= total - eps:
            end = p
        else:
            inner.append((d, p))
    pieces: list[list[tuple[float, float]]] = []
    cur: list[tuple[float, float]] = [start]
    k = 0
    for i in range(1, len(coords)):
        while k < len(inner) and inner[k][0] < cum[i] - eps:
            cur.append(inner[k][1])
            pieces.append(cur)
            cur = [inner[k][1]]
            k += 1
        if k < len(inner) and abs(inner[k][0] - cum[i]) <= eps and i < len(coords) - 1:
            cur.append(inner[k][1])
            pieces.append(cur)
            cur = [inner[k][1]]
            k += 1
            continue
        if i == len(coords) - 1:
            cur.append(end)
        else:
            cur.append((float(coords[i, 0]), float(coords[i, 1])))
    pieces.append(cur)
    out = []
    for pc in pieces:
        dedup = [pc[0]]
        for q in pc[1:]:
            if q != dedup[-1]:
                dedup.append(q)
        if len(dedup) >= 2:
            ls = LineString(dedup)
            if ls.length > 1e-3:
                out.append(ls)
    return out


@dataclass
class Road:
    geom: LineString
    name: str
    highway: str
    bridge: bool = False
    compound_id: str = ""
    node: bool = True  # take part in noding


def node_roads(roads: list[Road], extra: dict[int, list[tuple[float, float]]]) -> list[Road]:
    """Split every noded road where it meets another, and at extra points (per road index)."""
    geoms = np.array([r.geom for r in roads], dtype=object)
    idx = np.array([i for i, r in enumerate(roads) if r.node])
    cuts: dict[int, list[tuple[float, tuple[float, float]]]] = {i: [] for i in range(len(roads))}
    if len(idx):
        tree = shapely.STRtree(geoms[idx])
        a, b = tree.query(geoms[idx], predicate="intersects")
        keep = a < b
        a, b = idx[a[keep]], idx[b[keep]]
        inter = shapely.intersection(geoms[a], geoms[b])
        parts, which = shapely.get_parts(inter, return_index=True)
        for part, w in zip(parts, which, strict=True):
            if part.geom_type != "Point":
                continue  # collinear overlaps do not occur by construction
            p = (float(part.x), float(part.y))
            for i in (a[w], b[w]):
                cuts[int(i)].append((float(geoms[i].project(part)), p))
    for i, pts in extra.items():
        for p in pts:
            cuts[i].append((float(geoms[i].project(Point(p))), p))
    out: list[Road] = []
    for i, r in enumerate(roads):
        if not cuts[i]:
            out.append(r)
            continue
        # unify near-identical cut points so both lines share one coordinate
        for piece in split_line(r.geom, cuts[i]):
            out.append(replace(r, geom=piece))
    return out


def river_centreline(
    rng: np.random.Generator, y0: float
) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
    """A gently meandering river centreline y = f(x), metres (local frame)."""
    amp = rng.uniform(22.0, 32.0)
    wavelength = rng.uniform(900.0, 1300.0)
    phase = rng.uniform(0, 2 * math.pi)

    def f(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return y0 + amp * np.sin(2 * math.pi * x / wavelength + phase)

    return f


def snap_ends(lines: list[Road], network: list[Road]) -> list[Road]:
    """Move the far end of each footway onto the nearest end point of a noded road."""
    from scipy.spatial import cKDTree

    ends = np.array([c for r in network for c in (r.geom.coords[0], r.geom.coords[-1])])
    tree = cKDTree(ends)
    out = []
    for r in lines:
        coords = list(r.geom.coords)
        d, j = tree.query(coords[-1])
        if d < 0.01:
            coords[-1] = (float(ends[j, 0]), float(ends[j, 1]))
        out.append(replace(r, geom=LineString(coords)))
    return out


def towards(a: tuple[float, float], b: tuple[float, float], d: float) -> tuple[float, float]:
    vx, vy = b[0] - a[0], b[1] - a[1]
    n = math.hypot(vx, vy)
    return (a[0] + vx / n * d, a[1] + vy / n * d) if n > d else a
