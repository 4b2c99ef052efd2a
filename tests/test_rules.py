"""The rule checker finds each kind of broken grid layer, with grids and a location."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.affinity import translate
from shapely.geometry import box

from planner.errors import InputError
from planner.grids.division import GridResult, divide
from planner.grids.rules import RULE_TITLES, check_grids
from planner.i18n import msg
from planner.settings import Settings
from planner.street import Street
from tests.grid_streets import block_street


@pytest.fixture(scope="module")
def done() -> tuple[Street, GridResult]:
    street = block_street(households=[60, 30, 45, 0], xs=(150, 300, 450, 600, 750), ys=(200, 400))
    return street, divide(street, settings=Settings())


def _failing(report, rule):  # type: ignore[no-untyped-def]
    check = report.check(rule)
    assert not check.passed, report.to_text()
    return check.violations


def test_divided_grids_pass_every_rule(done) -> None:  # type: ignore[no-untyped-def]
    street, res = done
    report = check_grids(res.grids, street, settings=Settings())
    assert report.ok, report.to_text()
    assert report.quality["grids"] == len(res.grids)
    assert report.quality["households_total"] == street.households_total
    assert "RESULT: all rules hold" in report.to_text()
    d = report.to_dict()
    assert d["ok"] is True and {c["name"] for c in d["checks"]} >= {
        "coverage",
        "no_overlap",
        "one_polygon",
        "one_community",
        "buildings_whole",
        "compounds_whole",
        "households_in_range",
        "codes",
    }


def test_wgs84_grids_are_checked_in_the_street_crs(done) -> None:  # type: ignore[no-untyped-def]
    street, res = done
    assert check_grids(res.grids.to_crs(4326), street).ok


def test_gap_is_found_with_its_location(done) -> None:  # type: ignore[no-untyped-def]
    street, res = done
    g = res.grids.copy()
    g = g.drop(index=g.index[0])
    v = _failing(check_grids(g, street), "coverage")
    assert "uncovered" in v[0].message
    assert 116 < v[0].lon < 117 and 39 < v[0].lat < 41


def test_overlap_names_both_grids(done) -> None:  # type: ignore[no-untyped-def]
    street, res = done
    g = res.grids.copy()
    a, b = g.index[0], g.index[1]
    g.loc[a, "geometry"] = g.geometry[a].union(g.geometry[b].buffer(-5))
    v = _failing(check_grids(g, street), "no_overlap")
    assert set(v[0].grids) == {g.loc[a, "code"], g.loc[b, "code"]}
    assert "overlap by" in v[0].message


def test_two_piece_grid_is_found(done) -> None:  # type: ignore[no-untyped-def]
    street, res = done
    g = res.grids.copy()
    k = g.index[0]
    g.loc[k, "geometry"] = shapely.MultiPolygon(
        [g.geometry[k], translate(box(0, 0, 10, 10), *street.boundary_geom.bounds[:2])]
    )
    v = _failing(check_grids(g, street), "one_polygon")
    assert "2 pieces" in v[0].message


def test_grid_across_communities_is_found(done) -> None:  # type: ignore[no-untyped-def]
    street, res = done
    g = res.grids.copy()
    west = g[g["community_id"] == "w"].index[0]
    east = g[g["community_id"] == "e"]
    # give a west grid a strip of the east community: also an overlap, but the
    # community rule must name it
    g.loc[west, "geometry"] = g.geometry[west].union(east.geometry.iloc[0])
    v = _failing(check_grids(g, street), "one_community")
    assert "communities" in v[0].message


def test_cut_building_and_compound_are_found(done) -> None:  # type: ignore[no-untyped-def]
    street, _res = done
    comp = street.compounds.geometry.iloc[0]
    cx = comp.centroid.x
    # split the street into two grids by a vertical line through the first compound
    xmin, ymin, _xmax, ymax = street.boundary_geom.bounds
    west = street.boundary_geom.intersection(box(xmin - 1, ymin - 1, cx, ymax + 1))
    east = street.boundary_geom.difference(west)
    g = gpd.GeoDataFrame({"grid_id": ["1", "2"]}, geometry=[west, east], crs=street.crs)
    report = check_grids(g, street)
    v = _failing(report, "compounds_whole")
    assert set(v[0].grids) == {"1", "2"} and "is cut by grids" in v[0].message
    buildings_cut = street.buildings.geometry.intersects(
        shapely.LineString([(cx, ymin), (cx, ymax)])
    ).sum()
    if buildings_cut:
        assert len(_failing(report, "buildings_whole")) == buildings_cut


def test_households_out_of_range_needs_a_reason(done) -> None:  # type: ignore[no-untyped-def]
    street, res = done
    g = res.grids.copy()
    g["reason"] = ""
    report = check_grids(
        g, street, settings=Settings(grid_min_households=400, grid_target_households=450)
    )
    v = _failing(report, "households_in_range")
    assert all(x.severity == "error" for x in v)
    # a reason that proves nothing (the heuristic's, or any text) is listed and fails
    g["reason"] = "a reason the planner gave"
    report2 = check_grids(
        g, street, settings=Settings(grid_min_households=400, grid_target_households=450)
    )
    v2 = report2.check("households_in_range").violations
    assert not report2.check("households_in_range").passed and not report2.ok
    assert all(x.severity == "error" for x in v2)
    assert all(
        "a reason the planner gave; this does not prove it unavoidable" in x.message for x in v2
    )
    g["reason"] = str(msg("grid_reason_no_join", households=300, lo=400, hi=500))
    report3 = check_grids(
        g, street, settings=Settings(grid_min_households=400, grid_target_households=450)
    )
    assert all(x.severity == "error" for x in report3.check("households_in_range").violations)
    assert "RESULT: 1 rule(s) FAIL" in report3.to_text()
    # a proved reason (the exact method's proof) is explained
    g["reason"] = str(
        msg(
            "grid_reason_exact_infeasible",
            community="SQ01",
            households=4000,
            units=30,
            lo=400,
            hi=500,
        )
    )
    report4 = check_grids(
        g, street, settings=Settings(grid_min_households=400, grid_target_households=450)
    )
    assert report4.check("households_in_range").passed
    assert all(x.severity == "explained" for x in report4.check("households_in_range").violations)


def test_accepted_exceptions_by_code_and_by_compound(done) -> None:  # type: ignore[no-untyped-def]
    street, res = done
    g = res.grids.copy()
    g["reason"] = ""
    s = Settings(grid_min_households=400, grid_target_households=450)
    bad = check_grids(g, street, settings=s).check("households_in_range").violations
    assert len(bad) >= 2 and all(x.severity == "error" for x in bad)
    first, second = bad[0].grids[0], bad[1].grids[0]
    # the second by a compound whose buildings it holds
    b = street.buildings
    in_second = shapely.within(
        shapely.centroid(b.geometry.values), g.loc[g["code"] == second].geometry.iloc[0]
    )
    comp = b.loc[in_second & (b["compound_id"] != ""), "compound_id"]
    accepted = (first, *comp.iloc[:1]) if len(comp) else (first, second)
    report = check_grids(g, street, settings=s.with_(grid_accepted_exceptions=accepted))
    c = report.check("households_in_range")
    by_grid = {x.grids[0]: x for x in c.violations}
    assert by_grid[first].severity == "explained"
    assert f"accepted in the settings as {first}" in by_grid[first].message
    assert by_grid[second].severity == "explained"
    assert all(x.severity == "error" for k, x in by_grid.items() if k not in (first, second))
    assert "设置中已接受的例外" in by_grid[first].render("zh")


def test_bad_and_duplicate_codes(done) -> None:  # type: ignore[no-untyped-def]
    street, res = done
    g = res.grids.copy()
    g.loc[g.index[0], "code"] = "12AB"
    g.loc[g.index[2], "code"] = g.loc[g.index[1], "code"]
    v = _failing(check_grids(g, street), "codes")
    msgs = " ".join(x.message for x in v)
    assert "not 20 digits" in msgs and "more than one grid" in msgs


def test_grids_without_crs_are_refused(done) -> None:  # type: ignore[no-untyped-def]
    street, res = done
    g = gpd.GeoDataFrame(geometry=list(res.grids.geometry))
    with pytest.raises(InputError, match="coordinate reference system"):
        check_grids(g, street)


def test_quality_figures(done) -> None:  # type: ignore[no-untyped-def]
    street, res = done
    q = check_grids(res.grids, street).quality
    hh = res.grids["households"].to_numpy()
    assert q["households_min"] == hh.min() and q["households_max"] == hh.max()
    assert np.isclose(q["households_cv"], hh.std() / hh.mean())
    assert 0 < q["compactness_min"] <= q["compactness_median"] <= 1


def _sliver_into(g: gpd.GeoDataFrame, src: object, dst: object, side_m: float) -> None:
    """Give grid ``src`` a ``side_m`` square inside grid ``dst`` (an overlap of side_m² m²)."""
    p = g.geometry[dst].representative_point()
    sq = box(p.x, p.y, p.x + side_m, p.y + side_m)
    g.loc[src, "geometry"] = g.geometry[src].union(sq)


def test_overlaps_under_1_m2_are_not_listed_as_violations(done) -> None:  # type: ignore[no-untyped-def]
    street, res = done
    g = res.grids.copy()
    a, b, c, d = g.index[:4]
    g.loc[a, "geometry"] = g.geometry[a].union(g.geometry[b].buffer(-5))  # a real overlap
    _sliver_into(g, c, d, 0.3)  # 0.09 m²: rounds to 0 m²
    v = _failing(check_grids(g, street), "no_overlap")
    assert [set(x.grids) for x in v] == [{g.loc[a, "code"], g.loc[b, "code"]}]
    assert not any("by 0 m²" in x.message for x in v)
    # one sliver alone is under the 1 m² total: the rule holds
    g = res.grids.copy()
    _sliver_into(g, c, d, 0.3)
    assert check_grids(g, street).check("no_overlap").passed
    # slivers adding up past 1 m²: one violation saying so, no "0 m²" pairs
    g = res.grids.copy()
    _sliver_into(g, c, d, 0.8)
    _sliver_into(g, a, b, 0.8)
    v = _failing(check_grids(g, street), "no_overlap")
    assert len(v) == 1 and "slivers under 1 m² each" in v[0].message
    assert "1.28 m² of overlap in 2 slivers" in v[0].message


def test_report_reads_in_chinese_with_the_same_lines(done) -> None:  # type: ignore[no-untyped-def]
    street, res = done
    g = res.grids.copy()
    g.loc[g.index[0], "geometry"] = translate(g.geometry.iloc[0], 30, 0)  # gap and overlap
    g.loc[g.index[1], "code"] = g["code"].iloc[2]  # a duplicate code
    # a reason planner.grids.division wrote (English in the layer) reads back in Chinese
    g["reason"] = ""
    g.loc[g.index[4], "reason"] = str(
        msg(
            "grid_reason_exact_infeasible",
            community=str(g["community_id"].iloc[4]),
            households=int(g["households"].iloc[4]),
            units=3,
            lo=3000,
            hi=6000,
        )
    )
    settings = Settings(
        grid_min_households=3000, grid_max_households=6000, grid_target_households=4000
    )
    report = check_grids(g, street, settings=settings)
    en, zh = report.to_text(), report.to_text("zh")
    assert en == report.to_text("en") and len(zh.splitlines()) == len(en.splitlines())
    # every rule, mark, figure and violation is Chinese: only ids, codes and units stay Latin
    assert set(re.findall(r"[A-Za-z]{2,}", zh)) <= {"km", "Polsby", "Popper"}, zh
    assert "[不通过] 覆盖全域、无缝" in zh and "结论：" in zh and "RESULT" not in zh
    assert "规模适度（每个网格的户数在范围内） 3000-6000 户" in zh
    for v in report.violations:
        text = v.render("zh")
        assert v.message == v.render("en") != text and text in zh
        assert all(code in text for code in v.grids), (v.grids, text)
    # a grid below the minimum in a community holding fewer households is explained
    explained = [v for v in report.violations if v.severity == "explained"]
    assert len(explained) == len(g)
    assert sum("低于下限（社区" in v.render("zh") for v in explained) == len(g) - 1
    assert "无论怎样连片划分，都无法使每个网格在 3000-6000 户之间" in zh
    assert "（已说明）" in zh and "* 已说明" in zh


def test_rule_titles_stay_english_for_the_cli() -> None:
    assert RULE_TITLES["coverage"] == "grids cover the street exactly (覆盖全域、无缝)"
    assert RULE_TITLES["codes"] == "codes are unique and well formed (编码规范)"
