"""Atomic writes: a reader sees the old file (or folder) or the new one, never half of one.

Files. Every writer of the planner writes to a hidden temporary file in the target's
own folder (same file system) and moves it into place with :func:`os.replace`
(:func:`atomic_path`), so a crash, a full disk or a refused write leaves the user's
existing file untouched. Temporary names carry the writer's process id
(``.<name>.tmp-<pid>-<random><suffix>``): a temporary file whose process is gone
(killed with SIGKILL, or the machine lost power) is removed by the next write of
the same target, and SQLite's side files (``-journal``, ``-wal``, ``-shm``) go with it.

Folders. A run writes a whole set of files (:func:`staged_folder`): everything goes
into ``<DIR>.tmp-<pid>-<random>`` beside ``DIR``, a ``COMPLETE`` marker listing
every file is written last, and then the folder is swapped into place (old ``DIR``
renamed aside to ``<DIR>.old-<pid>-<random>``, the new one renamed to ``DIR``, the
old one removed). ``DIR`` is therefore the previous complete set, absent for an
instant, or the new complete set; never a mix of two runs. Files in ``DIR`` that the
planner did not write (a user's ``notes.txt``) are carried over into the new folder.
Only the planner's own folder is renamed (absent, empty, or holding a ``COMPLETE``
marker). Where ``DIR`` holds other files but no marker (a folder of the user's, or
one from an older version), is the current folder, a mount point such as ``/``, a
symbolic link, or its parent is not writable, the set is staged in a hidden folder
inside ``DIR`` and moved in file by file, with the old ``COMPLETE`` removed first and
the new one moved in last, so a folder without ``COMPLETE`` never passes for a
complete run.

Interruptions. :func:`interrupts_raise` turns SIGTERM, SIGINT and SIGHUP into an
:class:`Interrupted` exception, so every ``finally`` runs and temporary files and
folders are removed (a second signal does not cut that clean-up short);
:func:`interrupts_deferred` holds such a signal back while the few renames of a swap
run, and raises it right after. The request is also recorded: Python runs the handler
wherever the main thread happens to be, and where that is a finaliser (``__del__``, a
weakref callback) or code that catches every exception, the exception is lost (seen in
a run: numpy's ``dtype == other``, which pandas calls in every ``astype``, runs Python
code to convert ``other`` and clears whatever it raised). A
request never is: :func:`raise_if_stop_requested` raises it again at the pipeline's
step boundaries, and a swap does not start once a stop was requested.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

from planner.errors import InputError

#: Name of the marker a complete run writes last (one file path per line).
COMPLETE_MARKER = "COMPLETE"

_MARKER_HEAD = (
    "# planner: every file listed below was written by one complete run.\n"
    "# A folder without this file does not hold a complete run.\n"
)

#: Side files SQLite (GeoPackage) may leave beside a database it was writing.
_SQLITE_SIDE_FILES = ("-journal", "-wal", "-shm")

#: Signals turned into :class:`Interrupted` by :func:`interrupts_raise`.
_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name)
)

_UnraisableHook = Callable[["sys.UnraisableHookArgs"], object]


# ---------------------------------------------------------------------------------------
# Interruptions


class Interrupted(KeyboardInterrupt):
    """The process was asked to stop (SIGTERM, SIGINT or SIGHUP) while it worked.

    A :class:`KeyboardInterrupt`, so code that lets Ctrl-C through lets it through
    too, and every ``finally`` on the way runs (temporary files are removed).
    ``signum`` is the signal's number; a command exits with ``128 + signum``.
    """

    def __init__(self, signum: int, *, after_swap: bool = False) -> None:
        self.signum = int(signum)
        #: True when the signal came during a swap and was raised once it was done
        #: (the new set is in place); False when the work was cut short.
        self.after_swap = after_swap
        super().__init__(f"stopped by {self.signal_name}")

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name


class _Deferral(threading.local):
    depth = 0
    #: A signal that came during a swap, raised once the swap is done.
    pending: int | None = None
    #: The first signal caught by :func:`interrupts_raise` (None: no stop requested).
    #: Kept until the block ends, so a request whose exception was lost is not.
    requested: int | None = None


_deferral = _Deferral()


def _raise_interrupted(signum: int, _frame: object) -> None:
    if _deferral.depth > 0:  # inside a swap: stop right after it
        _deferral.pending = signum
        return
    if _deferral.requested is not None:  # already stopping: let the clean-up finish
        return
    _deferral.requested = signum
    raise Interrupted(signum)


def raise_if_stop_requested(*, after_swap: bool = False) -> None:
    """Raise :class:`Interrupted` again when a stop was requested in this thread.

    For step boundaries: the handler's exception can be lost (raised inside a
    finaliser, or caught by a library's bare ``except``), the request is not.
    ``after_swap``: the run's files are already in place. Does nothing outside
    :func:`interrupts_raise` and in threads other than the main one.
    """
    if _deferral.requested is not None:
        raise Interrupted(_deferral.requested, after_swap=after_swap)


def _quiet_unraisable(hook: _UnraisableHook) -> _UnraisableHook:
    """``hook`` (``sys.unraisablehook``) without the traceback of an :class:`Interrupted`
    raised inside a finaliser: its request is recorded and raised at the next step
    boundary. Every other exception is passed on."""

    def quiet(unraisable: sys.UnraisableHookArgs) -> None:
        if not isinstance(unraisable.exc_value, Interrupted):
            hook(unraisable)

    return quiet


@contextlib.contextmanager
def interrupts_raise() -> Iterator[None]:
    """While inside, SIGTERM, SIGINT and SIGHUP raise :class:`Interrupted`.

    Python's default for SIGTERM ends the process on the spot, skipping every
    ``finally`` and leaving temporary files behind. Handlers can only be installed
    from the main thread; elsewhere (the app's script threads) this does nothing.
    The previous handlers come back on exit.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _raise_interrupted) for s in _SIGNALS}
    hook = sys.unraisablehook
    sys.unraisablehook = _quiet_unraisable(hook)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        sys.unraisablehook = hook
        _deferral.requested = None


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold back a signal caught by :func:`interrupts_raise` until the block is done.

    For the few renames that swap a folder into place: a stop request in between
    would leave neither the old nor the new set. The signal is raised as
    :class:`Interrupted` as soon as the block ends (when it ends without an error).
    A stop requested before the block (its exception lost on the way) is raised
    before it starts: the swap does not replace the previous set.
    """
    if _deferral.depth == 0:  # never in the middle of a swap
        raise_if_stop_requested()
    _deferral.depth += 1
    try:
        yield
    finally:
        _deferral.depth -= 1
    if _deferral.depth == 0 and _deferral.pending is not None:
        signum, _deferral.pending = _deferral.pending, None
        _deferral.requested = signum
        raise Interrupted(signum, after_swap=True)


# ---------------------------------------------------------------------------------------
# Temporary names and what is left of dead processes


def _temp_name(prefix: str, suffix: str = "") -> str:
    return f"{prefix}{os.getpid()}-{secrets.token_hex(4)}{suffix}"


def _pid_alive(pid: int) -> bool:
    """True when process ``pid`` exists (or might: we may not signal it)."""
    if pid == os.getpid():
        return True  # this process: another thread may be writing it right now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # no permission to signal it: it exists
        return True
    return True


def _dead_leftovers(folder: Path, prefix: str) -> list[Path]:
    """Entries of ``folder`` named ``<prefix><pid>-...`` whose process is gone."""
    out: list[Path] = []
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            if not entry.name.startswith(prefix):
                continue
            pid = entry.name[len(prefix) :].split("-", 1)[0]
            if pid.isdigit() and not _pid_alive(int(pid)):
                out.append(entry)
    return out


def _remove(path: Path) -> None:
    """Remove a file or a folder tree; quietly do nothing if it is already gone."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _remove_with_side_files(path: Path) -> None:
    for p in [path, *(path.with_name(path.name + s) for s in _SQLITE_SIDE_FILES)]:
        _remove(p)


