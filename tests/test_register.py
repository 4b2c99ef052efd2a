from pathlib import Path

import pandas as pd
import pytest

from planner.errors import InputError, ProblemLog
from planner.load.register import _spread, read_register, register_columns
from planner.load.sources import load_street


def test_spread_keeps_the_total_and_follows_weights() -> None:
    share = _spread(101, pd.Series([1.0, 1.0, 2.0]).to_numpy())
    assert share.sum() == 101
    assert share.tolist() == [25.0, 25.0, 51.0] or share.tolist() == [26.0, 25.0, 50.0]
    assert _spread(7, pd.Series([0.0, 0.0]).to_numpy()).sum() == 7


def test_chinese_and_english_column_names_are_recognised() -> None:
    cols = register_columns(pd.DataFrame(columns=["小区名称", " 楼栋名称 ", "户数", "常住人口"]))
    assert cols == {
        "building_name": " 楼栋名称 ",
        "compound_name": "小区名称",
        "households": "户数",
        "population": "常住人口",
    }
    cols = register_columns(pd.DataFrame(columns=["Building_ID", "Households"]))
    assert cols == {"building_id": "Building_ID", "households": "Households"}


def test_gbk_csv_per_building_by_compound_and_name(street_folder: Path, tmp_path: Path) -> None:
    path = tmp_path / "register.csv"
    # full-width digits and spaces must still match '2号楼' of 阳光小区
    path.write_bytes(
        "小区名称,楼栋名称,户数,人口\n"
        "阳光小区,１号楼,48,120\n"
        "阳光小区, ２号楼 ,60,\n"
        "和平小区,9号楼,10,20\n".encode("gbk")
    )
    s = load_street(street_folder, register=path)
    b = s.buildings.set_index("building_id")
    assert b.loc["B1", "households"] == 48 and b.loc["B1", "population"] == 120
    assert b.loc["B2", "households"] == 60
    assert b.loc["B2", "population"] == pytest.approx(60 * 2.62)
    assert not b.loc["B1", "households_estimated"] and not b.loc["B2", "households_estimated"]
    # B3 is not in the register: estimated, and listed
    assert b.loc["B3", "households_estimated"]
    reg = s.report.register
    assert reg is not None
    assert reg["rows_matched"] == 2
    assert reg["unmatched_rows"] == [{"row": 4, "key": "9号楼", "reason": "no such building"}]
    assert reg["unmatched_buildings"] == ["B3"]
    assert "1 unmatched rows" in s.report.to_text()


