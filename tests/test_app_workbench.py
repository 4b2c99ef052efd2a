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

from planner.app import cache as app_cache
from planner.app import editor as app_editor
from planner.app import project as app_project
from planner.app import services as app_services
from tests.app_street import tiny_street
from tests.ascii_words import ascii_words

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """The tiny street for every load; autosaves in a private folder (returned)."""
    import streamlit as st

    folder = tmp_path / "autosave"
    monkeypatch.setenv("PLANNER_AUTOSAVE_DIR", str(folder))
    monkeypatch.setattr(app_services, "load", lambda source, settings: tiny_street())
    st.cache_data.clear()  # another test may have cached another street for the demo source
    yield folder
    st.cache_data.clear()


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
    original_map = app_cache.red_map

    def spy_map(street: Any, **kwargs: Any) -> Any:
        grids = kwargs.get("grids")
        if grids is not None:
            drawn.append(sorted(grids["code"].astype(str)))
        return original_map(street, **kwargs)

    monkeypatch.setattr(app_cache, "red_map", spy_map)  # the red map page draws through it
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


def test_scenario_names_stay_unique_unless_replaced() -> None:
    scenarios: dict[str, Any] = {}
    name = app_project.new_scenario_name(scenarios, "新增 1 处")
    assert app_project.add_scenario(scenarios, name, {"new_sites": 1}, replace=False)
    second = app_project.new_scenario_name(scenarios, "新增 1 处")
    assert second == "新增 1 处 (2)"
    assert app_project.add_scenario(scenarios, second, {"new_sites": 2}, replace=False)
    # the taken name is refused without "replace" and nothing changes
    assert not app_project.add_scenario(scenarios, name, {"new_sites": 9}, replace=False)
    assert scenarios[name]["new_sites"] == 1
    assert app_project.add_scenario(scenarios, name, {"new_sites": 9}, replace=True)
    assert scenarios[name] == {"new_sites": 9, "scenario": name}
    assert not app_project.add_scenario(scenarios, "  ", {}, replace=True)
    assert len(scenarios) == 2


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """The demo street (the tiny street has no walkable network for siting)."""
    import streamlit as st

    from planner.load.sources import load_street

    folder = tmp_path / "autosave"
    monkeypatch.setenv("PLANNER_AUTOSAVE_DIR", str(folder))
    street = load_street("demo")
    monkeypatch.setattr(app_services, "load", lambda source, settings: street)
    st.cache_data.clear()  # other tests cached the tiny street under the same source
    yield folder
    st.cache_data.clear()


