"""Coordinate systems: the local UTM zone, and the Chinese GCJ-02 / BD-09 offsets.

GCJ-02 (Amap/Gaode, Tencent) and BD-09 (Baidu) are obfuscated WGS84 coordinates
used by Chinese web maps; points taken from those services are 100-700 m off
unless converted. The forward transforms follow the published algorithm; the
inverse is solved by fixed-point iteration to well under a centimetre, so a
round trip WGS84 -> GCJ-02 -> WGS84 is exact for practical purposes.
All functions are vectorised over numpy arrays of degrees.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS

from planner.errors import InputError

PointCRS = Literal["wgs84", "gcj02", "bd09"]
WGS84 = "EPSG:4326"

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0


def utm_crs_for(lon: float, lat: float) -> CRS:
    """The WGS84 UTM zone CRS holding a point given in degrees (EPSG:326xx / 327xx)."""
    if not (-180 <= lon <= 180 and -80 <= lat <= 84):
        raise InputError(
            f"cannot choose a UTM zone for lon={lon}, lat={lat}",
            fix="check that coordinates are longitude/latitude in degrees (WGS84)",
        )
    zone = int((lon + 180) // 6) + 1
    zone = min(zone, 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def _out_of_china(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.bool_]:
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _delta(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x = lon - 105.0
    y = lat - 35.0
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def _arr(a: ArrayLike) -> NDArray[np.float64]:
    return np.asarray(a, dtype="float64")


def wgs84_to_gcj02(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """WGS84 -> GCJ-02, degrees. Points outside China are returned unchanged."""
    lon_a, lat_a = _arr(lon), _arr(lat)
    dlon, dlat = _delta(lon_a, lat_a)
    out = _out_of_china(lon_a, lat_a)
    return np.where(out, lon_a, lon_a + dlon), np.where(out, lat_a, lat_a + dlat)


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """GCJ-02 -> WGS84, degrees, by iterating the forward transform (error < 1 mm)."""
    glon, glat = _arr(lon), _arr(lat)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(30):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = flon - glon, flat - glat
        wlon = wlon - elon
        wlat = wlat - elat
        if np.all(np.abs(elon) < 1e-10) and np.all(np.abs(elat) < 1e-10):
            break
    return wlon, wlat


def gcj02_to_bd09(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """GCJ-02 -> BD-09, degrees."""
    x, y = _arr(lon), _arr(lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """BD-09 -> GCJ-02, degrees, by iterating the forward transform."""
    blon, blat = _arr(lon), _arr(lat)
    glon, glat = blon - 0.0065, blat - 0.006
    for _ in range(30):
        flon, flat = gcj02_to_bd09(glon, glat)
        elon, elat = flon - blon, flat - blat
        glon, glat = glon - elon, glat - elat
        if np.all(np.abs(elon) < 1e-10) and np.all(np.abs(elat) < 1e-10):
            break
    return glon, glat


def to_wgs84(
    lon: ArrayLike, lat: ArrayLike, source: PointCRS
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert longitude/latitude declared in ``source`` to WGS84 degrees."""
    if source == "wgs84":
        return _arr(lon), _arr(lat)
    if source == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if source == "bd09":
        return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
    raise InputError(f"unknown point coordinate system {source!r}", fix="use wgs84, gcj02 or bd09")


def from_wgs84(
    lon: ArrayLike, lat: ArrayLike, target: PointCRS
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert WGS84 degrees to ``target`` (wgs84, gcj02 or bd09)."""
    if target == "wgs84":
        return _arr(lon), _arr(lat)
    if target == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if target == "bd09":
        return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))
    raise InputError(f"unknown point coordinate system {target!r}", fix="use wgs84, gcj02 or bd09")


def require_projected(crs: object, operation: str) -> None:
    """Raise if ``crs`` is geographic: measuring in degrees gives wrong answers."""
    c = CRS.from_user_input(crs) if crs is not None else None
    if c is None or c.is_geographic:
        raise InputError(
            f"{operation} needs a projected metric CRS, got {c.to_string() if c else 'no CRS'}",
            fix="project the layer to the street's UTM CRS first (Street.crs)",
        )


#: Names a user may give instead of an EPSG code.
CRS_ALIASES: dict[str, str] = {
    "wgs84": "EPSG:4326",
    "cgcs2000": "EPSG:4490",
}


def parse_crs(text: str | Path, *, flag: str = "--crs") -> CRS:
    """A coordinate reference system as planners hand it over.

    Accepted: an EPSG code (``EPSG:4547``, CGCS2000 / 3-degree Gauss-Kruger CM 114E;
    CGCS2000 itself is EPSG:4490, its 3° and 6° Gauss-Kruger zones EPSG:4491-4554),
    ``cgcs2000`` or ``wgs84``, a PROJ string (``+proj=tmerc +lat_0=0 +lon_0=114 ...``,
    e.g. a city's local system), WKT, or the path of a ``.prj`` / WKT file.

    Raises
    ------
    InputError
        Naming ``flag``, what was given and the forms accepted.
    """
    raw = str(text).strip()
    value = CRS_ALIASES.get(raw.lower(), raw)
    path = Path(raw).expanduser()
    if raw and not raw.startswith(("+", "EPSG", "epsg")) and path.is_file():
        try:
            value = path.read_text(encoding="utf-8-sig", errors="replace").strip()
        except OSError as exc:
            raise InputError(
                f"{flag} {raw}: the file cannot be read ({exc})",
                fix="give a readable .prj file, an EPSG code (EPSG:4547) or a PROJ string",
            ) from exc
    if value.isdigit():
        value = f"EPSG:{value}"
    try:
        return CRS.from_user_input(value)
    except Exception as exc:  # pyproj raises CRSError, and others on garbage
        raise InputError(
            f"{flag} {raw[:80]!r} is not a coordinate reference system pyproj knows ({exc})",
            fix="give an EPSG code (e.g. EPSG:4547 for CGCS2000 / 3-degree Gauss-Kruger CM "
            "114E), cgcs2000, a PROJ string (+proj=tmerc ...), WKT, or a .prj file",
        ) from exc
