"""The walkthrough notebook runs from top to bottom on the demo street (nbclient)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "walkthrough.ipynb"


def test_notebook_matches_its_generator() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_walkthrough", ROOT / "scripts" / "make_walkthrough.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    built = [c.source for c in mod.build().cells]
    stored = [c.source for c in nbformat.read(str(NOTEBOOK), as_version=4).cells]
    assert stored == built, "run: python scripts/make_walkthrough.py"


@pytest.mark.slow
def test_walkthrough_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    monkeypatch.setenv("PLANNER_WALKTHROUGH_OUT", str(out))
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT / "notebooks")}},
    )
    client.execute()
    outputs = "\n".join(
        o.get("text", "")
        if o.get("output_type") == "stream"
        else json.dumps(o.get("data", {}).get("text/plain", ""), ensure_ascii=False)
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
    )
    assert not [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert "RESULT: all rules hold" in outputs
    assert "codes identical: True" in outputs and "households identical: True" in outputs
    assert "within 15 min" in outputs
    # the figures and exports were really made
    for name in (
        "redmap.png",
        "households_per_grid.png",
        "grids.geojson",
        "planner.gpkg",
        "coverage_by_community.csv",
        "shapefile/grids.shp",
    ):
        assert (out / name).stat().st_size > 0, name
    # images are embedded in the executed notebook (a planner sees the maps)
    pngs = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if "image/png" in o.get("data", {})
    ]
    assert len(pngs) == 2
