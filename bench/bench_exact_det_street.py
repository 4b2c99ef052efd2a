"""Benchmark (det14): the street of the defect divided twice in one process.

    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_exact_det_street.py [label]

Street 001 of :class:`planner.synthetic.city.CitySpec` ``(2, 5, 11, 12)`` with its
margin (8,236 buildings), cut and assembled as the city task does
(:func:`planner.city.run.city_parts`, :func:`planner.city.task.load_part`), then
:func:`planner.grids.division.divide` with the default settings twice: the grids, wall
and CPU seconds, and the exact results of each. Under load the two must agree.
"""

from __future__ import annotations

import os
import sys
import time

from planner.city.run import city_parts
from planner.city.task import load_part
from planner.grids.division import divide
from planner.settings import Settings
from planner.synthetic.city import CitySpec

try:  # run as a script from the repository root
    from bench_city import synthetic_city  # type: ignore[import-not-found]
except ImportError:  # imported as bench.bench_exact_det_street
    from bench.bench_city import synthetic_city

COLUMNS = ("community_id", "units", "status", "excess", "clock", "nodes", "time_s")


def main(label: str) -> None:
    """Cut the street and divide it twice, printing the figures above."""
    city = synthetic_city(CitySpec(2, 5, 11, 12))
    code = str(city.streets["street_code"].iloc[0])
    parts, _ = city_parts(city, Settings(), codes={code})
    street = load_part(parts[0], Settings())
    for i in range(2):
        t, c = time.perf_counter(), time.process_time()
        res = divide(street, settings=Settings())
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        stamp = time.strftime("%H:%M:%S", time.gmtime())
        print(
            f"{label} {i} {stamp} UTC load {os.getloadavg()[0]:.1f}: grids {len(res.grids)}, "
            f"wall {wall:.1f} s, cpu {cpu:.1f} s",
            flush=True,
        )
        print(res.exact[[c for c in COLUMNS if c in res.exact]].to_string(), flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "this checkout")
