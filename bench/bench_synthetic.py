"""Benchmark of the synthetic street generator (planner.synthetic.demo).

Prints the time to generate the demo street and synthetic districts of 1 and 10
streets, and to write them as a street folder, with a baseline measured in the
same run: writing the same layers with GeoPandas/pyogrio (``to_file``, GeoJSON).

Usage::

    python bench/bench_synthetic.py [--streets 10]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planner.synthetic.demo import make_demo, make_district, write_folder


def _timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streets", type=int, default=10)
    args = parser.parse_args()
    cases = [
        ("demo street", make_demo, ()),
        ("district x1", make_district, (1,)),
        (f"district x{args.streets}", make_district, (args.streets,)),
    ]
    print(
        f"{'case':<14} {'buildings':>9} {'roads':>6} {'area km2':>8} {'generate s':>10} "
        f"{'write s':>8} {'pyogrio s':>9} {'write/pyogrio':>13}"
    )
    for label, fn, fargs in cases:
        street, t_gen = _timed(fn, *fargs)
        with tempfile.TemporaryDirectory() as tmp:
            _, t_write = _timed(write_folder, street, Path(tmp) / "ours")
            base = Path(tmp) / "pyogrio"
            base.mkdir()
            t0 = time.perf_counter()
            for name, gdf in street.layers.items():
                if len(gdf):
                    gdf.to_file(base / f"{name}.geojson", driver="GeoJSON", engine="pyogrio")
            t_base = time.perf_counter() - t0
        c = street.stats["counts"]
        print(
            f"{label:<14} {c['buildings']:>9} {c['roads']:>6} {street.stats['area_km2']:>8.1f} "
            f"{t_gen:>10.2f} {t_write:>8.2f} {t_base:>9.2f} {t_write / t_base:>13.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
