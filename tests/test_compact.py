"""Repair of thin grids by moving boundary units (planner.grids.compact)."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from planner.grids._partition import Graph
from planner.grids.compact import repair_thin
from planner.grids.exact import Bound


def board(rows: int, cols: int, side: float = 10.0) -> Graph:
    """Square units on a board, numbered row by row; shared edges ``side`` long."""
    n = rows * cols
    a, b = [], []
    for r in range(rows):
        for c in range(cols):
            k = r * cols + c
            if c + 1 < cols:
                a.append(k)
                b.append(k + 1)
            if r + 1 < rows:
                a.append(k)
                b.append(k + cols)
    m = sparse.coo_matrix((np.full(len(a), side), (a, b)), shape=(n, n))
    adj = (m + m.T).tocsr()
    xy = np.array([[c * side, -r * side] for r in range(rows) for c in range(cols)], dtype=float)
    return Graph(
        adj=adj,
        weight=np.full(n, 100.0),
        xy=xy,
        area=np.full(n, side * side),
        perimeter=np.full(n, 4 * side),
    )


#: Two rows of three: grid 0 an L of four (Polsby-Popper 0.503), grid 1 a domino (0.698).
L_AND_DOMINO = np.array([0, 0, 0, 1, 1, 0])
COMM = np.array(["A"] * 6, dtype=object)


def test_a_thin_grid_gives_a_corner_unit_and_both_grids_come_out_more_compact() -> None:
    g = board(2, 3)
    grid, rep = repair_thin(
        g, L_AND_DOMINO, COMM, np.zeros(6, dtype=bool), [Bound(g.weight, 100, 400)], minimum=0.55
    )
    # unit 0 (the L's far corner) moves: two L-trominoes of 0.589 each
    assert grid.tolist() == [1, 0, 0, 1, 1, 0]
    assert rep.moves == 1
    assert rep.min_before == np.float64(4 * np.pi * 400 / 100**2)
    assert abs(rep.min_after - 4 * np.pi * 300 / 80**2) < 1e-9
    assert (rep.thin_before, rep.thin_after) == (1, 0)


def test_bounds_frozen_grids_and_communities_are_kept() -> None:
    g = board(2, 3)
    free = np.zeros(6, dtype=bool)
    # the domino may hold at most 250 households: no unit of 100 may join it, and the
    # L may not go below 350
    grid, rep = repair_thin(g, L_AND_DOMINO, COMM, free, [Bound(g.weight, 0, 250)], minimum=0.55)
    assert grid.tolist() == L_AND_DOMINO.tolist() and rep.moves == 0
    # a unit of no households changes no figure: it may move even out of range
    w = g.weight.copy()
    w[0] = 0
    grid, _ = repair_thin(g, L_AND_DOMINO, COMM, free, [Bound(w, 0, 150)], minimum=0.55)
    assert grid[0] == 1
    # a locked or dedicated grid never changes
    frozen = np.array([False, False, False, True, False, False])
    grid, rep = repair_thin(g, L_AND_DOMINO, COMM, frozen, [], minimum=0.55)
    assert grid.tolist() == L_AND_DOMINO.tolist() and rep.moves == 0
    # a unit never goes into a grid of another community
    comm = np.array(["A", "A", "A", "B", "B", "A"], dtype=object)
    grid, rep = repair_thin(g, L_AND_DOMINO, comm, free, [], minimum=0.55)
    assert rep.moves == 0


def test_a_grid_is_never_left_in_two_pieces() -> None:
    # a U of five round a single unit: moving the U's middle would make the grid two pieces
    g = board(2, 3)
    grid0 = np.array([0, 0, 0, 0, 1, 0])  # unit 4 (bottom middle) is grid 1
    grid, _ = repair_thin(g, grid0, COMM, np.zeros(6, dtype=bool), [], minimum=0.9)
    for k in np.unique(grid):
        members = np.flatnonzero(grid == k)
        sub = g.adj[members][:, members]
        n, _ = sparse.csgraph.connected_components(sub, directed=False)
        assert n == 1


def test_no_grid_is_made_thin_to_repair_another() -> None:
    # with a minimum of 0.6 the move above would raise the L (0.503 -> 0.589) but bring
    # the domino (0.698) below the minimum: the count of thin grids would not fall (the
    # bound keeps the L from taking unit 4, which would make both compact)
    g = board(2, 3)
    keep = [Bound(g.weight, 100, 400)]
    grid, rep = repair_thin(g, L_AND_DOMINO, COMM, np.zeros(6, dtype=bool), keep, minimum=0.6)
    assert grid.tolist() == L_AND_DOMINO.tolist()
    assert rep.moves == 0 and rep.thin_after == rep.thin_before == 1


# --- grids14: thin strips forced by the atoms ---
def _strip_street(width: float = 1800.0, strip: float = 12.0):
    """Six blocks of 300 households in a row under one strip of land without households
    (a verge between the street edge and a road, ``strip`` m deep), which no road cuts:
    any grid holding the strip is thin."""
    import geopandas as gpd
    from shapely.geometry import LineString, box

    from planner.street import from_layers

    crs, x0, y0, height = "EPSG:32650", 440_000.0, 4_420_000.0, 302.0
    top = y0 + height - strip
    roads = [
        {
            "road_id": "h0",
            "highway": "residential",
            "geometry": LineString([(x0 - 50, top), (x0 + width + 50, top)]),
        }
    ]
    for i, x in enumerate(np.arange(300.0, width, 300.0)):
        roads.append(
            {
                "road_id": f"v{i}",
                "highway": "residential",
                "geometry": LineString([(x0 + x, y0 - 50), (x0 + x, top)]),
            }
        )
    buildings = [
        {
            "building_id": f"b{i}_{j}",
            "kind": "residential",
            "households": 100,
            "population": 262.0,
            "compound_id": "",
            "geometry": box(
                x0 + 300 * i + 50 + 90 * j, y0 + 140, x0 + 300 * i + 90 + 90 * j, y0 + 160
            ),
        }
        for i in range(int(width // 300))
        for j in range(3)
    ]
    layers = {
        "boundary": gpd.GeoDataFrame(
            {"name": ["街"]}, geometry=[box(x0, y0, x0 + width, y0 + height)], crs=crs
        ),
        "roads": gpd.GeoDataFrame(roads, crs=crs),
        "buildings": gpd.GeoDataFrame(buildings, crs=crs),
    }
    return from_layers(layers, crs=crs, name="街")


def test_a_thin_strip_without_households_is_reported_as_forced_by_the_atoms() -> None:
    from planner.grids.division import divide
    from planner.settings import Settings

    res = divide(_strip_street(), settings=Settings())
    strip = res.atoms[res.atoms["households"] == 0]
    assert len(strip) == 1 and len(res.grids) == 6
    thin = res.grids[res.grids["compactness"] < 0.1]
    assert thin["grid_id"].tolist() == [strip["grid_id"].iloc[0]]
    reason = thin["shape_reason"].iloc[0]
    assert "forced by the atoms" in reason and f"atom {strip['atom_id'].iloc[0]} " in reason
    assert "(0 households, Polsby-Popper 0.021 alone)" in reason
    assert (res.grids.loc[res.grids["compactness"] >= 0.1, "shape_reason"] == "").all()
    check = res.report.check("compactness")
    assert [v.severity for v in check.violations] == ["explained"]
    assert "由网格单元决定" in res.report.to_text(lang="zh")
    assert res.report.ok


def test_a_thin_atom_a_neighbour_could_take_without_becoming_thin_forces_nothing() -> None:
    import geopandas as gpd
    from shapely.geometry import box

    from planner.grids.division import _forcing_atom

    geoms = [box(0, 100, 1000, 110), box(0, 0, 100, 100), box(100, -900, 1000, 100)]
    atoms = gpd.GeoDataFrame(
        {
            "atom_id": [7, 8, 9],
            "grid_id": [0, 0, 1],
            "households": [0, 300, 300],
            "area_m2": [g.area for g in geoms],
            "perimeter_m": [g.length for g in geoms],
            "community_id": ["A", "A", "A"],
        },
        geometry=geoms,
    )
    grids = gpd.GeoDataFrame(
        {
            "grid_id": [0, 1],
            "locked": [False, False],
            "kind": ["residential"] * 2,
            "community_id": ["A", "A"],
            "households": [300, 300],
        },
        geometry=[geoms[0].union(geoms[1]), geoms[2]],
    )
    # the big grid takes the strip and stays compact: not forced
    assert _forcing_atom(grids, atoms, 0, 0.1) is None
    # locked (or in another community), it cannot take the strip: forced
    grids["locked"] = [False, True]
    forced = _forcing_atom(grids, atoms, 0, 0.1)
    assert forced is not None and forced[0] == "7" and forced[1] < 0.1
    grids["locked"] = [False, False]
    grids["community_id"] = ["A", "B"]
    assert _forcing_atom(grids, atoms, 0, 0.1) is not None
    # a strip with households the big grid cannot take within the maximum: forced
    grids["community_id"] = ["A", "A"]
    atoms.loc[0, "households"] = 250
    assert _forcing_atom(grids, atoms, 0, 0.1, max_households=600) is None
    forced = _forcing_atom(grids, atoms, 0, 0.1, max_households=500)
    assert forced is not None and forced[2] == 250
