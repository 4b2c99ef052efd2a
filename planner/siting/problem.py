"""The siting problem: who can reach which site within the threshold, as sparse arrays.

A :class:`CoverageProblem` holds everything the solvers need and nothing
geographic: demand points (buildings) with weights (households), sites (candidate
sites plus existing stations, which are *fixed*), and a sparse CSR matrix
site x demand of walking minutes holding only the pairs within the threshold.
Existing stations are rows marked ``fixed``; the households they reach count as
covered before any new station is placed.

A zero walking time (a site at a building's door) is a real entry: the matrix
is built from ``indptr``/``indices`` and never through arithmetic that drops
explicit zeros, so coverage always reads the *pattern* of the matrix.

Examples
--------
>>> import numpy as np, scipy.sparse as sp
>>> minutes = sp.csr_matrix(np.array([[1.0, 0, 0], [0, 2.0, 3.0]]))
>>> p = CoverageProblem.build(weights=[10, 20, 30], minutes=minutes, threshold_min=15)
>>> p.n_sites, p.n_demand, int(p.reach_count[2])
(2, 3, 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ObjArray = npt.NDArray[np.object_]


@dataclass(frozen=True)
class CoverageProblem:
    """Demand, sites and the sparse site x demand walking-minutes matrix.

    Build it with :meth:`build`, which validates and normalises the inputs.

    Attributes
    ----------
    weights
        Households of each demand point (building), shape ``(n_demand,)``, >= 0.
    minutes
        CSR matrix ``(n_sites, n_demand)`` of walking minutes; an entry is stored
        (possibly 0.0) exactly when the site reaches the demand point within
        ``threshold_min``. Sorted indices, no duplicates.
    threshold_min
        Service threshold, minutes (default in the planner: 15).
    fixed
        True for existing stations (always open, never proposed), shape ``(n_sites,)``.
    covered_extra
        Demand points counted as covered before siting although no fixed row reaches
        them (e.g. covered by a station the caller did not put in the matrix).
    conflicts
        Pairs ``(i, j)`` of non-fixed sites that may not both open (minimum spacing),
        shape ``(m, 2)``, ``i < j``.
    site_ids, demand_ids
        Labels for reports (default: row/column positions as strings).
    """

    weights: FloatArray
    minutes: sp.csr_matrix
    threshold_min: float
    fixed: BoolArray
    covered_extra: BoolArray
    conflicts: IntArray
    site_ids: ObjArray = field(repr=False)
    demand_ids: ObjArray = field(repr=False)

    # ------------------------------------------------------------------ build
    @classmethod
    def build(
        cls,
        *,
        weights: npt.ArrayLike,
        minutes: sp.spmatrix | sp.sparray,
        threshold_min: float,
        fixed: npt.ArrayLike | None = None,
        covered: npt.ArrayLike | None = None,
        conflicts: npt.ArrayLike | None = None,
        site_ids: npt.ArrayLike | None = None,
        demand_ids: npt.ArrayLike | None = None,
    ) -> CoverageProblem:
        """Validate and normalise a coverage problem.

        Parameters
        ----------
        weights
            Households per demand point (non-negative, finite).
        minutes
            Sparse ``(n_sites, n_demand)`` walking minutes; entries above
            ``threshold_min`` are dropped, stored zeros are kept as reachable.
        threshold_min
            Service threshold, minutes.
        fixed
            Boolean mask of existing stations among the sites (default none).
        covered
            Boolean mask of demand points already covered by stations that are not
            rows of ``minutes`` (default none). Fixed rows add their own coverage.
        conflicts
            Pairs of site positions that may not both open; pairs touching a fixed
            site are refused (remove such candidates instead).
        site_ids, demand_ids
            Labels used in reports.

        Raises
        ------
        ValueError
            When shapes disagree or values are out of range (a programming error,
            not user input: the street-level functions validate user files).
        """
        w = np.asarray(weights, dtype=np.float64).ravel()
        if np.any(~np.isfinite(w)) or np.any(w < 0):
            raise ValueError("weights (households) must be finite and >= 0")
        if not threshold_min > 0:
            raise ValueError(f"threshold_min must be positive, got {threshold_min!r}")
        m = _within(minutes, threshold_min, w.size)
        n_sites, n_demand = m.shape
        fx = _mask(fixed, n_sites, "fixed", "sites")
        return cls(
            weights=w,
            minutes=m,
            threshold_min=float(threshold_min),
            fixed=fx,
            covered_extra=_mask(covered, n_demand, "covered", "demand points"),
            conflicts=_conflict_pairs(conflicts, n_sites, fx),
            site_ids=_labels(site_ids, n_sites, "site_ids"),
            demand_ids=_labels(demand_ids, n_demand, "demand_ids"),
        )

    # ------------------------------------------------------------- properties
    @property
    def n_sites(self) -> int:
        return int(self.minutes.shape[0])

    @property
    def n_demand(self) -> int:
        return int(self.minutes.shape[1])

    @property
    def reach(self) -> sp.csr_matrix:
        """Boolean pattern of :attr:`minutes` (site reaches demand within threshold)."""
        m = self.minutes
        return sp.csr_matrix(
            (np.ones(m.indices.size, dtype=np.float64), m.indices, m.indptr), shape=m.shape
        )

    @property
    def reach_count(self) -> IntArray:
        """Number of non-fixed sites reaching each demand point."""
        cand = self.reach[~self.fixed]
        return np.asarray(np.diff(cand.tocsc().indptr), dtype=np.int64)

    @property
    def covered_before(self) -> BoolArray:
        """Demand points covered before siting (by fixed sites or ``covered``)."""
        fixed_rows = self.minutes[self.fixed]
        hit = np.zeros(self.n_demand, bool)
        hit[fixed_rows.indices] = True
        return hit | self.covered_extra

    @property
    def candidates(self) -> IntArray:
        """Positions of the non-fixed sites (the candidates)."""
        return np.flatnonzero(~self.fixed).astype(np.int64)

    @property
    def households_total(self) -> float:
        return float(self.weights.sum())

    @property
    def households_covered_before(self) -> float:
        return float(self.weights[self.covered_before].sum())

    def unreachable(self) -> BoolArray:
        """Demand points not covered before and reached by no candidate."""
        return np.asarray((~self.covered_before) & (self.reach_count == 0), dtype=bool)

    def covered_by(self, sites: npt.ArrayLike) -> BoolArray:
        """Demand points covered by the fixed sites plus ``sites`` (positions)."""
        idx = np.asarray(sites, dtype=np.int64)
        hit = self.covered_before.copy()
        rows = self.minutes[idx]
        hit[rows.indices] = True
        return hit

    def households_covered(self, sites: npt.ArrayLike) -> float:
        """Households covered by the fixed sites plus ``sites``."""
        return float(self.weights[self.covered_by(sites)].sum())

    def total_minutes(self, sites: npt.ArrayLike) -> float:
        """Household-weighted walking minutes, to the nearest of the fixed sites plus
        ``sites``, summed over the covered demand points (household-minutes)."""
        idx = np.concatenate([np.flatnonzero(self.fixed), np.asarray(sites, np.int64)])
        best = nearest_site(self.minutes[idx])[1]
        ok = np.isfinite(best)
        return float((best[ok] * self.weights[ok]).sum())

    def violates_spacing(self, sites: npt.ArrayLike) -> bool:
        """Whether ``sites`` contains a conflicting pair."""
        chosen = np.zeros(self.n_sites, bool)
        chosen[np.asarray(sites, np.int64)] = True
        return bool(self.conflicts.size and np.any(chosen[self.conflicts].all(axis=1)))


def _within(
    minutes: sp.spmatrix | sp.sparray, threshold_min: float, n_demand: int
) -> sp.csr_matrix:
    """``minutes`` as sorted CSR without entries above ``threshold_min`` (stored zeros
    kept as reachable); refuses a wrong column count and minutes that are not finite
    and non-negative."""
    m = sp.csr_matrix(minutes, dtype=np.float64)
    m.sum_duplicates()
    m.sort_indices()
    if m.shape[1] != n_demand:
        raise ValueError(f"minutes has {m.shape[1]} demand columns, weights {n_demand}")
    if np.any(~np.isfinite(m.data)) or np.any(m.data < 0):
        raise ValueError("walking minutes must be finite and >= 0")
    keep = m.data <= threshold_min
    if not keep.all():
        rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))[keep]
        m = sp.csr_matrix((m.data[keep], (rows, m.indices[keep])), shape=m.shape)
        m.sort_indices()
    return m


def _mask(values: npt.ArrayLike | None, n: int, name: str, of: str) -> BoolArray:
    """A boolean mask of ``n`` entries (all False when None)."""
    out = np.zeros(n, bool) if values is None else np.asarray(values, bool).ravel()
    if out.size != n:
        raise ValueError(f"{name} has {out.size} entries, expected {n} {of}")
    return out


def _conflict_pairs(conflicts: npt.ArrayLike | None, n_sites: int, fixed: BoolArray) -> IntArray:
    """Conflict pairs as sorted unique ``(i, j)`` rows with ``i < j``; refuses pairs
    out of range or touching a fixed site."""
    if conflicts is None:
        return np.zeros((0, 2), np.int64)
    pairs = np.asarray(conflicts, dtype=np.int64).reshape(-1, 2)
    if pairs.size == 0:
        return pairs
    if pairs.min() < 0 or pairs.max() >= n_sites:
        raise ValueError("conflict pairs refer to sites out of range")
    pairs = np.sort(pairs, axis=1)
    pairs = np.unique(pairs[pairs[:, 0] != pairs[:, 1]], axis=0)
    if np.any(fixed[pairs].any(axis=1)):
        raise ValueError("conflict pairs may not involve fixed sites; drop the candidate")
    return pairs


def _labels(values: npt.ArrayLike | None, n: int, name: str) -> ObjArray:
    """One label per site or demand point (positions as strings when None)."""
    out = np.arange(n).astype(str) if values is None else np.asarray(values, dtype=object).ravel()
    if out.size != n:
        raise ValueError("site_ids/demand_ids must have one label per site/demand point")
    return np.asarray(out, dtype=object)


def nearest_site(minutes: sp.csr_matrix) -> tuple[IntArray, FloatArray]:
    """For each demand column, the row with the smallest stored minutes.

    Parameters
    ----------
    minutes
        CSR ``(rows, n_demand)`` walking minutes (stored entries = reachable).

    Returns
    -------
    row, best
        Row position of the nearest site (-1 where none reaches) and its minutes
        (``inf`` where none reaches). Ties go to the lower row.
    """
    coo = minutes.tocoo()
    n = minutes.shape[1]
    row = np.full(n, -1, dtype=np.int64)
    best = np.full(n, np.inf)
    if coo.nnz:
        order = np.lexsort((coo.row, coo.data, coo.col))
        cols = coo.col[order]
        first = np.ones(cols.size, bool)
        first[1:] = cols[1:] != cols[:-1]
        row[cols[first]] = coo.row[order][first]
        best[cols[first]] = coo.data[order][first]
    return row, best
