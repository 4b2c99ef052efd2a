"""Exact contiguous partition with hard bounds: a mixed-integer program solved by HiGHS.

Used by :func:`planner.grids.division.divide` on a community's connected piece of
units when the heuristic (:mod:`planner.grids._partition`) leaves a part out of
``[lo, hi]`` (``Settings.grid_method="auto"``), or always (``"exact"``). It either
finds a division with every part in bounds, or proves that none exists for the
units and adjacency given, or says that the time limit ran out first. When none
exists, the same program with soft bounds finds the division with the fewest
households outside the bounds.

The program (``n`` units numbered ``0..n-1``; each part is named by its lowest unit,
its *representative*, which removes the relabellings of the parts):

- ``x[i, j]`` (binary, ``j <= i``): unit ``i`` is in the part represented by ``j``;
  ``x[j, j] = 1`` when ``j`` represents a part; each unit in exactly one part;
  ``x[i, j] <= x[j, j]``;
- bounds: ``lo x[j, j] <= load_j <= hi`` with ``load_j = sum_i w[i] x[i, j]``; a unit
  heavier than ``hi`` (a single building, or a compound the settings keep whole)
  counts as ``hi`` in the upper bound, so it is a part of its own with zero-weight
  units only; soft bounds add slacks ``s_lo_j``, ``s_hi_j`` costing
  :data:`SOFT_COST` per household;
- contiguity (single-commodity flow, Shirabe 2005): commodity ``j`` flows only
  between units of part ``j`` (``f[a, j] <= (n - 1) x[end, j]`` at both ends of arc
  ``a``), leaves from the representative and is consumed one unit by each other
  member (``in - out = x[i, j]``), so every member is reached from ``j`` inside the
  part; plus the valid inequalities ``x[i, j] <= sum_{v ~ i, v >= j} x[v, j]``
  (a member has a neighbour in its part), which tighten the relaxation;
- objective: ``sum_j |load_j - target x[j, j]| / target`` (balance), plus the slacks.

The relative MIP gap HiGHS reports is kept with the result.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from planner.grids._partition import Graph

logger = logging.getLogger(__name__)

#: Cost of one household outside the bounds (soft bounds) against the deviation term,
#: which costs 1 per target's worth of households.
SOFT_COST = 1000.0

#: Branch-and-bound nodes the soft-bounds program may use: it stops on this count
#: rather than on the clock, so the division kept is the same on a busy machine (a
#: division must be deterministic for a seed; the time limit stays as a safety).
SOFT_MAX_NODES = 300

ExactStatus = Literal[
    "optimal", "feasible", "infeasible", "no_solution", "too_large", "no_time_left", "no_solver"
]


@dataclass(frozen=True)
class ExactResult:
    """The outcome of :func:`exact_partition`.

    Attributes
    ----------
    status
        ``"optimal"`` (proved best), ``"feasible"`` (in bounds, time limit reached:
        ``gap`` says how far from the best it may be), ``"infeasible"`` (proved: no
        contiguous division of the units keeps every part in bounds),
        ``"no_solution"`` (time limit reached with neither a division nor a proof),
        ``"too_large"`` (more units than ``max_units``; not solved),
        ``"no_time_left"`` (the division's time budget for the exact method,
        ``Settings.grid_exact_total_s``, was spent; not solved), ``"no_solver"``
        (``highspy`` is not installed; not solved).
    labels
        Part label (0..k-1) of each node (``None`` unless optimal or feasible).
    gap
        Relative optimality gap (0 when optimal, ``inf`` without a solution).
    time_s
        Solver wall time, seconds.
    units
        Number of units in the program.
    excess
        When infeasible: households outside the bounds (summed over the parts) in
        the division kept (:func:`settle`), else 0.
    least
        When infeasible: True if the soft-bounds program proved ``excess`` the least
        any contiguous division can have.
    """

    status: ExactStatus
    labels: NDArray[np.int64] | None
    gap: float
    time_s: float
    units: int
    excess: float = 0.0
    least: bool = False

    @property
    def found(self) -> bool:
        """True when every part of ``labels`` is in bounds."""
        return self.labels is not None


@dataclass(frozen=True)
class Bound:
    """A second bound every part must keep: ``weight`` per node of the graph (e.g.
    households when the partition balances the workload), in ``[lo, hi]``."""

    weight: NDArray[np.float64]
    lo: float
    hi: float


class _Rows:
    """Sparse rows collected block by block (COO triplets and row bounds)."""

    def __init__(self) -> None:
        self.rows: list[NDArray[np.int64]] = []
        self.cols: list[NDArray[np.int64]] = []
        self.vals: list[NDArray[np.float64]] = []
        self.lo: list[NDArray[np.float64]] = []
        self.hi: list[NDArray[np.float64]] = []
        self.count = 0

    def add(
        self,
        n_rows: int,
        row: NDArray[np.int64],
        col: NDArray[np.int64],
        val: NDArray[np.float64] | float,
        lo: NDArray[np.float64] | float,
        hi: NDArray[np.float64] | float,
    ) -> None:
        """Add ``n_rows`` rows; ``row`` is local (0..n_rows-1)."""
        self.rows.append(np.asarray(row, dtype=np.int64) + self.count)
        self.cols.append(np.asarray(col, dtype=np.int64))
        self.vals.append(np.broadcast_to(np.asarray(val, dtype=np.float64), np.shape(row)).copy())
        self.lo.append(np.broadcast_to(np.asarray(lo, dtype=np.float64), (n_rows,)).copy())
        self.hi.append(np.broadcast_to(np.asarray(hi, dtype=np.float64), (n_rows,)).copy())
        self.count += n_rows

    def matrix(self, n_col: int) -> tuple[sp.csr_matrix, NDArray[np.float64], NDArray[np.float64]]:
        a = sp.csr_matrix(
            (np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))),
            shape=(self.count, n_col),
        )
        a.sum_duplicates()
        return a, np.concatenate(self.lo), np.concatenate(self.hi)


def max_parts(weight: NDArray[np.float64], lo: float, hi: float) -> int:
    """Most parts a division in bounds can have: one per unit above ``hi`` plus as
    many as the rest's weight allows at ``lo`` each (at least 1)."""
    big = weight > hi
    rest = float(weight[~big].sum())
    return max(1, int(big.sum()) + math.floor(rest / lo + 1e-9))


