"""Atomic files and folders (planner/_atomic.py): old or new, never a mix, nothing left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from planner._atomic import (
    COMPLETE_MARKER,
    Interrupted,
    atomic_folder_files,
    atomic_path,
    interrupts_deferred,
    interrupts_raise,
    raise_if_stop_requested,
    read_marker,
    require_writable,
    staged_folder,
)
from planner.errors import InputError
from tests.lost_stops import LOSERS


def _dead_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _tree(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): p.read_text("utf-8")
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _write_set(stage: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (stage / name).parent.mkdir(parents=True, exist_ok=True)
        (stage / name).write_text(text, "utf-8")


def _only(parent: Path, *names: str) -> None:
    """``parent`` holds exactly ``names``: no staging or old folder beside them."""
    assert sorted(p.name for p in parent.iterdir()) == sorted(names)


# ---------------------------------------------------------------------------- files


def test_atomic_path_names_the_target_not_its_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "grids.geojson"
    with pytest.raises(PermissionError) as info, atomic_path(target) as tmp:
        raise PermissionError(13, "Permission denied", str(tmp))
    assert info.value.filename == str(target) and ".tmp" not in str(info.value)
    _only(tmp_path)


def test_atomic_path_removes_dead_writers_temp_files_and_sqlite_side_files(
    tmp_path: Path,
) -> None:
    dead, live = _dead_pid(), os.getpid()
    stale = tmp_path / f".p.gpkg.tmp-{dead}-0a1b2c3d.gpkg"
    leftovers = [stale, stale.with_name(stale.name + "-journal")]
    running = tmp_path / f".p.gpkg.tmp-{live}-0a1b2c3d.gpkg"  # another thread's, in use
    for p in [*leftovers, running]:
        p.write_bytes(b"x")
    with atomic_path(tmp_path / "p.gpkg") as tmp:
        tmp.write_bytes(b"new")
        tmp.with_name(tmp.name + "-journal").write_bytes(b"j")  # as SQLite leaves it
    _only(tmp_path, "p.gpkg", running.name)


def test_atomic_folder_files_removes_a_dead_writers_folder(tmp_path: Path) -> None:
    stale = tmp_path / "shapefile" / f".tmp-{_dead_pid()}-0a1b2c3d"
    stale.mkdir(parents=True)
    (stale / "grids.shp").write_bytes(b"half")
    with atomic_folder_files(tmp_path / "shapefile") as tmp:
        (tmp / "a.shp").write_bytes(b"new")
    _only(tmp_path / "shapefile", "a.shp")


# ---------------------------------------------------------------------------- folders


def test_staged_folder_creates_the_set_with_complete_last(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with staged_folder(out) as stage:
        assert stage.parent == tmp_path and stage.name.startswith("out.tmp-")
        assert not out.exists()  # nothing visible until the set is complete
        _write_set(stage, {"a.geojson": "1", "shapefile/a.shp": "2"})
    assert read_marker(out) == ["a.geojson", "shapefile/a.shp"]
    assert _tree(out)["a.geojson"] == "1"
    _only(tmp_path, "out")


def test_swap_keeps_the_users_files_and_drops_the_previous_runs_others(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with staged_folder(out) as stage:
        _write_set(stage, {"a.geojson": "old", "sites.geojson": "old", "shapefile/a.shp": "old"})
    _write_set(out, {"notes.txt": "mine", "mine/x.txt": "mine", "shapefile/readme.txt": "mine"})
    with staged_folder(out) as stage:
        _write_set(stage, {"a.geojson": "new", "shapefile/a.shp": "new"})
    assert _tree(out) == {
        COMPLETE_MARKER: (out / COMPLETE_MARKER).read_text("utf-8"),
        "a.geojson": "new",
        "mine/x.txt": "mine",
        "notes.txt": "mine",
        "shapefile/a.shp": "new",
        "shapefile/readme.txt": "mine",
    }  # sites.geojson of the previous run is gone: no mix of two runs
    assert read_marker(out) == ["a.geojson", "shapefile/a.shp"]
    _only(tmp_path, "out")


def test_a_folder_without_complete_is_not_renamed_and_keeps_its_files(tmp_path: Path) -> None:
    """Not the planner's folder (the user's, or an older version's): moved into file by
    file, so the folder itself stays what a second shell or a file manager looks at."""
    out = tmp_path / "out"
    _write_set(out, {"a.geojson": "old", "b.geojson": "not ours to delete"})
    inode = out.stat().st_ino
    with staged_folder(out) as stage:
        assert stage.parent == out  # staged inside, hidden
        _write_set(stage, {"a.geojson": "new"})
    assert out.stat().st_ino == inode
    assert _tree(out)["a.geojson"] == "new" and _tree(out)["b.geojson"] == "not ours to delete"
    assert read_marker(out) == ["a.geojson"]
    _only(tmp_path, "out")
    os.chmod(out, 0o750)
    with staged_folder(out) as stage:  # now the planner's folder: swapped as a whole
        assert stage.parent == tmp_path
        _write_set(stage, {"a.geojson": "newer"})
    assert out.stat().st_ino != inode and out.stat().st_mode & 0o777 == 0o750
    assert _tree(out)["b.geojson"] == "not ours to delete"


@pytest.mark.parametrize("error", [RuntimeError("disk full"), Interrupted(signal.SIGTERM)])
def test_a_failed_run_leaves_the_previous_set_and_nothing_else(
    tmp_path: Path, error: BaseException
) -> None:
    out = tmp_path / "out"
    with staged_folder(out) as stage:
        _write_set(stage, {"a.geojson": "old"})
    before = _tree(out)
    with pytest.raises(type(error)), staged_folder(out) as stage:
        _write_set(stage, {"a.geojson": "half"})
        with atomic_path(stage / "b.gpkg") as tmp:
            tmp.write_bytes(b"half")
            raise error
    assert _tree(out) == before
    _only(tmp_path, "out")


def test_in_place_when_the_folder_is_the_current_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    _write_set(out, {"notes.txt": "mine"})
    with staged_folder(out) as stage:
        _write_set(stage, {"a.geojson": "old", "shapefile/a.shp": "old"})
    monkeypatch.chdir(out)  # renaming it would pull the folder from under the shell
    with staged_folder(out) as stage:
        assert stage.parent == out and stage.name.startswith(".planner.tmp-")
        _write_set(stage, {"b.geojson": "new"})
    assert os.path.samefile(out, Path.cwd())
    assert set(_tree(out)) == {COMPLETE_MARKER, "b.geojson", "notes.txt"}
    assert read_marker(out) == ["b.geojson"]
    _only(tmp_path, "out")
    with pytest.raises(KeyboardInterrupt), staged_folder(out) as stage:
        _write_set(stage, {"c.geojson": "half"})
        raise KeyboardInterrupt
    assert set(_tree(out)) == {COMPLETE_MARKER, "b.geojson", "notes.txt"}


def test_what_a_killed_run_left_is_put_right(tmp_path: Path) -> None:
    """SIGKILL cannot be caught: the next run removes the partial set and gives the
    renamed-aside previous set (with the user's files) back."""
    dead = _dead_pid()
    out = tmp_path / "out"
    partial = tmp_path / f"out.tmp-{dead}-0a1b2c3d"
    old = tmp_path / f"out.old-{dead}-0a1b2c3d"
    _write_set(partial, {"a.geojson": "half"})
    _write_set(old, {"a.geojson": "old", "notes.txt": "mine", COMPLETE_MARKER: "a.geojson\n"})
    with staged_folder(out) as stage:  # killed between the two renames: out is absent
        _write_set(stage, {"a.geojson": "new"})
    assert _tree(out)["a.geojson"] == "new" and _tree(out)["notes.txt"] == "mine"
    _only(tmp_path, "out")
    _write_set(old, {"a.geojson": "old", "more.txt": "mine", COMPLETE_MARKER: "a.geojson\n"})
    with staged_folder(out) as stage:  # killed after: the user's file goes back
        _write_set(stage, {"a.geojson": "newer"})
    assert _tree(out)["more.txt"] == "mine" and _tree(out)["a.geojson"] == "newer"
    _only(tmp_path, "out")


def test_unwritable_folder_is_named_with_a_fix(tmp_path: Path) -> None:
    out = tmp_path / "a-file"
    out.write_text("x")
    with (
        pytest.raises(InputError, match=r"a-file.*not a folder.*Fix: choose a folder"),
        staged_folder(out),
    ):
        pass
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o555)
        with pytest.raises(InputError, match=r"ro.*permission denied"):
            require_writable(ro, what="--out ro")


