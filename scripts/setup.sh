#!/usr/bin/env bash
# Installs everything the planner needs into .venv (created if missing) and the
# Debian packages the tests and PNG exports use. Safe to run again; used by
# scripts/run.sh and scripts/test.sh. Needs only the package registries.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] && ls /usr/share/fonts/opentype/noto/NotoSansCJK* >/dev/null 2>&1 || need_apt+=(fonts-noto-cjk)
if [ ${#need_apt[@]} -gt 0 ] && [ "${PLANNER_SKIP_APT:-0}" != "1" ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
    echo "Installing Debian packages: ${need_apt[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "warning: apt-get not found; install ${need_apt[*]} yourself (browser tests and PNG export need them)" >&2
  fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[dev]"
# Compile the numba kernels once (cached beside their modules), so a planner's first
# grid division does not wait ~6 s for the compiler; skipped when the cache exists.
if ! ls planner/grids/__pycache__/_tree_kernel.spanning_tree-*.nbi planner/network/__pycache__/_reach_kernel._bounded_reach-*.nbi >/dev/null 2>&1; then
  .venv/bin/python -m planner._warm
fi
