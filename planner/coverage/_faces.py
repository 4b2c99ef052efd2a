"""The blocks a walking network encloses, prepared once for drawing many circles.

A service circle is the union of corridors (``buffer_m`` either side) around the
reached network and the connectors of reached buildings. Unioning one corridor
per stretch makes GEOS overlay every pair of overlapping corridors, for every
circle. Most of a circle, though, is whole blocks: a *face* of the network (the
area its lines enclose) whose every bounding line, inner dead end and building
connector is reached is covered up to its *hole*, the face's inside farther than
``buffer_m`` from all of them. The faces, their holes and every line's corridor
depend on the network only, so :class:`FaceIndex` computes them once; a circle is
then drawn (:meth:`FaceIndex.draw`) as

* the reached whole faces merged (a coverage union, no overlay) and grown by
  ``buffer_m`` (this is the corridor of every line bounding or inside them),
* unioned with the corridors of the few reached lines and connectors that touch
  no reached whole face (the frontier belt),
* with the whole faces' holes cut out as interior rings (no overlay either).

Holes are carved for the connectors drawn whenever their building is reached
(``carve``); a connector drawn only near the frontier is cut from its block's
hole when a larger circle encloses the block. Holes are drawn a hair *outside*
the true set (their arcs' chords lie at least ``buffer_m`` from every line, where
a corridor's chords lie at most ``buffer_m``), so a drawn corridor never reaches
into a hole: the circle of a larger threshold, drawn as the smaller circle's outline
unioned with only what is new (faces newly enclosed, corridors not drawn yet),
minus its own holes, contains the smaller circle exactly. The price is that land up to
``buffer_m / cos(pi / (4 * HOLE_QUAD_SEGS))`` (0.5 % more, 12 cm at 25 m) from a
path is drawn inside whole blocks.

:class:`DeadEndTrees` (prepared with each :class:`FaceIndex`) finds the links of the
dead-end trees hanging off the network's cycles: a whole subtree bounds no face, so its
corridors would be unioned one by one in every circle reaching it; its union is made
once (on first use) and reused instead.

:class:`LinkCells` (also prepared once per network) holds the Voronoi cells of points
along every link: the ground nearest to each stretch, used to cut a circle where an
unreached link runs closer to the ground than the reached one (a gap in the network).

Lengths are metres in the network's projected CRS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse.csgraph import depth_first_order, dijkstra

from planner._threads import parallel

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
ObjArray = NDArray[np.object_]

#: Segments per quarter circle of the corridors (caps and joins): their chords
#: fall about 0.5 m (at 25 m) inside the true arc, never outside.
QUAD_SEGS = 4

#: Segments per quarter circle of the building connectors' caps (coarser: a
#: connector only has to show its building inside the circle).
CONNECTOR_QUAD_SEGS = 2

#: Segments per quarter circle of the holes' arcs (finer: holes are drawn outside
#: the true set by the chord's sagitta, 0.5 % of the half-width).
HOLE_QUAD_SEGS = 8

#: Holes smaller than this in a drawn circle are hairline cracks of an overlay
#: (:func:`without_hairlines`), m².
NEST_TOL_M2 = 1e-6


@dataclass(frozen=True)
class Drawn:
    """One drawn circle: ``polygon`` = ``outline`` minus ``holes``.

    ``outline`` is the union of the grown whole faces and the corridors drawn;
    ``enclosed`` flags the faces drawn whole (their holes are ``holes``, of faces
    ``hole_face``); ``uncarved`` are the drawn corridors of connectors the holes
    were not carved for; ``edges_drawn`` and ``conns_drawn`` are the whole edges and
    the connectors whose prepared corridors the outline holds (sorted). The circle of
    the next larger threshold is drawn on top of this one: its outline is this
    outline unioned with only what is new (faces newly enclosed, corridors not drawn
    yet, the frontier's stretches).
    """

    polygon: shapely.Geometry
    outline: shapely.Geometry
    holes: ObjArray
    hole_face: IntArray
    enclosed: BoolArray
    uncarved: ObjArray
    edges_drawn: IntArray
    conns_drawn: IntArray

    @classmethod
    def plain(cls, polygon: shapely.Geometry) -> Drawn:
        """A drawing known only by its polygon (no faces, holes or corridors)."""
        none = np.zeros(0, dtype=object)
        no_i = np.zeros(0, "int64")
        return cls(polygon, polygon, none, no_i, np.zeros(0, bool), none, no_i, no_i)


_NONE = np.zeros(0, dtype=object)
_EMPTY = Drawn.plain(shapely.Polygon())


def polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygons of ``geom`` (an overlay of polygons can add the lines and points
    where they only touch), as one Polygon or MultiPolygon."""
    if shapely.get_type_id(geom) in (3, 6):
        return geom
    parts = np.asarray(shapely.get_parts(shapely.get_parts(geom)), dtype=object)
    parts = parts[shapely.get_type_id(parts) == 3]
    if len(parts) == 0:
        return shapely.Polygon()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(list(parts))


def without_hairlines(geom: shapely.Geometry, min_area_m2: float = NEST_TOL_M2) -> shapely.Geometry:
    """``geom`` (a polygon or multipolygon) without the holes smaller than
    ``min_area_m2``: the hairline cracks an overlay leaves where two drawings meet
    along a line (e.g. a compound's wall), which rounding would turn into lines."""
    parts = np.asarray(shapely.get_parts(geom), dtype=object)
    parts = parts[shapely.get_type_id(parts) == 3]
    if len(parts) == 0:
        return geom
    counts = shapely.get_num_interior_rings(parts)
    if counts.sum() == 0:
        return geom
    owner = np.repeat(np.arange(len(parts)), counts)
    rings = shapely.get_interior_ring(parts[owner], np.concatenate([np.arange(c) for c in counts]))
    keep = shapely.area(shapely.polygons(rings)) >= min_area_m2
    if keep.all():
        return geom
    # rings grouped per part, the shell first (a stable sort keeps it ahead)
    all_rings = np.concatenate([shapely.get_exterior_ring(parts), rings[keep]])
    idx = np.concatenate([np.arange(len(parts)), owner[keep]])
    order = np.argsort(idx, kind="stable")
    out = np.asarray(shapely.polygons(all_rings[order], indices=idx[order]), dtype=object)
    return out[0] if len(out) == 1 else shapely.MultiPolygon(list(out))


def with_holes(body: shapely.Geometry, holes: ObjArray) -> shapely.Geometry:
    """``body`` minus ``holes`` that lie strictly inside it, apart from each other
    and from its rings, built directly as interior rings instead of by an overlay
    (a plain difference if a hole is not inside one part)."""
    if len(holes) == 0:
        return body
    parts = np.asarray(shapely.get_parts(body), dtype=object)
    parts = parts[shapely.get_type_id(parts) == 3]
    if len(parts) == 1:
        hi, pi = np.arange(len(holes)), np.zeros(len(holes), dtype="int64")
        inside = bool(shapely.contains(parts[0], shapely.point_on_surface(holes[:1]))[0])
        if not inside:
            return shapely.difference(body, shapely.multipolygons(holes))
    else:
        shapely.prepare(parts)
        pi, hi = shapely.STRtree(shapely.point_on_surface(holes)).query(parts, predicate="contains")
        if len(np.unique(hi)) != len(holes):
            return shapely.difference(body, shapely.multipolygons(holes))
    out = []
    for k, part in enumerate(parts):
        mine = holes[hi[pi == k]]
        if len(mine) == 0:
            out.append(part)
            continue
        own = shapely.get_interior_ring(part, np.arange(shapely.get_num_interior_rings(part)))
        rings = [*own, *shapely.get_exterior_ring(mine)]
        out.append(shapely.Polygon(shapely.get_exterior_ring(part), rings))
    return out[0] if len(out) == 1 else shapely.MultiPolygon(out)


def _cut(holes: ObjArray, face: IntArray, cuts: ObjArray) -> tuple[ObjArray, IntArray]:
    """``holes`` (of faces ``face``) minus the ``cuts`` reaching them, in rounds (one
    cut per hole per round, each round one vectorised call); empty pieces dropped."""
    holes = np.array(holes, dtype=object)
    ci, hi = shapely.STRtree(holes).query(cuts, predicate="intersects")
    if len(hi) == 0:
        return holes, face
    order = np.lexsort((ci, hi))
    ci, hi = ci[order], hi[order]
    rank = np.arange(len(hi)) - np.searchsorted(hi, hi, side="left")
    for r in range(int(rank.max()) + 1):
        sel = rank == r
        holes[hi[sel]] = parallel(shapely.difference, holes[hi[sel]], cuts[ci[sel]])
    parts, idx = shapely.get_parts(holes, return_index=True)
    parts = np.asarray(parts, dtype=object)
    ok = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 0)
    return parts[ok], np.asarray(face, dtype="int64")[idx[ok]]


