"""The app as a workbench (issue 19): one project's grids everywhere, work kept with
the project, unique scenario names, the two-tab check, pages that never show a
traceback. AppTest runs of app.py on the tiny street; plain-mapping tests of
planner/app/project.py."""

from __future__ import annotations

import json
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from planner.app import editor as app_editor
from planner.app import project as app_project
from planner.app import services as app_services
from planner.maps import redmap as redmap_module
from tests.app_street import tiny_street

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The tiny street for every load; autosaves in a private folder (returned)."""
    folder = tmp_path / "autosave"
    monkeypatch.setenv("PLANNER_AUTOSAVE_DIR", str(folder))
    monkeypatch.setattr(app_services, "load", lambda source, settings: tiny_street())
    return folder


def _run(at: AppTest) -> AppTest:
    at.run(timeout=90)
    assert not at.exception, [e.value for e in at.exception]
    return at


def _app(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.clear()
    for key, value in query.items():
        at.query_params[key] = value
    return at


def _page(at: AppTest, page: str) -> AppTest:
    at.sidebar.radio(key=f"w_page_{at.session_state['lang']}").set_value(page)
    return _run(at)


class _State(MutableMapping[str, Any]):
    """AppTest's session state as the plain mapping planner.app's functions take."""

    def __init__(self, at: AppTest) -> None:
        self.at = at

    def __getitem__(self, key: str) -> Any:
        if key not in self.at.session_state:
            raise KeyError(key)
        return self.at.session_state[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.at.session_state[key] = value

    def __delitem__(self, key: str) -> None:
        del self.at.session_state[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.at.session_state.filtered_state)

    def __len__(self) -> int:
        return len(self.at.session_state.filtered_state)


#: Bounds under which two grids of the tiny street (300 households each) may merge.
WIDE = {"grid_min_households": "100", "grid_max_households": "700"}


def _merge_first_pair(at: AppTest) -> tuple[str, str]:
    """Merge the two grids of community c1 through the editor API (autosaved)."""
    editor = at.session_state["editor"]
    g = editor.grids
    a, b = sorted(g.loc[g["community_id"] == "c1", "code"])
    ok = app_editor.apply_edit(
        _State(at), "merge", editor.merge, a, b, source=json.dumps({"kind": "demo"})
    )
    assert ok, at.session_state["edit_error"]
    return a, b


def test_an_edit_reaches_the_red_map_the_overview_and_the_exports(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[list[str]] = []
    original_map = redmap_module.red_map

    def spy_map(street: Any, **kwargs: Any) -> Any:
        grids = kwargs.get("grids")
        if grids is not None:
            drawn.append(sorted(grids["code"].astype(str)))
        return original_map(street, **kwargs)

    monkeypatch.setattr(redmap_module, "red_map", spy_map)
    exported: list[dict[str, bytes]] = []
    original_export = app_services.export_files

    def spy_export(*args: Any, **kwargs: Any) -> dict[str, bytes]:
        files = original_export(*args, **kwargs)
        exported.append(files)
        return files

    monkeypatch.setattr(app_services, "export_files", spy_export)

    at = _run(_app(page="editor", **WIDE))
    before = sorted(at.session_state["editor"].grids["code"])
    assert len(before) == 4, before
    assert any("尚无编辑" in c.value for c in at.caption), [c.value for c in at.caption]
    kept, gone = _merge_first_pair(at)
    # the red map draws the merged grids, not a fresh division of the street
    _page(at, "redmap")
    assert drawn, "the red map drew no grid layer"
    assert drawn[-1] == sorted(set(before) - {gone}), drawn[-1]
    # every page says how many edits the project has and what the last one was
    status = [c.value for c in at.caption if c.value.startswith("项目：")]
    assert status and "已编辑 1 次" in status[0] and f"并入网格 {kept}" in status[0], status
    # the overview's grid table
    _page(at, "overview")
    tables = [d.value for d in at.dataframe if "编码" in d.value.columns]
    assert tables and sorted(tables[0]["编码"].astype(str)) == drawn[-1], tables
    # the exported grids.geojson and the grid table of the export
    _page(at, "export")
    assert exported, "the export page wrote no files"
    features = json.loads(exported[-1]["grids.geojson"])["features"]
    codes = sorted(str(f["properties"]["code"]) for f in features)
    assert codes == drawn[-1], codes
    merged = next(f for f in features if f["properties"]["code"] == kept)
    assert merged["properties"]["households"] == 600
    # a reload (same project in the URL) reads the autosave: the same merged grids
    again = _run(_app(page="overview", project=at.session_state["project"], **WIDE))
    tables = [d.value for d in again.dataframe if "编码" in d.value.columns]
    assert sorted(tables[0]["编码"].astype(str)) == drawn[-1]


def test_grids_token_follows_every_edit_and_undo() -> None:
    from planner.grids.edits import GridEditor
    from planner.settings import Settings

    street = tiny_street()
    settings = Settings(grid_min_households=100, grid_max_households=700)
    editor = GridEditor.from_result(
        street, app_services.grids_for(street, settings), settings=settings
    )
    start = app_project.grids_token(editor.result())
    a, b = sorted(editor.grids.loc[editor.grids["community_id"] == "c1", "code"])
    editor.lock(a)
    locked = app_project.grids_token(editor.result())
    editor.undo()
    assert app_project.grids_token(editor.result()) == start != locked
    editor.merge(a, b)
    merged = editor.result()
    assert app_project.grids_token(merged) not in (start, locked)
    assert set(merged.atoms["code"]) == set(merged.grids["code"])
    assert merged.grids["grid_id"].is_unique
    assert merged.atoms["grid_id"].notna().all()
