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

The estimate is a planning figure, not a promise: fitted on the demo street with 200
and 2,000 stations for the circles drawn from the raster field (2026-12-03,
``docs/benchmarks/coverage.md``), it is within 7 % of the circle step's measured CPU
time and 1 % of the memory (peak above the process when the circles start) there; a
street without walled compounds draws faster and lighter than estimated, and the wall
time lies between the CPU time spread over the cores
(idle machine) and the CPU time itself (cores taken by other jobs). Times are
seconds, memory MB (2**20 bytes).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np

from planner._threads import workers
from planner.coverage._reached import network_incidence, station_end_times
from planner.coverage.circles import CIRCLE_BATCH_ROWS
from planner.coverage.figures import Coverage
from planner.errors import InputError, Problem
from planner.i18n import Message, msg
from planner.network.routing import network_reach

log = logging.getLogger(__name__)

#: Stations walked to estimate the pieces a circle is drawn from (spread evenly
#: over the station list).
SAMPLE_STATIONS = 64

#: CPU seconds per network piece a station's circles are drawn from (team machine,
#: demo street with its 67 walled compounds). Refitted for the raster field's drawing
#: (branch circ13r) on 2026-12-03 20:30 UTC, idle (`bench/bench_bounds.py --stations
#: 200,2000`, load 1.3): the circle step took 3.84 and 29.13 CPU s for about 69,000 and
#: 633,000 pieces; this fit says 3.6 and 28.5 (the GEOS drawing's 2.0e-4 said 15 and 129).
CPU_S_PER_PIECE = 4.2e-5

#: CPU seconds per station for the nearest-station split (its territory, clipped to
#: each threshold's union).
CPU_S_PER_STATION = 7e-4

#: CPU seconds per network edge for what is done once per street: the circle field's
#: build and the union circles.
CPU_S_PER_EDGE = 5e-4

#: Memory of a coverage run above the process when the circles start, MB: per
#: network piece of the finished circles (kept from batch to batch as WKB,
#: :mod:`planner.coverage._kept`, then held as polygons by the union, the nearest
#: split and the capacity step that follow: 2.07e-4 MB a piece as polygons, about 7
#: vertices a piece on the demo street); per network piece of the one batch of
#: stations drawn at a time (its tables, drawings and cuts; a batch holds
#: ``CIRCLE_BATCH_ROWS // (edges + 1)`` stations); and per network edge (faces,
#: corridors, link cells, prepared once per street). Fitted on the demo street
#: (``docs/benchmarks/coverage.md``, 2026-12-03): the edge term from 20 stations
#: (+31 MB), the batch term from single batches of 200 and 500 stations (+281 MB and
#: +306 MB: the estimate says 264 and 349), the piece term from 2,000 stations (+324 MB,
#: the whole run's peak, reached after the circles while they live).
MB_PER_PIECE = 3.2e-4
MB_PER_BATCH_PIECE = 3.0e-3
MB_PER_EDGE = 0.03

#: Since the circles are drawn from a raster field (branch circ13r, 2026-12-03) their
#: contours hold about twice the vertices of the GEOS corridors they replaced (1.46 M
#: against 0.69 M for Helsinki's 100 x 3), and the kept circles cost more than that: on
#: the demo street the run's peak above the start of the circles was +418 MB at 200
#: stations and +1,159 MB at 2,000 (`bench/bench_bounds.py --stations 200,2000`,
#: 2026-12-03 20:30 UTC, idle; the GEOS drawing's peak at 2,000 was +324 MB), so the
#: kept circles' term is taken :data:`FIELD_PIECE_FACTOR` times (fitted to those two
#: runs with :data:`MB_KERNELS`; the estimate says +417 and +1,165 MB). The field adds
#: about :data:`FIELD_BYTES_PER_CELL` a grid cell of the street's extent (its border
#: flags and limits) plus :data:`FIELD_BYTES_PER_LINK_CELL` a cell near a link;
#: :data:`MB_KERNELS` is what a field run adds to a process whatever its size (numba's
#: compiled kernels through llvmlite, about 45 MB on the 40-station lattice of
#: ``tests/test_budget.py``, and the contour tracer's buffers; in a fresh checkout numba
#: compiles the kernels on first use instead of loading them: +154 MB measured there
#: against +128 estimated with 105 MB, so 150 covers both; the demo street's 200 / 2,000
#: stations are then estimated +462 / +1,212 MB, 11 % / 4 % over).
FIELD_PIECE_FACTOR = 4.2
FIELD_BYTES_PER_CELL = 21
FIELD_BYTES_PER_LINK_CELL = 64
MB_KERNELS = 150.0

