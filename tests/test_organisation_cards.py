"""The grid card: what it says, rendered to PDF and read back with pypdf."""

from __future__ import annotations

from pathlib import Path

import pypdf  # a test dependency, in pyproject.toml and environment.yml
from org_streets import E, W, org_street, write_csv

from planner.organisation.cards import grid_cards, write_cards_pdf, write_grid_cards
from planner.organisation.organise import Organisation, organise, read_or_raise
from planner.organisation.registers import RegisterFiles

PARTY = (
    "组织类型,组织名称,网格编码,楼栋编号,党员人数\n"
    f"网格党支部,西网格党支部,{W},,\n"
    "楼栋党小组,b0党小组,,b0,5\n"
    "党员中心户,示例王01,,b1,\n"
)
STAFF = (
    "姓名,岗位,联系电话,所属网格\n"
    f"示例李02,宣传员,13800000003,{W}\n"
    f"示例张03,网格长,13800000001,{W}\n"
    f"示例刘04,专职网格员,13800000002,{W}\n"
)


def _org(tmp_path: Path) -> tuple[Organisation, object, object]:
    files = RegisterFiles(
        party=write_csv(tmp_path, "party.csv", PARTY), staff=write_csv(tmp_path, "staff.csv", STAFF)
    )
    street, grids = org_street()
    grids["population"] = [1886.4, 3772.8]
    return organise(read_or_raise(files), street, grids), street, grids


def _text(path: Path) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(path).pages]


def test_card_says_code_households_branch_and_team_leader_first(tmp_path: Path) -> None:
    org, street, grids = _org(tmp_path)
    cards = grid_cards(org, street, grids)  # type: ignore[arg-type]
    assert [c.code for c in cards] == [E, W]  # by community id (e, w), then code
    w = cards[1]
    assert w.lines()[:5] == [
        f"网格编码：{W}",
        "所属社区：西社区",
        "户数：720 户    常住人口：1,886 人",
        "网格党支部：西网格党支部",
        "楼栋党小组：1 个    党员中心户：1 户    党员：5 名",
    ]
    assert w.team == (("网格长", "示例张03", ""), ("专职网格员", "示例刘04", ""),
                      ("宣传员", "示例李02", ""))  # fmt: skip
    assert (
        "网格党支部：未建立" in cards[0].lines() and "网格队伍（1+1+n）：未配备" in cards[0].lines()
    )
    phoned = grid_cards(org, street, grids, phones=True)  # type: ignore[arg-type]
    assert phoned[1].team[0] == ("网格长", "示例张03", "13800000001")


def test_pdf_pages_read_back_in_chinese_with_the_font_embedded(tmp_path: Path) -> None:
    org, street, grids = _org(tmp_path)
    path = write_cards_pdf(grid_cards(org, street, grids), street, grids, tmp_path / "c.pdf")  # type: ignore[arg-type]
    pages = _text(path)
    assert len(pages) == 2
    west = pages[1]
    for text in (f"网格编码：{W}", "网格党支部：西网格党支部", "网格长：示例张03",
                 "专职网格员：示例刘04", "户数：720 户"):  # fmt: skip
        assert text in west, text
    assert "13800000001" not in west  # phones off by default
    fonts = pypdf.PdfReader(path).pages[1]["/Resources"]["/Font"]
    for ref in fonts.values():
        font = ref.get_object()
        assert "NotoSansCJK" in font["/BaseFont"]
        desc = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in desc  # embedded TrueType, not a reference to a system font


def test_phones_only_when_asked_and_one_pdf_per_community(tmp_path: Path) -> None:
    org, street, grids = _org(tmp_path)
    paths = write_grid_cards(org, street, grids, tmp_path, phones=True, by_community=True)  # type: ignore[arg-type]
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "grid_cards.pdf", "grid_cards/e.pdf", "grid_cards/w.pdf",
    ]  # fmt: skip
    assert "示例张03  13800000001" in _text(tmp_path / "grid_cards.pdf")[1]
    assert len(_text(tmp_path / "grid_cards" / "w.pdf")) == 1
    assert f"网格编码：{E}" in _text(tmp_path / "grid_cards" / "e.pdf")[0]


def test_nearest_station_is_the_one_serving_most_households(tmp_path: Path) -> None:
    org, street, grids = _org(tmp_path)
    b = street.buildings.copy()  # type: ignore[attr-defined]
    ids = b["building_id"].str[1:].astype(int)
    b["station_name"] = ["甲站" if i <= 8 or 27 <= i <= 29 else "乙站" for i in ids]
    b["time_min"] = ids.astype(float)  # W holds b0-b8 and b27-b35
    cards = grid_cards(org, street, grids, buildings=b)  # type: ignore[arg-type]
    west = cards[1]
    assert (west.station, west.walk_min) == ("甲站", 17.5)  # median of 0-8 and 27-35
    assert "最近党群服务站：甲站，住户步行中位 18 分钟" in west.lines()


def test_a_staff_register_matching_no_grid_gives_cards_without_team(tmp_path: Path) -> None:
    files = RegisterFiles(
        staff=write_csv(tmp_path, "s.csv", "姓名,岗位,所属网格\n示例甲,网格长,99999999\n")
    )
    street, grids = org_street()
    org = organise(read_or_raise(files), street, grids)
    assert len(org.registers.table("staff")) == 0  # type: ignore[arg-type]
    assert [c.team for c in grid_cards(org, street, grids)] == [(), ()]