@dataclass(frozen=True)
class _Layout:
    """Columns of the program: ``x`` for the pairs ``(i, j)``, ``j <= i`` (``xcol[i, j]``),
    then the flows ``(arc, j)``, then one deviation per representative ``j``."""

    n: int
    xi: NDArray[np.int64]
    xj: NDArray[np.int64]
    xcol: NDArray[np.int64]
    tail: NDArray[np.int64]
    head: NDArray[np.int64]
    fa: NDArray[np.int64]
    fj: NDArray[np.int64]

    @property
    def n_x(self) -> int:
        return len(self.xi)

    @property
    def d0(self) -> int:
        return self.n_x + len(self.fa)

    @property
    def s0(self) -> int:
        """First slack column: households below the minimum, then above the maximum,
        of each part (soft bounds only)."""
        return self.d0 + self.n

    n_bounds: int = 1

    @property
    def n_col(self) -> int:
        return self.s0 + 2 * self.n * self.n_bounds

    @classmethod
    def of(cls, n: int, ea: NDArray[np.int64], eb: NDArray[np.int64], n_bounds: int = 1) -> _Layout:
        xi, xj = np.tril_indices(n)
        xcol = np.full((n, n), -1, dtype=np.int64)
        xcol[xi, xj] = np.arange(len(xi))
        tail = np.r_[ea, eb].astype(np.int64)
        head = np.r_[eb, ea].astype(np.int64)
        # commodity j uses arc (t, h) when j <= min(t, h) and h != j (nothing flows into
        # the representative)
        top = np.minimum(tail, head)
        count = top + 1
        fa = np.repeat(np.arange(len(tail)), count)
        fj = np.arange(len(fa)) - np.repeat(np.cumsum(count) - count, count)
        keep = head[fa] != fj
        return cls(
            n,
            xi.astype(np.int64),
            xj.astype(np.int64),
            xcol,
            tail,
            head,
            fa[keep],
            fj[keep],
            n_bounds,
        )


