"""Divide a street into grids: contiguous, compact, balanced groups of whole atoms.

Method (see docs/readme/grids.md):

1. Atoms (:func:`planner.grids.atoms.make_atoms`) with their edge adjacency.
2. Communities: the street's community layer; atoms outside every community join
   the community they share the longest edge with. Without a community layer,
   communities are derived (``communities="derive"``: the same partition with
   ``Settings.community_min_households``/``community_max_households``) or the street
   is one community (``communities="single"``).
3. Units: atoms that must stay together. All atoms of a compound (within one
   community) form one unit. A compound above ``grid_max_households`` has been cut
   into building cells by the atoms step; its cells are grouped into parts with
   households in range first, each part one unit. Every other atom is a unit.
   Units are split into edge-connected pieces, so a unit is always contiguous.
4. Per community and per connected piece of its unit graph, a contiguous partition
   with households in ``[grid_min_households, grid_max_households]`` near
   ``grid_target_households`` (:mod:`planner.grids._partition`: recursive bisection on
   random spanning trees with compactness scoring, then pair repair). Atoms without
   households are units of weight 0, so parks, campuses and roads' land join a
   neighbouring grid.
   A proof over fixed groups of a large compound's buildings is made again over single
   atoms round the grids out of bounds (:func:`_local_proof`, branch dist14g); when the
   whole piece over single atoms has a division in bounds, the groups are re-formed from
   it and the division runs a second pass from the same random draws.
5. Grids are dissolved from their atoms, coded (:mod:`planner.grids.codes`) and proved
   (:func:`planner.grids.rules.check_grids`). Whatever could not be brought in range is
   listed in ``GridResult.unresolved`` with the reason.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse import csgraph

from planner._threads import parallel
from planner.grids import _partition as part
from planner.grids import compact, exact
from planner.grids.atoms import (
    adjacency_matrix,
    building_atoms,
    make_atoms,
    query,
    shared_edges,
)
from planner.grids.codes import assign_codes, community_codes
from planner.grids.dedicated import KIND_DEDICATED, KIND_RESIDENTIAL, grid_kinds
from planner.grids.rules import RuleReport, check_grids
from planner.grids.shape import (
    feature_share,
    feature_tree,
    on_feature_length,
    polsby_popper,
    polygonal,
)
from planner.grids.workload import building_load
from planner.i18n import msg
from planner.settings import Settings
from planner.street import Street

logger = logging.getLogger(__name__)

#: An atom overlapping a compound by more than this area (m²) and share of the compound
#: is kept with the compound (half the tolerance of the compounds_whole rule).
_COMPOUND_OVERLAP_M2 = 0.5
_COMPOUND_OVERLAP_SHARE = 0.002

CommunityMode = Literal["given", "derive", "single"]

#: Columns of the grids layer (besides geometry).
GRID_COLUMNS: tuple[str, ...] = (
    "grid_id",
    "code",
    "code_provisional",
    "community_id",
    "community",
    "households",
    "population",
    "buildings",
    "atoms",
    "area_m2",
    "compactness",
    "locked",
    "reason",
    # --- bounds: the workload of each grid (planner.grids.workload) ---
    "load",
    # --- dedicated: dedicated grids and grid shape ---
    "kind",
    "land_use",
    "feature_share",
    "shape_reason",
)


#: Columns of :attr:`GridResult.exact`.
EXACT_COLUMNS: tuple[str, ...] = (
    "community_id",
    "units",
    "households",
    "status",
    "gap",
    "time_s",
    "excess",
    "least",
    "bound",
    "clock",
    "nodes",
    # --- dist14g: the proof over single atoms round the grids out of bounds ---
    "local_units",
)


@dataclass
class GridResult:
    """What :func:`divide` returns.

    Attributes
    ----------
    grids
        One row per grid (columns :data:`GRID_COLUMNS`), street CRS; ``households``
        and ``population`` summed from the buildings, ``compactness`` Polsby-Popper
        (1 = circle), ``reason`` why households are out of range ('' if in range).
    atoms
        The atoms with ``grid_id`` and ``code`` of the grid holding each.
    building_atom
        ``atom_id`` of each building (index of ``street.buildings``).
    communities
        The communities used (given, or derived/single, dissolved from the atoms):
        ``community_id``, ``name``, ``code``, ``households``.
    unresolved
        Atoms whose households could not be brought into range: ``atom_id``,
        ``grid_id``, ``code``, ``households``, ``reason``.
    report
        The proof of the rules (:class:`planner.grids.rules.RuleReport`).
    """

    grids: gpd.GeoDataFrame
    atoms: gpd.GeoDataFrame
    building_atom: pd.Series
    communities: gpd.GeoDataFrame
    unresolved: pd.DataFrame
    report: RuleReport
    notes: list[str] = field(default_factory=list)
    #: Where the exact method ran: one row per community piece (``community_id``,
    #: ``units``, ``households``, ``status``, ``gap``, ``time_s``; when no division in
    #: bounds exists, ``excess``: households outside the bounds in the division kept,
    #: ``least``: True when proved the fewest possible; ``bound``: the proved least
    #: households outside for any contiguous division, 0 when one in bounds was found;
    #: ``clock``: True when the clock safety, not the work limits, stopped the solve, so
    #: the result may depend on the machine's load; ``nodes``: branch-and-bound nodes;
    #: ``local_units``: when the piece holds fixed groups of a large compound's
    #: buildings, the units of the region of single atoms its proof was made over
    #: (:func:`_local_proof`), 0 when none was proved).
    exact: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=EXACT_COLUMNS))


def divide(
    street: Street,
    *,
    settings: Settings | None = None,
    locked: pd.Series | None = None,
    atoms: gpd.GeoDataFrame | None = None,
    communities: CommunityMode = "given",
    seed: int = 0,
    incidents: pd.Series | None = None,
) -> GridResult:
    """Divide the street into grids, keep the rules, and prove them.

    Parameters
    ----------
    street
        The street (projected CRS, metres).
    settings
        Grid bounds (``grid_min_households``, ``grid_max_households``,
        ``grid_target_households``), community bounds, code parts.
    locked
        Optional Series ``atom_id -> grid code`` of atoms whose grid is fixed (locked
        grids in the editor); the rest is divided around them and new codes avoid
        the locked ones.
    atoms
        Atoms from :func:`planner.grids.atoms.make_atoms` (made here when None).
    communities
        ``"given"`` uses the community layer (falls back to ``"derive"`` if the
        street has none), ``"derive"`` derives communities of 1,500-3,000 households
        (``community_*_households``), ``"single"`` treats the street as one.
    seed
        Seed of the random spanning trees (the result is deterministic for a seed).
    incidents
        Incidents per building (:func:`planner.grids.workload.read_incidents`) for the
        workload; with ``Settings.grid_bound_on`` "load" or "both" the bounds apply to
        the load (:mod:`planner.grids.workload`), balanced instead of households.

    Returns
    -------
    GridResult
    """
    settings = settings or Settings()
    rng = np.random.default_rng(seed)
    if atoms is None:
        atoms = make_atoms(street, settings=settings)
    atoms = atoms.copy()
    adj, shared = shared_edges(atoms.geometry.values)
    g = _graph(atoms, adj, street, shared)
    notes: list[str] = []
    comm_table, atoms["community_id"] = _communities(
        street, atoms, g, communities, settings, rng, notes
    )
    atoms["load"] = _atom_load(street, atoms, settings, incidents)
    g, (lo, hi, target), households_bound = _balanced(g, atoms, settings)
    locked_codes = pd.Series(dtype=object) if locked is None else locked.astype(str)
    is_locked = atoms["atom_id"].isin(locked_codes.index).to_numpy()
    unit, unit_reason = _units(
        atoms,
        g,
        street.compounds,
        lo=lo,
        hi=hi,
        target=target,
        rng=rng,
        notes=notes,
        split_big=settings.grid_split_large_compounds,
    )
    # the reasons are keyed by unit, and the next two steps number the units afresh:
    # carry each reason on an atom of its unit
    reason_at = {int(np.flatnonzero(unit == u)[0]): r for u, r in unit_reason.items()}
    unit = _attach_verges(atoms, g, unit, hi=hi)
    unit, unit_ded = _dedicated_units(atoms, g, unit, settings, notes)
    flags = _AtomFlags(
        comm=atoms["community_id"].to_numpy(),
        locked=is_locked,
        ded=unit_ded[unit],
        large=_in_large_compound(atoms, g.weight, hi),
        split=bool(settings.grid_split_large_compounds),
        reason_at=reason_at,
        also=households_bound,
    )
    names = _display_names(comm_table)
    state = rng.bit_generator.state  # --- dist14g: for a second pass from the same draws
    units = _unit_table(g, unit, flags)
    split = _divide_units(units, g, flags, (lo, hi, target), rng, settings, names)
    if split.regroup is not None:  # --- dist14g: fixed groups re-formed over atoms
        unit = np.asarray(
            pd.factorize(unit * (int(split.regroup.max()) + 2) + split.regroup + 1, sort=True)[0],
            dtype=np.int64,
        )
        rng.bit_generator.state = state
        notes += [
            str(msg("grid_regrouped", community=names.get(str(c), str(c))))
            for c in pd.unique(flags.comm[split.regroup >= 0])
        ]
        units = _unit_table(g, unit, flags)
        split = _divide_units(
            units, g, flags, (lo, hi, target), rng, settings, names, split.regroup
        )
    ug, unit_comm, unit_locked, unit_ded = units.graph, units.comm, units.locked, units.ded
    also = units.also
    notes += [_exact_note(row, names) for row in split.exact.itertuples()]
    notes += [
        str(msg("grid_exact_clock", community=names.get(str(c), str(c))))
        for c in split.exact.loc[split.exact["clock"].astype(bool), "community_id"]
    ]
    split = _place_dedicated(split, unit_ded & ~unit_locked)
    split = _repair_shapes(
        split, ug, unit_comm, unit_locked | unit_ded, (lo, hi), also, settings, notes
    )
    grid_of_atom = split.grid_of_unit[unit]
    locked_code_of = _place_locked(atoms, grid_of_atom, is_locked, locked_codes, split.n_grids)
    atoms["grid_id"] = grid_of_atom
    grids = _coded_grids(atoms, street, settings, comm_table, locked_code_of, split)
    atoms["code"] = atoms["grid_id"].map(grids.set_index("grid_id")["code"])
    unresolved = _unresolved(atoms, grids)
    b_load = None
    if settings.grid_bound_on != "households":
        b_load = building_load(street, settings, incidents=incidents)["load"]
    report = check_grids(grids, street, settings=settings, communities=comm_table, load=b_load)
    ok = "hold" if report.ok else "FAIL"
    logger.info("%d grids in %d communities; rules %s", len(grids), len(comm_table), ok)
    return GridResult(
        grids=grids,
        atoms=atoms,
        building_atom=building_atoms(street, atoms),
        communities=comm_table,
        unresolved=unresolved,
        report=report,
        notes=notes,
        exact=split.exact,
    )


def _coded_grids(
    atoms: gpd.GeoDataFrame,
    street: Street,
    settings: Settings,
    comm_table: gpd.GeoDataFrame,
    locked_code_of: dict[int, str],
    split: _UnitGrids,
) -> gpd.GeoDataFrame:
    """The grids dissolved from the atoms (``grid_id`` set), with ``locked``, the
    ``reason`` of each grid out of range and their codes (locked ones kept)."""
    grids = grids_from_atoms(atoms, street, settings=settings, comm_table=comm_table)
    grids["locked"] = grids["grid_id"].isin(list(locked_code_of))
    grids["shape_reason"] = _shape_reasons(grids, atoms, settings)
    grids["reason"] = (
        grids["grid_id"]
        .map(pd.Series(split.reason_of_grid, dtype=object))
        .astype(object)
        .where(grids["grid_id"].isin(list(split.reason_of_grid)), "")
    )
    grids["reason"] = _dedicated_reasons(grids)
    previous = pd.Series(locked_code_of, dtype=object)
    return assign_codes(grids, settings=settings, communities=comm_table, keep=previous)


@dataclass(frozen=True)
class _UnitGrids:
    """Grid number of each unit (-1: locked, placed later), the number of grids and
    why each grid out of range is so."""

    grid_of_unit: NDArray[np.int64]
    n_grids: int
    reason_of_grid: dict[int, str]
    exact: pd.DataFrame
    #: --- dist14g: the part of each atom (-1: none) in the divisions in bounds over
    #: single atoms found for pieces the fixed groups left without one (None: none) ---
    regroup: NDArray[np.int64] | None = None


def _partition_units(
    ug: part.Graph,
    unit_comm: NDArray[np.object_],
    unit_locked: NDArray[np.bool_],
    unit_reason: dict[int, str],
    *,
    lo: float,
    hi: float,
    target: float,
    rng: np.random.Generator,
    settings: Settings,
    also: exact.Bound | None = None,
    names: dict[str, str] | None = None,
    grouped: NDArray[np.bool_] | None = None,
    whole: NDArray[np.bool_] | None = None,
    atom_level: _AtomLevel | None = None,
) -> _UnitGrids:
    """Partition the unlocked units of each community, one connected piece of the
    unit graph at a time (:func:`planner.grids._partition.partition`, then the exact
    method where ``settings.grid_method`` asks, :func:`planner.grids.exact.settle`),
    numbering the grids in order. ``grouped``: the units that are fixed groups of the
    buildings of a compound above the maximum (a proof over them says so); ``whole``:
    the units that are compounds above the maximum the settings keep whole (a proof
    with them says that the setting is why); ``atom_level``: the atoms under the units,
    for proofs over single atoms where a piece's proof was over fixed groups
    (:func:`_local_proof`)."""
    grid_of_unit = np.full(ug.n, -1, dtype=np.int64)
    reason_of_grid: dict[int, str] = {}
    solved: list[tuple[object, ...]] = []
    regroup = None if atom_level is None else np.full(len(atom_level.unit), -1, dtype=np.int64)
    # the clock safety of the whole division (the work limits decide each piece's solve)
    budget_s = exact.CLOCK_SAFETY * settings.grid_exact_total_s
    next_grid = 0
    for comm in pd.unique(unit_comm):
        members = np.flatnonzero((unit_comm == comm) & ~unit_locked)
        if len(members) == 0:
            continue
        sub = ug.adj[members][:, members]
        ncomp, lab = csgraph.connected_components(sub, directed=False)
        for c in range(ncomp):
            nodes = members[lab == c]
            total = float(ug.weight[nodes].sum())
            labels = part.partition(ug, nodes, lo=lo, hi=hi, target=target, rng=rng)
            labels = _known(atom_level, nodes, labels)
            if settings.grid_method != "heuristic":
                labels = _restart(
                    ug, nodes, labels, lo=lo, hi=hi, target=target, rng=rng, also=also
                )
            labels, proof = exact.settle(
                ug,
                nodes,
                labels,
                lo=lo,
                hi=hi,
                target=target,
                method=settings.grid_method,
                time_limit_s=min(settings.grid_exact_time_limit_s, budget_s / exact.CLOCK_SAFETY),
                max_units=settings.grid_exact_max_units,
                also=also,
            )
            local_units = 0
            if (
                proof is not None
                and proof.status == "infeasible"
                and grouped is not None
                and grouped[nodes].any()
                and atom_level is not None
            ):
                proof, local_units, found = _local_proof(
                    atom_level,
                    ug,
                    nodes,
                    labels,
                    proof,
                    grouped,
                    (lo, hi, target),
                    min(settings.grid_exact_time_limit_s, budget_s / exact.CLOCK_SAFETY),
                    also,
                )
                if found is not None and regroup is not None:
                    regroup[found[0]] = found[1] + (int(regroup.max()) + 1)
            if proof is not None:
                budget_s -= proof.time_s
                if proof.status == "no_time_left":  # the division's clock safety was spent
                    proof = replace(proof, clock=True)
                solved.append(
                    (
                        comm,
                        proof.units,
                        total,
                        proof.status,
                        proof.gap,
                        proof.time_s,
                        proof.excess,
                        proof.least,
                        proof.bound,
                        proof.clock,
                        proof.nodes,
                        local_units,
                    )
                )
            grid_of_unit[nodes] = labels + next_grid
            k = int(labels.max()) + 1
            sums = np.bincount(labels, weights=ug.weight[nodes])
            for p in range(k):
                if not lo <= sums[p] <= hi:
                    reason_of_grid[next_grid + p] = _why(
                        sums[p],
                        total,
                        ncomp,
                        (names or {}).get(str(comm), str(comm)),
                        lo,
                        hi,
                        nodes[labels == p],
                        ug.weight,
                        unit_reason,
                        proof,
                        (
                            0 if grouped is None else int(grouped[nodes].sum()),
                            0 if whole is None else int(whole[nodes].sum()),
                            local_units,
                        ),
                    )
            next_grid += k
    table = pd.DataFrame(solved, columns=list(EXACT_COLUMNS))
    if regroup is not None and not (regroup >= 0).any():
        regroup = None
    return _UnitGrids(grid_of_unit, next_grid, reason_of_grid, table, regroup)


# --- dist14g: the units table, made again when fixed groups are re-formed over atoms ---
@dataclass(frozen=True)
class _AtomFlags:
    """What each atom brings to its unit: community, locked, dedicated, in a compound
    above the maximum (``large``; divided into fixed groups when ``split``), the reasons
    carried on atoms (position -> reason of its unit) and the households bound per atom
    (``grid_bound_on`` "both")."""

    comm: NDArray[np.object_]
    locked: NDArray[np.bool_]
    ded: NDArray[np.bool_]
    large: NDArray[np.bool_]
    split: bool
    reason_at: dict[int, str]
    also: exact.Bound | None


@dataclass(frozen=True)
class _UnitTable:
    """The units of a division (``unit``: the unit of each atom) and what each carries."""

    unit: NDArray[np.int64]
    graph: part.Graph
    comm: NDArray[np.object_]
    locked: NDArray[np.bool_]
    ded: NDArray[np.bool_]
    grouped: NDArray[np.bool_]
    whole: NDArray[np.bool_]
    reason: dict[int, str]
    also: exact.Bound | None


def _unit_table(g: part.Graph, unit: NDArray[np.int64], f: _AtomFlags) -> _UnitTable:
    """The units ``unit`` (labels 0..n-1, every label used) of the atom graph ``g``: a unit
    is a fixed group when it holds two or more atoms of a large compound divided into
    groups (dist14g: one building alone is no group), ``whole`` when it holds a large
    compound the settings keep whole (dist14c)."""
    n = int(unit.max()) + 1 if len(unit) else 0
    grouped = f.large & f.split
    also = None
    if f.also is not None:
        w = np.bincount(unit, weights=f.also.weight, minlength=n).astype(np.float64)
        also = exact.Bound(w, f.also.lo, f.also.hi)
    return _UnitTable(
        unit=unit,
        graph=_unit_graph(g, unit, n),
        comm=pd.Series(f.comm).groupby(unit).first().to_numpy(),
        locked=np.bincount(unit[f.locked], minlength=n) > 0,
        ded=np.bincount(unit[f.ded], minlength=n) > 0,
        grouped=np.bincount(unit[grouped], minlength=n) > 1,
        whole=np.bincount(unit[f.large & ~grouped], minlength=n) > 0,
        reason={int(unit[a]): r for a, r in f.reason_at.items()},
        also=also,
    )


def _divide_units(
    units: _UnitTable,
    g: part.Graph,
    f: _AtomFlags,
    bounds: tuple[float, float, float],
    rng: np.random.Generator,
    settings: Settings,
    names: dict[str, str],
    known: NDArray[np.int64] | None = None,
) -> _UnitGrids:
    """:func:`_partition_units` of the units' table (``known``: the divisions over single
    atoms found by a first pass, kept)."""
    lo, hi, target = bounds
    return _partition_units(
        units.graph,
        units.comm,
        units.locked | units.ded,
        units.reason,
        lo=lo,
        hi=hi,
        target=target,
        rng=rng,
        settings=settings,
        also=units.also,
        names=names,
        grouped=units.grouped,
        whole=units.whole,
        atom_level=_AtomLevel(g, units.unit, f.also, known),
    )


# --- dist14g: proofs over single atoms where the piece's proof was over fixed groups ---
#: The regions of a proof over single atoms (:func:`_region`), tried in this order until
#: one proves a household outside the bounds: the grids out of bounds alone, then with
#: the piece's units that are not fixed groups, then the whole piece over single atoms
#: (only up to :data:`LOCAL_PIECE_MAX_UNITS` units).
REGIONS: tuple[str, ...] = ("grids", "wide", "piece")

#: The whole piece over single atoms is tried only up to this many units (the full
#: soft program's cost per node grows with the square of the units; on the city street
#: of ``bench/bench_grids_street.py`` a piece of 61 units took 15 CPU s to prove).
LOCAL_PIECE_MAX_UNITS = 40


@dataclass(frozen=True)
class _AtomLevel:
    """The atoms under the units: the atom graph (weighted as the bounds apply), the
    unit of each atom and the households bound per atom (``grid_bound_on`` "both")."""

    g: part.Graph
    unit: NDArray[np.int64]
    also: exact.Bound | None
    #: The part of each atom in a division in bounds over single atoms found before
    #: (:attr:`_UnitGrids.regroup`; -1: none), which the piece holding it keeps.
    known: NDArray[np.int64] | None = None


def _known(
    at: _AtomLevel | None, nodes: NDArray[np.int64], labels: NDArray[np.int64]
) -> NDArray[np.int64]:
    """The division of the piece ``nodes`` found before over single atoms (``at.known``,
    each unit inside one of its parts by then), else ``labels``."""
    if at is None or at.known is None:
        return labels
    inside = np.isin(at.unit, nodes)
    part_of = at.known[inside]
    if len(part_of) == 0 or (part_of < 0).any():
        return labels
    first = pd.Series(part_of).groupby(at.unit[inside]).first()
    return np.asarray(pd.factorize(first.reindex(nodes).to_numpy(), sort=True)[0], dtype=np.int64)


def _local_proof(
    at: _AtomLevel,
    ug: part.Graph,
    nodes: NDArray[np.int64],
    labels: NDArray[np.int64],
    proof: exact.ExactResult,
    grouped: NDArray[np.bool_],
    bounds: tuple[float, float, float],
    limit_s: float,
    also: exact.Bound | None,
) -> tuple[exact.ExactResult, int, tuple[NDArray[np.int64], NDArray[np.int64]] | None]:
    """The proof of the piece ``nodes`` (units of ``ug``) made again over single atoms.

    The exact method proved over the piece's units, some of them fixed groups of a large
    compound's buildings (``grouped``), that no division keeps every grid in bounds; the
    planner made those groups, so that is no proof over the buildings. The region of
    the proof (:func:`_region`) holds the grids of ``labels`` out of bounds, with their
    fixed groups undone into single atoms, and the piece's units that are not fixed
    groups; the other groups are left out, their neighbours becoming ports.
    :func:`planner.grids.exact.local_excess_bound` bounds the households outside the
    bounds of every division of the piece over single atoms (whatever the groups). When
    that bound is at least one household, the proof stands over the atoms: returned with
    that bound (``least`` when the division kept reaches it) and the region's units;
    else ``proof`` unchanged with 0 (the proof is over the groups only), and then, when
    the program over the whole piece of single atoms found a division in bounds, its
    atoms (positions) and their part labels (else None). ``limit_s``: the base of the
    region's clock safety (work limits decide)."""
    lo, hi, target = bounds
    local = None if also is None else exact.Bound(also.weight[nodes], also.lo, also.hi)
    bad_part = exact.part_excess(ug.weight[nodes], labels, lo=lo, hi=hi, also=local) > 0
    r_also = None
    if at.also is not None:
        r_also = exact.Bound(at.also.weight, at.also.lo, at.also.hi)
    work, best, units = proof, 0.0, 0
    found = None
    clock = exact.Clock(limit_s)
    # the grids out of bounds alone first (a program of a few units); a wider region
    # only when that proves nothing (the fewest outside is not sought at its price)
    for reach in REGIONS:
        if limit_s <= 0 or clock.left() <= 0 or best > 0:
            break
        rg, rnodes, ports, of_atom = _region(
            at, ug.n, nodes, nodes[bad_part[labels]], grouped, reach
        )
        if not ports.any() and len(rnodes) > LOCAL_PIECE_MAX_UNITS:
            continue  # the whole piece over single atoms: only when small
        res = exact.local_excess_bound(
            rg,
            rnodes,
            ports,
            lo=lo,
            hi=hi,
            target=target,
            time_limit_s=limit_s,
            also=r_also,
            clock=clock,
            start=_region_start(rg, rnodes, of_atom, at.unit, nodes, labels),
        )
        if not ports.any() and res.labels is not None:  # a division in bounds over atoms
            inside = np.flatnonzero(np.isin(of_atom, rnodes))
            part_of = res.labels[np.searchsorted(rnodes, of_atom[inside])]
            found = (inside, np.asarray(part_of, dtype=np.int64))
        work = replace(
            work,
            time_s=work.time_s + res.time_s,
            clock=work.clock or res.clock,
            nodes=work.nodes + res.nodes,
        )
        if res.bound > best:
            best, units = res.bound, len(rnodes)
    if best <= 0:
        return work, 0, found
    bound = min(best, proof.excess)
    return replace(work, bound=bound, least=proof.excess <= best + 1e-9), units, None


