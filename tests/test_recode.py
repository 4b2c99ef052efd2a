"""Codes never move: re-proving or re-coding a grid file keeps every untouched grid's code."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from planner.cli import main
from planner.export import formats as ex
from planner.grids.gridfile import read_grids
from planner.grids.recode import match_by_geometry, read_previous, recode_grids
from planner.settings import Settings
from planner.street import Street
from tests.export_streets import X0, Y0, small_street
from tests.test_check_grids import _grids

S = Settings(code_county="610113", code_street="003")
C1 = "100000610113003001"  # prefix of community c1's grids
C2 = "100000610113003002"


@pytest.fixture(scope="module")
def street() -> Street:
    return small_street()


def _split_first(g: gpd.GeoDataFrame, *, second_code: str = "") -> gpd.GeoDataFrame:
    """Grid 0 (x 0-400, y 0-600) split in a GIS into a west and an east half; the west half
    keeps the attributes, the east half is a new feature with ``second_code``."""
    west = shapely.box(X0, Y0, X0 + 200, Y0 + 600)
    east = shapely.box(X0 + 200, Y0, X0 + 400, Y0 + 600)
    rows = g.copy()
    rows.loc[0, "geometry"] = west
    new = rows.iloc[[0]].copy().assign(code=second_code, grid_id="drawn")
    new["geometry"] = [east]
    return gpd.GeoDataFrame(pd.concat([rows, new], ignore_index=True), crs=g.crs)


def test_untouched_grids_keep_codes_and_a_new_grid_takes_the_next_free_number(
    street: Street,
) -> None:
    g = _grids(street)
    before = g["code"].tolist()
    edited = _split_first(g)
    res = recode_grids(edited, street, settings=S)
    assert res.grids["code"].iloc[:8].tolist() == before  # none moved
    # c1 holds sequences 01, 02, 05, 06: the new grid takes 03, the lowest free
    assert res.grids["code"].iloc[8] == C1 + "03"
    assert res.counts() == {"kept": 8, "new": 1}
    assert res.changes["how"].iloc[8] == "new" and res.changes["old_code"].iloc[8] == ""


def test_the_half_that_matches_the_previous_grid_keeps_a_duplicated_code(street: Street) -> None:
    g = _grids(street)
    # both halves kept the attribute; the east half is the larger (300 m of 400)
    edited = _split_first(g, second_code=g["code"].iloc[0])
    edited.loc[0, "geometry"] = shapely.box(X0, Y0, X0 + 100, Y0 + 600)
    edited.loc[8, "geometry"] = shapely.box(X0 + 100, Y0, X0 + 400, Y0 + 600)
    res = recode_grids(edited, street, settings=S, previous=g)
    assert res.grids["code"].iloc[8] == g["code"].iloc[0]  # IoU 0.75 beats 0.25
    assert res.grids["code"].iloc[0] == C1 + "03"
    assert res.grids["code"].iloc[1:8].tolist() == g["code"].iloc[1:8].tolist()


def test_lost_code_column_is_matched_by_geometry(street: Street) -> None:
    g = _grids(street)
    # a desktop GIS lost the attributes and moved every vertex by up to 3 m
    moved = g.drop(columns=["code", "community_id", "grid_id"])
    moved["geometry"] = moved.geometry.buffer(3.0, join_style="mitre").simplify(0.1)
    moved = moved.iloc[::-1].reset_index(drop=True)  # and reordered the features
    res = recode_grids(moved, street, settings=S, previous=g)
    assert res.grids["code"].tolist() == g["code"].iloc[::-1].tolist()
    assert set(res.changes["how"]) == {"matched"}
    # without the previous grids nothing is known: all numbered afresh
    fresh = recode_grids(moved, street, settings=S)
    assert set(fresh.changes["how"]) == {"new"}


def test_match_by_geometry_needs_the_iou_threshold(street: Street) -> None:
    g = _grids(street)
    half = g.iloc[[0]].copy()
    half["geometry"] = [shapely.box(X0, Y0, X0 + 190, Y0 + 600)]  # IoU 0.475 with grid 0
    assert match_by_geometry(half, g).isna().all()
    assert match_by_geometry(half, g, min_iou=0.4).iloc[0] == g["code"].iloc[0]


def test_a_retired_code_is_never_given_again(tmp_path: Path, street: Street) -> None:
    g = _grids(street)
    # edit 1: grids 01 and 02 of c1 merged in the GIS into one feature coded 01
    merged = g.drop(index=1).reset_index(drop=True)
    merged.loc[0, "geometry"] = shapely.box(X0, Y0, X0 + 800, Y0 + 600)
    first = recode_grids(merged, street, settings=S, previous=g)
    assert first.retired == {C1 + "02"}
    assert first.grids["code"].tolist() == merged["code"].tolist()
    path = ex.write_geojson(
        first.grids, tmp_path / "first.geojson", metadata={"retired_codes": sorted(first.retired)}
    )
    known = read_previous(path, street, settings=S)
    previous, retired = known.grids, known.retired
    assert retired == {C1 + "02"}
    # edit 2: grid 05 (north-west) split, the new half uncoded: 02 is free but retired
    split = previous.copy()
    at = split.index[split["code"] == C1 + "05"][0]
    split.loc[at, "geometry"] = shapely.box(X0, Y0 + 600, X0 + 200, Y0 + 1200)
    extra = split.loc[[at]].assign(code="")
    extra["geometry"] = [shapely.box(X0 + 200, Y0 + 600, X0 + 400, Y0 + 1200)]
    split = gpd.GeoDataFrame(pd.concat([split, extra], ignore_index=True), crs=split.crs)
    second = recode_grids(split, street, settings=S, previous=previous, retired=retired)
    assert second.grids["code"].iloc[-1] == C1 + "03"
    assert C1 + "02" in second.retired


def test_recode_all_renumbers_every_unlocked_grid_and_locked_grids_keep_theirs(
    street: Street,
) -> None:
    g = _grids(street)
    shuffled = g.copy()
    shuffled["code"] = g["code"].iloc[[1, 0, 3, 2, 5, 4, 7, 6]].to_numpy()
    shuffled["locked"] = [True] + [False] * 7
    res = recode_grids(shuffled, street, settings=S, mode="all")
    assert res.grids["code"].iloc[0] == shuffled["code"].iloc[0]  # locked: kept as is
    assert res.changes["how"].iloc[0] == "locked"
    assert set(res.changes["how"].iloc[1:]) == {"renumbered"}
    assert res.grids["code"].is_unique
    # "missing" keeps every code, also the shuffled ones
    kept = recode_grids(shuffled, street, settings=S)
    assert kept.grids["code"].tolist() == shuffled["code"].tolist()


def test_provisional_codes_are_re_prefixed_keeping_their_sequence(street: Street) -> None:
    g = _grids(street)
    provisional = g.assign(code=g["code"].str.slice(0, 6) + "000000000" + g["code"].str[15:])
    res = recode_grids(provisional, street, settings=S)
    assert res.grids["code"].tolist() == g["code"].tolist()
    assert set(res.changes["how"]) == {"re-prefixed"}
    assert not res.grids["code_provisional"].any()


def test_a_code_of_another_community_is_replaced(street: Street) -> None:
    g = _grids(street)
    wrong = g.copy()
    wrong.loc[0, "code"] = C2 + "09"  # grid 0 lies in c1
    res = recode_grids(wrong, street, settings=S)
    assert res.grids["code"].iloc[0] == C1 + "01"  # the lowest free number of c1
    assert "another community" in res.changes["why"].iloc[0]
    assert C2 + "09" in res.retired  # a code seen once is not given to another grid


def test_check_grids_recode_fills_in_a_new_grid_and_keeps_the_others(
    tmp_path: Path,
    street: Street,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import planner.cli.check_grids as cmd

    monkeypatch.setattr(cmd, "load_from_args", lambda args, settings, **_: street)
    g = _grids(street)
    src = ex.write_geojson(_split_first(g).drop(columns="grid_id"), tmp_path / "edited.geojson")
    flags = ["--code-county", "610113", "--code-street", "003"]
    # without --recode the uncoded grid is refused, naming the fix
    assert main(["check-grids", str(src), "street-folder", *flags]) == 2
    assert "--recode" in capsys.readouterr().err
    code = main(["check-grids", str(src), "street-folder", "--recode", *flags])
    assert code == 1  # the split cut a compound: the proof says so
    err = capsys.readouterr().err
    assert "re-coded 9 grids" in err and "kept 8, new 1" in err
    out = read_grids(tmp_path / "edited.recoded.geojson", street)
    assert out["code"].iloc[:8].tolist() == g["code"].tolist()
    assert out["code"].iloc[8] == C1 + "03"
    doc = json.loads((tmp_path / "edited.recoded.geojson").read_text(encoding="utf-8"))
    assert doc["retired_codes"] == []
    csv = pd.read_csv(tmp_path / "edited.recoded.codes.csv", dtype=str, encoding="utf-8-sig")
    assert csv["how"].tolist() == ["kept"] * 8 + ["new"]
    # --recode all with --previous: a project-less run, numbered afresh but retired skipped
    assert (
        main(
            [
                "check-grids",
                str(src),
                "street-folder",
                "--recode",
                "all",
                "--previous",
                str(tmp_path / "edited.recoded.geojson"),
                "--out",
                str(tmp_path / "all.geojson"),
                *flags,
            ]
        )
        == 1
    )
    assert "renumbered 9" in capsys.readouterr().err


def test_demo_grids_whose_codes_a_gis_lost_get_every_code_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's trial: every demo grid re-proved after a desktop GIS dropped the codes
    and moved one boundary: no untouched grid is renumbered."""
    first = tmp_path / "first"
    assert main(["grids", "demo", "--out", str(first)]) == 0
    capsys.readouterr()
    doc = json.loads((first / "grids.geojson").read_text(encoding="utf-8"))
    for f in doc["features"]:
        f["properties"].pop("code")
    edited = tmp_path / "edited.geojson"
    edited.write_text(json.dumps(doc), encoding="utf-8")
    code = main(
        ["check-grids", str(edited), "demo", "--recode", "--previous", str(first / "grids.geojson")]
    )
    assert code == 0
    assert f"matched {len(doc['features'])}" in capsys.readouterr().err
    back = json.loads((tmp_path / "edited.recoded.geojson").read_text(encoding="utf-8"))
    old = json.loads((first / "grids.geojson").read_text(encoding="utf-8"))
    assert [f["properties"]["code"] for f in back["features"]] == [
        f["properties"]["code"] for f in old["features"]
    ]
