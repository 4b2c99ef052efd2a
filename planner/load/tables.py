"""Tables planners keep: CSV (UTF-8 or GBK) and Excel workbooks, and point layers from them.

:func:`read_table` returns every cell as text with the spreadsheet's row numbers, so
messages name the row a planner sees. A workbook is read from the sheet holding the
table (the first sheet whose top rows name two known columns), and the load report says
which sheet was read when there are several; cells merged over several rows (a compound
name over its buildings' rows) are filled down, and said so. Text cells lose control
characters and are cut to :data:`planner.load.validate.MAX_TEXT_CHARS`.

Encodings: CSV files are read as UTF-8 (with or without a byte-order mark) and
otherwise as GBK/GB18030, the encodings Chinese spreadsheets are saved in.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from planner.crs import WGS84, PointCRS, to_wgs84
from planner.errors import ProblemLog
from planner.i18n import msg
from planner.load import validate

#: Rows searched for a header below a title.
HEADER_ROWS = 10

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
    names: Chinese registers often carry a title row above the header; in a workbook
    the sheet holding such a header is read (see :func:`read_workbook`).

    Returns ``None`` (with a problem logged) when the file cannot be read.
    """
    suffix = path.suffix.lower()
    names = frozenset(header_names or ())
    raw: pd.DataFrame | None
    try:
        if suffix in (".xlsx", ".xlsm"):
            raw = read_workbook(path, header_names=names, problems=problems)
        elif suffix in (".csv", ".txt"):
            raw = _read_csv_cells(path, problems=problems)
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
    if raw is None:
        return None
    raw = raw.dropna(how="all")
    if raw.empty:
        return pd.DataFrame()
    table = _below_header(raw, names)
    rows = pd.Series([f"row {i}" for i in table.index], index=table.index)
    return validate.clean_text(table, ids=rows, file=str(path), problems=problems)


def _read_csv_cells(path: Path, *, problems: ProblemLog) -> pd.DataFrame | None:
    """Every cell of a CSV as text (index = spreadsheet row number), encoding detected."""
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
    raw.index = raw.index + 1  # spreadsheet row numbers
    return raw


def _header_at(raw: pd.DataFrame, names: frozenset[str]) -> int | None:
    """Position of the first of the top rows naming two of ``names`` (None if none)."""
    for k in range(min(HEADER_ROWS, len(raw))):
        cells = {normalise_text(v) for v in raw.iloc[k].dropna()}
        if len(cells & names) >= 2:
            return k
    return None


def _below_header(raw: pd.DataFrame, names: frozenset[str]) -> pd.DataFrame:
    """The rows below the header, with the header's (NFKC-normalised) column names."""
    header_at = (_header_at(raw, names) if names else None) or 0
    header = raw.iloc[header_at]
    columns = [
        unicodedata.normalize("NFKC", str(c)).strip() if pd.notna(c) else f"column{j + 1}"
        for j, c in enumerate(header)
    ]
    table = raw.iloc[header_at + 1 :].copy()
    table.columns = columns
    return table


@dataclass(frozen=True)
class Sheet:
    """One worksheet's cells as text (index = row number) and what was filled in.

    ``merged_down`` lists the ranges merged over several rows whose value was copied
    into every cell (e.g. ``"A3:A12"``).
    """

    title: str
    cells: pd.DataFrame
    merged_down: list[str]


def read_workbook(
    path: Path, *, header_names: frozenset[str], problems: ProblemLog
) -> pd.DataFrame:
    """The cells of the sheet holding the table, as text, merged cells filled in.

    The sheet read is the first whose top rows name two of ``header_names`` (else the
    first sheet with any cells). When the workbook has several sheets, a warning says
    which one was read and lists the others; cells merged over several rows are a
    repair note naming the ranges.
    """
    import openpyxl

    wb = openpyxl.load_workbook(path, data_only=True)
    try:
        sheets = [_sheet(ws) for ws in wb.worksheets]
    finally:
        wb.close()
    chosen = _choose_sheet(sheets, header_names)
    if len(sheets) > 1:
        others = ", ".join(f"'{s.title}'" for s in sheets if s is not chosen)
        why = msg(
            "note_sheet_has_header"
            if header_names and _header_at(chosen.cells.dropna(how="all"), header_names) is not None
            else "note_sheet_no_header"
        )
        problems.add(
            msg("note_sheets", n=len(sheets), sheet=chosen.title, why=why, others=others),
            file=str(path),
            fix=msg("note_fix_one_sheet"),
            severity="warning",
        )
    if chosen.merged_down:
        problems.add(
            msg(
                "note_merged_cells",
                n=len(chosen.merged_down),
                ids=validate.id_message(chosen.merged_down),
            ),
            file=str(path),
            fix=msg("note_fix_merged_cells"),
            severity="repair",
        )
    return chosen.cells


def _choose_sheet(sheets: list[Sheet], header_names: frozenset[str]) -> Sheet:
    for sheet in sheets:
        if header_names and _header_at(sheet.cells.dropna(how="all"), header_names) is not None:
            return sheet
    filled = [s for s in sheets if s.cells.notna().any().any()]
    return (filled or sheets)[0]


