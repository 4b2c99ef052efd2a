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

Cold figures (``--cold-runs`` rounds, issue 20): each write in a fresh process per run
(``python bench/bench_synthetic.py --child ours|pyogrio ...``: interpreter start, the
writer's imports, reading the generated layers from one pickle written before the rounds,
the write), ours and pyogrio taking turns run by run, the order alternating; wall of the
whole process, CPU from ``RUSAGE_CHILDREN``, and the child's own split (writer import,
pickle read, write). pyogrio's process never imports the planner. The folders of the
last cold runs are compared like the warm ones.

Usage::

    python bench/bench_synthetic.py [--streets 10] [--runs 3] [--cold-runs 2]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import pickle
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

# bench/ on the path: its helpers import as top-level modules, run as a script or imported
# as bench.<script> by the tests
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _interleave as il  # type: ignore[import-not-found]
from _machine import processor  # type: ignore[import-not-found]

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:  # the planner is imported where used: pyogrio's fresh process never loads it
    from planner.synthetic.demo import SyntheticStreet


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


def child(side: str, pickled: Path, out_root: Path) -> None:
    """A cold run's fresh process: import the writer, read the pickled layers, write them
    into a new folder under ``out_root``; prints the folder and the seconds of each step
    as JSON (pyogrio's side imports geopandas only, never the planner)."""
    t0 = time.perf_counter()
    write: Callable[[Any, Path], object]
    if side == "ours":
        from planner.synthetic.demo import write_folder as write
    else:
        import geopandas  # noqa: F401  (the baseline writer's import)

        write = write_pyogrio
    t1 = time.perf_counter()
    with pickled.open("rb") as f:
        street = SimpleNamespace(**pickle.load(f))  # layers and metadata: all both writers read
    t2 = time.perf_counter()
    folder = Path(tempfile.mkdtemp(dir=out_root)) / "street"
    write(street, folder)
    t3 = time.perf_counter()
    print(
        json.dumps(
            {"folder": str(folder), "import_s": t1 - t0, "read_s": t2 - t1, "write_s": t3 - t2}
        )
    )


