"""Run the real app and drive it in headless Debian Chromium (browser tests and benchmarks).

Chromium is Debian's ``chromium`` package (``/usr/bin/chromium``), driven by Playwright
with ``executable_path``; Playwright's own browser download is never used. Every
request to a host other than this machine is aborted and recorded, so a test proves
the app works offline.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("PLANNER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
LOCAL_PREFIXES = ("http://localhost", "http://127.0.0.1", "data:", "blob:", "about:", "file:")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def app_server(
    *,
    script: str = os.environ.get("PLANNER_APP_SCRIPT", "app.py"),
    env: dict[str, str] | None = None,
    timeout_s: float = 60,
    app_dir: Path = ROOT,
) -> Iterator[str]:
    """Start ``streamlit run`` on a free port; yield its URL; stop it afterwards.

    ``app_dir``: the tree whose ``app.py`` (and ``planner`` package, first on the
    server's path) runs, e.g. the code before a change for an interleaved benchmark."""
    port = free_port()
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    log = open(ROOT / "test-artifacts" / f"streamlit-{port}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            script,
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=app_dir,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(app_dir), **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start; see {log.name}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextmanager
def offline_page(*, width: int = 1400, height: int = 1000) -> Iterator[tuple[Any, list[str]]]:
    """A Chromium page with every non-local request aborted; yields (page, blocked URLs)."""
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")

        def route(r: Any) -> None:
            url = r.request.url
            if url.startswith(LOCAL_PREFIXES):
                r.continue_()
            else:
                blocked.append(url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        try:
            yield page, blocked
        finally:
            context.close()
            browser.close()


def map_frame(page: Any, *, timeout_s: float = 30, min_paths: int = 1) -> tuple[Any, int, int]:
    """Wait until a Leaflet map has drawn in a shown frame; return (frame, vector paths,
    markers). A hidden frame (the editor's map kept by other pages) is not taken."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for frame in page.frames:
            try:
                n_paths = frame.locator("path.leaflet-interactive").count()
                n_markers = frame.locator(".leaflet-marker-icon").count()
                if n_paths >= min_paths and not _hidden(frame):
                    return frame, n_paths, n_markers
            except Exception:  # frame detached while the app reruns
                continue
        time.sleep(0.1)
    raise TimeoutError("the map did not draw")


def _hidden(frame: Any) -> bool:
    """Whether ``frame`` is a child frame not shown on the page."""
    return frame.parent_frame is not None and not frame.frame_element().is_visible()


def error_boxes(page: Any) -> list[str]:
    """Text of any Streamlit exception or error box on the page."""
    texts: list[str] = []
    for sel in ('[data-testid="stException"]', '[data-testid="stAlertContentError"]'):
        loc = page.locator(sel)
        texts += [loc.nth(i).inner_text() for i in range(loc.count())]
    return texts


def wait_idle(page: Any, *, timeout_s: float = 30) -> None:
    """Wait until Streamlit has finished running the script: no running indicator, no
    spinner and no stale (greyed-out) element, twice in a row 0.25 s apart."""
    time.sleep(0.3)
    deadline = time.monotonic() + timeout_s
    quiet = 0
    selector = '[data-testid="stStatusWidget"], [data-testid="stSpinner"], [data-stale="true"]'
    while time.monotonic() < deadline:
        quiet = quiet + 1 if page.locator(selector).count() == 0 else 0
        if quiet >= 2:
            return
        time.sleep(0.25)


def goto_page(page: Any, label: str) -> None:
    """Open the page labelled ``label`` in the sidebar's navigation and wait until the
    rerun has drawn it (the caption under the title names the page)."""
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text(label, exact=True).first.click()
    page.locator('[data-testid="stCaptionContainer"]', has_text=f"· {label}").first.wait_for(
        timeout=30000
    )
    wait_idle(page)