def _region_start(
    rg: part.Graph,
    rnodes: NDArray[np.int64],
    of_atom: NDArray[np.int64],
    unit: NDArray[np.int64],
    nodes: NDArray[np.int64],
    labels: NDArray[np.int64],
) -> NDArray[np.int64]:
    """The region ``rnodes`` of graph ``rg`` (``of_atom``: the region node of each atom)
    cut by the piece's division ``labels`` (of its units ``nodes``; ``unit``: the unit of
    each atom): each grid's connected pieces in the region, numbered 0.. (a solution of
    the relaxation of :func:`planner.grids.exact.local_excess_bound`, its start)."""
    part_of = np.full(int(unit.max()) + 1, -1, dtype=np.int64)
    part_of[nodes] = labels
    grid = np.full(rg.n, -1, dtype=np.int64)
    grid[of_atom] = part_of[unit]
    g_r = grid[rnodes]
    sub = rg.adj[rnodes][:, rnodes].tocoo()
    same = g_r[sub.row] == g_r[sub.col]
    m = sparse.coo_matrix(
        (np.ones(int(same.sum())), (sub.row[same], sub.col[same])), shape=(len(rnodes),) * 2
    )
    _, comp = csgraph.connected_components(m, directed=False)
    return np.asarray(comp, dtype=np.int64)