def csr_of(keys: IntArray, n: int) -> tuple[IntArray, IntArray]:
    """Positions ``0..len(keys)-1`` grouped by ``keys`` (0..n-1) as CSR arrays."""
    return _csr(keys, np.arange(len(keys), dtype="int64"), n)


def csr_rows(ptr: IntArray, keys: IntArray, values: IntArray) -> tuple[IntArray, IntArray]:
    """The CSR rows ``keys`` of ``(ptr, values)`` as pairs ``(position in keys, value)``."""
    count = ptr[keys + 1] - ptr[keys]
    pos = np.repeat(np.arange(len(keys), dtype="int64"), count)
    k = np.arange(len(pos)) - np.repeat(np.cumsum(count) - count, count)
    return pos, values[ptr[keys][pos] + k]


def _csr(keys: IntArray, values: IntArray, n: int) -> tuple[IntArray, IntArray]:
    """Group ``values`` by ``keys`` (0..n-1) as CSR arrays ``(ptr, values)``."""
    order = np.argsort(keys, kind="stable")
    ptr = np.zeros(n + 1, dtype="int64")
    np.cumsum(np.bincount(keys, minlength=n), out=ptr[1:])
    return ptr, np.asarray(values, dtype="int64")[order]


def _line_ends(lines: ObjArray) -> tuple[IntArray, IntArray]:
    """A node id for each line's first and last point (points at the same spot, to
    1 micrometre, share one)."""
    if len(lines) == 0:
        empty = np.zeros(0, dtype="int64")
        return empty, empty
    xy = np.concatenate(
        [shapely.get_coordinates(shapely.get_point(lines, k))[:, :2] for k in (0, -1)]
    )
    _, node = np.unique(np.round(xy, 6), axis=0, return_inverse=True)
    node = np.asarray(node, dtype="int64").ravel()
    return node[: len(lines)], node[len(lines) :]


