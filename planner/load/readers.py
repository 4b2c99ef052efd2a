"""Reading the files planners have: layer files and street folders.

Every reader collects its problems in a :class:`~planner.errors.ProblemLog`
(naming the file, feature id, field and fix) instead of raising on the first
one, and returns ``None`` for a file it could not read. Layers come back in
WGS84 longitude/latitude (EPSG:4326); :func:`planner.load.assemble.assemble` projects
them to the street's UTM zone. Tables (CSV, Excel) and point CSVs are read by
:mod:`planner.load.tables`.

What a layer file is checked for (:func:`read_layer_file`): a file that cannot be
read; a GeoPackage holding several layers (the one named like the layer or the file is
read, and said so; otherwise refused with the list); a Shapefile without ``.cpg`` whose
text is not UTF-8 (read as GBK/GB18030 and said so); JSON booleans in numeric fields
and NUL characters in text of a GeoJSON; no CRS; coordinates that are NaN or infinite;
projected coordinates declared as longitude/latitude; swapped latitude/longitude.
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
from pyproj import CRS

from planner.crs import WGS84, PointCRS
from planner.errors import ProblemLog
from planner.i18n import STRINGS, Message, msg
from planner.load import validate
from planner.load.tables import (
    LAT_NAMES,
    LON_NAMES,
    POINT_COLUMN_ALIASES,
    detect_encoding,
    find_column,
    normalise_text,
    read_points_csv,
    read_table,
)

__all__ = [
    "FOLDER_LAYERS",
    "LAT_NAMES",
    "LAYER_EXTENSIONS",
    "LON_NAMES",
    "POINT_COLUMN_ALIASES",
    "POINT_LAYERS",
    "FolderContents",
    "detect_encoding",
    "find_column",
    "find_layer_files",
    "normalise_text",
    "read_folder",
    "read_layer_file",
    "read_metadata",
    "read_points_csv",
    "read_table",
    "restore_shapefile_names",
]

log = logging.getLogger(__name__)

#: The street's main layers (what ``python -m planner export`` writes).
CORE_LAYERS: tuple[str, ...] = (
    "boundary",
    "communities",
    "compounds",
    "buildings",
    "roads",
    "stations",
)
#: Layer names a street folder may hold.
FOLDER_LAYERS: tuple[str, ...] = (*CORE_LAYERS, "gates", "barriers", "landuse", "pois")
#: Layer file extensions, in the order tried.
LAYER_EXTENSIONS: tuple[str, ...] = (".geojson", ".json", ".gpkg", ".shp", ".csv")
#: Files that belong to a layer file or are no layer (not reported as unread).
_COMPANIONS: frozenset[str] = frozenset(
    {".shx", ".dbf", ".prj", ".cpg", ".qpj", ".sbn", ".sbx", ".qix", ".xml", ".qmd", ".md"}
)
#: Layers that may be given as a CSV of longitude/latitude points.
POINT_LAYERS: frozenset[str] = frozenset({"stations", "pois", "gates"})
#: Numeric fields a GeoJSON must not hold JSON booleans in.
NUMERIC_FIELDS: tuple[str, ...] = (
    "households",
    "population",
    "floors",
    "height_m",
    "floor_area_m2",
)
_JSON_BOOLEAN = re.compile(
    rb'"(?:' + b"|".join(f.encode() for f in NUMERIC_FIELDS) + rb')"\s*:\s*(?:true|false)'
)
_JSON_NUL = re.compile(rb"\\u0000", re.IGNORECASE)


def _id_column(layer: str) -> str:
    return f"{layer[:-1]}_id" if layer.endswith("s") else f"{layer}_id"


def read_layer_file(
    path: Path,
    *,
    layer: str,
    problems: ProblemLog,
    points_crs: PointCRS = "wgs84",
    file_crs: CRS | None = None,
) -> gpd.GeoDataFrame | None:
    """One layer file (GeoJSON, GeoPackage, Shapefile, or CSV points) in WGS84.

    ``file_crs`` (the ``--crs`` flag) is the CRS of a file that does not declare one:
    a Shapefile without ``.prj``, or a GeoJSON without a ``crs`` member whose
    coordinates are not longitude/latitude (e.g. CGCS2000 Gauss-Kruger metres); a
    file's own CRS always wins (:func:`assume_crs`).

    Problems logged: see the module docstring. Returns ``None`` when the layer cannot
    be used.
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        if layer not in POINT_LAYERS:
            problems.add(
                msg("err_csv_points_only", layer=_layer_msg(layer)),
                file=str(path),
                fix=msg("err_fix_csv_points", layer=_layer_msg(layer)),
            )
            return None
        return read_points_csv(path, layer=layer, points_crs=points_crs, problems=problems)
    if not path.exists():
        problems.add(msg("err_file_not_found"), file=str(path), fix=msg("err_fix_check_path"))
        return None
    gdf = _read_gis_file(path, layer=layer, problems=problems)
    if gdf is not None and file_crs is not None:
        gdf = assume_crs(gdf, path, file_crs, problems=problems)
    if gdf is None or not _has_crs(gdf, path, problems=problems):
        return None
    if suffix == ".shp":
        gdf = restore_shapefile_names(gdf)
    if suffix in (".geojson", ".json"):
        gdf = _check_geojson_values(gdf, path, layer=layer, problems=problems)
    gdf = _drop_blank(gdf, path, layer=layer, problems=problems)
    if gdf.empty:
        return gdf.to_crs(WGS84)
    ids = lambda: validate.feature_ids(gdf, _id_column(layer))  # noqa: E731 - only on failure
    if not validate.finite_coordinates(gdf, ids=ids, file=str(path), problems=problems):
        return None
    if not _lonlat_plausible(gdf, path, problems=problems):
        return None
    try:
        return gdf.to_crs(WGS84)
    except Exception as exc:
        problems.add(
            msg("err_cannot_convert", crs=CRS.from_user_input(gdf.crs).name, detail=str(exc)),
            file=str(path),
            fix=msg("err_fix_convert"),
        )
        return None


