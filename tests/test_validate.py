"""Every bad input named in the loading issue gives its own clear message."""

import json
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.affinity import translate
from shapely.geometry import LineString, Polygon

from planner.errors import InputError
from planner.load.sources import load_street
from planner.load.validate import lonlat_swapped

Make = Callable[..., Path]


def test_lonlat_swapped_detection() -> None:
    assert lonlat_swapped([39.9, 40.0], [116.3, 116.4])  # latitude > 90
    assert lonlat_swapped([22.5], [114.0])  # Shenzhen swapped: lands outside China
    assert not lonlat_swapped([116.3], [39.9])
    assert not lonlat_swapped([2.35], [48.85])  # Paris stays as given


def test_unreadable_file_names_the_file(make_folder: Make) -> None:
    folder = make_folder()
    (folder / "buildings.geojson").write_text("{ this is not json", encoding="utf-8")
    with pytest.raises(InputError, match=r"buildings\.geojson.*cannot read the file"):
        load_street(folder)


def test_shapefile_without_prj_is_missing_crs(make_folder: Make) -> None:
    folder = make_folder(fmt="shp")
    (folder / "compounds.prj").unlink()
    with pytest.raises(InputError, match=r"compounds\.shp.*no coordinate reference system.*\.prj"):
        load_street(folder)


def test_projected_coordinates_in_geojson(layers: dict, make_folder: Make) -> None:
    folder = make_folder()
    # UTM metres written into a GeoJSON without any CRS member
    fc = json.loads(layers["compounds"].to_json(to_wgs84=False))
    fc.pop("crs", None)
    (folder / "compounds.geojson").write_text(json.dumps(fc), encoding="utf-8")
    with pytest.raises(InputError, match=r"compounds\.geojson.*not longitude/latitude.*RFC 7946"):
        load_street(folder)


def test_swapped_latitude_longitude_in_a_layer(layers: dict, make_folder: Make) -> None:
    folder = make_folder()
    st = layers["stations"].to_crs("EPSG:4326")
    st["geometry"] = st.geometry.map(lambda p: type(p)(p.y, p.x))
    (folder / "stations.geojson").unlink()
    st.set_crs("EPSG:4326", allow_override=True).to_file(folder / "stations.geojson")
    with pytest.raises(InputError, match=r"stations\.geojson.*latitude/longitude are swapped"):
        load_street(folder)


