"""The organisation rules: each passes on a complete organisation and fails when its norm is missed."""

from __future__ import annotations

from pathlib import Path

import pytest
from org_streets import E, W, org_street, write_csv

from planner.organisation.checks import OrgReport
from planner.organisation.organise import Organisation, organise, read_or_raise
from planner.organisation.registers import RegisterFiles
from planner.settings import Settings

#: A complete organisation: every rule holds.
GOOD = {
    "party": (
        "组织类型,组织名称,网格编码,楼栋编号,党员人数\n"
        f"网格党支部,西网格党支部,{W},,\n"
        f"网格党支部,东网格党支部,{E},,\n"
        "楼栋党小组,b0党小组,,b0,5\n"
        "党员人数,,,b9,2\n"
        "党员中心户,示例王01,,b10,\n"
    ),
    "staff": (
        "姓名,岗位,联系电话,所属网格\n"
        f"甲,网格长,13800000001,{W}\n"
        f"乙,专职网格员,13800000002,{W}\n"
        f"庚,专职网格员,13800000006,{W}\n"
        f"丙,网格长,13800000003,{E}\n"
        f"丁,专职网格员,13800000004,{E}\n"
        f"戊,专职网格员,13800000005,{E}\n"
        f"辛,专职网格员,13800000007,{E}\n"
        f"己,宣传员,,{E}\n"
    ),
    "property": (
        "小区名称,物业公司,是否成立党组织,管理方式\n"
        "小区0,甲物业,是,物业服务企业\n"
        "小区2,乙物业,是,物业服务企业\n"
        "小区4,丙物业,是,物业服务企业\n"
    ),
    "incidents": (
        "上报时间,事件类型,楼栋编号\n"
        "2025-01-01,噪音扰民,b0\n"
        "2025-04-01,噪音扰民,b1\n"
        "2025-07-01,占道经营,b2\n"
        "2025-12-31,垃圾堆放,b9\n"
    ),
}

#: Every norm missed: grid E has no branch, b9 has 4 members and no group, grid E has
#: no full-time worker, grid W's worker serves 720 households (> 500), 小区2 is
#: abandoned and 小区4 has no party organisation (東 community 0% red).
BAD = {
    "party": (
        "组织类型,组织名称,网格编码,楼栋编号,党员人数\n"
        f"网格党支部,西网格党支部,{W},,\n"
        "党员人数,,,b9,4\n"
    ),
    "staff": (
        f"姓名,岗位,所属网格\n甲,网格长,{W}\n乙,专职网格员,{W}\n丙,网格长,{E}\n己,宣传员,{E}\n"
    ),
    "property": (
        "小区名称,物业公司,是否成立党组织,管理方式\n"
        "小区0,甲物业,是,物业服务企业\n"
        "小区2,,否,弃管\n"
        "小区4,丙物业,否,物业服务企业\n"
    ),
    "incidents": GOOD["incidents"],
}


def _organise(
    tmp_path: Path, texts: dict[str, str], settings: Settings | None = None
) -> Organisation:
    paths = {k: write_csv(tmp_path, f"{k}.csv", v) for k, v in texts.items()}
    files = RegisterFiles(**paths)  # type: ignore[arg-type]
    street, grids = org_street()
    return organise(read_or_raise(files), street, grids, settings=settings)


def _row(report: OrgReport, code: str) -> dict[str, object]:
    return report.by_grid.set_index("code").loc[code].to_dict()  # type: ignore[no-any-return]


def test_every_rule_holds_on_a_complete_organisation(tmp_path: Path) -> None:
    report = _organise(tmp_path, GOOD).report
    assert [c.name for c in report.checks] == [
        "org_branch", "org_party_groups", "org_team", "org_workload", "org_red_property",
        "org_abandoned", "org_incidents",
    ]  # fmt: skip
    assert report.ok, report.to_text()
    w, e = _row(report, W), _row(report, E)
    assert (w["branch"], w["party_groups"], w["party_members"]) == ("西网格党支部", 1, 5)
    assert (e["central_households"], e["party_members"]) == (1, 2)
    assert (w["leaders"], w["full_time"], w["part_time"]) == (1, 2, 0)
    assert (e["full_time"], e["part_time"], e["households_per_full_time"]) == (3, 1, 480.0)
    assert e["team"] == "网格长：丙；专职网格员：丁；专职网格员：戊；专职网格员：辛；宣传员：己"
    assert (w["compounds"], e["compounds"], e["red_property_pct"]) == (1, 2, 100.0)


