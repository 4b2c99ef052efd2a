"""Display labels of raw layer and column names (planner/i18n.py) and the site table."""

from __future__ import annotations

import re
import string

import geopandas as gpd
import pytest
from shapely.geometry import Point

from planner.app.services import reason_text, site_table
from planner.errors import RuleViolation
from planner.i18n import STRINGS, column_label, from_english, layer_name, msg, render, t
from planner.street import LAYER_NAMES

RAW = {
    "rank",
    "households_newly_covered",
    "households_served",
    "community_id",
    "recommended_floor_area_m2",
    "residents",
    "buildings",
    "note",
    "area_m2",
}


def test_every_street_layer_has_a_chinese_and_an_english_name() -> None:
    zh = [layer_name(k, "zh") for k in LAYER_NAMES]
    en = [layer_name(k, "en") for k in LAYER_NAMES]
    assert all(not n.isascii() for n in zh), zh
    assert all(n != k for n, k in zip(en, LAYER_NAMES, strict=True)), en
    assert layer_name("nodes") == "路网节点" and layer_name("edges") == "路网路段"
    assert layer_name("gates", "en") == "Gates"
    assert layer_name("unknown") == "unknown"  # an unknown name is shown as it is


def test_raw_columns_get_labels_in_both_languages() -> None:
    for col in RAW:
        assert not column_label(col, "zh").isascii(), col
        assert column_label(col, "en") != col, col
    assert column_label("households_newly_covered") == "新增覆盖户数"
    assert column_label("name") == "名称" and column_label("name", "en") == "Name"
    assert column_label("mystery") == "mystery"
    assert t("atoms", "zh") == "网格单元" and t("area_km2", "en") == "Area (km²)"


def test_site_table_keeps_main_columns_and_labels_them() -> None:
    sites = gpd.GeoDataFrame(
        {
            "rank": [1],
            "site_id": ["NEW01"],
            "name": ["A"],
            "households_newly_covered": [120],
            "households_served": [300],
            "community_id": ["C1"],
            "recommended_floor_area_m2": [200.0],
            "snap_m": [3.0],
        },
        geometry=[Point(0, 0)],
        crs=32650,
    )
    zh = site_table(sites)
    assert list(zh.columns) == [
        "序号",
        "名称",
        "新增覆盖户数",
        "服务户数",
        "社区编号",
        "建议面积 m²",
    ]
    assert zh.iloc[0].tolist() == [1, "A", 120, 300, "C1", 200.0]
    en = site_table(sites, lang="en")
    assert "Households newly covered" in en.columns and "rank" not in en.columns
    assert "rank" in sites.columns and "序号" not in sites.columns  # input unchanged


def test_worst_compounds_and_scenarios_are_labelled() -> None:
    from types import SimpleNamespace

    import pandas as pd

    from planner.app.services import scenario_row, scenario_table, worst_compounds
    from tests.app_street import tiny_street

    per = pd.DataFrame(
        {"compound_id": ["K1"], "name": ["A"], "households_uncovered": [5], "walk_m": [900.0]}
    )
    zh = worst_compounds(tiny_street(), SimpleNamespace(uncovered_compounds=per))
    assert list(zh.columns) == ["小区编号", "名称", "未覆盖户数", "步行距离 (m)"]
    row = scenario_row("A", {"households_covered_pct": {"15": 80.0}}, sites=2)
    assert list(scenario_table([row]).columns) == ["方案", "新增站点数", "15 分钟覆盖 %"]
    en = scenario_table([row], lang="en")
    assert list(en.columns) == ["Scenario", "New sites", "Covered in 15 min %"]


def test_every_note_severity_has_a_label() -> None:
    from typing import get_args

    from planner.errors import Severity

    for severity in get_args(Severity):
        assert not t(f"severity_{severity}", "zh").isascii(), severity
        assert t(f"severity_{severity}", "en") != severity, severity


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_catalogue_has_both_languages_for_every_key() -> None:
    for key, pair in STRINGS.items():
        assert isinstance(pair, tuple) and len(pair) == 2, key
        zh, en = pair
        assert zh.strip() and en.strip(), key
        # both name the same things (codes, ids, counts): a message rendered in either
        # language is given the same parameters
        assert _fields(en) == _fields(zh), (key, _fields(en) ^ _fields(zh))


