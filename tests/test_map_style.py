"""One vocabulary (planner/maps/style.py): the HTML map and the PNG/PDF map agree.

For every layer both maps draw, the legend words and colours of the folium map (its
legend box and the styles of its GeoJSON layers) and of the matplotlib figure (its
legend handles and the artists of the map) are the same.
"""

from __future__ import annotations

import json
import re
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from planner.maps import image as mi
from planner.maps.redmap import red_map
from planner.maps.style import ALL_LAYERS, LOOKS, PRINT_PT_PER_PX, RED, SITE_COLOUR, rgba
from planner.street import Street
from tests.export_streets import X0, Y0, fake_circles, fake_gaps, small_street
from tests.map_coverage import coverage_layers

RGBA = tuple[float, float, float, float]


def _street() -> Street:
    street = small_street()
    rail = gpd.GeoDataFrame(
        {"barrier_id": ["rail1"], "kind": ["railway"], "name": ["陇海铁路"]},
        geometry=[shapely.LineString([(X0 + 1500, Y0 - 100), (X0 + 1500, Y0 + 1300)])],
        crs=street.crs,
    )
    return street.with_layers(barriers=pd.concat([street.barriers, rail], ignore_index=True))


def _inputs(street: Street) -> dict[str, Any]:
    circles = fake_circles(street)
    union = circles.dissolve(by="threshold_min", as_index=False)
    coverage = coverage_layers(
        street.crs,
        circles=union.assign(view="union", minutes=union["threshold_min"]),
        gaps=fake_gaps(street, circles),
        uncovered_compounds=pd.DataFrame({"compound_id": ["k3", "k5"]}),
    )
    grids = gpd.GeoDataFrame(
        {
            "grid_id": ["g1", "g2"],
            "code": ["10000011010800100101", "10000011010800100201"],
            "community_id": ["c1", "c2"],
            "households": [384, 384],
        },
        geometry=list(street.communities.geometry),
        crs=street.crs,
    )
    sites = gpd.GeoDataFrame(
        {"site_id": ["n1"], "name": ["新站点1"], "households_gained": [96]},
        geometry=[shapely.Point(X0 + 1400, Y0 + 200)],
        crs=street.crs,
    )
    return {"coverage": coverage, "grids": grids, "sites": sites}


def _css_rgba(text: str) -> RGBA:
    if text == "transparent":
        return (0.0, 0.0, 0.0, 0.0)
    r, g, b, a = (float(v) for v in re.findall(r"[\d.]+", text))
    return (r / 255, g / 255, b / 255, a)