def exact_partition(
    g: Graph,
    nodes: NDArray[np.int64],
    *,
    lo: float,
    hi: float,
    target: float,
    time_limit_s: float,
    max_units: int,
    soft: bool = False,
    start: NDArray[np.int64] | None = None,
    also: Bound | None = None,
) -> ExactResult:
    """Divide the connected ``nodes`` of ``g`` into contiguous parts in ``[lo, hi]``.

    With ``soft=True`` the bounds may be broken at a cost: the program minimises the
    households outside the bounds (summed over the parts) first, then the deviation
    from the target; it always has a solution, and ``optimal`` then proves that no
    contiguous division has fewer households outside the bounds.

    Parameters
    ----------
    g
        The unit graph (weights: households; shared edge lengths in metres).
    nodes
        Indices of a connected set of ``g``'s nodes.
    lo, hi, target
        Bounds and target of each part's weight. A node heavier than ``hi`` is a part
        of its own (with zero-weight nodes only).
    time_limit_s
        HiGHS time limit, seconds.
    max_units
        Larger sets are not solved (status ``"too_large"``).
    soft
        Bounds may be broken at a cost (see above).
    start
        Part labels of a contiguous division to start from (e.g. the heuristic's);
        HiGHS completes the flows and slacks of it.
    also
        A second bound on every part (soft too when ``soft``).

    Returns
    -------
    ExactResult
    """
    n = len(nodes)
    if n > max_units:
        return ExactResult("too_large", None, math.inf, 0.0, n)
    w = g.weight[nodes].astype(np.float64)
    if not soft and not (w > hi).any() and float(w.sum()) < lo:
        return ExactResult("infeasible", None, math.inf, 0.0, n)
    sub = g.adj[nodes][:, nodes].tocoo()
    upper = sub.row < sub.col
    lay = _Layout.of(
        n,
        sub.row[upper].astype(np.int64),
        sub.col[upper].astype(np.int64),
        1 if also is None else 2,
    )
    bounds = [(w, lo, hi)]
    if also is not None:
        bounds.append((also.weight[nodes].astype(np.float64), also.lo, also.hi))
    a, row_lo, row_hi = _constraints(lay, bounds, target=target)
    cost = np.zeros(lay.n_col)
    cost[lay.d0 : lay.s0] = 1.0 / max(target, 1.0)
    cost[lay.s0 :] = SOFT_COST
    ub = np.ones(lay.n_col)
    ub[lay.n_x : lay.d0] = n - 1
    ub[lay.d0 : lay.s0] = math.inf
    ub[lay.s0 :] = math.inf if soft else 0.0
    import highspy  # the solver is optional for the planner: imported when needed

    from planner.siting.highs import rowwise_lp

    lp = rowwise_lp(a, cost, col_upper=ub, row_lower=row_lo, row_upper=row_hi, maximize=False)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * lay.n_x + [
        highspy.HighsVarType.kContinuous
    ] * (lay.n_col - lay.n_x)
    x0 = None if start is None else _start_columns(lay, start)
    # soft: stop once the households outside are proved least (whole households: a
    # gap under SOFT_COST leaves only the balance term open)
    abs_gap = 0.99 * SOFT_COST if soft else 1e-6
    return _solve(lp, lay, time_limit_s, x0, abs_gap, SOFT_MAX_NODES if soft else None)


