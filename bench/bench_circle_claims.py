"""Measure how much ground the union circles claim across gaps in the network.

Run from the repository root::

    /work/main/.venv/bin/python bench/bench_circle_claims.py

On the real Beijing extract (``tests/data/beijing-haidian-xueyuanlu``, clipped to the
coverage tests' box, stations part-way along every 40th public link), samples 1,000
points uniformly inside each union circle (5/10/15 minutes) and prints the share whose
nearest walkable link is reached later than the threshold plus the corridor's walking
time (``circle_buffer_m / speed``), or never (issue 13 item 5; target at most 1 %), with
the seconds the coverage and the circles took. The check itself is
``tests/circle_claims.py`` (also run by ``tests/test_circle_claims.py``).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planner.coverage.figures import compute_coverage  # noqa: E402
from tests.circle_claims import beijing_street, circle_claims  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        street = beijing_street(Path(tmp))
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


if __name__ == "__main__":
    main()
