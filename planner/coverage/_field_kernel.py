"""Compiled (numba) loops of the circle field (:mod:`planner.coverage._field`).

Two kernels, one pass over the cells each, no Python per cell:

* :func:`walk_cells`: the cells nearest the pieces one walk touches, with the time at
  each cell's nearest point and what the node caps need;
* :func:`fill_grid`: for one threshold, the field's values on the grid window holding
  the circle, limited at the borders between a covered and an uncovered link's ground.

Compiled on first call and cached on disk next to this module (``cache=True``; warmed at
install by :mod:`planner._warm`); ``nogil=True``, so circles run on all cores. Kept in
its own module so ``import planner.coverage._field`` does not compile anything.
Lengths are metres, times minutes.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

__all__ = ["fill_grid", "walk_cells"]


@njit(cache=True, nogil=True)
def walk_cells(
    ptr: IntArray,
    cell_s: FloatArray,
    cell_d: FloatArray,
    scale: FloatArray,
    edge: IntArray,
    start: FloatArray,
    end: FloatArray,
    ta: FloatArray,
    tb: FloatArray,
    speed: float,
    reach_m: float,
) -> tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """The link cells nearest a piece the walk touches.

    ``ptr`` (CSR over links), ``cell_s``, ``cell_d``: the field's link cells (position
    along the link, walking metres; distance, metres); ``scale``: each link's geometry
    metres per walking metre (the caps are measured on the ground). Row ``r`` of ``edge``, ``start``,
    ``end``, ``ta``, ``tb``: the walk touches link ``edge[r]`` from ``start`` to ``end``
    and reaches those ends in ``ta`` and ``tb`` minutes.

    Returns per cell: its position in the field's link cells, the time at its nearest
    point, the time of the piece's ``a`` end where the cell lies within ``reach_m`` of
    it (else inf) and the cell's distance to that end (along and across the link,
    metres), the same for the ``b`` end, and
    the earliest of those three times.
    """
    total = 0
    for r in range(len(edge)):
        total += ptr[edge[r] + 1] - ptr[edge[r]]
    pos = np.empty(total, dtype=np.int64)
    time = np.empty(total)
    cap_a = np.empty(total)
    a_m = np.empty(total)
    cap_b = np.empty(total)
    b_m = np.empty(total)
    first = np.empty(total)
    k = 0
    for r in range(len(edge)):
        e = edge[r]
        g = scale[e]
        for p in range(ptr[e], ptr[e + 1]):
            s = cell_s[p]
            if s < start[r] - 1e-9 or s > end[r] + 1e-9:
                continue
            fa = s - start[r]
            fb = end[r] - s
            d = cell_d[p]
            t = min(ta[r] + fa / speed, tb[r] + fb / speed)
            am = np.sqrt(d * d + fa * fa * g * g)
            bm = np.sqrt(d * d + fb * fb * g * g)
            ca = ta[r] if am <= reach_m else np.inf
            cb = tb[r] if bm <= reach_m else np.inf
            pos[k] = p
            time[k] = t
            cap_a[k] = ca
            a_m[k] = am
            cap_b[k] = cb
            b_m[k] = bm
            first[k] = min(t, min(ca, cb))
            k += 1
    return pos[:k], time[:k], cap_a[:k], a_m[:k], cap_b[:k], b_m[:k], first[:k]


@njit(cache=True, nogil=True)
def fill_grid(
    minutes: float,
    speed: float,
    buffer_m: float,
    cell_m: float,
    outside: float,
    jump: float,
    link_row: IntArray,
    link_col: IntArray,
    link_d: FloatArray,
    pos: IntArray,
    time: FloatArray,
    cap_a: FloatArray,
    a_m: FloatArray,
    cap_b: FloatArray,
    b_m: FloatArray,
    first: FloatArray,
    c_row: IntArray,
    c_col: IntArray,
    c_h: FloatArray,
    border_has: NDArray[np.bool_],
    border_half: NDArray[np.float32],
) -> tuple[FloatArray, int, int]:
    """The field at ``minutes`` on the smallest grid window holding every cell inside
    the circle plus one cell around it: ``(z, r0, c0)`` (``z`` empty: nothing inside).

    A link cell's value is ``min(max((t - T) v, d - w), caps)`` (the caps: the distance
    beyond ``w`` to a piece end reached within ``T``), a connector cell's ``c_h``;
    clipped to ``[-cell_m, outside * cell_m]``, the lower value where two meet, every
    other cell ``outside * cell_m``. Then where a covered cell and an uncovered
    4-neighbour are nearest two different links (``border_has``, per direction +row,
    -row, +col, -col) and their values jump (differ by more than ``jump`` cells: one
    link reached in time, the other not), each is limited to its distance to their
    border (``border_half``).
    """
    late = minutes + outside * cell_m / speed
    hi = outside * cell_m
    ny = border_has.shape[1]
    nx = border_has.shape[2]
    r0, r1, c0, c1 = ny, -1, nx, -1
    n = len(pos)
    h = np.empty(n)
    for k in range(n):
        if first[k] > late:
            h[k] = np.inf
            continue
        v = max((time[k] - minutes) * speed, link_d[pos[k]] - buffer_m)
        if cap_a[k] <= minutes:
            v = min(v, a_m[k] - buffer_m)
        if cap_b[k] <= minutes:
            v = min(v, b_m[k] - buffer_m)
        h[k] = v
        if v <= 0.0:
            r = link_row[pos[k]]
            c = link_col[pos[k]]
            r0, r1, c0, c1 = min(r0, r), max(r1, r), min(c0, c), max(c1, c)
    for k in range(len(c_h)):
        if c_h[k] <= 0.0:
            r0, r1 = min(r0, c_row[k]), max(r1, c_row[k])
            c0, c1 = min(c0, c_col[k]), max(c1, c_col[k])
    if r1 < 0:
        return np.empty((0, 0)), 0, 0
    r0, c0 = max(r0 - 1, 0), max(c0 - 1, 0)
    r1, c1 = min(r1 + 2, ny), min(c1 + 2, nx)
    height, width = r1 - r0, c1 - c0
    z = np.full((height, width), hi)
    for k in range(n):
        if h[k] == np.inf:
            continue
        r = link_row[pos[k]] - r0
        c = link_col[pos[k]] - c0
        if 0 <= r < height and 0 <= c < width:
            z[r, c] = min(z[r, c], min(max(h[k], -cell_m), hi))
    for k in range(len(c_h)):
        r = c_row[k] - r0
        c = c_col[k] - c0
        if 0 <= r < height and 0 <= c < width:
            z[r, c] = min(z[r, c], min(max(c_h[k], -cell_m), hi))
    raw = z.copy()
    steps = ((1, 0), (-1, 0), (0, 1), (0, -1))
    for i in range(height):
        for j in range(width):
            for d in range(4):
                if not border_has[d, r0 + i, c0 + j]:
                    continue
                ni = i + steps[d][0]
                nj = j + steps[d][1]
                there = raw[ni, nj] if 0 <= ni < height and 0 <= nj < width else hi
                here = raw[i, j]
                # a jump: the field is 1-Lipschitz (metres per metre) where it is
                # continuous, so neighbours one cell apart differ by a cell at most
                if abs(there - here) <= jump * cell_m:
                    continue
                half = float(border_half[d, r0 + i, c0 + j])
                if here <= 0.0 < there:
                    z[i, j] = max(z[i, j], -half)
                elif there <= 0.0 < here:
                    z[i, j] = min(z[i, j], half * outside)
    return z, r0, c0
