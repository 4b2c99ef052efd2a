"""Benchmark: one street's city task in this process against the same task in a Dask
worker process, interleaved, to find where a worker loses time.

    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_city_task.py [--rounds 2]
        [--cols-per-street 3 --rows 6 --communities 4] [--street 1] [--job coverage]
        [--modes process dask-defaults dask-planner]

The street is street ``--street`` of a synthetic city (:class:`planner.synthetic.city.CitySpec`
of two streets, ``--cols-per-street`` x ``--rows`` superblocks each), cut with its margin
once. Modes, run one after another in each round (interleaved, so the machine's load
drifts over all of them alike):

- ``process``: :func:`planner.city.task.run_street` called in this process;
- ``dask-defaults``: a one-worker ``LocalCluster`` with dask's own worker settings
  (``MALLOC_TRIM_THRESHOLD_=65536`` and one BLAS thread put in the worker's environment
  by the nanny, the statistical profiler sampling the task's thread every 10 ms);
- ``dask-planner``: the same cluster with the settings the city run uses
  (:func:`planner.city.run.worker_config`);
- ``dask-no-profiler``, ``dask-no-trim``: dask's defaults with only one of those two
  settings changed (which of them the time goes to).

In each mode the task runs once to warm up (imports, the numba cache, first calls:
what a worker pays once per city) and then ``--repeat`` times measured; the figure is
the task's own wall time inside the process (``StreetOutcome.seconds``), so the
cluster's start and the transfer of the share are not in it, and the CPU seconds (user +
system, ``getrusage``) of the whole process meanwhile: on a machine shared with other
work the wall time mostly measures the load, the CPU time the work (with a worker's own
threads, and the system time of page faults and of handing memory back). The load average and the UTC time
are printed beside each round. GeoJSON and CSV only.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from planner.city.partition import StreetPart
from planner.city.run import city_parts, worker_config
from planner.city.task import run_street
from planner.settings import Settings
from planner.synthetic.city import CitySpec

try:  # run as a script from the repository root: bench/ is the script's folder
    from bench_city import _cpu, _load, synthetic_city  # type: ignore[import-not-found]
except ImportError:  # imported as bench.bench_city_task
    from bench.bench_city import _cpu, _load, synthetic_city

FAST = ("geojson", "csv")
MODES = ("process", "dask-defaults", "dask-planner", "dask-no-profiler", "dask-no-trim")


def _cpu_s() -> float:
    """CPU seconds (user + system) of this whole process so far: in a worker that
    includes its event loop and the profiler, whatever they take."""
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def _task(part: StreetPart, job: str, out: str) -> tuple[float, float]:
    """The task's own wall seconds (``run_street``) and the CPU seconds of its process
    meanwhile, wherever it runs; a failure raises."""
    if os.environ.get("PLANNER_BENCH_PROBE"):
        import dask

        print(f"  [{os.getpid()}] MALLOC_TRIM_THRESHOLD_={os.environ.get('MALLOC_TRIM_THRESHOLD_')}"
              f" profile={dask.config.get('distributed.worker.profile.enabled')}", flush=True)  # fmt: skip
    cpu = _cpu_s()
    outcome = run_street(
        part, settings=Settings(), job=job, out_dir=out, html=False, formats=FAST,  # type: ignore[arg-type]
    )  # fmt: skip
    if not outcome.ok:
        raise RuntimeError(outcome.error)
    return outcome.seconds, _cpu_s() - cpu


def in_process(part: StreetPart, job: str, out: Path, repeat: int) -> list[tuple[float, float]]:
    """Warm-up, then ``repeat`` measured tasks, in this process."""
    _task(part, job, str(out / "warm"))
    return [_task(part, job, str(out / f"r{i}")) for i in range(repeat)]


def in_worker(
    part: StreetPart, job: str, out: Path, repeat: int, mode: str
) -> list[tuple[float, float]]:
    """Warm-up, then ``repeat`` measured tasks, in the one worker process of a new local
    cluster with the worker settings of ``mode`` (see the module docstring)."""
    import dask
    from distributed import Client, LocalCluster

    ours = worker_config()
    config = {
        "dask-defaults": {},
        "dask-planner": ours,
        "dask-no-profiler": {k: v for k, v in ours.items() if "profile" in k},
        "dask-no-trim": {k: v for k, v in ours.items() if "environ" in k},
    }[mode]
    # a nanny of this process put dask's setting in os.environ (the worker inherits it)
    os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with (
        dask.config.set(config),
        LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=True,  # type: ignore[no-untyped-call]
            dashboard_address=":0",
        ) as cluster,  # fmt: skip
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        remote = client.scatter(part)
        client.submit(_task, remote, job, str(out / "warm"), pure=False).result()
        return [
            client.submit(_task, remote, job, str(out / f"r{i}"), pure=False).result()
            for i in range(repeat)
        ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1, help="measured tasks per mode and round")
    ap.add_argument("--street", type=int, default=1, help="street K (1-based) of the city")
    ap.add_argument("--job", default="coverage", choices=["grids", "coverage"])
    ap.add_argument("--cols-per-street", type=int, default=3)
    ap.add_argument("--rows", type=int, default=6)
    ap.add_argument("--communities", type=int, default=4)
    ap.add_argument("--modes", nargs="+", default=list(MODES[:3]), choices=MODES)
    args = ap.parse_args()
    import distributed  # noqa: F401  (its import sets its logger's level: set ours after)

    logging.getLogger("distributed").setLevel(logging.ERROR)
    spec = CitySpec(n_streets=2, cols_per_street=args.cols_per_street, rows=args.rows,
                    communities_per_street=args.communities)  # fmt: skip
    city = synthetic_city(spec)
    code = str(city.streets["street_code"].iloc[args.street - 1])
    parts, _ = city_parts(city, Settings(), codes={code})
    part = parts[0]
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {_cpu()}, job {args.job}, "
          f"{spec}, street {code}: {len(part.layers['buildings']):,} buildings in its share "
          "(with the margin)")  # fmt: skip
    runs: dict[str, Callable[[Path], list[tuple[float, float]]]] = {
        m: (lambda out, m=m: in_worker(part, args.job, out, args.repeat, m))  # type: ignore[misc]
        for m in MODES[1:]
    }
    runs["process"] = lambda out: in_process(part, args.job, out, args.repeat)
    seconds: dict[str, list[tuple[float, float]]] = {m: [] for m in args.modes}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for mode in args.modes:
                before = _load()
                got = runs[mode](Path(tmp) / f"{mode}-{r}")
                seconds[mode] += got
                shown = ", ".join(f"{w:.1f} s wall / {c:.1f} s CPU" for w, c in got)
                print(f"round {r + 1} {time.strftime('%H:%M:%S', time.gmtime())} {mode}: "
                      f"{shown} (load {before} -> {_load()})", flush=True)  # fmt: skip
    first = seconds[args.modes[0]]
    base_w = statistics.median(w for w, _ in first)
    base_c = statistics.median(c for _, c in first)
    for mode, values in seconds.items():
        w = statistics.median(v[0] for v in values)
        c = statistics.median(v[1] for v in values)
        print(
            f"{mode}: median {w:.1f} s wall = {w / base_w:.2f}x, {c:.1f} s CPU = "
            f"{c / base_c:.2f}x {args.modes[0]} (n={len(values)})"
        )


if __name__ == "__main__":
    main()
