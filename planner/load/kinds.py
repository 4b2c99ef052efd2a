"""Station kinds as registers write them: the catalogue, a user's mapping file, ``other``.

A stations file's ``kind`` column holds whatever the register says: a catalogue key
(``community_station``), its Chinese or English name (社区党群服务站), a common other
spelling (党群服务站, 党建服务站, ...; :data:`planner.schema.STATION_KIND_ALIASES`), or a
name of the user's own, mapped to a kind by a mapping file (:func:`read_kinds_file`).
Anything else is kept as kind ``other`` with its text (the ``kind_text`` column) and
one warning lists those stations: a register is never refused for a kind.

Matching ignores case, spaces and full-width forms (:func:`planner.load.tables.normalise_text`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from planner import schema
from planner.errors import ProblemLog
from planner.load.tables import normalise_text, read_table

#: Header names of a mapping file's two columns (normalised): the text, and its kind.
TEXT_COLUMNS: frozenset[str] = frozenset(
    {"text", "original", "kind_text", "name", "原文", "原类型", "原始类型", "原名称", "名称"}
)
KIND_COLUMNS: frozenset[str] = frozenset(
    {"kind", "maps_to", "station_kind", "类型", "标准类型", "对应类型", "归类", "站点类型"}
)
#: File name endings a mapping file may have.
KINDS_FILE_SUFFIXES: tuple[str, ...] = (".csv", ".txt", ".xlsx")


def catalogue_lookup(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Normalised text -> kind key: the keys, the catalogue's names and aliases, and
    ``extra`` (a mapping file's text -> kind key, which wins)."""
    lookup = {k: k for k in schema.STATION_KINDS}
    lookup.update({normalise_text(a): k for a, k in schema.STATION_KIND_ALIASES.items()})
    lookup.update({normalise_text(a): k for a, k in (extra or {}).items()})
    return lookup


@dataclass(frozen=True)
class ResolvedKinds:
    """Station kinds resolved from a ``kind`` column.

    Attributes
    ----------
    kind
        A key of :data:`planner.schema.STATION_KINDS` per station (``other`` when unknown;
        ``community_station`` when blank).
    text
        The kind as the file wrote it (stripped).
    unknown
        True where the text matched no kind (kept as ``other``).
    """

    kind: pd.Series
    text: pd.Series
    unknown: pd.Series


def resolve_kinds(raw: pd.Series, lookup: Mapping[str, str]) -> ResolvedKinds:
    """Resolve the ``kind`` texts ``raw`` with ``lookup`` (:func:`catalogue_lookup`)."""
    text = raw.astype(object).where(raw.notna(), "").astype(str).str.strip()
    norm = text.map(normalise_text)
    kind = norm.map(lookup)
    blank = norm == ""
    unknown = kind.isna() & ~blank
    kind = kind.where(~blank, "community_station").fillna("other").astype(str)
    return ResolvedKinds(kind=kind, text=text, unknown=unknown)


def read_kinds_file(path: Path, *, problems: ProblemLog) -> dict[str, str]:
    """A user's mapping of station-kind texts to catalogue kinds, from a CSV/Excel table.

    Two columns: the text as registers write it (``text``/``原文``/``名称``) and the kind
    it means (``kind``/``类型``/``归类``): a catalogue key, or its Chinese or English
    name. Blank rows are skipped. Problems (no such columns, a kind not in the
    catalogue) are logged naming the file, the row and the field.

    Returns
    -------
    dict
        Text -> kind key (empty when the file could not be used).
    """
    table = read_table(path, problems=problems, header_names=TEXT_COLUMNS | KIND_COLUMNS)
    if table is None:
        return {}
    cols = {normalise_text(c): c for c in table.columns}
    text_col = next((cols[c] for c in cols if c in TEXT_COLUMNS), None)
    kind_col = next((cols[c] for c in cols if c in KIND_COLUMNS and cols[c] != text_col), None)
    if text_col is None or kind_col is None:
        problems.add(
            f"a station-kinds file needs two columns, the text and its kind "
            f"(found: {', '.join(map(str, table.columns)) or 'none'})",
            file=str(path),
            field="text" if text_col is None else "kind",
            fix="name the columns text,kind (or 原文,类型): one row per spelling, "
            "e.g. 社区食堂,neighbourhood_centre",
        )
        return {}
    return _mapping_rows(table, text_col, kind_col, path=path, problems=problems)


def _mapping_rows(
    table: pd.DataFrame, text_col: str, kind_col: str, *, path: Path, problems: ProblemLog
) -> dict[str, str]:
    """The rows of a mapping table as text -> kind key; bad kinds logged per row."""
    lookup = catalogue_lookup()
    out: dict[str, str] = {}
    valid = ", ".join(f"{k} ({zh})" for k, (zh, _en) in schema.STATION_KINDS.items())
    for row, text, target in zip(table.index, table[text_col], table[kind_col], strict=True):
        t = "" if pd.isna(text) else str(text).strip()
        if not t:
            continue
        key = lookup.get(normalise_text(target))
        if key is None:
            problems.add(
                f"row {row}: {t!r} is mapped to {str(target)!r}, which is not a station kind",
                file=str(path),
                feature_id=f"row {row}",
                field=kind_col,
                fix=f"use one of: {valid}",
            )
            continue
        out[t] = key
    return out
