"""Verges: thin land without households, shared out among the atoms beside it.

The land between a compound's wall and the centre line of the roads around it, a
river's bank, a strip between two roads, is cut into atoms of its own by the atoms
step. Such an atom holds no households and is thin: a ring around a block, a strip
along a river (Polsby-Popper of 0.02-0.05 on the demo street). As a unit of weight 0
it joins whichever grid the partition puts it in, and a grid that takes a ring round
a block of several compounds is itself a thin, winding shape.

Here each such *verge* (no households, not in a compound or dedicated area, below
``Settings.grid_min_compactness``) is given to the non-verge atoms of its community
beside it, as ``Settings.grid_verge_cut`` says. ``"off"`` (default): only a ring round a
dedicated area goes with it (the dedicated grid reaches the roads' centre lines); every
other verge stays an atom of its own, as before. ``"features"``: a ring round a block of
at most ``grid_max_households`` goes whole with the block, any other verge is cut only
along the paths and roads crossing it, each piece to the neighbour it shares the longest edge with;
``"nearest"`` by nearness, every point of the verge to the neighbour whose shared edge
is nearest (Voronoi cells of points every :data:`SAMPLE_M` along the shared edges),
which makes compact grids at the price of short cuts that follow no feature. Each
piece records its neighbour in ``attach``, and the division keeps the two together.

All geometry is in the street's projected CRS (metres).
"""

from __future__ import annotations

import logging
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from planner.grids.shape import polygonal

logger = logging.getLogger(__name__)

#: How verges that cannot go whole with their block are cut (``Settings.grid_verge_cut``).
VergeCut = Literal["off", "features", "nearest"]

#: Spacing of the points sampled along the shared edges, m.
SAMPLE_M = 2.0


#: Pieces smaller than this are noding dust, dropped, m² (every other piece is kept, so
#: the pieces tile the verge).
_FRAGMENT_M2 = 1e-6

#: Pieces smaller than this join a larger piece of the same verge, m².
_DUST_M2 = 1.0


def split_verges(
    atoms: gpd.GeoDataFrame,
    adjacency: pd.DataFrame,
    *,
    min_compactness: float,
    max_households: float,
    lines: NDArray[np.object_],
    mode: VergeCut = "off",
) -> gpd.GeoDataFrame:
    """Give every verge to the atoms beside it; ``attach`` says to which.

    A verge that rings a block (the atoms it encloses: inside its outer ring) goes
    whole with that block when the block holds at most ``max_households``: the verge
    and the block's atoms attach to one another, so the grid holding them is the block
    to the roads' centre lines, and no line is drawn that is not a feature. Any other
    verge (a ring round a block too large for one grid, a strip along a river) is cut
    among its neighbours (:func:`_cut`), each piece attached to its neighbour.

    Parameters
    ----------
    atoms
        Atoms with ``households``, ``compound_id``, ``community_id``, ``dedicated``
        (positions 0..n-1), projected CRS.
    adjacency
        Their edge adjacency (:func:`planner.grids.atoms.adjacency`: ``a``, ``b``,
        ``length_m``).
    min_compactness
        Atoms below this Polsby-Popper compactness are verges (0: none).
    max_households
        Most households of a block that takes its ring whole.
    lines
        Feature lines a verge may be cut along (paths and roads outside compounds).
    mode
        ``"off"``: only a ring round a dedicated area goes with it, every other verge
        stays an atom of its own (the division places it like any land without
        households); ``"features"``: rings go with their block, the other verges are
        cut only along ``lines`` (a verge no line crosses stays whole: no boundary off
        a feature, but its grid may be thin);
        ``"nearest"``: cut them by nearness to each neighbour (compact grids, with
        short cuts across the verge that follow no feature).

    Returns
    -------
    GeoDataFrame
        The atoms, cut verges replaced by their pieces (attributes copied, geometry the
        piece), index reset; ``attach`` is the position *in the returned frame* of the
        atom each atom goes with (-1: none).
    """
    out = atoms.reset_index(drop=True).copy()
    out["attach"] = -1
    verge = _verges(out, min_compactness)
    if not verge.any():
        return out
    a, b = adjacency["a"].to_numpy(), adjacency["b"].to_numpy()
    src = np.concatenate([a, b])
    dst = np.concatenate([b, a])
    comm = out["community_id"].astype(str).to_numpy()
    ok = verge[src] & ~verge[dst] & (comm[src] == comm[dst])
    nbrs = pd.Series(dst[ok]).groupby(src[ok]).agg(list)
    geo = np.asarray(out.geometry.values, dtype=object)
    hh = out["households"].to_numpy(dtype=float)
    ded = _dedicated(out)
    attach = out["attach"].to_numpy(dtype=np.int64).copy()
    cut_verges: list[int] = []
    for v, owners in zip(nbrs.index.to_numpy(dtype=np.int64), nbrs.to_numpy(), strict=True):
        own = np.asarray(owners, dtype=np.int64)  # tens of verges per street
        hull = shapely.Polygon(shapely.get_exterior_ring(geo[v]))
        inside = own[shapely.contains(hull.buffer(0.5), geo[own])]
        if mode == "off":
            if len(inside) and ded[inside].any():
                attach[v] = inside[ded[inside]][0]
            continue
        if len(inside) and hh[inside].sum() <= max_households:
            attach[v] = inside[0]
            attach[inside[1:]] = v
        else:
            cut_verges.append(int(v))
    out["attach"] = attach
    return _cut_all(out, geo, nbrs, cut_verges, shapely.STRtree(lines), mode)


