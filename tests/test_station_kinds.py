"""Station registers as they are: every kind loads; unknown kinds kept as ``other``."""

import json
from pathlib import Path

import geopandas as gpd
import pytest

from planner import schema
from planner.errors import InputError, ProblemLog
from planner.load.kinds import catalogue_lookup, read_kinds_file, resolve_kinds
from planner.load.sources import load_street
from planner.maps.style import station_style
from planner.settings import Settings

#: A register as a street office keeps it: the seeds' own positions and one unknown.
REGISTER_KINDS: tuple[tuple[str, str], ...] = (
    ("日间照料中心", "elderly_day_care"),
    ("社区卫生服务站", "health_station"),
    ("志愿服务站", "volunteer_station"),
    ("城市书房", "city_study_room"),
    ("小游园", "pocket_park"),
    ("党员活动室", "party_member_room"),
    ("微型消防站", "micro_fire_station"),
    ("党建服务站", "community_station"),
    ("社区食堂", "other"),
)


def _register(layers: dict[str, gpd.GeoDataFrame], path: Path) -> Path:
    """A stations CSV with one row per :data:`REGISTER_KINDS`, inside the street."""
    st = layers["stations"].to_crs("EPSG:4326")
    x, y = float(st.geometry.x.iloc[0]), float(st.geometry.y.iloc[0])
    rows = ["编号,名称,类型,经度,纬度"]
    for i, (text, _kind) in enumerate(REGISTER_KINDS):
        rows.append(f"K{i},{text}{i},{text},{x + i * 1e-5:.7f},{y:.7f}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_register_of_policy_positions_loads(street_folder: Path, layers: dict) -> None:
    reg = _register(layers, street_folder.parent / "stations.csv")
    street = load_street(street_folder, stations=reg)
    st = street.stations.set_index("station_id")
    for i, (text, kind) in enumerate(REGISTER_KINDS):
        assert st.loc[f"K{i}", "kind"] == kind, text
        assert st.loc[f"K{i}", "kind_text"] == text
    warned = [p for p in street.report.notes if p.field == "kind"]
    assert len(warned) == 1
    assert "1 station(s)" in str(warned[0]) and "'社区食堂'" in str(warned[0])
    assert warned[0].feature_id == "K8"


def test_a_mapping_file_maps_an_unknown_kind(street_folder: Path, layers: dict) -> None:
    reg = _register(layers, street_folder.parent / "stations.csv")
    mapping = street_folder.parent / "kinds.csv"
    mapping.write_text("原文,类型\n社区食堂,邻里中心\n党员活动室,community_station\n", "utf-8")
    street = load_street(street_folder, stations=reg, station_kinds=mapping)
    st = street.stations.set_index("station_id")
    assert st.loc["K8", "kind"] == "neighbourhood_centre"
    assert st.loc["K5", "kind"] == "community_station"  # the user's mapping wins
    assert not [p for p in street.report.notes if p.field == "kind"]


def test_street_json_names_the_mapping_file(street_folder: Path, layers: dict) -> None:
    layers_st = layers["stations"].copy()
    layers_st["kind"] = ["社区食堂", "community_station", "street_centre"][: len(layers_st)]
    layers_st.to_crs("EPSG:4326").to_file(street_folder / "stations.geojson", driver="GeoJSON")
    (street_folder / "kinds.csv").write_text("text,kind\n社区食堂,convenience_point\n", "utf-8")
    (street_folder / "street.json").write_text(
        json.dumps({"station_kinds_file": "kinds.csv"}), encoding="utf-8"
    )
    street = load_street(street_folder)
    assert street.stations.set_index("station_id").loc["S1", "kind"] == "convenience_point"


def test_street_json_may_not_name_a_file_outside_the_folder(street_folder: Path) -> None:
    (street_folder.parent / "outside.csv").write_text("text,kind\na,other\n", "utf-8")
    (street_folder / "street.json").write_text(
        json.dumps({"station_kinds_file": "../outside.csv"}), encoding="utf-8"
    )
    with pytest.raises(InputError, match=r"street\.json, field 'station_kinds_file'\]"):
        load_street(street_folder)


def test_a_bad_mapping_row_names_file_row_and_kinds(tmp_path: Path) -> None:
    path = tmp_path / "kinds.csv"
    path.write_text("text,kind\n社区食堂,canteen\n", "utf-8")
    problems = ProblemLog()
    assert read_kinds_file(path, problems=problems) == {}
    (p,) = problems.problems
    assert p.file == str(path) and p.field == "kind" and "'canteen'" in str(p)
    assert "row 2" in str(p) and "neighbourhood_centre (邻里中心)" in (p.fix or "")


def test_a_mapping_file_without_its_columns(tmp_path: Path) -> None:
    path = tmp_path / "kinds.csv"
    path.write_text("a,b\nx,y\n", "utf-8")
    problems = ProblemLog()
    assert read_kinds_file(path, problems=problems) == {}
    assert "needs two columns" in str(problems.problems[0])


def test_aliases_spaces_and_full_width_forms() -> None:
    raw = gpd.pd.Series(["党群服务站", " 党群 服务中心 ", "ＧＲＩＤ ＳＴＡＴＩＯＮ", "", None, "x"])
    got = resolve_kinds(raw, catalogue_lookup())
    assert got.kind.tolist() == [
        "community_station",
        "street_centre",
        "grid_station",
        "community_station",
        "community_station",
        "other",
    ]
    assert got.unknown.tolist() == [False] * 5 + [True]


def test_every_kind_has_names_a_group_and_a_symbol() -> None:
    for key, (zh, en) in schema.STATION_KINDS.items():
        assert zh and en
        assert schema.station_kind_group(key) in schema.STATION_KIND_GROUPS
        assert station_style(key).glyph("zh")
    grouped = [k for ks in schema.STATION_KIND_GROUPS.values() for k in ks]
    assert sorted(grouped) == sorted(schema.STATION_KINDS)
    # kinds of different groups are told apart by colour
    colours = {g: station_style(ks[0]).colour for g, ks in schema.STATION_KIND_GROUPS.items()}
    assert len(set(colours.values())) == len(colours)


def test_service_kinds_accept_the_new_kinds() -> None:
    s = Settings(service_kinds=("community_station", "elderly_day_care", "other"))
    assert "elderly_day_care" in s.service_kinds


def test_the_app_loader_passes_an_uploaded_mapping_file(street_folder: Path, layers: dict) -> None:
    from planner.app import services

    reg = _register(layers, street_folder.parent / "stations.csv")
    mapping = street_folder.parent / "station_kinds.csv"
    mapping.write_text("text,kind\n社区食堂,neighbourhood_centre\n", "utf-8")
    source = {
        "kind": "upload",
        "path": str(street_folder),
        "stations": str(reg),
        "station_kinds": str(mapping),
    }
    street = services.load(source, Settings())
    assert street.stations.set_index("station_id").loc["K8", "kind"] == "neighbourhood_centre"


def test_red_map_draws_other_kinds_grey_with_their_text() -> None:
    from planner.maps.redmap import red_map
    from tests.app_street import tiny_street

    street = tiny_street(synthetic=False)
    street.stations.loc[0, "kind"] = "other"
    street.stations.loc[0, "kind_text"] = "社区食堂<b>"
    html = red_map(street).get_root().render()
    assert "其他 (社区食堂&lt;b&gt;)" in html  # the register's words, escaped
    assert station_style("other").colour in html and station_style("other").colour != "#c8161d"


def test_a_yaml_mapping_file_maps_unknown_kinds(street_folder: Path, layers: dict) -> None:
    """Both YAML forms: ``text: kind`` and ``kind: [texts]`` (Chinese names too)."""
    reg = _register(layers, street_folder.parent / "stations.csv")
    mapping = street_folder.parent / "kinds.yaml"
    mapping.write_text(
        "# 本街道的站点类型对照\n社区食堂: 邻里中心\ncommunity_station: [党员活动室]\n", "utf-8"
    )
    street = load_street(street_folder, stations=reg, station_kinds=mapping)
    st = street.stations.set_index("station_id")
    assert st.loc["K8", "kind"] == "neighbourhood_centre"
    assert st.loc["K5", "kind"] == "community_station"  # the user's mapping wins
    assert not [p for p in street.report.notes if p.field == "kind"]


def test_a_yml_file_in_gbk_with_texts_yaml_would_turn_into_other_types(tmp_path: Path) -> None:
    path = tmp_path / "kinds.yml"
    path.write_text("老年食堂: elderly_day_care\n'yes': other\n2024: volunteer_station\n", "gbk")
    problems = ProblemLog()
    got = read_kinds_file(path, problems=problems)
    assert got == {"老年食堂": "elderly_day_care", "yes": "other", "2024": "volunteer_station"}
    assert not problems.problems


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("社区食堂: canteen\n", 1, "kind", ["'canteen'", "not a station kind"]),
        ("a: other\n社区食堂:\n", 2, "kind", ["'社区食堂'", "blank value"]),
        ("a: other\ncanteens: [社区食堂]\n", 2, "kind", ["'canteens' heads a list"]),
        ("elderly_day_care:\n  - 老年食堂\n  - {a: b}\n", 3, "text", ["list is a mapping"]),
        ("社区食堂: other\n社区食堂 : elderly_day_care\n", 2, "text", ["line 1 maps it"]),
        ("a: {b: other}\n", 1, "kind", ["is given a mapping"]),
        ("a: other\nb: [unclosed\nc: other\n", 3, None, ["not valid YAML"]),
        ("- 社区食堂\n- other\n", 1, "text", ["one mapping", "not a list"]),
    ],
)
def test_a_bad_yaml_mapping_names_file_line_and_field(
    tmp_path: Path, text: str, line: int, field: str | None, words: list[str]
) -> None:
    path = tmp_path / "kinds.yaml"
    path.write_text(text, "utf-8")
    problems = ProblemLog()
    read_kinds_file(path, problems=problems)
    (p,) = problems.problems
    assert p.file == str(path) and p.field == field and p.severity == "error"
    assert p.feature_id == f"line {line}" and f"line {line}" in str(p)
    for w in words:
        assert w in str(p)
    assert p.fix


