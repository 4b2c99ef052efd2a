"""Re-division with the least disruption: a new estate on the demo street, and locks."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from planner.cli import main
from planner.grids.division import GridResult, divide
from planner.grids.edits import GridEditor
from planner.grids.keep import KeepResult, divide_keeping, redivide_editor
from planner.grids.recode import recode_grids
from planner.settings import Settings
from planner.street import Street
from planner.synthetic.demo import make_demo, write_folder
from planner.synthetic.estate import add_estate

S = Settings(code_county="610113", code_street="099")


@pytest.fixture(scope="module")
def before() -> tuple[Street, GridResult]:
    street = make_demo().to_street(S)
    return street, divide(street, settings=S)


@pytest.fixture(scope="module")
def after() -> Street:
    return add_estate(make_demo()).to_street(S)


def _code_of_building(street: Street, result: GridResult) -> pd.Series:
    """Grid code of each building, by building id (an oracle independent of keep.py)."""
    code = result.atoms.set_index("atom_id")["code"]
    return pd.Series(
        result.building_atom.map(code).to_numpy(),
        index=street.buildings["building_id"].to_numpy(),
    )


def _kept_share(before: tuple[Street, GridResult], result: GridResult, after: Street) -> float:
    """Share of the old street's households whose building has the same code now."""
    old_street, old = before
    was = _code_of_building(old_street, old)
    now = _code_of_building(after, result).reindex(was.index)
    hh = pd.Series(
        old_street.buildings["households"].fillna(0).to_numpy(), index=was.index, dtype=float
    )
    return float(hh[was == now].sum() / hh.sum())


def test_add_estate_builds_a_compound_on_free_land(after: Street) -> None:
    estate = after.compounds[after.compounds["compound_id"] == "XQNEW"]
    assert len(estate) == 1
    towers = after.buildings[after.buildings["compound_id"] == "XQNEW"]
    assert len(towers) == 6 and towers["households"].sum() == 6 * 18 * 4
    others = after.buildings[after.buildings["compound_id"] != "XQNEW"]
    assert not others.intersects(estate.geometry.iloc[0]).any()


@pytest.fixture(scope="module")
def kept(before: tuple[Street, GridResult], after: Street) -> KeepResult:
    return divide_keeping(after, before[1].grids, settings=S, previous_atoms=before[1].atoms)


def test_a_new_estate_keeps_at_least_90_percent_of_households_in_grid_and_code(
    before: tuple[Street, GridResult], after: Street, kept: KeepResult
) -> None:
    assert kept.result.report.ok
    share = _kept_share(before, kept.result, after)
    assert share >= 0.9
    assert kept.kept_share == pytest.approx(share, abs=0.005)  # its own figure agrees
    # dividing from scratch (the old behaviour) keeps fewer
    fresh = divide(after, settings=S)
    assert _kept_share(before, fresh, after) < share
    # only the grid holding the estate's land was divided again, and the report says why
    assert len(kept.reopened) >= 1
    row = kept.reopened.iloc[0]
    # the estate is built on a park: its dedicated grid (专属网格) now holds homes
    assert "dedicated grid now holds 432 households" in row["why"]
    assert row["households_now"] == 432
    assert row["heir"] == row["code"]  # the old households keep its code
    assert set(kept.moves["old_code"]) <= set(kept.reopened["code"]) | {""}
    assert "XQNEW" in set(kept.moves["compound_id"])  # the estate's land moved to a new grid
    text = kept.to_text()
    assert "kept their grid and code" in text and row["code"] in text


def test_kept_grids_are_exactly_the_previous_ones_and_no_code_moves(
    before: tuple[Street, GridResult], kept: KeepResult
) -> None:
    old = before[1].grids.set_index("code")
    new = kept.result.grids.set_index("code")
    untouched = sorted(set(old.index) - set(kept.reopened["code"]))
    assert set(untouched) <= set(new.index)
    same = new.loc[untouched].geometry.symmetric_difference(old.loc[untouched].geometry)
    assert (same.area < 1.0).all()
    # every new code is new: never one a previous grid held
    brand_new = set(new.index) - set(old.index)
    assert brand_new and not (brand_new & kept.retired)
    assert kept.retired == set(old.index) - set(new.index)


def test_without_previous_atoms_it_still_keeps_90_percent(
    before: tuple[Street, GridResult], after: Street
) -> None:
    res = divide_keeping(after, before[1].grids, settings=S)
    assert res.result.report.ok
    assert _kept_share(before, res.result, after) >= 0.9


