"""The app's organisation page (Streamlit AppTest): figures, rules, map, edits saved with history."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from org_streets import org_street, write_csv
from streamlit.testing.v1 import AppTest

from planner.app import organisation_page
from planner.app import services as app_services
from planner.grids.project import read_extra, save_project
from planner.organisation.edits import EDITS_TABLE, OrgEdit, OrgEditLog, legacy_edits_path
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


def _project_files(autosave: Path) -> list[Path]:
    return sorted(autosave.glob("project-*.gpkg"))


def _edits_in(path: Path) -> OrgEditLog:
    return OrgEditLog.from_table(read_extra(path)[EDITS_TABLE])


def _grid_table(at: AppTest) -> pd.DataFrame:
    table = next(d.value for d in at.dataframe if {"code", "team"} <= set(d.value.columns))
    return table.set_index("code")


def test_edit_branch_is_saved_with_history(org_app: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["page"] = "organisation"
    _run(at)
    code = at.selectbox(key="org_edit_grid").value
    at.text_input(key=f"org_branch_{code}").set_value("新建网格党支部")
    at.button(key="org_save").click()
    _run(at)
    assert not list(org_app.glob("*.organisation.json"))  # nothing beside the project file
    (saved,) = _project_files(org_app)
    log = _edits_in(saved)
    assert log.branches[code] == "新建网格党支部"
    assert log.history[0].field == "branch" and log.history[0].new == "新建网格党支部"
    assert _grid_table(at).at[code, "branch"] == "新建网格党支部"  # the rules were checked again
    assert any("已保存" in s.value for s in at.success)
    # a side file of an earlier version (older edits) moves into the project file
    old = OrgEditLog(history=[OrgEdit("2020-01-01T00:00:00+00:00", code, "team", [],
                                      [["网格长", "示例旧", ""]])])  # fmt: skip
    side = legacy_edits_path(saved)
    side.write_text(OrgEditLog.replay(old.history).to_json(), encoding="utf-8")
    _run(at)
    assert not side.exists()
    log = _edits_in(saved)
    assert [e.field for e in log.history] == ["team", "branch"]  # the older change first
    assert log.branches[code] == "新建网格党支部" and log.teams[code] == [("网格长", "示例旧", "")]
    assert "示例旧" in _grid_table(at).at[code, "team"]
    # another tab saved the project since: the save is refused, nothing is overwritten
    save_project(saved, at.session_state["editor"])
    at.text_input(key=f"org_branch_{code}").set_value("第三支部")
    at.button(key="org_save").click()
    _run(at)
    assert any("已在别处" in e.value for e in at.error), [e.value for e in at.error]
    assert _edits_in(saved).branches[code] == "新建网格党支部"


def test_team_edit_is_in_the_project_file_after_a_reload(org_app: Path) -> None:
    """A team set in the app's table editor is kept inside the project file with its
    history; a new session on the same project (a reload) shows it (a grid editor's
    save keeps it: tests/test_project.py)."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["page"] = "organisation"
    _run(at)
    code = at.selectbox(key="org_edit_grid").value
    # phones are hidden until the project's editor asks for them (issue 15 item 4)
    assert at.checkbox(key="org_show_phones").value is False
    at.checkbox(key="org_show_phones").check()
    _run(at)
    at.session_state[f"org_team_phones_{code}"] = {
        "edited_rows": {},
        "added_rows": [{"post": "专职网格员", "name": "示例乙", "phone": "13800000001"}],
        "deleted_rows": [],
    }
    at.button(key="org_save").click()
    _run(at)
    (saved,) = _project_files(org_app)
    log = _edits_in(saved)
    assert ("专职网格员", "示例乙", "13800000001") in log.teams[code]
    assert [e.field for e in log.history] == ["team"]
    assert "13800000001" in _shown_text(at)  # asked for: the editor sees the phone
    at.checkbox(key="org_show_phones").uncheck()
    _run(at)
    assert "13800000001" not in _shown_text(at) and "示例乙" in _shown_text(at)
    again = AppTest.from_file(APP, default_timeout=120)
    again.query_params["page"] = "organisation"
    again.query_params["project"] = at.session_state["project"]
    _run(again)
    assert "示例乙" in _grid_table(again).at[code, "team"]
    history = next(d.value for d in again.dataframe if "field" in d.value.columns)
    assert history["field"].tolist() == ["team"]
    # a session that cannot edit the project never sees a phone, nor the box to show them
    assert not [c for c in again.checkbox if c.key == "org_show_phones"]
    assert "13800000001" not in _shown_text(again) and "示例乙" in _shown_text(again)


