"""A planner's edits of grid branches and teams, with their history, saved atomically.

The app's organisation page lets a planner name a grid's party branch and set its team
(post, name, phone) without editing the spreadsheets. Each change is an
:class:`OrgEdit` in an :class:`OrgEditLog` (the latest value per grid and field, and
every change in order with its time, old and new value). The log is kept inside the
project file (:mod:`planner.grids.project`) as the table ``extra_organisation_edits``
(:data:`EDITS_TABLE`; one row per change, :meth:`OrgEditLog.to_table`), written with
the rest of the project by its atomic save; the latest values are the history
replayed. Projects of earlier versions kept the log as JSON beside the project file
(``<project>.organisation.json``, :func:`legacy_edits_path`); :func:`merge_logs` folds
such a file into the project's log when the project is opened.
:func:`apply_edits` lays the edits over the joined registers; the organisation rules
are then checked again.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from planner.errors import InputError
from planner.organisation.registers import POST_WORDS, Registers

EditField = Literal["branch", "team"]
#: A team member as edited: (post as written, name, phone).
Member = tuple[str, str, str]
#: Version of the edits file (the legacy JSON side file).
FORMAT = 1
#: Name of the project file's table of organisation edits (layer ``extra_<name>``).
EDITS_TABLE = "organisation_edits"
#: Columns of :data:`EDITS_TABLE`: old and new values are JSON text.
TABLE_COLUMNS: tuple[str, ...] = ("time", "grid", "field", "old", "new")


@dataclass(frozen=True)
class OrgEdit:
    """One change: when, which grid, which field, the value before and after."""

    time: str
    grid: str
    field: EditField
    old: Any
    new: Any


@dataclass
class OrgEditLog:
    """The edits of one project: the latest branch and team per grid, and the history."""

    branches: dict[str, str] = field(default_factory=dict)
    teams: dict[str, list[Member]] = field(default_factory=dict)
    history: list[OrgEdit] = field(default_factory=list)

    def _now(self) -> str:
        return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")

    def set_branch(self, grid: str, name: str, *, before: str = "") -> None:
        """Name grid ``grid``'s party branch ('' removes it); ``before``: the value shown."""
        name = " ".join(str(name).split())[:200]
        old = self.branches.get(grid, before)
        if name == old:
            return
        self.branches[grid] = name
        self.history.append(OrgEdit(self._now(), grid, "branch", old, name))

    def set_team(
        self, grid: str, members: list[Member], *, before: list[Member] | None = None
    ) -> None:
        """Set grid ``grid``'s whole team (rows without a name are dropped)."""
        clean = [
            (" ".join(p.split())[:50], " ".join(n.split())[:50], "".join(ph.split())[:20])
            for p, n, ph in members
            if str(n).strip()
        ]
        bad = [m for m in clean if not m[0]]
        if bad:
            raise InputError(
                f"team of grid {grid}: no post for {', '.join(m[1] for m in bad)}",
                fix="give every member a post (网格长, 专职网格员, 宣传员 ...)",
            )
        old = self.teams.get(grid, list(before or []))
        if clean == [tuple(m) for m in old]:
            return
        self.teams[grid] = clean
        self.history.append(
            OrgEdit(self._now(), grid, "team", [list(m) for m in old], [list(m) for m in clean])
        )

    def to_json(self) -> str:
        doc = {
            "format": FORMAT,
            "branches": self.branches,
            "teams": {g: [list(m) for m in ms] for g, ms in self.teams.items()},
            "history": [asdict(e) for e in self.history],
        }
        return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str, *, file: str = "") -> OrgEditLog:
        try:
            doc = json.loads(text)
            return cls(
                branches={str(k): str(v) for k, v in doc.get("branches", {}).items()},
                teams={
                    str(g): [(str(p), str(n), str(ph)) for p, n, ph in ms]
                    for g, ms in doc.get("teams", {}).items()
                },
                history=[OrgEdit(**e) for e in doc.get("history", [])],
            )
        except (ValueError, TypeError, AttributeError) as exc:
            raise InputError(
                f"{file or 'the organisation edits'} cannot be read: {exc}",
                fix="delete the file to start the edits afresh, or restore it from a copy",
            ) from None

    def to_table(self) -> pd.DataFrame:
        """The history as the project file's table (:data:`TABLE_COLUMNS`, one row a
        change, old and new values as JSON text)."""
        rows = [
            (e.time, e.grid, e.field, json.dumps(e.old, ensure_ascii=False),
             json.dumps(e.new, ensure_ascii=False))
            for e in self.history
        ]  # fmt: skip
        return pd.DataFrame(rows, columns=list(TABLE_COLUMNS), dtype=object)

    @classmethod
    def from_table(cls, table: pd.DataFrame, *, file: str = "") -> OrgEditLog:
        """The log whose history is ``table`` (:meth:`to_table`), replayed in order."""
        missing = [c for c in TABLE_COLUMNS if c not in table.columns]
        if missing:
            raise InputError(
                f"{file or 'the project file'}: table {EDITS_TABLE} has no column "
                f"{', '.join(missing)}",
                fix="open a project saved by the planner, or delete the table's layer "
                f"extra_{EDITS_TABLE} to start the edits afresh",
            )
        try:
            history = [
                OrgEdit(str(t), str(g), f, json.loads(o), json.loads(n))
                for t, g, f, o, n in table[list(TABLE_COLUMNS)].itertuples(index=False)
            ]
        except (TypeError, ValueError) as exc:
            raise InputError(
                f"{file or 'the project file'}: table {EDITS_TABLE} cannot be read ({exc})",
                fix="open a project saved by the planner, or restore it from a copy",
            ) from None
        return cls.replay(history)

    @classmethod
    def replay(cls, history: list[OrgEdit]) -> OrgEditLog:
        """The log of ``history``: each grid's branch and team are the last values set."""
        log = cls(history=list(history))
        for e in history:
            if e.field == "branch":
                log.branches[e.grid] = str(e.new)
            else:
                log.teams[e.grid] = [(str(p), str(n), str(ph)) for p, n, ph in e.new]
        return log