def _layer_msg(layer: str) -> Message | str:
    """A layer's name in the reader's language (its raw name when the catalogue has none)."""
    key = f"note_layer_{layer}"
    return msg(key) if key in STRINGS else layer


def _read_gis_file(path: Path, *, layer: str, problems: ProblemLog) -> gpd.GeoDataFrame | None:
    """The features of a GeoJSON, GeoPackage or Shapefile as read (None if unreadable)."""
    suffix = path.suffix.lower()
    options: dict[str, Any] = {}
    if suffix == ".gpkg":
        chosen = _gpkg_layer(path, layer=layer, problems=problems)
        if chosen is False:
            return None
        if chosen is not None:
            options["layer"] = chosen
    if suffix == ".shp":
        encoding = _shapefile_encoding(path, problems=problems)
        if encoding is not None:
            options["encoding"] = encoding
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Non closed ring", category=RuntimeWarning)
            # NaN/Infinity coordinates are named by validate.finite_coordinates instead
            warnings.filterwarnings("ignore", message="invalid value encountered in from_wkb")
            return gpd.read_file(path, engine="pyogrio", **options)
    except Exception as exc:  # pyogrio raises several types for broken files
        fixed = None
        if "closed linestring" in str(exc) and suffix in (".geojson", ".json"):
            fixed = _read_geojson_closing_rings(path, problems=problems)
        if fixed is None:
            problems.add(
                msg("err_cannot_read", detail=str(exc)),
                file=str(path),
                fix=msg("err_fix_valid_gis"),
            )
        return fixed


def _gpkg_layer(path: Path, *, layer: str, problems: ProblemLog) -> str | bool | None:
    """The layer to read from a GeoPackage: None for its only layer, the name of the layer
    named like ``layer`` or the file when there are several (said so), False (with an
    error listing the layers) when none is."""
    try:
        listed = pyogrio.list_layers(path)
    except Exception:  # not a GeoPackage at all: the read reports it
        return None
    names = [str(n) for n, _t in listed]
    if len(names) <= 1:
        return None
    described = ", ".join(f"'{n}' ({_feature_count(path, n)} {t or 'table'})" for n, t in listed)
    for wanted in (layer, path.stem):
        if wanted in names:
            problems.add(
                msg(
                    "note_several_layers",
                    file=path.name,
                    n=len(names),
                    described=described,
                    layer=wanted,
                ),
                file=str(path),
                fix=msg("note_fix_one_layer", layer=layer),
                severity="warning",
            )
            return wanted
    problems.add(
        msg("err_gpkg_no_layer", file=path.name, n=len(names), described=described, layer=layer),
        file=str(path),
        fix=msg("err_fix_gpkg_layer", layer=layer, file=path.name),
    )
    return False


def _feature_count(path: Path, layer: str) -> int | str:
    try:
        return int(pyogrio.read_info(path, layer=layer)["features"])
    except Exception:
        return "?"


