from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from planner import crs as pcrs
from planner.errors import InputError
from planner.load.sources import load_street
from planner.settings import Settings
from planner.street import Street

Make = Callable[..., Path]


def check_fixture_street(s: Street) -> None:
    """What every format of the fixture street must load to."""
    assert s.crs.to_epsg() == 32650
    assert s.name == "测试街道"
    assert s.report.counts["buildings"] == 4
    assert s.report.counts["compounds"] == 2
    assert s.report.counts["stations"] == 3
    b = s.buildings.set_index("building_id")
    assert b.loc["B1", "households"] == 40 and not b.loc["B1", "households_estimated"]
    assert b.loc["B1", "compound_id"] == "X1" and b.loc["B1", "community_id"] == "C1"
    assert b.loc["B3", "compound_id"] == "X2" and b.loc["B3", "community_id"] == "C2"
    assert b.loc["B4", "households"] == 0  # a shop
    st = s.stations.set_index("station_id")
    assert st.loc["S1", "kind"] == "community_station"  # Chinese label resolved
    assert st.loc["S2", "kind"] == "street_centre"
    assert st.loc["S3", "kind"] == "community_station"  # no kind given
    assert st["in_street"].to_dict() == {"S1": True, "S2": False, "S3": True}
    assert s.report.stations_in_street == 2 and s.report.stations_in_margin == 1
    assert "motorway" not in set(s.edges["highway"])
    assert (s.edges["u"] < s.edges["v"]).all()
    gates = s.gates.set_index("gate_id")
    assert (gates["node_id"] >= 0).all()
    assert s.nodes.loc[gates["node_id"], "is_gate"].all()
    assert len(s.report.network_components) == 1


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp"])
def test_each_layer_format_loads_the_same_street(make_folder: Make, fmt: str) -> None:
    s = load_street(make_folder(fmt=fmt))
    check_fixture_street(s)
    assert s.report.households_total == 40 + 80 + 133


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_stations_csv_in_utf8_bom_and_gbk(make_folder: Make, encoding: str) -> None:
    folder = make_folder(stations_csv=True, encoding=encoding)
    assert (folder / "stations.csv").exists()
    s = load_street(folder)
    check_fixture_street(s)
    assert set(s.stations["name"]) == {"一站", "中心", "三站"}


def test_household_estimation_from_floor_area_and_height(street_folder: Path) -> None:
    s = load_street(street_folder)
    b = s.buildings.set_index("building_id")
    # B2: 40 m x 30 m footprint x 6 floors / 90 m² per dwelling
    assert b.loc["B2", "households"] == 80 and b.loc["B2", "households_estimated"]
    # B3: 30 m high / 3 m per storey = 10 floors; 1,200 m² x 10 / 90 = 133.3
    assert b.loc["B3", "floors"] == 10
    assert b.loc["B3", "households"] == 133 and b.loc["B3", "households_estimated"]
    assert b.loc["B2", "population"] == pytest.approx(80 * 2.62)
    assert s.report.households_estimated == 213
    assert any("estimated" in d for d in s.report.derived)
    s2 = load_street(street_folder, settings=Settings(dwelling_size_m2=120, floor_height_m=2.5))
    b2 = s2.buildings.set_index("building_id")
    assert b2.loc["B2", "households"] == 60
    assert b2.loc["B3", "floors"] == 12 and b2.loc["B3", "households"] == 120


def test_default_floors_for_buildings_without_floors_or_height(
    layers: dict, make_folder: Make
) -> None:
    layers["buildings"] = layers["buildings"].assign(floors=None, height_m=None)
    s = load_street(make_folder(layers), settings=Settings(default_floors=3))
    b = s.buildings.set_index("building_id")
    assert b.loc["B2", "households"] == 40  # 1,200 m² x 3 / 90
    assert any("assumed 3 storeys" in d for d in s.report.derived)


