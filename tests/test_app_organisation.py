"""The app's organisation page (Streamlit AppTest): figures, rules, map, edits saved with history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from org_streets import org_street, write_csv
from streamlit.testing.v1 import AppTest

from planner.app import organisation_page
from planner.app import services as app_services
from planner.organisation.registers import RegisterFiles

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture
def org_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The app on the hand-made street, with registers keyed by building and compound."""
    import streamlit as st

    st.cache_data.clear()  # an earlier test's street must not be served from the cache
    autosave = tmp_path / "autosave"
    monkeypatch.setenv("PLANNER_AUTOSAVE_DIR", str(autosave))
    monkeypatch.setattr(app_services, "load", lambda source, settings: org_street()[0])
    party = write_csv(
        tmp_path, "party.csv", "组织类型,组织名称,楼栋编号\n网格党支部,一号楼支部,b0\n"
    )
    staff = write_csv(tmp_path, "staff.csv", "姓名,岗位,楼栋编号\n示例甲,网格长,b0\n")
    prop = write_csv(tmp_path, "prop.csv", "小区名称,物业公司,是否成立党组织\n小区0,甲物业,是\n")
    files = RegisterFiles(party=party, staff=staff, property=prop)
    monkeypatch.setattr(organisation_page, "demo_register_files", lambda: files)
    return autosave


def _run(at: AppTest) -> AppTest:
    at.run(timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_page_shows_rules_figures_and_tables(org_app: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["page"] = "organisation"
    _run(at)
    assert at.session_state["page"] == "organisation" and not at.error
    labels = [m.label for m in at.metric]
    assert any(label.startswith("有党支部的网格") for label in labels)
    rules = at.dataframe[0].value
    assert "规则" in rules.columns and rules["结果"].isin(["通过", "不通过"]).all()
    assert len(at.tabs) == 4


def test_edit_branch_is_saved_with_history(org_app: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["page"] = "organisation"
    _run(at)
    code = at.selectbox(key="org_edit_grid").value
    at.text_input(key=f"org_branch_{code}").set_value("新建网格党支部")
    at.button(key="org_save").click()
    _run(at)
    saved = list(org_app.glob("*.organisation.json"))
    assert len(saved) == 1
    doc: dict[str, Any] = json.loads(saved[0].read_text("utf-8"))
    assert doc["branches"][code] == "新建网格党支部"
    assert doc["history"][0]["field"] == "branch" and doc["history"][0]["new"] == "新建网格党支部"
    grid_table = at.dataframe[1].value.set_index("code")
    assert grid_table.at[code, "branch"] == "新建网格党支部"  # the rules were checked again
