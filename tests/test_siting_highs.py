"""The HiGHS solver object is silent: no banner, no log on stdout (checked in a fresh process,
because HiGHS prints its banner only once per process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import highspy

from planner.siting.highs import new_highs

ROOT = Path(__file__).resolve().parents[1]


def _fresh(code: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, *(["-c", code] if code else []), *args],
        cwd=ROOT,
        capture_output=True,
        timeout=300,
        check=False,
    )


def test_first_solver_of_a_process_prints_no_banner() -> None:
    done = _fresh(
        "from planner.siting.highs import new_highs\n"
        "import highspy\n"
        "h = new_highs()\n"
        "h.passModel(highspy.HighsLp())\n"
        "h.run()\n"
        "new_highs()\n"
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout == b""


def test_options_are_off() -> None:
    h = new_highs()
    for name in ("output_flag", "log_to_console"):
        value = h.getOptionValue(name)  # (status, value) in highspy 1.16
        assert (value[-1] if isinstance(value, tuple) else value) is False
    assert isinstance(h, highspy.Highs)


def test_site_quiet_prints_nothing(tmp_path: Path) -> None:
    done = _fresh("", "-m", "planner", "site", "demo", "-k", "1", "--out", str(tmp_path), "--quiet")
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout == b""
    assert b"HiGHS" not in done.stderr
    assert (tmp_path / "siting.json").exists()
