"""Codes of grids read back from elsewhere: kept, matched by geometry, filled in, never reused.

The codes are the keys the city's grid platform joins on, so re-proving or re-coding a
grid file must never move them (:func:`recode_grids`):

- a grid whose code is well formed keeps it (``mode="missing"``, the default of
  ``check-grids --recode``); a code made while the county or street code was not known
  (``000000``/``000``) is *re-prefixed*: it keeps its community and sequence number and
  takes the known county and street;
- a grid without a code (the column lost in a desktop GIS, or a new grid drawn there)
  takes the code of the previous grid it matches by geometry: intersection over union
  (IoU) of at least ``min_iou`` (default 0.5; above 0.5 a match is one to one) with a grid
  of the previous file or project;
- two grids with one code (a grid split in the GIS, both halves keeping the attribute):
  the one that matches the previous grid of that code best keeps it (else the larger);
- every other grid is new: the next free sequence number of its community in reading
  order (:func:`planner.grids.codes.assign_codes`), never a code that is *retired* (held
  by a grid that is gone: the previous file's and the project's retired codes, and codes
  of this file that were not kept);
- locked grids (``locked`` column true) keep their code whatever the mode;
- ``mode="all"`` numbers every unlocked grid again from 01, still skipping retired codes.

:class:`RecodeResult` lists every grid's old and new code and how it was decided, and the
codes retired afterwards (a GeoJSON written by ``check-grids --recode`` carries them as
``retired_codes``, a project file in its ``meta`` table, so the next run still skips them).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from planner.grids.codes import assign_codes, code_prefix, community_codes, sequence_digits
from planner.settings import Settings
from planner.street import Street

logger = logging.getLogger(__name__)

RecodeMode = Literal["missing", "all"]

#: IoU a grid needs with a previous grid to take its code when it has none.
MIN_IOU = 0.5

#: How a grid got its code (the ``how`` column of :attr:`RecodeResult.changes`).
HOW = ("kept", "locked", "re-prefixed", "matched", "new", "renumbered")


@dataclass(frozen=True)
class RecodeResult:
    """What :func:`recode_grids` returns.

    Attributes
    ----------
    grids
        The grids (input order and columns) with ``community_id``, ``code`` and
        ``code_provisional`` set.
    changes
        One row per grid: ``old_code`` (the file's, '' if none), ``code``, ``how``
        (one of :data:`HOW`), ``why`` (English, '' when kept).
    retired
        Codes no grid holds any more and none may take again: the retired codes given,
        plus (``mode="missing"``) the previous and the file's codes that were not kept.
    """

    grids: gpd.GeoDataFrame
    changes: pd.DataFrame
    retired: frozenset[str]

    def counts(self) -> dict[str, int]:
        """Grids per ``how``, e.g. ``{"kept": 74, "new": 1}``."""
        return {str(k): int(v) for k, v in self.changes["how"].value_counts().items()}


def grid_communities(grids: gpd.GeoDataFrame, street: Street) -> tuple[pd.Series, pd.DataFrame]:
    """The community of each grid (the street community it overlaps most) and the
    community table (``community_id``, ``code``) the codes are made with.

    A street without a community layer is one community ``c1`` coded ``001``.
    """
    comm = street.communities
    if len(comm) == 0:
        table = pd.DataFrame({"community_id": ["c1"], "code": ["001"]})
        return pd.Series("c1", index=grids.index, dtype=object), table
    geoms = np.asarray(grids.geometry.values, dtype=object)
    cgeo = np.asarray(comm.geometry.values, dtype=object)
    i, j = shapely.STRtree(cgeo).query(geoms, predicate="intersects")
    area = shapely.area(shapely.intersection(geoms[i], cgeo[j]))
    best = (
        pd.DataFrame({"i": i, "j": j, "a": area})
        .sort_values(["i", "a"], ascending=[True, False])
        .drop_duplicates("i")
    )
    cid = np.full(len(grids), "", dtype=object)
    cid[best["i"].to_numpy()] = comm["community_id"].astype(str).to_numpy()[best["j"].to_numpy()]
    table = pd.DataFrame(
        {
            "community_id": comm["community_id"].astype(str).to_numpy(),
            "code": community_codes(comm).to_numpy(),
        }
    )
    return pd.Series(cid, index=grids.index, dtype=object), table


def iou_pairs(grids: gpd.GeoDataFrame, previous: gpd.GeoDataFrame) -> pd.DataFrame:
    """Intersection over union of every overlapping (grid, previous grid) pair.

    Columns ``i`` (position in ``grids``), ``j`` (position in ``previous``), ``iou``
    (0-1). Both layers in one projected CRS (metres); one STRtree bulk query.
    """
    a = np.asarray(grids.geometry.values, dtype=object)
    b = np.asarray(previous.to_crs(grids.crs).geometry.values, dtype=object)
    i, j = shapely.STRtree(b).query(a, predicate="intersects")
    inter = shapely.area(shapely.intersection(a[i], b[j]))
    union = shapely.area(a)[i] + shapely.area(b)[j] - inter
    return pd.DataFrame({"i": i, "j": j, "iou": inter / np.maximum(union, 1e-9)})


def match_by_geometry(
    grids: gpd.GeoDataFrame, previous: gpd.GeoDataFrame, *, min_iou: float = MIN_IOU
) -> pd.Series:
    """The previous code each grid matches by geometry (IoU ≥ ``min_iou``), one to one.

    Pairs are taken greedily from the highest IoU down, each grid and each previous
    grid at most once. Returns a Series on ``grids``' index: the previous grid's
    ``code``, or NaN where none matches.
    """
    out = pd.Series(np.nan, index=grids.index, dtype=object)
    if len(grids) == 0 or len(previous) == 0:
        return out
    pairs = iou_pairs(grids, previous)
    pairs = pairs[pairs["iou"] >= min_iou].sort_values("iou", ascending=False, kind="stable")
    pairs = pairs.drop_duplicates("i").drop_duplicates("j")
    codes = previous["code"].astype(str).to_numpy()
    out.iloc[pairs["i"].to_numpy()] = codes[pairs["j"].to_numpy()]
    return out


def _well_formed(codes: pd.Series, width: int) -> pd.Series:
    s = codes.astype(object).where(codes.notna(), "").astype(str)
    return s.str.fullmatch(rf"\d{{{width}}}")


def _normalised(
    code: str, prefix: str, settings: Settings
) -> tuple[str | None, Literal["kept", "re-prefixed", "other"]]:
    """``code`` for a grid whose code must start with ``prefix``: itself, the same
    community and sequence under the known county/street, or None (another community)."""
    if code.startswith(prefix):
        return code, "kept"
    digits = sequence_digits(settings)
    if code[-digits - 3 : -digits] == prefix[-3:]:  # same community number
        return prefix + code[-digits:], "re-prefixed"
    return None, "other"


def _resolve_duplicates(
    final: pd.Series, locked: pd.Series, score: pd.Series, how: pd.Series, why: pd.Series
) -> None:
    """Of the grids claiming one code, the locked one, else the best ``score``, keeps it
    (``final`` and ``how``/``why`` are updated in place)."""
    claimed = final.dropna()
    dup = claimed[claimed.duplicated(keep=False)]
    for code, rows in dup.groupby(dup).groups.items():
        order = sorted(rows, key=lambda r: (not bool(locked[r]), -float(score[r])))
        for r in order[1:]:
            final[r] = np.nan
            how[r] = "new"
            why[r] = f"code {code} is also held by another grid, which matches it better"


def recode_grids(
    grids: gpd.GeoDataFrame,
    street: Street,
    *,
    settings: Settings,
    mode: RecodeMode = "missing",
    previous: gpd.GeoDataFrame | None = None,
    retired: Iterable[str] = (),
    min_iou: float = MIN_IOU,
) -> RecodeResult:
    """Codes for grids read back from a file, keeping every code that can be kept.

    Parameters
    ----------
    grids
        The grids (street CRS), with ``code`` where the file has one (optional) and
        ``locked`` (optional).
    street
        The street (its communities decide each grid's community).
    settings
        Code parts and width (:func:`planner.grids.codes.effective_code_settings`).
    mode
        ``"missing"``: keep well-formed codes, fill in the others; ``"all"``: number
        every unlocked grid again.
    previous
        The grids as they were before the edit (a grids file or a project's grids,
        with ``code``): grids without a code take the code of the previous grid they
        match (IoU ≥ ``min_iou``), and previous codes no grid keeps are retired.
    retired
        Codes retired earlier (a project file's or an earlier re-coding's).
    min_iou
        Intersection over union needed for a geometric match (0-1).

    Returns
    -------
    RecodeResult
    """
    g = grids.copy().reset_index(drop=True)
    g["community_id"], table = grid_communities(g, street)
    width = settings.code_width
    old = (
        g["code"].astype(object).where(g["code"].notna(), "").astype(str)
        if "code" in g.columns
        else pd.Series("", index=g.index, dtype=object)
    )
    locked = g["locked"].astype(bool) if "locked" in g.columns else pd.Series(False, index=g.index)
    formed = _well_formed(old, width)
    candidate = old.where(formed, np.nan).astype(object)
    how = pd.Series("kept", index=g.index, dtype=object)
    why = pd.Series("", index=g.index, dtype=object)
    score = pd.Series(shapely.area(np.asarray(g.geometry.values, dtype=object)), index=g.index)
    prev_codes: set[str] = set()
    if previous is not None and len(previous):
        prev_codes = set(previous["code"].astype(str))
        matched = match_by_geometry(g, previous, min_iou=min_iou)
        take = candidate.isna() & matched.notna()
        candidate[take] = matched[take]
        how[take] = "matched"
        why[take] = "no code in the file: the previous grid it matches by geometry"
        score = _match_score(g, previous, candidate, score)
    if mode == "all":
        how[~locked] = "renumbered"
        why[~locked] = "--recode all"
        candidate[~locked] = np.nan
    final = _final_codes(g, candidate, locked, table, settings, how, why)
    _resolve_duplicates(final, locked, score, how, why)
    new = final.isna()
    how[new & how.isin(["kept", "matched"])] = "new"
    why[new & (why == "")] = "no code in the file and no previous grid matches it"
    seen = set(old[formed]) | prev_codes
    taken = set(retired) | (seen - set(final.dropna()) if mode == "missing" else set())
    work = g.assign(grid_id=np.arange(len(g)))
    coded = assign_codes(
        work, settings=settings, communities=table, keep=final.dropna(), retired=taken
    )
    g["code"] = coded["code"].to_numpy()
    g["code_provisional"] = coded["code_provisional"].to_numpy()
    changes = pd.DataFrame({"old_code": old, "code": g["code"], "how": how, "why": why})
    gone = frozenset(taken - set(g["code"])) if mode == "missing" else frozenset(retired)
    logger.info("re-coded %d grids: %s", len(g), changes["how"].value_counts().to_dict())
    return RecodeResult(grids=g, changes=changes, retired=gone - set(g["code"]))


def _match_score(
    g: gpd.GeoDataFrame, previous: gpd.GeoDataFrame, candidate: pd.Series, area: pd.Series
) -> pd.Series:
    """Per grid: its IoU with the previous grid of its candidate code (+1, so a match
    beats any area score scaled below 1), else its area scaled to (0, 1)."""
    pairs = iou_pairs(g, previous)
    pairs["pcode"] = previous["code"].astype(str).to_numpy()[pairs["j"].to_numpy()]
    pairs["cand"] = candidate.to_numpy()[pairs["i"].to_numpy()]
    own = pairs[pairs["pcode"] == pairs["cand"]].groupby("i")["iou"].max()
    score = area / max(float(area.max()), 1.0) * 0.5
    score.loc[own.index] = 1.0 + own.to_numpy()
    return score


def _final_codes(
    g: gpd.GeoDataFrame,
    candidate: pd.Series,
    locked: pd.Series,
    table: pd.DataFrame,
    settings: Settings,
    how: pd.Series,
    why: pd.Series,
) -> pd.Series:
    """Each candidate code checked against its grid's community (locked grids keep theirs)."""
    comm_code = table.set_index("community_id")["code"].astype(str)
    values: dict[Any, Any] = {}
    for r in candidate.dropna().index:
        code = str(candidate[r])
        if locked[r]:
            values[r] = code
            how[r] = "locked"
            continue
        prefix = code_prefix(settings, str(comm_code.get(g.at[r, "community_id"], "000")))
        value, kind = _normalised(code, prefix, settings)
        values[r] = value if value is not None else np.nan
        if kind == "re-prefixed":
            how[r] = "re-prefixed"
            why[r] = f"county and street of {code} are now {prefix[-12:-6]}/{prefix[-6:-3]}"
        elif kind == "other":
            how[r] = "new"
            why[r] = f"code {code} belongs to another community than the one holding the grid"
    return pd.Series(values, index=g.index, dtype=object)


@dataclass(frozen=True)
class Previous:
    """Grids as they were: the grids, their atoms when known, and the retired codes.

    ``atoms`` (with ``households``) tell how many households lived where before, so a
    re-division can tell old households from new ones (:mod:`planner.grids.keep`).
    """

    grids: gpd.GeoDataFrame
    atoms: gpd.GeoDataFrame | None
    retired: frozenset[str]


def read_previous(path: str | Path, street: Street, *, settings: Settings) -> Previous:
    """The grids of a previous grids file or project file, their atoms, and the codes
    retired there.

    A planner project (``.gpkg`` with a ``meta`` table) gives its ``grids`` and
    ``atoms`` layers and its ``retired`` codes; a GeoJSON written by ``grids`` gives the
    ``atoms.geojson`` beside it, by ``check-grids --recode`` its ``retired_codes``
    member; any other grids file (:func:`planner.grids.gridfile.read_grids`) just the
    grids.
    """
    from planner.grids.gridfile import read_grids

    p = Path(path)
    layer = None
    retired: list[str] = []
    atoms: gpd.GeoDataFrame | None = None
    if p.suffix.lower() == ".gpkg" and p.exists():
        names = {str(n) for n in pyogrio.list_layers(p)[:, 0]}
        if "meta" in names and "grids" in names:
            layer = "grids"
            meta = pyogrio.read_dataframe(p, layer="meta")
            rows = dict(zip(meta["key"].astype(str), meta["value"], strict=True))
            retired = list(json.loads(rows.get("retired", "[]")))
            if "atoms" in names:
                atoms = gpd.read_file(p, layer="atoms")
    elif p.suffix.lower() in (".geojson", ".json") and p.exists():
        doc = json.loads(p.read_text(encoding="utf-8-sig"))
        retired = [str(c) for c in doc.get("retired_codes", []) or []]
        beside = p.with_name("atoms.geojson")
        if p.name == "grids.geojson" and beside.exists():
            atoms = gpd.read_file(beside)
    prev = read_grids(p, street, layer=layer, code_width=settings.code_width)
    if atoms is not None and ("households" not in atoms.columns or atoms.crs is None):
        atoms = None
    if atoms is not None:
        atoms = atoms.to_crs(street.crs)
    return Previous(prev, atoms, frozenset(str(c) for c in retired))
