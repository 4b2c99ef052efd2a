"""Benchmark: siting solvers against PySAL spopt's MCLP on the same coverage matrix.

Run from the repository root::

    /work/main/.venv/bin/python bench/bench_siting.py [--quick] [--cases demo,mid,city,dense]
        [--runs 3] [--cold-runs 2] [--ks 3,5]

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
newly covered). Both solvers run on one thread (HiGHS ``threads=1``, CBC
``threads=1``). Timing (issue 20): ours and spopt take turns run by run, the order
alternating every round (``bench/_interleave.py`` ``rotate``):

* warm: ``--runs`` rounds in this process, after one untimed call of each side (imports
  and first-call costs left out); CPU = this process plus its finished children
  (PuLP runs the CBC binary as a child process);
* cold: ``--cold-runs`` rounds, each side a fresh process per run
  (``python bench/bench_siting.py --child ours|spopt``: interpreter start, imports and
  the solve; the problem read from one ``.npz`` written before the rounds); wall of the
  whole process, CPU from ``RUSAGE_CHILDREN``.

Answer check: the households newly covered by every run of each side (warm and cold)
must be equal (both are exact); spopt ignores the minimum spacing, so its plan is
also checked against the spacing pairs. A difference is printed and the script exits 1.
Printed: objective values, medians (wall and CPU) and each round's ratio spopt / ours,
greedy value / optimum.

Synthetic cities: buildings in compound-like clusters; walking distance is the
Manhattan (L1) distance, which is the shortest path on a fine street lattice;
existing stations cover part of the city; candidates lie on a lattice of street
points near the uncovered buildings.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

# bench/ on the path: its helpers import as top-level modules, run as a script or imported
# as bench.<script> by the tests
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _interleave import (  # type: ignore[import-not-found]
    Job,
    cold_job,
    cpu_with_children,
    job_line,
    job_ratios,
    last_json,
    load,
    rotate,
    utc,
)
from _machine import processor  # type: ignore[import-not-found]

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:  # the planner is imported where used: spopt's fresh process never loads it
    from planner.siting import CoverageProblem, SitingPlan

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
    from scipy.spatial import cKDTree

    from planner.siting import CoverageProblem

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


Arrays = Mapping[str, Any]


def problem_arrays(problem: CoverageProblem) -> dict[str, Any]:
    """The arrays both solvers read (what :func:`save_problem` writes)."""
    m = problem.minutes
    return {
        "weights": problem.weights,
        "data": m.data,
        "indices": m.indices,
        "indptr": m.indptr,
        "shape": np.asarray(m.shape),
        "threshold_min": np.asarray(problem.threshold_min),
        "fixed": problem.fixed,
        "covered_extra": problem.covered_extra,
        "conflicts": problem.conflicts,
    }


def save_problem(problem: CoverageProblem, path: Path) -> None:
    """Write ``problem``'s arrays as ``.npz`` (read by the fresh processes)."""
    np.savez(path, **problem_arrays(problem))


def problem_from(a: Arrays) -> CoverageProblem:
    """The :class:`CoverageProblem` of :func:`problem_arrays`' arrays."""
    from planner.siting import CoverageProblem

    minutes = sp.csr_matrix((a["data"], a["indices"], a["indptr"]), shape=tuple(a["shape"]))
    return CoverageProblem.build(
        weights=a["weights"],
        minutes=minutes,
        threshold_min=float(a["threshold_min"]),
        fixed=a["fixed"],
        covered=a["covered_extra"],
        conflicts=a["conflicts"] if len(a["conflicts"]) else None,
    )


