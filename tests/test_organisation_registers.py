"""The organisation registers: read like the household register, joined by every key."""

from __future__ import annotations

from pathlib import Path

import pytest
from org_streets import E, W, org_street, write_csv
from pyproj import Transformer

from planner.crs import WGS84, from_wgs84
from planner.errors import InputError, ProblemLog
from planner.organisation.organise import read_or_raise
from planner.organisation.registers import (
    RegisterFiles,
    join_registers,
    parse_dates,
    read_register,
)


def _join(files: RegisterFiles):  # type: ignore[no-untyped-def]
    street, grids = org_street()
    problems = ProblemLog()
    regs = join_registers(
        read_or_raise(files), street.buildings, street.compounds, grids, problems=problems
    )
    return regs, problems


def _point(street, building: str) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """WGS84 lon/lat of a point inside ``building``."""
    b = street.buildings.set_index("building_id").loc[building, "geometry"]
    p = b.representative_point()
    lon, lat = Transformer.from_crs(street.crs, WGS84, always_xy=True).transform(p.x, p.y)
    return float(lon), float(lat)


def test_staff_rows_join_by_every_key(tmp_path: Path) -> None:
    text = (
        "姓名,岗位,联系电话,所属网格,楼栋编号,小区名称,楼栋地址,社区\n"
        f"甲,网格长,13800000000,{W},,,,\n"  # full code
        "乙,专职网格员,,0201,,,,\n"  # a tail of the code naming one grid
        f"丙,宣传员,,{W}、{E},,,,\n"  # two grids
        "丁,治安巡查员,,,b9,,,\n"  # building id (grid E)
        "戊,矛盾纠纷调解员,,,,小区0,,\n"  # compound (grid W)
        "己,兼职网格员,,,,小区0,2号楼,\n"  # address in a compound (grid W)
        "庚,楼栋长,,,,,,东社区\n"  # community (every grid of it)
    )
    regs, _ = _join(RegisterFiles(staff=write_csv(tmp_path, "staff.csv", text)))
    staff = regs.table("staff")
    assert staff is not None and regs.unmatched["staff"] == []
    got = dict(zip(staff["name"], staff["grids"], strict=True))
    assert got == {"甲": (W,), "乙": (E,), "丙": (W, E), "丁": (E,), "戊": (W,), "己": (W,),
                   "庚": (E,)}  # fmt: skip
    posts = dict(zip(staff["name"], staff["post"], strict=True))
    assert posts == {"甲": "leader", "乙": "full_time", "丙": "publicity", "丁": "patrol",
                     "戊": "mediator", "己": "part_time", "庚": "other"}  # fmt: skip
    assert staff.set_index("name").at["己", "building_id"] == "b1"


@pytest.mark.parametrize("crs", ["wgs84", "gcj02", "bd09"])
def test_incidents_by_point_in_each_coordinate_system(tmp_path: Path, crs: str) -> None:
    street, _ = org_street()
    lon, lat = _point(street, "b9")  # grid E
    (x,), (y,) = from_wgs84([lon], [lat], crs)  # type: ignore[arg-type]
    text = f"上报时间,事件类型,经度,纬度\n2025-03-01,噪音扰民,{x:.7f},{y:.7f}\n"
    path = write_csv(tmp_path, "incidents.csv", text)
    regs, _ = _join(RegisterFiles(incidents=path, incidents_crs=crs))  # type: ignore[arg-type]
    inc = regs.table("incidents")
    assert inc is not None and list(inc["grids"]) == [(E,)]
    assert abs(inc["lon"].iloc[0] - lon) < 1e-6 and abs(inc["lat"].iloc[0] - lat) < 1e-6


def test_gbk_csv_and_xlsx_read_like_utf8(tmp_path: Path) -> None:
    from openpyxl import Workbook

    rows = [
        ["小区名称", "物业公司", "是否成立党组织", "管理方式"],
        ["小区0", "甲物业", "是", "物业服务企业"],
        ["小区2", "", "否", "弃管"],
    ]
    text = "\n".join(",".join(r) for r in rows) + "\n"
    utf8 = write_csv(tmp_path, "p8.csv", text)
    gbk = write_csv(tmp_path, "pg.csv", text, encoding="gbk")
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["物业台账（合成）"])  # a title row above the header
    for r in rows:
        ws.append(r)
    wb.save(tmp_path / "p.xlsx")
    cols = ["compound_id", "company", "party_org", "abandoned"]
    tables = [_join(RegisterFiles(property=p))[0].table("property") for p in
              (utf8, gbk, tmp_path / "p.xlsx")]  # fmt: skip
    assert all(t is not None for t in tables)
    first = tables[0][cols].reset_index(drop=True)  # type: ignore[index]
    assert first.to_dict("list") == {"compound_id": ["c0", "c2"], "company": ["甲物业", ""],
                                     "party_org": [True, False], "abandoned": [False, True]}  # fmt: skip
    for t in tables[1:]:
        assert t[cols].reset_index(drop=True).equals(first)  # type: ignore[index]


