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

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse import csgraph
from shapely.geometry.base import BaseGeometry

from planner.settings import Settings
from planner.street import Street

logger = logging.getLogger(__name__)

#: Spacing of points sampled along building outlines for the between-building cuts, m.
BUILDING_SAMPLE_M = 2.0

#: Lines are clipped this far beyond the area they cut so they cross its edge, m.
_OVERSHOOT_M = 0.5

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
        maximum), ``landuse`` (land-use kind at the atom, '' if none). The atoms tile
        the boundary exactly.
    """
    settings = settings or Settings()
    boundary = shapely.make_valid(street.boundary_geom)
    base_lines = _linework(street, boundary, settings)
    noded = shapely.union_all(base_lines)
    faces = _faces(noded, boundary)
    owner = assign_to(street.buildings.geometry.values, faces)
    households = _sum_by(owner, street.buildings["households"].to_numpy(), len(faces))
    over = np.flatnonzero(households > settings.grid_max_households)
    split_face = np.zeros(len(faces), dtype=bool)
    if len(over):
        cut_lines = _between_building_lines(street.buildings.geometry.values, owner, faces, over)
        if len(cut_lines):
            noded = shapely.union_all(np.concatenate([shapely.get_parts(noded), cut_lines]))
            old_faces = faces
            faces = _faces(noded, boundary)
            parent = assign_to(faces, old_faces)
            split_face = np.isin(parent, over)
            logger.info("split %d atoms above %d households between buildings into %d cells",
                        len(over), settings.grid_max_households, int(split_face.sum()))
    community = _label_at(faces, street.communities, "community_id")
    compound = _label_at(faces, street.compounds, "compound_id")
    group = _merge_slivers(faces, community, compound, settings.sliver_area_m2)
    atoms = _dissolve(faces, group, community, compound, split_face)
    atoms = atoms.set_crs(street.crs, allow_override=True)
    owner = assign_to(street.buildings.geometry.values, atoms.geometry.values)
    n = len(atoms)
    b = street.buildings
    atoms["households"] = _sum_by(owner, b["households"].to_numpy(), n).astype("int64")
    atoms["population"] = _sum_by(owner, b["population"].to_numpy(dtype=float), n)
    atoms["buildings"] = _sum_by(owner, np.ones(len(b)), n).astype("int64")
    atoms["area_m2"] = atoms.geometry.area
    atoms["perimeter_m"] = atoms.geometry.length
    atoms["residential"] = atoms["households"] > 0
    atoms["landuse"] = _label_at(atoms.geometry.values, street.landuse, "kind")
    if (owner < 0).any():
        logger.warning("%d buildings lie outside the street boundary and belong to no atom",
                       int((owner < 0).sum()))
    logger.info("%d atoms from %d faces", n, len(faces))
    return atoms[[*ATOM_COLUMNS, "geometry"]]


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
    i, j = tree.query(parts, predicate="intersects")
    if len(i) == 0:
        return out
    count = np.bincount(i, minlength=len(parts))
    single = count[i] == 1
    out[i[single]] = j[single]
    mi, mj = i[~single], j[~single]
    if len(mi):
        area = shapely.area(shapely.intersection(parts[mi], containers[mj]))
        df = pd.DataFrame({"i": mi, "j": mj, "a": area}).sort_values(
            ["i", "a"], ascending=[True, False], kind="stable"
        )
        best = df.drop_duplicates("i")
        out[best["i"].to_numpy()] = best["j"].to_numpy()
    return out


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
    arr = np.asarray(geoms.values if isinstance(geoms, gpd.GeoSeries) else geoms, dtype=object)
    if len(arr) < 2:
        return pd.DataFrame({"a": np.zeros(0, int), "b": np.zeros(0, int), "length_m": []})
    tree = shapely.STRtree(arr)
    i, j = tree.query(arr, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    bnd = shapely.boundary(arr)
    length = shapely.length(shapely.intersection(bnd[i], bnd[j]))
    ok = length > 1e-6
    return pd.DataFrame({"a": i[ok], "b": j[ok], "length_m": length[ok]}).reset_index(drop=True)


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
        cut = roads["highway"].astype(str).isin(settings.cut_road_classes).to_numpy()
        if "compound_id" in roads.columns:
            cid = roads["compound_id"].fillna("").astype(str).str.strip()
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
    allg = np.concatenate(pieces)
    allg = allg[~shapely.is_missing(allg)]
    # clip a little beyond the boundary: a line ending exactly on it may miss the noding
    # by a rounding error; the overshoot is a dangle that polygonize drops
    clipped = shapely.intersection(allg, shapely.buffer(boundary, _OVERSHOOT_M))
    parts = shapely.get_parts(shapely.get_parts(clipped))
    linear = np.isin(shapely.get_type_id(parts), [1, 2])
    return np.asarray(parts[linear & ~shapely.is_empty(parts)], dtype=object)


def _faces(noded: BaseGeometry, boundary: BaseGeometry) -> NDArray[np.object_]:
    """Faces of the noded linework that lie inside the boundary."""
    lines = shapely.get_parts(noded)
    faces = shapely.get_parts(shapely.polygonize(lines))
    if len(faces) == 0:
        return np.asarray(shapely.get_parts(boundary), dtype=object)
    pts = shapely.point_on_surface(faces)
    inside = shapely.contains(boundary, pts)
    return np.asarray(faces[inside], dtype=object)


def _sum_by(owner: NDArray[np.int64], values: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    ok = owner >= 0
    return np.bincount(owner[ok], weights=np.asarray(values, dtype=float)[ok], minlength=n)


def _label_at(geoms: NDArray[np.object_], layer: gpd.GeoDataFrame, column: str) -> NDArray[np.object_]:
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
    faces: NDArray[np.object_],
    over: NDArray[np.int64],
) -> NDArray[np.object_]:
    """Lines running between buildings inside each face of ``over``, clipped to it."""
    out: list[NDArray[np.object_]] = []
    buildings = np.asarray(buildings, dtype=object)
    for f in over:  # one Voronoi diagram per oversize face (few faces)
        members = np.flatnonzero(owner == f)
        if len(members) < 2:
            continue
        outlines = shapely.segmentize(shapely.boundary(buildings[members]), BUILDING_SAMPLE_M)
        xy, idx = shapely.get_coordinates(outlines, return_index=True)
        key = np.round(xy, 3)
        _, first = np.unique(key, axis=0, return_index=True)
        first = np.sort(first)
        xy, idx = xy[first], idx[first]
        cells = shapely.get_parts(
            shapely.voronoi_polygons(
                shapely.multipoints(xy), extend_to=faces[f], ordered=True
            )
        )
        if len(cells) != len(xy):  # ordering lost (degenerate input): skip this face
            logger.warning("could not cut atom between buildings (degenerate outlines)")
            continue
        regions = (
            gpd.GeoDataFrame({"b": idx}, geometry=cells)
            .dissolve(by="b", method="coverage")
            .geometry.values
        )
        lines = shapely.intersection(
            shapely.boundary(np.asarray(regions, dtype=object)),
            shapely.buffer(faces[f], _OVERSHOOT_M),
        )
        parts = shapely.get_parts(shapely.get_parts(lines))
        parts = parts[np.isin(shapely.get_type_id(parts), [1, 2])]
        out.append(np.asarray(parts, dtype=object))
    if not out:
        return np.zeros(0, dtype=object)
    return np.concatenate(out)


def _merge_slivers(
    faces: NDArray[np.object_],
    community: NDArray[np.object_],
    compound: NDArray[np.object_],
    sliver_area_m2: float,
) -> NDArray[np.int64]:
    """Group label per face: each sliver joins its best neighbour (union-find by csgraph)."""
    n = len(faces)
    area = shapely.area(faces)
    sliver = area < sliver_area_m2
    if not sliver.any() or n < 2:
        return np.arange(n)
    adj = adjacency(faces)
    a, b, ln = adj["a"].to_numpy(), adj["b"].to_numpy(), adj["length_m"].to_numpy()
    src = np.concatenate([a, b])
    dst = np.concatenate([b, a])
    length = np.concatenate([ln, ln])
    cand = pd.DataFrame({"src": src, "dst": dst, "length": length})
    cand = cand[sliver[cand["src"].to_numpy()]]
    s, d = cand["src"].to_numpy(), cand["dst"].to_numpy()
    same_comm = community[s] == community[d]
    same_comp = compound[s] == compound[d]
    allowed = same_comm & (same_comp | (compound[s] == ""))
    cand = cand[allowed].assign(same_comp=same_comp[allowed], big=~sliver[d[allowed]])
    cand = cand.sort_values(
        ["src", "same_comp", "big", "length"], ascending=[True, False, False, False], kind="stable"
    ).drop_duplicates("src")
    g = sparse.coo_matrix(
        (np.ones(len(cand)), (cand["src"].to_numpy(), cand["dst"].to_numpy())), shape=(n, n)
    )
    _, labels = csgraph.connected_components(g, directed=False)
    logger.info("merged %d sliver faces below %.0f m²", len(cand), sliver_area_m2)
    return np.asarray(labels, dtype=np.int64)


def _dissolve(
    faces: NDArray[np.object_],
    group: NDArray[np.int64],
    community: NDArray[np.object_],
    compound: NDArray[np.object_],
    split_face: NDArray[np.bool_],
) -> gpd.GeoDataFrame:
    """Union the faces of each group; attributes come from the group's largest face."""
    area = shapely.area(faces)
    df = pd.DataFrame({"g": group, "area": area, "pos": np.arange(len(faces))})
    head = df.sort_values(["g", "area"], ascending=[True, False], kind="stable").drop_duplicates("g")
    gdf = gpd.GeoDataFrame({"g": group}, geometry=faces)
    if len(np.unique(group)) == len(group):
        geoms = gdf.set_index("g").sort_index().geometry.values
    else:
        geoms = gdf.dissolve(by="g", method="coverage").sort_index().geometry.values
    pos = head.sort_values("g")["pos"].to_numpy()
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
        },
        geometry=geoms,
    )