def spopt_sites(a: Arrays, k: int) -> np.ndarray:
    """spopt's MCLP with CBC (one thread) on the uncovered households x candidates of
    ``a`` (:func:`problem_arrays`); returns the chosen site positions. Needs numpy,
    scipy, PuLP and spopt only (no planner import)."""
    import pulp
    from spopt.locate import MCLP

    threshold = float(a["threshold_min"])
    minutes = sp.csr_matrix((a["data"], a["indices"], a["indptr"]), shape=tuple(a["shape"]))
    fixed = np.asarray(a["fixed"], bool)
    covered = np.asarray(a["covered_extra"], bool).copy()
    covered[minutes[np.flatnonzero(fixed)].indices] = True
    weights = np.asarray(a["weights"], np.float64)
    need = (~covered) & (weights > 0)
    cand = np.flatnonzero(~fixed)
    sub = minutes[cand][:, np.flatnonzero(need)].T.tocsr()  # demand x candidates
    dense = np.full(sub.shape, threshold * 10.0)
    rows = np.repeat(np.arange(sub.shape[0]), np.diff(sub.indptr))
    dense[rows, sub.indices] = sub.data
    model = MCLP.from_cost_matrix(dense, weights[need], service_radius=threshold, p_facilities=k)
    model.solve(pulp.PULP_CBC_CMD(msg=False, threads=1))
    chosen = [j for j, ok in enumerate(model.fac_vars) if ok.value() and ok.value() > 0.5]
    return np.asarray(cand[chosen], np.int64)


def ours_plan(problem: CoverageProblem, k: int, limit_s: float) -> SitingPlan:
    """Our exact maximal coverage on one HiGHS thread."""
    from planner.siting import maximal_coverage

    return maximal_coverage(problem, k, time_limit_s=limit_s, threads=1)


def child(side: str, path: Path, k: int, limit_s: float) -> None:
    """The fresh process of a cold run: solve ``path``'s problem, print the chosen site
    positions and the solve's own seconds as JSON."""
    with np.load(path) as f:
        a = {name: f[name] for name in f.files}
    t0 = time.perf_counter()
    sites = ours_plan(problem_from(a), k, limit_s).sites if side == "ours" else spopt_sites(a, k)
    print(json.dumps({"sites": [int(x) for x in sites], "solve_s": time.perf_counter() - t0}))


def describe(name: str, p: CoverageProblem) -> None:
    from planner.siting.model import reduce_problem

    m = reduce_problem(p)
    print(
        f"\n## {name}: {p.n_demand:,} buildings, {len(p.candidates):,} candidates, "
        f"{int(p.fixed.sum())} existing stations, {p.minutes.nnz:,} pairs within "
        f"{p.threshold_min:g} min; covered before {p.households_covered_before / p.households_total:.1%}"
        f"; reduced model {m.n_c:,} candidates x {m.n_g:,} demand groups ({utc()}, load {load()})"
    )


def warm_up(problem: CoverageProblem, sides: set[str]) -> None:
    """One untimed call of each side in ``sides`` ("ours", "spopt") at k = 1 (imports,
    first-call costs): the warm figures leave them out; the cold ones carry them."""
    if "ours" in sides:
        ours_plan(problem, 1, 60)
    if "spopt" in sides:
        spopt_sites(problem_arrays(problem), 1)


def _value(problem: CoverageProblem, sites: object) -> float:
    """Households newly covered by ``sites`` (positions)."""
    return (
        problem.households_covered(np.asarray(sites, np.int64)) - problem.households_covered_before
    )


