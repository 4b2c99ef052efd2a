"""Benchmark: a synthetic city on Dask (``python -m planner city``) against the same
single-street runs one after another in one process, in one run.

    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_city.py [--streets 4 16] [--workers 1 2]
        [--job coverage]

Per city (``demo-city:N``: N streets of the default :class:`planner.synthetic.city.CitySpec`)
it prints: buildings and households; the baseline (``run_pipeline`` on ``demo-city:N/K`` for
K = 1..N, sequentially, in this process); the city run with each number of local worker
processes (wall time, ratio to the baseline, the largest peak memory of a worker); the load
average before and after each timing. Every run writes GeoJSON and CSV only (no HTML, no
images), so the figures are the work, not the writers.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import tempfile
import time
from pathlib import Path

from planner.city.run import run_city
from planner.city.source import read_city
from planner.pipeline import run_pipeline
from planner.settings import Settings

FAST = ("geojson", "csv")


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def baseline(n: int, job: str, out: Path) -> tuple[float, list[str]]:
    """Seconds for the N single-street runs one after another in this process, and the
    streets that failed (``K: error``; a failing street stops where the city task stops,
    so both sides do the same work)."""
    t0 = time.perf_counter()
    failed: list[str] = []
    for k in range(1, n + 1):
        try:
            run_pipeline(
                f"demo-city:{n}/{k}",
                out / f"single-{k}",
                settings=Settings(),
                new_sites=3 if job in ("run", "site") else 0,
                coverage=job != "grids",
                html=False,
                images=False,
                formats=FAST,
            )
        except Exception as exc:  # reported like the city run reports a failed street
            failed.append(f"{k:03d}: {type(exc).__name__}: {exc}")
    return time.perf_counter() - t0, failed


def city(n: int, workers: int, job: str, out: Path) -> tuple[float, list[float], list[str]]:
    """Seconds, the peak memory of each street's worker at the end of the street (MB,
    sorted, largest first) and the failed streets of the city run."""
    c = read_city(f"demo-city:{n}")
    t0 = time.perf_counter()
    result = run_city(
        c,
        out,
        settings=Settings(),
        job=job,
        workers=workers,
        html=False,
        formats=FAST,  # type: ignore[arg-type]
    )
    seconds = time.perf_counter() - t0
    peaks = sorted((o.peak_mb for o in result.outcomes.values()), reverse=True)
    return seconds, peaks, result.failed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--streets", type=int, nargs="+", default=[4, 16])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--job", default="coverage", choices=["grids", "coverage", "site", "run"])
    args = ap.parse_args()
    logging.getLogger("distributed").setLevel(logging.ERROR)
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, job {args.job}")  # fmt: skip
    for n in args.streets:
        c = read_city(f"demo-city:{n}")
        b = c.layers["buildings"]
        print(
            f"\n## demo-city:{n}: {len(b):,} buildings, {int(b['households'].sum()):,} households"
        )
        with tempfile.TemporaryDirectory() as tmp:
            before = _load()
            base, base_failed = baseline(n, args.job, Path(tmp))
            print(
                f"sequential single-street runs, one process: {base:.1f} s (load {before} -> {_load()})"
            )
            for line in base_failed:
                print(f"  single-street run failed: {line}")
            for w in args.workers:
                before = _load()
                sec, peaks, failed = city(n, w, args.job, Path(tmp) / f"city-{w}")
                top = ", ".join(f"{p:.0f}" for p in peaks[:w])
                print(f"city, {w} worker process(es): {sec:.1f} s = {sec / base:.2f}x the sequential "
                      f"runs; peak memory of the worker(s) {top} MB (largest {w} street-end "
                      f"figures); failed {failed} (load {before} -> {_load()})")  # fmt: skip


if __name__ == "__main__":
    main()
