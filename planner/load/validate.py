"""Checks on loaded layers: each records its problems in a ProblemLog.

Every check names the file, the feature id, the field and the fix, and records
what it repaired (severity ``"repair"``) so the load report can say so. No check
raises: the loader raises once, with every problem, through
:meth:`planner.errors.ProblemLog.raise_if_errors`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray

from planner.errors import ProblemLog
from planner.i18n import ColumnName, Message, items, msg

#: Longitude/latitude box holding mainland China, Hong Kong, Macao and Taiwan, degrees.
CHINA_BOX: tuple[float, float, float, float] = (73.0, 17.0, 136.0, 54.0)

#: How many feature ids a single message lists before "... and N more".
MAX_IDS = 10

#: Text fields (names, addresses, ids) are cut to this many characters on load, with a
#: warning: a name of a million characters would otherwise be copied into every
#: building that station serves, every map popup and every table.
MAX_TEXT_CHARS = 200

#: Control characters removed from text on load: C0 (NUL, escape, bell, ...), DEL, C1,
#: and the invisible direction marks and overrides (U+200E/F, U+202A-E, U+2066-9) that
#: make text display differently from what it says. Tab, CR and LF become spaces.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_BLANKS = re.compile("[\t\r\n]")
_FLAGGED = re.compile(f"{_CONTROL.pattern}|{_BLANKS.pattern}")


@dataclass(frozen=True)
class Plausible:
    """Bounds beyond which a number in the input cannot be right (stated in the README).

    Attributes
    ----------
    households_per_building
        More households in one building is an error (the largest Chinese residential
        blocks hold a few thousand).
    residents_per_building
        More residents in one building is an error.
    households_per_register_row, residents_per_register_row
        More households (residents) in one register row, a building or a whole
        compound, is an error.
    floors
        More storeys is an error (the tallest buildings have about 160).
    height_m
        A taller building is an error, metres.
    floor_area_m2
        A station with more floor area is an error, m².
    floor_area_per_household_m2
        Less floor area per household (footprint × floors, m²) is warned about as
        implausible: even the smallest flats have more.
    """

    households_per_building: int = 5_000
    residents_per_building: int = 20_000
    households_per_register_row: int = 100_000
    residents_per_register_row: int = 400_000
    floors: int = 200
    height_m: float = 1_000.0
    floor_area_m2: float = 1_000_000.0
    floor_area_per_household_m2: float = 10.0


PLAUSIBLE = Plausible()


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


def short(value: object, limit: int = 60) -> str:
    """``value`` as text, cut to ``limit`` characters with an ellipsis (for messages)."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def id_list(ids: Sequence[object]) -> str:
    """``'a, b, c'`` with at most :data:`MAX_IDS` ids (each cut to 60 characters), then
    ``... and N more``."""
    shown = [short(i) for i in ids[:MAX_IDS]]
    more = len(ids) - len(shown)
    return ", ".join(shown) + (f" ... and {more} more" if more > 0 else "")


def id_message(ids: Sequence[object]) -> Message:
    """:func:`id_list` as a catalogue message (its ``... and N more`` in the reader's
    language); ``str()`` is exactly :func:`id_list`."""
    shown = [short(i) for i in ids[:MAX_IDS]]
    more = len(ids) - len(shown)
    if more > 0:
        return msg("note_ids_more", ids=shown, more=more)
    return msg("note_ids", ids=shown)


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
        kind_text = msg(f"geom_kind_{kind}")
        problems.add(
            msg(
                "err_wrong_geometry",
                n=len(bad),
                got=items(got, sep=("/", "/")),
                kind=kind_text,
                ids=id_message(bad),
            ),
            file=file,
            feature_id=bad[0],
            field="geometry",
            fix=msg("err_fix_wrong_geometry", kind=kind_text),
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
            msg("note_invalid_polygons", n=len(bad), ids=id_message(bad)),
            file=file,
            feature_id=bad[0],
            field="geometry",
            fix=msg("note_fix_check_repaired"),
            severity="repair",
        )
    zero = shapely.is_empty(geoms) | (shapely.area(geoms) <= 0.01)
    if zero.any():
        bad = ids[zero].tolist()
        problems.add(
            msg("note_zero_area", n=len(bad), ids=id_message(bad)),
            file=file,
            feature_id=bad[0],
            field="geometry",
            fix=msg("note_fix_redraw_polygons"),
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
            msg("err_duplicate_id", value=value, n=n),
            file=file,
            feature_id=value,
            field=field,
            fix=msg("err_fix_duplicate_id", field=ColumnName(field)),
        )


