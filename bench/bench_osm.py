"""Benchmark: reading and loading OpenStreetMap extracts (.osm XML and .osm.pbf).

Run from the repository root::

    .venv/bin/python bench/bench_osm.py [--runs 5]

Cases
-----
* the real Haidian extract in ``tests/data/beijing-haidian-xueyuanlu`` (1.7 km², 257
  buildings), clipped to a drawn boundary inside its bounds;
* a synthetic street written by this script: about 5.4 km² (2.55 km × 2.1 km), a road
  grid every 150 m with arterials, one gated compound per block with a gate and a
  footway, 2,016 apartment buildings, shops, a river and a railway; as XML, and as
  PBF when pyosmium (``osmium``) is installed to convert it.

Figures: median wall and CPU seconds of ``--runs`` runs of
:func:`planner.load.osm.read_osm`, of ``load_street`` (read + validate + walking network +
households) when ``planner.load.sources`` is there, and of the baseline, the bare
third-party readers (osmnx ``graph_from_xml`` + ``features_from_xml``; pyrosm
``get_network`` + ``get_data_by_custom_criteria``) on the same file. The three are
interleaved run by run (baseline, ``read_osm``, ``load_street``, then the reverse order in
the next round, :mod:`_interleave`); the ratio column is the median of ``read_osm`` /
baseline, and each round's ratio (wall/CPU) is printed under the case. Both sides run in
this one process with the same threads. Each case is read once untimed by ``read_osm``
first (its layer counts; it imports osmnx or pyrosm, which the bare readers then use), so
these figures are warm; the reader cache is emptied before every timed run.
Cold figures (``--cold-runs`` rounds, issue 20): each of the three a fresh process per
run (``python bench/bench_osm.py --child bare|read_osm|load_street ...``: interpreter
start, imports and the read), taking turns run by run with the order rotating
(:func:`_interleave.rotate`); wall of the whole process, CPU from ``RUSAGE_CHILDREN``.
The bare reader's process imports osmnx or pyrosm only (no planner). The answer
check, warm and cold: the buildings the bare reader found (inside the clip boundary, by
representative point) against ``read_osm``'s and ``load_street``'s.
The issue's target: a whole street (about 5 km², 2,000 buildings) loads in under 30 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from shapely.geometry import box, mapping, shape

# bench/ on the path: its helpers import as top-level modules, run as a script or imported
# as bench.<script> by the tests
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _interleave as il  # type: ignore[import-not-found]
from _machine import processor  # type: ignore[import-not-found]

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REAL = ROOT / "tests" / "data" / "beijing-haidian-xueyuanlu"
REAL_BOUNDARY = box(116.34403, 39.99767, 116.35974, 40.00888).buffer(-0.001, join_style="mitre")

# synthetic street: origin, size and grid, metres / degrees
LON0, LAT0 = 116.300, 39.950
M_LAT = 1 / 111_320.0
M_LON = 1 / (111_320.0 * np.cos(np.radians(LAT0)))
WIDTH_M, HEIGHT_M, STEP_M, MARGIN_M = 2550.0, 2100.0, 150.0, 450.0


# ------------------------------------------------------------------ synthetic street


class _Writer:
    """Accumulates OSM XML elements with fresh ids."""

    def __init__(self) -> None:
        self.nodes: list[str] = []
        self.ways: list[str] = []
        self.next_node = 1
        self.next_way = 1

    def node(self, x_m: float, y_m: float, tags: dict[str, str] | None = None) -> int:
        nid = self.next_node
        self.next_node += 1
        lat, lon = LAT0 + y_m * M_LAT, LON0 + x_m * M_LON
        if tags:
            inner = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
            self.nodes.append(
                f'<node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}">{inner}</node>'
            )
        else:
            self.nodes.append(f'<node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
        return nid

    def way(self, refs: list[int], tags: dict[str, str]) -> int:
        wid = self.next_way
        self.next_way += 1
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        tg = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        self.ways.append(f'<way id="{wid}" version="1">{nds}{tg}</way>')
        return wid

    def ring(self, x0: float, y0: float, x1: float, y1: float, tags: dict[str, str]) -> list[int]:
        ids = [self.node(x0, y0), self.node(x1, y0), self.node(x1, y1), self.node(x0, y1)]
        self.way([*ids, ids[0]], tags)
        return ids


def write_synthetic(path: Path, *, tiles: int = 1) -> dict[str, int]:
    """Write the synthetic street (``tiles`` x ``tiles`` of them: a city) as OSM XML.

    Returns its element counts.
    """
    w = _Writer()
    width_m, height_m = WIDTH_M * tiles, HEIGHT_M * tiles
    xs = np.arange(-MARGIN_M, width_m + MARGIN_M + 1, STEP_M)
    ys = np.arange(-MARGIN_M, height_m + MARGIN_M + 1, STEP_M)
    grid = {(i, j): w.node(x, y) for i, x in enumerate(xs) for j, y in enumerate(ys)}
    # one way per road per block side, with a midpoint vertex
    for i, _x in enumerate(xs):
        hw = "primary" if i % 4 == 0 else "residential"
        for j in range(len(ys) - 1):
            mid = w.node(xs[i], (ys[j] + ys[j + 1]) / 2)
            w.way([grid[i, j], mid, grid[i, j + 1]], {"highway": hw, "name": f"南北{i}路"})
    for j, _y in enumerate(ys):
        hw = "secondary" if j % 4 == 0 else "residential"
        bridge_col = len(xs) // 2
        for i in range(len(xs) - 1):
            tags = {"highway": hw, "name": f"东西{j}街"}
            if i == bridge_col:
                tags["bridge"] = "yes"
            mid = w.node((xs[i] + xs[i + 1]) / 2, ys[j])
            w.way([grid[i, j], mid, grid[i + 1, j]], tags)
    buildings = 0
    for i in range(len(xs) - 1):
        for j in range(len(ys) - 1):
            x0, y0 = xs[i] + 12, ys[j] + 12
            x1, y1 = xs[i + 1] - 12, ys[j + 1] - 12
            inside = x0 >= 0 and x1 <= width_m and y0 >= 0 and y1 <= height_m
            if i == len(xs) // 2:  # the river's column: water, no compound
                w.ring(x0, y0, x1, y1, {"natural": "water", "name": "小月河"})
                continue
            if not inside:
                continue
            # compound with a gate on its south side and a footway to the road
            gx = (x0 + x1) / 2
            c = [
                w.node(x0, y0),
                w.node(gx, y0, {"barrier": "gate"}),
                w.node(x1, y0),
                w.node(x1, y1),
                w.node(x0, y1),
            ]
            w.way([*c, c[0]], {"landuse": "residential", "name": f"小区{i}-{j}"})
            road = w.node(gx, ys[j])
            w.way([c[1], road], {"highway": "footway"})
            inner = w.node(gx, (y0 + y1) / 2)
            w.way([c[1], inner], {"highway": "service", "name": "小区路"})
            # 3 x 3 apartment buildings
            for a in range(3):
                for b in range(3):
                    bx = x0 + 8 + a * 40
                    by = y0 + 10 + b * 38
                    w.ring(
                        bx,
                        by,
                        bx + 28,
                        by + 13,
                        {
                            "building": "apartments" if (a + b) % 2 else "residential",
                            "building:levels": str(6 + (a * 3 + b) % 12),
                        },
                    )
                    buildings += 1
            w.node(x1 - 5, y0 - 6, {"shop": "convenience", "name": f"便利店{i}-{j}"})
            if (i + j) % 7 == 0:
                w.node(x0 + 5, y0 - 6, {"amenity": "community_centre", "name": f"活动室{i}-{j}"})
    w.way(
        [w.node(-MARGIN_M, height_m + 60), w.node(width_m + MARGIN_M, height_m + 60)],
        {"railway": "rail", "name": "京包铁路"},
    )
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="bench_osm">\n'
        f'<bounds minlat="{LAT0:.7f}" minlon="{LON0:.7f}" '
        f'maxlat="{LAT0 + height_m * M_LAT:.7f}" maxlon="{LON0 + width_m * M_LON:.7f}"/>\n'
    )
    path.write_text(
        head + "\n".join(w.nodes) + "\n" + "\n".join(w.ways) + "\n</osm>\n", encoding="utf-8"
    )
    return {"nodes": len(w.nodes), "ways": len(w.ways), "buildings": buildings}


def synthetic_boundary(tile: int = 0) -> object:
    """The street: tile (``tile``, ``tile``) of the synthetic grid, WGS84."""
    x0, y0 = tile * WIDTH_M, tile * HEIGHT_M
    return box(
        LON0 + x0 * M_LON,
        LAT0 + y0 * M_LAT,
        LON0 + (x0 + WIDTH_M) * M_LON,
        LAT0 + (y0 + HEIGHT_M) * M_LAT,
    )


def to_pbf(xml: Path, pbf: Path) -> bool:
    """Convert with pyosmium if installed (bench only; not a planner dependency)."""
    try:
        import osmium
    except ImportError:
        return False
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(xml)):
            writer.add(obj)
    return True


# ------------------------------------------------------------------ baselines


Tags = dict[str, bool | list[str]]


def bare_xml(path: Path, tags: Tags) -> object:
    """osmnx's graph and features (``tags``: the planner's selection) of the whole file;
    returns the features (WGS84)."""
    import osmnx as ox

    ox.graph_from_xml(path, simplify=False, retain_all=True)
    return ox.features_from_xml(path, tags=dict(tags))


def bare_pbf(path: Path, tags: Tags) -> object:
    """pyrosm's network and features (``tags``) of the whole file; returns the features
    (WGS84)."""
    import pyrosm

    o = pyrosm.OSM(str(path), engine="in_memory")
    o.get_network("all")
    return o.get_data_by_custom_criteria(custom_filter=dict(tags), filter_type="keep")


BARE = {"xml": bare_xml, "pbf": bare_pbf}


def bare_buildings(features: object, clip: object) -> int:
    """Polygonal features tagged ``building`` in the bare reader's answer whose
    representative point lies inside ``clip`` (WGS84)."""
    import shapely

    if features is None or "building" not in getattr(features, "columns", ()):
        return 0
    tagged = features[features["building"].notna()]
    geoms = np.asarray(tagged.geometry.values)
    poly = np.isin(shapely.get_type_id(geoms), (3, 6))
    inside = shapely.contains(clip, shapely.point_on_surface(geoms[poly]))
    return int(inside.sum())


def loader() -> Callable[..., object] | None:
    try:
        from planner.load.sources import load_street
    except ImportError:
        return None
    return load_street


def boundary_file(geom: object, folder: Path, name: str) -> Path:
    import json

    p = folder / f"{name}.geojson"
    p.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": {"name": name}, "geometry": mapping(geom)}
                ],
            }
        )
    )
    return p


def read_boundary(path: Path) -> object:
    """The geometry of a boundary file written by :func:`boundary_file`."""
    import json

    return shape(json.loads(path.read_text())["features"][0]["geometry"])


def child(side: str, path: Path, bfile: Path, kind: str, tags: str) -> None:
    """A cold run's fresh process: read ``path`` one way, print the buildings found
    inside the boundary as JSON (the bare reader: osmnx or pyrosm only, no planner)."""
    import json

    clip = read_boundary(bfile)
    if side == "bare":
        n = bare_buildings(BARE[kind](path, json.loads(tags)), clip)
    elif side == "read_osm":
        from planner.load import osm

        n = len(osm.read_osm(path, clip=clip)["buildings"])
    else:
        from planner.load.sources import load_street

        n = len(load_street(str(path), boundary=str(bfile)).buildings)
    print(json.dumps({"buildings": int(n)}))


def warm_sides(
    path: Path, bnd: object, bfile: Path, kind: str, load_street: Callable[..., object] | None
) -> dict[str, Callable[[], object]]:
    """The in-process sides of a case: the bare reader, ``read_osm``, ``load_street``."""
    from planner.load import osm

    tags = dict(osm.FEATURE_SELECTION)
    sides: dict[str, Callable[[], object]] = {
        "bare": lambda: BARE[kind](path, tags),
        "read_osm": lambda: osm.read_osm(path, clip=bnd),
    }
    if load_street is not None:
        sides["load_street"] = lambda: load_street(str(path), boundary=str(bfile))
    return sides


def cold_jobs(path: Path, bfile: Path, kind: str, with_load: bool) -> list[il.Job]:
    """The fresh-process sides of a case (:func:`child`), each run's stdout kept."""
    import json

    from planner.load import osm

    cmd = [sys.executable, str(Path(__file__).resolve()), "--path", str(path)]
    cmd += ["--boundary", str(bfile), "--kind", kind]
    cmd += ["--tags", json.dumps(osm.FEATURE_SELECTION), "--child"]
    sides = ["bare", "read_osm"] + (["load_street"] if with_load else [])
    return [il.cold_job(side, [*cmd, side], cwd=ROOT, keep=True) for side in sides]


