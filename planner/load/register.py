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
from planner.load import validate
from planner.load.readers import normalise_text, read_table

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
}


#: Key cells that mark a total row of a register (normalised), skipped.
TOTAL_WORDS: frozenset[str] = frozenset({"合计", "总计", "小计", "total", "sum", "总数"})


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
        Plain data for the load report: rows, rows_matched, unmatched_rows (row,
        key, reason), unmatched_buildings (ids), households_registered.
    """

    households: pd.Series
    population: pd.Series
    report: dict[str, Any] = field(default_factory=dict)


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


def read_register(path: Path, *, problems: ProblemLog) -> pd.DataFrame | None:
    """The register as a table with the columns of :data:`COLUMN_ALIASES` (text/float).

    Columns: ``row`` (spreadsheet row number, header = row 1), ``building_id``,
    ``building_name``, ``compound_id``, ``compound_name`` (normalised text, '' if
    absent), ``label`` (the row's key as the user wrote it, for messages),
    ``households`` and ``population`` (floats, NaN if blank).
    """
    all_names = {alias for aliases in COLUMN_ALIASES.values() for alias in aliases}
    table = read_table(path, problems=problems, header_names=all_names)
    if table is None:
        return None
    cols = register_columns(table)
    file = str(path)
    if "households" not in cols and "population" not in cols:
        problems.add(
            f"no households column (found: {', '.join(map(str, table.columns))})",
            file=file,
            field="households",
            fix="name the column 户数 or households (and 人口/常住人口 or population)",
        )
    keys = [
        k for k in ("building_id", "building_name", "compound_id", "compound_name") if k in cols
    ]
    if not keys:
        problems.add(
            f"no building or compound column (found: {', '.join(map(str, table.columns))})",
            file=file,
            fix="add a column 楼栋编号/楼栋名称 (building_id/building_name) or "
            "小区编号/小区名称 (compound_id/compound_name)",
        )
    if problems.has_errors:
        return None
    rows = pd.Series([f"row {i}" for i in table.index], index=table.index)
    out = pd.DataFrame({"row": table.index.to_numpy(dtype=np.int64)}, index=table.index)
    out["label"] = ""
    for key in ("building_id", "building_name", "compound_id", "compound_name"):
        out[key] = table[cols[key]].map(normalise_text) if key in cols else ""
        if key in cols:  # the first key in this order is the one the join uses
            raw = table[cols[key]].map(lambda v: "" if normalise_text(v) == "" else str(v).strip())
            out["label"] = out["label"].where(out["label"] != "", raw)
    cells = table.map(normalise_text)
    total = cells.isin(TOTAL_WORDS).any(axis=1) | cells.apply(
        lambda col: col.str.match(r"^(合计|总计|小计)")
    ).any(axis=1)
    if total.any():
        problems.add(
            f"{int(total.sum())} total row(s) skipped: "
            + ", ".join(f"row {r}" for r in out.index[total]),
            file=file,
            fix="nothing to do: totals are recomputed from the rows",
            severity="repair",
        )
        out = out.loc[~total]
        table = table.loc[~total]
        rows = rows.loc[~total]
    for key in ("households", "population"):
        if key in cols:
            out[key] = validate.numeric_column(
                table, cols[key], ids=rows, file=file, problems=problems, whole=True
            )
        else:
            out[key] = np.nan
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
    return base


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
    b_id = buildings["building_id"].map(normalise_text).to_numpy(dtype=object)
    b_name = buildings["name"].map(normalise_text).to_numpy(dtype=object)
    b_comp = buildings["compound_id"].astype(str).to_numpy(dtype=object)
    comp_name_of = dict(
        zip(
            compounds["compound_id"].astype(str), compounds["name"].map(normalise_text), strict=True
        )
    )
    b_comp_name = np.array([comp_name_of.get(c, "") for c in b_comp], dtype=object)
    b_address = b_comp_name + b_name
    residential = (buildings["kind"] == "residential").to_numpy()
    floors = np.maximum(pd.to_numeric(buildings["floors"], errors="coerce").fillna(1), 1)
    floor_area = buildings["footprint_m2"].to_numpy(dtype="float64") * floors.to_numpy()

    comp_ids = compounds["compound_id"].astype(str).to_numpy(dtype=object)
    comp_norm_id = np.array([normalise_text(c) for c in comp_ids], dtype=object)
    comp_norm_name = compounds["name"].map(normalise_text).to_numpy(dtype=object)

    n = len(buildings)
    hh = np.full(n, np.nan)
    pop = np.full(n, np.nan)
    unmatched: list[dict[str, Any]] = []
    matched_rows = 0

    def compound_of(row: pd.Series) -> str | None:
        """The compound id a row names ('' = none named, None = named but unknown)."""
        if row["compound_id"]:
            hit = comp_ids[comp_norm_id == row["compound_id"]]
        elif row["compound_name"]:
            hit = comp_ids[comp_norm_name == row["compound_name"]]
        else:
            return ""
        return str(hit[0]) if len(hit) == 1 else None

    building_rows = table[(table["building_id"] != "") | (table["building_name"] != "")]
    compound_rows = table.drop(building_rows.index)

    # rows per building: a loop over register rows (tens to hundreds), not buildings
    for _, row in building_rows.iterrows():
        if row["building_id"]:
            cand = np.flatnonzero(b_id == row["building_id"])
            key = row["building_id"]
        else:
            key = row["building_name"]
            cand = np.flatnonzero((b_name == key) | (b_address == key))
            comp = compound_of(row)
            if comp is None:
                unmatched.append(
                    {"row": int(row["row"]), "key": key, "reason": "compound not found"}
                )
                continue
            if comp:
                cand = cand[b_comp[cand] == comp]
        if len(cand) == 0:
            unmatched.append({"row": int(row["row"]), "key": key, "reason": "no such building"})
            continue
        if len(cand) > 1:
            unmatched.append(
                {
                    "row": int(row["row"]),
                    "key": key,
                    "reason": f"{len(cand)} buildings have this name; add 小区名称 or 楼栋编号",
                }
            )
            continue
        i = cand[0]
        matched_rows += 1
        if not np.isnan(row["households"]):
            hh[i] = np.nan_to_num(hh[i]) + row["households"]
        if not np.isnan(row["population"]):
            pop[i] = np.nan_to_num(pop[i]) + row["population"]

    has_own = ~np.isnan(hh)
    for _, row in compound_rows.iterrows():
        comp = compound_of(row)
        key = row["compound_id"] or row["compound_name"]
        if not comp:
            reason = "no such compound" if key else "no building or compound named"
            unmatched.append({"row": int(row["row"]), "key": key, "reason": reason})
            continue
        members = np.flatnonzero((b_comp == comp) & residential & ~has_own)
        if len(members) == 0:
            unmatched.append(
                {
                    "row": int(row["row"]),
                    "key": key,
                    "reason": "the compound has no residential building without its own row",
                }
            )
            continue
        matched_rows += 1
        weights = floor_area[members]
        if not np.isnan(row["households"]):
            share = _spread(float(row["households"]), weights)
            hh[members] = np.nan_to_num(hh[members]) + share
            weights = share if share.sum() > 0 else weights
        if not np.isnan(row["population"]):
            w = np.where(weights > 0, weights, 0.0)
            w = w if w.sum() > 0 else np.ones_like(w)
            pop[members] = np.nan_to_num(pop[members]) + row["population"] * w / w.sum()

    covered = ~np.isnan(hh) | ~np.isnan(pop)
    missing_res = buildings["building_id"].astype(str).to_numpy()[residential & ~covered]
    labels = table["label"] if "label" in table.columns else None
    for u in unmatched:  # keys as the user wrote them (NOPE1, not nope1)
        if labels is not None and u["row"] in labels.index and labels.loc[u["row"]]:
            u["key"] = str(labels.loc[u["row"]])
    for u in unmatched[: validate.MAX_IDS]:
        problems.add(
            f"register row matches no building: {u['reason']} ({u['key']!r})",
            file=file,
            feature_id=f"row {u['row']}",
            fix="correct the id/name so it matches the buildings or compounds layer",
            severity="warning",
        )
    if len(missing_res):
        layer_hh = pd.to_numeric(
            buildings.get("households", pd.Series(np.nan, index=buildings.index)),
            errors="coerce",
        ).to_numpy(dtype="float64")
        uncovered = residential & ~covered
        kept = int((uncovered & ~np.isnan(layer_hh)).sum())
        estimated = buildings["building_id"].astype(str).to_numpy()[uncovered & np.isnan(layer_hh)]
        if len(estimated) == 0:
            fate = "they keep the households from the buildings layer"
        elif kept == 0:
            fate = "their households are estimated from floor area"
        else:
            fate = (
                f"{kept} keep the households from the buildings layer, "
                f"{len(estimated)} have their households estimated from floor area"
            )
        shown = estimated if len(estimated) else missing_res
        problems.add(
            f"{len(missing_res)} residential building(s) are not in the register; {fate}: "
            f"{validate.id_list(list(shown))}",
            file=file,
            field="households",
            fix="add rows for these buildings or their compounds to the register",
            severity="warning",
        )
    report = {
        "file": file,
        "rows": len(table),
        "rows_matched": matched_rows,
        "unmatched_rows": unmatched,
        "unmatched_buildings": [str(b) for b in missing_res],
        "buildings_registered": int(covered.sum()),
        "households_registered": int(np.nansum(hh)),
    }
    log.info("register %s: %d of %d rows matched", file, matched_rows, len(table))
    return RegisterJoin(
        households=pd.Series(hh, index=buildings.index),
        population=pd.Series(pop, index=buildings.index),
        report=report,
    )
