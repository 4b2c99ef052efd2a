"""Exports other systems accept: GeoJSON, GeoPackage, Shapefile and CSV.

Every function takes layers in any CRS (the planner's layers are in the street's
UTM CRS) and writes them in WGS84 longitude/latitude (EPSG:4326) or, on request,
in GCJ-02 (the obfuscated WGS84 of Amap/Gaode and Tencent maps), saying so in the
file's metadata. Every write is atomic (:mod:`planner._atomic`): a failed export
never leaves a half-written file over the user's previous one.

- GeoJSON: RFC 7946 (:func:`planner.export.geojson.write_geojson`, re-exported here):
  WGS84 lon/lat, counter-clockwise outer rings and clockwise holes, no ``crs``
  member, coordinates rounded to ``precision`` decimals, UTF-8 with Chinese as is.
- GeoPackage (:func:`write_geopackage`): every layer and every summary table
  (non-spatial tables as GeoPackage attribute tables) in one file.
- Shapefile (:func:`write_shapefiles`): one per layer, a ``.cpg`` declaring UTF-8,
  field names cut to 10 characters by :func:`shapefile_field_names`, with the
  mapping written next to them as ``fields.csv``.
- CSV (:func:`write_csv`): UTF-8 with a byte-order mark, so Excel opens Chinese
  text correctly; the same tables as an Excel workbook (:func:`write_xlsx`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer

from planner._atomic import atomic_folder_files, atomic_path
from planner.errors import InputError
from planner.export.geojson import (
    COORDINATE_SYSTEM_LABELS,
    GCJ02_NOTE,
    CoordinateSystem,
    _check_coordinate_system,
    _column_values,
    _json_value,
    rfc7946_geometries,
    to_geojson_text,
    to_lonlat,
    write_geojson,
)

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------
# Attribute cleaning for GDAL formats


def _gdal_ready(df: pd.DataFrame) -> pd.DataFrame:
    """Columns GDAL writes faithfully: nested values become JSON text, odd types text."""
    out = df.copy()
    geom = getattr(df, "_geometry_column_name", None)
    for c in out.columns:
        if c == geom:
            continue
        s = out[c]
        if s.dtype == object or isinstance(s.dtype, pd.StringDtype):
            vals = s.tolist()
            if any(isinstance(v, list | tuple | dict) for v in vals):
                out[c] = [
                    json.dumps(_json_value(v), ensure_ascii=False)
                    if isinstance(v, list | tuple | dict)
                    else v
                    for v in vals
                ]
            out[c] = out[c].astype(object).where(out[c].notna(), None)
        elif isinstance(s.dtype, pd.CategoricalDtype):
            out[c] = s.astype(str)
    return out


@contextlib.contextmanager
def _gdal_options(**options: str) -> Iterator[None]:
    """Set GDAL config options for the duration of a write, then restore them."""
    old = {k: pyogrio.get_gdal_config_option(k) for k in options}
    pyogrio.set_gdal_config_options(options)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(old)


def _layer_description(name: str, coordinate_system: str, out_crs: CRS | None = None) -> str:
    if out_crs is not None:
        return f"planner layer {name}; coordinates {out_crs.name} ({out_crs.to_string()})"
    label = COORDINATE_SYSTEM_LABELS[coordinate_system]
    text = f"planner layer {name}; coordinates {label} longitude/latitude"
    if coordinate_system == "gcj02":
        text += ". " + GCJ02_NOTE
    return text


def check_out_crs(coordinate_system: str, out_crs: CRS | None) -> None:
    """``out_crs`` replaces WGS84 longitude/latitude; it cannot be combined with GCJ-02."""
    _check_coordinate_system(coordinate_system)
    if out_crs is not None and coordinate_system != "wgs84":
        raise InputError(
            f"--out-crs {out_crs.name} and --coordinates {coordinate_system} both say how "
            "to write coordinates",
            fix="give one of them: --out-crs for the city's survey CRS, --coordinates gcj02 "
            "for Amap/Tencent-based systems",
        )


def _in_out_crs(
    gdf: gpd.GeoDataFrame, coordinate_system: CoordinateSystem, out_crs: CRS | None
) -> gpd.GeoDataFrame:
    """``gdf`` in ``out_crs`` (the city's survey CRS), else longitude/latitude
    (:func:`planner.export.geojson.to_lonlat`)."""
    if out_crs is not None and gdf.crs is not None:
        return gdf.to_crs(out_crs)
    return to_lonlat(gdf, coordinate_system=coordinate_system)


def with_survey_xy(table: pd.DataFrame, out_crs: CRS | None) -> pd.DataFrame:
    """``table`` with ``x``/``y`` (``out_crs`` units, metres for Gauss-Kruger) of its
    WGS84 ``lon``/``lat``, placed after them; unchanged without ``out_crs`` or lon/lat."""
    if out_crs is None or not {"lon", "lat"} <= set(table.columns):
        return table
    to = Transformer.from_crs("EPSG:4326", out_crs, always_xy=True)
    lon = pd.to_numeric(table["lon"], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(table["lat"], errors="coerce").to_numpy(dtype=float)
    x, y = to.transform(lon, lat)
    out = table.copy()
    at = list(out.columns).index("lat") + 1
    out.insert(at, "x", np.round(np.asarray(x, dtype=float), 3))
    out.insert(at + 1, "y", np.round(np.asarray(y, dtype=float), 3))
    return out


def _promote_multi(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, str | None]:
    """Make one geometry type per layer (Polygon + MultiPolygon -> MultiPolygon)."""
    if len(gdf) == 0:
        return gdf, None
    types = set(gdf.geometry.dropna().geom_type.unique())
    if not types:
        return gdf, "Unknown"
    families = {t.replace("Multi", "") for t in types}
    if len(families) == 1 and len(types) == 1:
        return gdf, next(iter(types))
    if len(families) == 1:
        fam = next(iter(families))
        make = {
            "Polygon": shapely.multipolygons,
            "LineString": shapely.multilinestrings,
            "Point": shapely.multipoints,
        }[fam]
        geoms = np.asarray(gdf.geometry.values, dtype=object).copy()
        # Point, LineString, Polygon (a missing geometry has type id -1)
        single = np.isin(shapely.get_type_id(geoms), [0, 1, 3])
        if single.any():  # each single part becomes a one-part multi, in one call
            geoms[single] = make(geoms[single], indices=np.arange(int(single.sum())))
        out = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
        return out, f"Multi{fam}"
    return gdf, "Unknown"


# ---------------------------------------------------------------------------------------
# GeoPackage


def write_geopackage(
    path: str | Path,
    *,
    layers: Mapping[str, gpd.GeoDataFrame],
    tables: Mapping[str, pd.DataFrame] | None = None,
    coordinate_system: CoordinateSystem = "wgs84",
    metadata: Mapping[str, Any] | None = None,
    out_crs: CRS | None = None,
) -> Path:
    """Write every layer and summary table into one GeoPackage, atomically.

    Parameters
    ----------
    path
        The ``.gpkg`` file to write (replaced as a whole).
    layers
        Layer name -> GeoDataFrame (any CRS; written as EPSG:4326 lon/lat, or GCJ-02
        numbers under an EPSG:4326 label when ``coordinate_system="gcj02"``).
        Empty layers are written too (an empty ``gaps`` layer means full coverage).
    tables
        Table name -> DataFrame, written as non-spatial GeoPackage attribute tables.
    coordinate_system
        ``"wgs84"`` or ``"gcj02"``; stated in each layer's description
        (``gpkg_contents.description``) and metadata key ``coordinate_system``.
    metadata
        Extra key/values stored as dataset metadata (strings).
    out_crs
        The city's survey CRS (``--out-crs``, e.g. CGCS2000 / Gauss-Kruger): layers are
        written in it, with its SRS, instead of longitude/latitude.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    check_out_crs(coordinate_system, out_crs)
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    meta["coordinate_system"] = (
        COORDINATE_SYSTEM_LABELS[coordinate_system] if out_crs is None else out_crs.name
    )
    names = [*layers, *(tables or {})]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"layer and table names repeat: {dupes}", fix="give each a unique name")
    with atomic_path(path) as tmp, _gdal_options(OGR_SQLITE_SYNCHRONOUS="OFF"):
        # no fsync per layer (5x faster); the file is moved into place only when complete
        first = True
        for name, gdf in layers.items():
            ll = _gdal_ready(_in_out_crs(gdf, coordinate_system, out_crs))
            ll, gtype = _promote_multi(ll)
            if gtype is None:
                gtype = "Unknown"
            pyogrio.write_dataframe(
                ll,
                tmp,
                layer=name,
                driver="GPKG",
                geometry_type=gtype,
                append=not first,
                metadata={"coordinate_system": meta["coordinate_system"]},
                dataset_metadata=meta if first else None,
                layer_options={"DESCRIPTION": _layer_description(name, coordinate_system, out_crs)},
            )
            first = False
        for name, df in (tables or {}).items():
            plain = pd.DataFrame(df).reset_index(drop=True)
            pyogrio.write_dataframe(
                _gdal_ready(plain),
                tmp,
                layer=name,
                driver="GPKG",
                append=not first,
                dataset_metadata=meta if first else None,
                layer_options={"DESCRIPTION": f"planner table {name}"},
            )
            first = False
    log.info("wrote %d layers and %d tables to %s", len(layers), len(tables or {}), path)
    return Path(path)


