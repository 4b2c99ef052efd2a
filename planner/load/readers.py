"""Reading the files planners have: layer files, point CSVs and spreadsheets.

Every reader collects its problems in a :class:`~planner.errors.ProblemLog`
(naming the file, feature id, field and fix) instead of raising on the first
one, and returns ``None`` for a file it could not read. Layers come back in
WGS84 longitude/latitude (EPSG:4326); :func:`planner.load.sources.assemble` projects
them to the street's UTM zone.

Encodings: CSV files are read as UTF-8 (with or without a byte-order mark) and
otherwise as GBK/GB18030, the encodings Chinese spreadsheets are saved in.
"""

from __future__ import annotations

import json
import logging
import unicodedata
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from planner.crs import WGS84, PointCRS, to_wgs84
from planner.errors import ProblemLog
from planner.load import validate

log = logging.getLogger(__name__)

#: Layer names a street folder may hold.
FOLDER_LAYERS: tuple[str, ...] = (
    "boundary",
    "communities",
    "compounds",
    "buildings",
    "roads",
    "stations",
    "gates",
    "barriers",
    "landuse",
    "pois",
)
#: Layer file extensions, in the order tried.
LAYER_EXTENSIONS: tuple[str, ...] = (".geojson", ".json", ".gpkg", ".shp", ".csv")
#: Layers that may be given as a CSV of longitude/latitude points.
POINT_LAYERS: frozenset[str] = frozenset({"stations", "pois", "gates"})

#: Chinese (and other common) column names of point CSVs -> folder-format column.
POINT_COLUMN_ALIASES: dict[str, str] = {
    "编号": "{id}",
    "id": "{id}",
    "站点编号": "{id}",
    "名称": "name",
    "站点名称": "name",
    "类型": "kind",
    "站点类型": "kind",
    "type": "kind",
    "面积": "floor_area_m2",
    "建筑面积": "floor_area_m2",
    "面积(m²)": "floor_area_m2",
    "面积(平方米)": "floor_area_m2",
    "floor_area": "floor_area_m2",
    "开放时间": "opening_hours",
    "地址": "address",
    "小区编号": "compound_id",
}

LON_NAMES: frozenset[str] = frozenset({"lon", "lng", "long", "longitude", "经度", "x_lon"})
LAT_NAMES: frozenset[str] = frozenset({"lat", "latitude", "纬度", "y_lat"})


