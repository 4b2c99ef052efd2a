"""Checks on loaded layers: each records its problems in a ProblemLog.

Every check names the file, the feature id, the field and the fix, and records
what it repaired (severity ``"repair"``) so the load report can say so. No check
raises: the loader raises once, with every problem, through
:meth:`planner.errors.ProblemLog.raise_if_errors`.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray

from planner.errors import ProblemLog

#: Longitude/latitude box holding mainland China, Hong Kong, Macao and Taiwan, degrees.
CHINA_BOX: tuple[float, float, float, float] = (73.0, 17.0, 136.0, 54.0)

#: How many feature ids a single message lists before "... and N more".
MAX_IDS = 10


def _in_china(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.bool_]:
    x0, y0, x1, y1 = CHINA_BOX
    return (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)


def lonlat_swapped(lon: ArrayLike, lat: ArrayLike) -> bool:
    """True when coordinates fit as longitude/latitude only after swapping them.

    Either some latitudes exceed 90° while every value would be valid swapped, or
    the points fall outside China as given but all inside it when swapped.
    """
    x = np.asarray(lon, dtype="float64")
    y = np.asarray(lat, dtype="float64")
    if x.size == 0:
        return False
    invalid = (
        bool(np.any(np.abs(y) > 90))
        and bool(np.all(np.abs(x) <= 90))
        and bool(np.all(np.abs(y) <= 180))
    )
    if invalid:
        return True
    return bool(np.all(_in_china(y, x)) and not np.any(_in_china(x, y)))


def bounds_swapped(minx: float, miny: float, maxx: float, maxy: float) -> bool:
    """:func:`lonlat_swapped` applied to the corners of a bounding box."""
    return lonlat_swapped([minx, maxx], [miny, maxy])


def id_list(ids: Sequence[object]) -> str:
    """``'a, b, c'`` with at most :data:`MAX_IDS` ids, then ``... and N more``."""
    shown = [str(i) for i in ids[:MAX_IDS]]
    more = len(ids) - len(shown)
    return ", ".join(shown) + (f" ... and {more} more" if more > 0 else "")


def feature_ids(gdf: pd.DataFrame, id_col: str) -> pd.Series:
    """The id of each feature: the ``id_col`` value, else ``'#<row>'`` (1-based)."""
    fallback = pd.Series([f"#{i + 1}" for i in range(len(gdf))], index=gdf.index)
    if id_col not in gdf.columns:
        return fallback
    raw = gdf[id_col]
    text = raw.astype(object).where(raw.notna(), "").astype(str).str.strip()
    # whole numbers read as floats (e.g. 12.0 from a shapefile) keep their integer text
    text = text.str.replace(r"^(-?\d+)\.0$", r"\1", regex=True)
    return text.where(text != "", fallback)


def check_geometry_kind(
    gdf: gpd.GeoDataFrame, *, kind: str, ids: pd.Series, file: str, problems: ProblemLog
) -> gpd.GeoDataFrame:
    """Keep features of the expected kind ("polygon", "line", "point"); others are errors."""
    allowed = {
        "polygon": ("Polygon", "MultiPolygon"),
        "line": ("LineString", "MultiLineString"),
        "point": ("Point", "MultiPoint"),
    }[kind]
    types = gdf.geometry.geom_type
    wrong = ~types.isin(allowed)
    if wrong.any():
        bad = ids[wrong].tolist()
        got = sorted(set(types[wrong].astype(str)))
        problems.add(
            f"{len(bad)} feature(s) are {'/'.join(got)}, expected {kind}s: {id_list(bad)}",
            file=file,
            feature_id=bad[0],
            field="geometry",
            fix=f"this layer must hold {kind}s only; move other features to their own layer",
        )
    return gdf.loc[~wrong]


def repair_polygons(
    gdf: gpd.GeoDataFrame, *, ids: pd.Series, file: str, problems: ProblemLog
) -> gpd.GeoDataFrame:
    """Repair invalid polygons with ``make_valid``; drop those with no area.

    Each repair and each drop is recorded (severity ``"repair"``) with the feature id.
    Geometry must be projected (metres) for the area test to mean m².
    """
    geoms = gdf.geometry.to_numpy()
    invalid = ~shapely.is_valid(geoms)
    out = gdf.copy()
    if invalid.any():
        fixed = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
        geoms = geoms.copy()
        geoms[invalid] = fixed
        out = out.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
        bad = ids[invalid].tolist()
        problems.add(
            f"{len(bad)} invalid polygon(s) (self-intersecting or badly formed rings) were "
            f"repaired with make_valid: {id_list(bad)}",
            file=file,
            feature_id=bad[0],
            field="geometry",
            fix="check the repaired shapes on the map; fix them in your GIS if they look wrong",
            severity="repair",
        )
    zero = shapely.is_empty(geoms) | (shapely.area(geoms) <= 0.01)
    if zero.any():
        bad = ids[zero].tolist()
        problems.add(
            f"{len(bad)} polygon(s) have no area and were left out: {id_list(bad)}",
            file=file,
            feature_id=bad[0],
            field="geometry",
            fix="draw these features again as proper polygons, or delete them",
            severity="repair",
        )
        out = out.loc[~zero]
    return out


def check_duplicate_ids(ids: pd.Series, *, file: str, field: str, problems: ProblemLog) -> None:
    """Every id given in ``field`` must be unique."""
    dup = ids[ids.duplicated(keep=False) & ~ids.str.startswith("#")]
    for value in pd.unique(dup)[:MAX_IDS]:
        n = int((ids == value).sum())
        problems.add(
            f"id {value!r} is used by {n} features",
            file=file,
            feature_id=value,
            field=field,
            fix=f"give every feature its own {field}",
        )


def numeric_column(
    gdf: pd.DataFrame,
    column: str,
    *,
    ids: pd.Series,
    file: str,
    problems: ProblemLog,
    minimum: float = 0.0,
    whole: bool = False,
) -> pd.Series:
    """``column`` as floats (NaN where blank); text or negative values are errors."""
    if column not in gdf.columns:
        return pd.Series(np.nan, index=gdf.index, dtype="float64")
    raw = gdf[column]
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        values = raw.astype("float64")
        text = raw.astype(str)
    else:
        text = raw.astype(object).where(raw.notna(), "").astype(str).str.strip()
        text = text.str.replace(",", "", regex=False)
        values = pd.to_numeric(text.where(text != "", None), errors="coerce")
        blank = text.isin(["", "nan", "None", "<NA>"])
        bad = values.isna() & ~blank
        for i in np.flatnonzero(bad.to_numpy())[:MAX_IDS]:
            problems.add(
                f"{column} {text.iloc[i]!r} is not a number",
                file=file,
                feature_id=ids.iloc[i],
                field=column,
                fix=f"write a {'whole ' if whole else ''}number (or leave it empty to estimate)",
            )
        if bad.sum() > MAX_IDS:
            problems.add(
                f"... and {int(bad.sum()) - MAX_IDS} more non-numeric {column} values",
                file=file,
                field=column,
                fix="write numbers only",
            )
    neg = values < minimum
    for i in np.flatnonzero(neg.to_numpy())[:MAX_IDS]:
        problems.add(
            f"{column} {text.iloc[i]} is below {minimum:g}",
            file=file,
            feature_id=ids.iloc[i],
            field=column,
            fix=f"write a number of at least {minimum:g}, or leave it empty",
        )
    return values.astype("float64")
