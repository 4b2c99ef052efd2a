"""The compiled spanning-tree kernel of the grid partition gives scipy's trees.

:func:`planner.grids._tree_kernel.spanning_tree` replaced scipy's
``minimum_spanning_tree`` + ``depth_first_order`` per tree; divisions stay the same
for a seed only if the tree, the depth-first order, the parents and the subtree sums
are exactly scipy's (ties in the weights and disconnected graphs included).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse import csgraph

from planner.grids._partition import Graph, partition
from planner.grids._tree_kernel import spanning_tree


def _scipy_route(
    n: int, ea: np.ndarray, eb: np.ndarray, wt: np.ndarray, root: int, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The route before the kernel: CSR pattern, scipy MST, scipy DFS, prefix sums."""
    weighted = sparse.csr_matrix((wt, (ea, eb)), shape=(n, n))
    tree = csgraph.minimum_spanning_tree(weighted)
    order, pred = csgraph.depth_first_order(tree, root, directed=False)
    size = np.ones(n, dtype=np.int64)
    for v in order[::-1][:-1]:
        size[pred[v]] += size[v]
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(len(order))
    cs = np.concatenate([[0.0], np.cumsum(w[order])])
    sw = np.array([cs[pos[v] + size[v]] - cs[pos[v]] for v in order])
    return order, pred, sw, size[order]


def _random_graph(rng: np.random.Generator, ties: bool, cut_off_node0: bool):
    n = int(rng.integers(3, 50))
    perm = rng.permutation(n)
    a = [perm[i] for i in range(1, n)]
    b = [perm[int(rng.integers(0, i))] for i in range(1, n)]
    extra = rng.integers(0, n, size=(2 * n, 2))
    a += list(extra[:, 0])
    b += list(extra[:, 1])
    a, b = np.array(a), np.array(b)
    keep = a != b
    key = np.unique(np.minimum(a, b)[keep] * n + np.maximum(a, b)[keep])
    ea, eb = key // n, key % n
    if cut_off_node0:
        keep = (ea != 0) & (eb != 0)
        ea, eb = ea[keep], eb[keep]
    wt = rng.integers(1, 4, len(ea)).astype(float) if ties else rng.uniform(0.1, 5, len(ea))
    return n, ea.astype(np.int64), eb.astype(np.int64), wt


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("disconnected", [False, True])
def test_spanning_tree_matches_scipy(ties: bool, disconnected: bool) -> None:
    rng = np.random.default_rng(7)
    for _ in range(200):
        n, ea, eb, wt = _random_graph(rng, ties, disconnected)
        w = rng.integers(0, 500, n) * 1.37
        root = int(rng.integers(1, n)) if disconnected else int(rng.integers(n))
        order, pred, sw, size = spanning_tree(n, ea, eb, wt, root, w)
        o_ref, p_ref, sw_ref, size_ref = _scipy_route(n, ea, eb, wt, root, w)
        np.testing.assert_array_equal(order, o_ref)
        np.testing.assert_array_equal(pred, p_ref)
        np.testing.assert_array_equal(sw[order], sw_ref)  # bit-identical sums
        np.testing.assert_array_equal(size[order], size_ref)
        if disconnected:
            assert len(order) < n  # node 0 is cut off and not reached


def test_partition_is_deterministic_and_in_range_on_a_lattice() -> None:
    side = 12
    idx = np.arange(side * side).reshape(side, side)
    ea = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    eb = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    n = side * side
    adj = sparse.csr_matrix((np.ones(2 * len(ea)), (np.r_[ea, eb], np.r_[eb, ea])), shape=(n, n))
    yy, xx = np.divmod(np.arange(n), side)
    weight = np.random.default_rng(3).integers(5, 40, n).astype(float)
    g = Graph(
        adj=adj,
        weight=weight,
        xy=np.c_[xx, yy].astype(float),
        area=np.ones(n),
        perimeter=np.full(n, 4.0),
    )
    nodes = np.arange(n)
    runs = [
        partition(g, nodes, lo=200, hi=500, target=300, rng=np.random.default_rng(0))
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0], runs[1])
    sums = np.bincount(runs[0], weights=weight)
    assert ((sums >= 200) & (sums <= 500)).all()
