"""The wheel is a working planner: ``pip install .`` (not only ``-e``) runs ``info demo``.

The wheel is built offline from a copy of the sources (``--no-build-isolation``: the
setuptools of this environment), installed without its dependencies into a fresh
virtual environment that sees this environment's packages through a ``.pth`` file,
and run from an empty folder, so nothing of the source checkout can help it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: What the build reads (everything else in the repository is not part of the package).
BUILD_INPUTS = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "planner", "data")


def _copy_sources(dest: Path) -> Path:
    src = dest / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in BUILD_INPUTS:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy2(path, src / name)
    return src


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, (cmd, done.returncode, done.stdout[-2000:], done.stderr[-4000:])
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    src = _copy_sources(tmp)
    out = tmp / "dist"
    offline = ["--no-deps", "--no-build-isolation", "--no-index", "-q"]
    _run([sys.executable, "-m", "pip", "wheel", str(src), *offline, "-w", str(out)], cwd=tmp)
    (found,) = out.glob("planner-*.whl")
    return found


def test_wheel_carries_the_demo_street(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    demo = sorted(p.name for p in (ROOT / "data" / "demo").iterdir() if p.is_file())
    assert demo and {f"planner/_demo/{n}" for n in demo} <= names, sorted(names)[:20]
    assert "planner/maps/static/LICENSES.md" in names  # the other package data still there
    assert not any(n.startswith(("data/", "tests/")) for n in names)


def test_installed_wheel_runs_info_demo_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            cwd=tmp_path,
        ).strip()
    )
    # the dependencies come from this environment (appended to sys.path, after the wheel)
    here = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (purelib / "planner_test_deps.pth").write_text("\n".join(sorted(here)) + "\n")
    install = ["install", "--no-deps", "--no-index", "-q", str(wheel)]
    _run([sys.executable, "-m", "pip", "--python", str(python), *install], cwd=tmp_path)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    where = _run(
        [str(python), "-c", "import planner.load.sources as s; print(s.__file__, s.DEMO_DIR)"],
        cwd=work,
        env=env,
    ).split()
    assert Path(where[0]).is_relative_to(purelib), where  # the installed copy, not the checkout
    assert Path(where[1]) == purelib / "planner" / "_demo", where
    out = _run([str(python), "-m", "planner", "info", "demo", "--json"], cwd=work, env=env)
    info = json.loads(out)
    buildings = json.loads((ROOT / "data" / "demo" / "buildings.geojson").read_text("utf-8"))
    assert info["source"] == "demo" and info["synthetic"] is True, info
    assert info["counts"]["buildings"] == len(buildings["features"]), info["counts"]
