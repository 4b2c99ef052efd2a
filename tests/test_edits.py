"""Planner edits: each applied edit keeps every rule; each breaking edit is refused."""

from __future__ import annotations

import pytest
from shapely.geometry import LineString

from planner.edits import GridEditor
from planner.errors import RuleViolation
from planner.grids import GridResult, divide
from planner.settings import Settings
from planner.street import Street
from tests.grid_streets import X0, Y0, block_street


@pytest.fixture(scope="module")
def divided() -> tuple[Street, GridResult]:
    street = block_street(households=[60, 30, 45, 0], xs=(150, 300, 450, 600, 750), ys=(200, 400))
    return street, divide(street, settings=Settings())


@pytest.fixture()
def editor(divided: tuple[Street, GridResult]) -> GridEditor:
    street, res = divided
    return GridEditor.from_result(street, res)


def _neighbours(ed: GridEditor, code: str) -> list[str]:
    return [
        c
        for c in ed.grids["code"]
        if c != code
        and ed._community(c) == ed._community(code)
        and ed._touches(list(ed.atoms_of(code)), c)
    ]


def _find_move(ed: GridEditor) -> tuple[int, str]:
    for a in ed.atoms["atom_id"]:
        src = ed.grid_of_atom(int(a))
        for c in _neighbours(ed, src):
            trial = GridEditor(
                ed.street,
                ed.atoms.reset_index(drop=True),
                ed.labels.copy(),
                ed.communities,
                settings=ed.settings,
            )
            try:
                trial.move_atoms(int(a), c)
                return int(a), c
            except RuleViolation:
                continue
    raise AssertionError("no legal move")


def test_legal_move_is_applied_proved_and_undoable(editor: GridEditor) -> None:
    a, to = _find_move(editor)
    before = editor.labels.copy()
    codes_before = set(editor.grids["code"])
    report = editor.move_atoms(a, to)
    assert report.ok
    assert editor.grid_of_atom(a) == to
    assert set(editor.grids["code"]) == codes_before  # a move keeps both codes
    assert editor.history[-1].op == "move_atoms"
    editor.undo()
    assert editor.labels.equals(before)
    editor.redo()
    assert editor.grid_of_atom(a) == to


def test_move_to_another_community_is_refused(editor: GridEditor) -> None:
    g = editor.grids
    west = g[g["community_id"] == "w"]["code"].iloc[0]
    east = g[g["community_id"] == "e"]["code"].iloc[0]
    a = int(editor.atoms_of(west)[0])
    with pytest.raises(RuleViolation, match="community"):
        editor.move_atoms(a, east)


def test_move_to_a_grid_not_touching_is_refused(editor: GridEditor) -> None:
    for code in editor.grids["code"]:
        far = [
            c
            for c in editor.grids["code"]
            if c != code
            and editor._community(c) == editor._community(code)
            and not editor._touches(list(editor.atoms_of(code)), c)
        ]
        if far:
            a = int(editor.atoms_of(code)[0])
            with pytest.raises(RuleViolation, match=r"share an edge|compound"):
                editor.move_atoms(a, far[0])
            return
    pytest.fail("fixture has no non-adjacent pair")


