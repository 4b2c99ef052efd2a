"""Benchmark (dist14e): a street divided with the real clock and with a clock 5x fast.

    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_grids_clock.py FOLDER [--factor 5]

FOLDER is a street folder (e.g. the 10-street district written by
``bench/bench_grids_speed.py`` or :func:`planner.synthetic.demo.write_folder`). The atoms
are made once; then :func:`planner.grids.division.divide` (default settings) runs twice:
with the real clock, and with ``time.perf_counter`` running ``--factor`` times fast (what
the exact method would read on a machine that many times busier). Printed for each: grid
count, rules, a digest of every atom's grid code, the exact table (status, clock, nodes,
seconds), CPU and wall seconds. Since dist14e work limits decide the exact method, so the
two digests must be equal and no solve says ``clock``; on the code before they may
differ (its limits were wall-clock seconds).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from planner.grids.atoms import make_atoms
from planner.grids.division import divide
from planner.load.sources import load_street
from planner.settings import Settings

COLUMNS = ("community_id", "units", "status", "excess", "least", "clock", "nodes", "time_s")


def _fast(factor: float) -> Callable[[], float]:
    """A ``perf_counter`` ``factor`` times fast from now."""
    real = time.perf_counter
    t0 = real()
    return lambda: t0 + factor * (real() - t0)


def compare_clocks(street: Any, factor: float, atoms: Any = None) -> bool:
    """Divide ``street`` with the default settings twice, with the real clock and with
    ``time.perf_counter`` running ``factor`` times fast; print each division's grids, a
    digest of every atom's grid code, CPU and wall seconds and the exact table; return
    whether the two digests agree."""
    s = Settings()
    real = time.perf_counter
    digests = []
    for label, f in (("real clock", 1.0), (f"clock {factor:g}x fast", factor)):
        c0, t0 = time.process_time(), real()
        if f != 1.0:
            time.perf_counter = _fast(f)
        try:
            res = divide(street, settings=s, atoms=atoms)
        finally:
            time.perf_counter = real
        cpu, wall = time.process_time() - c0, real() - t0
        codes = res.atoms["code"].astype(str).str.cat(sep=",")
        digests.append(hashlib.sha256(codes.encode()).hexdigest()[:16])
        stamp = time.strftime("%H:%M:%S", time.gmtime())
        print(
            f"{label} ({stamp} UTC, load {os.getloadavg()[0]:.1f}): {len(res.grids)} grids, "
            f"rules hold {res.report.ok}, digest {digests[-1]}, division {cpu:.1f} CPU s, "
            f"{wall:.1f} s wall",
            flush=True,
        )
        print(res.exact[[c for c in COLUMNS if c in res.exact]].to_string(), flush=True)
    same = digests[0] == digests[1]
    print("same grids and codes:", same)
    return same


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--factor", type=float, default=5.0)
    args = ap.parse_args()
    street = load_street(args.folder)
    compare_clocks(street, args.factor, atoms=make_atoms(street, settings=Settings()))


if __name__ == "__main__":
    main()