def numeric_column(
    gdf: pd.DataFrame,
    column: str,
    *,
    ids: pd.Series,
    file: str,
    problems: ProblemLog,
    minimum: float = 0.0,
    maximum: float | None = None,
    whole: bool = False,
) -> pd.Series:
    """``column`` as floats (NaN where blank); bad values are errors naming the feature.

    Errors: text that is not a number; a boolean (a spreadsheet's TRUE, a GeoPackage
    boolean field); ``inf``/``Infinity``; below ``minimum``; above ``maximum`` (an
    implausible value, see :data:`PLAUSIBLE`); not a whole number when ``whole``.
    """
    if column not in gdf.columns:
        return pd.Series(np.nan, index=gdf.index, dtype="float64")
    raw = gdf[column]
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        values = raw.astype("float64")
        text = raw.astype(str)
    else:
        values, text = _parse_numbers(
            raw, column, ids=ids, file=file, problems=problems, whole=whole
        )
    v = values.to_numpy(dtype="float64")
    finite = np.isfinite(v)
    checks: list[tuple[NDArray[np.bool_], str, str]] = [
        (np.isinf(v), "is not a finite number", "write a number"),
        (
            finite & (v < minimum),
            f"is below {minimum:g}",
            f"write a number of at least {minimum:g}",
        ),
    ]
    if maximum is not None:
        checks.append(
            (
                finite & (v > maximum),
                f"is implausible: more than {maximum:,.0f}",
                f"check the value (at most {maximum:,.0f} is plausible)",
            )
        )
    if whole:
        fractional = finite & (v != np.round(v))
        checks.append((fractional, "is not a whole number", "write a whole number"))
    for bad, what, fix in checks:
        _report_values(bad, what, fix, column, text, ids=ids, file=file, problems=problems)
    return values.astype("float64")


def _parse_numbers(
    raw: pd.Series,
    column: str,
    *,
    ids: pd.Series,
    file: str,
    problems: ProblemLog,
    whole: bool,
) -> tuple[pd.Series, pd.Series]:
    """Numbers from text cells (``1,200`` too); the text that is no number is reported."""
    text = raw.astype(object).where(raw.notna(), "").astype(str).str.strip()
    text = text.str.replace(",", "", regex=False)
    values = pd.to_numeric(text.where(text != "", None), errors="coerce")
    boolean = raw.map(lambda v: isinstance(v, bool | np.bool_)).astype(bool)
    values = values.where(~boolean, np.nan)
    blank = text.isin(["", "nan", "None", "<NA>"])
    bad = values.isna() & ~blank
    fix = msg("err_fix_whole_number" if whole else "err_fix_number")
    for i in np.flatnonzero(bad.to_numpy())[:MAX_IDS]:
        problems.add(
            msg(
                "err_yes_no_not_number" if boolean.iloc[i] else "err_not_number",
                column=ColumnName(column),
                value=text.iloc[i],
            ),
            file=file,
            feature_id=ids.iloc[i],
            field=column,
            fix=fix,
        )
    if bad.sum() > MAX_IDS:
        problems.add(
            msg("err_more_not_number", n=int(bad.sum()) - MAX_IDS, column=ColumnName(column)),
            file=file,
            field=column,
            fix=msg("err_fix_numbers_only"),
        )
    return values.astype("float64"), text