def cold_jobs(pickled: Path, out_root: Path) -> list[il.Job]:
    """The fresh-process writes (:func:`child`), ours first, each run's stdout kept."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--pickle", str(pickled)]
    cmd += ["--out", str(out_root), "--child"]
    return [
        il.cold_job(f"{side} (fresh process)", [*cmd, side], cwd=ROOT, keep=True)
        for side in ("ours", "pyogrio")
    ]


def child_split(job: il.Job) -> str:
    """The median of each step a child timed itself (import, read, write), seconds."""
    steps = [il.last_json(out) for out in job.results]
    return ", ".join(
        f"{k[:-2]} {statistics.median(float(s[k]) for s in steps):.2f}"  # type: ignore[arg-type]
        for k in ("import_s", "read_s", "write_s")
    )


def read_back(folder: Path) -> dict[str, tuple[int, tuple[str, ...]]]:
    """Each non-empty ``.geojson`` layer of ``folder``: row count and sorted columns."""
    import pyogrio

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


def time_case(
    street: SyntheticStreet, tmp: Path, *, runs: int, cold_runs: int
) -> tuple[dict[str, Any], list[il.Job], str, str]:
    """Ours and pyogrio writing ``street``: warm (in process, :func:`interleave`, fresh
    folders before every run) and cold (:func:`cold_jobs`, :func:`rotate`). Returns the
    warm runs, the cold jobs and what the warm and the last cold folders compare to."""
    from planner.synthetic.demo import write_folder

    folders = {"ours": tmp / "ours", "pyogrio": tmp / "pyogrio"}
    fresh = functools.partial(_empty, list(folders.values()))
    warm = il.interleave(
        {
            "ours": functools.partial(write_folder, street, folders["ours"]),
            "pyogrio": functools.partial(write_pyogrio, street, folders["pyogrio"]),
        },
        runs,
        before=fresh,
    )
    # the before-hook empties both folders before every run: write both once more
    # (untimed) to compare what they hold
    fresh()
    write_folder(street, folders["ours"])
    write_pyogrio(street, folders["pyogrio"])
    check = compare(folders["ours"], folders["pyogrio"])
    if not cold_runs:
        return warm, [], check, "not run"
    pickled, out_root = tmp / "street.pickle", tmp / "cold"
    out_root.mkdir()
    with pickled.open("wb") as f:
        pickle.dump({"layers": street.layers, "metadata": street.metadata}, f)
    cold = cold_jobs(pickled, out_root)
    il.rotate(cold, cold_runs)
    last = [Path(str(il.last_json(job.results[-1])["folder"])) for job in cold]
    return warm, cold, check, compare(last[0], last[1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streets", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3, help="interleaved rounds per case")
    parser.add_argument(
        "--cold-runs", type=int, default=2, help="fresh-process rounds per case (2; 0: none)"
    )
    parser.add_argument("--child", choices=["ours", "pyogrio"], help=argparse.SUPPRESS)
    parser.add_argument("--pickle", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.pickle, args.out)
        return 0
    from planner.synthetic.demo import make_demo, make_district

    cases: list[tuple[str, Callable[..., SyntheticStreet], tuple[int, ...]]] = [
        ("demo street", make_demo, ()),
        ("district x1", make_district, (1,)),
        (f"district x{args.streets}", make_district, (args.streets,)),
    ]
    print(f"# bench_synthetic {il.utc()}, load {il.load()}")
    print(f"machine: {processor()}, {os.cpu_count()} cores")
    print(
        f"writes: warm median of {args.runs} runs in this process, cold median of "
        f"{args.cold_runs} fresh processes; ours and pyogrio taking turns run by run, the "
        "order alternating; s = wall seconds, CPU = CPU seconds"
    )
    print(
        f"{'case':<14} {'buildings':>9} {'roads':>6} {'area km2':>8} {'generate s':>10} "
        f"{'CPU':>6} {'write s':>8} {'CPU':>6} {'pyogrio s':>9} {'CPU':>6} {'write/pyogrio':>13}"
    )
    notes = []
    ok = True
    for label, fn, fargs in cases:
        c0, t0 = time.process_time(), time.perf_counter()
        street = fn(*fargs)
        t_gen, c_gen = time.perf_counter() - t0, time.process_time() - c0
        before = il.load()
        with tempfile.TemporaryDirectory() as tmp:
            runs, cold, check, cold_check = time_case(
                street, Path(tmp), runs=args.runs, cold_runs=args.cold_runs
            )
        ok &= check.startswith("same") and (not cold or cold_check.startswith("same"))
        (w_wall, w_cpu), (b_wall, b_cpu) = il.medians(runs["ours"]), il.medians(runs["pyogrio"])
        ratio = statistics.median(
            o.wall / max(b.wall, 1e-9) for o, b in zip(runs["ours"], runs["pyogrio"], strict=True)
        )
        c = street.stats["counts"]
        print(
            f"{label:<14} {c['buildings']:>9} {c['roads']:>6} {street.stats['area_km2']:>8.1f} "
            f"{t_gen:>10.2f} {c_gen:>6.2f} {w_wall:>8.2f} {w_cpu:>6.2f} {b_wall:>9.2f} "
            f"{b_cpu:>6.2f} {ratio:>13.2f}"
        )
        note = [
            f"{label}: warm per round write/pyogrio wall/CPU {il.ratios(runs['ours'], runs['pyogrio'])}; "
            f"read back: {check}"
        ]
        for job in cold:
            note.append(f"  cold {il.job_line(job)}; the child's own seconds: {child_split(job)}")
        if cold:
            note.append(
                f"  cold write/pyogrio wall/CPU {il.job_ratios(cold[0], cold[1])}; read back: {cold_check}"
            )
        note.append(f"  load {before} -> {il.load()}")
        notes.append("\n".join(note))
    print("\n" + "\n".join(notes))
    print("same layers, rows and columns, warm and cold: " + ("yes" if ok else "**NO**"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
