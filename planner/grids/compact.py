"""Repair of thin grids: boundary units moved between neighbouring grids.

A division may leave a grid as a thin strip (a compound with the road verge along a
river, two blocks joined by a long verge: Polsby-Popper 0.02-0.05). Here such a grid
(below ``Settings.grid_min_compactness``) gives a unit on its border to a neighbouring
grid, or takes one from it, when that raises the lower compactness of the two grids.
A move is made only when

- both grids stay within the bounds (or their figures do not change: a unit of land
  without households, which is also the only move a grid out of range may take part
  in, so its reason stays true);
- the grid giving the unit stays in one piece and is not emptied, and the unit
  borders the grid receiving it (both stay contiguous);
- both grids lie in the unit's community, and neither is frozen (locked, dedicated);
- the grids' shared boundary off every road, wall, water or community line does not
  grow (the boundary stays on features);
- no grid at or above the minimum falls below it (the count of thin grids never grows).

Every figure comes from the unit graph (:class:`planner.grids._partition.Graph`: areas,
perimeters, shared edge lengths): a grid's perimeter is the sum of its units'
perimeters less twice their shared edges, so a move is judged without geometry.
Units are whole compounds, blocks and verges (:func:`planner.grids.division.divide`),
so no compound or building is cut. Metres and m².
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse import csgraph

from planner.grids import _partition as part
from planner.grids.exact import Bound

logger = logging.getLogger(__name__)

#: A move must raise the pair's lower Polsby-Popper by at least this.
_GAIN = 1e-3

#: A move may add at most this much boundary off features, m (rounding of shared edges).
_OFF_FEATURE_SLACK_M = 0.5


@dataclass(frozen=True)
class ShapeRepair:
    """What the repair did: moves, the lowest and median Polsby-Popper of the grids it
    could change and the number of them below the minimum, before and after."""

    moves: int
    min_before: float
    min_after: float
    median_before: float
    median_after: float
    thin_before: int
    thin_after: int


class _State:
    """Per-grid area, perimeter, bound sums and internal off-feature length, kept up
    to date as units move."""

    def __init__(self, g: part.Graph, grid: NDArray[np.int64], bounds: list[Bound]) -> None:
        self.g = g
        self.grid = grid.copy()
        self.n = int(grid.max()) + 1 if len(grid) else 0
        on = grid >= 0
        self.area = np.bincount(grid[on], weights=g.area[on], minlength=self.n)
        coo = sparse.triu(g.adj).tocoo()
        same = (grid[coo.row] == grid[coo.col]) & (grid[coo.row] >= 0)
        shared = np.bincount(grid[coo.row[same]], weights=coo.data[same], minlength=self.n)
        self.perim = np.bincount(grid[on], weights=g.perimeter[on], minlength=self.n) - 2 * shared
        self.bounds = bounds
        self.sums = [np.bincount(grid[on], weights=b.weight[on], minlength=self.n) for b in bounds]

    def pp(self, k: NDArray[np.int64] | int) -> NDArray[np.float64]:
        return np.asarray(
            4 * np.pi * self.area[k] / np.maximum(self.perim[k], 1e-9) ** 2, dtype=np.float64
        )

    def shared_with(self, u: int, k: int, m: sparse.csr_matrix) -> float:
        """Length (in matrix ``m``) of unit ``u``'s edges shared with grid ``k``."""
        lo, hi = m.indptr[u], m.indptr[u + 1]
        nb = m.indices[lo:hi]
        return float(m.data[lo:hi][self.grid[nb] == k].sum())

    def move(self, u: int, src: int, dst: int) -> None:
        g = self.g
        ls, ld = self.shared_with(u, src, g.adj), self.shared_with(u, dst, g.adj)
        self.area[src] -= g.area[u]
        self.area[dst] += g.area[u]
        self.perim[src] += -g.perimeter[u] + 2 * ls
        self.perim[dst] += g.perimeter[u] - 2 * ld
        for s, b in zip(self.sums, self.bounds, strict=True):
            s[src] -= b.weight[u]
            s[dst] += b.weight[u]
        self.grid[u] = dst


