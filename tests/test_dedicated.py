"""Dedicated grids (专属网格): land uses managed as units of their own (planner.grids.dedicated)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from grid_streets import CRS, X0, Y0, block_street
from shapely.geometry import box

from planner.grids.atoms import make_atoms
from planner.grids.dedicated import dedicated_areas
from planner.grids.division import divide
from planner.grids.rules import check_grids
from planner.settings import Settings
from planner.street import Street

#: The campus: the block x 300-600, y 0-300 (between the roads) and a 12 m strip of
#: the compound of the block west of it (x 8-292), which it must not take.
CAMPUS = box(X0 + 280, Y0 - 20, X0 + 600, Y0 + 300)
#: The one residential building on the campus (staff housing, 60 households).
STAFF = "b13"


def campus_street(*, kind: str = "campus") -> Street:
    """Six blocks (compounds in blocks 0, 2, 4); block 1 is a campus whose buildings
    hold no households but one (``b13``, 60 households)."""
    hh = [40] * 54
    hh[9:18] = [0] * 9
    hh[13] = 60
    street = block_street(households=hh, community_x=300.0)
    landuse = gpd.GeoDataFrame(
        {"landuse_id": ["u1"], "kind": [kind], "name": ["农业大学"]}, geometry=[CAMPUS], crs=CRS
    )
    return replace(street, landuse=landuse)


def test_a_campus_is_a_grid_of_its_own_along_its_outline() -> None:
    street = campus_street()
    s = Settings(dedicated_min_area_m2=50_000)
    res = divide(street, settings=s)
    assert res.report.ok, res.report.to_text()
    g = res.grids
    ded = g[g["kind"] == "dedicated"]
    assert len(ded) == 1
    row = ded.iloc[0]
    assert row["land_use"] == "campus"
    assert row["households"] == 0
    assert row["code"] and row["code"] in set(g["code"])  # coded like any grid
    assert "dedicated grid (campus)" in row["reason"]
    # the campus's non-residential buildings are all in it, the staff housing is not
    b = street.buildings.set_index("building_id")
    campus_b = [f"b{i}" for i in range(9, 18) if i != 13]
    holder = res.building_atom.set_axis(street.buildings["building_id"])
    atom_grid = res.atoms.set_index("atom_id")["grid_id"]
    assert set(atom_grid[holder[campus_b]]) == {row["grid_id"]}
    staff_grid = atom_grid[holder[STAFF]]
    assert g.set_index("grid_id").loc[staff_grid, "kind"] == "residential"
    # it follows the outline: inside the campus polygon (less the compound) and most of it
    geom = row.geometry
    assert geom.difference(CAMPUS.buffer(0.5)).area < 1.0
    assert geom.area > 0.6 * CAMPUS.intersection(street.boundary_geom).area
    assert b.loc[STAFF, "households"] == 60


def test_a_campus_never_absorbs_or_cuts_a_compound() -> None:
    street = campus_street()
    res = divide(street, settings=Settings(dedicated_min_area_m2=50_000))
    ded = res.grids[res.grids["kind"] == "dedicated"].union_all()
    c0 = street.compounds.set_index("compound_id").loc["c0"].geometry
    assert c0.intersects(CAMPUS)  # the land-use polygon overlaps the compound ...
    assert ded.intersection(c0).area < 1.0  # ... the dedicated grid does not
    assert res.report.check("compounds_whole").passed


def test_residential_grids_keep_the_bounds_and_dedicated_ones_are_exempt() -> None:
    street = campus_street()
    s = Settings(dedicated_min_area_m2=50_000)
    res = divide(street, settings=s)
    check = res.report.check("households_in_range")
    assert "1 dedicated grids exempt" in str(check.figure)
    assert not [v for v in check.violations if "dedicated" in v.message]
    # the proof of a file without the kind column treats every grid as residential
    plain = res.grids.drop(columns=["kind", "reason"])
    report = check_grids(plain, street, settings=s)
    assert not report.check("households_in_range").passed


def test_a_single_building_above_the_maximum_gets_its_own_reason() -> None:
    # the campus's units are numbered afresh after the reasons are found: the reason
    # of the 600-household building must stay on its own grid, not move to another
    street = campus_street()
    b = street.buildings.copy()
    b.loc[b["building_id"] == "b50", "households"] = 600
    res = divide(street.with_layers(buildings=b), settings=Settings(dedicated_min_area_m2=50_000))
    holder = res.building_atom.set_axis(street.buildings["building_id"])
    grid = res.atoms.set_index("atom_id")["grid_id"][holder["b50"]]
    g = res.grids.set_index("grid_id")
    assert "cannot be cut between buildings" in g.loc[grid, "reason"]
    alone = g["reason"].str.contains("cannot be cut between buildings")
    assert list(g.index[alone]) == [grid]


def test_settings_choose_the_kinds_and_the_size() -> None:
    street = campus_street()
    area = CAMPUS.intersection(street.boundary_geom).area
    none_kind = Settings(dedicated_kinds=("hospital",))
    assert len(dedicated_areas(street, settings=none_kind)) == 0
    too_small = Settings(dedicated_min_area_m2=area * 2, dedicated_min_floor_area_m2=0)
    assert len(dedicated_areas(street, settings=too_small)) == 0
    res = divide(street, settings=too_small)
    assert (res.grids["kind"] == "residential").all()
    # floor area alone qualifies it: 8 buildings of about 1,100 m² footprint x 6 storeys
    by_floor = Settings(dedicated_min_area_m2=area * 2, dedicated_min_floor_area_m2=1_000)
    areas = dedicated_areas(street, settings=by_floor)
    assert list(areas["land_use"]) == ["campus"]
    assert areas["floor_area_m2"].iloc[0] > 1_000
    with pytest.raises(Exception, match="dedicated_min_area_m2"):
        Settings(dedicated_min_area_m2=-1)


def test_atoms_carry_the_dedicated_area_and_staff_housing_leaves_it() -> None:
    street = campus_street(kind="hospital")
    atoms = make_atoms(street, settings=Settings(dedicated_min_area_m2=50_000))
    ded = atoms[atoms["dedicated"] != ""]
    assert set(ded["dedicated_use"]) == {"hospital"}
    assert (ded["households"] == 0).all()
    assert atoms.loc[atoms["households"] > 0, "dedicated"].eq("").all()
    assert int(atoms.loc[atoms["households"] == 60].shape[0]) == 1


def test_demo_street_has_its_parks_schools_and_offices_as_dedicated_grids() -> None:
    from planner.load.sources import load_street

    street = load_street("demo")
    res = divide(street)
    g = res.grids
    ded = g[g["kind"] == "dedicated"]
    assert len(ded) >= 5
    assert set(ded["land_use"]) <= set(Settings().dedicated_kinds)
    assert (ded["households"] == 0).all()
    assert res.report.ok
    assert np.isin(g["kind"], ["residential", "dedicated"]).all()


def test_tables_and_exports_carry_the_kind(tmp_path: Path) -> None:
    from planner.app.services import grid_table
    from planner.export.geojson import write_geojson

    street = campus_street()
    res = divide(street, settings=Settings(dedicated_min_area_m2=50_000))
    zh = grid_table(res.grids, None, lang="zh")
    assert set(zh["网格类型"]) == {"居住网格", "专属网格"}
    assert "campus" in set(zh["用地"])
    en = grid_table(res.grids, None, lang="en")
    assert set(en["Kind"]) == {"residential", "dedicated"}
    path = tmp_path / "grids.geojson"
    write_geojson(res.grids, path)
    back = gpd.read_file(path)
    assert set(back["kind"]) == {"residential", "dedicated"}
    assert back.loc[back["kind"] == "dedicated", "land_use"].tolist() == ["campus"]
    # the proof of the exported file (WGS84) still exempts the dedicated grid
    report = check_grids(back, street, settings=Settings(dedicated_min_area_m2=50_000))
    assert report.check("households_in_range").passed
