"""Exact contiguous partition with hard bounds: a mixed-integer program solved by HiGHS.

Used by :func:`planner.grids.division.divide` on a community's connected piece of
units when the heuristic (:mod:`planner.grids._partition`) leaves a part out of
``[lo, hi]`` (``Settings.grid_method="auto"``), or always (``"exact"``). It either
finds a division with every part in bounds, or proves that none exists for the
units and adjacency given, or says that the time limit ran out first.

The program (``n`` units, at most ``K = n_big + floor((W - W_big) / lo)`` parts,
``W`` the piece's weight, ``big`` the units heavier than ``hi``):

- ``x[i, p]`` (binary): unit ``i`` is in part ``p``; each unit in exactly one part;
  ``x[i, p] = 0`` for ``p > i`` (parts numbered by their lowest unit, which removes
  the ``K!`` relabellings);
- ``u[p]`` (binary): part ``p`` is used; ``u[p] >= u[p + 1]``; ``x[i, p] <= u[p]``;
- bounds: ``lo * u[p] <= sum_i w[i] x[i, p] <= hi + sum_big (w[b] - hi) x[b, p]``, so
  a unit heavier than ``hi`` (a single building, or a compound the settings forbid
  splitting) is a part of its own with zero-weight units only;
- contiguity (single-commodity flow, Shirabe 2005): one root ``r[i, p] <= x[i, p]``
  per used part; along each directed adjacency arc ``(i, j)`` a flow
  ``f[a, p] <= (n - 1) x[i, p]`` and ``<= (n - 1) x[j, p]``; every unit of the part
  but the root consumes one unit of flow (``in - out >= x[i, p] - n r[i, p]``), so
  every unit is reached from the root inside the part;
- objective: the sum of ``|load_p - target u_p| / target`` (balance) plus
  :data:`BOUNDARY_WEIGHT` times the length of the cut edges over the square root of
  the piece's area (compactness), with ``c[e] >= |x[i, p] - x[j, p]|``.

The relative MIP gap HiGHS reports is kept with the result.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Literal

import highspy
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from planner.grids._partition import Graph
from planner.siting.highs import new_highs, rowwise_lp
from planner.siting.mip import PRESOLVE_RULES_OFF

logger = logging.getLogger(__name__)

#: Weight of the cut length (over sqrt(area)) against the sum of relative deviations.
BOUNDARY_WEIGHT = 0.05

ExactStatus = Literal["optimal", "feasible", "infeasible", "no_solution", "too_large"]


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
        ``"too_large"`` (more units than ``max_units``; not solved).
    labels
        Part label (0..k-1) of each node (``None`` unless optimal or feasible).
    gap
        Relative optimality gap (0 when optimal, ``inf`` without a solution).
    time_s
        Solver wall time, seconds.
    units
        Number of units in the program.
    """

    status: ExactStatus
    labels: NDArray[np.int64] | None
    gap: float
    time_s: float
    units: int

    @property
    def found(self) -> bool:
        """True when every part of ``labels`` is in bounds."""
        return self.labels is not None


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
    def n_col(self) -> int:
        return self.d0 + self.n

    @classmethod
    def of(cls, n: int, ea: NDArray[np.int64], eb: NDArray[np.int64]) -> _Layout:
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
            n, xi.astype(np.int64), xj.astype(np.int64), xcol, tail, head, fa[keep], fj[keep]
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
) -> ExactResult:
    """Divide the connected ``nodes`` of ``g`` into contiguous parts in ``[lo, hi]``.

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

    Returns
    -------
    ExactResult
    """
    n = len(nodes)
    if n > max_units:
        return ExactResult("too_large", None, math.inf, 0.0, n)
    w = g.weight[nodes].astype(np.float64)
    if not (w > hi).any() and float(w.sum()) < lo:
        return ExactResult("infeasible", None, math.inf, 0.0, n)
    sub = g.adj[nodes][:, nodes].tocoo()
    upper = sub.row < sub.col
    lay = _Layout.of(n, sub.row[upper].astype(np.int64), sub.col[upper].astype(np.int64))
    a, row_lo, row_hi = _constraints(lay, w, lo=lo, hi=hi, target=target)
    cost = np.zeros(lay.n_col)
    cost[lay.d0 :] = 1.0 / max(target, 1.0)
    ub = np.ones(lay.n_col)
    ub[lay.n_x : lay.d0] = n - 1
    ub[lay.d0 :] = highspy.kHighsInf
    lp = rowwise_lp(a, cost, col_upper=ub, row_lower=row_lo, row_upper=row_hi, maximize=False)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * lay.n_x + [
        highspy.HighsVarType.kContinuous
    ] * (lay.n_col - lay.n_x)
    return _solve(lp, lay, time_limit_s)


def _constraints(
    lay: _Layout, w: NDArray[np.float64], *, lo: float, hi: float, target: float
) -> tuple[sp.csr_matrix, NDArray[np.float64], NDArray[np.float64]]:
    """The rows of the program (see the module docstring), vectorised per block."""
    inf = highspy.kHighsInf
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
    diag = lay.xcol[np.arange(n), np.arange(n)]
    rows.add(n, np.r_[xj, np.arange(n)], np.r_[xc, diag], np.r_[w[xi], -lo * np.ones(n)], 0.0, inf)
    rows.add(n, xj, xc, np.minimum(w, hi)[xi], -inf, hi)
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
    inf = highspy.kHighsInf
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
    inf = highspy.kHighsInf
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


def _solve(lp: highspy.HighsLp, lay: _Layout, time_limit_s: float) -> ExactResult:
    """Run HiGHS and read the labels, status and gap."""
    h = new_highs()
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("presolve_rule_off", PRESOLVE_RULES_OFF)
    h.setOptionValue("mip_rel_gap", 1e-3)
    t0 = time.perf_counter()
    h.passModel(lp)
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