# ---------------------------------------------------------------------------------------
# Shapefile

#: Word abbreviations used, in this order, to fit Shapefile (dBASE) field names in 10
#: characters before plain truncation. Documented in docs/readme/exports.md.
FIELD_ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("households", "hh"),
    ("population", "pop"),
    ("community", "comm"),
    ("compound", "cpd"),
    ("building", "bldg"),
    ("station", "stn"),
    ("covered", "cov"),
    ("uncovered", "uncov"),
    ("estimated", "est"),
    ("minutes", "min"),
    ("nearest", "near"),
    ("threshold", "thr"),
    ("opening", "open"),
    ("address", "addr"),
    ("number", "n"),
    ("share", "shr"),
    ("floor", "flr"),
    ("area", "ar"),
    ("walk", "wk"),
    ("time", "t"),
)

SHAPEFILE_FIELD_MAX = 10


def _utf8_cut(text: str, limit: int) -> str:
    out = ""
    for ch in text:
        if len((out + ch).encode("utf-8")) > limit:
            break
        out += ch
    return out


def _abbreviate(name: str) -> str:
    parts = [p for p in re.split(r"_+", name) if p]
    table = dict(FIELD_ABBREVIATIONS)
    short = "_".join(table.get(p.lower(), p) for p in parts) or name
    if len(short.encode("utf-8")) > SHAPEFILE_FIELD_MAX:
        short = short.replace("_", "")
    return short