def normalise_text(value: object) -> str:
    """Text for matching: NFKC (full-width -> half-width), no whitespace, lower case."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return "".join(text.split()).lower()


def detect_encoding(data: bytes) -> str:
    """``"utf-8-sig"`` when ``data`` decodes as UTF-8, else ``"gb18030"`` (GBK superset).

    Raises
    ------
    UnicodeDecodeError
        When neither decodes.
    """
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        data.decode("gb18030")  # raises when the text is neither
        return "gb18030"
    return "utf-8-sig"


def read_table(
    path: Path, *, problems: ProblemLog, header_names: frozenset[str] | set[str] | None = None
) -> pd.DataFrame | None:
    """A CSV (UTF-8, UTF-8 with BOM, or GBK) or Excel (.xlsx) table, all cells as text.

    The index holds spreadsheet row numbers (the header is row 1 unless a title sits
    above it), so messages can name the row a planner sees. With ``header_names``,
    the header is the first of the top 10 rows holding two of those (normalised)
    names: Chinese registers often carry a title row above the header.

    Returns ``None`` (with a problem logged) when the file cannot be read.
    """
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            raw = pd.read_excel(path, dtype=str, engine="openpyxl", header=None)
        elif suffix in (".csv", ".txt"):
            data = path.read_bytes()
            try:
                enc = detect_encoding(data)
            except UnicodeDecodeError:
                problems.add(
                    "the file is neither UTF-8 nor GBK text",
                    file=str(path),
                    fix="save the spreadsheet as CSV UTF-8 (or GBK) or as .xlsx",
                )
                return None
            raw = pd.read_csv(
                path,
                dtype=str,
                encoding=enc,
                skipinitialspace=True,
                header=None,
                skip_blank_lines=False,
            )
        else:
            problems.add(
                f"unsupported table format '{suffix or '(none)'}'",
                file=str(path),
                fix="give a .csv (UTF-8 or GBK) or .xlsx file",
            )
            return None
    except FileNotFoundError:
        problems.add("file not found", file=str(path), fix="check the path")
        return None
    except Exception as exc:  # any parser failure is an unreadable file
        problems.add(
            f"cannot read the table: {type(exc).__name__}: {exc}",
            file=str(path),
            fix="open it in a spreadsheet program and save it again as .csv or .xlsx",
        )
        return None
    raw.index = raw.index + 1  # spreadsheet row numbers
    raw = raw.dropna(how="all")
    if raw.empty:
        return pd.DataFrame()
    header_at = 0
    if header_names:
        for k in range(min(10, len(raw))):
            cells = {normalise_text(v) for v in raw.iloc[k].dropna()}
            if len(cells & set(header_names)) >= 2:
                header_at = k
                break
    header = raw.iloc[header_at]
    columns = [
        unicodedata.normalize("NFKC", str(c)).strip() if pd.notna(c) else f"column{j + 1}"
        for j, c in enumerate(header)
    ]
    table = raw.iloc[header_at + 1 :].copy()
    table.columns = columns
    return table


def find_column(columns: Any, names: frozenset[str] | set[str]) -> str | None:
    """The first column whose normalised name is one of ``names``."""
    for col in columns:
        if normalise_text(col) in names:
            return str(col)
    return None


def read_points_csv(
    path: Path, *, layer: str, points_crs: PointCRS, problems: ProblemLog
) -> gpd.GeoDataFrame | None:
    """Points from a CSV with longitude/latitude columns, converted to WGS84.

    Longitude columns: lon, lng, longitude, 经度; latitude: lat, latitude, 纬度.
    ``points_crs`` says what the numbers are: WGS84 (GPS, OSM), GCJ-02 (Amap,
    Tencent) or BD-09 (Baidu).
    """
    table = read_table(path, problems=problems, header_names=LON_NAMES | LAT_NAMES)
    if table is None:
        return None
    lon_col = find_column(table.columns, LON_NAMES)
    lat_col = find_column(table.columns, LAT_NAMES)
    if lon_col is None or lat_col is None:
        problems.add(
            f"no longitude/latitude columns (found columns: {', '.join(map(str, table.columns))})",
            file=str(path),
            field="longitude" if lon_col is None else "latitude",
            fix="name the columns lon/lng/longitude/经度 and lat/latitude/纬度",
        )
        return None
    id_col = f"{layer[:-1]}_id" if layer.endswith("s") else f"{layer}_id"
    rename: dict[str, str] = {}
    for col in table.columns:
        target = POINT_COLUMN_ALIASES.get(normalise_text(col), "").replace("{id}", id_col)
        if target and target not in table.columns and target not in rename.values():
            rename[str(col)] = target
    table = table.rename(columns=rename)
    rows = pd.Series([f"row {i}" for i in table.index], index=table.index)
    ids = (
        table[id_col].fillna("").astype(str).where(table[id_col].notna(), rows)
        if id_col in table.columns
        else rows
    )
    lon = pd.to_numeric(table[lon_col].str.strip(), errors="coerce")
    lat = pd.to_numeric(table[lat_col].str.strip(), errors="coerce")
    bad = lon.isna() | lat.isna()
    for i in np.flatnonzero(bad.to_numpy()):
        col = lon_col if pd.isna(lon.iloc[i]) else lat_col
        cell = table[col].iloc[i]
        empty = (
            cell is None or (isinstance(cell, float) and np.isnan(cell)) or not str(cell).strip()
        )
        problems.add(
            "coordinate is empty" if empty else f"coordinate {cell!r} is not a number",
            file=str(path),
            feature_id=ids.iloc[i],
            field=col,
            fix="write decimal degrees, e.g. 116.3975 and 39.9087",
        )
    if bad.any():
        return None
    if validate.lonlat_swapped(lon.to_numpy(), lat.to_numpy()):
        problems.add(
            f"longitude and latitude look swapped: '{lon_col}' holds values like "
            f"{lon.iloc[0]:g} and '{lat_col}' values like {lat.iloc[0]:g}",
            file=str(path),
            field=f"{lon_col}/{lat_col}",
            fix="swap the two column names (longitude is about 73-135 in China, latitude 18-54)",
        )
        return None
    out_of_range = (lon.abs() > 180) | (lat.abs() > 90)
    for i in np.flatnonzero(out_of_range.to_numpy()):
        problems.add(
            f"({lon.iloc[i]}, {lat.iloc[i]}) is not longitude/latitude in degrees",
            file=str(path),
            feature_id=ids.iloc[i],
            field=f"{lon_col}/{lat_col}",
            fix="give longitude/latitude in decimal degrees",
        )
    if out_of_range.any():
        return None
    wlon, wlat = to_wgs84(lon.to_numpy(), lat.to_numpy(), points_crs)
    attrs = table.drop(columns=[lon_col, lat_col])
    return gpd.GeoDataFrame(attrs, geometry=gpd.points_from_xy(wlon, wlat), crs=WGS84)


def read_layer_file(
    path: Path, *, layer: str, problems: ProblemLog, points_crs: PointCRS = "wgs84"
) -> gpd.GeoDataFrame | None:
    """One layer file (GeoJSON, GeoPackage, Shapefile, or CSV points) in WGS84.

    Problems logged: unreadable file, missing CRS (a shapefile without ``.prj``),
    coordinates that are not longitude/latitude in a GeoJSON, swapped latitude and
    longitude. Returns ``None`` when the layer cannot be used.
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        if layer not in POINT_LAYERS:
            problems.add(
                f"a CSV can only hold points (stations, pois, gates), not the {layer} layer",
                file=str(path),
                fix=f"give {layer} as GeoJSON, GeoPackage or Shapefile",
            )
            return None
        return read_points_csv(path, layer=layer, points_crs=points_crs, problems=problems)
    if not path.exists():
        problems.add("file not found", file=str(path), fix="check the path")
        return None
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Non closed ring", category=RuntimeWarning)
            gdf = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several types for broken files
        fixed = None
        if "closed linestring" in str(exc) and suffix in (".geojson", ".json"):
            fixed = _read_geojson_closing_rings(path, problems=problems)
        if fixed is None:
            problems.add(
                f"cannot read the file: {exc}",
                file=str(path),
                fix="check it is a valid GeoJSON, GeoPackage or Shapefile (open it in QGIS)",
            )
            return None
        gdf = fixed
    if gdf.crs is None:
        fix = (
            "put the .prj file next to the .shp (export it again from your GIS with its "
            "coordinate system), or save the layer as GeoPackage/GeoJSON"
            if suffix == ".shp"
            else "save the layer with its coordinate system (GeoPackage) or as WGS84 GeoJSON"
        )
        problems.add("the layer has no coordinate reference system (CRS)", file=str(path), fix=fix)
        return None
    if suffix == ".shp":
        gdf = restore_shapefile_names(gdf)
    blank = gdf.geometry.isna() | gdf.geometry.is_empty
    if blank.any():
        id_col = f"{layer[:-1]}_id" if layer.endswith("s") else f"{layer}_id"
        ids = validate.feature_ids(gdf, id_col)[blank].tolist()
        problems.add(
            f"{len(ids)} feature(s) have no geometry and were left out: {validate.id_list(ids)}",
            file=str(path),
            feature_id=ids[0],
            field="geometry",
            fix="draw these features, or delete them",
            severity="warning",
        )
    gdf = gdf.loc[~blank].reset_index(drop=True)
    if gdf.empty:
        return gdf.to_crs(WGS84) if gdf.crs is not None else gdf.set_crs(WGS84)
    crs = CRS.from_user_input(gdf.crs)
    if crs.is_geographic:
        minx, miny, maxx, maxy = gdf.total_bounds
        if validate.bounds_swapped(minx, miny, maxx, maxy):
            problems.add(
                f"latitude/longitude are swapped: x runs {minx:.4f}–{maxx:.4f}, "
                f"y runs {miny:.4f}–{maxy:.4f}",
                file=str(path),
                fix="write coordinates as [longitude, latitude] (GeoJSON order), or swap "
                "the axes in your GIS before exporting",
            )
            return None
        if max(abs(minx), abs(maxx)) > 180 or max(abs(miny), abs(maxy)) > 90:
            problems.add(
                f"coordinates like ({minx:.1f}, {miny:.1f}) are not longitude/latitude, but "
                f"the file declares {crs.name}",
                file=str(path),
                fix="GeoJSON must hold WGS84 longitude/latitude (RFC 7946): export it again "
                "as WGS84, or save it as GeoPackage, which keeps its projected CRS",
            )
            return None
    try:
        return gdf.to_crs(WGS84)
    except Exception as exc:
        problems.add(
            f"cannot convert from {crs.name} to WGS84: {exc}",
            file=str(path),
            fix="save the layer in WGS84 or a standard projected CRS",
        )
        return None


