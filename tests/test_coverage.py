"""Coverage figures: per street/community/grid, per station, margins, kinds, edge cases."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from planner.coverage.figures import (
    area_figures,
    assign_grids,
    compute_coverage,
    covered_column,
    station_figures,
    summary,
    uncovered_compounds,
)
from planner.settings import Settings
from tests.coverage_streets import network_layers, points, squares, street
from tests.test_routing import reference_graph

SPEED = Settings().walk_m_per_min


def _line_street(stations, **kw):
    """A 3 km road along y=0 with five buildings at x = 0, 500, 1000, 2000, 3000."""
    nodes, edges = network_layers([(0, 0), (1500, 0), (3000, 0)], [(0, 1), (1, 2)])
    b = squares(
        [(0, 10), (500, 10), (1000, 10), (2000, 10), (3000, 10)],
        building_id=["b0", "b500", "b1000", "b2000", "b3000"],
        households=[10, 20, 30, 40, 50],
        population=[26.0, 52.0, 78.0, 104.0, 130.0],
        kind="residential",
        community_id=["west", "west", "west", "east", "east"],
        compound_id=["", "", "", "k2", "k3"],
    )
    communities = squares(
        [(750, 0), (2500, 0)], size=1500, community_id=["west", "east"], name=["西社区", "东社区"]
    )
    compounds = squares(
        [(2000, 10), (3000, 10)],
        size=40,
        compound_id=["k2", "k3"],
        name=["二号院", "三号院"],
        community_id=["east", "east"],
        gated=[False, False],
    )
    return street(
        nodes,
        edges,
        buildings=b,
        stations=stations,
        communities=communities,
        compounds=compounds,
        **kw,
    )


def test_figures_per_street_and_community() -> None:
    st = _line_street(points([(0, 0)], station_id=["s"], floor_area_m2=[600.0]))
    cov = compute_coverage(st)
    t = dict(zip(cov.buildings["building_id"], cov.buildings["time_min"], strict=True))
    assert t["b1000"] == pytest.approx(15.0)
    assert t["b2000"] == pytest.approx(30.0)
    s = summary(cov)
    assert s["households_total"] == 150 and s["buildings_total"] == 5
    assert s["households_covered"] == {"5": 10, "10": 30, "15": 60}
    assert s["buildings_covered"] == {"5": 1, "10": 2, "15": 3}
    assert "4 km/h" in s["walking_speed_note"]
    fig = area_figures(cov).set_index("id")
    assert fig.loc["street", "households_covered_15"] == 60
    assert fig.loc["west", "households_covered_15"] == 60
    assert fig.loc["west", "households_share_15_pct"] == 100.0
    assert fig.loc["east", "households_covered_15"] == 0
    assert fig.loc["east", "population_covered_15"] == 0
    assert fig.loc["west", "name"] == "西社区"
    # floor area norm: max(500, 30 per 100 households)
    assert fig.loc["west", "floor_area_norm_m2"] == 500.0
    assert fig.loc["west", "station_floor_area_m2"] == 600.0
    assert bool(fig.loc["west", "floor_area_ok"]) is True


def test_community_without_station_has_zero_floor_area_and_fails_the_norm(
    tmp_path: Path,
) -> None:
    st = _line_street(
        points([(0, 0), (100, 0)], station_id=["s", "t"], floor_area_m2=[600.0, np.nan])
    )
    fig = area_figures(compute_coverage(st))
    assert pd.api.types.is_integer_dtype(fig["stations"])
    c = fig[fig["level"] == "community"].set_index("id")
    assert c.loc["west", "stations"] == 2 and c.loc["east", "stations"] == 0
    # no station: 0 m² against the 500 m² minimum, not blank
    assert c.loc["east", "station_floor_area_m2"] == 0.0
    assert not pd.isna(c.loc["east", "floor_area_ok"])
    assert bool(c.loc["east", "floor_area_ok"]) is False
    # a station of unknown size leaves the community's floor area known (600 + unknown = 600)
    assert c.loc["west", "station_floor_area_m2"] == 600.0
    path = tmp_path / "c.csv"
    fig.to_csv(path, index=False)
    text = path.read_text(encoding="utf-8").splitlines()
    head = text[0].split(",")
    east = next(line.split(",") for line in text if line.startswith("community,east"))
    assert east[head.index("stations")] == "0"  # an integer, not 0.0
    assert east[head.index("floor_area_ok")] == "False"


def test_station_figures_and_uncovered_compounds() -> None:
    st = _line_street(
        points([(0, 0), (2900, 0)], station_id=["w", "e"], floor_area_m2=[20.0, np.nan])
    )
    cov = compute_coverage(st)
    sf = station_figures(cov).set_index("station_id")
    # w is nearest for b0, b500, b1000 (60 households); e for b2000, b3000 (90)
    assert sf.loc["w", "households_served"] == 60
    assert sf.loc["e", "households_served"] == 90
    assert sf.loc["e", "households_served_15"] == 90  # 900 m and 100 m
    assert sf.loc["w", "floor_area_per_100_households_m2"] == pytest.approx(33.3)
    assert bool(sf.loc["w", "floor_area_ok"]) is True
    assert pd.isna(sf.loc["e", "floor_area_ok"])
    assert uncovered_compounds(cov).empty
    only_w = compute_coverage(_line_street(points([(0, 0)], station_id=["w"])))
    unc = uncovered_compounds(only_w)
    assert unc["compound_id"].tolist() == ["k3", "k2"]
    assert unc["nearest_station_id"].tolist() == ["w", "w"]
    assert unc["time_min"].tolist() == pytest.approx([45.0, 30.0])
    assert unc["name"].tolist() == ["三号院", "二号院"]


def test_margin_stations_counted_separately_and_switchable() -> None:
    boundary = squares([(1500, 0)], size=3200, street_id=["x"])
    nodes, edges = network_layers(
        [(0, 0), (1500, 0), (3000, 0), (4000, 0)], [(0, 1), (1, 2), (2, 3)]
    )
    b = squares([(3000, 10)], households=[50], kind="residential", building_id=["edge"])
    stations = points([(0, 0), (3900, 0)], station_id=["in", "out"], in_street=[True, False])
    st = street(nodes, edges, buildings=b, stations=stations, boundary=boundary)
    cov = compute_coverage(st)
    row = cov.buildings.iloc[0]
    assert row["station_id"] == "out" and bool(row["via_margin"])
    s = summary(cov)
    assert s["households_covered"]["15"] == 50
    assert s["households_via_margin_15"] == 50
    assert s["stations_in_margin"] == 1
    fig = area_figures(cov).set_index("id")
    assert fig.loc["street", "households_via_margin_15"] == 50
    off = compute_coverage(st, settings=Settings(count_margin_stations=False))
    assert summary(off)["households_covered"]["15"] == 0
    assert off.buildings["station_id"].iloc[0] == "in"


def test_buildings_outside_the_boundary_are_not_counted() -> None:
    boundary = squares([(350, 0)], size=900, street_id=["x"])
    st = _line_street(points([(0, 0)], station_id=["s"]), boundary=boundary)
    cov = compute_coverage(st)
    assert sorted(cov.buildings["building_id"]) == ["b0", "b500"]


def test_service_kinds_setting_decides_which_stations_count() -> None:
    stations = points(
        [(0, 0), (2000, 0)],
        station_id=["party", "shop"],
        kind=["community_station", "convenience_point"],
    )
    st = _line_street(stations)
    assert summary(compute_coverage(st))["stations"] == 1
    wide = Settings(service_kinds=("community_station", "convenience_point"))
    cov = compute_coverage(st, settings=wide)
    assert summary(cov)["households_covered"]["15"] == 150


def test_zero_stations_all_uncovered_with_clear_message() -> None:
    cov = compute_coverage(_line_street(None))
    s = summary(cov)
    assert s["stations"] == 0
    assert s["households_covered"] == {"5": 0, "10": 0, "15": 0}
    assert any("no service station" in p.message for p in cov.problems)
    assert np.isinf(cov.buildings["time_min"]).all()
    unc = uncovered_compounds(cov)
    assert unc["nearest_station_id"].tolist() == ["", ""]
    assert station_figures(cov).empty
    # uncovered for lack of stations, not stranded on a piece the network cut off
    assert s["households_stranded"] == 0
    assert cov.components["households_stranded"].sum() == 0


def test_station_on_a_disconnected_piece() -> None:
    # piece A: road y=0 with the households; piece B: a separate path with the station
    nodes, edges = network_layers([(0, 0), (1000, 0), (0, 500), (1000, 500)], [(0, 1), (2, 3)])
    b = squares(
        [(100, 10), (900, 490)],
        households=[70, 5],
        kind="residential",
        building_id=["stranded", "ok"],
    )
    st = street(nodes, edges, buildings=b, stations=points([(500, 500)], station_id=["s"]))
    cov = compute_coverage(st)
    t = dict(zip(cov.buildings["building_id"], cov.buildings["time_min"], strict=True))
    assert np.isinf(t["stranded"]) and t["ok"] == pytest.approx(400 / SPEED)
    s = summary(cov)
    assert s["households_stranded"] == 70
    assert s["network_pieces"] == 2
    assert any("no station can reach" in p.message for p in cov.problems)
    assert cov.components["households_stranded"].sum() == 70


def test_off_network_buildings_and_stations_are_reported() -> None:
    nodes, edges = network_layers([(0, 0), (100, 0)], [(0, 1)])
    b = squares(
        [(50, 5), (50, 900)], households=[3, 9], kind="residential", building_id=["near", "far"]
    )
    st = street(
        nodes, edges, buildings=b, stations=points([(0, 0), (0, 800)], station_id=["s", "lost"])
    )
    cov = compute_coverage(st)
    text = " ".join(p.message for p in cov.problems)
    assert "far" in text and "lost" in text
    assert summary(cov)["households_off_network"] == 9
    assert (
        bool(cov.buildings.loc[cov.buildings.building_id == "far", covered_column(15)].iloc[0])
        is False
    )


def test_grid_figures_by_representative_point() -> None:
    st = _line_street(points([(0, 0)], station_id=["s"]))
    grids = squares(
        [(500, 0), (2500, 0)], size=1000, code=["g1", "g2"], community_id=["west", "east"]
    )
    grids.loc[0, "geometry"] = shapely.box(-100, -100, 1200, 100)
    cov = compute_coverage(st)
    codes = assign_grids(cov.buildings, grids)
    # b2000 lies in g2; b3000 lies in no grid and takes the nearest one (g2)
    assert codes.tolist() == ["g1", "g1", "g1", "g2", "g2"]
    fig = area_figures(cov, grids=grids)
    g = fig[fig.level == "grid"].set_index("id")
    assert g.loc["g1", "households_covered_15"] == 60
    assert g.loc["g2", "households"] == 90
    assert g.loc["g2", "community_id"] == "east"


# ------------------------------------------------------------ demo street and real extract
REAL = Path(__file__).parent / "data" / "beijing-haidian-xueyuanlu"


def _networkx_check(cov) -> int:
    """Compare every node's time with networkx on an independently spliced graph."""
    net, snap = cov.net, cov.station_snap
    on_edge: dict[int, list[tuple[float, object]]] = {}
    for i in np.flatnonzero(snap.ok):
        on_edge.setdefault(int(snap.edge[i]), []).append((snap.offset_m[i], f"s{i}"))
    g = reference_graph(net.u, net.v, net.length_m, on_edge)
    g.add_nodes_from(range(net.n_nodes))
    ref = nx.multi_source_dijkstra_path_length(g, {f"s{i}" for i in np.flatnonzero(snap.ok)})
    want = np.array([ref.get(i, np.inf) for i in range(net.n_nodes)])
    got = cov.times.time_min[: net.n_nodes]
    assert np.array_equal(np.isinf(got), np.isinf(want))
    fin = np.isfinite(want)
    assert np.abs(got[fin] - want[fin]).max() < 1e-6
    return int(fin.sum())


