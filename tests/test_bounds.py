"""Honest household bounds on the demo street (issue 14 item 3): with 400-600
households per grid, every grid is in bounds or a proved exception, and a division
that leaves grids out of bounds without a proof fails the rules (exit 1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from planner.cli.parser import main
from planner.grids.atoms import make_atoms
from planner.grids.division import GridResult, divide
from planner.grids.rules import PROVED_REASONS
from planner.i18n import from_english
from planner.load.sources import load_street
from planner.settings import Settings
from planner.street import Street
from tests.grid_streets import block_street

BOUNDS = {"grid_min_households": 400, "grid_max_households": 600, "grid_target_households": 500}


@pytest.fixture(scope="module")
def demo() -> tuple[Street, Settings]:
    s = Settings(**BOUNDS)
    return load_street("demo", settings=s), s


@pytest.fixture(scope="module")
def exact_result(demo: tuple[Street, Settings]) -> GridResult:
    street, s = demo
    return divide(street, settings=s.with_(grid_exact_time_limit_s=20.0, grid_exact_total_s=600.0))


def test_demo_400_600_every_grid_in_bounds_or_proved(exact_result: GridResult) -> None:
    res = exact_result
    g = res.grids
    # dedicated grids (专属网格) hold no residential land: exempt from the bounds
    out = ~g["households"].between(400, 600) & (g["kind"] != "dedicated")
    assert res.report.ok, res.report.to_text()
    for reason in g.loc[out, "reason"]:
        m = from_english(reason, "grid_reason_")
        assert m is not None and m.key in PROVED_REASONS, reason
    v = res.report.check("households_in_range").violations
    assert len(v) == int(out.sum()) and all(x.severity == "explained" for x in v)
    # the exact method ran on every community the heuristic left out of bounds and
    # proved that none of them has a contiguous division in bounds
    assert set(res.exact["community_id"]) == set(g.loc[out, "community_id"])
    assert (res.exact["status"] == "infeasible").all()
    assert any("the exact method proved" in n for n in res.notes)


def test_demo_heuristic_alone_fails_the_rules(
    demo: tuple[Street, Settings], exact_result: GridResult
) -> None:
    street, s = demo
    res = divide(street, settings=s.with_(grid_method="heuristic"))
    assert len(res.exact) == 0
    out = ~res.grids["households"].between(400, 600) & (res.grids["kind"] != "dedicated")
    assert out.sum() > 0
    # the heuristic's own reasons prove nothing: the proof fails, the grids are listed
    assert not res.report.ok
    assert not res.report.check("households_in_range").passed
    assert "RESULT: 1 rule(s) FAIL" in res.report.to_text()

    # the exact method keeps at most as many households outside the bounds
    def outside(r: GridResult) -> float:
        h = r.grids["households"].to_numpy(dtype=float)
        return float(np.maximum(400 - h, 0).sum() + np.maximum(h - 600, 0).sum())

    assert outside(exact_result) <= outside(res)


def test_exact_method_finds_what_exists(demo: tuple[Street, Settings]) -> None:
    # with 200-500 households the exact method divides every community it is run on
    # in bounds, or proves it cannot
    street, _ = demo
    s = Settings(grid_method="exact", grid_exact_time_limit_s=60.0, grid_exact_total_s=900.0)
    atoms = make_atoms(street, settings=s)
    res = divide(street, settings=s, atoms=atoms)
    assert set(res.exact["status"]) <= {"optimal", "feasible", "infeasible"}
    solved = res.exact.loc[res.exact["status"] != "infeasible", "community_id"]
    assert len(solved) > 0
    sub = res.grids[res.grids["community_id"].isin(solved)]
    ok = sub["households"].between(200, 500) | (sub["reason"] != "")
    assert ok.all(), sub[["code", "households", "reason"]]
    assert res.report.ok, res.report.to_text()


def test_compound_kept_whole_is_a_proved_exception() -> None:
    # one compound of 20 buildings x 60 households = 1,200 > 500
    street = block_street(
        xs=(), ys=(), community_x=None, compound_every=1, rows=4, cols=5, households=[60]
    )
    s = Settings(grid_split_large_compounds=False)
    res = divide(street, settings=s)
    big = res.grids[res.grids["households"] > 500]
    assert len(big) == 1
    assert "the settings forbid splitting it" in big["reason"].iloc[0]
    assert res.report.ok, res.report.to_text()
    split = divide(street, settings=Settings())
    assert split.grids["households"].between(200, 500).all()


def test_cli_exit_1_without_proof_and_accepted_exceptions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--min-households", "400", "--max-households", "600"]
    code = main(
        ["grids", "demo", "--out", str(tmp_path / "h"), *base, "--grid-method", "heuristic"]
    )
    printed = capsys.readouterr().out
    assert code == 1 and "RESULT: 1 rule(s) FAIL" in printed
    assert "this does not prove it unavoidable" in printed
    # check-grids on that file: still a failure; accepting every listed grid passes
    import geopandas as gpd

    grids = gpd.read_file(tmp_path / "h" / "grids.geojson")
    out = grids.loc[~grids["households"].between(400, 600), "code"].astype(str)
    check = ["check-grids", str(tmp_path / "h" / "grids.geojson"), "demo", *base]
    assert main(check) == 1
    capsys.readouterr()
    accept = [a for c in out for a in ("--accept-exception", c)]
    assert main([*check, *accept]) == 0
    assert "accepted in the settings as" in capsys.readouterr().out
