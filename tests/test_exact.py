"""The exact division (planner.grids.exact) against cases with known answers and
against brute-force enumeration of every contiguous partition of small graphs."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse import csgraph

from planner.grids._partition import Graph
from planner.grids.exact import Bound, exact_partition, excess, needs_exact, settle
from planner.synthetic.lattice import planted_lattice


def _graph(n: int, edges: list[tuple[int, int]], weight: list[float]) -> Graph:
    a, b = np.array(edges).T
    adj = sp.csr_matrix((np.ones(2 * len(a)), (np.r_[a, b], np.r_[b, a])), shape=(n, n))
    rng = np.random.default_rng(0)
    return Graph(
        adj=adj,
        weight=np.array(weight, dtype=float),
        xy=rng.uniform(0, 100, (n, 2)),
        area=np.ones(n),
        perimeter=np.full(n, 4.0),
    )


def _path(weight: list[float]) -> Graph:
    n = len(weight)
    return _graph(n, [(i, i + 1) for i in range(n - 1)], weight)


def _grid(rows: int, cols: int, weight: list[float]) -> Graph:
    edges = [(r * cols + c, r * cols + c + 1) for r in range(rows) for c in range(cols - 1)]
    edges += [(r * cols + c, (r + 1) * cols + c) for r in range(rows - 1) for c in range(cols)]
    return _graph(rows * cols, edges, weight)


def _solve(g: Graph, lo: float, hi: float, **kw: object):  # type: ignore[no-untyped-def]
    return exact_partition(
        g,
        np.arange(g.n),
        lo=lo,
        hi=hi,
        target=(lo + hi) / 2,
        time_limit_s=30,
        max_units=300,
        **kw,  # type: ignore[arg-type]
    )


def _assert_valid(g: Graph, labels: np.ndarray, lo: float, hi: float) -> None:
    for p in np.unique(labels):
        idx = np.flatnonzero(labels == p)
        ncomp, _ = csgraph.connected_components(g.adj[idx][:, idx], directed=False)
        assert ncomp == 1, f"part {p} is not contiguous"
        total = g.weight[idx].sum()
        single_big = g.weight[idx].max() > hi and np.isclose(total, g.weight[idx].max())
        assert lo <= total <= hi or single_big, (p, total)


def _set_partitions(items: list[int]) -> Iterator[list[list[int]]]:
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in _set_partitions(rest):
        for i in range(len(part)):
            yield [*part[:i], [first, *part[i]], *part[i + 1 :]]
        yield [[first], *part]


def _brute_force(g: Graph, lo: float, hi: float) -> tuple[bool, float]:
    """Whether a contiguous in-bounds partition exists, and the least households
    outside the bounds over all contiguous partitions (enumeration)."""
    best = np.inf
    found = False
    for parts in _set_partitions(list(range(g.n))):
        labels = np.empty(g.n, dtype=np.int64)
        ok = True
        for k, part in enumerate(parts):
            labels[part] = k
            if len(part) > 1:
                ncomp, _ = csgraph.connected_components(g.adj[part][:, part], directed=False)
                ok = ok and ncomp == 1
        if not ok:
            continue
        e = excess(g.weight, labels, lo=lo, hi=hi)
        best = min(best, e)
        found = found or e == 0
    return found, best


def test_feasible_path_is_found() -> None:
    g = _path([3, 3, 3, 3, 3, 3])
    r = _solve(g, 5, 7)
    assert r.status == "optimal" and r.gap == 0.0 and r.found
    assert r.labels is not None
    _assert_valid(g, r.labels, 5, 7)
    assert len(np.unique(r.labels)) == 3


def test_hub_with_leaves_is_proved_infeasible_and_the_least_excess_found() -> None:
    # a road atom (0 households) with four compounds hanging off it, each below the
    # minimum: only one grid can hold the hub, the other compounds are enclaves
    g = _graph(5, [(0, 1), (0, 2), (0, 3), (0, 4)], [0, 289, 217, 289, 377])
    r = _solve(g, 400, 600)
    assert r.status == "infeasible" and r.labels is None
    soft = _solve(g, 400, 600, soft=True)
    assert soft.status == "optimal" and soft.labels is not None
    # best: hub + 289 + 217 = 506 in range, 289 alone (111 short), 377 alone (23 short)
    assert excess(g.weight, soft.labels, lo=400, hi=600) == pytest.approx(134)
    assert _brute_force(g, 400, 600) == (False, pytest.approx(134))


def test_a_unit_above_the_maximum_is_a_part_of_its_own() -> None:
    g = _path([700, 0, 250, 250])
    r = _solve(g, 400, 600)
    assert r.status == "optimal" and r.labels is not None
    _assert_valid(g, r.labels, 400, 600)
    assert r.labels[0] != r.labels[2]


def test_too_large_is_not_solved() -> None:
    g = _path([3.0] * 10)
    r = exact_partition(g, np.arange(10), lo=5, hi=7, target=6, time_limit_s=5, max_units=5)
    assert r.status == "too_large" and r.labels is None


@pytest.mark.parametrize("seed", range(8))
def test_matches_brute_force_on_small_grids(seed: int) -> None:
    rng = np.random.default_rng(seed)
    weight = rng.choice([0, 0, 60, 120, 180, 250, 310], size=8).astype(float).tolist()
    g = _grid(2, 4, weight)
    lo, hi = 200.0, 400.0
    exists, least = _brute_force(g, lo, hi)
    r = _solve(g, lo, hi)
    assert (r.status == "optimal") == exists, (weight, r.status)
    if exists:
        assert r.labels is not None
        _assert_valid(g, r.labels, lo, hi)
    else:
        assert r.status == "infeasible"
        soft = _solve(g, lo, hi, soft=True)
        assert soft.labels is not None
        assert excess(g.weight, soft.labels, lo=lo, hi=hi) == pytest.approx(least)


def test_settle_replaces_a_bad_heuristic_division_and_reports_the_proof() -> None:
    g = _path([3, 3, 3, 3, 3, 3])
    bad = np.array([0, 1, 1, 1, 1, 2])  # 3, 12, 3: out of [5, 7]
    assert needs_exact(g.weight, bad, lo=5, hi=7)
    kw = {"lo": 5.0, "hi": 7.0, "target": 6.0, "time_limit_s": 10.0, "max_units": 100}
    labels, proof = settle(g, np.arange(6), bad, method="auto", **kw)  # type: ignore[arg-type]
    assert proof is not None and proof.status == "optimal"
    _assert_valid(g, labels, 5, 7)
    same, none = settle(g, np.arange(6), bad, method="heuristic", **kw)  # type: ignore[arg-type]
    assert none is None and (same == bad).all()
    # infeasible: the kept division has the least excess, proved
    hub = _graph(5, [(0, 1), (0, 2), (0, 3), (0, 4)], [0, 289, 217, 289, 377])
    start = np.array([0, 0, 1, 2, 3])
    kw = {"lo": 400.0, "hi": 600.0, "target": 500.0, "time_limit_s": 10.0, "max_units": 100}
    labels, proof = settle(hub, np.arange(5), start, method="auto", **kw)  # type: ignore[arg-type]
    assert proof is not None and proof.status == "infeasible" and proof.least
    assert proof.excess == pytest.approx(134) == excess(hub.weight, labels, lo=400, hi=600)


def test_all_parts_in_bounds_skips_the_exact_method() -> None:
    g = _path([3, 3, 3, 3])
    good = np.array([0, 0, 1, 1])
    kw = {"lo": 5.0, "hi": 7.0, "target": 6.0, "time_limit_s": 10.0, "max_units": 100}
    labels, proof = settle(g, np.arange(4), good, method="auto", **kw)  # type: ignore[arg-type]
    assert proof is None and (labels == good).all()
    labels, proof = settle(g, np.arange(4), good, method="exact", **kw)  # type: ignore[arg-type]
    assert proof is not None and proof.status == "optimal"


def test_set_partitions_enumerates_bell_numbers() -> None:
    assert [sum(1 for _ in _set_partitions(list(range(n)))) for n in range(1, 7)] == [
        1,
        2,
        5,
        15,
        52,
        203,
    ]
    assert all(sorted(itertools.chain(*p)) == [0, 1, 2, 3] for p in _set_partitions([0, 1, 2, 3]))


def test_no_time_left_keeps_the_heuristic_division() -> None:
    g = _path([3, 3, 3, 3, 3, 3])
    bad = np.array([0, 1, 1, 1, 1, 2])
    labels, proof = settle(
        g,
        np.arange(6),
        bad,
        lo=5.0,
        hi=7.0,
        target=6.0,
        method="auto",
        time_limit_s=0.0,
        max_units=100,
    )
    assert proof is not None and proof.status == "no_time_left" and not proof.found
    assert (labels == bad).all()


def test_second_bound_is_kept() -> None:
    # a ring of six units of 3, bounds 5-7: two ways of pairing neighbours; a second
    # weight forbids the pair (2, 3), so the other pairing is the answer
    g = _graph(6, [(i, (i + 1) % 6) for i in range(6)], [3.0] * 6)
    second = Bound(np.array([1.0, 1.0, 5.0, 5.0, 1.0, 1.0]), 0.0, 6.0)
    r = exact_partition(
        g, np.arange(6), lo=5, hi=7, target=6, time_limit_s=10, max_units=100, also=second
    )
    assert r.status == "optimal" and r.labels is not None
    sums2 = np.bincount(r.labels, weights=second.weight)
    assert (sums2 <= 6).all()
    assert r.labels[2] != r.labels[3]
    tight = Bound(second.weight, 0.0, 4.0)  # units 2 and 3 alone exceed it: infeasible
    r2 = exact_partition(
        g, np.arange(6), lo=5, hi=7, target=6, time_limit_s=10, max_units=100, also=tight
    )
    assert r2.status == "infeasible"


def test_without_highspy_the_heuristic_division_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "highspy", None)
    g = _path([3, 3, 3, 3, 3, 3])
    bad = np.array([0, 1, 1, 1, 1, 2])
    labels, proof = settle(
        g,
        np.arange(6),
        bad,
        lo=5.0,
        hi=7.0,
        target=6.0,
        method="auto",
        time_limit_s=10.0,
        max_units=100,
    )
    assert proof is not None and proof.status == "no_solver"
    assert (labels == bad).all()


# --- grids14: fresh starts before the exact method ---
def test_fresh_partitions_settle_a_piece_the_first_one_left_out_of_range() -> None:
    from planner.grids._partition import partition
    from planner.grids.division import _restart
    from planner.grids.exact import needs_exact

    w = [157, 117, 0, 165, 126, 0, 0, 0, 68, 37, 0, 0, 180, 1, 171, 0, 0, 20, 166, 186]
    g = _grid(4, 5, [float(x) for x in w])
    nodes = np.arange(g.n)
    rng = np.random.default_rng(0)
    first = partition(g, nodes, lo=200, hi=500, target=300, rng=rng)
    assert needs_exact(g.weight, first, lo=200, hi=500)  # the first trees miss it
    after = rng.random()
    again = np.random.default_rng(0)
    partition(g, nodes, lo=200, hi=500, target=300, rng=again)
    fresh = _restart(g, nodes, first, lo=200, hi=500, target=300, rng=again, also=None)
    assert not needs_exact(g.weight, fresh, lo=200, hi=500)
    _assert_valid(g, fresh, 200, 500)
    # the fresh starts draw nothing from the division's generator
    assert again.random() == after
    # a piece already in range keeps its division
    assert _restart(g, nodes, fresh, lo=200, hi=500, target=300, rng=again, also=None) is fresh


# --- dist14: rooted program, pruned pairs ---
def test_rooted_program_finds_a_planted_division_of_150_units_from_a_bad_start() -> None:
    g = planted_lattice(15, 10, 5, seed=0)
    assert g.n == 150
    # a start out of bounds: six strips of 25 units across the blocks, all merged pairs
    # apart from the last (the heuristic's kind of failure); its parts place the roots
    start = np.repeat(np.arange(6), 25)
    start[start == 5] = 4  # five parts, one of about twice the maximum
    assert needs_exact(g.weight, start, lo=400, hi=600)
    r = exact_partition(
        g, np.arange(g.n), lo=400, hi=600, target=500, time_limit_s=8, max_units=300, start=start
    )
    assert r.found and r.status in ("optimal", "feasible")
    assert r.labels is not None
    _assert_valid(g, r.labels, 400, 600)
    assert r.time_s < 8 + 2  # the limit holds the building of the programs


def test_planted_lattice_holds_its_planted_division() -> None:
    from planner.synthetic.lattice import planted_blocks

    g = planted_lattice(7, 10, 5, seed=3)  # a partial row of blocks at the bottom
    blk = planted_blocks(7, 10, 5)
    assert g.n == 70 and len(np.unique(blk)) == 4
    sums = np.bincount(blk, weights=g.weight)
    per_block = np.bincount(blk)
    assert ((sums <= 570) & (sums >= 430 - per_block)).all()
    _assert_valid(g, blk, 430 - per_block.max(), 570)  # each block contiguous
    assert (g.weight == np.floor(g.weight)).all() and g.adj.nnz == 2 * (7 * 9 + 6 * 10)


def test_reach_keeps_every_pair_of_a_division_in_bounds() -> None:
    from planner.grids.exact import part_count, reach
    from planner.synthetic.lattice import planted_blocks

    g = planted_lattice(6, 6, 3, seed=1)
    allowed, can_rep = reach(g.adj.tocsr(), g.weight, lo=400, hi=600)
    # the planted blocks (3 x 3 units each) are a division in bounds: each block's pairs
    # with its lowest unit are kept, and that unit can represent a part
    blk = planted_blocks(6, 6, 3)
    for k in range(4):
        m = np.flatnonzero(blk == k)
        assert can_rep[m.min()] and allowed[m, m.min()].all()
    assert not allowed[np.triu_indices(36, 1)].any()
    assert allowed.sum() < 36 * 37 // 2  # and far pairs are left out
    lo_k, hi_k = part_count(g.weight, lo=400, hi=600)
    assert lo_k <= 4 <= hi_k


def test_exact_note_without_a_bounded_gap_says_so() -> None:
    from planner.grids.division import _exact_note

    row = (0, "C1", 150, 3000.0, "feasible", float("inf"), 3.2, 0.0, False, 0.0)
    note = _exact_note(row, {"C1": "社区一"})
    assert "inf" not in note and "gap not bounded" in note


# --- dist14: proofs over the fixed groups of large compounds (dist14g: over the atoms) ---
def test_a_proof_over_fixed_groups_of_a_large_compound_is_made_over_its_buildings() -> None:
    from planner.grids.division import divide
    from planner.grids.rules import PROVED_REASONS
    from planner.i18n import from_english
    from planner.settings import Settings
    from tests.grid_streets import block_street

    # one compound of 20 buildings x 60 households = 1,200 > 500: cut into fixed groups
    # of whole buildings (420, 360, 420); with them no division keeps 400-500. Nor over
    # the 20 buildings (grids of 420 or 480 households: no three sum to 1,200), which
    # the proof now shows over the whole piece of single atoms (before: a proof over
    # the three groups, counted as a proved exception)
    street = block_street(
        xs=(), ys=(), community_x=None, compound_every=1, rows=4, cols=5, households=[60]
    )
    s = Settings(grid_min_households=400, grid_max_households=500, grid_target_households=450)
    res = divide(street, settings=s)
    assert (res.exact["status"] == "infeasible").all() and len(res.exact) == 1
    assert int(res.exact["local_units"].iloc[0]) >= 20  # every building a unit
    out = res.grids[~res.grids["households"].between(400, 500)]
    assert len(out) == 1
    reason = out["reason"].iloc[0]
    assert "buildings of large compounds one by one" in reason
    m = from_english(reason, "grid_reason_")
    assert m is not None and m.key == "grid_reason_exact_infeasible_atoms"
    assert m.key in PROVED_REASONS
    assert res.report.ok, res.report.to_text()


def test_a_proof_over_fixed_groups_alone_is_no_proved_exception() -> None:
    from planner.grids.rules import PROVED_REASONS

    assert "grid_reason_exact_infeasible_groups" not in PROVED_REASONS
    assert "grid_reason_exact_infeasible_least_groups" not in PROVED_REASONS


def test_settle_divides_a_planted_piece_the_heuristic_left_out_of_bounds() -> None:
    g = planted_lattice(15, 10, 5, seed=2)
    bad = np.minimum(np.arange(g.n) // 25, 4)  # five strips, the last twice as long
    labels, proof = settle(
        g,
        np.arange(g.n),
        bad,
        lo=400.0,
        hi=600.0,
        target=500.0,
        method="auto",
        time_limit_s=8.0,
        max_units=300,
    )
    assert proof is not None and proof.found and proof.status in ("optimal", "feasible")
    _assert_valid(g, labels, 400, 600)


# --- dist14c: proved bounds (households outside, balance) ---
def _brute_bounds(g: Graph, lo: float, hi: float, target: float) -> tuple[float, float]:
    """Least households outside over all contiguous divisions, and least balance
    (:func:`planner.grids.exact.balance`) over the contiguous divisions in bounds (inf
    when none), by enumeration."""
    from planner.grids.exact import balance

    least, best = np.inf, np.inf
    for parts in _set_partitions(list(range(g.n))):
        labels = np.empty(g.n, dtype=np.int64)
        for k, part in enumerate(parts):
            labels[part] = k
        if any(csgraph.connected_components(g.adj[p][:, p], directed=False)[0] != 1 for p in parts):
            continue
        e = excess(g.weight, labels, lo=lo, hi=hi)
        least = min(least, e)
        if e == 0:
            best = min(best, balance(g.weight, labels, target))
    return least, best


@pytest.mark.parametrize("seed", [100, 101, 103, 401, 404, 405])
def test_proved_bounds_hold_against_brute_force(seed: int) -> None:
    from planner.grids.exact import balance, balance_bound, counts_fit, excess_bound

    # seeds with a division in bounds (100, 103), without (101, 401, 404, 405), the least
    # outside proved (401, 404) and not (101, 405: the program counts a unit above the
    # maximum sharing its part at the maximum, so its least is not the least excess)
    rng = np.random.default_rng(seed)
    weight = rng.choice([0, 0, 60, 150, 250, 310, 650], size=6).astype(float)
    g = _grid(1, 6, weight.tolist()) if seed % 2 else _grid(2, 3, weight.tolist())
    lo, hi, target = 200.0, 400.0, 300.0
    least, best = _brute_bounds(g, lo, hi, target)
    assert excess_bound(g.weight, lo=lo, hi=hi) <= least + 1e-9
    assert balance_bound(g.weight, lo=lo, hi=hi, target=target) <= best + 1e-9
    if not counts_fit(g.weight, lo=lo, hi=hi):
        assert least > 0  # a proof by counting is a proof
    bad = np.zeros(g.n, dtype=np.int64)  # one part: out of bounds unless the piece fits
    labels, proof = settle(
        g, np.arange(g.n), bad, lo=lo, hi=hi, target=target, method="exact",
        time_limit_s=20.0, max_units=50,
    )  # fmt: skip
    assert proof is not None
    assert proof.bound <= least + 1e-9 and excess(g.weight, labels, lo=lo, hi=hi) >= least
    if proof.found:  # 0 outside, and the gap reported is at least the true one
        value = balance(g.weight, labels, target)
        assert least == 0 and proof.bound == 0
        assert proof.gap >= (value - best) / value - 1e-9 if value > 0 else proof.gap == 0
    else:
        assert proof.status == "infeasible" and least > 0 and proof.bound >= 1
        if proof.least:
            assert proof.bound == proof.excess == pytest.approx(least)


def test_counting_proves_no_division_in_bounds_without_the_solver() -> None:
    from planner.grids.exact import counts_fit, excess_bound

    # 650 households in [400, 600]: one grid is too many, two too few
    g = _path([300.0, 0.0, 350.0])
    assert not counts_fit(g.weight, lo=400, hi=600)
    assert excess_bound(g.weight, lo=400, hi=600) == 50  # one grid of 650
    r = _solve(g, 400, 600)
    assert r.status == "infeasible" and r.time_s == 0.0 and r.bound == 50
    labels, proof = settle(
        g, np.arange(3), np.array([0, 0, 1]), lo=400.0, hi=600.0, target=500.0,
        method="auto", time_limit_s=10.0, max_units=50,
    )  # fmt: skip
    assert proof is not None and proof.least and proof.excess == proof.bound == 50
    assert excess(g.weight, labels, lo=400, hi=600) == 50
    # a unit above the maximum with 100 households beside it: alone it is excused, the
    # 100 cannot make a grid of 400 and joining it costs 700 - 600 + 100
    big = _path([700.0, 0.0, 100.0])
    assert not counts_fit(big.weight, lo=400, hi=600)
    assert excess_bound(big.weight, lo=400, hi=600) == 200 == _brute_force(big, 400, 600)[1]


def test_a_division_in_bounds_is_reported_least_outside_with_a_bounded_gap() -> None:
    from planner.grids.division import _exact_note
    from planner.grids.exact import balance, balance_bound

    g = planted_lattice(15, 10, 5, seed=0)
    start = np.minimum(np.arange(g.n) // 25, 4)  # strips out of bounds
    r = exact_partition(
        g, np.arange(g.n), lo=400, hi=600, target=500, time_limit_s=8, max_units=300, start=start
    )
    assert r.found and r.labels is not None and r.bound == 0.0
    value = balance(g.weight, r.labels, 500.0)
    floor = balance_bound(g.weight, lo=400, hi=600, target=500)
    assert 0 < floor < value and np.isfinite(r.gap)
    assert r.gap <= (value - floor) / value + 1e-12  # the counting bound at least
    row = (0, "C1", r.units, float(g.weight.sum()), r.status, r.gap, r.time_s, 0.0, False, 0.0)
    note = _exact_note(row, {"C1": "C1"})
    assert "0 households outside, the fewest possible" in note and "not bounded" not in note


def test_infeasible_notes_give_the_households_outside_and_their_bound() -> None:
    from planner.grids.division import _exact_note

    least = _exact_note((0, "C1", 40, 9000.0, "infeasible", np.inf, 2.0, 35.0, True, 35.0), {})
    assert "35 households outside, proved the fewest" in least
    bound = _exact_note((0, "C1", 40, 9000.0, "infeasible", np.inf, 2.0, 35.0, False, 12.0), {})
    assert "35 households outside, and every contiguous division has at least 12" in bound
    none = _exact_note((0, "C1", 40, 9000.5, "infeasible", np.inf, 2.0, 3.5, False, 0.0), {})
    assert "no contiguous division keeps every grid" in none and "at least" not in none


# --- dist14c: proofs with large compounds the settings keep whole ---
def test_a_proof_resting_on_a_compound_kept_whole_names_the_setting() -> None:
    from planner.grids.division import divide
    from planner.grids.rules import PROVED_REASONS
    from planner.i18n import from_english
    from planner.settings import Settings
    from tests.grid_streets import block_street

    # two compounds across a road: 9 buildings x 60 = 540 (> 500) and 9 x 35 = 315
    # (< 400); kept whole, the first is a grid of its own and the second cannot reach
    # 400 households (proved by counting). Over single buildings the exact method finds
    # 435 + 420 (two of the first's buildings with the second), so the proof rests on
    # the setting
    street = block_street(
        xs=(450.0,), ys=(), community_x=None, compound_every=1, households=[60] * 9 + [35] * 9
    )
    s = Settings(
        grid_min_households=400,
        grid_max_households=500,
        grid_target_households=450,
        grid_split_large_compounds=False,
    )
    res = divide(street, settings=s)
    assert (res.exact["status"] == "infeasible").all() and len(res.exact) == 1
    out = res.grids[~res.grids["households"].between(400, 500)].set_index("households")
    assert sorted(out.index) == [315, 540]
    assert "settings forbid splitting" in out.loc[540, "reason"]  # its own reason, as before
    m = from_english(out.loc[315, "reason"], "grid_reason_")
    assert m is not None and m.key == "grid_reason_exact_infeasible_least_whole"
    assert m.key in PROVED_REASONS and dict(m.params)["whole"] == "1"
    assert "grid_split_large_compounds" in out.loc[315, "reason"]
    assert res.report.ok, res.report.to_text()
