"""Siting on the demo street, end to end through the coverage engine."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from planner.coverage.figures import compute_coverage
from planner.load.sources import load_street
from planner.settings import Settings
from planner.siting import maximal_coverage
from planner.siting.scenario import (
    build_problem,
    compare_scenarios,
    scenario_from_tables,
    scenario_to_tables,
    site_street,
)


@pytest.fixture(scope="module")
def demo() -> object:
    return load_street("demo")


@pytest.fixture(scope="module")
def k3(demo: object) -> object:
    return site_street(demo, k=3)


def test_k_new_stations_raise_coverage(k3: object) -> None:
    plan = k3.plan  # type: ignore[attr-defined]
    assert plan.feasible and plan.method == "mip" and plan.optimality_gap == 0.0
    assert plan.households_covered_after > plan.households_covered_before
    assert plan.greedy_households_covered_after <= plan.households_covered_after
    sites = k3.sites  # type: ignore[attr-defined]
    assert 1 <= len(sites) <= 3
    assert sites["rank"].tolist() == list(range(1, len(sites) + 1))
    assert sites["households_newly_covered"].sum() == pytest.approx(plan.households_newly_covered)
    assert np.all(
        sites["recommended_floor_area_m2"] == np.round(sites["households_served"] * 0.3, 1)
    )


def test_figures_agree_with_the_coverage_engine(k3: object) -> None:
    street = k3.figures[k3.figures["level"] == "street"].iloc[0]  # type: ignore[attr-defined]
    plan = k3.plan  # type: ignore[attr-defined]
    assert street["households_covered_before"] == plan.households_covered_before
    # the coverage engine, run again with the proposed stations, sees the same gain
    assert street["households_covered_after"] == plan.households_covered_after
    comm = k3.figures[k3.figures["level"] == "community"]  # type: ignore[attr-defined]
    assert comm["households_newly_covered"].sum() == plan.households_newly_covered
    assert k3.notes == []  # type: ignore[attr-defined]


def _coverage_with_sites(street: object, sites: gpd.GeoDataFrame, settings: Settings) -> object:
    """Coverage recomputed from scratch with ``sites`` added as stations."""
    import pandas as pd

    new = gpd.GeoDataFrame(
        {"station_id": sites["site_id"].to_numpy(), "name": "new", "kind": "community_station"},
        geometry=sites.geometry.to_numpy(),
        crs=sites.crs,
    )
    st = street.stations  # type: ignore[attr-defined]
    both = gpd.GeoDataFrame(pd.concat([st, new], ignore_index=True), crs=st.crs)
    return compute_coverage(street.with_layers(stations=both), settings=settings)  # type: ignore[attr-defined]


def test_after_figures_without_second_run_match_coverage_with_the_sites(demo: object) -> None:
    from planner.coverage.figures import area_figures

    s = Settings()
    cov = compute_coverage(demo, settings=s)
    r = site_street(demo, cov, k=2, settings=s, after_coverage=False)
    assert len(r.sites) > 0 and r.coverage_after is None
    after = area_figures(_coverage_with_sites(demo, r.sites, s))  # type: ignore[arg-type]
    want = after.set_index(["level", "id"])["households_covered_15"]
    got = r.figures.set_index(["level", "id"])["households_covered_after"]
    assert got.to_dict() == want.loc[got.index].to_dict()
    street = r.figures[r.figures["level"] == "street"].iloc[0]
    assert street["households_newly_covered"] == r.plan.households_newly_covered > 0


def test_before_matrix_equals_coverage_times(demo: object) -> None:
    s = Settings()
    cov = compute_coverage(demo, settings=s)
    problem, _c, _d = build_problem(demo, cov, settings=s)
    covered = cov.buildings["covered_15"].to_numpy()
    assert np.array_equal(problem.covered_before, covered)


def test_spacing_and_exclusion_are_respected(demo: object, k3: object) -> None:
    first = k3.sites.geometry.iloc[0]  # type: ignore[attr-defined]
    exclusion = gpd.GeoSeries([first.buffer(150)], crs=demo.crs)  # type: ignore[attr-defined]
    s = Settings(min_station_spacing_m=600)
    r = site_street(demo, k=3, exclusion=exclusion, settings=s, after_coverage=False)
    pts = r.sites.geometry.to_numpy()
    assert not shapely.intersects(exclusion.iloc[0], pts).any()
    d = shapely.distance(pts[:, None], pts[None, :])
    assert np.all(d[~np.eye(len(pts), dtype=bool)] >= 600)
    st = compute_coverage(demo, settings=s).stations.geometry.to_numpy()
    assert np.all(shapely.distance(pts[:, None], st[None, :]) >= 600)


def test_fewest_stations_reach_the_target_and_one_fewer_cannot(demo: object) -> None:
    s = Settings()
    r = site_street(demo, target_share=0.99, settings=s, after_coverage=False)
    plan = r.plan
    assert plan.feasible
    assert plan.households_covered_after >= np.ceil(0.99 * plan.households_total)
    cov = compute_coverage(demo, settings=s)
    problem, _c, _d = build_problem(demo, cov, settings=s)
    fewer = maximal_coverage(problem, len(r.sites) - 1)
    assert fewer.optimality_gap == 0.0
    assert fewer.households_covered_after < np.ceil(0.99 * plan.households_total)


def test_unreachable_target_names_the_households(demo: object) -> None:
    far = gpd.GeoDataFrame(
        {"candidate_id": ["only"]},
        geometry=[demo.stations.geometry.iloc[0]],  # type: ignore[attr-defined]
        crs=demo.crs,  # type: ignore[attr-defined]
    )
    r = site_street(demo, target_share=1.0, candidates=far, after_coverage=False)
    assert not r.plan.feasible
    assert "cannot be reached" in r.plan.message
    assert r.buildings["unreachable"].any()


def test_scenarios_round_trip_and_compare(demo: object, k3: object) -> None:
    other = site_street(demo, k=1, name="一个新站", after_coverage=False)
    tables = {**scenario_to_tables(k3), **scenario_to_tables(other)}  # type: ignore[arg-type]
    saved = scenario_from_tables(tables)
    assert sorted(s.name for s in saved) == sorted(["scenario", "一个新站"])
    table = compare_scenarios(saved)
    assert set(table["stations_proposed"]) == {len(k3.sites), 1}  # type: ignore[attr-defined]


def test_scenarios_saved_side_by_side_in_the_project_file(demo: object, tmp_path: object) -> None:
    from planner.grids.division import divide
    from planner.grids.edits import GridEditor
    from planner.grids.project import open_project, save_project

    s = Settings()
    editor = GridEditor.from_result(demo, divide(demo, settings=s), settings=s)
    grids = editor.grids
    a = site_street(demo, k=1, grids=grids, name="one station")
    b = site_street(demo, k=2, grids=grids, name="two stations")
    # per-grid figures before/after, adding up to the street's gain
    g = b.figures[b.figures["level"] == "grid"]
    assert len(g) == len(grids)
    assert g["households_newly_covered"].sum() == b.plan.households_newly_covered
    path = save_project(
        tmp_path / "work.gpkg",  # type: ignore[operator]
        editor,
        extra={**scenario_to_tables(a), **scenario_to_tables(b)},
    )
    back = scenario_from_tables(open_project(path).extra)
    by_name = {sc.name: sc for sc in back}
    assert set(by_name) == {"one station", "two stations"}
    assert len(by_name["two stations"].sites) == len(b.sites)
    assert by_name["two stations"].summary["households_covered_after"] == (
        b.plan.households_covered_after
    )
    table = compare_scenarios(back)
    assert sorted(table["stations_proposed"]) == sorted([len(a.sites), len(b.sites)])


def test_capacity_caps_households_served(demo: object) -> None:
    s = Settings(station_capacity_households=1500)
    r = site_street(demo, k=2, settings=s, after_coverage=False)
    assert (r.sites["households_served"] <= 1500).all()
    # a building's households may be split between stations: check the total
    n_stations = len(r.coverage_before.stations) + len(r.sites)
    assert r.buildings["households_served"].sum() <= 1500 * n_stations
    assert (r.buildings["households_served"] <= r.buildings["households"]).all()
    assert r.summary()["households_served_within_capacity"] == pytest.approx(
        r.buildings["households_served"].sum()
    )
    assert (r.sites["recommended_floor_area_m2"] == r.sites["households_served"] * 0.3).all()


def test_sites_are_planned_for_the_gap_threshold_not_the_largest(demo: object) -> None:
    s = Settings(thresholds_min=(5.0, 10.0, 15.0, 20.0), gap_minutes=15.0)
    r = site_street(demo, k=1, settings=s, after_coverage=False)
    assert r.threshold_min == 15.0
    assert r.summary()["threshold_min"] == 15.0
