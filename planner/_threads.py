"""Threads for compiled work that releases the GIL (GEOS through shapely, numba).

Lengths and units are those of the work itself; this module only splits it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
ObjArray = NDArray[np.object_]


#: Environment variable capping :func:`workers` (set by the city run in each local Dask
#: worker process to the cores per worker, so N workers on N cores do not start N² threads).
THREADS_ENV = "PLANNER_THREADS"


def workers() -> int:
    """Threads for geometry work (GEOS releases the GIL): the cores this process may
    run on (not the host's, in a container), up to 8, and at most ``$PLANNER_THREADS``
    when that is a positive integer."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    cap = os.environ.get(THREADS_ENV, "")
    limit = int(cap) if cap.isdigit() and int(cap) > 0 else 8
    return max(1, min(cores, 8, limit))


def parallel(func: Callable[..., Any], geoms: ObjArray, *args: Any, **kwargs: Any) -> ObjArray:
    """Apply a vectorised shapely function on all cores.

    ``geoms`` is split across threads; an argument that is an array as long as
    ``geoms`` is split the same way (pairwise functions), other arguments are
    passed whole.
    """
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    k = workers()
    if n < 2 * k or k == 1:
        return np.asarray(func(geoms, *args, **kwargs), dtype=np.object_)
    # Interleave so heavy and light geometries spread over the threads.
    parts = [np.arange(i, n, k) for i in range(k)]

    def run(idx: IntArray) -> Any:
        split = [a[idx] if isinstance(a, np.ndarray) and len(a) == n else a for a in args]
        return func(geoms[idx], *split, **kwargs)

    out = np.empty(n, dtype=np.object_)
    with ThreadPoolExecutor(max_workers=k) as pool:
        results = list(pool.map(run, parts))
    for idx, res in zip(parts, results, strict=True):
        out[idx] = res
    return out