#: A run expected to take more CPU time than this is announced as a warning (the
#: estimate is always logged at INFO), seconds.
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
    cpu_seconds
        Expected CPU time of the circle step, seconds.
    cores
        Cores the circles are drawn on: the step takes about ``cpu_seconds / cores``
        on an idle machine, up to ``cpu_seconds`` while other jobs hold the cores.
    memory_mb
        Expected extra memory of the circle step: the peak resident memory above the
        process's own when the circles start, MB.
    """

    stations: int
    network_edges: int
    thresholds: int
    pieces_per_station: float
    cpu_seconds: float
    cores: int
    memory_mb: float

    @property
    def seconds(self) -> float:
        """Expected wall time on idle cores, seconds."""
        return self.cpu_seconds / max(self.cores, 1)

    @property
    def circles(self) -> int:
        return self.stations * self.thresholds

    def describe(self) -> str:
        """One line for logs and messages."""
        return str(self.message())

    def message(self) -> Message:
        """:meth:`describe` as a catalogue message (in the reader's language)."""
        fast, slow = _duration(self.seconds), _duration(self.cpu_seconds)
        return msg(
            "cov_work",
            stations=self.stations,
            thresholds=self.thresholds,
            circles=self.circles,
            edges=self.network_edges,
            time=fast if fast == slow else msg("cov_work_time_range", fast=fast, slow=slow),
            memory=_memory(self.memory_mb),
        )

    def to_dict(self) -> dict[str, float | int]:
        """The figures as ``summary.json`` holds them (seconds and MB rounded)."""
        out: dict[str, float | int] = asdict(self)
        out["pieces_per_station"] = round(self.pieces_per_station, 1)
        out["cpu_seconds"] = round(self.cpu_seconds, 1)
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
    per_station = sample_pieces(cov)
    pieces = stations * per_station
    batch_stations = min(stations, max(1, CIRCLE_BATCH_ROWS // (edges + 1)))
    batch = batch_stations * per_station * MB_PER_BATCH_PIECE
    return CircleWork(
        stations=stations,
        network_edges=edges,
        thresholds=len(cov.thresholds),
        pieces_per_station=per_station,
        cpu_seconds=pieces * CPU_S_PER_PIECE
        + stations * CPU_S_PER_STATION
        + edges * CPU_S_PER_EDGE,
        cores=workers(),
        memory_mb=pieces * MB_PER_PIECE * FIELD_PIECE_FACTOR
        + batch
        + edges * MB_PER_EDGE
        + _field_mb(cov),
    )


def _field_mb(cov: Coverage) -> float:
    """The circle field's expected memory, MB: its grid over the network's extent
    grown by the corridor, and the cells within the corridor of a link (at most the
    links' length times the corridor's width), plus the compiled kernels."""
    s = cov.settings
    cell, pad = s.circle_cell_m, s.circle_buffer_m + 3 * s.circle_cell_m
    lo = cov.net.node_xy.min(axis=0)
    hi = cov.net.node_xy.max(axis=0)
    w, h = (float(v) + 2 * pad for v in hi - lo)
    grid = (w / cell + 1) * (h / cell + 1)
    near = min(grid, float(cov.net.length_m.sum()) * 2 * (s.circle_buffer_m + cell) / cell**2)
    return float(
        (grid * FIELD_BYTES_PER_CELL + near * FIELD_BYTES_PER_LINK_CELL) / 2**20 + MB_KERNELS
    )


def _limit_problem(
    key: str, n: int, limit: int, work: CircleWork, *, file: str, field: str
) -> Problem:
    """The refusal of ``n`` stations or network edges above ``limit``: catalogue
    messages ``key`` and ``"cov_fix_" + key[4:]``, naming the setting ``field``."""
    return Problem.of(
        msg(key, n=n, limit=limit, work=work.message()),
        fix=msg("cov_fix_" + key[4:], n=n),
        file=file,
        field=field,
    )


def check_circle_work(work: CircleWork, cov: Coverage) -> None:
    """Log the estimate; refuse (:class:`~planner.errors.InputError`) a job above
    ``max_stations`` or ``max_network_edges``, naming the setting to raise."""
    s = cov.settings
    problems = [
        _limit_problem(key, n, limit, work, file=file, field=field)
        for key, n, limit, file, field in (
            ("cov_too_many_stations", work.stations, s.max_stations, "stations", "max_stations"),
            (
                "cov_too_many_edges",
                work.network_edges,
                s.max_network_edges,
                "roads",
                "max_network_edges",
            ),
        )
        if n > limit
    ]
    if problems:
        raise InputError(problems)
    level = logging.WARNING if work.cpu_seconds > ANNOUNCE_S else logging.INFO
    log.log(level, "service circles: %s", work.describe())
