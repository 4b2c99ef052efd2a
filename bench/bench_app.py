"""Speed a user feels, measured in the real browser (headless Debian Chromium).

Figures (printed, and recorded in docs/benchmarks/app.md), per street:

- start to circles: a fresh ``streamlit run app.py`` process (as below) until the red map
  shows service circles (the first useful map; the grids follow: target < 8 s, issue 19
  item 9);
- start to circles and grids: a fresh ``streamlit run app.py`` process (empty caches,
  an empty disk cache: ``$PLANNER_APP_CACHE`` a new folder) started, page opened, until
  the red map shows service circles AND grids;
- restart to circles and grids: the same, once the run's other figures are taken, with
  the disk cache the first server filled (:mod:`planner.app.store`): a planner
  reopening the app on a street it has seen. On the Beijing extract (tests/data, OSM, with a
  three-station file made here: OSM has no service stations) the demo opens first,
  then the extract is uploaded: start to circles and start to circles and grids are
  then timed from the Load click to the extract's circles, and circles and grids;
- settings change: from a fully loaded page, walking speed changed in the sidebar
  form and applied, until a map whose legend shows the new speed is drawn with its
  circles (target < 3 s; before 2026-12-03 19:30 UTC a map drawn without circles,
  before the new ones were computed, counted);
- warm open: a second tab on the same server (the demo street's map drawn);
- page switch: red map -> grid editor (first visit: the editor is built) and, once
  the editor was seen, overview -> grid editor, until the editor map's grids are drawn
  in a shown frame (target < 1 s), and until the editor's last panel is drawn
  (``..._page_s``: the whole page);
- edit: in the grid editor an atom clicked on the map (selection shown), a
  neighbouring grid clicked on the map (preview badges shown), then "move" confirmed:
  confirm click to the editor map drawing the atom inside the target grid (target
  < 1 s); the two clicks before are timed too;
- pan and zoom: script reruns counted (via ``$PLANNER_RUN_LOG``) while the red map is
  dragged and zoomed (target 0);
- server CPU s: CPU seconds of the ``streamlit run`` process and its children from its
  start until the circles and grids are drawn, for the start and the restart (psutil): what counts on a loaded machine.

Baseline measured in the same run: the same red map written as one standalone HTML
file (:func:`planner.maps.offline.standalone_html`) and opened from disk in the same
browser, i.e. the cost of drawing the map without Streamlit; ratios are app / baseline.

With ``--before DIR`` (a tree of the code before a change, e.g. ``git archive main``
unpacked, its numba kernels compiled with ``python -m planner._warm``) every repeat runs
the app of ``DIR`` and of this tree in turn, the order alternating round by round
(:func:`_interleave.order`), each in a fresh server; every run prints its figures with
the load average before and after it.

Usage: ``.venv/bin/python bench/bench_app.py [--source demo|beijing|both] [--repeat 3]
[--before DIR]``
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _interleave import order  # noqa: E402
from _machine import processor  # noqa: E402
from shapely.geometry import Point, shape  # noqa: E402

from tests.appserver import app_server, map_frame, offline_page, wait_idle  # noqa: E402
from tests.editor_browser import (  # noqa: E402
    Move,
    app_editor,
    click_latlng,
    editor_frame,
    find_move,
    grid_geometry,
)

BEIJING = ROOT / "tests" / "data" / "beijing-haidian-xueyuanlu" / "map.osm.pbf"
#: Three stations inside the Beijing extract (OSM has no party-mass service stations).
BEIJING_STATIONS = (
    "station_id,name,kind,longitude,latitude\n"
    "S1,学院路社区党群服务站,community_station,116.3490,40.0030\n"
    "S2,清华东路社区党群服务站,community_station,116.3560,40.0060\n"
    "S3,街道党群服务中心,street_centre,116.3520,40.0010\n"
)
CIRCLE_FILLS = ("#b2182b", "#ef6548", "#fdbb84", "#fee8c8")
SIDEBAR = '[data-testid="stSidebar"]'
FIGURES = (
    "start_to_circles_s",
    "start_to_circles_grids_s",
    "start_server_cpu_s",
    "restart_to_circles_grids_s",
    "restart_server_cpu_s",
    "settings_redraw_s",
    "warm_open_s",
    "switch_to_editor_first_s",
    "switch_to_editor_first_page_s",
    "switch_to_editor_s",
    "switch_to_editor_page_s",
    "select_click_s",
    "target_click_s",
    "edit_s",
)


def _runs(path: Path) -> int:
    """Script runs started so far (lines ``start`` in the run log)."""
    if not path.exists():
        return 0
    return sum(line.startswith("start") for line in path.read_text(encoding="utf-8").splitlines())


def _any_frame(page: Any, test: Callable[[Any], bool]) -> bool:
    for frame in page.frames:
        try:
            if test(frame):
                return True
        except Exception:  # frame replaced while the app reruns
            continue
    return False


def _circles(frame: Any, *, min_lat: float = -90.0) -> bool:
    """The red map in ``frame`` shows service circles (its centre north of ``min_lat``:
    the Beijing street, not the demo street still on screen)."""
    if frame.locator(", ".join(f'path[fill="{c}"]' for c in CIRCLE_FILLS)).count() == 0:
        return False
    return min_lat <= -90 or bool(
        frame.evaluate("() => window.map ? window.map.getCenter().lat : -90") > min_lat
    )


def _circles_and_grids(frame: Any, *, min_lat: float = -90.0) -> bool:
    """The red map in ``frame`` shows service circles and grids (centre as :func:`_circles`)."""
    grids = frame.locator('.rm-grid-label, path[stroke="#1f4e9c"]').count()
    return grids > 0 and _circles(frame, min_lat=min_lat)


def _legend_shows(frame: Any, text: str) -> bool:
    """True when ``frame``'s legend contains ``text`` and its map is drawn with circles
    (a map drawn without circles before the new ones are computed does not count)."""
    legend = frame.locator(".rm-legend")
    if legend.count() and text in legend.first.inner_text(timeout=500):
        return bool(frame.locator("path.leaflet-interactive").count() >= 10 and _circles(frame))
    return False


def server_cpu_s() -> float:
    """CPU seconds used so far by the app servers this process started (each
    ``streamlit run`` and its children)."""
    import psutil

    total = 0.0
    for proc in psutil.Process().children():
        try:
            if "streamlit" not in " ".join(proc.cmdline()):
                continue
            for p in (proc, *proc.children(recursive=True)):
                times = p.cpu_times()
                total += times.user + times.system
        except psutil.Error:  # ended meanwhile
            continue
    return total


def _wait(page: Any, check: Callable[[], bool], what: str, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        page.wait_for_timeout(30)


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


def _goto(page: Any, label: str) -> None:
    page.locator(SIDEBAR).get_by_text(label, exact=True).first.click()


def _load_beijing(page: Any, stations: Path) -> tuple[float, float]:
    """Upload the Beijing extract with its stations; seconds from Load to its circles,
    and to its circles and grids."""
    page.locator(SIDEBAR).get_by_text("上传 OSM 数据", exact=False).first.click()
    wait_idle(page)
    # each uploader by its widget key (Streamlit's ``st-key-<key>`` class): by position,
    # the stations file once went to another uploader after a restart
    drop = '[data-testid="stFileUploaderDropzoneInput"]'
    page.locator(f"{SIDEBAR} .st-key-files_osm {drop}").set_input_files(str(BEIJING))
    page.locator(f"{SIDEBAR} .st-key-st_osm {drop}").set_input_files(str(stations))
    # both files listed and their upload's rerun over before Load (a fixed 1.5 s wait
    # lost the stations file once under load: the extract then had no circles)
    for name in (BEIJING.name, stations.name):
        page.locator(SIDEBAR).get_by_text(name, exact=True).first.wait_for(timeout=60000)
    wait_idle(page, timeout_s=60)
    page.wait_for_timeout(500)
    t0 = time.perf_counter()
    page.locator(SIDEBAR).get_by_role("button", name="加载", exact=True).click()
    demo = page.locator('[data-testid="stCaptionContainer"]', has_text="示例街道")
    _wait(page, lambda: demo.count() == 0, "the Beijing street shown")
    _wait(page, lambda: _any_frame(page, lambda f: _circles(f, min_lat=39.0)), "Beijing circles")
    to_circles = time.perf_counter() - t0
    _wait(
        page,
        lambda: _any_frame(page, lambda f: _circles_and_grids(f, min_lat=39.0)),
        "Beijing circles and grids",
    )
    return to_circles, time.perf_counter() - t0


def _pan_zoom_reruns(page: Any, run_log: Path) -> int:
    """Drag and zoom the red map; script runs started meanwhile."""
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
    return _runs(run_log) - before


def _settings_change(page: Any) -> float:
    """Walking speed 4.0 -> 4.5 km/h through the form; seconds to the redrawn legend."""
    speed = page.locator(f'{SIDEBAR} input[type="number"]').first
    speed.fill("4.5")
    t0 = time.perf_counter()
    page.locator(SIDEBAR).get_by_role("button", name="应用").click()
    _wait(page, lambda: _any_frame(page, lambda f: _legend_shows(f, "4.5 km/h")), "new speed")
    return time.perf_counter() - t0


#: The grid editor page's last panel (its project file uploader), in the page's body.
EDITOR_LAST = '[data-testid="stMainBlockContainer"] [data-testid="stFileUploader"]'


def _editor_switch(page: Any, label: str = "网格编辑") -> tuple[float, float]:
    """Seconds from the page link click to the editor map's grids drawn (shown), and to
    the editor's last panel drawn (the whole page)."""
    t0 = time.perf_counter()
    _goto(page, label)
    page.locator('[data-testid="stCaptionContainer"]', has_text=f"· {label}").first.wait_for(
        timeout=120000
    )
    editor_frame(page, timeout_s=120)
    t_map = time.perf_counter() - t0
    page.locator(EDITOR_LAST).first.wait_for(timeout=120000)
    return t_map, time.perf_counter() - t0


