"""Exact contiguous partition with hard bounds: a mixed-integer program solved by HiGHS.

Used by :func:`planner.grids.division.divide` on a community's connected piece of
units when the heuristic (:mod:`planner.grids._partition`) leaves a part out of
``[lo, hi]`` (``Settings.grid_method="auto"``), or always (``"exact"``). It either
finds a division with every part in bounds, or proves that none exists for the
units and adjacency given, or says that its work limits ran out first. When none
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

Proved bounds (:attr:`ExactResult.bound`, :func:`with_balance_gap`), all valid for every
division, so they hold whatever the solver did within its time:

- households outside the bounds: a division in bounds has 0, the least possible, so it
  is optimal for that count whatever its balance gap; otherwise a lower bound from
  counting (:func:`excess_bound`: the parts without a unit above the maximum share the
  households of the other units, and ``k`` parts holding ``R`` households are at least
  ``max(0, k lo - R, R - k hi)`` outside), from the soft program's dual bound
  (:func:`soft_excess_bound`), and at least 1 once infeasibility is proved with whole
  numbers;
- no division in bounds by counting alone (:func:`counts_fit`: no whole number of parts
  fits the households), before any program is built;
- balance of a division in bounds: at least ``|ws - k target| / target`` for the best
  count ``k`` of parts that fits plus the units above the maximum's deviations
  (:func:`balance_bound`; the deviations of the parts sum at least to the deviation of
  their sum). The gap reported is the smaller of HiGHS's and ``(balance - bound) /
  balance``, so a division from the rooted program alone has a bounded gap. The bound
  ignores contiguity and is weak on large pieces (80-93 % on the planted lattices of
  ``bench/bench_grids_exact.py``); a bound that sees contiguity is not done.

With hard bounds the program holds only the pairs a part in bounds can hold
(:func:`reach`), a row on the count of parts (:func:`part_count`) and each commodity's
flow bounded by the units its part may hold; all valid for every division in bounds.
On pieces of :data:`ROOTED_MIN_UNITS` units or more, a smaller *rooted* program
(:func:`rooted_partition`: parts around fixed roots placed by the heuristic's division,
contiguity by separator cuts) first looks for a division in bounds, which then starts
the full program (:func:`_full_start`).

Work limits, not the clock, decide the answer (dist14e, issue 14): branch-and-bound
nodes per solve (:data:`FULL_MAX_NODES`, :data:`SOFT_MAX_NODES`,
:data:`ROOTED_MAX_NODES`), rounds of cuts (:data:`ROOTED_MAX_ROUNDS`) and a fixed list of
tries, with HiGHS's ``random_seed`` fixed, so a piece gets the same division on an idle
or a busy machine. The wall clock is only a safety (:class:`Clock`, :data:`CLOCK_SAFETY`
times the time limit for all programs of a piece); a result it stopped says so
(:attr:`ExactResult.clock`), since that one may depend on the machine's load.
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
from scipy.sparse import csgraph

from planner.grids._partition import Graph, choose_k

logger = logging.getLogger(__name__)

#: Cost of one household outside the bounds (soft bounds) against the deviation term,
#: which costs 1 per target's worth of households.
SOFT_COST = 1000.0

#: Branch-and-bound nodes the soft-bounds program may use: it stops on this count
#: rather than on the clock, so the division kept is the same on a busy machine (a
#: division must be deterministic for a seed; the clock stays as a safety).
SOFT_MAX_NODES = 300

# --- dist14e: work limits decide the exact division, the clock is a safety ---
#: Branch-and-bound nodes of one solve of the full (hard-bounds) program.
FULL_MAX_NODES = 300

#: Branch-and-bound nodes of one solve of the rooted program (:func:`rooted_partition`).
ROOTED_MAX_NODES = 200

#: Rounds of separator cuts of the rooted program before it gives up.
ROOTED_MAX_ROUNDS = 10

#: Order of the rooted tries for each count of parts: roots spread over the piece, then
#: roots from the heuristic's parts. Spread first: on the planted lattices of
#: ``bench/bench_grids_exact.py`` a try from the heuristic's parts ran 4-10 CPU s to a
#: worse division (balance 2.0 against 0.98-1.18) where the spread roots took 0.4-1.0 s;
#: the clock used to cut that try short, the work limits do not.
ROOTED_ORDER: tuple[str, ...] = ("spread", "start")

#: Rooted tries at most per piece (the first of the ordered list: the likeliest count of
#: parts, spread then from the heuristic's parts). Where no division in bounds exists
#: every try fails, and without a cap the eight tries took the whole clock safety on a
#: 75-unit community (40 s), leaving the full program, which proves infeasibility, none.
ROOTED_MAX_TRIES = 2

#: The clock safety of one piece's exact solve (every program it runs, the soft one
#: included): this many times ``Settings.grid_exact_time_limit_s``, wall seconds. The
#: work limits above decide the answer; the clock stops a step only on a machine far
#: slower or busier than the limits were set for, and the result says so
#: (:attr:`ExactResult.clock`).
CLOCK_SAFETY = 3.0


class Clock:
    """The clock safety of one piece's exact solve (:data:`CLOCK_SAFETY` times
    ``limit_s`` wall seconds from now), whether it stopped a step (``hit``), and the
    branch-and-bound nodes HiGHS used under it (``nodes``, a deterministic count)."""

    def __init__(self, limit_s: float) -> None:
        self.t0 = time.perf_counter()
        self.deadline = self.t0 + CLOCK_SAFETY * float(limit_s)
        self.hit = False
        self.nodes = 0

    def elapsed(self) -> float:
        """Wall seconds since the start."""
        return time.perf_counter() - self.t0

    def left(self) -> float:
        """Wall seconds left before the deadline (0 once passed: then ``hit``)."""
        left = self.deadline - time.perf_counter()
        if left <= 0:
            self.hit = True
        return max(left, 0.0)

    def ran(self, h: Any) -> int:
        """Count the nodes of the HiGHS run ``h`` just made and note when its time limit
        (this clock) stopped it; returns the run's nodes."""
        nodes = max(int(h.getInfo().mip_node_count), 0)
        self.nodes += nodes
        if h.modelStatusToString(h.getModelStatus()).lower().startswith("time limit"):
            self.hit = True
        return nodes


