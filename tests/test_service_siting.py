"""Siting for a chosen service kind, and the floor area each new site's catchment needs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from planner.cli.parser import main
from planner.coverage.figures import compute_coverage
from planner.coverage.service_kinds import kind_street, service_points
from planner.errors import InputError
from planner.settings import Settings
from planner.siting.scenario import build_problem, site_street
from planner.street import Street


@pytest.fixture(scope="module")
def demo() -> Street:
    from planner.load.sources import load_street

    result = load_street("demo")
    return result[0] if isinstance(result, tuple) else result


def test_kind_street_puts_the_kinds_facilities_as_stations(demo: Street) -> None:
    street, s = kind_street(demo, "kindergarten", Settings())
    pts = service_points(demo.stations, demo.pois, demo.landuse, kinds=("kindergarten",))
    assert sorted(street.stations["station_id"]) == sorted(pts["point_id"])
    assert set(street.stations["kind_text"]) == {"kindergarten"}
    assert s.thresholds_min == (5.0,) and s.gap_minutes == 5.0
    assert s.service_kinds == ("community_station",)
    with pytest.raises(InputError, match="'bakery' is not a service kind"):
        kind_street(demo, "bakery", Settings())


def test_sites_for_a_kind_report_the_floor_area_their_catchment_needs(demo: Street) -> None:
    street, s = kind_street(demo, "kindergarten", Settings())
    cov = compute_coverage(street, settings=s)
    r = site_street(street, cov, k=2, settings=s, method="greedy", after_coverage=False)
    problem, _c, _d = build_problem(street, cov, settings=s)
    assert problem.threshold_min == 5.0
    # the catchment: every household within 5 minutes of the site, x 30 m² / 100
    rows = problem.minutes[r.plan.sites]
    expected = np.array([problem.weights[rows[i].indices].sum() for i in range(rows.shape[0])])
    assert r.sites["households_catchment"].to_numpy() == pytest.approx(expected)
    assert r.sites["catchment_floor_area_m2"].to_numpy() == pytest.approx(
        np.round(expected * 0.3, 1)
    )
    assert (r.sites["households_catchment"] >= r.sites["households_newly_covered"]).all()


def test_site_command_takes_a_service_kind(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = main(
        [
            "site",
            "demo",
            "-k",
            "1",
            "--service-kind",
            "幼儿园",
            "--method",
            "greedy",
            "--no-circles",
            "-q",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    summary = json.loads((out / "siting.json").read_text(encoding="utf-8"))
    assert summary["threshold_min"] == 5.0
