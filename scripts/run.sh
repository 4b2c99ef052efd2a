#!/usr/bin/env bash
# First README command: install what is needed, then open the app on the demo street.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/streamlit run app.py "$@"
