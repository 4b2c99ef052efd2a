"""File descriptor 1 sent to ``/dev/null`` for a while: native libraries' own printing.

Compiled libraries print on the process's file descriptor 1 directly, around Python's
``sys.stdout`` (HiGHS prints a banner from the C++ constructor of its first solver
object). Where that would spoil a command's output (``run``'s summary, ``--quiet`` for
scripts) or the app's console, the planner silences the descriptor meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def native_stdout_to_null() -> Iterator[None]:
    """Point file descriptor 1 at ``/dev/null`` while the block runs, then restore it.

    Python's own ``sys.stdout`` is flushed before and after, so nothing printed by
    Python is lost or reordered. Without a real descriptor 1 (an embedded interpreter,
    some service hosts) there is nothing to silence and the block just runs.
    """
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:
        yield
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)
