"""Benchmark: honest household bounds, before (the heuristic alone) and after (the
heuristic, then the exact method where it leaves grids out of bounds), interleaved.

    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_grid_bounds.py [--runs 2]
        [--bounds 400-600 200-500] [--time-limit 20] [--skip-beijing]

For the demo street and the Beijing Xueyuan Road OSM extract
(``tests/data/beijing-haidian-xueyuanlu/map.osm.pbf``), and each household range,
the atoms are made once and the division runs ``--runs`` times per method, before
and after alternating (so both see the same machine load). "Before" is
``grid_method="heuristic"``: the partition of the code before this change (same
seed, same trees); "after" is ``grid_method="auto"``. Printed per case and method:
grids (and how many are dedicated grids, exempt from the bounds and left out of the
figures that follow), residential grids in bounds, grids out of bounds that are proved exceptions, grids out of
bounds that fail the proof, households outside the bounds summed over the grids, the
worst deviation of a grid from the bounds, the coefficient of variation of households
per grid, the lowest Polsby-Popper compactness, whether the proof holds, the exact
method's statuses, and the median wall and CPU time of ``divide``.
(bench/bench_bounds.py is another benchmark: the bounds on work of the coverage step.)
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from _machine import processor as _processor

from planner.grids.atoms import make_atoms
from planner.grids.dedicated import KIND_DEDICATED
from planner.grids.division import GridResult, divide
from planner.settings import Settings
from planner.street import Street

ROOT = Path(__file__).resolve().parents[1]
BEIJING = ROOT / "tests/data/beijing-haidian-xueyuanlu/map.osm.pbf"


@dataclass
class Figures:
    """The figures of one division."""

    grids: int
    dedicated: int
    in_bounds: int
    proved: int
    failed: int
    outside: float
    worst: float
    cv: float
    pp_min: float
    ok: bool
    exact: str
    wall_s: float
    cpu_s: float


def figures(res: GridResult, lo: int, hi: int, wall_s: float, cpu_s: float) -> Figures:
    g = res.grids
    # dedicated grids (专属网格, no homes) are exempt from the household bounds: counting
    # their 0 households as "lo below" (as this script did before they existed) inflated
    # outside/worst/CV and hid the residential grids' figures
    kind = g["kind"].astype(str).to_numpy() if "kind" in g.columns else np.full(len(g), "")
    ded = kind == KIND_DEDICATED
    h = g["households"].to_numpy(dtype=float)[~ded]
    dev = np.maximum(lo - h, 0) + np.maximum(h - hi, 0)
    v = res.report.check("households_in_range").violations
    statuses = res.exact["status"].value_counts().to_dict() if len(res.exact) else {}
    return Figures(
        grids=len(g),
        dedicated=int(ded.sum()),
        in_bounds=int((dev == 0).sum()),
        proved=sum(x.severity == "explained" for x in v),
        failed=sum(x.severity == "error" for x in v),
        outside=float(dev.sum()),
        worst=float(dev.max()) if len(dev) else 0.0,
        cv=float(h.std() / h.mean()) if h.mean() else 0.0,
        pp_min=float(res.grids["compactness"].min()),
        ok=res.report.ok,
        exact=", ".join(f"{k} {n}" for k, n in sorted(statuses.items())) or "-",
        wall_s=wall_s,
        cpu_s=cpu_s,
    )


def run_once(street: Street, atoms, settings: Settings) -> tuple[GridResult, float, float]:  # type: ignore[no-untyped-def]
    w, c = time.perf_counter(), time.process_time()
    res = divide(street, settings=settings, atoms=atoms)
    return res, time.perf_counter() - w, time.process_time() - c


def bench_case(name: str, street: Street, lo: int, hi: int, runs: int, limit: float) -> None:
    base = Settings(
        grid_min_households=lo,
        grid_max_households=hi,
        grid_target_households=(lo + hi) // 2,
        grid_exact_time_limit_s=limit,
    )
    atoms = make_atoms(street, settings=base)
    methods = {"before (heuristic)": "heuristic", "after (auto)": "auto"}
    times: dict[str, list[tuple[float, float]]] = {m: [] for m in methods}
    last: dict[str, GridResult] = {}
    for _ in range(runs):
        for label, method in methods.items():  # interleaved: before, after, before, ...
            res, wall, cpu = run_once(street, atoms, base.with_(grid_method=method))
            times[label].append((wall, cpu))
            last[label] = res
    print(f"\n== {name}: {len(atoms)} atoms, bounds {lo}-{hi}, {runs} run(s) each, interleaved")
    for label in methods:
        wall = statistics.median(t[0] for t in times[label])
        cpu = statistics.median(t[1] for t in times[label])
        f = figures(last[label], lo, hi, wall, cpu)
        print(
            f"  {label:19} grids {f.grids:3} (dedicated {f.dedicated:2})  in bounds {f.in_bounds:3}  proved {f.proved:3}  "
            f"failed {f.failed:3}  outside {f.outside:6.0f} hh  worst {f.worst:4.0f}  "
            f"CV {f.cv:.3f}  PP min {f.pp_min:.2f}  proof {'holds' if f.ok else 'FAILS'}  "
            f"time {f.wall_s:.1f} s wall / {f.cpu_s:.1f} s CPU  exact: {f.exact}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--bounds", nargs="+", default=["400-600", "200-500"])
    ap.add_argument("--time-limit", type=float, default=20.0)
    ap.add_argument("--skip-beijing", action="store_true")
    args = ap.parse_args()
    from planner.load.sources import load_street

    with open("/proc/loadavg") as fh:
        load = fh.read().split()[:3]
    print(f"{_processor()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(
        f"load average at start {' '.join(load)}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    cases = [("demo street", load_street("demo"))]
    if not args.skip_beijing and BEIJING.exists():
        cases.append(("Beijing Xueyuan Road extract", load_street(BEIJING)))
    for bounds in args.bounds:
        lo, hi = (int(x) for x in bounds.split("-"))
        for name, street in cases:
            bench_case(name, street, lo, hi, args.runs, args.time_limit)
    with open("/proc/loadavg") as fh:
        print(f"\nload average at end {' '.join(fh.read().split()[:3])}")


if __name__ == "__main__":
    main()
