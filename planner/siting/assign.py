"""Who each station would serve: nearest station, or an assignment under a capacity.

Without a capacity every household goes to its nearest open station within the
threshold (:func:`nearest_assignment`). With ``station_capacity_households`` > 0,
:func:`capacity_assignment` solves a transportation LP with HiGHS in two steps:
first serve as many households as the capacities allow, then, keeping that
number, make the total walking household-minutes as small as possible - i.e.
households go to the nearest station that still has room, optimally rather than
first-come-first-served. A building's households may be split between stations
(the LP is a transportation problem, so the split is in whole households).
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from planner.siting.highs import new_highs, rowwise_lp
from planner.siting.problem import FloatArray, IntArray, nearest_site


@dataclass(frozen=True)
class Assignment:
    """Households per (site, demand point).

    Attributes
    ----------
    site
        For each demand point, the site serving most of its households (-1: none).
    minutes
        Walking minutes from that site, ``inf`` when unserved.
    served
        Households served per demand point (may be below its households when
        capacities run out).
    site_households
        Households served per site (rows of the matrix given).
    household_minutes
        Total walking minutes of the served households (household-minutes).
    """

    site: IntArray
    minutes: FloatArray
    served: FloatArray
    site_households: FloatArray
    household_minutes: float = 0.0


def nearest_assignment(minutes: sp.csr_matrix, weights: FloatArray) -> Assignment:
    """Each demand point to its nearest site within the threshold (stored entries)."""
    site, best = nearest_site(minutes)
    ok = site >= 0
    served = np.where(ok, weights, 0.0)
    per_site = np.bincount(site[ok], weights=weights[ok], minlength=minutes.shape[0]).astype(
        np.float64
    )
    hm = float((np.where(ok, best, 0.0) * served).sum())
    return Assignment(
        site=site, minutes=best, served=served, site_households=per_site, household_minutes=hm
    )


def capacity_assignment(
    minutes: sp.csr_matrix,
    weights: FloatArray,
    *,
    capacity: FloatArray,
    time_limit_s: float = 30.0,
) -> Assignment:
    """Assignment with at most ``capacity[s]`` households per site.

    Parameters
    ----------
    minutes
        CSR ``(sites, demand)`` walking minutes within the threshold.
    weights
        Households per demand point.
    capacity
        Households each site may serve (``inf`` for no limit).
    time_limit_s
        Time limit of each LP, seconds.
    """
    coo = minutes.tocoo()
    n_s, n_d = minutes.shape
    n_e = coo.nnz
    if n_e == 0:
        return nearest_assignment(minutes, weights)
    cap = np.where(np.isfinite(capacity), capacity, highspy.kHighsInf)
    # rows: demand points (sum_s z <= w), then sites (sum_d z <= cap)
    a = sp.vstack(
        [
            sp.csr_matrix((np.ones(n_e), (coo.col, np.arange(n_e))), shape=(n_d, n_e)),
            sp.csr_matrix((np.ones(n_e), (coo.row, np.arange(n_e))), shape=(n_s, n_e)),
        ],
        format="csr",
    )
    upper = np.concatenate([weights, cap])
    # most households served, then the fewest household-minutes serving that many
    z1 = _solve_lp(a, upper, np.ones(n_e), maximize=True, time_limit_s=time_limit_s)
    most = float(z1.sum())
    z = _solve_lp(
        a,
        upper,
        coo.data.astype(np.float64),
        maximize=False,
        time_limit_s=time_limit_s,
        at_least=(np.ones(n_e), most - 1e-7),
    )
    if z.sum() < most - 1e-3 * max(1.0, most):  # LP 2 failed: keep LP 1
        z = z1
    finite_cap = capacity[np.isfinite(capacity)]
    if np.all(weights == np.round(weights)) and np.all(finite_cap == np.round(finite_cap)):
        # a transportation problem with whole numbers has whole-number optima
        z = np.round(z)
    else:
        z = np.round(z, 6)
    return _from_flows(coo, z, n_s, n_d)


def _solve_lp(
    a: sp.csr_matrix,
    upper: FloatArray,
    cost: FloatArray,
    *,
    maximize: bool,
    time_limit_s: float,
    at_least: tuple[FloatArray, float] | None = None,
) -> FloatArray:
    """The flows (one per column of ``a``, >= 0) optimising ``cost`` with ``a @ z <=
    upper`` and, when given, ``at_least[0] @ z >= at_least[1]`` (HiGHS LP)."""
    n_e = a.shape[1]
    mat = a
    lo = np.full(a.shape[0], -highspy.kHighsInf)
    hi = upper
    if at_least is not None:
        mat = sp.vstack([a, sp.csr_matrix(at_least[0].reshape(1, -1))], format="csr")
        lo = np.append(lo, at_least[1])
        hi = np.append(hi, highspy.kHighsInf)
    lp = rowwise_lp(
        mat,
        cost,
        col_upper=np.full(n_e, highspy.kHighsInf),
        row_lower=lo,
        row_upper=hi,
        maximize=maximize,
    )
    h = new_highs()
    h.setOptionValue("time_limit", float(time_limit_s))
    h.passModel(lp)
    h.run()
    return np.maximum(np.asarray(h.getSolution().col_value, dtype=np.float64), 0.0)


def _from_flows(coo: sp.coo_matrix, z: FloatArray, n_s: int, n_d: int) -> Assignment:
    """The assignment of flows ``z`` (households per (site, demand) entry of ``coo``):
    each demand point's main site is the one carrying most of its households."""
    served = np.bincount(coo.col, weights=z, minlength=n_d).astype(np.float64)
    per_site = np.bincount(coo.row, weights=z, minlength=n_s).astype(np.float64)
    site = np.full(n_d, -1, np.int64)
    best = np.full(n_d, np.inf)
    has = z > 1e-9
    if has.any():
        order = np.lexsort((coo.data[has], -z[has], coo.col[has]))
        cols = coo.col[has][order]
        first = np.ones(cols.size, bool)
        first[1:] = cols[1:] != cols[:-1]
        site[cols[first]] = coo.row[has][order][first]
        best[cols[first]] = coo.data[has][order][first]
    return Assignment(
        site=site,
        minutes=best,
        served=served,
        site_households=per_site,
        household_minutes=float((z * coo.data).sum()),
    )