def _region(
    at: _AtomLevel,
    n_units: int,
    nodes: NDArray[np.int64],
    bad: NDArray[np.int64],
    grouped: NDArray[np.bool_],
    reach: str,
) -> tuple[part.Graph, NDArray[np.int64], NDArray[np.bool_], NDArray[np.int64]]:
    """The region of a proof over single atoms (:func:`_local_proof`) in the piece
    ``nodes`` (``reach``, one of :data:`REGIONS`): the units of ``bad`` (the grids out
    of bounds; a fixed group among them as its single atoms); with "wide" also the
    piece's units that are not fixed groups, as far as they connect to ``bad``; with
    "piece" the whole piece, every fixed group as its single atoms. Returns the graph of the region's units (the atom graph
    ``at.g`` aggregated; the region's own nodes, then the left-out groups as one node,
    then the rest), the region's nodes, which of them are ports (touching a unit
    left out; none when nothing is: the region is then the whole piece over single
    atoms) and the node of that graph of every atom."""
    in_piece = np.zeros(n_units, dtype=bool)
    in_piece[nodes] = True
    is_bad = np.zeros(n_units, dtype=bool)
    is_bad[bad] = True
    u = at.unit
    whole = reach == "piece"
    undone = np.flatnonzero(in_piece[u] & grouped[u] & (is_bad[u] | whole))
    out = in_piece[u] & ~is_bad[u] & (grouped[u] if reach == "wide" else not whole)
    key = u.copy()
    key[undone] = n_units + np.arange(len(undone))
    dummy, rest = n_units + len(undone), n_units + len(undone) + 1
    key[out] = dummy
    key[~in_piece[u]] = rest
    labels, uniq = pd.factorize(key, sort=True)
    labels = np.asarray(labels, dtype=np.int64)
    graph = _unit_graph(at.g, labels, len(uniq))
    own = np.flatnonzero(uniq < dummy)
    _, comp = csgraph.connected_components(graph.adj[own][:, own], directed=False)
    seeds = np.unique(labels[np.isin(u, bad)])
    rnodes = own[np.isin(comp, comp[np.isin(own, seeds)])]
    ports = np.zeros(len(rnodes), dtype=bool)
    if out.any():
        d = int(np.searchsorted(uniq, dummy))
        ports = np.asarray(graph.adj[rnodes][:, [d]].todense()).ravel() > 0
    return graph, rnodes, ports, labels


