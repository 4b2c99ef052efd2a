"""No English on any page in Chinese mode, in real Chromium (issue 19 item 10).

Opens the demo street, visits every page the sidebar lists and checks that the text
a reader sees (the sidebar and the main area, as the browser renders them) holds no
ASCII word outside :data:`tests.ascii_words.ALLOWED_ASCII` (units, data formats,
coordinate systems, names of sources). Every non-local request is blocked.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from planner.app.state import PAGES
from planner.i18n import t
from tests.appserver import app_server, error_boxes, goto_page, map_frame, offline_page, wait_idle
from tests.ascii_words import ascii_words

pytestmark = pytest.mark.browser

AREAS = ('[data-testid="stSidebar"]', '[data-testid="stMainBlockContainer"]')


#: The text a reader sees under an element: its rendered text nodes (not those drawn
#: at font size 0, which the app uses to relabel Streamlit's own widget words, nor the
#: ligature names Material icons are drawn from, nor code such as a command line) and the ``::before``/``::after``
#: labels put in their place.
VISIBLE_TEXT = """(root) => {
  const out = [];
  const seen = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden";
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const e = n.parentElement;
    if (!e || !seen(e) || getComputedStyle(e).fontSize === "0px") continue;
    if (e.closest('[data-testid="stIconMaterial"], code')) continue;
    out.push(n.textContent);
  }
  for (const e of root.querySelectorAll("*")) {
    if (!seen(e)) continue;
    for (const pseudo of ["::before", "::after"]) {
      const c = getComputedStyle(e, pseudo).content;
      if (c && c !== "none" && c !== "normal") out.push(c.replace(/^"|"$/g, ""));
    }
  }
  return out.join("\\n");
}"""


def _shown_text(page: Any) -> str:
    """What a reader sees in the sidebar and the main area."""
    return "\n".join(page.locator(area).first.evaluate(VISIBLE_TEXT) for area in AREAS)


def test_every_page_reads_in_chinese_in_the_browser() -> None:
    if not Path(os.environ.get("PLANNER_CHROMIUM", "/usr/bin/chromium")).exists():
        pytest.fail("Debian chromium is not installed: run scripts/setup.sh")
    assert set(PAGES) == {
        "redmap", "overview", "editor", "siting", "facilities", "export", "organisation", "city"
    }  # fmt: skip
    leaks: dict[str, list[str]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="planner-autosave-") as autosave,
        app_server(env={"PLANNER_AUTOSAVE_DIR": autosave}) as url,
        offline_page() as (page, blocked),
    ):
        page.goto(url, wait_until="domcontentloaded")
        map_frame(page, timeout_s=60, min_paths=10)
        wait_idle(page, timeout_s=90)  # coverage and grids drawn: their notes shown
        for key in (*PAGES[1:], PAGES[0]):  # the red map last: back from the others
            goto_page(page, t(f"page_{key}", "zh"))
            page.wait_for_timeout(500)
            text = _shown_text(page)
            assert f"· {t(f'page_{key}', 'zh')}" in text, (key, text[:300])  # the page read
            lines = [ln for ln in text.splitlines() if ascii_words(ln)]
            if lines:
                leaks[key] = lines
            assert error_boxes(page) == [], key
        assert blocked == [], blocked
    assert not leaks, leaks
