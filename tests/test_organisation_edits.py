"""A planner's edits of branches and teams: applied, checked again, saved with history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from org_streets import E, W, org_street
from test_organisation_checks import BAD, _organise

from planner.errors import InputError
from planner.organisation.checks import check_organisation
from planner.organisation.edits import OrgEditLog, apply_edits, edits_path


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


def test_history_is_kept_and_saved_atomically(tmp_path: Path) -> None:
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
    path = edits_path(tmp_path / "project.gpkg")
    assert path.name == "project.organisation.json"
    log.save(path)
    back = OrgEditLog.load(path)
    assert back.branches == {W: "乙支部"} and back.teams == {W: [("网格长", "示例甲", "")]}
    assert len(back.history) == 3 and json.loads(path.read_text("utf-8"))["format"] == 1
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left
    assert OrgEditLog.load(tmp_path / "none.json").history == []


def test_bad_edits_are_refused_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no post for 示例甲"):
        OrgEditLog().set_team(W, [("", "示例甲", "")])
    bad = tmp_path / "x.organisation.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match=r"cannot be read.*Fix: delete the file"):
        OrgEditLog.load(bad)
