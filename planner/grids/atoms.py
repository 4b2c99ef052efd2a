"""Atoms: the smallest pieces grids are built from, cut from the street's own features.

The street boundary is cut by the roads of the classes in
``Settings.cut_road_classes`` (a compound's internal paths never cut), river
polygons, railway lines, community boundaries and compound outlines. The cut is
one vectorised step: every line is clipped to the boundary, the lines are noded by
one union, and :func:`shapely.polygonize` builds the faces. Roads are lines, so the
faces tile the street exactly: road area belongs to the atoms on either side.

An atom holding more than ``Settings.grid_max_households`` households (a large
compound, or a large block of loose buildings) is cut further along lines *between*
its buildings: the Voronoi regions of points sampled every 2 m along each building's
outline, merged per building, give one cell per building whose edges run midway
through the gaps, never through a building.

Faces smaller than ``Settings.sliver_area_m2`` merge into the neighbour of the same
community they share the longest edge with (a sliver inside a compound only into the
same compound). Each building belongs to the atom holding most of its footprint, so
no building is ever cut.

All geometry is in the street's projected CRS (metres).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse import csgraph
from shapely.geometry.base import BaseGeometry

from planner._threads import parallel, workers
from planner.errors import InputError, Problem
from planner.grids._verges import split_verges
from planner.grids.dedicated import dedicated_areas
from planner.settings import Settings
from planner.street import Street

logger = logging.getLogger(__name__)

#: Spacing of points sampled along building outlines for the between-building cuts, m.
BUILDING_SAMPLE_M = 2.0

#: Lines are clipped this far beyond the area they cut so they cross its edge, m.
_OVERSHOOT_M = 0.5

#: Faces smaller than this are noding slivers (two boundaries that nearly coincide),
#: not land: dropped, m² (the grids still tile the street within the coverage rule).
SLIVER_M2 = 0.01

#: Land the plain noding may lose to dropped slivers before the lines are noded again
#: by snap rounding (:func:`_node`), m².
_LOST_M2 = 1.0

#: Grid of that snap-rounding noder, m (1 µm: far below any drawn feature).
_NODING_GRID_M = 1e-6

#: Tolerance for simplifying the lines drawn between buildings, m (well inside the gaps).
_SIMPLIFY_M = 0.2

#: A building crossing a cut line by more than this much area joins the faces, m².
_STRADDLE_M2 = 0.05

#: Columns of the atoms layer (besides geometry).
ATOM_COLUMNS: tuple[str, ...] = (
    "atom_id",
    "community_id",
    "compound_id",
    "households",
    "population",
    "buildings",
    "area_m2",
    "perimeter_m",
    "residential",
    "split",
    "landuse",
    # --- dedicated: dedicated grids ---
    "dedicated",
    "dedicated_use",
    "attach",
)


def make_atoms(street: Street, *, settings: Settings | None = None) -> gpd.GeoDataFrame:
    """Cut the street into atoms along roads, barriers, community and compound lines.

    Parameters
    ----------
    street
        The street (every layer in its projected CRS, metres).
    settings
        ``cut_road_classes``, ``sliver_area_m2`` and ``grid_max_households`` are used.

    Returns
    -------
    GeoDataFrame
        One row per atom, in ``street.crs``, index = ``atom_id`` (0..n-1), columns
        ``atom_id``, ``community_id`` ('' if no community holds it), ``compound_id``
        ('' outside compounds), ``households``, ``population`` (residents),
        ``buildings`` (count), ``area_m2``, ``perimeter_m``, ``residential`` (holds
        households), ``split`` (cut between buildings because it held more than the
        maximum), ``landuse`` (land-use kind at the atom, '' if none),
        ``dedicated`` (the dedicated area holding it, '' if none; see
        :mod:`planner.grids.dedicated`) and ``dedicated_use`` (that area's land-use
        kind). The atoms tile the boundary exactly.
    """
    settings = settings or Settings()
    boundary = shapely.make_valid(street.boundary_geom)
    ded_areas = dedicated_areas(street, settings=settings)
    area_lines = shapely.boundary(np.asarray(ded_areas.geometry.values, dtype=object))
    base_lines = np.concatenate(
        [_linework(street, boundary, settings), _clip(area_lines, boundary)]
    )
    noded, faces = _node(base_lines, boundary)
    if len(faces) == 0:  # e.g. a boundary with no area left after repair
        raise InputError(
            Problem(
                "the street boundary encloses no land to divide into grids",
                file=street.name,
                field="geometry",
                fix="check the boundary layer: it must be a polygon with an area",
            )
        )
    bgeo = np.asarray(street.buildings.geometry.values, dtype=object)
    pre, owner_group, over = _to_refine(faces, bgeo, street, ded_areas, settings)
    if len(over):
        # first along the paths and service roads inside them (features), then between
        # buildings only where still needed
        # (a compound's own paths too: a compound this large is divided anyway)
        minor = _clip(_all_roads(street), shapely.union_all(faces[np.isin(pre, over)]))
        if len(minor):
            noded, faces = _node(np.concatenate([shapely.get_parts(noded), minor]), boundary)
            pre, owner_group, over = _to_refine(faces, bgeo, street, ded_areas, settings)
    split_face = np.zeros(len(faces), dtype=bool)
    if len(over):
        areas = np.array([shapely.union_all(faces[pre == g]) for g in over], dtype=object)
        cut_lines = _between_building_lines(bgeo, owner_group, areas, over)
        if len(cut_lines):
            old_faces = faces
            old_group = pre
            lines = np.concatenate([shapely.get_parts(noded), cut_lines])
            noded, faces = _node(lines, boundary)
            parent = assign_to(faces, old_faces)
            split_face = np.isin(old_group[np.maximum(parent, 0)], over) & (parent >= 0)
            logger.info(
                "split %d atoms above %d households or on dedicated land between buildings"
                " into %d cells",
                len(over),
                settings.grid_max_households,
                int(split_face.sum()),
            )
    community = _label_at(faces, street.communities, "community_id")
    compound = _label_at(faces, street.compounds, "compound_id")
    dedicated = _label_at(faces, ded_areas, "dedicated_id")
    # a sliver of a dedicated area stays in it, as one of a compound does
    enclosure = np.where(dedicated != "", "D:" + dedicated.astype(str), compound).astype(object)
    face_hh = _sum_by(assign_to(bgeo, faces), street.buildings["households"].to_numpy(), len(faces))
    group = _merged_faces(
        faces,
        community,
        enclosure,
        _straddle_links(street.buildings.geometry.values, faces, community),
        split_face & (face_hh > 0),
        face_hh,
        sliver_area_m2=settings.sliver_area_m2,
        max_households=settings.grid_max_households,
    )
    atoms = _dissolve(faces, group, community, compound, split_face)
    atoms["dedicated"] = dedicated[_heads(faces, group)].astype(str)
    use = (
        ded_areas.set_index("dedicated_id")["land_use"].astype(str)
        if len(ded_areas)
        else pd.Series(dtype=object)
    )
    atoms["dedicated_use"] = atoms["dedicated"].map(use).astype(object).fillna("").astype(str)
    atoms = atoms.set_crs(street.crs, allow_override=True)
    atoms, owner = _with_figures(atoms, street)
    atoms = split_verges(
        atoms,
        adjacency(atoms.geometry.values),
        min_compactness=settings.grid_min_compactness,
        max_households=settings.grid_max_households,
        lines=_minor_lines(street),
        mode=settings.grid_verge_cut,
    )
    atoms, owner = _with_figures(atoms, street)
    n = len(atoms)
    if (owner < 0).any():
        logger.warning(
            "%d buildings lie outside the street boundary and belong to no atom",
            int((owner < 0).sum()),
        )
    logger.info("%d atoms from %d faces", n, len(faces))
    return atoms[[*ATOM_COLUMNS, "geometry"]]


def _to_refine(
    faces: NDArray[np.object_],
    bgeo: NDArray[np.object_],
    street: Street,
    ded_areas: gpd.GeoDataFrame,
    settings: Settings,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Groups of faces (faces a building straddles go together), each building's group,
    and the groups to cut further: above ``grid_max_households``, or on a dedicated area
    holding residential and other buildings (staff housing on a campus is not the
    area's: its land is cut so their cells can join residential grids)."""
    community = _label_at(faces, street.communities, "community_id")
    pre = _components(_straddle_links(bgeo, faces, community), len(faces))
    owner = assign_to(bgeo, faces)
    owner_group = np.where(owner >= 0, pre[np.maximum(owner, 0)], -1)
    hh_b = street.buildings["households"].to_numpy()
    households = _sum_by(owner_group, hh_b, len(faces))
    others = _sum_by(owner_group, (hh_b == 0).astype(float), len(faces))
    in_area = np.zeros(len(faces), dtype=bool)
    in_area[pre[_label_at(faces, ded_areas, "dedicated_id") != ""]] = True
    mixed = in_area & (households > 0) & (others > 0)
    over = np.flatnonzero((households > settings.grid_max_households) | mixed)
    return pre, owner_group, over


