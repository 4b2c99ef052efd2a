"""Benchmark: a synthetic city on Dask (``python -m planner city``) against the same
single-street runs one after another in one process, in one run.

    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_city.py [--streets 4 16] [--workers 1 2]
        [--job coverage] [--cols-per-street 5 --rows 11 --communities 12]

Per city (N streets of :class:`planner.synthetic.city.CitySpec`: ``demo-city:N`` by default,
or bigger streets with ``--cols-per-street`` superblocks east-west per street, ``--rows``
north-south, ``--density`` and ``--communities`` per street; 5 x 11 gives about 4,900
buildings a street) it prints: buildings and households; the baseline (``run_pipeline`` on ``demo-city:N/K`` for
K = 1..N, sequentially, in this process); the city run with each number of local worker
processes (wall time, ratio to the baseline, the largest peak memory of a worker); the load
average before and after each timing; and each street's seconds on both sides (the
sequential run's cut, load and pipeline; the task's own time inside its worker), so the
city run's wall time splits into its tasks and what lies outside them. Every run writes GeoJSON and CSV only (no HTML, no
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

from _machine import processor as _cpu

from planner.city.run import city_parts, run_city
from planner.city.source import CityInput
from planner.city.task import load_part
from planner.pipeline import run_pipeline
from planner.settings import Settings
from planner.synthetic.city import CitySpec, make_city

FAST = ("geojson", "csv")


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def synthetic_city(spec: CitySpec) -> CityInput:
    """The city of ``spec`` as the city command reads ``demo-city:N`` (its own streets)."""
    made = make_city(spec)
    return CityInput(
        f"demo-city:{spec.n_streets}", dict(made.layers), made.streets, dict(made.meta)
    )


def baseline(spec: CitySpec, job: str, out: Path) -> tuple[float, list[float], list[str]]:
    """Seconds for the N single-street runs one after another in this process (each
    street cut with its margin and loaded as ``demo-city:N/K`` is, then the pipeline),
    each street's seconds (load and pipeline, in street order), and the streets that
    failed (``K: error``; a failing street stops where the city task stops, so both
    sides do the same work)."""
    c = synthetic_city(spec)
    t0 = time.perf_counter()
    failed: list[str] = []
    each: list[float] = []
    for k, code in enumerate(c.streets["street_code"], start=1):
        t1 = time.perf_counter()
        try:
            settings = Settings()
            parts, _ = city_parts(c, settings, codes={str(code)})
            run_pipeline(
                parts[0].source,
                out / f"single-{k}",
                street=load_part(parts[0], settings),
                settings=settings,
                new_sites=3 if job in ("run", "site") else 0,
                coverage=job != "grids",
                html=False,
                images=False,
                formats=FAST,
            )
        except Exception as exc:  # reported like the city run reports a failed street
            failed.append(f"{k:03d}: {type(exc).__name__}: {exc}")
        each.append(time.perf_counter() - t1)
    return time.perf_counter() - t0, each, failed


def city(
    spec: CitySpec, workers: int, job: str, out: Path
) -> tuple[float, list[float], list[float], list[str]]:
    """Seconds, the seconds of each street's task inside its worker (load and pipeline,
    in street order), the peak memory of each street's worker at the end of the street
    (MB, sorted, largest first) and the failed streets of the city run."""
    c = synthetic_city(spec)
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
    each = [result.outcomes[c].seconds for c in sorted(result.outcomes)]
    return seconds, each, peaks, result.failed


def _each(seconds: list[float]) -> str:
    """Per-street seconds, their sum and their mean, on one line."""
    listed = " ".join(f"{s:.1f}" for s in seconds)
    return f"sum {sum(seconds):.1f} s, mean {sum(seconds) / max(1, len(seconds)):.1f} s [{listed}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--streets", type=int, nargs="+", default=[4, 16])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--job", default="coverage", choices=["grids", "coverage", "site", "run"])
    ap.add_argument("--cols-per-street", type=int, default=1, help="superblocks east-west a street")
    ap.add_argument("--rows", type=int, default=2, help="superblocks north-south")
    ap.add_argument("--density", type=float, default=1.0, help="buildings per compound x")
    ap.add_argument("--communities", type=int, default=2, help="communities a street")
    args = ap.parse_args()
    import distributed  # noqa: F401  (its import sets its logger's level: set ours after)

    logging.getLogger("distributed").setLevel(logging.ERROR)
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {_cpu()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, job {args.job}")  # fmt: skip
    for n in args.streets:
        spec = CitySpec(n_streets=n, cols_per_street=args.cols_per_street, rows=args.rows,
                        density=args.density, communities_per_street=args.communities)  # fmt: skip
        b = make_city(spec).layers["buildings"]
        print(f"\n## {spec}: {len(b):,} buildings, {int(b['households'].sum()):,} households")
        with tempfile.TemporaryDirectory() as tmp:
            before = _load()
            base, base_each, base_failed = baseline(spec, args.job, Path(tmp))
            print(
                f"sequential single-street runs, one process: {base:.1f} s (load {before} -> {_load()})"
            )
            print(f"  per street: {_each(base_each)}")
            for line in base_failed:
                print(f"  single-street run failed: {line}")
            for w in args.workers:
                before = _load()
                sec, each, peaks, failed = city(spec, w, args.job, Path(tmp) / f"city-{w}")
                top = ", ".join(f"{p:.0f}" for p in peaks[:w])
                print(f"city, {w} worker process(es): {sec:.1f} s = {sec / base:.2f}x the sequential "
                      f"runs; peak memory of the worker(s) {top} MB (largest {w} street-end "
                      f"figures); failed {failed} (load {before} -> {_load()})")  # fmt: skip
                print(f"  per street, inside the workers: {_each(each)}; wall - task sum / "
                      f"workers (cluster, cut, hash, scatter, idle) {sec - sum(each) / w:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
