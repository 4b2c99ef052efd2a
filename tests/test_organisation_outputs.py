"""The organisation in a run's files: the demo's synthetic registers, tables, layers, report."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from org_streets import W, write_csv

from planner import pipeline
from planner.cli.parser import main
from planner.export.outputs import output_layers
from planner.load.sources import demo_dir

FAST = ["--no-siting", "--no-images", "--no-html", "--formats", "geojson,csv,xlsx", "-q"]
#: The demo run keeps the HTML red map (the organisation layers are drawn on it).
DEMO = [a for a in FAST if a != "--no-html"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pipeline.RunResult, int]:
    out = tmp_path_factory.mktemp("org_demo")
    kept: dict[str, Any] = {}
    real = pipeline.run_pipeline

    def spy(*args: Any, **kwargs: Any) -> pipeline.RunResult:
        kept["result"] = real(*args, **kwargs)
        return kept["result"]

    mp = pytest.MonkeyPatch()
    import planner.cli.run as cmd

    mp.setattr(cmd, "run_pipeline", spy)
    try:
        code = main(["demo", "--out", str(out), *DEMO])
    finally:
        mp.undo()
    return out, kept["result"], code


def test_demo_writes_the_organisation_files(demo: tuple[Path, pipeline.RunResult, int]) -> None:
    out, result, code = demo
    assert code == 0 and result.organisation is not None  # organisation rules never exit 1
    table = pd.read_csv(out / "organisation_by_grid.csv", encoding="utf-8-sig", dtype={"code": str})
    assert table["code"].tolist() == result.grids.grids["code"].tolist()  # type: ignore[union-attr]
    for col in ("branch", "leaders", "full_time", "part_time", "households_per_full_time",
                "incidents_per_100_households", "team_complete", "red_property_ok"):  # fmt: skip
        assert col in table.columns, col
    assert (out / "organisation_by_community.csv").exists()
    from openpyxl import load_workbook

    sheets = load_workbook(out / "tables.xlsx", read_only=True).sheetnames
    assert {"organisation_by_grid", "organisation_by_community"} <= set(sheets)
    # every organisation feature shows on the demo: each rule passes somewhere and fails somewhere
    report = result.organisation.report
    assert len(report.checks) == 7 and report.missing == []
    assert not table["has_branch"].all() and table["has_branch"].sum() > 60
    assert not table["team_complete"].all() and table["team_complete"].sum() > 60
    assert (table["branch_shared_with"].fillna("") != "").sum() == 2
    regs = result.organisation.registers
    assert all(not regs.unmatched[k] for k in ("party", "staff", "property", "incidents"))


def test_rules_report_keeps_the_organisation_apart(
    demo: tuple[Path, pipeline.RunResult, int],
) -> None:
    out, _, _ = demo
    text = (out / "grid_rules.txt").read_text("utf-8")
    geometric, organisation = text.split("Organisation rules:")
    assert "Proof of the grid rules" in geometric and "party branch" not in geometric
    assert "[FAIL ] every grid has a party branch" in organisation
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["grids"]["rules_ok"] is True
    assert summary["organisation"]["ok"] is False
    staff_rows = len(pd.read_csv(demo_dir() / "register_staff.csv"))
    assert summary["organisation"]["registers"]["staff"]["rows_matched"] == staff_rows


def test_grids_geojson_has_counts_never_names_or_phones(
    demo: tuple[Path, pipeline.RunResult, int],
) -> None:
    out, result, _ = demo
    grids = pyogrio.read_dataframe(out / "grids.geojson")
    assert {"has_branch", "party_groups", "leaders", "full_time", "part_time"} <= set(grids.columns)
    assert not {"branch", "team", "phone"} & set(grids.columns)
    raw = (out / "grids.geojson").read_text("utf-8")
    assert not re.search(r"示例.\d\d", raw) and "1380000" not in raw  # no person, no phone
    named = output_layers(result, organisation_names=True)["grids"]
    assert named["branch"].str.contains("党支部").any() and named["team"].str.contains("示例").any()
    assert not named.drop(columns="geometry").astype(str).apply(
        lambda c: c.str.contains("1380000")
    ).any().any()  # fmt: skip


def test_no_registers_flag_and_a_bad_register_exit_2(tmp_path: Path, capsys: Any) -> None:
    bad = write_csv(tmp_path, "staff.csv", f"姓名,岗位,电话,所属网格\n甲,网格长,12ab,{W}\n")
    code = main(["demo", "--out", str(tmp_path / "o"), "--staff-register", str(bad), *FAST])
    err = capsys.readouterr().err
    assert code == 2 and f"file {bad}, feature row 2, field '电话'" in err
    assert not (tmp_path / "o" / "COMPLETE").exists()  # said before the long steps


def test_grids_command_checks_the_organisation(tmp_path: Path) -> None:
    out = tmp_path / "g"
    assert main(["grids", "demo", "--out", str(out)]) == 0
    assert "Organisation rules:" in (out / "grid_report.txt").read_text("utf-8")
    assert (out / "organisation_by_grid.csv").exists()
    doc = json.loads((out / "grid_report.json").read_text("utf-8"))
    assert doc["organisation"]["checks"][0]["name"] == "org_branch"
    layer = gpd.read_file(out / "grids.geojson")
    assert layer["has_branch"].notna().all() and "branch" not in layer.columns  # counts only
    named = tmp_path / "named"
    assert main(["grids", "demo", "--out", str(named), "--organisation-names"]) == 0
    assert gpd.read_file(named / "grids.geojson")["branch"].notna().any()
    none = tmp_path / "n"
    assert main(["grids", "demo", "--out", str(none), "--no-registers"]) == 0
    assert not (none / "organisation_by_grid.csv").exists()
    assert "has_branch" not in gpd.read_file(none / "grids.geojson").columns


def test_grids_command_refuses_the_card_flags_it_cannot_honour(tmp_path: Path, capsys: Any) -> None:
    code = main(["grids", "demo", "--out", str(tmp_path / "g"), "--card-phones"])
    assert code == 2 and "python -m planner run" in capsys.readouterr().err


def test_red_map_html_carries_the_organisation_layers(
    demo: tuple[Path, pipeline.RunResult, int],
) -> None:
    out, _, _ = demo
    text = (out / "redmap.html").read_text("utf-8")
    for name in ("党支部与楼栋党小组", "小区红色物业", "网格检查：网格队伍（1+1+n）"):
        assert json.dumps(name)[1:-1] in text, name
    assert "1380000" not in text  # no phone on the map


def test_run_flags_reach_the_pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every organisation flag of ``run`` reaches the pipeline as the README names it
    (the pipeline is replaced: the hand-over only); off by default."""
    import planner.cli.run as cmd

    given: dict[str, Any] = {}

    def fake_pipeline(source: object, out_dir: object, **kw: Any) -> pipeline.RunResult:
        given.clear()
        given.update(kw)
        raise SystemExit(0)

    monkeypatch.setattr(cmd, "run_pipeline", fake_pipeline)
    files = {k: tmp_path / f"{k}.csv" for k in ("party", "staff", "property", "incident")}
    flags = [a for k, p in files.items() for a in (f"--{k}-register", str(p))]
    other = tmp_path / "zz.geojson"
    with pytest.raises(SystemExit):
        main(["run", "demo", "--out", str(tmp_path / "o"), "-q", *flags, "--incidents-crs",
              "gcj02", "--organisation-names", "--card-phones", "--cards-by-community",
              "--other-grids", str(other), "--nest-in", str(other)])  # fmt: skip
    regs = given["registers"]
    assert (regs.party, regs.staff, regs.property, regs.incidents) == tuple(files.values())
    assert regs.incidents_crs == "gcj02"
    assert given["organisation_names"] and given["card_phones"] and given["cards_by_community"]
    assert given["other_grids"] == [other] and given["nest_in"] == other
    with pytest.raises(SystemExit):
        main(["run", "demo", "--out", str(tmp_path / "o"), "-q"])
    assert given["registers"].staff == demo_dir() / "register_staff.csv"  # the demo's own
    assert not (given["organisation_names"] or given["card_phones"])  # private by default
    assert not given["cards_by_community"] and given["other_grids"] == []
    with pytest.raises(SystemExit) as bad:  # an unknown coordinate system: a usage error
        main(["run", "demo", "--out", str(tmp_path / "o"), "--incidents-crs", "utm"])
    assert bad.value.code == 2