# --- grids14: fresh starts before the exact method ---
#: Fresh partitions tried on a piece the first partition left out of range.
RESTARTS = 4


def _restart(
    ug: part.Graph,
    nodes: NDArray[np.int64],
    labels: NDArray[np.int64],
    *,
    lo: float,
    hi: float,
    target: float,
    rng: np.random.Generator,
    also: exact.Bound | None,
) -> NDArray[np.int64]:
    """The first of :data:`RESTARTS` fresh partitions of ``nodes`` that keeps every part
    in range, when ``labels`` does not; else ``labels``.

    The random trees of one partition may miss a division that others find, and a
    partition costs milliseconds where the exact method may spend its whole time limit
    without a result (pieces of 150-300 units). The fresh starts draw from generators
    spawned from ``rng`` (``Generator.spawn`` draws nothing from ``rng`` itself), so the
    division stays deterministic for a seed and the pieces the first partition settles
    are divided as before."""
    w = ug.weight[nodes]
    local = None if also is None else exact.Bound(also.weight[nodes], also.lo, also.hi)
    if float(w.sum()) < lo or not exact.needs_exact(w, labels, lo=lo, hi=hi, also=local):
        return labels
    for child in rng.spawn(RESTARTS):
        fresh = part.partition(ug, nodes, lo=lo, hi=hi, target=target, rng=child)
        if not exact.needs_exact(w, fresh, lo=lo, hi=hi, also=local):
            return fresh
    return labels


def _display_names(comm_table: pd.DataFrame) -> dict[str, str]:
    """Each community's name for reasons and notes a reader sees (its id when unnamed)."""
    ids = comm_table["community_id"].astype(str)
    named = comm_table["name"].astype(str).str.strip()
    return dict(zip(ids, named.where(named != "", ids), strict=True))


def _exact_note(row: tuple[object, ...], names: dict[str, str]) -> str:
    """The note of one exact solve (an ``itertuples`` row of :attr:`GridResult.exact`),
    naming the community by ``names``."""
    _, comm, units, households, status, gap, time_s, kept, least, bound = row[:10]
    key = f"grid_exact_{status}"
    if status == "feasible" and not np.isfinite(float(str(gap))):
        key = "grid_exact_feasible_nogap"
    elif status == "infeasible" and (bool(least) or float(str(bound)) > 0):
        key += "_least" if bool(least) else "_bound"  # the households outside, proved
    return str(
        msg(
            key,
            community=names.get(str(comm), str(comm)),
            units=units,
            households=int(float(str(households))),
            gap=float(str(gap)) * 100 if status == "feasible" else 0.0,
            time_s=float(str(time_s)),
            excess=round(float(str(kept))),
            bound=round(float(str(bound))),
        )
    )


def _place_locked(
    atoms: gpd.GeoDataFrame,
    grid_of_atom: NDArray[np.int64],
    is_locked: NDArray[np.bool_],
    locked_codes: pd.Series,
    next_grid: int,
) -> dict[int, str]:
    """Locked atoms keep their grid: each locked code gets its own grid number from
    ``next_grid`` on (written into ``grid_of_atom``). Returns number -> code."""
    if not is_locked.any():
        return {}
    codes_locked = locked_codes.reindex(atoms["atom_id"]).to_numpy()
    uniq, inv = np.unique(codes_locked[is_locked].astype(str), return_inverse=True)
    grid_of_atom[is_locked] = next_grid + inv
    return {next_grid + i: str(c) for i, c in enumerate(uniq)}


