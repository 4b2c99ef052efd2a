"""planner.cli.parser.main: exit codes, and no traceback whatever happens."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.cli import info
from planner.cli.parser import EXIT_CRASH, main


def _boom(args: object) -> int:
    raise ZeroDivisionError("boom\nsecond line of the message")


def test_an_unexpected_exception_exits_3_with_one_line_and_a_log(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PLANNER_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setattr(info, "run", _boom)
    assert main(["info", "demo"]) == EXIT_CRASH == 3
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith("internal error: ZeroDivisionError: boom (a bug in the planner")
    (log,) = (tmp_path / "logs").glob("crash-*.log")
    assert str(log) in lines[0]
    text = log.read_text(encoding="utf-8")
    assert "command: planner info demo" in text
    assert "Traceback" in text and "second line of the message" in text


def test_without_a_writable_log_folder_the_traceback_goes_to_stderr(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("PLANNER_LOG_DIR", str(blocker / "logs"))
    monkeypatch.setattr(info, "run", _boom)
    assert main(["info", "demo"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("internal error: ZeroDivisionError: boom")
    assert "the traceback follows" in err and "Traceback" in err


def test_bad_input_still_exits_2_and_rules_1(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from planner.errors import RuleViolation

    assert main(["info", str(tmp_path / "nope")]) == 2
    assert "no such file or folder" in capsys.readouterr().err

    def violated(args: object) -> int:
        raise RuleViolation("grid 01 is in two pieces")

    monkeypatch.setattr(info, "run", violated)
    assert main(["info", "demo"]) == 1


def test_every_command_that_loads_says_the_loads_assumptions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A street with an empty buildings layer: ``grids`` (not only ``info``) prints the
    load's warning on stderr, and ``run`` prints no ``None%`` figure (review S01)."""
    import shutil

    from planner.load.sources import demo_dir

    street = tmp_path / "street"
    shutil.copytree(demo_dir(), street)
    (street / "buildings.geojson").write_text('{"type":"FeatureCollection","features":[]}')
    assert main(["grids", str(street), "--out", str(tmp_path / "g")]) == 0
    err = capsys.readouterr().err
    assert "warning:" in err and "the street has no buildings" in err
    code = main(["run", str(street), "--out", str(tmp_path / "r"), "--no-images", "-q"])
    captured = capsys.readouterr()
    assert code == 0 and "the street has no buildings" in captured.err
    assert "None" not in captured.out
