"""Who each station serves: nearest station, and assignment under a capacity."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from planner.siting.assign import capacity_assignment, nearest_assignment


def matrix() -> sp.csr_matrix:
    # two stations, three buildings: station 0 is nearer to all of them
    return sp.csr_matrix(np.array([[1.0, 2.0, 3.0], [5.0, 6.0, 4.0]]))


def test_nearest_assignment() -> None:
    a = nearest_assignment(matrix(), np.array([100.0, 50.0, 30.0]))
    assert a.site.tolist() == [0, 0, 0]
    assert a.site_households.tolist() == [180.0, 0.0]
    assert a.household_minutes == 100 * 1 + 50 * 2 + 30 * 3


def test_capacity_sends_the_overflow_to_the_next_station_with_room() -> None:
    w = np.array([100.0, 50.0, 30.0])
    a = capacity_assignment(matrix(), w, capacity=np.array([130.0, 1000.0]))
    # everyone is served; station 0 is full
    assert a.served.sum() == 180
    assert a.site_households.tolist() == [130.0, 50.0]
    # cheapest overflow: building 2 moves (+1 min each), then 20 more households at +4
    assert a.site[2] == 1
    assert a.household_minutes == 100 * 1 + 50 * 2 + 30 * 3 + 30 * 1 + 20 * 4


def test_capacity_leaves_households_unserved_when_no_room() -> None:
    w = np.array([100.0, 50.0, 30.0])
    a = capacity_assignment(matrix(), w, capacity=np.array([60.0, 40.0]))
    assert a.served.sum() == 100
    assert a.site_households.tolist() == [60.0, 40.0]
