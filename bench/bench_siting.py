"""Benchmark: siting solvers against PySAL spopt's MCLP on the same coverage matrix.

Run from the repository root::

    /work/main/.venv/bin/python bench/bench_siting.py [--quick] [--cases demo,mid,city,dense]

Cases (all measured in this one run):

* ``demo``: the demo street, candidates as ``python -m planner site demo`` builds
  them, matrix from the coverage engine's routing, k = 1, 3, 5;
* ``mid``: a synthetic city of 5,000 buildings x 1,000 candidates (spopt's dense
  cost matrix still fits), k = 5, 10, 20;
* ``city``: a synthetic city of 50,000 buildings x 5,000 candidates, kept sparse
  (a dense matrix would be 250 million cells), k = 10: the exact solve, the greedy;
* ``dense``: the same on a third of the area (a much harder, overlapping instance).

For each case and k: our exact MILP (HiGHS via highspy, after the exact
reductions), our lazy greedy, and spopt ``MCLP.from_cost_matrix(...).solve(CBC)``
on the same matrix (only the uncovered households, so both maximise households
newly covered). Printed: objective values, times, ratios (spopt time / our time,
greedy value / optimum).

Synthetic cities: buildings in compound-like clusters; walking distance is the
Manhattan (L1) distance, which is the shortest path on a fine street lattice;
existing stations cover part of the city; candidates lie on a lattice of street
points near the uncovered buildings.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planner.siting import CoverageProblem, maximal_coverage
from planner.siting.greedy import greedy
from planner.siting.model import reduce_problem

SPEED_M_PER_MIN = 4000 / 60
THRESHOLD_MIN = 15.0


def synthetic_city(
    n_buildings: int,
    n_candidates: int,
    *,
    side_m: float,
    n_stations: int,
    seed: int = 0,
    cluster: int = 60,
    spread_m: float = 120.0,
) -> CoverageProblem:
    """Buildings in clusters, existing stations, candidates near the gaps (L1 walking)."""
    rng = np.random.default_rng(seed)
    n_clusters = max(1, n_buildings // cluster)  # compounds of about `cluster` buildings
    centres = rng.uniform(0, side_m, (n_clusters, 2))
    which = rng.integers(0, n_clusters, n_buildings)
    pts = np.clip(centres[which] + rng.normal(0, spread_m, (n_buildings, 2)), 0, side_m)
    households = rng.integers(10, 120, n_buildings)
    stations = rng.uniform(0, side_m, (n_stations, 2))
    reach_m = THRESHOLD_MIN * SPEED_M_PER_MIN
    b_tree = cKDTree(pts)
    covered = np.zeros(n_buildings, bool)
    if n_stations:
        hit = cKDTree(stations).query_ball_point(pts, reach_m, p=1, return_length=True)
        covered = hit > 0
    # candidates: street lattice points near uncovered buildings, thinned at random
    step = 100.0
    gx = np.arange(step / 2, side_m, step)
    lattice = np.stack(np.meshgrid(gx, gx), axis=-1).reshape(-1, 2)
    unc_tree = cKDTree(pts[~covered]) if (~covered).any() else b_tree
    near = unc_tree.query_ball_point(lattice, reach_m, p=1, return_length=True) > 0
    pool = lattice[near]
    take = rng.choice(len(pool), size=min(n_candidates, len(pool)), replace=False)
    cands = pool[take]
    sites = np.vstack([cands, stations])
    d = cKDTree(sites).sparse_distance_matrix(b_tree, reach_m, p=1, output_type="coo_matrix")
    minutes = sp.csr_matrix(
        (d.data / SPEED_M_PER_MIN, (d.row, d.col)), shape=(len(sites), n_buildings)
    )
    # a site standing on a building (distance 0) is dropped by scipy's sparse
    # distance matrix; such exact coincidences do not occur with these coordinates
    fixed = np.r_[np.zeros(len(cands), bool), np.ones(n_stations, bool)]
    return CoverageProblem.build(
        weights=households, minutes=minutes, threshold_min=THRESHOLD_MIN, fixed=fixed
    )


def demo_problem() -> CoverageProblem:
    from planner.coverage.figures import compute_coverage
    from planner.load.sources import load_street
    from planner.settings import Settings
    from planner.siting.scenario import build_problem

    settings = Settings()
    street = load_street("demo", settings=settings)
    cov = compute_coverage(street, settings=settings)
    problem, _c, _d = build_problem(street, cov, settings=settings)
    return problem


def spopt_mclp(problem: CoverageProblem, k: int) -> tuple[float, float]:
    """spopt's MCLP with CBC on the same matrix (uncovered households, candidates)."""
    import pulp
    from spopt.locate import MCLP

    t0 = time.perf_counter()
    need = (~problem.covered_before) & (problem.weights > 0)
    cand = problem.candidates
    sub = problem.minutes[cand][:, np.flatnonzero(need)].T.tocsr()  # demand x candidates
    dense = np.full(sub.shape, THRESHOLD_MIN * 10.0)
    rows = np.repeat(np.arange(sub.shape[0]), np.diff(sub.indptr))
    dense[rows, sub.indices] = sub.data
    model = MCLP.from_cost_matrix(
        dense, problem.weights[need], service_radius=problem.threshold_min, p_facilities=k
    )
    model.solve(pulp.PULP_CBC_CMD(msg=False))
    elapsed = time.perf_counter() - t0
    chosen = [j for j, ok in enumerate(model.fac_vars) if ok.value() and ok.value() > 0.5]
    value = problem.households_covered(cand[chosen]) - problem.households_covered_before
    return value, elapsed


