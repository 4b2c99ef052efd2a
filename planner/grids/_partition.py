"""Contiguous partition of a weighted graph into parts with hard weight bounds.

Used for grids (households per grid), derived communities and the groups of a
compound above the maximum. The method is recursive bisection on random spanning
trees (the "recombination" idea of redistricting research):

1. The number of parts ``k`` is ``round(W / target)`` clamped to
   ``[ceil(W / hi), floor(W / lo)]``, the only counts for which every part can lie in
   ``[lo, hi]``.
2. A region that must become ``k`` parts is split in two by cutting one edge of a
   spanning tree of its graph. Cutting a tree edge always leaves two connected
   sides. The side weights must fall in ranges that leave both sides feasible
   (``[k1*lo, k1*hi]`` and ``[k2*lo, k2*hi]``, ``k1 = k // 2``). Trees are minimum
   spanning trees over centroid distances times a random factor, so short links are
   kept and sides come out compact; many trees are tried, the feasible cuts closest
   to the ideal share are scored by balance and Polsby-Popper compactness, and the
   best is kept. Each tree, its depth-first order and its subtree weights come from
   one compiled call (:mod:`planner.grids._tree_kernel`).
3. Parts still out of range (lumpy weights) are repaired: a part below ``lo`` merges
   with an adjacent part when the sum fits, otherwise a pair of adjacent parts is
   re-split (merged and bisected again on fresh trees).

Every part is connected by construction. Bounds are hard: a part is out of range
only when no cut in any tried tree can respect them, and the caller reports it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse import csgraph

TRIES = 48
#: Trees tried per re-split while repairing (fewer: repairs try many pairs).
REPAIR_TRIES = 16
#: At most this many three-part re-splits are tried per out-of-range part.
MAX_TRIOS = 8
MIN_TRIES = 12
#: Weight of the off-feature share of a cut against its compactness and balance.
OFF_FEATURE_WEIGHT = 0.3
KEEP_PER_TREE = 3


@dataclass
class Graph:
    """A weighted planar graph of pieces (atoms or units).

    ``adj`` holds shared edge lengths (m), symmetric CSR; ``weight`` households;
    ``xy`` centroids (m); ``area`` m²; ``perimeter`` m; ``off_feature`` (optional, the
    same pattern as ``adj``) the part of each shared edge that follows no road, wall,
    water or community line (m): cuts there are avoided.
    """

    adj: sparse.csr_matrix
    weight: NDArray[np.float64]
    xy: NDArray[np.float64]
    area: NDArray[np.float64]
    perimeter: NDArray[np.float64]
    # --- dedicated: cuts along features ---
    off_feature: sparse.csr_matrix | None = None

    @property
    def n(self) -> int:
        return len(self.weight)


def k_range(total: float, lo: float, hi: float) -> tuple[int, int]:
    """Smallest and largest number of parts that can all lie in ``[lo, hi]``."""
    return max(1, math.ceil(total / hi - 1e-9)), math.floor(total / lo + 1e-9)


def choose_k(total: float, lo: float, hi: float, target: float) -> int:
    """Number of parts: ``round(total / target)`` clamped to the feasible range."""
    k_lo, k_hi = k_range(total, lo, hi)
    k = max(1, round(total / target))
    if k_lo <= k_hi:
        return min(max(k, k_lo), k_hi)
    return max(1, k_lo if total > hi else 1)


def partition(
    g: Graph,
    nodes: NDArray[np.int64],
    *,
    lo: float,
    hi: float,
    target: float,
    rng: np.random.Generator,
    k: int | None = None,
) -> NDArray[np.int64]:
    """Split the connected node set ``nodes`` into contiguous parts in ``[lo, hi]``.

    Returns a part label (0..k-1) for each entry of ``nodes``.
    """
    total = float(g.weight[nodes].sum())
    if k is None:
        k = choose_k(total, lo, hi, target)
    labels = np.zeros(len(nodes), dtype=np.int64)
    stack: list[tuple[NDArray[np.int64], int]] = [(np.arange(len(nodes)), k)]
    next_label = 0
    while stack:
        local, kk = stack.pop()
        if kk <= 1 or len(local) <= 1:
            labels[local] = next_label
            next_label += 1
            continue
        side = bisect(g, nodes[local], kk, lo=lo, hi=hi, rng=rng)
        if side is None:
            labels[local] = next_label
            next_label += 1
            continue
        mask, k_a = side
        stack.append((local[~mask], kk - k_a))
        stack.append((local[mask], k_a))
    return repair(g, nodes, labels, lo=lo, hi=hi, rng=rng)


def bisect(
    g: Graph,
    nodes: NDArray[np.int64],
    k: int,
    *,
    lo: float,
    hi: float,
    rng: np.random.Generator,
    tries: int = TRIES,
) -> tuple[NDArray[np.bool_], int] | None:
    """Cut ``nodes`` (connected) into two connected sides for ``k1 + k2 = k`` parts.

    Each try draws a random spanning tree and scores the best few of its edge cuts
    whose sides can hold their part counts (:func:`_cuts_of_tree`); after
    :data:`MIN_TRIES` tries the best cut found so far is taken. Returns the mask of
    side A and its part count, or None when the nodes cannot be cut (a single node,
    or no tree edge).
    """
    # imported here: importing the partition (the app's first page) does not import numba
    from planner.grids._tree_kernel import spanning_tree

    cut = _CutProblem.of(g, nodes, k, lo=lo, hi=hi)
    if cut is None:
        return None
    best: _Cut | None = None
    fallback: _Cut | None = None
    for t in range(tries):
        if best is not None and t >= MIN_TRIES:
            break
        u = rng.uniform(0.3, 1.7, size=len(cut.dist))
        root = int(rng.integers(cut.n))
        order, _pred, sw, size = spanning_tree(
            cut.n, cut.ta, cut.tb, cut.dist[cut.lex] * u[cut.lex], root, cut.w
        )
        if len(order) < cut.n:  # not connected: caller passes connected sets only
            return None
        best, fallback = _cuts_of_tree(cut, order, sw, size, best, fallback)
    chosen = best or fallback
    if chosen is None:
        return None
    return chosen[1], chosen[2]


#: A scored cut: (score, mask of side A, part count of side A).
_Cut = tuple[float, NDArray[np.bool_], int]


@dataclass(frozen=True)
class _CutProblem:
    """One bisection: the sub-graph of ``nodes`` (local edges ``ea``-``eb`` of shared
    length ``elen`` m, centroid distance ``dist`` m), node weights, areas and
    perimeters, and for each order of the two sides (``ka`` parts on side A) the
    range of side A's households and its ideal. ``ta``/``tb`` are the edges sorted
    by their ends (the order of a canonical CSR pattern, which the tree kernel
    breaks weight ties by) and ``lex`` maps them back to ``ea``/``eb``: each tree
    draws its random factors in the order of ``ea``/``eb``, as always."""

    n: int
    ea: NDArray[np.int32]
    eb: NDArray[np.int32]
    elen: NDArray[np.float64]
    dist: NDArray[np.float64]
    w: NDArray[np.float64]
    area: NDArray[np.float64]
    perim: NDArray[np.float64]
    ranges: list[tuple[int, float, float, float]]
    ta: NDArray[np.int64]
    tb: NDArray[np.int64]
    lex: NDArray[np.int64]
    off: NDArray[np.float64] | None = None

    @classmethod
    def of(
        cls, g: Graph, nodes: NDArray[np.int64], k: int, *, lo: float, hi: float
    ) -> _CutProblem | None:
        """The bisection of ``nodes`` into ``k`` parts (None: fewer than two nodes or
        no edge)."""
        n = len(nodes)
        if n < 2:
            return None
        sub = g.adj[nodes][:, nodes].tocoo()
        upper = sub.row < sub.col
        ea, eb, elen = sub.row[upper], sub.col[upper], sub.data[upper]
        if len(ea) == 0:
            return None
        w = g.weight[nodes]
        total = float(w.sum())
        k1 = k // 2
        k2 = k - k1
        ranges = [
            (ka, max(ka * lo, total - kb * hi), min(ka * hi, total - kb * lo), total * ka / k)
            for ka, kb in ((k1, k2), (k2, k1))
        ]
        lex = np.lexsort((eb, ea))
        off = _off_feature(g, nodes, ea, eb)
        dist = np.hypot(*(g.xy[nodes[ea]] - g.xy[nodes[eb]]).T) + 1e-3
        if off is not None:  # links across no feature are short: trees keep them, cuts avoid them
            dist = dist * (1.0 - 0.9 * off / np.maximum(elen, 1e-9))
        return cls(
            n=n,
            ea=ea,
            eb=eb,
            elen=elen,
            dist=dist,
            w=w,
            area=g.area[nodes],
            perim=g.perimeter[nodes],
            ranges=ranges,
            ta=ea[lex].astype(np.int64),
            tb=eb[lex].astype(np.int64),
            lex=lex,
            off=off,
        )


def _cuts_of_tree(
    cut: _CutProblem,
    order: NDArray[np.int64],
    sw: NDArray[np.float64],
    size: NDArray[np.int64],
    best: _Cut | None,
    fallback: _Cut | None,
) -> tuple[_Cut | None, _Cut | None]:
    """The best cut and the least bad fallback after looking at one spanning tree.

    A cut removes one tree edge: side A is the subtree below it (``order`` is the
    tree's depth-first order, ``sw``/``size`` each node's subtree weight and size,
    from :func:`planner.grids._tree_kernel.spanning_tree`). Cuts whose side A
    holds a household count in range are scored (the :data:`KEEP_PER_TREE` nearest
    the ideal); while no tree has given one, the cut violating the range least is
    kept as the fallback.
    """
    n = cut.n
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)
    cand_v = order[1:]
    s = sw[cand_v]
    found = False
    for ka, rlo, rhi, ideal in cut.ranges:
        ok = (s >= rlo - 1e-9) & (s <= rhi + 1e-9)
        if ok.any():
            found = True
            dev = np.abs(s - ideal)
            for v in cand_v[ok][np.argsort(dev[ok], kind="stable")[:KEEP_PER_TREE]]:
                mask = np.zeros(n, dtype=bool)
                mask[order[pos[v] : pos[v] + size[v]]] = True
                score = _score(
                    mask, cut.ea, cut.eb, cut.elen, cut.area, cut.perim, abs(sw[v] - ideal), ideal
                ) - _off_share(mask, cut)
                if best is None or score > best[0]:
                    best = (score, mask, ka)
        elif not found:
            viol = np.maximum(rlo - s, s - rhi)
            j = int(np.argmin(viol))
            if fallback is None or -viol[j] > fallback[0]:
                v = cand_v[j]
                mask = np.zeros(n, dtype=bool)
                mask[order[pos[v] : pos[v] + size[v]]] = True
                fallback = (-float(viol[j]), mask, ka)
    return best, fallback


def _score(
    mask: NDArray[np.bool_],
    ea: NDArray[np.int32],
    eb: NDArray[np.int32],
    elen: NDArray[np.float64],
    area: NDArray[np.float64],
    perim: NDArray[np.float64],
    dev: float,
    ideal: float,
) -> float:
    """Mean Polsby-Popper compactness of the two sides minus the balance deviation."""
    in_a = mask[ea] & mask[eb]
    in_b = ~mask[ea] & ~mask[eb]
    pa = perim[mask].sum() - 2 * elen[in_a].sum()
    pb = perim[~mask].sum() - 2 * elen[in_b].sum()
    aa = area[mask].sum()
    ab = area[~mask].sum()
    pp = 0.5 * (4 * math.pi * aa / max(pa, 1e-9) ** 2 + 4 * math.pi * ab / max(pb, 1e-9) ** 2)
    return float(pp - dev / max(ideal, 1.0))


def _off_feature(
    g: Graph, nodes: NDArray[np.int64], ea: NDArray[np.int32], eb: NDArray[np.int32]
) -> NDArray[np.float64] | None:
    """Off-feature length (m) of each local edge, when the graph knows it."""
    if g.off_feature is None:
        return None
    return np.asarray(g.off_feature[nodes[ea], nodes[eb]]).ravel().astype(np.float64)


def _off_share(mask: NDArray[np.bool_], cut: _CutProblem) -> float:
    """Share of a cut's boundary that follows no feature (0 when unknown)."""
    if cut.off is None:
        return 0.0
    across = mask[cut.ea] != mask[cut.eb]
    total = float(cut.elen[across].sum())
    return OFF_FEATURE_WEIGHT * float(cut.off[across].sum()) / total if total > 0 else 0.0