def _close_rings(geometry: Any) -> int:
    """Close the open rings of a GeoJSON (Multi)Polygon in place; returns how many."""
    if not isinstance(geometry, dict):
        return 0
    kind = geometry.get("type")
    polys = (
        [geometry.get("coordinates") or []]
        if kind == "Polygon"
        else (geometry.get("coordinates") or [])
        if kind == "MultiPolygon"
        else []
    )
    closed = 0
    for poly in polys:
        for ring in poly:
            if len(ring) >= 3 and list(ring[0]) != list(ring[-1]):
                ring.append(list(ring[0]))
                closed += 1
    return closed


def _read_geojson_closing_rings(path: Path, *, problems: ProblemLog) -> gpd.GeoDataFrame | None:
    """Read a GeoJSON whose polygon rings are not closed, closing them (a safe repair)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
        features = data["features"] if data.get("type") == "FeatureCollection" else [data]
        closed = sum(_close_rings(f.get("geometry")) for f in features)
        gdf = gpd.GeoDataFrame.from_features(features, crs=WGS84)
    except Exception:  # not fixable this way: the caller reports the original error
        return None
    problems.add(
        f"{closed} polygon ring(s) were not closed and were closed by repeating their first point",
        file=str(path),
        field="geometry",
        fix="check these shapes on the map",
        severity="repair",
    )
    return gdf


def _known_columns() -> list[str]:
    from planner import schema

    names = {c.name for _g, cols in schema.LAYERS.values() for c in cols}
    names |= {"height_m", "gated", "bridge", "foot"}
    return sorted(names)


def restore_shapefile_names(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Undo the shapefile's 10-character cut of column names (``community_`` -> ``community_id``)."""
    rename: dict[str, str] = {}
    for col in gdf.columns:
        if len(str(col)) != 10 or col in _known_columns():
            continue
        full = [k for k in _known_columns() if len(k) > 10 and k[:10] == col]
        if len(full) == 1 and full[0] not in gdf.columns:
            rename[str(col)] = full[0]
    return gdf.rename(columns=rename) if rename else gdf


