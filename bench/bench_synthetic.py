"""Benchmark of the synthetic street generator (planner.synthetic.demo).

Prints the time to generate the demo street and synthetic districts of 1 and 10
streets, and to write them as a street folder, with a baseline: writing the same
layers with GeoPandas/pyogrio (``to_file``, GeoJSON). Writing ours and the baseline is
interleaved run by run (``--runs`` rounds, the order reversed every round,
:mod:`_interleave`), each run into a fresh folder, in this one process and thread.
Printed: generation wall and CPU seconds (one run), the medians of both writes (wall and
CPU, ``time.process_time``), the median of the per-round ratios ours / pyogrio and every
round's ratio (wall/CPU), and the answer check: both folders read back with pyogrio hold
the same layers with the same row counts and columns.

Usage::

    python bench/bench_synthetic.py [--streets 10] [--runs 3]
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyogrio
from _interleave import interleave, load, medians, ratios, utc
from _machine import processor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planner.synthetic.demo import SyntheticStreet, make_demo, make_district, write_folder


def write_pyogrio(street: SyntheticStreet, out: Path) -> None:
    """The baseline: every non-empty layer with ``GeoDataFrame.to_file`` (pyogrio)."""
    out.mkdir(parents=True)
    for name, gdf in street.layers.items():
        if len(gdf):
            gdf.to_file(out / f"{name}.geojson", driver="GeoJSON", engine="pyogrio")


def _empty(folders: list[Path]) -> None:
    """Remove ``folders`` (each run writes into a folder that does not exist yet)."""
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def read_back(folder: Path) -> dict[str, tuple[int, tuple[str, ...]]]:
    """Each non-empty ``.geojson`` layer of ``folder``: row count and sorted columns."""
    out = {}
    for path in sorted(folder.glob("*.geojson")):
        info = pyogrio.read_info(path, force_feature_count=True)
        if info["features"]:
            out[path.stem] = (int(info["features"]), tuple(sorted(info["fields"])))
    return out


def compare(ours: Path, base: Path) -> str:
    """``same`` when both folders hold the same non-empty layers, row counts and
    columns, else what differs."""
    a, b = read_back(ours), read_back(base)
    diff = [
        f"{name}: ours {a.get(name)} pyogrio {b.get(name)}"
        for name in sorted(set(a) | set(b))
        if a.get(name) != b.get(name)
    ]
    return "same layers, rows and columns" if not diff else "DIFFERENT: " + "; ".join(diff)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streets", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3, help="interleaved rounds per case")
    args = parser.parse_args()
    cases: list[tuple[str, Callable[..., SyntheticStreet], tuple[int, ...]]] = [
        ("demo street", make_demo, ()),
        ("district x1", make_district, (1,)),
        (f"district x{args.streets}", make_district, (args.streets,)),
    ]
    print(f"# bench_synthetic {utc()}, load {load()}")
    print(f"machine: {processor()}, {os.cpu_count()} cores")
    print(
        f"writes: median of {args.runs} runs, ours and pyogrio interleaved run by run; "
        "s = wall seconds, CPU = CPU seconds"
    )
    print(
        f"{'case':<14} {'buildings':>9} {'roads':>6} {'area km2':>8} {'generate s':>10} "
        f"{'CPU':>6} {'write s':>8} {'CPU':>6} {'pyogrio s':>9} {'CPU':>6} {'write/pyogrio':>13}"
    )
    notes = []
    for label, fn, fargs in cases:
        c0, t0 = time.process_time(), time.perf_counter()
        street = fn(*fargs)
        t_gen, c_gen = time.perf_counter() - t0, time.process_time() - c0
        before = load()
        with tempfile.TemporaryDirectory() as tmp:
            folders = {"ours": Path(tmp) / "ours", "pyogrio": Path(tmp) / "pyogrio"}

            fresh = functools.partial(_empty, list(folders.values()))
            runs = interleave(
                {
                    "ours": functools.partial(write_folder, street, folders["ours"]),
                    "pyogrio": functools.partial(write_pyogrio, street, folders["pyogrio"]),
                },
                args.runs,
                before=fresh,
            )
            # the before-hook empties both folders before every run: write both once more
            # (untimed) to compare what they hold
            fresh()
            write_folder(street, folders["ours"])
            write_pyogrio(street, folders["pyogrio"])
            check = compare(folders["ours"], folders["pyogrio"])
        (w_wall, w_cpu), (b_wall, b_cpu) = medians(runs["ours"]), medians(runs["pyogrio"])
        ratio = statistics.median(
            o.wall / max(b.wall, 1e-9) for o, b in zip(runs["ours"], runs["pyogrio"], strict=True)
        )
        c = street.stats["counts"]
        print(
            f"{label:<14} {c['buildings']:>9} {c['roads']:>6} {street.stats['area_km2']:>8.1f} "
            f"{t_gen:>10.2f} {c_gen:>6.2f} {w_wall:>8.2f} {w_cpu:>6.2f} {b_wall:>9.2f} "
            f"{b_cpu:>6.2f} {ratio:>13.2f}"
        )
        notes.append(
            f"{label}: per round write/pyogrio wall/CPU {ratios(runs['ours'], runs['pyogrio'])}; "
            f"load {before} -> {load()}; read back: {check}"
        )
    print("\n" + "\n".join(notes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
