"""Household register: join a planner's spreadsheet of households onto buildings.

Planners keep households (户数) and residents (人口) per building (楼栋) or per
compound (小区) in a spreadsheet: CSV in UTF-8 or GBK, or Excel ``.xlsx``. Rows
are keyed by id or by name/address; names are matched after normalising
full-width/half-width characters, whitespace and case.

Rules
-----
- A row with a building key (``楼栋编号``/``building_id``, else ``楼栋名称``/
  ``building_name``, optionally narrowed by its compound) sets that building's
  households and residents. Several rows for one building (e.g. one per unit,
  单元) are added up.
- A row with only a compound key (``小区编号``/``compound_id`` or ``小区名称``/
  ``compound_name``) is spread over the compound's residential buildings that
  have no row of their own, in proportion to floor area (footprint × floors, m²),
  rounded so the compound total is kept exactly.
- Rows that match nothing, or match several buildings, are listed with the reason;
  so are residential buildings the register does not cover (they keep the
  households of the buildings layer where it has them, else their households are
  estimated from floor area).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from planner.errors import ProblemLog
from planner.i18n import from_english, msg
from planner.load import validate
from planner.load.tables import normalise_text, read_table

log = logging.getLogger(__name__)

#: Accepted column names (normalised: NFKC, no spaces, lower case), by meaning.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "building_id": (
        "building_id",
        "buildingid",
        "楼栋编号",
        "楼栋id",
        "楼栋编码",
        "楼栋代码",
        "建筑编号",
        "建筑id",
    ),
    "building_name": (
        "building_name",
        "building",
        "楼栋名称",
        "楼栋",
        "楼栋名",
        "楼号",
        "楼栋地址",
        "地址",
        "address",
        "building_address",
    ),
    "compound_id": ("compound_id", "compoundid", "小区编号", "小区id", "小区编码", "小区代码"),
    "compound_name": ("compound_name", "compound", "小区名称", "小区", "小区名"),
    "households": (
        "households",
        "household",
        "户数",
        "总户数",
        "住户数",
        "户数(户)",
        "居民户数",
        "实有户数",
        "常住户数",
    ),
    "population": (
        "population",
        "residents",
        "常住人口",
        "人口",
        "人口数",
        "人数",
        "居民人数",
        "实有人口",
        "人口(人)",
        "户籍人口",
    ),
    # --- services: residents by age ("一老一小", issue 16); optional, whole residents ---
    "children_0_6": (
        "children_0_6",
        "children_under_6",
        "0-6岁",
        "0至6岁",
        "0-6岁儿童",
        "6岁以下",
        "6岁以下儿童",
        "学龄前儿童",
        "婴幼儿",
    ),
    "elderly_60": (
        "elderly_60",
        "over_60",
        "60岁以上",
        "60岁及以上",
        "60岁以上老人",
        "60岁及以上老人",
        "老年人",
    ),
    "elderly_80": ("elderly_80", "over_80", "80岁以上", "80岁及以上", "80岁以上老人", "高龄老人"),
    "elderly_alone": ("elderly_alone", "独居老人", "独居老人数", "空巢老人", "空巢独居老人"),
}

#: Register columns of residents by age group (optional; carried onto the buildings).
AGE_GROUPS: tuple[str, ...] = ("children_0_6", "elderly_60", "elderly_80", "elderly_alone")


#: Key cells that mark a total row of a register (normalised), skipped.
TOTAL_WORDS: frozenset[str] = frozenset({"合计", "总计", "小计", "total", "sum", "总数"})


@dataclass(frozen=True)
class UnmatchedRow:
    """A register row that sets no building: its spreadsheet row, key and the reason."""

    row: int
    key: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "key": self.key, "reason": self.reason}


@dataclass(frozen=True)
class RegisterReport:
    """What the join did, for the load report (:meth:`to_dict` is its ``register``).

    Attributes
    ----------
    file
        The register's path.
    rows, rows_matched
        Rows read (total rows skipped) and rows that set a building or compound.
    unmatched_rows
        Rows that match nothing, with the key as the user wrote it and the reason.
    unmatched_buildings
        Residential buildings the register says nothing about.
    buildings_registered, households_registered
        Buildings with registered households or residents; the households registered.
    """

    file: str
    rows: int
    rows_matched: int
    unmatched_rows: list[UnmatchedRow]
    unmatched_buildings: list[str]
    buildings_registered: int
    households_registered: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "rows": self.rows,
            "rows_matched": self.rows_matched,
            "unmatched_rows": [u.to_dict() for u in self.unmatched_rows],
            "unmatched_buildings": list(self.unmatched_buildings),
            "buildings_registered": self.buildings_registered,
            "households_registered": self.households_registered,
        }


@dataclass
class RegisterJoin:
    """Result of :func:`join_register`.

    Attributes
    ----------
    households
        Registered households per building (index of the buildings), NaN where the
        register says nothing.
    population
        Registered residents per building, NaN where unknown.
    report
        What the join matched and missed (:class:`RegisterReport`).
    """

    households: pd.Series
    population: pd.Series
    report: RegisterReport
    #: Residents of each age group of :data:`AGE_GROUPS` the register has, per building
    #: (columns: the groups given; NaN where the register says nothing).
    groups: pd.DataFrame = field(default_factory=pd.DataFrame)


def register_columns(table: pd.DataFrame) -> dict[str, str]:
    """Meaning -> column of ``table`` (first alias found, in the alias order)."""
    normal = {normalise_text(c): str(c) for c in table.columns}
    found: dict[str, str] = {}
    for meaning, aliases in COLUMN_ALIASES.items():
        for alias in aliases:
            if alias in normal:
                found[meaning] = normal[alias]
                break
    return found


#: Key columns, in the order the join uses the first one a row fills.
KEYS: tuple[str, ...] = ("building_id", "building_name", "compound_id", "compound_name")


def read_register(path: Path, *, problems: ProblemLog) -> pd.DataFrame | None:
    """The register as a table with the columns of :data:`COLUMN_ALIASES` (text/float).

    Columns: ``row`` (spreadsheet row number, header = row 1), ``building_id``,
    ``building_name``, ``compound_id``, ``compound_name`` (normalised text, '' if
    absent), ``label`` (the row's key as the user wrote it, for messages),
    ``households`` and ``population`` (floats, NaN if blank). Total rows are skipped.
    """
    all_names = {alias for aliases in COLUMN_ALIASES.values() for alias in aliases}
    table = read_table(path, problems=problems, header_names=all_names)
    if table is None:
        return None
    cols = register_columns(table)
    file = str(path)
    if not _has_columns(table, cols, file=file, problems=problems):
        return None
    total = _total_rows(table)
    if total.any():
        problems.add(
            msg(
                "note_total_rows",
                n=int(total.sum()),
                rows=[msg("note_row", row=r) for r in table.index[total]],
            ),
            file=file,
            fix=msg("note_fix_totals"),
            severity="repair",
        )
        table = table.loc[~total]
    out = _row_keys(table, cols)
    rows = pd.Series([f"row {i}" for i in table.index], index=table.index)
    bounds = {
        "households": validate.PLAUSIBLE.households_per_register_row,
        "population": validate.PLAUSIBLE.residents_per_register_row,
    }
    for group in AGE_GROUPS:
        if group in cols:
            bounds[group] = validate.PLAUSIBLE.residents_per_register_row
    for key, maximum in bounds.items():
        out[key] = (
            validate.numeric_column(
                table,
                cols[key],
                ids=rows,
                file=file,
                problems=problems,
                maximum=maximum,
                whole=key != "population",
            )
            if key in cols
            else np.nan
        )
    return out


def _has_columns(
    table: pd.DataFrame, cols: dict[str, str], *, file: str, problems: ProblemLog
) -> bool:
    """A count column and a key column are there (else errors listing the columns found)."""
    found = [str(c) for c in table.columns]
    ok = True
    if "households" not in cols and "population" not in cols:
        problems.add(
            msg("err_register_no_households", found=found),
            file=file,
            field="households",
            fix=msg("err_fix_register_households"),
        )
        ok = False
    if not any(k in cols for k in KEYS):
        problems.add(
            msg("err_register_no_key", found=found),
            file=file,
            fix=msg("err_fix_register_key"),
        )
        ok = False
    return ok


def _total_rows(table: pd.DataFrame) -> pd.Series:
    """Rows holding a total word (合计, 总计, 小计, total ...) in some cell."""
    cells = table.map(normalise_text)
    starts = cells.apply(lambda col: col.str.match(r"^(合计|总计|小计)"))
    totals: pd.Series = cells.isin(TOTAL_WORDS).any(axis=1) | starts.any(axis=1)
    return totals


def _row_keys(table: pd.DataFrame, cols: dict[str, str]) -> pd.DataFrame:
    """Row numbers, normalised keys, and the label (the first key as written)."""
    out = pd.DataFrame({"row": table.index.to_numpy(dtype=np.int64)}, index=table.index)
    out["label"] = ""
    for key in KEYS:
        out[key] = table[cols[key]].map(normalise_text) if key in cols else ""
        if key in cols:  # the first key in this order is the one the join uses
            raw = table[cols[key]].map(lambda v: "" if normalise_text(v) == "" else str(v).strip())
            out["label"] = out["label"].where(out["label"] != "", raw)
    return out


def _spread(total: float, weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """Split a whole ``total`` by ``weights`` into whole numbers summing to it."""
    w = np.where(weights > 0, weights, 0.0)
    if w.sum() <= 0:
        w = np.ones_like(w)
    raw = total * w / w.sum()
    base = np.floor(raw)
    rest = int(np.rint(total - base.sum()))
    if rest > 0:
        base[np.argsort(-(raw - base), kind="stable")[:rest]] += 1
    return np.asarray(base, dtype=np.float64)


@dataclass(frozen=True)
class _BuildingKeys:
    """What register rows are matched against, one entry per building (normalised text)."""

    ids: NDArray[np.object_]
    names: NDArray[np.object_]
    addresses: NDArray[np.object_]  # compound name + building name ("阳光小区1号楼")
    compound: NDArray[np.object_]  # compound_id ('' if none)
    residential: NDArray[np.bool_]
    floor_area_m2: NDArray[np.float64]  # footprint × floors (at least 1 floor)


@dataclass(frozen=True)
class _CompoundKeys:
    """The compounds' ids as given and normalised, and their normalised names."""

    ids: NDArray[np.object_]
    norm_ids: NDArray[np.object_]
    norm_names: NDArray[np.object_]

    def named_by(self, row: pd.Series) -> str | None:
        """The compound id a row names ('' = none named, None = named but unknown)."""
        if row["compound_id"]:
            hit = self.ids[self.norm_ids == row["compound_id"]]
        elif row["compound_name"]:
            hit = self.ids[self.norm_names == row["compound_name"]]
        else:
            return ""
        return str(hit[0]) if len(hit) == 1 else None


@dataclass
class _Tally:
    """Households and residents added up per building while the rows are read."""

    households: NDArray[np.float64]
    population: NDArray[np.float64]
    matched_rows: int = 0
    unmatched: list[UnmatchedRow] = field(default_factory=list)
    #: Residents per age group (:data:`AGE_GROUPS` the register has), per building.
    groups: dict[str, NDArray[np.float64]] = field(default_factory=dict)

    def add_groups(
        self, members: NDArray[np.intp], row: pd.Series, weights: NDArray[np.float64] | None
    ) -> None:
        """Add the row's age groups to ``members`` (spread by ``weights`` when several)."""
        for g, values in self.groups.items():
            v = float(row[g])
            if np.isnan(v):
                continue
            if weights is None:
                part = np.full(len(members), v)
            else:
                w = np.where(weights > 0, weights, 0.0)
                w = w if w.sum() > 0 else np.ones_like(w)
                part = v * w / w.sum()
            values[members] = np.nan_to_num(values[members]) + part

    def add(
        self,
        members: NDArray[np.intp],
        households: NDArray[np.float64] | float,
        population: NDArray[np.float64] | float,
    ) -> None:
        """Add to ``members``; NaN adds nothing (and leaves a building unregistered)."""
        hh = np.broadcast_to(np.asarray(households, dtype=np.float64), members.shape)
        pop = np.broadcast_to(np.asarray(population, dtype=np.float64), members.shape)
        given = ~np.isnan(hh)
        self.households[members[given]] = np.nan_to_num(self.households[members[given]]) + hh[given]
        given = ~np.isnan(pop)
        self.population[members[given]] = (
            np.nan_to_num(self.population[members[given]]) + pop[given]
        )


def _building_keys(buildings: gpd.GeoDataFrame, compounds: pd.DataFrame) -> _BuildingKeys:
    comp_name_of = dict(
        zip(
            compounds["compound_id"].astype(str), compounds["name"].map(normalise_text), strict=True
        )
    )
    comp = buildings["compound_id"].astype(str).to_numpy(dtype=object)
    names = buildings["name"].map(normalise_text).to_numpy(dtype=object)
    comp_names = np.array([comp_name_of.get(c, "") for c in comp], dtype=object)
    floors = np.maximum(pd.to_numeric(buildings["floors"], errors="coerce").fillna(1), 1)
    return _BuildingKeys(
        ids=buildings["building_id"].map(normalise_text).to_numpy(dtype=object),
        names=names,
        addresses=comp_names + names,
        compound=comp,
        residential=(buildings["kind"] == "residential").to_numpy(),
        floor_area_m2=buildings["footprint_m2"].to_numpy(dtype="float64") * floors.to_numpy(),
    )


def _compound_keys(compounds: pd.DataFrame) -> _CompoundKeys:
    ids = compounds["compound_id"].astype(str).to_numpy(dtype=object)
    return _CompoundKeys(
        ids=ids,
        norm_ids=np.array([normalise_text(c) for c in ids], dtype=object),
        norm_names=compounds["name"].map(normalise_text).to_numpy(dtype=object),
    )


def _building_of_row(
    row: pd.Series, keys: _BuildingKeys, comps: _CompoundKeys
) -> int | UnmatchedRow:
    """The one building a building row names, else why it matches none."""
    if row["building_id"]:
        key = row["building_id"]
        cand = np.flatnonzero(keys.ids == key)
    else:
        key = row["building_name"]
        cand = np.flatnonzero((keys.names == key) | (keys.addresses == key))
        comp = comps.named_by(row)
        if comp is None:
            return UnmatchedRow(int(row["row"]), key, "compound not found")
        if comp:
            cand = cand[keys.compound[cand] == comp]
    if len(cand) == 0:
        return UnmatchedRow(int(row["row"]), key, "no such building")
    if len(cand) > 1:
        reason = f"{len(cand)} buildings have this name; add 小区名称 or 楼栋编号"
        return UnmatchedRow(int(row["row"]), key, reason)
    return int(cand[0])


def _add_building_rows(
    rows: pd.DataFrame, keys: _BuildingKeys, comps: _CompoundKeys, tally: _Tally
) -> None:
    """Rows naming a building set (and add up for) that building."""
    # a loop over register rows (tens to hundreds), not over buildings
    for _, row in rows.iterrows():
        hit = _building_of_row(row, keys, comps)
        if isinstance(hit, UnmatchedRow):
            tally.unmatched.append(hit)
            continue
        tally.matched_rows += 1
        tally.add(np.array([hit]), row["households"], row["population"])
        tally.add_groups(np.array([hit]), row, None)


def _add_compound_rows(
    rows: pd.DataFrame, keys: _BuildingKeys, comps: _CompoundKeys, tally: _Tally
) -> None:
    """Rows naming only a compound are spread over its residential buildings without
    their own row, in proportion to floor area, keeping the total whole."""
    has_own = ~np.isnan(tally.households)
    for _, row in rows.iterrows():
        comp = comps.named_by(row)
        key = row["compound_id"] or row["compound_name"]
        if not comp:
            reason = "no such compound" if key else "no building or compound named"
            tally.unmatched.append(UnmatchedRow(int(row["row"]), key, reason))
            continue
        members = np.flatnonzero((keys.compound == comp) & keys.residential & ~has_own)
        if len(members) == 0:
            reason = "the compound has no residential building without its own row"
            tally.unmatched.append(UnmatchedRow(int(row["row"]), key, reason))
            continue
        tally.matched_rows += 1
        weights = keys.floor_area_m2[members]
        share = np.full(len(members), np.nan)
        if not np.isnan(row["households"]):
            share = _spread(float(row["households"]), weights)
            weights = share if share.sum() > 0 else weights
        residents = np.full(len(members), np.nan)
        if not np.isnan(row["population"]):
            w = np.where(weights > 0, weights, 0.0)
            w = w if w.sum() > 0 else np.ones_like(w)
            residents = row["population"] * w / w.sum()
        tally.add(members, share, residents)
        tally.add_groups(members, row, weights)


def _with_labels(unmatched: list[UnmatchedRow], table: pd.DataFrame) -> list[UnmatchedRow]:
    """Unmatched rows with their keys as the user wrote them (NOPE1, not nope1)."""
    if "label" not in table.columns:
        return unmatched
    labels = table["label"]
    return [
        UnmatchedRow(u.row, str(labels.loc[u.row]), u.reason)
        if u.row in labels.index and labels.loc[u.row]
        else u
        for u in unmatched
    ]


def _report_unmatched(unmatched: list[UnmatchedRow], *, file: str, problems: ProblemLog) -> None:
    for u in unmatched[: validate.MAX_IDS]:
        problems.add(
            msg(
                "note_register_unmatched",
                reason=from_english(u.reason, "note_reason_") or u.reason,
                key=repr(u.key),
            ),
            file=file,
            feature_id=f"row {u.row}",
            fix=msg("note_fix_register_ids"),
            severity="warning",
        )


def _report_uncovered(
    buildings: gpd.GeoDataFrame,
    uncovered: NDArray[np.bool_],
    *,
    file: str,
    problems: ProblemLog,
) -> None:
    """Warn about residential buildings the register misses, and what they keep."""
    ids = buildings["building_id"].astype(str).to_numpy()
    layer_hh = pd.to_numeric(
        buildings.get("households", pd.Series(np.nan, index=buildings.index)), errors="coerce"
    ).to_numpy(dtype="float64")
    kept = int((uncovered & ~np.isnan(layer_hh)).sum())
    estimated = ids[uncovered & np.isnan(layer_hh)]
    if len(estimated) == 0:
        fate = msg("note_fate_layer")
    elif kept == 0:
        fate = msg("note_fate_estimated")
    else:
        fate = msg("note_fate_mixed", kept=kept, estimated=len(estimated))
    shown = estimated if len(estimated) else ids[uncovered]
    problems.add(
        msg(
            "note_not_in_register",
            n=int(uncovered.sum()),
            fate=fate,
            ids=validate.id_message(list(shown)),
        ),
        file=file,
        field="households",
        fix=msg("note_fix_register_rows"),
        severity="warning",
    )


def join_register(
    buildings: gpd.GeoDataFrame,
    compounds: pd.DataFrame,
    table: pd.DataFrame,
    *,
    file: str,
    problems: ProblemLog,
) -> RegisterJoin:
    """Join a register (from :func:`read_register`) onto ``buildings``.

    Parameters
    ----------
    buildings
        Buildings with ``building_id``, ``name``, ``compound_id``, ``kind``,
        ``footprint_m2`` (m²) and ``floors``.
    compounds
        Compounds with ``compound_id`` and ``name``.
    table
        The register rows.
    file
        The register's path, for messages.
    """
    keys = _building_keys(buildings, compounds)
    comps = _compound_keys(compounds)
    n = len(buildings)
    tally = _Tally(households=np.full(n, np.nan), population=np.full(n, np.nan))
    tally.groups = {g: np.full(n, np.nan) for g in AGE_GROUPS if g in table.columns}
    by_building = (table["building_id"] != "") | (table["building_name"] != "")
    _add_building_rows(table[by_building], keys, comps, tally)
    _add_compound_rows(table[~by_building], keys, comps, tally)
    unmatched = _with_labels(tally.unmatched, table)
    _report_unmatched(unmatched, file=file, problems=problems)
    covered = ~np.isnan(tally.households) | ~np.isnan(tally.population)
    uncovered = keys.residential & ~covered
    if uncovered.any():
        _report_uncovered(buildings, uncovered, file=file, problems=problems)
    report = RegisterReport(
        file=file,
        rows=len(table),
        rows_matched=tally.matched_rows,
        unmatched_rows=unmatched,
        unmatched_buildings=[str(b) for b in buildings["building_id"].to_numpy()[uncovered]],
        buildings_registered=int(covered.sum()),
        households_registered=int(np.nansum(tally.households)),
    )
    log.info("register %s: %d of %d rows matched", file, tally.matched_rows, len(table))
    return RegisterJoin(
        households=pd.Series(tally.households, index=buildings.index),
        population=pd.Series(tally.population, index=buildings.index),
        report=report,
        groups=pd.DataFrame(tally.groups, index=buildings.index),
    )
