"""``import planner``: modules by concept, imported lazily, the package import stays light."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import planner

ROOT = Path(__file__).resolve().parents[1]


def test_every_concept_names_a_real_module() -> None:
    expected = {
        "load", "synthetic", "network", "routing", "coverage", "circles", "atoms", "grids",
        "rules", "codes", "edits", "project", "siting", "exports", "redmap", "mapimage",
        "pipeline",
    }  # fmt: skip
    assert expected <= set(planner.MODULES)
    for name in planner.MODULES:
        assert importlib.util.find_spec(f"planner.{name}") is not None, name
    assert set(planner.MODULES) <= set(planner.__all__) and "rules" in dir(planner)


def test_modules_import_on_first_use() -> None:
    assert planner.rules.check_grids is importlib.import_module("planner.rules").check_grids
    assert callable(planner.codes.effective_code_settings)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        planner.nope  # noqa: B018


def test_import_planner_does_not_import_the_heavy_modules() -> None:
    code = (
        "import sys, planner; "
        "print(','.join(sorted(m for m in sys.modules if m.startswith('planner.'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    loaded = set(out.split(","))
    assert loaded <= {"planner.crs", "planner.errors", "planner.schema", "planner.settings",
                      "planner.street"}, loaded  # fmt: skip
