#!/usr/bin/env bash
# First README command: install what is needed, then open the app on the demo street.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# streamlit run app.py, with the imports and the demo street warmed at server start
exec .venv/bin/python -m planner.app.serve app.py "$@"
