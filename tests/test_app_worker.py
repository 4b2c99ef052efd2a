"""The app's worker process (planner.app.worker) and how the red map's grids reach it
(planner.app.cache.prefetch_grids): the division of a cold open is computed in another
process while the script draws the street and computes the circles (issue 19 item 9).

One worker process is started for this module (it imports the planner first: a few
seconds); the jobs are tiny.
"""

from __future__ import annotations

import json
import operator
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from planner.app import cache as app_cache
from planner.app import services as app_services
from planner.app import worker
from planner.settings import Settings


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The worker on, nothing in flight before or after a test."""
    import streamlit as st

    monkeypatch.setenv(worker.ENV, "on")
    st.cache_data.clear()
    app_cache.forget_computed()
    yield
    st.cache_data.clear()
    app_cache.forget_computed()


def _counting(value: Any) -> tuple[list[int], Callable[[], Any]]:
    calls: list[int] = []

    def compute() -> Any:
        calls.append(1)
        return value

    return calls, compute


def test_a_job_runs_in_another_process_and_its_result_is_taken_once() -> None:
    assert worker.submit("pid", os.getpid)
    assert worker.in_flight("pid")
    calls, here = _counting(-1)
    pid = worker.result("pid", here)
    assert pid == worker.worker_pid() and pid != os.getpid()
    assert calls == []  # not computed here
    assert not worker.in_flight("pid")  # taken: a later request computes anew
    assert worker.result("pid", here) == -1 and calls == [1]


def test_a_key_in_flight_is_not_submitted_twice() -> None:
    assert worker.submit("sum", operator.add, 2, 3)
    assert worker.submit("sum", operator.add, 40, 2)  # same key: the first job stands
    assert worker.result("sum", lambda: 0) == 5


def test_a_job_that_fails_in_the_worker_is_computed_by_the_caller() -> None:
    """The caller then raises the planner's own error (here: the fallback's value)."""
    worker.submit("bad", operator.truediv, 1, 0)
    calls, here = _counting("computed here")
    assert worker.result("bad", here) == "computed here" and calls == [1]


def test_a_dead_worker_is_started_again() -> None:
    """The job that finds the worker dead is computed by the caller; the next job
    starts a new worker."""
    worker.submit("pid", os.getpid)
    first = worker.result("pid", lambda: None)
    os.kill(first, 9)
    worker.submit("after the death", os.getpid)
    assert worker.result("after the death", lambda: "here") in ("here", worker.worker_pid())
    worker.submit("pid again", os.getpid)
    second = worker.result("pid again", lambda: None)
    assert second is not None and second != first and second != os.getpid()


def test_the_worker_off_computes_in_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(worker.ENV, "off")
    assert not worker.submit("sum", operator.add, 2, 3)
    calls, here = _counting(7)
    assert worker.result("sum", here) == 7 and calls == [1]


def _street_folder(tmp_path: Path) -> str:
    street = tmp_path / "street"
    street.mkdir()
    (street / "boundary.geojson").write_text(
        '{"type": "FeatureCollection", "features": []}', encoding="utf-8"
    )
    return json.dumps({"kind": "upload", "path": str(street)}, sort_keys=True)


def test_a_cold_division_is_prefetched_and_taken_from_the_worker(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The key the sidebar's prefetch submits is the one the grids step takes: the
    division is not computed again in the script's process."""
    submitted: list[tuple[Any, ...]] = []
    taken: list[Any] = []
    monkeypatch.setattr(
        worker, "submit", lambda key, job, *args: submitted.append((key, job, args)) or True
    )

    def take(key: Any, compute: Callable[[], Any]) -> Any:
        taken.append(key)
        return "the worker's division"

    monkeypatch.setattr(worker, "result", take)
    sj = _street_folder(tmp_path)
    tj = app_cache.settings_json(Settings())
    assert app_cache.prefetch_grids(sj, tj)
    ((key, job, args),) = submitted
    step_tj = app_cache.for_result(tj, "grids")
    assert key == ("grids", sj, step_tj)
    assert job is app_services.grids_of_source and args == (sj, step_tj)
    # a walking-speed change does not touch the grids' settings: the same key
    faster = app_cache.settings_json(Settings(walk_speed_kmh=4.5))
    assert app_cache.for_result(faster, "grids") == step_tj
    assert app_cache.cached_grids(sj, faster) == "the worker's division"
    assert taken == [key]
    # computed now: a rerun or another tab submits nothing
    assert not app_cache.prefetch_grids(sj, tj)
    assert len(submitted) == 1


def test_a_grid_setting_change_prefetches_a_new_division(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    submitted: list[Any] = []
    monkeypatch.setattr(worker, "submit", lambda key, job, *args: submitted.append(key) or True)
    sj = _street_folder(tmp_path)
    app_cache.prefetch_grids(sj, app_cache.settings_json(Settings()))
    other = Settings(grid_max_households=Settings().grid_max_households + 50)
    app_cache.prefetch_grids(sj, app_cache.settings_json(other))
    assert len(submitted) == 2 and submitted[0] != submitted[1]


def test_nothing_is_sent_to_the_worker_for_a_replaced_division_or_a_place(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A replaced load or division (a test's) is not what the worker would run; a
    ``place:`` source is not files (the worker would fetch it a second time)."""
    submitted: list[Any] = []
    monkeypatch.setattr(worker, "submit", lambda key, job, *args: submitted.append(key) or True)
    tj = app_cache.settings_json(Settings())
    place = json.dumps({"kind": "place", "name": "学院路街道"}, sort_keys=True)
    assert not app_cache.prefetch_grids(place, tj)
    monkeypatch.setattr(app_services, "grids_for", lambda street, settings: None)
    assert not app_cache.prefetch_grids(_street_folder(tmp_path), tj)
    assert submitted == []
