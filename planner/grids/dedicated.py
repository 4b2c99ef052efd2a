"""Dedicated grids (专属网格): land uses a street manages as units of their own.

Campuses and schools, hospitals, business complexes and office towers, industrial
parks, large parks and construction sites are managed by their own organisation, not
by the residential grid staff; the policy documents ask for them to be grids of their
own. A land-use polygon (the street's ``landuse`` layer, e.g. OSM ``amenity=university``
or ``landuse=commercial``) whose ``kind`` is in ``Settings.dedicated_kinds`` becomes a
*dedicated area* when it is large enough: its area is at least
``Settings.dedicated_min_area_m2``, or the floor area of the buildings on it
(footprint x storeys) at least ``Settings.dedicated_min_floor_area_m2``.

A dedicated area never absorbs or cuts a residential compound: the compounds are
taken out of it. Nested or overlapping areas (a faculty inside a campus) go to the
larger one. The atoms step cuts the street along the areas' outlines
(:func:`planner.grids.atoms.make_atoms`) and marks each atom with the area holding it;
the division makes each area (within one community, one connected piece) one grid of
``kind`` ``dedicated`` with its ``land_use``, exempt from the household bounds.

All geometry is in the street's projected CRS (metres).
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from planner.grids.shape import polygonal
from planner.settings import Settings
from planner.street import Street

logger = logging.getLogger(__name__)

#: ``kind`` of a residential grid and of a dedicated grid (the grids layer's ``kind``).
KIND_RESIDENTIAL = "residential"
KIND_DEDICATED = "dedicated"

#: Columns of :func:`dedicated_areas` (besides geometry).
AREA_COLUMNS: tuple[str, ...] = (
    "dedicated_id",
    "land_use",
    "name",
    "area_m2",
    "floor_area_m2",
)

#: Pieces of an area left smaller than this after compounds are taken out are dropped, m².
_MIN_PIECE_M2 = 1.0


def dedicated_areas(street: Street, *, settings: Settings | None = None) -> gpd.GeoDataFrame:
    """The street's dedicated areas: land use of the dedicated kinds, large enough.

    Parameters
    ----------
    street
        The street (``landuse`` with ``kind`` and ``name``; ``compounds``; buildings
        with ``footprint_m2``/``floors`` when present), projected CRS, metres.
    settings
        ``dedicated_kinds``, ``dedicated_min_area_m2``, ``dedicated_min_floor_area_m2``.

    Returns
    -------
    GeoDataFrame
        One row per area in ``street.crs``: ``dedicated_id`` (``D`` + the land-use
        id), ``land_use`` (its kind), ``name``, ``area_m2`` (inside the street, less
        compounds and larger areas), ``floor_area_m2`` (buildings whose centre lies
        in it). Polygons do not overlap each other or any compound.
    """
    settings = settings or Settings()
    empty = gpd.GeoDataFrame(
        {c: pd.Series(dtype=object if c in AREA_COLUMNS[:3] else float) for c in AREA_COLUMNS},
        geometry=gpd.GeoSeries([], crs=street.crs),
    )
    lu = street.landuse
    if len(lu) == 0 or "kind" not in lu.columns or not settings.dedicated_kinds:
        return empty
    kind = lu["kind"].astype(object).where(lu["kind"].notna(), "").astype(str).str.strip()
    sel = kind.isin(settings.dedicated_kinds).to_numpy()
    if not sel.any():
        return empty
    geo = shapely.make_valid(np.asarray(lu.geometry.values, dtype=object)[sel])
    geo = shapely.intersection(geo, shapely.make_valid(street.boundary_geom))
    if len(street.compounds):
        geo = shapely.difference(geo, shapely.union_all(street.compounds.geometry.values))
    geo = polygonal(geo)
    ids = _ids(lu, sel)
    names = lu["name"].astype(object).where(lu["name"].notna(), "").astype(str).to_numpy()[sel]
    geo = _larger_first(geo)
    area = shapely.area(geo)
    floor = _floor_area(street, geo)
    big = (area >= settings.dedicated_min_area_m2) | (
        (settings.dedicated_min_floor_area_m2 > 0) & (floor >= settings.dedicated_min_floor_area_m2)
    )
    keep = big & (area >= _MIN_PIECE_M2)
    out = gpd.GeoDataFrame(
        {
            "dedicated_id": ids[keep],
            "land_use": kind.to_numpy()[sel][keep],
            "name": names[keep],
            "area_m2": area[keep],
            "floor_area_m2": floor[keep],
        },
        geometry=geo[keep],
        crs=street.crs,
    ).reset_index(drop=True)
    logger.info(
        "%d dedicated areas (%s) of %d land-use polygons of the dedicated kinds",
        len(out),
        ", ".join(sorted(set(out["land_use"]))) or "none",
        int(sel.sum()),
    )
    return out


def _ids(lu: gpd.GeoDataFrame, sel: np.ndarray) -> np.ndarray:
    """``D`` + the land-use id of each selected row (its position when there is none)."""
    if "landuse_id" in lu.columns:
        raw = lu["landuse_id"].astype(object).where(lu["landuse_id"].notna(), "").astype(str)
    else:
        raw = pd.Series([""] * len(lu))
    pos = pd.Series(np.arange(len(lu)).astype(str))
    raw = raw.where(raw.str.strip() != "", pos).to_numpy()
    out = np.array([f"D{v}" for v in raw[sel]], dtype=object)
    dup = pd.Series(out).duplicated(keep=False).to_numpy()
    out[dup] = [f"{v}-{i}" for i, v in zip(np.flatnonzero(dup), out[dup], strict=True)]
    return out


def _larger_first(geo: np.ndarray) -> np.ndarray:
    """Overlaps go to the larger area: each area less every larger one before it."""
    order = np.argsort(-shapely.area(geo), kind="stable")
    out = geo.copy()
    taken = shapely.Polygon()
    for i in order:  # few areas; nested ones (a faculty in a campus) are dropped here
        out[i] = polygonal(np.array([shapely.difference(geo[i], taken)], dtype=object))[0]
        taken = shapely.union(taken, geo[i])
    return out


def _floor_area(street: Street, geo: np.ndarray) -> np.ndarray:
    """Floor area (m², footprint x storeys) of the buildings whose inner point lies
    in each area."""
    b = street.buildings
    out = np.zeros(len(geo))
    if len(b) == 0 or len(geo) == 0:
        return out
    bgeo = np.asarray(b.geometry.values, dtype=object)
    foot = (
        b["footprint_m2"].to_numpy(dtype=float)
        if "footprint_m2" in b.columns
        else shapely.area(bgeo)
    )
    floors = b["floors"].to_numpy(dtype=float) if "floors" in b.columns else np.ones(len(b))
    floor_area = np.nan_to_num(foot) * np.where(np.isfinite(floors) & (floors > 0), floors, 1.0)
    tree = shapely.STRtree(geo)
    i, j = tree.query(shapely.point_on_surface(bgeo), predicate="within")
    np.add.at(out, j, floor_area[i])
    return out


def grid_kinds(
    grid_of_atom: NDArray[np.int64] | NDArray[np.object_] | pd.Series,
    atoms: gpd.GeoDataFrame,
) -> pd.DataFrame:
    """``kind`` and ``land_use`` of each grid from its atoms.

    A grid is ``dedicated`` when it holds atoms of a dedicated area and no households
    (a dedicated grid never holds residential land); its ``land_use`` is that area's
    land-use kind. Every other grid is ``residential`` with ``land_use`` ''.

    Parameters
    ----------
    grid_of_atom
        The grid (any hashable key) of each atom, in the atoms' order.
    atoms
        Atoms with ``households``, ``dedicated`` and ``dedicated_use``
        (:func:`planner.grids.atoms.make_atoms`); atoms without the columns are
        residential.

    Returns
    -------
    DataFrame
        Indexed by grid key: ``kind``, ``land_use``.
    """
    key = np.asarray(grid_of_atom)
    ded = (
        atoms["dedicated"].astype(str).to_numpy()
        if "dedicated" in atoms.columns
        else np.full(len(atoms), "", dtype=object)
    )
    use = (
        atoms["dedicated_use"].astype(str).to_numpy()
        if "dedicated_use" in atoms.columns
        else np.full(len(atoms), "", dtype=object)
    )
    df = pd.DataFrame(
        {
            "k": key,
            "hh": atoms["households"].to_numpy(dtype=float),
            "ded": ded != "",
            "use": np.where(ded != "", use, ""),
        }
    )
    agg = df.groupby("k").agg(hh=("hh", "sum"), ded=("ded", "any"), use=("use", "max"))
    is_ded = agg["ded"] & (agg["hh"] == 0)
    return pd.DataFrame(
        {
            "kind": np.where(is_ded, KIND_DEDICATED, KIND_RESIDENTIAL),
            "land_use": np.where(is_ded, agg["use"].astype(str), ""),
        },
        index=agg.index,
    )
