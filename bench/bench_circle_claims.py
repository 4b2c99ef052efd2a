"""Measure how much ground the circles claim across gaps in the network.

Run from the repository root::

    /work/main/.venv/bin/python bench/bench_circle_claims.py            # everything
    /work/main/.venv/bin/python bench/bench_circle_claims.py --repeat 5  # more timing runs

On the real Beijing extract (``tests/data/beijing-haidian-xueyuanlu``, clipped to the
coverage tests' box, stations part-way along every 40th public link), samples 1,000
points uniformly inside each union circle (5/10/15 minutes) and prints the share whose
nearest walkable link is reached later than the threshold plus the corridor's walking
time (``circle_buffer_m / speed``), or never (issue 13 item 5; target at most 1 %), with
the seconds the coverage and the circles took.

Then the stations' own circles (``station_circles``, the ``view=station`` layer), on the
Beijing box and the demo street: 1,000 points sampled inside each station's circle, the
share nearest to a link *that station* reaches too late, over all circles of a threshold
and in the worst circle, with the best wall and CPU seconds of ``--repeat`` runs (each
from a fresh builder: the network's field built inside the timing, the walks searched
inside it too). Last, the 100 stations x 3 thresholds circles of ``bench_coverage.py``
(5,037-node lattice, 10,000 buildings, reach searched beforehand). The circles are drawn
from the network's field (``planner.coverage._field``), which never covers ground nearer
to a link reached later than the threshold; the GEOS corridors and cut drawn before are
measured against it by ``bench_circles.py --before DIR``. The checks themselves are
``tests/circle_claims.py`` (also run by ``tests/test_circle_claims.py``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planner._threads import workers  # noqa: E402
from planner.coverage.circles import CircleBuilder  # noqa: E402
from planner.coverage.figures import Coverage, compute_coverage  # noqa: E402
from planner.street import Street  # noqa: E402
from tests.circle_claims import (  # noqa: E402
    Claims,
    beijing_street,
    circle_claims,
    station_claims,
)


def timed(runs: dict[str, Callable[[], Any]], repeat: int) -> dict[str, tuple[float, float, Any]]:
    """Best wall and CPU seconds of each run and its last result, ``repeat`` runs each,
    taken in turn."""
    best: dict[str, tuple[float, float, Any]] = {}
    for _ in range(repeat):
        for name, fn in runs.items():
            w0, c0 = time.perf_counter(), time.process_time()
            out = fn()
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            old = best.get(name)
            best[name] = (
                min(wall, old[0]) if old else wall,
                min(cpu, old[1]) if old else cpu,
                out,
            )
    return best


def print_claims(label: str, claims: Claims) -> None:
    """One line per threshold: samples, share beyond threshold + corridor, worst circle."""
    for m in sorted(claims.samples):
        worst = claims.worst_circle_share.get(m)
        tail = "" if worst is None else f"  worst circle {100 * worst:5.1f} %"
        print(
            f"  {label:<7} {m:5g} min  {claims.samples[m]:7d} samples"
            f"  {100 * claims.bleed_share[m]:5.2f} % beyond threshold + corridor{tail}"
        )


def union_case(street: Street) -> None:
    """The union circles' claims on ``street`` (the cut has been in since 15:06)."""
    t0 = time.perf_counter()
    cov = compute_coverage(street)
    t1 = time.perf_counter()
    union = cov.circle_builder().union_circles(cov.times, list(cov.thresholds))
    t2 = time.perf_counter()
    claims = circle_claims(cov, union)
    print(f"stations: {len(cov.stations)}, links: {cov.net.n_edges}")
    print(f"coverage {t1 - t0:.2f} s, union circles {t2 - t1:.2f} s")
    print("minutes  samples  beyond threshold + corridor  worst excess (min)")
    for m in sorted(claims.samples):
        print(
            f"{m:7g}  {claims.samples[m]:7d}  {100 * claims.bleed_share[m]:26.1f} %"
            f"  {claims.worst_excess_min[m]:18.2f}"
        )


def own_case(name: str, street: Street, repeat: int) -> None:
    """The stations' own circles on ``street``: claims and timings."""
    cov: Coverage = compute_coverage(street)
    ids = cov.stations["station_id"].astype(str).tolist()
    thresholds = list(cov.thresholds)
    centroids = cov.buildings.geometry.centroid.to_numpy()

    def draw() -> Any:
        cb = CircleBuilder(
            cov.rg,
            buffer_m=cov.settings.circle_buffer_m,
            cell_m=cov.settings.circle_cell_m,
            points=cov.building_snap,
            point_geoms=centroids,
            compounds=cov.compounds,
        )
        return cb.station_circles(None, thresholds, station_ids=ids)

    wall, cpu, own = timed({"circles": draw}, repeat)["circles"]
    n = int(own["station"].nunique())
    print(f"\n{name}: {n} stations x {len(thresholds)} thresholds, {cov.net.n_edges:,} links")
    print(f"  {wall:6.2f} s wall  {cpu:6.2f} s CPU  area {own.area.sum():,.0f} m2")
    print_claims("own", station_claims(cov, own))


def lattice_case(repeat: int) -> None:
    """``bench_coverage.py``'s 100 stations x 3 thresholds on the 5,037-node lattice with
    10,000 building connectors, the field built inside the timing."""
    import shapely

    from bench.bench_coverage import BUF, THRESHOLDS, lattice, random_points
    from planner.network.routing import station_reach, with_stations
    from planner.network.walk import from_layers, snap_points

    nodes, edges = lattice(71)
    net = from_layers(nodes, edges)
    rng = np.random.default_rng(5)
    lo, hi = net.node_xy.min(0), net.node_xy.max(0)
    buildings = shapely.points(rng.uniform(lo, hi, (10_000, 2)))
    rg = with_stations(net, snap_points(net, random_points(net, 100, seed=99), max_m=1e9))
    bsnap = snap_points(net, buildings, max_m=1e9)
    ids = [f"s{i}" for i in range(100)]
    reach = station_reach(rg, limit_min=CircleBuilder(rg, buffer_m=BUF).reach_limit(THRESHOLDS))

    def draw() -> Any:
        cb = CircleBuilder(rg, buffer_m=BUF, points=bsnap, point_geoms=buildings)
        return cb.station_circles(reach, THRESHOLDS, station_ids=ids)

    wall, cpu, own = timed({"circles": draw}, repeat)["circles"]
    print(f"\nlattice {len(nodes):,} nodes: 100 stations x 3 thresholds, 10,000 buildings")
    print(f"  {wall:6.2f} s wall  {cpu:6.2f} s CPU  area {own.area.sum():,.0f} m2")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="timing runs of each variant")
    args = ap.parse_args()
    from planner.load.sources import load_street

    print(f"threads: {workers()} (both variants, one process)")
    with tempfile.TemporaryDirectory() as tmp:
        beijing = beijing_street(Path(tmp))
    print("## union circles, Beijing box")
    union_case(beijing)
    print("\n## stations' own circles")
    own_case("Beijing box", beijing, args.repeat)
    own_case("demo street", load_street("demo"), args.repeat)
    lattice_case(args.repeat)


if __name__ == "__main__":
    main()
