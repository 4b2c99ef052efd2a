"""Planted lattices: unit graphs with a known contiguous division in bounds.

:func:`planted_lattice` builds the test and benchmark input of the exact division
(:mod:`planner.grids.exact`): a ``rows`` x ``cols`` lattice of units whose square blocks
of ``block`` x ``block`` units each hold a number of households drawn in
``[block_lo, block_hi]`` (430-570 by default), so the blocks themselves are a contiguous
division with every part in ``[block_lo, block_hi]``, hence in any wider bounds such as
400-600 (the *planted* answer). Used by ``tests/test_exact.py`` and
``bench/bench_grids_exact.py``; deterministic for a seed.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from planner.grids._partition import Graph

#: Distance between neighbouring unit centres, metres.
SPACING_M = 10.0


def planted_lattice(
    rows: int,
    cols: int,
    block: int,
    seed: int,
    *,
    block_lo: float = 430.0,
    block_hi: float = 570.0,
) -> Graph:
    """A lattice of ``rows`` x ``cols`` units with planted blocks of households.

    Units are numbered row by row (unit ``r * cols + c``), centres :data:`SPACING_M`
    apart (m, a local plane), area 1 m² and perimeter 4 m each (unit squares: the
    partition's compactness sees all units alike), neighbours by rook adjacency (shared
    edge length 1). Each unit first draws 0-59 households, a fifth of them then 0
    (land without households); each block of ``block`` x ``block`` units (blocks cut
    from the top-left corner; a partial block at the right or bottom edge is a block of
    its own) is scaled to a total drawn uniformly in ``[block_lo, block_hi]`` and rounded
    down per unit, so each block holds at most that total and at least that total less
    one household per unit.

    Parameters
    ----------
    rows, cols
        Lattice size, units.
    block
        Side of a planted block, units.
    seed
        Seed of :func:`numpy.random.default_rng`.
    block_lo, block_hi
        Range of each block's households before the rounding down.

    Returns
    -------
    Graph
        ``weight``: households per unit (whole numbers); ``xy``: centres (m).
    """
    rng = np.random.default_rng(seed)
    n = rows * cols
    w = rng.integers(0, 60, n).astype(float)
    w[rng.random(n) < 0.2] = 0.0
    r, c = np.arange(n) // cols, np.arange(n) % cols
    blk = planted_blocks(rows, cols, block)
    for k in np.unique(blk):
        m = blk == k
        w[m] = np.floor(w[m] * rng.uniform(block_lo, block_hi) / max(float(w[m].sum()), 1.0))
    right = np.flatnonzero(c < cols - 1)
    down = np.flatnonzero(r < rows - 1)
    a = np.r_[right, down]
    b = np.r_[right + 1, down + cols]
    adj = sp.csr_matrix((np.ones(2 * len(a)), (np.r_[a, b], np.r_[b, a])), shape=(n, n))
    return Graph(
        adj=adj,
        weight=w,
        xy=np.c_[c, r] * SPACING_M,
        area=np.ones(n),
        perimeter=np.full(n, 4.0),
    )


def planted_blocks(rows: int, cols: int, block: int) -> NDArray[np.int64]:
    """The planted block of each unit of :func:`planted_lattice` (the known division)."""
    n = rows * cols
    r, c = np.arange(n) // cols, np.arange(n) % cols
    per_row = -(-cols // block)
    return np.asarray((r // block) * per_row + c // block, dtype=np.int64)
