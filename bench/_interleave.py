"""Interleaved timing for the benchmark scripts: ours and a baseline run by run.

Imported by scripts in ``bench/`` as ``from _interleave import interleave`` (a script's
own folder is first on ``sys.path`` when it is run as ``python bench/<script>.py``).

Each round runs every side once; the order alternates (forward in odd rounds, reversed
in even ones), so a change of load on the shared machine hits every side alike and no
side always runs first (after an idle gap) or last. Wall seconds come from
``time.perf_counter``, CPU seconds from ``time.process_time`` (this process, all its
threads; no child processes are started by the timed functions here).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


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
    CPU seconds per run and its last result."""

    label: str
    fn: Callable[[], object]
    clock: Callable[[], float] = time.process_time
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    result: object = None

    def run(self) -> None:
        c0, t0 = self.clock(), time.perf_counter()
        self.result = self.fn()
        self.wall.append(time.perf_counter() - t0)
        self.cpu.append(self.clock() - c0)

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