def _edit(page: Any, move: Move) -> dict[str, float]:
    """Select an atom, click the target grid, confirm: the three timings."""
    out: dict[str, float] = {}
    frame = editor_frame(page)
    wait_idle(page)
    t0 = time.perf_counter()
    click_latlng(page, frame, move.atom_latlng)
    page.locator('[data-testid="stMarkdownContainer"]', has_text="已选择").filter(
        has_text=f"网格 {move.source_label} · 网格单元 1"
    ).first.wait_for(timeout=60000)
    out["select_click_s"] = time.perf_counter() - t0
    wait_idle(page)
    t0 = time.perf_counter()
    click_latlng(page, frame, move.target_latlng)
    confirm = page.get_by_role("button", name=f"确认移动到 {move.target_label}")
    confirm.wait_for(timeout=60000)
    page.get_by_text("确认前预览", exact=False).first.wait_for(timeout=60000)
    out["target_click_s"] = time.perf_counter() - t0
    wait_idle(page)
    lat, lng = move.atom_latlng
    t0 = time.perf_counter()
    confirm.click()

    def drawn() -> bool:
        geom = grid_geometry(frame, move.target)
        return geom is not None and shape(geom).buffer(1e-7).contains(Point(lng, lat))

    _wait(page, drawn, "the move on the editor map", timeout_s=60)
    out["edit_s"] = time.perf_counter() - t0
    return out