def _all_roads(street: Street) -> NDArray[np.object_]:
    """Every road and path line of the street, of any class."""
    return np.asarray(shapely.get_parts(street.roads.geometry.values), dtype=object)


def _minor_lines(street: Street) -> NDArray[np.object_]:
    """Roads and paths of any class outside compounds (lines a verge may be cut along)."""
    roads = street.roads
    if len(roads) == 0:
        return np.zeros(0, dtype=object)
    keep = np.ones(len(roads), dtype=bool)
    if "compound_id" in roads.columns:
        cid = roads["compound_id"].astype(object).where(roads["compound_id"].notna(), "")
        keep = cid.astype(str).str.strip().isin(["", "nan", "None"]).to_numpy()
    lines = np.asarray(shapely.get_parts(roads.geometry.values[keep]), dtype=object)
    if len(street.compounds) and len(lines):  # nor any part inside a compound
        lines = shapely.difference(lines, shapely.union_all(street.compounds.geometry.values))
    return np.asarray(shapely.get_parts(lines), dtype=object)


def _with_figures(
    atoms: gpd.GeoDataFrame, street: Street
) -> tuple[gpd.GeoDataFrame, NDArray[np.int64]]:
    """The atoms numbered 0..n-1 with their buildings' figures, areas and land use, and
    the atom of each building."""
    atoms = atoms.reset_index(drop=True)
    atoms["atom_id"] = np.arange(len(atoms), dtype=np.int64)
    owner = assign_to(street.buildings.geometry.values, atoms.geometry.values)
    n = len(atoms)
    b = street.buildings
    atoms["households"] = _sum_by(owner, b["households"].to_numpy(), n).astype("int64")
    atoms["population"] = _sum_by(owner, b["population"].to_numpy(dtype=float), n)
    atoms["buildings"] = _sum_by(owner, np.ones(len(b)), n).astype("int64")
    atoms["area_m2"] = atoms.geometry.area
    atoms["perimeter_m"] = atoms.geometry.length
    atoms["residential"] = atoms["households"] > 0
    atoms.loc[atoms["residential"], ["dedicated", "dedicated_use"]] = ""
    atoms["landuse"] = _label_at(atoms.geometry.values, street.landuse, "kind")
    if "attach" not in atoms.columns:
        atoms["attach"] = np.int64(-1)
    return atoms, owner


