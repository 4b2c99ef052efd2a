"""The workbench in real Chromium (issue 19): the browser that made a project keeps
editing it after a reload, a link opened without that browser's cookie is read-only,
and on the red map the grids never take the pointer (compound popups stay reachable).
Every non-local request is blocked."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.appserver import app_server, error_boxes, map_frame, offline_page, wait_idle

pytestmark = pytest.mark.browser


def _status(page: Any) -> str:
    """The project status line every page shows ("项目：…")."""
    loc = page.locator('[data-testid="stCaptionContainer"]', has_text="项目：").first
    loc.wait_for(timeout=30000)
    return str(loc.inner_text())


def _project(page: Any) -> str:
    """The project id in the URL (written when a run of the script ends)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        project = parse_qs(urlparse(page.url).query).get("project", [""])[0]
        if project:
            return project
        page.wait_for_timeout(200)
    raise AssertionError(f"no project in the URL {page.url}")


def test_reload_keeps_editing_rights_a_cookieless_link_is_read_only() -> None:
    if not Path(os.environ.get("PLANNER_CHROMIUM", "/usr/bin/chromium")).exists():
        pytest.fail("Debian chromium is not installed: run scripts/setup.sh")
    with (
        tempfile.TemporaryDirectory(prefix="planner-autosave-") as autosave,
        app_server(env={"PLANNER_AUTOSAVE_DIR": autosave}) as url,
        offline_page() as (page, blocked),
    ):
        page.goto(url, wait_until="domcontentloaded")
        map_frame(page, timeout_s=60, min_paths=10)
        wait_idle(page, timeout_s=90)
        assert "只读" not in _status(page)
        project = _project(page)
        cookies = {c["name"]: c["value"] for c in page.context.cookies()}
        assert len(cookies.get("planner_browser", "")) == 32, cookies
        assert cookies["planner_browser"] not in page.url
        # the work file names this browser (by digest) as the project's maker
        work = Path(autosave) / f"work-{project}.json"
        deadline = time.monotonic() + 20
        while not work.exists():
            assert time.monotonic() < deadline, "no work file written"
            time.sleep(0.2)
        # the red map: grids drawn, none of them takes the pointer
        frame, _, _ = map_frame(page, timeout_s=60, min_paths=10)
        deadline = time.monotonic() + 60
        while frame.locator('path[stroke="#1f4e9c"]').count() == 0:
            assert time.monotonic() < deadline, "the grids were not drawn"
            page.wait_for_timeout(500)
            frame, _, _ = map_frame(page, timeout_s=20, min_paths=10)
        assert frame.locator('path.leaflet-interactive[stroke="#1f4e9c"]').count() == 0
        compound = frame.locator('path.leaflet-interactive[stroke="#7a4a4a"]').first
        box = compound.bounding_box()
        assert box is not None
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        hit = frame.evaluate(
            "([x, y]) => { const e = document.elementFromPoint(x, y);"
            " return e ? (e.getAttribute('stroke') || e.className.baseVal || e.tagName) : ''; }",
            [
                x - frame.frame_element().bounding_box()["x"],
                y - frame.frame_element().bounding_box()["y"],
            ],
        )
        assert hit != "#1f4e9c", hit
        # a reload in the same browser: the same project, still editable
        page.reload(wait_until="domcontentloaded")
        wait_idle(page, timeout_s=90)
        assert _project(page) == project
        assert "只读" not in _status(page)
        # the same link without this browser's cookie (another browser): read-only
        page.context.clear_cookies()
        page.reload(wait_until="domcontentloaded")
        wait_idle(page, timeout_s=90)
        assert _project(page) == project
        assert "只读" in _status(page)
        # the upload widgets' own words are Chinese, with the planner's limit
        page.locator('[data-testid="stSidebar"]').get_by_text(
            "上传图层文件", exact=True
        ).first.click()
        wait_idle(page)
        hint = page.locator('[data-testid="stFileUploaderDropzoneInstructions"]').first
        hint.wait_for(timeout=20000)
        after = hint.evaluate("e => getComputedStyle(e, '::after').content")
        assert after == '"每个文件不超过 200 MB"', after
        assert (
            "per file" not in hint.inner_text()
            or hint.evaluate("e => getComputedStyle(e.querySelector('*')).fontSize") == "0px"
        )
        button = page.locator('[data-testid="stFileUploaderDropzone"] button').first
        assert button.evaluate("e => getComputedStyle(e, '::after').content") == '"选择文件"'
        assert error_boxes(page) == []
        assert blocked == [], blocked