def _start_columns(lay: _Layout, labels: NDArray[np.int64]) -> NDArray[np.float64]:
    """The ``x`` columns of a division given by part labels (representative: each
    part's lowest unit); other columns 0, for HiGHS to complete."""
    rep = np.full(int(labels.max()) + 1, lay.n, dtype=np.int64)
    np.minimum.at(rep, labels, np.arange(lay.n))
    x = np.zeros(lay.n_col)
    x[lay.xcol[np.arange(lay.n), rep[labels]]] = 1.0
    return x


def _constraints(
    lay: _Layout, bounds: list[tuple[NDArray[np.float64], float, float]], *, target: float
) -> tuple[sp.csr_matrix, NDArray[np.float64], NDArray[np.float64]]:
    """The rows of the program (see the module docstring), vectorised per block;
    ``bounds`` holds (weights, lo, hi) of each bound, the first balanced to ``target``."""
    w = bounds[0][0]
    inf = math.inf
    n = lay.n
    rows = _Rows()
    xi, xj, xc = lay.xi, lay.xj, np.arange(lay.n_x)
    # each unit in exactly one part
    rows.add(n, xi, xc, 1.0, 1.0, 1.0)
    # x[i, j] <= x[j, j]
    off = np.flatnonzero(xi != xj)
    m = len(off)
    loc = np.arange(m)
    rows.add(
        m,
        np.r_[loc, loc],
        np.r_[off, lay.xcol[xj[off], xj[off]]],
        np.r_[np.ones(m), -np.ones(m)],
        -inf,
        0.0,
    )
    # bounds: load_j - lo x[j,j] >= 0; load_j with big units counted at hi <= hi
    # (slack columns s_lo_j, s_hi_j are fixed at 0 unless the bounds are soft)
    diag = lay.xcol[np.arange(n), np.arange(n)]
    nn = np.arange(n)
    for b, (wb, lo, hi) in enumerate(bounds):
        s_lo = lay.s0 + 2 * n * b + nn
        rows.add(
            n,
            np.r_[xj, nn, nn],
            np.r_[xc, diag, s_lo],
            np.r_[wb[xi], -lo * np.ones(n), np.ones(n)],
            0.0,
            inf,
        )
        rows.add(
            n,
            np.r_[xj, nn],
            np.r_[xc, s_lo + n],
            np.r_[np.minimum(wb, hi)[xi], -np.ones(n)],
            -inf,
            hi,
        )
    # deviation d_j >= |load_j - target x[j,j]|
    dev = lay.d0 + np.arange(n)
    for s in (1.0, -1.0):
        rows.add(
            n,
            np.r_[xj, np.arange(n), np.arange(n)],
            np.r_[xc, diag, dev],
            np.r_[-s * w[xi], s * target * np.ones(n), np.ones(n)],
            0.0,
            inf,
        )
    _flow_rows(rows, lay)
    _neighbour_rows(rows, lay)
    return rows.matrix(lay.n_col)


def _flow_rows(rows: _Rows, lay: _Layout) -> None:
    """Flow of commodity ``j`` only inside part ``j``, and one unit consumed by each
    member but the representative: ``in - out = x[i, j]`` for ``i > j``."""
    inf = math.inf
    n = lay.n
    fa, fj = lay.fa, lay.fj
    m = len(fa)
    if m == 0:
        return
    fcol = lay.n_x + np.arange(m)
    loc = np.arange(m)
    for end in (lay.tail[fa], lay.head[fa]):
        rows.add(
            m,
            np.r_[loc, loc],
            np.r_[fcol, lay.xcol[end, fj]],
            np.r_[np.ones(m), -(n - 1) * np.ones(m)],
            -inf,
            0.0,
        )
    off = np.flatnonzero(lay.xi != lay.xj)
    row_of = np.full((n, n), -1, dtype=np.int64)
    row_of[lay.xi[off], lay.xj[off]] = np.arange(len(off))
    into = row_of[lay.head[fa], fj]
    out = row_of[lay.tail[fa], fj]
    ok_in, ok_out = into >= 0, out >= 0
    rows.add(
        len(off),
        np.r_[into[ok_in], out[ok_out], np.arange(len(off))],
        np.r_[fcol[ok_in], fcol[ok_out], off],
        np.r_[np.ones(int(ok_in.sum())), -np.ones(int(ok_out.sum())), -np.ones(len(off))],
        0.0,
        0.0,
    )