def test_unmatched_rows_are_listed_with_the_reason(tmp_path: Path) -> None:
    text = (
        "组织类型,组织名称,网格编码,楼栋编号,楼栋名称,小区名称,党员人数\n"
        "网格党支部,甲支部,99999999,,,,\n"
        "楼栋党小组,乙小组,,NOPE,,,3\n"
        "楼栋党小组,丙小组,,,2号楼,,3\n"  # 6 buildings are named 2号楼
        "楼栋党小组,丁小组,,,2号楼,没有这个小区,3\n"
        "网格党支部,戊支部,,,,,\n"
    )
    regs, problems = _join(RegisterFiles(party=write_csv(tmp_path, "party.csv", text)))
    reasons = {u.row: (u.key, u.reason) for u in regs.unmatched["party"]}
    assert reasons[2] == ("99999999", "no grid with code 99999999")
    assert reasons[3] == ("NOPE", "no such building")
    assert reasons[4][1].startswith("6 buildings have this name")
    assert reasons[5][1] == "no such compound"
    assert reasons[6][1] == "no grid, building, compound or location given"
    assert len(regs.table("party")) == 0  # type: ignore[arg-type]
    warned = [p for p in problems.problems if p.severity == "warning"]
    assert len(warned) == 5 and warned[0].file.endswith("party.csv")  # type: ignore[union-attr]
    assert warned[0].feature_id == "row 2"


def test_bad_cells_are_errors_naming_file_row_and_field(tmp_path: Path) -> None:
    party = write_csv(tmp_path, "party.csv", "组织类型,网格编码\n党员之家,0101\n")
    staff = write_csv(
        tmp_path, "staff.csv", "姓名,岗位,电话,所属网格\n甲,网格长,12ab,0101\n乙,,,0101\n"
    )
    prop = write_csv(tmp_path, "prop.csv", "小区名称,是否成立党组织\n小区0,也许\n")
    inc = write_csv(
        tmp_path,
        "inc.csv",
        "日期,类别,经度,纬度\n2025-13-45,噪音,116.3,39.9\n2025-01-01,噪音,39.9,116.3\n",
    )
    with pytest.raises(InputError) as err:
        read_or_raise(RegisterFiles(party=party, staff=staff, property=prop, incidents=inc))
    text = str(err.value)
    assert (
        "[file "
        + str(party)
        + ", feature row 2, field '组织类型'] unknown party-organisation level: '党员之家'"
        in text
    )
    assert f"[file {staff}, feature row 2, field '电话'] not a phone number: '12ab'" in text
    assert f"[file {staff}, feature row 3, field '岗位'] no post given" in text
    assert (
        f"[file {prop}, feature row 2, field '是否成立党组织'] neither yes nor no: '也许'" in text
    )
    assert f"[file {inc}, feature row 2, field '日期'] not a date: '2025-13-45'" in text
    assert f"[file {inc}, feature row 3, field '经度'] longitude/latitude outside China" in text
    assert "Fix:" in text


def test_many_bad_cells_give_ten_errors_and_a_count(tmp_path: Path) -> None:
    rows = "".join(f"甲{i},网格长,x{i},0101\n" for i in range(13))
    staff = write_csv(tmp_path, "staff.csv", "姓名,岗位,电话,所属网格\n" + rows)
    with pytest.raises(InputError) as err:
        read_or_raise(RegisterFiles(staff=staff))
    text = str(err.value)
    assert text.count("not a phone number: 'x") == 10
    assert f"[file {staff}, field '电话'] ... and 3 more rows with not a phone number" in text


def test_missing_columns_are_named(tmp_path: Path) -> None:
    problems = ProblemLog()
    path = write_csv(tmp_path, "staff.csv", "备注,其他\n甲,乙\n")
    assert read_register(path, "staff", problems=problems) is None
    text = " ".join(str(p) for p in problems.problems)
    assert "no column 岗位 (post)" in text and "names no grid, building or compound" in text


def test_dates_as_planners_write_them() -> None:
    import pandas as pd

    got = parse_dates(
        pd.Series(
            ["2025-03-01", "2025/3/1", "2025.3.1", "2025年3月1日", "2025-03-01 08:30:00", "x"]
        )
    )
    assert list(got.dt.strftime("%Y-%m-%d")[:5]) == ["2025-03-01"] * 5
    assert pd.isna(got.iloc[5])


def test_total_rows_are_skipped(tmp_path: Path) -> None:
    text = "小区名称,物业公司,是否成立党组织\n小区0,甲物业,是\n合计,,\n"
    regs, _ = _join(RegisterFiles(property=write_csv(tmp_path, "p.csv", text)))
    assert len(regs.table("property")) == 1  # type: ignore[arg-type]


def test_incidents_by_building_id_and_by_address(tmp_path: Path) -> None:
    """Issue 15 item 1: an incident's location may be a building id or an address
    instead of a point; it joins like the other registers' rows."""
    text = (
        "上报时间,事件类型,办理状态,楼栋编号,小区名称,楼栋地址\n"
        "2025-03-01,噪音扰民,已办结,b9,,\n"  # building id (grid E)
        "2025-03-02,环境卫生,办理中,,小区0,2号楼\n"  # address in a compound (grid W)
        "2025-03-03,其他,已办结,b404,,\n"  # no such building: listed
    )
    regs, _ = _join(RegisterFiles(incidents=write_csv(tmp_path, "incidents.csv", text)))
    inc = regs.table("incidents")
    assert inc is not None
    assert list(inc["grids"]) == [(E,), (W,)]
    assert list(inc["building_id"]) == ["b9", "b1"]
    assert [u.row for u in regs.unmatched["incidents"]] == [4]