ExactStatus = Literal[
    "optimal", "feasible", "infeasible", "no_solution", "too_large", "no_time_left", "no_solver"
]


@dataclass(frozen=True)
class ExactResult:
    """The outcome of :func:`exact_partition`.

    Attributes
    ----------
    status
        ``"optimal"`` (proved best), ``"feasible"`` (in bounds, a work limit reached:
        ``gap`` says how far from the best it may be), ``"infeasible"`` (proved: no
        contiguous division of the units keeps every part in bounds),
        ``"no_solution"`` (a work limit, or the clock safety, reached with neither a
        division nor a proof),
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
    bound
        A proved lower bound on the households outside the bounds (as :func:`excess`
        counts them) of every contiguous division of the units: 0 when a division in
        bounds was found (its 0 households outside is then the least possible, whatever
        ``gap`` says about the balance), else from :func:`excess_bound` and the
        soft-bounds program's dual bound (:func:`settle`); 0 when nothing is proved.
    clock
        True when the clock safety (:class:`Clock`), not a work limit, stopped a step:
        the result may then differ on another machine or load.
    nodes
        Branch-and-bound nodes HiGHS used over every program solved.
    """

    status: ExactStatus
    labels: NDArray[np.int64] | None
    gap: float
    time_s: float
    units: int
    excess: float = 0.0
    least: bool = False
    bound: float = 0.0
    clock: bool = False
    nodes: int = 0

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
    pruned: bool = False

    def flow_cap(self) -> NDArray[np.float64]:
        """Most flow of each commodity ``j``: the units part ``j`` may hold but ``j``
        when the pairs are pruned (:func:`reach`), else ``n - 1``."""
        if not self.pruned:
            return np.full(self.n, max(self.n - 1, 0), dtype=np.float64)
        return np.maximum(np.bincount(self.xj, minlength=self.n) - 1, 0).astype(np.float64)

    @property
    def n_col(self) -> int:
        return self.s0 + 2 * self.n * self.n_bounds

    @classmethod
    def of(
        cls,
        n: int,
        ea: NDArray[np.int64],
        eb: NDArray[np.int64],
        n_bounds: int = 1,
        allowed: NDArray[np.bool_] | None = None,
    ) -> _Layout:
        """The columns for ``n`` units with edges ``ea``-``eb``; ``allowed[i, j]`` (``j <= i``)
        says which pairs may be a member and its representative (all when None; the
        diagonal is always a column, fixed at 0 by :func:`_reach` bounds when ``j``
        cannot represent a part)."""
        xi, xj = np.tril_indices(n)
        if allowed is not None:
            keep_x = allowed[xi, xj] | (xi == xj)
            xi, xj = xi[keep_x], xj[keep_x]
        xcol = np.full((n, n), -1, dtype=np.int64)
        xcol[xi, xj] = np.arange(len(xi))
        tail = np.r_[ea, eb].astype(np.int64)
        head = np.r_[eb, ea].astype(np.int64)
        # commodity j uses arc (t, h) when j <= min(t, h) and h != j (nothing flows into
        # the representative), and both ends may be in part j
        top = np.minimum(tail, head)
        count = top + 1
        fa = np.repeat(np.arange(len(tail)), count)
        fj = np.arange(len(fa)) - np.repeat(np.cumsum(count) - count, count)
        keep = (head[fa] != fj) & (xcol[tail[fa], fj] >= 0) & (xcol[head[fa], fj] >= 0)
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
            allowed is not None,
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
    clock: Clock | None = None,
    ports: NDArray[np.bool_] | None = None,
    max_nodes: int | None = None,
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
        Base of the clock safety, seconds (a new :class:`Clock` of it when ``clock`` is
        None): work limits (:data:`FULL_MAX_NODES`, :data:`SOFT_MAX_NODES`,
        :data:`ROOTED_MAX_NODES`, :data:`ROOTED_MAX_ROUNDS`, a fixed list of tries)
        decide the answer, so it is the same on a busy machine unless the clock stopped
        a step (``clock`` on the result).
    max_units
        Larger sets are not solved (status ``"too_large"``).
    soft
        Bounds may be broken at a cost (see above).
    start
        Part labels of a contiguous division to start from (e.g. the heuristic's);
        HiGHS completes the flows and slacks of it.
    also
        A second bound on every part (soft too when ``soft``).
    clock
        The clock safety shared with other programs of the same piece (:func:`settle`).
    ports
        With ``soft=True`` only: the nodes (one value per node of ``nodes``) of a region
        cut out of a larger piece that touch the rest of it. A part holding a port may
        be the region's share of a grid that goes on outside, so it has no minimum (a
        relaxation: :func:`local_excess_bound`).
    max_nodes
        Branch-and-bound nodes of the soft program (:data:`SOFT_MAX_NODES` when None).

    Returns
    -------
    ExactResult
    """
    n = len(nodes)
    if n > max_units:
        return ExactResult("too_large", None, math.inf, 0.0, n)
    w = g.weight[nodes].astype(np.float64)
    local = None if also is None else Bound(also.weight[nodes], also.lo, also.hi)
    if not soft and not counts_fit(w, lo=lo, hi=hi, also=local):  # proved by counting
        bound = excess_bound(w, lo=lo, hi=hi, also=local)
        return ExactResult("infeasible", None, math.inf, 0.0, n, bound=bound)
    clock = Clock(time_limit_s) if clock is None else clock
    t0 = time.perf_counter()
    nodes0 = clock.nodes
    adj = g.adj[nodes][:, nodes].tocsr()
    found = None
    if not soft:  # first a division in bounds around the heuristic's parts, if it has one
        found = _rooted_start(g, nodes, adj, w, start, (lo, hi, target), clock, also)
    sub = adj.tocoo()
    upper = sub.row < sub.col
    # hard bounds: only the pairs a part in bounds can hold, and a count of parts
    allowed, can_rep = (None, None) if soft else reach(adj, w, lo=lo, hi=hi)
    lay = _Layout.of(
        n,
        sub.row[upper].astype(np.int64),
        sub.col[upper].astype(np.int64),
        1 if also is None else 2,
        allowed,
    )
    bounds = [(w, lo, hi)]
    if also is not None:
        bounds.append((also.weight[nodes].astype(np.float64), also.lo, also.hi))
    parts = None if soft else part_count(w, lo=lo, hi=hi)
    if ports is not None and not soft:
        raise ValueError("ports relax the minimum of the soft program only")
    a, row_lo, row_hi = _constraints(lay, bounds, target=target, parts=parts, ports=ports)
    cost = np.zeros(lay.n_col)
    cost[lay.d0 : lay.s0] = 1.0 / max(target, 1.0)
    cost[lay.s0 :] = SOFT_COST
    ub = np.ones(lay.n_col)
    if can_rep is not None:
        diag = lay.xcol[np.arange(n), np.arange(n)]
        ub[diag[~can_rep]] = 0.0
    ub[lay.n_x : lay.d0] = lay.flow_cap()[lay.fj]
    ub[lay.d0 : lay.s0] = math.inf
    ub[lay.s0 :] = math.inf if soft else 0.0
    import highspy  # the solver is optional for the planner: imported when needed

    from planner.siting.highs import rowwise_lp

    lp = rowwise_lp(a, cost, col_upper=ub, row_lower=row_lo, row_upper=row_hi, maximize=False)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * lay.n_x + [
        highspy.HighsVarType.kContinuous
    ] * (lay.n_col - lay.n_x)
    if soft:
        x0 = None if start is None else _start_columns(lay, start)
        # stop once the households outside are proved least (whole households: a gap
        # under SOFT_COST leaves only the balance term open)
        nodes_cap = SOFT_MAX_NODES if max_nodes is None else max_nodes
        res, dual = _solve(lp, lay, clock, x0, 0.99 * SOFT_COST, nodes_cap)
        bound = soft_excess_bound(dual, w, lo=lo, hi=hi, target=target, also=local)
        spent = time.perf_counter() - t0
        return replace(res, bound=bound, time_s=spent, clock=clock.hit, nodes=clock.nodes - nodes0)
    x0 = None if found is None else _full_start(lay, found, adj, w, target)
    if found is not None and lay.n_col > FULL_MAX_COLUMNS:
        res = ExactResult("no_solution", None, math.inf, 0.0, n)
    elif clock.left() <= 0.05:  # the clock safety holds what was built
        clock.hit = True
        res = ExactResult("no_solution", None, math.inf, 0.0, n)
    else:
        res, _ = _solve(lp, lay, clock, x0, 1e-6, FULL_MAX_NODES)
    res = replace(res, time_s=time.perf_counter() - t0, clock=clock.hit, nodes=clock.nodes - nodes0)
    if res.labels is None and found is not None:  # the full program kept nothing better
        res = replace(res, status="feasible", labels=found)
    return with_balance_gap(res, w, lo=lo, hi=hi, target=target)


def _rooted_start(
    g: Graph,
    nodes: NDArray[np.int64],
    adj: sp.csr_matrix,
    w: NDArray[np.float64],
    start: NDArray[np.int64] | None,
    bounds: tuple[float, float, float],
    clock: Clock,
    also: Bound | None,
) -> NDArray[np.int64] | None:
    """A division in bounds from :func:`rooted_partition` with the roots spread or placed
    by the parts of ``start`` (the heuristic's division; in :data:`ROOTED_ORDER`), for the
    likeliest counts of parts (``bounds``: lo, hi, target), tried in that fixed order
    until one is found, each
    within the rooted program's work limits (the ``clock`` safety stops the tries when
    spent; None without a start or with a second bound, which the rooted program does
    not keep)."""
    lo, hi, target = bounds
    if start is None or also is not None or len(nodes) < ROOTED_MIN_UNITS:
        return None
    xy = g.xy[nodes]
    base = roots_of(g, nodes, start)
    k0 = choose_k(float(w.sum()), lo, hi, target)
    low, high = part_count(w, lo=lo, hi=hi)
    ks = [k for k in dict.fromkeys((k0, k0 + 1, k0 - 1, len(base))) if low <= k <= high]
    tries = [(k, how) for k in ks for how in ROOTED_ORDER]
    found = None
    for k, how in tries[:ROOTED_MAX_TRIES]:  # the likeliest count of parts first
        if clock.left() <= 0:
            break
        roots = adjust_roots(xy, w, start, base, k) if how == "start" else spread_roots(xy, w, k)
        found = rooted_partition(adj, w, xy, roots, lo=lo, hi=hi, time_limit_s=0.0, clock=clock)
        if found is not None:
            break
    if found is not None and needs_exact(w, found, lo=lo, hi=hi):
        return None
    return found


def reach(
    adj: sp.csr_matrix, w: NDArray[np.float64], *, lo: float, hi: float
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Which units a part represented by ``j`` (its lowest unit) can hold, and which
    units can represent a part, when every part is in ``[lo, hi]``.

    Unit ``i`` can be in part ``j`` only if a path from ``j`` to ``i`` runs through
    units numbered ``j`` or more whose weights (each capped at ``hi``, as in the upper
    bound) sum, with both ends, to at most ``hi``: the part is connected, holds only
    such units and weighs at most ``hi``. Unit ``j`` can represent a part only if the
    units it can hold weigh ``lo`` or more, or it is above ``hi`` itself (a part of its
    own). Both are valid for every division in bounds, so the program without the
    other pairs has the same solutions.

    Returns
    -------
    allowed
        ``(n, n)`` booleans, ``allowed[i, j]`` for ``j <= i`` (upper triangle False).
    can_rep
        ``(n,)`` booleans.
    """
    n = len(w)
    cap = np.minimum(w, hi)
    tiny = 1e-7  # csgraph drops zero-weight arcs: every arc costs a little
    coo = adj.tocoo()
    arc_cost = cap[coo.col] + tiny
    limit = hi + 1e-6 + n * tiny
    allowed = np.zeros((n, n), dtype=bool)
    for j in range(n):
        keep = (coo.row >= j) & (coo.col >= j)
        m = sp.csr_matrix(
            (arc_cost[keep], (coo.row[keep] - j, coo.col[keep] - j)), shape=(n - j, n - j)
        )
        dist = csgraph.dijkstra(m, directed=True, indices=0, limit=limit - cap[j])
        allowed[j:, j] = np.isfinite(dist)
    can_rep = (w > hi) | (allowed.T.astype(np.float64) @ w >= lo - 1e-9)
    allowed[:, ~can_rep] = False
    return allowed, np.asarray(can_rep, dtype=bool)