def time_case(
    path: Path,
    bnd: object,
    bfile: Path,
    kind: str,
    load_street: Callable[..., object] | None,
    *,
    runs: int,
    cold_runs: int,
) -> tuple[dict[str, Any], list[il.Job]]:
    """Warm runs (in process, :func:`interleave`, the reader cache emptied before each)
    and cold runs (:func:`cold_jobs`, :func:`rotate`) of one case."""
    from planner.load import osm

    warm = il.interleave(
        warm_sides(path, bnd, bfile, kind, load_street), runs, before=osm.clear_cache
    )
    cold = cold_jobs(path, bfile, kind, load_street is not None) if cold_runs else []
    il.rotate(cold, cold_runs)
    return warm, cold


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="warm runs per figure (median)")
    ap.add_argument(
        "--cold-runs", type=int, default=2, help="fresh-process runs per figure (2; 0: none)"
    )
    ap.add_argument("--child", choices=["bare", "read_osm", "load_street"], help=argparse.SUPPRESS)
    ap.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--boundary", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--kind", choices=sorted(BARE), default="xml", help=argparse.SUPPRESS)
    ap.add_argument("--tags", default="{}", help=argparse.SUPPRESS)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    if args.child:
        child(args.child, args.path, args.boundary, args.kind, args.tags)
        return 0
    from planner.load import osm

    load_street = loader()
    print(f"# bench_osm {il.utc()}, load {il.load()}")
    print(f"machine: {processor()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(
        f"warm: median of {args.runs} runs, baseline and ours interleaved run by run (order "
        f"reversed every round); cold: median of {args.cold_runs} fresh processes each, taking "
        "turns run by run (order rotating); ratio = read_osm / bare reader, wall\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        syn_xml = t / "synthetic.osm"
        t0 = time.perf_counter()
        counts = write_synthetic(syn_xml)
        print(
            f"synthetic street written in {time.perf_counter() - t0:.1f} s: "
            f"{counts['nodes']:,} nodes, {counts['ways']:,} ways, "
            f"{counts['buildings']:,} buildings, {syn_xml.stat().st_size / 1e6:.1f} MB XML"
        )
        syn_pbf = t / "synthetic.osm.pbf"
        have_pbf = to_pbf(syn_xml, syn_pbf)
        cases = [
            ("real Haidian .osm", REAL / "map.osm", REAL_BOUNDARY, "xml"),
            ("real Haidian .osm.pbf", REAL / "map.osm.pbf", REAL_BOUNDARY, "pbf"),
            ("synthetic 5 km² .osm", syn_xml, synthetic_boundary(), "xml"),
        ]
        if have_pbf:
            cases.append(("synthetic 5 km² .osm.pbf", syn_pbf, synthetic_boundary(), "pbf"))
            city_xml, city_pbf = t / "city.osm", t / "city.osm.pbf"
            c = write_synthetic(city_xml, tiles=3)
            to_pbf(city_xml, city_pbf)
            print(
                f"synthetic city (3 x 3 streets, 48 km²): {c['buildings']:,} buildings, "
                f"{city_pbf.stat().st_size / 1e6:.1f} MB PBF; its middle street is loaded"
            )
            cases.append(("city .osm.pbf, 1 street", city_pbf, synthetic_boundary(1), "pbf"))
        else:
            print("(pyosmium not installed: synthetic .pbf case skipped)")
        header = (
            f"{'case':<26} {'layers (read_osm)':<44} {'bare s':>7} {'CPU':>6} "
            f"{'read_osm s':>10} {'CPU':>6} {'ratio':>6} {'load_street s':>13} {'CPU':>6}"
        )
        print(header)
        print("-" * len(header))
        ok = True
        for label, path, bnd, kind in cases:
            layers = osm.read_osm(path, clip=bnd)
            summary = (
                f"b{len(layers['buildings'])} r{len(layers['roads'])} "
                f"c{len(layers['compounds'])} g{len(layers['gates'])} "
                f"p{len(layers['pois'])}"
            )
            bfile = boundary_file(bnd, t, label.split()[0] + "-" + kind)
            before = il.load()
            runs, cold = time_case(
                path, bnd, bfile, kind, load_street, runs=args.runs, cold_runs=args.cold_runs
            )
            (b_wall, b_cpu), (r_wall, r_cpu) = (
                il.medians(runs["bare"]),
                il.medians(runs["read_osm"]),
            )
            if "load_street" in runs:
                l_wall, l_cpu = il.medians(runs["load_street"])
                load_txt = f"{l_wall:13.2f} {l_cpu:6.2f}"
            else:
                load_txt = f"{'(no loader)':>13} {'':>6}"
            ratio = statistics.median(
                r.wall / max(b.wall, 1e-9)
                for r, b in zip(runs["read_osm"], runs["bare"], strict=True)
            )
            print(
                f"{label:<26} {summary:<44} {b_wall:7.2f} {b_cpu:6.2f} {r_wall:10.2f} "
                f"{r_cpu:6.2f} {ratio:6.2f} {load_txt}"
            )
            found = bare_buildings(runs["bare"][-1].result, bnd)
            print(
                f"    warm: per run read_osm/bare wall/CPU: {il.ratios(runs['read_osm'], runs['bare'])}; "
                f"buildings inside the boundary: bare {found}, read_osm {len(layers['buildings'])}"
            )
            ok &= found == len(layers["buildings"])
            for job in cold:
                print(f"    cold {il.job_line(job)}")
            if cold:
                print(f"    cold read_osm/bare wall/CPU {il.job_ratios(cold[1], cold[0])}")
                found_cold = {
                    j.label: sorted({il.last_json(o)["buildings"] for o in j.results}) for j in cold
                }
                print(f"    cold buildings inside the boundary, every run: {found_cold}")
                ok &= found_cold["bare"] == found_cold["read_osm"] == [len(layers["buildings"])]
            print(f"    load {before} -> {il.load()}")
    print("\ntarget (issue 3): a whole street of about 5 km² and 2,000 buildings loads in < 30 s")
    print("same buildings, bare and read_osm, warm and cold: " + ("yes" if ok else "**NO**"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
