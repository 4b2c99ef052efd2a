"""environment.yml and pyproject.toml list the same dependencies with the same ranges."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: conda package names that differ from the PyPI names (pypi -> conda).
CONDA_NAMES: dict[str, str] = {"osmium": "pyosmium"}


def _norm_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _norm_spec(spec: str) -> str:
    parts = [p.strip().replace(" ", "") for p in spec.split(",") if p.strip()]
    return ",".join(sorted(parts))


def _split(requirement: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:\[[^\]]*\])?\s*(.*)$", requirement)
    assert m, requirement
    return _norm_name(m.group(1)), _norm_spec(m.group(2))


def pyproject_deps() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = data["project"]
    reqs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        reqs += extra
    deps = dict(_split(r) for r in reqs)
    deps["python"] = _norm_spec(project["requires-python"])
    return deps


def _yaml_dependency_items(text: str) -> list[str]:
    """The ``- item`` entries under ``dependencies:`` (and a nested ``- pip:`` list).

    environment.yml is a flat list, so a few lines of parsing do without a YAML library.
    """
    items: list[str] = []
    inside = False
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line.startswith(" "):
            inside = line.strip() == "dependencies:"
            continue
        if inside and line.strip().startswith("- "):
            item = line.strip()[2:].strip().strip("'\"")
            if item != "pip:":
                items.append(item)
    return items


def environment_deps() -> dict[str, str]:
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    deps: dict[str, str] = {}
    for item in _yaml_dependency_items(text):
        name, spec = _split(item)
        if name == "pip" and not spec:
            continue  # the installer itself
        deps[name] = spec
    inverse = {v: k for k, v in CONDA_NAMES.items()}
    return {inverse.get(k, k): v for k, v in deps.items()}


def test_same_dependencies_and_ranges() -> None:
    py, env = pyproject_deps(), environment_deps()
    only_py = sorted(set(py) - set(env))
    only_env = sorted(set(env) - set(py))
    assert not only_py, f"in pyproject.toml but not environment.yml: {only_py}"
    assert not only_env, f"in environment.yml but not pyproject.toml: {only_env}"
    differ = {k: (py[k], env[k]) for k in py if py[k] != env[k]}
    assert not differ, f"version ranges differ (pyproject, environment): {differ}"


def test_every_dependency_has_a_tested_range() -> None:
    bare = [k for k, v in pyproject_deps().items() if not v]
    assert not bare, f"dependencies without a version range: {bare}"


def test_parser_notices_drift() -> None:
    items = _yaml_dependency_items(
        "name: x\ndependencies:\n  - numpy >=2,<3  # c\n  - pip:\n    - foo>=1\nother:\n  - no\n"
    )
    assert items == ["numpy >=2,<3", "foo>=1"]
    assert _split("streamlit-folium >=0.22, <1") == ("streamlit-folium", "<1,>=0.22")
    assert _split("Streamlit_Folium>=0.22,<1")[0] == "streamlit-folium"
    assert _split("folium>=0.17,<1") != _split("folium>=0.18,<1")