def _out_of_range(x: float, lo: float, hi: float) -> float:
    return max(0.0, lo - x, x - hi)


def _repair_split(
    g: Graph,
    nodes: NDArray[np.int64],
    labels: NDArray[np.int64],
    w: NDArray[np.float64],
    p: int,
    sums: NDArray[np.float64],
    *,
    lo: float,
    hi: float,
    rng: np.random.Generator,
) -> bool:
    """Split an over-full part in two (in place; the new part takes a new label)."""
    idx = np.flatnonzero(labels == p)
    if len(idx) < 2:
        return False
    side = bisect(
        g,
        nodes[idx],
        max(2, choose_k(float(sums[p]), lo, hi, (lo + hi) / 2)),
        lo=lo,
        hi=hi,
        rng=rng,
        tries=REPAIR_TRIES,
    )
    if side is None:
        return False
    mask, _ = side
    wa = float(w[idx][mask].sum())
    after = _out_of_range(wa, lo, hi) + _out_of_range(float(sums[p]) - wa, lo, hi)
    if after < _out_of_range(float(sums[p]), lo, hi) - 1e-9:
        labels[idx[mask]] = int(labels.max()) + 1
        return True
    return False


def _repair_move(
    sub: sparse.coo_matrix,
    labels: NDArray[np.int64],
    w: NDArray[np.float64],
    p: int,
    sums: NDArray[np.float64],
    *,
    lo: float,
    hi: float,
) -> bool:
    """Move one unit across the border of part ``p`` (in place) when that lowers the
    violation and the giving part stays connected."""
    la, lb = labels[sub.row], labels[sub.col]
    border = np.flatnonzero((la == p) & (lb != p))
    seen: set[tuple[int, int]] = set()
    csr = sub.tocsr()
    for e in border:
        i, j = int(sub.row[e]), int(sub.col[e])
        q = int(labels[j])
        for u, src, dst in ((j, q, p), (i, p, q)):
            if (u, dst) in seen:
                continue
            seen.add((u, dst))
            before = _out_of_range(sums[src], lo, hi) + _out_of_range(sums[dst], lo, hi)
            after = _out_of_range(sums[src] - w[u], lo, hi) + _out_of_range(
                sums[dst] + w[u], lo, hi
            )
            if after >= before - 1e-9:
                continue
            rest = np.flatnonzero((labels == src) & (np.arange(len(labels)) != u))
            if len(rest) == 0:
                continue
            ncomp, _ = csgraph.connected_components(csr[rest][:, rest], directed=False)
            if ncomp == 1:
                labels[u] = dst
                return True
    return False


