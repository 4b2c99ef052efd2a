"""Benchmark the export writers on a synthetic layer of building footprints.

Run: PYTHONPATH=. .venv/bin/python bench/bench_exports.py [N_BUILDINGS] [--runs 3] [--demo]

Prints the median wall and CPU seconds (``time.process_time``) of each writer beside
two baselines, every writer run once per round with the order rotating each round (so
ours and the baselines share the machine's load alike), and the per-run ratios:
GeoPandas' own GeoJSON writer (GDAL, ``to_file``) and the pure-Python route
(``json.dumps`` of ``__geo_interface__`` after the same reprojection). The three
GeoJSON files are read back and must hold the same features (count, properties,
geometries within 1e-6 degrees).
With ``--demo`` it also times every file of the demo street's full export (the
``run`` command's export step), with the GeoPackage written with GDAL's default
per-transaction fsync as the baseline (every layer and table, a fresh file each run),
interleaved the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

try:  # run as a script: bench/ is the script's folder
    from _interleave import Job  # type: ignore[import-not-found]
    from _interleave import rotate as interleave  # type: ignore[import-not-found]
    from _machine import processor as _processor  # type: ignore[import-not-found]
except ImportError:  # imported as bench.<script> (the tests)
    from bench._interleave import Job
    from bench._interleave import rotate as interleave
    from bench._machine import processor as _processor

from planner.export import formats as ex

UTM = "EPSG:32649"


def buildings(n: int, seed: int = 0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    i = np.arange(n)
    x = 310_000 + (i % side) * 40.0 + rng.uniform(0, 5, n)
    y = 3_800_000 + (i // side) * 40.0 + rng.uniform(0, 5, n)
    geoms = shapely.box(x, y, x + rng.uniform(10, 30, n), y + rng.uniform(10, 30, n), ccw=False)
    return gpd.GeoDataFrame(
        {
            "building_id": [f"b{k}" for k in i],
            "name": [f"{k % 30 + 1}号楼" for k in i],
            "households": rng.integers(0, 120, n),
            "population": rng.uniform(0, 300, n),
            "time_min": rng.uniform(0, 20, n),
            "covered_15": rng.random(n) < 0.8,
        },
        geometry=geoms,
        crs=UTM,
    )


def per_run(ours: Job, base: Job) -> str:
    """``ours / base`` as median and per-run ratios, wall and CPU."""
    wall = [a / b for a, b in zip(ours.wall, base.wall, strict=True)]
    cpu = [a / max(b, 1e-9) for a, b in zip(ours.cpu, base.cpu, strict=True)]
    return (
        f"{statistics.median(wall):5.2f}x wall, {statistics.median(cpu):5.2f}x CPU"
        f" (per run wall {' '.join(f'{x:.2f}' for x in wall)};"
        f" CPU {' '.join(f'{x:.2f}' for x in cpu)})"
    )


def print_jobs(jobs: list[Job], runs: int) -> None:
    """One line per job: median wall and CPU milliseconds."""
    print(f"  {'':<50} {'wall ms':>9} {'CPU ms':>9}   (median of {runs}, interleaved)")
    for job in jobs:
        wall, cpu = job.med
        print(f"  {job.label:<50} {wall * 1000:9.1f} {cpu * 1000:9.1f}")


def same_features(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame, what: str) -> None:
    """Fail unless ``a`` and ``b`` hold the same features in the same order.

    Same count and property names; numbers equal within 1e-6 (absolute) or 1e-9
    (relative), other properties equal; geometries equal vertex by vertex within 1e-6
    degrees (~0.1 m) once normalised (ring orientation and start vertex may differ).
    """
    if len(a) != len(b):
        raise SystemExit(f"{what}: {len(a)} features against {len(b)}")
    cols = [c for c in a.columns if c != "geometry"]
    other = sorted(c for c in b.columns if c != "geometry")
    if sorted(cols) != other:
        raise SystemExit(f"{what}: properties {sorted(cols)} against {other}")
    for col in cols:
        x, y = a[col].to_numpy(), b[col].to_numpy()
        if x.dtype.kind in "fiu" and y.dtype.kind in "fiu":
            ok = np.allclose(x.astype(float), y.astype(float), rtol=1e-9, atol=1e-6)
        else:
            ok = bool((a[col].astype(str).to_numpy() == b[col].astype(str).to_numpy()).all())
        if not ok:
            raise SystemExit(f"{what}: property {col!r} differs")
    ga = shapely.normalize(a.geometry.to_numpy())
    gb = shapely.normalize(b.geometry.to_numpy())
    bad = int((~shapely.equals_exact(ga, gb, tolerance=1e-6)).sum())
    if bad:
        raise SystemExit(f"{what}: {bad} geometries differ by more than 1e-6 degrees")


def demo(runs: int) -> None:
    """Time the demo street's export step once, then the GeoPackage against GDAL."""
    import pyogrio

    from planner import pipeline
    from planner.export import outputs
    from planner.load.sources import load_street
    from planner.settings import Settings

    s = Settings()
    st = load_street("demo", settings=s)
    r = pipeline.RunResult(street=st, settings=s)
    r.grids = pipeline.divide_grids(st, settings=s)
    r.coverage = pipeline.compute_coverage_layers(st, settings=s, grids=r.grids.grids)
    times: dict[str, float] = {}

    class Bar:
        t = time.perf_counter()
        last = ""

        def update(self, n: int = 1) -> None:
            return None

        def set_postfix_str(self, text: str, refresh: bool = True) -> None:
            now = time.perf_counter()
            if self.last:
                times[self.last] = now - self.t
            self.t, self.last = now, text

        def close(self) -> None:
            return None

    print("demo street: every file of the export step")
    with tempfile.TemporaryDirectory() as d:
        bar = Bar()
        t0 = time.perf_counter()
        pipeline.export_results(r, d, bar=bar)
        bar.set_postfix_str("")
        total = time.perf_counter() - t0
        for name, t in times.items():
            print(f"  {name:<44} {t * 1000:9.1f} ms")
        print(f"  {'total':<44} {total * 1000:9.1f} ms")
        layers, tables = outputs.output_layers(r), outputs.output_tables(r)
        old = pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS")

        def with_fsync() -> None:
            pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "FULL"})
            try:
                (Path(d) / "b.gpkg").unlink(missing_ok=True)
                for name, g in layers.items():
                    g.to_crs(4326).to_file(Path(d) / "b.gpkg", layer=name, engine="pyogrio")
                for name, t in tables.items():  # the same attribute tables ours writes
                    pyogrio.write_dataframe(t, Path(d) / "b.gpkg", layer=name, driver="GPKG")
            finally:
                pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": old})

        ours = Job(
            "planner write_geopackage (no fsync)",
            lambda: ex.write_geopackage(Path(d) / "a.gpkg", layers=layers, tables=tables),
        )
        base = Job("baseline: to_file per layer and table, fsync (GDAL)", with_fsync)
        interleave([base, ours], runs)
        print_jobs([ours, base], runs)
        print(f"  GeoPackage ours / baseline: {per_run(ours, base)}")
        for name in [*layers, *tables]:
            a = pyogrio.read_info(Path(d) / "a.gpkg", layer=name)["features"]
            b = pyogrio.read_info(Path(d) / "b.gpkg", layer=name)["features"]
            if a != b:
                raise SystemExit(f"GeoPackage layer {name}: {a} features against {b}")
        print(
            f"  same answer: {len(layers)} layers and {len(tables)} tables, "
            "same feature counts in both files"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="?", type=int, default=20_000, help="buildings (20,000)")
    ap.add_argument("--runs", type=int, default=3, help="rounds (3)")
    ap.add_argument("--demo", action="store_true", help="the demo street's export step")
    args = ap.parse_args()
    print(f"machine: {_processor()}, {os.cpu_count()} CPUs")
    load_before = os.getloadavg()[0]
    if args.demo:
        demo(args.runs)
    else:
        writers(args.n, args.runs)
    print(f"load average: {load_before:.2f} -> {os.getloadavg()[0]:.2f}")


