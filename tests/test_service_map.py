"""The completeness layer of the red map (issue 16): buildings coloured by kinds missing."""

from __future__ import annotations

import re

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
