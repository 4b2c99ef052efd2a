"""Stop requests whose exception is lost on the way, as libraries lose them.

Python runs a signal handler wherever the main thread happens to be. Where that is a
finaliser (``__del__``, a weakref callback: a GDAL, shapely or numba object collected
at that moment) Python drops the exception after printing it; where it is a library's
bare ``except:`` (networkx has several) the exception is silently caught. The case
seen in a real run: numpy's ``dtype == other`` (pandas compares dtypes in every
``astype``) runs Python code while it converts ``other`` and clears any error it
raised, the handler's too. Shared by tests/test_atomic.py (the swap) and
tests/test_cli_run.py (the whole command).
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable
from typing import Any

import numpy as np


class _SignalsWhenCollected:
    def __del__(self) -> None:
        signal.raise_signal(signal.SIGTERM)


def lost_in_a_bare_except() -> None:
    """SIGTERM, its handler's exception caught and dropped."""
    with contextlib.suppress(BaseException):
        signal.raise_signal(signal.SIGTERM)  # the handler runs right here


def lost_in_a_finaliser() -> None:
    """SIGTERM received inside a finaliser (the object is collected at once)."""
    _SignalsWhenCollected()


class _SignalsWhenConverted:
    @property
    def dtype(self) -> np.dtype[np.float64]:  # numpy reads it to convert the object
        signal.raise_signal(signal.SIGTERM)
        return np.dtype(np.float64)


def lost_in_a_dtype_comparison() -> None:
    """SIGTERM handled while numpy compares a dtype with another object (numpy 2.4:
    the conversion's error, the handler's exception, is cleared)."""
    assert np.dtype(object) != _SignalsWhenConverted()


#: Every way, for ``pytest.mark.parametrize``.
LOSERS: list[Callable[[], None]] = [
    lost_in_a_bare_except,
    lost_in_a_finaliser,
    lost_in_a_dtype_comparison,
]


def losing_a_stop(real: Callable[..., Any], lose: Callable[[], None]) -> Callable[..., Any]:
    """``real``, then a stop request lost by ``lose``."""

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        value = real(*args, **kwargs)
        lose()
        return value

    return wrapped