def test_settings_siting_and_scenarios_survive_a_reload(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exported: list[dict[str, bytes]] = []
    original_export = app_services.export_files

    def spy_export(*args: Any, **kwargs: Any) -> dict[str, bytes]:
        exported.append(original_export(*args, **kwargs))
        return exported[-1]

    monkeypatch.setattr(app_services, "export_files", spy_export)
    at = _run(_app(page="siting"))
    at.number_input(key="siting_k").set_value(1)
    at.button(key="run_siting").click()
    _run(at)
    assert at.session_state["siting_request"] == ["k", 1.0]
    offered = at.text_input(key="scenario_name_新增 1 处")
    assert offered.value == "新增 1 处"
    at.button(key="save_scenario").click()
    _run(at)
    # the next offer is a new name: saving twice never overwrites the first
    assert at.text_input(key="scenario_name_新增 1 处 (2)").value == "新增 1 处 (2)"
    at.button(key="save_scenario").click()
    _run(at)
    assert sorted(at.session_state["scenarios"]) == ["新增 1 处", "新增 1 处 (2)"]
    # a name taken is refused with the reason unless "replace" is ticked
    at.text_input(key="scenario_name_新增 1 处 (3)").set_value("新增 1 处")
    at.button(key="save_scenario").click()
    _run(at)
    assert any("已有名为“新增 1 处”的方案" in e.value for e in at.error), [
        e.value for e in at.error
    ]
    assert len(at.session_state["scenarios"]) == 2
    # settings applied in the sidebar are kept with the project too
    at.sidebar.number_input[0].set_value(4.5)
    next(b for b in at.sidebar.button if b.label == "应用").click()
    _run(at)
    project = at.session_state["project"]
    # a reload: the URL carries the project (and the page); everything is back
    again = _run(_app(page="siting", project=project))
    assert again.session_state["walk_speed_kmh"] == 4.5
    assert again.session_state["siting_request"] == ["k", 1.0]
    assert sorted(again.session_state["scenarios"]) == ["新增 1 处", "新增 1 处 (2)"]
    headers = [list(d.value.columns) for d in again.dataframe]
    assert any("方案" in h for h in headers), headers
    # the proposed site of the kept request is shown again, not asked for again
    assert any("序号" in h for h in headers), headers
    # reopened from the recent-projects list in a new tab of the same browser (issue 16
    # item 9: the siting scenarios survive a project reopen, not only a reload)
    from planner.app.state import SETTING_KEYS

    tab: dict[str, Any] = {"browser_digest": app_project.owner_of(project)}
    assert app_project.open_recent(tab, project, SETTING_KEYS)
    assert sorted(tab["scenarios"]) == ["新增 1 处", "新增 1 处 (2)"]
    assert tab["siting_request"] == ["k", 1.0] and tab["walk_speed_kmh"] == 4.5
    # the export page writes the CLI's files, the proposed site included
    _page(again, "export")
    files = exported[-1]
    sites = json.loads(files["sites.geojson"])["features"]
    assert len(sites) == 1, sites
    for name in ("grids.geojson", "tables.xlsx", "planner.gpkg", "redmap.html", "summary.json"):
        assert name in files, sorted(files)
    assert any(n.startswith("shapefile/") for n in files), sorted(files)
    labels = [b.label for b in again.get("download_button")]
    assert "sites.geojson" in labels and "shapefile.zip" in labels, labels


def test_the_browser_that_made_a_project_keeps_editing_after_a_reload(tiny: Path) -> None:
    from planner.app.state import SETTING_KEYS, can_edit, init_state

    mine, other = "a" * 32, "b" * 32
    first: dict[str, Any] = {}
    init_state(first, {}, browser=mine)
    assert can_edit(first)
    assert app_project.save_work(first, SETTING_KEYS) is not None
    link = {"project": first["project"]}
    # a reload in the same browser: the project is still its own
    reload: dict[str, Any] = {}
    init_state(reload, link, browser=mine)
    assert can_edit(reload)
    # the link opened in another browser, or with no cookie at all: read-only
    for browser in (other, "", "not-a-secret"):
        elsewhere: dict[str, Any] = {}
        init_state(elsewhere, link, browser=browser)
        assert not can_edit(elsewhere), browser
        assert app_project.save_work(elsewhere, SETTING_KEYS) is None
    # the work file keeps a digest of the browser's secret, never the secret itself
    text = app_project.work_path(first["project"]).read_text(encoding="utf-8")
    assert mine not in text and json.loads(text)["owner"]


def test_a_second_tab_cannot_overwrite_the_first_tabs_edit(tiny: Path) -> None:
    """Two sessions editing one project: the second is told, never overwrites."""
    from planner.app.state import take_copy
    from planner.settings import Settings

    street = tiny_street()
    settings = Settings(grid_min_households=100, grid_max_households=700)
    result = app_services.grids_for(street, settings)
    tab_a: dict[str, Any] = {}
    take_copy(tab_a)
    key = app_editor.editor_key("src", "grid-settings", tab_a["project"])
    app_editor.editor_for(tab_a, street, key=key, settings=settings, division=lambda: result)
    app_editor.save_for_session(tab_a, source="src")
    # tab B: the same project (same browser), read from the same autosave
    tab_b: dict[str, Any] = {"project": tab_a["project"], "owned_projects": [tab_a["project"]]}
    editor_b = app_editor.editor_for(
        tab_b, street, key=key, settings=settings, division=lambda: None
    )
    assert editor_b is not None
    editor_a = tab_a["editor"]
    a, b = sorted(editor_a.grids.loc[editor_a.grids["community_id"] == "c1", "code"])
    assert app_editor.apply_edit(tab_a, "lock", editor_a.lock, a, source="src")
    saved = app_editor.autosave_path(key).read_bytes()
    assert not app_editor.apply_edit(tab_b, "lock", editor_b.lock, b, source="src")
    assert str(tab_b["edit_error"]) == str(app_editor.msg("changed_elsewhere"))
    assert "另一个标签页" in tab_b["edit_error"].render("zh")
    assert b not in editor_b.locked
    assert app_editor.autosave_path(key).read_bytes() == saved
    # after a reload tab B sees tab A's lock and edits on from there
    tab_b2: dict[str, Any] = {"project": tab_a["project"], "owned_projects": [tab_a["project"]]}
    editor_b2 = app_editor.editor_for(
        tab_b2, street, key=key, settings=settings, division=lambda: None
    )
    assert editor_b2 is not None and a in editor_b2.locked
    assert app_editor.apply_edit(tab_b2, "lock", editor_b2.lock, b, source="src")


def _minimal_upload(tmp_path: Path, layers: tuple[str, ...]) -> Any:
    """The demo street's ``layers`` written as GeoJSON files and loaded as an upload."""
    from planner.load.sources import load_street

    demo_street = load_street("demo")
    folder = tmp_path / "upload"
    folder.mkdir()
    for name in layers:
        layer = getattr(demo_street, name).to_crs(4326)
        layer.to_file(folder / f"{name}.geojson", driver="GeoJSON")
    return load_street(folder)


@pytest.mark.parametrize(
    ("layers", "missing"),
    [
        (("boundary", "roads", "stations"), ["楼栋"]),
        (("boundary",), ["楼栋", "道路", "服务站"]),
    ],
)
def test_every_page_says_what_a_minimal_upload_lacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layers: tuple[str, ...], missing: list[str]
) -> None:
    import streamlit as st

    monkeypatch.setenv("PLANNER_AUTOSAVE_DIR", str(tmp_path / "autosave"))
    street = _minimal_upload(tmp_path, layers)
    monkeypatch.setattr(app_services, "load", lambda source, settings: street)
    st.cache_data.clear()
    try:
        for page in ("redmap", "overview", "siting", "export"):
            at = _run(_app(page=page))
            notes = [i.value for i in at.info if i.value.startswith("此街道缺少：")]
            assert notes, (page, [i.value for i in at.info])
            assert all(m in notes[0] for m in missing), (page, notes)
            # a step that cannot run names the missing layer, in Chinese, never in English
            for box in [*at.warning, *at.error]:
                assert "walking network" not in box.value, (page, box.value)
    finally:
        st.cache_data.clear()


