"""The red map builder (planner/maps/redmap.py) on a tiny hand-made street."""

from __future__ import annotations

import re

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from planner.maps.redmap import basemap_notice, red_map, station_icon_svg
from tests.app_street import CRS, X0, Y0, tiny_street
from tests.map_coverage import coverage_layers


def _unescape(text: str) -> str:
    """Rendered maps carry GeoJSON properties as JSON \\uXXXX escapes; decode them."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)


def _html(**kw: object) -> str:
    return _unescape(red_map(tiny_street(), **kw).get_root().render())  # type: ignore[arg-type]


def test_stations_legend_and_notes_in_chinese_by_default() -> None:
    html = _html()
    assert "街道党群服务中心" in html and "红色物业" in html  # legend labels by kind
    assert "合成数据" in html  # synthetic note for a made-up street
    assert "步行速度假设：4.0 km/h" in html
    assert html.count("<svg") >= 3  # one inline SVG icon per station (+ legend)


def test_english_labels() -> None:
    html = _html(lang="en", walk_speed_kmh=4.5)
    assert "Red property management" in html and "Walking speed assumed: 4.5 km/h" in html
    assert "Synthetic data" in html


def test_no_synthetic_note_for_real_data_and_osm_attribution() -> None:
    s = tiny_street(synthetic=False)
    s.attribution = "© OpenStreetMap contributors"
    html = red_map(s).get_root().render()
    assert "合成数据" not in html
    assert "© OpenStreetMap contributors" in html


def test_basemaps() -> None:
    assert "tile.openstreetmap.org" not in _html()  # none: no tiles at all
    assert "tile.openstreetmap.org" in _html(basemap="osm")
    no_key = _html(basemap="tianditu")
    assert "tianditu.gov.cn" not in no_key and "密钥" in no_key
    assert "tk=abc123" in _html(basemap="tianditu", tianditu_key="abc123")
    assert "autonavi.com" in _html(basemap="amap")
    assert basemap_notice("tianditu") is not None and basemap_notice("none") is None
    with pytest.raises(ValueError, match="basemap"):
        red_map(tiny_street(), basemap="google")  # type: ignore[arg-type]


def test_amap_shifts_layers_to_gcj02() -> None:
    s = tiny_street()
    wgs = red_map(s)
    gcj = red_map(s, basemap="amap")
    (wy0, wx0), _ = wgs.get_bounds()
    (gy0, gx0), _ = gcj.get_bounds()
    # GCJ-02 near Beijing is a few hundred metres east/north of WGS84
    assert 0.002 < gx0 - wx0 < 0.01 and 0.0005 < gy0 - wy0 < 0.01


def test_coverage_grids_and_sites_are_drawn() -> None:
    s = tiny_street()
    circles = gpd.GeoDataFrame(
        {"threshold_min": [5.0, 10.0, 15.0]},
        geometry=[
            box(X0 + 400, Y0 + 300, X0 + 600, Y0 + 500),
            box(X0 + 200, Y0 + 200, X0 + 800, Y0 + 600),
            box(X0, Y0, X0 + 900, Y0 + 700),
        ],
        crs=CRS,
    )
    gaps = gpd.GeoDataFrame(
        {"households": [120]}, geometry=[box(X0 + 900, Y0, X0 + 1000, Y0 + 800)], crs=CRS
    )
    # k4 is not covered; its farthest building is 17.5 minutes from a station
    times = {"k1": 4.0, "k2": 8.0, "k3": 9.0, "k4": 17.5}
    buildings = pd.DataFrame(
        {
            "building_id": [f"{k}-b{i}" for k in times for i in range(5)],
            "time_min": [times[k] for k in times for _ in range(5)],
            "station_name": ["街道党群服务中心"] * 20,
        }
    )
    grids = gpd.GeoDataFrame(
        {
            "grid_id": ["g1", "g2"],
            "code": ["10000011010800100101", "10000011010800100201"],
            "community_id": ["c1", "c2"],
            "households": [500, 500],
        },
        geometry=[box(X0, Y0, X0 + 500, Y0 + 800), box(X0 + 500, Y0, X0 + 1000, Y0 + 800)],
        crs=CRS,
    )
    sites = gpd.GeoDataFrame(
        {"site_id": ["n1"], "name": ["新站点1"], "households_gained": [210]},
        geometry=[Point(X0 + 800, Y0 + 600)],
        crs=CRS,
    )
    html = (
        red_map(
            s,
            coverage=coverage_layers(
                CRS,
                circles=circles,
                gaps=gaps,
                buildings=buildings,
                uncovered_compounds=pd.DataFrame({"compound_id": ["k4"]}),
            ),
            grids=grids,
            sites=sites,
        )
        .get_root()
        .render()
    )
    assert "15 分钟服务圈" in html and "服务盲区" in html and "未覆盖小区" in html
    assert "00101" in html and "00201" in html  # short grid labels
    assert "新站点1" in html and "建议新站点" in html
    assert "17.5" in html  # walking time in the uncovered compound's popup


def test_input_not_mutated_and_coordinates_rounded() -> None:
    s = tiny_street()
    before = s.buildings.copy()
    html = red_map(s).get_root().render()
    pd.testing.assert_frame_equal(s.buildings, before)
    assert ".1234567" not in html  # no more than 6 decimals written (spot check)


def test_station_icon_svg_kinds() -> None:
    assert "中" in station_icon_svg("street_centre")
    assert ">C<" in station_icon_svg("street_centre", lang="en")
    assert "<rect" in station_icon_svg("red_office")


def test_pipeline_coverage_layers_union_view_and_uncovered_table() -> None:
    """planner.pipeline's CoverageLayers: per-station + union circles, uncovered compounds."""
    s = tiny_street()
    big = box(X0, Y0, X0 + 900, Y0 + 700)
    circles = gpd.GeoDataFrame(
        {
            "view": ["station", "station", "union"],
            "minutes": [15.0, 15.0, 15.0],
            "threshold_min": [15.0, 15.0, 15.0],
            "station_id": ["st1", "st2", ""],
        },
        geometry=[box(X0, Y0, X0 + 10, Y0 + 10), box(X0, Y0, X0 + 20, Y0 + 20), big],
        crs=CRS,
    )
    buildings = pd.DataFrame(
        {
            "building_id": [f"k4-b{i}" for i in range(5)],
            "time_min": [16.0, 17.0, 18.25, 19.0, 20.0],
            "station_id": ["st3"] * 5,
            "station_name": ["红色物业点"] * 5,
        }
    )
    unc = pd.DataFrame(
        {
            "compound_id": ["k4"],
            "households_uncovered": [300],
            "time_min": [16.0],
            "nearest_station_name": ["红色物业点"],
        }
    )
    cov = coverage_layers(CRS, circles=circles, buildings=buildings, uncovered_compounds=unc)
    m = red_map(s, coverage=cov)
    html = _unescape(m.get_root().render())
    assert "未覆盖小区" in html and "和平小区" in html
    assert "20.0" in html  # the compound's farthest building: 20 minutes
    # only the union circle is drawn (one polygon for 15 minutes, not the station views)
    assert html.count('"view"') == 0


def test_legend_can_start_folded() -> None:
    assert "<details open>" in _html()  # the red map page: open
    folded = _html(legend_open=False)
    assert "<details open>" not in folded and "<details><summary>" in folded
    assert "步行速度假设" in folded  # the notes stay visible below the folded legend


def test_map_panels_let_clicks_through_to_the_map() -> None:
    """The legend, its notes, the title and the north arrow take no pointer (a grid
    under them is clicked and hovered on the map); only the legend's fold switch does."""
    html = _html()
    rules = dict(re.findall(r"([^{}]+)\{([^{}]*)\}", html.split("<style>", 1)[1]))
    none = [sel for sel, body in rules.items() if "pointer-events:none" in body]
    assert any(".leaflet-control.rm-legend" in sel for sel in none), none
    assert any(".leaflet-control.rm-title" in sel for sel in none), none
    auto = [sel for sel, body in rules.items() if "pointer-events:auto" in body]
    assert any(sel.strip() == ".leaflet-control.rm-legend summary" for sel in auto), auto
