"""Atoms tile the street exactly, follow the cutting features, and never cut a building."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, box

from planner.grids.atoms import adjacency, building_atoms, make_atoms
from planner.settings import Settings
from planner.street import from_layers
from tests.grid_streets import CRS, X0, Y0, block_street


def _tiles(atoms: gpd.GeoDataFrame, boundary: shapely.Geometry) -> None:
    union = shapely.union_all(atoms.geometry.values)
    assert shapely.symmetric_difference(union, boundary).area < 1e-6 * boundary.area
    assert abs(atoms.geometry.area.sum() - boundary.area) < 1e-6 * boundary.area


def test_atoms_tile_the_street_and_follow_roads_not_footways() -> None:
    street = block_street(xs=(300.0, 600.0), ys=(300.0,), compound_every=0, households=[10])
    atoms = make_atoms(street, settings=Settings())
    _tiles(atoms, street.boundary_geom)
    # 3 x 2 blocks cut by the two vertical and one horizontal road; the diagonal
    # footway does not cut, and the community line at x=450 cuts the middle column
    assert len(atoms) == 8
    assert set(atoms["community_id"]) == {"w", "e"}
    assert atoms["households"].sum() == street.buildings["households"].sum()
    assert (atoms.geometry.geom_type == "Polygon").all()


def test_compound_internal_paths_do_not_cut_and_compound_outline_does() -> None:
    street = block_street(xs=(), ys=(), community_x=None, compound_every=1, households=[20])
    roads = street.roads.copy()
    inner = {
        "road_id": "in",
        "highway": "residential",
        "compound_id": "c0",
        "geometry": LineString([(X0 + 450, Y0 + 20), (X0 + 450, Y0 + 580)]),
    }
    roads = gpd.GeoDataFrame([*roads.to_dict("records"), inner], crs=CRS)
    street = street.with_layers(roads=roads)
    atoms = make_atoms(street, settings=Settings())
    # the compound (4 m inside the boundary ring road) and the strip around it
    comp = atoms[atoms["compound_id"] == "c0"]
    assert len(comp) == 1
    assert comp["households"].iloc[0] == street.buildings["households"].sum()


def test_big_compound_is_cut_between_buildings_never_through_one() -> None:
    street = block_street(
        xs=(), ys=(), community_x=None, compound_every=1, rows=4, cols=5, households=[60]
    )
    atoms = make_atoms(street, settings=Settings())
    _tiles(atoms, street.boundary_geom)
    assert atoms["split"].any()
    assert atoms["households"].max() <= 500
    # every building lies inside one atom (overlap with a second atom under 0.05 m²)
    b = np.asarray(street.buildings.geometry.values, dtype=object)
    tree = shapely.STRtree(np.asarray(atoms.geometry.values, dtype=object))
    i, j = tree.query(b, predicate="intersects")
    area = shapely.area(shapely.intersection(b[i], atoms.geometry.values[j]))
    per_building = np.bincount(i[area > 0.05], minlength=len(b))
    assert (per_building == 1).all()


def test_cells_cut_round_buildings_are_not_merged_back_above_the_maximum() -> None:
    # a dense compound of 20 buildings of 200 households: every cell cut round a
    # building is smaller than the sliver area, and merging them as slivers joined them
    # into atoms of 600 households, above the maximum, that no grid could hold
    street = block_street(
        xs=(), ys=(), community_x=None, compound_every=1, rows=4, cols=5, households=[200]
    )
    atoms = make_atoms(street, settings=Settings(sliver_area_m2=200_000))
    _tiles(atoms, street.boundary_geom)
    assert atoms["households"].max() == 200  # one building each
    # cells whose merged group stays within the maximum still merge (60 households each)
    small = block_street(
        xs=(), ys=(), community_x=None, compound_every=1, rows=4, cols=5, households=[60]
    )
    merged = make_atoms(small, settings=Settings(sliver_area_m2=200_000))
    assert merged["households"].max() <= 500
    assert (merged["households"] > 60).any()


def test_building_drawn_across_a_road_joins_the_atoms_on_both_sides() -> None:
    street = block_street(xs=(300.0,), ys=(), community_x=None, compound_every=0, households=[10])
    across = gpd.GeoDataFrame(
        {"building_id": ["x"], "households": [5], "population": [13.0]},
        geometry=[box(X0 + 290, Y0 + 290, X0 + 310, Y0 + 300)],
        crs=CRS,
    )
    b = gpd.GeoDataFrame(
        [*street.buildings.to_dict("records"), *across.to_dict("records")], crs=CRS
    )
    street = street.with_layers(buildings=b)
    atoms = make_atoms(street, settings=Settings())
    owner = building_atoms(street, atoms)
    atom = atoms.set_index("atom_id").geometry[owner.iloc[-1]]
    assert atom.contains(across.geometry.iloc[0])


def test_slivers_merge_into_the_longest_neighbour() -> None:
    street = block_street(xs=(300.0, 303.0), ys=(), community_x=None, compound_every=0)
    atoms = make_atoms(street, settings=Settings(sliver_area_m2=5000))
    assert atoms["area_m2"].min() >= 5000
    _tiles(atoms, street.boundary_geom)
    # without merging, the 3 m strip between the two roads stays an atom
    thin = make_atoms(street, settings=Settings(sliver_area_m2=0))
    assert thin["area_m2"].min() < 5000


def test_rivers_and_railways_cut() -> None:
    street = block_street(
        xs=(), ys=(), community_x=None, compound_every=0, river=True, rows=2, cols=2
    )
    atoms = make_atoms(street, settings=Settings(grid_min_compactness=0.0))
    assert len(atoms) == 3  # north bank, river, south bank
    assert len(make_atoms(street, settings=Settings())) == 3  # verges off by default
    # with grid_verge_cut="features" the river strip (a verge: no households, thin) is cut
    # where the footway crosses it, each piece going with the bank it shares most edge with
    verged = make_atoms(street, settings=Settings(grid_verge_cut="features"))
    assert len(verged) == 4
    pieces = verged[verged["attach"] >= 0]
    assert len(pieces) == 2 and (verged.loc[pieces["attach"], "households"] > 0).all()
    rail = gpd.GeoDataFrame(
        {"barrier_id": ["t"], "kind": ["railway"]},
        geometry=[LineString([(X0 + 450, Y0 - 10), (X0 + 450, Y0 + 700)])],
        crs=CRS,
    )
    street2 = street.with_layers(barriers=rail)
    assert len(make_atoms(street2, settings=Settings(grid_min_compactness=0.0))) == 2


def test_adjacency_is_by_shared_edge_only() -> None:
    a, b, c = box(0, 0, 1, 1), box(1, 0, 2, 1), box(1, 1, 2, 2)
    adj = adjacency(np.array([a, b, c], dtype=object))
    pairs = {(int(x), int(y)) for x, y in zip(adj["a"], adj["b"], strict=True)}
    assert pairs == {(0, 1), (1, 2)}  # a and c touch at a corner only
    assert np.allclose(adj["length_m"], 1.0)


def test_street_without_roads_is_one_atom() -> None:
    boundary = gpd.GeoDataFrame(geometry=[box(X0, Y0, X0 + 100, Y0 + 100)], crs=CRS)
    street = from_layers({"boundary": boundary}, crs=CRS)
    atoms = make_atoms(street, settings=Settings())
    assert len(atoms) == 1
    assert atoms["households"].iloc[0] == 0


def test_a_boundary_that_yields_no_land_is_a_clear_error(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """No faces inside the boundary: an InputError naming the boundary, never an
    IndexError (the app's pages catch planner errors and show the reason)."""
    import pytest

    from planner.errors import InputError
    from planner.grids import atoms as atoms_mod

    monkeypatch.setattr(
        atoms_mod, "_node", lambda lines, boundary: (lines, np.asarray([], dtype=object))
    )
    with pytest.raises(InputError, match="encloses no land"):
        make_atoms(block_street())
