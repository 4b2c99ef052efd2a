"""A silent HiGHS solver object.

``highspy`` 1.16 prints its "Running HiGHS ... Copyright" banner from the C++
constructor of the first ``Highs`` object of the process, on file descriptor 1,
before any option can be set. :func:`new_highs` builds that first object with
descriptor 1 pointed at ``/dev/null`` for the duration of the constructor, and
turns the solver's own console output off, so no command (``site``, ``run``,
the app) prints solver chatter; solver figures go to the log instead.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator

import highspy

_LOCK = threading.Lock()
_BANNER_DONE = False


@contextlib.contextmanager
def _fd1_silenced() -> Iterator[None]:
    """Point file descriptor 1 at ``/dev/null`` while the block runs."""
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no descriptor 1 (e.g. some service hosts): nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _highs() -> highspy.Highs:
    """``highspy.Highs()``, called through a typed name (highspy's constructor
    carries no annotations)."""
    make: Callable[[], highspy.Highs] = highspy.Highs
    return make()


def new_highs() -> highspy.Highs:
    """A ``highspy.Highs`` with ``output_flag`` and ``log_to_console`` off and no banner."""
    global _BANNER_DONE
    with _LOCK:
        if _BANNER_DONE:
            h = _highs()
        else:
            with _fd1_silenced():
                h = _highs()
            _BANNER_DONE = True
    h.setOptionValue("output_flag", False)
    h.setOptionValue("log_to_console", False)
    return h
