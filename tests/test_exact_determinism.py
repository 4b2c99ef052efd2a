"""det14: the exact division does not depend on the clock (issue 14 item 5, 17 item 3).

Work limits (branch-and-bound nodes, rounds of cuts, tries) decide its answer; the
clock is only a safety. A clock that runs five times fast and loses 5 s more at every
reading (a machine far busier than the one the limits were set on) gives the same
labels and status as the real clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray

from planner.grids.exact import (
    ExactResult,
    exact_partition,
    rooted_partition,
    roots_of,
    settle,
)
from planner.synthetic.lattice import planted_lattice

pytest.importorskip("highspy")

G = planted_lattice(15, 10, 5, seed=0)
#: A start out of bounds (strips across the planted blocks): the rooted program and the
#: full program both run on it.
START = np.minimum(np.arange(G.n) // 25, 4)


def _slow_clock() -> Callable[[], float]:
    """A ``perf_counter`` five times fast that also jumps 5 s at every reading."""
    real = time.perf_counter
    t0 = real()
    calls = [0]

    def fake() -> float:
        calls[0] += 1
        return t0 + 5.0 * (real() - t0) + 5.0 * calls[0]

    return fake


def _runs() -> tuple[NDArray[np.int64], ExactResult, NDArray[np.int64] | None]:
    """:func:`settle` (which runs :func:`exact_partition`: the rooted program, then the
    full program) and :func:`rooted_partition` on the lattice from ``START``."""
    labels, proof = settle(
        G,
        np.arange(G.n),
        START,
        method="auto",
        time_limit_s=60,
        max_units=300,
        lo=400,
        hi=600,
        target=500,
    )
    assert proof is not None
    roots = roots_of(G, np.arange(G.n), START)
    rooted = rooted_partition(G.adj, G.weight, G.xy, roots, lo=400.0, hi=600.0, time_limit_s=60)
    return labels, proof, rooted


def test_a_slow_clock_gives_the_same_exact_division(monkeypatch: pytest.MonkeyPatch) -> None:
    labels, proof, rooted = _runs()
    assert proof.found and not proof.clock and proof.nodes >= 0
    monkeypatch.setattr("planner.grids.exact.time.perf_counter", _slow_clock())
    labels2, proof2, rooted2 = _runs()
    assert proof2.status == proof.status and not proof2.clock
    assert np.array_equal(labels2, labels) and proof2.nodes == proof.nodes
    assert rooted is not None and rooted2 is not None
    assert np.array_equal(rooted, rooted2)


def test_the_clock_safety_says_when_it_stopped_a_solve(monkeypatch: pytest.MonkeyPatch) -> None:
    from planner.grids.division import _exact_note

    real = time.perf_counter
    t0 = real()
    monkeypatch.setattr(
        "planner.grids.exact.time.perf_counter", lambda: t0 + 1000.0 * (real() - t0)
    )
    r = exact_partition(
        G, np.arange(G.n), time_limit_s=0.01, max_units=300, start=START, lo=400, hi=600, target=500
    )
    assert r.clock  # the 0.05-s safety (read 1000x fast) stopped it
    row = (0, "C1", r.units, 1.0, r.status, r.gap, r.time_s, 0.0, False, 0.0, r.clock, r.nodes)
    note = _exact_note(row, {})
    assert "stopped by the clock: not reproducible on another machine or load" in note
    assert "raise grid_exact_time_limit_s" in note


def test_the_node_settings_are_whole_numbers_of_at_least_one() -> None:
    from planner.errors import SettingsError
    from planner.settings import SETTING_STEPS, Settings

    s = Settings(grid_exact_max_nodes=50.0, grid_exact_total_nodes=400)
    assert s.grid_exact_max_nodes == 50 and isinstance(s.grid_exact_max_nodes, int)
    for bad in (0, 2.5, True, "300"):
        with pytest.raises(SettingsError, match="grid_exact_max_nodes"):
            Settings(grid_exact_max_nodes=bad)  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match="grid_exact_total_nodes"):
        Settings(grid_exact_total_nodes=-1)
    assert SETTING_STEPS["grid_exact_total_nodes"] == "grids"
