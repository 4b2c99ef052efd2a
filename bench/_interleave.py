"""Interleaved timing for the benchmark scripts: ours and a baseline run by run.

Imported by scripts in ``bench/`` as ``from _interleave import interleave`` (a script's
own folder is first on ``sys.path`` when it is run as ``python bench/<script>.py``).

Each round runs every side once; the order alternates (forward in odd rounds, reversed
in even ones), so a change of load on the shared machine hits every side alike and no
side always runs first (after an idle gap) or last. Wall seconds come from
``time.perf_counter``, CPU seconds from ``time.process_time`` (this process, all its
threads). Fresh-process ("cold") figures run a command per run (:func:`fresh`): wall
seconds of the whole child (interpreter start, imports, JIT and the work), CPU seconds
from ``getrusage(RUSAGE_CHILDREN)`` deltas (:func:`children_cpu`); a timed function that
starts a solver binary reads :func:`cpu_with_children`, so the child's CPU counts too.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Timing:
    """One run of one side: wall and CPU seconds, and its result."""

    wall: float
    cpu: float
    result: object


def order(sides: list[str], round_no: int) -> list[str]:
    """The sides of round ``round_no`` (0-based) in the order they run."""
    return list(sides) if round_no % 2 == 0 else list(reversed(sides))


def interleave(
    sides: dict[str, Callable[[], object]],
    runs: int,
    *,
    before: Callable[[], None] | None = None,
) -> dict[str, list[Timing]]:
    """Run every side ``runs`` times, round by round (:func:`order`).

    ``before`` (untimed) runs before each timed call, e.g. to empty a cache. Returns each
    side's runs in the order taken.
    """
    names = list(sides)
    out: dict[str, list[Timing]] = {n: [] for n in names}
    for r in range(runs):
        for name in order(names, r):
            if before is not None:
                before()
            c0, t0 = time.process_time(), time.perf_counter()
            result = sides[name]()
            out[name].append(Timing(time.perf_counter() - t0, time.process_time() - c0, result))
    return out


def medians(timings: list[Timing]) -> tuple[float, float]:
    """Median wall and CPU seconds of ``timings``."""
    return (
        statistics.median(t.wall for t in timings),
        statistics.median(t.cpu for t in timings),
    )


def ratios(ours: list[Timing], base: list[Timing]) -> str:
    """Each round's ours / baseline ratio, wall and CPU, e.g. ``1.21/1.30x, 0.98/1.02x``."""
    return ", ".join(
        f"{o.wall / max(b.wall, 1e-9):.2f}/{o.cpu / max(b.cpu, 1e-9):.2f}x"
        for o, b in zip(ours, base, strict=True)
    )


def load() -> str:
    """The 1, 5 and 15 minute load averages, ``1.0/1.2/1.3``."""
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def utc() -> str:
    """Now, ``2026-12-03 15:01:02 UTC``."""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())


@dataclass
class Job:
    """One timed figure for :func:`rotate`: what to call, which CPU clock to read
    (``time.process_time`` by default; a child-process clock for commands), its wall and
    CPU seconds per run and its last result (every run's in ``results`` when ``keep``,
    to check each run's answer outside the timed call)."""

    label: str
    fn: Callable[[], object]
    clock: Callable[[], float] = time.process_time
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    result: object = None
    keep: bool = False
    results: list[object] = field(default_factory=list)

    def run(self) -> None:
        c0, t0 = self.clock(), time.perf_counter()
        self.result = self.fn()
        self.wall.append(time.perf_counter() - t0)
        self.cpu.append(self.clock() - c0)
        if self.keep:
            self.results.append(self.result)

    @property
    def med(self) -> tuple[float, float]:
        """Median wall and CPU seconds."""
        return statistics.median(self.wall), statistics.median(self.cpu)


def rotate(jobs: list[Job], runs: int) -> None:
    """Run every job once per round for ``runs`` rounds, the order rotating each round.

    With two jobs the order alternates; with more, each job takes every position in
    turn, so none always runs after an idle gap or first after another's warm-up.
    """
    for r in range(runs):
        k = r % len(jobs)
        for job in jobs[k:] + jobs[:k]:
            job.run()


def children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def cpu_with_children() -> float:
    """CPU seconds of this process (all threads) plus its finished children: the clock
    of a timed call that starts a program (e.g. PuLP running the CBC binary)."""
    return time.process_time() + children_cpu()


def fresh(
    args: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> Callable[[], str]:
    """A call running ``args`` as a fresh process, returning its stdout; a non-zero exit
    stops the bench with the command and its stderr (never a silent figure)."""

    def go() -> str:
        proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed (exit {proc.returncode}):\n{proc.stderr}")
        return proc.stdout

    return go


def last_json(stdout: object) -> dict[str, object]:
    """The JSON object a child printed on its last line of output."""
    lines = str(stdout).strip().splitlines()
    if not lines:
        raise SystemExit("the child printed nothing")
    out = json.loads(lines[-1])
    if not isinstance(out, dict):
        raise SystemExit(f"the child's last line is not a JSON object: {lines[-1]!r}")
    return out


def cold_job(
    label: str,
    args: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    keep: bool = False,
) -> Job:
    """A :class:`Job` running ``args`` as a fresh process each run (:func:`fresh`), its
    CPU read from :func:`children_cpu`; ``keep``: every run's stdout in ``results``."""
    return Job(label, fresh(args, cwd=cwd, env=env), clock=children_cpu, keep=keep)


def job_line(job: Job) -> str:
    """``label: median W s wall, C s CPU; per run wall/CPU s w/c, ...``."""
    wall, cpu = job.med
    runs = ", ".join(f"{w:.2f}/{c:.2f}" for w, c in zip(job.wall, job.cpu, strict=True))
    return f"{job.label}: median {wall:.2f} s wall, {cpu:.2f} s CPU; per run wall/CPU s {runs}"


def job_ratios(ours: Job, base: Job) -> str:
    """Each round's ours / baseline, wall/CPU, and the medians: ``median 0.52/0.55x
    (0.50/0.51x, 0.54/0.60x)``."""
    wall = [a / max(b, 1e-9) for a, b in zip(ours.wall, base.wall, strict=True)]
    cpu = [a / max(b, 1e-9) for a, b in zip(ours.cpu, base.cpu, strict=True)]
    each = ", ".join(f"{w:.2f}/{c:.2f}x" for w, c in zip(wall, cpu, strict=True))
    return f"median {statistics.median(wall):.2f}/{statistics.median(cpu):.2f}x ({each})"
