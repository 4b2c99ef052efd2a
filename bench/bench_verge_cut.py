"""Benchmark: the 10-street district divided with ``grid_verge_cut="features"`` against
the default ``"off"``, interleaved run by run in fresh processes.

    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_verge_cut.py [--streets 10] [--rounds 2]

The district (:func:`planner.synthetic.demo.make_district`, 49,026 buildings at 10
streets) is written once; each round then runs one child process per setting, ``"off"``
(the baseline: the default) and ``"features"``, taking turns, the order reversed every
round (``off, features``, then ``features, off``: :func:`_interleave.order`), so both see
the same load and neither always runs first. Beside the child's own timings, the whole
process's wall and CPU seconds (``RUSAGE_CHILDREN``: loading the street, imports and JIT
included) are printed.
Each child times ``make_atoms`` and ``divide`` (seed 0, CPU and wall seconds) and prints
the atoms, the grids, whether ``no_overlap`` holds (the ``"features"`` cuts once left
1.21 m² of overlap in 95 slivers), the grids out of the household range that fail the
proof (``error``) or are proved exceptions (``explained``), the failing checks, and the
share of internal grid boundary on features. The processor's model name and the load
average (1, 5, 15 minutes) before and after each child are printed beside the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:  # run as a script: bench/ is the script's folder
    from _interleave import children_cpu, order  # type: ignore[import-not-found]
    from _machine import processor as _processor  # type: ignore[import-not-found]
except ImportError:  # imported as bench.bench_verge_cut (the tests)
    from bench._interleave import children_cpu, order
    from bench._machine import processor as _processor

CHILD = r"""
import json, sys, time
from planner.grids.atoms import make_atoms
from planner.grids.division import divide
from planner.load.sources import load_street
from planner.settings import Settings

street = load_street(sys.argv[1])
s = Settings(grid_verge_cut=sys.argv[2])
c0, t0 = time.process_time(), time.perf_counter()
atoms = make_atoms(street, settings=s)
c1, t1 = time.process_time(), time.perf_counter()
res = divide(street, settings=s, atoms=atoms)
c2, t2 = time.process_time(), time.perf_counter()
rep = res.report
hh = rep.check("households_in_range").violations
print(json.dumps({
    "atoms": len(atoms), "grids": len(res.grids), "rules_ok": bool(rep.ok),
    "no_overlap": rep.check("no_overlap").passed,
    "households_error": sum(v.severity == "error" for v in hh),
    "households_explained": sum(v.severity == "explained" for v in hh),
    "failing": sorted({v.rule for c in rep.checks for v in c.violations if v.severity == "error"}),
    "feature_share": round(float(rep.quality["feature_share"]), 4),
    "atoms_cpu": round(c1 - c0, 1), "atoms_wall": round(t1 - t0, 1),
    "divide_cpu": round(c2 - c1, 1), "divide_wall": round(t2 - t1, 1),
}))
"""


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _child(folder: Path, cut: str) -> dict[str, object]:
    """One fresh process dividing ``folder`` with ``grid_verge_cut=cut``: its figures."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(folder), cut],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run_rounds(folder: Path, rounds: int) -> list[tuple[str, dict[str, object]]]:
    """``rounds`` rounds of one child per setting (:func:`_child`), the order reversed
    every round; prints each child's figures as it ends and returns them in run order."""
    out = []
    for r in range(rounds):
        for cut in order(["off", "features"], r):
            before = _load()
            c0, t0 = children_cpu(), time.perf_counter()
            res = _child(folder, cut)
            wall, cpu = time.perf_counter() - t0, children_cpu() - c0
            stamp = time.strftime("%H:%M:%S", time.gmtime())
            print(
                f"round {r + 1} {cut:8s}: {json.dumps(res)}; whole process {wall:.1f} s wall, "
                f"{cpu:.1f} s CPU (load {before} -> {_load()}, ended {stamp} UTC)",
                flush=True,
            )
            out.append((cut, res))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streets", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    print(
        f"{_processor()}, {os.cpu_count()} CPUs; {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}"
    )
    from planner.synthetic.demo import make_district, write_folder

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "district"
        write_folder(make_district(args.streets), folder)
        run_rounds(folder, args.rounds)


if __name__ == "__main__":
    main()
