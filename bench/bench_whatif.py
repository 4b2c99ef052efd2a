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
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

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


def _time(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``fn`` over ``runs`` runs."""
    walls, cpus = [], []
    for _ in range(runs):
        c0, t0 = _cpu(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(_cpu() - c0)
    return statistics.median(walls), statistics.median(cpus)


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
    print(
        f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}"
    )
    run_whatif(street, parse_scenario(SCENARIOS["remove a station"]), settings=s)  # warm up
    cov = compute_coverage(street, settings=s)
    rows = [
        (
            "baseline: compute_coverage",
            _time(lambda: compute_coverage(street, settings=s), args.runs),
        ),
        ("completeness, 23 kinds", _time(lambda: compute_completeness(cov, street), args.runs)),
        ("2SFCA capacity", _time(lambda: compute_capacity(cov), args.runs)),
    ]
    for name, spec in SCENARIOS.items():
        sc = parse_scenario(spec)
        rows.append(
            (
                f"scenario: {name}",
                _time(lambda sc=sc: run_whatif(street, sc, settings=s), args.runs),
            )
        )
    print(f"{'step':45s} {'wall s':>8s} {'CPU s':>8s}   (median of {args.runs})")
    for name, (wall, cpu) in rows:
        print(f"{name:45s} {wall:8.2f} {cpu:8.2f}")


if __name__ == "__main__":
    main()
