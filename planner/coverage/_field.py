"""Service circles drawn from a raster field of the walkable network.

Once per network, :class:`CircleField` lays square cells of ``cell_m`` metres over the
network (its projected CRS; cell centres at ``x0 + i * cell_m``, ``y0 + j * cell_m``)
and gives every cell within the corridor half-width ``w`` (plus one cell) of a walkable
link its *nearest* link, the position of the nearest point along it (walking metres
from the link's ``u`` end) and the distance ``d`` to it (metres): a distance transform
(:func:`scipy.ndimage.distance_transform_edt`) of the links' segments painted on the
grid finds the cells near the network, a k-d tree of the segments (at most half a cell
long) their nearest segment, and the cell's centre is projected onto it exactly. The
cells near a building's connector line (centroid to access point) get their nearest
connector the same way. Inside the wall of a gated compound only the compound's own
paths and connectors count; outside every wall only the outside ones
(:class:`WallLayers`). Where two links' ground meets, each cell also knows half the
difference of its distances to the two links (:meth:`CircleField._borders`).

A circle of ``T`` minutes is then, from the walk's times at the two ends of each piece
of network it touches (``t_a``, ``t_b``, minutes; ``v`` the walking speed, m/min), the
set where ``h <= 0`` (metres), with, at a cell whose nearest point lies ``s`` walking
metres along its piece of length ``len``:

* ``h = max((t - T) * v, d - w)``, ``t = min(t_a + s / v, t_b + (len - s) / v)``:
  ground up to ``w`` from a link point the walk reaches within ``T`` (the frontier on a
  link is cut square where the walk stops);
* or ``h = |cell - end| - w`` for an end of the piece reached within ``T``: ground within
  ``w`` of a reached node is covered whichever of its links it lies nearest (the round
  cap a corridor has at a node);
* or, for a connector whose building's access point is reached within ``T``,
  ``max((t_c - T) * v, d_c - w)`` with ``t_c`` the later of the access time and the
  time of the cell's nearest link point (no link within reach: the access time).

A cell whose nearest link the walk does not touch, or whose nearest point and piece
ends it reaches only after ``T``, is never covered: a circle cannot claim ground across
a gap in the network (issue 13 item 5). ``h`` falls as ``T`` grows, so the circles of
one walk nest.

``h`` is known at cell centres; the circle is its filled contour drawn by contourpy
(C++), so the frontier along a link, the corridor's edge and the caps run between the
cells by linear interpolation. Where the ground of a reached link meets the ground of
one the walk does not reach in time, the field jumps: there each cell's value is
limited to half the difference of its distances to the two links, so the contour runs
where that difference, interpolated, is 0 (on the medial line between parallel
links). The polygons are built from contourpy's offset arrays with one vectorised
shapely call per circle.

Lengths are metres, times minutes, coordinates the network's projected CRS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import contourpy
import numpy as np
import shapely
from numpy.typing import NDArray
from scipy import ndimage
from scipy.spatial import cKDTree

from planner._threads import workers

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
ObjArray = NDArray[np.object_]

__all__ = ["CELL_M", "CircleField", "FieldRows", "WallLayers"]

#: Default cell size of the field, metres (``Settings.circle_cell_m``; why 3 m:
#: ``docs/benchmarks/coverage.md``).
CELL_M = 3.0

#: Tolerance when comparing a walking time with a threshold, minutes.
TIME_TOL_MIN = 1e-9


#: Values outside a circle are clipped to this many cells (inside ones to -1 cell):
#: not 1, so the corners of a quad never balance exactly at the contour level (a ring
#: pinched at the quad's middle, an invalid polygon).
_OUTSIDE = 1.01

#: Neighbouring cells whose values differ by more than this many cells meet across a
#: jump of the field (the ground of a link reached in time beside one that is not):
#: where the field is continuous it changes by at most a cell per cell.
_JUMP = 1.2

#: The four neighbours of a cell (row step, column step), in the order of
#: :meth:`CircleField._borders`.
_DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1))

#: The contour level, metres: a hair below 0, so a field value of exactly 0 at a cell
#: centre (a frontier or corridor edge through it) never pinches a ring there.
_LEVEL_M = -1e-6


@dataclass(frozen=True)
class WallLayers:
    """Which lines count where: ``line_layer`` the layer of each line (0: the outside
    network; k >= 1: the own paths of the walled compounds of colour k) and
    ``walls[k]`` the walls of layer k (``walls[0]`` is None: outside every wall).
    Compounds of one colour lie more than two corridor half-widths apart."""

    line_layer: IntArray
    walls: Sequence[shapely.Geometry | None]


@dataclass(frozen=True)
class FieldRows:
    """What one walk reaches, as rows the field is timed from.

    Links: the walk touches the piece of link ``edge`` from ``start_m`` to ``end_m``
    (walking metres from its ``u`` end) and reaches its two ends in ``ta`` and ``tb``
    minutes (``inf``: not reached). Connectors: connector ``conn``'s access point is
    reached in ``conn_min`` minutes.
    """

    edge: IntArray
    start_m: FloatArray
    end_m: FloatArray
    ta: FloatArray
    tb: FloatArray
    conn: IntArray
    conn_min: FloatArray


@dataclass(frozen=True)
class _Nearest:
    """Cells (flat index into the grid) near a set of lines, sorted by line, with each
    cell's nearest line, position along it (walking metres) and distance (metres);
    ``ptr`` the CSR rows of the lines (``ptr[i]`` to ``ptr[i + 1] - 1``); ``seg`` each
    cell's nearest segment of the lines' segments ``p0``-``p1`` (metres)."""

    cell: IntArray
    line: IntArray
    s_m: FloatArray
    d_m: FloatArray
    ptr: IntArray
    seg: IntArray
    p0: FloatArray
    p1: FloatArray


def _segments(
    lines: ObjArray, step_m: float
) -> tuple[FloatArray, FloatArray, IntArray, FloatArray]:
    """Segments of ``lines`` no longer than ``step_m``: start and end points, line
    index, distance of the start along its line (geometry metres)."""
    dense = shapely.segmentize(np.asarray(lines, dtype=object), step_m)
    xy, idx = shapely.get_coordinates(dense, return_index=True)
    same = idx[1:] == idx[:-1]
    p0, p1 = xy[:-1][same], xy[1:][same]
    seg_len = np.hypot(*(p1 - p0).T)
    # distance along the line at each segment's start
    cum = np.concatenate([[0.0], np.cumsum(np.where(same, np.hypot(*np.diff(xy, axis=0).T), 0.0))])
    first = np.concatenate([[True], ~same])
    cum = cum - np.maximum.accumulate(np.where(first, cum, 0.0))
    keep = seg_len > 0
    start = cum[:-1][same][keep]
    return p0[keep], p1[keep], idx[:-1][same][keep].astype("int64"), start


class CircleField:
    """The nearest link (and connector) of every cell near the network, built once.

    Parameters
    ----------
    lines
        LineStrings of the walkable links (projected CRS, metres).
    geometry_per_length
        Geometry metres per walking metre of each link (1 where they agree).
    connectors
        LineStrings from buildings to their access points (may be empty).
    layers, conn_layer
        :class:`WallLayers` of the links, and the layer of each connector.
    buffer_m
        Corridor half-width ``w``, metres.
    cell_m
        Cell size, metres (``Settings.circle_cell_m``).
    """

    def __init__(
        self,
        lines: ObjArray,
        geometry_per_length: FloatArray,
        connectors: ObjArray,
        layers: WallLayers,
        conn_layer: IntArray,
        *,
        buffer_m: float,
        cell_m: float = CELL_M,
    ) -> None:
        self.buffer_m = float(buffer_m)
        self.cell_m = float(cell_m)
        self.n_links = len(lines)
        self.n_conns = len(connectors)
        everything = np.concatenate(
            [np.asarray(lines, dtype=object), np.asarray(connectors, dtype=object)]
        )
        pad = self.buffer_m + 3.0 * self.cell_m
        if len(everything):
            x0, y0, x1, y1 = shapely.total_bounds(everything)
        else:
            x0 = y0 = x1 = y1 = 0.0
        self.x0 = float(x0) - pad
        self.y0 = float(y0) - pad
        self.nx = int(np.ceil((float(x1) + pad - self.x0) / self.cell_m)) + 1
        self.ny = int(np.ceil((float(y1) + pad - self.y0) / self.cell_m)) + 1
        cell_layer = self._cell_layers(layers.walls)
        self.links = self._nearest(
            np.asarray(lines, dtype=object),
            np.asarray(geometry_per_length, dtype="float64"),
            layers.line_layer,
            cell_layer,
        )
        self.conns = self._nearest(
            np.asarray(connectors, dtype=object),
            np.ones(len(connectors)),
            np.asarray(conn_layer, dtype="int64"),
            cell_layer,
        )
        # for connector cells: their nearest link and its point (inf: none within reach)
        link_of = np.full(self.nx * self.ny, -1, dtype="int64")
        link_of[self.links.cell] = np.arange(len(self.links.cell))
        at = link_of[self.conns.cell]
        self.conn_link = np.where(at >= 0, self.links.line[np.maximum(at, 0)], -1)
        self.conn_link_s = np.where(at >= 0, self.links.s_m[np.maximum(at, 0)], 0.0)
        row, col = np.divmod(self.links.cell, self.nx)
        self.link_row = row.astype("int64")
        self.link_col = col.astype("int64")
        self.link_scale = np.where(geometry_per_length > 0, geometry_per_length, 1.0)
        self.border_has, self.border_half = self._borders()

    # ------------------------------------------------------------ preparation
    def _cell_layers(self, walls: Sequence[shapely.Geometry | None]) -> NDArray[np.int8]:
        """The layer of every cell: k where its centre lies inside a wall of layer k."""
        layer = np.zeros((self.ny, self.nx), dtype="int8")
        for k, wall in enumerate(walls):
            if wall is None or shapely.is_empty(wall):
                continue
            c0, r0, c1, r1 = self._window(shapely.bounds(wall), 0.0)
            cols = self.x0 + np.arange(c0, c1) * self.cell_m
            rows = self.y0 + np.arange(r0, r1) * self.cell_m
            xx, yy = np.meshgrid(cols, rows)
            inside = shapely.contains_xy(wall, xx, yy)
            layer[r0:r1, c0:c1][inside] = k
        return layer

    def _window(self, bounds: FloatArray, pad_m: float) -> tuple[int, int, int, int]:
        """Cell columns and rows ``(c0, r0, c1, r1)`` (ends excluded) covering ``bounds``
        (x0, y0, x1, y1) grown by ``pad_m``, within the grid."""
        bx0, by0, bx1, by1 = (float(b) for b in bounds)
        c0 = max(int(np.floor((bx0 - pad_m - self.x0) / self.cell_m)), 0)
        r0 = max(int(np.floor((by0 - pad_m - self.y0) / self.cell_m)), 0)
        c1 = min(int(np.ceil((bx1 + pad_m - self.x0) / self.cell_m)) + 1, self.nx)
        r1 = min(int(np.ceil((by1 + pad_m - self.y0) / self.cell_m)) + 1, self.ny)
        return c0, r0, c1, r1

    def _nearest(
        self,
        lines: ObjArray,
        geometry_per_length: FloatArray,
        line_layer: IntArray,
        cell_layer: NDArray[np.int8],
    ) -> _Nearest:
        """:class:`_Nearest` of ``lines``, each layer's lines counting only in its cells."""
        reach = self.buffer_m + self.cell_m
        empty_i = np.zeros(0, dtype="int64")
        if len(lines) == 0:
            return _Nearest(
                empty_i,
                empty_i,
                np.zeros(0),
                np.zeros(0),
                np.zeros(1, "int64"),
                empty_i,
                np.zeros((0, 2)),
                np.zeros((0, 2)),
            )
        p0, p1, seg_line, seg_s = _segments(lines, self.cell_m / 2.0)
        cells: list[IntArray] = []
        segs: list[IntArray] = []
        for k in np.unique(line_layer).tolist():
            mine = np.flatnonzero(line_layer[seg_line] == k)
            if len(mine):
                c, j = self._nearest_layer(p0, p1, mine, cell_layer, int(k), reach)
                cells.append(c)
                segs.append(j)
        cell = np.concatenate(cells) if cells else empty_i
        j = np.concatenate(segs) if segs else empty_i
        f, d = _project(self._centres(cell), p0[j], p1[j])
        ok = d <= reach
        cell, j, f, d = cell[ok], j[ok], f[ok], d[ok]
        line = seg_line[j]
        scale = np.where(geometry_per_length > 0, geometry_per_length, 1.0)
        s_geom = seg_s[j] + f * np.hypot(*(p1[j] - p0[j]).T)
        cell, line, s_geom, d, j = _with_twins(lines, line_layer, cell, line, s_geom, d, j)
        s_m = s_geom / scale[line]
        order = np.argsort(line, kind="stable")
        ptr = np.zeros(len(lines) + 1, dtype="int64")
        np.cumsum(np.bincount(line, minlength=len(lines)), out=ptr[1:])
        return _Nearest(cell[order], line[order], s_m[order], d[order], ptr, j[order], p0, p1)

    def _centres(self, cell: IntArray) -> FloatArray:
        """Centres of flat cells ``cell``, metres (projected CRS), shape (n, 2)."""
        row, col = np.divmod(cell, self.nx)
        return np.stack([self.x0 + col * self.cell_m, self.y0 + row * self.cell_m], axis=1)

    def _nearest_layer(
        self,
        p0: FloatArray,
        p1: FloatArray,
        mine: IntArray,
        cell_layer: NDArray[np.int8],
        layer: int,
        reach_m: float,
    ) -> tuple[IntArray, IntArray]:
        """Cells of ``layer`` within about ``reach_m`` of the segments ``mine``
        (``p0``-``p1``), each with its nearest segment among them: flat cell indices and
        segment indices.

        The segments' middles are painted on the grid; one distance transform finds the
        cells within reach of a painted cell; a k-d tree of the middles gives each of
        those its nearest segment (not limited to the grid: two links a metre apart
        keep their own sides).
        """
        mid = (p0[mine] + p1[mine]) / 2.0
        lo = mid.min(axis=0)
        hi = mid.max(axis=0)
        c0, r0, c1, r1 = self._window(np.concatenate([lo, hi]), reach_m + self.cell_m)
        col = np.rint((mid[:, 0] - self.x0) / self.cell_m).astype("int64") - c0
        row = np.rint((mid[:, 1] - self.y0) / self.cell_m).astype("int64") - r0
        empty = np.ones((r1 - r0, c1 - c0), dtype=bool)
        empty[row, col] = False
        dist = ndimage.distance_transform_edt(empty)
        near = (dist * self.cell_m <= reach_m + self.cell_m) & (cell_layer[r0:r1, c0:c1] == layer)
        rr, cc = np.nonzero(near)
        cell = ((rr + r0) * self.nx + (cc + c0)).astype("int64")
        _d, k = cKDTree(mid).query(self._centres(cell), workers=workers())
        return cell, mine[k]

    def _borders(self) -> tuple[NDArray[np.bool_], NDArray[np.float32]]:
        """Per grid cell and direction (:data:`_DIRECTIONS`), shape (4, ny, nx): whether
        the 4-neighbour that way is nearest another link than the cell, and then half
        the difference of the cell's distances to that link and to its own (metres, 0..1
        cell: how far the cell lies from the border between the two links' ground, as
        the contour sees it). 20 bytes a cell of the grid."""
        c = self.cell_m
        nb = self.links
        has = np.zeros((len(_DIRECTIONS), self.ny * self.nx), dtype=bool)
        out = np.zeros((len(_DIRECTIONS), self.ny * self.nx), dtype="float32")
        pos_of = np.full(self.ny * self.nx, -1, dtype="int64")
        pos_of[nb.cell] = np.arange(len(nb.cell))
        row, col = np.divmod(nb.cell, self.nx)
        xy = self._centres(nb.cell)
        for k, (dr, dc) in enumerate(_DIRECTIONS):
            r2, c2 = row + dr, col + dc
            inside = (r2 >= 0) & (r2 < self.ny) & (c2 >= 0) & (c2 < self.nx)
            q = pos_of[np.where(inside, r2 * self.nx + c2, 0)]
            other = inside & (q >= 0) & (nb.line[np.maximum(q, 0)] != nb.line)
            own = np.flatnonzero(other)
            j = nb.seg[q[other]]
            _f, d_other = _project(xy[own], nb.p0[j], nb.p1[j])
            out[k, nb.cell[own]] = np.clip((d_other - nb.d_m[own]) / 2.0, 0.0, c)
            has[k, nb.cell[own]] = True
        shape = (len(_DIRECTIONS), self.ny, self.nx)
        return has.reshape(shape), out.reshape(shape)

    # ---------------------------------------------------------------- drawing
    @staticmethod
    def _gather(near: _Nearest, lines: IntArray) -> tuple[IntArray, IntArray]:
        """Positions in ``near`` of the cells of ``lines`` (one block per entry) and,
        for each, the entry it belongs to."""
        counts = near.ptr[lines + 1] - near.ptr[lines]
        total = int(counts.sum())
        entry = np.repeat(np.arange(len(lines)), counts)
        first = np.cumsum(counts) - counts
        pos = np.repeat(near.ptr[lines], counts) + (np.arange(total) - np.repeat(first, counts))
        return pos, entry

    def _conn_times(
        self, rows: FieldRows, link_min: FloatArray, speed_m_per_min: float
    ) -> tuple[IntArray, FloatArray, FloatArray]:
        """Cells nearest a connector whose access point the walk reaches: flat cell, the
        later of the access time and the time of the cell's nearest link point (inf
        for a link the walk does not touch; none within reach: the access time),
        minutes, and the distance to the connector (metres)."""
        pos, entry = self._gather(self.conns, rows.conn)
        t = rows.conn_min[entry]
        link = self.conn_link[pos]
        t_link = np.where(link >= 0, np.inf, t)
        has = link >= 0
        if has.any():
            t_link[has] = link_min[pos[has]]
        return self.conns.cell[pos], np.maximum(t, t_link), self.conns.d_m[pos]

    def _conn_link_min(self, rows: FieldRows, speed_m_per_min: float) -> FloatArray:
        """The time of each connector cell's nearest link point in this walk, minutes
        (inf where the walk does not touch the link)."""
        out = np.full(len(self.conns.cell), np.inf)
        if len(rows.conn) == 0 or len(out) == 0:
            return out
        pos, _entry = self._gather(self.conns, rows.conn)
        link = self.conn_link[pos]
        has = link >= 0
        pos, link = pos[has], link[has]
        s = self.conn_link_s[pos]
        # the piece of the walk on each link holding s (several on a station's own link)
        key = rows.edge
        order = np.lexsort((rows.start_m, key))
        k_sorted = key[order]
        lo = np.searchsorted(k_sorted, link, side="left")
        hi = np.searchsorted(k_sorted, link, side="right")
        t = np.full(len(pos), np.inf)
        for step in range(int((hi - lo).max(initial=0))):
            j = lo + step
            ok = j < hi
            r = order[np.minimum(j, len(order) - 1)]
            inside = ok & (s >= rows.start_m[r] - 1e-9) & (s <= rows.end_m[r] + 1e-9)
            tt = np.minimum(
                rows.ta[r] + (s - rows.start_m[r]) / speed_m_per_min,
                rows.tb[r] + (rows.end_m[r] - s) / speed_m_per_min,
            )
            t = np.where(inside, np.minimum(t, tt), t)
        out[pos] = t
        return out

    def draw(
        self, rows: FieldRows, thresholds_min: Sequence[float], speed_m_per_min: float
    ) -> list[shapely.Geometry]:
        """One walk's circles, one (Multi)Polygon per threshold (ascending), nested."""
        # numba's kernels, imported at the first circle: the app's first paint (the
        # street alone) does not load numba (issue 19 item 9)
        from planner.coverage._field_kernel import fill_grid, walk_cells

        v = float(speed_m_per_min)
        w = self.buffer_m
        c = self.cell_m
        nb = self.links
        cells = walk_cells(
            nb.ptr,
            nb.s_m,
            nb.d_m,
            self.link_scale,
            rows.edge,
            rows.start_m,
            rows.end_m,
            rows.ta,
            rows.tb,
            v,
            w + _OUTSIDE * c,
        )
        cc, ct, cd = self._conn_times(rows, self._conn_link_min(rows, v), v)
        c_row, c_col = np.divmod(cc, self.nx)
        out = []
        # each field at most the smaller threshold's, cell by cell: the circles nest
        # (the limits at borders depend on the threshold)
        prev: tuple[FloatArray, int, int] | None = None
        for minutes in thresholds_min:
            t = float(minutes) + TIME_TOL_MIN
            hc = np.maximum((ct - t) * v, cd - w)
            z, r0, c0 = fill_grid(
                t,
                v,
                w,
                c,
                _OUTSIDE,
                _JUMP,
                self.link_row,
                self.link_col,
                nb.d_m,
                *cells,
                c_row,
                c_col,
                hc,
                self.border_has,
                self.border_half,
            )
            if prev is not None:
                z, r0, c0 = _at_most(z, r0, c0, *prev, _OUTSIDE * c)
            prev = (z, r0, c0)
            out.append(self._contour(z, r0, c0))
        return out

    def _contour(self, z: FloatArray, r0: int, c0: int) -> shapely.Geometry:
        """The filled contour ``z <= 0`` of field values ``z`` (metres) on the grid's
        cells from row ``r0``, column ``c0``, as one (Multi)Polygon (projected CRS)."""
        c = self.cell_m
        if z.size == 0:
            return shapely.Polygon()
        height, width = z.shape
        # the generator class itself: contour_generator() would scan z for NaNs (a
        # masked copy), none of which it holds
        xx, yy = np.meshgrid(np.arange(width, dtype="float64"), np.arange(height, dtype="float64"))
        gen = contourpy.SerialContourGenerator(
            xx,
            yy,
            z,
            None,  # type: ignore[arg-type]  # no mask (contourpy passes None too)
            corner_mask=True,
            line_type=contourpy.LineType.Separate,
            fill_type=contourpy.FillType.OuterOffset,
            quad_as_tri=False,
            z_interp=contourpy.ZInterp.Linear,
            x_chunk_size=0,
            y_chunk_size=0,
        )
        points, offsets = cast(
            tuple[list[FloatArray], list[IntArray]], gen.filled(-2.0 * c, _LEVEL_M)
        )
        if not points:
            return shapely.Polygon()
        xy = np.concatenate(points) * c + (self.x0 + c0 * c, self.y0 + r0 * c)
        return _multipolygon(xy, [len(p) for p in points], offsets)


