"""Editor glue: clicks to atoms, drawn lines, autosave paths (planner/app/editor.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from pyproj import Transformer
from shapely.geometry import box

from planner.app.editor import atom_at, autosave_path, line_from_drawing
from planner.crs import wgs84_to_gcj02
from tests.app_street import CRS, X0, Y0

ATOMS = gpd.GeoDataFrame(
    {"atom_id": [10, 11]},
    geometry=[box(X0, Y0, X0 + 500, Y0 + 800), box(X0 + 500, Y0, X0 + 1000, Y0 + 800)],
    crs=CRS,
)
TO_WGS = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)


def test_click_selects_the_atom_under_it() -> None:
    lon, lat = TO_WGS.transform(X0 + 750, Y0 + 400)
    assert atom_at(ATOMS, lon, lat, crs=CRS) == 11
    lon, lat = TO_WGS.transform(X0 + 100, Y0 + 100)
    assert atom_at(ATOMS, lon, lat, crs=CRS) == 10
    lon, lat = TO_WGS.transform(X0 + 5000, Y0 + 5000)
    assert atom_at(ATOMS, lon, lat, crs=CRS) is None


def test_click_on_an_amap_basemap_is_shifted_back_from_gcj02() -> None:
    lon, lat = TO_WGS.transform(X0 + 520, Y0 + 400)  # 20 m inside the east atom
    glon, glat = wgs84_to_gcj02([lon], [lat])
    assert atom_at(ATOMS, float(glon[0]), float(glat[0]), crs=CRS, basemap="amap") == 11


def test_drawn_line_in_street_crs() -> None:
    a = TO_WGS.transform(X0 + 250, Y0 - 10)
    b = TO_WGS.transform(X0 + 250, Y0 + 810)
    line = line_from_drawing(
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [a, b]}}, crs=CRS
    )
    assert line is not None
    assert line.coords[0][0] == pytest.approx(X0 + 250, abs=0.01)
    assert line_from_drawing(None, crs=CRS) is None
    assert line_from_drawing({"geometry": {"type": "Point", "coordinates": a}}, crs=CRS) is None


def test_autosave_path_per_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANNER_AUTOSAVE_DIR", str(tmp_path))
    p1, p2 = autosave_path('{"kind": "demo"}'), autosave_path('{"kind": "upload"}')
    assert p1.parent == tmp_path and p1 != p2 and p1.suffix == ".gpkg"
    assert autosave_path('{"kind": "demo"}') == p1


def _session_with_editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A session state (as init_state leaves it) showing a fresh editor of the tiny street."""
    from planner.app.editor import editor_for, editor_key
    from planner.app.state import init_state
    from planner.grids.division import divide
    from planner.settings import Settings
    from tests.app_street import tiny_street

    monkeypatch.setenv("PLANNER_AUTOSAVE_DIR", str(tmp_path / "autosave"))
    state: dict[str, Any] = {}
    init_state(state, {})
    street, settings = tiny_street(), Settings(grid_min_households=1)
    editor_for(
        state,
        street,
        key=editor_key("src", "grid-settings", state["project"]),
        settings=settings,
        division=lambda: divide(street, settings=settings),
    )
    return state


def test_an_edit_of_a_project_from_a_link_is_refused_and_saves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from planner.app.editor import apply_edit, autosave_path, editor_for, editor_key
    from planner.app.state import init_state, view_query

    owner = _session_with_editor(tmp_path, monkeypatch)
    editor = owner["editor"]
    grid = str(editor.grids["code"].iloc[0])
    assert apply_edit(owner, "lock", editor.lock, grid, source="src")
    saved = autosave_path(owner["editor_key"])
    before = saved.read_bytes()
    viewer: dict[str, Any] = {}
    init_state(viewer, view_query(owner))
    shown = editor_for(
        viewer,
        editor.street,
        key=editor_key("src", "grid-settings", viewer["project"]),
        settings=editor.settings,
        division=lambda: None,
    )
    assert shown is not None and grid in shown.locked  # the owner's work, read from the file
    assert not apply_edit(viewer, "unlock", shown.unlock, grid, source="src")
    assert grid in shown.locked and "read-only" in str(viewer["edit_error"])
    assert saved.read_bytes() == before and "autosaved" not in viewer


def test_make_copy_saves_the_shown_project_under_a_new_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from planner.app.editor import apply_edit, autosave_path, make_copy

    state = _session_with_editor(tmp_path, monkeypatch)
    editor = state["editor"]
    grid = str(editor.grids["code"].iloc[0])
    apply_edit(state, "lock", editor.lock, grid, source="src")
    first, original = state["project"], autosave_path(state["editor_key"])
    before = original.read_bytes()
    new = make_copy(state, source="src", grid_settings="grid-settings")
    assert new != first and state["project"] == new and new in state["editor_key"]
    copy = autosave_path(state["editor_key"])
    assert copy != original and copy.exists() and original.read_bytes() == before
    assert apply_edit(state, "undo", editor.undo, source="src")
    assert original.read_bytes() == before and copy.read_bytes() != before


def test_a_copy_and_an_opened_file_keep_the_tables_kept_with_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The organisation edits (a table kept in the project file) come along when a
    planner makes a copy or opens a project file."""
    import pandas as pd

    from planner.app.editor import make_copy, open_uploaded
    from planner.grids.project import read_extra, save_project

    state = _session_with_editor(tmp_path, monkeypatch)
    editor = state["editor"]
    table = pd.DataFrame({"grid": ["g1"], "new": ['"支部"']})
    original = save_project(autosave_path(state["editor_key"]), editor, extra={"org": table})
    make_copy(state, source="src", grid_settings="grid-settings")
    copy = autosave_path(state["editor_key"])
    assert copy != original and read_extra(copy)["org"]["grid"].tolist() == ["g1"]
    assert open_uploaded(state, copy.read_bytes(), name="p.gpkg", source="src", grid_settings="g")
    opened = autosave_path(state["editor_key"])
    assert opened != copy and read_extra(opened)["org"]["new"].tolist() == ['"支部"']


def test_sessions_opening_project_files_at_once_each_get_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from planner.app.editor import apply_edit, open_uploaded
    from planner.grids.project import save_project

    state = _session_with_editor(tmp_path, monkeypatch)
    editor = state["editor"]
    codes = [str(c) for c in editor.grids["code"]]
    files = {}
    for code in codes[:2]:  # two different projects: one grid locked in each
        apply_edit(state, "lock", editor.lock, code, source="src")
        files[code] = save_project(tmp_path / f"{code}.gpkg", editor).read_bytes()
        apply_edit(state, "undo", editor.undo, source="src")
    opened: dict[str, list[set[str]]] = {code: [] for code in files}
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where the uploads are read

    def session(code: str) -> None:
        for _ in range(2):
            mine = dict(state)
            assert open_uploaded(
                mine, files[code], name="project.gpkg", source="src", grid_settings="g"
            )
            opened[code].append(set(mine["editor"].locked))

    threads = [threading.Thread(target=session, args=(code,)) for code in files]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert {code: [s == {code} for s in seen] for code, seen in opened.items()} == {
        code: [True] * 2 for code in files
    }
    assert not list(scratch.iterdir())  # each upload read from its own copy, none left behind
