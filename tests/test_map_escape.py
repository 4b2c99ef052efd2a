"""Every text from the data is escaped in the red map's HTML (hostile-input review H01/H03).

The hostile street (tests/hostile_street.py) holds script and markup in every text
field: names and ids of the street, communities, compounds, buildings, roads, land use,
rivers, stations and sites, community codes, opening hours, the data credit. Its red map
(the exported ``redmap.html``, the app's map payload, the grid editor's map) must carry
each of them only in escaped form, and still carry them (escaped, not dropped). The
real-browser check is in tests/test_browser_hostile.py.
"""

from __future__ import annotations

import re
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from planner.app.map import map_payload
from planner.coverage.layers import CoverageLayers, compute_coverage_layers
from planner.grids.division import GridResult, divide
from planner.load.sources import load_street
from planner.maps.offline import standalone_html
from planner.maps.redmap import ALL_LAYERS, html_text, red_map
from planner.settings import Settings
from planner.street import Street
from tests.app_street import CRS, X0, Y0, tiny_street
from tests.hostile_street import PAYLOAD, PAYLOADS, RAW_MARKERS, hostile, write_hostile_folder
from tests.map_coverage import coverage_layers


def _decoded(text: str) -> str:
    """The page with JSON/JS ``\\uXXXX`` escapes decoded (what the browser's JS sees)."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)


def assert_escaped(page: str) -> None:
    """No payload reaches ``page`` raw; the escaped payload is there; nothing escaped twice."""
    text = _decoded(page)
    for marker in RAW_MARKERS:
        assert marker not in text, f"raw {marker!r} in the page"
    assert html_text(PAYLOAD) in text
    assert "&amp;lt;" not in text and "&amp;#" not in text  # escaped once, shown literally


Run = tuple[Street, CoverageLayers, GridResult, gpd.GeoDataFrame]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The hostile street loaded from its folder, its coverage, grids and a proposed site."""
    street = load_street(str(write_hostile_folder(tmp_path_factory.mktemp("hostile") / "h")))
    # a 5-minute promise leaves compounds uncovered: their popups name the nearest station
    settings = Settings(thresholds_min=(5.0, 10.0), gap_minutes=5.0)
    coverage = compute_coverage_layers(street, settings=settings)
    assert len(coverage.uncovered_compounds) > 0
    grids = divide(street, settings=Settings())
    sites = gpd.GeoDataFrame(
        {"site_id": [hostile("n1")], "name": [hostile("site")], "households_gained": [80]},
        geometry=[Point(X0 + 900, Y0 + 100)],
        crs=CRS,
    )
    return street, coverage, grids, sites


def _map(data: Run, **kw: Any) -> Any:
    street, coverage, grids, sites = data
    return red_map(
        street, coverage=coverage, grids=grids.grids, sites=sites, layers=ALL_LAYERS, **kw
    )


def test_exported_redmap_html_escapes_every_text_field(run: Run) -> None:
    street, coverage, grids, sites = run
    page = _decoded(standalone_html(_map(run)))
    assert_escaped(page)
    shown = {
        "street name (title)": street.name,
        "data credit": street.attribution,
        "community name": street.communities["name"].iloc[0],
        "community code": street.communities["code"].iloc[0],
        # grids name their community (not its id) since issue 19 item 6
        "community name (grid)": grids.grids["community"].iloc[0],
        "compound name": street.compounds["name"].iloc[0],
        "building name": street.buildings["name"].iloc[0],
        "road name (major road)": street.roads.loc[
            street.roads["highway"] == "primary", "name"
        ].iloc[0],
        "land-use name": street.landuse["name"].iloc[0],
        "land-use kind": street.landuse["kind"].iloc[1],
        "river name": street.barriers["name"].iloc[0],
        "railway name": street.barriers["name"].iloc[1],
        "station name": street.stations["name"].iloc[0],
        "opening hours": street.stations["opening_hours"].iloc[0],
        "nearest station": coverage.buildings["station_name"].iloc[0],
        "site name": sites["name"].iloc[0],
    }
    missing = [what for what, value in shown.items() if html_text(value) not in page]
    assert missing == [], missing


def test_station_without_name_shows_its_escaped_id(run: Run) -> None:
    street, coverage, _grids, _sites = run
    nameless = street.stations.assign(name="")
    m = red_map(street.with_layers(stations=nameless), coverage=coverage)
    page = _decoded(m.get_root().render())
    assert_escaped(page)
    assert html_text(street.stations["station_id"].iloc[0]) in page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_app_map_payload_is_escaped(run: Run, lang: str) -> None:
    """What the app sends to its map frame (streamlit-folium) holds no raw payload."""
    payload = map_payload(_map(run, lang=lang))
    assert_escaped(payload["header"] + payload["html"] + payload["script"])


def test_editor_map_is_escaped(run: Run) -> None:
    street, _coverage, grids, _sites = run
    atoms = gpd.GeoDataFrame(
        {"atom_id": [1], "grid_id": [hostile("grid")], "households": [40]},
        geometry=[street.compounds.geometry.iloc[0]],
        crs=CRS,
    )
    m = red_map(
        street,
        grids=grids.grids.assign(grid_id=[hostile(f"g{i}") for i in range(len(grids.grids))]),
        atoms=atoms,
        highlight_atoms=["1"],
        draw_tool=True,
        title=hostile("title"),
        layers=("boundary", "grids", "atoms", "stations"),
    )
    page = _decoded(m.get_root().render())
    assert_escaped(page)
    assert html_text(hostile("grid")) in page and html_text(hostile("title")) in page


def test_html_text_escapes_html_and_template_literal_syntax() -> None:
    assert html_text(PAYLOADS[0]) == "&lt;img src=x onerror=alert(1)&gt;"
    assert html_text(PAYLOADS[2]) == "&quot;&gt;&lt;svg onload=alert(1)&gt;"
    # folium builds tooltips and popups in JavaScript template literals: ` and ${ and \
    assert html_text("`${alert(1)}`") == "&#96;&#36;{alert(1)}&#96;"
    assert html_text("a\\x") == "a&#92;x"
    assert html_text("5 > 3 & 'x'") == "5 &gt; 3 &amp; &#x27;x&#x27;"
    assert html_text(12.5) == "12.5"
    assert html_text("中文 名称") == "中文 名称"


def test_map_of_a_street_without_buildings() -> None:
    """Review row S01: no buildings (with coverage) drew a traceback (merge on str/float)."""
    street = tiny_street()
    empty = street.buildings.iloc[0:0]
    bare = street.with_layers(buildings=empty)
    coverage = coverage_layers(
        CRS,
        buildings=pd.DataFrame({"building_id": [], "time_min": [], "station_name": []}),
    )
    page = _decoded(red_map(bare, coverage=coverage, layers=ALL_LAYERS).get_root().render())
    assert "花园小区" in page  # compounds still drawn, with 0 households
