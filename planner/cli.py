"""Command line: ``python -m planner COMMAND ...``.

Each command lives in its own module under :mod:`planner.commands` and provides
``register(subparsers)`` and ``run(args) -> int``. Exit codes: 0 ok, 1 a grid rule
is violated, 2 bad input (the message says what and how to fix it; never a traceback).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from planner.errors import InputError, PlannerError, RuleViolation, SettingsError
from planner.settings import Settings

EXIT_OK = 0
EXIT_RULES = 1
EXIT_BAD_INPUT = 2

#: Command modules under planner.commands, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "info",
    "export",
    "grids",
    "coverage",
    "site",
    "check_grids",
    "run",
)


def add_source_args(p: argparse.ArgumentParser) -> None:
    """The SOURCE argument and the options every loading command shares."""
    p.add_argument(
        "source",
        help="'demo', a folder of layer files, an OSM extract (.osm/.osm.pbf), "
        "'place:NAME' to download from OpenStreetMap (needs internet), or 'osm' with "
        "--boundary to download OpenStreetMap data inside that polygon",
    )
    p.add_argument("--boundary", type=Path, help="boundary file (clips an OSM extract)")
    p.add_argument("--stations", type=Path, help="stations file (replaces the source's stations)")
    p.add_argument(
        "--points-crs",
        choices=["wgs84", "gcj02", "bd09"],
        default="wgs84",
        help="coordinate system of longitude/latitude in CSV point files (default wgs84)",
    )
    p.add_argument("--register", type=Path, help="household register (.csv in UTF-8/GBK, .xlsx)")
    p.add_argument("--margin-m", type=float, help="walking network margin beyond the boundary, m")
    p.add_argument("--speed-kmh", type=float, help="walking speed, km/h (default 4)")


def settings_from_args(args: argparse.Namespace, **extra: Any) -> Settings:
    """Settings from the shared flags plus command-specific ones (None = default)."""
    values: dict[str, Any] = {}
    if getattr(args, "margin_m", None) is not None:
        values["margin_m"] = args.margin_m
    if getattr(args, "speed_kmh", None) is not None:
        values["walk_speed_kmh"] = args.speed_kmh
    values.update({k: v for k, v in extra.items() if v is not None})
    return Settings.from_dict(values)


#: Grid-code settings a user may give as flags; given flags win over ``street.json``.
GRID_CODE_FLAGS: tuple[str, ...] = ("code_county", "code_street")


def add_grid_args(p: argparse.ArgumentParser, *, target: bool = True) -> None:
    """The household bounds and code flags of every command that makes or checks grids."""
    p.add_argument("--min-households", type=int, help="hard minimum households per grid (200)")
    p.add_argument("--max-households", type=int, help="hard maximum households per grid (500)")
    if target:
        p.add_argument("--target-households", type=int, help="target households per grid (300)")
    p.add_argument(
        "--code-county",
        help="6-digit county code (GB/T 2260) in grid codes (default: street.json's, else 110108)",
    )
    p.add_argument(
        "--code-street", help="3-digit street code in grid codes (default: street.json's, else 001)"
    )


def grid_settings_from_args(args: argparse.Namespace, **extra: Any) -> Settings:
    """Settings from the shared and grid flags (see :func:`add_grid_args`).

    When only a bound is given and the default target falls outside the new range,
    the target becomes the middle of the range, so one flag alone stays valid.
    """
    values: dict[str, Any] = {
        "grid_min_households": getattr(args, "min_households", None),
        "grid_max_households": getattr(args, "max_households", None),
        "grid_target_households": getattr(args, "target_households", None),
        **{k: getattr(args, k, None) for k in GRID_CODE_FLAGS},
        **extra,
    }
    d = Settings()
    lo = values["grid_min_households"] or d.grid_min_households
    hi = values["grid_max_households"] or d.grid_max_households
    if values["grid_target_households"] is None and not lo <= d.grid_target_households <= hi:
        values["grid_target_households"] = (lo + hi) // 2
    return settings_from_args(args, **values)


def code_flags(args: argparse.Namespace) -> list[str]:
    """The grid-code settings the user gave as flags (they win over ``street.json``)."""
    return [k for k in GRID_CODE_FLAGS if getattr(args, k, None) is not None]


def load_from_args(args: argparse.Namespace, settings: Settings) -> Any:
    """Load the street named by the shared source flags."""
    from planner.load import load_street

    return load_street(
        args.source,
        boundary=args.boundary,
        stations=args.stations,
        points_crs=args.points_crs,
        register=args.register,
        settings=settings,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m planner",
        description="Grids and 15-minute walking service circles for a sub-district (街道).",
        epilog="Exit codes: 0 ok, 1 a grid rule is violated, 2 bad input.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"planner.commands.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        code: int = args.func(args)
        return code
    except RuleViolation as exc:
        print(f"rule violated: {exc}", file=sys.stderr)
        return EXIT_RULES
    except (InputError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except PlannerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}", file=sys.stderr)
        return EXIT_BAD_INPUT
