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
from planner.network.routing import station_point_minutes, with_stations
from planner.network.walk import Snap, snap_points

log = logging.getLogger(__name__)


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
    rg = with_stations(cov.net, snap)
    minutes = station_point_minutes(rg, cov.building_snap, limit_min=threshold_min)
    log.info(
        "siting matrix: %d sites x %d buildings, %d pairs within %g min",
        minutes.shape[0],
        minutes.shape[1],
        minutes.nnz,
        threshold_min,
    )
    return minutes, cand_snap