class DeadEndTrees:
    """The dead-end trees hanging off a network's cycles, prepared for drawing.

    A link whose removal splits the network with one side free of cycles lies on a
    dead-end tree (found by pruning the leaves again and again). Each such link is
    the root of the *subtree* beyond it (itself and every link farther out); when a
    circle reaches a whole subtree, the union of its corridors is the same every
    time, so it is unioned once (on first use) and reused: on a sidewalk network
    about half of the corridors a circle unions one by one lie on such trees
    (docs/benchmarks/coverage.md).

    Parameters
    ----------
    u, v
        The two end nodes of each link (any integer ids).

    Attributes
    ----------
    order
        The tree links in depth-first pre-order: the subtree of the link at
        position ``i`` is ``order[i:stop[i]]``.
    pos
        Each link's position in ``order`` (-1: not on a tree).
    stop
        End (exclusive) of each position's subtree in ``order``.
    """

    def __init__(self, u: IntArray, v: IntArray) -> None:
        u = np.asarray(u, dtype="int64")
        v = np.asarray(v, dtype="int64")
        n_edges = len(u)
        n_nodes = int(max(u.max(initial=-1), v.max(initial=-1))) + 1
        alive = u != v
        inner = np.full(n_edges, -2, dtype="int64")  # -2: not on a tree
        outer = np.full(n_edges, -1, dtype="int64")
        while True:
            deg = np.bincount(np.concatenate([u[alive], v[alive]]), minlength=n_nodes)
            u_leaf, v_leaf = deg[u] == 1, deg[v] == 1
            pruned = alive & (u_leaf | v_leaf)
            if not pruned.any():
                break
            both = pruned & u_leaf & v_leaf
            outer[pruned] = np.where(u_leaf, u, v)[pruned]
            inner[pruned] = np.where(u_leaf, v, u)[pruned]
            inner[both] = -1  # a link alone: both ends are leaves
            alive &= ~pruned
        tree = np.flatnonzero(inner > -2)
        # a tree link's parent is the link pruned later whose outer end is its inner
        # end (a node is the outer end of one link at most; both ends of a lone link)
        by_outer = np.full(n_nodes, -1, dtype="int64")
        by_outer[outer[tree]] = tree
        lone = tree[inner[tree] == -1]
        by_outer[_other_end(u, v, outer, lone)] = lone
        parent = np.where(inner[tree] >= 0, by_outer[np.maximum(inner[tree], 0)], -1)
        parent[parent == tree] = -1
        self.n_edges = n_edges
        self.pos = np.full(n_edges, -1, dtype="int64")
        self.order = np.zeros(0, dtype="int64")
        self.stop = np.zeros(0, dtype="int64")
        self._unions: dict[int, shapely.Geometry] = {}
        if len(tree) == 0:
            return
        # depth-first pre-order from a virtual root (index len(tree)) over the forest
        local = np.full(n_edges, -1, dtype="int64")
        local[tree] = np.arange(len(tree))
        par = np.where(parent >= 0, local[np.maximum(parent, 0)], len(tree))
        graph = sparse.csr_matrix(
            (np.ones(len(tree)), (par, np.arange(len(tree)))), shape=(len(tree) + 1,) * 2
        )
        pre = depth_first_order(graph, len(tree), directed=True, return_predecessors=False)
        pre = np.asarray(pre[1:], dtype="int64")
        depth = dijkstra(graph, indices=len(tree), unweighted=True).astype("int64")
        size = np.ones(len(tree) + 1, dtype="int64")
        for d in range(int(depth[:-1].max()), 0, -1):  # one level at a time, leaves first
            at = np.flatnonzero(depth[:-1] == d)
            np.add.at(size, par[at], size[at])
        self.order = tree[pre]
        self.pos[self.order] = np.arange(len(pre))
        self.stop = np.arange(len(pre)) + size[pre]

    def roots(self, edges: IntArray) -> IntArray:
        """The links (sorted) whose whole subtree, of two links or more, lies in
        ``edges`` (sorted, unique) and whose parent's does not: the subtrees to draw
        from their prepared unions."""
        if len(self.order) == 0 or len(edges) == 0:
            return np.zeros(0, dtype="int64")
        has = np.zeros(len(self.order) + 1, dtype="int64")
        has[1:] = np.cumsum(np.isin(self.order, edges))
        full = has[self.stop] - has[:-1] == self.stop - np.arange(len(self.order))
        full &= self.stop - np.arange(len(self.order)) >= 2
        # maximal: no full subtree starts before and reaches past this one
        cover = np.maximum.accumulate(np.where(full, self.stop, 0))
        maximal = full & (np.r_[0, cover[:-1]] <= np.arange(len(self.order)))
        return np.sort(self.order[maximal])

    def members(self, roots: IntArray) -> IntArray:
        """Every link of the subtrees of ``roots`` (sorted)."""
        start = self.pos[roots]
        count = self.stop[start] - start
        k = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        return np.sort(self.order[np.repeat(start, count) + k])

    def unions(self, roots: IntArray, corridors: ObjArray) -> ObjArray:
        """The union of the ``corridors`` (one per link) of each root's subtree, made
        once per root and kept (threads may ask at once: a union is made twice at
        worst, never torn). The loop is over subtrees (tens a circle), each a
        dictionary look-up once its union is made."""
        out = np.empty(len(roots), dtype=object)
        for i, r in enumerate(roots.tolist()):
            got = self._unions.get(r)
            if got is None:
                start = int(self.pos[r])
                got = shapely.union_all(corridors[self.order[start : self.stop[start]]])
                self._unions[r] = got  # one dictionary store: atomic under the GIL
            out[i] = got
        return out