def test_a_failing_page_shows_a_message_not_a_traceback(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(app_services, "community_table", broken)
    at = _run(_app(page="overview"))
    assert any("此页面无法显示" in e.value and "boom" in e.value for e in at.error), [
        e.value for e in at.error
    ]
    # the other pages still work
    _page(at, "export")
    assert not at.error, [e.value for e in at.error]


def test_overview_shows_the_floor_area_norm_per_community_and_station(demo: Path) -> None:
    at = _run(_app(page="overview"))
    titles = [h.value for h in at.subheader]
    assert "服务站面积标准：每百户 30 m²（社区不少于 500 m²）" in titles, titles
    tables = {tuple(d.value.columns): d.value for d in at.dataframe}
    community = tables[("社区", "户数", "站点数", "现有面积 m²", "标准应有 m²", "是否达标")]
    station = tables[("服务站", "服务户数", "现有面积 m²", "每百户面积 m²", "是否达标")]
    # names, whole m², the shortest first; the norm is 30 m² per 100 households
    assert not community["社区"].str.fullmatch(r"[A-Za-z0-9_-]+").any()
    row = community.iloc[0]
    assert row["标准应有 m²"] == max(500, round(row["户数"] * 0.3))
    assert set(community["是否达标"]) <= {"达标", "未达标", "面积未知"}
    per100 = station["每百户面积 m²"].dropna()
    assert list(per100) == sorted(per100)
    assert all(
        (v >= 30) == (s == "达标") for v, s in zip(per100, station["是否达标"], strict=False)
    )


def _page_texts(at: AppTest) -> list[str]:
    """Every text a reader sees on the page: messages, labels, options, table headers
    and text cells, metrics, buttons."""
    out: list[str] = []
    for kind in ("markdown", "caption", "text", "title", "header", "subheader"):
        out += [str(e.value) for e in getattr(at, kind)]
    for kind in ("info", "warning", "error", "success"):
        out += [str(e.value) for e in getattr(at, kind)]
    out += [f"{m.label} {m.value}" for m in at.metric]
    for d in at.dataframe:
        frame = d.value
        out += [str(c) for c in frame.columns]
        for c in frame.columns:
            if frame[c].dtype == object:
                out += [str(v) for v in frame[c].head(50)]
    for kind in ("button", "radio", "selectbox", "multiselect", "checkbox", "text_input"):
        for w in getattr(at, kind):
            out.append(str(w.label))
            out += [str(o) for o in getattr(w, "options", []) or []]
    out += [str(e.label) for e in at.expander]
    return out


def test_every_page_reads_in_chinese(demo: Path) -> None:
    leaks: dict[str, set[str]] = {}
    for page in ("redmap", "overview", "editor", "siting", "export"):
        at = _run(_app(page=page))
        if page == "siting":
            at.button(key="run_siting").click()
            _run(at)
        words = set().union(*(ascii_words(x) for x in _page_texts(at)))
        if words:
            leaks[page] = words
    assert not leaks, leaks


def test_grid_table_reads_as_names_and_whole_numbers() -> None:
    from planner.settings import Settings

    street = tiny_street()
    grids = app_services.grids_for(street, Settings())
    table = app_services.grid_table(grids, None, lang="zh")
    assert list(table["编码"]) == sorted(table["编码"])
    assert set(table["社区"]) == {"西社区", "东社区"}  # names, not c1/c2
    for column in ("户数", "人口", "面积 (m²)"):
        values = table[column].dropna()
        assert (values == values.round()).all(), (column, list(values))


def test_this_browsers_projects_are_listed_by_name_and_reopen(tiny: Path) -> None:
    from planner.app.state import SETTING_KEYS, can_edit, init_state

    mine, other = "c" * 32, "d" * 32
    first: dict[str, Any] = {}
    init_state(first, {}, browser=mine)
    first.update(project_name="学院路街道 第一稿", walk_speed_kmh=4.0, source={"kind": "demo"})
    app_project.save_work(first, SETTING_KEYS)
    theirs: dict[str, Any] = {}
    init_state(theirs, {}, browser=other)
    theirs["project_name"] = "别人的项目"
    app_project.save_work(theirs, SETTING_KEYS)
    # a new tab of the same browser: its own new project, and the first one listed by name
    tab: dict[str, Any] = {}
    init_state(tab, {}, browser=mine)
    listed = app_project.recent_projects(tab["browser_digest"])
    assert [p["name"] for p in listed] == ["学院路街道 第一稿"], listed
    assert listed[0]["project"] == first["project"]
    assert app_project.open_recent(tab, first["project"], SETTING_KEYS)
    assert tab["project"] == first["project"] and can_edit(tab)
    assert tab["walk_speed_kmh"] == 4.0 and tab["project_name"] == "学院路街道 第一稿"
    # another browser's project is neither listed nor opened
    assert not app_project.open_recent(tab, theirs["project"], SETTING_KEYS)


def test_recent_projects_panel_reopens_a_project(tiny: Path) -> None:
    at = _run(_app(page="overview"))
    at.sidebar.text_input(key="project_name").set_value("第一稿")
    _run(at)
    first = at.session_state["project"]
    assert app_project.load_work({"project": first}, ()) is True
    # the same browser's next session (its secret is kept in the session by the app)
    secret = at.session_state["browser_secret"]
    again = _app(page="overview")
    again.session_state["browser_secret"] = secret
    _run(again)
    assert again.session_state["project"] != first
    box = again.sidebar.selectbox(key="w_recent")
    assert box.value == first and "第一稿" in box.format_func(first)
    again.sidebar.button(key="open_recent").click()
    _run(again)
    assert again.session_state["project"] == first
    assert again.session_state["project_name"] == "第一稿"


def _street_with_loader_notes() -> Any:
    """The tiny street carrying the notes the loader's own checks write for a repaired
    bow-tie polygon, a polygon with no area and a name with a control character."""
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import Polygon

    from planner.errors import ProblemLog
    from planner.load import validate

    street = tiny_street()
    problems = ProblemLog()
    shapes = gpd.GeoDataFrame(
        {"building_id": ["101", "102"], "name": ["一号楼\x1b", "二号楼"]},
        geometry=[
            Polygon([(0, 0), (10, 10), (10, 0), (0, 10)]),  # a bow tie: invalid
            Polygon([(0, 0), (10, 0), (20, 0)]),  # no area
        ],
        crs="EPSG:32650",
    )
    validate.repair_polygons(
        shapes, ids=shapes["building_id"], file="buildings.geojson", problems=problems
    )
    validate.clean_text(
        pd.DataFrame(shapes.drop(columns="geometry")),
        ids=shapes["building_id"],
        file="buildings.geojson",
        problems=problems,
    )
    street.report.notes = problems.notes()
    return street


def test_the_load_report_and_its_notes_read_in_chinese(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import streamlit as st

    street = _street_with_loader_notes()
    assert len(street.report.notes) == 3, [str(n) for n in street.report.notes]
    monkeypatch.setenv("PLANNER_AUTOSAVE_DIR", str(tmp_path / "autosave"))
    monkeypatch.setattr(app_services, "load", lambda source, settings: street)
    st.cache_data.clear()
    try:
        at = _run(_app(page="redmap"))
        notes = [c.value for c in at.caption if c.value.startswith(("警告", "已修复"))]
        assert len(notes) == 3, [c.value for c in at.caption]
        report = "\n".join(str(x.value) for x in at.text)
        assert "已自动修复" in report and "控制字符" in report, report
        # the load report: its captions (notes included) and its full text; markdown
        # escapes taken off so file names read as file names
        shown = [str(c.value).replace("\\", "") for c in [*at.caption, *at.text]]
        leaks = {x: ascii_words(x) for x in shown if ascii_words(x)}
        assert not leaks, leaks
        # the English switch still gives the loader's English notes
        at.sidebar.radio(key="lang").set_value("en")
        _run(at)
        english = "\n".join(c.value for c in at.caption)
        assert "repaired with make\\_valid" in english or "repaired with make_valid" in english
    finally:
        st.cache_data.clear()


def test_loader_notes_are_catalogue_messages() -> None:
    """Every warning and repair note of the folder loader is written as a catalogue
    message (key and parameters), so the app shows it in the reader's language."""
    import ast

    root = Path(__file__).resolve().parents[1] / "planner" / "load"
    english: list[str] = []
    for name in (
        "_layers.py",
        "validate.py",
        "assemble.py",
        "readers.py",
        "tables.py",
        "register.py",
    ):
        tree = ast.parse((root / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            severity = {k.arg: k.value for k in node.keywords}.get("severity")
            is_note = (
                node.func.attr == "add"
                and isinstance(severity, ast.Constant)
                and severity.value in ("warning", "repair")
            )
            if node.func.attr == "warn_features" or is_note:
                args = [node.args[-1] if node.func.attr == "add" else node.args[2]]
                args += [k.value for k in node.keywords if k.arg == "fix"]
                if any(isinstance(a, ast.Constant | ast.JoinedStr) for a in args):
                    english.append(f"{name}:{node.lineno}")
    assert not english, english
