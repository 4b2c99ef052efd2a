"""Start the app: ``python -m planner.app.serve [app.py] [streamlit run options]``.

The same as ``streamlit run app.py [options]``, plus the warm-up of
:mod:`planner.app.warm` started in this process before the server: Streamlit runs
``app.py`` only when a browser connects, so without it the first session pays the
imports, the numba kernels and the default street's coverage, grids and map after the
page has loaded. ``scripts/run.sh`` and the browser tests start the app this way;
``$PLANNER_APP_WARM=0`` turns the warm-up off.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from planner.app import warm

#: The app script beside the package (a source checkout); else ``app.py`` in the
#: current folder, as ``streamlit run app.py`` would take it.
_BESIDE = Path(__file__).resolve().parents[2] / "app.py"


def app_script() -> str:
    """The path of ``app.py`` to run."""
    return str(_BESIDE) if _BESIDE.is_file() else "app.py"


def streamlit_main() -> Callable[..., object]:
    """Streamlit's command line entry point (imported here, in the main thread,
    before the warm-up thread starts importing the app's modules)."""
    from streamlit.web import cli

    return cli.main


def main(
    argv: Sequence[str] | None = None,
    *,
    cli_main: Callable[[], Callable[..., object]] = streamlit_main,
    start_warm: Callable[[], object] = warm.start,
) -> None:
    """Start the warm-up thread, then ``streamlit run SCRIPT *options`` (does not return
    while the server runs); ``argv`` is ``[SCRIPT.py] [options]``, the script
    :func:`app_script` when not given."""
    args = list(sys.argv[1:] if argv is None else argv)
    script = args.pop(0) if args and args[0].endswith(".py") else app_script()
    entry = cli_main()
    start_warm()
    sys.argv = ["streamlit", "run", script, *args]
    entry(prog_name="streamlit")  # as `python -m streamlit` calls it


if __name__ == "__main__":
    main()