def ours(problem: CoverageProblem, k: int, limit_s: float) -> dict[str, float]:
    t0 = time.perf_counter()
    plan = maximal_coverage(problem, k, time_limit_s=limit_s)
    total = time.perf_counter() - t0
    t1 = time.perf_counter()
    g = greedy(reduce_problem(problem), k=k)
    t_greedy = time.perf_counter() - t1
    gv = reduce_problem(problem).value(g)
    return {
        "value": plan.households_newly_covered,
        "time_s": total,
        "gap": plan.optimality_gap if plan.optimality_gap is not None else float("nan"),
        "status": plan.status,  # type: ignore[dict-item]
        "greedy_value": gv,
        "greedy_time_s": t_greedy,
    }


def describe(name: str, p: CoverageProblem) -> None:
    m = reduce_problem(p)
    print(
        f"\n## {name}: {p.n_demand:,} buildings, {len(p.candidates):,} candidates, "
        f"{int(p.fixed.sum())} existing stations, {p.minutes.nnz:,} pairs within "
        f"{p.threshold_min:g} min; covered before {p.households_covered_before / p.households_total:.1%}"
        f"; reduced model {m.n_c:,} candidates x {m.n_g:,} demand groups"
    )


def run_case(name: str, p: CoverageProblem, ks: list[int], *, spopt: bool, limit_s: float) -> None:
    describe(name, p)
    print(
        "| k | ours exact (households) | time s | gap | greedy | greedy/opt | greedy s "
        "| spopt+CBC | spopt s | spopt/ours time |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for k in ks:
        o = ours(p, k, limit_s)
        if spopt:
            sv, st = spopt_mclp(p, k)
            sp_txt = f"{sv:,.0f} | {st:.2f} | {st / o['time_s']:.1f}x"
        else:
            sp_txt = "n/a (dense matrix too large) | - | -"
        ratio = o["greedy_value"] / o["value"] if o["value"] else 1.0
        print(
            f"| {k} | {o['value']:,.0f} | {o['time_s']:.2f} | {o['gap']:.4%} | "
            f"{o['greedy_value']:,.0f} | {ratio:.4f} | {o['greedy_time_s']:.3f} | {sp_txt} |",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small cases only (smoke test)")
    ap.add_argument(
        "--cases",
        default="demo,mid,city,dense",
        help="comma-separated cases: demo, mid, city, dense (default), stress (extra)",
    )
    args = ap.parse_args()
    cases = set(args.cases.split(","))
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    if "demo" in cases:
        run_case("demo street", demo_problem(), [1, 3, 5], spopt=True, limit_s=60)
    if args.quick:
        run_case(
            "small synthetic",
            synthetic_city(1000, 200, side_m=4000, n_stations=4),
            [3],
            spopt=True,
            limit_s=60,
        )
        return
    if "mid" in cases:
        mid = synthetic_city(5000, 1000, side_m=8000, n_stations=12, seed=1)
        run_case("mid-size synthetic", mid, [5, 10, 20], spopt=True, limit_s=120)
    if "city" in cases:
        city = synthetic_city(50_000, 5000, side_m=25_000, n_stations=150, seed=2)
        run_case("synthetic city", city, [10], spopt=False, limit_s=300)
    if "dense" in cases:
        # the same number of buildings on a third of the area: each candidate reaches
        # about 2.6 times as many buildings, and the exact solve is much harder
        dense = synthetic_city(50_000, 5000, side_m=15_000, n_stations=60, seed=2)
        run_case("dense synthetic city", dense, [10], spopt=False, limit_s=300)
    if "stress" in cases:
        # not in the default set: compounds of 400 buildings spread over 800 m, few
        # stations; every candidate reaches hundreds of buildings (limit of the method)
        stress = synthetic_city(
            50_000, 5000, side_m=25_000, n_stations=60, seed=3, cluster=400, spread_m=830
        )
        run_case("stress city", stress, [10], spopt=False, limit_s=60)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory: {peak:,.0f} MB")


if __name__ == "__main__":
    main()
