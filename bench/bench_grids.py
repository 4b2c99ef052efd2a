"""Benchmark: grid division on the demo street and a synthetic 10-street district,
against two baselines on the same atoms, interleaved run by run.

    /work/main/.venv/bin/python bench/bench_grids.py [--streets 10] [--skip-district] [--runs 2]
    /work/main/.venv/bin/python bench/bench_grids.py --repair-figures [--runs 3]

Cases: the demo street, the real Beijing extract (tests/data) and the district.
Prints, per case: atoms and division time (s), the proof of the rules, households per
grid (min/median/max, CV), compactness (median, lowest, grids below the minimum), the
share of internal boundary on roads, walls, water and community lines, and the
dedicated grids; for the baselines (a square grid clipped to
the street, with cells as many as our grids; PySAL spopt max-p regionalisation on the
atoms with the household floor as threshold) the same figures, the compounds and
buildings they cut, the rules they break, and time ratios.

Timing: ``--runs`` rounds per case; each round runs ours (its threads, ``PLANNER_THREADS``
unset), ours on one thread (``PLANNER_THREADS=1``, as the single-threaded baselines run),
the square grid and max-p once, forward in odd rounds and reversed in even ones
(:mod:`_interleave`), all in this process. Printed: every run's wall and CPU seconds
(``time.process_time``), the medians, and each round's baseline / ours ratios (wall/CPU;
max-p also against ours on one thread). Round 1's ours is the first division in this
process (the numba kernels loaded from their disk cache; compiled if there is none).
The baselines use the atoms and grid count of the latest ours run; max-p is timed whole
(rook weights, solve, dissolve), ours whole (atoms, division, codes, proof).

``--repair-figures``: the division with the thin-grid repair off and on, on the same
atoms, taken in turn run by run (the order reversed every round) after one untimed
division, ``--runs`` rounds, in this process (a division of the demo takes about 2 s).
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

try:  # run as a script: bench/ is the script's folder
    from _interleave import Timing, interleave, load, medians, ratios, utc
    from _machine import processor
except ImportError:  # imported as bench.bench_grids
    from bench._interleave import Timing, interleave, load, medians, ratios, utc
    from bench._machine import processor

from planner._threads import THREADS_ENV, workers
from planner.grids.atoms import make_atoms
from planner.grids.division import divide
from planner.grids.rules import RuleReport, check_grids
from planner.settings import Settings
from planner.street import Street

BEIJING = Path(__file__).resolve().parents[1] / "tests/data/beijing-haidian-xueyuanlu/map.osm"


def _fmt(report: RuleReport) -> str:
    q = report.quality
    failed = [c.name for c in report.checks if not c.passed]
    return (
        f"grids {int(q['grids'])}, households min/median/max {q['households_min']:.0f}/"
        f"{q['households_median']:.0f}/{q['households_max']:.0f}, CV "
        f"{q['households_cv']:.3f}, Polsby-Popper median {q['compactness_median']:.2f} "
        f"(min {q['compactness_min']:.3f}, {int(q['grids_below_compactness'])} below "
        f"{Settings().grid_min_compactness:g}); internal boundary on features "
        f"{q['feature_share']:.1%}; dedicated grids {int(q['grids_dedicated'])}; "
        f"rules failed: {', '.join(failed) or 'none'}"
    )


def _cuts(report: RuleReport) -> str:
    b = report.check("buildings_whole")
    c = report.check("compounds_whole")
    nb = sum(1 for v in b.violations if v.severity == "error")
    nc = sum(1 for v in c.violations if v.severity == "error")
    out = sum(1 for v in report.check("households_in_range").violations)
    return f"buildings cut {nb}, compounds cut {nc}, grids out of range {out}"


def square_grid(street: Street, n: int) -> gpd.GeoDataFrame:
    """Square cells clipped to the street, about ``n`` of them."""
    boundary = street.boundary_geom
    side = float(np.sqrt(boundary.area / max(n, 1)))
    minx, miny, maxx, maxy = boundary.bounds
    xs = np.arange(minx, maxx, side)
    ys = np.arange(miny, maxy, side)
    xx, yy = np.meshgrid(xs, ys)
    cells = shapely.box(xx.ravel(), yy.ravel(), xx.ravel() + side, yy.ravel() + side)
    clipped = shapely.intersection(cells, boundary)
    parts = shapely.get_parts(clipped[~shapely.is_empty(clipped)])
    parts = parts[shapely.area(parts) > 0]
    return gpd.GeoDataFrame({"grid_id": np.arange(len(parts))}, geometry=parts, crs=street.crs)


def maxp(atoms: gpd.GeoDataFrame, threshold: int) -> gpd.GeoDataFrame:
    """spopt max-p regions on the atoms (households as the threshold variable); one
    thread (pure Python and numpy)."""
    from libpysal.weights import Rook
    from spopt.region import MaxPHeuristic

    gdf = atoms[["households", "geometry"]].reset_index(drop=True).copy()
    gdf["households"] = gdf["households"].astype(float)
    gdf["x"] = gdf.geometry.centroid.x
    gdf["y"] = gdf.geometry.centroid.y
    w = Rook.from_dataframe(gdf, use_index=False, silence_warnings=True)
    model = MaxPHeuristic(
        gdf, w, ["x", "y"], "households", threshold, top_n=2, max_iterations_construction=20
    )
    model.solve()
    gdf["region"] = model.labels_
    regions = gdf.dissolve(by="region").reset_index()
    return gpd.GeoDataFrame(
        {"grid_id": regions["region"].astype(str)}, geometry=regions.geometry, crs=atoms.crs
    )


class _Ours:
    """Our division as a timed side: atoms then ``divide``; keeps the latest result (for
    the baselines and the report) and the split of its time into atoms and division."""

    def __init__(self, street: Street, settings: Settings, threads: int | None) -> None:
        self.street, self.settings, self.threads = street, settings, threads
        self.atoms: gpd.GeoDataFrame | None = None
        self.res: Any = None
        self.split = ""

    def __call__(self) -> object:
        old = os.environ.get(THREADS_ENV)
        if self.threads is not None:
            os.environ[THREADS_ENV] = str(self.threads)
        try:
            t0, c0 = time.perf_counter(), time.process_time()
            atoms = make_atoms(self.street, settings=self.settings)
            t1, c1 = time.perf_counter(), time.process_time()
            self.res = divide(self.street, settings=self.settings, atoms=atoms)
            t2, c2 = time.perf_counter(), time.process_time()
        finally:
            if old is None:
                os.environ.pop(THREADS_ENV, None)
            else:
                os.environ[THREADS_ENV] = old
        self.atoms = atoms
        self.split = (
            f"atoms {t1 - t0:.2f} s (CPU {c1 - c0:.2f} s), division + codes + proof "
            f"{t2 - t1:.2f} s (CPU {c2 - c1:.2f} s)"
        )
        return self.res


def _guarded(fn: Callable[[], object]) -> Callable[[], object]:
    """``fn`` returning its exception instead of raising it (a failing baseline is
    reported, not hidden, and does not stop the other sides' rounds)."""

    def run() -> object:
        try:
            return fn()
        except Exception as exc:  # reported by the caller
            return exc

    return run


def _per_run(timings: list[Timing]) -> str:
    """Every run's wall/CPU seconds, in the order taken."""
    return ", ".join(f"{t.wall:.2f}/{t.cpu:.2f}" for t in timings)


def _side_line(name: str, timings: list[Timing]) -> str:
    wall, cpu = medians(timings)
    return (
        f"{name}: median {wall:.2f} s wall, {cpu:.2f} s CPU; per run wall/CPU s {_per_run(timings)}"
    )


def run_case(
    name: str, street: Street, settings: Settings, *, with_maxp: bool, runs: int = 2
) -> dict[str, Any]:
    """Ours (threaded and on one thread) and the baselines on ``street``, interleaved
    over ``runs`` rounds; prints the figures, returns ours's medians and counts."""
    print(
        f"\n== {name}: {len(street.buildings):,} buildings, "
        f"{street.households_total:,} households, {street.boundary_geom.area / 1e6:.2f} km²"
        f" ({utc()}, load {load()})"
    )
    ours, ours_1 = _Ours(street, settings, None), _Ours(street, settings, 1)
    sides: dict[str, Callable[[], object]] = {
        f"ours ({workers()} threads)": ours,
        "ours (1 thread)": ours_1,
        "square grid": lambda: square_grid(street, len(ours.res.grids)),
    }
    if with_maxp:
        sides["spopt max-p"] = _guarded(lambda: maxp(ours.atoms, settings.grid_min_households))
    timed = interleave(sides, runs)
    mine, mine_1 = timed[f"ours ({workers()} threads)"], timed["ours (1 thread)"]
    res = ours.res
    print(
        _side_line(f"ours ({workers()} threads)", mine)
        + f"; {len(ours.atoms):,} atoms; last run: {ours.split}"
    )
    print("  " + _fmt(res.report))
    print("  " + _cuts(res.report) + f" (explained: {len(res.unresolved)} atoms listed)")
    print(_side_line("ours (1 thread)", mine_1) + f"; last run: {ours_1.split}")
    cols = ["grid_id", "households"]
    same = (
        ours_1.res.grids[cols].reset_index(drop=True).equals(res.grids[cols].reset_index(drop=True))
    )
    print(f"  same grid codes and households as threaded: {'yes' if same else 'NO'}")
    sq = timed["square grid"][-1].result
    assert isinstance(sq, gpd.GeoDataFrame)
    sq_report = check_grids(sq, street, settings=settings)
    print(
        _side_line(f"square grid ({len(sq)} cells)", timed["square grid"])
        + f"; per round square/ours wall/CPU {ratios(timed['square grid'], mine)}"
    )
    print("  " + _fmt(sq_report))
    print("  " + _cuts(sq_report))
    wall, cpu = medians(mine)
    out: dict[str, Any] = {"ours_s": wall, "ours_cpu": cpu, "atoms": len(ours.atoms)}
    out["grids"] = len(res.grids)
    if with_maxp:
        mp_runs = timed["spopt max-p"]
        failed = [t.result for t in mp_runs if isinstance(t.result, Exception)]
        if failed:
            print(f"max-p failed in {len(failed)} of {runs} runs: {failed[0]!r}")
        ok = [t for t in mp_runs if not isinstance(t.result, Exception)]
        if ok:
            mp = ok[-1].result
            assert isinstance(mp, gpd.GeoDataFrame)
            mp_report = check_grids(mp, street, settings=settings)
            m_wall, m_cpu = medians(ok)
            print(
                _side_line(f"spopt max-p ({len(mp)} regions, 1 thread)", mp_runs)
                + f"; median {m_cpu / cpu:.1f}x our CPU, {m_wall / wall:.1f}x our wall"
            )
            print(
                f"  per round max-p/ours wall/CPU {ratios(mp_runs, mine)}; "
                f"max-p/ours on 1 thread {ratios(mp_runs, mine_1)}"
            )
            print("  " + _fmt(mp_report))
            print("  " + _cuts(mp_report))
    print(f"  load now {load()}")
    return out


# --- grids: repair of thin grids ---
def time_repair(street: Street, atoms: gpd.GeoDataFrame, runs: int) -> dict[str, list[Timing]]:
    """The division with the thin-grid repair off and on (``grid_repair_thin``) on the
    same atoms, taken in turn run by run, the order reversed every round
    (:func:`interleave`), after one untimed division (first-call costs: the numba
    kernels loaded) so neither side carries them."""
    settings = {side: Settings(grid_repair_thin=side == "on") for side in ("off", "on")}
    divide(street, settings=settings["off"], atoms=atoms)
    return interleave(
        {side: lambda s=s: divide(street, settings=s, atoms=atoms) for side, s in settings.items()},
        runs,
    )


def repair_figures(cases: list[tuple[str, Street]], runs: int) -> None:
    """Thin-grid repair off and on (``grid_repair_thin``) on the same atoms, interleaved
    (:func:`time_repair`): lowest and median Polsby-Popper, grids below the minimum,
    boundary on features, rules, wall and CPU seconds of the division; every run of a
    side must give the same grids (codes and households)."""
    from planner.grids.shape import polsby_popper

    for name, street in cases:
        print(f"\n== {name} ({utc()}, load {load()})")
        atoms = make_atoms(street, settings=Settings())
        timed = time_repair(street, atoms, runs)
        for side, runs_ in timed.items():
            res: Any = runs_[-1].result
            cols = ["grid_id", "households"]
            last = res.grids[cols].reset_index(drop=True)
            same = all(t.result.grids[cols].reset_index(drop=True).equals(last) for t in runs_)
            s = Settings(grid_repair_thin=side == "on")
            pp = polsby_popper(res.grids.geometry)
            q = res.report.quality
            print(
                f"{name}, repair {side:<3}: {len(pp)} grids, Polsby-Popper "
                f"lowest {pp.min():.3f} median {np.median(pp):.3f}, below "
                f"{s.grid_min_compactness:g}: {int((pp < s.grid_min_compactness).sum())}, "
                f"boundary on features {q['feature_share']:.1%}, rules "
                f"{'hold' if res.report.ok else 'FAIL'}, same grids in every run: "
                f"{'yes' if same else 'NO'}"
            )
            print("  " + _side_line(f"division, repair {side}", runs_))
        print(f"  per round on/off wall/CPU {ratios(timed['on'], timed['off'])}; load {load()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streets", type=int, default=10)
    ap.add_argument("--skip-district", action="store_true")
    ap.add_argument(
        "--runs", type=int, default=2, help="rounds per case, ours and baselines interleaved"
    )
    ap.add_argument(
        "--maxp-district", action="store_true", help="also run max-p on the district (slow)"
    )
    ap.add_argument(
        "--repair-figures", action="store_true", help="only thin-grid repair off/on (demo, Beijing)"
    )
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    from planner.load.sources import load_street

    print(f"# bench_grids {utc()}, load {load()}")
    print(
        f"machine: {processor()}, {os.cpu_count()} cores, "
        f"{platform.python_implementation()} {platform.python_version()}"
    )
    if args.repair_figures:
        cases = [("demo", load_street("demo")), ("Beijing", load_street(str(BEIJING)))]
        repair_figures(cases, args.runs)
        return
    settings = Settings()
    t = time.perf_counter()
    demo = load_street("demo")
    print(f"demo loaded in {time.perf_counter() - t:.1f} s (not counted)")
    run_case("demo street", demo, settings, with_maxp=True, runs=args.runs)
    beijing = load_street(str(BEIJING))
    run_case("Beijing extract (tests/data, OSM)", beijing, settings, with_maxp=True, runs=args.runs)
    if args.skip_district:
        return
    from planner.synthetic.demo import make_district, write_folder

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        district = make_district(args.streets)
        write_folder(district, Path(tmp) / "district")
        street = load_street(str(Path(tmp) / "district"))
        print(f"\ndistrict generated and loaded in {time.perf_counter() - t:.1f} s (not counted)")
        run_case(
            f"synthetic district of {args.streets} streets",
            street,
            settings,
            with_maxp=args.maxp_district,
            runs=args.runs,
        )


if __name__ == "__main__":
    main()
