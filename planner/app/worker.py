"""A result computed in a worker process beside the app's script (issue 19 item 9).

The script runs in the server process, where Python runs one thread at a time: on a
cold open the walking circles (about 2 CPU s on the demo street) and the grid division
(about 2.5 CPU s) were computed one after the other, and a worker *thread* saved nothing
(docs/benchmarks/app.md). :func:`submit` hands a job to one worker *process*, kept for
the server's life and started on the first job (a fresh ``python -m planner.app.worker``
that imports the planner and loads the compiled kernels before its first job, never a
fork of the server's threads); :func:`result` takes the job's result. The app submits
the division of a street as soon as the sidebar has chosen it (:func:`planner.app.cache.prefetch_grids`),
draws the street and computes the circles meanwhile, then takes the division: on two
free cores it costs no wall time.

A job is known by its key (the step, the source and the step's settings JSON): a key
in flight is not submitted again, and every session asking for it takes the same
result, so two tabs never compute one street twice. Jobs run one at a time.

When the worker is not used, or fails, the caller computes in its own thread, so the
answer and its errors are the same as without a worker:

- ``PLANNER_APP_WORKER=off`` (or ``0``, ``no``, empty) turns the worker off;
- a job that raises in the worker (a street that cannot be divided ...) is computed
  again by the caller, which raises the planner's own error with its message;
- a worker that dies (killed, out of memory) is started again for the next job.

Protocol: each message is an 8-byte big-endian length and a pickle, on the worker's
stdin (jobs: ``(function, args)``) and on a copy of its original stdout (replies:
``(True, result)`` or ``(False, why)``); the worker's own stdout goes to its stderr, so
nothing a job prints can corrupt a reply. Pickles only travel between this process and
its own child.
"""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
#: The environment variable that turns the worker off (``off``, ``0``, ``no`` or empty).
ENV = "PLANNER_APP_WORKER"
#: Jobs kept at most, done or not, whose result nobody took yet (the oldest dropped).
KEEP = 8
_HEADER = 8


class WorkerError(RuntimeError):
    """The worker could not give a job's result (it raised, died or sent garbage)."""


def enabled() -> bool:
    """Whether jobs go to the worker process (``$PLANNER_APP_WORKER``, on by default)."""
    return os.environ.get(ENV, "on").strip().lower() not in ("", "off", "0", "no")


def _send(stream: IO[bytes], payload: bytes) -> None:
    stream.write(len(payload).to_bytes(_HEADER, "big") + payload)
    stream.flush()


def _read(stream: IO[bytes], n: int) -> bytes:
    chunks: list[bytes] = []
    while n:
        chunk = stream.read(n)
        if not chunk:
            raise EOFError("worker stream closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _recv(stream: IO[bytes]) -> bytes:
    return _read(stream, int.from_bytes(_read(stream, _HEADER), "big"))


class _Process:
    """The worker subprocess and the pipes to it; one job at a time."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def start(self) -> subprocess.Popen[bytes]:
        """The running worker, started now if there is none (or it died)."""
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        root = str(Path(__file__).resolve().parents[2])  # the folder holding ``planner``
        path = os.environ.get("PYTHONPATH", "")
        env = {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "planner.app.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        return self._proc

    def call(self, job: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        """``job(*args)`` run in the worker; :class:`WorkerError` when it cannot."""
        with self._lock:
            proc = self.start()
            assert proc.stdin is not None and proc.stdout is not None
            try:
                _send(proc.stdin, pickle.dumps((job, args), protocol=pickle.HIGHEST_PROTOCOL))
                ok, value = pickle.loads(_recv(proc.stdout))  # our own child's reply
            except Exception as exc:  # died, killed, or an unreadable reply
                self.stop()
                raise WorkerError(f"the worker failed: {exc!r}") from exc
        if not ok:
            raise WorkerError(str(value))
        return value

    def stop(self) -> None:
        """End the worker (a new one starts for the next job)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    @property
    def pid(self) -> int | None:
        return None if self._proc is None or self._proc.poll() is not None else self._proc.pid


_PROCESS = _Process()
_LOCK = threading.Lock()
_FLIGHT: OrderedDict[Hashable, Future[Any]] = OrderedDict()
_EXECUTOR: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _EXECUTOR
    if _EXECUTOR is None:
        # one thread: it waits on the worker's pipe (no GIL held while it waits)
        _EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="planner-worker")
    return _EXECUTOR


def submit(key: Hashable, job: Callable[..., Any], *args: Any) -> bool:
    """Start ``job(*args)`` in the worker under ``key`` unless it is in flight already;
    return whether the job is in flight (``False`` with the worker off).

    ``job`` must be importable by name (a module-level function) and ``args`` picklable.
    """
    if not enabled():
        return False
    with _LOCK:
        if key in _FLIGHT:
            return True
        _FLIGHT[key] = _executor().submit(_PROCESS.call, job, args)
        while len(_FLIGHT) > KEEP:
            _FLIGHT.popitem(last=False)
    return True


def in_flight(key: Hashable) -> bool:
    """Whether a job under ``key`` was submitted and its result not taken yet."""
    with _LOCK:
        return key in _FLIGHT


def result(key: Hashable, compute: Callable[[], T]) -> T:
    """The result of the job in flight under ``key`` (waiting for it), else ``compute()``
    in this thread; ``compute()`` too when the worker could not give the result (the
    caller then raises the planner's own error)."""
    with _LOCK:
        future = _FLIGHT.get(key)
    if future is None:
        return compute()
    try:
        value: T = future.result()
    except WorkerError as exc:
        logger.warning("app worker: %s; computing in the app instead", exc)
        value = compute()
    with _LOCK:
        if _FLIGHT.get(key) is future:
            del _FLIGHT[key]
    return value


def forget() -> None:
    """Forget every job in flight (their results are not taken; tests)."""
    with _LOCK:
        _FLIGHT.clear()


def worker_pid() -> int | None:
    """The worker process's id, or ``None`` when none runs (benchmarks, tests)."""
    return _PROCESS.pid


def _preload() -> None:
    """Import what the jobs use and load the compiled kernels, before the first job."""
    import planner.app.services
    import planner.grids.codes
    import planner.grids.division
    import planner.load.sources  # noqa: F401
    from planner._warm import warm

    warm()


def main() -> None:
    """The worker: read jobs from stdin, reply on the original stdout, until stdin ends."""
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # what a job prints goes to stderr, never into a reply
    jobs = sys.stdin.buffer
    _preload()
    while True:
        try:
            job, args = pickle.loads(_recv(jobs))  # from our own parent
        except EOFError:
            return
        try:
            reply: tuple[bool, Any] = (True, job(*args))
        except Exception as exc:  # the parent computes again and raises it itself
            reply = (False, f"{type(exc).__name__}: {exc}")
        try:
            data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            data = pickle.dumps((False, f"result not picklable: {exc!r}"))
        _send(replies, data)


if __name__ == "__main__":
    main()
