"""Compiled random spanning trees for the grid partition (numba).

:func:`spanning_tree` draws one tree for :func:`planner.grids._partition.bisect`:
Kruskal's minimum spanning tree over an edge list (edges taken in the stable order of
their weights, union-find with path halving), the tree's depth-first order from a
root, each node's parent, and every subtree's size and weight, all in one compiled
call.

It returns exactly what ``scipy.sparse.csgraph.minimum_spanning_tree`` followed by
``depth_first_order(tree, root, directed=False)`` and the prefix sums of the old
``_subtree_sums`` returned for the same edge list (upper-triangular edges in
row-major order, as a canonical CSR pattern holds them): Kruskal on a stable sort
gives the same tree, and the depth-first search visits a node's neighbours as scipy
does — first those with a higher index, ascending, then those with a lower index,
ascending. So a division is the same as before for the same seed. The scipy route
paid about 1 ms of per-call overhead (CSR construction, format checks, transposes)
for trees of a few dozen nodes, which was 81 % of the division of a 10-street
district; this call costs microseconds.

The kernel is compiled on first call and cached on disk (``cache=True``). Kept in its
own module, imported by the first bisection, so importing the partition compiles
nothing and does not import numba (the app's red map draws its circles before the first
division: issue 19 item 9).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray


@njit(cache=True, nogil=True)
def _find(parent: NDArray[np.int64], x: int) -> int:  # pragma: no cover - compiled
    """Root of ``x`` with path halving."""
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@njit(cache=True, nogil=True)
def _kruskal(
    n: int, ea: NDArray[np.int64], eb: NDArray[np.int64], weight: NDArray[np.float64]
) -> NDArray[np.int64]:  # pragma: no cover - compiled
    """Indices of the tree edges (a forest when the graph is not connected), taking
    edges in the stable order of ``weight``."""
    by_weight = np.argsort(weight, kind="mergesort")
    parent = np.arange(n)
    rank = np.zeros(n, dtype=np.int64)
    chosen = np.empty(max(n - 1, 0), dtype=np.int64)
    m = 0
    for e in by_weight:
        if m == n - 1:
            break
        ra = _find(parent, ea[e])
        rb = _find(parent, eb[e])
        if ra == rb:
            continue
        if rank[ra] < rank[rb]:
            ra, rb = rb, ra
        parent[rb] = ra
        if rank[ra] == rank[rb]:
            rank[ra] += 1
        chosen[m] = e
        m += 1
    return chosen[:m]


@njit(cache=True, nogil=True)
def spanning_tree(
    n: int,
    ea: NDArray[np.int64],
    eb: NDArray[np.int64],
    weight: NDArray[np.float64],
    root: int,
    w: NDArray[np.float64],
) -> tuple[
    NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]
]:  # pragma: no cover - compiled
    """One minimum spanning tree, its depth-first order and subtree sums.

    Parameters
    ----------
    n
        Number of nodes.
    ea, eb
        Edge ends, ``ea < eb``, edges sorted by ``(ea, eb)``.
    weight
        Edge weight for the tree (smaller is kept first).
    root
        Start of the depth-first search.
    w
        Node weights (households).

    Returns
    -------
    order, pred, subtree_weight, subtree_size
        ``order`` holds the nodes reached from ``root`` in depth-first order (fewer
        than ``n`` when the graph is not connected); ``pred`` the parent of each node
        (-9999 for the root and unreached nodes, as scipy); the subtree sums are
        valid for reached nodes (a subtree is the run ``order[pos:pos + size]``).
    """
    tree = _kruskal(n, ea, eb, weight)
    m = len(tree)
    # Neighbour lists, each sorted as scipy's search visits them: higher ids first.
    src = np.empty(2 * m, dtype=np.int64)
    dst = np.empty(2 * m, dtype=np.int64)
    for i in range(m):
        a = ea[tree[i]]
        b = eb[tree[i]]
        src[2 * i] = a
        dst[2 * i] = b
        src[2 * i + 1] = b
        dst[2 * i + 1] = a
    key = np.empty(2 * m, dtype=np.int64)
    for i in range(2 * m):
        d = dst[i] if dst[i] > src[i] else dst[i] + n
        key[i] = src[i] * 2 * n + d
    srt = np.argsort(key, kind="mergesort")
    start = np.zeros(n + 1, dtype=np.int64)
    for i in range(2 * m):
        start[src[i] + 1] += 1
    for v in range(n):
        start[v + 1] += start[v]
    nbr = dst[srt]
    # Iterative depth-first search.
    pred = np.full(n, -9999, dtype=np.int64)
    seen = np.zeros(n, dtype=np.bool_)
    nxt = start[:n].copy()
    order = np.empty(n, dtype=np.int64)
    stack = np.empty(n, dtype=np.int64)
    order[0] = root
    seen[root] = True
    stack[0] = root
    top = 0
    count = 1
    while top >= 0:
        v = stack[top]
        pushed = False
        while nxt[v] < start[v + 1]:
            c = nbr[nxt[v]]
            nxt[v] += 1
            if not seen[c]:
                seen[c] = True
                pred[c] = v
                order[count] = c
                count += 1
                top += 1
                stack[top] = c
                pushed = True
                break
        if not pushed:
            top -= 1
    order = order[:count]
    # Subtree sizes bottom-up; weights from prefix sums over the order (as numpy's
    # cumsum adds, so the sums are bit-identical to the scipy route's).
    size = np.ones(n, dtype=np.int64)
    for i in range(count - 1, 0, -1):
        v = order[i]
        size[pred[v]] += size[v]
    cs = np.zeros(count + 1)
    for i in range(count):
        cs[i + 1] = cs[i] + w[order[i]]
    sw = np.zeros(n)
    for i in range(count):
        v = order[i]
        sw[v] = cs[i + size[v]] - cs[i]
    return order, pred, sw, size
