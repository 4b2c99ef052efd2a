"""The report map image: fonts, scale bar, north arrow, attribution, PNG and PDF files."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

from planner.maps import image as mi
from tests.export_streets import UTM, fake_circles, fake_gaps, small_street
from tests.map_coverage import coverage_layers


@pytest.fixture(scope="module")
def drawn() -> tuple[object, object]:
    street = small_street()
    circles = fake_circles(street)
    union = circles.dissolve(by="threshold_min", as_index=False)
    coverage = coverage_layers(
        street.crs,
        circles=union.assign(view="union", minutes=union["threshold_min"]),
        gaps=fake_gaps(street, circles),
        summary={"households_covered_pct": {"5": 41.0, "10": 66.5, "15": 80.0}},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing Chinese glyph warns: fail on it
        fig = mi.render_map(street, coverage=coverage)
    return street, fig


def test_png_and_pdf_written_with_chinese_text(
    tmp_path: Path, drawn: tuple[object, object]
) -> None:
    _street, fig = drawn
    png = mi.save_map(fig, tmp_path / "redmap.png", dpi=80)  # type: ignore[arg-type]
    pdf = mi.save_map(fig, tmp_path / "redmap.pdf")  # type: ignore[arg-type]
    img = mpimg.imread(png)
    assert img.shape[0] > 500 and img.shape[1] > 800
    # the map holds red (circles, stations), not a blank page
    red = (img[..., 0] > 0.8) & (img[..., 1] < 0.5) & (img[..., 2] < 0.5)
    assert red.sum() > 100
    raw = pdf.read_bytes()
    assert raw.startswith(b"%PDF")
    assert b"NotoSansCJK" in raw  # the CJK font is embedded, so Chinese is real text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["redmap.pdf", "redmap.png"]


def test_texts_hold_title_speed_and_synthetic_note(drawn: tuple[object, object]) -> None:
    _street, fig = drawn
    texts = "\n".join(t.get_text() for t in fig.texts)  # type: ignore[attr-defined]
    assert "示范街道 红色地图" in texts
    assert "步行速度 4 km/h" in texts and "1,000 m" in texts
    # the synthetic-data note, in Chinese only since issue 19 item 6
    assert "合成数据：示例街道，并非真实地点" in texts
    assert "80.0%" in texts
    legend = fig.legends[0]  # type: ignore[attr-defined]
    labels = [t.get_text() for t in legend.get_texts()]
    # the web map's words (planner.maps.style): 服务圈 and 服务盲区, not 步行可达 / 服务空白
    assert {
        "街道边界",
        "15 分钟服务圈",
        "5 分钟服务圈",
        "服务盲区",
        "街道党群服务中心",
        "社区党群服务站",
        "红色物业",
    } <= set(labels)


def test_osm_attribution_printed() -> None:
    street = small_street(synthetic=False, attribution="© OpenStreetMap contributors")
    text = mi.attribution_text(street)
    assert text == "© OpenStreetMap contributors"
    assert mi.attribution_text(small_street(synthetic=False)) == ""


def test_scale_bar_is_a_nice_ground_length(drawn: tuple[object, object]) -> None:
    _street, fig = drawn
    assert fig._planner_scale_m in (200.0, 500.0, 1000.0)  # type: ignore[attr-defined]
    assert mi.nice_length_m(999.0) == 500.0
    assert mi.nice_length_m(0.3) == pytest.approx(0.2)


def test_projection_factors_of_utm() -> None:
    from pyproj import CRS

    crs = CRS.from_user_input(UTM)
    k, conv = mi.projection_factors(crs, 500_000.0, 3_800_000.0)  # central meridian
    assert k == pytest.approx(0.9996, abs=1e-5)
    assert conv == pytest.approx(0.0, abs=1e-6)
    k2, conv2 = mi.projection_factors(crs, 310_000.0, 3_800_000.0)  # west of it
    assert k2 > 0.9996
    assert conv2 < -0.5  # grid north leans from true north there


def test_missing_font_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mi, "_registered", None)
    monkeypatch.setattr(mi, "CJK_FONT_PATTERNS", ("/nonexistent/*.ttc",))
    monkeypatch.delenv("PLANNER_CJK_FONT", raising=False)
    with pytest.raises(mi.FontMissingError, match="fonts-noto-cjk"):
        mi.register_cjk_font()


def test_bad_image_suffix_refused(tmp_path: Path, drawn: tuple[object, object]) -> None:
    with pytest.raises(mi.PlannerError, match=r"png or \.pdf"):
        mi.save_map(drawn[1], tmp_path / "x.jpg")  # type: ignore[arg-type]
    assert not list(tmp_path.iterdir())


def test_write_map_images_names_files_by_format(tmp_path: Path) -> None:
    # (the PDF itself is checked above; embedding the CJK font is the slow part)
    paths = mi.write_map_images(small_street(), tmp_path, formats=("png",), dpi=50, stem="m")
    assert [p.name for p in paths] == ["m.png"]
    assert np.asarray(mpimg.imread(paths[0])).size > 0


def test_station_labels_do_not_overlap() -> None:
    import geopandas as gpd
    import shapely
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Annotation

    street = small_street()
    x, y = street.stations.geometry.x.iloc[1], street.stations.geometry.y.iloc[1]
    crowded = gpd.GeoDataFrame(
        {
            "station_id": ["a", "b", "c"],
            "name": ["甲社区党群服务站", "乙社区党群服务站", "丙社区党群服务站"],
            "kind": ["community_station"] * 3,
        },
        geometry=shapely.points([[x, y], [x + 8, y + 3], [x + 4, y - 6]]),
        crs=street.crs,
    )
    fig = mi.render_map(street.with_layers(stations=crowded))
    renderer = FigureCanvasAgg(fig).get_renderer()
    boxes = [
        a.get_window_extent(renderer)
        for a in fig.axes[0].texts
        if isinstance(a, Annotation) and a.get_text()
    ]
    assert len(boxes) == 3
    for i in range(3):
        for j in range(i + 1, 3):
            assert not boxes[i].overlaps(boxes[j])