def _repair_triple(
    g: Graph,
    nodes: NDArray[np.int64],
    labels: NDArray[np.int64],
    w: NDArray[np.float64],
    la: NDArray[np.int64],
    lb: NDArray[np.int64],
    p: int,
    neighbours: NDArray[np.int64],
    sums: NDArray[np.float64],
    *,
    lo: float,
    hi: float,
    rng: np.random.Generator,
) -> bool:
    """Re-split part ``p`` with two neighbouring parts into three (in place)."""
    tried = 0
    for q in neighbours:
        around = np.unique(lb[((la == p) | (la == q)) & (lb != p) & (lb != q)])
        for r in around:
            if tried >= MAX_TRIOS:
                return False
            trio = [p, q, r]
            idx = np.flatnonzero(np.isin(labels, trio))
            tot = float(sums[trio].sum())
            k_lo, k_hi = k_range(tot, lo, hi)
            if k_lo > 3 or k_hi < 3:
                continue
            before = sum(_out_of_range(sums[x], lo, hi) for x in trio)
            tried += 1
            first = bisect(g, nodes[idx], 3, lo=lo, hi=hi, rng=rng, tries=REPAIR_TRIES)
            if first is None:
                continue
            mask, k_a = first
            two = idx[mask] if k_a == 2 else idx[~mask]
            one = idx[~mask] if k_a == 2 else idx[mask]
            second = bisect(g, nodes[two], 2, lo=lo, hi=hi, rng=rng, tries=REPAIR_TRIES)
            if second is None:
                continue
            m2, _ = second
            parts = [one, two[m2], two[~m2]]
            after = sum(_out_of_range(float(w[x].sum()), lo, hi) for x in parts)
            if after < before - 1e-9:
                for lab, x in zip(trio, parts, strict=True):
                    labels[x] = lab
                return True
    return False


