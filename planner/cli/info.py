"""``python -m planner info SOURCE``: load a street and print its load report."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from planner.cli.parser import EXIT_OK, add_source_args, load_from_args, settings_from_args


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "info",
        help="load a street and print the load report",
        description="Load a street (demo, a folder, an OSM extract or place:NAME) and print "
        "its load report: layer counts, households, stations, network, estimates and repairs.",
    )
    add_source_args(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    street = load_from_args(args, settings, announce=False)  # the report lists them
    if args.json:
        sys.stdout.write(json.dumps(street.report.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(street.report.to_text() + "\n")
    return EXIT_OK