def time_k(
    p: CoverageProblem,
    k: int,
    npz: Path,
    *,
    spopt: bool,
    limit_s: float,
    runs: int,
    cold_runs: int,
) -> dict[str, Any]:
    """Ours (and spopt) at ``k``, warm and cold, taking turns run by run (:func:`rotate`).

    Returns the jobs (``warm``, ``cold``: ours first), the households newly covered by
    every run of each side (``values``), whether a spopt plan breaks the spacing and
    ours's last plan (``plan``).
    """
    arrays = problem_arrays(p)
    warm = [Job("ours exact, warm", lambda: ours_plan(p, k, limit_s), cpu_with_children, keep=True)]
    cmd = [sys.executable, str(Path(__file__).resolve()), "--problem", str(npz), "-k", str(k)]
    cmd += ["--limit", str(limit_s), "--child"]
    cold = [cold_job("ours exact, cold", [*cmd, "ours"], cwd=ROOT, keep=True)]
    if spopt:
        warm.append(
            Job("spopt+CBC, warm", lambda: spopt_sites(arrays, k), cpu_with_children, keep=True)
        )
        cold.append(cold_job("spopt+CBC, cold", [*cmd, "spopt"], cwd=ROOT, keep=True))
    rotate(warm, runs)
    if cold_runs:
        rotate(cold, cold_runs)
    else:
        cold = []
    sites: dict[str, list[Any]] = {
        "ours": [plan.sites for plan in warm[0].results],  # type: ignore[attr-defined]
        "spopt": warm[1].results if spopt else [],
    }
    for job, side in zip(cold, ("ours", "spopt"), strict=False):
        sites[side] += [last_json(out)["sites"] for out in job.results]
    return {
        "warm": warm,
        "cold": cold,
        "values": {side: [_value(p, s) for s in runs_] for side, runs_ in sites.items()},
        "spacing_broken": any(p.violates_spacing(np.asarray(s, np.int64)) for s in sites["spopt"]),
        "plan": warm[0].result,
    }


def _fig(jobs: list[Job], i: int) -> str:
    """Median ``wall (CPU)`` seconds of ``jobs[i]``, or ``-``."""
    if len(jobs) <= i:
        return "-"
    wall, cpu = jobs[i].med
    return f"{wall:.2f} ({cpu:.2f})"