def _sheet(ws: object) -> Sheet:
    """A worksheet's values as text, each merged range's value copied into its cells."""
    from openpyxl.worksheet.worksheet import Worksheet

    assert isinstance(ws, Worksheet)
    rows = [list(r) for r in ws.iter_rows(min_row=1, min_col=1, values_only=True)]
    merged_down: list[str] = []
    for rng in ws.merged_cells.ranges:
        r0, c0, r1, c1 = rng.min_row - 1, rng.min_col - 1, rng.max_row - 1, rng.max_col - 1
        value = rows[r0][c0] if r0 < len(rows) and c0 < len(rows[r0]) else None
        for r in range(r0, min(r1, len(rows) - 1) + 1):
            for c in range(c0, min(c1, len(rows[r]) - 1) + 1):
                rows[r][c] = value
        if r1 > r0 and value is not None:
            merged_down.append(rng.coord)
    cells = pd.DataFrame([[_cell_text(v) for v in r] for r in rows], dtype=object)
    cells.index = cells.index + 1  # spreadsheet row numbers
    return Sheet(title=str(ws.title), cells=cells, merged_down=merged_down)


def _cell_text(value: object) -> object:
    """A cell as pandas' ``read_excel(dtype=str)`` gives it (integral floats without .0)."""
    if value is None:
        return np.nan
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def find_column(columns: Iterable[object], names: frozenset[str] | set[str]) -> str | None:
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
    Tencent) or BD-09 (Baidu). Every bad coordinate is reported in one pass.
    """
    table = read_table(path, problems=problems, header_names=LON_NAMES | LAT_NAMES)
    if table is None:
        return None
    lon_col = find_column(table.columns, LON_NAMES)
    lat_col = find_column(table.columns, LAT_NAMES)
    if lon_col is None or lat_col is None:
        problems.add(
            msg("err_no_lonlat_columns", found=[str(c) for c in table.columns]),
            file=str(path),
            field="longitude" if lon_col is None else "latitude",
            fix=msg("err_fix_lonlat_columns"),
        )
        return None
    id_col = f"{layer[:-1]}_id" if layer.endswith("s") else f"{layer}_id"
    table = _point_columns(table, id_col)
    rows = pd.Series([f"row {i}" for i in table.index], index=table.index)
    ids = (
        table[id_col].fillna("").astype(str).where(table[id_col].notna(), rows)
        if id_col in table.columns
        else rows
    )
    coords = _coordinates(table, (lon_col, lat_col), ids=ids, file=str(path), problems=problems)
    if coords is None:
        return None
    wlon, wlat = to_wgs84(coords[0], coords[1], points_crs)
    attrs = table.drop(columns=[lon_col, lat_col])
    return gpd.GeoDataFrame(attrs, geometry=gpd.points_from_xy(wlon, wlat), crs=WGS84)


def _point_columns(table: pd.DataFrame, id_col: str) -> pd.DataFrame:
    """Columns renamed from their Chinese (or other) names (:data:`POINT_COLUMN_ALIASES`)."""
    rename: dict[str, str] = {}
    for col in table.columns:
        target = POINT_COLUMN_ALIASES.get(normalise_text(col), "").replace("{id}", id_col)
        if target and target not in table.columns and target not in rename.values():
            rename[str(col)] = target
    return table.rename(columns=rename)


def _coordinates(
    table: pd.DataFrame,
    columns: tuple[str, str],
    *,
    ids: pd.Series,
    file: str,
    problems: ProblemLog,
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """Longitude and latitude in degrees, or None with every problem logged: empty or
    non-numeric cells, swapped columns, values that are no degrees (``inf``, 1e999)."""
    lon_col, lat_col = columns
    lon = pd.to_numeric(table[lon_col].str.strip(), errors="coerce")
    lat = pd.to_numeric(table[lat_col].str.strip(), errors="coerce")
    missing = (lon.isna() | lat.isna()).to_numpy()
    for i in np.flatnonzero(missing)[: validate.MAX_IDS]:
        col = lon_col if pd.isna(lon.iloc[i]) else lat_col
        cell = table[col].iloc[i]
        empty = (
            cell is None or (isinstance(cell, float) and np.isnan(cell)) or not str(cell).strip()
        )
        problems.add(
            msg("err_coord_empty") if empty else msg("err_coord_not_number", cell=cell),
            file=file,
            feature_id=ids.iloc[i],
            field=col,
            fix=msg("err_fix_decimal_degrees"),
        )
    x, y = lon.to_numpy(dtype="float64"), lat.to_numpy(dtype="float64")
    finite = ~missing & np.isfinite(x) & np.isfinite(y)
    if finite.any() and validate.lonlat_swapped(x[finite], y[finite]):
        problems.add(
            msg(
                "err_lonlat_columns_swapped",
                lon=lon_col,
                x=x[finite][0],
                lat=lat_col,
                y=y[finite][0],
            ),
            file=file,
            field=f"{lon_col}/{lat_col}",
            fix=msg("err_fix_swap_columns"),
        )
        return None
    out_of_range = ~missing & ((np.abs(x) > 180) | (np.abs(y) > 90) | ~np.isfinite(x + y))
    for i in np.flatnonzero(out_of_range)[: validate.MAX_IDS]:
        problems.add(
            msg("err_coord_not_degrees", lon=lon.iloc[i], lat=lat.iloc[i]),
            file=file,
            feature_id=ids.iloc[i],
            field=f"{lon_col}/{lat_col}",
            fix=msg("err_fix_degrees"),
        )
    n_bad = int(missing.sum() + out_of_range.sum())
    if n_bad > validate.MAX_IDS:
        problems.add(
            msg("err_coords_bad_total", n=n_bad),
            file=file,
            field=f"{lon_col}/{lat_col}",
            fix=msg("err_fix_degrees_every_row"),
        )
    return None if n_bad else (x, y)