def test_ambiguous_building_name_is_an_unmatched_row(street_folder: Path, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("楼栋名称,户数\n1号楼,50\n", encoding="utf-8-sig")
    s = load_street(street_folder, register=path)
    reg = s.report.register
    assert reg is not None and reg["rows_matched"] == 0
    assert "2 buildings have this name" in reg["unmatched_rows"][0]["reason"]


def test_xlsx_per_compound_is_spread_by_floor_area(
    layers: dict, make_folder, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import Workbook

    # B2 twice the floor area of B1 (same footprint, 12 floors instead of 6)
    layers["buildings"] = layers["buildings"].assign(floors=[6, 12, None, 2], households=None)
    wb = Workbook()
    ws = wb.active
    ws.append(["小区编号", "小区名称", "总户数", "常住人口"])
    ws.append(["X1", "阳光小区", 300, 780])
    ws.append(["X9", "不存在小区", 50, None])
    path = tmp_path / "register.xlsx"
    wb.save(path)
    s = load_street(make_folder(layers), register=path)
    b = s.buildings.set_index("building_id")
    assert b.loc["B1", "households"] == 100 and b.loc["B2", "households"] == 200
    assert b.loc["B1", "population"] + b.loc["B2", "population"] == pytest.approx(780)
    reg = s.report.register
    assert reg is not None
    assert reg["rows_matched"] == 1
    assert reg["unmatched_rows"][0]["row"] == 3
    assert reg["households_registered"] == 300


def test_building_id_rows_and_compound_rows_together(street_folder: Path, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("building_id,compound_id,households\nB1,,30\nB1,,5\n,X1,70\n", encoding="utf-8")
    b = load_street(street_folder, register=path).buildings.set_index("building_id")
    assert b.loc["B1", "households"] == 35  # two unit rows added up
    assert b.loc["B2", "households"] == 70  # the compound row goes to the rest


def test_non_numeric_households_in_register_is_an_error(
    street_folder: Path, tmp_path: Path
) -> None:
    path = tmp_path / "r.csv"
    path.write_text("楼栋编号,户数\nB1,四十\nB2,abc\n", encoding="utf-8")
    with pytest.raises(InputError, match="户数 '四十' is not a number") as err:
        load_street(street_folder, register=path)
    text = str(err.value)
    assert "row 2" in text and "row 3" in text and "'abc'" in text


def test_register_without_key_or_count_columns(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("foo,bar\n1,2\n", encoding="utf-8")
    log = ProblemLog()
    assert read_register(path, problems=log) is None
    text = " ".join(str(p) for p in log.problems)
    assert "no households column" in text and "no building or compound column" in text


def test_register_in_a_legacy_encoding_nobody_reads(street_folder: Path, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(b"\xff\xfe\x00\xd8\x00\xd8 broken")
    with pytest.raises(InputError, match="neither UTF-8 nor GBK"):
        load_street(street_folder, register=path)


def test_title_row_above_header_and_total_row_are_handled(
    street_folder: Path, tmp_path: Path
) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["测试街道楼栋户数统计表（2024年）"])
    ws.merge_cells("A1:D1")
    ws.append([])
    ws.append(["序号", "楼栋编号", "户数", "人口"])
    ws.append([1, "B1", 44, 110])
    ws.append([2, "B2", "x", None])  # spreadsheet row 5
    ws.append(["合计", None, 44, 110])
    path = tmp_path / "统计表.xlsx"
    wb.save(path)
    with pytest.raises(InputError, match=r"feature row 5, field '户数'\] 户数 'x' is not a number"):
        load_street(street_folder, register=path)
    ws["C5"] = 60
    wb.save(path)
    s = load_street(street_folder, register=path)
    b = s.buildings.set_index("building_id")
    assert b.loc["B1", "households"] == 44 and b.loc["B2", "households"] == 60
    reg = s.report.register
    assert reg is not None and reg["rows"] == 2 and reg["rows_matched"] == 2
    assert reg["unmatched_rows"] == []
    assert any("total row(s) skipped: row 6" in str(p) for p in s.report.notes)


def test_warning_says_which_unregistered_buildings_keep_layer_households(
    street_folder: Path, tmp_path: Path
) -> None:
    """B1 has households in the layer (kept), B3 has none (estimated): the warning says so."""
    path = tmp_path / "r.csv"
    path.write_text("building_id,households\nB2,60\nNOPE1,5\n", encoding="utf-8-sig")
    s = load_street(street_folder, register=path)
    b = s.buildings.set_index("building_id")
    assert b.loc["B1", "households"] == 40 and not b.loc["B1", "households_estimated"]
    assert b.loc["B3", "households_estimated"]
    text = " ".join(str(p) for p in s.report.notes)
    assert "1 keep the households from the buildings layer" in text
    assert "1 have their households estimated from floor area: B3" in text
    assert "their households are estimated" not in text
    # unmatched keys are shown as written, not lower-cased
    reg = s.report.register
    assert reg is not None and reg["unmatched_rows"][0]["key"] == "NOPE1"
    assert "'NOPE1'" in text


def test_warning_when_every_unregistered_building_has_layer_households(
    layers: dict, make_folder, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    layers["buildings"] = layers["buildings"].assign(households=[40, 30, 20, None])
    path = tmp_path / "r.csv"
    path.write_text("building_id,households\nB2,60\n", encoding="utf-8-sig")
    s = load_street(make_folder(layers), register=path)
    warning = next(str(p) for p in s.report.notes if "not in the register" in str(p))
    assert "2 residential building(s) are not in the register; they keep the households " in warning
    assert "from the buildings layer" in warning and "estimated" not in warning


def test_f45_workbook_data_on_the_second_sheet_is_found_and_the_sheet_named(
    street_folder: Path, tmp_path: Path
) -> None:
    """Review F45: a notes sheet first, the register on sheet 2 under a merged title."""
    from tests.hostile_inputs import workbook

    path = workbook(
        tmp_path / "台账.xlsx",
        {
            "说明": [["请在第二张表填写各楼栋户数"], ["填表人：张三"]],
            "户数": [["测试街道楼栋户数"], ["楼栋编号", "户数"], ["B1", 44], ["B2", 60]],
            "备注": [["无"]],
        },
        merged={"户数": ["A1:B1"]},
    )
    s = load_street(street_folder, register=path)
    b = s.buildings.set_index("building_id")
    assert b.loc["B1", "households"] == 44 and b.loc["B2", "households"] == 60
    (note,) = [p for p in s.report.notes if "sheets" in p.message]
    assert "the workbook has 3 sheets; read sheet '户数' (it holds the table's header)" in (
        note.message
    )
    assert "not read: '说明', '备注'" in note.message and note.file == str(path)


def test_f45_no_sheet_with_a_header_lists_the_sheets(street_folder: Path, tmp_path: Path) -> None:
    from tests.hostile_inputs import workbook

    path = workbook(tmp_path / "r.xlsx", {"说明": [["见附件"]], "Sheet2": [["abc", "def"]]})
    with pytest.raises(InputError) as err:
        load_street(street_folder, register=path)
    assert "no households column" in str(err.value)
    log = ProblemLog()
    read_register(path, problems=log)
    notes = [p for p in log.problems if p.severity == "warning"]
    assert "read sheet '说明' (no sheet names the expected columns); not read: 'Sheet2'" in (
        notes[0].message
    )


def test_f46_merged_compound_cells_are_filled_down(street_folder: Path, tmp_path: Path) -> None:
    """Review F46: the compound name merged over its buildings' rows."""
    from tests.hostile_inputs import workbook

    path = workbook(
        tmp_path / "r.xlsx",
        {
            "Sheet1": [
                ["小区名称", "楼栋名称", "户数"],
                ["阳光小区", "1号楼", 48],
                [None, "2号楼", 60],
                ["和平小区", "1号楼", 70],
            ]
        },
        merged={"Sheet1": ["A2:A3"]},
    )
    s = load_street(street_folder, register=path)
    b = s.buildings.set_index("building_id")
    assert b.loc["B1", "households"] == 48 and b.loc["B2", "households"] == 60
    assert b.loc["B3", "households"] == 70
    reg = s.report.register
    assert reg is not None and reg["rows_matched"] == 3 and reg["unmatched_rows"] == []
    (note,) = [p for p in s.report.notes if "merged" in p.message]
    assert "1 cell range(s) merged over several rows were filled" in note.message
    assert "A2:A3" in note.message and note.severity == "repair"


def test_register_households_fractional_implausible_or_boolean_are_errors(
    street_folder: Path, tmp_path: Path
) -> None:
    """Review F35/F39/F40 in a register: 12.5, 1e20 and TRUE households."""
    from tests.hostile_inputs import workbook

    path = workbook(
        tmp_path / "r.xlsx",
        {"s": [["楼栋编号", "户数"], ["B1", 12.5], ["B2", 1e20], ["B3", True], ["B4", 3]]},
    )
    with pytest.raises(InputError) as err:
        load_street(street_folder, register=path)
    got = {p.feature_id: p.message for p in err.value.problems}
    assert got["row 2"] == "户数 12.5 is not a whole number"
    assert got["row 3"] == "户数 100000000000000000000 is implausible: more than 100,000"
    assert got["row 4"] == "户数 'True' is not a number"
    assert all(p.field == "户数" and p.fix and p.file == str(path) for p in err.value.problems)


def test_register_text_is_cut_and_cleaned(street_folder: Path, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    long_key = "B" + "9" * 5000
    path.write_text(f"楼栋编号,户数\n{long_key},5\nB1\x00,44\n", encoding="utf-8")
    s = load_street(street_folder, register=path)
    assert s.buildings.set_index("building_id").loc["B1", "households"] == 44
    reg = s.report.register
    assert reg is not None and len(reg["unmatched_rows"][0]["key"]) == 200
    text = " ".join(str(p) for p in s.report.notes)
    assert "longer than 200 characters (the longest 5,001)" in text and len(text) < 5000


def test_register_problems_come_with_the_other_files_problems(
    layers: dict, make_folder, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A register was skipped when another file already had an error: one pass now."""
    folder = make_folder(layers)
    (folder / "buildings.geojson").write_text("{ broken", encoding="utf-8")
    path = tmp_path / "r.csv"
    path.write_text("楼栋编号,户数\nB1,四十\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_street(folder, register=path)
    files = {p.file for p in err.value.problems}
    assert files == {str(path), str(folder / "buildings.geojson")}
    assert "户数 '四十' is not a number" in str(err.value)
