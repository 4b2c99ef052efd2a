"""Lagrangian bound for maximal coverage, and the candidates it proves useless.

Relaxing the rows ``y_g <= sum_{j in g} x_j`` with multipliers ``0 <= lam_g <= w_g``
leaves a problem solved by inspection::

    L(lam) = sum_g (w_g - lam_g) + (sum of the k largest positive scores c_j),
    c_j = own_w_j + sum_{g reached by j} lam_g

and ``L(lam)`` bounds the households any k stations can newly cover (spacing rows are
dropped, which only loosens the bound). Subgradient steps (Polyak, Held & Karp 1971)
bring it to the linear-programming bound in a few hundred sparse matrix-vector
products - far faster than the simplex on the large, degenerate relaxations of
coverage models.

The same numbers prune candidates exactly: a plan containing candidate j newly
covers at most ``L - c_(k) + c_j`` households (swap j for the k-th best score); when
that is below what a known plan (the greedy) covers, j is in no optimal plan and the
MILP never needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from planner.siting.model import ReducedModel, _merge_identical_rows
from planner.siting.problem import BoolArray, FloatArray, IntArray


@dataclass(frozen=True)
class LagrangeBound:
    """Result of :func:`lagrangian_bound`.

    Attributes
    ----------
    bound
        Upper bound on households newly covered by any ``k`` stations.
    with_candidate
        For each candidate, an upper bound on what a plan containing it covers.
    iterations
        Subgradient iterations run.
    """

    bound: float
    with_candidate: FloatArray
    iterations: int


def _evaluate(
    model: ReducedModel, cand_groups: sp.csr_matrix, lam: FloatArray, k: int
) -> tuple[float, FloatArray, IntArray, float]:
    score = model.own_w + cand_groups @ lam
    kk = min(k, score.size)
    top = np.argpartition(-score, kk - 1)[:kk] if kk else np.zeros(0, np.int64)
    top = top[score[top] > 0]
    kth = float(score[top].min()) if top.size == kk and kk else 0.0
    value = float((model.group_w - lam).sum() + score[top].sum())
    return value, score, top.astype(np.int64), kth


def lagrangian_bound(
    model: ReducedModel,
    k: int,
    *,
    lower: float,
    iterations: int = 400,
) -> LagrangeBound:
    """Subgradient optimisation of the Lagrangian bound of maximal coverage.

    Parameters
    ----------
    model
        The reduced model.
    k
        Number of new stations.
    lower
        Households newly covered by a known plan (e.g. the greedy): the Polyak step
        aims at it, and the search stops once the bound cannot beat it.
    iterations
        Largest number of subgradient steps.
    """
    n_c = model.n_c
    if n_c == 0 or k <= 0:
        return LagrangeBound(0.0, np.zeros(n_c), 0)
    cand_groups = model.groups.T.tocsr()
    # start: each group's weight shared evenly among its candidates
    cnt = np.maximum(np.diff(model.groups.indptr), 1)
    lam = model.group_w / cnt
    best = np.inf
    best_lam = lam
    step_scale = 2.0
    since = 0
    it = 0
    for it in range(1, iterations + 1):  # noqa: B007 - iteration count is reported
        value, _score, top, _kth = _evaluate(model, cand_groups, lam, k)
        if value < best - 1e-9:
            best, best_lam, since = value, lam, 0
        else:
            since += 1
            if since >= 20:
                step_scale /= 2.0
                since = 0
        if best - lower < 0.5 * model.unit or step_scale < 1e-6:
            break
        # open candidates reaching each group, from the few open rows only
        rows = np.concatenate(
            [cand_groups.indices[cand_groups.indptr[j] : cand_groups.indptr[j + 1]] for j in top]
            or [np.zeros(0, np.int64)]
        )
        hits = np.bincount(rows, minlength=model.n_g).astype(np.float64)
        grad = hits - 1.0  # dL/dlam_g = (-1) + hits (where 0 < lam < w)
        norm = float(np.square(grad).sum())  # not BLAS: its threads spin on busy machines
        if norm == 0:
            break
        lam = np.clip(lam - step_scale * (value - lower) / norm * grad, 0.0, model.group_w)
    value, score, top, kth = _evaluate(model, cand_groups, best_lam, k)
    with_j = np.where(np.isin(np.arange(n_c), top), value, value - kth + score)
    return LagrangeBound(bound=value, with_candidate=with_j, iterations=it)


def restrict(model: ReducedModel, keep: BoolArray) -> ReducedModel:
    """The model with only the candidates in ``keep`` (groups re-reduced exactly)."""
    cols = np.flatnonzero(keep)
    g = model.groups[:, cols].tocsr()
    cnt = np.diff(g.indptr)
    own = model.own_w[cols].copy()
    single = cnt == 1
    np.add.at(own, g.indices[g.indptr[:-1][single]], model.group_w[single])
    multi = np.flatnonzero(cnt >= 2)
    groups, group_w = _merge_identical_rows(g[multi], model.group_w[multi])
    local = np.full(model.n_c, -1, np.int64)
    local[cols] = np.arange(cols.size)
    pairs = local[model.conflicts] if model.conflicts.size else model.conflicts
    if pairs.size:
        pairs = pairs[(pairs >= 0).all(axis=1)]
    return replace(
        model,
        cand=model.cand[cols],
        own_w=own,
        groups=groups,
        group_w=group_w,
        tie_cost=model.tie_cost[cols],
        conflicts=pairs,
    )