def shapefile_field_names(columns: Sequence[str]) -> dict[str, str]:
    """Map column names to unique Shapefile field names of at most 10 bytes.

    The mapping is deterministic and collision-free:

    1. a name of at most 10 bytes (UTF-8) is kept as it is;
    2. a longer name has each ``_``-separated word abbreviated by
       :data:`FIELD_ABBREVIATIONS` (``households`` -> ``hh``, ...); if still too long,
       the underscores are dropped; if still too long, it is cut to 10 bytes;
    3. names are compared case-insensitively (dBASE ignores case); a name already
       taken gets the shortest suffix ``_1``, ``_2``, ... that makes it unique, its
       stem cut so the whole fits in 10 bytes. Columns are handled in order, and
       kept names (rule 1) are reserved first, so they never change.

    Examples
    --------
    >>> shapefile_field_names(["code", "households_covered", "households_uncovered"])
    {'code': 'code', 'households_covered': 'hh_cov', 'households_uncovered': 'hh_uncov'}
    >>> shapefile_field_names(["population_estimated_a", "population_estimated_b"])
    {'population_estimated_a': 'pop_est_a', 'population_estimated_b': 'pop_est_b'}
    """
    cols = [str(c) for c in columns]
    if len(set(cols)) != len(cols):
        raise InputError("repeated column names cannot be mapped", fix="rename the columns")
    taken: set[str] = {c.lower() for c in cols if len(c.encode("utf-8")) <= SHAPEFILE_FIELD_MAX}
    mapping: dict[str, str] = {}
    for col in cols:
        if len(col.encode("utf-8")) <= SHAPEFILE_FIELD_MAX:
            mapping[col] = col
            continue
        base = _utf8_cut(_abbreviate(col), SHAPEFILE_FIELD_MAX)
        cand = base
        i = 0
        while cand.lower() in taken:
            i += 1
            suffix = f"_{i}"
            cand = _utf8_cut(base, SHAPEFILE_FIELD_MAX - len(suffix)) + suffix
        taken.add(cand.lower())
        mapping[col] = cand
    return mapping