def grids_from_atoms(
    atoms: gpd.GeoDataFrame,
    street: Street,
    *,
    settings: Settings,
    comm_table: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """Dissolve atoms by ``grid_id`` into grid polygons with their figures.

    ``atoms`` needs ``grid_id``, ``community_id``, ``households``, ``population``,
    ``buildings``. Returns the grids layer (codes empty, ``locked`` False).
    """
    cols = ["grid_id", "community_id", "households", "population", "buildings"]
    gdf = atoms[[*cols, "geometry"]].copy()
    gdf["load"] = atoms["load"] if "load" in atoms.columns else atoms["households"]
    gdf["atoms"] = 1
    agg = (
        gdf.drop(columns="geometry")
        .groupby("grid_id")
        .agg(
            community_id=("community_id", "first"),
            households=("households", "sum"),
            population=("population", "sum"),
            buildings=("buildings", "sum"),
            atoms=("atoms", "sum"),
            load=("load", "sum"),
        )
    )
    geoms = _union_by(gdf.geometry.values, gdf["grid_id"].to_numpy(), agg.index.to_numpy())
    out = gpd.GeoDataFrame(agg.reset_index(), geometry=geoms, crs=atoms.crs)
    names = comm_table.set_index("community_id")["name"] if len(comm_table) else pd.Series()
    out["community"] = [str(names.get(c, "")) for c in out["community_id"]]
    out["code"] = ""
    out["code_provisional"] = False
    out["area_m2"] = out.geometry.area
    perim = out.geometry.length
    out["compactness"] = 4 * np.pi * out["area_m2"] / np.maximum(perim, 1e-9) ** 2
    out["locked"] = False
    out["reason"] = ""
    kinds = grid_kinds(atoms["grid_id"].to_numpy(), atoms)
    out["kind"] = out["grid_id"].map(kinds["kind"]).fillna(KIND_RESIDENTIAL).astype(str)
    out["land_use"] = out["grid_id"].map(kinds["land_use"]).fillna("").astype(str)
    out["feature_share"] = feature_share(out, street).per_grid
    out["shape_reason"] = ""
    out["households"] = out["households"].astype("int64")
    out["buildings"] = out["buildings"].astype("int64")
    return out[[*GRID_COLUMNS, "geometry"]]


def _union_by(
    geoms: NDArray[np.object_], key: NDArray[np.int64], order: NDArray[np.int64]
) -> NDArray[np.object_]:
    """Union of the geometries of each key, in ``order`` (one polygon where they touch)."""
    df = gpd.GeoDataFrame({"k": key}, geometry=geoms)
    single = df["k"].map(df["k"].value_counts()) == 1
    out = pd.Series(index=order, dtype=object)
    if single.any():
        out.loc[df.loc[single, "k"].to_numpy()] = df.geometry.values[single.to_numpy()]
    multi = df[~single]
    if len(multi):
        try:
            dis = multi.dissolve(by="k", method="coverage")
        except Exception:  # not an exact coverage (edited atoms): robust union
            dis = multi.dissolve(by="k")
        geo = np.asarray(dis.geometry.values, dtype=object)
        bad = ~shapely.is_valid(geo)
        if bad.any():  # repaired, without the line fragments a repair may leave
            geo[bad] = polygonal(shapely.make_valid(geo[bad]))
        out.loc[dis.index.to_numpy()] = geo
    return np.asarray(out.to_numpy(), dtype=object)


def _graph(
    atoms: gpd.GeoDataFrame,
    adj: pd.DataFrame,
    street: Street | None = None,
    shared: NDArray[np.object_] | None = None,
) -> part.Graph:
    """The atom graph; ``shared``: the shared boundary of each pair of ``adj``
    (:func:`planner.grids.atoms.shared_edges`), computed here when None."""
    geo = atoms.geometry.values
    c = shapely.centroid(np.asarray(geo, dtype=object))
    return part.Graph(
        off_feature=None if street is None else _off_feature(atoms, adj, street, shared),
        adj=adjacency_matrix(adj, len(atoms)),
        weight=atoms["households"].to_numpy(dtype=float),
        xy=shapely.get_coordinates(c),
        area=atoms["area_m2"].to_numpy(dtype=float),
        perimeter=atoms["perimeter_m"].to_numpy(dtype=float),
    )


# --- bounds: the workload and what the partition balances ---
def _atom_load(
    street: Street, atoms: gpd.GeoDataFrame, settings: Settings, incidents: pd.Series | None
) -> NDArray[np.float64]:
    """Load of each atom: its households plus the weighted business units, special
    populations and incidents of the buildings it holds (:mod:`planner.grids.workload`)."""
    hh: NDArray[np.float64] = atoms["households"].to_numpy(dtype=np.float64)
    weights = (
        settings.load_weight_business,
        settings.load_weight_special,
        settings.load_weight_incident,
    )
    if not any(weights) or len(street.buildings) == 0:
        return hh
    bl = building_load(street, settings, incidents=incidents)
    extra = (bl["load"] - bl["households"]).to_numpy(dtype=float)
    pos = pd.Series(np.arange(len(atoms)), index=atoms["atom_id"].to_numpy())
    ba = building_atoms(street, atoms).to_numpy()
    inside = ba >= 0
    rows = pos.reindex(ba[inside]).to_numpy(dtype=np.int64)
    added = np.bincount(rows, weights=extra[inside], minlength=len(atoms)).astype(np.float64)
    out: NDArray[np.float64] = hh + added
    return out


def _balanced(
    g: part.Graph, atoms: gpd.GeoDataFrame, settings: Settings
) -> tuple[part.Graph, tuple[float, float, float], exact.Bound | None]:
    """The atom graph weighted by what the bounds apply to (``Settings.grid_bound_on``),
    the bounds and target of the partition, and with "both" the households bound the
    exact method keeps as well (weights per atom)."""
    hh = (
        settings.grid_min_households,
        settings.grid_max_households,
        settings.grid_target_households,
    )
    if settings.grid_bound_on == "households":
        return g, (float(hh[0]), float(hh[1]), float(hh[2])), None
    weighted = replace(g, weight=atoms["load"].to_numpy(dtype=float))
    bounds = (settings.grid_min_load, settings.grid_max_load, settings.grid_target_load)
    second = None
    if settings.grid_bound_on == "both":
        second = exact.Bound(atoms["households"].to_numpy(dtype=float), hh[0], hh[1])
    return weighted, bounds, second


def _unit_graph(g: part.Graph, unit: NDArray[np.int64], n: int) -> part.Graph:
    """Aggregate the atom graph to units (weights, areas, perimeters, shared lengths)."""
    p = sparse.csr_matrix((np.ones(len(unit)), (unit, np.arange(len(unit)))), shape=(n, len(unit)))
    a = (p @ g.adj @ p.T).tocsr()
    internal = a.diagonal()
    a.setdiag(0)
    a.eliminate_zeros()
    area = p @ g.area
    xy = (p @ (g.xy * g.area[:, None])) / np.maximum(area, 1e-9)[:, None]
    off = None
    if g.off_feature is not None:
        off = (p @ g.off_feature @ p.T).tocsr()
        off.setdiag(0)
        off.eliminate_zeros()
    return part.Graph(
        off_feature=off,
        adj=a,
        weight=p @ g.weight,
        xy=xy,
        area=area,
        perimeter=p @ g.perimeter - internal,  # diagonal counts each shared edge twice
    )


def _communities(
    street: Street,
    atoms: gpd.GeoDataFrame,
    g: part.Graph,
    mode: CommunityMode,
    settings: Settings,
    rng: np.random.Generator,
    notes: list[str],
) -> tuple[gpd.GeoDataFrame, NDArray[np.object_]]:
    """Community of every atom, and the community table used."""
    comm = atoms["community_id"].astype(str).to_numpy().copy()
    given = len(street.communities) > 0 and mode == "given"
    kept = mode == "given" and not given and len(comm) > 0 and bool((comm != "").all())
    if kept:  # atoms carry communities derived earlier (e.g. re-dividing in the editor)
        table = pd.DataFrame({"community_id": sorted(set(comm)), "code": ""})
        table["name"] = [f"社区{c[1:]}" if c.startswith("C") else c for c in table["community_id"]]
    elif given:
        comm = _fill_unassigned(comm, g)
        if (comm == "").any():
            notes.append(f"{int((comm == '').sum())} atoms lie in no community and touch none")
        table = street.communities[["community_id", "name", "code"]].copy()
        table["community_id"] = table["community_id"].astype(str)
    else:
        if mode == "given":
            mode = "derive"
            notes.append(
                "the street has no community layer: communities derived "
                f"({settings.community_min_households}-"
                f"{settings.community_max_households} households)"
            )
        if mode == "single":
            comm = np.full(len(atoms), "C001", dtype=object)
        else:
            ncomp, lab = csgraph.connected_components(g.adj, directed=False)
            comm = np.empty(len(atoms), dtype=object)
            next_c = 0
            for c in range(ncomp):
                nodes = np.flatnonzero(lab == c)
                labels = part.partition(
                    g,
                    nodes,
                    lo=settings.community_min_households,
                    hi=settings.community_max_households,
                    target=(settings.community_min_households + settings.community_max_households)
                    / 2,
                    rng=rng,
                )
                comm[nodes] = [f"C{next_c + x + 1:03d}" for x in labels]
                next_c += int(labels.max()) + 1
        ids = sorted(set(comm))
        table = pd.DataFrame(
            {"community_id": ids, "name": [f"社区{i[1:]}" for i in ids], "code": ""}
        )
    geoms = _union_by(atoms.geometry.values, pd.factorize(comm)[0], np.arange(len(pd.unique(comm))))
    dissolved = gpd.GeoDataFrame({"community_id": pd.unique(comm)}, geometry=geoms, crs=atoms.crs)
    hh = pd.Series(atoms["households"].to_numpy()).groupby(comm).sum()
    table = table.drop_duplicates("community_id")
    table = dissolved.merge(pd.DataFrame(table), on="community_id", how="left")
    table["name"] = table["name"].astype(object).where(table["name"].notna(), "").astype(str)
    table["code"] = community_codes(table)
    table["households"] = table["community_id"].map(hh).fillna(0).astype("int64")
    return table[["community_id", "name", "code", "households", "geometry"]], comm


def _fill_unassigned(comm: NDArray[np.object_], g: part.Graph) -> NDArray[np.object_]:
    """Atoms in no community take the community they share the longest edge with."""
    comm = comm.copy()
    coo = g.adj.tocoo()
    for _ in range(50):
        empty = comm == ""
        if not empty.any():
            break
        sel = empty[coo.row] & ~empty[coo.col]
        if not sel.any():
            break
        df = pd.DataFrame({"a": coo.row[sel], "c": comm[coo.col[sel]], "w": coo.data[sel]})
        best = (
            df.groupby(["a", "c"])["w"]
            .sum()
            .reset_index()
            .sort_values(["a", "w"], ascending=[True, False])
            .drop_duplicates("a")
        )
        comm[best["a"].to_numpy()] = best["c"].to_numpy()
    return comm


def _compound_keys(atoms: gpd.GeoDataFrame) -> NDArray[np.object_]:
    """Each atom's compound key, ``community|compound`` ('a<i>' for an atom in none)."""
    comm = atoms["community_id"].astype(str).to_numpy()
    comp = atoms["compound_id"].astype(str).to_numpy()
    key = np.array([f"a{i}" for i in range(len(atoms))], dtype=object)
    in_comp = comp != ""
    key[in_comp] = comm[in_comp] + "|" + comp[in_comp]
    return key


def _in_large_compound(
    atoms: gpd.GeoDataFrame, weight: NDArray[np.float64], hi: float
) -> NDArray[np.bool_]:
    """Atoms of a compound (within one community) holding more than ``hi`` (households,
    or the load when the bounds are on it): the compounds :func:`_units` divides into
    fixed groups of whole buildings."""
    key = _compound_keys(atoms)
    total = pd.Series(weight).groupby(key).sum()
    in_comp = atoms["compound_id"].astype(str).to_numpy() != ""
    return np.asarray(in_comp & (pd.Series(key).map(total).to_numpy() > hi), dtype=bool)


def _units(
    atoms: gpd.GeoDataFrame,
    g: part.Graph,
    compounds: gpd.GeoDataFrame,
    *,
    lo: float,
    hi: float,
    target: float,
    rng: np.random.Generator,
    notes: list[str],
    split_big: bool = True,
) -> tuple[NDArray[np.int64], dict[int, str]]:
    """Unit label per atom: atoms that must stay in one grid share a unit.

    A compound above ``hi`` is divided between whole buildings when ``split_big``;
    otherwise it stays one unit, and the reason of its grid says so."""
    comm = atoms["community_id"].astype(str).to_numpy()
    comp = atoms["compound_id"].astype(str).to_numpy()
    hh = g.weight.astype(float)  # households, or the load when the bounds are on it
    n = len(atoms)
    key = _compound_keys(atoms)
    in_comp = comp != ""
    reasons: dict[int, str] = {}
    comp_hh = pd.Series(hh).groupby(key).sum()
    over = _in_large_compound(atoms, hh, hi)
    big = over if split_big else np.zeros(n, dtype=bool)
    for k in pd.unique(key[big]):
        nodes = np.flatnonzero(key == k)
        sub = g.adj[nodes][:, nodes]
        ncomp, lab = csgraph.connected_components(sub, directed=False)
        for c in range(ncomp):
            piece = nodes[lab == c]
            labels = part.partition(g, piece, lo=lo, hi=hi, target=target, rng=rng)
            key[piece] = [f"{k}|{c}|{x}" for x in labels]
            for x in np.flatnonzero(np.bincount(labels, weights=hh[piece]) > hi):
                key[piece[labels == x]] = _split_heavy(g, piece[labels == x], hi, f"{k}|{c}|{x}")
        cid = k.split("|", 1)[1]
        notes.append(
            f"compound {cid} holds {int(comp_hh[k])} households (> {int(hi)}): "
            "split into groups of whole buildings"
        )
    # units = connected pieces of equal key, plus adjacent atoms of one community that
    # both overlap a compound at most the maximum (a building drawn across a compound
    # outline joins an outside face to the compound's land)
    coo = g.adj.tocoo()
    same = key[coo.row] == key[coo.col]
    if len(compounds):
        small_hh = pd.Series(hh).groupby(comp).sum()
        cgeo = np.asarray(compounds.geometry.values, dtype=object)
        cids = compounds["compound_id"].astype(str).to_numpy()
        small = np.array([small_hh.get(c, 0.0) <= hi for c in cids])
        tree = shapely.STRtree(cgeo)
        ai, ci = query(tree, np.asarray(atoms.geometry.values, dtype=object), "intersects")
        keep = small[ci] & (comp[ai] != cids[ci])  # own atoms are joined by key already
        ai, ci = ai[keep], ci[keep]
        agen = np.asarray(atoms.geometry.values, dtype=object)
        area = shapely.area(parallel(shapely.intersection, agen[ai], cgeo[ci]))
        ok = area > np.maximum(
            _COMPOUND_OVERLAP_M2, _COMPOUND_OVERLAP_SHARE * shapely.area(cgeo[ci])
        )
        pos_of = {c: i for i, c in enumerate(cids)}
        own_a = np.flatnonzero(in_comp & pd.Series(comp).isin(list(pos_of)).to_numpy())
        own_c = np.array([pos_of[c] for c in comp[own_a]], dtype=np.int64)
        rows = np.concatenate([ai[ok], own_a])
        cols = np.concatenate([ci[ok], own_c])
        mat = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, len(cgeo)))
        shared = np.asarray(mat[coo.row].multiply(mat[coo.col]).sum(axis=1)).ravel() > 0
        same |= shared & (comm[coo.row] == comm[coo.col]) & ~big[coo.row] & ~big[coo.col]
    m = sparse.coo_matrix((np.ones(int(same.sum())), (coo.row[same], coo.col[same])), shape=(n, n))
    _, unit = csgraph.connected_components(m, directed=False)
    pieces = pd.Series(unit).groupby(key).nunique()
    for k, cnt in pieces[pieces > 1].items():
        if not str(k).startswith("a"):
            notes.append(f"compound {str(k).split('|')[1]} lies in {cnt} separate pieces")
    if not split_big:
        for k in pd.unique(key[over]):
            first = int(np.flatnonzero(key == k)[0])
            reasons[int(unit[first])] = str(
                msg(
                    "grid_reason_whole_compound",
                    compound=str(k).split("|", 1)[1],
                    households=int(comp_hh[k]),
                    hi=int(hi),
                )
            )
    big_atom = np.flatnonzero(hh > hi)
    for a in big_atom:
        reasons[int(unit[a])] = str(
            msg(
                "grid_reason_single_building",
                atom=int(atoms["atom_id"].iloc[a]),
                households=int(hh[a]),
                hi=int(hi),
            )
        )
    return np.asarray(unit, dtype=np.int64), reasons


