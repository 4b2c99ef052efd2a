"""Map-first grid editing (issue 19 item 3): selection, previews, the editing layer.

On the tiny street (tests/app_street.py): community c1 in the west half holds grids
...0101 (north: ring atom 2 around compound atom 5) and ...0102 (south: ring atom 3
around compound atom 4); community c2 in the east half holds ...0201 and ...0202.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pyproj import Transformer
from shapely.geometry import LineString, box

from planner.app import editor_map, preview
from planner.app.editor import (
    apply_edit,
    editor_for,
    editor_key,
    finish_save,
    grid_crossed,
    polygon_from_drawing,
    start_save,
)
from planner.app.selection import (
    Selection,
    after_click,
    after_lasso,
    group_of,
    neighbours,
    short_label,
)
from planner.app.state import init_state
from planner.grids.division import divide
from planner.grids.edits import GridEditor
from planner.settings import Settings
from tests.app_street import CRS, X0, Y0, tiny_street
from tests.test_app import _app, _run, fake_loader  # noqa: F401 (a fixture)

NORTH, SOUTH = "10000000000000000101", "10000000000000000102"
EAST_N = "10000000000000000202"
TO_WGS = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)


@pytest.fixture(scope="module")
def divided() -> tuple[Any, Any, Settings]:
    street, settings = tiny_street(), Settings(grid_min_households=1)
    return street, divide(street, settings=settings), settings


@pytest.fixture
def editor(divided: tuple[Any, Any, Settings]) -> GridEditor:
    street, result, settings = divided
    ed = GridEditor.from_result(street, result, settings=settings)
    assert ed.grid_of_atom(5) == NORTH and ed.grid_of_atom(4) == SOUTH
    return ed


# ----------------------------------------------------------------------------- selection


def test_click_selects_adds_deselects_and_targets_another_grid(editor: GridEditor) -> None:
    sel = after_click(Selection(), editor, 5)
    assert sel == Selection(grid=NORTH, atoms=(5,))
    sel = after_click(sel, editor, 2)
    assert sel.atoms == (5, 2)
    sel = after_click(sel, editor, 5)  # click again: deselected
    assert sel == Selection(grid=NORTH, atoms=(2,))
    sel = after_click(sel, editor, 4)  # another grid while atoms are selected: the target
    assert sel == Selection(grid=NORTH, atoms=(2,), target=SOUTH)
    assert after_click(sel, editor, 4).target == ""  # the target clicked again: none
    assert after_click(sel, editor, None) == sel  # a click on no atom changes nothing
    # the last selected atom deselected: no target left either
    assert after_click(sel, editor, 2) == Selection(grid=NORTH)


def test_whole_compound_mode_takes_and_drops_every_atom_of_the_compound(
    editor: GridEditor,
) -> None:
    editor.atoms.loc[2, "compound_id"] = "k2"  # the ring and the block: one compound
    assert group_of(editor, 5, whole_compound=True) == [2, 5]
    assert group_of(editor, 5, whole_compound=False) == [5]
    sel = after_click(Selection(), editor, 5, whole_compound=True)
    assert set(sel.atoms) == {2, 5}
    assert after_click(sel, editor, 2, whole_compound=True).atoms == ()


def test_lasso_selects_atoms_of_one_grid_and_counts_the_others(editor: GridEditor) -> None:
    north = box(X0 - 10, Y0 + 390, X0 + 510, Y0 + 810)
    sel, left_out = after_lasso(Selection(), editor, north)
    assert (sel.grid, set(sel.atoms), left_out) == (NORTH, {2, 5}, 0)
    # a lasso over the whole community adds only atoms of the selection's grid
    west = box(X0 - 10, Y0 - 10, X0 + 510, Y0 + 810)
    again, left_out = after_lasso(Selection(grid=NORTH, atoms=(5,)), editor, west)
    assert again.grid == NORTH and set(again.atoms) == {2, 5} and left_out == 2
    nothing, left_out = after_lasso(sel, editor, box(X0 + 5000, Y0, X0 + 5100, Y0 + 100))
    assert nothing == sel and left_out == 0


def test_selection_round_trips_through_the_session_state() -> None:
    state: dict[str, Any] = {}
    Selection(grid=NORTH, atoms=(2, 5), target=SOUTH).to_state(state)
    assert state == {"selected_grid": NORTH, "selected_atoms": [2, 5], "target_grid": SOUTH}
    assert Selection.from_state(state) == Selection(NORTH, (2, 5), SOUTH)
    assert Selection.from_state({}) == Selection()


def test_neighbours_are_the_touching_grids_of_the_same_community(editor: GridEditor) -> None:
    assert neighbours(editor, NORTH) == [SOUTH]  # 0201 touches it too, but is in c2
    assert neighbours(editor, "no such grid") == []


def test_short_label_is_community_and_sequence() -> None:
    assert short_label(NORTH, Settings()) == "00101"
    assert short_label("10000011010800100203", Settings()) == "00203"
    assert short_label("x-12", Settings()) == "x-12"[-5:]


# ----------------------------------------------------------------------------- previews


def test_trial_shows_the_touched_grids_and_leaves_the_editor_as_it_was(
    editor: GridEditor,
) -> None:
    editor.lock(EAST_N)
    editor.undo()  # something to redo: a preview must not cost it
    labels, history = editor.labels.copy(), list(editor.history)
    grids_before = editor.grids
    trial = preview.trial(editor, lambda e: e.move_atoms([2], SOUTH))
    assert trial.ok and trial.touched == [NORTH, SOUTH]
    assert editor.labels.equals(labels) and editor.history == history
    assert len(editor.redo_stack) == 1 and len(editor.undo_stack) == 0
    table = preview.badges(grids_before, trial.grids, editor.settings).set_index("code")
    assert table.loc[SOUTH, "households_before"] == 300
    assert table.loc[SOUTH, "households"] == 300 and table.loc[NORTH, "households"] == 300
    assert bool(table.loc[SOUTH, "in_bounds"]) and table.loc[SOUTH, "pieces"] == 1
    south_after = trial.grids.set_index("code").geometry[SOUTH]
    assert south_after.area > grids_before.set_index("code").geometry[SOUTH].area
    assert 0 < table.loc[SOUTH, "compactness"] <= 1


def test_a_refused_trial_gives_the_reason_and_changes_nothing(editor: GridEditor) -> None:
    labels = editor.labels.copy()
    trial = preview.trial(editor, lambda e: e.move_atoms([5, 2], SOUTH))  # empties 0101
    assert not trial.ok and trial.touched == [] and len(trial.grids) == 0
    assert "0101" in str(trial.error)
    assert editor.labels.equals(labels) and editor.undo_stack == []


def test_a_split_line_that_misses_the_grid_is_refused_not_split_otherwise(
    editor: GridEditor,
) -> None:
    far = LineString([(X0 + 5000, Y0), (X0 + 5000, Y0 + 800)])
    trial = preview.trial(editor, lambda e: e.split(NORTH, far))
    assert not trial.ok and "does not cross" in str(trial.error)
    assert editor.grids["code"].tolist().count(NORTH) == 1 and len(editor.grids) == 4


def test_badges_flag_bounds_and_pieces(editor: GridEditor) -> None:
    grids = editor.grids
    after = grids[grids["code"] == NORTH].copy()
    after["households"] = 900
    after = after.drop(columns=["load"], errors="ignore")  # no workload: load = households
    two = box(X0, Y0, X0 + 10, Y0 + 10).union(box(X0 + 100, Y0, X0 + 110, Y0 + 10))
    after = after.set_geometry([two], crs=grids.crs)
    row = preview.badges(grids, after, editor.settings).iloc[0]
    assert not row["in_bounds"] and row["pieces"] == 2 and row["hi"] == 500
    assert row["load"] == 900  # no workload column: the load is the households


# ----------------------------------------------------------------------------- map layer

HOSTILE = '<img src=x onerror=alert(1)>"`${x}`'


def _layer_data(script: str) -> dict[str, Any]:
    match = re.search(r"var D = (\{.*?\});\n", script, re.S)
    assert match, script[:300]
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def test_layer_script_draws_grids_selection_locks_and_escapes_labels(
    editor: GridEditor,
) -> None:
    view = editor_map.LayerView(
        labels={NORTH: HOSTILE, SOUTH: "00102"},
        selected=(2, 5),
        source=NORTH,
        target=SOUTH,
        locked=frozenset({EAST_N}),
    )
    script = editor_map.layer_script(editor.grids, editor_map.atoms_json(editor.atoms), view)
    assert "<img" not in script and "${x}" not in script and "`" not in script
    data = _layer_data(script)
    props = {f["properties"]["code"]: f["properties"] for f in data["grids"]["features"]}
    assert props[EAST_N]["locked"] and not props[NORTH]["locked"]
    assert props[NORTH]["label"] == "&lt;img src=x onerror=alert(1)&gt;&quot;&#96;&#36;{x}&#96;"
    assert (data["source"], data["target"], data["selected"]) == (NORTH, SOUTH, [2, 5])
    assert len(data["atoms"]["features"]) == 8 and data["parts"] is None
    lon, lat = data["grids"]["features"][0]["geometry"]["coordinates"][0][0]
    assert 100 < lon < 130 and 20 < lat < 50  # degrees, not metres
    assert "ed-locked" in script and "map_div.addLayer(feature_group_feature_group_0)" in script


def test_layer_script_draws_a_split_preview(editor: GridEditor) -> None:
    grids = editor.grids
    parts = grids[grids["code"].isin([NORTH, SOUTH])][["code", "geometry"]].copy()
    parts["part"] = ["part_a", "part_b"]
    script = editor_map.layer_script(
        grids, editor_map.atoms_json(editor.atoms), editor_map.LayerView(parts=parts)
    )
    data = _layer_data(script)
    assert [f["properties"]["part"] for f in data["parts"]["features"]] == ["part_a", "part_b"]


def test_base_map_has_the_line_and_lasso_tools_and_no_grids(divided: Any) -> None:
    from planner.app.map import map_payload

    street, _result, _settings = divided
    payload = map_payload(editor_map.base_map(street))
    script = payload["script"]
    assert '"polyline": {' in script and '"polygon": {' in script
    assert '"rectangle": false' in script
    assert "ed-grid" not in script  # the grids come in the editing layer


def test_show_map_passes_the_layer_and_the_view_to_the_frontend(
    monkeypatch: pytest.MonkeyPatch, divided: Any
) -> None:
    import streamlit_folium as sf

    from planner.app.map import map_payload, show_map

    street, _result, _settings = divided
    payload = map_payload(editor_map.base_map(street))
    seen: dict[str, Any] = {}
    monkeypatch.setattr(sf, "_component_func", lambda **kw: seen.update(kw) or None)
    show_map(
        payload,
        key="k",
        returned_objects=["last_clicked", "zoom", "center"],
        feature_group="var x = 1;",
        zoom=17,
        center=(39.9, 116.3),
        on_change=lambda value: None,
    )
    assert seen["feature_group"] == "var x = 1;" and seen["zoom"] == 17
    assert seen["center"] == [39.9, 116.3] and callable(seen["on_change"])
    assert seen["key"] == sf.generate_js_hash(payload["script"], "k", False)
    assert set(seen["default"]) == {"last_clicked", "zoom", "center"}
    show_map(payload, key="k")
    assert seen["feature_group"] is None and seen["zoom"] is None and seen["on_change"] is None


# ----------------------------------------------------------------------------- glue


def test_drawn_polygon_in_street_crs_and_a_crossed_one_repaired() -> None:
    corners = [(X0, Y0), (X0 + 400, Y0), (X0 + 400, Y0 + 300), (X0, Y0 + 300), (X0, Y0)]
    ring = [list(TO_WGS.transform(x, y)) for x, y in corners]
    poly = polygon_from_drawing(
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}}, crs=CRS
    )
    assert poly is not None and poly.area == pytest.approx(120_000, rel=1e-3)
    bow = [ring[0], ring[2], ring[1], ring[3], ring[0]]  # crosses itself
    fixed = polygon_from_drawing({"geometry": {"type": "Polygon", "coordinates": [bow]}}, crs=CRS)
    assert fixed is not None and fixed.is_valid and fixed.area > 0
    line = {"geometry": {"type": "LineString", "coordinates": ring[:2]}}
    assert polygon_from_drawing(line, crs=CRS) is None
    assert polygon_from_drawing(None, crs=CRS) is None


def test_a_drawn_line_picks_the_grid_it_crosses(editor: GridEditor) -> None:
    grids = editor.grids
    across_north = LineString([(X0 + 250, Y0 + 390), (X0 + 250, Y0 + 810)])
    assert grid_crossed(grids, across_north) == NORTH
    assert grid_crossed(grids, across_north, prefer=SOUTH) == NORTH  # barely touches 0102
    both = LineString([(X0 + 250, Y0 + 100), (X0 + 250, Y0 + 700)])
    assert grid_crossed(grids, both, prefer=SOUTH) == SOUTH
    assert grid_crossed(grids, LineString([(X0 + 5000, Y0), (X0 + 5100, Y0)])) == ""


def test_background_autosave_writes_the_state_of_the_edit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, divided: Any
) -> None:
    from planner.grids.project import open_project

    street, result, settings = divided
    monkeypatch.setenv("PLANNER_AUTOSAVE_DIR", str(tmp_path))
    state: dict[str, Any] = {}
    init_state(state, {})
    editor = editor_for(
        state,
        street,
        key=editor_key("src", "g", state["project"]),
        settings=settings,
        division=lambda: result,
    )
    assert editor is not None
    assert apply_edit(state, "lock", editor.lock, NORTH, source="src", background=True)
    assert state["_save_due"] is not None and "autosaved" not in state  # not written yet
    editor.unlock(NORTH)  # a later change (not yet saved) must not leak into that save
    start_save(state)
    assert state["_save_due"] is None and state["_saving"] is not None
    finish_save(state)
    assert state["_saving"] is None and state["save_error"] == ""
    saved = open_project(Path(state["autosaved"])).editor
    assert NORTH in saved.locked and NORTH not in editor.locked
    finish_save(state)  # nothing pending: nothing happens


# ----------------------------------------------------------------------------- the page


@pytest.mark.usefixtures("fake_loader")
def test_page_moves_a_selection_to_a_grid_picked_by_its_label() -> None:
    at = _app()
    at.query_params["page"] = "editor"
    _run(at)
    assert at.button(key="ed_move").disabled  # nothing selected, no target
    at.session_state["selected_grid"], at.session_state["selected_atoms"] = NORTH, [2]
    _run(at)
    at.button(key=f"ed_to_{SOUTH}").click()  # the short-label button of the neighbour
    _run(at)
    assert at.session_state["target_grid"] == SOUTH
    text = "\n".join(m.value for m in at.markdown)
    assert "300 → 300 户" in text and "连片" in text and "范围 200–500 户" in text, text
    assert at.session_state["editor"].grid_of_atom(2) == NORTH  # only previewed so far
    assert at.button(key="ed_move").label == "确认移动到 00102"
    at.button(key="ed_move").click()
    _run(at)
    assert at.session_state["editor"].grid_of_atom(2) == SOUTH
    assert at.session_state["selected_atoms"] == [] and at.session_state["target_grid"] == ""
    assert any("已完成" in s.value for s in at.success)
    assert at.session_state["_saving"] is None and Path(at.session_state["autosaved"]).exists()


@pytest.mark.usefixtures("fake_loader")
def test_page_says_why_a_move_would_be_refused_before_it_is_tried() -> None:
    at = _app()
    at.query_params["page"] = "editor"
    _run(at)
    at.session_state["selected_grid"], at.session_state["selected_atoms"] = NORTH, [2, 5]
    at.session_state["target_grid"] = SOUTH
    _run(at)
    assert any("此编辑将被拒绝" in e.value for e in at.error), [e.value for e in at.error]
    assert at.button(key="ed_move").disabled


@pytest.mark.usefixtures("fake_loader")
def test_page_splits_only_along_a_drawn_line_and_clears_the_selection() -> None:
    at = _app()
    at.query_params["page"] = "editor"
    _run(at)
    at.session_state["selected_grid"], at.session_state["selected_atoms"] = NORTH, [5]
    _run(at)
    # a grid is picked but no line drawn: no split (no automatic fallback)
    assert at.button(key="ed_split").disabled
    assert any("画线工具" in c.value for c in at.caption)
    # a line that misses the grid: said so, still no split
    at.session_state["split_line"] = LineString([(X0 + 5000, Y0), (X0 + 5000, Y0 + 9)]).wkt
    _run(at)
    assert any("无法沿所画的线拆分" in w.value for w in at.warning), [w.value for w in at.warning]
    assert at.button(key="ed_split").disabled
    at.button(key="ed_clear").click()
    _run(at)
    assert at.session_state["selected_atoms"] == [] and at.session_state["selected_grid"] == ""
    assert at.session_state["split_line"] == ""


def test_a_click_restyles_the_layer_and_only_an_edit_rebuilds_the_grids(
    editor: GridEditor,
) -> None:
    atoms = editor_map.atoms_json(editor.atoms)
    before = _layer_data(editor_map.layer_script(editor.grids, atoms, editor_map.LayerView()))
    clicked = _layer_data(
        editor_map.layer_script(
            editor.grids, atoms, editor_map.LayerView(selected=(5,), source=NORTH, target=SOUTH)
        )
    )
    assert (clicked["grids_key"], clicked["atoms_key"]) == (
        before["grids_key"],
        before["atoms_key"],
    )
    editor.move_atoms([2], SOUTH)
    moved = _layer_data(editor_map.layer_script(editor.grids, atoms, editor_map.LayerView()))
    assert moved["grids_key"] != before["grids_key"] and moved["atoms_key"] == before["atoms_key"]
    locked = _layer_data(
        editor_map.layer_script(
            editor.grids, atoms, editor_map.LayerView(locked=frozenset({NORTH}))
        )
    )
    assert locked["grids_key"] != moved["grids_key"]


@pytest.mark.parametrize(("lang", "words"), [("zh", "套索：圈选网格单元"), ("en", "Lasso: select")])
def test_the_line_and_lasso_tools_speak_the_map_language(
    divided: Any, lang: str, words: str
) -> None:
    from planner.app.map import map_payload

    street, _result, _settings = divided
    script = map_payload(editor_map.base_map(street, lang=lang))["script"]
    assert words in json.loads(f'"{script.split("a.buttons.polygon = ")[1].split(";")[0][1:-1]}"')
    assert script.index("L.drawLocal") < script.index("L.Control.Draw")
    assert "(function (d) { var a = d.draw.toolbar" in script  # a function body, not a syntax error
    if lang == "zh":
        assert "Click to start drawing" not in script and "Draw a polygon" not in script


@pytest.mark.usefixtures("fake_loader")
def test_page_redivide_keeps_the_grids_people_know() -> None:
    """The re-divide button keeps grids still within bounds (land and code), as
    ``grids --keep`` does: a block moved by hand stays where it was moved."""
    at = _app()
    at.query_params["page"] = "editor"
    _run(at)
    codes = sorted(at.session_state["editor"].grids["code"])
    at.session_state["selected_grid"], at.session_state["selected_atoms"] = NORTH, [2]
    _run(at)
    at.button(key=f"ed_to_{SOUTH}").click()
    _run(at)
    at.button(key="ed_move").click()
    _run(at)
    editor = at.session_state["editor"]
    assert editor.grid_of_atom(2) == SOUTH
    labels = editor.labels.copy()
    at.button(key="ed_redivide").click()
    _run(at)
    editor = at.session_state["editor"]
    assert editor.history[-1].op == "redivide", editor.history[-1]
    # a fresh division would put the block back in its first grid; keeping does not
    assert editor.grid_of_atom(2) == SOUTH
    assert editor.labels.equals(labels) and sorted(editor.grids["code"]) == codes
    assert "households keep their grid code" in editor.history[-1].message
    # one edit: undo goes back to the grids before it
    assert len(editor.undo_stack) == 2