def _shown_text(at: AppTest) -> str:
    """Every table and table editor of the page as text."""
    frames = [*at.dataframe, *at.get("arrow_data_frame")]
    return "\n".join(d.value.to_csv() for d in frames)


def test_team_saved_with_phones_hidden_keeps_the_phones() -> None:
    """Hiding the phones never erases them: a kept member keeps the phone, a new one
    gets none; the history shows a team without phones unless asked."""
    from planner.app.organisation_page import members_from_table, without_phones

    current = [("网格长", "示例甲", "13800000001"), ("专职网格员", "示例乙", "13800000002")]
    edited = pd.DataFrame(
        {"post": ["网格长", "宣传员", None], "name": ["示例甲", "示例丙", "示例丁"]}
    )
    assert members_from_table(edited, current) == [
        ("网格长", "示例甲", "13800000001"),
        ("宣传员", "示例丙", ""),
        ("", "示例丁", ""),
    ]
    shown = edited.assign(phone=["13900000000", None, ""])
    assert members_from_table(shown, current)[0] == ("网格长", "示例甲", "13900000000")
    assert members_from_table(shown, current)[1] == ("宣传员", "示例丙", "")
    team = [list(m) for m in current]
    assert without_phones("team", team) == [["网格长", "示例甲"], ["专职网格员", "示例乙"]]
    assert without_phones("branch", "一号楼支部") == "一号楼支部"


def test_uploaded_registers_reach_the_overview_and_the_export(
    org_app: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A planner's own registers (a UTF-8 staff register with a row matching nothing,
    a GBK property register) replace the demo's: the unmatched row is listed, the
    overview's figures and the export's organisation_by_grid.csv use them, and they
    stay in use across pages."""
    exported: list[dict[str, bytes]] = []
    original_export = app_services.export_files

    def spy_export(*args: Any, **kwargs: Any) -> dict[str, bytes]:
        files = original_export(*args, **kwargs)
        exported.append(files)
        return files

    monkeypatch.setattr(app_services, "export_files", spy_export)
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["page"] = "organisation"
    _run(at)
    staff = "姓名,岗位,楼栋编号\n示例庚,网格长,b0\n示例辛,专职网格员,b1\n示例壬,宣传员,zz9\n"
    prop = "小区名称,物业公司,是否成立党组织\n小区0,乙物业,否\n"
    at.file_uploader(key="org_up_staff_0").set_value(("我的网格员.csv", staff.encode(), "text/csv"))
    at.file_uploader(key="org_up_property_0").set_value(
        ("物业.csv", prop.encode("gbk"), "text/csv")
    )
    _run(at)
    captions = [c.value for c in at.caption]
    assert any("使用中：网格员台账（我的网格员" in c for c in captions), captions
    assert any("1 行未匹配" in w.value for w in at.warning), [w.value for w in at.warning]
    unmatched = next(d.value for d in at.dataframe if "未匹配原因" in d.value.columns)
    assert unmatched["匹配依据"].astype(str).str.contains("zz9").all() and len(unmatched) == 1
    table = _grid_table(at)
    assert (
        table["team"].str.contains("示例庚").any()
        and not table["team"].str.contains("示例甲").any()
    )
    at.sidebar.radio(key=f"w_page_{at.session_state['lang']}").set_value("overview")
    _run(at)
    assert any(s.value == "组织建设" for s in at.subheader)
    figures = {m.label.split("（")[0]: m.value for m in at.metric}
    # the uploaded team, not the demo's
    assert figures.get("队伍齐全的网格") == "1", list(figures.items())
    assert figures["红色物业小区占比"] == "0.0%"  # the GBK register: 小区0 has no party org
    at.sidebar.radio(key=f"w_page_{at.session_state['lang']}").set_value("export")
    _run(at)
    assert exported, "the export page wrote no files"
    csv = pd.read_csv(io.BytesIO(exported[-1]["organisation_by_grid.csv"]), dtype=str)
    assert csv["team"].fillna("").str.contains("示例庚").any()
    assert not csv["team"].fillna("").str.contains("示例甲").any()
    # "stop using the uploads": the demo's registers again, and the uploads stay gone
    at.sidebar.radio(key=f"w_page_{at.session_state['lang']}").set_value("organisation")
    _run(at)
    at.button(key="org_forget").click()
    _run(at)
    assert not at.session_state["org_files"]
    assert _grid_table(at)["team"].str.contains("示例甲").any()
