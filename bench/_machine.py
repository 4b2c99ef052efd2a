"""What the benchmark scripts print about the machine they ran on.

Imported by the scripts in ``bench/`` as ``from _machine import processor`` (a script's
own folder is first on ``sys.path`` when it is run as ``python bench/<script>.py``).
"""

from __future__ import annotations

import platform
from pathlib import Path


def processor() -> str:
    """The processor's model name from ``/proc/cpuinfo`` (``platform.processor()`` is
    empty on Linux), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