def _other_end(u: IntArray, v: IntArray, outer: IntArray, links: IntArray) -> IntArray:
    """The end of each of ``links`` that is not its ``outer`` end."""
    return np.where(u[links] == outer[links], v[links], u[links])


class FaceIndex:
    """Faces, holes and corridors of one set of network lines, computed once.

    Parameters
    ----------
    lines
        LineStrings of the network edges (projected CRS, metres); index ``i`` is
        edge ``i`` of this index.
    length_m
        Walking length of each edge (the unit reached stretches are measured in).
    connectors
        LineStrings from buildings to their access points; index ``j`` is
        connector ``j``.
    buffer_m
        Corridor half-width, metres.
    carve
        Connectors the faces' holes are carved for (default all): those drawn
        whenever their building is reached. Another connector drawn in a face
        (near the frontier) is cut from that face's hole when a larger circle
        encloses the face.
    """

    def __init__(
        self,
        lines: ObjArray,
        length_m: FloatArray,
        connectors: ObjArray,
        *,
        buffer_m: float,
        carve: BoolArray | None = None,
    ) -> None:
        self.buffer_m = float(buffer_m)
        lines = np.asarray(lines, dtype=object)
        connectors = np.asarray(connectors, dtype=object)
        self.n_edges = len(lines)
        self.length_m = np.asarray(length_m, dtype="float64")
        self.edge_buf = parallel(shapely.buffer, lines, self.buffer_m, quad_segs=QUAD_SEGS)
        self.conn_buf = parallel(
            shapely.buffer, connectors, self.buffer_m, quad_segs=CONNECTOR_QUAD_SEGS
        )
        self.conn_face = np.full(len(connectors), -1, dtype="int64")
        self.carve = (
            np.ones(len(connectors), dtype=bool) if carve is None else np.asarray(carve, bool)
        )
        empty_i = np.zeros(0, dtype="int64")
        self.faces = np.zeros(0, dtype=object)
        self.face_ptr = np.zeros(1, dtype="int64")
        self.face_edges = empty_i
        self.edge_ptr = np.zeros(self.n_edges + 1, dtype="int64")
        self.edge_faces = empty_i
        self.holes = np.zeros(0, dtype=object)
        self.hole_face = empty_i
        self.trees = DeadEndTrees(*_line_ends(lines))
        if self.n_edges == 0:
            return
        noded = np.asarray(shapely.get_parts(shapely.union_all(lines)), dtype=object)
        faces = np.asarray(shapely.get_parts(shapely.polygonize_full(noded)[0]), dtype=object)
        faces = faces[shapely.area(faces) > 0]
        if len(faces) == 0:
            return
        self.faces = faces
        nf = len(faces)
        tree = shapely.STRtree(faces)
        # every segment of the noded lines: the edge it lies on, and the faces just
        # left and right of its middle (the same face twice: a dead end inside it)
        xy, idx = shapely.get_coordinates(noded, return_index=True)
        same = idx[1:] == idx[:-1]
        p0, p1 = xy[:-1][same], xy[1:][same]
        step = p1 - p0
        norm = np.hypot(step[:, 0], step[:, 1])
        good = norm > 0
        p0, p1, step, norm = p0[good], p1[good], step[good], norm[good]
        mid = (p0 + p1) / 2.0
        seg_edge = shapely.STRtree(lines).query_nearest(shapely.points(mid), all_matches=False)[1]
        eps = np.minimum(1e-3, norm / 4.0)[:, None]
        nrm = np.stack([-step[:, 1], step[:, 0]], axis=1) / norm[:, None]
        side = np.full((2, len(mid)), -1, dtype="int64")
        for k, sign in enumerate((1.0, -1.0)):
            si, fi = tree.query(shapely.points(mid + sign * eps * nrm), predicate="within")
            side[k, si] = fi
        seg = np.arange(len(mid))
        # (face, edge, segment) contacts, a segment counted once per face
        trip = np.stack(
            [np.concatenate([side[0], side[1]]), np.tile(seg_edge, 2), np.tile(seg, 2)], axis=1
        )
        trip = np.unique(trip[trip[:, 0] >= 0], axis=0)
        pairs, hits = np.unique(trip[:, :2], axis=0, return_counts=True)
        fi, ei = pairs[:, 0], pairs[:, 1]
        self.face_ptr, self.face_edges = _csr(fi, ei, nf)
        # an edge lies in the closure of a face touching every one of its segments
        n_seg = np.bincount(seg_edge, minlength=self.n_edges)
        home = hits == n_seg[ei]
        self.edge_ptr, self.edge_faces = _csr(ei[home], fi[home], self.n_edges)
        dangle = side[0] == side[1]
        dangle &= side[0] >= 0
        if len(connectors):
            end = shapely.get_point(connectors, 0)
            ci, cf = tree.query(end, predicate="within")
            self.conn_face[ci] = cf
        self._holes(lines, connectors, np.unique(seg_edge[dangle]))

    def _holes(self, lines: ObjArray, connectors: ObjArray, dangle: IntArray) -> None:
        """Each face's inside farther than ``buffer_m`` from its lines, its dead ends and
        its connectors, drawn conservatively (see the module docstring)."""
        grow = self.buffer_m / np.cos(np.pi / (4 * HOLE_QUAD_SEGS))
        shrunk = parallel(shapely.buffer, self.faces, -grow, quad_segs=HOLE_QUAD_SEGS)
        holes, face = shapely.get_parts(shrunk, return_index=True)
        holes = np.asarray(holes, dtype=object)
        ok = (shapely.get_type_id(holes) == 3) & ~shapely.is_empty(holes)
        holes, face = holes[ok], face[ok]
        in_face = (self.conn_face >= 0) & self.carve
        cuts = np.concatenate([lines[dangle], connectors[in_face]])
        if len(holes) and len(cuts):
            bufs = parallel(shapely.buffer, cuts, grow, quad_segs=HOLE_QUAD_SEGS)
            holes, face = _cut(holes, face, bufs)
        self.holes = holes
        self.hole_face = np.asarray(face, dtype="int64")

    def draw(
        self,
        edge: IntArray,
        reached_m: FloatArray,
        lines: ObjArray,
        connectors: IntArray,
        *,
        square: BoolArray | None = None,
        base: Drawn | None = None,
    ) -> Drawn:
        """Draw the corridors of reached stretches and connectors.

        Parameters
        ----------
        edge
            Edge (of this index) of each reached stretch.
        reached_m
            Length of each stretch, in ``length_m`` units (an edge is whole when its
            stretches add up to its length).
        lines
            LineString of each stretch.
        connectors
            Connectors (of this index) of reached buildings.
        square
            Stretches whose corridor ends square (frontier stretches: the walk stops
            at their end; their other end is drawn round by the link before it).
        base
            The circle of a smaller threshold drawn from a subset of these
            stretches; the result contains it exactly.
        """
        whole, enclosed = self._enclosed(edge, reached_m, base)
        covered = self._edges_of(enclosed)
        stray = ~covered[edge]
        partial = stray & ~whole[edge]
        cf = self.conn_face[connectors]
        conn_stray = (
            connectors[(cf < 0) | ~enclosed[np.maximum(cf, 0)]] if len(self.faces) else connectors
        )
        flat = partial & (np.zeros(len(edge), dtype=bool) if square is None else square)
        stray_whole = np.unique(edge[stray & whole[edge]])
        before = _EMPTY if base is None else base
        had = before.enclosed if len(before.enclosed) else np.zeros(len(self.faces), dtype=bool)
        # only what the smaller circle did not draw: its outline is unioned whole
        new_edges = np.setdiff1d(stray_whole, before.edges_drawn, assume_unique=True)
        new_conns = np.setdiff1d(np.unique(conn_stray), before.conns_drawn, assume_unique=True)
        # whole dead-end subtrees come from their unions made once
        roots = self.trees.roots(new_edges)
        singles = np.setdiff1d(new_edges, self.trees.members(roots), assume_unique=True)
        bufs = np.concatenate(
            [
                self.trees.unions(roots, self.edge_buf),
                self.edge_buf[singles],
                _buffers(lines[partial & ~flat], self.buffer_m, "round"),
                _buffers(lines[flat], self.buffer_m, "flat"),
                self.conn_buf[new_conns],
            ]
        )
        bufs = bufs[~shapely.is_empty(bufs)]
        new_faces = enclosed & ~had
        grown = (
            shapely.buffer(
                shapely.coverage_union_all(self.faces[new_faces]),
                self.buffer_m,
                quad_segs=QUAD_SEGS,
            )
            if new_faces.any()
            else None
        )
        outline = _outline(grown, bufs, base)
        holes, hole_face, uncarved = self._holes_of(enclosed, new_conns, base)
        return Drawn(
            polygon=with_holes(outline, holes),
            outline=outline,
            holes=holes,
            hole_face=hole_face,
            enclosed=enclosed,
            uncarved=uncarved,
            edges_drawn=np.union1d(before.edges_drawn, stray_whole).astype("int64"),
            conns_drawn=np.union1d(before.conns_drawn, new_conns).astype("int64"),
        )

    def _enclosed(
        self, edge: IntArray, reached_m: FloatArray, base: Drawn | None
    ) -> tuple[BoolArray, BoolArray]:
        """Edges reached whole (an edge of zero walking length is drawn by its pieces:
        a point), and faces whose every bounding and inner line is whole (or that the
        smaller circle ``base`` enclosed)."""
        nf = len(self.faces)
        got = np.bincount(edge, weights=reached_m, minlength=self.n_edges)
        whole = (got >= self.length_m - 1e-6) & (self.length_m > 0)
        whole &= np.bincount(edge, minlength=self.n_edges) > 0
        enclosed = np.zeros(nf, dtype=bool)
        if nf:
            has = np.diff(self.face_ptr) > 0
            enclosed[has] = np.logical_and.reduceat(whole[self.face_edges], self.face_ptr[:-1][has])
        if base is not None and len(base.enclosed):
            enclosed |= base.enclosed
        return whole, enclosed

    def _edges_of(self, enclosed: BoolArray) -> BoolArray:
        """Lines in the closure of an enclosed face (inside its grown outline)."""
        covered = np.zeros(self.n_edges, dtype=bool)
        if enclosed.any():
            home = np.repeat(np.arange(self.n_edges), np.diff(self.edge_ptr))
            covered[home[enclosed[self.edge_faces]]] = True
        return covered

    def _holes_of(
        self, enclosed: BoolArray, new_conns: IntArray, base: Drawn | None
    ) -> tuple[ObjArray, IntArray, ObjArray]:
        """The holes of the faces enclosed now, cut by the smaller circle's connectors
        they were not carved for; the others as the smaller circle had them. Also the
        connectors drawn so far that no hole was carved for (``new_conns``: those the
        smaller circle did not draw)."""
        uncarved = self.conn_buf[new_conns[~self.carve[new_conns]]]
        before = _EMPTY if base is None else base
        had = before.enclosed if len(before.enclosed) else np.zeros(len(self.faces), dtype=bool)
        sel = (enclosed & ~had)[self.hole_face]
        new, new_face = self.holes[sel], self.hole_face[sel]
        if len(new) and len(before.uncarved):
            new, new_face = _cut(new, new_face, before.uncarved)
        return (
            np.concatenate([before.holes, new]),
            np.concatenate([before.hole_face, new_face]),
            np.concatenate([before.uncarved, uncarved]),
        )