def _at_most(
    z: FloatArray, r0: int, c0: int, z_prev: FloatArray, p0: int, q0: int, outside: float
) -> tuple[FloatArray, int, int]:
    """The field ``z`` (window from row ``r0``, column ``c0``) lowered to ``z_prev``
    (window from ``p0``, ``q0``) where that is lower, on the window holding both (cells
    of neither: ``outside``)."""
    if z_prev.size == 0:
        return z, r0, c0
    if z.size == 0:
        return z_prev.copy(), p0, q0
    a0, b0 = min(r0, p0), min(c0, q0)
    a1 = max(r0 + z.shape[0], p0 + z_prev.shape[0])
    b1 = max(c0 + z.shape[1], q0 + z_prev.shape[1])
    if (a0, b0, a1, b1) != (r0, c0, r0 + z.shape[0], c0 + z.shape[1]):
        grown = np.full((a1 - a0, b1 - b0), outside)
        grown[r0 - a0 : r0 - a0 + z.shape[0], c0 - b0 : c0 - b0 + z.shape[1]] = z
        z, r0, c0 = grown, a0, b0
    view = z[p0 - r0 : p0 - r0 + z_prev.shape[0], q0 - c0 : q0 - c0 + z_prev.shape[1]]
    np.minimum(view, z_prev, out=view)
    return z, r0, c0


