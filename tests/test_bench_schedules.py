"""The benches of issue 20 item 1 take ours and the baseline in turn, run by run, with the
order alternating, warm and in fresh processes, and compare their answers.

Each test replaces the timed calls with recorders (the heavy work is not run) and checks
the order the bench calls them in: putting the sides back in blocks (all of ours, then
all of the baseline) fails here. Where cheap, the real sides run on a tiny input.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from bench import (
    _interleave,
    bench_coverage,
    bench_grids,
    bench_osm,
    bench_siting,
    bench_synthetic,
    bench_verge_cut,
)


def alternating(a: str, b: str, rounds: int) -> list[str]:
    """``a b b a a b ...``: two sides over ``rounds`` rounds, the order reversed each."""
    return [x for r in range(rounds) for x in ((a, b) if r % 2 == 0 else (b, a))]


def recording_job(log: list[str], label: str, out: object = "") -> _interleave.Job:
    """A :class:`Job` that logs ``label`` and returns ``out`` (stands for a fresh process)."""
    return _interleave.Job(
        label, lambda: log.append(label) or out, clock=_interleave.children_cpu, keep=True
    )


# ----------------------------------------------------------------------------- helpers
def test_cold_job_runs_a_fresh_process_and_reads_its_json() -> None:
    job = _interleave.cold_job("echo", [sys.executable, "-c", "print('x'); print('{\"a\": 1}')"])
    _interleave.rotate([job], 2)
    assert len(job.wall) == 2 and all(w > 0 for w in job.wall)
    assert _interleave.last_json(job.result) == {"a": 1}
    failing = _interleave.fresh([sys.executable, "-c", "import sys; sys.exit('bad input')"])
    with pytest.raises(SystemExit, match="exit 1"):
        failing()


# ------------------------------------------------------------------------------ siting
def tiny_problem() -> Any:
    from planner.siting import CoverageProblem

    minutes = sp.csr_matrix(
        np.array([[1.0, 2.0, 0, 0, 0], [0, 3.0, 4.0, 0, 0], [0, 0, 0, 5.0, 6.0], [0, 0, 0, 0, 1.0]])
    )
    return CoverageProblem.build(
        weights=[10, 20, 30, 40, 50], minutes=minutes, threshold_min=15, fixed=[0, 0, 0, 1]
    )


def patch_siting(
    monkeypatch: pytest.MonkeyPatch, log: list[str], spopt_sites: Callable[[], object]
) -> None:
    real = bench_siting.ours_plan

    def ours(p: Any, k: int, limit_s: float) -> Any:
        log.append("ours")
        return real(p, k, limit_s)

    def spopt(a: Any, k: int) -> object:
        log.append("spopt")
        return spopt_sites()

    best = real(tiny_problem(), 2, 10).sites

    def cold(label: str, args: list[str], **kw: object) -> _interleave.Job:
        side = args[-1]
        sites = spopt_sites() if side == "spopt" else best
        out = json.dumps({"sites": [int(x) for x in np.asarray(sites)]})
        return recording_job(log, f"cold {side}", out)

    monkeypatch.setattr(bench_siting, "ours_plan", ours)
    monkeypatch.setattr(bench_siting, "spopt_sites", spopt)
    monkeypatch.setattr(bench_siting, "cold_job", cold)


def test_siting_takes_turns_warm_and_cold(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    p = tiny_problem()
    best = bench_siting.ours_plan(p, 2, 10).sites
    log: list[str] = []
    patch_siting(monkeypatch, log, lambda: best)
    r = bench_siting.time_k(p, 2, tmp_path / "p.npz", spopt=True, limit_s=10, runs=3, cold_runs=2)
    assert log == alternating("ours", "spopt", 3) + alternating("cold ours", "cold spopt", 2)
    assert len(r["values"]["ours"]) == 5 and len(r["values"]["spopt"]) == 5
    assert set(r["values"]["ours"]) == set(r["values"]["spopt"]) == {90.0}  # sites 1 and 2


def test_siting_reports_a_different_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    log: list[str] = []
    patch_siting(monkeypatch, log, lambda: np.array([2], np.int64))  # 40 households, not 90
    ok = bench_siting.run_case("tiny", tiny_problem(), [2], spopt=True, limit_s=10, runs=1)
    assert not ok
    log.clear()
    best = bench_siting.ours_plan(tiny_problem(), 2, 10).sites
    patch_siting(monkeypatch, log, lambda: best)
    assert bench_siting.run_case("tiny", tiny_problem(), [2], spopt=True, limit_s=10, runs=1)


def test_siting_child_reads_the_saved_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = tiny_problem()
    bench_siting.save_problem(p, tmp_path / "p.npz")
    bench_siting.child("ours", tmp_path / "p.npz", 2, 10)
    sites = json.loads(capsys.readouterr().out.splitlines()[-1])["sites"]
    assert p.households_covered(sites) - p.households_covered_before == 90.0


# ---------------------------------------------------------------------------- coverage
def tiny_routing() -> Any:
    from planner.network.routing import with_stations
    from planner.network.walk import from_layers, snap_points

    nodes, edges = bench_coverage.lattice(8)
    net = from_layers(nodes, edges)
    st = snap_points(net, bench_coverage.random_points(net, 3, seed=3), max_m=1e9)
    return net, with_stations(net, st)


def test_networkx_takes_turns_with_ours_and_agrees(monkeypatch: pytest.MonkeyPatch) -> None:
    log: list[str] = []
    real_ours, real_nx = bench_coverage.nearest_times, bench_coverage.nx_nearest
    monkeypatch.setattr(
        bench_coverage, "nearest_times", lambda *a, **k: log.append("ours") or real_ours(*a, **k)
    )
    monkeypatch.setattr(
        bench_coverage, "nx_nearest", lambda *a, **k: log.append("networkx") or real_nx(*a, **k)
    )
    _net, rg = tiny_routing()
    r = bench_coverage.nx_against_ours(rg, bench_coverage.to_networkx(rg), repeat=3)
    assert len(log) >= 6 and log == alternating("ours", "networkx", len(log) // 2)
    assert bench_coverage.same_times(r["ours"][2], r["networkx"][2], rg.n_nodes)
    # the bench's own table row goes through it (not networkx timed once)
    log.clear()
    bench_coverage.bench_times("tiny", _net, [3], ego_sample=3, full_ego=True)
    assert log.count("networkx") >= 3
    assert "networkx networkx networkx" not in " ".join(log)
    row = [r for r in bench_coverage.ROWS if "multi_source" in r["what"]][-1]
    assert "same times: True" in row["note"]


# --------------------------------------------------------------------------------- OSM
def test_osm_takes_turns_warm_and_cold(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    log: list[str] = []
    sides = ("bare", "read_osm", "load_street")
    monkeypatch.setattr(
        bench_osm,
        "warm_sides",
        lambda *a: {s: (lambda s=s: log.append(s)) for s in sides},
    )
    monkeypatch.setattr(
        bench_osm, "cold_jobs", lambda *a: [recording_job(log, f"cold {s}") for s in sides]
    )
    bench_osm.time_case(
        tmp_path / "x.osm", None, tmp_path / "b.geojson", "xml", print, runs=2, cold_runs=3
    )
    warm = ["bare", "read_osm", "load_street", "load_street", "read_osm", "bare"]
    cold = ["bare", "read_osm", "load_street", "read_osm", "load_street", "bare"]
    cold += ["load_street", "bare", "read_osm"]
    assert log == warm + [f"cold {s}" for s in cold]


# --------------------------------------------------------------------------- synthetic
def test_synthetic_takes_turns_warm_and_cold(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import planner.synthetic.demo as demo

    street = demo.make_district(1)
    log: list[str] = []
    real_ours, real_base = demo.write_folder, bench_synthetic.write_pyogrio
    monkeypatch.setattr(demo, "write_folder", lambda *a: log.append("ours") or real_ours(*a))
    monkeypatch.setattr(
        bench_synthetic, "write_pyogrio", lambda *a: log.append("pyogrio") or real_base(*a)
    )
    folders = {s: json.dumps({"folder": str(tmp_path / s)}) for s in ("ours", "pyogrio")}
    monkeypatch.setattr(
        bench_synthetic,
        "cold_jobs",
        lambda *a: [recording_job(log, f"cold {s}", out) for s, out in folders.items()],
    )
    _warm, cold, check, cold_check = bench_synthetic.time_case(
        street, tmp_path, runs=2, cold_runs=2
    )
    # warm rounds, the untimed writes compared, then the fresh-process rounds
    warm = alternating("ours", "pyogrio", 2)
    assert log == [*warm, "ours", "pyogrio", *alternating("cold ours", "cold pyogrio", 2)]
    assert [len(job.wall) for job in cold] == [2, 2]
    assert check.startswith("same") and cold_check.startswith("same")


def test_synthetic_children_write_the_same_layers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pickle

    from planner.synthetic.demo import make_district

    street = make_district(1)
    with (tmp_path / "s.pickle").open("wb") as f:
        pickle.dump({"layers": street.layers, "metadata": street.metadata}, f)
    out = {}
    for side in ("ours", "pyogrio"):
        bench_synthetic.child(side, tmp_path / "s.pickle", tmp_path)
        out[side] = Path(json.loads(capsys.readouterr().out.splitlines()[-1])["folder"])
    assert bench_synthetic.compare(out["ours"], out["pyogrio"]).startswith("same")
    assert (out["ours"] / "street.json").exists()


# ------------------------------------------------------------------ grids, verge cut
def test_repair_off_and_on_take_turns(monkeypatch: pytest.MonkeyPatch) -> None:
    log: list[str] = []

    def divide(street: object, *, settings: Any, atoms: object) -> object:
        log.append("on" if settings.grid_repair_thin else "off")
        return None

    monkeypatch.setattr(bench_grids, "divide", divide)
    timed = bench_grids.time_repair(None, None, 3)  # type: ignore[arg-type]
    assert log == ["off", *alternating("off", "on", 3)]  # one untimed division first
    assert [len(timed[s]) for s in ("off", "on")] == [3, 3]


def test_verge_cut_settings_take_turns(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    log: list[str] = []
    monkeypatch.setattr(bench_verge_cut, "_child", lambda folder, cut: log.append(cut) or {})
    bench_verge_cut.run_rounds(tmp_path, 3)
    assert log == alternating("off", "features", 3)


def test_ego_graph_takes_turns_with_ours_on_the_same_stations_and_agrees(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log: list[str] = []
    real_ours, real_ego = bench_coverage.station_reach, bench_coverage.nx.ego_graph
    monkeypatch.setattr(
        bench_coverage, "station_reach", lambda *a, **k: log.append("ours") or real_ours(*a, **k)
    )
    monkeypatch.setattr(
        bench_coverage.nx, "ego_graph", lambda *a, **k: log.append("ego") or real_ego(*a, **k)
    )
    _net, rg = tiny_routing()
    g = bench_coverage.to_networkx(rg)
    r = bench_coverage.ego_against_ours(rg, g, 3, repeat=3)
    # a run of ours is one station_reach call, a run of networkx three ego graphs
    runs: list[str] = []
    for i, side in enumerate(log):
        if side == "ours" or log[: i + 1].count("ego") % 3 == 0:
            runs.append(side)
    assert len(runs) >= 6 and runs == alternating("ours", "ego", len(runs) // 2)
    assert bench_coverage.same_reach(r["ours"][2], r["networkx"][2])
    # a different answer is seen
    r["networkx"][2][0].remove_node(next(iter(r["networkx"][2][0])))
    assert not bench_coverage.same_reach(r["ours"][2], r["networkx"][2])
