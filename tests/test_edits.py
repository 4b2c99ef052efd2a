"""Planner edits: each applied edit keeps every rule; each breaking edit is refused."""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Callable
from pathlib import Path

import pytest
from shapely.geometry import LineString

from planner.errors import RuleViolation
from planner.grids import edits
from planner.grids.division import GridResult, divide
from planner.grids.edits import GridEditor
from planner.grids.rules import Check, RuleReport, _violation
from planner.i18n import CLAUSE_SEP, STRINGS, Items, Message, items, msg
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
        households=[30] * 400,
        community_x=None,
        xs=(150, 300, 450, 600, 750),
        ys=(200, 400),
        compound_every=0,
        rows=4,
        cols=4,
    )
    res = divide(street, settings=Settings(), communities="derive")
    ed = GridEditor.from_result(street, res)
    code = ed.grids["code"].iloc[0]
    ed.lock(code)
    before = ed.atoms["community_id"].copy()
    assert ed.redivide(seed=3).ok
    assert ed.atoms["community_id"].equals(before)
    assert set(ed.grids["community_id"]) == set(res.grids["community_id"])


def test_atom_and_grid_at_a_point(editor: GridEditor) -> None:
    a = int(editor.atoms["atom_id"].iloc[3])
    p = editor.atoms.geometry.iloc[3].representative_point()
    assert editor.atom_at(p.x, p.y) == a
    assert editor.grid_at(p.x, p.y) == editor.grid_of_atom(a)
    assert editor.atom_at(X0 - 1000, Y0 - 1000) is None


# --------------------------------------------------------------------------- Chinese reasons

CJK = re.compile(r"[\u4e00-\u9fff]")


def _leaves(value: object) -> list[str]:
    """Every plain parameter value of a message (codes, ids, counts) as text."""
    if isinstance(value, Message):
        return [s for _, v in value.params for s in _leaves(v)]
    if isinstance(value, Items):
        return [s for v in value.values for s in _leaves(v)]
    return [str(value)]


def _zh(exc: pytest.ExceptionInfo[RuleViolation], *codes: str) -> str:
    """The refusal in Chinese, checked: a catalogue key, Chinese words only around the
    parameters (no English sentence left), and the grid codes named."""
    err = exc.value
    assert err.message is not None and err.key in STRINGS, f"plain-text refusal: {err}"
    zh = err.render("zh")
    assert str(err) == err.render("en") != zh
    rest = zh
    for leaf in sorted(_leaves(err.message), key=len, reverse=True):
        rest = rest.replace(leaf, " ")
    assert CJK.search(zh) and not re.search(r"[A-Za-z]{2,}", rest), (zh, rest)
    for code in codes:
        assert code in zh, (code, zh)
    return zh


A, B, C = "10000011010800100101", "10000011010800100102", "10000011010800100103"


def _three_grids(lo: int = 50) -> tuple[GridEditor, dict[tuple[int, int], int]]:
    """The strip street as three grids: A = south row x 0-2, C = the north-east block,
    B = the rest (so A and C do not touch)."""
    ed, cell = _strip_editor()
    labels = ed.labels.copy()
    labels[cell[(4, 1)]] = C
    return (
        GridEditor(
            ed.street,
            ed.atoms.reset_index(drop=True),
            labels,
            ed.communities,
            settings=Settings(
                grid_min_households=lo, grid_max_households=1000, grid_target_households=500
            ),
        ),
        cell,
    )


