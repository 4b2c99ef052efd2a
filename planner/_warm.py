"""Compile the numba kernels once, at install time (``scripts/setup.sh`` runs
``python -m planner._warm`` when their on-disk cache is missing).

The kernels are cached beside their modules (``cache=True``). Without this step a
planner's first grid division waits about 6 CPU s for the compiler (measured on the
demo street: 7.9 CPU s with an empty cache, 1.3–1.9 s after); the per-station reach
kernel is compiled with it.
"""

from __future__ import annotations

import numpy as np

from planner.grids._tree_kernel import spanning_tree
from planner.network._reach_kernel import bounded_reach


def warm() -> None:
    """Call each kernel once on a three-node path (0 - 1 - 2), with the argument types
    the planner passes, so numba compiles and caches them."""
    ea = np.array([0, 1], dtype=np.int64)
    eb = np.array([1, 2], dtype=np.int64)
    spanning_tree(3, ea, eb, np.array([1.0, 2.0]), 0, np.ones(3))
    indptr = np.array([0, 1, 3, 4], dtype=np.int64)
    indices = np.array([1, 0, 2, 1], dtype=np.int32)
    bounded_reach(indptr, indices, np.ones(4), np.array([0], dtype=np.int64), 5.0)


if __name__ == "__main__":
    warm()