def part_count(w: NDArray[np.float64], *, lo: float, hi: float) -> tuple[int, int]:
    """Fewest and most parts a division in ``[lo, hi]`` can have: the weights capped
    at ``hi`` over ``hi``, rounded up, and :func:`max_parts`."""
    low = max(1, math.ceil(float(np.minimum(w, hi).sum()) / hi - 1e-9))
    return low, max(low, max_parts(w, lo, hi))


def _full_start(
    lay: _Layout,
    labels: NDArray[np.int64],
    adj: sp.csr_matrix,
    w: NDArray[np.float64],
    target: float,
) -> NDArray[np.float64] | None:
    """Every column of the hard-bounds program for a contiguous division in bounds:
    ``x``, the flows (down a breadth-first tree of each part from its representative,
    each arc carrying the units below it) and the deviations; None when a pair of the
    division is not a column (:func:`reach` left it out)."""
    x = _start_columns(lay, labels)
    n = lay.n
    rep = np.full(int(labels.max()) + 1, n, dtype=np.int64)
    np.minimum.at(rep, labels, np.arange(n))
    if (lay.xcol[np.arange(n), rep[labels]] < 0).any():
        return None
    flat = lay.fa * n + lay.fj  # (arc, commodity) -> column
    arc_id = np.full((n, n), -1, dtype=np.int64)
    arc_id[lay.tail, lay.head] = np.arange(len(lay.tail))
    col_of = dict(zip(flat.tolist(), (lay.n_x + np.arange(len(flat))).tolist(), strict=True))
    for p, j in enumerate(rep):  # few parts of a few hundred units
        members = np.flatnonzero(labels == p)
        sub = adj[members][:, members]
        order, pred = csgraph.breadth_first_order(
            sub, int(np.flatnonzero(members == j)[0]), directed=False
        )
        below = np.ones(len(members))
        for v in order[::-1][:-1]:  # leaves first; the representative last, skipped
            below[pred[v]] += below[v]
            col = col_of.get(int(arc_id[members[pred[v]], members[v]]) * n + int(j))
            if col is None:
                return None
            x[col] = below[v]
    load = np.bincount(labels, weights=w)
    x[lay.d0 + rep] = np.abs(load - target)
    return x


