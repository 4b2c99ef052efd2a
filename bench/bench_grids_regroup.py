"""Benchmark: the demo street at 400-600 households with and without the exact method
run again over the atoms of fixed groups (branch dist14d), interleaved.

    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_grids_regroup.py \
        [--trees /work/main .] [--runs 1] [--case demo|known]

Each run divides the street once per source tree, in a fresh interpreter with that
tree first on ``sys.path`` (tree 1, tree 2, tree 1, ...; so both see the same load),
with the settings of ``tests/test_bounds.py`` (400-600, target 500, time limit 20 s,
budget 600 s). ``--case known`` is the constructed case of ``tests/test_exact.py``
(compounds of 540 and 315 households, 400-500). Printed per run and tree: the grids,
the residential grids out of the bounds, the households outside, the exact method's
statuses and units per piece, the regroup notes, the rules, and the wall and CPU time
of ``divide`` (atoms made before the clock starts), with the load average before and
after.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one(case: str) -> dict[str, object]:
    """Divide the case once in this interpreter; the figures as a dict."""
    import numpy as np

    from planner.grids.atoms import make_atoms
    from planner.grids.division import divide
    from planner.load.sources import load_street
    from planner.settings import Settings

    if case == "demo":
        lo, hi, target = 400, 600, 500
        s = Settings(grid_min_households=lo, grid_max_households=hi, grid_target_households=target)
        street = load_street("demo", settings=s)
    else:
        from tests.grid_streets import block_street

        lo, hi, target = 400, 500, 450
        s = Settings(grid_min_households=lo, grid_max_households=hi, grid_target_households=target)
        street = block_street(
            xs=(450.0,), ys=(), community_x=None, compound_every=1, households=[60] * 9 + [35] * 9
        )
    s = s.with_(grid_exact_time_limit_s=20.0, grid_exact_total_s=600.0)
    atoms = make_atoms(street, settings=s)
    w0, c0 = time.perf_counter(), time.process_time()
    res = divide(street, settings=s, atoms=atoms)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    g = res.grids[res.grids["kind"] != "dedicated"]
    h = g["households"].to_numpy(dtype=float)
    out = ~g["households"].between(lo, hi)
    return {
        "grids": len(res.grids),
        "out_of_bounds": int(out.sum()),
        "outside_households": float(np.maximum(lo - h, 0).sum() + np.maximum(h - hi, 0).sum()),
        "exact": [
            f"{r.community_id}:{r.status}/{r.units}u/{r.time_s:.1f}s"
            for r in res.exact.itertuples()
        ],
        "regroup_notes": [n for n in res.notes if "fixed groups" in n],
        "rules_ok": bool(res.report.ok),
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trees", nargs="+", default=["/work/main", str(ROOT)])
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--case", choices=["demo", "known"], default="demo")
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.case)))
        return
    cpu = platform.processor() or platform.machine()
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC, {os.cpu_count()} CPUs, {cpu}"
    )
    for run in range(args.runs):
        for tree in args.trees:
            env = dict(os.environ, PYTHONPATH=str(Path(tree).resolve()))
            load0 = os.getloadavg()[0]
            t0 = time.strftime("%H:%M:%S", time.gmtime())
            out = subprocess.run(
                [sys.executable, __file__, "--one", "--case", args.case],
                env=env,
                cwd=tree,
                capture_output=True,
                text=True,
                check=True,
            )
            load1 = os.getloadavg()[0]
            t1 = time.strftime("%H:%M:%S", time.gmtime())
            print(f"run {run} {tree} {t0}-{t1} UTC load {load0:.1f} -> {load1:.1f}")
            print("  " + out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