def test_locked_grids_never_change_under_any_automatic_step(
    before: tuple[Street, GridResult], after: Street, kept: KeepResult
) -> None:
    street, old = before
    broken = kept.reopened["code"].iloc[0]  # the grid the estate breaks
    quiet = sorted(set(old.grids["code"]) - {broken})[:3]
    locks = [broken, *quiet]
    editor = GridEditor.from_result(street, old, settings=S)
    editor.lock(*locks)
    geom = old.grids.set_index("code").geometry

    def unchanged(grids: pd.DataFrame) -> None:
        g = grids.set_index("code")
        for c in locks:
            assert c in g.index, c
            assert g.at[c, "locked"]
            assert g.geometry[c].symmetric_difference(geom[c]).area < 1.0, c

    # 1. re-divide in the editor (the partition's repairs included)
    editor.redivide(seed=3)
    unchanged(editor.grids)
    # 2. keep on new data: the locked grid the estate breaks is not divided again
    new_editor, res = redivide_editor(editor, after)
    assert broken not in set(res.reopened["code"])
    unchanged(res.result.grids.assign(locked=res.result.grids["code"].isin(locks)))
    assert new_editor.locked == set(locks)
    unchanged(new_editor.grids)
    # the locked park grid keeps its outline; holding the estate's homes it is now a
    # residential grid, and reported if it breaks a rule, never changed
    g = res.result.grids.set_index("code")
    fits = g.at[broken, "kind"] == "residential" and 200 <= g.at[broken, "households"] <= 500
    assert fits or any(broken in v.grids for v in res.result.report.violations)
    # 3. re-coding everything anew
    file = editor.grids.drop(columns=["grid_id"])
    again = recode_grids(file, street, settings=S, mode="all")
    assert again.grids.set_index(file["code"].to_numpy()).loc[locks, "code"].tolist() == locks


def test_grids_command_with_keep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = tmp_path / "first"
    assert main(["grids", "demo", "--out", str(first)]) == 0
    capsys.readouterr()
    folder = tmp_path / "estate"
    write_folder(add_estate(make_demo()), folder)
    second = tmp_path / "second"
    args = ["grids", str(folder), "--out", str(second), "--keep", str(first / "grids.geojson")]
    assert main([*args, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out.split("\nWrote ")[0])
    assert doc["keep"]["kept_share"] >= 0.9 and doc["keep"]["grids_reopened"] >= 1
    moves = pd.read_csv(second / "grid_moves.csv", dtype=str, encoding="utf-8-sig")
    assert {"atom_id", "old_code", "code", "households", "why"} <= set(moves.columns)
    assert "XQNEW" in set(moves["compound_id"])
    report = (second / "grid_report.txt").read_text(encoding="utf-8")
    assert "Kept from the previous grids" in report
    old = json.loads((first / "grids.geojson").read_text(encoding="utf-8"))
    new = json.loads((second / "grids.geojson").read_text(encoding="utf-8"))
    old_codes = {f["properties"]["code"] for f in old["features"]}
    new_codes = {f["properties"]["code"] for f in new["features"]}
    assert len(old_codes & new_codes) >= len(old_codes) - 1
    assert set(new.get("retired_codes", [])) == old_codes - new_codes


def test_the_report_reads_in_chinese(kept: KeepResult) -> None:
    zh = kept.to_text("zh")
    code = kept.reopened["code"].iloc[0]
    assert zh.startswith("沿用原网格：") and "保留原网格和编码" in zh
    # the estate lands on a park's dedicated grid: homes there send it back to division
    assert f"{code}：专属网格现有 432 户居民" in zh
    assert kept.to_text().startswith("Kept from the previous grids:")


def test_grids_of_another_street_are_refused(
    tmp_path: Path, before: tuple[Street, GridResult], after: Street
) -> None:
    from planner.errors import InputError

    far = before[1].grids.copy()
    far["geometry"] = far.geometry.translate(5000, 0)
    with pytest.raises(InputError, match=r"cover only 0% of the street") as e:
        divide_keeping(after, far, settings=S, name="old.geojson")
    assert e.value.problems[0].file == "old.geojson"
    with pytest.raises(InputError, match="no 'code' column"):
        divide_keeping(after, far.drop(columns="code"), settings=S)