def writers(n: int, runs: int) -> None:
    """Time every writer on ``n`` synthetic buildings, ``runs`` interleaved rounds."""
    gdf = buildings(n)
    print(f"{n:,} building polygons (UTM 49N), {runs} rounds")
    with tempfile.TemporaryDirectory() as d:
        out = Path(d)
        ours = Job(
            "planner write_geojson (RFC 7946)", lambda: ex.write_geojson(gdf, out / "a.geojson")
        )
        gdal = Job(
            "baseline: GeoDataFrame.to_file GeoJSON (GDAL)",
            lambda: gdf.to_crs(4326).to_file(out / "b.geojson", driver="GeoJSON", engine="pyogrio"),
        )
        pyjson = Job(
            "baseline: json.dumps(__geo_interface__)",
            lambda: (out / "c.geojson").write_text(
                json.dumps(gdf.to_crs(4326).__geo_interface__, ensure_ascii=False), "utf-8"
            ),
        )
        gcj = Job(
            "planner write_geojson GCJ-02",
            lambda: ex.write_geojson(gdf, out / "d.geojson", coordinate_system="gcj02"),
        )
        gpkg = Job(
            "planner write_geopackage",
            lambda: ex.write_geopackage(out / "e.gpkg", layers={"buildings": gdf}),
        )
        shp = Job(
            "planner write_shapefiles",
            lambda: ex.write_shapefiles(out / "shp", layers={"buildings": gdf}),
        )
        csv = Job("planner write_csv", lambda: ex.write_csv(gdf, out / "f.csv"))
        jobs = [ours, gdal, pyjson, gcj, gpkg, shp, csv]
        interleave(jobs, runs)
        print_jobs(jobs, runs)
        size = (out / "a.geojson").stat().st_size / 1e6
        size_b = (out / "b.geojson").stat().st_size / 1e6
        mine = gpd.read_file(out / "a.geojson")
        same_features(mine, gpd.read_file(out / "b.geojson"), "write_geojson vs GDAL")
        # __geo_interface__ writes the row index as each feature's "id" member
        plain = gpd.read_file(out / "c.geojson").drop(columns="id")
        same_features(mine, plain, "write_geojson vs json.dumps")
        same_features(
            gpd.GeoDataFrame(gdf.drop(columns="geometry"), geometry=mine.geometry.array),
            mine,
            "write_geojson vs its input",
        )
    print("ratios (per run, lower is faster):")
    print(f"  write_geojson / GDAL to_file   {per_run(ours, gdal)}")
    print(f"  write_geojson / json.dumps     {per_run(ours, pyjson)}")
    print(f"  GCJ-02 / WGS84 write_geojson   {per_run(gcj, ours)}")
    print(f"  GeoPackage / GeoJSON           {per_run(gpkg, ours)}")
    print(f"  Shapefile / GeoJSON            {per_run(shp, ours)}")
    print(f"  CSV / GeoJSON                  {per_run(csv, ours)}")
    print(
        f"same answer: the three GeoJSON files hold the same {len(mine):,} features "
        "(properties equal, geometries within 1e-6 degrees)"
    )
    print(f"file size: planner {size:.1f} MB (7 decimals), GDAL {size_b:.1f} MB")


if __name__ == "__main__":
    main()
