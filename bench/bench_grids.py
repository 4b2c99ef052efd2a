"""Benchmark: grid division on the demo street and a synthetic 10-street district,
against two baselines on the same atoms, in one run.

    /work/main/.venv/bin/python bench/bench_grids.py [--streets 10] [--skip-district]
    /work/main/.venv/bin/python bench/bench_grids.py --repair-figures

Cases: the demo street, the real Beijing extract (tests/data) and the district.
Prints, per case: atoms and division time (s), the proof of the rules, households per
grid (min/median/max, CV), compactness (median, lowest, grids below the minimum), the
share of internal boundary on roads, walls, water and community lines, and the
dedicated grids; for the baselines (a square grid clipped to
the street, with cells as many as our grids; PySAL spopt max-p regionalisation on the
atoms with the household floor as threshold) the same figures, the compounds and
buildings they cut, the rules they break, and time ratios.
"""

from __future__ import annotations

import argparse
import logging
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

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


def maxp(atoms: gpd.GeoDataFrame, threshold: int) -> tuple[gpd.GeoDataFrame, float]:
    """spopt max-p regions on the atoms (households as the threshold variable)."""
    from libpysal.weights import Rook
    from spopt.region import MaxPHeuristic

    gdf = atoms[["households", "geometry"]].reset_index(drop=True).copy()
    gdf["households"] = gdf["households"].astype(float)
    gdf["x"] = gdf.geometry.centroid.x
    gdf["y"] = gdf.geometry.centroid.y
    t = time.process_time()
    w = Rook.from_dataframe(gdf, use_index=False, silence_warnings=True)
    model = MaxPHeuristic(
        gdf, w, ["x", "y"], "households", threshold, top_n=2, max_iterations_construction=20
    )
    model.solve()
    elapsed = time.process_time() - t
    gdf["region"] = model.labels_
    regions = gdf.dissolve(by="region").reset_index()
    return gpd.GeoDataFrame(
        {"grid_id": regions["region"].astype(str)}, geometry=regions.geometry, crs=atoms.crs
    ), elapsed


def run_case(name: str, street: Street, settings: Settings, *, with_maxp: bool) -> dict[str, Any]:
    print(
        f"\n== {name}: {len(street.buildings):,} buildings, "
        f"{street.households_total:,} households, {street.boundary_geom.area / 1e6:.2f} km²"
    )
    t0, c0 = time.perf_counter(), time.process_time()
    atoms = make_atoms(street, settings=settings)
    t1, c1 = time.perf_counter(), time.process_time()
    res = divide(street, settings=settings, atoms=atoms)
    t2, c2 = time.perf_counter(), time.process_time()
    ours = t2 - t0
    print(
        f"ours: {len(atoms):,} atoms in {t1 - t0:.2f} s (CPU {c1 - c0:.2f} s), division + "
        f"codes + proof {t2 - t1:.2f} s (CPU {c2 - c1:.2f} s), total {ours:.2f} s wall, "
        f"{c2 - c0:.2f} s CPU"
    )
    print("  " + _fmt(res.report))
    print("  " + _cuts(res.report) + f" (explained: {len(res.unresolved)} atoms listed)")
    t = time.perf_counter()
    sq = square_grid(street, len(res.grids))
    sq_time = time.perf_counter() - t
    sq_report = check_grids(sq, street, settings=settings)
    print(f"square grid ({len(sq)} cells, {sq_time:.2f} s, {sq_time / ours:.2f}x ours):")
    print("  " + _fmt(sq_report))
    print("  " + _cuts(sq_report))
    out: dict[str, Any] = {"ours_s": ours, "atoms": len(atoms), "grids": len(res.grids)}
    if with_maxp:
        try:
            mp, mp_time = maxp(atoms, settings.grid_min_households)
        except Exception as exc:  # report, do not hide
            print(f"max-p failed: {exc!r}")
        else:
            mp_report = check_grids(mp, street, settings=settings)
            print(
                f"spopt max-p ({len(mp)} regions, CPU {mp_time:.2f} s, "
                f"{mp_time / (c2 - c0):.1f}x our CPU time):"
            )
            print("  " + _fmt(mp_report))
            print("  " + _cuts(mp_report))
    return out


# --- grids: repair of thin grids ---
def repair_figures(cases: list[tuple[str, Street]]) -> None:
    """Thin-grid repair off and on (``grid_repair_thin``) on the same atoms: lowest and
    median Polsby-Popper, grids below the minimum, boundary on features, rules, CPU."""
    from planner.grids.shape import polsby_popper

    for name, street in cases:
        atoms = make_atoms(street, settings=Settings())
        for repair in (False, True):
            s = Settings(grid_repair_thin=repair)
            c = time.process_time()
            res = divide(street, settings=s, atoms=atoms)
            cpu = time.process_time() - c
            pp = polsby_popper(res.grids.geometry)
            q = res.report.quality
            print(
                f"{name}, repair {'on ' if repair else 'off'}: {len(pp)} grids, Polsby-Popper "
                f"lowest {pp.min():.3f} median {np.median(pp):.3f}, below "
                f"{s.grid_min_compactness:g}: {int((pp < s.grid_min_compactness).sum())}, "
                f"boundary on features {q['feature_share']:.1%}, rules "
                f"{'hold' if res.report.ok else 'FAIL'}, division CPU {cpu:.2f} s"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streets", type=int, default=10)
    ap.add_argument("--skip-district", action="store_true")
    ap.add_argument(
        "--maxp-district", action="store_true", help="also run max-p on the district (slow)"
    )
    ap.add_argument(
        "--repair-figures", action="store_true", help="only thin-grid repair off/on (demo, Beijing)"
    )
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    from planner.load.sources import load_street

    if args.repair_figures:
        repair_figures([("demo", load_street("demo")), ("Beijing", load_street(str(BEIJING)))])
        return

    print(
        f"machine: {platform.processor() or platform.machine()}, "
        f"{platform.python_implementation()} {platform.python_version()}"
    )
    settings = Settings()
    t = time.perf_counter()
    demo = load_street("demo")
    print(f"demo loaded in {time.perf_counter() - t:.1f} s (not counted)")
    run_case("demo street", demo, settings, with_maxp=True)
    beijing = load_street(str(BEIJING))
    run_case("Beijing extract (tests/data, OSM)", beijing, settings, with_maxp=True)
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
        )


if __name__ == "__main__":
    main()