def _with_twins(
    lines: ObjArray,
    line_layer: IntArray,
    cell: IntArray,
    line: IntArray,
    s_geom: FloatArray,
    d: FloatArray,
    seg: IntArray,
) -> tuple[IntArray, IntArray, FloatArray, FloatArray, IntArray]:
    """The cells of every line also given to each other line of its layer lying on it
    exactly (a link mapped twice between the same nodes, with another walking length):
    such ground is nearest both, and a circle takes the earlier. The twin's cells keep
    the first line's segment (the same ground) and their position along the twin,
    geometry metres."""
    tree = shapely.STRtree(lines)
    a, b = tree.query(lines, predicate="covers")
    pair = (a != b) & (line_layer[a] == line_layer[b])
    pair[pair] = shapely.equals(lines[a[pair]], lines[b[pair]])
    a, b = a[pair], b[pair]
    if len(a) == 0:
        return cell, line, s_geom, d, seg
    order = np.argsort(line, kind="stable")
    ptr = np.searchsorted(line[order], np.arange(len(lines) + 1))
    # each twin pair once, from the line holding the cells (the other may hold none)
    counts = ptr[a + 1] - ptr[a]
    src = np.repeat(ptr[a], counts) + (
        np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    )
    pos = order[src]
    to = np.repeat(b, counts)
    at = shapely.line_locate_point(
        lines[to], shapely.line_interpolate_point(lines[line[pos]], s_geom[pos])
    )
    return (
        np.concatenate([cell, cell[pos]]),
        np.concatenate([line, to]),
        np.concatenate([s_geom, np.asarray(at, dtype="float64")]),
        np.concatenate([d, d[pos]]),
        np.concatenate([seg, seg[pos]]),
    )


