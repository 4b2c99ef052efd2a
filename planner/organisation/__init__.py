"""The grid as an organisation: party branches, grid staff, red property, incidents (issue 15).

* :mod:`planner.organisation.registers` - the four registers (party organisations, grid
  staff, property management, incidents) read like the household register and joined
  onto grids by grid code, building, compound or point; unmatched rows listed;
* :mod:`planner.organisation.checks` - the organisation rules per grid and community
  (branch, party groups, "1+1+n" team, workload, red property, abandoned compounds,
  incidents), apart from the geometric rules, and ``organisation_by_grid``;
* :mod:`planner.organisation.cards` - the grid card (网格信息卡): one printable A4 page per
  grid in Chinese (map, code, households, branch, team, nearest station), as PDF;
* :mod:`planner.organisation.alignment` - aligning grid systems (多网合一): overlaps and
  nesting against other grid layers, misfits, a division nested in one and its cost;
* :mod:`planner.organisation.maplayers` - the organisation on the red map: branches and
  groups, grids coloured by a check, compounds by red-property status;
* :mod:`planner.organisation.edits` - a planner's edits of grid branches and teams, with
  their history, kept as a table inside the project file;
* :mod:`planner.organisation.organise` - the step of a run: registers read at load time,
  joined and checked once the grids exist (:func:`organise`).
"""

from planner.organisation.checks import OrgReport, check_organisation
from planner.organisation.registers import RegisterFiles, join_registers, read_registers

__all__ = [
    "OrgReport",
    "RegisterFiles",
    "check_organisation",
    "join_registers",
    "read_registers",
]
