"""The division's repair loop (planner.grids._partition.repair) when a part disappears.

Street 002 of a 4-street synthetic city of ~4,000-building streets
(``CitySpec(n_streets=4, cols_per_street=5, rows=11, communities_per_street=12)``)
stopped with ``IndexError: index 3 is out of bounds for axis 0 with size 3``: a repair
merged the highest-numbered out-of-range part away, and the loop then read that part's
sum from a shorter table.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from planner.grids import _partition
from planner.grids._partition import Graph


def _row(n: int) -> Graph:
    a = np.arange(n - 1)
    m = sparse.coo_matrix((np.full(n - 1, 10.0), (a, a + 1)), shape=(n, n))
    return Graph(
        adj=(m + m.T).tocsr(),
        weight=np.full(n, 100.0),
        xy=np.column_stack([np.arange(n) * 10.0, np.zeros(n)]),
        area=np.full(n, 100.0),
        perimeter=np.full(n, 40.0),
    )


def test_repair_skips_a_part_merged_away_earlier_in_the_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []

    def merge_highest_into_first(_g, _nodes, _sub, labels, _w, p, _sums, **_kw):  # type: ignore[no-untyped-def]
        calls.append(int(p))
        if p == 0:
            labels[labels == 2] = 0  # part 2, also out of range, is merged away
            return True
        return False

    monkeypatch.setattr(_partition, "_repair_part", merge_highest_into_first)
    g = _row(6)
    labels = np.array([0, 0, 1, 1, 2, 2])
    out = _partition.repair(
        g, np.arange(6), labels, lo=300.0, hi=500.0, rng=np.random.default_rng(0), passes=1
    )
    assert calls == [0, 1]  # part 2 is gone: not repaired, not read
    assert out.tolist() == [0, 0, 1, 1, 0, 0]
