"""Benchmark: loading the demo street, in process and as ``python -m planner info demo``.

Prints the median of several runs for each figure, with baselines measured in the
same run so the ratios stay meaningful on a busy machine:

- ``python -c "import geopandas"``: the floor of any command that touches geodata;
- reading the demo's layer files with bare ``geopandas.read_file``: the I/O floor of
  a load.

Usage::

    python bench/bench_load.py [--runs 5] [--source demo]

Target (issue 3): loading the demo street and ``info demo`` each under 3 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _cpu() -> float:
    """CPU seconds (user + system) of this process and its finished children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def median_time(fn: Callable[[], object], runs: int) -> tuple[float, float, float, float]:
    """Median, min and max wall seconds, and median CPU seconds, of ``runs`` calls."""
    wall, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), _cpu()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(_cpu() - c)
    return statistics.median(wall), min(wall), max(wall), statistics.median(cpu)


def run_cmd(args: list[str]) -> Callable[[], object]:
    def go() -> object:
        proc = subprocess.run(args, cwd=REPO, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed:\n{proc.stderr}")
        return proc

    return go


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--source", default="demo", help="street to load (default demo)")
    args = parser.parse_args()

    import geopandas as gpd

    from planner.load.sources import DEMO_DIR, load_street

    folder = DEMO_DIR if args.source == "demo" else Path(args.source)
    py = sys.executable
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {platform.system()}"
    )
    print(f"source: {args.source}   runs: {args.runs} (median [min-max], seconds)")

    street = load_street(args.source)
    c = street.report.counts
    print(
        f"street: {c['buildings']} buildings, {c['roads']} road lines -> {c['nodes']} nodes, "
        f"{c['edges']} edges, {c['stations']} stations"
    )

    files = sorted(p for p in folder.glob("*.geojson"))
    rows: list[tuple[str, tuple[float, float, float, float]]] = []
    rows.append(
        (
            "baseline: read layer files (geopandas)",
            median_time(lambda: [gpd.read_file(p) for p in files], args.runs),
        )
    )
    rows.append(
        ("load_street (in process)", median_time(lambda: load_street(args.source), args.runs))
    )
    rows.append(
        (
            "baseline: python -c 'import geopandas'",
            median_time(run_cmd([py, "-c", "import geopandas"]), args.runs),
        )
    )
    rows.append(
        (
            "python -c 'import planner.load.sources'",
            median_time(run_cmd([py, "-c", "import planner.load.sources"]), args.runs),
        )
    )
    rows.append(
        (
            f"python -m planner info {args.source}",
            median_time(run_cmd([py, "-m", "planner", "info", args.source]), args.runs),
        )
    )
    width = max(len(r[0]) for r in rows)
    print(f"  {'':<{width}}  wall median [min-max]      CPU median")
    for label, (med, lo, hi, cpu) in rows:
        print(f"  {label:<{width}}  {med:6.3f} s [{lo:.3f}-{hi:.3f}]  {cpu:6.3f} s")
    load, info = rows[1][1], rows[4][1]
    print(
        f"load_street / bare file reading: {load[0] / rows[0][1][0]:.1f}x wall, "
        f"{load[3] / max(rows[0][1][3], 1e-9):.1f}x CPU"
    )
    print(
        f"info / import geopandas: {info[0] / rows[2][1][0]:.1f}x wall, "
        f"{info[3] / max(rows[2][1][3], 1e-9):.1f}x CPU"
    )
    print(
        f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
        "(wall > CPU means waiting for a core)"
    )
    ok = load[0] < 3.0 and info[0] < 3.0
    print(f"target (< 3 s wall each): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
