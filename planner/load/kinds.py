"""Station kinds as registers write them: the catalogue, a user's mapping file, ``other``.

A stations file's ``kind`` column holds whatever the register says: a catalogue key
(``community_station``), its Chinese or English name (社区党群服务站), a common other
spelling (党群服务站, 党建服务站, ...; :data:`planner.schema.STATION_KIND_ALIASES`), or a
name of the user's own, mapped to a kind by a mapping file (:func:`read_kinds_file`: a
CSV/Excel table, or a YAML file read by :func:`read_kinds_yaml`).
Anything else is kept as kind ``other`` with its text (the ``kind_text`` column) and
one warning lists those stations: a register is never refused for a kind.

Matching ignores case, spaces and full-width forms (:func:`planner.load.tables.normalise_text`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from planner import schema
from planner.errors import ProblemLog
from planner.load.tables import detect_encoding, normalise_text, read_table

#: Header names of a mapping file's two columns (normalised): the text, and its kind.
TEXT_COLUMNS: frozenset[str] = frozenset(
    {"text", "original", "kind_text", "name", "原文", "原类型", "原始类型", "原名称", "名称"}
)
KIND_COLUMNS: frozenset[str] = frozenset(
    {"kind", "maps_to", "station_kind", "类型", "标准类型", "对应类型", "归类", "站点类型"}
)
#: File name endings of a YAML mapping file.
YAML_SUFFIXES: tuple[str, ...] = (".yaml", ".yml")
#: File name endings a mapping file may have.
KINDS_FILE_SUFFIXES: tuple[str, ...] = (".csv", ".txt", ".xlsx", *YAML_SUFFIXES)
#: Example of a YAML mapping file, shown in error messages.
YAML_EXAMPLE = "社区食堂: neighbourhood_centre  (or  elderly_day_care: [老年食堂, 托老所])"


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
    """A user's mapping of station-kind texts to catalogue kinds, from a CSV/Excel table
    (or a YAML file: ``.yaml``/``.yml``, :func:`read_kinds_yaml`).

    Two columns: the text as registers write it (``text``/``原文``/``名称``) and the kind
    it means (``kind``/``类型``/``归类``): a catalogue key, or its Chinese or English
    name. Blank rows are skipped. Problems (no such columns, a kind not in the
    catalogue) are logged naming the file, the row and the field.

    Returns
    -------
    dict
        Text -> kind key (empty when the file could not be used).
    """
    if path.suffix.lower() in YAML_SUFFIXES:
        return read_kinds_yaml(path, problems=problems)
    spec = MappingSpec(
        what="station-kinds",
        kind_columns=KIND_COLUMNS,
        kind_field="kind",
        target="station kind",
        columns_fix="name the columns text,kind (or 原文,类型): one row per spelling, "
        "e.g. 社区食堂,neighbourhood_centre",
        lookup=catalogue_lookup(),
        valid=_kind_names(),
    )
    return read_mapping_table(path, spec, problems=problems)


@dataclass(frozen=True)
class MappingSpec:
    """What a two-column mapping table (text -> kind key) maps to, for
    :func:`read_mapping_table`.

    Attributes
    ----------
    what
        The file's name in messages (``station-kinds`` -> "a station-kinds file ...").
    kind_columns
        Header names (normalised) of the kind column.
    kind_field
        The kind column's canonical name, named when it is missing.
    target
        What a kind is, in messages ("station kind", "service kind").
    columns_fix
        The fix offered when a column is missing.
    lookup
        Normalised text -> kind key (the catalogue's names, aliases).
    valid
        The kinds to choose from, for messages.
    """

    what: str
    kind_columns: frozenset[str]
    kind_field: str
    target: str
    columns_fix: str
    lookup: Mapping[str, str]
    valid: str


def read_mapping_table(path: Path, spec: MappingSpec, *, problems: ProblemLog) -> dict[str, str]:
    """A CSV/Excel mapping table as text -> kind key: the text column (``text``/``原文``/
    ``名称``, :data:`TEXT_COLUMNS`) and the kind column (``spec.kind_columns``).

    One reader for every mapping file (station kinds here, service kinds in
    :func:`planner.coverage.service_kinds.read_service_kinds_file`). Blank rows are
    skipped; a missing column, or a row's kind that ``spec.lookup`` does not know, is
    logged naming the file, the row and the field, with the kinds to choose from.
    Returns an empty mapping when the file could not be used.
    """
    table = read_table(path, problems=problems, header_names=TEXT_COLUMNS | spec.kind_columns)
    if table is None:
        return {}
    cols = {normalise_text(c): c for c in table.columns}
    text_col = next((cols[c] for c in cols if c in TEXT_COLUMNS), None)
    kind_col = next((cols[c] for c in cols if c in spec.kind_columns and cols[c] != text_col), None)
    if text_col is None or kind_col is None:
        problems.add(
            f"a {spec.what} file needs two columns, the text and its "
            f"{spec.kind_field.replace('_', ' ')} "
            f"(found: {', '.join(map(str, table.columns)) or 'none'})",
            file=str(path),
            field="text" if text_col is None else spec.kind_field,
            fix=spec.columns_fix,
        )
        return {}
    out: dict[str, str] = {}
    for row, text, target in zip(table.index, table[text_col], table[kind_col], strict=True):
        t = "" if pd.isna(text) else str(text).strip()
        if not t:
            continue
        key = spec.lookup.get(normalise_text(target))
        if key is None:
            problems.add(
                f"row {row}: {t!r} is mapped to {str(target)!r}, which is not a {spec.target}",
                file=str(path),
                feature_id=f"row {row}",
                field=kind_col,
                fix=f"use one of: {spec.valid}",
            )
            continue
        out[t] = key
    return out


def _kind_names() -> str:
    """The catalogue's kinds as ``key (中文名)``, for messages."""
    return ", ".join(f"{k} ({zh})" for k, (zh, _en) in schema.STATION_KINDS.items())


def read_kinds_yaml(path: Path, *, problems: ProblemLog) -> dict[str, str]:
    """A station-kinds mapping from a YAML file (UTF-8 or GBK).

    The file is one mapping whose entries are either ``text: kind`` (the text as
    registers write it, and the kind it means: a catalogue key or its Chinese or
    English name) or ``kind: [text, text, ...]`` (a kind and every spelling of it)::

        社区食堂: neighbourhood_centre
        elderly_day_care: [老年食堂, 托老所]

    Problems (a syntax error, a kind not in the catalogue, an entry that is neither
    form, one text given two kinds) are logged naming the file, the line (1-based) and
    the field (``text`` or ``kind``); the entries that are right are still returned.

    Returns
    -------
    dict
        Text -> kind key (empty when the file could not be used).
    """
    root = _yaml_root(path, problems=problems)
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        problems.add(
            f"line {root.start_mark.line + 1}: a station-kinds YAML file must be one mapping "
            f"of texts to kinds, not a {_yaml_shape(root)}",
            file=str(path),
            feature_id=f"line {root.start_mark.line + 1}",
            field="text",
            fix=f"write one entry per line, e.g. {YAML_EXAMPLE}",
        )
        return {}
    entries = _YamlEntries(path, problems)
    for key, value in root.value:
        entries.add(key, value)
    return entries.mapping


def _yaml_root(path: Path, *, problems: ProblemLog) -> yaml.Node | None:
    """The YAML file's node tree (None, with the problem logged, when it cannot be read
    or holds nothing). Composed, not loaded: every node keeps its line, and no value
    is turned into a number or a date."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        problems.add("file not found", file=str(path), fix="check the path")
        return None
    try:
        text = data.decode(detect_encoding(data))
    except UnicodeDecodeError:
        problems.add(
            "the file is neither UTF-8 nor GBK text",
            file=str(path),
            fix="save it as UTF-8 text",
        )
        return None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = "" if mark is None else f"line {mark.line + 1}, column {mark.column + 1}: "
        problems.add(
            f"{line}not valid YAML: {exc.problem or exc.context}",
            file=str(path),
            feature_id=None if mark is None else f"line {mark.line + 1}",
            fix=f"write one entry per line, e.g. {YAML_EXAMPLE}; quote texts holding ':' or '#'",
        )
        return None
    except yaml.YAMLError as exc:
        problems.add(f"not valid YAML: {exc}", file=str(path), fix=f"e.g. {YAML_EXAMPLE}")
        return None
    if root is None:
        problems.add(
            "the station-kinds file holds no entries",
            file=str(path),
            fix=f"write one entry per line, e.g. {YAML_EXAMPLE}",
        )
    return root


def _yaml_shape(node: yaml.Node) -> str:
    """What a YAML node is, in words."""
    if isinstance(node, yaml.MappingNode):
        return "mapping"
    if isinstance(node, yaml.SequenceNode):
        return "list"
    return "blank value" if _blank(node) else f"single value {str(node.value)!r}"


def _blank(node: yaml.Node) -> bool:
    """A null or empty scalar."""
    return isinstance(node, yaml.ScalarNode) and (
        node.tag == "tag:yaml.org,2002:null" or not str(node.value).strip()
    )


class _YamlEntries:
    """The entries of a station-kinds YAML mapping, checked one by one; problems name
    the file, the line and the field."""

    def __init__(self, path: Path, problems: ProblemLog) -> None:
        self.path = path
        self.problems = problems
        self.lookup = catalogue_lookup()
        self.mapping: dict[str, str] = {}
        self._seen: dict[str, tuple[int, str]] = {}  # normalised text -> (line, kind)

    def add(self, key: yaml.Node, value: yaml.Node) -> None:
        """One entry: ``text: kind`` or ``kind: [texts]``."""
        line = key.start_mark.line + 1
        if not isinstance(key, yaml.ScalarNode) or _blank(key):
            self._problem(line, "text", f"an entry's name is a {_yaml_shape(key)}", "a text")
            return
        name = str(key.value).strip()
        if isinstance(value, yaml.SequenceNode):
            kind = self._kind(name, line, f"{name!r} heads a list of texts, so it must be a kind")
            if kind is None:
                return
            for item in value.value:
                if isinstance(item, yaml.ScalarNode) and not _blank(item):
                    self._put(str(item.value).strip(), kind, item.start_mark.line + 1)
                else:
                    self._problem(
                        item.start_mark.line + 1,
                        "text",
                        f"an item of {name!r}'s list is a {_yaml_shape(item)}",
                        "one text per item",
                    )
        elif isinstance(value, yaml.ScalarNode) and not _blank(value):
            target = str(value.value).strip()
            kind = self._kind(target, line, f"{name!r} is mapped to {target!r}")
            if kind:
                self._put(name, kind, line)
        else:
            self._problem(
                line,
                "kind",
                f"{name!r} is given a {_yaml_shape(value)}, not a kind",
                "a kind after the colon",
            )

    def _kind(self, text: str, line: int, what: str) -> str | None:
        """The catalogue kind ``text`` names (None, with the problem logged, if none)."""
        kind = self.lookup.get(normalise_text(text))
        if kind is None:
            self.problems.add(
                f"line {line}: {what}, which is not a station kind",
                file=str(self.path),
                feature_id=f"line {line}",
                field="kind",
                fix=f"use one of: {_kind_names()}",
            )
        return kind

    def _put(self, text: str, kind: str, line: int) -> None:
        """Map ``text`` to ``kind`` unless an earlier line gave it another kind."""
        norm = normalise_text(text)
        before_line, before_kind = self._seen.get(norm, (0, kind))
        if before_kind != kind:
            self._problem(
                line,
                "text",
                f"{text!r} is mapped to {kind}, but line {before_line} maps it to {before_kind}",
                "one kind per text (delete one of the two lines)",
            )
            return
        self._seen.setdefault(norm, (line, kind))
        self.mapping[text] = kind

    def _problem(self, line: int, field: str, what: str, want: str) -> None:
        self.problems.add(
            f"line {line}: {what}",
            file=str(self.path),
            feature_id=f"line {line}",
            field=field,
            fix=f"write {want}, e.g. {YAML_EXAMPLE}",
        )
