"""Grid codes: CJ/T 349-2010 layout, reading order, stability."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from planner.errors import PlannerError, SettingsError
from planner.grids.codes import assign_codes, community_codes, parse_code, reading_order
from planner.settings import Settings


def _grid_row(n_cols: int = 3, n_rows: int = 2) -> gpd.GeoDataFrame:
    cells = [
        box(x * 100, -y * 100, x * 100 + 100, -y * 100 + 100)
        for y in range(n_rows)
        for x in range(n_cols)
    ]
    # shuffle the order so codes do not follow the row order by accident
    order = [4, 0, 5, 2, 1, 3][: len(cells)]
    return gpd.GeoDataFrame(
        {"grid_id": order, "community_id": "k"},
        geometry=[cells[i] for i in order],
        crs="EPSG:32650",
    )


def test_twenty_digit_layout_and_reading_order() -> None:
    s = Settings(code_service_object="100000", code_county="610113", code_street="003")
    comm = pd.DataFrame({"community_id": ["k"], "code": ["002"]})
    out = assign_codes(_grid_row(), settings=s, communities=comm)
    by_id = out.set_index("grid_id")["code"]
    # cells 0,1,2 are the northern row west to east, 3,4,5 the southern row
    assert [by_id[i][-2:] for i in range(6)] == ["01", "02", "03", "04", "05", "06"]
    assert by_id[0] == "100000" + "610113" + "003" + "002" + "01"
    p = parse_code(by_id[5], settings=s)
    assert p == {
        "service_object": "100000",
        "county": "610113",
        "street": "003",
        "community": "002",
        "sequence": "06",
    }


def test_fifteen_digit_variant() -> None:
    s = Settings(code_width=15, code_county="610113", code_street="003")
    comm = pd.DataFrame({"community_id": ["k"], "code": ["002"]})
    out = assign_codes(_grid_row(), settings=s, communities=comm)
    assert out["code"].str.len().eq(15).all()
    assert sorted(out["code"])[0] == "610113003002001"


def test_kept_codes_stay_and_new_grids_take_free_numbers() -> None:
    s = Settings()
    comm = pd.DataFrame({"community_id": ["k"], "code": ["001"]})
    first = assign_codes(_grid_row(), settings=s, communities=comm)
    keep = first.set_index("grid_id")["code"].drop(index=[0, 1])
    again = assign_codes(_grid_row(), settings=s, communities=comm, keep=keep)
    by_id = again.set_index("grid_id")["code"]
    assert all(by_id[i] == keep[i] for i in keep.index)
    assert {by_id[0][-2:], by_id[1][-2:]} == {"01", "02"}


def test_service_object_must_be_six_digits_for_twenty() -> None:
    s = Settings(code_service_object="12")
    comm = pd.DataFrame({"community_id": ["k"], "code": ["001"]})
    with pytest.raises(SettingsError, match="6-digit"):
        assign_codes(_grid_row(), settings=s, communities=comm)


def test_too_many_grids_for_two_digits() -> None:
    cells = [box(i, 0, i + 1, 1) for i in range(100)]
    g = gpd.GeoDataFrame({"grid_id": range(100), "community_id": "k"}, geometry=cells)
    comm = pd.DataFrame({"community_id": ["k"], "code": ["001"]})
    with pytest.raises(PlannerError, match="code_width=15"):
        assign_codes(g, settings=Settings(), communities=comm)


def test_community_codes_fill_gaps_without_clashes() -> None:
    t = pd.DataFrame({"community_id": ["a", "b", "c", "d"], "code": ["001", "", "x1", "001"]})
    codes = community_codes(t)
    assert codes.tolist()[0] == "001"
    assert codes.is_unique and codes.str.fullmatch(r"\d{3}").all()


def test_reading_order_single_grid() -> None:
    g = gpd.GeoDataFrame({"grid_id": [7], "community_id": ["k"]}, geometry=[box(0, 0, 1, 1)])
    assert reading_order(g).tolist() == [0]


def test_effective_code_settings_flags_over_metadata_over_settings() -> None:
    from planner.grids.codes import effective_code_settings

    meta = {"code_county": "610113", "code_street": "099"}
    s = effective_code_settings(Settings(), meta)
    assert (s.code_county, s.code_street) == ("610113", "099")
    mine = Settings(code_county="110105")
    s = effective_code_settings(mine, meta, explicit=["code_county"])
    assert (s.code_county, s.code_street) == ("110105", "099")
    bad = {"code_county": "61011", "code_street": "9a9"}  # malformed: ignored
    assert effective_code_settings(mine, bad) is mine
    assert effective_code_settings(mine, {}) is mine


# --- codes: codes that never move, community codes for any number of communities ---


def test_retired_codes_are_never_given_again() -> None:
    s = Settings()
    comm = pd.DataFrame({"community_id": ["k"], "code": ["001"]})
    prefix = "100000" + "000000" + "000" + "001"  # service + county + street + community
    retired = [f"{prefix}01", f"{prefix}03"]
    out = assign_codes(_grid_row(), settings=s, communities=comm, retired=retired)
    seqs = sorted(c[-2:] for c in out["code"])
    assert seqs == ["02", "04", "05", "06", "07", "08"]
    assert not set(out["code"]) & set(retired)


def test_too_many_grids_counts_retired_codes() -> None:
    cells = [box(i, 0, i + 1, 1) for i in range(60)]
    g = gpd.GeoDataFrame({"grid_id": range(60), "community_id": "k"}, geometry=cells)
    comm = pd.DataFrame({"community_id": ["k"], "code": ["001"]})
    retired = [f"100000000000000001{i:02d}" for i in range(1, 50)]
    with pytest.raises(PlannerError, match="retired"):
        assign_codes(g, settings=Settings(), communities=comm, retired=retired)


def _many_communities(n: int, codes: list[str]) -> gpd.GeoDataFrame:
    cells = [box(i * 10, 0, i * 10 + 10, 10) for i in range(n)]
    return gpd.GeoDataFrame(
        {"community_id": [f"c{i:05d}" for i in range(n)], "code": codes},
        geometry=cells,
        crs="EPSG:32650",
    )


def test_1500_communities_without_codes_is_a_clear_error() -> None:
    from planner.errors import InputError

    t = _many_communities(1500, [""] * 1500)
    with pytest.raises(InputError, match=r"1,500 communities have no valid code") as e:
        community_codes(t)
    assert "12-digit" in str(e.value) and "999" in str(e.value)
    assert e.value.problems[0].field == "code"
    # 999 fit exactly
    ok = community_codes(_many_communities(999, [""] * 999))
    assert ok.is_unique and ok.iloc[-1] == "999"


def test_1500_communities_of_two_streets_code_every_grid_in_its_street() -> None:
    codes = [f"610113{'001' if i < 750 else '002'}{i % 750 + 1:03d}" for i in range(1500)]
    t = _many_communities(1500, codes)
    got = community_codes(t)
    assert got.tolist() == codes
    grids = gpd.GeoDataFrame(
        {"grid_id": range(1500), "community_id": t["community_id"]},
        geometry=t.geometry.values,
        crs=t.crs,
    )
    s = Settings(code_county="610113", code_street="001")
    out = assign_codes(grids, settings=s, communities=t.assign(code=got))
    assert out["code"].is_unique and out["code"].str.fullmatch(r"\d{20}").all()
    parts = [parse_code(c, settings=s) for c in out["code"]]
    assert {p["street"] for p in parts} == {"001", "002"}
    assert parts[900] == {
        "service_object": "100000",
        "county": "610113",
        "street": "002",
        "community": "151",
        "sequence": "01",
    }
    fifteen = assign_codes(grids, settings=s.with_(code_width=15), communities=t.assign(code=got))
    assert fifteen["code"].iloc[900] == "610113002151001"


def test_community_codes_mix_three_digit_numbers_and_statistics_codes() -> None:
    t = pd.DataFrame({"community_id": ["a", "b", "c"], "code": ["610113099004", "", "004"]})
    got = community_codes(t)
    assert got.tolist() == ["610113099004", "001", "004"]