def test_building_kind_unknown_inside_compound_counts_as_residential(
    layers: dict, make_folder: Make
) -> None:
    layers["buildings"] = layers["buildings"].assign(kind=["yes", "apartments", "", "retail"])
    b = load_street(make_folder(layers)).buildings.set_index("building_id")
    assert b["kind"].to_dict() == {
        "B1": "residential",
        "B2": "residential",
        "B3": "residential",
        "B4": "shop",
    }


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_points_crs_converts_csv_stations_to_wgs84(
    layers: dict, tmp_path: Path, street_folder: Path, system: str
) -> None:
    w = layers["stations"].to_crs("EPSG:4326")
    lon, lat = pcrs.from_wgs84(w.geometry.x.to_numpy(), w.geometry.y.to_numpy(), system)  # type: ignore[arg-type]
    table = w.drop(columns="geometry").assign(经度=lon, 纬度=lat)
    path = tmp_path / "stations.csv"
    table.to_csv(path, index=False, encoding="gbk")
    s = load_street(street_folder, stations=path, points_crs=system)  # type: ignore[arg-type]
    got = s.stations.to_crs("EPSG:4326").set_index("station_id").loc[w["station_id"]]
    d = Geod(ellps="WGS84").inv(w.geometry.x, w.geometry.y, got.geometry.x, got.geometry.y)[2]
    assert np.max(d) < 1.0
    # declared as WGS84 the same file is hundreds of metres off
    s_wrong = load_street(street_folder, stations=path)
    bad = s_wrong.stations.to_crs("EPSG:4326").set_index("station_id")
    ref = w.set_index("station_id").loc[bad.index]
    assert len(bad) >= 1
    d_wrong = Geod(ellps="WGS84").inv(
        ref.geometry.x, ref.geometry.y, bad.geometry.x, bad.geometry.y
    )[2]
    assert np.min(d_wrong) > 100


def test_a_plain_list_of_points_is_a_stations_file(street_folder: Path, tmp_path: Path) -> None:
    path = tmp_path / "pts.csv"
    path.write_text("lng,lat\n116.3005,40.0020\n116.3030,40.0045\n", encoding="utf-8")
    s = load_street(street_folder, stations=path)
    assert len(s.stations) == 2
    assert set(s.stations["kind"]) == {"community_station"}
    assert s.stations["station_id"].is_unique
    assert s.stations["floor_area_m2"].isna().all()


def test_boundary_only_folder_loads_with_warnings(layers: dict, make_folder: Make) -> None:
    s = load_street(make_folder({"boundary": layers["boundary"]}))
    assert s.report.counts["buildings"] == 0
    assert len(s.communities) == 1  # derived: one community for the street
    assert s.communities["code"].iloc[0] == "001"
    assert any("no roads given" in str(p) for p in s.report.notes)
    assert "no roads given" in s.report.to_text()


def test_boundary_file_replaces_the_folder_boundary(
    layers: dict, make_folder: Make, tmp_path: Path
) -> None:
    from shapely.affinity import scale

    half = layers["boundary"].copy()
    half["geometry"] = half.geometry.map(lambda g: scale(g, 0.5, 1.0, origin=(g.bounds[0], 0)))
    path = tmp_path / "b.gpkg"
    half.to_file(path)
    s = load_street(make_folder(), boundary=path)
    assert s.report.area_km2 == pytest.approx(0.5, rel=1e-3)
    assert set(s.buildings["building_id"]) == {"B1", "B2", "B4"}


def test_margin_setting_limits_network_and_stations(street_folder: Path) -> None:
    s = load_street(street_folder, settings=Settings(margin_m=100))
    assert set(s.stations["station_id"]) == {"S1", "S3"}  # S2 is 300 m out
    assert any("S2" in str(p) for p in s.report.notes)
    xmin, _ymin, xmax, _ymax = s.edges.total_bounds
    b = s.boundary.total_bounds
    assert xmin >= b[0] - 100.01 and xmax <= b[2] + 100.01


def test_missing_demo_or_source_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        load_street(tmp_path / "nope")
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(InputError, match="not a folder and not an OpenStreetMap extract"):
        load_street(tmp_path / "x.txt")


def test_layers_are_in_utm_with_schema_columns(street_folder: Path) -> None:
    s = load_street(street_folder)
    from planner import schema

    for name in (
        "boundary",
        "communities",
        "compounds",
        "buildings",
        "nodes",
        "edges",
        "stations",
        "gates",
    ):
        gdf: gpd.GeoDataFrame = s.layer(name)
        assert gdf.crs == s.crs
        assert list(gdf.columns[: len(schema.column_names(name))]) == schema.column_names(name)
    assert s.compounds.set_index("compound_id")["community_id"].to_dict() == {
        "X1": "C1",
        "X2": "C2",
    }


