"""The organisation's layers on the red map: colours by check, compound status, escaping."""

from __future__ import annotations

import json
from pathlib import Path

from org_streets import E, W, org_street
from test_organisation_checks import BAD, GOOD, _organise

from planner.maps.redmap import red_map
from planner.organisation import maplayers as ml
from planner.organisation.maplayers import add_organisation_layers, compound_status, grid_colours


def test_grids_coloured_by_each_check(tmp_path: Path) -> None:
    org = _organise(tmp_path, BAD)
    branch = grid_colours(org, "no_branch").set_index("code")
    assert branch.at[W, "colour"] == ml.GOOD and branch.at[E, "colour"] == ml.BAD
    team = grid_colours(org, "team_incomplete").set_index("code")
    assert team.at[E, "colour"] == ml.BAD and team.at[E, "value"] == "网格长 1 / 专职 0 / 兼职 1"
    rate = grid_colours(org, "incidents").set_index("code")
    assert rate.at[W, "value"] == "0.42"  # 3 a year over 720 households
    (tmp_path / "staff_only").mkdir()
    only_staff = _organise(tmp_path / "staff_only", {"staff": GOOD["staff"]})
    assert set(grid_colours(only_staff, "no_branch")["colour"]) == {ml.NONE}  # no party register


def test_compounds_by_red_property_status(tmp_path: Path) -> None:
    org = _organise(tmp_path, BAD)
    street, _ = org_street()
    status = dict(zip(street.compounds["compound_id"], compound_status(street, org), strict=True))
    assert status == {"c0": "red", "c2": "abandoned", "c4": "plain"}


def test_layers_are_added_with_escaped_names(tmp_path: Path) -> None:
    texts = dict(GOOD)
    texts["party"] = f"组织类型,组织名称,网格编码\n网格党支部,<img src=x onerror=alert(1)>,{W}\n"
    org = _organise(tmp_path, texts)
    street, grids = org_street()
    grids["grid_id"] = [0, 1]
    m = add_organisation_layers(red_map(street, grids=grids), street, grids, org, check="no_branch")
    text = m.get_root().render()
    for name in ("网格检查：网格党支部", "小区红色物业", "党支部与楼栋党小组"):
        assert json.dumps(name)[1:-1] in text, name
    assert "<img src=x" not in text and "&lt;img src=x" in text


def test_layer_control_follows_the_layers_it_names(tmp_path: Path) -> None:
    org = _organise(tmp_path, GOOD)
    street, grids = org_street()
    grids["grid_id"] = [0, 1]
    text = (
        add_organisation_layers(red_map(street, grids=grids), street, grids, org)
        .get_root()
        .render()
    )
    assert text.rindex("L.featureGroup(") < text.index("L.control.layers(")
