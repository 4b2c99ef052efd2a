"""Tests of planner.load.osm: tag mapping, walk filter, roads, XML/PBF equivalence, online failure."""

from __future__ import annotations

import socket
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import requests
import shapely
from shapely.geometry import LineString, Polygon, box

from planner.errors import InputError
from planner.load import osm

DATA = Path(__file__).parent / "data" / "beijing-haidian-xueyuanlu"
XML = DATA / "map.osm"
PBF = DATA / "map.osm.pbf"
#: The <bounds> box of map.osm.
BOUNDS = box(116.34403, 39.99767, 116.35974, 40.00888)
#: A street boundary drawn for the tests: the bounds box shrunk by about 110 m.
DRAWN = BOUNDS.buffer(-0.001, join_style="mitre")


# ------------------------------------------------------------------ tiny hand-written file

NODES: dict[int, tuple[float, float]] = {
    # compound outline (gated) with a gate on its south side
    1: (116.3500, 40.0000),
    2: (116.3520, 40.0000),
    3: (116.3520, 40.0015),
    4: (116.3500, 40.0015),
    5: (116.3510, 40.0000),
    # apartment building inside the compound
    11: (116.3505, 40.0005),
    12: (116.3510, 40.0005),
    13: (116.3510, 40.0010),
    14: (116.3505, 40.0010),
    # shop building outside
    15: (116.3525, 40.0002),
    16: (116.3528, 40.0002),
    17: (116.3528, 40.0004),
    18: (116.3525, 40.0004),
    # public road r1-r2-r3, bridge r3-r4, footway r4-r5, motorway r5-r6
    21: (116.3490, 39.9995),
    22: (116.3510, 39.9995),
    23: (116.3530, 39.9995),
    24: (116.3540, 39.9995),
    25: (116.3550, 39.9995),
    26: (116.3560, 39.9995),
    # two footway ways r1-m1, m1-m2 (merge into one line); a private service road
    27: (116.3490, 39.9990),
    28: (116.3495, 39.9985),
    29: (116.3480, 39.9985),
    # railway
    31: (116.3480, 40.0030),
    32: (116.3560, 40.0030),
    # open compound (access=yes)
    41: (116.3545, 40.0005),
    42: (116.3555, 40.0005),
    43: (116.3555, 40.0012),
    44: (116.3545, 40.0012),
    # water
    51: (116.3540, 40.0020),
    52: (116.3545, 40.0020),
    53: (116.3545, 40.0025),
    # park
    61: (116.3525, 40.0007),
    62: (116.3535, 40.0007),
    63: (116.3535, 40.0012),
    64: (116.3525, 40.0012),
    # a footway inside the compound, through the gate
    6: (116.3510, 40.0003),
    # POIs
    71: (116.3515, 39.9992),
    72: (116.3517, 39.9992),
    73: (116.3519, 39.9992),
}
NODE_TAGS = {
    5: {"barrier": "gate"},
    71: {"amenity": "community_centre", "name": "社区活动中心"},
    72: {"amenity": "parking"},
    73: {"shop": "supermarket", "name": "超市"},
}
WAYS: list[tuple[int, list[int], dict[str, str]]] = [
    (100, [1, 5, 2, 3, 4, 1], {"landuse": "residential", "name": "测试小区"}),
    (110, [41, 42, 43, 44, 41], {"landuse": "residential", "name": "开放小区", "access": "yes"}),
    (
        200,
        [11, 12, 13, 14, 11],
        {"building": "apartments", "building:levels": "6", "height": "18 m", "name": "1号楼"},
    ),
    (201, [15, 16, 17, 18, 15], {"building": "retail"}),
    (300, [21, 22, 23], {"highway": "residential", "name": "测试路"}),
    (301, [6, 5, 22], {"highway": "footway"}),
    (302, [23, 24], {"highway": "footway", "bridge": "yes"}),
    (303, [24, 25], {"highway": "footway"}),
    (304, [25, 26], {"highway": "motorway", "name": "高速"}),
    (305, [21, 29], {"highway": "service", "access": "private"}),
    (306, [21, 27], {"highway": "footway"}),
    (307, [27, 28], {"highway": "footway"}),
    (308, [22, 27], {"highway": "footway", "sidewalk": "separate"}),
    (400, [31, 32], {"railway": "rail", "name": "京包铁路"}),
    (500, [51, 52, 53, 51], {"natural": "water"}),
    (600, [61, 62, 63, 64, 61], {"leisure": "park", "name": "小公园"}),
]