def _start_columns(lay: _Layout, labels: NDArray[np.int64]) -> NDArray[np.float64]:
    """The ``x`` columns of a division given by part labels (representative: each
    part's lowest unit); other columns 0, for HiGHS to complete."""
    rep = np.full(int(labels.max()) + 1, lay.n, dtype=np.int64)
    np.minimum.at(rep, labels, np.arange(lay.n))
    x = np.zeros(lay.n_col)
    x[lay.xcol[np.arange(lay.n), rep[labels]]] = 1.0
    return x


def _constraints(
    lay: _Layout,
    bounds: list[tuple[NDArray[np.float64], float, float]],
    *,
    target: float,
    parts: tuple[int, int] | None = None,
    ports: NDArray[np.bool_] | None = None,
) -> tuple[sp.csr_matrix, NDArray[np.float64], NDArray[np.float64]]:
    """The rows of the program (see the module docstring), vectorised per block;
    ``bounds`` holds (weights, lo, hi) of each bound, the first balanced to ``target``;
    ``parts``: fewest and most parts (a row on the representatives), when given;
    ``ports``: units whose part has no minimum (``lo x[p, j]`` added to the minimum's
    row of part ``j`` for every port ``p``: a part holding one meets it whatever its
    load, the others are unchanged)."""
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
    relax = np.zeros(n) if ports is None else np.asarray(ports, dtype=np.float64)
    for b, (wb, lo, hi) in enumerate(bounds):
        s_lo = lay.s0 + 2 * n * b + nn
        rows.add(
            n,
            np.r_[xj, nn, nn],
            np.r_[xc, diag, s_lo],
            np.r_[wb[xi] + lo * relax[xi], -lo * np.ones(n), np.ones(n)],
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
    if parts is not None:
        rows.add(1, np.zeros(n, dtype=np.int64), diag, 1.0, float(parts[0]), float(parts[1]))
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
    cap = lay.flow_cap()[fj]
    for end in (lay.tail[fa], lay.head[fa]):
        rows.add(
            m,
            np.r_[loc, loc],
            np.r_[fcol, lay.xcol[end, fj]],
            np.r_[np.ones(m), -cap],
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
    ok = (r >= 0) & (c >= 0)  # pairs left out (:func:`reach`) are 0
    r, c = r[ok], c[ok]
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
    clock: Clock,
    x0: NDArray[np.float64] | None,
    abs_gap: float,
    max_nodes: int,
) -> tuple[ExactResult, float]:
    """Run HiGHS (from the start ``x0`` when given) within ``max_nodes`` nodes (the
    ``clock`` safety as its time limit) and read the labels, status and gap, and the
    dual bound (a proved lower bound on the objective; ``-inf`` when none)."""
    import highspy

    from planner.siting.highs import new_highs
    from planner.siting.mip import PRESOLVE_RULES_OFF

    h = new_highs()
    h.setOptionValue("time_limit", max(clock.left(), 1e-3))
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("presolve_rule_off", PRESOLVE_RULES_OFF)
    h.setOptionValue("mip_rel_gap", 1e-3)
    h.setOptionValue("mip_abs_gap", float(abs_gap))
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
    clock.ran(h)
    has_sol = int(info.primal_solution_status) == 2
    logger.info(
        "exact division of %d units: %s in %.2f s, gap %.3g", lay.n, status, elapsed, info.mip_gap
    )
    dual = float(info.mip_dual_bound) if status != "infeasible" else math.inf
    if not np.isfinite(dual) and status != "infeasible":
        dual = -math.inf
    if status == "infeasible":
        return ExactResult("infeasible", None, math.inf, elapsed, lay.n), dual
    if not has_sol:
        return ExactResult("no_solution", None, math.inf, elapsed, lay.n), dual
    x = np.asarray(h.getSolution().col_value, dtype=np.float64)[: lay.n_x]
    rep = np.zeros(lay.n, dtype=np.int64)
    on = x > 0.5
    rep[lay.xi[on]] = lay.xj[on]
    _, labels = np.unique(rep, return_inverse=True)
    gap = 0.0 if status == "optimal" else float(info.mip_gap)
    kind: ExactStatus = "optimal" if status == "optimal" else "feasible"
    return ExactResult(kind, labels.astype(np.int64), gap, elapsed, lay.n), dual


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
    ``time_limit_s``: the base of the piece's clock safety (:class:`Clock`), shared by
    every program the piece runs; work limits decide the answer.
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
    clock = Clock(time_limit_s)
    result = exact_partition(
        g,
        nodes,
        lo=lo,
        hi=hi,
        target=target,
        time_limit_s=time_limit_s,
        max_units=max_units,
        start=labels,
        also=also,
        clock=clock,
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
        time_limit_s=time_limit_s,
        max_units=max_units,
        soft=True,
        start=labels,
        also=also,
        clock=clock,
    )
    best, least = labels, False
    if soft.labels is not None and excess(w, soft.labels, lo=lo, hi=hi, also=local) <= excess(
        w, labels, lo=lo, hi=hi, also=local
    ):
        # proved least only where the program's count of households outside is
        # :func:`excess` (it counts a unit above hi at hi: see :func:`soft_measure`)
        best = soft.labels
        least = soft.status == "optimal" and math.isclose(
            soft_measure(w, best, lo=lo, hi=hi, also=local),
            excess(w, best, lo=lo, hi=hi, also=local),
        )
    kept = excess(w, best, lo=lo, hi=hi, also=local)
    # proved: > 0 outside (whole numbers: >= 1), the counting and the soft program's bounds
    bound = max(result.bound, soft.bound, 1.0 if whole(w, lo, hi, local) else 0.0)
    return best, replace(
        result,
        time_s=result.time_s + soft.time_s,
        clock=clock.hit,
        nodes=result.nodes + soft.nodes,
        excess=kept,
        least=least,
        bound=min(kept, kept if least else bound),
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
    return float(part_excess(weight, labels, lo=lo, hi=hi, also=also).sum())


def part_excess(
    weight: NDArray[np.float64],
    labels: NDArray[np.int64],
    *,
    lo: float,
    hi: float,
    also: Bound | None = None,
) -> NDArray[np.float64]:
    """:func:`excess` of each part (label ``0..k-1``): > 0 for the parts out of bounds
    that are not one unit above ``hi`` with zero-weight units only."""
    sums = np.bincount(labels, weights=weight)
    top = np.zeros(len(sums))
    np.maximum.at(top, labels, weight)
    lone_big = (top > hi) & np.isclose(sums, top)
    out = np.maximum(lo - sums, 0.0) + np.maximum(sums - hi, 0.0)
    out[lone_big] = 0.0
    if also is not None:
        out = out + part_excess(also.weight, labels, lo=also.lo, hi=also.hi)
    return np.asarray(out, dtype=np.float64)


# --- dist14g: proofs over a region of single atoms, whatever the rest's grouping ---
#: Branch-and-bound nodes of the soft program of :func:`local_excess_bound`. On the city
#: street of ``bench/bench_grids_street.py`` its proofs took 0-1 nodes, and a region
#: of 42 units whose least households outside were sought took 0.14 CPU s a node
#: (19.7 s for 144 nodes, stopped by the clock safety under load): a proof is sought,
#: not the fewest outside at any price.
LOCAL_MAX_NODES = 50


def local_excess_bound(
    g: Graph,
    nodes: NDArray[np.int64],
    ports: NDArray[np.bool_],
    *,
    lo: float,
    hi: float,
    target: float,
    time_limit_s: float,
    also: Bound | None = None,
    clock: Clock | None = None,
    start: NDArray[np.int64] | None = None,
) -> ExactResult:
    """A lower bound on the households outside the bounds (:func:`excess`) of every
    contiguous division of a larger piece, proved on a region of it.

    ``nodes`` is the region (connected or not), ``ports`` (one value per node) the
    nodes that touch the rest of the piece. Every division of the piece cuts the
    region into connected components of its grids; a component without a port is a
    whole grid (a path from it to the rest of its grid would pass a port), a component
    with one may be any share of a grid at most the maximum. So the soft program
    (:func:`exact_partition`, ``soft=True``) on the region with the minimum waived for
    parts holding a port is a relaxation: every division of the piece gives it a
    solution whose slacks are at most the division's :func:`excess` (the components'
    households above the maximum sum to at most their grid's), and
    :func:`soft_excess_bound` of its dual bound holds for the whole piece. The region's
    units are all the proof sees: whatever the units outside it are (fixed groups of a
    large compound's buildings, or single atoms), the bound holds. ``bound`` of the
    result is the proved bound (0 when nothing is proved), ``nodes`` its work.

    Without a port the region is a whole piece: the hard program then proves (status
    ``infeasible``, ``bound`` at least one household with whole numbers, else a
    thousandth: proved, not counted) or finds a division in bounds (``labels``).
    ``start``: the region cut by a division of the piece (each grid's connected pieces
    in the region), a solution of the relaxation HiGHS starts from."""
    relax = bool(np.asarray(ports, dtype=bool).any())
    res = exact_partition(
        g,
        nodes,
        lo=lo,
        hi=hi,
        target=target,
        time_limit_s=time_limit_s,
        max_units=len(nodes),
        soft=relax,
        start=start,
        also=also,
        clock=clock,
        ports=np.asarray(ports, dtype=bool) if relax else None,
        max_nodes=LOCAL_MAX_NODES if relax else None,
    )
    if relax:
        return res
    if res.status != "infeasible":
        return replace(res, bound=0.0)  # a division in bounds, or nothing proved
    local = None if also is None else Bound(also.weight[nodes], also.lo, also.hi)
    unit = 1.0 if whole(g.weight[nodes], lo, hi, local) else 1e-3
    return replace(res, bound=max(res.bound, unit))


# --- dist14: a rooted program for a first division in bounds ---
#: With a division in bounds from the rooted program, the full program (which only
#: improves the balance and bounds the gap) is not run above this many columns: HiGHS
#: may overrun its time limit on such programs before its first node (gap left ``inf``).
FULL_MAX_COLUMNS = 20_000

#: Pieces of fewer units go straight to the full program, which HiGHS solves or proves
#: infeasible within seconds at that size.
ROOTED_MIN_UNITS = 60


def roots_of(g: Graph, nodes: NDArray[np.int64], labels: NDArray[np.int64]) -> NDArray[np.int64]:
    """One root per part of ``labels`` (local positions): the unit of the part nearest
    the part's centre weighted by area (the heuristic's parts place the roots)."""
    xy = g.xy[nodes]
    area = np.maximum(g.area[nodes], 1e-9)
    k = int(labels.max()) + 1
    cx = np.bincount(labels, weights=xy[:, 0] * area, minlength=k)
    cy = np.bincount(labels, weights=xy[:, 1] * area, minlength=k)
    tot = np.bincount(labels, weights=area, minlength=k)
    d = np.hypot(xy[:, 0] - (cx / tot)[labels], xy[:, 1] - (cy / tot)[labels])
    order = np.lexsort((d, labels))  # by part, nearest first
    first = np.r_[0, np.flatnonzero(np.diff(labels[order])) + 1]
    return np.asarray(order[first], dtype=np.int64)


def adjust_roots(
    xy: NDArray[np.float64],
    w: NDArray[np.float64],
    labels: NDArray[np.int64],
    roots: NDArray[np.int64],
    k: int,
) -> NDArray[np.int64]:
    """``k`` roots from the roots of the parts of ``labels``: the roots of the lightest
    parts dropped, or units farthest (m) from every root added, one at a time."""
    load = np.bincount(labels, weights=w, minlength=len(roots))
    out = roots[np.sort(np.argsort(-load, kind="stable")[:k])]
    while len(out) < k:
        d = np.min(np.hypot(*(xy[:, None, :] - xy[out][None, :, :]).transpose(2, 0, 1)), axis=1)
        out = np.r_[out, int(np.argmax(d))]
    return np.asarray(out, dtype=np.int64)


def spread_roots(xy: NDArray[np.float64], w: NDArray[np.float64], k: int) -> NDArray[np.int64]:
    """``k`` roots spread over the piece: the units nearest the centres of ``k`` clusters
    of the unit centres (m), weighted by households (plus a mean unit's worth, so land
    without households counts too), by Lloyd's iterations from farthest-point seeds;
    deterministic. For when the start's parts place the roots badly."""
    weight = w + max(float(w.mean()), 1.0)
    centre = [int(np.argmax(weight))]
    for _ in range(1, k):
        d = np.min(np.hypot(*(xy[:, None, :] - xy[centre][None, :, :]).transpose(2, 0, 1)), axis=1)
        centre.append(int(np.argmax(d * weight)))
    c = xy[centre].astype(np.float64)
    for _ in range(20):
        near = np.argmin(((xy[:, None, :] - c[None, :, :]) ** 2).sum(axis=2), axis=1)
        tot = np.bincount(near, weights=weight, minlength=k)
        new = (
            np.c_[
                np.bincount(near, weights=weight * xy[:, 0], minlength=k),
                np.bincount(near, weights=weight * xy[:, 1], minlength=k),
            ]
            / np.maximum(tot, 1e-9)[:, None]
        )
        new[tot == 0] = c[tot == 0]
        if np.allclose(new, c):
            break
        c = new
    roots = np.argmin(((xy[:, None, :] - c[None, :, :]) ** 2).sum(axis=2), axis=0)
    return np.asarray(np.unique(roots), dtype=np.int64)


def rooted_partition(
    adj: sp.csr_matrix,
    w: NDArray[np.float64],
    xy: NDArray[np.float64],
    roots: NDArray[np.int64],
    *,
    lo: float,
    hi: float,
    time_limit_s: float,
    clock: Clock | None = None,
) -> NDArray[np.int64] | None:
    """Contiguous parts in ``[lo, hi]``, one around each of the given ``roots`` (local
    positions; ``adj``, ``w`` and centres ``xy`` in metres of the piece's units), or
    None when HiGHS finds none within the work limits: at most
    :data:`ROOTED_MAX_ROUNDS` rounds of cuts, each solve at most :data:`ROOTED_MAX_NODES`
    nodes (``clock``, or a :class:`Clock` of ``time_limit_s`` seconds, is only a safety;
    it records when it stopped the program).

    A Hess program with contiguity by cuts (Validi, Buchanan and Lykhovyd 2022):
    ``x[i, p]`` (unit ``i`` in the part of root ``p``) only where a path from the root to
    ``i`` weighs at most ``hi`` (weights capped at ``hi``), each unit in one part, every
    part in bounds, minimising ``sum (1 + w_i) d(i, root_p)^2 x[i, p]`` (compact parts,
    which are mostly contiguous already). A part found in pieces gets, for each piece
    ``C`` cut off from its root, the cuts ``x[i, p] <= sum_{v in N(C)} x[v, p]`` (a
    member beyond the separator ``N(C)`` needs a member on it), and HiGHS solves again,
    until every part is contiguous. With ``k`` roots the program has at most ``k n``
    binaries and no flows, so HiGHS finds divisions in seconds where the full program
    may find none; it proves nothing (other roots may divide where these cannot), so its
    division only starts the full program.
    """
    import highspy

    from planner.siting.highs import new_highs, rowwise_lp

    clock = Clock(time_limit_s) if clock is None else clock
    n, k = len(w), len(roots)
    cap = np.minimum(w, hi)
    coo = adj.tocoo()
    m = sp.csr_matrix((cap[coo.col] + 1e-7, (coo.row, coo.col)), shape=(n, n))
    limit = hi + 1e-6 + n * 1e-7
    dist = csgraph.dijkstra(m, directed=True, indices=roots, limit=limit)
    ok = np.isfinite(dist) & (dist + cap[roots][:, None] <= limit)  # (k, n)
    ok[np.arange(k), roots] = True
    xp, xi = np.nonzero(ok)
    nx = len(xi)
    xcol = np.full((k, n), -1, dtype=np.int64)
    xcol[xp, xi] = np.arange(nx)
    rows = _Rows()
    inf = math.inf
    rows.add(n, xi, np.arange(nx), 1.0, 1.0, 1.0)  # each unit in one part
    rows.add(k, np.arange(k), xcol[np.arange(k), roots], 1.0, 1.0, 1.0)  # roots fixed
    rows.add(k, xp, np.arange(nx), w[xi], lo, inf)
    rows.add(k, xp, np.arange(nx), cap[xi], -inf, hi)
    a, row_lo, row_hi = rows.matrix(nx)
    d2 = ((xy[xi] - xy[roots[xp]]) ** 2).sum(axis=1)
    cost = (1.0 + w[xi]) * d2 / max(float(d2.max()), 1e-9)
    lp = rowwise_lp(
        a, cost, col_upper=np.ones(nx), row_lower=row_lo, row_upper=row_hi, maximize=False
    )
    lp.integrality_ = [highspy.HighsVarType.kInteger] * nx
    h = new_highs()
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("mip_rel_gap", 0.02)
    h.setOptionValue("mip_max_nodes", ROOTED_MAX_NODES)
    h.passModel(lp)
    labels: NDArray[np.int64] | None = None
    for _ in range(ROOTED_MAX_ROUNDS):
        if (left := clock.left()) <= 0:
            break
        h.setOptionValue("time_limit", left)
        h.run()
        clock.ran(h)
        if int(h.getInfo().primal_solution_status) != 2:
            break
        x = np.asarray(h.getSolution().col_value, dtype=np.float64)
        labels = np.full(n, -1, dtype=np.int64)
        on = x > 0.5
        labels[xi[on]] = xp[on]
        cuts = _separator_cuts(adj, labels, roots, xcol)
        if cuts is None:
            return labels
        starts, index, value = cuts
        r = len(starts)
        h.addRows(r, np.full(r, -inf), np.zeros(r), len(index), starts, index, value)
    logger.info("rooted division of %d units into %d parts: none found", n, k)
    return None


def _separator_cuts(
    adj: sp.csr_matrix,
    labels: NDArray[np.int64],
    roots: NDArray[np.int64],
    xcol: NDArray[np.int64],
) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.float64]] | None:
    """Rows ``x[i, p] - sum_{v in N(C)} x[v, p] <= 0`` for each unit ``i`` of each piece
    ``C`` of part ``p`` not holding its root (``N(C)``: the units beside ``C`` outside
    it), in HiGHS's row-wise form (starts, column indices, values); None when every
    part is contiguous."""
    starts: list[int] = []
    index: list[NDArray[np.int64]] = []
    value: list[NDArray[np.float64]] = []
    count = 0
    for p, r in enumerate(roots):  # few parts
        members = np.flatnonzero(labels == p)
        ncomp, lab = csgraph.connected_components(adj[members][:, members], directed=False)
        if ncomp == 1:
            continue
        home = lab[np.flatnonzero(members == r)[0]]
        for c in range(ncomp):
            if c == home:
                continue
            piece = members[lab == c]
            inside = np.zeros(len(labels), dtype=bool)
            inside[piece] = True
            ring = np.unique(adj[piece].indices)
            ring = ring[~inside[ring]]
            sep = xcol[p, ring]
            sep = sep[sep >= 0]
            for i in piece:  # one row per unit of the piece
                starts.append(count)
                index.append(np.r_[xcol[p, i], sep])
                value.append(np.r_[1.0, -np.ones(len(sep))])
                count += 1 + len(sep)
    if not starts:
        return None
    return (
        np.asarray(starts, dtype=np.int32),
        np.concatenate(index).astype(np.int32),
        np.concatenate(value),
    )