# ---------------------------------------------------------------------------- signals


def test_sigterm_raises_interrupted_and_the_old_handler_comes_back() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Interrupted) as info, interrupts_raise():
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):  # the handler runs at the next bytecode boundary
            pass
    assert info.value.signum == signal.SIGTERM and not info.value.after_swap
    assert signal.getsignal(signal.SIGTERM) == before


def test_a_signal_during_the_swap_is_raised_after_it() -> None:
    done: list[str] = []
    with pytest.raises(Interrupted) as info, interrupts_raise(), interrupts_deferred():
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):
            pass
        done.append("swap finished")
    assert done == ["swap finished"] and info.value.after_swap


@pytest.mark.parametrize("lose", LOSERS)
def test_a_stop_whose_exception_was_lost_still_stops_before_the_swap(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], lose: Callable[[], None]
) -> None:
    """The handler's exception can be lost; the request is not: no swap, the previous
    set is kept and no traceback is printed."""
    out = tmp_path / "out"
    with staged_folder(out) as stage:
        _write_set(stage, {"a.geojson": "old"})
    before = _tree(out)
    went_on: list[str] = []
    with pytest.raises(Interrupted) as info, interrupts_raise():
        with staged_folder(out) as stage:
            _write_set(stage, {"a.geojson": "new"})
            lose()
            went_on.append("the run went on")
            with pytest.raises(Interrupted):
                raise_if_stop_requested()  # the pipeline's step boundary
            _write_set(stage, {"b.geojson": "new"})
        went_on.append("the swap was not stopped")
    assert went_on == ["the run went on"]
    assert info.value.signum == signal.SIGTERM and not info.value.after_swap
    assert _tree(out) == before
    _only(tmp_path, "out")
    assert "Traceback" not in capfd.readouterr().err
    raise_if_stop_requested()  # the request ended with its block


def test_a_hostile_marker_cannot_delete_outside_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    _write_set(out, {"mine/x.txt": "keep", "a.geojson": "old"})
    marker = f"../victim.txt\n{victim}\nmine\nmine/../../victim.txt\na.geojson\n"
    (out / COMPLETE_MARKER).write_text(marker, "utf-8")
    assert read_marker(out) == ["mine", "a.geojson"]
    monkeypatch.chdir(out)  # moved in file by file: the previous run's files are removed
    with staged_folder(out) as stage:
        _write_set(stage, {"b.geojson": "new"})
    assert victim.read_text() == "keep" and (out / "mine" / "x.txt").read_text() == "keep"
    assert not (out / "a.geojson").exists()
    monkeypatch.chdir(tmp_path)  # swapped as a folder: "mine" is carried over all the same
    (out / COMPLETE_MARKER).write_text(marker + "b.geojson\n", "utf-8")
    with staged_folder(out) as stage:
        assert stage.parent == tmp_path
        _write_set(stage, {"c.geojson": "new"})
    assert victim.read_text() == "keep" and (out / "mine" / "x.txt").read_text() == "keep"
    assert sorted(_tree(out)) == [COMPLETE_MARKER, "c.geojson", "mine/x.txt"]