def _buffers(lines: ObjArray, buffer_m: float, cap: str) -> ObjArray:
    """Corridors of ``lines`` with ``round`` or ``flat`` caps."""
    return np.asarray(
        shapely.buffer(lines, buffer_m, quad_segs=QUAD_SEGS, cap_style=cap), dtype=object
    )


def _outline(
    grown: shapely.Geometry | None, bufs: ObjArray, base: Drawn | None
) -> shapely.Geometry:
    """The outline of a circle: the smaller circle's outline (``base``, so the circles
    nest exactly) unioned with what is new at this threshold, the newly enclosed faces
    grown (``grown``) and the corridors ``bufs`` not drawn before.

    Each threshold unions only its new corridors into the outline before it, not
    every corridor again (issue 20: a per-station circle on real OSM reaches ~1,500
    links), and leaves out the corridors lying wholly inside the smaller circle's
    outline or the grown faces (one prepared test each; about one in seven on a
    sidewalk network).
    """
    parts: list[shapely.Geometry] = []
    if base is not None and not shapely.is_empty(base.outline):
        parts.append(base.outline)
    if grown is not None:
        parts.append(grown)
    for part in parts:
        if len(bufs):
            shapely.prepare(part)
            bufs = bufs[~shapely.contains_properly(part, bufs)]
    if len(bufs):
        parts.append(shapely.disjoint_subset_union_all(bufs))
    if not parts:
        return shapely.Polygon()
    if len(parts) == 1:
        return parts[0]
    return polygonal(shapely.union_all(np.asarray(parts, dtype=object)))


