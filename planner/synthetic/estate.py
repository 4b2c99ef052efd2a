"""A new estate built on a synthetic street: the data change a re-division must absorb.

:func:`add_estate` places one new gated compound (小区) with residential towers on open
land of a generated street — land inside the street, clear of every building, compound,
road and barrier (a park or a vacant block) — and returns the street with the compound,
its buildings and a gate added and the land use cut back. Used to test and demonstrate
``grids SOURCE --keep PREVIOUS_GRIDS`` (:mod:`planner.grids.keep`): the grids people
know should survive the new estate.

Deterministic: the first free site in reading order (north to south, west to east) on a
``step_m`` lattice; no randomness.
"""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.synthetic.demo import SyntheticStreet, street_stats

#: Clearance kept from roads, buildings, compounds and barriers, metres.
CLEARANCE_M = 8.0


def add_estate(
    street: SyntheticStreet,
    *,
    width_m: float = 160.0,
    depth_m: float = 120.0,
    towers: int = 6,
    floors: int = 18,
    households_per_floor: int = 4,
    step_m: float = 20.0,
    compound_id: str = "XQNEW",
    name: str = "新建小区（合成数据）",
) -> SyntheticStreet:
    """The street with one new estate: a gated compound of ``towers`` residential towers.

    Parameters
    ----------
    street
        A generated street (:func:`planner.synthetic.demo.make_street`).
    width_m, depth_m
        Size of the compound (east-west, north-south), metres.
    towers
        Residential buildings, in two rows; each ``floors`` storeys with
        ``households_per_floor`` households per storey.
    step_m
        Spacing of the candidate sites searched, metres.
    compound_id, name
        The new compound's id and name (its buildings are ``<compound_id>-B<n>``).

    Returns
    -------
    SyntheticStreet
        A copy with ``compounds``, ``buildings``, ``gates`` and ``landuse`` changed and
        ``stats`` recomputed; ``metadata["estate"]`` records the compound, its
        community and households.

    Raises
    ------
    ValueError
        No free site of that size in the street.
    """
    utm = street.utm_crs
    L = {k: v.to_crs(utm) for k, v in street.layers.items()}
    site = _free_site(L, width_m=width_m, depth_m=depth_m, step_m=step_m)
    comm = L["communities"]
    holder = int(np.argmax(shapely.area(shapely.intersection(comm.geometry.values, site))))
    community_id = str(comm["community_id"].iloc[holder])
    buildings = _towers(site, towers=towers, floors=floors, per_floor=households_per_floor)
    buildings = buildings.set_crs(utm)
    buildings["compound_id"] = compound_id
    buildings["building_id"] = [f"{compound_id}-B{i + 1}" for i in range(len(buildings))]
    buildings["name"] = [f"{i + 1}号楼" for i in range(len(buildings))]
    x0, y0, x1, _y1 = site.bounds
    layers = dict(street.layers)
    layers["compounds"] = _append(
        L["compounds"],
        {"compound_id": compound_id, "name": name, "gated": True, "community_id": community_id},
        site,
    ).to_crs(4326)
    layers["buildings"] = (
        gpd.GeoDataFrame(pd.concat([L["buildings"], buildings], ignore_index=True), crs=utm)
        .to_crs(4326)
        .reset_index(drop=True)
    )
    gate = shapely.Point((x0 + x1) / 2, y0)
    layers["gates"] = _append(
        L["gates"], {"gate_id": f"{compound_id}-M1", "compound_id": compound_id}, gate
    ).to_crs(4326)
    landuse = L["landuse"].copy()
    landuse["geometry"] = shapely.difference(landuse.geometry.values, site)
    layers["landuse"] = landuse[~landuse.geometry.is_empty].to_crs(4326).reset_index(drop=True)
    households = int(buildings["households"].sum())
    meta = {
        **street.metadata,
        "estate": {
            "compound_id": compound_id,
            "community_id": community_id,
            "households": households,
        },
    }
    out = replace(street, layers=layers, metadata=meta)
    out.stats = street_stats(out)
    return out


def _free_site(
    L: dict[str, gpd.GeoDataFrame], *, width_m: float, depth_m: float, step_m: float
) -> shapely.Polygon:
    """The first box of ``width_m`` x ``depth_m`` inside the boundary and clear of every
    building, compound, road and barrier (by :data:`CLEARANCE_M`), north to south, west
    to east on a ``step_m`` lattice. Vectorised: one STRtree query for all candidates."""
    boundary = shapely.union_all(L["boundary"].geometry.values)
    obstacles = np.concatenate(
        [
            np.asarray(L[k].geometry.values, dtype=object)
            for k in ("buildings", "compounds", "roads", "barriers")
            if len(L[k])
        ]
    )
    x0, y0, x1, y1 = boundary.bounds
    xs = np.arange(x0, x1 - width_m, step_m)
    ys = np.arange(y1 - depth_m, y0, -step_m)
    gx, gy = np.meshgrid(xs, ys)
    boxes = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + width_m, gy.ravel() + depth_m)
    inside = shapely.contains(shapely.buffer(boundary, -CLEARANCE_M), boxes)
    tree = shapely.STRtree(shapely.buffer(obstacles, CLEARANCE_M))
    hit = np.zeros(len(boxes), dtype=bool)
    hit[np.unique(tree.query(boxes, predicate="intersects")[0])] = True
    free = np.flatnonzero(inside & ~hit)
    if len(free) == 0:
        raise ValueError(
            f"no free site of {width_m:g} m x {depth_m:g} m in the street: every place "
            "touches a building, compound, road or barrier; try a smaller estate"
        )
    return boxes[free[0]]


def _towers(site: shapely.Polygon, *, towers: int, floors: int, per_floor: int) -> gpd.GeoDataFrame:
    """``towers`` slab buildings (30 m x 14 m) in two rows inside ``site``."""
    x0, y0, x1, y1 = site.bounds
    per_row = max(1, int(np.ceil(towers / 2)))
    gap_x = (x1 - x0) / per_row
    rows = []
    for k in range(towers):
        r, c = divmod(k, per_row)
        cx = x0 + gap_x * (c + 0.5)
        cy = y0 + (y1 - y0) * (0.3 if r == 0 else 0.72)
        rows.append(shapely.box(cx - 15, cy - 7, cx + 15, cy + 7))
    households = floors * per_floor
    return gpd.GeoDataFrame(
        {
            "kind": "residential",
            "floors": float(floors),
            "height_m": np.nan,
            "households": float(households),
            "population": float(round(households * 2.62)),
        },
        index=range(len(rows)),
        geometry=rows,
        crs=None,
    )


def _append(layer: gpd.GeoDataFrame, values: dict[str, object], geom: object) -> gpd.GeoDataFrame:
    row = gpd.GeoDataFrame({k: [v] for k, v in values.items()}, geometry=[geom], crs=layer.crs)
    return gpd.GeoDataFrame(pd.concat([layer, row], ignore_index=True), crs=layer.crs)
