"""Speed a user feels, measured in the real browser (headless Debian Chromium).

Figures (printed, and recorded in docs/benchmarks/app.md):

- cold open: a fresh ``streamlit run app.py`` process (empty caches), page opened,
  until the red map of the demo street has drawn its layers (target < 8 s);
- warm open: a second tab on the same server (cached street and map);
- settings change: walking speed changed in the sidebar form and applied, until the
  map's legend shows the new speed (target < 3 s);
- pan and zoom: script reruns counted (via ``$PLANNER_RUN_LOG``) while the map is
  dragged and zoomed (target 0).

Baseline measured in the same run: the same red map written as one standalone HTML
file (:func:`planner.maps.offline.standalone_html`) and opened from disk in the same
browser, i.e. the cost of drawing the map without Streamlit; ratios are app / baseline.

Usage: ``.venv/bin/python bench/bench_app.py [--source demo] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.appserver import app_server, map_frame, offline_page, wait_idle  # noqa: E402


def _runs(path: Path) -> int:
    """Script runs started so far (lines ``start`` in the run log)."""
    if not path.exists():
        return 0
    return sum(line.startswith("start") for line in path.read_text(encoding="utf-8").splitlines())


def _legend_shows(page: Any, text: str) -> bool:
    """True when some drawn map frame's legend contains ``text`` (the new map is drawn)."""
    for frame in page.frames:
        try:
            legend = frame.locator(".rm-legend")
            if legend.count() and text in legend.first.inner_text(timeout=500):
                return frame.locator("path.leaflet-interactive").count() >= 10
        except Exception:  # frame replaced while the app reruns
            continue
    return False


def baseline_static(source: str) -> float:
    """Seconds to draw the same red map from a standalone HTML file (no Streamlit)."""
    from planner.load.sources import load_street
    from planner.maps.offline import standalone_html
    from planner.maps.redmap import red_map

    street = load_street(source)
    html = standalone_html(red_map(street))
    with tempfile.NamedTemporaryFile("w", suffix=".html", delete=False, encoding="utf-8") as fh:
        fh.write(html)
    with offline_page() as (page, _blocked):
        t0 = time.perf_counter()
        page.goto(Path(fh.name).as_uri())
        map_frame(page, timeout_s=60, min_paths=10)
        elapsed = time.perf_counter() - t0
    os.unlink(fh.name)
    return elapsed


def measure_app() -> dict[str, float]:
    run_log = Path(tempfile.mkdtemp()) / "runs.log"
    out: dict[str, float] = {}
    with (
        app_server(env={"PLANNER_RUN_LOG": str(run_log)}) as url,
        offline_page() as (page, blocked),
    ):
        t0 = time.perf_counter()
        page.goto(url)
        _frame, n_paths, n_markers = map_frame(page, timeout_s=90, min_paths=10)
        out["cold_open_s"] = time.perf_counter() - t0
        out["paths"], out["markers"] = n_paths, n_markers
        wait_idle(page)
        page.wait_for_timeout(1500)

        # pan and zoom inside the map frame: no script rerun
        before = _runs(run_log)
        box = page.locator("iframe").first.bounding_box()
        assert box is not None
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        for dx, dy in ((120, 60), (-200, -40), (80, -90)):
            page.mouse.move(cx, cy)
            page.mouse.down()
            page.mouse.move(cx + dx, cy + dy, steps=8)
            page.mouse.up()
            page.wait_for_timeout(300)
        for delta in (-300, 300, -300):
            page.mouse.move(cx, cy)
            page.mouse.wheel(0, delta)
            page.wait_for_timeout(400)
        page.wait_for_timeout(1500)
        out["pan_zoom_reruns"] = _runs(run_log) - before

        # settings change: walking speed 4.0 -> 4.5 km/h, applied through the form
        speed = page.locator('[data-testid="stSidebar"] input[type="number"]').first
        speed.fill("4.5")
        t0 = time.perf_counter()
        out["settings_click_epoch"] = time.time()
        page.locator('[data-testid="stSidebar"]').get_by_role("button", name="应用").click()
        deadline = time.monotonic() + 120
        while not _legend_shows(page, "4.5 km/h"):
            if time.monotonic() > deadline:
                raise TimeoutError("the map did not redraw with the new speed")
            page.wait_for_timeout(50)
        out["settings_redraw_s"] = time.perf_counter() - t0

        # warm open: a new tab on the same server
        page2 = page.context.new_page()
        t0 = time.perf_counter()
        page2.goto(url)
        map_frame(page2, timeout_s=60, min_paths=10)
        out["warm_open_s"] = time.perf_counter() - t0
        out["blocked_requests"] = len(blocked)
    if os.environ.get("BENCH_VERBOSE"):
        t_click = out["settings_click_epoch"]
        for line in run_log.read_text(encoding="utf-8").splitlines():
            event, page_name, run_s, epoch = line.split("\t")
            print(
                f"  run log: {event:<5} {page_name} run {run_s} s, at click{float(epoch) - t_click:+.2f} s"
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="demo")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"load average before: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    base = [baseline_static(args.source) for _ in range(args.repeat)]
    runs = [measure_app() for _ in range(args.repeat)]
    b = statistics.median(base)
    print(f"baseline: standalone HTML red map drawn in {b:.2f} s (median of {args.repeat})")
    for key in ("cold_open_s", "warm_open_s", "settings_redraw_s"):
        values = [r[key] for r in runs]
        med = statistics.median(values)
        print(
            f"{key:<20} median {med:6.2f} s  (runs: {', '.join(f'{v:.2f}' for v in values)})"
            f"  ratio to baseline {med / b:5.1f}x"
        )
    print(f"pan/zoom reruns      {[int(r['pan_zoom_reruns']) for r in runs]}")
    print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(
        f"map drawn: {int(runs[0]['paths'])} vector paths, {int(runs[0]['markers'])} markers;"
        f" requests to other hosts: {[int(r['blocked_requests']) for r in runs]}"
    )


if __name__ == "__main__":
    main()