def _write_osm(path: Path) -> Path:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<osm version="0.6" generator="test">',
        ' <bounds minlat="39.9980" minlon="116.3470" maxlat="40.0040" maxlon="116.3570"/>',
    ]
    for nid, (lon, lat) in NODES.items():
        tags = NODE_TAGS.get(nid, {})
        if tags:
            lines.append(f' <node id="{nid}" version="1" lat="{lat}" lon="{lon}">')
            lines += [f'  <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
            lines.append(" </node>")
        else:
            lines.append(f' <node id="{nid}" version="1" lat="{lat}" lon="{lon}"/>')
    for wid, refs, tags in WAYS:
        lines.append(f' <way id="{wid}" version="1">')
        lines += [f'  <nd ref="{r}"/>' for r in refs]
        lines += [f'  <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append(" </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, gpd.GeoDataFrame]:
    return osm.read_osm(_write_osm(tmp_path_factory.mktemp("osm") / "tiny.osm"))


def test_tiny_layers_are_all_there_in_wgs84(tiny: dict[str, gpd.GeoDataFrame]) -> None:
    assert tuple(tiny) == osm.OSM_LAYERS
    for name, gdf in tiny.items():
        assert gdf.crs is not None and gdf.crs.to_epsg() == 4326, name
    # boundary = the <bounds> box when no clip is given
    assert tiny["boundary"].geometry.iloc[0].equals(box(116.3470, 39.9980, 116.3570, 40.0040))


def test_tiny_building_tags(tiny: dict[str, gpd.GeoDataFrame]) -> None:
    b = tiny["buildings"].set_index("building_id")
    assert sorted(b.index) == ["osm-way-200", "osm-way-201"]
    apt = b.loc["osm-way-200"]
    assert (apt["kind"], apt["floors"], apt["height_m"], apt["name"]) == (
        "residential",
        6.0,
        18.0,
        "1号楼",
    )
    assert b.loc["osm-way-201", "kind"] == "shop"
    assert np.isnan(b.loc["osm-way-201", "floors"])
    assert b.geometry.geom_type.eq("Polygon").all()


def test_tiny_compounds_gates_landuse_barriers_pois(tiny: dict[str, gpd.GeoDataFrame]) -> None:
    c = tiny["compounds"].set_index("compound_id")
    assert c.loc["osm-way-100", "gated"] and c.loc["osm-way-100", "name"] == "测试小区"
    assert not c.loc["osm-way-110", "gated"]  # access=yes opens it
    g = tiny["gates"]
    assert g[["gate_id", "compound_id"]].values.tolist() == [["osm-node-5", "osm-way-100"]]
    assert tiny["landuse"][["kind", "name"]].values.tolist() == [["park", "小公园"]]
    bar = tiny["barriers"].set_index("barrier_id")
    assert bar.loc["osm-way-400", "kind"] == "railway"
    assert bar.loc["osm-way-500", "kind"] == "river"
    assert bar.loc["osm-way-500"].geometry.geom_type == "Polygon"
    p = tiny["pois"].set_index("poi_id")
    assert sorted(p.index) == ["osm-node-71", "osm-node-73"]  # parking is no site
    assert p.loc["osm-node-71", "kind"] == "community_centre"
    assert p.loc["osm-node-73", "kind"] == "supermarket"
    assert p.loc["osm-node-73", "osm_key"] == "shop"


def test_tiny_roads_walk_filter_bridge_and_simplification(
    tiny: dict[str, gpd.GeoDataFrame],
) -> None:
    r = tiny["roads"]
    assert "motorway" not in set(r["highway"])  # motorway excluded
    assert 305 not in set(r["osmid"])  # access=private excluded
    assert 308 not in set(r["osmid"])  # sidewalk=separate excluded
    # residential road split at the footway junction r2; the bridge is its own edge
    assert sorted(r.loc[r["osmid"] == 300, "name"]) == ["测试路", "测试路"]
    bridge = r[r["bridge"]]
    assert bridge["osmid"].tolist() == [302]
    assert shapely.equals(bridge.geometry.iloc[0], LineString([NODES[23], NODES[24]]))
    # footways 306 + 307 meet at a plain vertex: one merged line with three points
    merged = r[r["osmid"] == 306]
    assert len(merged) == 1 and shapely.get_num_points(merged.geometry.iloc[0]) == 3
    assert 307 not in set(r["osmid"])
    # the footway through the gate is cut there: the gate is a network node
    assert len(r[r["osmid"] == 301]) == 2
    # every edge: 300 x2, 301 x2, 302, 303, 306+307
    assert len(r) == 7
    assert r["road_id"].is_unique
    # lines meet only at end points: r2 joins three lines; r1 (tag change), r3 and r4
    # (bridge ends) and the gate two; r5 (motorway cut off), m2 and the inner end one each
    ends = shapely.get_coordinates(
        np.concatenate(
            [shapely.get_point(r.geometry.values, 0), shapely.get_point(r.geometry.values, -1)]
        )
    )
    _, counts = np.unique(np.round(ends * 1e7), axis=0, return_counts=True)
    assert sorted(counts.tolist()) == [1, 1, 1, 2, 2, 2, 2, 3]


def test_walk_filter_multivalue_and_foot_no() -> None:
    ways = gpd.GeoDataFrame(
        {
            "osmid": [1, 2, 3, 4, 5],
            "highway": ["footway", "motorway_link", "path;construction", "service", "steps"],
            "foot": ["no", None, None, None, None],
            "area": [None, None, None, "yes", None],
        },
        geometry=[LineString([(0, 0), (1, 1)])] * 5,
        crs=4326,
    )
    assert osm.walkable_ways(ways)["osmid"].tolist() == [5]


def test_walk_filter_covers_osmnx_walk_network_type() -> None:
    """Every rule of OSMnx's own ``walk`` Overpass filter is applied to files too."""
    import re

    from osmnx._overpass import _get_network_filter

    walk = _get_network_filter("walk")
    highway = re.search(r'\["highway"!~"([^"]+)"\]', walk)
    assert highway is not None
    assert set(highway.group(1).split("|")) <= set(osm.EXCLUDED_HIGHWAY)
    keys = set(re.findall(r'\["([^"]+)"!~', walk))
    handled = {
        "area",
        "access",
        "highway",
        "foot",
        "service",
        "sidewalk",
        "sidewalk:both",
        "sidewalk:left",
        "sidewalk:right",
    }
    assert keys <= handled
    assert handled - {"highway"} <= set(osm.WAY_TAGS)


# ------------------------------------------------------------------ the real extract


@pytest.fixture(scope="module")
def real_drawn() -> tuple[dict[str, gpd.GeoDataFrame], dict[str, gpd.GeoDataFrame]]:
    return osm.read_osm(XML, clip=DRAWN), osm.read_osm(PBF, clip=DRAWN)


def _assert_same_layers(xml: dict[str, gpd.GeoDataFrame], pbf: dict[str, gpd.GeoDataFrame]) -> None:
    """Same rows, ids, attributes and geometries (roads to 1e-9 degree)."""
    for name in osm.OSM_LAYERS:
        a, b = xml[name], pbf[name]
        assert a.drop(columns="geometry").equals(b.drop(columns="geometry")), name
        assert a.geometry.geom_equals_exact(b.geometry, 1e-9).all(), name


def test_real_extract_xml_and_pbf_give_the_same_layers(real_drawn) -> None:  # type: ignore[no-untyped-def]
    xml, pbf = real_drawn
    counts = {k: len(v) for k, v in xml.items()}
    # exactly equal, roads included: both readers feed the same noding/simplification
    # code with the same node coordinates, so there is no tolerance to allow for
    assert counts == {k: len(v) for k, v in pbf.items()}
    assert counts["buildings"] > 100 and counts["roads"] > 300 and counts["pois"] > 50
    _assert_same_layers(xml, pbf)


def test_real_extract_same_layers_with_a_narrow_margin() -> None:
    # the PBF reader reads only the margin's box; ways reaching into it stay whole
    xml = osm.read_osm(XML, clip=DRAWN, margin_m=100)
    pbf = osm.read_osm(PBF, clip=DRAWN, margin_m=100)
    _assert_same_layers(xml, pbf)
    assert len(xml["roads"]) < len(osm.read_osm(XML, clip=DRAWN)["roads"])


def test_real_extract_known_figures_from_provenance() -> None:
    whole = box(116.2, 39.9, 116.6, 40.1)  # holds every element of the file
    xml = osm.read_osm(XML, clip=whole, margin_m=0)
    pbf = osm.read_osm(PBF, clip=whole, margin_m=0)
    assert len(xml["buildings"]) == len(pbf["buildings"]) == 257
    # 10 landuse=residential polygons from osmnx; pyrosm also assembles relation
    # 14400092 from the one member way in the file, which both readers now skip
    assert len(xml["compounds"]) == len(pbf["compounds"]) == 10
    assert "osm-relation-14400092" not in set(pbf["compounds"]["compound_id"])
    # building= values as counted in PROVENANCE.md, and their kinds
    values = xml["buildings"]["osm_building"].value_counts()
    assert (
        values["yes"],
        values["residential"],
        values["house"],
        values["apartments"],
        values["school"],
        values["university"],
        values["hospital"],
    ) == (167, 43, 9, 4, 7, 7, 3)
    kinds = xml["buildings"]["kind"].value_counts()
    assert kinds["residential"] == 43 + 9 + 4 + values["dormitory"]
    assert kinds["school"] == 7 + 7 + values["college"]
    assert kinds["public"] == 3  # hospital
    # primary, footway, service... as in PROVENANCE.md's highway mix; no motorway
    hw = set(xml["roads"]["highway"])
    assert {"primary", "secondary", "tertiary", "footway", "service"} <= hw
    assert not hw & {"motorway", "motorway_link", "cycleway", "construction"}


def test_real_extract_drawn_boundary_clips(real_drawn) -> None:  # type: ignore[no-untyped-def]
    xml, _ = real_drawn
    assert xml["boundary"].geometry.iloc[0].equals(DRAWN)
    reps = xml["buildings"].geometry.representative_point()
    assert reps.within(DRAWN).all()
    # roads reach into the 1,000 m margin but not beyond it
    utm = xml["roads"].estimate_utm_crs()
    drawn_utm = gpd.GeoSeries([DRAWN], crs=4326).to_crs(utm).iloc[0]
    far = xml["roads"].to_crs(utm).distance(drawn_utm)
    assert far.max() > 300
    assert far.max() <= 1000.01
    named = gpd.GeoDataFrame({"name": ["学院路街道"]}, geometry=[DRAWN], crs=4326).to_crs(32650)
    assert osm.read_osm(XML, clip=named)["boundary"]["name"].tolist() == ["学院路街道"]
    whole = osm.read_osm(XML)  # default: the <bounds> box
    assert whole["boundary"].geometry.iloc[0].equals(BOUNDS)
    assert len(whole["buildings"]) > len(xml["buildings"])


def test_real_extract_without_margin_is_inside() -> None:
    layers = osm.read_osm(XML, clip=DRAWN, margin_m=0)
    assert layers["roads"].geometry.within(DRAWN.buffer(1e-9)).all()
    assert layers["pois"].geometry.within(DRAWN).all()


# ------------------------------------------------------------------ bad input


def test_missing_file_and_wrong_name(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        osm.read_osm(tmp_path / "nope.osm")
    other = tmp_path / "roads.txt"
    other.write_text("x")
    with pytest.raises(
        InputError, match=r"expected OSM XML \(\.osm, \.osm\.xml.*or PBF \(\.osm\.pbf\)"
    ):
        osm.read_osm(other)


def test_broken_files_are_input_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.osm"
    bad.write_text("<osm><node id='1' lat='x'", encoding="utf-8")
    with pytest.raises(InputError, match="could not read the OSM extract"):
        osm.read_osm(bad)
    badpbf = tmp_path / "bad.osm.pbf"
    badpbf.write_bytes(b"\x00\x00\x00\x0dnot a pbf at all")
    with pytest.raises(InputError, match="could not read the OSM extract"):
        osm.read_osm(badpbf)


def test_extract_without_features_is_an_input_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.osm"
    empty.write_text(
        '<?xml version="1.0"?>\n<osm version="0.6">\n'
        '<bounds minlat="40" minlon="116" maxlat="40.01" maxlon="116.01"/>\n</osm>\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="holds no streets, buildings or other features"):
        osm.read_osm(empty)


def test_boundary_far_from_the_extract_says_so_not_that_the_extract_is_empty(
    tmp_path: Path,
) -> None:
    """Review F16: a KML boundary 1,000 km from the extract (PBF, and XML)."""
    from planner.load.sources import load_street

    kml = tmp_path / "boundary.kml"
    far = gpd.GeoDataFrame({"name": ["远处"]}, geometry=[box(108.9, 34.2, 108.91, 34.21)], crs=4326)
    far.to_file(kml, driver="KML")
    with pytest.raises(InputError) as err:
        load_street(PBF, boundary=kml)
    text = str(err.value)
    assert "inside the boundary or within 1,000 m of it" in text
    assert "outside the area of the extract" in text and str(PBF) in text
    with pytest.raises(InputError) as err:
        load_street(XML, boundary=kml)
    text = str(err.value)
    assert "km from the area the OSM extract covers (longitude 116.3440–116.3597" in text
    assert err.value.problems[0].field == "geometry" and err.value.problems[0].fix


def test_clip_must_be_a_polygon() -> None:
    with pytest.raises(InputError, match="not a polygon"):
        osm.read_osm(XML, clip=LineString([(116.35, 40.0), (116.351, 40.001)]))
    projected = gpd.GeoSeries([Polygon([(0, 0), (1, 0), (1, 1)])], crs=None)
    with pytest.raises(InputError, match="no CRS"):
        osm.read_osm(XML, clip=projected)


# ------------------------------------------------------------------ online, offline


def test_fetch_place_fails_fast_and_clearly_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(*args: object, **kwargs: object) -> object:
        raise requests.ConnectionError(
            "HTTPSConnectionPool(host='nominatim.openstreetmap.org', port=443): "
            'Max retries exceeded (Caused by NameResolutionError("Failed to resolve"))'
        )

    def no_dns(*args: object, **kwargs: object) -> object:
        raise OSError("network is unreachable")

    monkeypatch.setattr(requests.Session, "request", unreachable)
    monkeypatch.setattr(socket, "gethostbyname", no_dns)
    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(
        InputError, match=r"could not reach OpenStreetMap: .*load an extract file"
    ) as err:
        osm.fetch_place("学院路街道, 海淀区, 北京市")
    assert "nominatim.openstreetmap.org" in str(err.value)
    with pytest.raises(InputError, match="could not reach OpenStreetMap"):
        osm.fetch_place(DRAWN)
    with pytest.raises(InputError) as err:  # a boundary file is named, not "polygon"
        osm.fetch_place(DRAWN, source="/data/b.geojson")
    assert err.value.problems[0].file == "/data/b.geojson"
    # osmnx settings are restored afterwards
    import osmnx as ox

    assert ox.settings.use_cache is True


# ------------------------------------------------------------------ through the loader and CLI


@pytest.fixture(scope="module")
def drawn_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("boundary") / "drawn.geojson"
    gpd.GeoDataFrame({"name": ["学院路 test street"]}, geometry=[DRAWN], crs=4326).to_file(
        path, driver="GeoJSON"
    )
    return path


@pytest.fixture(scope="module")
def loaded(drawn_file: Path):  # type: ignore[no-untyped-def]
    from planner.load.sources import load_street

    return (
        load_street(str(XML), boundary=str(drawn_file)),
        load_street(str(PBF), boundary=str(drawn_file)),
    )


def test_load_street_same_counts_from_xml_and_pbf(loaded) -> None:  # type: ignore[no-untyped-def]
    xml, pbf = loaded
    assert xml.report.counts == pbf.report.counts
    assert xml.crs.to_epsg() == 32650
    assert xml.report.counts["buildings"] > 100
    assert xml.report.counts["edges"] > 300
    assert xml.households_total == pbf.households_total > 0
    assert xml.report.network_length_km == pytest.approx(pbf.report.network_length_km)
    # every building lies in the drawn street; roads reach into the margin
    assert xml.buildings.geometry.representative_point().within(xml.boundary_geom.buffer(1.0)).all()
    assert not xml.edges.geometry.within(xml.boundary_geom).all()


def test_load_street_credits_openstreetmap(loaded) -> None:  # type: ignore[no-untyped-def]
    for street in loaded:
        assert street.attribution == osm.ATTRIBUTION
        assert "© OpenStreetMap contributors" in street.attribution
        assert "© OpenStreetMap contributors" in street.report.to_text()
        assert not street.synthetic


def test_cli_info_json_on_the_real_extract(
    drawn_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from planner.cli import main

    code = main(["info", str(XML), "--boundary", str(drawn_file), "--json"])
    out = capsys.readouterr().out
    assert code == 0
    report = json.loads(out)
    assert report["counts"]["buildings"] > 100
    assert report["counts"]["edges"] > 300
    assert 1.0 < report["area_km2"] < 1.4  # drawn box: about 1.2 km²
    assert report["crs"] == "EPSG:32650"
    assert report["households_total"] > 0
    assert "OpenStreetMap contributors" in report["attribution"]
    assert report["synthetic"] is False


def test_cli_info_bad_osm_file_exits_with_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from planner.cli import main

    bad = tmp_path / "broken.osm"
    bad.write_text("<osm><way", encoding="utf-8")
    code = main(["info", str(bad)])
    err = capsys.readouterr().err
    assert code != 0
    assert "could not read the OSM extract" in err
    assert "Traceback" not in err


def test_fetch_place_goes_through_the_shared_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the downloads replaced by the extract, online = file reading, layer by layer."""
    import osmnx as ox

    asked: list[object] = []

    def graph(polygon: object, **kwargs: object) -> object:
        asked.append(polygon)
        assert kwargs["simplify"] is False and kwargs["retain_all"] is True
        return ox.graph_from_xml(XML, simplify=False, retain_all=True)

    def features(polygon: object, tags: dict[str, object]) -> object:
        return ox.features_from_xml(XML, tags=tags)

    monkeypatch.setattr(ox, "graph_from_polygon", graph)
    monkeypatch.setattr(ox, "features_from_polygon", features)
    online = osm.fetch_place(DRAWN)
    offline = osm.read_osm(XML, clip=DRAWN)
    # downloads cover the boundary plus the 1,000 m margin
    assert asked[0].contains(DRAWN) and asked[0].area > 2 * DRAWN.area  # type: ignore[attr-defined]
    for name in osm.OSM_LAYERS:
        a, b = online[name], offline[name]
        assert a.drop(columns="geometry").equals(b.drop(columns="geometry")), name
        assert a.geometry.geom_equals_exact(b.geometry, 1e-9).all(), name


def test_cached_tables_follow_file_changes(tmp_path: Path) -> None:
    path = _write_osm(tmp_path / "t.osm")
    assert len(osm.read_osm(path)["buildings"]) == 2
    text = path.read_text(encoding="utf-8").replace('k="building" v="retail"', 'k="shop" v="yes"')
    path.write_text(text, encoding="utf-8")
    again = osm.read_osm(path)
    assert again["buildings"]["building_id"].tolist() == ["osm-way-200"]
    assert "osm-way-201" in set(again["pois"]["poi_id"])


def test_fetch_place_unknown_name_is_not_a_network_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import osmnx as ox

    def nothing(query: object, **kwargs: object) -> object:
        raise ox._errors.InsufficientResponseError("Nominatim did not geocode query 'nowhere'")

    monkeypatch.setattr(ox, "geocode_to_gdf", nothing)
    with pytest.raises(InputError, match="no street polygon") as err:
        osm.fetch_place("nowhere")
    assert "could not reach" not in str(err.value)


def test_cli_info_place_offline_exits_with_the_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from planner.cli import main

    def unreachable(*args: object, **kwargs: object) -> object:
        raise requests.ConnectionError("Failed to resolve 'nominatim.openstreetmap.org'")

    monkeypatch.setattr(requests.Session, "request", unreachable)
    code = main(["info", "place:学院路街道, 海淀区, 北京市"])
    err = capsys.readouterr().err
    assert code != 0
    assert "could not reach OpenStreetMap" in err and "load an extract file instead" in err
    assert "Traceback" not in err