def _neighbour_rows(rows: _Rows, lay: _Layout) -> None:
    """A member other than the representative has a neighbour in its part:
    ``x[i, j] <= sum_{v ~ i, v >= j} x[v, j]`` (valid, tightens the relaxation)."""
    inf = math.inf
    n = lay.n
    off = np.flatnonzero(lay.xi != lay.xj)
    row_of = np.full((n, n), -1, dtype=np.int64)
    row_of[lay.xi[off], lay.xj[off]] = np.arange(len(off))
    # pairs (arc t->h, j) with j < t and j <= h: x[h, j] enters the row of (t, j)
    t_rep = np.repeat(lay.tail, lay.n)
    h_rep = np.repeat(lay.head, lay.n)
    j_rep = np.tile(np.arange(n), len(lay.tail))
    sel = (j_rep < t_rep) & (j_rep <= h_rep)
    r = row_of[t_rep[sel], j_rep[sel]]
    c = lay.xcol[h_rep[sel], j_rep[sel]]
    rows.add(
        len(off),
        np.r_[np.arange(len(off)), r],
        np.r_[off, c],
        np.r_[np.ones(len(off)), -np.ones(len(r))],
        -inf,
        0.0,
    )


def _solve(
    lp: Any,
    lay: _Layout,
    time_limit_s: float,
    x0: NDArray[np.float64] | None,
    abs_gap: float,
    max_nodes: int | None,
) -> ExactResult:
    """Run HiGHS (from the start ``x0`` when given) and read the labels, status and gap."""
    import highspy

    from planner.siting.highs import new_highs
    from planner.siting.mip import PRESOLVE_RULES_OFF

    h = new_highs()
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("presolve_rule_off", PRESOLVE_RULES_OFF)
    h.setOptionValue("mip_rel_gap", 1e-3)
    h.setOptionValue("mip_abs_gap", float(abs_gap))
    if max_nodes is not None:
        h.setOptionValue("mip_max_nodes", int(max_nodes))
    t0 = time.perf_counter()
    h.passModel(lp)
    if x0 is not None:
        sol = highspy.HighsSolution()
        sol.col_value = list(x0)
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    elapsed = time.perf_counter() - t0
    status = h.modelStatusToString(h.getModelStatus()).lower()
    info = h.getInfo()
    has_sol = int(info.primal_solution_status) == 2
    logger.info(
        "exact division of %d units: %s in %.2f s, gap %.3g", lay.n, status, elapsed, info.mip_gap
    )
    if status == "infeasible":
        return ExactResult("infeasible", None, math.inf, elapsed, lay.n)
    if not has_sol:
        return ExactResult("no_solution", None, math.inf, elapsed, lay.n)
    x = np.asarray(h.getSolution().col_value, dtype=np.float64)[: lay.n_x]
    rep = np.zeros(lay.n, dtype=np.int64)
    on = x > 0.5
    rep[lay.xi[on]] = lay.xj[on]
    _, labels = np.unique(rep, return_inverse=True)
    gap = 0.0 if status == "optimal" else float(info.mip_gap)
    kind: ExactStatus = "optimal" if status == "optimal" else "feasible"
    return ExactResult(kind, labels.astype(np.int64), gap, elapsed, lay.n)