def assign_to(parts: NDArray[np.object_], containers: NDArray[np.object_]) -> NDArray[np.int64]:
    """Index of the container holding most of each part's area (-1: none), vectorised.

    Parameters
    ----------
    parts, containers
        Arrays of polygons in one projected CRS (e.g. building footprints and atoms).

    Returns
    -------
    ndarray of int
        For each part, the position of the container with the largest intersection
        area; parts wholly inside one container skip the intersection.
    """
    parts = np.asarray(parts, dtype=object)
    containers = np.asarray(containers, dtype=object)
    out = np.full(len(parts), -1, dtype=np.int64)
    if len(parts) == 0 or len(containers) == 0:
        return out
    tree = shapely.STRtree(containers)
    i, j = query(tree, parts, "intersects")
    if len(i) == 0:
        return out
    count = np.bincount(i, minlength=len(parts))
    single = count[i] == 1
    out[i[single]] = j[single]
    mi, mj = i[~single], j[~single]
    if len(mi):
        area = shapely.area(parallel(shapely.intersection, parts[mi], containers[mj]))
        df = pd.DataFrame({"i": mi, "j": mj, "a": area}).sort_values(
            ["i", "a"], ascending=[True, False], kind="stable"
        )
        best = df.drop_duplicates("i")
        out[best["i"].to_numpy()] = best["j"].to_numpy()
    return out


