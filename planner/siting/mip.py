"""Exact solves with HiGHS, called directly through ``highspy``.

Why ``highspy`` and not ``scipy.optimize.milp`` (which runs the same HiGHS): the
model is handed over as the CSR arrays we already hold (no conversion), the
greedy plan is passed in as a starting incumbent (``setSolution``), so a solve
stopped by the time limit is never worse than the greedy, and the solver's dual
bound, gap and status are read directly.

Maximal coverage (MCLP, Church & ReVelle 1974), on the reduced model::

    max   sum_j (own_w_j - eps * tie_j) x_j + sum_g group_w_g y_g
    s.t.  y_g - sum_{j in g} x_j <= 0          for every demand group g
          sum_j x_j <= k
          x_i + x_j <= 1                       for every spacing conflict
          x binary, 0 <= y <= 1 (continuous: at an optimum y_g = min(1, sum x))

``eps`` keeps the total tie-break below half a household, and the absolute gap
tolerance is set just under half a household, so "optimal" means no plan covers
even one more household.

Fewest stations (partial set cover)::

    min   sum_j x_j
    s.t.  the same group rows and conflicts
          sum_j own_w_j x_j + sum_g group_w_g y_g >= need
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp

from planner.siting.highs import new_highs, rowwise_lp
from planner.siting.model import ReducedModel
from planner.siting.problem import FloatArray, IntArray

log = logging.getLogger(__name__)

_INF = highspy.kHighsInf

#: HiGHS presolve rules switched off (``presolve_rule_off`` bits). Bit 16
#: ("enumeration") makes HiGHS 1.16 declare feasible covering models infeasible
#: (found by tests/test_siting_plan.py against enumeration); bit 15 ("probing")
#: spends minutes on large coverage models and ignores the time limit.
PRESOLVE_RULES_OFF = (1 << 15) | (1 << 16)


@dataclass(frozen=True)
class MipOutcome:
    """What HiGHS returned.

    Attributes
    ----------
    picks
        Open candidates (positions into the model), empty when no solution.
    status
        ``"optimal"``, ``"time_limit"``, ``"infeasible"`` or another HiGHS status.
    objective
        Objective of the returned solution (including the tie-break term).
    dual_bound
        Solver's bound on the objective (upper for max, lower for min).
    gap
        Solver's relative gap (0 when proven optimal).
    time_s
        Wall time of the solve, seconds.
    """

    picks: IntArray
    status: str
    objective: float
    dual_bound: float
    gap: float
    time_s: float


def _rows_matrix(model: ReducedModel, extra_rows: list[FloatArray]) -> sp.csr_matrix:
    """[-G | I] for the group rows, then the dense-in-x extra rows, then conflicts."""
    n_c, n_g = model.n_c, model.n_g
    g = model.groups
    group_rows = sp.hstack([-g, sp.identity(n_g, format="csr")], format="csr")
    blocks: list[sp.csr_matrix] = [group_rows]
    for row in extra_rows:
        blocks.append(sp.csr_matrix(row.reshape(1, -1)))
    if model.conflicts.size:
        m = len(model.conflicts)
        r = np.repeat(np.arange(m), 2)
        c = model.conflicts.ravel()
        blocks.append(sp.csr_matrix((np.ones(2 * m), (r, c)), shape=(m, n_c + n_g)))
    out = sp.vstack(blocks, format="csr")
    out.sort_indices()
    return out


def _solve(
    *,
    cost: FloatArray,
    n_int: int,
    a: sp.csr_matrix,
    row_lo: FloatArray,
    row_hi: FloatArray,
    maximize: bool,
    time_limit_s: float,
    abs_gap: float,
    start: IntArray | None,
    start_y: FloatArray | None = None,
    threads: int | None,
    options: dict[str, Any] | None = None,
) -> MipOutcome:
    n_col = cost.size
    lp = rowwise_lp(
        a, cost, col_upper=np.ones(n_col), row_lower=row_lo, row_upper=row_hi, maximize=maximize
    )
    integrality: list[highspy.HighsVarType] = [highspy.HighsVarType.kInteger] * n_int + [
        highspy.HighsVarType.kContinuous
    ] * (n_col - n_int)
    lp.integrality_ = integrality

    t0 = time.perf_counter()
    h, has_sol, x = _run(lp, n_int, time_limit_s, abs_gap, start, start_y, threads, options)
    if has_sol:
        # HiGHS 1.16 sometimes hands back the start solution unchanged, with the
        # objective of another (better) one, when presolve solves the model on its
        # own; check the returned values and solve again without a start if so.
        reported = float(h.getInfo().objective_function_value)
        actual = float(cost @ x)
        if abs(actual - reported) > 1e-6 * max(1.0, abs(reported)):
            log.debug("HiGHS returned an inconsistent solution; solving without start")
            left = max(0.1, time_limit_s - (time.perf_counter() - t0))
            h, has_sol, x = _run(lp, n_int, left, abs_gap, None, None, threads, options)
    elapsed = time.perf_counter() - t0
    status = h.modelStatusToString(h.getModelStatus()).lower()
    info = h.getInfo()
    picks = np.zeros(0, np.int64)
    objective = float("nan")
    if has_sol:
        picks = np.flatnonzero(x[:n_int] > 0.5).astype(np.int64)
        objective = float(info.objective_function_value)
    name = {"optimal": "optimal", "time limit reached": "time_limit", "infeasible": "infeasible"}
    log.info("HiGHS: %s in %.2f s, gap %.3g", status, elapsed, info.mip_gap)
    return MipOutcome(
        picks=picks,
        status=name.get(status, status),
        objective=objective,
        dual_bound=float(info.mip_dual_bound),
        gap=float(info.mip_gap) if has_sol else float("inf"),
        time_s=elapsed,
    )


def _run(
    lp: highspy.HighsLp,
    n_int: int,
    time_limit_s: float,
    abs_gap: float,
    start: IntArray | None,
    start_y: FloatArray | None,
    threads: int | None,
    options: dict[str, Any] | None,
) -> tuple[highspy.Highs, bool, FloatArray]:
    """One HiGHS run; returns the solver, whether it has a feasible solution, and x."""
    n_col = int(lp.num_col_)
    h = new_highs()
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", float(abs_gap))
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("presolve_rule_off", PRESOLVE_RULES_OFF)
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    for key, value in (options or {}).items():
        h.setOptionValue(key, value)
    h.passModel(lp)
    if start is not None and start.size:
        x0 = np.zeros(n_col)
        x0[start] = 1.0
        if start_y is not None:
            x0[n_int:] = start_y
        sol = highspy.HighsSolution()
        sol.col_value = list(x0)
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    info = h.getInfo()
    has_sol = int(info.primal_solution_status) == 2  # kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value, dtype=np.float64) if has_sol else np.zeros(n_col)
    return h, has_sol, x


def _start_y(model: ReducedModel, start: IntArray | None) -> FloatArray | None:
    """Group variables matching a start plan: y_g = 1 where an open candidate reaches g."""
    if start is None:
        return None
    on = np.zeros(model.n_c)
    on[start] = 1.0
    return np.asarray((model.groups @ on) > 0, dtype=np.float64)


def tie_weight(model: ReducedModel, k: int) -> float:
    """Multiple of ``tie_cost`` per open station: total below half a household."""
    return 0.49 * model.unit / max(1, k)


def solve_max_coverage(
    model: ReducedModel,
    k: int,
    *,
    time_limit_s: float,
    start: IntArray | None = None,
    threads: int | None = None,
    options: dict[str, Any] | None = None,
) -> MipOutcome:
    """Exact maximal coverage for at most ``k`` new stations (see module docstring)."""
    n_c, n_g = model.n_c, model.n_g
    eps = tie_weight(model, k)
    cost = np.concatenate([model.own_w - eps * model.tie_cost, model.group_w])
    card = np.concatenate([np.ones(n_c), np.zeros(n_g)])
    a = _rows_matrix(model, [card])
    n_conf = len(model.conflicts)
    row_lo = np.full(a.shape[0], -_INF)
    row_hi = np.concatenate([np.zeros(n_g), [float(k)], np.ones(n_conf)])
    return _solve(
        cost=cost,
        n_int=n_c,
        a=a,
        row_lo=row_lo,
        row_hi=row_hi,
        maximize=True,
        time_limit_s=time_limit_s,
        abs_gap=0.499 * model.unit,
        start=start,
        start_y=_start_y(model, start),
        threads=threads,
        options=options,
    )


def solve_fewest(
    model: ReducedModel,
    need: float,
    *,
    time_limit_s: float,
    start: IntArray | None = None,
    threads: int | None = None,
    options: dict[str, Any] | None = None,
) -> MipOutcome:
    """Exact fewest stations newly covering at least ``need`` households."""
    n_c, n_g = model.n_c, model.n_g
    cost = np.concatenate([np.ones(n_c), np.zeros(n_g)])
    cover = np.concatenate([model.own_w, model.group_w])
    a = _rows_matrix(model, [cover])
    n_conf = len(model.conflicts)
    row_lo = np.concatenate([np.full(n_g, -_INF), [float(need) - 1e-6], np.full(n_conf, -_INF)])
    row_hi = np.concatenate([np.zeros(n_g), [_INF], np.ones(n_conf)])
    return _solve(
        cost=cost,
        n_int=n_c,
        a=a,
        row_lo=row_lo,
        row_hi=row_hi,
        maximize=False,
        time_limit_s=time_limit_s,
        abs_gap=0.5,
        start=start,
        start_y=_start_y(model, start),
        threads=threads,
        options=options,
    )