def _cut_all(
    out: gpd.GeoDataFrame,
    geo: NDArray[np.object_],
    nbrs: pd.Series,
    verges: list[int],
    lines: shapely.STRtree,
    mode: VergeCut,
) -> gpd.GeoDataFrame:
    """The atoms with each of ``verges`` replaced by its pieces among its neighbours."""
    rows: list[pd.DataFrame] = []
    attach: list[NDArray[np.int64]] = []
    pieces: list[NDArray[np.object_]] = []
    done = np.zeros(len(out), dtype=bool)
    for v in verges:
        owners = np.asarray(nbrs[v], dtype=np.int64)
        if mode == "features":
            cut = _cut_by_lines(geo[v], geo[owners], lines)
        else:
            cut = _cut(geo[v], geo[owners])
        if cut is None:
            continue
        part_geo, part_owner = cut
        done[v] = True
        pieces.append(part_geo)
        attach.append(owners[part_owner])
        rows.append(out.drop(columns="geometry").iloc[[v] * len(part_geo)])
    if not pieces:
        return out
    keep = out[~done]
    new = gpd.GeoDataFrame(
        pd.concat(rows, ignore_index=True), geometry=np.concatenate(pieces), crs=out.crs
    )
    # positions: kept atoms first (in order), then the pieces; attach points at kept atoms
    pos_of_kept = pd.Series(np.arange(len(keep)), index=keep.index)
    new["attach"] = pos_of_kept.reindex(np.concatenate(attach)).fillna(-1).to_numpy(np.int64)
    keep = keep.assign(attach=pos_of_kept.reindex(keep["attach"]).fillna(-1).to_numpy(np.int64))
    merged = gpd.GeoDataFrame(
        pd.concat([keep, new], ignore_index=True), geometry="geometry", crs=out.crs
    )
    merged["geometry"] = _clean(np.asarray(merged.geometry.values, dtype=object))
    logger.info("%d verges cut into %d pieces among their neighbours", int(done.sum()), len(new))
    return merged


#: Vertices closer than this are made one when the atoms are cleaned into a coverage, m.
_SNAP_M = 1e-3


def _clean(geo: NDArray[np.object_]) -> NDArray[np.object_]:
    """The atoms made an exact polygonal coverage again after verges were cut.

    A cut ends on the verge's outline at a point that is no vertex of the atom beyond
    it (a T-junction), and noding the cut lines with an outline they partly run along
    (a road centre line) can move a vertex by about 0.1 mm: the pieces then overlap
    their neighbours in slivers, and the grids dissolved from them overlap too (the
    ``no_overlap`` failure of the 10-street district with ``grid_verge_cut="features"``,
    1.2 m² in 95 slivers). GEOS's coverage cleaner snaps vertices within
    :data:`_SNAP_M`, gives each overlap to the atom sharing the longest border with
    it and makes every shared edge identical (about 2 CPU s for 16,000 atoms).
    """
    cleaned = shapely.coverage_clean(geo, snapping_distance=_SNAP_M)
    return np.asarray(polygonal(cleaned), dtype=object)


def _dedicated(atoms: gpd.GeoDataFrame) -> NDArray[np.bool_]:
    """Atoms of a dedicated area."""
    if "dedicated" not in atoms.columns:
        return np.zeros(len(atoms), dtype=bool)
    return np.asarray(atoms["dedicated"].astype(str).to_numpy() != "", dtype=bool)


