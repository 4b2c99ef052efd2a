"""``python -m planner run``/``demo`` killed or refused: ``--out`` is never a mix of two runs.

Real processes: the command runs in a subprocess and gets SIGTERM at several points
(while loading, computing, writing), then SIGKILL while writing. After each, ``--out``
must hold the previous complete run byte for byte (with the user's own file in it),
and no temporary file or folder may be left; the next complete run puts right what
SIGKILL left behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import IO

import pytest

from planner._atomic import read_marker
from planner.cli.parser import main
from planner.export import outputs
from planner.export.outputs import read_files
from planner.load import sources
from tests.lost_stops import losing_a_stop, lost_in_a_dtype_comparison, lost_in_a_finaliser

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--no-siting", "--no-html", "--no-images", "-q"]
#: The second run's settings differ, so its files differ from the first run's.
OTHER = ["--minutes", "5,10,20", "--gap-minutes", "20"]


def _command(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "planner", "run", "demo", "--out", str(out), *FAST, *extra]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _leftovers(out: Path) -> list[str]:
    """Temporary files or folders beside or inside ``out``."""
    beside = [p.name for p in out.parent.iterdir() if p.name != out.name]
    inside = [p.relative_to(out).as_posix() for p in out.rglob(".*")]
    return beside + inside


def _wait_for_stage(out: Path, proc: subprocess.Popen[bytes], timeout_s: float = 120) -> bool:
    """Wait until the run starts writing (its staging folder appears beside ``out``)."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end and proc.poll() is None:
        if any(p.name.startswith(f"{out.name}.tmp-") for p in out.parent.iterdir()):
            return True
        time.sleep(0.005)
    return False


def _drain(stream: IO[bytes], sink: bytearray) -> None:
    for chunk in iter(lambda: stream.read1(65536), b""):  # type: ignore[attr-defined]
        sink.extend(chunk)


