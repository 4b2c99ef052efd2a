"""Benchmark: many stations on the demo street, this code against a baseline checkout.

Run from the repository root::

    git worktree add /tmp/planner-base 85b3cf0        # the code to compare with
    /work/main/.venv/bin/python bench/bench_bounds.py --baseline /tmp/planner-base
    /work/main/.venv/bin/python bench/bench_bounds.py --stations 2000   # this code only

For each station count, ``N`` stations are drawn uniformly in the demo street's
bounding box (seed 0; those more than the margin outside the street are left out by
the loader, as for any stations file) and written as a CSV; then each code runs the
coverage step end to end (``compute_coverage_layers``: times, figures, every circle,
the nearest-station split, the union and the gaps) in a process of its own, and this
script reads back the process's wall time, CPU time (all threads) and peak resident
memory (``ru_maxrss`` of the child) and its resident memory when the circles start
(what the budget's memory estimate adds to), with the time of the circle views. The
baseline runs under an address-space cap (``--baseline-cap-mb``, default 6,000 MB)
so a run that would exhaust the machine ends in a MemoryError instead. The circle
step's estimate (:mod:`planner.coverage.budget`) is printed next to what was
measured.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

#: What each child process runs (works on this code and on the baseline).
CHILD = r"""
import json, os, sys, time
t_wall, t_cpu = time.perf_counter(), time.process_time()
from planner.settings import Settings
from planner.load.sources import load_street
from planner.coverage import circles as C
from planner.coverage.layers import compute_coverage_layers

n = int(sys.argv[2])
fields = Settings.__dataclass_fields__
settings = Settings(**({"max_stations": max(n, 1)} if "max_stations" in fields else {}))
street = load_street("demo", stations=sys.argv[1], settings=settings)
views = {}

def timed(name, fn):
    def run(*a, **k):
        w, c = time.perf_counter(), time.process_time()
        out = fn(*a, **k)
        views[name] = [round(time.perf_counter() - w, 2), round(time.process_time() - c, 2)]
        return out
    return run

for name in ("station_circles", "union_circles", "nearest_split"):
    setattr(C.CircleBuilder, name, timed(name, getattr(C.CircleBuilder, name)))
rss_at = {}

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

def before_circles(fn):
    def run(*a, **k):
        rss_at.setdefault("before_circles_mb", round(rss_mb()))
        return fn(*a, **k)
    return run

C.CircleBuilder.station_circles = before_circles(C.CircleBuilder.station_circles)
out = {"stations": len(street.stations)}
try:
    layers = compute_coverage_layers(street, settings=settings)
    out["circles"] = int((layers.circles["view"] == "station").sum())
    out["estimate"] = layers.summary.get("circle_work")
    out["status"] = "ok"
except MemoryError as exc:
    out["status"] = f"MemoryError {exc}"
out["wall_s"] = round(time.perf_counter() - t_wall, 2)
out["cpu_s"] = round(time.process_time() - t_cpu, 2)
out["views"] = views
out.update(rss_at)
print("RESULT " + json.dumps(out))
"""


def stations_csv(n: int, path: Path) -> None:
    """``n`` stations drawn uniformly in the demo boundary's bounding box (seed 0)."""
    import geopandas as gpd

    b = gpd.read_file(ROOT / "data/demo/boundary.geojson")
    x0, y0, x1, y1 = b.total_bounds
    rng = np.random.default_rng(0)
    lon, lat = rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)
    rows = [f"S{i},站{i},community_station,{lon[i]:.7f},{lat[i]:.7f}" for i in range(n)]
    path.write_text("station_id,name,kind,lon,lat\n" + "\n".join(rows) + "\n", encoding="utf-8")


def run_child(root: Path, csv: Path, n: int, cap_mb: int | None, tmp: Path) -> dict[str, object]:
    """One coverage run in a child process: its figures and peak resident memory, MB
    (``ru_maxrss`` of that child, read with ``wait4``)."""

    def limit() -> None:
        if cap_mb:
            cap = cap_mb * 2**20
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    env = {**os.environ, "PYTHONPATH": str(root)}
    out_path, err_path = tmp / "child.out", tmp / "child.err"
    t0 = time.perf_counter()
    with out_path.open("w") as out_f, err_path.open("w") as err_f:
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(csv), str(n)],
            cwd=root,
            env=env,
            stdout=out_f,
            stderr=err_f,
            text=True,
            preexec_fn=limit,
        )
        _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    out: dict[str, object] = {"process_wall_s": round(time.perf_counter() - t0, 1)}
    line = next((x for x in out_path.read_text().splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        last = (err_path.read_text().strip().splitlines() or ["(no output)"])[-1]
        out["status"] = f"failed (exit {proc.returncode}): {last[:160]}"
    else:
        out.update(json.loads(line[len("RESULT ") :]))
    out["peak_rss_mb"] = round(usage.ru_maxrss / 1024)  # Linux: KB
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stations", default="2000,20000", help="station counts, comma-separated")
    ap.add_argument("--baseline", type=Path, help="a checkout of the code to compare with")
    ap.add_argument("--baseline-cap-mb", type=int, default=6000)
    args = ap.parse_args()
    counts = [int(x) for x in args.stations.split(",")]
    print("# bench_bounds")
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, python "
        f"{platform.python_version()}, load average at start "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    codes = [("this code", ROOT, None)]
    if args.baseline is not None:
        codes.append(("baseline", args.baseline.resolve(), args.baseline_cap_mb))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in counts:
            csv = Path(tmp) / f"stations{n}.csv"
            stations_csv(n, csv)
            for label, root, cap in codes:
                res = run_child(root, csv, n, cap, Path(tmp))
                res.update({"n": n, "code": label, "cap_mb": cap})
                rows.append(res)
                print(json.dumps(res, ensure_ascii=False), flush=True)
    print()
    print(
        "| stations | code | status | wall s | CPU s | peak RSS MB | of which above the "
        "start of the circles MB | station circles s (CPU s) | estimate (circle step) |"
    )
    print("| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in rows:
        views = r.get("views") or {}
        own = views.get("station_circles") if isinstance(views, dict) else None
        est = r.get("estimate") or {}
        est_text = (
            f"{est['cpu_seconds']:.0f} CPU s, +{est['memory_mb']:.0f} MB"
            if isinstance(est, dict) and est
            else ""
        )
        start = r.get("before_circles_mb")
        peak = r["peak_rss_mb"]
        above = peak - start if isinstance(start, int) and isinstance(peak, int) else ""
        print(
            f"| {r['n']:,} | {r['code']} | {r.get('status')} | {r.get('wall_s', '')} | "
            f"{r.get('cpu_s', '')} | {r['peak_rss_mb']} | {above} | "
            f"{own[0] if own else ''} ({own[1] if own else ''}) | {est_text} |"
        )


if __name__ == "__main__":
    main()