def test_a_bad_yaml_entry_keeps_the_good_ones(tmp_path: Path) -> None:
    path = tmp_path / "kinds.yaml"
    path.write_text("社区食堂: neighbourhood_centre\n托老所: nursing\n", "utf-8")
    problems = ProblemLog()
    assert read_kinds_file(path, problems=problems) == {"社区食堂": "neighbourhood_centre"}
    assert [p.feature_id for p in problems.problems] == ["line 2"]
    assert "elderly_day_care (日间照料中心)" in (problems.problems[0].fix or "")


@pytest.mark.parametrize("text", ["", "# only a comment\n"])
def test_an_empty_yaml_mapping_is_an_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "kinds.yaml"
    path.write_text(text, "utf-8")
    problems = ProblemLog()
    assert read_kinds_file(path, problems=problems) == {}
    assert "holds no entries" in str(problems.problems[0])


def test_the_cli_refuses_a_bad_yaml_mapping_with_exit_2(
    street_folder: Path, layers: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from planner.cli import main

    reg = _register(layers, street_folder.parent / "stations.csv")
    mapping = tmp_path / "kinds.yaml"
    mapping.write_text("社区食堂: neighbourhood_centre\n老年食堂: canteen\n", "utf-8")
    code = main(
        ["info", str(street_folder), "--stations", str(reg), "--station-kinds-file", str(mapping)]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "kinds.yaml" in err and "line 2" in err and "'canteen'" in err
    assert "Traceback" not in err


def test_stations_csv_keeps_the_text_of_an_other_kind(street_folder: Path, layers: dict) -> None:
    """The coverage table of stations says what an ``other`` station is (its text)."""
    from planner.coverage.figures import compute_coverage, station_figures

    reg = _register(layers, street_folder.parent / "stations.csv")
    street = load_street(street_folder, stations=reg)
    settings = Settings(service_kinds=("community_station", "other"))
    sf = station_figures(compute_coverage(street, settings=settings)).set_index("station_id")
    assert sf.loc["K8", "kind"] == "other" and sf.loc["K8", "kind_text"] == "社区食堂"
    assert sf.loc["K7", "kind"] == "community_station" and sf.loc["K7", "kind_text"] == "党建服务站"
