"""The sparse coverage problem, its exact reductions and the lazy greedy."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from planner.siting import CoverageProblem, maximal_coverage, nearest_site
from planner.siting.greedy import greedy
from planner.siting.model import dominated, reduce_problem


def csr(rows: list[list[float | None]]) -> sp.csr_matrix:
    """CSR from a nested list where None means 'not within reach' (0.0 is a real time)."""
    r, c, v = [], [], []
    for i, row in enumerate(rows):
        for j, x in enumerate(row):
            if x is not None:
                r.append(i)
                c.append(j)
                v.append(x)
    return sp.csr_matrix((v, (r, c)), shape=(len(rows), len(rows[0])))


def test_zero_minutes_count_as_reachable_and_far_pairs_are_dropped() -> None:
    m = csr([[0.0, None, 20.0], [None, 5.0, 0.0]])
    p = CoverageProblem.build(weights=[1, 2, 3], minutes=m, threshold_min=15)
    assert p.minutes.nnz == 3  # the 20-minute pair is beyond the threshold
    assert p.reach_count.tolist() == [1, 1, 1]
    row, best = nearest_site(p.minutes)
    assert row.tolist() == [0, 1, 1]
    assert best.tolist() == [0.0, 5.0, 0.0]


def test_fixed_rows_give_the_before_coverage() -> None:
    m = csr([[1.0, None, None], [None, 2.0, None]])
    p = CoverageProblem.build(weights=[5, 6, 7], minutes=m, threshold_min=15, fixed=[False, True])
    assert p.covered_before.tolist() == [False, True, False]
    assert p.households_covered_before == 6
    assert p.unreachable().tolist() == [False, False, True]
    assert p.candidates.tolist() == [0]


def test_bad_inputs_are_refused() -> None:
    m = csr([[1.0]])
    with pytest.raises(ValueError, match="weights"):
        CoverageProblem.build(weights=[-1], minutes=m, threshold_min=15)
    with pytest.raises(ValueError, match="demand columns"):
        CoverageProblem.build(weights=[1, 2], minutes=m, threshold_min=15)
    with pytest.raises(ValueError, match="fixed"):
        CoverageProblem.build(
            weights=[1],
            minutes=csr([[1.0], [1.0]]),
            threshold_min=15,
            fixed=[False, True],
            conflicts=[[0, 1]],
        )


def random_problem(seed: int, n_demand: int = 40, n_sites: int = 12) -> CoverageProblem:
    rng = np.random.default_rng(seed)
    reach = rng.random((n_sites, n_demand)) < 0.25
    rows, cols = np.nonzero(reach)
    m = sp.csr_matrix((rng.uniform(0, 15, rows.size), (rows, cols)), shape=(n_sites, n_demand))
    fixed = np.zeros(n_sites, bool)
    fixed[-1] = True
    return CoverageProblem.build(
        weights=rng.integers(0, 30, n_demand), minutes=m, threshold_min=15, fixed=fixed
    )


@pytest.mark.parametrize("seed", range(8))
def test_reduced_model_values_equal_the_problem(seed: int) -> None:
    p = random_problem(seed)
    full = reduce_problem(p, dominance=False)
    assert full.n_c <= len(p.candidates)
    for combo in itertools.combinations(range(full.n_c), 2):
        picks = np.asarray(combo)
        newly = p.households_covered(full.cand[picks]) - p.households_covered_before
        assert full.value(picks) == newly


@pytest.mark.parametrize("seed", range(8))
def test_dominance_keeps_the_optimum(seed: int) -> None:
    p = random_problem(seed, n_demand=30, n_sites=10)
    full = reduce_problem(p, dominance=False)
    red = reduce_problem(p)
    for k in (1, 2, 3):
        best_full = max(
            (full.value(np.asarray(c)) for c in itertools.combinations(range(full.n_c), k)),
            default=0.0,
        )
        best_red = max(
            (red.value(np.asarray(c)) for c in itertools.combinations(range(red.n_c), k)),
            default=0.0,
        )
        assert best_red == best_full


def test_dominated_needs_a_superset() -> None:
    cover = sp.csr_matrix(np.array([[1.0, 1, 0], [1.0, 0, 0], [0.0, 1, 1], [1.0, 1, 0]]))
    w = np.array([1.0, 2.0, 3.0])
    tie = np.array([0.5, 0.1, 0.2, 0.5])
    out = dominated(cover, w, tie, can_dominate=np.ones(4, bool))
    # 1 is a subset of 0 (and 3); 3 equals 0 with the same tie cost: the lower index stays
    assert out.tolist() == [False, True, False, True]
    # a candidate in a spacing conflict may not dominate
    out = dominated(cover, w, tie, can_dominate=np.array([False, True, True, False]))
    assert out.tolist() == [False, False, False, False]


@pytest.mark.parametrize("seed", range(6))
def test_lazy_greedy_equals_plain_greedy(seed: int) -> None:
    p = random_problem(seed, n_demand=60, n_sites=15)
    m = reduce_problem(p, dominance=False)
    picks = greedy(m, k=4)
    # plain greedy: recompute every gain at every step
    chosen: list[int] = []
    for _ in range(4):
        base = m.value(np.asarray(chosen, np.int64))
        gains = [
            (m.value(np.asarray([*chosen, j], np.int64)) - base, -m.tie_cost[j], -j)
            for j in range(m.n_c)
            if j not in chosen
        ]
        if not gains:
            break
        g, _t, j = max(gains)
        if g <= 0:
            break
        chosen.append(-j)
    assert picks.tolist() == chosen


def test_greedy_respects_spacing_conflicts() -> None:
    # s1 and s2 each cover 20 households (s1 closer), but may not both open
    m = csr([[9.0, None, None], [1.0, 1.0, None], [None, 9.0, 9.0]])
    p = CoverageProblem.build(weights=[10, 10, 10], minutes=m, threshold_min=15, conflicts=[[1, 2]])
    plan = maximal_coverage(p, 2, method="greedy")
    assert plan.sites.tolist() == [1]  # s2 is banned after s1, s0 adds nothing
    assert plan.households_covered_after == 20
    exact = maximal_coverage(p, 2)
    assert sorted(exact.sites.tolist()) == [0, 2]
    assert exact.households_covered_after == 30
    assert not p.violates_spacing(exact.sites)


@pytest.mark.parametrize("seed", range(8))
def test_lagrangian_bounds_are_upper_bounds(seed: int) -> None:
    from planner.siting.lagrange import lagrangian_bound, restrict

    p = random_problem(seed, n_demand=40, n_sites=10)
    m = reduce_problem(p, dominance=False)
    k = 2
    combos = [np.asarray(c) for c in itertools.combinations(range(m.n_c), k)]
    best = max((m.value(c) for c in combos), default=0.0)
    g = greedy(m, k=k)
    lag = lagrangian_bound(m, k, lower=m.value(g), iterations=50)
    assert lag.bound >= best - 1e-6
    for j in range(m.n_c):
        with_j = max((m.value(c) for c in combos if j in c), default=0.0)
        assert lag.with_candidate[j] >= with_j - 1e-6
    # restricting to a subset keeps every plan's value
    keep = np.zeros(m.n_c, bool)
    keep[: max(1, m.n_c // 2)] = True
    sub = restrict(m, keep)
    cols = np.flatnonzero(keep)
    for c in itertools.combinations(range(cols.size), min(2, cols.size)):
        assert sub.value(np.asarray(c)) == m.value(cols[list(c)])
