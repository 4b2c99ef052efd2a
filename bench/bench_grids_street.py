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
import hashlib
import os
import time

from planner.city.run import city_parts
from planner.city.task import load_part
from planner.grids.division import divide
from planner.settings import Settings
from planner.synthetic.city import CitySpec

try:  # run as a script from the repository root
    from bench_city import synthetic_city  # type: ignore[import-not-found]
    from bench_grids_clock import COLUMNS, _fast  # type: ignore[import-not-found]
except ImportError:  # imported as bench.bench_grids_street
    from bench.bench_city import synthetic_city
    from bench.bench_grids_clock import COLUMNS, _fast


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--factor", type=float, default=5.0)
    args = ap.parse_args()
    city = synthetic_city(CitySpec(2, 5, 11, 12))
    code = str(city.streets["street_code"].iloc[0])
    parts, _ = city_parts(city, Settings(), codes={code})
    street = load_part(parts[0], Settings())
    real = time.perf_counter
    digests = []
    for label, factor in (("real clock", 1.0), (f"clock {args.factor:g}x fast", args.factor)):
        c0, t0 = time.process_time(), real()
        if factor != 1.0:
            time.perf_counter = _fast(factor)
        try:
            res = divide(street, settings=Settings())
        finally:
            time.perf_counter = real
        cpu, wall = time.process_time() - c0, real() - t0
        codes = res.atoms["code"].astype(str).str.cat(sep=",")
        digests.append(hashlib.sha256(codes.encode()).hexdigest()[:16])
        stamp = time.strftime("%H:%M:%S", time.gmtime())
        print(
            f"{label} ({stamp} UTC, load {os.getloadavg()[0]:.1f}): {len(res.grids)} grids, "
            f"rules hold {res.report.ok}, digest {digests[-1]}, {cpu:.1f} CPU s, "
            f"{wall:.1f} s wall",
            flush=True,
        )
        print(res.exact[[c for c in COLUMNS if c in res.exact]].to_string(), flush=True)
    print("same grids and codes:", digests[0] == digests[1])


if __name__ == "__main__":
    main()