# --- dist14c: proved bounds (households outside, balance) ---
def _small_parts(w: NDArray[np.float64], lo: float, hi: float) -> tuple[float, int, int, bool]:
    """What a division in ``[lo, hi]`` leaves to its parts without a unit above ``hi``.

    In a division in bounds a unit above ``hi`` is a part with zero-weight units only
    (its weight counts as ``hi`` in the upper bound), so the other units' weight ``ws``
    is shared by the other parts, each in ``[lo, hi]``: their count ``k`` has
    ``k lo <= ws <= k hi`` and each holds a unit of positive weight. Returns ``ws``, the
    fewest and most such parts (most < fewest: no count fits) and whether a unit above
    ``hi`` exists."""
    big = w > hi
    ws = float(w[~big].sum())
    positive = int(((w > 0) & ~big).sum())
    if ws <= 0:
        return ws, 0, 0, bool(big.any())
    fewest = max(1, math.ceil(ws / hi - 1e-9))
    most = positive if lo <= 0 else min(positive, math.floor(ws / lo + 1e-9))
    return ws, fewest, most, bool(big.any())


def counts_fit(w: NDArray[np.float64], *, lo: float, hi: float, also: Bound | None = None) -> bool:
    """False when no division, contiguous or not, keeps every part in ``[lo, hi]`` (and
    in ``also``'s bounds) by counting alone (:func:`_small_parts`): no whole number of
    parts can share the weight below ``hi`` within the bounds, or nothing at all is in
    the piece's parts without a unit above ``hi`` and none is above ``hi`` (a piece
    lighter than ``lo``). A proof of infeasibility without the solver."""
    ws, fewest, most, big = _small_parts(w, lo, hi)
    fits = (big or lo <= 0) if ws <= 0 else fewest <= most
    if also is not None:
        fits = fits and counts_fit(also.weight, lo=also.lo, hi=also.hi)
    return fits