def _shapefile_encoding(path: Path, *, problems: ProblemLog) -> str | None:
    """The text encoding of a Shapefile without ``.cpg`` and without a DBF language id.

    GDAL reads such text as ISO-8859-1, which turns Chinese into mojibake. The DBF's
    records are tried as UTF-8, then as GB18030 (a superset of GBK, the encoding of
    Chinese Windows); a warning says which was assumed. None: leave it to GDAL (a
    ``.cpg`` or language id is there, or the text is plain ASCII).
    """
    if any(path.with_suffix(s).exists() for s in (".cpg", ".CPG")):
        return None
    dbf = next(
        (p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if p.exists()), None
    )
    if dbf is None:
        return None
    data = dbf.read_bytes()
    if len(data) < 32 or data[29] != 0:
        return None
    records = data[int.from_bytes(data[8:10], "little") :]
    if records.isascii():
        return None
    for encoding, said in (("UTF-8", "UTF-8"), ("GB18030", "GBK (GB18030)")):
        try:
            records.decode(encoding)
        except UnicodeDecodeError:
            continue
        problems.add(
            msg("note_cpg_utf8" if encoding == "UTF-8" else "note_cpg_other", said=said),
            file=str(path),
            fix=msg("note_fix_cpg_check"),
            severity="warning",
        )
        return encoding
    problems.add(
        msg("note_cpg_latin1"),
        file=str(path),
        fix=msg("note_fix_cpg"),
        severity="warning",
    )
    return None


def assume_crs(
    gdf: gpd.GeoDataFrame, path: Path, crs: CRS, *, problems: ProblemLog
) -> gpd.GeoDataFrame:
    """``gdf`` in ``crs`` when the file declares no CRS of its own (said in a note).

    No CRS (a Shapefile without ``.prj``, a DXF): ``crs``. A GeoJSON read as WGS84
    (RFC 7946's default, no ``crs`` member) whose coordinates are not degrees: ``crs``.
    Any other declared CRS is kept.
    """
    if gdf.crs is not None:
        declared = CRS.from_user_input(gdf.crs)
        if not declared.is_geographic or len(gdf) == 0:
            return gdf
        x0, y0, x1, y1 = gdf.total_bounds
        if max(abs(x0), abs(x1)) <= 180 and max(abs(y0), abs(y1)) <= 90:
            return gdf
    problems.add(
        msg("note_no_crs", crs=crs.name),
        file=str(path),
        fix=msg("note_fix_check_place"),
        severity="repair",
    )
    return gdf.set_crs(crs, allow_override=True)


def _has_crs(gdf: gpd.GeoDataFrame, path: Path, *, problems: ProblemLog) -> bool:
    if gdf.crs is not None:
        return True
    fix = msg("err_fix_no_crs_shp" if path.suffix.lower() == ".shp" else "err_fix_no_crs_other")
    problems.add(msg("err_no_crs"), file=str(path), fix=fix)
    return False


def _check_geojson_values(
    gdf: gpd.GeoDataFrame, path: Path, *, layer: str, problems: ProblemLog
) -> gpd.GeoDataFrame:
    """What GDAL hides when reading a GeoJSON: booleans in numeric fields (read as 1/0)
    are errors; text holding NUL characters (cut at the NUL) is restored in full, to be
    cleaned (and said so) by :func:`planner.load.validate.clean_text`."""
    data = path.read_bytes()
    booleans, nul = _JSON_BOOLEAN.search(data), _JSON_NUL.search(data)
    if booleans is None and nul is None:
        return gdf
    props = _geojson_properties(data)
    if props is None or len(props) != len(gdf):
        return gdf
    ids = validate.feature_ids(gdf, _id_column(layer))
    if booleans is not None:
        _report_booleans(props, ids, file=str(path), problems=problems)
    if nul is None:
        return gdf
    out = gdf.copy()
    for col in props.columns:
        if col in out.columns and col != out.geometry.name:
            full = props[col]
            cut = full.map(lambda v: isinstance(v, str) and "\x00" in v).astype(bool)
            if cut.any():
                out[col] = out[col].astype(object)
                out.loc[cut.to_numpy(), col] = full[cut].to_numpy()
    return out