def repair_thin(
    g: part.Graph,
    grid_of_unit: NDArray[np.int64],
    unit_comm: NDArray[np.object_],
    frozen: NDArray[np.bool_],
    bounds: list[Bound],
    *,
    minimum: float,
    max_moves_per_grid: int = 12,
) -> tuple[NDArray[np.int64], ShapeRepair]:
    """Raise the compactness of grids below ``minimum`` by moving boundary units.

    Thin grids are taken thinnest first; each takes the best allowed move (the one
    giving the highest lower Polsby-Popper of the two grids, at least :data:`_GAIN`
    above the present one) until it reaches ``minimum`` or no move helps. A grid made
    thin by a move is visited in a later pass (at most three passes).

    Parameters
    ----------
    g
        The unit graph (areas m², perimeters m, shared lengths m; ``off_feature`` when
        known).
    grid_of_unit
        Grid of each unit (-1: not placed, e.g. locked; never moved).
    unit_comm
        Community of each unit.
    frozen
        Units whose grids never change (locked, dedicated).
    bounds
        The bounds the grids keep (households, and the load when the bounds are on it).
    minimum
        Polsby-Popper below which a grid is thin.
    max_moves_per_grid
        Most moves made for one thin grid in one pass.

    Returns
    -------
    (grid_of_unit, ShapeRepair)
        The new grid of each unit and the figures before and after.
    """
    st = _State(g, grid_of_unit, bounds)
    frozen_grid = np.zeros(st.n, dtype=bool)
    frozen_grid[grid_of_unit[frozen & (grid_of_unit >= 0)]] = True
    comm_of_grid = np.full(st.n, None, dtype=object)
    placed = grid_of_unit >= 0
    comm_of_grid[grid_of_unit[placed]] = unit_comm[placed]
    ok_grid = ~frozen_grid & (st.area > 0)
    before = st.pp(np.arange(st.n))
    in_range = [
        (s >= b.lo - 1e-9) & (s <= b.hi + 1e-9) for s, b in zip(st.sums, bounds, strict=True)
    ]
    fixed_figures = ~np.logical_and.reduce(in_range) if bounds else np.zeros(st.n, dtype=bool)
    moves = 0
    for _ in range(3):
        made = 0
        thin = np.flatnonzero(ok_grid & (st.pp(np.arange(st.n)) < minimum))
        for t in thin[np.argsort(st.pp(thin))]:
            for _ in range(max_moves_per_grid):
                if st.pp(int(t))[()] >= minimum or not _best_move(
                    st, int(t), comm_of_grid, ok_grid, fixed_figures, unit_comm, minimum
                ):
                    break
                made += 1
        moves += made
        if made == 0:
            break
    after = st.pp(np.arange(st.n))
    rep = _figures(moves, before[ok_grid], after[ok_grid], minimum)
    if moves:
        logger.info(
            "shape repair: %d moves; lowest Polsby-Popper %.3f -> %.3f, %d -> %d grids below %g",
            moves,
            rep.min_before,
            rep.min_after,
            rep.thin_before,
            rep.thin_after,
            minimum,
        )
    return st.grid, rep


def _figures(
    moves: int, before: NDArray[np.float64], after: NDArray[np.float64], minimum: float
) -> ShapeRepair:
    def lo(x: NDArray[np.float64]) -> float:
        return float(x.min()) if len(x) else float("nan")

    def med(x: NDArray[np.float64]) -> float:
        return float(np.median(x)) if len(x) else float("nan")

    return ShapeRepair(
        moves=moves,
        min_before=lo(before),
        min_after=lo(after),
        median_before=med(before),
        median_after=med(after),
        thin_before=int((before < minimum).sum()),
        thin_after=int((after < minimum).sum()),
    )