#: Spacing of the points whose Voronoi cells give each link's ground
#: (:class:`LinkCells`), as a share of the corridor's half-width: the cells' borders
#: lie within about half of it of the true medial line between two links.
LINK_CELL_SHARE = 0.2


class LinkCells:
    """The ground nearest to each stretch of the network, prepared once per network.

    Points every ``step_m`` along every link (end points included) and their Voronoi
    cells: a cell is the ground nearer to its point than to any other point, so the
    cells of a link's points approximate the ground whose nearest link it is (their
    borders run along the medial line between two links, within about ``step_m / 2``).
    Links drawn along the same line (a parallel shortcut, a zero-length link) share
    their points' cells; a cell is as early as its earliest point.
    A circle clipped by the cells of the links not reached in time never claims the
    far side of a gap in the network (two unconnected links closer than twice the
    corridor's half-width).

    Parameters
    ----------
    lines
        LineStrings of the network edges (projected CRS, metres).
    length_m
        Walking length of each edge (``offset_m`` is measured in it).
    step_m
        Spacing of the points along each line, metres.
    margin_m
        How far beyond the network's bounds the cells reach, metres.

    Attributes
    ----------
    edge, offset_m
        The edge of each point and its distance from the edge's ``u`` end
        (walking metres).
    cell
        The cell of each point (points at the same spot share one).
    cells
        The Voronoi cells (polygons), with an STRtree ``tree``.
    owner
        The one link whose points a cell holds (-1: points of several links, e.g. a
        junction's).
    link_cells
        Each link's own cells merged (a coverage union, so they stay edge-matched
        with every other cell; empty where a link owns none), made once: a cut
        that takes every own cell of a link takes this one polygon instead
        (:meth:`merged`).
    """

    def __init__(
        self, lines: ObjArray, length_m: FloatArray, *, step_m: float, margin_m: float
    ) -> None:
        lines = np.asarray(lines, dtype=object)
        geo_len = np.asarray(shapely.length(lines), dtype="float64")
        count = np.ceil(geo_len / step_m).astype("int64") + 1
        edge = np.repeat(np.arange(len(lines)), count)
        k = np.arange(len(edge)) - np.repeat(np.cumsum(count) - count, count)
        frac = k / np.maximum(count - 1, 1)[edge]
        pts = shapely.line_interpolate_point(lines[edge], frac, normalized=True)
        xy = np.round(shapely.get_coordinates(pts), 3)
        xy, cell = np.unique(xy, axis=0, return_inverse=True)
        self.edge: IntArray = edge.astype("int64")
        self.offset_m: FloatArray = frac * np.asarray(length_m, dtype="float64")[edge]
        self.cell: IntArray = np.asarray(cell, dtype="int64").ravel()
        self.step_m = float(step_m)
        self._ptr, self._points = csr_of(self.cell, len(xy))
        self._edge_ptr = np.concatenate([[0], np.cumsum(count)]).astype("int64")
        self.points_per_edge: IntArray = count.astype("int64")
        self._lines = shapely.STRtree(lines)
        self.cells: ObjArray = np.zeros(0, dtype=object)
        if len(xy) >= 3:
            envelope = shapely.box(*(xy.min(axis=0) - margin_m), *(xy.max(axis=0) + margin_m))
            vor = shapely.voronoi_polygons(
                shapely.multipoints(xy), extend_to=envelope, ordered=True
            )
            self.cells = np.asarray(shapely.get_parts(vor), dtype=object)
        self.tree = shapely.STRtree(self.cells)
        self.owner, self.owned, self.link_cells = _link_cells(
            self.cells, self.cell, self.edge, len(lines)
        )

    def near(self, geoms: ObjArray, distance_m: float | FloatArray) -> tuple[IntArray, IntArray]:
        """The links within ``distance_m`` (one distance, or one per geometry) of each of
        ``geoms``, as CSR arrays ``(ptr, edge)``: links of ``geoms[i]`` are
        ``edge[ptr[i]:ptr[i + 1]]``."""
        gi, ei = self._lines.query(
            np.asarray(geoms, dtype=object), predicate="dwithin", distance=distance_m
        )
        return _csr(gi, ei, len(geoms))

    def points_on(self, edges: IntArray) -> tuple[IntArray, IntArray]:
        """The points along ``edges``: pairs ``(position in edges, point)``."""
        return csr_rows(self._edge_ptr, edges, np.arange(len(self.edge), dtype="int64"))

    def points_of(self, cells: IntArray) -> tuple[IntArray, IntArray]:
        """The points of ``cells``: pairs ``(position in cells, point)``."""
        return csr_rows(self._ptr, cells, self._points)

    def clip(
        self, polygon: shapely.Geometry, time_min: FloatArray, limit_min: float
    ) -> shapely.Geometry:
        """``polygon`` without the cells it meets whose points are all reached later
        than ``limit_min`` (or not at all); ``time_min`` is each point's walking time.
        Only the polygons of the overlay are kept (no touching lines or points),
        without hairline holes."""
        if len(self.cells) == 0 or polygon.is_empty:
            return polygon
        hit = self.tree.query(polygon, predicate="intersects")
        pos, pt = self.points_of(hit)
        first = np.full(len(hit), np.inf)
        np.minimum.at(first, pos, time_min[pt])
        return self.cut(polygon, hit[~(first <= limit_min)])

    def merged(self, group: IntArray, cell: IntArray) -> tuple[IntArray, IntArray]:
        """The cells ``cell`` of each group (``group`` sorted) with every link whose own
        cells a group takes all of taken as one: pairs ``(group, piece)`` sorted by
        group, a piece ``i < len(cells)`` being cell ``i`` and ``len(cells) + e`` link
        ``e``'s :attr:`link_cells`. The same ground in far fewer pieces (a late link
        is late at all its points), for the cut to test and merge."""
        if len(cell) == 0 or len(self.cells) == 0:
            return group, cell
        n_edges = len(self.owned)
        own = self.owner[cell]
        mine = own >= 0
        key = group[mine] * n_edges + own[mine]
        keys, count = np.unique(key, return_counts=True)
        whole = keys[count == self.owned[keys % n_edges]]
        merged = np.zeros(len(cell), dtype=bool)
        merged[np.flatnonzero(mine)[np.isin(key, whole)]] = True
        wg, we = np.divmod(whole, n_edges)
        out_g = np.concatenate([group[~merged], wg])
        out_p = np.concatenate([cell[~merged], len(self.cells) + we])
        order = np.argsort(out_g, kind="stable")
        return out_g[order].astype("int64"), out_p[order].astype("int64")

    def pieces(self, which: IntArray) -> ObjArray:
        """The polygons of pieces ``which`` (:meth:`merged`)."""
        n = len(self.cells)
        out = np.empty(len(which), dtype=object)
        point = which < n
        out[point] = self.cells[which[point]]
        out[~point] = self.link_cells[which[~point] - n]
        return out

    def cut(self, polygon: shapely.Geometry, late: IntArray) -> shapely.Geometry:
        """``polygon`` without the cells ``late`` (indices into ``cells``), as polygons
        only, without hairline holes (``polygon`` itself when ``late`` is empty)."""
        if len(late) == 0 or polygon.is_empty:
            return polygon
        return self.cut_by(polygon, self.cells[late])

    @staticmethod
    def cut_by(polygon: shapely.Geometry, pieces: ObjArray) -> shapely.Geometry:
        """``polygon`` without ``pieces`` (edge-matched cells or merged cells, no two
        overlapping), as polygons only, without hairline holes."""
        if len(pieces) == 0 or polygon.is_empty:
            return polygon
        cut = shapely.difference(polygon, shapely.coverage_union_all(pieces))
        return without_hairlines(polygonal(cut))


