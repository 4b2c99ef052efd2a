"""The compact model both solvers work on, reduced exactly from a CoverageProblem.

Reductions (all exact, none changes an optimum):

* demand points already covered, with no households, or reached by no candidate
  are dropped (they cannot change the objective);
* candidates reaching no remaining demand point are dropped (they cover nothing);
* dominated candidates are dropped: those reaching a subset of what another
  candidate (in no spacing conflict) reaches - swapping one for the other never
  covers fewer households (:func:`dominated`);
* a demand point reached by exactly one candidate needs no variable: its
  households are added to that candidate's own weight (``own_w``), since
  covering it is the same as opening that candidate;
* demand points reached by the same set of candidates are merged into one group
  whose weight is the sum (rows hashed with two independent 64-bit keys plus
  their length; a collision has probability about 2^-128).

Tie-break. Each candidate gets ``tie_cost`` in [0, 1]: the household-weighted
mean walking minutes from it to the demand points it can newly cover, divided
by the threshold. Solvers subtract a tiny multiple of it so that, among plans
covering the same households, the one whose stations sit closer to their
households wins (fewer walking minutes in total). The multiple is chosen so the
total penalty of a plan stays below half a household: it never trades away a
household.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from planner.siting.problem import BoolArray, CoverageProblem, FloatArray, IntArray

log = logging.getLogger(__name__)

#: Skip the dominance reduction when its pairwise product would exceed this many
#: entries (memory: about 16 bytes each).
MAX_DOMINANCE_PAIRS = 60_000_000


@dataclass(frozen=True)
class ReducedModel:
    """Candidates x demand groups after exact reductions.

    Attributes
    ----------
    cand
        Site positions (in the problem) of the kept candidates, shape ``(n_c,)``.
    own_w
        Households reached only by this candidate, shape ``(n_c,)``.
    groups
        CSR ``(n_g, n_c)`` pattern: group g is covered when any of its candidates
        opens; every group has at least two candidates.
    group_w
        Households of each group, shape ``(n_g,)``.
    tie_cost
        Normalised tie-break cost of each candidate in [0, 1].
    conflicts
        Pairs of positions into ``cand`` that may not both open.
    unit
        Smallest difference in households the objective can make (1 for whole
        households; otherwise the smallest positive weight, an approximation).
    coverable
        Households not yet covered that some candidate can reach.
    """

    cand: IntArray
    own_w: FloatArray
    groups: sp.csr_matrix
    group_w: FloatArray
    tie_cost: FloatArray
    conflicts: IntArray
    unit: float
    coverable: float

    @property
    def n_c(self) -> int:
        return int(self.cand.size)

    @property
    def n_g(self) -> int:
        return int(self.group_w.size)

    def value(self, chosen: IntArray) -> float:
        """Households newly covered when the candidates at model positions ``chosen``
        open."""
        on = np.zeros(self.n_c, bool)
        on[chosen] = True
        hit = (self.groups @ on.astype(np.float64)) > 0
        return float(self.own_w[on].sum() + self.group_w[hit].sum())


def reduce_problem(problem: CoverageProblem, *, dominance: bool = True) -> ReducedModel:
    """Build the :class:`ReducedModel` of ``problem`` (see the module docstring).

    With ``dominance``, candidates whose newly coverable households are a subset
    of another candidate's are dropped (:func:`dominated`).
    """
    cand_pos = problem.candidates
    w = problem.weights
    elig = (~problem.covered_before) & (w > 0)
    sub = problem.minutes[cand_pos][:, np.flatnonzero(elig)]  # keeps explicit zeros
    sub = sp.csr_matrix(sub)
    sub.sort_indices()
    w_e = w[elig]
    # Candidates that reach something eligible.
    row_nnz = np.diff(sub.indptr)
    keep_c = row_nnz > 0
    sub = sub[np.flatnonzero(keep_c)]
    cand = cand_pos[keep_c]
    n_c = int(cand.size)

    # Tie-break cost: household-weighted mean minutes over reachable eligible demand.
    wt = w_e[sub.indices]
    rows = np.repeat(np.arange(n_c), np.diff(sub.indptr))
    num = np.bincount(rows, weights=sub.data * wt, minlength=n_c)
    den = np.bincount(rows, weights=wt, minlength=n_c)
    with np.errstate(invalid="ignore", divide="ignore"):
        tie = np.where(den > 0, num / np.maximum(den, 1e-300), 0.0) / problem.threshold_min
    tie = np.clip(tie, 0.0, 1.0)

    # Demand-side view: for each eligible demand, its candidates.
    dem = sp.csr_matrix(
        (np.ones(sub.indices.size), sub.indices, sub.indptr), shape=sub.shape
    ).T.tocsr()
    dem.sort_indices()
    coverable = float(w_e[np.diff(dem.indptr) > 0].sum())
    # the pairwise product below costs about sum(candidates per demand point ** 2)
    pair_work = float(np.square(np.diff(dem.indptr).astype(np.float64)).sum())
    if dominance and n_c > 1 and pair_work <= MAX_DOMINANCE_PAIRS:
        in_conflict = np.zeros(n_c, bool)
        in_conflict[_local_conflicts(problem, cand).ravel()] = True
        keep = ~dominated(dem.T.tocsr(), w_e, tie, can_dominate=~in_conflict)
        if not keep.all():
            log.debug("dominance: %d of %d candidates dropped", int((~keep).sum()), n_c)
            cand, tie = cand[keep], tie[keep]
            n_c = int(cand.size)
            dem = dem[:, np.flatnonzero(keep)].tocsr()
            dem.sort_indices()
    cnt = np.diff(dem.indptr)

    single = cnt == 1
    own_w = np.bincount(
        dem.indices[dem.indptr[:-1][single]], weights=w_e[single], minlength=n_c
    ).astype(np.float64)

    multi = np.flatnonzero(cnt >= 2)
    groups, group_w = _merge_identical_rows(dem[multi], w_e[multi])

    pairs = _local_conflicts(problem, cand)
    nz = w[w > 0]
    unit = 1.0 if np.all(nz == np.round(nz)) else (float(nz.min()) if nz.size else 1.0)
    return ReducedModel(
        cand=cand.astype(np.int64),
        own_w=own_w,
        groups=groups,
        group_w=group_w,
        tie_cost=tie.astype(np.float64),
        conflicts=pairs,
        unit=unit,
        coverable=coverable,
    )


def dominated(
    cover: sp.csr_matrix,
    w: FloatArray,
    tie: FloatArray,
    *,
    can_dominate: BoolArray,
) -> BoolArray:
    """Candidates another candidate makes redundant.

    Candidate j is dominated by i when every demand point j reaches, i reaches too
    (so swapping j for i never covers fewer households), and i covers strictly more
    households, or the same ones with a smaller tie-break cost (then the lower
    position). The relation is a strict order, so the best of each chain stays.
    Only candidates in no spacing conflict may dominate (a swap must stay feasible).

    Parameters
    ----------
    cover
        CSR ``(n_c, n_demand)`` pattern (1.0 where the candidate reaches the demand).
    w
        Households of each demand point (all > 0).
    tie
        Tie-break cost of each candidate.
    can_dominate
        Candidates allowed to dominate others.
    """
    n_c = cover.shape[0]
    gain = np.asarray(cover @ w, dtype=np.float64)
    shared = (cover @ sp.diags(w) @ cover.T).tocoo()  # households reached by both
    j, i, v = shared.row, shared.col, shared.data
    tol = 1e-9 * np.maximum(1.0, gain[j])
    subset = (i != j) & (np.abs(v - gain[j]) <= tol) & can_dominate[i]
    strictly = gain[i] > gain[j] + tol
    better = strictly | (tie[i] < tie[j]) | ((tie[i] == tie[j]) & (i < j))
    out = np.zeros(n_c, bool)
    out[j[subset & better]] = True
    return out


def _merge_identical_rows(rows: sp.csr_matrix, w: FloatArray) -> tuple[sp.csr_matrix, FloatArray]:
    """Merge CSR rows with identical patterns, summing their weights."""
    n_rows, n_cols = rows.shape
    if n_rows == 0:
        return sp.csr_matrix((0, n_cols)), np.zeros(0)
    rng = np.random.default_rng(20240607)
    keys = rng.integers(0, 2**63 - 1, size=(2, n_cols), dtype=np.int64).astype(np.uint64)
    starts = rows.indptr[:-1]
    with np.errstate(over="ignore"):
        h1 = np.add.reduceat(keys[0][rows.indices], starts)
        h2 = np.add.reduceat(keys[1][rows.indices], starts)
    lens = np.diff(rows.indptr).astype(np.uint64)
    sig = np.stack([h1, h2, lens], axis=1)
    _, first, inverse = np.unique(sig, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    gw = np.bincount(inverse, weights=w, minlength=first.size)
    merged = rows[first]
    merged = sp.csr_matrix(
        (np.ones(merged.indices.size), merged.indices, merged.indptr), shape=merged.shape
    )
    return merged, gw.astype(np.float64)


def _local_conflicts(problem: CoverageProblem, cand: IntArray) -> IntArray:
    """Conflict pairs of ``problem`` restated as positions into ``cand``."""
    if not problem.conflicts.size:
        return np.zeros((0, 2), np.int64)
    local = np.full(problem.n_sites, -1, np.int64)
    local[cand] = np.arange(cand.size)
    pairs = local[problem.conflicts]
    return pairs[(pairs >= 0).all(axis=1)]


def conflict_graph(n: int, pairs: IntArray) -> sp.csr_matrix:
    """Symmetric CSR adjacency of conflict pairs among ``n`` candidates."""
    if not pairs.size:
        return sp.csr_matrix((n, n))
    data = np.ones(2 * len(pairs))
    r = np.concatenate([pairs[:, 0], pairs[:, 1]])
    c = np.concatenate([pairs[:, 1], pairs[:, 0]])
    return sp.csr_matrix((data, (r, c)), shape=(n, n))


def mask_of(n: int, idx: IntArray) -> BoolArray:
    out = np.zeros(n, bool)
    out[idx] = True
    return out
