"""The data-completeness table reaches every output: summary.json, the maps, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner import cli
from planner.maps import image as mi
from planner.maps.redmap import red_map
from planner.street import Completeness
from tests.app_street import tiny_street
from tests.export_streets import small_street

GUESSED = Completeness(
    buildings={"register": 0, "data": 3, "estimate": 40, "unknown": 60},
    households={"register": 0, "data": 0, "estimate": 2_400, "unknown": 0},
    non_residential=3,
)
KNOWN = Completeness(
    buildings={"register": 40, "data": 3, "estimate": 2, "unknown": 1},
    households={"register": 2_300, "data": 0, "estimate": 100, "unknown": 0},
)


@pytest.mark.parametrize(("lang", "warning"), [("zh", "⚠ 警告"), ("en", "⚠ WARNING")])
def test_red_map_notes_say_where_households_come_from(lang: str, warning: str) -> None:
    street = tiny_street(synthetic=False)
    street.report.completeness = GUESSED
    html = red_map(street, lang=lang).get_root().render()
    assert warning in html and "100%" in html
    assert GUESSED.short(lang) in html
    street.report.completeness = KNOWN
    html = red_map(street, lang=lang).get_root().render()
    assert warning not in html and KNOWN.short(lang) in html


def test_printed_map_carries_the_warning() -> None:
    street = small_street(synthetic=False)
    street.report.completeness = GUESSED
    texts = "\n".join(t.get_text() for t in mi.render_map(street).texts)
    assert "⚠ 警告" in texts.replace("\n", "") and "估算 2,400" in texts
    street.report.completeness = KNOWN
    texts = "\n".join(t.get_text() for t in mi.render_map(street).texts)
    assert "⚠" not in texts and "登记 2,300" in texts


def test_summary_json_and_the_command_repeat_the_table(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cov"
    assert cli.main(["coverage", str(street_folder), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    c = summary["data_completeness"]
    # the fixture street: 213 of its 253 households estimated from floor area
    assert c["warning"] and c["sources"]["estimate"]["households"] == 213
    assert c["households"] == summary["households_total"]
    assert printed.startswith("⚠ WARNING: 84% of the households are estimated")


def test_run_summary_json_opens_with_the_table(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    argv = ["run", str(street_folder), "--out", str(out), "--no-siting", "--no-images"]
    assert cli.main(argv) in (0, 1)  # 1: a grid rule fails on the tiny street
    printed = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["data_completeness"]["warning"] is True
    assert summary["load"]["completeness"] == summary["data_completeness"]
    assert printed.startswith("⚠ WARNING: 84% of the households are estimated")
    html = (out / "redmap.html").read_text(encoding="utf-8")
    assert "⚠ 警告：84% 的户数为按建筑面积估算" in html
