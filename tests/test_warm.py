"""The install step that compiles the numba kernels (``python -m planner._warm``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KERNELS = ("_tree_kernel.spanning_tree-", "_reach_kernel._bounded_reach-")


def test_warm_compiles_and_caches_every_kernel(tmp_path: Path) -> None:
    """A fresh cache folder holds both kernels' cache after the warm step alone."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "planner._warm"], check=True, env=env, cwd=ROOT)
    written = [p.name for p in tmp_path.rglob("*.nbi")]
    for kernel in KERNELS:
        assert any(name.startswith(kernel) for name in written), (kernel, written)


def test_setup_runs_the_warm_step_when_the_cache_is_missing() -> None:
    setup = (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert "python -m planner._warm" in setup
    for kernel in KERNELS:  # the cache files it looks for are the ones numba writes
        assert kernel in setup
