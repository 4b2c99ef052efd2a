"""The two siting questions against brute-force enumeration on tiny instances."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
import scipy.sparse as sp

from planner.siting import CoverageProblem, fewest_stations, maximal_coverage


def random_problem(
    seed: int,
    *,
    n_demand: int = 14,
    n_cand: int = 8,
    n_fixed: int = 1,
    density: float = 0.3,
    conflicts: int = 0,
) -> CoverageProblem:
    rng = np.random.default_rng(seed)
    n_sites = n_cand + n_fixed
    reach = rng.random((n_sites, n_demand)) < density
    minutes = np.where(reach, rng.uniform(0, 15, (n_sites, n_demand)), 0.0)
    rows, cols = np.nonzero(reach)
    m = sp.csr_matrix((minutes[rows, cols], (rows, cols)), shape=(n_sites, n_demand))
    fixed = np.r_[np.zeros(n_cand, bool), np.ones(n_fixed, bool)]
    pairs = rng.choice(n_cand, size=(conflicts, 2)) if conflicts else None
    if pairs is not None:
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    return CoverageProblem.build(
        weights=rng.integers(0, 50, n_demand),
        minutes=m,
        threshold_min=15,
        fixed=fixed,
        conflicts=pairs,
    )


def brute_best(p: CoverageProblem, k: int) -> float:
    """Best households covered with at most k candidates, respecting conflicts."""
    best = p.households_covered_before
    for r in range(1, k + 1):
        for combo in itertools.combinations(p.candidates, r):
            if p.violates_spacing(combo):
                continue
            best = max(best, p.households_covered(combo))
    return best


def brute_fewest(p: CoverageProblem, goal: float) -> int | None:
    for r in range(len(p.candidates) + 1):
        for combo in itertools.combinations(p.candidates, r):
            if not p.violates_spacing(combo) and p.households_covered(combo) >= goal:
                return r
    return None


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("k", [1, 2, 3])
def test_max_coverage_matches_enumeration(seed: int, k: int) -> None:
    p = random_problem(seed, conflicts=3 if seed % 2 else 0)
    plan = maximal_coverage(p, k, time_limit_s=10)
    assert plan.households_covered_after == brute_best(p, k)
    assert plan.optimality_gap == 0.0
    assert plan.sites.size <= k
    assert not p.violates_spacing(plan.sites)
    assert not np.any(p.fixed[plan.sites])
    # greedy never beats exact
    assert plan.greedy_households_covered_after <= plan.households_covered_after


@pytest.mark.parametrize("seed", range(10))
def test_greedy_is_feasible_and_not_better(seed: int) -> None:
    p = random_problem(seed, n_demand=30, n_cand=10, conflicts=4)
    plan = maximal_coverage(p, 3, method="greedy")
    assert plan.method == "greedy" and plan.optimality_gap is None
    assert not p.violates_spacing(plan.sites)
    assert plan.households_covered_after <= brute_best(p, 3)


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("share", [0.5, 0.8, 1.0])
def test_fewest_stations_is_minimal(seed: int, share: float) -> None:
    p = random_problem(seed, n_demand=12, n_cand=7, density=0.35, conflicts=2 if seed % 3 else 0)
    goal = share * p.households_total
    need_goal = np.ceil(goal - 1e-9)
    plan = fewest_stations(p, share, time_limit_s=10)
    best = brute_fewest(p, need_goal)
    if best is None:
        assert not plan.feasible
        assert plan.message
        return
    assert plan.feasible, plan.message
    assert plan.sites.size == best
    assert plan.households_covered_after >= need_goal
    # one fewer station cannot reach the target
    if best > 0:
        assert brute_best(p, best - 1) < need_goal
    # among plans with that many stations, it covers the most households
    assert plan.households_covered_after == brute_best(p, best)


def hand_problem() -> CoverageProblem:
    """Three candidates, one existing station; demand d3 is reached by nobody."""
    #              d0  d1  d2  d3  d4
    minutes = np.array(
        [
            [2.0, 5.0, 0, 0, 0],  # c0 covers d0, d1 (30 households)
            [0, 4.0, 6.0, 0, 0],  # c1 covers d1, d2 (25)
            [0, 0, 3.0, 0, 0],  # c2 covers d2 (5)
            [0, 0, 0, 0, 1.0],  # existing station covers d4
        ]
    )
    rows, cols = np.nonzero(minutes)
    m = sp.csr_matrix((minutes[rows, cols], (rows, cols)), shape=minutes.shape)
    return CoverageProblem.build(
        weights=[10, 20, 5, 40, 25],
        minutes=m,
        threshold_min=15,
        fixed=[False, False, False, True],
        site_ids=["c0", "c1", "c2", "s0"],
    )


def test_unreachable_target_names_the_households() -> None:
    p = hand_problem()
    plan = fewest_stations(p, 0.9)
    assert not plan.feasible
    assert plan.status == "unreachable"
    assert "40 households in 1 buildings" in plan.message
    assert plan.unreachable.tolist() == [False, False, False, True, False]
    assert plan.summary()["households_unreachable"] == 40
    assert plan.summary()["buildings_unreachable"] == 1


@pytest.mark.parametrize("method", ["mip", "greedy"])
def test_unreachable_target_returns_the_best_plan_for_the_reachable_part(method: str) -> None:
    # issue 16: not zero stations. d0-d2 (35 households) are reachable: c0 covers d0 and
    # d1, then c1 or c2 covers d2 -> two stations cover every reachable household
    p = hand_problem()
    plan = fewest_stations(p, 0.9, method=method)  # type: ignore[arg-type]
    assert not plan.feasible and plan.status == "unreachable"
    assert plan.sites.size == 2 and 0 in plan.sites.tolist()
    assert plan.households_covered_after == 25 + 35
    assert brute_best(p, 1) < 60  # one station would not do
    assert re.search(
        r"best plan for the reachable part: (greedy plan: )?2 new stations reach 60\.0%",
        plan.message,
    )
    assert "40 households in 1 buildings" in plan.message


def test_target_already_met_needs_no_station() -> None:
    p = hand_problem()
    plan = fewest_stations(p, 0.2)  # existing covers 25 of 100
    assert plan.feasible and plan.sites.size == 0
    assert plan.status == "target_already_met"


def test_fewest_counts_existing_coverage() -> None:
    p = hand_problem()
    # 60% of 100 = 60: existing 25 + c0 (30) = 55 < 60; c0 + c1/c2 -> 60
    plan = fewest_stations(p, 0.6)
    assert plan.sites.size == 2
    assert plan.households_covered_after == 60


def test_spacing_makes_target_infeasible() -> None:
    p = hand_problem()
    spaced = CoverageProblem.build(
        weights=p.weights,
        minutes=p.minutes,
        threshold_min=15,
        fixed=p.fixed,
        conflicts=[[0, 1], [0, 2]],
    )
    plan = fewest_stations(spaced, 0.6)
    assert not plan.feasible
    assert plan.status == "infeasible_spacing"
    assert "spacing" in plan.message


def test_rank_and_zero_time_entries() -> None:
    # a candidate standing at a building's door (0.0 minutes) still covers it
    m = sp.csr_matrix(
        (np.array([0.0, 1.0, 0.0]), np.array([0, 1, 2]), np.array([0, 2, 3])), shape=(2, 3)
    )
    p = CoverageProblem.build(weights=[5, 5, 30], minutes=m, threshold_min=15)
    plan = maximal_coverage(p, 2)
    assert plan.households_covered_after == 40
    assert plan.sites.tolist() == [1, 0]  # the 30-household site ranks first


def test_ties_go_to_fewer_walking_minutes() -> None:
    # two candidates cover the same 10 households; c1 is closer
    m = sp.csr_matrix(np.array([[12.0, 12.0], [3.0, 4.0]]))
    p = CoverageProblem.build(weights=[5, 5], minutes=m, threshold_min=15)
    for method in ("mip", "greedy"):
        plan = maximal_coverage(p, 1, method=method)  # type: ignore[arg-type]
        assert plan.sites.tolist() == [1], method
        assert plan.total_minutes == 5 * 3.0 + 5 * 4.0


def test_k_larger_than_useful_proposes_only_useful_sites() -> None:
    p = hand_problem()
    plan = maximal_coverage(p, 3)
    # c0 + c1 or c0 + c2 cover d0, d1, d2 (the third adds nothing). c2 reaches a
    # subset of what c1 reaches, and c0 + c1 walk fewer household-minutes:
    # d0 10 x 2 + d1 20 x 4 + d2 5 x 6 + d4 25 x 1 = 155 (c0 + c2: 160)
    assert sorted(plan.sites.tolist()) == [0, 1]
    assert plan.households_covered_after == 60
    assert plan.total_minutes == 155


@pytest.mark.parametrize("seed", range(6))
def test_max_coverage_with_pruning_matches_enumeration_on_larger_instances(seed: int) -> None:
    # more candidates than the tiny cases, so the Lagrangian pruning removes some
    p = random_problem(seed, n_demand=80, n_cand=14, n_fixed=2, density=0.12, conflicts=4)
    plan = maximal_coverage(p, 3, time_limit_s=10)
    assert plan.households_covered_after == brute_best(p, 3)
    assert plan.optimality_gap == 0.0
    assert not p.violates_spacing(plan.sites)
