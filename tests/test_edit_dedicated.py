"""The grid editor refuses putting residential land into a dedicated grid (issue 14)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_dedicated import campus_street

from planner.errors import RuleViolation
from planner.grids.division import divide
from planner.grids.edits import GridEditor
from planner.settings import Settings


@pytest.fixture(scope="module")
def editor() -> GridEditor:
    street = campus_street()
    res = divide(street, settings=Settings(dedicated_min_area_m2=50_000))
    return GridEditor.from_result(street, res)


def _dedicated_code(ed: GridEditor) -> str:
    g = ed.grids
    return str(g.loc[g["kind"] == "dedicated", "code"].iloc[0])


def _residential_neighbour(ed: GridEditor, code: str) -> tuple[int, str]:
    """A residential atom (households > 0) of another grid touching grid ``code``."""
    atoms = ed.atoms
    for a in atoms.index[atoms["households"] > 0]:
        src = ed.grid_of_atom(int(a))
        if src != code and ed._touches([int(a)], code):
            return int(a), src
    raise AssertionError("no residential atom beside the dedicated grid")


def test_moving_residential_atoms_into_a_dedicated_grid_is_refused(editor: GridEditor) -> None:
    ded = _dedicated_code(editor)
    atom, _ = _residential_neighbour(editor, ded)
    before = editor.labels.copy()
    with pytest.raises(RuleViolation) as info:
        editor.move_atoms(atom, ded)
    exc = info.value
    assert exc.message is not None and exc.message.key == "edit_into_dedicated"
    assert ded in str(exc) and "dedicated grid" in str(exc) and "campus" in str(exc)
    zh = exc.render("zh")
    assert f"专属网格 {ded}" in zh and "居住用地" in zh
    assert editor.labels.equals(before)  # the state is unchanged


def test_merging_a_residential_grid_into_a_dedicated_one_is_refused(editor: GridEditor) -> None:
    ded = _dedicated_code(editor)
    _, src = _residential_neighbour(editor, ded)
    with pytest.raises(RuleViolation) as info:
        editor.merge(src, ded)
    assert info.value.message is not None
    assert info.value.message.key == "edit_merge_dedicated"
    assert f"专属网格 {ded}" in info.value.render("zh")


def test_the_app_shows_the_refusal_in_chinese(
    editor: GridEditor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from planner.app.editor import apply_edit
    from planner.app.state import init_state
    from planner.i18n import Message

    monkeypatch.setenv("PLANNER_AUTOSAVE_DIR", str(tmp_path / "autosave"))
    ded = _dedicated_code(editor)
    atom, _ = _residential_neighbour(editor, ded)
    state: dict[str, Any] = {}
    init_state(state, {})  # a session's own project: it may edit
    state["editor"] = editor
    applied = apply_edit(state, "move", editor.move_atoms, atom, ded, source="test")
    assert applied is False
    err = state["edit_error"]
    assert isinstance(err, Message) and err.key == "edit_into_dedicated"
    assert ded in err.render("zh")
