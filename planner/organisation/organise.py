"""The organisation step of a run: read the registers, join them onto the grids, check.

Registers are read before the long steps (:func:`read_or_raise`: a bad cell stops the
run at once, naming the file, row and field), and joined and checked once the grids
exist (:func:`organise`). The result travels in :class:`Organisation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from planner.errors import ProblemLog
from planner.organisation.checks import OrgReport, check_organisation
from planner.organisation.edits import OrgEditLog, apply_edits
from planner.organisation.registers import (
    RegisterFiles,
    Registers,
    RegisterTables,
    join_registers,
    read_registers,
)
from planner.settings import Settings
from planner.street import Street

#: Per-grid columns the grids layer (GeoJSON) carries: counts, never names or phones.
GRID_LAYER_COLUMNS: tuple[str, ...] = (
    "has_branch",
    "party_groups",
    "party_members",
    "leaders",
    "full_time",
    "part_time",
    "team_complete",
    "compounds_red",
    "red_property_pct",
    "incidents",
    "incidents_per_100_households",
)
#: Columns holding names (people, branches) or phones: only in the table, the cards,
#: and the layers when asked (``with_names``).
PRIVATE_COLUMNS: tuple[str, ...] = ("branch", "team", "phones")


@dataclass
class Organisation:
    """The joined registers and the organisation rules of one grid layer."""

    registers: Registers
    report: OrgReport

    def grid_table(self) -> pd.DataFrame:
        """``organisation_by_grid``: one row per grid (see :func:`checks.grid_table`)."""
        return self.report.by_grid

    def grid_layer(self, grids: gpd.GeoDataFrame, *, with_names: bool = False) -> gpd.GeoDataFrame:
        """``grids`` with the organisation counts of :data:`GRID_LAYER_COLUMNS` (and the
        branch and team names when ``with_names``), joined on ``code``."""
        t = self.report.by_grid
        keep = [c for c in GRID_LAYER_COLUMNS if c in t.columns]
        if with_names:
            keep += [c for c in ("branch", "team") if c in t.columns]
        add = t[["code", *keep]].drop_duplicates("code").set_index("code")
        out = grids.copy()
        for col in keep:
            out[col] = out["code"].astype(str).map(add[col]).to_numpy()
        return out

    def to_dict(self) -> dict[str, Any]:
        """For ``summary.json``: the rules and what each register matched."""
        return {**self.report.to_dict(), "registers": self.registers.to_dict()}


def read_or_raise(files: RegisterFiles) -> RegisterTables:
    """Read every register given; raise one :class:`~planner.errors.InputError` naming
    every bad file, row and field."""
    problems = ProblemLog()
    tables = read_registers(files, problems=problems)
    problems.raise_if_errors()
    return tables


def organise(
    tables: RegisterTables,
    street: Street,
    grids: gpd.GeoDataFrame,
    *,
    settings: Settings | None = None,
    problems: ProblemLog | None = None,
    edits: OrgEditLog | None = None,
) -> Organisation:
    """Join ``tables`` onto ``grids`` (street CRS, with ``code``), lay a planner's
    ``edits`` of branches and teams over them (:func:`apply_edits`), and check the rules."""
    regs = join_registers(tables, street.buildings, street.compounds, grids, problems=problems)
    if edits is not None and (edits.branches or edits.teams):
        regs = apply_edits(regs, edits)
    report = check_organisation(regs, grids, street.buildings, street.compounds, settings=settings)
    return Organisation(registers=regs, report=report)


#: File names of the demo street's synthetic registers (in its folder).
DEMO_REGISTERS: dict[str, str] = {
    "party": "register_party.csv",
    "staff": "register_staff.csv",
    "property": "register_property.csv",
    "incidents": "register_incidents.csv",
}


def demo_register_files() -> RegisterFiles | None:
    """The demo street's synthetic registers (``None`` when its folder has none)."""
    from planner.load.sources import DEMO_DIR

    def there(kind: str) -> Path | None:
        path = DEMO_DIR / DEMO_REGISTERS[kind]
        return path if path.exists() else None

    files = RegisterFiles(
        party=there("party"),
        staff=there("staff"),
        property=there("property"),
        incidents=there("incidents"),
    )
    return files if files else None


def street_organisation(
    street: Street,
    grids: gpd.GeoDataFrame,
    *,
    files: RegisterFiles | None = None,
    settings: Settings | None = None,
    edits: OrgEditLog | None = None,
) -> Organisation | None:
    """The organisation of ``street`` on ``grids``: from the registers ``files`` (a
    planner's own), else, for the demo street, its synthetic registers (what ``run
    demo`` checks); ``None`` when there are none. ``edits`` are laid over them.

    Raises
    ------
    InputError
        A register cannot be read (naming every bad file, row and field).
    """
    if files is None and street.report.source == "demo":
        files = demo_register_files()
    if files is None:
        return None
    return organise(read_or_raise(files), street, grids, settings=settings, edits=edits)