def excess_bound(
    w: NDArray[np.float64], *, lo: float, hi: float, also: Bound | None = None
) -> float:
    """A lower bound on :func:`excess` over every division of the units (contiguous or
    not), by counting.

    A part holding a unit above ``hi`` costs nothing when its other units weigh 0, else
    at least their weight ``s`` (its load exceeds ``hi`` by more than ``s``); ``k`` parts
    without such a unit holding weight ``R`` cost at least ``g_k(R) = max(0, k lo - R,
    R - k hi)`` (the sum of each part's distance to ``[lo, hi]`` is at least the
    distance of their sum to ``[k lo, k hi]``). As ``g_k`` changes by at most 1 per
    household moved, ``s + g_k(ws - s) >= g_k(ws)`` for the weight ``ws`` of the units
    not above ``hi``: every division with ``k >= 1`` such parts costs at least
    ``g_k(ws)``. With ``k = 0`` (possible only when a unit above ``hi`` exists) the big
    units' parts hold all of ``ws``, so when ``ws > 0`` one of them exceeds ``hi`` by its
    unit's excess over ``hi`` plus what it holds: at least ``ws`` plus the least such
    excess. The bound is the least of these. ``also``'s bound adds its own term
    (:func:`excess` adds the two)."""
    ws, _, _, big = _small_parts(w, lo, hi)
    top = math.floor(ws / lo) + 1 if lo > 0 else math.ceil(ws / max(hi, 1e-9)) + 1
    k = np.arange(1, max(top, 1) + 1, dtype=np.float64)
    least = float(np.min(np.maximum(0.0, np.maximum(k * lo - ws, ws - k * hi))))
    if big:  # k = 0
        least = min(least, 0.0 if ws <= 0 else ws + float(np.min(w[w > hi])) - hi)
    if also is not None:
        least += excess_bound(also.weight, lo=also.lo, hi=also.hi)
    return least