# --- dist14g: no fixed group above the maximum ---
def _split_heavy(
    g: part.Graph, group: NDArray[np.int64], hi: float, name: str
) -> NDArray[np.object_]:
    """Keys of the atoms of a fixed group of a large compound's buildings that holds
    more than ``hi``: such a group could never be in bounds, and the exact method would
    take it for a unit it cannot cut. It is cut again into the fewest contiguous groups
    of at most ``hi`` it can be (:func:`planner.grids._partition.partition` with a
    minimum of one household, its random trees seeded by the group's first atom, so the division's own
    draws are unchanged); the atoms of a group still above ``hi`` are units of their own."""
    w = g.weight[group]
    k = max(2, math.ceil(float(w.sum()) / hi))
    rng = np.random.default_rng(int(group[0]))
    sub = part.partition(g, group, lo=1.0, hi=hi, target=float(w.sum()) / k, rng=rng, k=k)
    heavy = np.bincount(sub, weights=w) > hi
    keys = np.array([f"{name}|{x}" for x in sub], dtype=object)
    keys[heavy[sub]] = [f"{name}|a{a}" for a in group[heavy[sub]]]
    return keys


def _why(
    households: float,
    total: float,
    ncomp: int,
    comm: str,
    lo: float,
    hi: float,
    units: NDArray[np.int64],
    weight: NDArray[np.float64],
    unit_reason: dict[int, str],
    proof: exact.ExactResult | None = None,
    fixed: tuple[int, int, int] = (0, 0, 0),
) -> str:
    """Why a grid is out of ``[lo, hi]``: a proved exception (a unit that cannot be
    cut, a community or piece below the minimum, no count of grids fits, the exact
    method's proof that no division exists) or what the method could not do.
    ``fixed``: units of the piece that are fixed groups of a large compound's
    buildings (a proof says it is over those groups), and units that are compounds
    above the maximum the settings keep whole (a proof says that the setting
    ``grid_split_large_compounds`` is why), and the units of the region of single atoms
    a proof was made over instead of the groups (:func:`_local_proof`; 0: none)."""
    groups, whole, local_units = fixed
    for u in units:
        if int(u) in unit_reason:
            return unit_reason[int(u)]
    # the English of a catalogue message (planner.i18n reads it back for Chinese)
    if total < lo:
        key = "grid_reason_small_community" if ncomp == 1 else "grid_reason_small_piece"
        return str(msg(key, community=comm, households=int(total), lo=int(lo)))
    if proof is not None and proof.status in (
        "infeasible",
        "no_solution",
        "too_large",
        "no_time_left",
        "no_solver",
    ):
        least = "_least" if proof.status == "infeasible" and proof.least else ""
        over_groups = "_groups" if proof.status == "infeasible" and groups else ""
        if proof.status == "infeasible" and whole and not groups:
            over_groups = "_whole"
        if proof.status == "infeasible" and local_units:  # --- dist14g: over the atoms ---
            over_groups = "_atoms"
        return str(
            msg(
                f"grid_reason_exact_{proof.status}{least}{over_groups}",
                community=comm,
                households=int(total),
                units=proof.units,
                lo=int(lo),
                hi=int(hi),
                excess=round(proof.excess),
                groups=groups,
                whole=whole,
                atoms=local_units,
            )
        )
    k_lo, k_hi = part.k_range(total, lo, hi)
    if k_lo > k_hi:
        return str(
            msg(
                "grid_reason_no_count",
                community=comm,
                households=int(total),
                lo=int(lo),
                hi=int(hi),
            )
        )
    top = float(np.max(weight[units])) if len(units) else 0.0
    if households > hi:
        return str(
            msg(
                "grid_reason_whole_pieces",
                households=int(households),
                largest=int(top),
                lo=int(lo),
                hi=int(hi),
            )
        )
    return str(msg("grid_reason_no_join", households=int(households), lo=int(lo), hi=int(hi)))


