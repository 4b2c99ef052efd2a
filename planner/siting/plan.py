"""The two questions of the facilities team, answered on a CoverageProblem.

* :func:`maximal_coverage`: "with k new stations, where do they go to bring the
  most uncovered households within the threshold?"
* :func:`fewest_stations`: "how few new stations reach a target share of all
  households (counting those existing stations already cover)?"

Both run the lazy greedy first (instant, and the starting incumbent of the
exact solve), then the exact MILP with HiGHS under a time limit, and report the
optimality gap from the solver's bound. If the exact solve finds nothing in
time, the greedy plan is returned and says so.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from planner.siting.greedy import greedy
from planner.siting.lagrange import lagrangian_bound, restrict
from planner.siting.mip import solve_fewest, solve_max_coverage
from planner.siting.model import ReducedModel, reduce_problem
from planner.siting.problem import BoolArray, CoverageProblem, IntArray

log = logging.getLogger(__name__)

Method = Literal["mip", "greedy"]
Question = Literal["max_coverage", "fewest_stations"]


@dataclass(frozen=True)
class SitingPlan:
    """A siting answer with the figures needed to trust it.

    Attributes
    ----------
    question
        ``"max_coverage"`` or ``"fewest_stations"``.
    sites
        Positions (rows of the problem's matrix) of the proposed new stations, in
        rank order (largest marginal gain first).
    feasible
        False when a target share cannot be reached (see ``message``).
    method
        ``"mip"`` (HiGHS) or ``"greedy"`` (requested, or the fallback).
    status
        ``"optimal"``, ``"time_limit"`` (gap > 0), ``"greedy"``, ``"greedy_fallback"``,
        ``"target_already_met"``, ``"unreachable"`` or ``"infeasible_spacing"``.
    households_total, households_covered_before, households_covered_after
        Households in all demand points; covered by existing stations; covered
        after the proposed stations open.
    optimality_gap
        Relative gap of the primary objective (households newly covered, or the
        number of stations) proven by the solver's bound; 0 = optimal; None for a
        greedy-only answer.
    bound
        The solver's bound on the primary objective: at most this many households
        newly covered (max coverage), at least this many stations (fewest).
    greedy_sites, greedy_households_covered_after
        The greedy plan and what it covers (for comparison and as fallback).
    greedy_time_s, mip_time_s
        Wall times, seconds.
    total_minutes
        Household-weighted walking minutes to the nearest station over covered
        households (existing plus proposed), household-minutes.
    k, target_share
        The question's parameter.
    unreachable, households_unreachable
        Boolean mask of demand points not covered and reached by no candidate, and
        their households.
    message
        Plain-language summary (English), e.g. why a target cannot be reached.
    """

    question: Question
    sites: IntArray
    feasible: bool
    method: Method
    status: str
    households_total: float
    households_covered_before: float
    households_covered_after: float
    optimality_gap: float | None
    bound: float | None
    greedy_sites: IntArray
    greedy_households_covered_after: float
    greedy_time_s: float
    mip_time_s: float
    total_minutes: float
    k: int | None = None
    target_share: float | None = None
    unreachable: BoolArray = field(default_factory=lambda: np.zeros(0, bool), repr=False)
    households_unreachable: float = 0.0
    message: str = ""

    @property
    def households_newly_covered(self) -> float:
        return self.households_covered_after - self.households_covered_before

    @property
    def share_before(self) -> float:
        return (
            self.households_covered_before / self.households_total if self.households_total else 1.0
        )

    @property
    def share_after(self) -> float:
        return (
            self.households_covered_after / self.households_total if self.households_total else 1.0
        )

    def summary(self) -> dict[str, Any]:
        """JSON-ready figures (what ``siting.json`` holds)."""

        def r(x: float | None, nd: int = 6) -> float | None:
            return None if x is None or not math.isfinite(x) else round(float(x), nd)

        def hh(x: float | None) -> int | float | None:
            return whole_households(r(x, 3))

        return {
            "question": self.question,
            "feasible": self.feasible,
            "method": self.method,
            "status": self.status,
            "k": self.k,
            "target_share": self.target_share,
            "stations_proposed": int(self.sites.size),
            "households_total": hh(self.households_total),
            "households_covered_before": hh(self.households_covered_before),
            "households_covered_after": hh(self.households_covered_after),
            "households_newly_covered": hh(self.households_newly_covered),
            "share_covered_before": r(self.share_before),
            "share_covered_after": r(self.share_after),
            "optimality_gap": r(self.optimality_gap),
            "bound": hh(self.bound),
            "greedy_stations": int(self.greedy_sites.size),
            "greedy_households_covered_after": hh(self.greedy_households_covered_after),
            "greedy_time_s": r(self.greedy_time_s, 4),
            "mip_time_s": r(self.mip_time_s, 4),
            "total_walking_household_minutes": r(self.total_minutes, 1),
            "households_unreachable": hh(self.households_unreachable),
            "buildings_unreachable": int(self.unreachable.sum()),
            "message": self.message,
        }


def whole_households(x: float | None) -> int | float | None:
    """``x`` as an ``int`` when it is a whole number of households (the usual case:
    the register counts whole households), else unchanged (estimated or split
    households)."""
    if x is None or not math.isfinite(x):
        return x
    return round(float(x)) if abs(x - round(x)) < 1e-9 else x


def _rank(model: ReducedModel, picks: IntArray) -> IntArray:
    """Order picks by greedy marginal gain within the chosen set; drop picks that add
    no household (the solver may open them at zero cost)."""
    if picks.size == 0:
        return picks
    cols = np.sort(picks)
    sub = replace(
        model,
        cand=model.cand[cols],
        own_w=model.own_w[cols],
        groups=model.groups[:, cols].tocsr(),
        tie_cost=model.tie_cost[cols],
        conflicts=np.zeros((0, 2), np.int64),
    )
    return cols[greedy(sub, k=cols.size)]


@dataclass(frozen=True)
class _Answer:
    """How a question was answered, before the plan's figures are computed.

    ``picks`` and ``greedy`` are positions among the reduced model's candidates;
    ``message`` may be a function of the number of stations proposed and the
    households covered after them.
    """

    question: Question
    picks: IntArray
    greedy: IntArray
    greedy_time_s: float
    method: Method
    status: str
    feasible: bool = True
    optimality_gap: float | None = None
    bound: float | None = None
    mip_time_s: float = 0.0
    message: str | Callable[[int, float], str] = ""
    k: int | None = None
    target_share: float | None = None


def _finish(problem: CoverageProblem, model: ReducedModel, answer: _Answer) -> SitingPlan:
    """The plan of ``answer``: its sites ranked, and the figures before and after."""
    sites = model.cand[_rank(model, answer.picks)]
    greedy_sites = model.cand[answer.greedy]
    after = problem.households_covered(sites)
    message = answer.message
    unreachable = problem.unreachable()
    return SitingPlan(
        question=answer.question,
        sites=sites,
        feasible=answer.feasible,
        method=answer.method,
        status=answer.status,
        households_total=problem.households_total,
        households_covered_before=problem.households_covered_before,
        households_covered_after=after,
        optimality_gap=answer.optimality_gap,
        bound=answer.bound,
        greedy_sites=greedy_sites,
        greedy_households_covered_after=problem.households_covered(greedy_sites),
        greedy_time_s=answer.greedy_time_s,
        mip_time_s=answer.mip_time_s,
        total_minutes=problem.total_minutes(sites),
        k=answer.k,
        target_share=answer.target_share,
        unreachable=unreachable,
        households_unreachable=float(problem.weights[unreachable].sum()),
        message=message(int(sites.size), after) if callable(message) else message,
    )


def maximal_coverage(
    problem: CoverageProblem,
    k: int,
    *,
    method: Method = "mip",
    time_limit_s: float = 30.0,
    threads: int | None = None,
) -> SitingPlan:
    """Open up to ``k`` new stations covering the most uncovered households.

    Parameters
    ----------
    problem
        The coverage problem (households, sites, walking minutes within threshold).
    k
        Number of new stations (>= 0). Fewer are proposed when further stations
        would cover nobody new.
    method
        ``"mip"`` (exact, HiGHS) or ``"greedy"`` (instant).
    time_limit_s
        Time limit of the exact solve, seconds (``Settings.mip_time_limit_s``).
    threads
        HiGHS threads (default: HiGHS's choice).

    Returns
    -------
    SitingPlan
    """
    if k < 0:
        raise ValueError(f"k must be 0 or more, got {k}")
    model = reduce_problem(problem)
    t0 = time.perf_counter()
    g = greedy(model, k=k)
    base = _Answer(
        question="max_coverage",
        picks=g,
        greedy=g,
        greedy_time_s=time.perf_counter() - t0,
        method=method,
        status="greedy",
        k=int(k),
    )
    if method == "greedy":
        return _finish(
            problem,
            model,
            replace(
                base,
                message=lambda n, after: _max_coverage_message(
                    problem, model, k=k, n=n, after=after, quality="greedy plan"
                ),
            ),
        )
    if k == 0 or model.n_c == 0:  # nothing to choose: the greedy answer is optimal
        return _finish(
            problem,
            model,
            replace(
                base,
                status="optimal",
                optimality_gap=0.0,
                bound=model.value(g),
                message="k=0: no new station"
                if k == 0
                else "no candidate can newly cover a household",
            ),
        )
    return _finish(problem, model, _exact_max_coverage(problem, model, base, time_limit_s, threads))


@dataclass(frozen=True)
class _Pruned:
    """The candidates kept by the Lagrangian bound: ``sub`` (the model restricted
    to them), ``cols`` (their positions in the full model), ``local`` (each full
    position's position in ``sub``, -1 if pruned); ``bound`` (the Lagrangian bound
    on households newly covered), ``removed_best`` (the best any plan through a
    pruned candidate could do) and the time taken, seconds."""

    sub: ReducedModel
    cols: IntArray
    local: IntArray
    bound: float
    removed_best: float
    time_s: float


def _prune(model: ReducedModel, k: int, g: IntArray) -> _Pruned:
    """Drop the candidates in no plan better than the greedy one ``g`` (Lagrangian
    bound with each candidate forced in)."""
    t0 = time.perf_counter()
    g_val = model.value(g)
    lag = lagrangian_bound(model, k, lower=g_val)
    with_j = lag.with_candidate
    if model.unit == 1.0:
        with_j = np.floor(with_j + 1e-9)
    keep = with_j >= g_val - 1e-9
    keep[g] = True
    removed_best = float(with_j[~keep].max()) if (~keep).any() else 0.0
    sub = restrict(model, keep) if not keep.all() else model
    cols = np.flatnonzero(keep)
    local = np.full(model.n_c, -1, np.int64)
    local[cols] = np.arange(cols.size)
    log.info(
        "Lagrangian bound %.1f (greedy %.1f) after %d steps; %d of %d candidates kept",
        lag.bound,
        g_val,
        lag.iterations,
        cols.size,
        model.n_c,
    )
    return _Pruned(sub, cols, local, lag.bound, removed_best, time.perf_counter() - t0)


def _exact_max_coverage(
    problem: CoverageProblem,
    model: ReducedModel,
    base: _Answer,
    time_limit_s: float,
    threads: int | None,
) -> _Answer:
    """The exact answer (HiGHS on the candidates the Lagrangian bound keeps), with
    the greedy plan as incumbent; the greedy plan when the solver finds none."""
    g, k = base.greedy, int(base.k or 0)
    pruned = _prune(model, k, g)
    out = solve_max_coverage(
        pruned.sub,
        k,
        time_limit_s=max(0.1, time_limit_s - pruned.time_s),
        start=pruned.local[g],
        threads=threads,
    )
    if out.picks.size == 0 and g.size:
        return replace(
            base,
            method="greedy",
            status="greedy_fallback",
            mip_time_s=out.time_s + pruned.time_s,
            message=f"exact solve gave no plan ({out.status}); greedy plan returned",
        )
    picks = pruned.cols[out.picks]
    value = model.value(picks)
    if value < model.value(g):  # cannot happen with the greedy as incumbent; guard anyway
        picks, value = g, model.value(g)
    bound = _max_coverage_bound(model, value, out.status, out.dual_bound, pruned)
    gap = 0.0 if bound <= 0 else (bound - value) / bound
    return replace(
        base,
        picks=picks,
        method="mip",
        status="optimal" if gap == 0 else out.status,
        optimality_gap=gap,
        bound=bound,
        mip_time_s=out.time_s + pruned.time_s,
        message=lambda n, after: _max_coverage_message(
            problem,
            model,
            k=k,
            n=n,
            after=after,
            quality="optimal" if gap == 0 else f"within {gap:.2%} of the optimum",
        ),
    )


def _max_coverage_bound(
    model: ReducedModel, value: float, status: str, dual_bound: float, pruned: _Pruned
) -> float:
    """The proven bound on households newly covered: the solver's (or the plan's
    value when optimal), no better than the Lagrangian bound, at least what a
    pruned candidate could give, a whole number of households where they are whole."""
    if status == "optimal":
        bound = max(value, pruned.removed_best)
    else:
        eps_total = 0.49 * model.unit
        bound = max(min(model.coverable, dual_bound + eps_total), pruned.removed_best)
    bound = min(bound, pruned.bound)
    if model.unit == 1.0:
        bound = math.floor(bound + 1e-9)
    return float(max(bound, value))


def _share(households: float, total: float) -> str:
    return f"{households / total:.1%}" if total else "100%"


def _max_coverage_message(
    problem: CoverageProblem,
    model: ReducedModel,
    *,
    k: int,
    n: int,
    after: float,
    quality: str,
) -> str:
    """Plain-language answer of a maximal-coverage plan with ``n`` of ``k`` stations."""
    new = after - problem.households_covered_before
    total = problem.households_total
    text = (
        f"{n} new stations newly cover {new:,.0f} households, "
        f"{_share(after, total)} of households covered ({quality})"
    )
    if n < k:
        if new >= model.coverable - 1e-6:
            text += (
                f"; {n} already cover every household any candidate can reach, "
                f"so {k - n} more would add nobody"
            )
        else:
            text += "; no further station adds a household under the minimum spacing"
    return text


def fewest_stations(
    problem: CoverageProblem,
    target_share: float,
    *,
    method: Method = "mip",
    time_limit_s: float = 30.0,
    threads: int | None = None,
) -> SitingPlan:
    """The fewest new stations reaching ``target_share`` of all households.

    The share counts every household of the problem, including those existing
    stations already cover. Among plans with the fewest stations, the exact
    method then picks the one covering the most households (ties: fewer walking
    minutes) by a second, maximal-coverage solve with that many stations.

    Parameters
    ----------
    problem
        The coverage problem.
    target_share
        Target share of households covered, in (0, 1].
    method, time_limit_s, threads
        As for :func:`maximal_coverage`; the time limit is shared by both solves.

    Returns
    -------
    SitingPlan
        ``feasible=False`` with a message naming the shortfall and the households no
        candidate can reach when the target cannot be reached.
    """
    if not 0 < target_share <= 1:
        raise ValueError(f"target_share must be in (0, 1], got {target_share}")
    model = reduce_problem(problem)
    total = problem.households_total
    need = target_share * total - problem.households_covered_before
    # Whole households: the target is reached by covering ceil(need) households.
    if model.unit == 1.0:
        need = math.ceil(need - 1e-9)
    empty = np.zeros(0, np.int64)
    start = _Answer(
        question="fewest_stations",
        picks=empty,
        greedy=empty,
        greedy_time_s=0.0,
        method=method,
        status="",
        target_share=float(target_share),
    )
    if need <= 0:
        return _finish(problem, model, _target_met(problem, start, target_share))
    if need > model.coverable + 1e-9:
        # the best plan for the reachable part: the fewest stations covering every
        # household a candidate reaches; the rest are named (issue 16)
        reachable = _fewest_for(model, start, model.coverable, total, method, time_limit_s, threads)
        return _finish(problem, model, _target_unreachable(problem, model, reachable, target_share))
    answer = _fewest_for(model, start, need, total, method, time_limit_s, threads)
    return _finish(problem, model, answer)


def _fewest_for(
    model: ReducedModel,
    start: _Answer,
    need: float,
    total: float,
    method: Method,
    time_limit_s: float,
    threads: int | None,
) -> _Answer:
    """The fewest stations newly covering ``need`` households (greedy, then exact);
    ``total`` is every household of the problem (for the message's share)."""
    target_share = float(start.target_share or 0.0)
    if need <= 0:
        return replace(start, status="optimal", optimality_gap=0.0, bound=0.0)
    t0 = time.perf_counter()
    g = greedy(model, need=need)
    base = replace(start, greedy=g, greedy_time_s=time.perf_counter() - t0)
    g_ok = model.value(g) >= need - 1e-9
    if method == "greedy":
        return _greedy_fewest(base, g_ok, total, target_share)
    return _exact_fewest(model, base, need, g_ok, total, time_limit_s, threads)


def _target_met(problem: CoverageProblem, start: _Answer, target_share: float) -> _Answer:
    """The answer when existing stations already reach the target."""
    before, total = problem.households_covered_before, problem.households_total
    return replace(
        start,
        status="target_already_met",
        optimality_gap=0.0,
        bound=0.0,
        message=(
            f"existing stations already cover {before / total:.1%} of households, "
            f"at or above the target {target_share:.1%}; no new station needed"
        ),
    )


def _target_unreachable(
    problem: CoverageProblem, model: ReducedModel, reachable: _Answer, target_share: float
) -> _Answer:
    """The answer when even every candidate open falls short of the target: the best
    plan for the reachable part (``reachable``: the fewest stations covering every
    household a candidate reaches), not feasible, naming the households left out."""
    total = problem.households_total
    best = (problem.households_covered_before + model.coverable) / total if total else 1.0
    unreachable = problem.unreachable()
    n_un = int(unreachable.sum())
    hh_un = float(problem.weights[unreachable].sum())
    head = (
        f"target {target_share:.1%} cannot be reached from these candidates: "
        f"even opening every candidate covers at most {best:.1%} of households; "
    )
    tail = (
        f"{hh_un:,.0f} households in {n_un} buildings are beyond "
        f"{problem.threshold_min:g} minutes of every candidate and every station. "
        "Add candidate sites near them (or lower the target)."
    )
    inner = reachable.message

    def message(n: int, after: float) -> str:
        if n == 0:
            return head + tail
        how = inner(n, after) if callable(inner) else inner
        plan = how.split(" (target")[0]
        return f"{head}best plan for the reachable part: {plan}; {tail}"

    return replace(reachable, feasible=False, status="unreachable", message=message)


def _greedy_fewest(base: _Answer, g_ok: bool, total: float, target_share: float) -> _Answer:
    """The greedy plan as the answer (``method="greedy"``)."""
    if not g_ok:
        return replace(
            base,
            picks=base.greedy,
            feasible=False,
            method="greedy",
            status="infeasible_spacing",
            message="greedy could not reach the target under the minimum spacing; "
            "try the exact method",
        )
    return replace(
        base,
        picks=base.greedy,
        method="greedy",
        status="greedy",
        message=lambda n, after: (
            f"greedy plan: {n} new stations reach {_share(after, total)} of "
            f"households (target {target_share:.1%})"
        ),
    )


def _exact_fewest(
    model: ReducedModel,
    base: _Answer,
    need: float,
    g_ok: bool,
    total: float,
    time_limit_s: float,
    threads: int | None,
) -> _Answer:
    """The exact answer: the fewest stations (HiGHS, the greedy plan as incumbent when
    it reaches the target), then with that many stations the plan covering the most
    households; the greedy plan when the solver finds none."""
    g = base.greedy
    t_start = time.perf_counter()
    out = solve_fewest(
        model, need, time_limit_s=time_limit_s, start=g if g_ok else None, threads=threads
    )
    if out.status == "infeasible":
        return replace(
            base,
            feasible=False,
            method="mip",
            status="infeasible_spacing",
            mip_time_s=out.time_s,
            message=(
                f"target {base.target_share:.1%} cannot be reached: candidates could cover "
                "it, but not while keeping the minimum spacing between stations; lower "
                "min_station_spacing_m or add candidates"
            ),
        )
    if out.picks.size == 0:
        return replace(
            base,
            picks=g,
            feasible=g_ok,
            method="greedy",
            status="greedy_fallback",
            mip_time_s=out.time_s,
            message=f"exact solve gave no plan ({out.status}); greedy plan returned",
        )
    p = int(out.picks.size)
    lower = p if out.status == "optimal" else max(1, math.ceil(out.dual_bound - 1e-6))
    picks = out.picks
    # Second stage: with p stations, cover the most households (ties: fewer minutes).
    left = time_limit_s - (time.perf_counter() - t_start)
    if left > 0.5:
        stage2 = solve_max_coverage(model, p, time_limit_s=left, start=picks, threads=threads)
        if stage2.picks.size and model.value(stage2.picks) >= model.value(picks):
            picks = stage2.picks
    gap = 0.0 if lower >= picks.size else (picks.size - lower) / picks.size
    target = float(base.target_share or 0.0)
    return replace(
        base,
        picks=picks,
        method="mip",
        status="optimal" if gap == 0 else "time_limit",
        optimality_gap=gap,
        bound=float(lower),
        mip_time_s=time.perf_counter() - t_start,
        message=lambda n, after: (
            f"{n} new stations reach {_share(after, total)} of households "
            f"(target {target:.1%})"
            + ("" if gap == 0 else f"; at least {lower} needed, gap {gap:.1%}")
        ),
    )