REAL = Path(__file__).parent / "data" / "beijing-haidian-xueyuanlu"


def test_real_osm_extract_named_by_the_drawn_boundary(tmp_path: Path) -> None:
    """The OSM path through the loader (XML = PBF equality is tested in test_osm.py)."""
    from shapely.geometry import box

    boundary = tmp_path / "boundary.geojson"
    gpd.GeoDataFrame(
        {"name": ["学院路（测试边界）"]},
        geometry=[box(116.347, 39.999, 116.357, 40.007)],
        crs="EPSG:4326",
    ).to_file(boundary)
    pbf = load_street(REAL / "map.osm.pbf", boundary=boundary)
    assert pbf.name == "学院路（测试边界）"  # the drawn boundary names the street
    assert pbf.crs.to_epsg() == 32650
    assert pbf.report.area_km2 == pytest.approx(0.76, abs=0.02)
    assert pbf.report.counts["buildings"] > 20 and pbf.report.counts["edges"] > 100
    assert pbf.report.households_total > 0 and pbf.report.households_estimated > 0
    assert "OpenStreetMap" in pbf.attribution and "OpenStreetMap" in pbf.report.to_text()
    assert pbf.buildings.geometry.representative_point().within(pbf.boundary_geom).all()
    assert not pbf.nodes["in_street"].all()  # the network reaches into the margin


def test_stations_csv_with_chinese_headers(street_folder: Path, tmp_path: Path) -> None:
    path = tmp_path / "站点.csv"
    path.write_bytes(
        "编号,名称,类型,面积,开放时间,经度,纬度\n"
        "A1,阳光站,红色物业,85,9:00-17:00,116.3005,40.0020\n"
        "A2,便民点,便民服务点,,,116.3030,40.0045\n".encode("gbk")
    )
    st = load_street(street_folder, stations=path).stations.set_index("station_id")
    assert st.loc["A1", "name"] == "阳光站"
    assert st.loc["A1", "kind"] == "red_property"
    assert st.loc["A2", "kind"] == "convenience_point"
    assert st.loc["A1", "floor_area_m2"] == 85.0
    assert st.loc["A1", "opening_hours"] == "9:00-17:00"


@pytest.fixture(scope="module")
def demo() -> Street:
    return load_street("demo")


def test_demo_street_loads_at_the_scale_the_issue_asks(demo: Street) -> None:
    from planner import schema

    r = demo.report
    assert demo.synthetic and r.synthetic and "SYNTHETIC" in r.to_text()
    assert demo.meta["code_county"] == "610113" and demo.meta["code_street"] == "099"
    assert r.source == "demo" and demo.crs.to_epsg() // 100 == 326
    assert 3.0 <= r.area_km2 <= 6.0
    assert 4 <= r.counts["communities"] <= 6
    assert r.counts["compounds"] >= 40 and r.counts["buildings"] >= 600
    assert 15_000 <= r.households_total <= 25_000
    assert 12 <= r.counts["stations"] <= 20 and r.stations_in_margin >= 1
    assert set(demo.stations["kind"]) <= set(schema.STATION_KINDS)
    # one walking network reaching every building, gates on it
    assert len(r.network_components) == 1
    assert r.network_components[0]["buildings"] == r.counts["buildings"]
    assert (demo.gates["node_id"] >= 0).all() and demo.nodes["is_gate"].sum() >= len(demo.gates)
    assert (demo.buildings["community_id"] != "").all()
    comp = set(demo.compounds["compound_id"])
    assert set(demo.buildings["compound_id"]) - {""} <= comp
    assert not [p for p in r.notes if p.severity == "repair"]


def test_demo_compound_paths_meet_the_public_network_only_at_gates(demo: Street) -> None:
    e = demo.edges
    ends = pd.concat(
        [
            e[["u", "compound_id"]].set_axis(["n", "c"], axis=1),
            e[["v", "compound_id"]].set_axis(["n", "c"], axis=1),
        ]
    )
    kinds = ends.groupby("n")["c"].nunique()
    mixed = kinds.index[kinds > 1]
    assert len(mixed) > 0
    assert demo.nodes.loc[mixed, "is_gate"].all()


