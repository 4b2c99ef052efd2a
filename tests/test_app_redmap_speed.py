"""The red map's cold open: the grids computed in a worker thread beside the street's
drawing and the coverage, circles and grids drawn in one rerun, and no street-only
paint when another tab already computed both (issue 19 item 9)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from planner.app import cache as app_cache
from planner.app import redmap_page
from planner.app import services as app_services
from planner.app.cache import forget_computed
from tests.app_street import CRS, tiny_street
from tests.map_coverage import coverage_layers

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, list[Any]]]:
    """The tiny street for every source (with hand-made, empty coverage layers: it has
    no walking network); records each red map drawing (with circles? with grids?) and
    the thread each grid division ran in."""
    import streamlit as st

    monkeypatch.setenv("PLANNER_AUTOSAVE_DIR", str(tmp_path / "autosave"))
    st.cache_data.clear()  # another test's results must not be served
    forget_computed()  # nor taken as computed by another tab
    record: dict[str, list[Any]] = {"maps": [], "grid_threads": []}
    monkeypatch.setattr(app_services, "load", lambda source, settings: tiny_street())
    coverage = dataclasses.replace(coverage_layers(CRS), coverage=SimpleNamespace(problems=[]))  # type: ignore[arg-type]
    monkeypatch.setattr(app_services, "coverage_for", lambda street, settings: coverage)
    grids_for = app_services.grids_for

    def divide(street: Any, settings: Any) -> Any:
        record["grid_threads"].append(threading.current_thread().name)
        return grids_for(street, settings)

    monkeypatch.setattr(app_services, "grids_for", divide)
    cached_map = app_cache.cached_map

    def draw(*args: Any) -> Any:
        record["maps"].append((args[6], args[7] != ""))  # with circles, with grids
        return cached_map(*args)

    monkeypatch.setattr(redmap_page, "cached_map", draw)
    yield record
    st.cache_data.clear()
    forget_computed()


def _open() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.clear()
    at.run(timeout=60)
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_cold_open_draws_street_then_circles_and_grids_in_one_rerun(
    drawn: dict[str, list[Any]],
) -> None:
    _open()
    # the street first (early paint), then circles and grids together: two drawings, not three
    assert drawn["maps"] == [(False, False), (True, True)], drawn["maps"]
    # the division ran once, in the script's own thread: no worker thread beside the
    # coverage (it saved nothing on two busy cores, docs/benchmarks/app.md)
    assert len(drawn["grid_threads"]) == 1, drawn["grid_threads"]
    assert not drawn["grid_threads"][0].startswith("planner-prefetch"), drawn["grid_threads"]


def test_a_restarted_server_draws_kept_circles_and_grids_at_once(
    drawn: dict[str, list[Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With the disk cache on, a new server process (empty in-process caches) finds
    the street, circles and grids an earlier one kept: one drawing, nothing recomputed."""
    import streamlit as st

    from planner.app import store

    monkeypatch.setenv(store.ENV, str(tmp_path / "app-cache"))
    _open()
    assert len(drawn["grid_threads"]) == 1
    st.cache_data.clear()  # the restart: nothing computed in this process
    forget_computed()
    drawn["maps"].clear()
    at = _open()
    assert drawn["maps"] == [(True, True)], drawn["maps"]  # no street-only paint
    assert len(drawn["grid_threads"]) == 1  # read from disk, not divided again
    assert at.session_state["page"] == "redmap"


def test_a_second_tab_draws_circles_and_grids_at_once(drawn: dict[str, list[Any]]) -> None:
    _open()
    drawn["maps"].clear()
    at = _open()  # a new session in the same process: both results are cached
    assert drawn["maps"] == [(True, True)], drawn["maps"]
    assert len(drawn["grid_threads"]) == 1  # not divided again
    assert at.session_state["page"] == "redmap"


def test_a_server_warmed_at_start_draws_circles_and_grids_at_once(
    drawn: dict[str, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The warm-up (:mod:`planner.app.warm`, run by :mod:`planner.app.serve` at server
    start) computes the default view's street, coverage, grids and rendered map into
    the caches the pages read: the first session draws circles and grids at once and
    renders nothing again."""
    from planner.app import map as app_map
    from planner.app import warm

    renders: list[int] = []
    payload = app_map.map_payload
    monkeypatch.setattr(app_map, "map_payload", lambda m: renders.append(1) or payload(m))
    warm.warm_default_view()
    assert len(renders) == 1 and len(drawn["grid_threads"]) == 1
    at = _open()
    assert drawn["maps"] == [(True, True)], drawn["maps"]  # no street-only paint
    assert len(renders) == 1, "the warmed map was rendered again"
    assert len(drawn["grid_threads"]) == 1  # not divided again
    assert at.session_state["page"] == "redmap"


def test_a_first_run_during_the_warm_up_paints_the_street_and_takes_its_results(
    drawn: dict[str, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A browser that connects while the warm-up is still computing the coverage sees
    the street first (the first paint is not delayed) and then the warm-up's circles
    and grids: each computed once, by the warm-up, never a second time by the page."""
    from planner.app import warm

    started, release = threading.Event(), threading.Event()
    coverage_for = app_services.coverage_for
    coverages: list[str] = []

    def slow_coverage(street: Any, settings: Any) -> Any:
        coverages.append(threading.current_thread().name)
        started.set()
        release.wait(timeout=30)
        return coverage_for(street, settings)

    monkeypatch.setattr(app_services, "coverage_for", slow_coverage)
    worker = threading.Thread(target=warm.warm_default_view, name="planner-warm-up")
    worker.start()
    assert started.wait(timeout=30)
    threading.Timer(0.5, release.set).start()  # the coverage finishes during the page's run
    at = _open()
    worker.join(timeout=30)
    assert drawn["maps"] == [(False, False), (True, True)], drawn["maps"]
    assert coverages == ["planner-warm-up"], coverages  # computed once, by the warm-up
    # divided once (by the warm-up or the page, whichever asked first: never both)
    assert len(drawn["grid_threads"]) == 1, drawn["grid_threads"]
    assert at.session_state["page"] == "redmap"
