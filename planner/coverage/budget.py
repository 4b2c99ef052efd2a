"""The work a coverage run asks for: estimated before the circles, refused above the limits.

Drawing the service circles is the heavy step of coverage: one polygon per station
and threshold, each costing in proportion to the network its walk reaches. Before
any circle is drawn, :func:`estimate_circle_work` walks a sample of the stations (the
search the circles use) to count the network pieces one circle is drawn from, and
turns the counts into an expected time and extra memory with per-piece costs
measured on the team's 2-core machine (``bench/bench_bounds.py``, recorded in
``docs/benchmarks/coverage.md``). :func:`check_circle_work` refuses a job above
``Settings.max_stations`` or ``Settings.max_network_edges`` before doing any of it,
saying what it would cost and which setting to raise.

The estimate is a planning figure, not a promise: it was within a factor of two of
the measured time and peak memory on the benchmark streets (demo street with 9 to
20,000 stations, lattices of 5,000 and 100,000 nodes); a machine with more cores
draws faster. Times are seconds, memory MB (2**20 bytes).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np

from planner._threads import workers
from planner.coverage._reached import network_incidence, station_end_times
from planner.coverage.figures import Coverage
from planner.errors import InputError, Problem
from planner.network.routing import network_reach

log = logging.getLogger(__name__)

#: Stations walked to estimate the pieces a circle is drawn from (spread evenly
#: over the station list).
SAMPLE_STATIONS = 64

#: CPU seconds to draw one circle, per network piece it is drawn from and fixed
#: (team machine, demo street with its 67 walled compounds; a street without
#: walls draws about 1.6 times faster).
CPU_S_PER_PIECE = 2.4e-5
CPU_S_PER_CIRCLE = 2.0e-3

#: CPU seconds per network edge for what is done once per street: the network's
#: faces, the union circles and the nearest-station split.
CPU_S_PER_EDGE = 1.5e-3

#: Memory held per network piece of each drawn circle (its polygon), MB, and per
#: network edge (faces, corridors and the batch tables), MB.
MB_PER_PIECE = 2.2e-4
MB_PER_EDGE = 0.02

#: A run expected to take longer than this is announced as a warning (the estimate is
#: always logged at INFO), seconds.
ANNOUNCE_S = 60.0


@dataclass(frozen=True)
class CircleWork:
    """What drawing a street's circles asks for, and what it should cost.

    Attributes
    ----------
    stations
        Service stations on the walking network (each gets its own circles).
    network_edges
        Edges of the walking network (margin included).
    thresholds
        Circles per station (one per threshold).
    pieces_per_station
        Network pieces one station's circles are drawn from, summed over the
        thresholds (mean of the sample).
    seconds
        Expected wall time of the circle step on this machine's cores, seconds.
    memory_mb
        Expected extra memory of the circle step, MB.
    """

    stations: int
    network_edges: int
    thresholds: int
    pieces_per_station: float
    seconds: float
    memory_mb: float

    @property
    def circles(self) -> int:
        return self.stations * self.thresholds

    def describe(self) -> str:
        """One line for logs and messages."""
        return (
            f"{self.stations:,} stations x {self.thresholds} thresholds = {self.circles:,} "
            f"circles on {self.network_edges:,} network edges: expected about "
            f"{_duration(self.seconds)} and {_memory(self.memory_mb)}"
        )

    def to_dict(self) -> dict[str, float | int]:
        """The figures as ``summary.json`` holds them (seconds and MB rounded)."""
        out: dict[str, float | int] = asdict(self)
        out["pieces_per_station"] = round(self.pieces_per_station, 1)
        out["seconds"] = round(self.seconds, 1)
        out["memory_mb"] = round(self.memory_mb)
        return out


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(seconds, 1.0):.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _memory(mb: float) -> str:
    return f"{mb:,.0f} MB" if mb < 1024 else f"{mb / 1024:.1f} GB"


def sample_pieces(cov: Coverage, *, sample: int = SAMPLE_STATIONS) -> float:
    """Mean network pieces one station's circles are drawn from, summed over the
    thresholds, from a sample of stations spread evenly over the list (0 with no
    station on the network)."""
    rg = cov.rg
    on = np.flatnonzero(rg.station_node >= 0)
    if len(on) == 0:
        return 0.0
    pick = on[np.unique(np.linspace(0, len(on) - 1, min(sample, len(on))).astype("int64"))]
    limit = max(cov.thresholds)
    reach = network_reach(rg, limit_min=limit, stations=pick)
    ends = station_end_times(
        rg,
        network_incidence(rg),
        pick,
        np.searchsorted(pick, reach.station),
        reach.node,
        reach.time_min,
    )
    first = np.minimum(ends.ta, ends.tb)
    rows = sum(int((first <= t).sum()) for t in cov.thresholds)
    return rows / len(pick)


def estimate_circle_work(cov: Coverage) -> CircleWork:
    """The expected time and memory of drawing ``cov``'s circles (see the module)."""
    stations = int((cov.rg.station_node >= 0).sum())
    edges = cov.net.n_edges
    n_t = len(cov.thresholds)
    per_station = sample_pieces(cov)
    pieces = stations * per_station
    cpu = pieces * CPU_S_PER_PIECE + stations * n_t * CPU_S_PER_CIRCLE + edges * CPU_S_PER_EDGE
    return CircleWork(
        stations=stations,
        network_edges=edges,
        thresholds=n_t,
        pieces_per_station=per_station,
        seconds=cpu / max(workers(), 1),
        memory_mb=pieces * MB_PER_PIECE + edges * MB_PER_EDGE,
    )


def check_circle_work(work: CircleWork, cov: Coverage) -> None:
    """Log the estimate; refuse (:class:`~planner.errors.InputError`) a job above
    ``max_stations`` or ``max_network_edges``, naming the setting to raise."""
    s = cov.settings
    problems = []
    if work.stations > s.max_stations:
        problems.append(
            Problem(
                f"{work.stations:,} service stations are more than one coverage run draws "
                f"circles for (max_stations = {s.max_stations:,}): {work.describe()}",
                fix=f"raise the limit if this machine can take it (setting max_stations, "
                f"e.g. --max-stations {work.stations} on the command line), or give "
                "fewer stations (--stations FILE, --service-kinds)",
                file="stations",
                field="max_stations",
            )
        )
    if work.network_edges > s.max_network_edges:
        problems.append(
            Problem(
                f"the walking network has {work.network_edges:,} edges, more than one "
                f"coverage run works on (max_network_edges = {s.max_network_edges:,}): "
                f"{work.describe()}",
                fix=f"raise the limit if this machine can take it (setting "
                f"max_network_edges, e.g. --max-network-edges {work.network_edges} on "
                "the command line), or cover a smaller area (a smaller boundary or "
                "margin_m)",
                file="roads",
                field="max_network_edges",
            )
        )
    if problems:
        raise InputError(problems)
    level = logging.WARNING if work.seconds > ANNOUNCE_S else logging.INFO
    log.log(level, "service circles: %s", work.describe())