def test_every_refusal_on_the_strip_reads_in_chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    ed, cell = _three_grids()
    a0, b_atom = cell[(0, 0)], cell[(3, 0)]
    seen: set[str | None] = set()

    def refused(fn: Callable[..., object], *args: object, codes: tuple[str, ...] = ()) -> str:
        with pytest.raises(RuleViolation) as exc:
            fn(*args)
        seen.add(exc.value.key)
        return _zh(exc, *codes)

    assert refused(ed.move_atoms, 999_999, A) == "没有网格单元 999999"
    assert refused(ed.merge, "10000011010800100199", A) == "没有网格 10000011010800100199"
    refused(ed.move_buildings, ["no-such-building"], A)
    refused(ed.move_atoms, [a0, b_atom], C, codes=(A, B))
    assert refused(ed.move_atoms, a0, A, codes=(A,)) == f"网格单元 {a0} 已在网格 {A} 中"
    refused(ed.move_atoms, cell[(4, 0)], A, codes=(A,))  # one atom, no shared edge
    zh = refused(ed.move_atoms, [cell[(3, 1)], cell[(4, 0)]], A, codes=(A,))
    assert f"{cell[(3, 1)]}、{cell[(4, 0)]}" in zh  # a Chinese listing
    refused(ed.move_atoms, [cell[(x, 0)] for x in range(3)], B, codes=(A,))  # empty
    refused(ed.move_atoms, cell[(1, 0)], B, codes=(A,))  # two pieces
    refused(ed.merge, A, A, codes=(A,))
    refused(ed.merge, A, C, codes=(A, C))
    refused(ed.split, C, codes=(C,))  # a single atom
    xmin, ymin, _, _ = ed.grids.set_index("code").geometry[A].bounds
    corner = LineString([(xmin - 5, ymin + 8), (xmin + 8, ymin - 5)])
    refused(ed.split, A, corner, codes=(A,))  # every atom on one side
    refused(ed.split, A, LineString([(X0 - 500, Y0 - 500), (X0 - 400, Y0 - 500)]), codes=(A,))
    ed.settings = Settings(
        grid_min_households=250, grid_max_households=1000, grid_target_households=500
    )
    zh = refused(ed.split, A, codes=(A,))  # 300 households: two parts of 250 need 500
    assert "300 户" in zh and "下限 250 户" in zh
    zh = refused(ed.move_atoms, cell[(2, 0)], B, codes=(A,))
    assert zh.startswith(f"移动网格单元 {cell[(2, 0)]} 会使网格 {A} 只有 200 户")
    refused(ed.undo)
    refused(ed.redo)
    ed.lock(A)
    assert refused(ed.merge, A, B, codes=(A,)) == f"网格 {A} 已锁定，请先解锁"
    monkeypatch.setattr("planner.grids.edits.sequence_digits", lambda settings: 0)
    refused(ed._free_code, "c0")
    assert len(seen) == 20, sorted(map(str, seen))