def repair(
    g: Graph,
    nodes: NDArray[np.int64],
    labels: NDArray[np.int64],
    *,
    lo: float,
    hi: float,
    rng: np.random.Generator,
    passes: int = 4,
) -> NDArray[np.int64]:
    """Bring parts into ``[lo, hi]``: split over-full parts, merge, move one unit, or
    re-split two or three adjacent parts. Each pass visits every out-of-range part
    once; passes stop when one changes nothing."""
    labels = labels.copy()
    if len(np.unique(labels)) < 2:
        return labels
    sub = g.adj[nodes][:, nodes].tocoo()
    w = g.weight[nodes]
    for _ in range(passes):
        sums = np.bincount(labels, weights=w).astype(np.float64)
        bad = [p for p in np.unique(labels) if _out_of_range(sums[p], lo, hi) > 0]
        if not bad:
            break
        changed = False
        for p in bad:
            sums = np.bincount(labels, weights=w, minlength=int(labels.max()) + 1).astype(
                np.float64
            )
            # a part merged away earlier in this pass may be the highest label: gone
            if not (labels == p).any() or _out_of_range(sums[p], lo, hi) == 0:
                continue
            if _repair_part(g, nodes, sub, labels, w, p, sums, lo=lo, hi=hi, rng=rng):
                changed = True
        if not changed:
            break
    _, dense = np.unique(labels, return_inverse=True)
    return dense.astype(np.int64)