# ---------------------------------------------------------------------------------------
# Files


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` on success.

    The temporary name keeps the suffix of ``path`` so format drivers that pick
    the format by extension (GDAL) still do. On an exception (including
    :class:`Interrupted`) the temporary file and any SQLite side files are removed
    and ``path`` is left as it was. Temporary files of the same target left by a
    process that no longer runs are removed first. A refused write (permission
    denied, a full disk) is reported with ``path``, not the temporary name.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("new")
    >>> target.read_text()
    'new'
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{target.name}.tmp-"
    for stale in _dead_leftovers(target.parent, prefix):
        _remove_with_side_files(stale)
    tmp = target.parent / _temp_name(prefix, target.suffix)
    try:
        try:
            yield tmp
            os.replace(tmp, target)
        except OSError as exc:
            if exc.errno is not None and str(exc.filename or "").startswith(str(tmp)):
                # name the file the user asked for, not our temporary one
                raise type(exc)(exc.errno, exc.strerror, str(target)) from exc
            raise
    finally:
        _remove_with_side_files(tmp)


@contextlib.contextmanager
def atomic_folder_files(folder: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary folder; on success move each file in it into ``folder``.

    Used for multi-file formats (a Shapefile is .shp, .shx, .dbf, .prj and .cpg):
    each file is replaced atomically, and none is replaced unless all were written.
    The temporary folder is removed on every exit, and one left by a process that
    no longer runs is removed on the next write into ``folder``.
    """
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    for stale in _dead_leftovers(target, ".tmp-"):
        _remove(stale)
    tmp = target / _temp_name(".tmp-")
    tmp.mkdir()
    try:
        yield tmp
        for f in sorted(tmp.iterdir()):
            os.replace(f, target / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_text(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically; return the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding, newline="")
    return Path(path)


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


# ---------------------------------------------------------------------------------------
# Folders: a whole run's files, swapped into place


def read_marker(folder: str | os.PathLike[str]) -> list[str] | None:
    """The files listed in ``folder``'s ``COMPLETE`` marker (``/``-separated paths
    relative to the folder), or None when the folder holds no complete run."""
    path = Path(folder) / COMPLETE_MARKER
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return [line for line in text.splitlines() if _inside(line)]


def _inside(line: str) -> bool:
    """A marker line naming a path inside the folder (a hand-edited or hostile marker
    must not make the planner delete ``../x`` or ``/etc/x``)."""
    parts = PurePosixPath(line).parts
    return bool(line) and not line.startswith(("#", "/", "\\")) and ".." not in parts


def list_files(folder: str | os.PathLike[str]) -> list[str]:
    """Every file under ``folder``, as sorted ``/``-separated relative paths."""
    folder = Path(folder)
    return sorted(
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink()
    )


def _write_marker(stage: Path) -> None:
    files = [f for f in list_files(stage) if f != COMPLETE_MARKER]
    write_text(stage / COMPLETE_MARKER, _MARKER_HEAD + "".join(f + "\n" for f in files))


def _swappable(out: Path) -> bool:
    """Whether ``out`` may be renamed aside (or created by renaming a folder onto it).

    Only a folder that is the planner's own — absent, empty, or holding a complete
    run (``COMPLETE``) — is renamed: a folder of the user's other files keeps its
    identity (a second shell or a file manager may be looking at it).
    """
    if not out.exists() and not out.is_symlink():
        return os.access(out.parent, os.W_OK | os.X_OK)
    if out.is_symlink() or not out.is_dir() or os.path.ismount(out):
        return False
    if read_marker(out) is None and any(out.iterdir()):
        return False  # not a planner output folder
    with contextlib.suppress(OSError):
        if os.path.samefile(out, Path.cwd()):
            return False  # the shell's current folder would be renamed away
    return os.access(out.parent, os.W_OK | os.X_OK)


def _recover(out: Path) -> None:
    """Put right what a run into ``out`` killed with SIGKILL left behind.

    Its staging folder (a partial set) is removed; an old folder renamed aside
    goes back to ``out`` when nothing took its place, else the user's files in it
    are carried over into ``out`` and it is removed.
    """
    if out.is_dir():
        for stale in _dead_leftovers(out, ".planner.tmp-"):
            _remove(stale)
    if not out.name:  # the root folder: nothing is staged beside it
        return
    for stale in _dead_leftovers(out.parent, f"{out.name}.tmp-"):
        _remove(stale)
    for old in _dead_leftovers(out.parent, f"{out.name}.old-"):
        if not out.exists():
            os.rename(old, out)
            continue
        owned = set(read_marker(old) or []) | set(read_marker(out) or [])
        _carry_over(old, out, owned | {COMPLETE_MARKER})
        _remove(old)


def _carry_over(old: Path, new: Path, owned: set[str], rel: str = "") -> None:
    """Move entries of ``old`` that the planner does not own into ``new``.

    ``owned`` holds ``/``-separated paths of files relative to the folders. A
    folder that also exists in ``new`` (or holds owned files) is walked into; any
    other folder, and any file not owned, moves as a whole. Nothing in ``new`` is
    overwritten.
    """
    for entry in sorted(old.iterdir()):
        path = rel + entry.name
        target = new / entry.name
        if entry.is_dir() and not entry.is_symlink():  # a folder is never owned whole
            if target.is_dir() or any(o.startswith(path + "/") for o in owned):
                _carry_over(entry, target, owned, path + "/")
                continue
        elif path in owned:
            continue
        if target.exists() or target.is_symlink():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(entry, target)


def _swap_into_place(stage: Path, out: Path) -> None:
    """Rename ``stage`` to ``out``: the old ``out`` aside, then back for user files."""
    if not out.exists():
        os.rename(stage, out)
        return
    old = out.parent / _temp_name(f"{out.name}.old-")
    owned = set(read_marker(out) or []) | set(list_files(stage))
    shutil.copymode(out, stage)  # the folder keeps the permissions the user gave it
    os.rename(out, old)
    try:
        os.rename(stage, out)
    except OSError:
        os.rename(old, out)  # put the previous set back before reporting
        raise
    _carry_over(old, out, owned)
    _remove(old)


def _move_in_place(stage: Path, out: Path) -> None:
    """Move the staged files into ``out`` one by one, ``COMPLETE`` removed first and
    moved in last; files of the previous run that this one did not write go."""
    new = [f for f in list_files(stage) if f != COMPLETE_MARKER]
    previous = read_marker(out) or []
    _remove(out / COMPLETE_MARKER)
    for rel in sorted(set(previous) - set(new)):
        if (out / rel).is_file():  # a file the previous run wrote, never a folder
            (out / rel).unlink()
    for rel in new:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage / rel, out / rel)
    for rel in sorted({str(Path(r).parent) for r in previous} - {"."}, reverse=True):
        with contextlib.suppress(OSError):
            (out / rel).rmdir()  # a folder of the previous run left empty
    os.replace(stage / COMPLETE_MARKER, out / COMPLETE_MARKER)


def require_writable(folder: str | os.PathLike[str], *, what: str = "") -> None:
    """Refuse early, naming the folder and the fix, when files cannot be written in it.

    ``folder`` must exist; ``what`` is how the user named it (``"--out /"``).
    Checked before any work, so a run does not compute for minutes and then fail
    on a temporary file's name (the review's row A16).
    """
    path = Path(folder)
    if not os.access(path, os.W_OK | os.X_OK):
        raise InputError(
            f"{what or path}: cannot write the outputs into the folder {path} (permission denied)",
            fix="choose a folder you can write to (the command line's --out DIR), "
            "or get write permission for this one",
        )


def _make_stage(out: Path, swap: bool) -> Path:
    if swap:
        stage = out.parent / _temp_name(f"{out.name}.tmp-")
    else:
        out.mkdir(parents=True, exist_ok=True)
        stage = out / _temp_name(".planner.tmp-")
    stage.mkdir()
    return stage


@contextlib.contextmanager
def staged_folder(out: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty folder to write a whole set of files in; put it at ``out`` when done.

    On success a ``COMPLETE`` marker listing every file is written last and the set
    replaces the previous one in ``out`` (see the module docstring: swapped as a
    folder, or moved in file by file where ``out`` cannot be renamed). Files in
    ``out`` that the planner did not write are kept: a file is the planner's when
    the previous run's ``COMPLETE`` lists it or this run writes it. On any error or
    :class:`Interrupted` the staging folder is removed and ``out`` is left exactly
    as it was. What a killed run (SIGKILL) left is put right first.

    Raises
    ------
    planner.errors.InputError
        When ``out`` is a file, or the staging folder cannot be made (``out`` or
        its parent is not writable): the message names the folder and the fix.
    """
    target = Path(os.path.abspath(out))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() and not target.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "it is a file, not a folder", str(target))
        _recover(target)
        stage = _make_stage(target, _swappable(target))
    except OSError as exc:
        raise InputError(
            f"cannot write the outputs into the folder {target}: {exc.strerror or exc}",
            fix="choose a folder you can write to (the command line's --out DIR), "
            "or get write permission for this one",
        ) from None
    swap = stage.parent != target
    try:
        yield stage
        _write_marker(stage)
        with interrupts_deferred():
            if swap:
                _swap_into_place(stage, target)
            else:
                _move_in_place(stage, target)
    finally:
        _remove(stage)
