"""Aligning grid systems (多网合一): overlaps, nesting, misfits, the nested division."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from grid_streets import X0, Y0
from org_streets import E, W, org_street
from shapely.geometry import box

from planner.cli.parser import main
from planner.errors import InputError
from planner.export.geojson import write_geojson
from planner.organisation.alignment import align, nested_division, read_other_grids


def _cells(
    xs: list[float], street_crs: object, *, ids: list[str] | None = None
) -> gpd.GeoDataFrame:
    """Vertical strips of the street between the x offsets ``xs`` (metres)."""
    geoms = [box(X0 + a, Y0 - 5, X0 + b, Y0 + 605) for a, b in itertools.pairwise(xs)]
    names = ids or [chr(ord("A") + i) for i in range(len(geoms))]
    return gpd.GeoDataFrame({"cell_id": names, "layer": "综治网格"}, geometry=geoms, crs=street_crs)


def test_overlap_shares_nesting_and_misfits() -> None:
    street, grids = org_street()
    got = align(grids, _cells([-5, 450, 905], street.crs))
    t = got.by_grid.set_index("code")
    assert t.at[W, "nests_in"] == "A" and not t.at[W, "misfit"]
    assert t.at[E, "misfit"] and t.at[E, "nests_in"] == ""
    assert t.at[E, "cells"] == "B 75.0%；A 25.0%" and t.at[E, "best_share_pct"] == 75.0
    assert got.misfits == [E]
    assert f"grid {E} does not nest: B 75.0%；A 25.0%" in got.to_text()


def test_nesting_tolerates_digitising_noise_only() -> None:
    street, grids = org_street()
    near = _cells([-5, 295, 905], street.crs)  # 5 m of W's 300 m (1.7%) fall outside A
    assert align(grids, near).by_grid.set_index("code").at[W, "nests_in"] == "A"
    assert align(grids, near, tolerance=0.01).by_grid.set_index("code").at[W, "misfit"]


def test_nested_division_fits_the_layer_and_reports_its_cost() -> None:
    street, grids = org_street()
    other = _cells([-5, 600, 905], street.crs)  # cuts grid E at the road x = 600 m
    assert align(grids, other).misfits == [E]
    nested = nested_division(street, other, grids)
    assert nested.alignment.misfits == []  # every grid now nests
    assert nested.report.ok
    cost = nested.cost.set_index("figure")
    assert cost.at["grids", "before"] == 2 and cost.at["grids", "after"] == len(nested.grids)
    assert cost.at["households_max", "before"] == 1440
    hh = nested.grids["households"]
    assert cost.at["households_max", "after"] == hh.max()
    assert cost.at["households_cv", "change"] == pytest.approx(
        cost.at["households_cv", "after"] - cost.at["households_cv", "before"]
    )
    assert hh.sum() == 2160  # every household in one grid


def test_reading_another_grid_layer(tmp_path: Path) -> None:
    street, _ = org_street()
    cells = _cells([-5, 450, 905], street.crs).rename(columns={"cell_id": "编号"})
    path = write_geojson(cells.drop(columns="layer").to_crs(4326), tmp_path / "综治网格.geojson")
    other = read_other_grids(path, street)
    assert other["cell_id"].tolist() == ["A", "B"] and set(other["layer"]) == {"综治网格"}
    assert other.crs == street.crs and abs(other.area.iloc[0] - 455 * 610) < 5
    bad = write_geojson(cells[["geometry"]].assign(x=1).to_crs(4326), tmp_path / "noid.geojson")
    with pytest.raises(InputError, match="no id column for the cells"):
        read_other_grids(bad, street)
    dup = cells.assign(编号=["A", "A"]).drop(columns="layer").to_crs(4326)
    with pytest.raises(InputError, match="cell ids used twice: A"):
        read_other_grids(write_geojson(dup, tmp_path / "dup.geojson"), street)


def test_grids_command_aligns_and_nests(tmp_path: Path) -> None:
    from planner.load.sources import load_street

    street = load_street("demo")
    x0, y0, x1, y1 = street.boundary.total_bounds
    xm = (x0 + x1) / 2 + 37
    quads = gpd.GeoDataFrame(
        {"id": ["W", "E"]},
        geometry=[box(x0 - 10, y0 - 10, xm, y1 + 10), box(xm, y0 - 10, x1 + 10, y1 + 10)],
        crs=street.crs,
    ).to_crs(4326)
    layer = write_geojson(quads, tmp_path / "城管网格.geojson")
    out = tmp_path / "g"
    args = ["grids", "demo", "--out", str(out), "--no-registers"]
    assert main([*args, "--other-grids", str(layer), "--nest-in", str(layer)]) == 0
    table = pd.read_csv(out / "alignment_by_grid.csv", encoding="utf-8-sig", dtype={"code": str})
    assert set(table["layer"]) == {"城管网格"} and table["misfit"].any()
    cost = pd.read_csv(out / "nesting_cost.csv", encoding="utf-8-sig")
    assert cost["figure"].tolist()[0] == "grids"
    nested = gpd.read_file(out / "grids_nested.geojson")
    assert align(nested.to_crs(street.crs).assign(code=nested["code"]), quads.to_crs(street.crs).rename(
        columns={"id": "cell_id"}).assign(layer="x")).misfits == []  # fmt: skip
    doc = json.loads((out / "grid_report.json").read_text("utf-8"))
    assert doc["grid_systems"]["alignments"][0]["layer"] == "城管网格"
    assert "Alignment with 城管网格" in (out / "grid_report.txt").read_text("utf-8")


def test_run_writer_carries_the_alignment_tables_and_the_nested_layer() -> None:
    """``run --other-grids/--nest-in``: the one writer's tables (CSV, workbook sheets,
    GeoPackage tables) and layers hold the alignment, the cost and the nested grids."""
    from planner.export.outputs import output_layers, output_tables
    from planner.organisation.alignment import grid_systems
    from planner.pipeline import RunResult
    from planner.settings import Settings

    street, grids = org_street()
    other = _cells([-5, 600, 905], street.crs)
    result = RunResult(street=street, settings=Settings(), grids=None, coverage=None)
    result.grid_systems = grid_systems(street, grids, [other], nest_in=other)
    tables = output_tables(result)
    table = tables["alignment_by_grid"].set_index("code")
    assert table.at[E, "misfit"] and not table.at[W, "misfit"]
    assert tables["nesting_cost"]["figure"].tolist()[0] == "grids"
    nested = output_layers(result)["grids_nested"]
    assert align(nested, other).misfits == []