def find_layer_files(folder: Path, *, problems: ProblemLog) -> dict[str, Path]:
    """Layer name -> file in ``folder`` (the first of .geojson, .json, .gpkg, .shp, .csv)."""
    found: dict[str, Path] = {}
    for layer in FOLDER_LAYERS:
        candidates = [folder / f"{layer}{ext}" for ext in LAYER_EXTENSIONS]
        existing = [p for p in candidates if p.exists()]
        if len(existing) > 1:
            problems.add(
                f"several files for the {layer} layer ({', '.join(p.name for p in existing)}); "
                f"using {existing[0].name}",
                file=str(folder),
                fix="keep one file per layer",
                severity="warning",
            )
        if existing:
            found[layer] = existing[0]
    return found


def read_metadata(folder: Path, *, problems: ProblemLog) -> dict[str, Any]:
    """``street.json`` of a folder ({} if absent)."""
    path = folder / "street.json"
    if not path.exists():
        return {}
    try:
        meta = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.add(
            f"cannot read street.json: {exc}",
            file=str(path),
            fix='make it a JSON object in UTF-8, e.g. {"name": "..."}',
        )
        return {}
    if not isinstance(meta, dict):
        problems.add(
            "street.json must hold a JSON object",
            file=str(path),
            fix='write e.g. {"name": "...", "synthetic": false}',
        )
        return {}
    return meta


def read_folder(
    folder: Path, *, problems: ProblemLog, points_crs: PointCRS | None = None
) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, Any], dict[str, Path]]:
    """Every layer file of a street folder in WGS84, its metadata, and the files read.

    ``points_crs`` (for CSV point files) defaults to ``street.json``'s ``points_crs``,
    else WGS84.
    """
    meta = read_metadata(folder, problems=problems)
    pcrs: Any = points_crs or meta.get("points_crs", "wgs84")
    if pcrs not in ("wgs84", "gcj02", "bd09"):
        problems.add(
            f"points_crs {pcrs!r} is not known",
            file=str(folder / "street.json"),
            field="points_crs",
            fix="use wgs84, gcj02 or bd09",
        )
        pcrs = "wgs84"
    files = find_layer_files(folder, problems=problems)
    layers: dict[str, gpd.GeoDataFrame] = {}
    for layer, path in files.items():
        gdf = read_layer_file(path, layer=layer, problems=problems, points_crs=pcrs)
        if gdf is not None:
            layers[layer] = gdf
    return layers, meta, files
