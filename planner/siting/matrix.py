"""Walking minutes from every site (existing stations and candidates) to every building.

Uses the coverage engine (:mod:`planner.network.walk`, :mod:`planner.network.routing`); no second
routing engine. All sites are inserted into the network as nodes by
:func:`planner.network.routing.with_stations` (edges split at their access points), one
bounded Dijkstra per site runs in a compiled kernel (:func:`planner.network.routing.station_reach`,
``limit`` = the threshold), and a building's time from a site is the better of its
two piece ends plus the partial piece length - exactly how the coverage figures
time a building, so the "before" coverage read from this matrix equals theirs.
Only pairs within the threshold are kept: the result is a sparse CSR matrix.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from planner.coverage.figures import Coverage
from planner.network.routing import station_reach, with_stations
from planner.network.walk import Snap, snap_points

log = logging.getLogger(__name__)

#: Tolerance when comparing a walking time with the threshold, minutes (as coverage).
TIME_EPS_MIN = 1e-9


def concat_snaps(a: Snap, b: Snap) -> Snap:
    """Two snaps as one (rows of ``a`` then rows of ``b``)."""
    return Snap(
        edge=np.concatenate([a.edge, b.edge]),
        offset_m=np.concatenate([a.offset_m, b.offset_m]),
        to_v_m=np.concatenate([a.to_v_m, b.to_v_m]),
        snap_m=np.concatenate([a.snap_m, b.snap_m]),
        access=np.concatenate([a.access, b.access]),
    )


def site_building_minutes(
    cov: Coverage,
    candidate_points: NDArray[np.object_],
    *,
    threshold_min: float,
) -> tuple[sp.csr_matrix, Snap]:
    """Sparse walking minutes from sites to the coverage's buildings.

    Parameters
    ----------
    cov
        A :class:`planner.coverage.figures.Coverage` (its network, service stations and
        building snaps are reused).
    candidate_points
        Candidate site points (projected CRS); snapped onto public walkable links
        like stations (at most ``snap_max_m`` away).
    threshold_min
        Only pairs within this walking time are stored, minutes.

    Returns
    -------
    minutes, candidate_snap
        CSR ``(n_stations + n_candidates, n_buildings)``: rows are ``cov.stations``
        in order, then the candidates; columns ``cov.buildings``. Candidates not on
        the network have empty rows (see ``candidate_snap.ok``).
    """
    settings = cov.settings
    cand_snap = snap_points(cov.net, candidate_points, max_m=settings.snap_max_m)
    snap = concat_snaps(cov.station_snap, cand_snap)
    n_sites = len(snap)
    n_b = len(cov.buildings)
    rg = with_stations(cov.net, snap)
    reach = station_reach(rg, limit_min=threshold_min)
    # explicit zeros (a site's own node) must survive: build the pattern by hand
    t_nodes = _with_pattern(reach.station, reach.node, reach.time_min, (n_sites, rg.n_nodes))
    bs = cov.building_snap
    ok = np.flatnonzero(bs.ok)
    if ok.size == 0 or t_nodes.nnz == 0:
        return sp.csr_matrix((n_sites, n_b)), cand_snap
    p = rg.locate(bs.edge[ok], bs.offset_m[ok])
    x = np.clip(bs.offset_m[ok], rg.start_m[p], rg.end_m[p])
    speed = rg.speed_m_per_min
    off_a = (x - rg.start_m[p]) / speed
    off_b = (rg.end_m[p] - x) / speed
    t_csc = t_nodes.tocsc()
    rows: list[NDArray[np.int64]] = []
    cols: list[NDArray[np.int64]] = []
    vals: list[NDArray[np.float64]] = []
    for ends, off in ((rg.a[p], off_a), (rg.b[p], off_b)):
        sub = t_csc[:, ends].tocoo()  # (sites, ok buildings); keeps explicit zeros
        rows.append(sub.row.astype(np.int64))
        cols.append(sub.col.astype(np.int64))
        vals.append(sub.data + off[sub.col])
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    v = np.concatenate(vals)
    keep = v <= threshold_min + TIME_EPS_MIN
    r, c, v = r[keep], c[keep], np.minimum(v[keep], threshold_min)
    order = np.lexsort((v, c, r))
    r, c, v = r[order], c[order], v[order]
    first = np.ones(r.size, bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    minutes = _with_pattern(r[first], ok[c[first]], v[first], (n_sites, n_b))
    log.info(
        "siting matrix: %d sites x %d buildings, %d pairs within %g min",
        n_sites,
        n_b,
        minutes.nnz,
        threshold_min,
    )
    return minutes, cand_snap


def _with_pattern(
    rows: NDArray[np.int64],
    cols: NDArray[np.int64],
    vals: NDArray[np.float64],
    shape: tuple[int, int],
) -> sp.csr_matrix:
    """CSR from triplets (no duplicates) keeping explicit zeros."""
    order = np.lexsort((cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=shape[0]), out=indptr[1:])
    return sp.csr_matrix((vals.astype(np.float64), cols.astype(np.int64), indptr), shape=shape)