def test_largest_overlap_picks_the_zone_covering_most() -> None:
    from shapely.geometry import box

    from planner.load.sources import _largest_overlap

    zones = np.array([box(0, 0, 10, 10), box(10, 0, 20, 10)], dtype=object)
    ids = np.array(["A", "B"], dtype=object)
    geoms = np.array(
        [box(1, 1, 2, 2), box(8, 1, 14, 2), box(9, 1, 10.5, 2), box(30, 30, 31, 31)], dtype=object
    )
    assert _largest_overlap(geoms, zones, ids).tolist() == ["A", "B", "A", ""]


def test_osm_online_by_polygon_dispatches_to_fetch_place(
    monkeypatch: pytest.MonkeyPatch, street_folder: Path, layers: dict
) -> None:
    from planner.load import osm

    asked: list[object] = []

    def fake_fetch(
        polygon: object, *, margin_m: float, source: str | None = None
    ) -> dict[str, gpd.GeoDataFrame]:
        asked.append((polygon, margin_m))
        assert source == str(street_folder / "boundary.geojson")  # messages name the file
        return {k: v.to_crs("EPSG:4326") for k, v in layers.items() if k != "stations"}

    monkeypatch.setattr(osm, "fetch_place", fake_fetch)
    s = load_street(
        "osm", boundary=street_folder / "boundary.geojson", settings=Settings(margin_m=500)
    )
    ((polygon, margin),) = asked
    assert polygon.geom_type == "Polygon" and margin == 500  # type: ignore[attr-defined]
    assert s.name == "测试街道" and "OpenStreetMap" in s.attribution
    assert s.report.counts["buildings"] == 4
    with pytest.raises(InputError, match=r"no boundary was given.*--boundary"):
        load_street("osm")


SWAPPED = (
    '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
    '"geometry":{"type":"Polygon","coordinates":[[[34.2059,108.9],[34.2241,108.9],'
    "[34.2241,108.95],[34.2059,108.95],[34.2059,108.9]]]}}]}"
)
PROJECTED = (  # UTM metres without a crs member: not longitude/latitude
    '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
    '"geometry":{"type":"Polygon","coordinates":[[[500000,3790000],[501000,3790000],'
    "[501000,3791000],[500000,3790000]]]}}]}"
)


@pytest.mark.parametrize("text", [SWAPPED, PROJECTED], ids=["swapped", "projected"])
def test_unreadable_boundary_gives_one_error_not_also_missing(tmp_path: Path, text: str) -> None:
    (tmp_path / "boundary.geojson").write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_street(tmp_path)
    problems = err.value.problems
    assert len(problems) == 1 and "missing" not in str(err.value)
    assert problems[0].file == str(tmp_path / "boundary.geojson")
    with pytest.raises(InputError) as err:  # the same through --boundary for online OSM
        load_street("osm", boundary=tmp_path / "boundary.geojson")
    assert len(err.value.problems) == 1 and "gives no polygon" not in str(err.value)


def test_swapped_axes_message_prints_ranges_with_a_dash(tmp_path: Path) -> None:
    (tmp_path / "boundary.geojson").write_text(SWAPPED, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_street(tmp_path)
    assert "x runs 34.2059–34.2241, y runs 108.9000–108.9500" in str(err.value)


def test_empty_folder_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        load_street(tmp_path)
    assert err.value.problems[0].file == str(tmp_path)
    assert f"[file {tmp_path}] the street boundary is missing" in str(err.value)


def test_empty_csv_coordinate_is_called_empty(street_folder: Path, tmp_path: Path) -> None:
    path = tmp_path / "pts.csv"
    path.write_text("id,lon,lat\nS1,,40.0020\nS2,abc,40.0\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_street(street_folder, stations=path)
    text = str(err.value)
    assert "coordinate is empty" in text and "nan" not in text
    assert "coordinate 'abc' is not a number" in text


def test_shapefile_boundary_without_prj_gives_one_error(tmp_path: Path) -> None:
    from shapely.geometry import box

    gpd.GeoDataFrame(geometry=[box(500000, 3790000, 501000, 3791000)], crs="EPSG:32649").to_file(
        tmp_path / "boundary.shp"
    )
    (tmp_path / "boundary.prj").unlink()
    with pytest.raises(InputError) as err:
        load_street(tmp_path)
    assert len(err.value.problems) == 1 and "missing" not in str(err.value)
    assert "no coordinate reference system" in str(err.value)