def _stop(out: Path, *, when: str, sig: int) -> subprocess.CompletedProcess[bytes]:
    """Run the command and send ``sig`` at ``when``: seconds after the start, the
    progress bar of a step appearing (``load``, ``grids``, ``coverage``), or
    ``writing`` (its staging folder appeared)."""
    argv = [a for a in _command(out, *OTHER) if a != "-q"]  # progress bars on stderr
    proc = subprocess.Popen(argv, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = bytearray()
    reader = threading.Thread(target=_drain, args=(proc.stderr, err))
    reader.start()
    end = time.monotonic() + 120
    if when == "writing":
        assert _wait_for_stage(out, proc), "the run never started writing"
        time.sleep(0.15)  # some files are in the staging folder
    elif when.replace(".", "").isdigit():
        time.sleep(float(when))
    else:
        while f"{when:<9}:".encode() not in err and proc.poll() is None:
            assert time.monotonic() < end, f"step {when} never started"
            time.sleep(0.005)
    assert proc.poll() is None, f"the run ended before {when}"
    proc.send_signal(sig)
    stdout = proc.stdout.read()
    proc.wait(timeout=120)
    reader.join(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, bytes(err))


@pytest.mark.slow
def test_killed_run_leaves_the_previous_complete_set(tmp_path: Path) -> None:
    out = tmp_path / "X"
    first = subprocess.run(_command(out), env=_env(), capture_output=True, timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    (out / "notes.txt").write_text("the planner's notes on this street", "utf-8")
    before = read_files(out)
    assert read_marker(out) is not None and "notes.txt" not in (read_marker(out) or [])

    # SIGTERM while starting, loading, computing and writing
    for when in ("0.3", "load", "grids", "coverage", "writing"):
        proc = _stop(out, when=when, sig=signal.SIGTERM)
        err = proc.stderr.decode("utf-8", "replace")
        assert "Traceback" not in err, (when, err[-2000:])
        assert proc.returncode in (143, -signal.SIGTERM), (when, proc.returncode, err[-500:])
        if when != "0.3":  # Python started: the handler ran and says what --out holds
            assert proc.returncode == 143, (when, err[-500:])
            assert "stopped by SIGTERM" in err and "previous complete run" in err, err[-500:]
        assert read_files(out) == before, when  # the previous set, byte for byte
        assert _leftovers(out) == [], (when, _leftovers(out))

    # SIGKILL cannot be caught: the partial set stays beside X, X is untouched
    proc = _stop(out, when="writing", sig=signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    assert read_files(out) == before
    assert [n for n in _leftovers(out) if n.startswith("X.tmp-")]

    # the next run removes it and replaces the set as a whole, keeping notes.txt
    last = subprocess.run(_command(out, *OTHER), env=_env(), capture_output=True, timeout=600)
    assert last.returncode == 0, last.stderr[-2000:]
    assert _leftovers(out) == []
    after = read_files(out)
    assert after["notes.txt"] == before["notes.txt"]
    assert sorted(read_marker(out) or []) == sorted(
        n for n in after if n not in {"COMPLETE", "notes.txt"}
    )
    summary = json.loads(after["summary.json"])
    assert summary["settings"]["thresholds_min"] == [5.0, 10.0, 20.0]
    assert after["grids.geojson"] == before["grids.geojson"]  # same grid settings
    assert after["coverage_by_grid.csv"] != before["coverage_by_grid.csv"]  # new thresholds


@pytest.fixture(scope="module")
def complete_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete run of the demo (``FAST``) with the user's notes in it."""
    out = tmp_path_factory.mktemp("complete") / "X"
    assert main(["run", "demo", "--out", str(out), *FAST]) == 0
    (out / "notes.txt").write_text("the planner's notes on this street", "utf-8")
    return out


@pytest.mark.parametrize(
    ("module", "name", "lose"),
    [
        (sources, "load_street", lost_in_a_dtype_comparison),  # the load step
        (outputs, "list_files", lost_in_a_finaliser),  # writing, before the swap
    ],
)
def test_a_stop_whose_exception_was_lost_still_stops_the_run(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    complete_set: Path,
    module: ModuleType,
    name: str,
    lose: Callable[[], None],
) -> None:
    """A SIGTERM whose exception a library lost (numpy's dtype ``==``, a finaliser) once
    ran to the end with exit 0 and replaced the previous set: the request is kept and
    stops the run at the next step boundary, or before the swap."""
    out = tmp_path / "X"
    shutil.copytree(complete_set, out)
    before = read_files(out)
    monkeypatch.setattr(module, name, losing_a_stop(getattr(module, name), lose))
    capsys.readouterr()
    assert main(["run", "demo", "--out", str(out), *FAST, *OTHER]) == 128 + signal.SIGTERM
    monkeypatch.undo()  # read_files below calls list_files: no signal outside the run
    err = capsys.readouterr().err
    assert "stopped by SIGTERM before the run finished" in err, err[-2000:]
    assert "previous complete run" in err and "Traceback" not in err, err[-2000:]
    assert read_files(out) == before
    assert _leftovers(out) == []


@pytest.mark.parametrize("command", [["run", "demo"], ["grids", "demo"]])
def test_unwritable_out_names_the_folder_and_a_fix(tmp_path: Path, command: list[str]) -> None:
    """The review's row A16: ``--out /`` as an unprivileged user said "Permission denied:
    /.grids.49qhis3t.tmp.geojson", after computing the grids."""
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o555)
    argv = [sys.executable, "-m", "planner", *command, "--out", str(ro)]
    if os.geteuid() == 0:  # root writes anywhere: run without the power to override modes
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (util-linux) is needed to test as root"
        drop = "-dac_override,-dac_read_search"
        argv = [setpriv, f"--bounding-set={drop}", f"--inh-caps={drop}", "--", *argv]
    proc = subprocess.run(argv, env=_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert f"--out {ro}: cannot write the outputs into the folder {ro}" in proc.stderr
    assert "Fix: choose a folder you can write to" in proc.stderr
    assert ".tmp" not in proc.stderr and "Traceback" not in proc.stderr
    assert list(ro.iterdir()) == []


def _refused(path: object, *, what: str = "") -> None:
    from planner.errors import InputError

    raise InputError(f"{what}: refused-before-work", fix="-")


def _no_work(*args: object, **kwargs: object) -> None:
    raise AssertionError("the command loaded or computed before checking --out")


@pytest.mark.parametrize(
    "command",
    [
        ["run", "demo"],
        ["grids", "demo"],
        ["coverage", "demo"],
        ["site", "demo", "-k", "1"],
        ["city", "demo-city:2"],
    ],
)
def test_out_is_checked_before_any_work(
    tmp_path: Path,
    command: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every writing command checks ``--out`` before it loads the street (``grids``,
    ``coverage``, ``site`` and ``city`` used to load and compute for minutes, then refuse)."""
    import planner.city.source
    import planner.cli.coverage
    import planner.cli.grids
    import planner.cli.parser
    import planner.cli.run
    import planner.cli.site
    from planner.cli.parser import main

    monkeypatch.setattr(planner.cli.parser, "require_writable", _refused)
    for module in (planner.cli.grids, planner.cli.coverage, planner.cli.site):
        monkeypatch.setattr(module, "load_from_args", _no_work)
    monkeypatch.setattr(planner.cli.run, "run_pipeline", _no_work)
    monkeypatch.setattr(planner.city.source, "read_city", _no_work)
    assert main([*command, "--out", str(tmp_path / "out")]) == 2
    assert "refused-before-work" in capsys.readouterr().err
