"""Benchmark (det14): the demo street divided at 400-600 households with the exact method.

    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_exact_det.py [label]

Prints the grids, those out of range (dedicated grids apart), whether the proof report
holds, wall and CPU seconds of :func:`planner.grids.division.divide` (the settings of
``tests/test_bounds.py``: ``grid_exact_time_limit_s=20``, ``grid_exact_total_s=600``),
and :attr:`planner.grids.division.GridResult.exact` (status, households outside, proved
least, bound, and on branches with det14 whether the clock stopped a solve and the
branch-and-bound nodes). Run it on two checkouts one after the other to compare; under
load the work-limited answer must not change.
"""

from __future__ import annotations

import sys
import time

import pandas as pd

from planner.grids.division import divide
from planner.load.sources import load_street
from planner.settings import Settings

BOUNDS = {"grid_min_households": 400, "grid_max_households": 600, "grid_target_households": 500}


def main(label: str) -> None:
    """Divide the demo street and print the figures above."""
    s = Settings(**BOUNDS)
    street = load_street("demo", settings=s)
    t, c = time.perf_counter(), time.process_time()
    res = divide(street, settings=s.with_(grid_exact_time_limit_s=20.0, grid_exact_total_s=600.0))
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    g = res.grids
    out = ~g["households"].between(400, 600) & (g["kind"] != "dedicated")
    print(
        f"{label}: grids {len(g)}, out of range {int(out.sum())}, report ok {res.report.ok}, "
        f"wall {wall:.1f} s, cpu {cpu:.1f} s"
    )
    pd.set_option("display.width", 200)
    print(res.exact.drop(columns=["gap"]).to_string())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "this checkout")
