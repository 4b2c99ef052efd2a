"""``import planner``: modules by concept, imported lazily, the package import stays light."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import planner

ROOT = Path(__file__).resolve().parents[1]


PACKAGE = ROOT / "planner"
#: Top-level modules imported with the package itself (not lazily through MODULES).
FOUNDATION = {"settings", "schema", "street", "errors", "crs"}


def _subpackages() -> list[Path]:
    return sorted(p.parent for p in PACKAGE.glob("*/__init__.py"))


def _architecture_rows() -> dict[str, str]:
    """The README's architecture table: package cell (``load/``) -> modules cell."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Architecture") :]
    section = section[: section.index("\n## ", 1)]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`"):
            rows[cells[0].replace("`", "")] = cells[1]
    return rows


def test_every_subpackage_and_module_is_in_the_concept_map() -> None:
    subpackages = {p.name for p in _subpackages()}
    top = {p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("__")}
    assert {"load", "network", "coverage", "grids", "siting", "export", "maps", "cli", "app",
            "synthetic"} <= subpackages  # fmt: skip
    public_top = {m for m in top if not m.startswith("_")} - FOUNDATION
    assert set(planner.MODULES) == subpackages | public_top, sorted(planner.MODULES)
    for name in planner.MODULES:
        assert importlib.util.find_spec(f"planner.{name}") is not None, name
    assert set(planner.MODULES) <= set(planner.__all__) and "grids" in dir(planner)


def test_readme_architecture_names_every_module() -> None:
    rows = _architecture_rows()
    shared = rows["planner/ (shared)"]
    for path in PACKAGE.glob("*.py"):
        if not path.stem.startswith("__"):
            assert f"`{path.stem}`" in shared, f"planner/{path.name} missing from the README"
    for pkg in _subpackages():
        assert f"{pkg.name}/" in rows, f"planner/{pkg.name}/ missing from the README"
        doc = (pkg / "__init__.py").read_text(encoding="utf-8")
        for path in pkg.glob("*.py"):
            if path.stem == "__init__":
                continue
            assert f"`{path.stem}`" in rows[f"{pkg.name}/"], (
                f"planner/{pkg.name}/{path.name} missing from the README's architecture"
            )
            assert f"planner.{pkg.name}.{path.stem}" in doc or f"``{path.stem}``" in doc, (
                f"planner/{pkg.name}/{path.name} missing from planner/{pkg.name}/__init__.py"
            )


def test_documented_calls_keep_working() -> None:
    from planner.coverage.figures import compute_coverage
    from planner.grids.division import divide
    from planner.load.sources import load_street

    assert planner.load.load_street is load_street
    assert planner.grids.divide is divide
    assert planner.coverage.compute_coverage is compute_coverage


def test_modules_import_on_first_use() -> None:
    assert (
        planner.grids.rules.check_grids
        is importlib.import_module("planner.grids.rules").check_grids
    )
    assert callable(planner.grids.codes.effective_code_settings)
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
