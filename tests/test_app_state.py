"""Session state set-up and the view mirrored in the URL (planner/app/state.py)."""

from __future__ import annotations

from typing import Any

from planner.app.state import DEFAULTS, init_state, settings_from_state, view_query
from planner.settings import Settings


def test_defaults_then_url_view_on_first_run_only() -> None:
    state: dict[str, Any] = {}
    init_state(
        state,
        {
            "page": "editor",
            "lang": "en",
            "basemap": "osm",
            "layers": "boundary,stations,nonsense",
            "grid": "g7",
        },
    )
    assert state["page"] == "editor" and state["lang"] == "en" and state["basemap"] == "osm"
    assert state["layers"] == ["boundary", "stations"]  # unknown layer dropped
    assert state["selected_grid"] == "g7"
    assert set(DEFAULTS) <= set(state)
    state["page"] = "overview"
    init_state(state, {"page": "editor"})  # later runs keep the user's choice
    assert state["page"] == "overview"


def test_bad_url_values_are_ignored_and_view_round_trips() -> None:
    state: dict[str, Any] = {}
    init_state(state, {"page": "nope", "lang": "fr", "basemap": "google"})
    assert state["page"] == DEFAULTS["page"] and state["lang"] == "zh"
    assert set(view_query(state)) == {"project"}  # default view: only the project id
    state.update(page="siting", lang="en", selected_grid="g1")
    q = view_query(state)
    fresh: dict[str, Any] = {}
    init_state(fresh, q)
    assert (fresh["page"], fresh["lang"], fresh["selected_grid"]) == ("siting", "en", "g1")


def test_settings_from_state_keeps_target_in_range() -> None:
    state: dict[str, Any] = {}
    init_state(state, {})
    state.update(
        walk_speed_kmh=4.5,
        thresholds_min=[15.0, 5.0],
        grid_min_households=350,
        grid_max_households=600,
    )
    s = settings_from_state(state)
    assert s.walk_speed_kmh == 4.5 and s.thresholds_min == (5.0, 15.0)
    assert 350 <= s.grid_target_households <= 600


def test_project_id_comes_from_the_url_or_is_new() -> None:
    a: dict[str, Any] = {}
    b: dict[str, Any] = {}
    init_state(a, {})
    init_state(b, {})
    assert a["project"] != b["project"]  # two new tabs: two projects, two autosaves
    again: dict[str, Any] = {}
    init_state(again, view_query(a))  # a reload keeps the URL: the same project
    assert again["project"] == a["project"]
    bad: dict[str, Any] = {}
    init_state(bad, {"project": "../../etc"})
    assert bad["project"] != "../../etc" and len(bad["project"]) == 12


def test_sidebar_thresholds_without_15_keep_a_valid_gap_threshold() -> None:
    s = settings_from_state({**DEFAULTS, "thresholds_min": [10.0, 5.0, 10.0]})
    assert s.thresholds_min == (5.0, 10.0) and s.gap_minutes == 10.0
    assert settings_from_state({**DEFAULTS, "thresholds_min": [20.0, 15.0]}).gap_minutes == 15.0


def test_a_link_opens_the_project_read_only_and_a_copy_is_owned() -> None:
    from planner.app.state import can_edit, take_copy

    a: dict[str, Any] = {}
    init_state(a, {})
    assert can_edit(a)  # a session's own first project
    link = view_query(a)
    assert "owned_projects" not in link and set(link.values()) == {a["project"]}
    b: dict[str, Any] = {}
    init_state(b, link)
    assert b["project"] == a["project"] and not can_edit(b)
    take_copy(b)
    assert can_edit(b) and b["project"] != a["project"]
    assert a["project"] not in b["owned_projects"]
    assert view_query(b)["project"] == b["project"]


def test_the_sidebar_settings_travel_in_the_link() -> None:
    a: dict[str, Any] = {}
    init_state(a, {})
    a.update(
        walk_speed_kmh=3.6,
        thresholds_min=[10.0, 5.0],
        grid_min_households=150,
        grid_max_households=600,
    )
    link = view_query(a)
    assert link["walk_speed_kmh"] == "3.6" and link["thresholds_min"] == "10,5", link
    assert (link["grid_min_households"], link["grid_max_households"]) == ("150", "600")
    b: dict[str, Any] = {}
    init_state(b, link)
    assert settings_from_state(b) == settings_from_state(a)
    assert settings_from_state(b).gap_minutes == 10.0


def test_settings_in_a_link_the_sidebar_cannot_show_leave_every_default() -> None:
    for bad in (
        {"walk_speed_kmh": "fast"},
        {"walk_speed_kmh": "9"},  # valid Settings, but beyond the sidebar's 2-7 km/h
        {"walk_speed_kmh": "nan"},
        {"thresholds_min": "7"},
        {"thresholds_min": ""},
        {"grid_min_households": "900", "grid_max_households": "300", "walk_speed_kmh": "5"},
        {"grid_max_households": "1e9"},
    ):
        state: dict[str, Any] = {}
        init_state(state, bad)
        assert {k: state[k] for k in bad} == {k: DEFAULTS[k] for k in bad}, bad
        assert settings_from_state(state) == settings_from_state(DEFAULTS)


def test_service_kinds_are_a_sidebar_setting_that_travels_in_the_link() -> None:
    a: dict[str, Any] = {}
    init_state(a, {})
    assert settings_from_state(a).service_kinds == Settings().service_kinds
    a["service_kinds"] = ["elderly_day_care", "community_station"]
    link = view_query(a)
    assert link["service_kinds"] == "community_station,elderly_day_care"
    b: dict[str, Any] = {}
    init_state(b, link)
    assert settings_from_state(b).service_kinds == ("community_station", "elderly_day_care")
    assert settings_from_state(b) == settings_from_state(a)
    for bad in ("canteen", "", "community_station,canteen"):
        c: dict[str, Any] = {}
        init_state(c, {"service_kinds": bad})
        assert c["service_kinds"] == DEFAULTS["service_kinds"], bad