#: Bytes a Shapefile (dBASE) text field holds at most.
DBF_TEXT_BYTES = 254
_CUT_MARK = "…"


def _fit_dbf_text(s: pd.Series) -> tuple[pd.Series, int]:
    """Text of ``s`` longer than :data:`DBF_TEXT_BYTES` in UTF-8 cut at a character
    boundary and ended with "…" (GDAL would cut it silently); returns the column and
    how many values were cut. Other values are kept as they are."""
    if s.dtype != object:
        return s, 0
    text = s.map(lambda v: v if isinstance(v, str) else "")
    long = text.map(lambda v: len(v.encode())) > DBF_TEXT_BYTES
    if not long.any():
        return s, 0
    room = DBF_TEXT_BYTES - len(_CUT_MARK.encode())
    cut = text[long].map(lambda v: v.encode()[:room].decode("utf-8", "ignore") + _CUT_MARK)
    out = s.copy()
    out[long] = cut
    return out, int(long.sum())


def _shapefile_parts(name: str, gdf: gpd.GeoDataFrame) -> list[tuple[str, gpd.GeoDataFrame]]:
    """A Shapefile holds one geometry family: split mixed layers by family."""
    if len(gdf) == 0:
        return [(name, gdf)]
    fam = gdf.geometry.geom_type.fillna("None").str.replace("Multi", "", regex=False)
    fams = sorted(fam.unique())
    if len(fams) == 1:
        return [(name, gdf)]
    suffix = {"Polygon": "polygons", "LineString": "lines", "Point": "points"}
    return [(f"{name}_{suffix.get(f, f.lower())}", gdf[fam == f]) for f in fams if f != "None"]


def write_shapefiles(
    folder: str | Path,
    *,
    layers: Mapping[str, gpd.GeoDataFrame],
    coordinate_system: CoordinateSystem = "wgs84",
    out_crs: CRS | None = None,
) -> list[Path]:
    """Write each layer as a Shapefile in ``folder``, with ``fields.csv`` beside them.

    Each Shapefile gets a ``.cpg`` file saying ``UTF-8`` (QGIS, ArcGIS and GDAL read
    Chinese text right with it) and a ``.prj`` for EPSG:4326. Field names are cut to
    10 characters by :func:`shapefile_field_names`; ``fields.csv`` (UTF-8 with BOM)
    lists ``layer, column, field, cut`` for every layer, ``cut`` counting the texts
    longer than a dBASE field's :data:`DBF_TEXT_BYTES` bytes, which are cut at a
    character boundary and end with "…" (logged as a warning). A layer holding several
    geometry families (e.g. barriers: rivers and railways) is split into
    ``<layer>_polygons`` / ``<layer>_lines`` / ``<layer>_points``. Empty layers are
    skipped (a Shapefile cannot hold an empty layer of unknown type reliably).
    With ``coordinate_system="gcj02"`` the ``.prj`` still says WGS84 (there is no
    GCJ-02 CRS) and ``COORDINATES.txt`` next to the files states GCJ-02. With
    ``out_crs`` (the city's survey CRS, ``--out-crs``) the layers and their ``.prj``
    are in that CRS.

    Returns
    -------
    list of pathlib.Path
        The ``.shp`` files written, then ``fields.csv``.
    """
    check_out_crs(coordinate_system, out_crs)
    out_dir = Path(folder)
    rows: list[dict[str, str]] = []
    written: list[Path] = []
    with atomic_folder_files(out_dir) as tmp:
        for name, gdf in layers.items():
            if len(gdf) == 0:
                log.info("skipping empty layer %s in Shapefile export", name)
                continue
            ll = _in_out_crs(gdf, coordinate_system, out_crs)
            for part_name, part in _shapefile_parts(name, ll):
                cols = [c for c in part.columns if c != part.geometry.name]
                mapping = shapefile_field_names(cols)
                renamed = _gdal_ready(part).rename(columns=mapping)
                renamed, gtype = _promote_multi(renamed)
                cut: dict[str, int] = {}
                for c in cols:
                    s = renamed[mapping[c]]
                    if pd.api.types.is_datetime64_any_dtype(s.dtype):
                        renamed[mapping[c]] = s.astype(str)
                    renamed[mapping[c]], cut[c] = _fit_dbf_text(renamed[mapping[c]])
                    if cut[c]:
                        log.warning(
                            "Shapefile %s: %d values of %s longer than %d bytes cut "
                            "(the GeoPackage and GeoJSON hold them whole)",
                            *(part_name, cut[c], c, DBF_TEXT_BYTES),
                        )
                pyogrio.write_dataframe(
                    renamed,
                    tmp / f"{part_name}.shp",
                    driver="ESRI Shapefile",
                    geometry_type=gtype or "Unknown",
                    encoding="UTF-8",
                )
                rows += [
                    {"layer": part_name, "column": c, "field": mapping[c], "cut": str(cut[c])}
                    for c in cols
                ]
                written.append(out_dir / f"{part_name}.shp")
        for p in tmp.glob("*.cpg"):  # GDAL writes "UTF-8"; make sure of it
            p.write_text("UTF-8", encoding="ascii")
        _csv_to(pd.DataFrame(rows, columns=["layer", "column", "field", "cut"]), tmp / "fields.csv")
        if coordinate_system == "gcj02":
            (tmp / "COORDINATES.txt").write_text(
                "coordinate_system: GCJ-02\n" + GCJ02_NOTE + "\n", encoding="utf-8"
            )
    written.append(out_dir / "fields.csv")
    log.info("wrote %d Shapefiles to %s", len(written) - 1, out_dir)
    return written


