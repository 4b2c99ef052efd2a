"""Benchmark: atoms and division of the synthetic district, two versions interleaved.

    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_grids_speed.py \
        --before /tmp/before --streets 10 --rounds 2

``--before`` is a directory holding another version's ``planner`` package (e.g.
``git archive <commit> planner | tar -x -C /tmp/before``); the version "after" is the
``planner`` this script is run with. The district (:func:`planner.synthetic.demo.
make_district`) is written once; then each round runs one child process per version,
before and after alternating, so both see the same load. Each child times
``make_atoms`` and ``divide`` (default settings, seed 0; CPU and wall seconds) and then
``divide`` with ``grid_method="heuristic"``, whose division does not depend on the clock
(the exact method has wall-clock limits), and prints a digest of that division's grid of
every atom: equal digests mean the two versions divide identically. ``digest`` is the
same for the default division (each atom's grid code): since dist14e its exact method
stops on work limits, so two runs of one version agree whatever the load. ``--folder``
divides an existing street folder (e.g. a district written before) instead of writing one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import hashlib, json, sys, time
from planner.grids.atoms import make_atoms
from planner.grids.division import divide
from planner.load.sources import load_street
from planner.settings import Settings

street = load_street(sys.argv[1])
s = Settings()
c0, t0 = time.process_time(), time.perf_counter()
atoms = make_atoms(street, settings=s)
c1, t1 = time.process_time(), time.perf_counter()
res = divide(street, settings=s, atoms=atoms)
c2, t2 = time.process_time(), time.perf_counter()
heur = divide(street, settings=Settings(grid_method="heuristic"), atoms=atoms)
c3 = time.process_time()
digest = hashlib.sha256(heur.atoms["grid_id"].to_numpy().tobytes()).hexdigest()[:16]
codes = res.atoms["code"].astype(str).str.cat(sep=",")
clock = bool(res.exact["clock"].astype(bool).any()) if "clock" in res.exact else None
print(json.dumps({
    "atoms": len(atoms), "grids": len(res.grids), "rules_ok": bool(res.report.ok),
    "digest": hashlib.sha256(codes.encode()).hexdigest()[:16], "exact_solves": len(res.exact),
    "exact_s": float(res.exact["time_s"].sum()), "clock_stopped": clock,
    "atoms_cpu": c1 - c0, "atoms_wall": t1 - t0,
    "divide_cpu": c2 - c1, "divide_wall": t2 - t1,
    "heuristic_cpu": c3 - c2, "heuristic_digest": digest,
}))
"""


def _run(root: Path, folder: Path) -> dict[str, float | str | bool]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(folder)],
        env=env,
        cwd=root,  # `python -c` puts the working folder first on sys.path: run in the version's own
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float | str | bool] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, required=True, help="directory holding 'planner'")
    ap.add_argument("--streets", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--folder", type=Path, help="an existing street folder to divide")
    args = ap.parse_args()
    after = Path(__file__).resolve().parents[1]
    print(f"machine: {platform.processor() or platform.machine()}, load {_load()}")
    from planner.synthetic.demo import make_district, write_folder

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or Path(tmp) / "district"
        if args.folder is None:
            write_folder(make_district(args.streets), folder)
        for r in range(args.rounds):
            for label, root in (("before", args.before), ("after", after)):
                res = _run(root, folder)
                print(f"round {r + 1} {label}: {json.dumps(res)} (load {_load()})", flush=True)


if __name__ == "__main__":
    main()
