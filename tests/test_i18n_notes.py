"""The loader's OSM notes, load errors and coverage notes in the reader's language
(issue 19 item 6): each is a catalogue message, rendered in Chinese by
:meth:`planner.errors.Problem.render` / :meth:`planner.errors.PlannerError.render`,
while ``str()`` stays the English the command line prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.errors import InputError, PlannerError, Problem, ProblemLog, error_text
from planner.i18n import msg
from planner.load.admin_codes import AdminRelation, codes_from_relations
from planner.load.sources import load_street, resolve_osm_file
from planner.settings import Settings
from tests.ascii_words import ascii_words

#: Longitude/latitude of the tiny extract's south-west corner (near Beijing).
LON0, LAT0 = 116.35, 40.0


def _tiny_osm(path: Path) -> Path:
    """Two gated compounds (``landuse=residential``) with no gate mapped: a footway
    crosses the wall of 甲小区 (osm-way-100); no path enters 乙小区 (osm-way-110)."""
    corners = [(0.002, 0.002), (0.004, 0.002), (0.004, 0.004), (0.002, 0.004)]
    nodes = dict(enumerate(corners, 1))
    nodes |= {i + 10: (x + 0.004, y) for i, (x, y) in enumerate(corners, 1)}
    nodes |= {21: (0.0, 0.001), 22: (0.01, 0.001), 23: (0.003, 0.001), 24: (0.003, 0.003)}
    ways = [
        (100, [1, 2, 3, 4, 1], {"landuse": "residential", "name": "甲小区"}),
        (110, [11, 12, 13, 14, 11], {"landuse": "residential", "name": "乙小区"}),
        (300, [21, 23, 22], {"highway": "residential", "name": "测试路"}),
        (301, [23, 24], {"highway": "footway"}),
    ]
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<osm version="0.6" generator="test">',
        f' <bounds minlat="{LAT0}" minlon="{LON0}" maxlat="{LAT0 + 0.01}" maxlon="{LON0 + 0.01}"/>',
    ]
    lines += [
        f' <node id="{i}" version="1" lat="{LAT0 + y:.6f}" lon="{LON0 + x:.6f}"/>'
        for i, (x, y) in nodes.items()
    ]
    for wid, refs, tags in ways:
        lines.append(f' <way id="{wid}" version="1">')
        lines += [f'  <nd ref="{r}"/>' for r in refs]
        lines += [f'  <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append(" </way>")
    path.write_text("\n".join([*lines, "</osm>"]), encoding="utf-8")
    return path


def _no_english(text: str) -> set[str]:
    """ASCII words of a Chinese text other than feature ids (``osm-way-100``) and
    the allowed units, formats and names."""
    return {w for w in ascii_words(text) if w not in {"osm", "way"}}


def test_osm_guessed_gates_note_reads_in_both_languages(tmp_path: Path) -> None:
    log = ProblemLog()
    path = _tiny_osm(tmp_path / "tiny.osm")
    resolve_osm_file(path, boundary=None, settings=Settings(), problems=log)
    (note,) = [p for p in log.problems if p.field == "barrier"]
    assert str(note) == (
        f"[file {path} (compounds), feature osm-way-100, field 'barrier'] 2 gated compound(s) "
        "have no gate mapped in OpenStreetMap, so their gates are guessed (osm-way-100 甲小区: "
        "1 path crossing(s) used as gates; osm-way-110 乙小区: no path enters it, its "
        "buildings reach the nearest public link). Fix: map the gates (barrier=gate or "
        "entrance=* nodes on the paths at the wall) in OpenStreetMap, or give a gates layer "
        "in a folder street"
    )
    zh = note.render("zh")
    assert "2 个封闭小区" in zh and "甲小区：1 处路径" in zh and "乙小区：没有路径进入" in zh
    assert f"{path}（小区）" in zh and "处理办法：" in zh
    assert _no_english(zh.replace(str(path), "")) == set(), zh
    assert note.render("en") == str(note)


def test_osm_code_doubts_read_in_both_languages() -> None:
    relations = [
        AdminRelation(2, "8", "学院路街道", "ref:admin:CN:mca", "110108013"),
        AdminRelation(4, "8", "清河街道", "ref:admin:CN:mca", "110108016"),
        AdminRelation(1, "6", "玄武区", "ref:admin:CN", "320102"),
        AdminRelation(5, "6", "秦淮区", "ref:admin:CN", "320104"),
    ]
    meta, doubts = codes_from_relations(relations)
    assert meta == {} and len(doubts) == 2
    assert str(doubts[0]) == (
        "the extract holds several street relations with codes (OpenStreetMap relation 2 "
        "(学院路街道, ref:admin:CN:mca=110108013); OpenStreetMap relation 4 (清河街道, "
        "ref:admin:CN:mca=110108016)): no street code is taken from it"
    )
    assert doubts[0].render("zh") == (
        "数据中有多个带代码的街道关系（OpenStreetMap 关系 2（学院路街道，ref:admin:CN:mca=110108013）；"
        "OpenStreetMap 关系 4（清河街道，ref:admin:CN:mca=110108016））：未从中取街道代码"
    )
    assert doubts[1].render("zh") == "数据中有多个区县关系（320102、320104）：未从中取区县代码"
    assert str(doubts[1]).endswith("(320102, 320104): no county code is taken from it")


def test_stations_csv_with_bad_coordinates_fails_in_the_readers_language(tmp_path: Path) -> None:
    folder = tmp_path / "street"
    folder.mkdir()
    (folder / "stations.csv").write_text(
        "station_id,name,lon,lat\ns1,一站,abc,39.9\ns2,二站,,39.9\n", encoding="utf-8"
    )
    with pytest.raises(InputError) as caught:
        load_street(str(folder), boundary=None)
    exc = caught.value
    english = str(exc)
    assert "coordinate 'abc' is not a number" in english and "coordinate is empty" in english
    assert "Fix: write decimal degrees, e.g. 116.3975 and 39.9087" in english
    zh = exc.render("zh")
    assert "坐标 'abc' 不是数字" in zh and "坐标为空" in zh
    assert "[文件 " in zh and "要素 s1" in zh and "处理办法：请写十进制度数" in zh
    assert "缺少街道边界" in zh  # the folder has no boundary either: said too
    assert exc.render("en") == english
    assert error_text(exc, "zh") == zh


def test_missing_file_and_missing_crs_errors_read_in_chinese(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        load_street(str(tmp_path / "nowhere.osm"))
    assert caught.value.render("zh").endswith(
        "找不到文件。处理办法：请检查 OpenStreetMap 数据文件的路径"
    )
    assert str(caught.value).endswith("file not found. Fix: check the path of the OSM extract")


def test_an_error_without_a_catalogue_message_gets_a_chinese_lead() -> None:
    exc = InputError("something unexpected", fix="try again")
    assert str(exc) == "something unexpected. Fix: try again"
    assert exc.render("zh") == "无法读取数据：something unexpected。处理办法：try again"
    assert PlannerError("odd").render("zh") == "无法读取数据：odd"
    assert error_text(OSError("disk full"), "zh") == "无法读取数据：disk full"
    assert error_text(ValueError("bad"), "en") == "bad"
    # several problems: the count in the reader's language, each problem rendered
    two = InputError(
        [
            Problem.of(msg("err_file_not_found"), fix=msg("err_fix_check_path"), file="a.csv"),
            Problem("odd", file="b.csv"),
        ]
    )
    assert str(two).startswith("2 problems in the input:\n  - [file a.csv] file not found.")
    assert two.render("zh").splitlines() == [
        "输入中有 2 个问题：",
        "  - [文件 a.csv] 找不到文件。处理办法：请检查文件路径",
        "  - 无法读取数据：[文件 b.csv] odd。",
    ]
    keyed = InputError(msg("err_boundary_no_area"), fix=msg("err_fix_boundary_polygon"))
    assert keyed.render("zh") == "边界没有面积。处理办法：请把街道边界画成多边形"
    assert str(keyed) == "the boundary has no area. Fix: draw the street boundary as a polygon"


def test_coverage_notes_read_in_both_languages() -> None:
    from planner.coverage.figures import compute_coverage
    from tests.coverage_streets import network_layers, points, squares, street

    nodes, edges = network_layers([(0, 0), (100, 0)], [(0, 1)])
    b = squares(
        [(50, 5), (50, 900)], households=[3, 9], kind="residential", building_id=["near", "far"]
    )
    st = street(
        nodes, edges, buildings=b, stations=points([(0, 0), (0, 800)], station_id=["s", "lost"])
    )
    problems = compute_coverage(st).problems
    by_file = {p.file: p for p in problems}
    stations, buildings = by_file["stations"], by_file["buildings"]
    assert stations.message.startswith("1 station(s) lie more than ")
    assert stations.message.endswith(" m from any public walkable link and serve nobody: lost")
    assert stations.render("zh").startswith(
        "[文件 stations] 1 个服务站距任何可步行的公共道路都超过 "
    )
    assert "服务不到任何人：lost" in stations.render("zh")
    assert "1 building(s) with 9 households lie more than" in buildings.message
    zh = buildings.render("zh")
    assert "1 栋楼（9 户）距可通行的步行道路超过" in zh and "计为未覆盖：far" in zh
    for p in problems:
        assert p.text is not None and p.fix_text is not None, p
        assert p.render("en") == str(p)
        assert _no_english(p.render("zh").replace(str(p.file), "")) <= {"far", "lost"}, p


def test_the_app_shows_a_load_error_in_the_readers_language(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from planner.app import services as app_services

    def refuse(source: object, settings: object) -> None:
        raise InputError(
            Problem.of(
                msg("err_no_crs"), fix=msg("err_fix_no_crs_shp"), file="roads.shp", field=None
            )
        )

    monkeypatch.setenv("PLANNER_AUTOSAVE_DIR", str(tmp_path / "autosave"))
    monkeypatch.setattr(app_services, "load", refuse)
    st.cache_data.clear()
    try:
        at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"))
        at.run(timeout=60)
        assert not at.exception, [e.value for e in at.exception]
        shown = [str(e.value).replace("\\", "") for e in at.error]
        assert any("该图层没有坐标参考系" in x and "roads.shp" in x for x in shown), shown
        assert not any("coordinate reference system" in x for x in shown), shown
        at.sidebar.radio(key="lang").set_value("en")
        at.run(timeout=60)
        shown = [str(e.value).replace("\\", "") for e in at.error]
        assert any("the layer has no coordinate reference system (CRS)" in x for x in shown)
    finally:
        st.cache_data.clear()


def _two_edge_street():  # a Street with a 2-edge network
    from tests.coverage_streets import network_layers, points, squares, street

    nodes, edges = network_layers([(0, 0), (100, 0), (200, 0)], [(0, 1), (1, 2)])
    b = squares(
        [(50, 5), (50, 900)], households=[3, 9], kind="residential", building_id=["near", "far"]
    )
    return street(
        nodes, edges, buildings=b, stations=points([(0, 0), (0, 800)], station_id=["s", "lost"])
    )


def test_a_circle_work_refusal_reads_in_both_languages() -> None:
    from planner.coverage.layers import compute_coverage_layers

    with pytest.raises(InputError) as caught:
        compute_coverage_layers(_two_edge_street(), settings=Settings(max_network_edges=1))
    english = str(caught.value)
    assert "edges, more than one coverage run works on (max_network_edges = 1)" in english
    assert "Fix: raise the limit if this machine can take it" in english
    zh = caught.value.render("zh")
    assert "超过一次覆盖计算的上限（1 条）" in zh and "个服务圈" in zh and "预计约" in zh
    assert "处理办法：如本机能承受，可在设置中调高步行网络边数上限" in zh
    assert _no_english(zh.replace("roads", "")) <= {"s", "MB", "GB"}, zh


def test_the_sidebar_keeps_a_load_error_in_both_languages() -> None:
    from planner.app.sidebar import load_error

    shown = load_error(InputError(msg("err_boundary_empty"), fix=msg("err_fix_boundary")))
    assert shown["zh"].startswith("边界图层为空。处理办法：请添加街道边界")
    assert shown["en"] == (
        "the boundary layer is empty. Fix: add boundary.geojson (a polygon of the street), "
        "or pass --boundary FILE"
    )
    assert load_error(OSError("disk full")) == {"zh": "无法读取数据：disk full", "en": "disk full"}


def test_an_upload_refusal_reads_in_both_languages(tmp_path: Path) -> None:
    from planner.load.uploads import stage_upload

    with pytest.raises(InputError) as caught:
        stage_upload([("notes.txt", b"x"), ("roads.geojson", b"{}")], dest=tmp_path, limit_mb=10)
    assert str(caught.value) == (
        "[file notes.txt] 'notes.txt' is not named like a layer, so the planner would not read "
        "it. Fix: name layer files boundary, communities, compounds, buildings, roads, "
        "stations, gates, barriers, landuse, pois (e.g. boundary.geojson, buildings.shp), or "
        "upload a zip of the street folder"
    )
    assert caught.value.render("zh") == (
        "[文件 notes.txt] 'notes.txt' 的文件名不是图层名，不会被读取。处理办法：请按图层命名文件（boundary、"
        "communities、compounds、buildings、roads、stations、gates、barriers、landuse、pois，"
        "例如 boundary.geojson、buildings.shp），或上传街道文件夹的 ZIP"
    )


def test_layer_value_errors_read_in_both_languages() -> None:
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import LineString, Point

    from planner.load import validate

    log = ProblemLog()
    table = pd.DataFrame({"households": ["12", "abc", True]})
    ids = pd.Series(["b1", "b2", "b3"])
    validate.numeric_column(
        table, "households", ids=ids, file="buildings.geojson", problems=log, whole=True
    )
    lines = gpd.GeoDataFrame(geometry=[Point(0, 0), LineString([(0, 0), (1, 1)])])
    validate.check_geometry_kind(
        lines, kind="polygon", ids=pd.Series(["p1", "p2"]), file="compounds.geojson", problems=log
    )
    validate.check_duplicate_ids(
        pd.Series(["s1", "s1"]), file="stations.csv", field="station_id", problems=log
    )
    english = [str(p) for p in log.problems]
    assert english == [
        "[file buildings.geojson, feature b2, field 'households'] households 'abc' is not a "
        "number. Fix: write a whole number (or leave it empty to estimate)",
        "[file buildings.geojson, feature b3, field 'households'] households 'True' is a yes/no "
        "value, not a number. Fix: write a whole number (or leave it empty to estimate)",
        "[file compounds.geojson, feature p1, field 'geometry'] 2 feature(s) are "
        "LineString/Point, expected polygons: p1, p2. Fix: this layer must hold polygons only; "
        "move other features to their own layer",
        "[file stations.csv, feature s1, field 'station_id'] id 's1' is used by 2 features. "
        "Fix: give every feature its own station_id",
    ]
    chinese = [p.render("zh") for p in log.problems]
    assert "“户数”的值 'abc' 不是数字。处理办法：请写整数（或留空以估算）" in chinese[0]
    assert "是“是/否”，不是数字" in chinese[1]
    assert (
        "2 个要素是 LineString/Point，应为多边形：p1、p2。处理办法：该图层只能包含多边形"
        in chinese[2]
    )
    assert "编号 's1' 被 2 个要素使用" in chinese[3]


def test_the_red_map_lists_the_coverage_notes_in_the_readers_language(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from planner.app import services as app_services
    from tests.coverage_streets import network_layers, points, squares, street

    nodes, edges = network_layers([(0, 0), (100, 0)], [(0, 1)])
    b = squares(
        [(50, 5), (50, 900)], households=[3, 9], kind="residential", building_id=["near", "far"]
    )
    lost = street(
        nodes, edges, buildings=b, stations=points([(0, 0), (0, 800)], station_id=["s", "lost"])
    )
    monkeypatch.setenv("PLANNER_AUTOSAVE_DIR", str(tmp_path / "autosave"))
    monkeypatch.setattr(app_services, "load", lambda source, settings: lost)
    st.cache_data.clear()
    try:
        at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"))
        for _ in range(4):  # the map adds coverage, then grids, each by a rerun
            at.run(timeout=90)
        assert not at.exception, [e.value for e in at.exception]
        assert any("覆盖计算的提示" in m.value for m in at.markdown)
        notes = [str(c.value).replace("\\", "").replace("\u2060", "") for c in at.caption]
        assert any("服务不到任何人：lost" in c for c in notes), notes
        assert any("计为未覆盖：far" in c for c in notes), notes
        at.sidebar.radio(key="lang").set_value("en")
        at.run(timeout=90)
        notes = [str(c.value).replace("\\", "").replace("\u2060", "") for c in at.caption]
        assert any("serve nobody: lost" in c for c in notes), notes
    finally:
        st.cache_data.clear()
