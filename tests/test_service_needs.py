"""Who needs it ("一老一小"): residents by age from a hand-made register, and the kinds
that serve them, on the line street of tests/test_service_completeness.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.coverage.completeness import compute_completeness, needs_by_area
from planner.coverage.figures import compute_coverage
from planner.errors import ProblemLog
from planner.load._layers import apply_register
from planner.load.register import join_register, read_register
from planner.settings import Settings
from planner.street import Street, from_layers
from tests.coverage_streets import CRS, points
from tests.test_service_completeness import _line_street

REGISTER = """楼栋编号,户数,0-6岁儿童,60岁以上老人,独居老人
b100,10,3,5,1
b450,20,6,2,0
b900,30,0,10,2
b1400,40,8,0,0
b1900,50,10,20,4
"""


def _street(tmp_path: Path) -> Street:
    base = _line_street(
        points([(0, 0)], station_id=["D"], name=["日照"], kind=["elderly_day_care"]),
        pois=points([(600, 0)], poi_id=["P1"], name=["阳光幼儿园"], kind=["kindergarten"]),
    )
    f = tmp_path / "register.csv"
    f.write_text(REGISTER, encoding="utf-8")
    problems = ProblemLog()
    table = read_register(f, problems=problems)
    assert table is not None and not problems.has_errors
    joined = join_register(base.buildings, base.compounds, table, file=str(f), problems=problems)
    assert list(joined.groups.columns) == ["children_0_6", "elderly_60", "elderly_alone"]
    layers = {name: base.layer(name) for name in ("nodes", "edges", "stations", "pois")}
    return from_layers({**layers, "buildings": apply_register(base.buildings, joined)}, crs=CRS)


def test_age_groups_reach_the_kinds_that_serve_them(tmp_path: Path) -> None:
    st = _street(tmp_path)
    kinds = ("nursery", "kindergarten", "elderly_day_care", "health_station")
    cov = compute_coverage(st, settings=Settings(service_catalogue=kinds))
    row = needs_by_area(compute_completeness(cov, st), cov).iloc[0]
    # kindergarten at 600 m reaches b450 and b900 within 5 minutes (333 m)
    assert row["children_0_6"] == 27
    assert row["children_0_6_reach_kindergarten_pct"] == pytest.approx(22.2)  # 6 / 27
    assert row["households_reach_kindergarten_pct"] == pytest.approx(33.3)  # 50 / 150
    assert row["children_0_6_reach_nursery_pct"] == 0.0
    # the day-care centre at 0 reaches b100 only
    assert row["elderly_60"] == 37
    assert row["elderly_60_reach_elderly_day_care_pct"] == pytest.approx(13.5)  # 5 / 37
    assert row["elderly_alone_reach_elderly_day_care_pct"] == pytest.approx(14.3)  # 1 / 7
    assert "elderly_80" not in row.index  # the register has no such column


def test_no_age_columns_no_needs_table() -> None:
    st = _line_street(points([(0, 0)], station_id=["A"]))
    cov = compute_coverage(st)
    assert needs_by_area(compute_completeness(cov, st), cov).empty
