"""The red map's cold open: the street drawn first, then the circles (drawn before the
grid division is computed), then the grids; no progressive paint when another tab or an
earlier server already computed both (issue 19 item 9)."""

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


def test_cold_open_draws_street_then_circles_then_grids(
    drawn: dict[str, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The circles are drawn before the division is computed: the division starts only
    once the circles' map was drawn (cold open to circles, issue 19 item 9)."""
    maps_before_division: list[int] = []
    divide = app_services.grids_for

    def counted(street: Any, settings: Any) -> Any:
        maps_before_division.append(len(drawn["maps"]))
        return divide(street, settings)

    monkeypatch.setattr(app_services, "grids_for", counted)
    _open()
    # the street first (early paint), then the circles, then circles and grids
    assert drawn["maps"] == [(False, False), (True, False), (True, True)], drawn["maps"]
    assert maps_before_division == [2], maps_before_division
    # the division ran once, in the script's own thread: no worker thread beside the
    # coverage (it saved nothing on two busy cores, docs/benchmarks/app.md)
    assert len(drawn["grid_threads"]) == 1, drawn["grid_threads"]
    assert not drawn["grid_threads"][0].startswith("planner-prefetch"), drawn["grid_threads"]


def test_a_settings_change_draws_the_new_circles_at_once(drawn: dict[str, list[Any]]) -> None:
    """Once the street's map was drawn complete, a new walking speed is computed before
    the map is drawn again: one drawing with the new circles and the grids, no map
    without circles in between (the settings change's time is to the new circles)."""
    at = _open()
    drawn["maps"].clear()
    at.sidebar.number_input[0].set_value(4.5)
    [apply] = [b for b in at.sidebar.button if b.label == "应用"]
    apply.click()
    at.run(timeout=60)
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["walk_speed_kmh"] == 4.5
    assert drawn["maps"] == [(True, True)], drawn["maps"]


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


def test_page_switches_compute_nothing_again(
    drawn: dict[str, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Red map -> overview -> editor -> red map: the coverage and the division are
    computed once, on the cold open, and the red map's drawing is not built again."""
    coverage_calls: list[int] = []
    coverage_for = app_services.coverage_for

    def counted(street: Any, settings: Any) -> Any:
        coverage_calls.append(1)
        return coverage_for(street, settings)

    monkeypatch.setattr(app_services, "coverage_for", counted)
    at = _open()
    assert len(coverage_calls) == 1 and len(drawn["grid_threads"]) == 1
    maps = len(drawn["maps"])
    for page in ("overview", "editor", "redmap"):
        at.sidebar.radio(key="w_page_zh").set_value(page)
        at.run(timeout=60)
        assert not at.exception, (page, [e.value for e in at.exception])
        assert at.session_state["page"] == page
    assert len(coverage_calls) == 1, "a page switch computed the coverage again"
    assert len(drawn["grid_threads"]) == 1, "a page switch divided the street again"
    assert drawn["maps"][maps:] == [(True, True)]  # the red map shown again, from the cache


def _app_imports() -> list[str]:
    """The modules ``app.py`` imports when it starts (its top-level imports)."""
    import ast

    tree = ast.parse(Path(APP).read_text(encoding="utf-8"))
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names += [f"{node.module}.{a.name}" for a in node.names]
    return names


def test_the_first_page_does_not_import_numba() -> None:
    """numba (about 0.3 s to import, and its kernels' cache to load) is only needed by
    the circle field's kernels and the grid division, which the red map computes after
    its first paint (the street alone): the app's start must not import it (issue 19
    item 9)."""
    import subprocess
    import sys

    names = _app_imports()
    assert "planner.app.redmap_page" in names  # the red map page, the first page shown
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ModuleNotFoundError:\n"
        "        pass  # a name imported from a module, not a module\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numba', 'llvmlite')))\n"
    )
    root = Path(APP).parent
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout
