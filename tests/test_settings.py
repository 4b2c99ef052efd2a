import pytest

from planner.errors import SettingsError
from planner.settings import Settings


def test_defaults_follow_the_norms() -> None:
    s = Settings()
    assert s.walk_speed_kmh == 4.0
    # 15 minutes at 4 km/h is GB 50180's 1,000 m
    assert s.walk_m_per_min * 15 == pytest.approx(1000.0)
    assert s.thresholds_min == (5.0, 10.0, 15.0)
    assert (s.grid_min_households, s.grid_target_households, s.grid_max_households) == (
        200,
        300,
        500,
    )
    assert s.floor_area_per_100_households_m2 == 30.0


def test_unknown_key_is_refused() -> None:
    with pytest.raises(SettingsError, match="unknown setting 'walk_speed'"):
        Settings.from_dict({"walk_speed": 5})


def test_out_of_range_values_are_all_reported() -> None:
    with pytest.raises(SettingsError, match=r"walk_speed_kmh=0.1.*grid_target_households"):
        Settings(walk_speed_kmh=0.1, grid_target_households=1000)


def test_from_dict_sorts_thresholds() -> None:
    assert Settings.from_dict({"thresholds_min": [15, 5]}).thresholds_min == (5.0, 15.0)


def test_thresholds_sorted_and_each_once_whatever_the_entry_point() -> None:
    assert Settings(thresholds_min=(15, 5, 15)).thresholds_min == (5.0, 15.0)
    assert Settings().with_(thresholds_min=(5.0, 5.0, 15.0)).thresholds_min == (5.0, 15.0)
    assert Settings.from_dict({"thresholds_min": [15, 15.0001, 15]}).thresholds_min == (15.0,)


def test_gap_minutes_must_be_a_threshold() -> None:
    assert Settings().gap_minutes == 15.0  # GB 50180's 15-minute life circle
    assert Settings(thresholds_min=(5, 10), gap_minutes=10).gap_minutes == 10.0
    with pytest.raises(SettingsError, match=r"gap_minutes=15.0: must be one of the thresholds"):
        Settings(thresholds_min=(5, 10))
    with pytest.raises(SettingsError) as info:
        Settings(thresholds_min=(0,))
    # a bad threshold is one problem, not also a missing gap threshold
    assert [name for name, _v, _r in info.value.problems] == ["thresholds_min"]


def test_service_kinds_are_station_kinds() -> None:
    with pytest.raises(
        SettingsError, match=r"unknown station kind\(s\) party; .*grid_station \(网格党群服务站\)"
    ):
        Settings(service_kinds=("party", "grid_station"))


def test_every_setting_declares_the_step_that_reads_it() -> None:
    from dataclasses import fields

    from planner.settings import SETTING_STEPS

    names = [f.name for f in fields(Settings)]
    missing = [n for n in names if n not in SETTING_STEPS]
    assert not missing, f"add these settings to SETTING_STEPS in planner/settings.py: {missing}"
    assert not set(SETTING_STEPS) - set(names), "SETTING_STEPS names settings that do not exist"
    assert set(SETTING_STEPS.values()) <= {"street", "grids", "coverage", "siting", "output"}


def test_grid_and_coverage_settings_are_apart() -> None:
    from planner.settings import settings_for, settings_read_by

    grids, coverage = settings_read_by("grids"), settings_read_by("coverage")
    # what the app kept by hand before: the sidebar's grid bounds and walking settings
    assert {"grid_min_households", "grid_max_households", "grid_target_households"} <= grids
    assert {"walk_speed_kmh", "thresholds_min", "gap_minutes", "circle_buffer_m"} <= coverage
    assert not {"grid_min_households", "code_county"} & coverage
    assert not {"walk_speed_kmh", "service_kinds"} & grids
    assert "margin_m" in grids & coverage  # read while loading: both depend on it
    base = Settings()
    walk = base.with_(walk_speed_kmh=3.6, thresholds_min=(10.0, 20.0), gap_minutes=20.0)
    bounds = base.with_(grid_min_households=100, grid_max_households=900)
    assert settings_for(walk, "grids") == settings_for(base, "grids")
    assert settings_for(walk, "coverage") == walk  # nothing coverage reads is reset
    assert settings_for(bounds, "coverage") == settings_for(base, "coverage")
    assert settings_for(bounds, "grids").grid_max_households == 900
    assert settings_for(base.with_(margin_m=500.0), "grids").margin_m == 500.0
