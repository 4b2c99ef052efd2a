#!/usr/bin/env bash
# Second README command: install what is needed, then lint, type-check and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== ruff"; .venv/bin/ruff check planner tests bench scripts app.py
echo "== mypy"; .venv/bin/mypy
# One worker per core; a test file stays on one worker so its module fixtures run once.
echo "== pytest"; .venv/bin/python -m pytest -n "${PLANNER_TEST_WORKERS:-auto}" --dist loadfile "$@"
