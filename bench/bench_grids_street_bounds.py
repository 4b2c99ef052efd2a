"""Benchmark (dist14f, dist14g): the households bounds on the city street, grid by grid.

    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_grids_street_bounds.py

The street of ``bench/bench_grids_street.py`` (street 001 of ``CitySpec(2, 5, 11, 12)``
with its margin, 8,236 buildings, cut as the city task does), divided once with the
default settings. Printed: grids, whether the rules hold, CPU and wall seconds of the
division, a digest of every atom's grid code, each residential grid out of
``[grid_min_households, grid_max_households]`` (code, community, households, atoms,
whether the proof explains it, its reason) and the exact table's rows of those grids'
communities (``local_units``: the units of the region of single atoms a proof over
fixed groups was made again over, since dist14g). Run it with another version's
``planner`` first on ``PYTHONPATH`` to see that version (columns it lacks are left out).
"""

from __future__ import annotations

import hashlib
import os
import time

import pandas as pd

from planner.grids.division import divide
from planner.settings import Settings

try:  # run as a script from the repository root
    from bench_grids_street import city_street  # type: ignore[import-not-found]
except ImportError:  # imported as bench.bench_grids_street_bounds
    from bench.bench_grids_street import city_street

COLUMNS = ("community_id", "units", "households", "status", "excess", "least", "bound")
MORE = ("clock", "nodes", "time_s", "local_units")


def main() -> None:
    street = city_street()
    s = Settings()
    stamp = time.strftime("%H:%M:%S", time.gmtime())
    load0 = os.getloadavg()[0]
    c0, t0 = time.process_time(), time.perf_counter()
    res = divide(street, settings=s)
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    codes = res.atoms["code"].astype(str).str.cat(sep=",")
    digest = hashlib.sha256(codes.encode()).hexdigest()[:16]
    g = res.grids
    lo, hi = s.grid_min_households, s.grid_max_households
    out = g[~g["households"].between(lo, hi) & (g["kind"] != "dedicated")]
    check = res.report.check("households_in_range")
    errors = {v.grids[0] for v in check.violations if v.severity == "error" and v.grids}
    print(
        f"{stamp} UTC, load {load0:.1f} -> {os.getloadavg()[0]:.1f}: {len(g)} grids, "
        f"rules hold {res.report.ok} (households_in_range passed {check.passed}), "
        f"division {cpu:.1f} CPU s, {wall:.1f} s wall, digest {digest}",
        flush=True,
    )
    print(f"{len(out)} residential grids outside {lo}-{hi}, {len(errors)} not explained:")
    with pd.option_context("display.width", 250, "display.max_colwidth", 160):
        for row in out.itertuples():
            proved = "ERROR" if str(row.code) in errors else "explained"
            print(
                f"  {row.code} {row.community_id} {row.households} hh, {row.atoms} atoms, "
                f"{proved}: {row.reason}"
            )
        cols = [c for c in (*COLUMNS, *MORE) if c in res.exact.columns]
        rows = res.exact[res.exact["community_id"].isin(set(out["community_id"]))]
        print("exact table, those communities:")
        print(rows[cols].to_string())
        print(f"exact table: {len(res.exact)} rows")
        print(res.exact[cols].to_string())


if __name__ == "__main__":
    main()