@pytest.mark.parametrize("prefix", ["edit_", "rule_"])
def test_edit_and_rule_strings_are_chinese_apart_from_units(prefix: str) -> None:
    keys = [k for k in STRINGS if k.startswith(prefix)]
    assert len(keys) > 30
    for key in keys:
        zh = re.sub(r"\{[^}]*\}", " ", STRINGS[key][0])
        assert set(re.findall(r"[A-Za-z]{2,}", zh)) <= {"km", "Polsby", "Popper"}, (key, zh)


def test_message_renders_in_both_languages_and_nests() -> None:
    what = msg("edit_what_atoms", atoms=[137, 140])
    m = msg("edit_leaves_two_pieces", what=what, grid="10000011010800100101")
    assert str(m) == "moving atoms 137, 140 would leave grid 10000011010800100101 in two pieces"
    assert m.render("en") == str(m)
    assert m.render("zh") == "移动网格单元 137、140 会使网格 10000011010800100101 分成两块"
    # a listing shown with !r keeps the Python list the English always showed
    several = msg("edit_atoms_in_several_grids", atoms=[1, 2], grids=["a", "b"])
    assert str(several).startswith("atoms [1, 2] lie in grids ['a', 'b'];")
    assert render("plain text from a file", "zh") == "plain text from a file"
    assert hash(m) == hash(msg("edit_leaves_two_pieces", what=what, grid="10000011010800100101"))
    with pytest.raises(KeyError):
        msg("edit_no_such_key")


def test_rule_violation_carries_key_and_parameters() -> None:
    exc = RuleViolation(msg("edit_grid_locked", grid="10000011010800100101"))
    assert exc.key == "edit_grid_locked"
    assert exc.params == {"grid": "10000011010800100101"}
    assert str(exc) == "grid 10000011010800100101 is locked; unlock it first"
    assert exc.render("zh") == "网格 10000011010800100101 已锁定，请先解锁"
    plain = RuleViolation("free text")
    assert plain.key is None and plain.params == {} and plain.render("zh") == "free text"


@pytest.mark.parametrize("key", sorted(k for k in STRINGS if k.startswith("grid_reason_")))
def test_grid_reasons_read_back_from_their_english(key: str) -> None:
    fields = sorted(_fields(STRINGS[key][1]))
    m = msg(key, **{f: "C1" if f == "community" else 100 + i for i, f in enumerate(fields)})
    back = from_english(str(m), "grid_reason_")
    assert back is not None and back.key == key, (key, str(m))
    assert str(back) == str(m) and back.render("zh") == m.render("zh")
    assert re.search(r"[\u4e00-\u9fff]", back.render("zh"))


def test_reasons_of_other_origin_stay_as_they_are() -> None:
    assert from_english("kept apart for the school (planner's note)", "grid_reason_") is None
    assert reason_text("kept apart for the school", "zh") == "kept apart for the school"
    english = "community C1 holds only 150 households, below the minimum 200"
    assert reason_text(english, "zh") == "社区 C1 只有 150 户，低于下限 200 户"
    assert reason_text(english, "en") == english


def test_markdown_literal_shows_data_text_as_it_is() -> None:
    """Review row W11: data text in Streamlit messages must not become links or markup."""
    from planner.i18n import markdown_literal

    joiner = "\u2060"
    samples = [
        "[领取补贴 Click here](http://evil.example/phish)",
        "<img src=x onerror=alert(1)> **bold** _em_ `code` # head",
        "- item\n1. item\n> quote\n---",
        "www.evil.example a@b.example :smile: :red[red] $x^2$ ~~s~~ | t |",
        "C:\\data\\x.csv & &lt;",
    ]
    for text in samples:
        out = markdown_literal(text)
        # every Markdown special is backslash-escaped, so nothing starts a construct ...
        assert not re.search(r"(?<!\\)[\[\]()*_`#<>~$|!+\-.&:@=]", out.replace("\\\\", "")), out
        # ... and no bare URL, e-mail or :code: is left for GFM / Streamlit to link
        assert "://" not in out.replace("\\", "") and "www." not in out.replace("\\", "")
        assert "@" not in out.replace(joiner + "\\@", "")
        # unescaped, it is the text itself: shown literally
        plain = re.sub(r"\\([\\`*_{}\[\]()#+\-.!|<>~$&=:@])", r"\1", out).replace(joiner, "")
        assert plain == text
    assert markdown_literal("中文 名称 1200 户") == "中文 名称 1200 户"
