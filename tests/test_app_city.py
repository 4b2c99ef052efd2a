"""The app's city page (planner/app/city_page.py): a city output folder's street table
and map, and a street opened in the other pages (issue 17 item 7)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from planner.app import city_page
from planner.app import services as app_services
from planner.city.run import CITY_FILE
from tests.test_service_completeness import _facilities_street

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def _city_folder(path: Path) -> Path:
    """A city output folder as the city command writes it (the table, city.json, map)."""
    path.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {
            "street_code": ["001", "002", "003"],
            "name": ["甲街道", "乙街道", "丙街道"],
            "status": ["ok", "reused", "failed"],
            "households": [4000, 5000, None],
            "households_within_15_min_pct": [91.5, 78.25, None],
            "gaps": [2, 5, None],
            "grids": [12, 14, None],
            "rules_ok": [True, False, None],
            "error": ["", "", "[streets.geojson, street 003] no UTM zone"],
        }
    ).to_csv(path / "city_streets.csv", index=False, encoding="utf-8-sig")
    (path / CITY_FILE).write_text(json.dumps({"source": "demo-city:3", "margin_m": 1000.0}))
    (path / "city_redmap.html").write_text("<html><body>城市红色地图</body></html>", "utf-8")
    return path


def test_city_folder_read_and_table_labelled(tmp_path: Path) -> None:
    city = city_page.read_city_folder(_city_folder(tmp_path / "c"))
    assert isinstance(city, city_page.CityFolder)
    assert list(city.streets["street_code"]) == ["001", "002", "003"]  # codes stay text
    table = city_page.street_table(city.streets, "zh")
    assert list(table.columns[:5]) == ["街道编码", "街道名称", "状态", "户数", "15分钟覆盖率（%）"]
    assert "Within 15 min (%)" in city_page.street_table(city.streets, "en").columns
    assert "城市红色地图" in city.map_html
    (tmp_path / "c" / CITY_FILE).unlink()
    assert city_page.read_city_folder(tmp_path / "c") == CITY_FILE
    assert city_page.read_city_folder(tmp_path / "nothing") == "city_streets.csv"


@pytest.fixture
def fake_loader(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict[str, Any]]:
    monkeypatch.setenv("PLANNER_AUTOSAVE_DIR", str(tmp_path / "autosave"))
    asked: list[dict[str, Any]] = []

    def load(source: dict[str, Any], settings: Any) -> Any:
        asked.append(dict(source))
        return _facilities_street()

    monkeypatch.setattr(app_services, "load", load)
    return asked


def test_city_page_shows_the_table_and_opens_a_street(
    fake_loader: list[dict[str, Any]], tmp_path: Path
) -> None:
    folder = _city_folder(tmp_path / "city")
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.clear()
    at.query_params["page"] = "city"
    at.run(timeout=90)
    assert not at.exception, [e.value for e in at.exception]
    assert any("全市各街道" in s.value for s in at.subheader)
    at.text_input(key="w_city_dir").set_value(str(tmp_path / "nowhere")).run(timeout=90)
    assert any("city_streets.csv" in e.value for e in at.error)
    at.text_input(key="w_city_dir").set_value(str(folder)).run(timeout=90)
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = at.dataframe[0].value
    assert list(shown["街道编码"]) == ["001", "002", "003"]
    assert any("003" in w.value for w in at.warning)  # the failed street is named
    assert at.selectbox(key="w_city_street").options == ["001 甲街道", "002 乙街道"]
    at.selectbox(key="w_city_street").set_value("002")
    at.button(key="w_city_open").click().run(timeout=90)
    assert not at.exception, [e.value for e in at.exception]
    opened = {"kind": "city", "city": str(folder.resolve()), "code": "002"}
    assert at.session_state["source"] == opened
    at.run(timeout=90)  # the next run loads the opened street for every page
    assert fake_loader[-1] == opened


def test_the_app_loads_a_street_of_a_city_folder_as_the_city_run_did(tmp_path: Path) -> None:
    """``{"kind": "city", ...}`` loads street 002 of the folder's city (``city.json``:
    demo-city:3, margin 1000 m) exactly as ``demo-city:3/2`` (the city run's share)."""
    from planner.load.sources import load_street
    from planner.settings import Settings

    folder = _city_folder(tmp_path / "city")
    mine = app_services.load({"kind": "city", "city": str(folder), "code": "002"}, Settings())
    theirs = load_street("demo-city:3/2", settings=Settings())
    assert mine.name == theirs.name
    pd.testing.assert_series_equal(
        mine.buildings["households"].reset_index(drop=True),
        theirs.buildings["households"].reset_index(drop=True),
    )
    with pytest.raises(Exception, match="no street 009"):
        app_services.load({"kind": "city", "city": str(folder), "code": "009"}, Settings())