def _geojson_properties(data: bytes) -> pd.DataFrame | None:
    """The features' properties, as Python's JSON reader sees them (None if it cannot)."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return None
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list):
        return None
    rows = [f.get("properties") or {} if isinstance(f, dict) else {} for f in features]
    return pd.DataFrame(rows, dtype=object)


def _report_booleans(
    props: pd.DataFrame, ids: pd.Series, *, file: str, problems: ProblemLog
) -> None:
    for col in NUMERIC_FIELDS:
        if col not in props.columns:
            continue
        is_bool = props[col].map(lambda v: isinstance(v, bool)).to_numpy(dtype=bool)
        for i in is_bool.nonzero()[0][: validate.MAX_IDS]:
            value = "true" if props[col].iloc[i] else "false"
            problems.add(
                f"{col} {value} is a JSON boolean (true/false), not a number",
                file=file,
                feature_id=ids.iloc[i],
                field=col,
                fix=f"write the number of {col.replace('_', ' ')} (or leave it empty)",
            )


def _drop_blank(
    gdf: gpd.GeoDataFrame, path: Path, *, layer: str, problems: ProblemLog
) -> gpd.GeoDataFrame:
    """The features with a geometry (the others left out, with a warning naming them)."""
    blank = gdf.geometry.isna() | gdf.geometry.is_empty
    if blank.any():
        ids = validate.feature_ids(gdf, _id_column(layer))[blank].tolist()
        problems.add(
            msg("note_no_geometry", n=len(ids), ids=validate.id_message(ids)),
            file=str(path),
            feature_id=ids[0],
            field="geometry",
            fix=msg("note_fix_draw_or_delete"),
            severity="warning",
        )
    return gdf.loc[~blank].reset_index(drop=True)


def _lonlat_plausible(gdf: gpd.GeoDataFrame, path: Path, *, problems: ProblemLog) -> bool:
    """In a geographic CRS: no swapped axes, and coordinates within ±180°/±90°."""
    crs = CRS.from_user_input(gdf.crs)
    if not crs.is_geographic:
        return True
    minx, miny, maxx, maxy = gdf.total_bounds
    if validate.bounds_swapped(minx, miny, maxx, maxy):
        problems.add(
            msg("err_latlon_swapped", x0=minx, x1=maxx, y0=miny, y1=maxy),
            file=str(path),
            fix=msg("err_fix_latlon_swapped"),
        )
        return False
    if max(abs(minx), abs(maxx)) > 180 or max(abs(miny), abs(maxy)) > 90:
        problems.add(
            msg("err_not_lonlat", x=minx, y=miny, crs=crs.name),
            file=str(path),
            fix=msg("err_fix_not_lonlat"),
        )
        return False
    return True


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
        msg("note_rings_closed", n=closed),
        file=str(path),
        field="geometry",
        fix=msg("note_fix_check_shapes"),
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
                msg(
                    "note_several_files",
                    layer=layer,
                    files=[p.name for p in existing],
                    used=existing[0].name,
                ),
                file=str(folder),
                fix=msg("note_fix_one_file"),
                severity="warning",
            )
        if existing:
            found[layer] = existing[0]
    return found


def unread_layer_files(folder: Path, found: dict[str, Path]) -> dict[str, Path]:
    """Layer name -> a file named like a layer in a format folders are not read in
    (``boundary.kml``, ``buildings.dxf``, ...), for layers without a readable file."""
    unread: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        layer = path.name.split(".")[0].lower()
        suffix = path.suffix.lower()
        if (
            layer in FOLDER_LAYERS
            and layer not in found
            and path.is_file()
            and suffix not in (*LAYER_EXTENSIONS, *_COMPANIONS)
        ):
            unread.setdefault(layer, path)
    return unread


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


@dataclass
class FolderContents:
    """What a street folder holds.

    Attributes
    ----------
    layers
        Layer name -> layer in WGS84, for every file that could be read.
    meta
        ``street.json`` ({} if absent).
    files
        Layer name -> the file read for it.
    unread
        Layer name -> a file named like the layer in a format not read from folders
        (``boundary.kml``); those of other layers are warned about here, the boundary's
        by the loader when no boundary is given another way.
    """

    layers: dict[str, gpd.GeoDataFrame]
    meta: dict[str, Any]
    files: dict[str, Path]
    unread: dict[str, Path] = field(default_factory=dict)


def read_folder(
    folder: Path,
    *,
    problems: ProblemLog,
    points_crs: PointCRS | None = None,
    file_crs: CRS | None = None,
) -> FolderContents:
    """Every layer file of a street folder in WGS84, its metadata, and the files read.

    ``points_crs`` (for CSV point files) defaults to ``street.json``'s ``points_crs``,
    else WGS84. ``file_crs`` (``--crs``) is the CRS of layer files that declare none
    (:func:`assume_crs`).
    """
    meta = read_metadata(folder, problems=problems)
    pcrs: PointCRS = "wgs84"
    declared = points_crs or meta.get("points_crs", "wgs84")
    if declared in ("wgs84", "gcj02", "bd09"):
        pcrs = declared
    else:
        problems.add(
            f"points_crs {validate.short(declared)!r} is not known",
            file=str(folder / "street.json"),
            field="points_crs",
            fix="use wgs84, gcj02 or bd09",
        )
    files = find_layer_files(folder, problems=problems)
    unread = unread_layer_files(folder, files)
    for layer, path in unread.items():
        if layer != "boundary":
            problems.add(
                msg("note_unread_file", file=path.name, layer=layer),
                file=str(path),
                fix=msg("note_fix_save_as", layer=layer),
                severity="warning",
            )
    layers: dict[str, gpd.GeoDataFrame] = {}
    for layer, path in files.items():
        gdf = read_layer_file(
            path, layer=layer, problems=problems, points_crs=pcrs, file_crs=file_crs
        )
        if gdf is not None:
            layers[layer] = gdf
    return FolderContents(layers=layers, meta=meta, files=files, unread=unread)