def query(tree: shapely.STRtree, geoms: NDArray[np.object_], predicate: str) -> NDArray[np.int64]:
    """``tree.query(geoms, predicate=predicate)`` on all cores: ``geoms`` in contiguous
    chunks, one thread each (the query releases the GIL); the pairs come back in the
    order of one call's (by position in ``geoms``, then as the tree gives them)."""
    geoms = np.asarray(geoms, dtype=object)
    k = workers()
    if k == 1 or len(geoms) < 1000:
        return np.asarray(tree.query(geoms, predicate=predicate), dtype=np.int64)
    bounds = np.linspace(0, len(geoms), k + 1).astype(np.int64)

    def run(c: int) -> NDArray[np.int64]:
        ij = np.asarray(tree.query(geoms[bounds[c] : bounds[c + 1]], predicate=predicate))
        return np.asarray(ij + np.array([[bounds[c]], [0]]), dtype=np.int64)

    with ThreadPoolExecutor(max_workers=k) as pool:
        return np.concatenate(list(pool.map(run, range(k))), axis=1)


def adjacency(geoms: NDArray[np.object_] | gpd.GeoSeries) -> pd.DataFrame:
    """Pairs of polygons sharing an edge, with the shared length in metres.

    Parameters
    ----------
    geoms
        Polygons of a coverage (no overlaps), projected CRS.

    Returns
    -------
    DataFrame
        Columns ``a`` < ``b`` (positions) and ``length_m`` > 0; pairs touching only at
        a point are left out (adjacency by shared edge, "rook" contiguity).
    """
    return shared_edges(geoms)[0]


