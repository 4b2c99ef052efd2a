"""Map-first grid editing in the real app, in headless Chromium, offline (issue 19 item 10).

On the demo street: a click on an atom selects it, a click on a neighbouring grid
on the map makes it the target (with its badges), the confirmed move is drawn on the
editor map; the map keeps its zoom and centre across those reruns, and its frame (so its
view) across a page switch. Every request to another host is refused.
"""

from __future__ import annotations

import tempfile
import time
from typing import Any

import pytest
from shapely.geometry import Point, shape

from tests.appserver import app_server, error_boxes, goto_page, offline_page, wait_idle
from tests.editor_browser import (
    Move,
    app_editor,
    click_latlng,
    editor_frame,
    find_move,
    grid_geometry,
    legend_takes_clicks,
    map_view,
)
from tests.test_browser import _skip_without_chromium

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def move() -> Move:
    return find_move(app_editor("demo"))


def _selected(page: Any, text: str) -> None:
    page.locator('[data-testid="stMarkdownContainer"]', has_text="已选择").filter(
        has_text=text
    ).first.wait_for(timeout=30000)


def _until(check: Any, what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_click_a_grid_on_the_map_to_move_the_selection_there(move: Move) -> None:
    _skip_without_chromium()
    with (
        tempfile.TemporaryDirectory(prefix="planner-autosave-") as autosave,
        app_server(env={"PLANNER_AUTOSAVE_DIR": autosave}) as url,
        offline_page() as (page, blocked),
    ):
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{url}/?page=editor")
        frame = editor_frame(page)
        wait_idle(page, timeout_s=60)
        # the legend's notes over the map let clicks through to the grids beneath
        assert not legend_takes_clicks(frame)
        # the atom, then the neighbouring grid, both clicked on the map
        click_latlng(page, frame, move.atom_latlng)
        _selected(page, f"网格 {move.source_label} · 网格单元 1")
        click_latlng(page, frame, move.target_latlng)
        confirm = page.get_by_role("button", name=f"确认移动到 {move.target_label}")
        confirm.wait_for(timeout=30000)
        wait_idle(page)
        assert page.get_by_text("确认前预览", exact=False).count() == 1
        assert "已锁定" not in " ".join(error_boxes(page))
        confirm.click()
        page.get_by_text("已完成", exact=False).first.wait_for(timeout=30000)
        # the editor map draws the target grid with the atom in it, in the same frame
        lat, lng = move.atom_latlng

        def moved() -> bool:
            geom = grid_geometry(frame, move.target)
            return geom is not None and shape(geom).buffer(1e-7).contains(Point(lng, lat))

        _until(moved, "the moved atom is not drawn in the target grid")
        src = grid_geometry(frame, move.source)
        assert src is not None and not shape(src).contains(Point(lng, lat))
        assert error_boxes(page) == [] and errors == [], (error_boxes(page), errors)
        assert blocked == [], blocked[:5]


def test_the_map_keeps_its_zoom_after_a_click_and_a_page_switch(move: Move) -> None:
    _skip_without_chromium()
    with (
        tempfile.TemporaryDirectory(prefix="planner-autosave-") as autosave,
        app_server(env={"PLANNER_AUTOSAVE_DIR": autosave}) as url,
        offline_page() as (page, blocked),
    ):
        page.goto(f"{url}/?page=editor")
        frame = editor_frame(page)
        wait_idle(page, timeout_s=60)
        start = map_view(frame)
        lat, lng = move.atom_latlng
        frame.evaluate(
            "([lat, lng, z]) => window.map.setView([lat, lng], z)", [lat, lng, start[0] + 1]
        )
        wait_idle(page)
        page.wait_for_timeout(500)
        zoomed = map_view(frame)
        assert zoomed[0] == start[0] + 1
        click_latlng(page, frame, move.atom_latlng)
        _selected(page, "网格单元 1")
        wait_idle(page)
        same = editor_frame(page)
        assert map_view(same) == pytest.approx(zoomed, abs=1e-6)
        # lock the picked grid: drawn hatched; Esc (pressed in the map) clears the selection
        page.get_by_role("button", name="锁定", exact=True).click()
        page.get_by_text("已完成", exact=False).first.wait_for(timeout=30000)
        _until(lambda: same.locator("path.ed-locked").count() == 1, "locked grid not hatched")
        fill = same.evaluate(
            "() => getComputedStyle(document.querySelector('path.ed-locked')).fill"
        )
        assert "ed-hatch" in fill, fill
        click_latlng(page, same, move.target_latlng)  # focus in the map frame
        _selected(page, "网格单元 1")
        wait_idle(page)
        page.keyboard.press("Escape")
        _selected(page, "网格 — · 网格单元 0")
        # a page switch keeps the map frame (hidden on the overview, shown again at once,
        # not rebuilt: what the frame holds survives) and its view
        same.evaluate("() => { window.__kept_probe = 1; }")
        goto_page(page, "概览")
        assert not same.frame_element().is_visible()
        goto_page(page, "网格编辑")
        again = editor_frame(page)
        assert again.evaluate("() => window.__kept_probe") == 1
        _until(lambda: map_view(again)[0] == zoomed[0], "zoom not restored after a page switch")
        assert map_view(again)[1:] == pytest.approx(zoomed[1:], abs=1e-4)
        assert blocked == [], blocked[:5]
