"""The facilities page (planner/app/services_page.py): its tables and the page in AppTest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import streamlit as st
from streamlit.testing.v1 import AppTest

from planner.app import project as app_project
from planner.app import services as app_services
from planner.app import services_page as page
from planner.coverage.layers import compute_coverage_layers
from planner.coverage.whatif import parse_scenario, run_whatif
from planner.errors import InputError
from planner.schema import SERVICE_KINDS
from planner.settings import Settings
from planner.street import Street
from tests.test_service_completeness import KINDS, _facilities_street

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_tables_show_the_norm_the_stations_and_the_circles() -> None:
    st = _facilities_street()
    st.stations["floor_area_m2"] = [60.0]
    layers = compute_coverage_layers(st, settings=Settings(service_catalogue=KINDS))
    stations = page.station_table(layers, lang="zh")
    # S1 at 0 m reaches b100, b450, b900 (60 households): 100 x 60 / 60 = 100 m² per 100
    assert stations["15 分钟内户数"].tolist() == [60]
    assert stations["每百户可达面积（m²）"].tolist() == [100.0]
    assert stations["超负荷站点"].tolist() == ["否"]
    circles = page.circle_table(layers, lang="en")
    assert "Quarter-hour party-building circle" in circles.columns
    assert page.needs_table(layers).empty  # no register with ages


@pytest.fixture
def fake_loader(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PLANNER_AUTOSAVE_DIR", str(tmp_path / "autosave"))

    def load(source: dict[str, Any], settings: Any) -> Any:
        return _facilities_street()  # a street with a walking network and facilities

    monkeypatch.setattr(app_services, "load", load)


def test_facilities_page_runs_in_both_languages(fake_loader: None) -> None:
    st.cache_data.clear()  # an earlier test's street must not be served from the cache
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.clear()
    at.query_params["page"] = "facilities"
    at.run(timeout=90)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert any("服务圈完整度" in s.value for s in at.subheader)
    assert len(at.dataframe) >= 3
    at.query_params["lang"] = "en"
    at.sidebar.radio(key="w_page_zh").set_value("facilities")
    at.run(timeout=90)
    assert not at.exception


def _lonlat(street: Street, x: float, y: float) -> tuple[float, float]:
    p = gpd.GeoSeries([shapely.Point(x, y)], crs=street.crs).to_crs(4326).iloc[0]
    return round(float(p.x), 6), round(float(p.y), 6)


#: A community station at x = 1,900 m: b1400 (40 households) and b1900 (50) come within
#: 15 minutes (1,000 m at 4 km/h) of a party-mass station; b1900 also within 5 minutes
#: (333 m) of a community service. Nothing else changes.
def _new_station(street: Street) -> dict[str, Any]:
    lon, lat = _lonlat(street, 1900, 0)
    values = {
        "station_id": "W1",
        "name": "东站",
        "kind": "community_station",
        "lon": lon,
        "lat": lat,
        "floor_area_m2": None,
        "poi_id": "ignored",
    }
    return page.change_item("add_station", values)


def test_whatif_tables_name_the_households_who_gain() -> None:
    street = _facilities_street()
    item = _new_station(street)
    assert set(item["add_station"]) == {"station_id", "name", "kind", "lon", "lat"}
    assert page.change_text(item).startswith("新增站点 · W1 · 东站 · ")
    settings = Settings(service_catalogue=KINDS)
    w = app_services.whatif_for(street, [item], settings, name="东站")
    # the same path as the whatif command: equal to the library's own run
    lib = run_whatif(street, parse_scenario({"changes": [item]}), settings=settings)
    pd.testing.assert_frame_equal(w.by_area, lib.by_area)
    assert w.summary["households_gaining_coverage"] == 90
    assert w.summary["households_gaining_a_kind"] == 90
    assert w.summary["households_losing_coverage"] == 0
    people = page.whatif_household_table(w, lang="zh")
    assert people["建筑"].tolist() == ["b1900", "b1400"]  # most households first
    assert people["覆盖变化"].tolist() == ["获得覆盖", "获得覆盖"]
    assert SERVICE_KINDS["party_mass"].zh in people["新增可达"].iloc[1]
    assert SERVICE_KINDS["community_service"].zh in people["新增可达"].iloc[0]
    areas = page.whatif_area_table(w, lang="en")
    street_row = areas.iloc[0]
    assert street_row["Community"] == "Whole street"
    assert street_row["Households within 15 min · Before"] == 60
    assert street_row["Households within 15 min · After"] == 150
    stations = page.whatif_station_table(w, lang="en").set_index("Name")
    assert np.isnan(stations.loc["东站", "Households within 15 minutes · Before"])
    # its catchment: b900 (1,000 m along the path), b1400 and b1900: 30 + 40 + 50
    assert stations.loc["东站", "Households within 15 minutes · After"] == 120
    # saved and compared: the street as it is beside the scenario's after
    record = page.scenario_record(w, [item])
    json.dumps(record)  # plain JSON for the project's work file
    saved: dict[str, Any] = {}
    assert app_project.add_scenario(saved, "东站", record, replace=False)
    table = page.comparison_table(saved, lang="en").set_index("Figure")
    assert table.loc["Households within 15 min", "Before"] == 60
    assert table.loc["Households within 15 min", "东站"] == 150
    assert table.loc["Households gaining coverage", "东站"] == 90
    assert table.loc["Changes", "东站"] == 1


def test_a_map_click_gives_the_point_and_nothing_else_does() -> None:
    assert page.clicked_point({"last_clicked": {"lat": 34.2101234, "lng": 108.9431239}}) == (
        108.943124,
        34.210123,
    )
    for reported in (None, {}, {"last_clicked": None}, {"last_clicked": {"lat": "x", "lng": 1}}):
        assert page.clicked_point(reported) is None


def test_a_bad_change_is_refused_naming_it() -> None:
    street = _facilities_street()
    gone = page.change_item("remove_station", {"station_id": "NOPE"})
    with pytest.raises(InputError, match=r"change 1: there is no station_id 'NOPE'"):
        app_services.whatif_for(street, [gone], Settings(service_catalogue=KINDS))


def test_whatif_in_the_app_is_saved_with_the_project_and_survives_reload_and_reopen(
    fake_loader: None,
) -> None:
    """Add a station by coordinates, compare, save: the scenario is in the project's
    work file, back after a reload (same project in the URL) and after reopening the
    project in a new tab, and shown side by side."""
    from planner.app.state import SETTING_KEYS

    st.cache_data.clear()
    street = _facilities_street()
    lon, lat = _lonlat(street, 1900, 0)
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.clear()
    at.query_params["page"] = "facilities"
    _ok(at)
    assert at.selectbox(key="wi_action").value == "add_station"
    at.number_input(key="wi_lon").set_value(lon)
    at.number_input(key="wi_lat").set_value(lat)
    at.text_input(key="wi_name").set_value("东站")
    at.button(key="wi_add").click()
    _ok(at)
    assert at.session_state["whatif_changes"][0]["add_station"]["station_id"] == "W1"
    at.button(key="wi_run").click()
    _ok(at)
    gains = {m.label: m.value for m in at.metric}
    assert gains["新增覆盖户数"] == "90", gains
    assert gains["失去覆盖户数"] == "0", gains
    at.button(key="wi_save").click()
    _ok(at)
    assert list(at.session_state["service_scenarios"]) == ["设施调整 1 项"]
    project = at.session_state["project"]
    # a reload: the same project in the URL, a new session
    again = AppTest.from_file(APP, default_timeout=90)
    again.query_params.clear()
    again.query_params["page"] = "facilities"
    again.query_params["project"] = project
    _ok(again)
    assert list(again.session_state["service_scenarios"]) == ["设施调整 1 项"]
    headers = [list(d.value.columns) for d in again.dataframe]
    assert any("设施调整 1 项" in h and "现状" in h for h in headers), headers
    # loaded back into the changes from the saved scenario
    again.button(key="wi_load").click()
    _ok(again)
    assert again.session_state["whatif_changes"][0]["add_station"]["lon"] == pytest.approx(lon)
    # reopened in a new tab of the same browser (the recent-projects list)
    tab: dict[str, Any] = {"browser_digest": app_project.owner_of(project)}
    assert app_project.open_recent(tab, project, SETTING_KEYS)
    record = tab["service_scenarios"]["设施调整 1 项"]
    assert record["summary"]["households_gaining_coverage"] == 90
    assert record["changes"][0]["add_station"]["name"] == "东站"


def _ok(at: AppTest) -> None:
    at.run(timeout=90)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_export_page_draws_the_completeness_layer_on_the_images_when_ticked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Issue 16 item 8: the export page's checkbox reaches the command line's one writer
    (``write_run_files`` -> ``write_map_images(completeness=...)``); off by default."""
    from tests.app_street import tiny_street

    monkeypatch.setenv("PLANNER_AUTOSAVE_DIR", str(tmp_path / "autosave"))
    monkeypatch.setattr(app_services, "load", lambda source, settings: tiny_street())
    asked: list[bool] = []

    def fake_images(street: Street, out: Path, **kw: Any) -> list[Path]:
        asked.append(bool(kw["completeness"]))
        return []

    monkeypatch.setattr("planner.maps.image.write_map_images", fake_images)
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.clear()
    at.query_params["page"] = "export"
    at.session_state["_export_images"] = True  # as after 生成地图 PNG 和 PDF
    _ok(at)
    box = at.checkbox(key="export_map_completeness")
    assert box.value is False and box.label.startswith("PNG/PDF 地图显示服务圈完整度")
    assert asked == [False]  # the printed map as it always was
    at.checkbox(key="export_map_completeness").check()
    _ok(at)
    assert asked == [False, True]
    labels = [b.label for b in at.get("download_button")]
    assert "grids.geojson" in labels and "summary.json" in labels, labels


