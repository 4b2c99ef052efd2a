"""GeoJSON writer (RFC 7946): WGS84 longitude/latitude, UTF-8, rounded coordinates.

RFC 7946 says: coordinates are WGS84 longitude, latitude; there is no ``crs``
member; polygon outer rings run counter-clockwise and holes clockwise. This is
the planner's one GeoJSON writer (the ``export``, ``coverage``, ``grids`` and
``run`` commands and :mod:`planner.export.formats` all use it):

- coordinates are snap-rounded to ``precision`` decimals (default 7, ~1 cm), so a
  polygon stays valid where naive rounding would make it cross itself;
- text is UTF-8 with Chinese characters as they are (not ``\\u`` escapes);
- optionally written in GCJ-02 (``coordinate_system="gcj02"``) for systems built on
  Amap/Tencent maps, stated in the foreign member ``"coordinate_system": "GCJ-02"``;
- files are written atomically (:mod:`planner._atomic`), so an interrupted export
  never leaves a half-written file in place.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from planner._atomic import atomic_path
from planner._atomic import write_text as _write_text
from planner.crs import WGS84, from_wgs84
from planner.errors import InputError

log = logging.getLogger(__name__)

#: Coordinate systems an export can be written in.
CoordinateSystem = Literal["wgs84", "gcj02"]

#: What each coordinate system is called in file metadata.
COORDINATE_SYSTEM_LABELS: dict[str, str] = {"wgs84": "WGS84", "gcj02": "GCJ-02"}

#: Note written into every GCJ-02 file: the CRS says EPSG:4326, the numbers are GCJ-02.
GCJ02_NOTE = (
    "Coordinates are GCJ-02 (Amap/Gaode, Tencent), not WGS84: longitude/latitude "
    "shifted by the GCJ-02 algorithm. Use them only on GCJ-02 base maps."
)


# ---------------------------------------------------------------------------------------
# Geometry preparation


def _check_coordinate_system(coordinate_system: str) -> None:
    if coordinate_system not in COORDINATE_SYSTEM_LABELS:
        raise InputError(
            f"unknown coordinate system {coordinate_system!r} for an export",
            fix="use 'wgs84' (default) or 'gcj02'",
        )


def _gcj02_coords(coords: NDArray[np.float64]) -> NDArray[np.float64]:
    lon, lat = from_wgs84(coords[:, 0], coords[:, 1], "gcj02")
    return np.column_stack([lon, lat])


def to_lonlat(
    gdf: gpd.GeoDataFrame, *, coordinate_system: CoordinateSystem = "wgs84"
) -> gpd.GeoDataFrame:
    """``gdf`` reprojected to longitude/latitude degrees, WGS84 or GCJ-02.

    Parameters
    ----------
    gdf
        Any layer with a CRS (the planner's layers are in the street's UTM CRS); a
        layer without CRS whose coordinates look like degrees is taken as WGS84.
    coordinate_system
        ``"wgs84"`` (EPSG:4326) or ``"gcj02"``: WGS84 with every coordinate moved by
        :func:`planner.crs.from_wgs84` (the result still says EPSG:4326; files
        written from it state GCJ-02 in their metadata).

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame, same index and columns; the input is not modified.
    """
    _check_coordinate_system(coordinate_system)
    if gdf.crs is None:
        x0, y0, x1, y1 = gdf.total_bounds if len(gdf) else (0.0, 0.0, 0.0, 0.0)
        if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
            raise InputError(
                "a layer to export has no coordinate reference system and its "
                "coordinates are not longitude/latitude",
                fix="set the layer's CRS (the street's UTM CRS) before exporting",
            )
        log.warning("layer without CRS taken as WGS84 longitude/latitude")
        gdf = gdf.set_crs(WGS84)
    out = gdf.to_crs(WGS84)
    if coordinate_system == "gcj02" and len(out):
        moved = shapely.transform(np.asarray(out.geometry.values), _gcj02_coords)
        out = out.set_geometry(gpd.GeoSeries(moved, index=out.index, crs=WGS84))
    return out


def _polygon_parts(parts: NDArray[Any], idx: NDArray[Any]) -> tuple[NDArray[Any], NDArray[Any]]:
    """The Polygons among ``parts`` (MultiPolygons split), with their owners ``idx``."""
    sub, j = shapely.get_parts(parts, return_index=True)
    sub = np.asarray(sub, dtype=object)
    keep = shapely.get_type_id(sub) == 3
    return sub[keep], np.asarray(idx)[j[keep]]


def rfc7946_geometries(geoms: Sequence[Any] | NDArray[Any], *, precision: int) -> NDArray[Any]:
    """Round coordinates to ``precision`` decimals, then orient rings per RFC 7946.

    Coordinates are rounded; a polygon that rounding would make invalid (a neck
    narrower than the precision crossing itself) is snap-rounded instead
    (:func:`shapely.set_precision` on a grid of ``10**-precision`` degrees), which
    keeps it valid and drops zero-width spikes. Only those few pay for snap
    rounding. Outer rings become counter-clockwise and holes clockwise (RFC 7946
    §3.1.6); orientation is set last so rounding cannot undo it.
    """
    arr = np.asarray(geoms, dtype=object)

    def _round(c: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.round(c, precision)

    rounded = np.asarray(shapely.transform(arr, _round), dtype=object)
    was_ok = shapely.is_valid(arr)
    broke = was_ok & ~shapely.is_valid(rounded)
    bad_in = ~was_ok & ~shapely.is_missing(arr)
    fix = broke | bad_in
    if fix.any():
        src = arr[fix].copy()
        src_bad = ~shapely.is_valid(src)
        src[src_bad] = shapely.make_valid(src[src_bad])
        snapped = np.asarray(shapely.set_precision(src, 10.0**-precision), dtype=object)
        # a polygon stays polygonal: snap rounding collapses necks thinner than the
        # grid into lines, which are dropped (they have no area)
        areal = np.isin(shapely.get_type_id(arr[fix]), [3, 6])
        mixed = areal & (shapely.get_type_id(snapped) == 7)
        if mixed.any():
            parts, idx = shapely.get_parts(snapped[mixed], return_index=True)
            parts, idx = _polygon_parts(np.asarray(parts, dtype=object), idx)
            merged = np.full(int(mixed.sum()), shapely.Polygon(), dtype=object)
            if len(parts):
                built = shapely.multipolygons(parts, indices=idx)
                merged[np.unique(idx)] = np.asarray(built, dtype=object)[np.unique(idx)]
            snapped[mixed] = merged
        # exact decimal text: snapped values are on the grid up to float error
        rounded[fix] = shapely.transform(snapped, _round)
    return np.asarray(shapely.orient_polygons(rounded, exterior_cw=False), dtype=object)


# ---------------------------------------------------------------------------------------
# Attribute values


def _json_value(v: Any) -> Any:
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, bool | int | str):
        return v
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, list | tuple):
        return [_json_value(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _json_value(x) for k, x in v.items()}
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return str(v)


def _column_values(series: pd.Series) -> list[Any]:
    """Plain JSON-ready Python values of a column (NaN -> None, numpy -> Python)."""
    if pd.api.types.is_bool_dtype(series.dtype) and not series.isna().any():
        return [bool(x) for x in series.to_numpy()]
    if pd.api.types.is_integer_dtype(series.dtype) and not series.isna().any():
        return [int(x) for x in series.to_numpy()]
    if pd.api.types.is_float_dtype(series.dtype):
        a = series.to_numpy(dtype="float64", na_value=np.nan)
        ok = np.isfinite(a)
        return [float(x) if good else None for x, good in zip(a.tolist(), ok, strict=True)]
    return [_json_value(x) for x in series.tolist()]


def _property_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    cols = [c for c in df.columns if c != getattr(df, "_geometry_column_name", None)]
    columns = {str(c): _column_values(df[c]) for c in cols}
    if not columns:
        return [{} for _ in range(len(df))]
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


# ---------------------------------------------------------------------------------------
# GeoJSON


def to_geojson_text(
    gdf: gpd.GeoDataFrame,
    *,
    precision: int = 7,
    coordinate_system: CoordinateSystem = "wgs84",
    name: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> str:
    """An RFC 7946 FeatureCollection of ``gdf`` as text.

    Parameters
    ----------
    gdf
        The layer, in any CRS (reprojected to WGS84 lon/lat here).
    precision
        Decimals kept in longitude/latitude (7 decimals ≈ 1 cm).
    coordinate_system
        ``"wgs84"`` or ``"gcj02"``; GCJ-02 output carries the foreign members
        ``"coordinate_system": "GCJ-02"`` and a ``"coordinate_note"``.
    name
        Layer name written as the foreign member ``name`` (QGIS and GDAL show it).
    metadata
        Extra foreign members (JSON-serialisable), e.g. the generator and the date.

    Returns
    -------
    str
        The JSON text (UTF-8 when encoded; Chinese characters are not escaped).
        There is no ``crs`` member (RFC 7946 §4).
    """
    if not 0 <= precision <= 15:
        raise InputError(f"precision={precision} is out of range", fix="use 0-15 decimals")
    ll = to_lonlat(gdf, coordinate_system=coordinate_system)
    geoms = rfc7946_geometries(ll.geometry.values, precision=precision)
    geom_json = shapely.to_geojson(geoms)
    props = _property_records(pd.DataFrame(ll.drop(columns=ll.geometry.name)))
    head: dict[str, Any] = {"type": "FeatureCollection"}
    if name:
        head["name"] = name
    if coordinate_system != "wgs84":
        head["coordinate_system"] = COORDINATE_SYSTEM_LABELS[coordinate_system]
        head["coordinate_note"] = GCJ02_NOTE
    if metadata:
        head.update({str(k): _json_value(v) for k, v in metadata.items() if k != "crs"})
    parts = [
        '{"type":"Feature","properties":'
        + json.dumps(p, ensure_ascii=False, allow_nan=False)
        + ',"geometry":'
        + (g if g is not None else "null")
        + "}"
        for p, g in zip(props, geom_json, strict=True)
    ]
    opening = json.dumps(head, ensure_ascii=False)[:-1]
    return opening + ',"features":[\n' + ",\n".join(parts) + "\n]}\n"


def write_geojson(
    gdf: gpd.GeoDataFrame,
    path: str | Path,
    *,
    precision: int = 7,
    coordinate_system: CoordinateSystem = "wgs84",
    name: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``gdf`` as an RFC 7946 GeoJSON file, atomically, in UTF-8.

    See :func:`to_geojson_text` for the parameters. Returns the path written.
    """
    text = to_geojson_text(
        gdf,
        precision=precision,
        coordinate_system=coordinate_system,
        name=name if name is not None else Path(path).stem,
        metadata=metadata,
    )
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
    log.info("wrote %d features to %s", len(gdf), path)
    return Path(path)


def write_text_atomic(text: str, path: Path) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically (temporary file, then rename)."""
    _write_text(path, text)


#: Old name kept for callers of the first version.
geojson_text = to_geojson_text
