"""Memory of many-station circle runs (issue 20): the circles kept from batch to batch
are stored compactly and come back vertex for vertex, each batch's memory is handed
back before the next, and the budget's memory estimate covers what is kept."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from planner.coverage import _kept, circles
from planner.coverage._kept import KeptCircles, release_freed_memory
from planner.coverage.budget import FIELD_PIECE_FACTOR, MB_PER_PIECE, estimate_circle_work
from planner.coverage.figures import compute_coverage
from planner.settings import Settings
from tests.test_budget import _street

#: Bytes a kept circle may take per vertex in the store: WKB's 16 (two doubles) plus
#: its ring and part headers, spread over the ring's vertices.
KEPT_BYTES_PER_VERTEX = 18.0


def test_kept_circles_come_back_vertex_for_vertex_in_16_bytes_a_vertex() -> None:
    ring = shapely.Point(0, 0).buffer(100.0, quad_segs=64)
    holed = ring.difference(shapely.Point(10, 10).buffer(20.0))
    multi = shapely.MultiPolygon([ring, shapely.box(300, 300, 310, 330)])
    batch1 = [np.asarray([holed, None, multi], dtype=object), np.asarray([ring] * 3, dtype=object)]
    batch2 = [
        np.asarray([shapely.Polygon()], dtype=object),
        np.asarray([shapely.box(0, 0, 1e-3, 1e-3)], dtype=object),
    ]
    kept = KeptCircles(2)
    kept.add(batch1)
    kept.add(batch2)
    vertices = sum(int(shapely.get_num_coordinates(b).sum()) for b in (*batch1, *batch2))
    assert kept.nbytes() <= KEPT_BYTES_PER_VERTEX * vertices + 64 * 8
    small, large = kept.polygons()
    want_small = [holed, shapely.Polygon(), multi, shapely.Polygon()]
    assert len(small) == 4 and len(large) == 4
    for got, want in zip(
        [*small, *large], [*want_small, ring, ring, ring, batch2[1][0]], strict=True
    ):
        assert shapely.to_wkb(got) == shapely.to_wkb(want)  # the same doubles
    assert not shapely.is_prepared(small).any()
    assert kept.nbytes() == 0  # each blob dropped once decoded


def test_freed_memory_is_handed_back_on_linux() -> None:
    assert release_freed_memory() is True  # the suite runs on Linux (glibc)


def test_each_batch_keeps_only_its_circles_within_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """40 stations in batches of 5: one hand-back per batch; what is kept between
    batches is the store (about 16 bytes a vertex), within the budget's memory per
    network piece, and the circles are those drawn in one batch."""
    cov = compute_coverage(_street(40), settings=Settings(max_stations=40))
    work = estimate_circle_work(cov)
    ids = cov.stations["station_id"].tolist()
    whole = cov.circle_builder().station_circles(None, cov.thresholds, station_ids=ids)

    handed: list[bool] = []
    kept_bytes: list[int] = []
    real_polygons = KeptCircles.polygons

    def spy_polygons(self: KeptCircles) -> list[np.ndarray]:
        kept_bytes.append(self.nbytes())
        return real_polygons(self)

    def spy_release() -> bool:
        handed.append(True)
        return True

    monkeypatch.setattr(circles, "release_freed_memory", spy_release)
    monkeypatch.setattr(_kept.KeptCircles, "polygons", spy_polygons)
    monkeypatch.setattr(circles, "CIRCLE_BATCH_ROWS", 5 * (cov.net.n_edges + 1))
    own = cov.circle_builder().station_circles(None, cov.thresholds, station_ids=ids)

    assert len(handed) == 8  # 40 stations, 5 a batch
    vertices = int(shapely.get_num_coordinates(own.geometry.to_numpy()).sum())
    assert kept_bytes[0] <= KEPT_BYTES_PER_VERTEX * vertices
    pieces = work.pieces_per_station * work.stations
    assert kept_bytes[0] <= pieces * MB_PER_PIECE * FIELD_PIECE_FACTOR * 2**20
    assert own[["station_id", "minutes"]].equals(whole[["station_id", "minutes"]])
    for a, b in zip(own.geometry, whole.geometry, strict=True):
        assert a.symmetric_difference(b).area < 1e-6


#: A fresh process drawing the 40-station lattice's circles: its resident memory when
#: the circles start, its peak after them and the budget's estimate, MB.
_MEASURE = r"""
import json
from planner.coverage.budget import estimate_circle_work
from planner.coverage.figures import compute_coverage
from planner.settings import Settings
from tests.test_budget import _street

