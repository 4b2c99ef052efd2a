"""Benchmark: a what-if scenario on the demo street (issue 16), and its parts.

A scenario evaluates the street twice (before and after: coverage, completeness of every
service kind, 2SFCA capacity; no circles). Printed: the median wall and CPU seconds of
``run_whatif`` for each scenario below, and of one evaluation's parts, with the bare
coverage (``compute_coverage``, what the planner did before issue 16) as the baseline
measured in the same run.

Usage::

    python bench/bench_whatif.py [--runs 5]

Target (issue 16): a scenario recomputes in under 5 s on the demo street on 2 cores.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from _machine import processor as _processor

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

#: The scenarios timed (WGS84 points on the demo street).
SCENARIOS: dict[str, dict[str, object]] = {
    "remove a station": {"changes": [{"remove_station": {"station_id": "ZD05"}}]},
    "add a station and a canteen": {
        "changes": [
            {"add_station": {"station_id": "X1", "lon": 108.9431, "lat": 34.2102,
                             "floor_area_m2": 300}},
            {"add_poi": {"poi_id": "Q1", "kind": "canteen", "lon": 108.94, "lat": 34.21}},
        ]
    },
    "five changes (path closed, gate opened)": {
        "changes": [
            {"add_station": {"station_id": "X1", "lon": 108.9431, "lat": 34.2102,
                             "floor_area_m2": 300}},
            {"remove_station": {"station_id": "ZD05"}},
            {"add_poi": {"poi_id": "Q1", "kind": "canteen", "lon": 108.94, "lat": 34.21}},
            {"close_path": {"lon": 108.951476, "lat": 34.211235}},
            {"open_gate": {"compound_id": "XQ001", "lon": 108.95613, "lat": 34.207392}},
        ]
    },
}  # fmt: skip


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime


def _interleaved(fns: dict[str, Callable[[], object]], runs: int) -> dict[str, tuple[float, float]]:
    """Median wall and CPU seconds of each of ``fns`` over ``runs`` rounds.

    Each round runs every function once, the baseline beside the scenarios, so a load
    change on the shared machine hits all of them alike; the order rotates by one each
    round so no function always runs first (after an idle gap) or last.
    """
    names = list(fns)
    walls: dict[str, list[float]] = {n: [] for n in names}
    cpus: dict[str, list[float]] = {n: [] for n in names}
    for r in range(runs):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            c0, t0 = _cpu(), time.perf_counter()
            fns[name]()
            walls[name].append(time.perf_counter() - t0)
            cpus[name].append(_cpu() - c0)
    return {n: (statistics.median(walls[n]), statistics.median(cpus[n])) for n in names}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    from planner.coverage.capacity import compute_capacity
    from planner.coverage.completeness import compute_completeness
    from planner.coverage.figures import compute_coverage
    from planner.coverage.whatif import parse_scenario, run_whatif
    from planner.load.sources import load_street
    from planner.settings import Settings

    loaded = load_street("demo")
    street = loaded[0] if isinstance(loaded, tuple) else loaded
    s = Settings()
    print(f"machine: {_processor()}, {os.cpu_count()} CPUs, python {platform.python_version()}")
    run_whatif(street, parse_scenario(SCENARIOS["remove a station"]), settings=s)  # warm up
    cov = compute_coverage(street, settings=s)
    fns: dict[str, Callable[[], object]] = {
        "baseline: compute_coverage": lambda: compute_coverage(street, settings=s),
        "completeness, 23 kinds": lambda: compute_completeness(cov, street),
        "2SFCA capacity": lambda: compute_capacity(cov),
    }
    for name, spec in SCENARIOS.items():
        fns[f"scenario: {name}"] = functools.partial(
            run_whatif, street, parse_scenario(spec), settings=s
        )
    rows = list(_interleaved(fns, args.runs).items())
    base_wall, base_cpu = rows[0][1]
    print(
        f"{'step':50s} {'wall s':>8s} {'CPU s':>8s} {'x base wall':>12s} {'x base CPU':>11s}"
        f"   (median of {args.runs}, interleaved run by run)"
    )
    for name, (wall, cpu) in rows:
        print(
            f"{name:50s} {wall:8.2f} {cpu:8.2f} {wall / base_wall:11.2f}x"
            f" {cpu / max(base_cpu, 1e-9):10.2f}x"
        )


if __name__ == "__main__":
    main()
