"""Command modules of ``python -m planner`` (one module per command)."""