def read_fields_csv(folder: str | Path) -> dict[str, dict[str, str]]:
    """Read ``fields.csv`` back: layer -> {Shapefile field: original column}."""
    df = pd.read_csv(Path(folder) / "fields.csv", encoding="utf-8-sig", dtype=str)
    out: dict[str, dict[str, str]] = {}
    for layer, column, field in df[["layer", "column", "field"]].itertuples(index=False):
        out.setdefault(unquote_cell(str(layer)), {})[unquote_cell(str(field))] = unquote_cell(
            str(column)
        )
    return out


# ---------------------------------------------------------------------------------------
# CSV and xlsx, safe from formula injection

#: A cell whose text starts with one of these is taken by Excel, LibreOffice and Google
#: Sheets for a formula (OWASP "CSV Injection"): written as text instead.
FORMULA_START: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def _text_mask(s: pd.Series) -> pd.Series:
    """True where ``s`` holds text that a spreadsheet would read as a formula."""
    if not (s.dtype == object or isinstance(s.dtype, pd.StringDtype)):
        return pd.Series(False, index=s.index)  # numbers stay numbers, -2 included
    if pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
        return s.str.startswith(FORMULA_START, na=False).astype(bool)
    # an object column may hold no text at all (True/False and missing cells of a
    # table concatenated from several streets): only its text cells are looked at
    is_text = s.map(lambda v: isinstance(v, str)).astype(bool)
    text = s.where(is_text, "").astype(str)
    return is_text & text.str.startswith(FORMULA_START)


