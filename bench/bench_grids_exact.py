"""Benchmark: the exact division on lattices of 150 and 300 units with a known answer.

    PYTHONPATH=. /work/main/.venv/bin/python bench/bench_grids_exact.py [--limit 20]

Each lattice (rows x cols units, centres 10 m apart) is cut into square blocks of 5 x 5
units whose households are each drawn in 430-570, so a contiguous division into parts of
400-600 households is known to exist. :func:`planner.grids.exact.exact_partition` is
given a start out of bounds (strips across the blocks, two of them merged: the kind of
division the heuristic leaves) and the time limit; the script prints the status, the
gap, the wall time and whether every part is contiguous and in bounds. Run it from
another version's folder (``cd DIR && PYTHONPATH=DIR python .../bench_grids_exact.py``)
to measure that version.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from planner.grids._partition import Graph
from planner.grids.exact import exact_partition


def planted(rows: int, cols: int, block: int, seed: int) -> Graph:
    """The lattice with its planted blocks (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n = rows * cols
    w = rng.integers(0, 60, n).astype(float)
    w[rng.random(n) < 0.2] = 0.0
    r, c = np.arange(n) // cols, np.arange(n) % cols
    blk = (r // block) * (cols // block) + c // block
    for k in np.unique(blk):
        m = blk == k
        w[m] = np.floor(w[m] * rng.uniform(430, 570) / w[m].sum())
    right = np.flatnonzero(c < cols - 1)
    down = np.flatnonzero(r < rows - 1)
    a = np.r_[right, down]
    b = np.r_[right + 1, down + cols]
    adj = sp.csr_matrix((np.ones(2 * len(a)), (np.r_[a, b], np.r_[b, a])), shape=(n, n))
    return Graph(
        adj=adj, weight=w, xy=np.c_[c, r] * 10.0, area=np.ones(n), perimeter=np.full(n, 4.0)
    )


def _valid(g: Graph, labels: np.ndarray, lo: float, hi: float) -> bool:
    for p in np.unique(labels):
        idx = np.flatnonzero(labels == p)
        ncomp, _ = csgraph.connected_components(g.adj[idx][:, idx], directed=False)
        if ncomp != 1 or not lo <= g.weight[idx].sum() <= hi:
            return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=float, default=20.0, help="time limit, s")
    args = ap.parse_args()
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {platform.processor() or platform.machine()}, load {load}")
    for rows, cols in ((15, 10), (20, 15)):
        g = planted(rows, cols, 5, seed=0)
        parts = round(g.weight.sum() / 500)
        start = np.minimum(np.arange(g.n) * parts // g.n, parts - 2)  # strips, two merged
        t0 = time.perf_counter()
        r = exact_partition(
            g,
            np.arange(g.n),
            lo=400,
            hi=600,
            target=500,
            time_limit_s=args.limit,
            max_units=400,
            start=start,
        )
        wall = time.perf_counter() - t0
        ok = r.labels is not None and _valid(g, r.labels, 400, 600)
        print(
            f"{g.n} units, {parts} blocks: {r.status}, gap {r.gap:.3g}, {wall:.1f} s wall, "
            f"in bounds and contiguous: {ok}"
        )


if __name__ == "__main__":
    main()