@pytest.fixture(scope="module")
def demo_cov():
    from planner.load.sources import load_street

    return compute_coverage(load_street("demo"))


def test_demo_times_equal_networkx(demo_cov) -> None:
    assert _networkx_check(demo_cov) > 500


def test_demo_households_inside_circles_match_network_figures(demo_cov) -> None:
    cov = demo_cov
    union = cov.circle_builder().union_circles(cov.times, cov.thresholds)
    b = cov.buildings
    pts = b.geometry.centroid.to_numpy()
    hh = b["households"].to_numpy(dtype=float)
    for t in cov.thresholds:
        poly = union[union.minutes == t].geometry.iloc[0]
        inside = hh[shapely.contains(poly, pts)].sum()
        network = hh[b[covered_column(t)].to_numpy()].sum()
        assert network > 0
        assert abs(inside - network) / network < 0.02, (t, inside, network)


def test_real_extract_times_equal_networkx(tmp_path: Path) -> None:
    from planner.load.sources import load_street

    boundary = tmp_path / "boundary.geojson"
    gpd.GeoDataFrame(
        geometry=[shapely.box(116.347, 39.999, 116.357, 40.007)], crs="EPSG:4326"
    ).to_file(boundary)
    st = load_street(REAL / "map.osm.pbf", boundary=boundary)
    # stations part-way along every 40th public edge of the extract
    public = st.edges[st.edges["compound_id"] == ""].iloc[::40]
    pts = shapely.line_interpolate_point(public.geometry.to_numpy(), 0.37, normalized=True)
    stations = gpd.GeoDataFrame(
        {"station_id": [f"s{i}" for i in range(len(pts))]}, geometry=pts, crs=st.crs
    )
    cov = compute_coverage(st.with_layers(stations=stations))
    assert len(cov.stations) >= 5
    assert _networkx_check(cov) > 100