def test_refusal_by_the_rule_proof_names_the_edit_and_the_rule_in_chinese(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ed, cell = _three_grids()
    broken = RuleReport(
        [
            Check(
                "one_polygon",
                "",
                "",
                [_violation("one_polygon", msg("rule_v_pieces", grid=B, n=2, area=40.0), (B,))],
            )
        ],
        {},
    )
    monkeypatch.setattr(ed, "_prove", lambda labels: broken)
    with pytest.raises(
        RuleViolation,
        match=rf"moved atom {cell[(0, 1)]} from grid {B} to grid {A} refused: grid {B} is in 2 pieces",
    ) as exc:
        ed.move_atoms(cell[(0, 1)], A)
    zh = _zh(exc, A, B)
    assert zh == (
        f"将网格单元 {cell[(0, 1)]} 从网格 {B} 移到网格 {A} 被拒绝：网格 {B} 分成 2 块（最小 40 m²）"
    )


def test_other_refusals_read_in_chinese(editor: GridEditor) -> None:
    g = editor.grids
    west = g[g["community_id"] == "w"]["code"].tolist()
    east = g[g["community_id"] == "e"]["code"].tolist()
    with pytest.raises(RuleViolation) as exc:
        editor.merge(west[0], east[0])
    assert "属于不同社区" in _zh(exc, west[0], east[0])
    with pytest.raises(RuleViolation) as exc:
        editor.move_atoms(int(editor.atoms_of(west[0])[0]), east[0])
    assert "社区 w 的土地并入社区 e" in _zh(exc, east[0])
    bid = editor.street.buildings["building_id"].iloc[0]
    with pytest.raises(RuleViolation) as exc:
        editor.move_buildings([bid], editor.grids["code"].iloc[1])
    assert "楼栋组必须包含" in _zh(exc)


def test_compound_refusal_reads_in_chinese() -> None:
    street = block_street(
        households=[60, 30, 45, 0], xs=(150, 300, 450, 600, 750), ys=(200, 400), river=True
    )
    ed = GridEditor.from_result(street, divide(street, settings=Settings()))
    comp = ed.atoms[ed.atoms["compound_id"] != ""].groupby("compound_id")["atom_id"].apply(list)
    v = next(
        v
        for v in comp
        if len(v) > 1 and ed.atoms.loc[v, "households"].sum() <= ed.settings.grid_max_households
    )
    comm = ed.atoms.loc[v[0], "community_id"]
    to = next(
        c for c in ed.grids["code"] if c != ed.grid_of_atom(v[0]) and ed._community(c) == comm
    )
    with pytest.raises(RuleViolation, match="would cut compound") as exc:
        ed.move_atoms(v[0], to)
    assert "会拆开小区" in _zh(exc) and "必须留在一起" in _zh(exc)


def _sample(field: str) -> object:
    """A value for a parameter of an edit message, by its name."""
    if field in {"grid", "a", "b", "source", "keep", "gone", "new"}:
        return A
    if field in {"atom"}:
        return 137
    if field in {"atoms"}:
        return [137, 140]
    if field in {"grids"}:
        return [A, B]
    if field in {"households", "lo", "hi", "need", "locked"}:
        return 250
    if field == "what":
        return msg("edit_what_atoms", atoms=[137, 140])
    if field == "action":
        return msg("edit_action_split", grid=A)
    if field == "how":
        return msg("edit_how_line")
    if field == "done":
        return msg("edit_merged", gone=B, keep=A)
    if field == "violations":
        return items([msg("rule_v_no_area", grid=A)], sep=CLAUSE_SEP)
    return "k7"  # community, compound, building ids


def _edit_keys() -> set[str]:
    """Every catalogue key planner/grids/edits.py names (its refusals and edit records)."""
    source = Path(edits.__file__).read_text(encoding="utf-8")
    return {
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith("edit_")
    }


def test_every_raise_in_edits_carries_a_catalogue_message() -> None:
    tree = ast.parse(Path(edits.__file__).read_text(encoding="utf-8"))
    raises = [
        n.exc
        for n in ast.walk(tree)
        if isinstance(n, ast.Raise)
        and isinstance(n.exc, ast.Call)
        and isinstance(n.exc.func, ast.Name)
        and n.exc.func.id == "RuleViolation"
    ]
    assert len(raises) >= 26
    for call in raises:
        arg = call.args[0]
        assert isinstance(arg, ast.Call) and getattr(arg.func, "id", "") == "msg", ast.unparse(call)


@pytest.mark.parametrize("key", sorted(_edit_keys()))
def test_every_edit_message_has_a_chinese_rendering(key: str) -> None:
    assert key in STRINGS, key
    zh_t, en_t = STRINGS[key]
    fields = {f for _, f, _, _ in string.Formatter().parse(en_t) if f}
    assert fields <= {f for _, f, _, _ in string.Formatter().parse(zh_t) if f}, key
    m = msg(key, **{f: _sample(f) for f in fields | {"grid"}})
    zh = m.render("zh")
    rest = zh
    for leaf in sorted(_leaves(m), key=len, reverse=True):
        rest = rest.replace(leaf, " ")
    assert CJK.search(zh) and not re.search(r"[A-Za-z]{2,}", rest), (key, zh)
    if "{grid}" in en_t or "{a}" in en_t:
        assert A in zh, (key, zh)


# --- codes: codes never move (retired codes, re-divide inherits codes) ---


def test_a_merged_away_code_is_retired_and_never_given_to_a_split(editor: GridEditor) -> None:
    ed = GridEditor(
        editor.street,
        editor.atoms.reset_index(drop=True),
        editor.labels.copy(),
        editor.communities,
        settings=Settings(grid_max_households=800, grid_target_households=400),
    )
    a, b = next((c, _neighbours(ed, c)[0]) for c in ed.grids["code"] if _neighbours(ed, c))
    keep, gone = sorted([a, b])
    ed.merge(a, b)
    assert ed.retired == {gone}
    ed.split(keep)
    new = (set(ed.grids["code"]) - set(editor.grids["code"])).pop()
    assert new != gone and new[:-2] == keep[:-2]  # a fresh number of the same community
    assert ed.retired == {gone}
    ed.undo()  # the split undone: its code is retired too, the next split takes another
    assert ed.retired == {gone, new}
    ed.split(keep)
    assert not (set(ed.grids["code"]) & {gone, new})
    ed.undo()
    ed.undo()  # the merge undone: the merged-away grid is back with its code
    assert gone in set(ed.grids["code"]) and gone not in ed.retired


def test_redivide_gives_each_code_to_the_grid_holding_its_households(editor: GridEditor) -> None:
    ed = GridEditor(
        editor.street,
        editor.atoms.reset_index(drop=True),
        editor.labels.copy(),
        editor.communities,
        settings=editor.settings,
    )
    before = ed.labels.copy()
    ed.redivide(seed=11)
    after = ed.labels
    hh = ed.atoms["households"]
    for code in set(before) & set(after):
        shared = hh[(before == code) & (after == code)].sum()
        assert shared > 0 or hh[before == code].sum() == 0, code  # same place, not a reuse
    assert (set(before) - set(after)) <= ed.retired
