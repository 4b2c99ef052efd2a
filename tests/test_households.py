"""Households where registers are missing: estimated as a planner would, and said so.

On the real Beijing extract (tests/data/beijing-haidian-xueyuanlu/, two thirds of the
buildings ``building=yes``) the buildings inside residential land get estimated
households, stated non-residential ones stay at 0, the rest are of unknown use; the
load report opens with the data-completeness table and its warning.
"""

from pathlib import Path

import pandas as pd
import pytest

from planner.load.sources import load_street
from planner.settings import Settings
from planner.street import HOUSEHOLD_SOURCES, Completeness, Street

REAL = Path(__file__).parent / "data" / "beijing-haidian-xueyuanlu"
NON_RESIDENTIAL = (
    "school",
    "university",
    "college",
    "hospital",
    "office",
    "commercial",
    "retail",
    "industrial",
    "transportation",
    "train_station",
)


@pytest.fixture(scope="module", params=["map.osm", "map.osm.pbf"])
def beijing(request: pytest.FixtureRequest) -> Street:
    return load_street(REAL / request.param)


def test_building_yes_inside_residential_land_is_estimated(beijing: Street) -> None:
    b = beijing.buildings
    yes_inside = (b["osm_building"] == "yes") & (b["compound_id"] != "")
    assert yes_inside.sum() >= 30
    assert (b.loc[yes_inside, "kind"] == "residential").all()
    assert (b.loc[yes_inside, "households"] >= 1).all()
    assert (b.loc[yes_inside, "households_source"] == "estimate").all()
    assert b.loc[yes_inside, "households"].sum() > 1000


def test_non_residential_kinds_stay_at_zero(beijing: Street) -> None:
    b = beijing.buildings
    non_res = b["osm_building"].isin(NON_RESIDENTIAL)
    assert non_res.sum() >= 25
    assert (b.loc[non_res, "households"] == 0).all()
    assert (b.loc[non_res, "households_source"] == "data").all()


def test_building_yes_outside_residential_land_is_unknown(beijing: Street) -> None:
    b = beijing.buildings
    yes_outside = (b["osm_building"] == "yes") & (b["compound_id"] == "")
    assert yes_outside.sum() >= 50
    assert (b.loc[yes_outside, "households"] == 0).all()
    assert (b.loc[yes_outside, "households_source"] == "unknown").all()


def test_completeness_table_adds_up_and_warns(beijing: Street) -> None:
    c = beijing.report.completeness
    assert c is not None
    b = beijing.buildings
    assert c.total_buildings == len(b) == beijing.report.counts["buildings"]
    assert c.total_households == beijing.report.households_total == b["households"].sum()
    for src in HOUSEHOLD_SOURCES:
        assert c.buildings[src] == (b["households_source"] == src).sum()
        assert c.households[src] == b.loc[b["households_source"] == src, "households"].sum()
    assert c.households["estimate"] == beijing.report.households_estimated
    assert c.estimated_share == 1.0 and c.warning  # no register: every household guessed
    text = beijing.report.to_text()
    assert text.startswith("⚠ WARNING: 100% of the households are estimated")
    assert text.splitlines()[1].startswith("Data completeness")
    d = beijing.report.to_dict()["completeness"]
    assert d["warning"] and d["sources"]["estimate"]["households"] == c.households["estimate"]


def test_a_register_covering_the_estimates_lifts_the_warning(
    beijing: Street, tmp_path: Path
) -> None:
    est = beijing.buildings[beijing.buildings["households_source"] == "estimate"]
    reg = tmp_path / "register.csv"
    pd.DataFrame({"楼栋编号": est["building_id"], "户数": 40}).to_csv(reg, index=False)
    street = load_street(beijing.report.source, register=reg)
    c = street.report.completeness
    assert c is not None
    assert c.buildings["register"] == len(est) and c.households["register"] == 40 * len(est)
    assert c.buildings["estimate"] == 0 and c.unknown_share < 0.5 and not c.warning
    assert not street.report.to_text().startswith("⚠")


def test_a_street_with_counted_households_does_not_warn(layers: dict, make_folder) -> None:  # type: ignore[no-untyped-def]
    estimated = load_street(make_folder(layers)).report.completeness
    assert estimated is not None and estimated.warning  # 213 of 253 households estimated
    layers["buildings"]["households"] = 50
    c = load_street(make_folder(layers)).report.completeness
    assert c is not None and not c.warning
    assert c.buildings["data"] == c.total_buildings and c.households["estimate"] == 0


def test_default_floors_by_footprint_class() -> None:
    from planner.load._layers import default_floors

    s = Settings(low_rise_footprint_m2=200, low_rise_floors=2, default_floors=6)
    got = default_floors(pd.Series([50.0, 199.0, 200.0, 900.0]), s)
    assert got.tolist() == [2, 2, 6, 6]


def test_completeness_of_a_table() -> None:
    import geopandas as gpd

    b = gpd.GeoDataFrame(
        {
            "households_source": ["register", "estimate", "estimate", "unknown", "data"],
            "households": [10, 30, 30, 0, 0],
            "kind": ["residential", "residential", "residential", "other", "school"],
        }
    )
    c = Completeness.of(b)
    assert c.buildings == {"register": 1, "data": 1, "estimate": 2, "unknown": 1}
    assert c.households == {"register": 10, "data": 0, "estimate": 60, "unknown": 0}
    assert c.non_residential == 1 and c.estimated_share == pytest.approx(60 / 70)
    assert c.warning


def test_osm_building_use_and_flats() -> None:
    from planner.load.osm import _building_kind

    building = pd.Series(["yes", "yes", "yes", "apartments", "church", "industrial"])
    use = pd.Series(["residential", "", "commercial", "", "", "residential"])
    assert _building_kind(building, use).tolist() == [
        "residential",
        "yes",  # says nothing: the loader decides by location
        "shop",
        "residential",
        "church",  # stated, not residential
        "industrial",  # building:use only refines building=yes
    ]


def test_residential_land_use_makes_a_kindless_building_residential(
    layers: dict,
    make_folder,  # type: ignore[no-untyped-def]
) -> None:
    import geopandas as gpd
    from shapely.geometry import box

    b = layers["buildings"]
    b["kind"] = ["residential", "residential", "residential", "yes"]  # B4 says nothing
    b.loc[3, "floors"] = None
    without = load_street(make_folder(layers)).buildings.set_index("building_id")
    assert without.loc["B4", "households_source"] == "unknown"
    assert without.loc["B4", "households"] == 0
    layers["landuse"] = gpd.GeoDataFrame(
        {"landuse_id": ["L1"], "kind": ["居住用地"], "name": ["住宅区"]},
        geometry=[box(*b.geometry.iloc[3].buffer(20).bounds)],
        crs=b.crs,
    )
    street = load_street(make_folder(layers))
    got = street.buildings.set_index("building_id")
    assert got.loc["B4", "kind"] == "residential"
    assert got.loc["B4", "households_source"] == "estimate"
    # 40 m × 30 m = 1,200 m² footprint, no floors: 6 storeys, ÷ 90 m² per household
    assert got.loc["B4", "households"] == round(1200 * 6 / 90)
