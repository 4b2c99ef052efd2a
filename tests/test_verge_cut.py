"""Verges cut along paths keep the atoms an exact coverage (planner.grids._verges).

The 10-street synthetic district broke ``no_overlap`` with ``grid_verge_cut="features"``:
a path cutting a verge ends on the verge's outline at a point that is no vertex of the
atom beyond it, the atoms stopped being an exact coverage, and the grids dissolved from
them as a coverage overlapped in slivers.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, box

from planner.grids._verges import split_verges
from planner.grids.atoms import adjacency
from planner.grids.division import _union_by


def strip_atoms() -> gpd.GeoDataFrame:
    """A 400 x 8 m verge (Polsby-Popper 0.06) between two blocks north and one south."""
    geoms = [
        shapely.Polygon([(0, 0), (400, 0), (400, 8), (200, 8), (0, 8)]),  # the verge
        box(0, 8, 200, 100),
        box(200, 8, 400, 100),
        box(0, -100, 400, 0),
    ]
    return gpd.GeoDataFrame(
        {
            "atom_id": np.arange(4),
            "households": [0, 300, 300, 300],
            "compound_id": ["", "c1", "c2", "c3"],
            "community_id": ["w"] * 4,
            "dedicated": [""] * 4,
        },
        geometry=geoms,
        crs="EPSG:32650",
    )


def test_a_verge_cut_by_a_path_leaves_an_exact_coverage() -> None:
    atoms = strip_atoms()
    assert shapely.coverage_is_valid(np.asarray(atoms.geometry.values, dtype=object))
    path = np.array([LineString([(50, -5), (50, 13)])], dtype=object)
    out = split_verges(
        atoms,
        adjacency(atoms.geometry.values),
        min_compactness=0.1,
        max_households=500,
        lines=path,
        mode="features",
    )
    geo = np.asarray(out.geometry.values, dtype=object)
    assert len(out) == 5  # the verge in two pieces, at the path
    assert shapely.coverage_is_valid(geo)  # no T-junction where the path meets a block
    assert abs(shapely.area(geo).sum() - shapely.area(atoms.geometry.values).sum()) < 1e-6
    # every piece goes with the block it shares the longest edge with, and the grids
    # dissolved from them (as a coverage) tile the land without overlapping
    grid = np.where(out["attach"] >= 0, out["attach"], np.arange(len(out)))
    keys = np.unique(grid)
    grids = _union_by(geo, grid, keys)
    i, j = shapely.STRtree(grids).query(grids, predicate="intersects")
    m = i < j
    assert shapely.area(shapely.intersection(grids[i[m]], grids[j[m]])).sum() < 1e-6
    assert abs(shapely.area(grids).sum() - 400 * 200) < 1e-6
    assert shapely.is_valid(grids).all()


def test_verge_joins_never_chain_units_above_the_maximum() -> None:
    from scipy import sparse

    from planner.grids._partition import Graph
    from planner.grids.division import _attach_verges

    # A (300 households) - verge V - B (300): V goes with A, and B was tied to V (a
    # ring taken with a block, the block's compound reaching beyond it)
    atoms = gpd.GeoDataFrame(
        {"community_id": ["w"] * 3, "attach": [-1, 0, 1], "households": [300, 0, 300]},
        geometry=[box(0, 0, 10, 10), box(10, 0, 11, 10), box(11, 0, 21, 10)],
    )
    adj = sparse.csr_matrix(np.array([[0, 10, 0], [10, 0, 10], [0, 10, 0]], dtype=float))
    g = Graph(
        adj=adj,
        weight=np.array([300.0, 0.0, 300.0]),
        xy=np.zeros((3, 2)),
        area=np.ones(3),
        perimeter=np.ones(3),
    )
    unit = np.arange(3)
    joined = _attach_verges(atoms, g, unit)  # no maximum: one unit of 600
    assert len(set(joined.tolist())) == 1
    kept = _attach_verges(atoms, g, unit, hi=500)
    assert len(set(kept.tolist())) == 3  # 600 > 500: the joins are not made
    atoms["households"] = [200, 0, 250]
    g = Graph(
        adj=adj, weight=np.array([200.0, 0.0, 250.0]), xy=g.xy, area=g.area, perimeter=g.perimeter
    )
    assert len(set(_attach_verges(atoms, g, unit, hi=500).tolist())) == 1  # 450 fits
