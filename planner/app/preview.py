"""What an edit would give, before the planner confirms it: badges and split previews.

:func:`trial` runs one edit of a :class:`~planner.grids.edits.GridEditor` through the
editor's own rules (so a refusal shows its real reason up front), reads the grids it
touched, and undoes it, leaving the editor exactly as it was (its redo stack too).
:func:`badges` turns the touched grids into the figures the page shows on them:
households, load, whether the household bounds hold, contiguity (pieces) and
compactness (Polsby-Popper), before and after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
import shapely

from planner.errors import RuleViolation
from planner.grids.edits import GridEditor
from planner.i18n import Message
from planner.settings import Settings

#: Columns of :func:`badges`.
BADGE_COLUMNS = (
    "code",
    "households_before",
    "households",
    "load",
    "lo",
    "hi",
    "in_bounds",
    "pieces",
    "compactness",
)


@dataclass
class Trial:
    """The outcome of an edit tried and undone.

    Attributes
    ----------
    touched
        Codes of the grids the edit changed (a split's new grid included).
    grids
        Those grids after the edit (street CRS; empty when refused).
    error
        The reason the edit is refused (a catalogue message or text), ``None`` if allowed.
    """

    touched: list[str] = field(default_factory=list)
    grids: gpd.GeoDataFrame = field(default_factory=gpd.GeoDataFrame)
    error: Message | str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def touched_codes(op: str, args: dict[str, object]) -> list[str]:
    """The grids an edit record names (``move_atoms``, ``merge``, ``split``)."""
    if op == "move_atoms":
        return [str(args["from"]), str(args["to"])]
    if op == "merge":
        return [str(g) for g in args["grids"]]  # type: ignore[attr-defined]
    if op == "split":
        return [str(args["grid"]), str(args["new"])]
    return []


def trial(editor: GridEditor, edit: Callable[[GridEditor], object]) -> Trial:
    """Apply ``edit`` to ``editor``, read the grids it touched, then undo it.

    ``edit`` is e.g. ``lambda e: e.move_atoms([12, 13], code)``. A refused edit
    (:class:`~planner.errors.RuleViolation`) changes nothing and returns its reason.
    The editor's redo stack is kept, so a preview never costs the planner a redo.
    """
    redo = list(editor.redo_stack)
    try:
        edit(editor)
    except RuleViolation as exc:
        return Trial(error=exc.message if exc.message is not None else str(exc))
    record = editor.history[-1]
    touched = touched_codes(record.op, record.args)
    grids = editor.grids
    after = grids[grids["code"].isin(touched)]
    editor.undo()
    editor.redo_stack[:] = redo
    return Trial(touched=touched, grids=after)


def badges(before: gpd.GeoDataFrame, after: gpd.GeoDataFrame, settings: Settings) -> pd.DataFrame:
    """The figures of the touched grids after an edit (columns :data:`BADGE_COLUMNS`).

    Parameters
    ----------
    before
        The editor's grids before the edit (all of them or only the touched ones).
    after
        The touched grids after the edit (:attr:`Trial.grids`).
    settings
        ``grid_min_households`` and ``grid_max_households`` (the bounds).

    ``load`` is the grid's ``load`` column when the division has one (households
    plus workload weights), else its households; ``pieces`` counts the polygons of
    the grid (1 = contiguous); ``compactness`` is 4πA/P² (1 for a circle).
    """
    lo, hi = settings.grid_min_households, settings.grid_max_households
    old = before.set_index("code")["households"]
    hh = after["households"].astype(int)
    load = after["load"] if "load" in after.columns else hh
    geoms = after.geometry.values
    return pd.DataFrame(
        {
            "code": after["code"].astype(str).to_numpy(),
            "households_before": [
                int(old[c]) if c in old.index else 0 for c in after["code"].astype(str)
            ],
            "households": hh.to_numpy(),
            "load": pd.Series(load).astype(float).to_numpy(),
            "lo": lo,
            "hi": hi,
            "in_bounds": hh.between(lo, hi).to_numpy(),
            "pieces": shapely.get_num_geometries(geoms),
            "compactness": after["compactness"].astype(float).round(2).to_numpy(),
        },
        columns=list(BADGE_COLUMNS),
    )
