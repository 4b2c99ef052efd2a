"""Grids: atoms, the division, the rules' proof, codes, edits and the files grids live in.

* :mod:`planner.grids.atoms` - the indivisible pieces grids are made of;
* :mod:`planner.grids._partition` - contiguous partition with hard household bounds;
* :mod:`planner.grids.division` - :func:`divide`: the street into grids;
* :mod:`planner.grids.rules` - :func:`check_grids`: the proof of the grid rules;
* :mod:`planner.grids.codes` - CJ/T 349 grid codes;
* :mod:`planner.grids.edits` - :class:`GridEditor`: edits by hand, re-proved, with undo;
* :mod:`planner.grids.project` - the editable project file (.gpkg);
* :mod:`planner.grids.gridfile` - grid layers edited elsewhere, read back;
* :mod:`planner.grids.recode` - codes of grids read back: kept, matched by geometry,
  filled in, never reused;
* :mod:`planner.grids.keep` - :func:`divide_keeping`: re-division after a data change
  keeping the grids and codes people know.
* :mod:`planner.grids.exact` - exact contiguous division (a MILP solved by HiGHS);
* :mod:`planner.grids.workload` - the workload of a grid (households and weighted units).
* :mod:`planner.grids.dedicated` - dedicated grids (专属网格): campuses, hospitals, business
  districts ... as grids of their own;
* :mod:`planner.grids.shape` - boundary on features and compactness of grids;
* :mod:`planner.grids._verges` - thin land without households given to the atoms beside it.
* :mod:`planner.grids.compact` - repair of thin grids: boundary units moved between
  neighbouring grids.
* :mod:`planner.grids._tree_kernel` - compiled random spanning trees for the partition
  (numba).
"""

from planner.grids.atoms import make_atoms
from planner.grids.codes import assign_codes
from planner.grids.division import GridResult, divide
from planner.grids.edits import GridEditor
from planner.grids.gridfile import read_grids
from planner.grids.project import Project, open_project, read_project, save_project
from planner.grids.rules import RuleReport, check_grids

__all__ = [
    "GridEditor",
    "GridResult",
    "Project",
    "RuleReport",
    "assign_codes",
    "check_grids",
    "divide",
    "make_atoms",
    "open_project",
    "read_grids",
    "read_project",
    "save_project",
]
