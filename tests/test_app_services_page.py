"""The facilities page (planner/app/services_page.py): its tables and the page in AppTest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from planner.app import services as app_services
from planner.app import services_page as page
from planner.coverage.layers import compute_coverage_layers
from planner.settings import Settings
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