def _unresolved(atoms: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> pd.DataFrame:
    bad = grids.loc[grids["reason"] != "", ["grid_id", "code", "reason"]]
    sel = atoms[atoms["grid_id"].isin(bad["grid_id"]) & (atoms["households"] > 0)]
    out = sel[["atom_id", "grid_id", "code", "households"]].merge(
        bad[["grid_id", "reason"]], on="grid_id"
    )
    return pd.DataFrame(out).reset_index(drop=True)


# --- dedicated: dedicated grids and grid shape ---


def _dedicated_units(
    atoms: gpd.GeoDataFrame,
    g: part.Graph,
    unit: NDArray[np.int64],
    settings: Settings,
    notes: list[str],
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Units re-labelled so each dedicated area (per community and connected piece)
    is one unit, and which units are dedicated.

    A piece of an area left smaller than ``dedicated_min_area_m2`` by the residential
    land cut out of it or by a community line (and not the area's largest piece) stays
    ordinary land (a unit
    of weight 0 that joins a neighbouring grid). Land without households cut off from
    every residential unit of its community by dedicated areas (a road verge between
    two campuses) joins the dedicated unit it shares the longest edge with, so no grid
    of 0 households is made of it.
    """
    n = len(atoms)
    if "dedicated" not in atoms.columns or n == 0:
        return unit, np.zeros(int(unit.max()) + 1 if n else 0, dtype=bool)
    comm = atoms["community_id"].astype(str).to_numpy()
    ded = atoms["dedicated"].astype(str).to_numpy()
    is_ded = ded != ""
    key = np.where(is_ded, "d|" + comm.astype(object) + "|" + ded.astype(object), "")
    piece = _pieces(g, key, is_ded)
    area = atoms["area_m2"].to_numpy(dtype=float)
    piece_area = pd.Series(area).groupby(piece).sum()
    keep = _kept_pieces(piece, ded.astype(object), piece_area, settings.dedicated_min_area_m2)
    is_ded &= keep
    new = np.where(is_ded, piece + int(unit.max()) + 1, unit)
    # land attached to a dedicated atom (the verge round a campus) follows it
    follow = pd.Series(new[is_ded]).groupby(unit[is_ded]).first()
    tied = ~is_ded & pd.Series(unit).isin(follow.index).to_numpy()
    new[tied] = follow.reindex(unit[tied]).to_numpy(dtype=np.int64)
    is_ded = is_ded | tied
    new = _absorb_empty(g, new, is_ded, comm, atoms["households"].to_numpy(dtype=float))
    labels, uniq = pd.factorize(new, sort=True)
    ded_unit = np.zeros(len(uniq), dtype=bool)
    ded_unit[labels[is_ded]] = True
    dropped = len(np.unique(piece[(ded != "") & ~keep]))
    if dropped:
        notes.append(
            f"{dropped} pieces of dedicated areas below {settings.dedicated_min_area_m2:.0f} m² "
            "(cut off by residential land) join neighbouring grids"
        )
    return np.asarray(labels, dtype=np.int64), ded_unit


def _pieces(
    g: part.Graph, key: NDArray[np.object_], member: NDArray[np.bool_]
) -> NDArray[np.int64]:
    """Connected pieces of adjacent member atoms of equal key (one label per atom;
    non-members get labels of their own)."""
    coo = g.adj.tocoo()
    same = member[coo.row] & member[coo.col] & (key[coo.row] == key[coo.col])
    n = len(key)
    m = sparse.coo_matrix((np.ones(int(same.sum())), (coo.row[same], coo.col[same])), shape=(n, n))
    _, lab = csgraph.connected_components(m, directed=False)
    return np.asarray(lab, dtype=np.int64)


def _kept_pieces(
    piece: NDArray[np.int64], key: NDArray[np.object_], piece_area: pd.Series, min_area: float
) -> NDArray[np.bool_]:
    """Atoms whose dedicated piece is kept: at least ``min_area`` m², or the largest
    piece of its area (``key``: the area of each atom; pieces of one area in two
    communities are two pieces)."""
    df = pd.DataFrame({"p": piece, "k": key})
    df["a"] = df["p"].map(piece_area)
    largest = df.groupby("k")["a"].transform("max")
    return np.asarray((df["a"] >= min_area) | (df["a"] >= largest), dtype=bool)


def _absorb_empty(
    g: part.Graph,
    unit: NDArray[np.int64],
    is_ded: NDArray[np.bool_],
    comm: NDArray[np.object_],
    households: NDArray[np.float64],
) -> NDArray[np.int64]:
    """Pieces of non-dedicated atoms of a community holding no households, that touch a
    dedicated unit, join the dedicated unit sharing the longest edge with them."""
    ordinary = ~is_ded
    piece = _pieces(g, comm.astype(object), ordinary)
    hh = pd.Series(households).groupby(piece).sum()
    empty = ordinary & (pd.Series(piece).map(hh).to_numpy() == 0)
    if not empty.any() or not is_ded.any():
        return unit
    coo = g.adj.tocoo()
    sel = empty[coo.row] & is_ded[coo.col] & (comm[coo.row] == comm[coo.col])
    if not sel.any():
        return unit
    df = pd.DataFrame({"p": piece[coo.row[sel]], "u": unit[coo.col[sel]], "w": coo.data[sel]})
    best = df.groupby(["p", "u"])["w"].sum().reset_index().sort_values("w", ascending=False)
    target = best.drop_duplicates("p").set_index("p")["u"]
    out = unit.copy()
    move = empty & pd.Series(piece).isin(target.index).to_numpy()
    out[move] = pd.Series(piece[move]).map(target).to_numpy(dtype=np.int64)
    return out


def _place_dedicated(split: _UnitGrids, ded_unit: NDArray[np.bool_]) -> _UnitGrids:
    """Each dedicated unit becomes a grid of its own, numbered after the others."""
    grid = split.grid_of_unit.copy()
    idx = np.flatnonzero(ded_unit)
    grid[idx] = split.n_grids + np.arange(len(idx))
    return _UnitGrids(grid, split.n_grids + len(idx), split.reason_of_grid, split.exact)


# --- grids: repair of thin grids ---
def _repair_shapes(
    split: _UnitGrids,
    ug: part.Graph,
    unit_comm: NDArray[np.object_],
    frozen: NDArray[np.bool_],
    bounds: tuple[float, float],
    also: exact.Bound | None,
    settings: Settings,
    notes: list[str],
) -> _UnitGrids:
    """Thin grids repaired by moving boundary units (:func:`planner.grids.compact.repair_thin`)
    when ``settings.grid_repair_thin``; the figures go to the notes."""
    if not settings.grid_repair_thin or settings.grid_min_compactness <= 0 or split.n_grids == 0:
        return split
    keep = [exact.Bound(ug.weight, bounds[0], bounds[1])]
    if also is not None:
        keep.append(also)
    grid, rep = compact.repair_thin(
        ug, split.grid_of_unit, unit_comm, frozen, keep, minimum=settings.grid_min_compactness
    )
    if rep.moves:
        notes.append(
            f"shape repair: {rep.moves} units moved between neighbouring grids; lowest "
            f"Polsby-Popper {rep.min_before:.3f} -> {rep.min_after:.3f}, grids below "
            f"{settings.grid_min_compactness:g}: {rep.thin_before} -> {rep.thin_after}"
        )
    return _UnitGrids(grid, split.n_grids, split.reason_of_grid, split.exact)


def _shape_reasons(
    grids: gpd.GeoDataFrame, atoms: gpd.GeoDataFrame, settings: Settings
) -> NDArray[np.object_]:
    """Why a grid below ``grid_min_compactness`` is so, when its atoms force it: it is one
    atom, one compound or one dedicated area, or it holds a thin atom that makes every
    grid able to take it thin (:func:`_forcing_atom`); '' for every
    other grid."""
    pp = polsby_popper(grids.geometry)
    out = np.full(len(grids), "", dtype=object)
    low = np.flatnonzero(pp < settings.grid_min_compactness)
    if len(low) == 0:
        return out
    gid_of = atoms["grid_id"].to_numpy()
    comp = atoms["compound_id"].astype(str)
    n_atoms = comp.groupby(gid_of).size()
    one_comp = (comp != "").groupby(gid_of).all() & (comp.groupby(gid_of).nunique() == 1)
    ctx: _ThinContext | None = None
    for k in low:  # few grids
        gid = grids["grid_id"].iloc[k]
        if int(n_atoms.get(gid, 0)) == 1:
            why = "grid_shape_one_atom"
        elif bool(one_comp.get(gid, False)):
            why = "grid_shape_one_compound"
        elif grids["kind"].iloc[k] == "dedicated":
            why = "grid_shape_dedicated"
        else:
            cap = np.inf if settings.grid_bound_on == "load" else settings.grid_max_households
            ctx = _ThinContext.of(grids, atoms) if ctx is None else ctx
            forcing = _forcing_atom(
                grids, atoms, int(k), settings.grid_min_compactness, cap, ctx=ctx
            )
            if forcing is None:
                continue
            out[k] = str(
                msg(
                    "grid_shape_forced_atom",
                    compactness=f"{pp[k]:.3f}",
                    minimum=f"{settings.grid_min_compactness:g}",
                    atom=forcing[0],
                    households=forcing[2],
                    atom_pp=f"{forcing[1]:.3f}",
                )
            )
            continue
        minimum = f"{settings.grid_min_compactness:g}"
        out[k] = str(msg(why, compactness=f"{pp[k]:.3f}", minimum=minimum))
    return out


# --- grids14: thin strips forced by the atoms ---
#: Grids sharing less boundary than this (m) with an atom cannot take it (a corner touch).
_TOUCH_M = 1.0


@dataclass(frozen=True)
class _ThinContext:
    """What :func:`_forcing_atom` reads, built once per division: each atom's grid,
    Polsby-Popper, households, community and geometry; each grid's geometry (in an
    STRtree), community, households and whether the repair may change it."""

    atom_grid: NDArray[np.object_]
    atom_pp: NDArray[np.float64]
    atom_hh: NDArray[np.float64]
    atom_comm: NDArray[np.object_]
    atom_id: NDArray[np.object_]
    atom_geo: NDArray[np.object_]
    grid_geo: NDArray[np.object_]
    grid_free: NDArray[np.bool_]
    grid_comm: NDArray[np.object_]
    grid_hh: NDArray[np.float64]
    tree: shapely.STRtree

    @classmethod
    def of(cls, grids: gpd.GeoDataFrame, atoms: gpd.GeoDataFrame) -> _ThinContext:
        area = atoms["area_m2"].to_numpy(dtype=float)
        perim = atoms["perimeter_m"].to_numpy(dtype=float)
        geo = np.asarray(grids.geometry.values, dtype=object)
        return cls(
            atom_grid=atoms["grid_id"].to_numpy(dtype=object),
            atom_pp=4 * np.pi * area / np.maximum(perim, 1e-9) ** 2,
            atom_hh=atoms["households"].to_numpy(dtype=float),
            atom_comm=atoms["community_id"].astype(str).to_numpy(dtype=object),
            atom_id=atoms["atom_id"].astype(str).to_numpy(dtype=object),
            atom_geo=np.asarray(atoms.geometry.values, dtype=object),
            grid_geo=geo,
            grid_free=~grids["locked"].to_numpy(dtype=bool)
            & (grids["kind"] != KIND_DEDICATED).to_numpy(),
            grid_comm=grids["community_id"].astype(str).to_numpy(dtype=object),
            grid_hh=grids["households"].to_numpy(dtype=float),
            tree=shapely.STRtree(geo),
        )


def _forcing_atom(
    grids: gpd.GeoDataFrame,
    atoms: gpd.GeoDataFrame,
    k: int,
    minimum: float,
    max_households: float = np.inf,
    ctx: _ThinContext | None = None,
) -> tuple[str, float, int] | None:
    """The atom that forces grid ``k`` below ``minimum``, with its own Polsby-Popper and
    households.

    Such an atom is itself below ``minimum`` (a verge along a river or road without
    households, a strip between two roads, a long block), and every grid that could take
    it instead is below ``minimum`` with it: each grid sharing more than :data:`_TOUCH_M`
    of boundary with it in its community that is neither locked nor dedicated (the
    grids the repair may change) and would stay within ``max_households`` with it, with
    the atom added. An atom cannot be split by the division, so one thin grid is
    unavoidable with the grids as they are; grid ``k`` is that grid. None when no atom
    of grid ``k`` does this (metres, projected CRS). ``ctx``: the arrays built once
    (:class:`_ThinContext`; built here when not given).
    """
    c = _ThinContext.of(grids, atoms) if ctx is None else ctx
    gid = grids["grid_id"].iloc[k]
    cand = np.flatnonzero((c.atom_grid == gid) & (c.atom_pp < minimum))
    for i in cand[np.argsort(c.atom_pp[cand], kind="stable")]:
        a = c.atom_geo[i]
        near = c.tree.query(a, predicate="intersects")
        near = near[(near != k) & c.grid_free[near] & (c.grid_comm[near] == c.atom_comm[i])]
        touch = shapely.length(shapely.intersection(shapely.boundary(c.grid_geo[near]), a.boundary))
        near = near[touch > _TOUCH_M]
        near = near[c.grid_hh[near] + c.atom_hh[i] <= max_households + 1e-9]
        with_atom = polsby_popper(shapely.union(c.grid_geo[near], a)) if len(near) else np.zeros(0)
        if (with_atom < minimum).all():
            return str(c.atom_id[i]), float(c.atom_pp[i]), int(c.atom_hh[i])
    return None


def _dedicated_reasons(grids: gpd.GeoDataFrame) -> pd.Series:
    """The ``reason`` column with each dedicated grid's: not residential, exempt from the
    household bounds (the English of a catalogue message, read back for Chinese)."""
    ded = grids["kind"] == KIND_DEDICATED
    why = [str(msg("grid_reason_dedicated", land_use=u)) for u in grids.loc[ded, "land_use"]]
    out: pd.Series = grids["reason"].astype(object).copy()
    out[ded] = why
    return out


def _attach_verges(
    atoms: gpd.GeoDataFrame, g: part.Graph, unit: NDArray[np.int64], *, hi: float = np.inf
) -> NDArray[np.int64]:
    """Each verge piece (``attach`` >= 0, :mod:`planner.grids._verges`) joins the unit of
    the atom it was cut for, when the two share an edge (units stay contiguous) and lie in
    one community.

    Joins that would chain units into one above ``hi`` (a ring taken whole with a
    block whose compound reaches beyond it, two blocks joined through verges) are not
    made: those units stay apart, so no unit the division cannot place is made of
    units it could."""
    if "attach" not in atoms.columns or len(atoms) == 0:
        return unit
    att = atoms["attach"].to_numpy(dtype=np.int64)
    src = np.flatnonzero(att >= 0)
    if len(src) == 0:
        return unit
    dst = att[src]
    comm = atoms["community_id"].astype(str).to_numpy()
    touch = np.asarray(g.adj[src, dst]).ravel() > 0
    ok = touch & (comm[src] == comm[dst])
    n = int(unit.max()) + 1
    m = sparse.coo_matrix((np.ones(int(ok.sum())), (unit[src[ok]], unit[dst[ok]])), shape=(n, n))
    _, lab = csgraph.connected_components(m, directed=False)
    lab = np.asarray(lab, dtype=np.int64)
    w_unit = np.bincount(unit, weights=g.weight, minlength=n)
    w_comp = np.bincount(lab, weights=w_unit)
    big = np.bincount(lab, minlength=len(w_comp)) > 1
    too = big & (w_comp > hi + 1e-9)
    too &= pd.Series(w_unit).groupby(lab).max().reindex(np.arange(len(w_comp))).to_numpy() <= hi
    if too.any():  # keep those units apart: fresh labels past the others
        apart = too[lab]
        lab = np.where(apart, len(w_comp) + np.arange(n), lab)
    merged = lab[unit]
    return np.asarray(pd.factorize(merged, sort=True)[0], dtype=np.int64)


def _off_feature(
    atoms: gpd.GeoDataFrame,
    adj: pd.DataFrame,
    street: Street,
    shared: NDArray[np.object_] | None = None,
) -> sparse.csr_matrix:
    """Symmetric matrix of the off-feature length (m) of each shared atom edge: the part
    farther than :data:`planner.grids.shape.FEATURE_TOLERANCE_M` from every road, wall,
    water and community line (lines drawn between buildings, cuts across verges).
    ``shared``: the shared boundary of each pair of ``adj`` (computed when None)."""
    geo = np.asarray(atoms.geometry.values, dtype=object)
    a, b = adj["a"].to_numpy(), adj["b"].to_numpy()
    if shared is None:
        shared = shapely.intersection(shapely.boundary(geo[a]), shapely.boundary(geo[b]))
    length, on = on_feature_length(shared, feature_tree(street))
    off = np.maximum(length - on, 0.0)
    return adjacency_matrix(pd.DataFrame({"a": a, "b": b, "length_m": off}), len(atoms))
