"""The completeness layer of the red map (issue 16): buildings coloured by kinds missing."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from PIL import Image

from planner.coverage.layers import compute_coverage_layers
from planner.maps.content import map_content
from planner.maps.redmap import red_map
from planner.maps.style import DEFAULT_LAYERS, completeness_colour
from planner.settings import Settings
from tests.test_service_completeness import KINDS, _facilities_street


def _decoded(text: str) -> str:
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)


def test_completeness_layer_colours_buildings_by_kinds_missing() -> None:
    st = _facilities_street()
    layers = compute_coverage_layers(st, settings=Settings(service_catalogue=KINDS))
    content = map_content(st, coverage=layers)
    assert content.has("completeness")
    b = content.completeness.set_index("building_id")  # type: ignore[union-attr]
    # hand (tests/test_service_completeness.py): b900 misses only the community service
    assert b.loc["b900", "missing_kinds"] == 1 and b.loc["b900", "missing"] == "社区服务站"
    assert b.loc["b1900", "missing_kinds"] == 4
    assert completeness_colour(0) == "#1a9850" and completeness_colour(1) == "#fee08b"
    assert completeness_colour(4) == "#fc8d59" and completeness_colour(9) == "#d73027"
    page = _decoded(red_map(st, coverage=layers, layers=["completeness"]).get_root().render())
    assert "服务完整度" in page and "缺少的服务类型数" in page
    assert '"fillColor": "#fee08b"' in page and '"fillColor": "#fc8d59"' in page
    assert "completeness" not in DEFAULT_LAYERS  # off when the map opens, in the layer control


def test_no_completeness_layer_without_coverage() -> None:
    st = _facilities_street()
    assert not map_content(st).has("completeness")


def _near(rgb: np.ndarray, hex_colour: str, alpha: float, tol: int = 14) -> int:
    """Pixels of ``rgb`` within ``tol`` of ``hex_colour`` laid at ``alpha`` on white."""
    target = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)
    blended = alpha * target + (1 - alpha) * 255.0
    return int((np.abs(rgb.astype(float) - blended).max(axis=2) <= tol).sum())


def test_printed_map_shows_the_completeness_layer_on_request(tmp_path: Path) -> None:
    """The PNG/PDF report (one figure for both formats): buildings coloured by kinds
    missing, with the colours in the legend, only when asked for (the printed map stays
    as it was by default)."""
    from planner.maps.image import render_map, save_map
    from planner.maps.style import completeness_look

    st = _facilities_street()
    box = gpd.GeoDataFrame(
        {"name": ["line"]}, geometry=[shapely.box(-50, -200, 2050, 200)], crs=st.crs
    )
    st = st.with_layers(boundary=box)
    layers = compute_coverage_layers(st, settings=Settings(service_catalogue=KINDS))
    missing = set(map_content(st, coverage=layers).completeness["missing_kinds"])  # type: ignore[index]
    drawn = {completeness_colour(int(m)) for m in missing}
    assert len(drawn) >= 2  # the street's buildings fall in several colours
    counts = {}
    for on in (False, True):
        fig = render_map(st, coverage=layers, completeness=on, size_in=(6.0, 4.0))
        png = save_map(fig, tmp_path / f"map_{on}.png", dpi=60)
        rgb = np.asarray(Image.open(png).convert("RGB"))
        look = completeness_look("#000000")
        counts[on] = {c: _near(rgb, c, look.fill_opacity) for c in drawn}
        labels = [t.get_text() for t in fig.legends[0].get_texts()]
        assert ("服务类型齐全" in labels) is on, labels
        assert any(lbl.startswith("缺 3–6 类") for lbl in labels) is on, labels
    # every colour of the layer gains pixels (the orange is also a circle's shade)
    assert all(counts[True][c] > counts[False][c] for c in drawn), counts
    assert counts[False]["#fee08b"] == 0 < counts[True]["#fee08b"], counts


def test_run_map_completeness_flag_reaches_the_printed_map(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``run --map-completeness`` reaches the pipeline, and the export's map writer asks
    the image renderer for the layer (the long steps are replaced: the hand-overs only)."""
    from planner.cli import run as cli_run
    from planner.cli.parser import main
    from planner.export import outputs
    from planner.pipeline import RunResult

    given: dict[str, object] = {}

    def fake_pipeline(source: object, out_dir: object, **kw: object) -> RunResult:
        given.update(kw)
        raise SystemExit(0)

    monkeypatch.setattr(cli_run, "run_pipeline", fake_pipeline)
    for flag in ([], ["--map-completeness"]):
        with pytest.raises(SystemExit):
            main(["run", "demo", "--out", str(tmp_path / "out"), "--quiet", *flag])
        assert given["map_completeness"] is bool(flag)
    asked: dict[str, object] = {}
    monkeypatch.setattr(
        "planner.maps.image.write_map_images", lambda street, out, **k: asked.update(k) or []
    )
    result = RunResult(street=_facilities_street(), settings=Settings(), grids=None, coverage=None)
    outputs._write_map_images(result, tmp_path, completeness=True)
    assert asked["completeness"] is True
    assert outputs.OutputOptions().map_completeness is False  # off unless asked for