cov = compute_coverage(_street(40), settings=Settings(max_stations=40))
work = estimate_circle_work(cov)
builder = cov.circle_builder()
def kb(field):
    with open("/proc/self/status") as f:
        return next(int(x.split()[1]) for x in f if x.startswith(field + ":"))

with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # the peak (VmHWM) starts again from the memory now
start = kb("VmRSS") / 1024
builder.station_circles(None, cov.thresholds, station_ids=cov.stations["station_id"].tolist())
peak = kb("VmHWM") / 1024
print(json.dumps({"start": start, "peak": peak, "estimate": work.memory_mb}))
"""


def test_the_memory_estimate_covers_a_measured_peak_on_a_small_case() -> None:
    """The circles of 40 stations on a 5 x 5 lattice in a fresh process (its peak is
    the circles' own): the growth of resident memory is within the estimate and not
    far below it (the estimate is fitted on the demo street's walled compounds, which
    draw heavier than the lattice: 0.4x here)."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    run = subprocess.run(
        [sys.executable, "-c", _MEASURE], cwd=root, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-2000:]
    got = json.loads(run.stdout.strip().splitlines()[-1])
    growth = got["peak"] - got["start"]
    assert 0.2 * got["estimate"] <= growth <= got["estimate"], got


def _points_by_routing_graph(rg, points, limit_min: float) -> dict[tuple[int, int], float]:  # type: ignore[no-untyped-def]
    """Reference: each station searched on the routing graph holding every station as
    a node, a point timed from its piece's two ends (the method before issue 20)."""
    from planner.network.routing import station_reach

    reach = station_reach(rg, limit_min=limit_min)
    t = {
        (int(s), int(n)): float(m)
        for s, n, m in zip(reach.station, reach.node, reach.time_min, strict=True)
    }
    out: dict[tuple[int, int], float] = {}
    speed = rg.speed_m_per_min
    for k in np.flatnonzero(points.ok):
        p = int(rg.locate(points.edge[[k]], points.offset_m[[k]])[0])
        x = float(np.clip(points.offset_m[k], rg.start_m[p], rg.end_m[p]))
        for s in range(len(rg.station_node)):
            best = min(
                t.get((s, int(rg.a[p])), np.inf) + (x - rg.start_m[p]) / speed,
                t.get((s, int(rg.b[p])), np.inf) + (rg.end_m[p] - x) / speed,
            )
            if best <= limit_min + 1e-9:
                out[(s, int(k))] = min(best, limit_min)
    return out


def test_station_point_minutes_walk_each_station_alone_in_chunks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The 2SFCA's station x building minutes: each station walks the network alone, a
    chunk of stations at a time (with 20,000 stations the routing graph holding every
    station listed ~10 GB of station x station rows), and the minutes are those of
    the routing graph's, pair for pair, stations sharing an edge included."""
    from planner.network import routing

    cov = compute_coverage(_street(40), settings=Settings(max_stations=40))
    rg, points = cov.rg, cov.building_snap
    want = _points_by_routing_graph(rg, points, 4.0)
    chunks: list[int] = []
    real = routing.network_reach

    def spy(*args: object, **kwargs: object) -> routing.Reach:
        out = real(*args, **kwargs)  # type: ignore[arg-type]
        chunks.append(int(np.max(out.node, initial=-1)))
        return out

    monkeypatch.setattr(routing, "network_reach", spy)
    monkeypatch.setattr(routing, "POINT_MINUTES_ROWS", 7 * (rg.net.n_nodes + 1))
    got = routing.station_point_minutes(rg, points, limit_min=4.0).tocoo()
    assert len(chunks) == 6  # 40 stations, 7 a chunk
    assert max(chunks) < rg.net.n_nodes  # network nodes only: no station x station rows
    pairs = {(int(r), int(c)): float(v) for r, c, v in zip(got.row, got.col, got.data, strict=True)}
    assert pairs.keys() == want.keys() and len(pairs) > 100
    assert max(abs(pairs[k] - want[k]) for k in want) < 1e-9
