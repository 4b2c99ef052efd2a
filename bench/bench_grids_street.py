"""Benchmark (dist14e): the city street where 365 and 366 grids were seen, divided twice.

    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_grids_street.py [--factor 5]

Street 001 of :class:`planner.synthetic.city.CitySpec` ``(2, 5, 11, 12)`` with its margin
(8,236 buildings), cut and assembled as the city task does
(:func:`planner.city.run.city_parts`, :func:`planner.city.task.load_part`), then
:func:`planner.grids.division.divide` with the default settings twice: with the real
clock, and with ``time.perf_counter`` running ``--factor`` times fast. Printed: grids,
a digest of every atom's grid code, CPU and wall seconds, and the exact table. Since
dist14e the two must agree (work limits decide the exact method) unless a row says
``clock``; the code before gave 365 and 366 grids on this street at load 7-8
(``docs/benchmarks/city.md``).
"""

from __future__ import annotations

import argparse

from planner.city.run import city_parts
from planner.city.task import load_part
from planner.settings import Settings
from planner.street import Street
from planner.synthetic.city import CitySpec

try:  # run as a script from the repository root
    from bench_city import synthetic_city  # type: ignore[import-not-found]
    from bench_grids_clock import compare_clocks  # type: ignore[import-not-found]
except ImportError:  # imported as bench.bench_grids_street
    from bench.bench_city import synthetic_city
    from bench.bench_grids_clock import compare_clocks


def city_street() -> Street:
    """Street 001 of ``CitySpec(2, 5, 11, 12)`` with its margin (8,236 buildings), cut and
    assembled as the city task does."""
    city = synthetic_city(CitySpec(2, 5, 11, 12))
    code = str(city.streets["street_code"].iloc[0])
    parts, _ = city_parts(city, Settings(), codes={code})
    return load_part(parts[0], Settings())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--factor", type=float, default=5.0)
    args = ap.parse_args()
    compare_clocks(city_street(), args.factor)


if __name__ == "__main__":
    main()