def merge_logs(*logs: OrgEditLog) -> OrgEditLog:
    """One log of every change of ``logs`` in time order (a change in two logs counts
    once; changes of the same second keep the order of ``logs``, so pass the older
    log first): a legacy side file's and the project's own, when a project is opened."""
    seen: dict[str, OrgEdit] = {}
    for log in logs:
        for e in log.history:
            key = json.dumps(asdict(e), ensure_ascii=False, sort_keys=True)
            seen.setdefault(key, e)
    return OrgEditLog.replay(sorted(seen.values(), key=lambda e: e.time))


def legacy_edits_path(project: str | Path) -> Path:
    """Where earlier versions kept a project's edits: ``<project>.organisation.json``
    beside the project file (read once by :func:`read_legacy`, then removed)."""
    p = Path(project)
    return p.with_name(p.stem + ".organisation.json")


def read_legacy(project: str | Path) -> OrgEditLog | None:
    """The legacy side file of ``project`` (:func:`legacy_edits_path`); ``None`` if none."""
    p = legacy_edits_path(project)
    if not p.exists():
        return None
    return OrgEditLog.from_json(p.read_text(encoding="utf-8"), file=str(p))


def _post(text: str) -> str:
    norm = text.lower()
    return next((post for word, post in POST_WORDS if word in norm), "other")


def _without_grid(table: pd.DataFrame, grid: str, keep: pd.Series) -> pd.DataFrame:
    """``table`` with ``grid`` taken out of the rows not in ``keep``; rows left with no
    grid are dropped."""
    grids = table["grids"].where(
        keep, table["grids"].map(lambda g: tuple(c for c in g if c != grid))
    )
    out = table.assign(grids=grids)
    return out[out["grids"].map(len) > 0]


def apply_edits(regs: Registers, log: OrgEditLog) -> Registers:
    """The registers with ``log``'s branches and teams in place of the spreadsheets'.

    A grid's edited branch replaces the branch rows naming it (a shared branch keeps
    its other grids); an edited team replaces every staff row of that grid.
    """
    tables = dict(regs.tables)
    party = tables.get("party")
    if log.branches:
        party = party if party is not None else _empty_party()
        for grid, name in log.branches.items():
            is_branch = party["level"] == "branch"
            party = _without_grid(party, grid, ~is_branch)
            if name:
                party = pd.concat([party, _row(party, level="branch", name=name, grid=grid)])
        tables["party"] = party
    staff = tables.get("staff")
    if log.teams:
        staff = staff if staff is not None else _empty_staff()
        for grid, members in log.teams.items():
            staff = _without_grid(staff, grid, pd.Series(False, index=staff.index))
            for post_text, name, phone in members:
                staff = pd.concat([staff, _row(staff, post=_post(post_text), post_text=post_text,
                                               name=name, phone=phone, grid=grid)])  # fmt: skip
        tables["staff"] = staff
    return Registers(
        tables=tables,
        files=dict(regs.files),
        unmatched=dict(regs.unmatched),
        building_grid=regs.building_grid,
        compound_grids=dict(regs.compound_grids),
    )


def _row(table: pd.DataFrame, *, grid: str, **values: Any) -> pd.DataFrame:
    """One new row of ``table``'s columns: the given values, the grid, blanks elsewhere."""
    row: dict[str, Any] = dict.fromkeys(table.columns, "")
    if "members" in row:
        row["members"] = np.nan
    row.update(values, row=-1, label="(edit)", grids=(grid,), building_id="", compound_id="")
    return pd.DataFrame([row], columns=list(table.columns)).astype({"row": "int64"})


def _empty_party() -> pd.DataFrame:
    cols = [
        "row",
        "label",
        "level",
        "name",
        "leader",
        "members",
        "grids",
        "building_id",
        "compound_id",
    ]
    return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})


def _empty_staff() -> pd.DataFrame:
    cols = [
        "row",
        "label",
        "name",
        "post",
        "post_text",
        "phone",
        "grids",
        "building_id",
        "compound_id",
    ]
    return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
