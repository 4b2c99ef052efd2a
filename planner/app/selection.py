"""Map-first selection in the grid editor (Districtr-style), without Streamlit.

A planner selects atoms (or whole compounds) of ONE grid by clicking them on the map
or by lassoing them (a polygon drawn with the map's polygon tool); a click on an atom
already selected deselects it (with its compound in compound mode). Once something is
selected, a click on another grid makes that grid the *target*: the page then shows
what moving the selection there would give (:mod:`planner.app.preview`) before the
planner confirms. Clicking the target again clears it.

The selection lives in the session state as plain values (``selected_grid``,
``selected_atoms``, ``target_grid``): :meth:`Selection.from_state` and
:meth:`Selection.to_state` read and write them.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from planner.grids.codes import parse_code, sequence_digits
from planner.grids.edits import GridEditor
from planner.settings import Settings


@dataclass(frozen=True)
class Selection:
    """What the planner has picked on the editor map.

    Attributes
    ----------
    grid
        Code of the grid the selected atoms are in ("" when none is picked).
    atoms
        ``atom_id`` of the selected atoms (all in ``grid``), in the order picked.
    target
        Code of the grid the selection would move to ("" until one is clicked).
    """

    grid: str = ""
    atoms: tuple[int, ...] = ()
    target: str = ""

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Selection:
        """The selection kept in a session state (missing keys: nothing selected)."""
        return cls(
            grid=str(state.get("selected_grid") or ""),
            atoms=tuple(int(a) for a in state.get("selected_atoms") or ()),
            target=str(state.get("target_grid") or ""),
        )

    def to_state(self, state: MutableMapping[str, Any]) -> None:
        """Write the selection into a session state."""
        state["selected_grid"] = self.grid
        state["selected_atoms"] = list(self.atoms)
        state["target_grid"] = self.target

    def cleared(self) -> Selection:
        """No atoms and no target; the grid stays picked (for lock, split, merge)."""
        return Selection(grid=self.grid)


def short_label(code: str, settings: Settings) -> str:
    """The short label of a grid: community code and sequence number (e.g. ``00101``).

    Falls back to the last five characters when ``code`` is not a well-formed code.
    """
    try:
        parts = parse_code(code, settings=settings)
    except ValueError:
        return code[-(3 + sequence_digits(settings)) :]
    return parts["community"] + parts["sequence"]


def group_of(editor: GridEditor, atom: int, *, whole_compound: bool) -> list[int]:
    """The atoms one pick takes: ``atom`` alone, or every atom of its compound in its grid."""
    if not whole_compound:
        return [int(atom)]
    compound = str(editor.atoms.at[atom, "compound_id"] or "")
    if not compound or compound == "nan":
        return [int(atom)]
    same = (editor.atoms["compound_id"].astype(str) == compound).to_numpy() & (
        editor.labels == editor.labels.loc[atom]
    ).to_numpy()
    return [int(a) for a in editor.atoms.index[same]]


def after_click(
    sel: Selection, editor: GridEditor, atom: int | None, *, whole_compound: bool = False
) -> Selection:
    """The selection after a click on ``atom`` (``None``: the click hit no atom).

    - nothing selected: the atom (or its compound) is selected, its grid picked;
    - an atom of the selection's grid: added, or removed if already selected;
    - an atom of another grid while atoms are selected: that grid becomes the target
      (clicked again: no target).
    """
    if atom is None:
        return sel
    grid = editor.grid_of_atom(atom)
    group = group_of(editor, atom, whole_compound=whole_compound)
    if sel.atoms and grid != sel.grid:
        return replace(sel, target="" if sel.target == grid else grid)
    if not sel.atoms or grid != sel.grid:
        return Selection(grid=grid, atoms=tuple(group))
    if atom in sel.atoms:
        kept = tuple(a for a in sel.atoms if a not in set(group))
        return Selection(grid=grid, atoms=kept, target=sel.target if kept else "")
    return replace(sel, atoms=sel.atoms + tuple(a for a in group if a not in sel.atoms))


def after_lasso(
    sel: Selection, editor: GridEditor, polygon: BaseGeometry, *, whole_compound: bool = False
) -> tuple[Selection, int]:
    """The selection after a lasso (a polygon in the street CRS, metres).

    Atoms whose inner point (``point_on_surface``) lies inside the polygon are added,
    those of the selection's grid only (the grid holding most of the lassoed
    households when nothing is selected yet). Returns the new selection and how many
    lassoed atoms were left out because they are in another grid.
    """
    atoms = editor.atoms
    inner = shapely.point_on_surface(np.asarray(atoms.geometry.values, dtype=object))
    inside = shapely.contains(polygon, inner)
    if not inside.any():
        return sel, 0
    labels = editor.labels.to_numpy()
    grid = sel.grid if sel.atoms else _main_grid(editor, inside)
    ids = [int(a) for a in atoms.index[inside & (labels == grid)]]
    if whole_compound:
        ids = list(dict.fromkeys(x for a in ids for x in group_of(editor, a, whole_compound=True)))
    left_out = int(inside.sum()) - int((inside & (labels == grid)).sum())
    picked = tuple(a for a in ids if a not in sel.atoms)
    base = sel if sel.atoms else Selection(grid=grid)
    return replace(base, atoms=base.atoms + picked), left_out


def _main_grid(editor: GridEditor, mask: Any) -> str:
    """The grid holding most households among the atoms in ``mask`` (most atoms on a tie)."""
    picked = editor.atoms.loc[mask, ["households"]].assign(code=editor.labels.to_numpy()[mask])
    per = picked.groupby("code")["households"].agg(["sum", "size"])
    return str(per.sort_values(["sum", "size"], ascending=False).index[0])


def neighbours(editor: GridEditor, code: str) -> list[str]:
    """Codes of the grids of ``code``'s community that share an edge with it (sorted).

    The grids a selection of ``code`` can move to; shown as short-label buttons.
    """
    grids = editor.grids.set_index("code")
    if code not in grids.index:
        return []
    own = grids.loc[code]
    same = grids[(grids["community_id"] == own["community_id"]) & (grids.index != code)]
    if len(same) == 0:
        return []
    geom = own.geometry
    touch = shapely.intersects(
        np.asarray(same.geometry.values, dtype=object), shapely.buffer(geom, 0.5)
    )
    return sorted(str(c) for c in same.index[touch])