def _verges(atoms: gpd.GeoDataFrame, min_compactness: float) -> NDArray[np.bool_]:
    """Atoms without households outside compounds and dedicated areas, thinner than
    ``min_compactness`` (Polsby-Popper)."""
    geo = np.asarray(atoms.geometry.values, dtype=object)
    pp = 4 * np.pi * shapely.area(geo) / np.maximum(shapely.length(geo), 1e-9) ** 2
    ded = _dedicated(atoms)
    return np.asarray(
        (atoms["households"].to_numpy() == 0)
        & (atoms["compound_id"].astype(str).to_numpy() == "")
        & ~ded
        & (pp < min_compactness),
        dtype=bool,
    )


def _cut_by_lines(
    verge: shapely.Geometry, owners: NDArray[np.object_], lines: shapely.STRtree
) -> tuple[NDArray[np.object_], NDArray[np.int64]] | None:
    """The verge cut by the feature lines crossing it (paths, service roads: lines a
    person sees), each piece to the owner it shares the longest edge with; None when
    no line cuts it."""
    hits = lines.query(verge, predicate="intersects")
    if len(hits) == 0:
        return None
    inner = shapely.intersection(lines.geometries[hits], shapely.buffer(verge, 0.5))
    noded = shapely.union_all(np.concatenate([[shapely.boundary(verge)], inner]))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    faces = faces[shapely.contains(verge, shapely.point_on_surface(faces))]
    faces = faces[shapely.area(faces) > _FRAGMENT_M2]
    if len(faces) < 2:
        return None
    fb = shapely.boundary(faces)
    ob = shapely.boundary(owners)
    shared = shapely.length(shapely.intersection(fb[:, None], ob[None, :]))
    owner = np.argmax(shared, axis=1)
    return _absorb_dust(np.asarray(faces, dtype=object), np.asarray(owner, dtype=np.int64))


def _cut(
    verge: shapely.Geometry, owners: NDArray[np.object_]
) -> tuple[NDArray[np.object_], NDArray[np.int64]] | None:
    """The verge cut by the Voronoi cells of its shared edges with each owner: pieces
    and the owner (position in ``owners``) of each; None when there is nothing to cut."""
    if len(owners) < 2:
        return np.array([verge], dtype=object), np.zeros(1, dtype=np.int64)
    shared = shapely.intersection(shapely.boundary(verge), shapely.boundary(owners))
    pts = shapely.segmentize(shared, SAMPLE_M)
    xy, idx = shapely.get_coordinates(pts, return_index=True)
    if len(xy) < 3:
        return None
    _, first = np.unique(np.round(xy, 3), axis=0, return_index=True)
    first = np.sort(first)
    xy, idx = xy[first], idx[first]
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=verge, ordered=True)
    )
    if len(cells) != len(xy):  # order lost (degenerate points): leave the verge whole
        return None
    owner_cells = [shapely.union_all(cells[idx == k]) for k in range(len(owners))]
    parts = shapely.intersection(np.asarray(owner_cells, dtype=object), verge)
    out_geo: list[shapely.Geometry] = []
    out_owner: list[int] = []
    for k, p in enumerate(parts):
        for piece in shapely.get_parts(p):
            if shapely.get_type_id(piece) == 3 and shapely.area(piece) > _FRAGMENT_M2:
                out_geo.append(piece)
                out_owner.append(k)
    if not out_geo:
        return None
    return _absorb_dust(np.asarray(out_geo, dtype=object), np.asarray(out_owner, dtype=np.int64))


def _absorb_dust(
    pieces: NDArray[np.object_], owner: NDArray[np.int64]
) -> tuple[NDArray[np.object_], NDArray[np.int64]]:
    """Pieces below :data:`_DUST_M2` (rounding specks of the cut) joined to the larger
    piece they share the longest edge with, so no atom is a speck and no area is lost."""
    small = shapely.area(pieces) < _DUST_M2
    if not small.any() or small.all():
        return pieces, owner
    big = np.flatnonzero(~small)
    out = pieces.copy()
    for k in np.flatnonzero(small):  # a few specks per verge at most
        shared = shapely.length(
            shapely.intersection(shapely.boundary(pieces[k]), shapely.boundary(out[big]))
        )
        j = big[int(np.argmax(shared))]
        out[j] = shapely.union(out[j], pieces[k])
    return out[~small], owner[~small]