def _project(xy: FloatArray, a: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Points ``xy`` projected onto segments ``a``-``b`` (row by row): the share of the
    way along the segment (0..1) and the distance, metres."""
    ab = b - a
    len2 = np.einsum("ij,ij->i", ab, ab)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.einsum("ij,ij->i", xy - a, ab) / len2
    f = np.clip(np.nan_to_num(f), 0.0, 1.0)
    d = np.hypot(*(a + f[:, None] * ab - xy).T)
    return f, d


def _multipolygon(
    coords: FloatArray, sizes: list[int], offsets: list[IntArray]
) -> shapely.Geometry:
    """One (Multi)Polygon from contourpy's ``OuterOffset`` output: ``coords`` all points
    (each polygon's outer ring then holes, each closed), ``sizes`` the points of each
    polygon and ``offsets`` each polygon's ring offsets."""
    starts = np.cumsum([0, *sizes[:-1]])
    ring_offsets = np.concatenate(
        [
            [0],
            *(
                np.asarray(off[1:], dtype="int64") + s0
                for off, s0 in zip(offsets, starts, strict=True)
            ),
        ]
    )
    poly_offsets = np.concatenate([[0], np.cumsum([len(o) - 1 for o in offsets])])
    geom = shapely.from_ragged_array(
        shapely.GeometryType.MULTIPOLYGON,
        coords,
        (ring_offsets, poly_offsets, np.asarray([0, len(sizes)], dtype="int64")),
    )[0]
    if len(sizes) == 1:
        return shapely.get_geometry(geom, 0)
    return geom
