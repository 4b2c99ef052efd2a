"""The organisation page in headless Chromium on the demo street, offline."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.appserver import ROOT, app_server, error_boxes, map_frame, offline_page, wait_idle

pytestmark = pytest.mark.browser

ART = ROOT / "test-artifacts"


def test_organisation_page_draws_its_layers_offline() -> None:
    if not Path(os.environ.get("PLANNER_CHROMIUM", "/usr/bin/chromium")).exists():
        pytest.fail(
            "Debian chromium is not installed: run scripts/setup.sh (apt-get install chromium)"
        )
    ART.mkdir(exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="planner-autosave-") as autosave,
        app_server(env={"PLANNER_AUTOSAVE_DIR": autosave}) as url,
        offline_page() as (page, blocked),
    ):
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url + "?page=organisation", wait_until="domcontentloaded")
        page.locator('[data-testid="stMetric"]').first.wait_for(state="visible", timeout=120000)
        wait_idle(page, timeout_s=60)
        assert "有党支部的网格" in page.locator('[data-testid="stMetric"]').first.inner_text()
        page.get_by_role("tab", name="地图").click()
        # 75 grids coloured by a check, 77 compounds by red property, the street's layers
        _frame, n_paths, _ = map_frame(page, timeout_s=60, min_paths=150)
        assert n_paths >= 150
        page.screenshot(path=str(ART / "page-organisation.png"), full_page=True)
        assert error_boxes(page) == []
        assert errors == [], errors[:3]
        assert blocked == [], f"requests to other hosts: {blocked[:5]}"