def balance(w: NDArray[np.float64], labels: NDArray[np.int64], target: float) -> float:
    """The hard program's objective for a division: ``sum_j |load_j - target| / target``
    (``target`` taken as at least 1, as in the program)."""
    return float(np.abs(np.bincount(labels, weights=w) - target).sum()) / max(target, 1.0)


def balance_bound(w: NDArray[np.float64], *, lo: float, hi: float, target: float) -> float:
    """A lower bound on :func:`balance` over every division in ``[lo, hi]``, contiguous
    or not (``inf`` when no count of parts fits, :func:`counts_fit`).

    A unit above ``hi`` is a part of its own (with zero-weight units), deviating by
    ``|w_b - target|``; the ``k`` other parts share the weight ``ws`` of the other units
    (:func:`_small_parts`), and their deviations sum to at least ``|ws - k target|``
    (the absolute value of a sum is at most the sum of absolute values); the bound is
    the least of it over the counts ``k`` that fit, plus the big units' term."""
    ws, fewest, most, big = _small_parts(w, lo, hi)
    if ws <= 0:
        if not (big or lo <= 0):
            return math.inf
        fewest = most = 0
    if fewest > most:
        return math.inf
    k = np.arange(fewest, most + 1, dtype=np.float64)
    fixed = float(np.abs(w[w > hi] - target).sum())
    return (fixed + float(np.min(np.abs(ws - k * target)))) / max(target, 1.0)


