"""A hand-written RFC 7946 checker used by the export tests (independent of the writer)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape

_NUMBER = re.compile(r"-?\d+(?:\.(\d+))?(?:[eE][-+]?\d+)?")


def _positions(coords: Any) -> list[list[float]]:
    if coords and isinstance(coords[0], int | float):
        return [coords]
    out: list[list[float]] = []
    for c in coords:
        out += _positions(c)
    return out


def _rings(geom: dict[str, Any]) -> list[tuple[bool, list[list[float]]]]:
    """(is_outer, ring) for each polygon ring of a geometry."""
    t = geom["type"]
    polys = []
    if t == "Polygon":
        polys = [geom["coordinates"]]
    elif t == "MultiPolygon":
        polys = geom["coordinates"]
    elif t == "GeometryCollection":
        return [r for g in geom["geometries"] for r in _rings(g)]
    return [(i == 0, ring) for poly in polys for i, ring in enumerate(poly)]


def check_rfc7946(path: Path, *, precision: int = 7) -> list[str]:
    """Return every RFC 7946 breach found in the file (empty list: valid)."""
    raw = path.read_bytes()
    problems: list[str] = []
    if raw.startswith(b"\xef\xbb\xbf"):
        problems.append("byte-order mark (RFC 7946 §11 says no BOM)")
    text = raw.decode("utf-8")
    doc = json.loads(text)
    if doc.get("type") != "FeatureCollection":
        problems.append("not a FeatureCollection")
    if "crs" in doc:
        problems.append("crs member present")
    for i, f in enumerate(doc.get("features", [])):
        if f.get("type") != "Feature":
            problems.append(f"feature {i}: type is not Feature")
        if "properties" not in f:
            problems.append(f"feature {i}: no properties member")
        g = f.get("geometry")
        if g is None:
            continue
        pts = _positions(g.get("coordinates", [])) if g["type"] != "GeometryCollection" else []
        for lon, lat, *_ in pts:
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                problems.append(f"feature {i}: position {lon},{lat} out of lon/lat range")
                break
        for outer, ring in _rings(g):
            if len(ring) < 4 or ring[0] != ring[-1]:
                problems.append(f"feature {i}: ring not closed or too short")
                continue
            ccw = shapely.is_ccw(shapely.LinearRing(ring))
            if outer and not ccw:
                problems.append(f"feature {i}: outer ring is clockwise")
            if not outer and ccw:
                problems.append(f"feature {i}: hole is counter-clockwise")
        shape(g)  # parses
    # precision: no coordinate written with more decimals than asked
    for f in doc.get("features", []):
        g = f.get("geometry")
        if g is None:
            continue
        coord_text = json.dumps(g.get("coordinates", []))
        for m in _NUMBER.finditer(coord_text):
            if m.group(1) and len(m.group(1)) > precision:
                problems.append(f"coordinate {m.group(0)} has more than {precision} decimals")
                return problems
    return problems