def test_unreached_compounds_have_blank_times_not_inf() -> None:
    unc = uncovered_compounds(compute_coverage(_line_street(None)))
    assert unc[["time_min", "time_max_min", "walk_m"]].isna().all().all()


def test_station_table_keeps_circle_columns_without_stations() -> None:
    cov = compute_coverage(_line_street(None))
    empty_circles = gpd.GeoDataFrame(
        {"station_id": [], "station": [], "minutes": [], "area_m2": []}, geometry=[], crs=None
    )
    sf = station_figures(cov, circles=empty_circles)
    assert len(sf) == 0
    assert {"circle_area_m2_5", "circle_area_m2_10", "circle_area_m2_15"} <= set(sf.columns)


def test_gap_threshold_names_the_uncovered_figures() -> None:
    st = _line_street(points([(0, 0)], station_id=["w"]))
    s20 = Settings(thresholds_min=(5, 10, 15, 20))
    cov = compute_coverage(st, settings=s20)
    # b1000 (1,000 m) is within 15 min; b2000 and b3000 are not, even within 20
    fig = area_figures(cov)
    assert fig.loc[0, "households_uncovered_15"] == 90
    assert "households_uncovered_20" not in fig.columns
    s = summary(cov)
    assert s["gap_minutes"] == 15.0 and s["households_uncovered_15"] == 90
    assert "households_via_margin_15" in s
    assert "households_served_15" in station_figures(cov).columns
    ten = compute_coverage(st, settings=s20.with_(gap_minutes=10))
    # at 10 minutes (667 m) b1000 is uncovered too, but it is in no compound
    assert area_figures(ten).loc[0, "households_uncovered_10"] == 120
    assert uncovered_compounds(ten)["compound_id"].tolist() == ["k3", "k2"]