def with_balance_gap(
    res: ExactResult, w: NDArray[np.float64], *, lo: float, hi: float, target: float
) -> ExactResult:
    """``res`` with a division in bounds: its gap no more than the one
    :func:`balance_bound` proves (``(balance - bound) / balance``, HiGHS's definition of
    the relative gap; the smaller of that and HiGHS's own, both valid), ``"optimal"``
    when it is within HiGHS's relative gap (0.1 %), and ``bound`` 0 (its 0 households
    outside the bounds are the least possible). Other results unchanged."""
    if res.labels is None:
        return res
    value = balance(w, res.labels, target)
    floor = balance_bound(w, lo=lo, hi=hi, target=target)
    proved = 0.0 if value - floor <= 1e-6 else (value - floor) / value
    gap = min(res.gap, proved)
    status: ExactStatus = "optimal" if res.status == "optimal" or gap <= 1e-3 else res.status
    return replace(res, gap=gap, status=status, bound=0.0)


def soft_measure(
    w: NDArray[np.float64],
    labels: NDArray[np.int64],
    *,
    lo: float,
    hi: float,
    also: Bound | None = None,
) -> float:
    """The households outside the bounds as the soft program counts them (its least
    slacks for ``labels``): each unit's weight capped at ``hi`` in the upper bound, so a
    unit above ``hi`` sharing its part with other households counts ``hi`` and not its
    weight. At most :func:`excess`, equal to it unless such a part exists."""
    load = np.bincount(labels, weights=w)
    capped = np.bincount(labels, weights=np.minimum(w, hi))
    out = float((np.maximum(lo - load, 0.0) + np.maximum(capped - hi, 0.0)).sum())
    if also is not None:
        out += soft_measure(also.weight, labels, lo=also.lo, hi=also.hi)
    return out


def whole(w: NDArray[np.float64], lo: float, hi: float, also: Bound | None = None) -> bool:
    """True when the weights and bounds (and ``also``'s) are whole numbers, so that
    :func:`excess` is a whole number too."""
    pairs = [(w, lo, hi)] if also is None else [(w, lo, hi), (also.weight, also.lo, also.hi)]
    return all(
        np.array_equal(a, np.floor(a)) and float(a_lo).is_integer() and float(a_hi).is_integer()
        for a, a_lo, a_hi in pairs
    )


def soft_excess_bound(
    dual: float,
    w: NDArray[np.float64],
    *,
    lo: float,
    hi: float,
    target: float,
    also: Bound | None = None,
) -> float:
    """A lower bound on :func:`excess` of every contiguous division from the soft
    program's dual bound ``dual``.

    Every contiguous division is a solution of the soft program, whose objective is
    :data:`SOFT_COST` times the slacks plus the balance; its slacks are at most its
    :func:`excess` (they count a unit above ``hi`` at ``hi``) and its balance at most
    ``sum_j (load_j + target) / target <= W / target + n`` (``W`` the households, ``n``
    the units). So ``SOFT_COST excess + W / target + n >= dual``. With whole weights and
    bounds the excess is whole and the bound is rounded up (after a tolerance of
    0.001 household for the solver's)."""
    if not np.isfinite(dual):
        return 0.0
    t = max(target, 1.0)
    value = (dual - float(w.sum()) / t - len(w)) / SOFT_COST
    if whole(w, lo, hi, also):
        value = math.ceil(value - 1e-3)
    return max(0.0, float(value))