def _solver_available() -> bool:
    """True when ``highspy`` (an optional dependency of the planner) can be imported."""
    try:
        import highspy  # noqa: F401
    except ImportError:
        return False
    return True


def needs_exact(
    weight: NDArray[np.float64],
    labels: NDArray[np.int64],
    *,
    lo: float,
    hi: float,
    also: Bound | None = None,
) -> bool:
    """True when a part of ``labels`` is out of ``[lo, hi]`` and is not one unit
    above ``hi`` with zero-weight units only (that part is forced: the unit cannot be
    cut)."""
    return excess(weight, labels, lo=lo, hi=hi, also=also) > 0


def settle(
    g: Graph,
    nodes: NDArray[np.int64],
    labels: NDArray[np.int64],
    *,
    lo: float,
    hi: float,
    target: float,
    method: str,
    time_limit_s: float,
    max_units: int,
    also: Bound | None = None,
) -> tuple[NDArray[np.int64], ExactResult | None]:
    """The division of one connected piece after the heuristic's ``labels``.

    With ``method="auto"`` the exact method runs when the heuristic left a part out of
    bounds (:func:`needs_exact`); with ``"exact"`` always; with ``"heuristic"``
    never. A piece holding less than ``lo`` in all is not solved (one part, whose
    reason is the piece's total). Returns the labels kept (the exact method's when it
    found a division in bounds, else the heuristic's) and the exact result (None when
    it did not run). ``also``: a second bound (weights over all of ``g``'s nodes).
    """
    w = g.weight[nodes]
    local = None if also is None else Bound(also.weight[nodes], also.lo, also.hi)
    if method == "heuristic" or float(w.sum()) < lo:
        return labels, None
    if method == "auto" and not needs_exact(w, labels, lo=lo, hi=hi, also=local):
        return labels, None
    if time_limit_s <= 0:
        return labels, ExactResult("no_time_left", None, math.inf, 0.0, len(nodes))
    if not _solver_available():
        return labels, ExactResult("no_solver", None, math.inf, 0.0, len(nodes))
    result = exact_partition(
        g,
        nodes,
        lo=lo,
        hi=hi,
        target=target,
        time_limit_s=time_limit_s,
        max_units=max_units,
        also=also,
    )
    if result.labels is not None:
        return result.labels, result
    if result.status != "infeasible":
        return labels, result
    # no division in bounds exists: keep the one with the fewest households outside
    soft = exact_partition(
        g,
        nodes,
        lo=lo,
        hi=hi,
        target=target,
        time_limit_s=max(0.5, time_limit_s - result.time_s),
        max_units=max_units,
        soft=True,
        start=labels,
        also=also,
    )
    best, least = labels, False
    if soft.labels is not None and excess(w, soft.labels, lo=lo, hi=hi, also=local) <= excess(
        w, labels, lo=lo, hi=hi, also=local
    ):
        best, least = soft.labels, soft.status == "optimal"
    return best, replace(
        result,
        time_s=result.time_s + soft.time_s,
        excess=excess(w, best, lo=lo, hi=hi, also=local),
        least=least,
    )


def excess(
    weight: NDArray[np.float64],
    labels: NDArray[np.int64],
    *,
    lo: float,
    hi: float,
    also: Bound | None = None,
) -> float:
    """Weight outside ``[lo, hi]`` summed over the parts, a part of one unit above
    ``hi`` with zero-weight units only not counted (it cannot be cut); plus the same
    for the second bound ``also`` (its weights of the same nodes as ``weight``)."""
    sums = np.bincount(labels, weights=weight)
    top = np.zeros(len(sums))
    np.maximum.at(top, labels, weight)
    lone_big = (top > hi) & np.isclose(sums, top)
    out = np.maximum(lo - sums, 0.0) + np.maximum(sums - hi, 0.0)
    extra = 0.0 if also is None else excess(also.weight, labels, lo=also.lo, hi=also.hi)
    return float(out[~lone_big].sum()) + extra