def measure_app(source: str, move: Move, app_dir: Path = ROOT) -> dict[str, float]:
    """One fresh server running ``app_dir``'s app: every figure of the module docstring
    for ``source``."""
    work = Path(tempfile.mkdtemp(prefix="bench-app-"))
    run_log = work / "runs.log"
    stations = work / "stations.csv"
    stations.write_text(BEIJING_STATIONS, encoding="utf-8")
    out: dict[str, float] = {}
    env = {
        "PLANNER_RUN_LOG": str(run_log),
        "PLANNER_AUTOSAVE_DIR": str(work / "autosave"),
        "PLANNER_APP_CACHE": str(work / "app-cache"),
    }
    t_start = time.perf_counter()
    with app_server(env=env, app_dir=app_dir) as url, offline_page() as (page, blocked):
        page.goto(url)
        _wait(page, lambda: _any_frame(page, _circles), "demo circles")
        out["start_to_circles_s"] = time.perf_counter() - t_start
        _wait(page, lambda: _any_frame(page, _circles_and_grids), "demo circles and grids")
        out["start_to_circles_grids_s"] = time.perf_counter() - t_start
        out["start_server_cpu_s"] = server_cpu_s()
        wait_idle(page, timeout_s=60)
        if source == "beijing":
            out["start_to_circles_s"], out["start_to_circles_grids_s"] = _load_beijing(
                page, stations
            )
            wait_idle(page, timeout_s=60)
        page.wait_for_timeout(1000)
        out["pan_zoom_reruns"] = _pan_zoom_reruns(page, run_log)
        out["settings_redraw_s"] = _settings_change(page)
        wait_idle(page, timeout_s=60)
        page2 = page.context.new_page()  # warm open: a second tab on the same server
        t0 = time.perf_counter()
        page2.goto(url)
        map_frame(page2, timeout_s=120, min_paths=10)
        out["warm_open_s"] = time.perf_counter() - t0
        page2.close()
        out["switch_to_editor_first_s"], out["switch_to_editor_first_page_s"] = _editor_switch(page)
        wait_idle(page, timeout_s=60)
        out.update(_edit(page, move))
        wait_idle(page, timeout_s=60)
        _goto(page, "概览")
        page.locator('[data-testid="stMetric"]').first.wait_for(timeout=60000)
        wait_idle(page, timeout_s=60)
        out["switch_to_editor_s"], out["switch_to_editor_page_s"] = _editor_switch(page)
        out["blocked_requests"] = len(blocked)
    out["restart_to_circles_grids_s"], out["restart_server_cpu_s"] = _restart(
        source, env, stations, app_dir
    )
    if os.environ.get("BENCH_VERBOSE"):
        for line in run_log.read_text(encoding="utf-8").splitlines():
            event, page_name, run_s, _epoch = line.split("\t")
            print(f"  run log: {event:<18} {page_name:<8} {run_s} s")
    return out