def run_case(
    name: str,
    p: CoverageProblem,
    ks: list[int],
    *,
    spopt: bool,
    limit_s: float,
    runs: int = 3,
    cold_runs: int = 2,
) -> bool:
    """Print ``p``'s figures for every k; returns whether every answer agreed."""
    from planner.siting.greedy import greedy
    from planner.siting.model import reduce_problem

    describe(name, p)
    print(
        "| k | ours exact (households) | gap | warm s (CPU) | cold s (CPU) | greedy | "
        "greedy/opt | greedy s | spopt+CBC | warm s (CPU) | cold s (CPU) | same answer |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    details: list[str] = []
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        npz = Path(tmp) / "problem.npz"
        save_problem(p, npz)
        model = reduce_problem(p)
        for k in ks:
            r = time_k(p, k, npz, spopt=spopt, limit_s=limit_s, runs=runs, cold_runs=cold_runs)
            plan = r["plan"]
            t1 = time.perf_counter()
            g = greedy(model, k=k)
            t_greedy = time.perf_counter() - t1
            gv = model.value(g)
            vals = r["values"]["ours"] + r["values"]["spopt"]
            same = max(vals) - min(vals) <= 1e-6 * max(1.0, abs(max(vals)))
            ok &= same and not r["spacing_broken"]

            sp_txt = (
                f"{r['values']['spopt'][-1]:,.0f} | {_fig(r['warm'], 1)} | {_fig(r['cold'], 1)}"
                if spopt
                else "n/a (dense matrix too large) | - | -"
            )
            gap = plan.optimality_gap if plan.optimality_gap is not None else float("nan")
            ratio = gv / plan.households_newly_covered if plan.households_newly_covered else 1.0
            answer = "yes" if same else "**NO**"
            if r["spacing_broken"]:
                answer += " (spopt breaks the spacing)"
            print(
                f"| {k} | {plan.households_newly_covered:,.0f} | {gap:.4%} | {_fig(r['warm'], 0)} "
                f"| {_fig(r['cold'], 0)} | {gv:,.0f} | {ratio:.4f} | {t_greedy:.3f} | {sp_txt} "
                f"| {answer} |",
                flush=True,
            )
            jobs = r["warm"] + r["cold"]
            details += [f"k = {k}: " + job_line(j) for j in jobs]
            if spopt:
                details.append(
                    f"k = {k}: spopt / ours warm, wall/CPU {job_ratios(r['warm'][1], r['warm'][0])}"
                )
                if r["cold"]:
                    details.append(
                        f"k = {k}: spopt / ours cold, wall/CPU {job_ratios(r['cold'][1], r['cold'][0])}"
                    )
            details.append(
                f"k = {k}: households newly covered, every run: ours "
                f"{sorted(set(r['values']['ours']))}, spopt {sorted(set(r['values']['spopt']))}"
            )
    print("\n".join(details))
    print(f"load now {load()}")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small cases only (smoke test)")
    ap.add_argument(
        "--cases",
        default="demo,mid,city,dense",
        help="comma-separated cases: demo, mid, city, dense (default), stress (extra)",
    )
    ap.add_argument("--runs", type=int, default=3, help="warm rounds per k (3)")
    ap.add_argument(
        "--cold-runs", type=int, default=2, help="fresh-process rounds per k (2; 0: none)"
    )
    ap.add_argument(
        "--ks", default="", help="comma-separated k for every case (default: each case's)"
    )
    ap.add_argument("--child", choices=["ours", "spopt"], help=argparse.SUPPRESS)
    ap.add_argument("--problem", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("-k", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--limit", type=float, default=60.0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.problem, args.k, args.limit)
        return 0
    cases = set(args.cases.split(","))
    fixed_ks = [int(x) for x in args.ks.split(",") if x]
    print(f"# bench_siting {utc()}, load {load()}")
    print(
        f"machine: {processor()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"warm: median of {args.runs}, cold (fresh process): median of {args.cold_runs}, "
        "ours and spopt taking turns run by run, the order alternating; one solver thread each"
    )
    ok = True
    warmed: set[str] = set()

    def case(name: str, p: CoverageProblem, ks: list[int], *, spopt: bool, limit_s: float) -> None:
        nonlocal ok
        sides = {"ours", "spopt"} if spopt else {"ours"}
        warm_up(p, sides - warmed)
        warmed.update(sides)
        ok &= run_case(
            name,
            p,
            fixed_ks or ks,
            spopt=spopt,
            limit_s=limit_s,
            runs=args.runs,
            cold_runs=args.cold_runs,
        )

    if "demo" in cases:
        case("demo street", demo_problem(), [1, 3, 5], spopt=True, limit_s=60)
    if args.quick:
        case(
            "small synthetic",
            synthetic_city(1000, 200, side_m=4000, n_stations=4),
            [3],
            spopt=True,
            limit_s=60,
        )
        return _end(ok)
    if "mid" in cases:
        mid = synthetic_city(5000, 1000, side_m=8000, n_stations=12, seed=1)
        case("mid-size synthetic", mid, [5, 10, 20], spopt=True, limit_s=120)
    if "city" in cases:
        city = synthetic_city(50_000, 5000, side_m=25_000, n_stations=150, seed=2)
        case("synthetic city", city, [10], spopt=False, limit_s=300)
    if "dense" in cases:
        # the same number of buildings on a third of the area: each candidate reaches
        # about 2.6 times as many buildings, and the exact solve is much harder
        dense = synthetic_city(50_000, 5000, side_m=15_000, n_stations=60, seed=2)
        case("dense synthetic city", dense, [10], spopt=False, limit_s=300)
    if "stress" in cases:
        # not in the default set: compounds of 400 buildings spread over 800 m, few
        # stations; every candidate reaches hundreds of buildings (limit of the method)
        stress = synthetic_city(
            50_000, 5000, side_m=25_000, n_stations=60, seed=3, cluster=400, spread_m=830
        )
        case("stress city", stress, [10], spopt=False, limit_s=60)
    return _end(ok)


def _end(ok: bool) -> int:
    """Print the peak memory and the answer check; 0 when every answer agreed."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory: {peak:,.0f} MB; load {load()} at {utc()}")
    print("same answers: " + ("yes, in every run" if ok else "**NO** (see the tables)"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
