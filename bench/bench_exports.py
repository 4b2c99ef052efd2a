"""Benchmark the export writers on a synthetic layer of building footprints.

Run: PYTHONPATH=. .venv/bin/python bench/bench_exports.py [N_BUILDINGS] [--demo]

Prints the time of each writer and, as baselines measured in the same run,
GeoPandas' own GeoJSON writer (GDAL, ``to_file``) and the pure-Python route
(``json.dumps`` of ``__geo_interface__`` after the same reprojection).
With ``--demo`` it also times every file of the demo street's full export (the
``run`` command's export step), with the GeoPackage written with GDAL's default
per-transaction fsync as the baseline.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

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


def timed(label: str, fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    print(f"  {label:<44} {best * 1000:9.1f} ms")
    return best


def demo() -> None:
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
        ours = timed(
            "planner write_geopackage (no fsync)",
            lambda: ex.write_geopackage(Path(d) / "a.gpkg", layers=layers, tables=tables),
        )
        old = pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS")

        def with_fsync() -> None:
            pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "FULL"})
            try:
                for name, g in layers.items():
                    g.to_crs(4326).to_file(Path(d) / "b.gpkg", layer=name, engine="pyogrio")
            finally:
                pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": old})

        base = timed("baseline: to_file per layer, fsync (GDAL default)", with_fsync)
        print(f"  GeoPackage ours / baseline        {ours / base:5.2f}")


def main() -> None:
    if "--demo" in sys.argv:
        demo()
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    gdf = buildings(n)
    print(f"{n:,} building polygons (UTM 49N), best of 3")
    with tempfile.TemporaryDirectory() as d:
        out = Path(d)
        ours = timed(
            "planner write_geojson (RFC 7946)", lambda: ex.write_geojson(gdf, out / "a.geojson")
        )
        gdal = timed(
            "baseline: GeoDataFrame.to_file GeoJSON (GDAL)",
            lambda: gdf.to_crs(4326).to_file(out / "b.geojson", driver="GeoJSON", engine="pyogrio"),
        )
        pyjson = timed(
            "baseline: json.dumps(__geo_interface__)",
            lambda: (out / "c.geojson").write_text(
                json.dumps(gdf.to_crs(4326).__geo_interface__, ensure_ascii=False), "utf-8"
            ),
        )
        gcj = timed(
            "planner write_geojson GCJ-02",
            lambda: ex.write_geojson(gdf, out / "d.geojson", coordinate_system="gcj02"),
        )
        gpkg = timed(
            "planner write_geopackage",
            lambda: ex.write_geopackage(out / "e.gpkg", layers={"buildings": gdf}),
        )
        shp = timed(
            "planner write_shapefiles",
            lambda: ex.write_shapefiles(out / "shp", layers={"buildings": gdf}),
        )
        csv = timed("planner write_csv", lambda: ex.write_csv(gdf, out / "f.csv"))
        size = (out / "a.geojson").stat().st_size / 1e6
        size_b = (out / "b.geojson").stat().st_size / 1e6
    print("ratios (lower is faster):")
    print(f"  write_geojson / GDAL to_file      {ours / gdal:5.2f}")
    print(f"  write_geojson / json.dumps        {ours / pyjson:5.2f}")
    print(f"  GCJ-02 / WGS84 write_geojson      {gcj / ours:5.2f}")
    print(f"  GeoPackage / GeoJSON              {gpkg / ours:5.2f}")
    print(f"  Shapefile / GeoJSON               {shp / ours:5.2f}")
    print(f"  CSV / GeoJSON                     {csv / ours:5.2f}")
    print(f"file size: planner {size:.1f} MB (7 decimals), GDAL {size_b:.1f} MB")


if __name__ == "__main__":
    main()
