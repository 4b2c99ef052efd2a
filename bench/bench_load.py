"""Benchmark: loading the demo street, in process and as ``python -m planner info demo``.

Prints the median of several runs for each figure beside its baseline, the two taken in
turn run by run (the order alternating each run, so a load change on the shared machine
hits both alike) with the per-run ratios:

- ``load_street`` against reading the demo's layer files with bare
  ``geopandas.read_file`` (the I/O floor of a load); both must give the same feature
  counts for every layer the loader keeps whole (all but ``roads``, which it splits
  and joins into a network);
- ``python -c "import planner.load.sources"`` and ``python -m planner info demo``
  against ``python -c "import geopandas"`` (the floor of any command that touches
  geodata); ``info``'s printed building count must equal ``load_street``'s.

Wall seconds from ``time.perf_counter``; CPU seconds from ``time.process_time`` for the
in-process figures and from ``getrusage(RUSAGE_CHILDREN)`` deltas (user + system of the
finished child) for the subprocess ones.

Usage::

    python bench/bench_load.py [--runs 5] [--source demo]

Target (issue 3): loading the demo street and ``info demo`` each under 3 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

try:  # run as a script: bench/ is the script's folder
    from _interleave import Job, children_cpu, fresh  # type: ignore[import-not-found]
    from _interleave import rotate as interleave  # type: ignore[import-not-found]
    from _machine import processor as _processor  # type: ignore[import-not-found]
except ImportError:  # imported as bench.<script> (the tests)
    from bench._interleave import Job, children_cpu, fresh
    from bench._interleave import rotate as interleave
    from bench._machine import processor as _processor

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def ratios(ours: Job, base: Job) -> tuple[list[float], list[float]]:
    """Per-run wall and CPU ratios ours / baseline (runs taken in the same round)."""
    wall = [a / b for a, b in zip(ours.wall, base.wall, strict=True)]
    cpu = [a / max(b, 1e-9) for a, b in zip(ours.cpu, base.cpu, strict=True)]
    return wall, cpu


def print_pair(ours: Job, base: Job) -> None:
    """Print the per-run and median ratios of ``ours`` against ``base``."""
    wall, cpu = ratios(ours, base)
    print(
        f"{ours.label} / {base.label}: median {statistics.median(wall):.2f}x wall, "
        f"{statistics.median(cpu):.2f}x CPU; per run wall "
        + " ".join(f"{x:.2f}" for x in wall)
        + ", CPU "
        + " ".join(f"{x:.2f}" for x in cpu)
    )


def check_same_counts(counts: dict[str, int], files: dict[str, object]) -> None:
    """Fail unless every layer read bare has the loader's feature count (roads aside)."""
    import pandas as pd

    for name, frame in files.items():
        assert isinstance(frame, pd.DataFrame)
        if name != "roads" and name in counts and counts[name] != len(frame):
            raise SystemExit(f"{name}: load_street kept {counts[name]}, the file has {len(frame)}")


def check_info_buildings(stdout: str, buildings: int) -> None:
    """Fail unless ``info``'s layer table shows ``buildings`` buildings."""
    m = re.search(r"^\s+buildings\s+(\d+)\s*$", stdout, re.MULTILINE)
    if m is None or int(m.group(1)) != buildings:
        raise SystemExit(f"info printed {m and m.group(1)} buildings, load_street {buildings}")


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
        f"machine: {_processor()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {platform.system()}"
    )
    load_before = os.getloadavg()[0]
    print(f"source: {args.source}   runs: {args.runs} (median [min-max], seconds)")

    street = load_street(args.source)
    c = street.report.counts
    print(
        f"street: {c['buildings']} buildings, {c['roads']} road lines -> {c['nodes']} nodes, "
        f"{c['edges']} edges, {c['stations']} stations"
    )

    files = sorted(p for p in folder.glob("*.geojson"))
    bare = Job(
        "read layer files", lambda: {p.stem: gpd.read_file(p) for p in files}, time.process_time
    )
    load = Job("load_street", lambda: load_street(args.source), time.process_time)
    interleave([bare, load], args.runs)
    assert isinstance(bare.result, dict)
    check_same_counts(load.result.report.counts, bare.result)  # type: ignore[attr-defined]

    imp = Job("import geopandas", fresh([py, "-c", "import geopandas"], cwd=REPO), children_cpu)
    imp_ours = Job(
        "import planner.load.sources",
        fresh([py, "-c", "import planner.load.sources"], cwd=REPO),
        children_cpu,
    )
    info = Job(
        f"info {args.source}",
        fresh([py, "-m", "planner", "info", args.source], cwd=REPO),
        children_cpu,
    )
    interleave([imp, imp_ours, info], args.runs)
    check_info_buildings(str(info.result), c["buildings"])

    rows = [
        ("baseline: read layer files (geopandas)", bare),
        ("load_street (in process)", load),
        ("baseline: python -c 'import geopandas'", imp),
        ("python -c 'import planner.load.sources'", imp_ours),
        (f"python -m planner info {args.source}", info),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"  {'':<{width}}  wall median [min-max]      CPU median   (interleaved run by run)")
    for label, job in rows:
        med = statistics.median(job.wall)
        print(
            f"  {label:<{width}}  {med:6.3f} s [{min(job.wall):.3f}-{max(job.wall):.3f}]  "
            f"{statistics.median(job.cpu):6.3f} s"
        )
    print_pair(load, bare)
    print_pair(imp_ours, imp)
    print_pair(info, imp)
    print(
        "same answer: layer counts equal (all but roads), "
        f"info shows {c['buildings']} buildings like load_street"
    )
    print(
        f"load average: {load_before:.2f} -> {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs "
        "(wall > CPU means waiting for a core)"
    )
    ok = statistics.median(load.wall) < 3.0 and statistics.median(info.wall) < 3.0
    print(f"target (< 3 s wall each): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
