"""Grid shape: boundary on features, compactness, verges (planner.grids.shape, _verges)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from grid_streets import CRS, X0, Y0, block_street
from shapely.geometry import box

from planner.grids.atoms import make_atoms
from planner.grids.division import divide
from planner.grids.rules import check_grids
from planner.grids.shape import feature_share, polsby_popper
from planner.settings import Settings

BEIJING = Path(__file__).parent / "data" / "beijing-haidian-xueyuanlu" / "map.osm"


def two_grids(split_x: float) -> gpd.GeoDataFrame:
    """The block street's 900 x 600 m outline cut in two at ``split_x``."""
    return gpd.GeoDataFrame(
        {"grid_id": [0, 1]},
        geometry=[
            box(X0, Y0, X0 + split_x, Y0 + 600),
            box(X0 + split_x, Y0, X0 + 900, Y0 + 600),
        ],
        crs=CRS,
    )


def test_polsby_popper_of_a_square_and_a_strip() -> None:
    pp = polsby_popper(np.array([box(0, 0, 10, 10), box(0, 0, 100, 1)], dtype=object))
    assert pp[0] == pytest.approx(np.pi / 4)
    assert pp[1] == pytest.approx(4 * np.pi * 100 / 202**2)


def test_feature_share_counts_internal_boundary_on_a_road_only() -> None:
    street = block_street(community_x=None)
    on_road = feature_share(two_grids(300.0), street)  # the road at x = 300
    assert on_road.internal_m == pytest.approx(600.0, abs=2.0)
    assert on_road.share == pytest.approx(1.0, abs=0.01)
    assert np.allclose(on_road.per_grid, 1.0, atol=0.01)
    off = feature_share(two_grids(150.0), street)  # through the middle of a block
    # only where the line crosses the road at y = 300 and the diagonal footway
    assert off.share < 0.05
    # 3 m from the road still counts (a wall beside it), 10 m does not
    assert feature_share(two_grids(302.5), street).share > 0.95
    assert feature_share(two_grids(340.0), street).share < 0.05  # 32 m from the wall


def test_rule_report_gives_the_share_and_lists_thin_grids() -> None:
    street = block_street(community_x=None)
    thin = gpd.GeoDataFrame(
        {"grid_id": [0, 1]},
        geometry=[box(X0, Y0, X0 + 900, Y0 + 20), box(X0, Y0 + 20, X0 + 900, Y0 + 600)],
        crs=CRS,
    )
    report = check_grids(thin, street, settings=Settings())
    check = report.check("compactness")
    assert check.passed  # a thin grid is a warning, not a failure
    assert len(check.violations) == 1
    v = check.violations[0]
    assert v.severity == "warning" and "compactness 0.0" in v.message and "below 0.1" in v.message
    assert "internal boundary on roads, walls, water or community lines" in str(check.figure)
    assert report.quality["feature_share"] < 0.1
    assert report.quality["grids_below_compactness_unforced"] == 1
    # with the reason the division writes, it is explained
    thin["shape_reason"] = ["", ""]
    thin.loc[0, "shape_reason"] = (
        "compactness 0.044 below 0.1: the grid is one atom, its shape is that of the roads "
        "and lines around it"
    )
    v = check_grids(thin, street, settings=Settings()).check("compactness").violations[0]
    assert v.severity == "explained"
    assert "网格只有一个网格单元" in v.render("zh")


def test_verges_go_with_the_block_they_ring() -> None:
    # one compound per block, 4 m inside the block: the 8 m ring between wall and road
    # centre line is a verge of Polsby-Popper about 0.03
    street = block_street(compound_every=1, community_x=None)
    s = Settings(grid_verge_cut="features")
    atoms = make_atoms(street, settings=s)
    attached = atoms[atoms["attach"] >= 0]
    assert len(attached) >= 6  # one ring per block
    target = atoms.loc[attached["attach"].to_numpy()]
    assert (target["compound_id"] != "").all()
    res = divide(street, settings=s, atoms=atoms)
    pp = res.grids["compactness"]
    assert pp.min() >= s.grid_min_compactness
    assert res.report.quality["feature_share"] > 0.99
    assert res.report.ok


def test_beijing_extract_boundaries_follow_features() -> None:
    from planner.load.sources import load_street

    street = load_street(BEIJING)
    res = divide(street)
    q = res.report.quality
    # before dedicated grids and feature cuts: 64 % (measured the same way)
    assert q["feature_share"] >= 0.9
    assert res.report.ok
    g = res.grids
    assert (g["kind"] == "dedicated").sum() >= 3
    assert set(g.loc[g["kind"] == "dedicated", "land_use"]) >= {"campus", "commercial"}
    assert g["feature_share"].notna().all()
    assert (g.loc[g["compactness"] < 0.1, "compactness"] > 0.02).all()
    # --- grids: thin grids repaired (before the repair: 2 below 0.1, lowest 0.067) ---
    assert any(n.startswith("shape repair:") for n in res.notes)
    assert q["grids_below_compactness"] <= 1
    assert q["compactness_min"] > 0.075
    # --- grids14: its one thin grid is forced by an atom (352 households, 0.067 alone) ---
    assert q["grids_below_compactness_unforced"] == 0
    thin = g[g["compactness"] < 0.1]
    assert thin["shape_reason"].str.contains("forced by the atoms").all()


def test_nearest_verge_cut_gives_compact_grids_on_the_demo() -> None:
    # "nearest" trades boundary on features for compactness (docs/readme/grids.md)
    from planner.load.sources import load_street

    street = load_street("demo")
    near = divide(street, settings=Settings(grid_verge_cut="nearest"))
    off = divide(street, settings=Settings())
    assert near.report.ok and off.report.ok
    assert near.report.quality["compactness_min"] > off.report.quality["compactness_min"]
    assert near.report.quality["grids_below_compactness"] < 4
    assert off.report.quality["feature_share"] > 0.95
    with pytest.raises(Exception, match="grid_verge_cut"):
        Settings(grid_verge_cut="diagonal")  # type: ignore[arg-type]
