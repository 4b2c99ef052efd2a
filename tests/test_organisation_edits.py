"""A planner's edits of branches and teams: applied, checked again, saved with history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from org_streets import E, W, org_street
from test_organisation_checks import BAD, _organise

from planner.errors import InputError
from planner.organisation.checks import check_organisation
from planner.organisation.edits import (
    OrgEditLog,
    apply_edits,
    legacy_edits_path,
    merge_logs,
    read_legacy,
)


def _recheck(tmp_path: Path, log: OrgEditLog):  # type: ignore[no-untyped-def]
    org = _organise(tmp_path, BAD)
    street, grids = org_street()
    regs = apply_edits(org.registers, log)
    return check_organisation(regs, grids, street.buildings, street.compounds)


def test_edited_branch_and_team_fix_the_failing_rules(tmp_path: Path) -> None:
    log = OrgEditLog()
    log.set_branch(E, "东网格党支部")
    log.set_team(E, [("网格长", "示例丙", ""), ("专职网格员", "示例丁", "13800000009"),
                     ("专职网格员", "示例戊", ""), ("专职网格员", "示例辛", ""), ("", "", "")])  # fmt: skip
    report = _recheck(tmp_path, log)
    passed = {c.name: c.passed for c in report.checks}
    assert passed["org_branch"] and passed["org_team"]
    e = report.by_grid.set_index("code").loc[E]
    assert (e["branch"], e["leaders"], e["full_time"], e["part_time"]) == ("东网格党支部", 1, 3, 0)
    assert e["team"].startswith("网格长：示例丙；专职网格员：示例丁")


def test_removing_a_branch_and_a_shared_branch_keeps_its_other_grid(tmp_path: Path) -> None:
    log = OrgEditLog()
    log.set_branch(W, "", before="西网格党支部")
    report = _recheck(tmp_path, log)
    assert not report.by_grid.set_index("code").at[W, "has_branch"]
    shared = dict(BAD, party=f"组织类型,组织名称,网格编码\n网格党支部,联合党支部,{W}、{E}\n")
    org = _organise(tmp_path, shared)
    street, grids = org_street()
    log = OrgEditLog()
    log.set_branch(W, "西网格党支部", before="联合党支部")
    t = check_organisation(apply_edits(org.registers, log), grids, street.buildings,
                           street.compounds).by_grid.set_index("code")  # fmt: skip
    assert (t.at[W, "branch"], t.at[E, "branch"]) == ("西网格党支部", "联合党支部")
    assert t.at[E, "branch_shared_with"] == ""


def test_history_is_kept_and_read_back_from_its_table() -> None:
    log = OrgEditLog()
    log.set_branch(W, "甲支部", before="西网格党支部")
    log.set_branch(W, "甲支部")  # no change, no entry
    log.set_branch(W, "乙支部")
    log.set_team(W, [("网格长", "示例甲", "")])
    assert [(e.field, e.old, e.new) for e in log.history] == [
        ("branch", "西网格党支部", "甲支部"),
        ("branch", "甲支部", "乙支部"),
        ("team", [], [["网格长", "示例甲", ""]]),
    ]
    table = log.to_table()
    assert list(table.columns) == ["time", "grid", "field", "old", "new"] and len(table) == 3
    back = OrgEditLog.from_table(table)  # the history replayed gives the latest values
    assert back.branches == {W: "乙支部"} and back.teams == {W: [("网格长", "示例甲", "")]}
    assert back.history == log.history


def test_a_legacy_side_file_merges_into_the_projects_log(tmp_path: Path) -> None:
    """Earlier versions kept the edits beside the project: read, merged by time, once."""
    old = OrgEditLog()
    old.set_branch(W, "旧支部")
    path = legacy_edits_path(tmp_path / "project.gpkg")
    assert path.name == "project.organisation.json"
    path.write_text(old.to_json(), encoding="utf-8")
    new = OrgEditLog()
    new.set_team(E, [("网格长", "示例丙", "")])
    legacy = read_legacy(tmp_path / "project.gpkg")
    assert legacy is not None and json.loads(path.read_text("utf-8"))["format"] == 1
    merged = merge_logs(legacy, new, legacy)  # a change in two logs counts once
    assert merged.branches == {W: "旧支部"} and merged.teams == {E: [("网格长", "示例丙", "")]}
    assert [e.field for e in merged.history] == ["branch", "team"]  # in time order
    assert read_legacy(tmp_path / "other.gpkg") is None


def test_bad_edits_are_refused_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no post for 示例甲"):
        OrgEditLog().set_team(W, [("", "示例甲", "")])
    bad = tmp_path / "x.organisation.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match=r"cannot be read.*Fix: delete the file"):
        read_legacy(tmp_path / "x.gpkg")
    with pytest.raises(InputError, match=r"no column new.*Fix: open a project"):
        OrgEditLog.from_table(OrgEditLog().to_table().drop(columns=["new"]))
    table = OrgEditLog().to_table()
    table.loc[0] = ["2026-12-02T00:00:00+00:00", W, "branch", "{bad", '"x"']
    with pytest.raises(InputError, match=r"organisation_edits cannot be read"):
        OrgEditLog.from_table(table)
