"""Re-division with the least disruption: new data, the grids people know kept.

When an estate is built, a community re-set or a register replaced, dividing from scratch
would move most households to another grid and code. :func:`divide_keeping` starts from
the previous grids instead (``python -m planner grids SOURCE --keep PREVIOUS_GRIDS``):

1. **Seed.** Each atom of the new data takes the previous grid holding most of it
   (:func:`planner.grids.atoms.assign_to`); atoms on land no previous grid covered stay
   free.
2. **Check.** A previous grid is *reopened* when, on the new data, its households left
   ``[grid_min_households, grid_max_households]`` (a grid that was already outside by the
   same count is a known exception and stays), it spans two communities (community lines
   moved), it falls into pieces, it would cut a compound (a compound's atoms seeded into
   two grids, or partly onto new land) or it borders new land. Locked grids are never
   reopened.
3. **Re-divide only what broke.** Every grid not reopened is passed to
   :func:`planner.grids.division.divide` as fixed (its atoms and code kept exactly); only
   the reopened grids' atoms and the new land are divided again. When the re-divided
   region still holds more grids out of range than a division from scratch has in that
   community, the fixed grids next to the trouble are reopened too, round by round,
   until the community has as few as a fresh division (at most the whole community).
4. **Codes.** Fixed grids keep their codes. Each re-divided grid inherits the code of the
   reopened grid whose households it holds most of (one to one, same community); the
   others take new sequence numbers, never a code any previous grid held or the project
   retired. Codes of reopened grids nobody inherits are retired.
5. **Proof and report.** The grids are proved again (:func:`planner.grids.rules.check_grids`);
   :class:`KeepResult` lists each reopened grid and why, each atom that moved (old and new
   code, households, why), and the share of households that kept their grid and code.

:func:`redivide_editor` does the same for a grid editor (the app's re-divide button on
changed data): the editor's grids are the previous grids, its locks and retired codes
carry over, and a new editor on the new street is returned.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse import csgraph

from planner.errors import InputError, Problem
from planner.grids.atoms import adjacency, adjacency_matrix, assign_to, make_atoms
from planner.grids.codes import assign_codes, code_prefix
from planner.grids.division import GridResult, divide
from planner.grids.rules import check_grids
from planner.i18n import Message, msg, t
from planner.settings import Settings
from planner.street import Street

if TYPE_CHECKING:
    from planner.grids.edits import GridEditor

logger = logging.getLogger(__name__)

#: Rounds of growing the re-divided region before the result is taken as it is.
MAX_ROUNDS = 8


@dataclass
class KeepResult:
    """What :func:`divide_keeping` returns.

    Attributes
    ----------
    result
        The division (grids, atoms with ``code``, proof), codes kept as described.
    reopened
        One row per previous grid that was divided again: ``code``, ``community_id``,
        ``households_before`` (the previous file's figure, -1 if it had none),
        ``households_now`` (its land on the new data), ``why``, ``heir`` (the grid that
        inherited the code, '' when the code was retired).
    moves
        One row per atom whose grid changed: ``atom_id``, ``compound_id``,
        ``households``, ``buildings``, ``old_code`` ('' on new land), ``code``, ``why``.
    households_total
        Households of the new data.
    households_before
        Households before the change (:func:`households_before`).
    households_kept
        Of these, households in a grid of the same code as before.
    retired
        Codes no grid holds any more, to be remembered (never given again).
    rounds
        Divisions run (1 when the first re-division of the broken grids sufficed).
    """

    result: GridResult
    reopened: pd.DataFrame
    moves: pd.DataFrame
    households_total: int
    households_before: int
    households_kept: int
    retired: frozenset[str]
    rounds: int
    notes: list[str] = field(default_factory=list)
    #: Why each reopened grid was divided again (code -> message, renders in zh and en).
    reasons: dict[str, Message] = field(default_factory=dict)

    @property
    def kept_share(self) -> float:
        """Households that kept their grid and code, of those that had one (0-1)."""
        return self.households_kept / self.households_before if self.households_before else 1.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (``grid_report.json``'s ``keep``)."""
        return {
            "households_total": self.households_total,
            "households_before": self.households_before,
            "households_kept": self.households_kept,
            "kept_share": round(self.kept_share, 4),
            "grids_reopened": len(self.reopened),
            "atoms_moved": len(self.moves),
            "households_moved": int(self.moves["households"].sum()) if len(self.moves) else 0,
            "retired": sorted(self.retired),
            "rounds": self.rounds,
            "reopened": self.reopened.to_dict(orient="records"),
        }

    def to_text(self, lang: str = "en") -> str:
        """The report's section in ``lang`` (``"en"`` for the CLI's report, ``"zh"`` for
        the app): the kept share, each reopened grid and why, the retired codes."""
        moved = int(self.moves["households"].sum()) if len(self.moves) else 0
        lines = [
            t("keep_title", lang),
            t(
                "keep_summary",
                lang,
                kept=self.households_kept,
                before=self.households_before,
                share=100 * self.kept_share,
                reopened=len(self.reopened),
                rounds=self.rounds,
                atoms=len(self.moves),
                moved=moved,
            ),
        ]
        for code, heir in zip(self.reopened["code"], self.reopened["heir"], strict=True):
            why = self.reasons.get(code)
            fate = t("keep_fate_kept" if heir == code else "keep_fate_retired", lang)
            text = why.render(lang) if why is not None else ""
            lines.append(t("keep_line", lang, code=code, why=text, fate=fate))
        if self.retired:
            sep = "、" if lang == "zh" else ", "
            lines.append(t("keep_retired", lang, codes=sep.join(sorted(self.retired))))
        return "\n".join(lines)


def households_before(
    atoms: gpd.GeoDataFrame, code: pd.Series, previous_atoms: gpd.GeoDataFrame | None
) -> pd.Series:
    """Households each new atom held before the data changed.

    With ``previous_atoms``: each previous atom's households spread over the new atoms
    by shared area (an unchanged atom keeps its figure; a new estate on a park's land
    gets the park's 0). Without: the atom's households now where it lies in a previous
    grid (``code`` not NaN), else 0.
    """
    if previous_atoms is None or len(previous_atoms) == 0:
        now = atoms["households"].astype(float)
        return pd.Series(np.where(code.notna(), now, 0.0), index=atoms.index)
    old = np.asarray(previous_atoms.to_crs(atoms.crs).geometry.values, dtype=object)
    new = np.asarray(atoms.geometry.values, dtype=object)
    i, j = shapely.STRtree(old).query(new, predicate="intersects")
    share = shapely.area(shapely.intersection(new[i], old[j])) / np.maximum(
        shapely.area(old[j]), 1e-9
    )
    hh = previous_atoms["households"].fillna(0).to_numpy(dtype=float)[j] * share
    out = np.bincount(i, weights=hh, minlength=len(atoms))
    return pd.Series(out, index=atoms.index)


def seed_codes(atoms: gpd.GeoDataFrame, previous: gpd.GeoDataFrame) -> pd.Series:
    """The previous grid code of each atom: the previous grid holding most of it.

    Returns a Series on ``atoms``' index (NaN for atoms no previous grid touches).
    ``previous`` is moved into the atoms' CRS.
    """
    prev = previous.to_crs(atoms.crs)
    pos = assign_to(
        np.asarray(atoms.geometry.values, dtype=object),
        np.asarray(prev.geometry.values, dtype=object),
    )
    codes = prev["code"].astype(str).to_numpy()
    out = pd.Series(np.nan, index=atoms.index, dtype=object)
    out[pos >= 0] = codes[pos[pos >= 0]]
    return out


@dataclass(frozen=True)
class _Seeded:
    """The new atoms with their previous codes and adjacency (positions 0..n-1)."""

    atoms: gpd.GeoDataFrame
    code: pd.Series
    #: Shared edge lengths between atoms, metres (symmetric).
    adj: sparse.csr_matrix
    #: Households each atom held before (0 on new land and new buildings).
    before: pd.Series

    def neighbours(self, mask: NDArray[np.bool_]) -> set[str]:
        """Codes of the atoms adjacent to the atoms in ``mask``."""
        near = np.asarray(self.adj[np.flatnonzero(mask)].sum(axis=0)).ravel() > 0
        return set(self.code[near & ~mask].dropna())


def _reopen_reasons(
    s: _Seeded, previous: gpd.GeoDataFrame, settings: Settings, locked: set[str]
) -> dict[str, Message]:
    """Why each previous grid must be divided again on the new data (locked ones never)."""
    lo, hi = settings.grid_min_households, settings.grid_max_households
    a, code = s.atoms, s.code
    why: dict[str, Message] = {}
    hh = a["households"].groupby(code).sum()
    before = (
        previous.set_index(previous["code"].astype(str))["households"]
        if "households" in previous.columns
        else pd.Series(dtype=float)
    )
    for c, n in hh.items():
        if not lo <= n <= hi and before.get(c) != n:
            why[str(c)] = (
                msg("keep_why_households_was", households=int(n), was=int(before[c]), lo=lo, hi=hi)
                if c in before.index
                else msg("keep_why_households", households=int(n), lo=lo, hi=hi)
            )
    if "kind" in previous.columns:  # a dedicated grid (专属网格) that now holds homes
        dedicated = set(previous.loc[previous["kind"] == "dedicated", "code"].astype(str))
        for c, n in hh.items():
            if str(c) in dedicated and n > 0:
                why.setdefault(str(c), msg("keep_why_dedicated_homes", households=int(n)))
    comms = a["community_id"].astype(str).groupby(code).unique()
    for c, cs in comms.items():
        if len(cs) > 1:
            why.setdefault(str(c), msg("keep_why_communities", communities=sorted(cs)))
    for c in code.dropna().unique():
        pos = np.flatnonzero((code == c).to_numpy())
        if len(pos) > 1 and csgraph.connected_components(s.adj[pos][:, pos])[0] > 1:
            why.setdefault(str(c), msg("keep_why_pieces"))
    comp = a["compound_id"].astype(str)
    inner = comp != ""
    comp_hh = a["households"].groupby(comp).transform("sum")
    labels = code.fillna("").where(inner & (comp_hh <= hi))
    for cid, grp in labels.dropna().groupby(comp[labels.notna()]):
        if grp.nunique() > 1:
            for c in set(grp) - {""}:
                why.setdefault(c, msg("keep_why_compound", compound=cid))
    new_land = code.isna().to_numpy()
    if new_land.any():
        for c in s.neighbours(new_land):
            why.setdefault(c, msg("keep_why_new_land"))
    return {c: r for c, r in why.items() if c not in locked}


def divide_keeping(
    street: Street,
    previous: gpd.GeoDataFrame,
    *,
    settings: Settings | None = None,
    locked: Iterable[str] = (),
    retired: Iterable[str] = (),
    previous_atoms: gpd.GeoDataFrame | None = None,
    atoms: gpd.GeoDataFrame | None = None,
    seed: int = 0,
    name: str = "",
) -> KeepResult:
    """Divide ``street`` again, keeping as many households as possible in their grid and code.

    Parameters
    ----------
    street
        The street with the new data (projected CRS, metres).
    previous
        The previous grids (any CRS; ``code``, geometry; ``households`` and ``locked``
        used when present), e.g. :func:`planner.grids.recode.read_previous`.
    settings
        Grid bounds and code parts (as for :func:`planner.grids.division.divide`).
    locked
        Codes of grids that must not change (added to the ``locked`` column's).
    retired
        Codes retired earlier (never given again).
    previous_atoms
        The previous division's atoms with ``households`` (a project's ``atoms`` layer,
        or the ``atoms.geojson`` the ``grids`` command wrote): they tell old households
        from new ones (:func:`households_before`). Without them every household now on
        a previous grid's land counts as that grid's.
    atoms
        Atoms of the new data (made when None).
    seed
        Seed of the division's random spanning trees.
    name
        The previous grids' file, named in messages ('' when not from a file).

    Returns
    -------
    KeepResult

    Raises
    ------
    InputError
        The previous grids cover less than half of the street (another street's grids,
        or a file in the wrong coordinates), or have no ``code``.
    """
    settings = settings or Settings()
    if atoms is None:
        atoms = make_atoms(street, settings=settings)
    atoms = atoms.reset_index(drop=True)
    prev = _checked_previous(previous, street, name)
    user_locked = set(map(str, locked))
    if "locked" in prev.columns:
        user_locked |= set(prev.loc[prev["locked"].astype(bool), "code"])
    code = seed_codes(atoms, prev)
    s = _Seeded(
        atoms,
        code,
        adjacency_matrix(adjacency(atoms.geometry.values), len(atoms)),
        households_before(atoms, code, previous_atoms),
    )
    reasons = _reopen_reasons(s, prev, settings, user_locked)
    fixed = set(s.code.dropna()) - set(reasons)
    fresh = divide(
        street, settings=settings, atoms=atoms, locked=_locked_atoms(s, user_locked), seed=seed
    )
    rounds = 0
    while True:
        rounds += 1
        res = divide(
            street, settings=settings, atoms=atoms, locked=_locked_atoms(s, fixed), seed=seed
        )
        grow = _trouble(res, fresh, s, fixed, user_locked)
        if not grow or rounds >= MAX_ROUNDS:
            break
        for c, why in grow.items():
            reasons.setdefault(c, why)
        fixed -= set(grow)
    return _finish(
        street, res, s, prev, fixed, reasons, user_locked, set(retired), settings, rounds
    )


#: Share of the street the previous grids must cover to be taken as its grids.
MIN_COVER = 0.5


def _checked_previous(previous: gpd.GeoDataFrame, street: Street, name: str) -> gpd.GeoDataFrame:
    """The previous grids in the street's CRS with text codes; refused (naming ``name``)
    without codes or when they cover less than :data:`MIN_COVER` of the street."""
    label = f"the previous grids ({name})" if name else "the previous grids"
    if "code" not in previous.columns or previous.crs is None:
        what = "no 'code' column" if "code" not in previous.columns else "no CRS"
        raise InputError(
            Problem(
                f"{label} have {what}",
                fix="give the grids.geojson the grids command wrote, or the project file",
                file=name or None,
                field="code" if "code" not in previous.columns else "geometry",
            )
        )
    prev = previous.to_crs(street.crs).reset_index(drop=True)
    prev["code"] = prev["code"].astype(str)
    area = float(street.boundary_geom.area)
    cover = shapely.area(
        shapely.intersection(shapely.union_all(prev.geometry.values), street.boundary_geom)
    )
    if area > 0 and cover < MIN_COVER * area:
        raise InputError(
            Problem(
                f"{label} cover only {100 * cover / area:.0f}% of the street "
                f"({cover:,.0f} of {area:,.0f} m²): they are not this street's grids",
                fix="give the grids of this street (the grids.geojson of an earlier run on "
                "it, or its project file), in the coordinates they were written in",
                file=name or None,
                field="geometry",
            )
        )
    return prev


def _locked_atoms(s: _Seeded, codes: set[str]) -> pd.Series:
    """``atom_id -> code`` of the atoms seeded into the grids ``codes``."""
    sel = s.code.isin(codes).to_numpy()
    return pd.Series(s.code[sel].to_numpy(), index=s.atoms["atom_id"].to_numpy()[sel], dtype=object)


def _bad_by_community(grids: gpd.GeoDataFrame) -> pd.Series:
    """Grids out of range (a ``reason``) per community."""
    bad = grids.loc[grids["reason"] != "", "community_id"].astype(str)
    counts: pd.Series = bad.value_counts()
    return counts


def _trouble(
    res: GridResult, fresh: GridResult, s: _Seeded, fixed: set[str], user_locked: set[str]
) -> dict[str, Message]:
    """Fixed grids to reopen: those next to re-divided grids of a community that holds
    more grids out of range than a fresh division does (all its fixed grids when none
    touches them), and those sharing a unit with re-divided atoms (grid -1)."""
    grow: dict[str, Message] = {}
    free = ~res.atoms["code"].isin(fixed).to_numpy()
    orphan = (res.atoms["grid_id"] == -1).to_numpy()
    if orphan.any():
        for c in s.neighbours(orphan) & fixed:
            grow[c] = msg("keep_why_unit")
    bad = _bad_by_community(res.grids[~res.grids["code"].isin(fixed)])
    base = _bad_by_community(fresh.grids)
    comm = s.atoms["community_id"].astype(str).to_numpy()
    for community, n in bad.items():
        if n <= int(base.get(community, 0)):
            continue
        out_codes = set(
            res.grids.loc[
                (res.grids["community_id"] == community) & (res.grids["reason"] != ""), "code"
            ]
        )
        region = free & (comm == community) & res.atoms["code"].isin(out_codes).to_numpy()
        near = (s.neighbours(region) & fixed) - user_locked
        if not near:  # nothing fixed touches the trouble: reopen the whole community
            mine = (comm == community) & s.code.isin(fixed - user_locked).to_numpy()
            near = set(s.code[mine])
        why = msg("keep_why_neighbour", community=community)
        grow.update({c: why for c in near if c not in grow})
    return grow


def _finish(
    street: Street,
    res: GridResult,
    s: _Seeded,
    prev: gpd.GeoDataFrame,
    fixed: set[str],
    reasons: dict[str, Message],
    user_locked: set[str],
    retired: set[str],
    settings: Settings,
    rounds: int,
) -> KeepResult:
    """Codes inherited or new, the proof again, and the report tables."""
    atoms = res.atoms.copy()
    heirs = inherit_codes(atoms, s.code, fixed, res.communities, settings, weight=s.before)
    keep = res.grids.loc[res.grids["code"].isin(fixed)].set_index("grid_id")["code"]
    keep = pd.concat([keep, heirs])
    taken = retired | set(prev["code"])
    grids = assign_codes(
        res.grids.drop(columns=["code"]),
        settings=settings,
        communities=res.communities,
        keep=keep,
        retired=taken - set(keep),
    )
    grids["locked"] = grids["code"].isin(user_locked)
    grids["reason"] = _kept_reasons(grids, prev, fixed, settings)
    atoms["code"] = atoms["grid_id"].map(grids.set_index("grid_id")["code"])
    report = check_grids(grids, street, settings=settings, communities=res.communities)
    unresolved = res.unresolved.assign(
        code=res.unresolved["grid_id"].map(grids.set_index("grid_id")["code"])
    )
    result = replace(res, grids=grids, atoms=atoms, report=report, unresolved=unresolved)
    final = set(grids["code"])
    reopened = _reopened_table(prev, s, reasons, heirs, atoms)
    moves = _moves_table(atoms, s.code, reasons)
    before, kept = _households_kept(s, atoms)
    logger.info(
        "kept %d of %d households in their grid and code; %d grids divided again",
        kept,
        before,
        len(reopened),
    )
    return KeepResult(
        result=result,
        reopened=reopened,
        moves=moves,
        households_total=int(atoms["households"].sum()),
        households_before=before,
        households_kept=kept,
        retired=frozenset((taken | set(prev["code"])) - final),
        rounds=rounds,
        notes=list(res.notes),
        reasons=reasons,
    )


def inherit_codes(
    atoms: gpd.GeoDataFrame,
    old_code: pd.Series,
    fixed: set[str],
    communities: pd.DataFrame,
    settings: Settings,
    weight: pd.Series | None = None,
) -> pd.Series:
    """``grid_id -> code`` for re-divided grids that inherit a previous code.

    Each grid not holding a fixed code takes the previous code (not fixed, of the same
    community prefix) from which it holds the most households (``weight``: households
    before the change, default the atoms' households now; then the most area), one to
    one, greedily from the largest share down.

    Parameters
    ----------
    atoms
        Atoms with ``grid_id``, ``code`` (as divided), ``community_id``, ``households``,
        ``area_m2``.
    old_code
        Previous code of each atom (NaN on new land), on ``atoms``' index.
    fixed
        Codes of the grids kept as they were.
    """
    free = ~atoms["code"].isin(fixed) & old_code.notna() & ~old_code.isin(fixed)
    df = pd.DataFrame(
        {
            "grid_id": atoms.loc[free, "grid_id"],
            "old": old_code[free].astype(str),
            "community_id": atoms.loc[free, "community_id"].astype(str),
            "hh": (atoms["households"] if weight is None else weight)[free].astype(float),
            "area": atoms.loc[free, "area_m2"].astype(float),
        }
    )
    if df.empty:
        return pd.Series(dtype=object)
    comm_code = communities.set_index("community_id")["code"].astype(str)
    prefix = df["community_id"].map(lambda c: code_prefix(settings, str(comm_code.get(c, "000"))))
    df = df[[o.startswith(p) for o, p in zip(df["old"], prefix, strict=True)]]
    shares = df.groupby(["grid_id", "old"])[["hh", "area"]].sum().reset_index()
    shares = shares.sort_values(["hh", "area"], ascending=False, kind="stable")
    best = shares.drop_duplicates("grid_id").drop_duplicates("old")
    # a grid skipped by drop_duplicates("old") may still take its next-best code
    left = shares[~shares["grid_id"].isin(best["grid_id"]) & ~shares["old"].isin(best["old"])]
    best = pd.concat([best, left.drop_duplicates("grid_id").drop_duplicates("old")])
    return pd.Series(best["old"].to_numpy(), index=best["grid_id"].to_numpy(), dtype=object)


def _reopened_table(
    prev: gpd.GeoDataFrame,
    s: _Seeded,
    reasons: dict[str, Message],
    heirs: pd.Series,
    atoms: gpd.GeoDataFrame,
) -> pd.DataFrame:
    before = prev.set_index("code")["households"] if "households" in prev.columns else pd.Series()
    now = s.atoms["households"].groupby(s.code).sum()
    comm = s.atoms["community_id"].astype(str).groupby(s.code).first()
    inherited = set(heirs.to_numpy())
    codes = sorted(reasons)
    return pd.DataFrame(
        {
            "code": codes,
            "community_id": [str(comm.get(c, "")) for c in codes],
            "households_before": [int(before.get(c, -1)) for c in codes],
            "households_now": [int(now.get(c, 0)) for c in codes],
            "why": [str(reasons[c]) for c in codes],
            "heir": [c if c in inherited else "" for c in codes],
        }
    )


def _moves_table(
    atoms: gpd.GeoDataFrame, old_code: pd.Series, reasons: dict[str, Message]
) -> pd.DataFrame:
    old = old_code.fillna("").astype(str)
    moved = (old != atoms["code"].astype(str)).to_numpy()
    why = [
        str(reasons.get(o, msg("keep_why_divided")) if o else msg("keep_why_new_atom"))
        for o in old[moved]
    ]
    out = pd.DataFrame(
        {
            "atom_id": atoms.loc[moved, "atom_id"].to_numpy(),
            "compound_id": atoms.loc[moved, "compound_id"].astype(str).to_numpy(),
            "households": atoms.loc[moved, "households"].to_numpy(),
            "buildings": atoms.loc[moved, "buildings"].to_numpy(),
            "old_code": old[moved].to_numpy(),
            "code": atoms.loc[moved, "code"].astype(str).to_numpy(),
            "why": why,
        }
    )
    return out.sort_values(["households", "atom_id"], ascending=[False, True]).reset_index(
        drop=True
    )


def _households_kept(s: _Seeded, atoms: gpd.GeoDataFrame) -> tuple[int, int]:
    """Households before the change, and of these the ones whose atom is in a grid of
    the same code now (:func:`households_before`)."""
    same = (atoms["code"].astype(str) == s.code.fillna("")).to_numpy()
    return round(float(s.before.sum())), round(float(s.before[same].sum()))


def _kept_reasons(
    grids: gpd.GeoDataFrame, prev: gpd.GeoDataFrame, fixed: set[str], settings: Settings
) -> pd.Series:
    """The ``reason`` column: a kept grid out of range keeps its previous reason (it was
    a known exception with the same households)."""
    mine = grids["reason"].astype(str).to_numpy()
    if "reason" not in prev.columns:
        return pd.Series(mine, index=grids.index, dtype=object)
    lo, hi = settings.grid_min_households, settings.grid_max_households
    was = (
        prev.set_index("code")["reason"].astype(object).where(prev["reason"].notna().to_numpy(), "")
    )
    out = grids["code"].map(was).fillna("").astype(str).to_numpy()
    carry = (grids["code"].isin(fixed) & ~grids["households"].between(lo, hi)).to_numpy()
    return pd.Series(np.where(carry & (out != ""), out, mine), index=grids.index, dtype=object)


def redivide_editor(
    editor: GridEditor, street: Street | None = None, *, seed: int = 0
) -> tuple[GridEditor, KeepResult]:
    """Re-divide a grid editor's grids on new data, keeping grids and codes (the app's
    re-divide button after the street's data changed).

    The editor's grids are the previous grids; its locked grids stay exactly as they
    are and its retired codes are never given again. Returns a new editor on ``street``
    (default: the editor's own street) holding the kept division, with the same locks
    and the retired codes, and the :class:`KeepResult` to show what moved.
    """
    from planner.grids.edits import GridEditor

    street = street or editor.street
    kept = divide_keeping(
        street,
        editor.grids,
        settings=editor.settings,
        locked=editor.locked,
        retired=editor.retired,
        previous_atoms=editor.atoms.reset_index(drop=True),
        seed=seed,
    )
    new = GridEditor.from_result(street, kept.result, settings=editor.settings)
    new.locked = frozenset(c for c in editor.locked if c in set(kept.result.grids["code"]))
    new.retired = set(kept.retired)
    new._rebuild(set(new.labels.unique()))
    return new, kept
