"""Dask preload of the city run's local worker processes (``distributed.worker.preload``).

Ctrl-C in a terminal sends SIGINT to the whole process group: the command, and the
worker processes its local cluster spawned. The command stops cleanly on it (it closes
the cluster and says what was kept); a worker that took the same signal would raise
KeyboardInterrupt in the middle of its task and print multiprocessing's traceback.
So the workers ignore SIGINT and leave the stop to the command, which closes them.
"""

from __future__ import annotations

import contextlib
import signal


def dask_setup(worker: object) -> None:
    """Called by dask once in each worker process as it starts (on its main thread)."""
    with contextlib.suppress(ValueError):  # not the main thread: nothing to install
        signal.signal(signal.SIGINT, signal.SIG_IGN)