def _strip_editor(max_hh: int = 1000) -> tuple[GridEditor, dict[tuple[int, int], int]]:
    """Ten blocks (5 x 2) of 100 households each; grid A = the southern row's first three
    blocks, grid B = the rest."""
    street = block_street(
        xs=(100, 200, 300, 400),
        ys=(100,),
        width=500,
        height=200,
        community_x=None,
        compound_every=0,
        rows=1,
        cols=1,
        households=[100],
    )
    res = divide(
        street,
        settings=Settings(
            grid_min_households=50, grid_max_households=max_hh, grid_target_households=500
        ),
    )
    atoms = res.atoms
    pts = atoms.geometry.representative_point()
    cell = {
        (int((p.x - X0) // 100), int((p.y - Y0) // 100)): int(a)
        for p, a in zip(pts, atoms["atom_id"], strict=True)
    }
    a_code, b_code = "10000011010800100101", "10000011010800100102"
    labels = atoms.set_index("atom_id")["code"].copy()
    labels[:] = b_code
    for x in range(3):
        labels[cell[(x, 0)]] = a_code
    ed = GridEditor(
        street,
        atoms,
        labels,
        res.communities,
        settings=Settings(
            grid_min_households=50,
            grid_max_households=max_hh,
            grid_target_households=min(500, max_hh),
        ),
    )
    return ed, cell


def test_move_leaving_two_pieces_is_refused_with_the_grid_named() -> None:
    ed, cell = _strip_editor()
    a = cell[(1, 0)]
    with pytest.raises(
        RuleViolation, match=rf"moving atom {a} would leave grid 10000011010800100101 in two pieces"
    ):
        ed.move_atoms(a, "10000011010800100102")
    assert ed.grid_of_atom(a) == "10000011010800100101"  # state unchanged


def test_move_breaking_the_household_range_is_refused() -> None:
    ed, cell = _strip_editor(max_hh=700)
    with pytest.raises(RuleViolation, match="above the maximum 700"):
        ed.move_atoms(cell[(2, 0)], "10000011010800100102")
    ed2, cell2 = _strip_editor(max_hh=1000)
    ed2.settings = Settings(
        grid_min_households=250, grid_max_households=1000, grid_target_households=500
    )
    with pytest.raises(RuleViolation, match="below the minimum 250"):
        ed2.move_atoms(cell2[(2, 0)], "10000011010800100102")


def test_move_that_would_cut_a_compound_is_refused() -> None:
    street = block_street(
        households=[60, 30, 45, 0], xs=(150, 300, 450, 600, 750), ys=(200, 400), river=True
    )
    ed = GridEditor.from_result(street, divide(street, settings=Settings()))
    comp = ed.atoms[ed.atoms["compound_id"] != ""].groupby("compound_id")["atom_id"].apply(list)
    multi = [
        v
        for v in comp
        if len(v) > 1 and ed.atoms.loc[v, "households"].sum() <= ed.settings.grid_max_households
    ]
    assert multi, "fixture needs a compound in several atoms (the river cuts them)"
    a = multi[0][0]
    comm = ed.atoms.loc[a, "community_id"]
    to = next(c for c in ed.grids["code"] if c != ed.grid_of_atom(a) and ed._community(c) == comm)
    with pytest.raises(RuleViolation, match="would cut compound"):
        ed.move_atoms(a, to)


def test_merge_rules(editor: GridEditor) -> None:
    g = editor.grids
    west = g[g["community_id"] == "w"]["code"].tolist()
    east = g[g["community_id"] == "e"]["code"].tolist()
    with pytest.raises(RuleViolation, match="different communities"):
        editor.merge(west[0], east[0])
    with pytest.raises(RuleViolation, match=r"above the maximum|share an edge"):
        editor.merge(west[0], west[1])


def test_merge_and_split_back(editor: GridEditor) -> None:
    ed = GridEditor(
        editor.street,
        editor.atoms.reset_index(drop=True),
        editor.labels.copy(),
        editor.communities,
        settings=Settings(grid_max_households=800, grid_target_households=400),
    )
    g = ed.grids
    for code in g["code"]:
        nb = _neighbours(ed, code)
        if nb:
            a, b = code, nb[0]
            break
    n = len(ed.grids)
    ed.merge(a, b)
    assert len(ed.grids) == n - 1
    assert min(a, b) in set(ed.grids["code"])  # the lower code stays
    ed.split(min(a, b))
    assert len(ed.grids) == n
    assert ed.report.ok
    # undo twice gets back the original
    ed.undo()
    ed.undo()
    assert ed.labels.equals(editor.labels)


def test_split_along_a_line(editor: GridEditor) -> None:
    ed = GridEditor(
        editor.street,
        editor.atoms.reset_index(drop=True),
        editor.labels.copy(),
        editor.communities,
        settings=Settings(grid_min_households=50, grid_target_households=200),
    )
    big = ed.grids.sort_values("atoms").iloc[-1]
    xmin, ymin, xmax, ymax = big.geometry.bounds
    line = LineString([((xmin + xmax) / 2, ymin - 10), ((xmin + xmax) / 2, ymax + 10)])
    try:
        ed.split(big["code"], line)
    except RuleViolation as exc:  # the line may run along compound atoms: a named refusal
        assert "compound" in str(exc) or "pieces" in str(exc) or "one side" in str(exc)
    else:
        assert len(ed.grids) == len(editor.grids) + 1
    with pytest.raises(RuleViolation, match="does not cross"):
        ed.split(big["code"], LineString([(X0 - 500, Y0 - 500), (X0 - 400, Y0 - 500)]))


def test_split_too_small_grid_is_refused(editor: GridEditor) -> None:
    small = editor.grids.sort_values("households").iloc[0]
    if small["atoms"] < 2:
        with pytest.raises(RuleViolation, match="single atom"):
            editor.split(small["code"])
    else:
        with pytest.raises(RuleViolation, match="below the minimum"):
            editor.split(small["code"])


def test_locked_grid_cannot_be_edited_and_survives_redivide(editor: GridEditor) -> None:
    code = editor.grids["code"].iloc[0]
    atoms = set(editor.atoms_of(code))
    editor.lock(code)
    other = _neighbours(editor, code)
    with pytest.raises(RuleViolation, match="locked"):
        editor.merge(code, other[0])
    report = editor.redivide(seed=5)
    assert report.ok
    assert set(editor.atoms_of(code)) == atoms
    editor.undo()  # undo the re-divide
    editor.undo()  # undo the lock
    assert code not in editor.locked


def test_nothing_to_undo(editor: GridEditor) -> None:
    with pytest.raises(RuleViolation, match="nothing to undo"):
        editor.undo()
    with pytest.raises(RuleViolation, match="nothing to redo"):
        editor.redo()


def test_move_building_group_must_take_whole_atoms(editor: GridEditor) -> None:
    bid = editor.street.buildings["building_id"].iloc[0]
    with pytest.raises(RuleViolation, match="also holds building"):
        editor.move_buildings([bid], editor.grids["code"].iloc[1])


def test_redivide_keeps_derived_communities() -> None:
    street = block_street(
        households=[30] * 400, community_x=None, xs=(150, 300, 450, 600, 750), ys=(200, 400),
        compound_every=0, rows=4, cols=4,
    )
    res = divide(street, settings=Settings(), communities="derive")
    ed = GridEditor.from_result(street, res)
    code = ed.grids["code"].iloc[0]
    ed.lock(code)
    before = ed.atoms["community_id"].copy()
    assert ed.redivide(seed=3).ok
    assert ed.atoms["community_id"].equals(before)
    assert set(ed.grids["community_id"]) == set(res.grids["community_id"])