def test_every_rule_fails_when_its_norm_is_missed(tmp_path: Path) -> None:
    report = _organise(tmp_path, BAD).report
    failed = {c.name: c for c in report.checks if not c.passed}
    assert set(failed) == {"org_branch", "org_party_groups", "org_team", "org_workload",
                           "org_red_property", "org_abandoned"}  # fmt: skip
    assert [v.grids for v in failed["org_branch"].violations] == [(E,)]
    assert "b9" in failed["org_party_groups"].violations[0].message
    assert failed["org_team"].violations[0].message == (
        f"grid {E}'s team is incomplete: 1 leader(s), 0 full-time worker(s)"
    )
    assert failed["org_workload"].violations[0].message == (
        f"grid {W}: 720 households per full-time worker, above 500"
    )
    assert [v.message for v in failed["org_red_property"].violations] == [
        "community 东社区: red property 0.0%, below 80%"
    ]
    assert failed["org_abandoned"].violations[0].message == (
        f"grid {E}: abandoned or unmanaged compound(s) 小区2"
    )
    zh = report.to_text("zh")
    assert "网格 " + E + " 没有党支部" in zh and "[不通过]" in zh
    v = failed["org_branch"].violations[0]
    assert v.lon is not None and 116 < v.lon < 117 and 39 < v.lat < 41  # type: ignore[operator]


def test_norms_are_settings(tmp_path: Path) -> None:
    loose = Settings(
        org_party_group_min_members=5,
        org_households_per_worker_max=800,
        org_red_property_target_pct=30,
    )
    report = _organise(tmp_path, BAD, loose).report
    passed = {c.name for c in report.checks if c.passed}
    assert {"org_party_groups", "org_workload"} <= passed
    # 1 of 3 compounds red: the street's figure, and 东社区 is still at 0%
    red = next(c for c in report.checks if c.name == "org_red_property")
    assert str(red.figure) == "1 of 3 compounds have red property (33.3%)"
    assert not red.passed


def test_a_shared_branch_counts_for_every_grid_it_names(tmp_path: Path) -> None:
    texts = dict(GOOD)
    texts["party"] = f"组织类型,组织名称,网格编码\n网格党支部,联合党支部,{W}、{E}\n"
    report = _organise(tmp_path, texts).report
    assert _row(report, W)["branch_shared_with"] == E
    assert _row(report, E)["branch"] == "联合党支部"
    assert next(c for c in report.checks if c.name == "org_branch").passed


def test_incidents_per_year_per_100_households_and_top_categories(tmp_path: Path) -> None:
    report = _organise(tmp_path, GOOD).report
    assert report.period_days == 365
    w = _row(report, W)
    assert w["incidents"] == 3 and w["incidents_per_year"] == 3.0
    assert w["incidents_per_100_households"] == round(100 * 3.0 / 720, 2)
    assert w["top_categories"] == "噪音扰民 2；占道经营 1"
    inc = next(c for c in report.checks if c.name == "org_incidents")
    assert str(inc.figure) == f"4 in 365 days, {100 * 4 / 2160:.2f} per 100 households per year"


def test_rules_of_a_missing_register_are_not_checked(tmp_path: Path) -> None:
    report = _organise(tmp_path, {"staff": GOOD["staff"]}).report
    assert [c.name for c in report.checks] == ["org_team", "org_workload"]
    assert report.missing == ["party", "property", "incidents"]
    assert "[not checked] no party-organisation register given" in report.to_text()


def test_grid_layer_carries_counts_and_names_only_when_asked(tmp_path: Path) -> None:
    org = _organise(tmp_path, GOOD)
    _, grids = org_street()
    layer = org.grid_layer(grids)
    assert list(layer["full_time"]) == [2, 3] and list(layer["has_branch"]) == [True, True]
    assert not {"branch", "team", "phone"} & set(layer.columns)
    text = layer.drop(columns="geometry").to_string()
    assert "13800000001" not in text and "甲" not in text
    named = org.grid_layer(grids, with_names=True)
    assert list(named["branch"]) == ["西网格党支部", "东网格党支部"]
    assert "13800000001" not in named.drop(columns="geometry").to_string()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_text_lists_every_rule(tmp_path: Path, lang: str) -> None:
    text = _organise(tmp_path, BAD).report.to_text(lang)
    assert text.count("\n  [") == 7
