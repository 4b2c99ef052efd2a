"""Benchmark: a synthetic city on Dask (``python -m planner city``) against the same
single-street runs one after another in one process, interleaved run by run.

    PYTHONPATH=. nice -n 5 /work/main/.venv/bin/python -u bench/bench_city.py [--streets 4 16]
        [--workers 1 2] [--rounds 2] [--job coverage]
        [--cols-per-street 5 --rows 11 --communities 12] [--json FILE] [--keep DIR]

Per city (N streets of :class:`planner.synthetic.city.CitySpec`: ``demo-city:N`` by default,
or bigger streets with ``--cols-per-street`` superblocks east-west per street, ``--rows``
north-south, ``--density`` and ``--communities`` per street; 5 x 11 gives about 4,900
buildings a street) the sides are timed **run by run**: round 1 runs the city with each
``--workers`` count and then the sequential single-street runs (the baseline:
``run_pipeline`` on ``demo-city:N/K`` for K = 1..N in this process), round 2 the same in
the reverse order, and so on (:func:`schedule`), so a load that drifts weighs on both
sides alike. Each run prints:

- wall seconds and **CPU seconds** (user + system): this process's own
  (``getrusage(RUSAGE_SELF)``: the sequential runs; for a city run the cut, the hashes,
  the scatter and the local cluster's scheduler, nannies and client, which live in this
  process) and its children's (``getrusage(RUSAGE_CHILDREN)`` read after the cluster has
  closed, so it holds every Dask worker process, reaped by its nanny);
- for a city run, the workers' CPU split (:func:`worker_split`): before each worker's
  first task (its start-up: interpreter, imports, unpickling the first task), inside the
  tasks (``StreetOutcome.cpu_seconds``) and the rest (between tasks, after the last one,
  shutting down), and each worker's peak resident memory (MB);
- the load average before and after, the UTC time and the processor;
- whether both sides gave the same answer: every file of every street folder equal
  byte for byte (grid codes, tables, layers), ``summary.json`` without its time stamp
  and timings (:func:`answers`).

At the end: the median wall and CPU seconds of each side over the rounds and each
round's ratio to the sequential runs of the same round. Every run writes GeoJSON and CSV
only (no HTML, no images), so the figures are the work, not the writers. ``--json``
writes every run's figures to a file; ``--keep DIR`` keeps every run's street folders
(``DIR/city-N/r<round>-<side>/``) instead of a temporary folder.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import platform
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

try:  # run as a script: bench/ is the script's folder
    from _machine import processor as _cpu  # type: ignore[import-not-found]
except ImportError:  # imported as bench.bench_city (the tests)
    from bench._machine import processor as _cpu

from planner.city.run import city_parts, run_city
from planner.city.source import CityInput
from planner.city.task import StreetOutcome, load_part
from planner.pipeline import run_pipeline
from planner.settings import Settings
from planner.synthetic.city import CitySpec, make_city

FAST = ("geojson", "csv")
SEQUENTIAL = "sequential"

#: ``summary.json`` keys that change from run to run without the answer changing.
VOLATILE = ("made", "timings_s")


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def _utc() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())


def synthetic_city(spec: CitySpec) -> CityInput:
    """The city of ``spec`` as the city command reads ``demo-city:N`` (its own streets)."""
    made = make_city(spec)
    return CityInput(
        f"demo-city:{spec.n_streets}", dict(made.layers), made.streets, dict(made.meta)
    )


def schedule(rounds: int, workers: list[int]) -> list[list[str]]:
    """The sides of each round in the order they run: round 1 the city with each number
    of workers (``city-1`` ...) then the sequential runs, round 2 the reverse, and so on."""
    order = [*(f"city-{w}" for w in workers), SEQUENTIAL]
    return [order if r % 2 == 0 else order[::-1] for r in range(rounds)]


@dataclass
class Usage:
    """A snapshot: wall clock (s), this process's and its reaped children's CPU (s)."""

    wall: float
    own_cpu: float
    children_cpu: float

    @staticmethod
    def now() -> Usage:
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return Usage(
            time.perf_counter(), own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime
        )


@dataclass
class WorkerUse:
    """One worker process of a city run: peak memory (MB) and CPU seconds before its
    first task, inside its tasks and up to the end of its last task."""

    pid: int
    streets: int = 0
    peak_mb: float = 0.0
    before_first: float = 0.0
    tasks: float = 0.0
    at_last_end: float = 0.0


@dataclass
class Run:
    """One timed run of one side: ``sequential`` or ``city-W`` (W worker processes)."""

    side: str
    round: int
    start: str
    load_before: str
    load_after: str = ""
    wall_s: float = 0.0
    own_cpu_s: float = 0.0
    children_cpu_s: float = 0.0
    each_s: dict[str, float] = field(default_factory=dict)
    each_cpu_s: dict[str, float] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    workers: list[WorkerUse] = field(default_factory=list)
    folders: dict[str, Path] = field(default_factory=dict)
    answers: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def cpu_s(self) -> float:
        return self.own_cpu_s + self.children_cpu_s


def timed(side: str, rnd: int, work: Callable[[Run], None]) -> Run:
    """Run ``work`` (which fills in the run's streets) and record its wall and CPU
    seconds, the load average before and after and the UTC start; then, outside the
    timed region, each street folder's answer (:func:`answers`)."""
    run = Run(side, rnd, _utc(), _load())
    u0 = Usage.now()
    work(run)
    u1 = Usage.now()
    run.wall_s = u1.wall - u0.wall
    run.own_cpu_s = u1.own_cpu - u0.own_cpu
    run.children_cpu_s = u1.children_cpu - u0.children_cpu
    run.load_after = _load()
    run.answers = {code: answers(folder) for code, folder in run.folders.items()}
    return run


def answers(folder: Path) -> dict[str, str]:
    """Every file of a street folder as a digest of its bytes (``summary.json`` without
    :data:`VOLATILE` keys and the circles' own work figures)."""
    out: dict[str, str] = {}
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        if path.name == "summary.json":
            summary = json.loads(data)
            for key in VOLATILE:
                summary.pop(key, None)
            (summary.get("coverage") or {}).pop("circle_work", None)
            data = json.dumps(summary, sort_keys=True).encode()
        out[path.name] = hashlib.sha256(data).hexdigest()[:16]
    return out


def sequential(city: CityInput, job: str, out: Path) -> Callable[[Run], None]:
    """The baseline: every street's share cut with its margin once (as the city run cuts
    them, with one spatial index), then each loaded as ``demo-city:N/K`` is and run
    through the pipeline, one after another in this process. A failing street is
    reported (``code: error``) and stops where the city task stops, so both sides do the
    same work."""

    def work(run: Run) -> None:
        parts, cut_failed = city_parts(city, Settings())
        run.failed += [f"{code}: {o.error}" for code, o in cut_failed.items()]
        for part in parts:
            code = part.code
            t1, c1 = time.perf_counter(), Usage.now().own_cpu
            try:
                settings = Settings()
                run_pipeline(
                    part.source,
                    out / code,
                    street=load_part(part, settings),
                    settings=settings,
                    new_sites=3 if job in ("run", "site") else 0,
                    coverage=job != "grids",
                    html=False,
                    images=False,
                    formats=FAST,
                )
                run.folders[code] = out / code
            except Exception as exc:  # reported like the city run reports a failed street
                run.failed.append(f"{code}: {type(exc).__name__}: {exc}")
            run.each_s[code] = time.perf_counter() - t1
            run.each_cpu_s[code] = Usage.now().own_cpu - c1

    return work


def on_dask(city: CityInput, workers: int, job: str, out: Path) -> Callable[[Run], None]:
    """The city run with ``workers`` local worker processes (cluster start and close,
    cut, hashes and scatter included), as ``python -m planner city`` runs it."""

    def work(run: Run) -> None:
        result = run_city(
            city,
            out,
            settings=Settings(),
            job=job,  # type: ignore[arg-type]
            workers=workers,
            html=False,
            formats=FAST,  # type: ignore[arg-type]
        )
        for code in sorted(result.outcomes):
            o = result.outcomes[code]
            run.each_s[code] = o.seconds
            run.each_cpu_s[code] = o.cpu_seconds
            if o.ok:
                run.folders[code] = out / "streets" / code
            else:
                run.failed.append(f"{code}: {o.error}")
        run.workers = worker_split(list(result.outcomes.values()))

    return work


def worker_split(outcomes: list[StreetOutcome]) -> list[WorkerUse]:
    """Each worker process's streets, peak memory and CPU split, from its outcomes
    (``process_cpu_s`` is the worker's CPU at the end of a task, ``cpu_seconds`` the
    task's own), largest peak first."""
    by_pid: dict[int, list[StreetOutcome]] = {}
    for o in outcomes:
        if o.pid:
            by_pid.setdefault(o.pid, []).append(o)
    uses = []
    for pid, done in by_pid.items():
        done.sort(key=lambda o: o.process_cpu_s)
        uses.append(
            WorkerUse(
                pid=pid,
                streets=len(done),
                peak_mb=max(o.peak_mb for o in done),
                before_first=done[0].process_cpu_s - done[0].cpu_seconds,
                tasks=sum(o.cpu_seconds for o in done),
                at_last_end=done[-1].process_cpu_s,
            )
        )
    return sorted(uses, key=lambda u: -u.peak_mb)


def describe(run: Run) -> str:
    """One run as the lines the bench prints."""
    head = (
        f"round {run.round}, {run.side}: {run.wall_s:.1f} s wall, {run.cpu_s:.1f} CPU s "
        f"(this process {run.own_cpu_s:.1f} + children {run.children_cpu_s:.1f}); "
        f"load {run.load_before} -> {run.load_after}; {run.start}"
    )
    lines = [
        head,
        f"  per street, wall: {_each(list(run.each_s.values()))}",
        f"  per street, CPU: {_each(list(run.each_cpu_s.values()))}",
    ]
    if run.workers:
        w = run.workers
        tasks = sum(u.tasks for u in w)
        first = sum(u.before_first for u in w)
        rest = run.children_cpu_s - tasks - first
        lines.append(
            f"  workers' CPU {run.children_cpu_s:.1f} s = before the first task "
            f"{first:.1f} + tasks {tasks:.1f} + between, after the last and closing {rest:.1f}; "
            f"this process {run.own_cpu_s:.1f} s (cut, hash, scatter, scheduler, nannies, client)"
        )
        lines.append(
            "  workers (pid: streets, peak MB, CPU before first task, in tasks): "
            + "; ".join(
                f"{u.pid}: {u.streets}, {u.peak_mb:.0f} MB, {u.before_first:.1f} s, {u.tasks:.1f} s"
                for u in w
            )
        )
    lines += [f"  failed: {line}" for line in run.failed]
    return "\n".join(lines)


def _each(seconds: list[float]) -> str:
    """Per-street seconds, their sum and their mean, on one line."""
    listed = " ".join(f"{s:.1f}" for s in seconds)
    return f"sum {sum(seconds):.1f} s, mean {sum(seconds) / max(1, len(seconds)):.1f} s [{listed}]"


def differences(runs: list[Run]) -> list[str]:
    """Streets whose answer differs from the first sequential run's (``side, round:
    street: files``); empty when every run gave the same answer."""
    ref = next((r for r in runs if r.side == SEQUENTIAL), runs[0])
    found = []
    for run in runs:
        for code in sorted(set(ref.answers) | set(run.answers)):
            a, b = ref.answers.get(code, {}), run.answers.get(code, {})
            files = sorted(f for f in set(a) | set(b) if a.get(f) != b.get(f))
            if files:
                found.append(f"{run.side}, round {run.round}: street {code}: {', '.join(files)}")
    return found


def summary(runs: list[Run]) -> list[str]:
    """Median wall and CPU seconds per side and each round's ratios to the sequential
    runs of the same round."""
    lines = []
    base = {r.round: r for r in runs if r.side == SEQUENTIAL}
    for side in dict.fromkeys(r.side for r in runs):
        mine = [r for r in runs if r.side == side]
        wall = statistics.median(r.wall_s for r in mine)
        cpu = statistics.median(r.cpu_s for r in mine)
        ratios = ", ".join(
            f"round {r.round}: {r.wall_s / base[r.round].wall_s:.2f}x wall, "
            f"{r.cpu_s / base[r.round].cpu_s:.2f}x CPU"
            for r in mine
            if r.round in base and side != SEQUENTIAL
        )
        lines.append(
            f"{side}: median {wall:.1f} s wall, {cpu:.1f} CPU s"
            + (f" ({ratios})" if ratios else "")
        )
    return lines


def bench(spec: CitySpec, workers: list[int], rounds: int, job: str, out: Path) -> list[Run]:
    """Every run of one city, interleaved (:func:`schedule`), each printed as it ends."""
    city = synthetic_city(spec)
    runs: list[Run] = []
    for rnd, sides in enumerate(schedule(rounds, workers), start=1):
        for side in sides:
            where = out / f"r{rnd}-{side}"
            if side == SEQUENTIAL:
                work = sequential(city, job, where)
            else:
                work = on_dask(city, int(side.split("-")[1]), job, where)
            runs.append(timed(side, rnd, work))
            print(describe(runs[-1]), flush=True)
    return runs


def main(argv: list[str] | None = None) -> list[Run]:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--streets", type=int, nargs="+", default=[4, 16])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rounds", type=int, default=2, help="rounds of every side, interleaved")
    ap.add_argument("--job", default="coverage", choices=["grids", "coverage", "site", "run"])
    ap.add_argument("--cols-per-street", type=int, default=1, help="superblocks east-west a street")
    ap.add_argument("--rows", type=int, default=2, help="superblocks north-south")
    ap.add_argument("--density", type=float, default=1.0, help="buildings per compound x")
    ap.add_argument("--communities", type=int, default=2, help="communities a street")
    ap.add_argument("--json", type=Path, help="write every run's figures to this file")
    ap.add_argument(
        "--keep",
        type=Path,
        help="write the runs' street folders under this folder and keep them (default: a "
        "temporary folder, removed), e.g. to compare a street whose answers differ",
    )
    args = ap.parse_args(argv)
    import distributed  # noqa: F401  (its import sets its logger's level: set ours after)

    logging.getLogger("distributed").setLevel(logging.ERROR)
    print(f"# {_utc()}, {_cpu()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"job {args.job}, rounds {args.rounds}, load {_load()}")  # fmt: skip
    every: list[Run] = []
    for n in args.streets:
        spec = CitySpec(n_streets=n, cols_per_street=args.cols_per_street, rows=args.rows,
                        density=args.density, communities_per_street=args.communities)  # fmt: skip
        b = make_city(spec).layers["buildings"]
        print(f"\n## {spec}: {len(b):,} buildings, {int(b['households'].sum()):,} households")
        if args.keep:
            runs = bench(spec, args.workers, args.rounds, args.job, args.keep / f"city-{n}")
        else:
            with tempfile.TemporaryDirectory() as tmp:
                runs = bench(spec, args.workers, args.rounds, args.job, Path(tmp))
        print("\n".join(summary(runs)))
        diff = differences(runs)
        print("same answer on every side: " + ("yes" if not diff else "NO\n  " + "\n  ".join(diff)))
        every += runs
    print(f"# end {_utc()}, load {_load()}")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in every], indent=1, default=str) + "\n")
    return every


if __name__ == "__main__":
    main()
