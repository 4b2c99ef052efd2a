"""A silent HiGHS solver object, and linear programs in HiGHS's row-wise form.

``highspy`` 1.16 prints its "Running HiGHS ... Copyright" banner from the C++
constructor of the first ``Highs`` object of the process, on file descriptor 1,
before any option can be set. :func:`new_highs` builds that first object with
descriptor 1 pointed at ``/dev/null`` for the duration of the constructor, and
turns the solver's own console output off, so no command (``site``, ``run``,
the app) prints solver chatter; solver figures go to the log instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import highspy
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from planner._stdio import native_stdout_to_null

_LOCK = threading.Lock()
_BANNER_DONE = False


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
            with native_stdout_to_null():
                h = _highs()
            _BANNER_DONE = True
    h.setOptionValue("output_flag", False)
    h.setOptionValue("log_to_console", False)
    return h


def rowwise_lp(
    a: sp.csr_matrix,
    cost: NDArray[np.float64],
    *,
    col_upper: NDArray[np.float64],
    row_lower: NDArray[np.float64],
    row_upper: NDArray[np.float64],
    maximize: bool,
) -> highspy.HighsLp:
    """The program ``optimise cost @ x`` with ``row_lower <= a @ x <= row_upper`` and
    ``0 <= x <= col_upper``, as a ``highspy.HighsLp`` holding ``a`` row by row."""
    n_col = int(a.shape[1])
    lp = highspy.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = int(a.shape[0])
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(n_col)
    lp.col_upper_ = col_upper
    lp.row_lower_ = row_lower
    lp.row_upper_ = row_upper
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = n_col
    lp.a_matrix_.num_row_ = int(a.shape[0])
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(np.float64)
    return lp
