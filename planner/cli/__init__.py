"""The command line: ``python -m planner COMMAND``.

* :mod:`planner.cli.parser` - the parser, the options commands share, and :func:`main`;
* one module per command: ``info``, ``export``, ``grids``, ``coverage``, ``site``,
  ``check_grids``, ``run`` (also ``demo``), ``whatif`` (what-if scenarios), ``city``
  (every street of a city on Dask).
"""

from planner.cli.parser import main

__all__ = ["main"]