def formula_safe(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every text cell (and column name) that starts with ``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return prefixed with a single quote.

    OWASP's advice for CSV files: a spreadsheet then shows the text and runs
    nothing. Numeric columns are left alone (a negative number stays a number);
    so is text that starts otherwise. The input is not changed.

    Examples
    --------
    >>> formula_safe(pd.DataFrame({"name": ["=1+1", "ok"], "n": [-2, 3]}))
        name  n
    0  '=1+1 -2
    1     ok  3
    """
    out = df.copy()
    for c in out.columns:
        mask = _text_mask(out[c])
        if mask.any():
            out[c] = out[c].where(~mask, "'" + out[c].astype(object).where(mask, ""))
    return out.rename(columns=lambda c: f"'{c}" if str(c).startswith(FORMULA_START) else c)


def unquote_cell(text: str) -> str:
    """Undo :func:`formula_safe` on one cell read back from a planner CSV."""
    if text.startswith("'") and text[1:].startswith(FORMULA_START):
        return text[1:]
    return text


def _csv_to(plain: pd.DataFrame, path: Path) -> None:
    """Write a plain table as UTF-8 CSV with a BOM, formula-safe.

    Rows end in CRLF (RFC 4180): Python's CSV writer then quotes every cell holding
    a carriage return or a line feed, so such text stays one cell (with ``\n`` line
    ends a bare carriage return went out unquoted and split the row).
    """
    formula_safe(plain).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")


def _plain_table(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` without its geometry columns (a table, not a layer)."""
    plain = pd.DataFrame(df)
    geom_cols = [c for c in plain.columns if isinstance(plain[c].dtype, gpd.array.GeometryDtype)]
    return plain.drop(columns=geom_cols)


def write_csv(df: pd.DataFrame, path: str | Path, *, float_decimals: int | None = None) -> Path:
    """Write a table as CSV in UTF-8 with a byte-order mark (Excel reads Chinese right),
    rows ending in CRLF (RFC 4180).

    Geometry columns are dropped (a table, not a layer); the index is not written.
    ``float_decimals`` rounds float columns for readability (None keeps them).
    Text that a spreadsheet would run as a formula is prefixed with ``'``
    (:func:`formula_safe`).
    """
    plain = _plain_table(df)
    if float_decimals is not None:
        floats = plain.select_dtypes("float").columns
        plain[floats] = plain[floats].round(float_decimals)
    with atomic_path(path) as tmp:
        _csv_to(plain, tmp)
    return Path(path)


def _sheet_title(name: str, used: set[str]) -> str:
    """``name`` cut to Excel's 31 characters, made unique (case-insensitively)."""
    title = name[:31]
    i = 1
    while title.lower() in used:
        i += 1
        title = f"{name[: 31 - len(str(i)) - 1]}_{i}"
    used.add(title.lower())
    return title


def _cell_value(v: object) -> object:
    return json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v


def _fill_sheet(ws: Any, plain: pd.DataFrame) -> None:
    """Header and rows of one sheet; formula-like text typed as text cells."""
    from openpyxl.styles import Font

    ws.append([str(c) for c in plain.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    columns = [_column_values(plain[c]) for c in plain.columns]
    for row in zip(*columns, strict=True):
        ws.append([_cell_value(v) for v in row])
    for j, (c, values) in enumerate(zip(plain.columns, columns, strict=True), start=1):
        if any(isinstance(v, str) and v.startswith(FORMULA_START) for v in [str(c), *values]):
            for cell in next(ws.iter_cols(min_col=j, max_col=j)):
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
                    cell.data_type = "s"  # openpyxl would store "=..." as a formula
                    cell.quotePrefix = True  # Excel keeps it text when edited
        width = max([len(str(c))] + [len(str(v)) for v in plain[c].head(200)]) + 2
        ws.column_dimensions[ws.cell(row=1, column=j).column_letter].width = min(width, 40)


def write_xlsx(tables: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write tables as sheets of one Excel workbook, atomically.

    For people who open tables in Excel: a CSV's 20-digit grid code becomes a number
    there and loses its last digits (Excel keeps 15), while text cells in a workbook
    keep every digit. Ids and codes are written as text, numbers as numbers, with a
    bold, frozen header row. Sheet names are cut to Excel's 31 characters. Text that
    starts like a formula (:data:`FORMULA_START`) is stored as a text cell with
    Excel's quote prefix, never as a formula.
    """
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for name, df in tables.items():
        ws = wb.create_sheet(_sheet_title(name, used))
        _fill_sheet(ws, _plain_table(df))
    if not wb.sheetnames:
        wb.create_sheet("empty")
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return Path(path)


def points_lonlat(
    gdf: gpd.GeoDataFrame,
    *,
    coordinate_system: CoordinateSystem = "wgs84",
    precision: int = 7,
    prefix: str = "",
) -> pd.DataFrame:
    """A table of ``gdf`` with ``lon``/``lat`` columns for its representative points.

    Representative points lie inside polygons (unlike centroids of odd shapes).
    Coordinates are degrees in ``coordinate_system``, rounded to ``precision``.
    """
    if len(gdf) == 0:
        out = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        out[f"{prefix}lon"] = pd.Series(dtype="float64")
        out[f"{prefix}lat"] = pd.Series(dtype="float64")
        return out
    reps = gdf.set_geometry(gdf.geometry.representative_point())
    ll = to_lonlat(reps, coordinate_system=coordinate_system)
    out = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    out[f"{prefix}lon"] = np.round(ll.geometry.x.to_numpy(), precision)
    out[f"{prefix}lat"] = np.round(ll.geometry.y.to_numpy(), precision)
    return out


# ---------------------------------------------------------------------------------------
# Everything at once

ExportFormat = Literal["geojson", "gpkg", "shp", "csv", "xlsx"]
ALL_FORMATS: tuple[ExportFormat, ...] = ("geojson", "gpkg", "shp", "csv", "xlsx")


def export_all(
    out_dir: str | Path,
    *,
    layers: Mapping[str, gpd.GeoDataFrame],
    tables: Mapping[str, pd.DataFrame] | None = None,
    formats: Sequence[ExportFormat] = ALL_FORMATS,
    coordinate_system: CoordinateSystem = "wgs84",
    precision: int = 7,
    gpkg_name: str = "planner.gpkg",
    metadata: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
    out_crs: CRS | None = None,
) -> list[Path]:
    """Write layers and tables in every requested format into ``out_dir``.

    Layout: ``<layer>.geojson`` and ``<table>.csv`` in ``out_dir``, every table again
    as a sheet of ``tables.xlsx``, the GeoPackage ``gpkg_name`` there too, and
    Shapefiles under ``out_dir/shapefile/``.
    ``progress`` is called with the name of each file about to be written.
    ``out_crs`` (the city's survey CRS, ``--out-crs``): the GeoPackage and Shapefiles
    are written in it, and every table with ``lon``/``lat`` gains ``x``/``y`` in it
    (:func:`with_survey_xy`); GeoJSON stays WGS84 (RFC 7946).

    Returns
    -------
    list of pathlib.Path
        Every file written, in order.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    unknown = sorted(set(formats) - set(ALL_FORMATS))
    if unknown:
        raise InputError(f"unknown export format(s) {unknown}", fix=f"use {', '.join(ALL_FORMATS)}")
    check_out_crs(coordinate_system, out_crs)
    tables = {k: with_survey_xy(v, out_crs) for k, v in (tables or {}).items()}
    tick = progress or (lambda _name: None)
    written: list[Path] = []
    if "geojson" in formats:
        for name, gdf in layers.items():
            tick(f"{name}.geojson")
            written.append(
                write_geojson(
                    gdf,
                    out / f"{name}.geojson",
                    precision=precision,
                    coordinate_system=coordinate_system,
                    name=name,
                    metadata=metadata,
                )
            )
    if "csv" in formats:
        for name, df in (tables or {}).items():
            tick(f"{name}.csv")
            written.append(write_csv(df, out / f"{name}.csv"))
    if "xlsx" in formats and tables:
        tick("tables.xlsx")
        written.append(write_xlsx(tables, out / "tables.xlsx"))
    if "gpkg" in formats:
        tick(gpkg_name)
        written.append(
            write_geopackage(
                out / gpkg_name,
                layers=layers,
                tables=tables,
                coordinate_system=coordinate_system,
                metadata=metadata,
                out_crs=out_crs,
            )
        )
    if "shp" in formats:
        tick("shapefile/")
        written += write_shapefiles(
            out / "shapefile",
            layers=layers,
            coordinate_system=coordinate_system,
            out_crs=out_crs,
        )
    return written


__all__ = [
    "ALL_FORMATS",
    "FIELD_ABBREVIATIONS",
    "FORMULA_START",
    "GCJ02_NOTE",
    "CoordinateSystem",
    "check_out_crs",
    "export_all",
    "formula_safe",
    "points_lonlat",
    "read_fields_csv",
    "rfc7946_geometries",
    "shapefile_field_names",
    "to_geojson_text",
    "to_lonlat",
    "unquote_cell",
    "with_survey_xy",
    "write_csv",
    "write_geojson",
    "write_geopackage",
    "write_shapefiles",
    "write_xlsx",
]