def _candidates(st: _State, t: int) -> list[tuple[int, int, int]]:
    """Moves touching grid ``t``: (unit, from, to) for each unit of ``t`` beside
    another grid, and each unit of another grid beside ``t``."""
    adj = st.g.adj.tocoo()
    gi, gj = st.grid[adj.row], st.grid[adj.col]
    out_ = (gi == t) & (gj != t) & (gj >= 0)
    in_ = (gj == t) & (gi != t) & (gi >= 0)
    moves = {(int(u), t, int(k)) for u, k in zip(adj.row[out_], gj[out_], strict=True)}
    moves |= {(int(u), int(k), t) for u, k in zip(adj.row[in_], gi[in_], strict=True)}
    return sorted(moves)


def _best_move(
    st: _State,
    t: int,
    comm_of_grid: NDArray[np.object_],
    ok_grid: NDArray[np.bool_],
    fixed_figures: NDArray[np.bool_],
    unit_comm: NDArray[np.object_],
    minimum: float,
) -> bool:
    """Make the best allowed move for thin grid ``t``; False when none helps."""
    g = st.g
    best: tuple[float, int, int, int] | None = None
    for u, src, dst in _candidates(st, t):
        if not (ok_grid[src] and ok_grid[dst]) or unit_comm[u] != comm_of_grid[dst]:
            continue
        if not _keeps_bounds(st, u, src, dst, fixed_figures):
            continue
        ls, ld = st.shared_with(u, src, g.adj), st.shared_with(u, dst, g.adj)
        if g.off_feature is not None:
            # the shared boundary of src and dst changes by u's edges with src (new) less
            # those with dst (gone)
            grow = st.shared_with(u, src, g.off_feature) - st.shared_with(u, dst, g.off_feature)
            if grow > _OFF_FEATURE_SLACK_M:
                continue
        a_s, a_d = st.area[src] - g.area[u], st.area[dst] + g.area[u]
        if a_s <= 0:
            continue
        p_s = st.perim[src] - g.perimeter[u] + 2 * ls
        p_d = st.perim[dst] + g.perimeter[u] - 2 * ld
        pp_s, pp_d = 4 * np.pi * a_s / p_s**2, 4 * np.pi * a_d / p_d**2
        new = min(pp_s, pp_d)
        old = float(min(st.pp(src), st.pp(dst)))
        if new < old + _GAIN or (best is not None and new <= best[0]):
            continue
        if _made_thin(st, src, pp_s, minimum) or _made_thin(st, dst, pp_d, minimum):
            continue
        if not _stays_connected(st, u, src):
            continue
        best = (new, u, src, dst)
    if best is None:
        return False
    st.move(best[1], best[2], best[3])
    return True


def _made_thin(st: _State, k: int, pp_new: float, minimum: float) -> bool:
    """Grid ``k`` at or above ``minimum`` would fall below it (the count of thin grids
    never grows)."""
    return bool(st.pp(k) >= minimum > pp_new)


def _keeps_bounds(st: _State, u: int, src: int, dst: int, fixed_figures: NDArray[np.bool_]) -> bool:
    """Both grids stay within every bound; a grid out of range (or a move into or out
    of one) may only exchange units that change none of its figures."""
    for s, b in zip(st.sums, st.bounds, strict=True):
        w = float(b.weight[u])
        if w == 0:
            continue
        if fixed_figures[src] or fixed_figures[dst]:
            return False
        if not (b.lo - 1e-9 <= s[src] - w and s[dst] + w <= b.hi + 1e-9):
            return False
    return True


def _stays_connected(st: _State, u: int, src: int) -> bool:
    """Grid ``src`` without unit ``u`` is non-empty and in one piece."""
    rest = np.flatnonzero(st.grid == src)
    rest = rest[rest != u]
    if len(rest) == 0:
        return False
    if len(rest) == 1:
        return True
    n, _ = csgraph.connected_components(st.g.adj[rest][:, rest], directed=False)
    return bool(n == 1)