def _link_cells(
    cells: ObjArray, cell: IntArray, edge: IntArray, n_edges: int
) -> tuple[IntArray, IntArray, ObjArray]:
    """Each cell's one owning link (-1: several), how many cells each link owns, and
    each link's own cells merged (:class:`LinkCells`): one coverage union per link,
    all in one vectorised call over per-link collections."""
    n_cells = len(cells)
    lo = np.full(n_cells, n_edges, dtype="int64")
    hi = np.full(n_cells, -1, dtype="int64")
    if n_cells:
        np.minimum.at(lo, cell, edge)
        np.maximum.at(hi, cell, edge)
    owner = np.where(lo == hi, lo, -1).astype("int64")
    own = np.flatnonzero(owner >= 0)
    owned = np.bincount(owner[own], minlength=n_edges).astype("int64")
    merged = np.full(n_edges, shapely.Polygon(), dtype=object)
    if len(own):
        order = own[np.argsort(owner[own], kind="stable")]
        links = np.flatnonzero(owned)
        groups = shapely.geometrycollections(
            cells[order], indices=np.repeat(np.arange(len(links)), owned[links])
        )
        # shapely's coverage_union_all is this call on one collection; here one per link
        merged[links] = shapely.lib.coverage_union(groups)
    return owner, owned, merged
