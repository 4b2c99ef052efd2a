"""Workload balance (issue 14 item 2): the load per building and grid, bounds on
households, on the load or on both, and the incidents file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from planner.errors import InputError, SettingsError
from planner.grids.division import divide
from planner.grids.workload import building_load, read_incidents
from planner.settings import Settings
from tests.grid_streets import block_street


@pytest.fixture(scope="module")
def street():  # type: ignore[no-untyped-def]
    st = block_street(households=[30] * 400, community_x=None, xs=(), ys=())
    b = st.buildings
    # a register column: elderly living alone, 5 in every tenth building
    b["elderly_alone"] = np.where(np.arange(len(b)) % 10 == 0, 5, 0)
    b.loc[b.index[:3], "kind"] = "shop"
    return st


def test_default_load_is_the_households(street) -> None:  # type: ignore[no-untyped-def]
    res = divide(street, settings=Settings())
    assert (res.grids["load"] == res.grids["households"]).all()
    bl = building_load(street, Settings())
    assert (bl["load"] == bl["households"]).all()
    assert bl["business"].sum() == 3  # the three shops, counted but weighted 0


def test_load_counts_weighted_units(street) -> None:  # type: ignore[no-untyped-def]
    s = Settings(
        load_weight_business=10, load_weight_special=2, load_special_columns=("elderly_alone",)
    )
    bl = building_load(street, s)
    b = street.buildings
    expected = b["households"] + 10 * b["kind"].eq("shop") + 2 * b["elderly_alone"]
    assert np.allclose(bl["load"], expected)
    with pytest.raises(InputError, match="no column 'carers'"):
        building_load(street, s.with_(load_special_columns=("carers",)))


def test_bounds_on_load_and_on_both(street) -> None:  # type: ignore[no-untyped-def]
    s = Settings(
        load_weight_special=20,
        load_special_columns=("elderly_alone",),
        grid_bound_on="load",
        grid_min_load=250,
        grid_max_load=450,
    )
    res = divide(street, settings=s)
    assert res.report.ok, res.report.to_text()
    names = [c.name for c in res.report.checks]
    assert "load_in_range" in names and "households_in_range" not in names
    assert (res.grids["load"] > res.grids["households"]).any()
    assert res.grids["load"].between(250, 450).all()
    both = divide(street, settings=s.with_(grid_bound_on="both"))
    names = [c.name for c in both.report.checks]
    assert "load_in_range" in names and "households_in_range" in names
    assert both.report.ok, both.report.to_text()
    assert both.grids["households"].between(200, 500).all()
    assert both.grids["load"].between(250, 450).all()


def test_load_bound_settings_are_validated() -> None:
    with pytest.raises(SettingsError, match="grid_min_load"):
        Settings(grid_bound_on="load")
    assert (
        Settings(grid_bound_on="load", grid_min_load=100, grid_max_load=300).grid_target_load == 200
    )


def test_incidents_by_lonlat_and_by_building(street, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    b = street.buildings
    to_wgs = Transformer.from_crs(street.crs, "EPSG:4326", always_xy=True)
    c = shapely.centroid(b.geometry.values[:2])
    lon, lat = to_wgs.transform(shapely.get_x(c), shapely.get_y(c))
    path = tmp_path / "incidents.csv"
    pd.DataFrame({"lon": [lon[0], lon[0], lon[1]], "lat": [lat[0], lat[0], lat[1]]}).to_csv(
        path, index=False
    )
    counts = read_incidents(path, street)
    assert counts.iloc[0] == 2 and counts.iloc[1] == 1 and counts.sum() == 3
    by_id = tmp_path / "by_id.csv"
    pd.DataFrame({"楼栋编号": [b["building_id"].iloc[5]] * 4}).to_csv(by_id, index=False)
    assert read_incidents(by_id, street).iloc[5] == 4
    s = Settings(load_weight_incident=25)
    bl = building_load(street, s, incidents=read_incidents(by_id, street))
    assert bl["load"].iloc[5] == b["households"].iloc[5] + 100
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"building_id": ["nope"]}).to_csv(bad, index=False)
    with pytest.raises(InputError, match="row 2: building 'nope' is not in the street"):
        read_incidents(bad, street)
    none = tmp_path / "none.csv"
    pd.DataFrame({"when": ["2026-01-01"]}).to_csv(none, index=False)
    with pytest.raises(InputError, match="neither lon/lat nor building_id"):
        read_incidents(none, street)