def shared_edges(
    geoms: NDArray[np.object_] | gpd.GeoSeries,
) -> tuple[pd.DataFrame, NDArray[np.object_]]:
    """:func:`adjacency`, with the shared boundary of each pair (lines, same CRS).

    The boundaries of the candidate pairs are intersected on all cores
    (:func:`planner._threads.parallel`: GEOS releases the GIL; the result is the same
    as one call's).
    """
    arr = np.asarray(geoms.values if isinstance(geoms, gpd.GeoSeries) else geoms, dtype=object)
    if len(arr) < 2:
        empty = pd.DataFrame({"a": np.zeros(0, int), "b": np.zeros(0, int), "length_m": []})
        return empty, np.zeros(0, dtype=object)
    tree = shapely.STRtree(arr)
    i, j = query(tree, arr, "intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    bnd = shapely.boundary(arr)
    shared = parallel(shapely.intersection, bnd[i], bnd[j])
    length = shapely.length(shared)
    ok = length > 1e-6
    adj = pd.DataFrame({"a": i[ok], "b": j[ok], "length_m": length[ok]}).reset_index(drop=True)
    return adj, shared[ok]


def adjacency_matrix(adj: pd.DataFrame, n: int) -> sparse.csr_matrix:
    """Symmetric sparse matrix of shared lengths from :func:`adjacency` pairs."""
    a = adj["a"].to_numpy()
    b = adj["b"].to_numpy()
    w = adj["length_m"].to_numpy(dtype=float)
    m = sparse.coo_matrix(
        (np.concatenate([w, w]), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(n, n)
    )
    return m.tocsr()


def building_atoms(street: Street, atoms: gpd.GeoDataFrame) -> pd.Series:
    """The atom holding most of each building's footprint (``atom_id``; -1 outside).

    Returns a Series indexed like ``street.buildings``.
    """
    pos = assign_to(street.buildings.geometry.values, atoms.geometry.values)
    ids = atoms["atom_id"].to_numpy()
    out = np.where(pos >= 0, ids[np.maximum(pos, 0)], -1)
    return pd.Series(out, index=street.buildings.index, name="atom_id", dtype="int64")


# --------------------------------------------------------------------------- internals


def _linework(street: Street, boundary: BaseGeometry, settings: Settings) -> NDArray[np.object_]:
    """Every cutting line, clipped to the boundary, as an array of linear geometries."""
    pieces: list[NDArray[np.object_]] = [np.array([shapely.boundary(boundary)], dtype=object)]
    roads = street.roads
    if len(roads):
        cut = np.array(roads["highway"].astype(str).isin(settings.cut_road_classes), dtype=bool)
        if "compound_id" in roads.columns:
            cid = roads["compound_id"].astype(object).where(roads["compound_id"].notna(), "")
            cid = cid.astype(str).str.strip()
            cut &= cid.isin(["", "nan", "None"]).to_numpy()
        lines = roads.geometry.values[cut]
        if len(street.compounds) and len(lines):
            inside = shapely.union_all(street.compounds.geometry.values)
            lines = shapely.difference(np.asarray(lines, dtype=object), inside)
        pieces.append(np.asarray(lines, dtype=object))
    bar = street.barriers
    if len(bar):
        g = np.asarray(bar.geometry.values, dtype=object)
        is_area = np.isin(shapely.get_type_id(g), [3, 6])
        pieces.append(np.where(is_area, shapely.boundary(g), g))
    for layer in (street.communities, street.compounds):
        if len(layer):
            pieces.append(shapely.boundary(np.asarray(layer.geometry.values, dtype=object)))
    return _clip(np.concatenate(pieces), boundary)


def _clip(lines: NDArray[np.object_], boundary: BaseGeometry) -> NDArray[np.object_]:
    """The linear parts of ``lines`` within :data:`_OVERSHOOT_M` of the boundary."""
    allg = np.asarray(lines, dtype=object)
    allg = np.asarray(allg[~shapely.is_missing(allg)], dtype=object)
    if len(allg) == 0:
        return allg
    # clip a little beyond the boundary: a line ending exactly on it may miss the noding
    # by a rounding error; the overshoot is a dangle that polygonize drops
    clipped = shapely.intersection(allg, shapely.buffer(boundary, _OVERSHOOT_M))
    parts = shapely.get_parts(shapely.get_parts(clipped))
    linear = np.isin(shapely.get_type_id(parts), [1, 2])
    return np.asarray(parts[linear & ~shapely.is_empty(parts)], dtype=object)


def _node(
    lines: NDArray[np.object_], boundary: BaseGeometry
) -> tuple[BaseGeometry, NDArray[np.object_]]:
    """Node ``lines`` (metres) and build the faces inside ``boundary``.

    GEOS's plain union of lines can mis-node nearly coincident segments (a road drawn on
    a street border, a river bank meeting it after a CRS round trip): ``polygonize``
    then leaves those edges as cut edges and a whole face is lost, so the atoms (and the
    grids) miss land. When the faces fall short of the boundary by more than
    :data:`_LOST_M2`, the lines are noded again by snap rounding on a
    :data:`_NODING_GRID_M` grid, which is robust; streets that node cleanly keep the
    plain noding's exact coordinates.

    Returns
    -------
    tuple
        The noded linework and the faces (:func:`_faces`).
    """
    noded = shapely.union_all(lines)
    faces = _faces(noded, boundary)
    if float(boundary.area - shapely.area(faces).sum()) > _LOST_M2:
        snapped = shapely.union_all(lines, grid_size=_NODING_GRID_M)
        again = _faces(snapped, boundary)
        if float(shapely.area(again).sum()) > float(shapely.area(faces).sum()):
            logger.info("plain noding lost faces; noded again by snap rounding")
            return snapped, again
    return noded, faces


def _faces(noded: BaseGeometry, boundary: BaseGeometry) -> NDArray[np.object_]:
    """Faces of the noded linework that lie inside the boundary."""
    lines = shapely.get_parts(noded)
    faces = shapely.get_parts(shapely.polygonize(lines))
    if len(faces) == 0:
        return np.asarray(shapely.get_parts(boundary), dtype=object)
    pts = shapely.point_on_surface(faces)
    inside = shapely.contains(boundary, pts) & (shapely.area(faces) > SLIVER_M2)
    return np.asarray(faces[inside], dtype=object)


def _sum_by(owner: NDArray[np.int64], values: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    ok = owner >= 0
    out = np.bincount(owner[ok], weights=np.asarray(values, dtype=float)[ok], minlength=n)
    return out.astype(np.float64)


def _label_at(
    geoms: NDArray[np.object_], layer: gpd.GeoDataFrame, column: str
) -> NDArray[np.object_]:
    """The ``column`` value of the layer feature holding each geometry's inner point."""
    out = np.full(len(geoms), "", dtype=object)
    if len(layer) == 0 or len(geoms) == 0:
        return out
    pts = shapely.point_on_surface(np.asarray(geoms, dtype=object))
    tree = shapely.STRtree(np.asarray(layer.geometry.values, dtype=object))
    i, j = tree.query(pts, predicate="within")
    if len(i):
        first = np.unique(i, return_index=True)[1]
        out[i[first]] = layer[column].astype(str).to_numpy()[j[first]]
    return out


def _between_building_lines(
    buildings: NDArray[np.object_],
    owner: NDArray[np.int64],
    areas: NDArray[np.object_],
    over: NDArray[np.int64],
) -> NDArray[np.object_]:
    """Lines running between the buildings of each area, clipped to it.

    ``areas[k]`` holds the buildings whose ``owner`` is ``over[k]``. The areas are
    independent: they are cut on all cores (GEOS releases the GIL), in their order.
    """
    buildings = np.asarray(buildings, dtype=object)
    order = np.argsort(owner, kind="stable")
    starts = np.searchsorted(owner[order], over, side="left")
    ends = np.searchsorted(owner[order], over, side="right")
    jobs = [
        (buildings[order[a:b]], areas[k]) for k, (a, b) in enumerate(zip(starts, ends, strict=True))
    ]
    with ThreadPoolExecutor(max_workers=workers()) as pool:
        out = [x for x in pool.map(lambda job: _lines_in_area(*job), jobs) if x is not None]
    if not out:
        return np.zeros(0, dtype=object)
    return np.concatenate(out)


def _lines_in_area(members: NDArray[np.object_], area: BaseGeometry) -> NDArray[np.object_] | None:
    """The lines between the buildings ``members`` of one area (one Voronoi diagram of
    points sampled along their outlines), clipped to the area; None when there is
    nothing to cut."""
    if len(members) < 2:
        return None
    outlines = shapely.segmentize(shapely.boundary(members), BUILDING_SAMPLE_M)
    xy, idx = shapely.get_coordinates(outlines, return_index=True)
    key = np.round(xy, 3)
    _, first = np.unique(key, axis=0, return_index=True)
    first = np.sort(first)
    xy, idx = xy[first], idx[first]
    cells = shapely.get_parts(
        shapely.voronoi_polygons(_multipoint(xy), extend_to=area, ordered=True)
    )
    if len(cells) != len(xy):  # ordering lost (degenerate input): skip this face
        logger.warning("could not cut atom between buildings (degenerate outlines)")
        return None
    merged = _edges_between_owners(cells, idx)
    if merged is None:
        return None
    # merged at junctions, then simplified: the Voronoi edges of sampled outlines
    # have a vertex every metre or so
    lines = shapely.intersection(
        shapely.simplify(merged, _SIMPLIFY_M), shapely.buffer(area, _OVERSHOOT_M)
    )
    parts = shapely.get_parts(shapely.get_parts(lines))
    parts = parts[np.isin(shapely.get_type_id(parts), [1, 2])]
    return np.asarray(parts, dtype=object)


def _multipoint(xy: NDArray[np.float64]) -> BaseGeometry:
    """``shapely.multipoints(xy)`` read from well-known binary written with numpy: the
    same geometry, without making a point object per coordinate first (4x faster on
    the hundreds of thousands of outline samples of a district)."""
    rec = np.zeros(len(xy), dtype=[("order", "u1"), ("kind", "<u4"), ("x", "<f8"), ("y", "<f8")])
    rec["order"], rec["kind"] = 1, 1  # little endian, Point
    rec["x"], rec["y"] = xy[:, 0], xy[:, 1]
    head = np.zeros(1, dtype=[("order", "u1"), ("kind", "<u4"), ("n", "<u4")])
    head["order"], head["kind"], head["n"] = 1, 4, len(xy)  # MultiPoint of n points
    geom: BaseGeometry = shapely.from_wkb(head.tobytes() + rec.tobytes())
    return geom


def _edges_between_owners(
    cells: NDArray[np.object_], owner: NDArray[np.int64]
) -> BaseGeometry | None:
    """The Voronoi edges separating cells of different owners, merged into lines.

    Cells of one diagram share exact vertices, so each inner edge appears in two cells;
    edges are matched by their rounded end points (numpy, no polygon union).
    """
    xy, ring = shapely.get_coordinates(shapely.boundary(cells), return_index=True)
    same = ring[:-1] == ring[1:]
    a, b = xy[:-1][same], xy[1:][same]
    cell = ring[:-1][same]
    ka, kb = np.round(a, 6), np.round(b, 6)
    swap = (ka[:, 0] > kb[:, 0]) | ((ka[:, 0] == kb[:, 0]) & (ka[:, 1] > kb[:, 1]))
    lo_pt = np.where(swap[:, None], kb, ka)
    hi_pt = np.where(swap[:, None], ka, kb)
    keys = np.rint(np.hstack([lo_pt, hi_pt]) * 1000).astype(np.int64)  # mm grid
    inv = pd.DataFrame(keys).groupby([0, 1, 2, 3], sort=False).ngroup().to_numpy(dtype=np.int64)
    counts = np.bincount(inv)
    if not (counts == 2).any():
        return None
    # owners of the two cells sharing each edge: min and max owner per edge key
    own = owner[cell]
    n_keys = len(counts)
    omin = np.full(n_keys, np.iinfo(np.int64).max)
    omax = np.full(n_keys, -1)
    np.minimum.at(omin, inv, own)
    np.maximum.at(omax, inv, own)
    keep_key = (counts == 2) & (omin != omax)
    sel = np.flatnonzero(keep_key[inv])
    _, first_pos = np.unique(inv[sel], return_index=True)
    sel = sel[first_pos]  # one copy of each kept edge
    if len(sel) == 0:
        return None
    segs = shapely.linestrings(np.stack([lo_pt[sel], hi_pt[sel]], axis=1))
    return shapely.line_merge(shapely.multilinestrings(segs))


def _merged_faces(
    faces: NDArray[np.object_],
    community: NDArray[np.object_],
    enclosure: NDArray[np.object_],
    straddle: NDArray[np.int64],
    cells: NDArray[np.bool_],
    face_hh: NDArray[np.float64],
    *,
    sliver_area_m2: float,
    max_households: float,
) -> NDArray[np.int64]:
    """Group label per face once slivers (:func:`_sliver_links`) and the faces a building
    straddles (``straddle``) are joined.

    ``cells`` marks the faces cut round a residential building (``face_hh`` households
    each). They merge as slivers like any small face, except in a group that would
    then hold more than ``max_households`` with more than one of them: there they stay
    atoms of their own. Without that, the cells of a dense compound (below
    ``sliver_area_m2`` m² each, ~350 m² on the synthetic district) chain back into the
    atom above the maximum they were cut from, which no grid within the bounds can hold.
    """
    n = len(faces)
    adj = adjacency(faces)  # the faces do not change between the rounds below

    def groups(keep: NDArray[np.bool_] | None) -> NDArray[np.int64]:
        links = _sliver_links(faces, community, enclosure, sliver_area_m2, keep=keep, adj=adj)
        return _components(np.concatenate([links, straddle], axis=1), n)

    keep = np.zeros(n, dtype=bool)
    group = groups(None)
    while True:  # each round keeps more cells apart: at most as many rounds as cells
        over = np.bincount(group, weights=face_hh, minlength=n)[group] > max_households
        several = np.bincount(group, weights=cells.astype(float), minlength=n)[group] > 1
        more = cells & over & several & ~keep
        if not more.any():
            break
        keep |= more
        # the slivers beside a kept cell may now link elsewhere: groups are re-made
        group = groups(keep)
    if keep.any():
        logger.info("kept %d cells round buildings apart (merged: above the maximum)", keep.sum())
    return group


def _sliver_links(
    faces: NDArray[np.object_],
    community: NDArray[np.object_],
    compound: NDArray[np.object_],
    sliver_area_m2: float,
    keep: NDArray[np.bool_] | None = None,
    adj: pd.DataFrame | None = None,
) -> NDArray[np.int64]:
    """Links (2 x m) from each sliver to the neighbour it merges into.

    ``adj``: the faces' :func:`adjacency` when already known.

    A sliver is a face below ``sliver_area_m2`` (m²) that ``keep`` does not mark
    (the cells cut round residential buildings are kept). The neighbour is of the
    same community (a sliver inside a compound: of the same compound), preferring the
    same compound, then a face that is not a sliver, then the longest shared edge.
    Each sliver links to one neighbour and kept faces to none, so a group of linked
    faces holds at most one face that is not a sliver.
    """
    n = len(faces)
    area = shapely.area(faces)
    sliver = area < sliver_area_m2
    if keep is not None:
        sliver &= ~keep
    if not sliver.any() or n < 2:
        return np.zeros((2, 0), dtype=np.int64)
    adj = adjacency(faces) if adj is None else adj
    a, b, ln = adj["a"].to_numpy(), adj["b"].to_numpy(), adj["length_m"].to_numpy()
    cand = pd.DataFrame(
        {
            "src": np.concatenate([a, b]),
            "dst": np.concatenate([b, a]),
            "length": np.concatenate([ln, ln]),
        }
    )
    cand = cand[sliver[cand["src"].to_numpy()]]
    s, d = cand["src"].to_numpy(), cand["dst"].to_numpy()
    same_comm = community[s] == community[d]
    same_comp = compound[s] == compound[d]
    allowed = same_comm & (same_comp | (compound[s] == ""))
    cand = cand[allowed].assign(same_comp=same_comp[allowed], big=~sliver[d[allowed]])
    cand = cand.sort_values(
        ["src", "same_comp", "big", "length"], ascending=[True, False, False, False], kind="stable"
    ).drop_duplicates("src")
    logger.info("merging %d sliver faces below %.0f m²", len(cand), sliver_area_m2)
    return np.vstack([cand["src"].to_numpy(), cand["dst"].to_numpy()]).astype(np.int64)


def _straddle_links(
    buildings: NDArray[np.object_], faces: NDArray[np.object_], community: NDArray[np.object_]
) -> NDArray[np.int64]:
    """Links joining the faces a building straddles (a road line drawn through it), so no
    building is cut; faces of different communities are not joined."""
    buildings = np.asarray(buildings, dtype=object)
    if len(buildings) == 0 or len(faces) < 2:
        return np.zeros((2, 0), dtype=np.int64)
    tree = shapely.STRtree(faces)
    i, j = query(tree, buildings, "intersects")
    multi = np.bincount(i, minlength=len(buildings))[i] > 1
    i, j = i[multi], j[multi]
    if len(i) == 0:
        return np.zeros((2, 0), dtype=np.int64)
    area = shapely.area(parallel(shapely.intersection, buildings[i], faces[j]))
    df = pd.DataFrame({"i": i, "j": j, "a": area})
    df = df[df["a"] > _STRADDLE_M2].sort_values(["i", "a"], ascending=[True, False])
    df["main"] = df.groupby("i")["j"].transform("first")
    df = df[(df["j"] != df["main"])]
    df = df[community[df["j"].to_numpy()] == community[df["main"].to_numpy()]]
    if len(df):
        logger.info("joined %d faces cut through a building", len(df))
    return np.vstack([df["main"].to_numpy(), df["j"].to_numpy()]).astype(np.int64)


def _components(links: NDArray[np.int64], n: int) -> NDArray[np.int64]:
    """Group label per face from merge links (union-find by connected components)."""
    if links.shape[1] == 0:
        return np.arange(n, dtype=np.int64)
    g = sparse.coo_matrix((np.ones(links.shape[1]), (links[0], links[1])), shape=(n, n))
    _, labels = csgraph.connected_components(g, directed=False)
    return np.asarray(labels, dtype=np.int64)


def _heads(faces: NDArray[np.object_], group: NDArray[np.int64]) -> NDArray[np.int64]:
    """Position of the largest face of each group, in group order (as :func:`_dissolve`)."""
    df = pd.DataFrame({"g": group, "area": shapely.area(faces), "pos": np.arange(len(faces))})
    head = df.sort_values(["g", "area"], ascending=[True, False], kind="stable")
    return np.asarray(head.drop_duplicates("g").sort_values("g")["pos"], dtype=np.int64)


def _dissolve(
    faces: NDArray[np.object_],
    group: NDArray[np.int64],
    community: NDArray[np.object_],
    compound: NDArray[np.object_],
    split_face: NDArray[np.bool_],
) -> gpd.GeoDataFrame:
    """Union the faces of each group; attributes come from the group's largest face."""
    gdf = gpd.GeoDataFrame({"g": group}, geometry=faces)
    if len(np.unique(group)) == len(group):
        geoms = gdf.set_index("g").sort_index().geometry.values
    else:
        try:
            geoms = gdf.dissolve(by="g", method="coverage").sort_index().geometry.values
        except shapely.errors.GEOSException:  # not an exact coverage: robust union
            geoms = gdf.dissolve(by="g").sort_index().geometry.values
    pos = _heads(faces, group)
    split_any = pd.Series(split_face).groupby(group).any().sort_index().to_numpy()
    geoms = np.asarray(geoms, dtype=object)
    polys = shapely.get_type_id(geoms) == 6
    if polys.any():  # a coverage union of adjacent faces is one polygon; keep it so
        geoms[polys] = shapely.make_valid(geoms[polys])
    n = len(geoms)
    return gpd.GeoDataFrame(
        {
            "atom_id": np.arange(n, dtype=np.int64),
            "community_id": community[pos].astype(str),
            "compound_id": compound[pos].astype(str),
            "households": np.zeros(n, dtype=np.int64),
            "population": np.zeros(n),
            "buildings": np.zeros(n, dtype=np.int64),
            "area_m2": np.zeros(n),
            "perimeter_m": np.zeros(n),
            "residential": np.zeros(n, dtype=bool),
            "split": split_any,
            "landuse": np.full(n, "", dtype=object),
            "dedicated": np.full(n, "", dtype=object),
            "dedicated_use": np.full(n, "", dtype=object),
        },
        geometry=geoms,
    )
