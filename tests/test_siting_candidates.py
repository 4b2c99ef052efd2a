"""Candidate sites: generation on the network, POIs, exclusion and spacing rules."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Point, box

from planner.siting import candidates as C

CRS = "EPSG:32649"


def edges_layer() -> gpd.GeoDataFrame:
    """A 1 km street along x (public), and a compound path (internal)."""
    return gpd.GeoDataFrame(
        {
            "u": [0, 2],
            "v": [1, 3],
            "name": ["长安路", ""],
            "compound_id": ["", "C1"],
        },
        geometry=[LineString([(0, 0), (1000, 0)]), LineString([(0, 50), (1000, 50)])],
        crs=CRS,
    )


def test_network_candidates_are_on_public_links_near_gaps_and_thinned() -> None:
    targets = np.array([Point(100, 10)], dtype=object)
    out = C.network_candidates(
        edges_layer(),
        boundary=box(-10, -10, 1010, 100),
        targets=targets,
        reach_m=300,
        spacing_m=100,
    )
    xy = shapely.get_coordinates(out.geometry.to_numpy())
    assert len(out) > 0
    assert np.all(xy[:, 1] == 0)  # never on the compound's internal path
    assert np.all(np.hypot(xy[:, 0] - 100, xy[:, 1] - 10) <= 300)  # near the gap
    cells = {tuple(c) for c in np.floor(xy / 100).astype(int)}
    assert len(cells) == len(out)  # at most one per spacing cell
    assert out["name"].str.startswith("长安路").all()
    assert (out["source"] == "network").all()


def test_network_candidates_stay_inside_the_street() -> None:
    out = C.network_candidates(
        edges_layer(),
        boundary=box(-10, -10, 500, 100),
        targets=np.array([Point(480, 0)], dtype=object),
        reach_m=300,
        spacing_m=50,
    )
    assert shapely.get_coordinates(out.geometry.to_numpy())[:, 0].max() < 500


def test_poi_candidates_take_suitable_kinds_inside_the_street() -> None:
    pois = gpd.GeoDataFrame(
        {
            "poi_id": ["a", "b", "c"],
            "name": ["空置商铺", "银行", "社区活动室"],
            "kind": ["vacant_shop", "bank", "community_room"],
            "in_street": [True, True, False],
        },
        geometry=[Point(0, 0), Point(1, 1), Point(2, 2)],
        crs=CRS,
    )
    out = C.poi_candidates(pois)
    assert out["candidate_id"].tolist() == ["a"]


def test_available_buildings_become_candidates() -> None:
    b = gpd.GeoDataFrame(
        {"building_id": ["b1", "b2"], "name": ["", ""], "available": ["是", "no"]},
        geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10)],
        crs=CRS,
    )
    out = C.available_buildings(b)
    assert out["candidate_id"].tolist() == ["B:b1"]
    assert out.geometry.iloc[0].within(box(0, 0, 10, 10))


def test_exclusion_and_spacing_to_existing_stations() -> None:
    cands = C.user_candidates(
        gpd.GeoDataFrame(
            {"candidate_id": ["x", "y", "z"]},
            geometry=[Point(0, 0), Point(100, 0), Point(500, 0)],
            crs=CRS,
        ),
        crs=CRS,
    )
    stations = gpd.GeoDataFrame({"station_id": ["s"]}, geometry=[Point(0, 10)], crs=CRS)
    kept, dropped = C.filter_candidates(
        cands, stations=stations, min_spacing_m=50, exclusion=box(450, -10, 550, 10)
    )
    assert kept["candidate_id"].tolist() == ["y"]
    reasons = dict(zip(dropped["candidate_id"], dropped["reason"], strict=True))
    assert "existing station" in reasons["x"]
    assert "exclusion" in reasons["z"]


def test_spacing_conflicts_are_pairs_closer_than_the_spacing() -> None:
    cands = gpd.GeoDataFrame(
        {"candidate_id": list("abcd")},
        geometry=[Point(0, 0), Point(30, 0), Point(100, 0), Point(300, 0)],
        crs=CRS,
    )
    pairs = C.spacing_conflicts(cands, min_spacing_m=100)
    # a-b (30 m) and b-c (70 m) conflict; a-c is exactly 100 m apart: allowed
    assert sorted(map(tuple, pairs.tolist())) == [(0, 1), (1, 2)]
    assert C.spacing_conflicts(cands, min_spacing_m=0).shape == (0, 2)


def test_combine_makes_ids_unique() -> None:
    a = C.user_candidates(
        gpd.GeoDataFrame({"candidate_id": ["p1"]}, geometry=[Point(0, 0)], crs=CRS), crs=CRS
    )
    out = C.combine(a, a, crs=CRS)
    assert out["candidate_id"].tolist() == ["p1", "p1#2"]
    assert isinstance(out, gpd.GeoDataFrame) and isinstance(out["source"], pd.Series)
