"""GeoJSON writer (RFC 7946): WGS84 longitude/latitude, UTF-8, rounded coordinates.

RFC 7946 says: coordinates are WGS84 longitude, latitude; there is no ``crs``
member; polygon outer rings run counter-clockwise and holes clockwise. Files are
written atomically (a temporary file in the same folder, then ``os.replace``), so
an interrupted export never leaves a half-written file in place.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from planner.crs import WGS84

log = logging.getLogger(__name__)


def _json_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (list, tuple, dict, str, int)):
        return value
    return str(value)


def to_geojson_text(gdf: gpd.GeoDataFrame, *, precision: int = 7) -> str:
    """The RFC 7946 FeatureCollection text of ``gdf`` (reprojected to WGS84).

    Parameters
    ----------
    gdf
        Any CRS; a layer without CRS is taken as WGS84.
    precision
        Decimals kept in longitude/latitude (7 decimals: about 1 cm).
    """
    if gdf.crs is not None and not CRS.from_user_input(gdf.crs).equals(CRS.from_user_input(WGS84)):
        gdf = gdf.to_crs(WGS84)
    geoms = gdf.geometry.to_numpy()
    present = ~shapely.is_missing(geoms)
    geoms = geoms.copy()
    if present.any():
        rounded = shapely.transform(geoms[present], lambda xy: np.round(xy, precision))
        geoms[present] = shapely.orient_polygons(rounded, exterior_cw=False)
    geom_text = np.full(len(geoms), "null", dtype=object)
    if present.any():
        geom_text[present] = shapely.to_geojson(geoms[present])
    props = gdf.drop(columns=gdf.geometry.name)
    names = [str(c) for c in props.columns]
    features = []
    for i, row in enumerate(props.itertuples(index=False, name=None)):
        p = {k: _json_value(v) for k, v in zip(names, row, strict=True)}
        features.append(
            '{"type":"Feature","properties":'
            + json.dumps(p, ensure_ascii=False, allow_nan=False)
            + ',"geometry":'
            + str(geom_text[i])
            + "}"
        )
    return '{"type":"FeatureCollection","features":[\n' + ",\n".join(features) + "\n]}\n"


def write_text_atomic(text: str, path: Path) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_geojson(gdf: gpd.GeoDataFrame, path: str | Path, *, precision: int = 7) -> Path:
    """Write ``gdf`` as an RFC 7946 GeoJSON file (WGS84, UTF-8), atomically.

    Parameters
    ----------
    gdf
        The layer, in any CRS (reprojected to WGS84 longitude/latitude).
    path
        The file to write; its folder is created if needed.
    precision
        Decimals of longitude/latitude (default 7, about 1 cm).

    Returns
    -------
    Path
        The path written.
    """
    out = Path(path)
    write_text_atomic(to_geojson_text(gdf, precision=precision), out)
    log.info("wrote %s (%d features)", out, len(gdf))
    return out