def _repair_part(
    g: Graph,
    nodes: NDArray[np.int64],
    sub: sparse.coo_matrix,
    labels: NDArray[np.int64],
    w: NDArray[np.float64],
    p: int,
    sums: NDArray[np.float64],
    *,
    lo: float,
    hi: float,
    rng: np.random.Generator,
) -> bool:
    """Try the repair moves on part ``p`` in turn (in place); True if one helped."""
    if sums[p] > hi and _repair_split(g, nodes, labels, w, p, sums, lo=lo, hi=hi, rng=rng):
        return True
    la, lb = labels[sub.row], labels[sub.col]
    neighbours = np.unique(lb[(la == p) & (lb != p)])
    order = sorted(neighbours, key=lambda q: abs(sums[p] + sums[q] - (lo + hi)))
    for q in order:
        tot = sums[p] + sums[q]
        if lo <= tot <= hi:
            labels[labels == q] = p
            return True
    if _repair_move(sub, labels, w, p, sums, lo=lo, hi=hi):
        return True
    for q in order:
        tot = sums[p] + sums[q]
        before = _out_of_range(sums[p], lo, hi) + _out_of_range(sums[q], lo, hi)
        idx = np.flatnonzero((labels == p) | (labels == q))
        side = bisect(g, nodes[idx], 2, lo=lo, hi=hi, rng=rng, tries=REPAIR_TRIES)
        if side is None:
            continue
        mask, _ = side
        wa = float(w[idx][mask].sum())
        after = _out_of_range(wa, lo, hi) + _out_of_range(tot - wa, lo, hi)
        if after < before - 1e-9:
            labels[idx[mask]] = p
            labels[idx[~mask]] = q
            return True
    return _repair_triple(
        g,
        nodes,
        labels,
        w,
        la,
        lb,
        p,
        np.asarray(order, dtype=np.int64),
        sums,
        lo=lo,
        hi=hi,
        rng=rng,
    )