def _restart(
    source: str, env: dict[str, str], stations: Path, app_dir: Path
) -> tuple[float, float]:
    """A new server on the same disk cache: seconds to circles and grids (from the
    process start on the demo street, from the Load click on the Beijing extract)."""
    t_start = time.perf_counter()
    with app_server(env=env, app_dir=app_dir) as url, offline_page() as (page, _blocked):
        page.goto(url)
        _wait(page, lambda: _any_frame(page, _circles_and_grids), "demo circles and grids")
        if source != "beijing":
            return time.perf_counter() - t_start, server_cpu_s()
        wait_idle(page, timeout_s=60)
        return _load_beijing(page, stations)[1], server_cpu_s()


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def _print_figures(label: str, runs: list[dict[str, float]], base: float) -> None:
    print(f"--- {label}")
    for key in FIGURES:
        values = [r[key] for r in runs]
        med = statistics.median(values)
        print(
            f"{key:<30} median {med:6.2f} s  (runs: {', '.join(f'{v:.2f}' for v in values)})"
            f"  ratio to baseline {med / base:5.1f}x"
        )
    print(f"pan/zoom reruns                {[int(r['pan_zoom_reruns']) for r in runs]}")
    print(f"requests to other hosts        {[int(r['blocked_requests']) for r in runs]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=["demo", "beijing", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--before", type=Path, help="a tree of the code before: its app and this tree's in turn"
    )
    args = parser.parse_args()
    print(
        f"machine: {processor()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    print(f"load average before: {_load()}")
    base = statistics.median(baseline_static("demo") for _ in range(args.repeat))
    print(f"baseline: standalone HTML red map (demo) drawn in {base:.2f} s (median)")
    trees = (
        {"this tree": ROOT} if args.before is None else {"before": args.before, "this tree": ROOT}
    )
    sources = ["demo", "beijing"] if args.source == "both" else [args.source]
    for source in sources:
        if source == "beijing":
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "stations.csv"
                path.write_text(BEIJING_STATIONS, encoding="utf-8")
                move = find_move(app_editor(str(BEIJING), stations=path))
        else:
            move = find_move(app_editor("demo"))
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
        for round_no in range(args.repeat):
            for name in order(list(trees), round_no):
                before = _load()
                at = datetime.now(UTC)
                runs[name].append(measure_app(source, move, trees[name]))
                r = runs[name][-1]
                print(
                    f"run {round_no + 1} {name} ({trees[name]}) at {at:%H:%M:%S} UTC, load"
                    f" {before} -> {_load()}: to circles {r['start_to_circles_s']:.2f} s, to"
                    f" circles and grids {r['start_to_circles_grids_s']:.2f} s (server"
                    f" {r['start_server_cpu_s']:.2f} CPU s), settings"
                    f" {r['settings_redraw_s']:.2f} s, edit {r['edit_s']:.2f} s, switch"
                    f" {r['switch_to_editor_s']:.2f} s",
                    flush=True,
                )
        for name in trees:
            _print_figures(
                f"{source}, {name} (move atom {move.atom}: {move.source_label} -> "
                f"{move.target_label})",
                runs[name],
                base,
            )
        print(f"load average now: {_load()}")


if __name__ == "__main__":
    main()