def test_swapped_columns_in_a_stations_csv(street_folder: Path, tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("name,longitude,latitude\n站,40.001,116.301\n", encoding="utf-8")
    with pytest.raises(InputError, match="longitude and latitude look swapped"):
        load_street(street_folder, stations=path)


def test_layer_far_from_the_street_points_at_its_crs(layers: dict, make_folder: Make) -> None:
    layers["buildings"] = layers["buildings"].set_geometry(
        layers["buildings"].geometry.translate(50_000, 0)
    )
    with pytest.raises(InputError, match=r"buildings\.geojson.*lies 4\d.\d km from the street"):
        load_street(make_folder(layers))


def test_invalid_polygon_is_repaired_and_degenerate_dropped(
    layers: dict, make_folder: Make
) -> None:
    b = layers["buildings"]
    x, y = 440_000 + 400, 4_428_000 + 400
    bowtie = Polygon([(x, y), (x + 20, y + 20), (x + 20, y), (x, y + 20)])
    flat = Polygon([(x, y + 50), (x + 20, y + 50), (x + 40, y + 50)])
    extra = gpd.GeoDataFrame(
        {"building_id": ["BOW", "FLAT"], "kind": ["shop", "shop"]},
        geometry=[bowtie, flat],
        crs=b.crs,
    )
    layers["buildings"] = gpd.GeoDataFrame(
        [*b.to_dict("records"), *extra.to_dict("records")], crs=b.crs
    )
    s = load_street(make_folder(layers))
    ids = set(s.buildings["building_id"])
    assert "BOW" in ids and "FLAT" not in ids
    assert s.buildings.set_index("building_id").loc["BOW"].geometry.is_valid
    notes = [str(p) for p in s.report.notes if p.severity == "repair"]
    assert any("make_valid" in n and "BOW" in n for n in notes)
    assert any("no area" in n and "FLAT" in n for n in notes)


def test_stations_and_buildings_outside_the_margin_are_reported(
    layers: dict, make_folder: Make
) -> None:
    st = layers["stations"]
    st.loc[1, "geometry"] = translate(st.geometry.iloc[1], 5_000, 0)  # S2 5 km east
    b = layers["buildings"]
    b.loc[3, "geometry"] = translate(b.geometry.iloc[3], 0, 8_000)  # B4 8 km north
    s = load_street(make_folder(layers))
    assert "S2" not in set(s.stations["station_id"])
    assert "B4" not in set(s.buildings["building_id"])
    text = s.report.to_text()
    assert "1 stations lie more than 1,000 m outside the street" in text and "S2" in text
    assert "1 buildings lie more than 1,000 m outside the street" in text and "B4" in text


def test_empty_walking_network_is_an_error(layers: dict, make_folder: Make) -> None:
    layers["roads"] = layers["roads"].assign(highway="motorway")
    with pytest.raises(InputError, match=r"roads\.geojson.*walking network is empty"):
        load_street(make_folder(layers))


def test_disconnected_network_is_reported_with_buildings_per_piece(
    layers: dict, make_folder: Make
) -> None:
    r = layers["roads"]
    layers["roads"] = r.loc[r["road_id"] != "g1"]  # compound X1 loses its gate link
    s = load_street(make_folder(layers))
    pieces = s.report.network_components
    assert len(pieces) == 2
    assert [p["buildings"] for p in pieces] == [2, 2]
    assert pieces[1]["households"] == 40 + 80
    warn = [str(p) for p in s.report.notes if "disconnected" in p.message]  # not the tmp path
    assert warn and "2 buildings, 120 households" in warn[0]
    assert "2 disconnected pieces" in s.report.to_text()


def test_piece_counts_agree_between_header_and_warning(layers: dict, make_folder: Make) -> None:
    """A stray path away from every building is a piece too: both lines count it."""
    import pandas as pd
    from shapely.geometry import LineString

    r = layers["roads"]
    x0, y0 = r.total_bounds[:2]
    stray = r.iloc[[0]].assign(
        road_id="stray",
        highway="footway",
        geometry=[LineString([(x0 + 1250, y0 + 1300), (x0 + 1350, y0 + 1300)])],
    )
    layers["roads"] = pd.concat([r.loc[r["road_id"] != "g1"], stray], ignore_index=True)
    s = load_street(make_folder(layers))
    rep = s.report
    assert rep.network_pieces == 3 and len(rep.network_components) == 2
    warn = [str(p) for p in rep.notes if "disconnected" in str(p)]
    assert "has 3 disconnected pieces, 2 of them nearest to buildings" in warn[0]
    assert "3 disconnected pieces, 2 of them nearest to buildings:" in rep.to_text()
    assert rep.to_dict()["network_pieces"] == 3


def test_duplicate_ids(layers: dict, make_folder: Make) -> None:
    layers["buildings"].loc[1, "building_id"] = "B1"
    with pytest.raises(
        InputError,
        match=r"buildings\.geojson, feature B1, field 'building_id'"
        r"\] id 'B1' is used by 2 features",
    ):
        load_street(make_folder(layers))


def test_non_numeric_households_names_feature_and_value(layers: dict, make_folder: Make) -> None:
    layers["buildings"] = layers["buildings"].astype({"households": object})
    layers["buildings"].loc[1, "households"] = "about 80"
    with pytest.raises(
        InputError,
        match=r"feature B2, field 'households'\] households "
        r"'about 80' is not a number",
    ):
        load_street(make_folder(layers))


def test_unknown_station_kind_is_kept_as_other_with_one_warning(
    layers: dict, make_folder: Make
) -> None:
    layers["stations"].loc[0, "kind"] = "社区食堂"
    layers["stations"].loc[1, "kind"] = "党员活动室"
    street = load_street(make_folder(layers))
    st = street.stations.set_index("station_id")
    assert st.loc["S1", "kind"] == "other" and st.loc["S1", "kind_text"] == "社区食堂"
    assert st.loc["S2", "kind"] == "party_member_room"
    warned = [p for p in street.report.notes if p.field == "kind"]
    assert len(warned) == 1 and warned[0].severity == "warning"
    assert "'社区食堂'" in str(warned[0]) and "kind 'other'" in str(warned[0])


def test_all_problems_are_reported_together(layers: dict, make_folder: Make) -> None:
    layers["buildings"].loc[1, "building_id"] = "B1"
    layers["stations"]["floor_area_m2"] = layers["stations"]["floor_area_m2"].astype(object)
    layers["stations"].loc[0, "floor_area_m2"] = "xyz"
    folder = make_folder(layers, fmt="geojson")
    (folder / "landuse.geojson").write_text("garbage", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_street(folder)
    text = str(err.value)
    assert text.startswith("3 problems in the input")
    assert "used by 2 features" in text and "'xyz'" in text and "landuse.geojson" in text


def test_missing_boundary(layers: dict, make_folder: Make) -> None:
    del layers["boundary"]
    with pytest.raises(InputError, match=r"the street boundary is missing.*--boundary"):
        load_street(make_folder(layers))


def test_boundary_of_lines_is_refused(layers: dict, make_folder: Make) -> None:
    ring = layers["boundary"].geometry.iloc[0].exterior
    layers["boundary"] = gpd.GeoDataFrame(
        geometry=[LineString(ring.coords)], crs=layers["boundary"].crs
    )
    with pytest.raises(InputError, match="boundary holds LineString, not polygons"):
        load_street(make_folder(layers))


def test_wrong_geometry_type_in_a_layer(layers: dict, make_folder: Make) -> None:
    b = layers["buildings"]
    b.loc[0, "geometry"] = b.geometry.iloc[0].centroid
    with pytest.raises(InputError, match=r"1 feature\(s\) are Point, expected polygons: B1"):
        load_street(make_folder(layers))


def test_geopackage_without_crs(layers: dict, make_folder: Make) -> None:
    import warnings

    folder = make_folder()
    (folder / "buildings.geojson").unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # geopandas warns that no CRS is written
        layers["buildings"].set_crs(None, allow_override=True).to_file(folder / "buildings.gpkg")
    with pytest.raises(InputError, match=r"buildings\.gpkg.*no coordinate reference system"):
        load_street(folder)


def test_legacy_geojson_crs_member_is_honoured(layers: dict, make_folder: Make) -> None:
    folder = make_folder()
    # GDAL writes a UTM layer with the old "crs" member: not RFC 7946, but unambiguous
    layers["compounds"].to_file(folder / "compounds.geojson", driver="GeoJSON")
    assert '"crs"' in (folder / "compounds.geojson").read_text(encoding="utf-8")
    s = load_street(folder)
    assert set(s.compounds["compound_id"]) == {"X1", "X2"}
    assert s.compounds.area.sum() == pytest.approx(2 * 150 * 150)


def test_buildings_and_compounds_just_outside_the_street_are_named(
    layers: dict, make_folder: Make
) -> None:
    b = layers["buildings"]
    b.loc[3, "geometry"] = translate(b.geometry.iloc[3], 800, 0)  # B4 300 m east of the edge
    c = layers["compounds"]
    c.loc[1, "geometry"] = translate(c.geometry.iloc[1], 400, 0)  # X2 mostly outside
    s = load_street(make_folder(layers))
    assert "B4" not in set(s.buildings["building_id"])
    assert set(s.compounds["compound_id"]) == {"X1"}
    text = s.report.to_text()
    assert "1 building(s) lie outside the street boundary and were left out: B4" in text
    assert "1 compound(s) lie mostly outside the street and were left out: X2" in text


def test_communities_that_do_not_tile_the_street_are_reported(
    layers: dict, make_folder: Make
) -> None:
    from shapely.geometry import box

    c = layers["communities"]
    x0, y0 = 440_000, 4_428_000
    c.loc[0, "geometry"] = box(x0, y0, x0 + 400, y0 + 1000)  # 10 % gap
    c.loc[1, "geometry"] = box(x0 + 300, y0, x0 + 1000, y0 + 1000)  # 10 % overlap
    s = load_street(make_folder(layers))
    text = s.report.to_text()
    assert "the communities overlap on 10.0% of the street" in text
    c.loc[1, "geometry"] = box(x0 + 500, y0, x0 + 1000, y0 + 1000)
    text = load_street(make_folder(layers)).report.to_text()
    assert "the communities leave 10.0% of the street uncovered" in text


def test_unclosed_ring_is_closed_and_reported(layers: dict, make_folder: Make) -> None:
    folder = make_folder()
    fc = json.loads((folder / "compounds.geojson").read_text(encoding="utf-8"))
    for f in fc["features"]:
        f["geometry"]["coordinates"][0].pop()  # drop the closing point
    (folder / "compounds.geojson").write_text(json.dumps(fc), encoding="utf-8")
    s = load_street(folder)
    assert s.compounds.area.round().tolist() == [22500.0, 22500.0]
    notes = [str(p) for p in s.report.notes if p.severity == "repair"]
    assert any("2 polygon ring(s) were not closed" in n and "compounds.geojson" in n for n in notes)


def test_features_without_geometry_are_named(make_folder: Make) -> None:
    folder = make_folder()
    fc = json.loads((folder / "buildings.geojson").read_text(encoding="utf-8"))
    fc["features"][1]["geometry"] = None
    (folder / "buildings.geojson").write_text(json.dumps(fc), encoding="utf-8")
    s = load_street(folder)
    assert "B2" not in set(s.buildings["building_id"])
    assert "1 feature(s) have no geometry and were left out: B2" in s.report.to_text()
