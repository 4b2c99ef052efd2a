"""Benchmark: one street's city task in this process against the same task in a Dask
worker process, interleaved, to find where a worker loses time.

    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_city_task.py [--rounds 2]
        [--cols-per-street 3 --rows 6 --communities 4] [--street 1] [--job coverage]
        [--modes process dask-defaults dask-planner] [--before DIR] [--split]

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
  settings changed (which of them the time goes to);
- ``child``: the task in a fresh Python process running this tree's ``planner``, and
  ``before`` (with ``--before DIR``): the same in a fresh process running the
  ``planner`` of ``DIR`` (e.g. ``git -C /work/main archive HEAD | tar -x -C DIR``), so
  ``--modes child before --before DIR`` compares the code before and after a change
  on the same street, interleaved round by round.

``--split`` instead runs the task once in this process (after a warm-up) under
``cProfile`` with a CPU-time clock and prints its CPU seconds by phase: loading the
share, the grid division (and its exact solves), the circles, the other coverage
figures, the service figures, the export, the outcome's rows
(:data:`PHASES`; a phase's figure includes the profiler's own overhead, ~15 %).

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
import cProfile
import json
import logging
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
MODES = (
    "process",
    "dask-defaults",
    "dask-planner",
    "dask-no-profiler",
    "dask-no-trim",
    "child",
    "before",
)
#: ``--split`` phases: a name and the functions (``file:function`` of the profile,
#: file relative to ``planner/``) whose cumulative CPU time is the phase's. The phases
#: do not nest in one another; what they leave out is printed as ``other``.
PHASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("load the share with its margin (assemble, project, network)", ("city/task.py:load_part",)),
    ("grids: atoms and units", ("grids/atoms.py:make_atoms", "grids/division.py:_units")),
    ("grids: exact solves (HiGHS, wall-clock limited)", ("grids/exact.py:settle",)),
    ("grids: the rest (partition, repair, codes, rules)", ("pipeline.py:divide_grids",)),
    (
        "circles (routing, drawing, union, split, gaps)",
        (
            "coverage/circles.py:station_circles",
            "coverage/circles.py:union_circles",
            "coverage/circles.py:nearest_split",
            "coverage/circles.py:gap_polygons",
        ),
    ),
    ("service kinds, completeness, capacity", ("coverage/layers.py:compute_service_layers",)),
    ("coverage: the rest (figures, tables)", ("coverage/layers.py:compute_coverage_layers",)),
    ("export: GeoJSON", ("export/geojson.py:write_geojson",)),
    ("export: CSV", ("export/formats.py:write_csv",)),
    ("export: tables built", ("export/outputs.py:output_tables",)),
    (
        "export: the rest (bar count, rules text, summary, staging)",
        ("export/outputs.py:write_run_files", "export/outputs.py:export_file_count"),
    ),
)


def _cpu_s() -> float:
    """CPU seconds (user + system) of this whole process so far: in a worker that
    includes its event loop and the profiler, whatever they take."""
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


#: One measured task: wall seconds, CPU seconds, and the CPU seconds of them spent in
#: the grid division.
Figures = tuple[float, float, float]


def _task(part: StreetPart, job: str, out: str) -> Figures:
    """The task's own wall seconds (``run_street``), the CPU seconds of its process
    meanwhile, wherever it runs, and those of them spent in the grid division
    (:func:`planner.pipeline.divide_grids`, timed by a wrapper: its exact solves stop
    at wall-clock limits, so their CPU moves with the machine's load and is shown
    apart); a failure raises."""
    if os.environ.get("PLANNER_BENCH_PROBE"):
        import dask

        print(f"  [{os.getpid()}] MALLOC_TRIM_THRESHOLD_={os.environ.get('MALLOC_TRIM_THRESHOLD_')}"
              f" profile={dask.config.get('distributed.worker.profile.enabled')}", flush=True)  # fmt: skip
    import planner.pipeline as pipeline

    divide = pipeline.divide_grids
    in_grids = [0.0]

    def timed(*a: Any, **k: Any) -> Any:
        c0 = _cpu_s()
        try:
            return divide(*a, **k)
        finally:
            in_grids[0] += _cpu_s() - c0

    pipeline.divide_grids = timed  # type: ignore[assignment]
    cpu = _cpu_s()
    try:
        outcome = run_street(
            part, settings=Settings(), job=job, out_dir=out, html=False, formats=FAST,  # type: ignore[arg-type]
        )  # fmt: skip
    finally:
        pipeline.divide_grids = divide
    if not outcome.ok:
        raise RuntimeError(outcome.error)
    return outcome.seconds, _cpu_s() - cpu, in_grids[0]


def in_process(part: StreetPart, job: str, out: Path, repeat: int) -> list[Figures]:
    """Warm-up, then ``repeat`` measured tasks, in this process."""
    _task(part, job, str(out / "warm"))
    return [_task(part, job, str(out / f"r{i}")) for i in range(repeat)]


def in_worker(part: StreetPart, job: str, out: Path, repeat: int, mode: str) -> list[Figures]:
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


def in_child(tree: Path, args: argparse.Namespace, out: Path, repeat: int) -> list[Figures]:
    """``repeat`` tasks (no warm-up but the numba cache, which both trees have on disk
    after their first round) in a fresh Python process importing the ``planner`` of
    ``tree`` (this bench script, run with ``--child``)."""
    env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        str(out),
        "--repeat",
        str(repeat),
        "--street",
        str(args.street),
        "--job",
        args.job,
        "--cols-per-street",
        str(args.cols_per_street),
        "--rows",
        str(args.rows),
        "--communities",
        str(args.communities),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("CHILD ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"child in {tree} failed: {proc.stderr[-2000:]}")
    return [(float(w), float(c), float(g)) for w, c, g in json.loads(lines[-1][6:])]


def _function_keys(stats: pstats.Stats, name: str) -> list[tuple[str, int, str]]:
    file, func = name.split(":")
    return [
        k
        for k in stats.stats  # type: ignore[attr-defined]
        if k[2] == func and k[0].endswith("planner/" + file)
    ]


def split(part: StreetPart, job: str, out: Path) -> list[tuple[str, float]]:
    """CPU seconds of one task (after a warm-up) by :data:`PHASES`, in this process."""
    _task(part, job, str(out / "warm"))
    prof = cProfile.Profile(time.process_time)
    cpu = _cpu_s()
    prof.enable()
    _task(part, job, str(out / "split"))
    prof.disable()
    total = _cpu_s() - cpu
    stats = pstats.Stats(prof)
    cum = {}
    for _, names in PHASES:
        for name in names:
            cum[name] = sum(
                stats.stats[k][3]  # type: ignore[attr-defined]
                for k in _function_keys(stats, name)
            )
    # nested phases: the grids' and coverage's rest are their whole minus their parts
    rows: list[tuple[str, float]] = []
    for label, names in PHASES:
        value = sum(cum[n] for n in names)
        if label.startswith("grids: the rest"):
            value -= sum(r[1] for r in rows if r[0].startswith("grids:"))
        if label.startswith("coverage: the rest"):
            value -= sum(r[1] for r in rows[-2:])
        if label.startswith("export: the rest"):
            value -= sum(r[1] for r in rows if r[0].startswith("export:"))
        rows.append((label, value))
    task = sum(
        stats.stats[k][3]  # type: ignore[attr-defined]
        for k in _function_keys(stats, "city/task.py:run_street")
    )
    rows.append(("other (the pipeline's glue, the outcome's rows)", task - sum(v for _, v in rows)))
    rows.append(("the task, profiled (CPU s of the process)", total))
    return rows


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
    ap.add_argument("--before", type=Path, help="the tree of the code before (mode 'before')")
    ap.add_argument("--split", action="store_true", help="CPU seconds of one task by phase")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # in_child's own process
    args = ap.parse_args()
    if "before" in args.modes and args.before is None:
        ap.error("mode 'before' needs --before DIR")
    import distributed  # noqa: F401  (its import sets its logger's level: set ours after)

    logging.getLogger("distributed").setLevel(logging.ERROR)
    spec = CitySpec(n_streets=2, cols_per_street=args.cols_per_street, rows=args.rows,
                    communities_per_street=args.communities)  # fmt: skip
    city = synthetic_city(spec)
    code = str(city.streets["street_code"].iloc[args.street - 1])
    parts, _ = city_parts(city, Settings(), codes={code})
    part = parts[0]
    if args.child is not None:  # in_child's process: the tasks, one JSON line
        got = [_task(part, args.job, str(args.child / f"r{i}")) for i in range(args.repeat)]
        print("CHILD " + json.dumps(got), flush=True)
        return
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {_cpu()}, job {args.job}, "
          f"{spec}, street {code}: {len(part.layers['buildings']):,} buildings in its share "
          "(with the margin)")  # fmt: skip
    runs: dict[str, Callable[[Path], list[Figures]]] = {
        m: (lambda out, m=m: in_worker(part, args.job, out, args.repeat, m))  # type: ignore[misc]
        for m in MODES[1:]
    }
    runs["process"] = lambda out: in_process(part, args.job, out, args.repeat)
    here = Path(__file__).resolve().parents[1]
    runs["child"] = lambda out: in_child(here, args, out, args.repeat)
    if args.before is not None:
        runs["before"] = lambda out: in_child(args.before, args, out, args.repeat)
    if args.split:
        with tempfile.TemporaryDirectory() as tmp:
            before = _load()
            rows = split(part, args.job, Path(tmp))
        total = rows[-1][1]
        for label, value in rows:
            print(f"{value:7.2f} CPU s {100 * value / total:5.1f} %  {label}")
        print(f"(load {before} -> {_load()}, {time.strftime('%H:%M UTC', time.gmtime())})")
        return
    seconds: dict[str, list[Figures]] = {m: [] for m in args.modes}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for mode in args.modes:
                before = _load()
                got = runs[mode](Path(tmp) / f"{mode}-{r}")
                seconds[mode] += got
                shown = ", ".join(
                    f"{w:.1f} s wall / {c:.1f} s CPU ({g:.1f} in the grid division, "
                    f"{c - g:.1f} outside)"
                    for w, c, g in got
                )
                print(f"round {r + 1} {time.strftime('%H:%M:%S', time.gmtime())} {mode}: "
                      f"{shown} (load {before} -> {_load()})", flush=True)  # fmt: skip
    first = seconds[args.modes[0]]
    base_w = statistics.median(v[0] for v in first)
    base_c = statistics.median(v[1] for v in first)
    base_o = statistics.median(v[1] - v[2] for v in first)
    for mode, values in seconds.items():
        w = statistics.median(v[0] for v in values)
        c = statistics.median(v[1] for v in values)
        o = statistics.median(v[1] - v[2] for v in values)
        print(
            f"{mode}: median {w:.1f} s wall = {w / base_w:.2f}x, {c:.1f} s CPU = "
            f"{c / base_c:.2f}x, outside the grid division {o:.1f} s CPU = {o / base_o:.2f}x "
            f"{args.modes[0]} (n={len(values)})"
        )


if __name__ == "__main__":
    main()
