"""Build hook: the demo street ships inside the package (everything else is in pyproject.toml).

The demo street lives in ``data/demo/`` with its provenance (the repository's layout:
``data/`` holds the embedded demo street). A wheel has no ``data/`` folder, so
``build_py`` copies it into the built package as ``planner/_demo/``, where
:func:`planner.load.sources.demo_dir` finds it with :mod:`importlib.resources`. An
editable install (``pip install -e .``) and a source checkout read ``data/demo/``
in place. ``MANIFEST.in`` puts ``data/demo/`` in the sdist, so a wheel built from
the sdist has it too.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DEMO_SOURCE = Path("data") / "demo"
DEMO_TARGET = ("planner", "_demo")


class BuildPyWithDemo(build_py):
    """``build_py`` that also copies ``data/demo/*`` into the built ``planner/_demo/``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads data/demo/ where it is
        if not DEMO_SOURCE.is_dir():
            raise SystemExit(f"{DEMO_SOURCE} is missing: run python scripts/make_demo.py")
        target = Path(self.build_lib, *DEMO_TARGET)
        self.mkpath(str(target))
        for src in sorted(DEMO_SOURCE.iterdir()):
            if src.is_file():
                self.copy_file(str(src), str(target / src.name))


setup(cmdclass={"build_py": BuildPyWithDemo})