def _html_legend(m: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """(layer, words, colours) of each row of the folium map's legend box."""
    legend = next(
        el
        for el in m._children.values()
        if getattr(el, "css_class", "") == "rm-legend"  # the planner's legend control
    )
    inner = json.loads(legend.inner_js.replace("<\\/", "</"))
    rows = re.findall(
        r'<div class="rm-row" data-layer="(\w+)">(.*?)<span>(.*?)</span></div>', inner
    )
    out = []
    for layer, mark, label in rows:
        swatch = re.search(
            r"background:(transparent|rgba\([^)]*\));border:([\d.]+)px \w+ (rgba\([^)]*\))", mark
        )
        if swatch:
            colours = {"fill": _css_rgba(swatch.group(1)), "edge": _css_rgba(swatch.group(3))}
        else:
            colours = {"symbol": to_rgba(re.search(r'fill="(#[0-9a-f]{6})"', mark).group(1))}
        out.append((layer, label, colours))
    return out


def _png_legend(fig: Any) -> list[tuple[str, dict[str, Any]]]:
    """(words, colours) of each row of the figure's legend."""
    legend = fig.legends[0]
    out = []
    for text, handle in zip(legend.get_texts(), legend.legend_handles, strict=True):
        if isinstance(handle, Patch):
            colours = {"fill": tuple(handle.get_facecolor()), "edge": tuple(handle.get_edgecolor())}
            if not handle.get_fill():
                colours["fill"] = (0.0, 0.0, 0.0, 0.0)
        elif isinstance(handle, Line2D) and handle.get_marker() not in (None, "None", ""):
            colours = {"symbol": to_rgba(handle.get_markerfacecolor())}
        else:
            edge = to_rgba(handle.get_color(), handle.get_alpha())
            colours = {"fill": (0.0, 0.0, 0.0, 0.0), "edge": edge}
        out.append((text.get_text(), colours))
    return out


def _close(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(np.allclose(a[k], b[k], atol=0.5 / 255) for k in a)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_legend_words_and_colours_are_the_same_in_both_maps(lang: str) -> None:
    street = _street()
    inputs = _inputs(street)
    html_rows = _html_legend(red_map(street, lang=lang, **inputs))
    png_rows = _png_legend(mi.render_map(street, lang=lang, **inputs))
    assert [label for _layer, label, _c in html_rows] == [label for label, _c in png_rows]
    for (layer, label, html_c), (_label, png_c) in zip(html_rows, png_rows, strict=True):
        assert _close(html_c, png_c), (layer, label, html_c, png_c)
    layers = {layer for layer, _l, _c in html_rows}
    # every layer with a legend entry that both maps draw is compared
    assert {"stations", "sites", "circles", "gaps", "uncovered", "grids", "communities",
            "compounds", "roads", "barriers", "boundary"} <= layers  # fmt: skip
    words = [label for _layer, label, _c in html_rows]
    if lang == "zh":
        # the printed map said 服务空白 / "15 分钟步行可达" where the web map said these
        assert {"服务盲区", "15 分钟服务圈", "5 分钟服务圈", "河流", "铁路", "未覆盖小区"} <= set(
            words
        )
        assert not {"服务空白", "15 分钟步行可达", "建筑"} & set(words)
    station_colours = {c["symbol"] for layer, _l, c in html_rows if layer == "stations"}
    assert station_colours == {to_rgba(RED)}
    assert [c["symbol"] for layer, _l, c in html_rows if layer == "sites"] == [to_rgba(SITE_COLOUR)]


def _folium_styles(m: Any, group_name: str) -> list[dict[str, Any]]:
    """Leaflet styles of the GeoJSON layers in the feature group named ``group_name``."""
    group = next(el for el in m._children.values() if getattr(el, "layer_name", None) == group_name)
    return [
        el.style_function(None) for el in group._children.values() if hasattr(el, "style_function")
    ]


def _artists_at(fig: Any, layer: str) -> list[Any]:
    """The map's collections of ``layer`` (painters stack layers in ALL_LAYERS order)."""
    z = 1.0 + ALL_LAYERS.index(layer)  # type: ignore[arg-type]
    return [c for c in fig.axes[0].collections if c.get_zorder() == z]


@pytest.mark.parametrize(
    ("layer", "part", "group"),
    [
        ("gaps", "gaps", "服务盲区"),
        ("uncovered", "uncovered", "未覆盖小区"),
        ("grids", "grids", "网格"),
        ("compounds", "compounds", "小区"),
        ("communities", "communities", "社区"),
        ("boundary", "boundary", "街道边界"),
    ],
)
def test_drawn_features_use_the_legend_looks(layer: str, part: str, group: str) -> None:
    """The features themselves (not only the legends) are drawn in the shared look."""
    street = _street()
    inputs = _inputs(street)
    look = LOOKS[part]
    styles = _folium_styles(red_map(street, **inputs), group)
    assert styles and all(s == look.leaflet() for s in styles)
    fig = mi.render_map(street, **inputs)
    artists = _artists_at(fig, layer)
    assert artists, layer
    drawn = artists[0]
    assert np.allclose(drawn.get_edgecolor()[0], rgba(look.colour, look.opacity), atol=1e-3)
    if look.fill is not None:
        assert np.allclose(drawn.get_facecolor()[0], rgba(look.fill, look.fill_opacity), atol=1e-3)
    assert drawn.get_linewidth()[0] == pytest.approx(look.weight_px * PRINT_PT_PER_PX)


def test_circles_share_colours_per_threshold() -> None:
    street = _street()
    inputs = _inputs(street)
    m = red_map(street, **inputs)
    fig = mi.render_map(street, **inputs)
    printed = [tuple(c.get_facecolor()[0]) for c in _artists_at(fig, "circles")]
    for minutes, rank in ((15, 2), (10, 1), (5, 0)):
        (style,) = _folium_styles(m, f"{minutes} 分钟服务圈")
        assert style["fillOpacity"] == 0.28
        # the printed circles are drawn largest first: 15, 10, 5 minutes
        assert np.allclose(printed[2 - rank], rgba(style["fillColor"], style["fillOpacity"]))