def test_a_click_on_the_whatif_map_places_the_new_station(
    fake_loader: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 16 item 5, what-if "in the app on the map": the facilities page's map hands
    its click to the change form (the component is replaced by one that reports a click
    the way streamlit-folium does, through ``on_change``)."""
    import planner.app.map as app_map

    street = _facilities_street()
    lon, lat = _lonlat(street, 1900, 0)
    clicks: list[dict[str, Any]] = []
    real_show_map = app_map.show_map

    def clicking_map(payload: dict[str, Any], **kw: Any) -> Any:
        if kw.get("key") != "whatif_map":
            return real_show_map(payload, **kw)
        if clicks and kw.get("on_change") is not None:
            kw["on_change"](clicks.pop())
        return None

    monkeypatch.setattr(app_map, "show_map", clicking_map)
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.clear()
    at.query_params["page"] = "facilities"
    _ok(at)
    assert (at.number_input(key="wi_lon").value, at.number_input(key="wi_lat").value) != (
        lon,
        lat,
    )
    clicks.append({"last_clicked": {"lat": lat, "lng": lon}})
    _ok(at)
    assert at.number_input(key="wi_lon").value == pytest.approx(lon)
    assert at.number_input(key="wi_lat").value == pytest.approx(lat)
    at.button(key="wi_add").click()
    _ok(at)
    added = at.session_state["whatif_changes"][0]["add_station"]
    assert (added["lon"], added["lat"]) == pytest.approx((lon, lat))


def test_norm_table_per_community_matches_a_hand_computation() -> None:
    """Issue 16 item 7: the facilities page's floor-area norm per community. One
    community of 150 households; S1 (60 m²) reaches b100, b450, b900 (60 households):
    100 m² per 100 for those, 0 for b1400 and b1900 (90 households below 30); the
    household-weighted mean is 60 x 100 / 150 = 40; the community norm is
    max(500, 30 x 150 / 100) = 500 m² against 60 m² of station."""
    street = _facilities_street()
    street.stations["floor_area_m2"] = [60.0]
    b = street.buildings.assign(community_id="c1")
    comm = gpd.GeoDataFrame(
        {"community_id": ["c1"], "name": ["一社区"], "code": ["001"]},
        geometry=[shapely.box(*b.total_bounds).buffer(200)],
        crs=street.crs,
    )
    street = street.with_layers(buildings=b, communities=comm)
    layers = compute_coverage_layers(street, settings=Settings(service_catalogue=KINDS))
    row = page.norm_table(layers, lang="en").iloc[0]
    assert row["Community"] == "一社区" and row["Households"] == 150
    assert row["m² per 100 households in reach"] == pytest.approx(40.0)
    assert row["Below 30 m² per 100 households"] == "no"
    assert row["Households below the norm"] == 90
    assert row["Station floor area (m²)"] == 60.0 and row["Community norm (m²)"] == 500.0
    zh = page.norm_table(layers, lang="zh")
    assert zh.iloc[0].tolist()[:2] == ["一社区", 150]


def _bounded_street() -> Street:
    """The facilities street with a boundary and one community (siting needs the
    boundary for its network candidates; the grids need the community)."""
    street = _facilities_street()
    b = street.buildings.assign(community_id="c1")
    area = shapely.box(-100, -100, 2100, 100)
    return street.with_layers(
        buildings=b,
        boundary=gpd.GeoDataFrame(
            {"street_id": ["s1"], "name": ["线街"]}, geometry=[area], crs=street.crs
        ),
        communities=gpd.GeoDataFrame(
            {"community_id": ["c1"], "name": ["一社区"], "code": ["001"]},
            geometry=[area],
            crs=street.crs,
        ),
    )


def test_siting_page_sites_for_a_chosen_service_kind(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Issue 16 item 6 in the app: site one new kindergarten. The kind's own facilities
    are the "before" (阳光幼儿园 at 600 m reaches b450 and b900 within 5 minutes, 333 m:
    50 of 150 households); the new site reaches b1400 and b1900 (90 households), whose
    floor area at 30 m² per 100 households is 27 m² — as ``site --service-kind``."""
    monkeypatch.setenv("PLANNER_AUTOSAVE_DIR", str(tmp_path / "autosave"))
    monkeypatch.setattr(app_services, "load", lambda source, settings: _bounded_street())
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.clear()
    at.query_params["page"] = "siting"
    _ok(at)
    assert at.selectbox(key="siting_kind").value == ""  # party-mass stations by default
    kinds = ["", *Settings().service_catalogue]  # the page's options (labels in AppTest)
    at.selectbox(key="siting_kind").select_index(kinds.index("kindergarten"))
    at.number_input(key="siting_k").set_value(1)
    at.button(key="run_siting").click()
    _ok(at)
    assert at.session_state["siting_request"] == ["k", 1.0, "kindergarten"]
    assert any("选址对象：幼儿园（5 分钟" in c.value for c in at.caption), [
        c.value for c in at.caption
    ]
    sites = next(d.value for d in at.dataframe if "按范围内户数所需面积 m²" in d.value.columns)
    assert sites["步行范围内户数"].tolist() == [90.0]
    assert sites["按范围内户数所需面积 m²"].tolist() == [27.0]
    labels = {m.label: (m.value, m.delta) for m in at.metric}
    # 5-minute coverage of kindergartens: 50 -> 140 of 150 households (b100 stays out)
    assert labels["5 分钟覆盖"] == ("93.3%", "现状: 33.3%"), labels
    assert at.text_input(key="scenario_name_幼儿园 · 新增 1 处").value == "幼儿园 · 新增 1 处"
