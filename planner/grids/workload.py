"""Workload of a grid: households plus weighted business units, special populations
and incidents, counted per building.

A street office sizes a grid by the work in it. Per building (index of
``street.buildings``):

- ``business``: business units (shops, offices, enterprises): 1 per building whose
  ``kind`` is in ``Settings.load_business_kinds`` (default shop, office), plus the
  POIs (``street.pois``) whose ``kind`` is in ``Settings.load_business_poi_kinds``
  lying in the building (or within :data:`SNAP_M` m of it), plus the number in the
  buildings' column ``Settings.load_business_column`` (a register's count of
  enterprises), when set;
- ``special``: the sum of the buildings' columns ``Settings.load_special_columns``
  (register columns such as elderly living alone, people needing care);
- ``incidents``: past grid events (:func:`read_incidents`: a CSV with ``lon``/``lat``
  in WGS84 or a ``building_id``), each counted in the building holding it or the
  nearest one within :data:`SNAP_M` m;
- ``load = households + load_weight_business * business + load_weight_special *
  special + load_weight_incident * incidents``.

The weights default to 0, so the load is the households and today's division is
the default.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from planner.errors import InputError, Problem, ProblemLog
from planner.load.tables import normalise_text, read_table
from planner.settings import Settings
from planner.street import Street

logger = logging.getLogger(__name__)

#: A POI or incident this close to a building (m) and in none counts in the nearest.
SNAP_M = 50.0

#: Columns of :func:`building_load`.
LOAD_COLUMNS: tuple[str, ...] = ("households", "business", "special", "incidents", "load")

#: Accepted column names of an incidents file (normalised), by meaning.
INCIDENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "lon": ("lon", "lng", "longitude", "经度", "x"),
    "lat": ("lat", "latitude", "纬度", "y"),
    "building_id": ("building_id", "buildingid", "楼栋编号", "楼栋id", "建筑编号"),
}


def building_load(
    street: Street, settings: Settings, *, incidents: pd.Series | None = None
) -> pd.DataFrame:
    """Households, business units, special populations, incidents and load per building.

    Parameters
    ----------
    street
        The street (projected CRS, metres).
    settings
        ``load_weight_*``, ``load_business_kinds``, ``load_business_poi_kinds``,
        ``load_business_column``, ``load_special_columns``.
    incidents
        Incidents per building (index of ``street.buildings``), from
        :func:`read_incidents`; none when None.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`LOAD_COLUMNS`, indexed like ``street.buildings``.

    Raises
    ------
    InputError
        A register column named in the settings is missing or not numeric.
    """
    b = street.buildings
    out = pd.DataFrame(index=b.index)
    out["households"] = b["households"].to_numpy(dtype=float)
    kinds = b["kind"].astype(str).isin(settings.load_business_kinds).to_numpy(dtype=float)
    out["business"] = kinds + _poi_counts(street, settings.load_business_poi_kinds)
    problems: list[Problem] = []
    if settings.load_business_column:
        out["business"] += _column_sum(b, (settings.load_business_column,), problems)
    out["special"] = _column_sum(b, settings.load_special_columns, problems)
    if problems:
        raise InputError(problems)
    out["incidents"] = 0.0 if incidents is None else incidents.reindex(b.index).fillna(0.0)
    out["load"] = (
        out["households"]
        + settings.load_weight_business * out["business"]
        + settings.load_weight_special * out["special"]
        + settings.load_weight_incident * out["incidents"]
    )
    return out[list(LOAD_COLUMNS)]


def _column_sum(
    b: gpd.GeoDataFrame, columns: tuple[str, ...], problems: list[Problem]
) -> NDArray[np.float64]:
    """Sum of the buildings' numeric ``columns`` (blank cells 0); each missing or
    non-numeric column is a problem naming the column and the buildings."""
    total = np.zeros(len(b))
    for col in columns:
        if col not in b.columns:
            problems.append(
                Problem(
                    f"the buildings have no column {col!r} for the workload",
                    fix="add the column to the buildings file or the register, or remove it "
                    "from load_special_columns / load_business_column",
                    file="buildings",
                    field=col,
                )
            )
            continue
        raw = b[col]
        values = pd.to_numeric(raw, errors="coerce")
        bad = values.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
        bad |= values < 0
        if bad.any():
            ids = ", ".join(b.loc[bad, "building_id"].astype(str).head(5))
            problems.append(
                Problem(
                    f"column {col!r} holds {int(bad.sum())} value(s) that are not counts "
                    f"(buildings {ids})",
                    fix="write a whole number of 0 or more, or leave the cell empty",
                    file="buildings",
                    feature_id=str(b.loc[bad, "building_id"].iloc[0]),
                    field=col,
                )
            )
            continue
        total += values.fillna(0.0).to_numpy(dtype=float)
    return total


def _poi_counts(street: Street, kinds: tuple[str, ...]) -> NDArray[np.float64]:
    """POIs of ``kinds`` per building (in it, or the nearest within :data:`SNAP_M` m)."""
    n = len(street.buildings)
    if not kinds or len(street.pois) == 0:
        return np.zeros(n)
    pois = street.pois[street.pois["kind"].astype(str).isin(kinds)]
    pos = _nearest_building(street, np.asarray(pois.geometry.values, dtype=object))
    return np.bincount(pos[pos >= 0], minlength=n).astype(float)


def _nearest_building(street: Street, points: NDArray[np.object_]) -> NDArray[np.int64]:
    """Row of the building holding each point, else the nearest within :data:`SNAP_M`
    m, else -1."""
    geoms = np.asarray(street.buildings.geometry.values, dtype=object)
    out = np.full(len(points), -1, dtype=np.int64)
    if len(points) == 0 or len(geoms) == 0:
        return out
    tree = shapely.STRtree(geoms)
    pi, bi = tree.query_nearest(points, max_distance=SNAP_M, all_matches=False)
    out[pi] = bi
    return out


def read_incidents(path: Path, street: Street) -> pd.Series:
    """Incidents per building from a CSV or Excel file.

    Each row is one past grid event, located by ``lon``/``lat`` (WGS84 degrees;
    also ``经度``/``纬度``) or by ``building_id`` (``楼栋编号``). A point counts in the
    building holding it or the nearest within :data:`SNAP_M` m; points further from
    every building are left out and logged.

    Returns
    -------
    pandas.Series
        Incidents per building, indexed like ``street.buildings``.

    Raises
    ------
    InputError
        The file cannot be read, has neither location columns, or a row has a bad
        coordinate or an unknown building id (every such row listed, by row number).
    """
    log = ProblemLog()
    names = {a for v in INCIDENT_COLUMNS.values() for a in v}
    table = read_table(path, problems=log, header_names=names)
    if table is None or log.has_errors:
        raise InputError([p for p in log.problems if p.severity == "error"])
    cols = {normalise_text(c): c for c in table.columns}
    found = {
        key: next((cols[a] for a in aliases if a in cols), None)
        for key, aliases in INCIDENT_COLUMNS.items()
    }
    n = len(street.buildings)
    if found["building_id"] is not None:
        return _incidents_by_id(table, found["building_id"], street, path)
    if found["lon"] is None or found["lat"] is None:
        raise InputError(
            Problem(
                "the incidents file has neither lon/lat nor building_id columns",
                fix="add columns lon and lat (WGS84, or 经度/纬度) or building_id (楼栋编号)",
                file=str(path),
            )
        )
    lon = pd.to_numeric(table[found["lon"]], errors="coerce")
    lat = pd.to_numeric(table[found["lat"]], errors="coerce")
    bad = lon.isna() | lat.isna() | ~lon.between(-180, 180) | ~lat.between(-90, 90)
    if bad.any():
        raise InputError(
            [
                Problem(
                    f"row {row}: longitude/latitude {table.at[row, found['lon']]!r}, "
                    f"{table.at[row, found['lat']]!r} are not WGS84 degrees",
                    fix="write decimal degrees, e.g. 116.35, 39.98",
                    file=str(path),
                    feature_id=str(row),
                    field=str(found["lon"]),
                )
                for row in table.index[bad.to_numpy()][:20]
            ]
        )
    pts = gpd.GeoSeries(shapely.points(lon.to_numpy(), lat.to_numpy()), crs="EPSG:4326")
    pos = _nearest_building(street, np.asarray(pts.to_crs(street.crs).values, dtype=object))
    if (pos < 0).any():
        logger.warning(
            "%s: %d of %d incidents lie more than %.0f m from every building; left out",
            path,
            int((pos < 0).sum()),
            len(pos),
            SNAP_M,
        )
    counts = np.bincount(pos[pos >= 0], minlength=n).astype(float)
    return pd.Series(counts, index=street.buildings.index, name="incidents")


def _incidents_by_id(table: pd.DataFrame, col: str, street: Street, path: Path) -> pd.Series:
    """Incidents per building from a ``building_id`` column (unknown ids refused)."""
    ids = street.buildings["building_id"].astype(str)
    pos_of = pd.Series(np.arange(len(ids)), index=ids.to_numpy())
    given = table[col].astype(str).str.strip()
    unknown = ~given.isin(pos_of.index)
    if unknown.any():
        raise InputError(
            [
                Problem(
                    f"row {row}: building {given[row]!r} is not in the street",
                    fix="use the building ids of the buildings layer, or lon/lat columns",
                    file=str(path),
                    feature_id=given[row],
                    field=col,
                )
                for row in table.index[unknown.to_numpy()][:20]
            ]
        )
    pos = pos_of.reindex(given.tolist()).to_numpy(dtype=np.int64)
    counts = np.bincount(pos, minlength=len(ids)).astype(float)
    return pd.Series(counts, index=street.buildings.index, name="incidents")