def _report_values(
    bad: NDArray[np.bool_],
    what: str,
    fix: str,
    column: str,
    text: pd.Series,
    *,
    ids: pd.Series,
    file: str,
    problems: ProblemLog,
) -> None:
    """One error per offending value (at most :data:`MAX_IDS`, then a count)."""
    rows = np.flatnonzero(bad)
    for i in rows[:MAX_IDS]:
        problems.add(
            f"{column} {text.iloc[i]} {what}",
            file=file,
            feature_id=ids.iloc[i],
            field=column,
            fix=f"{fix}, or leave it empty",
        )
    if len(rows) > MAX_IDS:
        problems.add(
            f"... and {len(rows) - MAX_IDS} more {column} values that {what.replace('is ', 'are ', 1)}",
            file=file,
            field=column,
            fix=fix,
        )


def clean_text(
    table: pd.DataFrame,
    *,
    ids: pd.Series | Callable[[], pd.Series],
    file: str,
    problems: ProblemLog,
) -> pd.DataFrame:
    """Text cells without control characters and at most :data:`MAX_TEXT_CHARS` long.

    Control characters (:data:`_CONTROL`: NUL, escape, direction overrides, ...) are
    removed and tab/CR/LF become spaces; longer text is cut. Each change is a warning
    naming the field and the features (``ids``, or a function making them, called only
    when something changed). Non-text cells and the geometry are untouched; the input is
    not modified.
    """
    out = table
    for col in table.columns:
        s = table[col]
        if s.dtype != object and not pd.api.types.is_string_dtype(s):
            continue
        try:
            controls = s.str.contains(_FLAGGED, regex=True, na=False).to_numpy(dtype=bool)
            long = (s.str.len() > MAX_TEXT_CHARS).to_numpy(dtype=bool)
        except AttributeError:  # no text in the column
            continue
        if not controls.any() and not long.any():
            continue
        if out is table:
            out = table.copy()
        text = s[controls | long].astype(str)
        fixed = text.str.replace(_CONTROL, "", regex=True).str.replace(_BLANKS, " ", regex=True)
        longest = int(fixed.str.len().max())
        out.loc[text.index, col] = fixed.str.slice(0, MAX_TEXT_CHARS)
        named = ids() if callable(ids) else ids
        _report_text(
            str(col),
            named[controls],
            longest,
            named[long],
            file=file,
            problems=problems,
        )
    return out


def _report_text(
    column: str,
    with_controls: pd.Series,
    longest: int,
    too_long: pd.Series,
    *,
    file: str,
    problems: ProblemLog,
) -> None:
    if len(with_controls):
        bad = with_controls.tolist()
        problems.add(
            msg("note_control_chars", n=len(bad), column=ColumnName(column), ids=id_message(bad)),
            file=file,
            feature_id=short(bad[0]),
            field=column,
            fix=msg("note_fix_plain_text"),
            severity="warning",
        )
    if len(too_long):
        bad = too_long.tolist()
        problems.add(
            msg(
                "note_too_long",
                n=len(bad),
                column=ColumnName(column),
                limit=MAX_TEXT_CHARS,
                longest=longest,
                ids=id_message(bad),
            ),
            file=file,
            feature_id=short(bad[0]),
            field=column,
            fix=msg("note_fix_shorten", limit=MAX_TEXT_CHARS),
            severity="warning",
        )


def clean_value(text: str) -> str:
    """One text with control characters removed and cut to :data:`MAX_TEXT_CHARS`."""
    return _BLANKS.sub(" ", _CONTROL.sub("", text))[:MAX_TEXT_CHARS]


def finite_coordinates(
    gdf: gpd.GeoDataFrame,
    *,
    ids: pd.Series | Callable[[], pd.Series],
    file: str,
    problems: ProblemLog,
) -> bool:
    """False (with an error naming the features) when a coordinate is NaN or infinite."""
    coords, idx = shapely.get_coordinates(gdf.geometry.to_numpy(), return_index=True)
    finite = np.isfinite(coords).all(axis=1)
    if finite.all():
        return True
    rows = np.unique(idx[~finite])
    bad = (ids() if callable(ids) else ids).iloc[rows].tolist()
    problems.add(
        f"{len(bad)} feature(s) have coordinates that are not finite numbers (NaN or "
        f"Infinity): {id_list(bad)}",
        file=file,
        feature_id=short(bad[0]),
        field="geometry",
        fix="correct or delete these features' coordinates in your GIS",
    )
    return False
