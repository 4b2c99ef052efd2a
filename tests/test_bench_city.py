"""``bench/bench_city.py``: the city on Dask and the sequential single-street runs are
timed run by run (the order alternating between rounds), with wall and CPU seconds that
count the Dask worker processes, and both sides' answers compared.

One real run (two small streets, job ``grids``, one worker process, one round: a few
seconds) checks the CPU accounting; the interleaving is checked on recorded calls.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import bench_city
from bench.bench_city import SEQUENTIAL, Run, bench, differences, schedule, worker_split
from planner.city.task import StreetOutcome
from planner.synthetic.city import CitySpec


@pytest.fixture(scope="module")
def small_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Run], Path]:
    """The bench's command line on ``demo-city:2``, job grids, one worker, one round."""
    saved = tmp_path_factory.mktemp("bench_city") / "runs.json"
    argv = ["--streets", "2", "--workers", "1", "--rounds", "1", "--job", "grids"]
    runs = bench_city.main([*argv, "--json", str(saved), "--keep", str(saved.parent / "kept")])
    return runs, saved


def test_sides_alternate_their_order_round_by_round() -> None:
    assert schedule(3, [1, 2]) == [
        ["city-1", "city-2", SEQUENTIAL],
        [SEQUENTIAL, "city-2", "city-1"],
        ["city-1", "city-2", SEQUENTIAL],
    ]


def test_the_bench_runs_the_sides_in_the_schedule_order(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Each side is run (not only listed) in the order of :func:`schedule`: city 1 worker,
    city 2 workers, sequential, then the reverse."""
    calls: list[tuple[int, str]] = []

    def fake(side: str):  # type: ignore[no-untyped-def]
        def work(run: Run) -> None:
            calls.append((run.round, run.side))
            assert run.side == side

        return work

    monkeypatch.setattr(bench_city, "sequential", lambda city, job, out: fake(SEQUENTIAL))
    monkeypatch.setattr(bench_city, "on_dask", lambda city, w, job, out: fake(f"city-{w}"))
    runs = bench(CitySpec(n_streets=1), [1, 2], 2, "grids", tmp_path)
    expected = [(1, "city-1"), (1, "city-2"), (1, SEQUENTIAL)]
    expected += [(2, SEQUENTIAL), (2, "city-2"), (2, "city-1")]
    assert calls == expected
    assert [(r.round, r.side) for r in runs] == expected


def test_city_cpu_counts_the_worker_processes_and_both_sides_agree(
    small_runs: tuple[list[Run], Path],
) -> None:
    """The city run's CPU holds its worker process's (reaped after the cluster closed):
    at least what the worker reported at the end of its last task, which holds its
    start-up and both tasks; so it is more than the sequential runs' CPU. The sequential
    runs start no child. Both sides give the same files street by street."""
    runs, saved = small_runs
    city, seq = runs
    assert (city.side, seq.side) == ("city-1", SEQUENTIAL)
    assert seq.children_cpu_s == pytest.approx(0.0, abs=0.05)
    assert seq.own_cpu_s > 0.3 and set(seq.each_cpu_s) == {"001", "002"}
    [worker] = city.workers
    assert worker.streets == 2 and worker.peak_mb > 100
    assert worker.before_first > 0.5  # a fresh process: interpreter and imports
    assert worker.tasks == pytest.approx(sum(city.each_cpu_s.values()))
    assert worker.at_last_end >= worker.before_first + worker.tasks - 0.01
    assert city.children_cpu_s >= worker.at_last_end
    assert city.cpu_s > seq.cpu_s
    assert city.wall_s > 0 and city.load_before and city.load_after and "UTC" in city.start
    assert set(seq.answers) == set(city.answers) == {"001", "002"}
    assert "grids.geojson" in seq.answers["001"]
    assert differences(runs) == [] and not city.failed and not seq.failed
    kept = saved.parent / "kept" / "city-2"  # --keep: every run's street folders stay
    assert (kept / "r1-city-1" / "streets" / "001" / "grids.geojson").is_file()
    assert (kept / f"r1-{SEQUENTIAL}" / "002" / "grids.geojson").is_file()
    written = json.loads(saved.read_text())
    assert [(r["side"], r["round"]) for r in written] == [("city-1", 1), (SEQUENTIAL, 1)]
    assert written[0]["children_cpu_s"] == pytest.approx(city.children_cpu_s)


def test_a_street_whose_files_differ_is_named_with_the_file() -> None:
    a = Run(SEQUENTIAL, 1, "", "", answers={"001": {"grids.geojson": "x", "summary.json": "s"}})
    b = Run("city-1", 1, "", "", answers={"001": {"grids.geojson": "y", "summary.json": "s"}})
    assert differences([a, b]) == ["city-1, round 1: street 001: grids.geojson"]


def test_worker_split_groups_outcomes_by_worker_process() -> None:
    """Before the first task = the worker's CPU at the end of its first task less that
    task's; tasks summed; the peak is the largest."""
    outs = [
        StreetOutcome("001", ok=True, cpu_seconds=3.0, process_cpu_s=5.0, peak_mb=300, pid=7),
        StreetOutcome("002", ok=True, cpu_seconds=2.0, process_cpu_s=7.5, peak_mb=320, pid=7),
        StreetOutcome("003", ok=True, cpu_seconds=4.0, process_cpu_s=6.0, peak_mb=310, pid=8),
    ]
    seven, eight = worker_split(outs)
    assert (seven.pid, seven.streets, seven.peak_mb) == (7, 2, 320)
    assert (seven.before_first, seven.tasks, seven.at_last_end) == (2.0, 5.0, 7.5)
    assert (eight.before_first, eight.tasks) == (2.0, 4.0)
