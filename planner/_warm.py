"""Compile the numba kernels once, at install time (``scripts/setup.sh`` runs
``python -m planner._warm`` when their on-disk cache is missing).

The kernels are cached beside their modules (``cache=True``). Without this step a
planner's first grid division waits about 6 CPU s for the compiler (measured on the
demo street: 7.9 CPU s with an empty cache, 1.3–1.9 s after); the per-station reach
kernel is compiled with it.
"""

from __future__ import annotations

import numpy as np

from planner.coverage._field_kernel import fill_grid, walk_cells
from planner.grids._tree_kernel import spanning_tree
from planner.network._reach_kernel import bounded_reach


def warm() -> None:
    """Call each kernel once on a three-node path (0 - 1 - 2) (the circle field's on one
    link), with the argument types the planner passes, so numba compiles and caches
    them."""
    ea = np.array([0, 1], dtype=np.int64)
    eb = np.array([1, 2], dtype=np.int64)
    spanning_tree(3, ea, eb, np.array([1.0, 2.0]), 0, np.ones(3))
    indptr = np.array([0, 1, 3, 4], dtype=np.int64)
    indices = np.array([1, 0, 2, 1], dtype=np.int32)
    bounded_reach(indptr, indices, np.ones(4), np.array([0], dtype=np.int64), 5.0)
    _warm_field()


def _warm_field() -> None:
    """The circle field's kernels on one link of two cells."""
    ptr = np.array([0, 2], dtype=np.int64)
    one = np.array([0], dtype=np.int64)
    zero, five = np.zeros(1), np.full(1, 5.0)
    cells = walk_cells(
        ptr, np.array([0.0, 3.0]), np.ones(2), np.ones(1), one, zero, five, zero, five, 80.0, 28.0
    )
    flags = np.zeros((4, 2, 2), dtype=bool)
    half = np.zeros((4, 2, 2), dtype=np.float32)
    rc = np.array([0, 1], dtype=np.int64)
    fill_grid(
        5.0, 80.0, 25.0, 3.0, 1.01, 1.2, rc, rc, np.ones(2), *cells, one, one, zero, flags, half
    )


if __name__ == "__main__":
    warm()
