"""The red map for leadership (issue 19 item 7): grids that never take the pointer,
short labels and community names instead of ids, community and station names."""

from __future__ import annotations

import json
import re

from planner.app import services as app_services
from planner.maps.redmap import red_map
from planner.settings import Settings
from tests.app_street import tiny_street


def _decoded(html: str) -> str:
    """The rendered map with JSON's \\uXXXX escapes and escaped quotes read back."""
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html)
    return text.replace('\\"', '"')


def _tooltip_fields(html: str) -> list[list[str]]:
    """The fields of every tooltip and popup table of a rendered map."""
    return [json.loads(f) for f in re.findall(r"let fields = (\[[^\]]*\]);", html)]


def _geojson_options(html: str) -> list[str]:
    """The extra options of every ``L.geoJson`` layer of a rendered map."""
    return re.findall(r"L\.geoJson\(null, \{.*?\.\.\.(\{[^}]*\})", html, flags=re.S)


def _labels(html: str, css: str) -> list[str]:
    """The texts the map writes with class ``css`` (from the labels' JSON rows)."""
    found = re.findall(rf"rm-text-labels {css} \*/\s*var rows = (.*?);\n", html)
    return [row[2] for rows in found for row in json.loads(rows)]


def test_red_map_grids_let_the_pointer_through_to_compounds() -> None:
    street = tiny_street()
    grids = app_services.grids_for(street, Settings()).grids
    html = red_map(street, grids=grids).get_root().render()
    options = _geojson_options(html)
    fields = _tooltip_fields(html)
    labels = {css: _labels(html, css) for css in ("rm-grid-label", "rm-community-label")}
    stations = _labels(html, "rm-station-label")
    html = _decoded(html)
    # exactly one layer is drawn non-interactive: the grids (compounds keep popups)
    assert sum('"interactive": false' in o for o in options) == 1, options
    # the grids carry no tooltip that would swallow the hover
    assert not any("label" in f for f in fields), fields
    # short labels on the map, community and station names written on it
    assert sorted(labels["rm-grid-label"]) == sorted(c[-5:] for c in grids["code"].astype(str))
    assert sorted(labels["rm-community-label"]) == ["东社区", "西社区"]
    assert "西社区党群服务站" in stations


def test_editor_grid_tooltip_names_the_short_label_and_the_community() -> None:
    street = tiny_street()
    result = app_services.grids_for(street, Settings())
    atoms = result.atoms.assign(grid_id=result.atoms["code"])
    m = red_map(street, grids=result.grids, atoms=atoms)
    html = m.get_root().render()
    options = _geojson_options(html)
    assert not any('"interactive": false' in o for o in options), options
    # the tooltip's fields: the short label and the community's name, not ids
    grid_fields = [f for f in _tooltip_fields(html) if "households" in f and "code" in f]
    assert grid_fields == [["label", "community", "households", "code"]], grid_fields
    assert '"label": "' + str(result.grids["code"].iloc[0])[-5:] + '"' in html
    assert "东社区" in _decoded(html)


def test_scale_bar_in_metres_only_and_drawing_tools_in_chinese() -> None:
    street = tiny_street()
    zh = red_map(street, draw_tool=True, lang="zh").get_root().render()
    # one scale bar, metric only (Leaflet's default adds feet and miles)
    assert zh.count("L.control.scale(") == 1 and "imperial: false" in zh
    assert '"imperial": true' not in zh
    # Leaflet.draw's words are set before the draw control is made
    words, control = zh.find("L.drawLocal"), zh.find("new L.Control.Draw")
    assert 0 <= words < control
    text = _decoded(zh)
    for word in ("画线（按线拆分网格）", "点击开始画线", "完成", "删除最后一点", "全部删除"):
        assert word in text, word
    en = red_map(street, draw_tool=True, lang="en").get_root().render()
    assert "L.drawLocal" not in en and "imperial: false" in en


def test_text_labels_are_one_element_and_never_read_as_markup_or_template() -> None:
    """Labels are written by one script per set from escaped JSON: a name holding HTML,
    a Jinja expression or a script end tag stays text (the browser test checks the DOM)."""
    from planner.maps.redmap import _script_json

    hostile = "</script><b>{{ 7*7 }}</b>{% if 1 %}x{% endif %}&amp;50%\u2028"
    text = _script_json([[39.9, 116.3, hostile]])
    assert not any(ch in text for ch in "<>&{}%"), text
    assert json.loads(text) == [[39.9, 116.3, hostile]]
    street = tiny_street()
    grids = app_services.grids_for(street, Settings()).grids
    html = red_map(street, grids=grids).get_root().render()
    assert html.count("rm-text-labels rm-grid-label") == 1
