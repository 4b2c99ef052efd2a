"""Command line: ``python -m planner COMMAND ...``.

Each command lives in its own module under :mod:`planner.cli` and provides
``register(subparsers)`` and ``run(args) -> int``. Exit codes: 0 ok, 1 a grid rule
is violated, 2 bad input (the message says what and how to fix it; never a traceback),
3 an internal error (a bug: a one-line message, the traceback in a log file).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from planner._atomic import require_writable
from planner.errors import InputError, PlannerError, Problem, RuleViolation, SettingsError
from planner.schema import STATION_KIND_ALIASES, STATION_KINDS
from planner.settings import DEFAULT_SERVICE_KINDS, Settings
from planner.street import Street

if TYPE_CHECKING:  # --- org ---
    from planner.organisation.registers import RegisterFiles

EXIT_OK = 0
EXIT_RULES = 1
EXIT_BAD_INPUT = 2
EXIT_CRASH = 3

#: Where crash logs go: ``$PLANNER_LOG_DIR``, else ``<temp>/planner-logs``.
LOG_DIR_ENV = "PLANNER_LOG_DIR"

#: Command modules under planner.cli, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "info",
    "export",
    "grids",
    "coverage",
    "site",
    "check_grids",
    "run",
    "whatif",  # --- services: what-if scenarios (issue 16)
    # --- city: issue 17, every street of a city on Dask ---
    "city",
)


def add_source_args(p: argparse.ArgumentParser) -> None:
    """The SOURCE argument and the options every loading command shares."""
    p.add_argument(
        "source",
        help="'demo', a folder of layer files, an OSM extract (.osm/.osm.pbf), a CAD "
        "drawing (.dxf, with --dxf-layers and --crs), "
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
    p.add_argument(
        "--crs",
        help="coordinate system of layer files that declare none (a Shapefile without .prj, "
        "a GeoJSON in Gauss-Kruger metres, a DXF): an EPSG code such as EPSG:4547 (CGCS2000 "
        "3-degree Gauss-Kruger CM 114E), cgcs2000, a PROJ string, WKT, or a .prj file",
    )
    p.add_argument(
        "--dxf-layers",
        help="for a .dxf source: CAD layer per planner layer, and text layers giving fields, "
        "e.g. roads=道路,buildings=建筑,boundary=街道界,buildings.households=户数文字层 "
        "(or a file of such pairs); needs --crs",
    )
    p.add_argument("--register", type=Path, help="household register (.csv in UTF-8/GBK, .xlsx)")
    p.add_argument(
        "--station-kinds-file",
        type=Path,
        help="station-kinds mapping (.csv/.xlsx with columns text,kind, or .yaml/.yml with "
        "'text: kind' lines): the register's own kind names -> catalogue kinds",
    )
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


def check_out(path: Path) -> None:
    """Refuse an ``--out`` folder the outputs cannot be written to, before any work and
    without creating anything (:func:`out_folder` creates it when the outputs are ready;
    a bad input file found meanwhile leaves no empty folder behind)."""
    if path.exists() and not path.is_dir():
        raise InputError(
            f"--out {path} is a file, not a folder",
            fix="give a folder path for the outputs (it is created if needed)",
        )
    existing = next(p for p in (path, *path.absolute().parents) if p.exists())
    require_writable(existing, what=f"--out {path}")


def out_folder(path: Path) -> Path:
    """Create the ``--out`` folder (and its parents) or say plainly why it cannot be."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError(
            f"--out {path} is a file, not a folder",
            fix="give a folder path for the outputs (it is created if needed)",
        ) from None
    except OSError as exc:
        raise InputError(
            f"--out {path}: cannot create the folder ({exc.strerror or exc})",
            fix="give a folder you can write to (it is created if needed)",
        ) from None
    require_writable(path, what=f"--out {path}")
    return path


def add_minutes_args(p: argparse.ArgumentParser) -> None:
    """``--minutes`` (the service-circle thresholds) and ``--gap-minutes`` (the promise)."""
    p.add_argument(
        "--minutes",
        default=None,
        action="append",
        metavar="T[,T...]",
        help="thresholds in minutes, comma-separated (default 5,10,15); given twice, "
        "both lists count",
    )
    p.add_argument(
        "--gap-minutes",
        type=float,
        default=None,
        metavar="T",
        help="gaps and uncovered households are counted beyond this threshold, minutes; "
        "one of --minutes (default 15: GB 50180's 15-minute life circle)",
    )


def parse_minutes(text: str | None) -> list[float] | None:
    """``"5,10,15"`` -> ``[5.0, 10.0, 15.0]``; refuses anything else with a clear message.

    Order and repeats do not matter: :class:`~planner.settings.Settings` sorts the
    thresholds and keeps each once.
    """
    if text is None:
        return None
    try:
        values = [float(x) for x in text.replace("，", ",").split(",") if x.strip()]
    except ValueError:
        raise InputError(
            f"--minutes {text!r} is not a list of numbers",
            fix="write minutes separated by commas, e.g. --minutes 5,10,15",
        ) from None
    if not values:
        raise InputError("--minutes is empty", fix="e.g. --minutes 5,10,15")
    return values


def minutes_settings(args: argparse.Namespace) -> dict[str, Any]:
    """``thresholds_min`` and ``gap_minutes`` from :func:`add_minutes_args` flags (None: default)."""
    given = getattr(args, "minutes", None)
    text = ",".join(given) if isinstance(given, list) else given
    minutes = parse_minutes(text)
    return {
        "thresholds_min": tuple(minutes) if minutes is not None else None,
        "gap_minutes": getattr(args, "gap_minutes", None),
    }


def add_station_args(p: argparse.ArgumentParser) -> None:
    """``--service-kinds`` (which stations serve), ``--no-margin-stations`` and the
    bounds on the circles' work (``--max-stations``, ``--max-network-edges``)."""
    p.add_argument(
        "--service-kinds",
        default=None,
        metavar="KIND[,KIND...]",
        help="station kinds that count as service stations, comma-separated (default "
        f"{','.join(DEFAULT_SERVICE_KINDS)}; all: {','.join(STATION_KINDS)})",
    )
    p.add_argument(
        "--no-margin-stations",
        action="store_true",
        help="stations outside the street (in the margin) do not serve its residents",
    )
    p.add_argument(
        "--max-stations",
        type=int,
        default=None,
        metavar="N",
        help="most service stations to draw circles for (default 5000); more are refused "
        "before the circles, with the expected time and memory",
    )
    p.add_argument(
        "--max-network-edges",
        type=int,
        default=None,
        metavar="N",
        help="largest walking network to work on, edges (default 250000)",
    )
    add_service_args(p)


def parse_service_kinds(text: str | None) -> tuple[str, ...] | None:
    """``"community_station,便民服务点"`` -> station kinds (Chinese and English names too).

    Unknown kinds are passed on as typed: the settings refuse them, naming the kind
    and listing the valid ones.
    """
    if text is None:
        return None
    items = [x.strip() for x in text.replace("，", ",").split(",") if x.strip()]
    if not items:
        raise InputError(
            "--service-kinds is empty",
            fix=f"name one or more of {', '.join(STATION_KINDS)}",
        )
    out = [x if x in STATION_KINDS else STATION_KIND_ALIASES.get(x.lower(), x) for x in items]
    return tuple(dict.fromkeys(out))


def station_settings(args: argparse.Namespace) -> dict[str, Any]:
    """``service_kinds``, ``count_margin_stations`` and the bounds on work
    (``max_stations``, ``max_network_edges``) from :func:`add_station_args` flags."""
    out: dict[str, Any] = {
        "service_kinds": parse_service_kinds(getattr(args, "service_kinds", None))
    }
    if getattr(args, "no_margin_stations", False):
        out["count_margin_stations"] = False
    for name in ("max_stations", "max_network_edges"):
        if getattr(args, name, None) is not None:
            out[name] = getattr(args, name)
    out.update(service_settings(args))
    return out


# --- services: service kinds, circle minutes and a mapping file (issue 16) ---
def add_service_args(p: argparse.ArgumentParser) -> None:
    """``--service-catalogue``, ``--circle-minutes`` and ``--service-kinds-file``: which
    service kinds the completeness checks, the 5/10/15-minute circles' minutes, and a
    register's own names for kinds."""
    p.add_argument(
        "--service-catalogue",
        default=None,
        metavar="KIND[,KIND...]",
        help="service kinds whose circles are checked for completeness (default all; "
        "e.g. kindergarten,primary_school,party_mass)",
    )
    p.add_argument(
        "--circle-minutes",
        default=None,
        metavar="M5,M10,M15",
        help="walking minutes of the 5-, 10- and 15-minute life circles (default 5,10,15)",
    )
    p.add_argument(
        "--service-kinds-file",
        type=Path,
        default=None,
        metavar="FILE",
        help="CSV/xlsx mapping names to service kinds (columns text,service_kind)",
    )


def service_settings(args: argparse.Namespace) -> dict[str, Any]:
    """``service_catalogue``, ``service_circle_minutes`` and ``service_kind_names`` from
    :func:`add_service_args` flags (a mapping file's problems raise :class:`InputError`)."""
    from planner.coverage.service_kinds import kind_lookup, read_service_kinds_file
    from planner.errors import ProblemLog

    out: dict[str, Any] = {}
    cat = getattr(args, "service_catalogue", None)
    if cat is not None:
        lookup = kind_lookup()
        items = [x.strip() for x in cat.replace("，", ",").split(",") if x.strip()]
        out["service_catalogue"] = tuple(lookup.get(x.lower(), lookup.get(x, x)) for x in items)
    minutes = getattr(args, "circle_minutes", None)
    if minutes is not None:
        try:
            values = [float(x) for x in minutes.replace("，", ",").split(",") if x.strip()]
        except ValueError:
            raise InputError(
                f"--circle-minutes {minutes!r} is not a list of numbers",
                fix="write three minutes separated by commas, e.g. --circle-minutes 5,10,15",
            ) from None
        out["service_circle_minutes"] = tuple(values)
    path = getattr(args, "service_kinds_file", None)
    if path is not None:
        problems = ProblemLog()
        mapping = read_service_kinds_file(Path(path), problems=problems)
        if problems.problems:
            raise InputError(problems.problems)
        out["service_kind_names"] = tuple(mapping.items())
    return out


class SettingFlag(NamedTuple):
    """The command-line flag that sets a setting, and how to fix a bad value."""

    flag: str
    dest: str
    fix: str


#: Settings a user sets by a flag: a bad value is reported under the flag typed.
SETTING_FLAGS: dict[str, SettingFlag] = {
    "walk_speed_kmh": SettingFlag(
        "--speed-kmh", "speed_kmh", "give a walking speed of 0.5-10 km/h, e.g. --speed-kmh 4"
    ),
    "margin_m": SettingFlag("--margin-m", "margin_m", "give 0-10,000 m, e.g. --margin-m 1000"),
    "thresholds_min": SettingFlag(
        "--minutes",
        "minutes",
        "give minutes above 0 and at most 120, comma-separated, e.g. --minutes 5,10,15",
    ),
    "gap_minutes": SettingFlag(
        "--gap-minutes",
        "gap_minutes",
        "make --gap-minutes one of the --minutes values, e.g. --minutes 5,10,15 "
        "--gap-minutes 15 (GB 50180's 15-minute circle)",
    ),
    "service_kinds": SettingFlag(
        "--service-kinds",
        "service_kinds",
        "name kinds from that list, e.g. --service-kinds community_station,grid_station",
    ),
    "grid_min_households": SettingFlag(
        "--min-households", "min_households", "give a minimum below --max-households"
    ),
    "grid_max_households": SettingFlag(
        "--max-households", "max_households", "give a maximum above --min-households"
    ),
    "grid_target_households": SettingFlag(
        "--target-households",
        "target_households",
        "give a target between --min-households and --max-households",
    ),
    "code_county": SettingFlag(
        "--code-county", "code_county", "give the 6-digit county code, e.g. --code-county 110108"
    ),
    "code_street": SettingFlag(
        "--code-street", "code_street", "give the 3-digit street code, e.g. --code-street 001"
    ),
    "min_station_spacing_m": SettingFlag(
        "--spacing-m", "spacing_m", "give 0 or more metres, e.g. --spacing-m 300"
    ),
    "candidate_spacing_m": SettingFlag(
        "--candidate-spacing-m", "candidate_spacing_m", "give a positive distance, e.g. 150"
    ),
    "station_capacity_households": SettingFlag(
        "--capacity", "capacity", "give 0 (no limit) or more households"
    ),
    "mip_time_limit_s": SettingFlag("--time-limit", "time_limit", "give a positive time, s"),
    "max_stations": SettingFlag("--max-stations", "max_stations", "give 1 or more, e.g. 5000"),
    "max_network_edges": SettingFlag(
        "--max-network-edges", "max_network_edges", "give 1 or more, e.g. 250000"
    ),
    # --- services ---
    "service_catalogue": SettingFlag(
        "--service-catalogue",
        "service_catalogue",
        "name service kinds from that list, e.g. --service-catalogue kindergarten,party_mass",
    ),
    "service_circle_minutes": SettingFlag(
        "--circle-minutes", "circle_minutes", "give three increasing minutes, e.g. 5,10,15"
    ),
}


def _typed(args: argparse.Namespace, dest: str) -> Any:
    """What the user typed for a flag (None when the flag was not given)."""
    value = getattr(args, dest, None)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):  # a flag given more than once
        return ",".join(str(v) for v in value)
    return None if value is None or value is False else value


def settings_problems(exc: SettingsError, args: argparse.Namespace) -> list[Problem]:
    """The settings errors as problems naming the flag the user typed, with a fix.

    A setting with no flag on this command (or one the user did not type, e.g. a
    code from ``street.json``) keeps its setting name.
    """
    out: list[Problem] = []
    for name, value, rule in exc.problems:
        f = SETTING_FLAGS.get(name)
        typed = _typed(args, f.dest) if f is not None else None
        minutes = _typed(args, "minutes")
        if f is not None and typed is not None:
            for other, g in SETTING_FLAGS.items():  # "above grid_max_households=500" too
                rule = rule.replace(f"{other}=", f"{g.flag} ")
            out.append(Problem(f"{f.flag} {typed}: {rule}", fix=f.fix))
        elif name == "gap_minutes" and minutes is not None:
            # the user changed the thresholds and left out the default promise (15 min)
            gap_flag = hasattr(args, "gap_minutes")
            out.append(
                Problem(
                    f"--minutes {minutes} leaves out {value:g} minutes, the threshold gaps "
                    f"and uncovered households are counted at (--gap-minutes, default 15: "
                    f"GB 50180's 15-minute circle)",
                    fix=f"add {value:g} to --minutes"
                    + (", or name one of them with --gap-minutes" if gap_flag else ""),
                )
            )
        else:
            out.append(Problem(f"setting {name}={value!r}: {rule}"))
    return out


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
        help="6-digit county code (GB/T 2260) in grid codes (default: street.json's or the OSM "
        "admin relation's ref:admin:CN, else 000000 and the codes are flagged provisional)",
    )
    p.add_argument(
        "--code-street",
        help="3-digit street code in grid codes (default: street.json's or the OSM admin "
        "relation's ref:admin:CN:mca, else 000 and the codes are flagged provisional)",
    )
    # --- bounds: the division method and accepted exceptions ---
    p.add_argument(
        "--accept-exception",
        action="append",
        metavar="CODE_OR_COMPOUND",
        help="accept the grid with this code, or the grid holding this compound id, outside "
        "the household bounds (repeatable; default: only proved exceptions pass)",
    )
    if target:
        p.add_argument(
            "--grid-method",
            choices=["auto", "heuristic", "exact"],
            help="auto (default): the exact method (MILP) where the heuristic leaves grids out "
            "of bounds; exact: on every community; heuristic: never",
        )
        p.add_argument(
            "--exact-time-limit",
            type=float,
            metavar="SECONDS",
            help="time limit of the exact method per community piece (20 s)",
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
        # --- bounds: the division method and accepted exceptions ---
        "grid_method": getattr(args, "grid_method", None),
        "grid_exact_time_limit_s": getattr(args, "exact_time_limit", None),
        "grid_accepted_exceptions": getattr(args, "accept_exception", None),
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


def print_problems(problems: Iterable[Problem]) -> None:
    """Each problem on stderr, as ``info`` lists them (``warning: [file ...] ... Fix: ...``)."""
    for problem in problems:
        print(f"{problem.severity}: {problem}", file=sys.stderr)


def print_load_warnings(street: Street) -> None:
    """What the load assumed or left out (an encoding guessed, text cut, features
    dropped), on stderr: every command that reads a street says it, not only ``info``."""
    print_problems(p for p in street.report.notes if p.severity == "warning")


def load_from_args(
    args: argparse.Namespace, settings: Settings, *, announce: bool = True
) -> Street:
    """Load the street named by the shared source flags; with ``announce``, print the
    load's warnings (:func:`print_load_warnings`) before the command's own work."""
    from planner.load.sources import load_street

    street = load_street(
        args.source,
        boundary=args.boundary,
        stations=args.stations,
        points_crs=args.points_crs,
        register=args.register,
        settings=settings,
        crs=getattr(args, "crs", None),
        dxf_layers=getattr(args, "dxf_layers", None),
        station_kinds=args.station_kinds_file,
    )
    if announce:
        print_load_warnings(street)
    return street


# --- org: organisation registers (issue 15) ---


def add_register_args(g: Any) -> None:
    """The four organisation register files and the incidents' coordinate system, in
    argument group ``g`` (shared by the single-street commands and ``city``)."""
    g.add_argument("--party-register", type=Path, help="party organisations 党组织台账")
    g.add_argument(
        "--staff-register", type=Path, help="grid staff 网格员台账 (phones kept private)"
    )
    g.add_argument("--property-register", type=Path, help="property management 物业台账")
    g.add_argument("--incident-register", type=Path, help="grid incidents 网格事件台账")
    g.add_argument(
        "--incidents-crs",
        choices=["wgs84", "gcj02", "bd09"],
        default="wgs84",
        help="coordinate system of the incidents' longitude/latitude (default wgs84)",
    )


def add_org_args(p: argparse.ArgumentParser, *, demo: bool = False) -> None:
    """The organisation registers (``--party-register`` ...) and what is exported of them."""
    g = p.add_argument_group(
        "organisation registers (.csv UTF-8/GBK or .xlsx; rows keyed by grid code, "
        "building, compound or address)"
    )
    add_register_args(g)
    add_register_output_args(g)
    g.add_argument(
        "--no-registers",
        action="store_true",
        help="on the demo street: leave out its synthetic organisation registers",
    )


def add_register_output_args(g: Any) -> None:
    """What a run writes of the organisation registers and the other grid systems
    (``--organisation-names`` ... ``--nest-in``), in argument group ``g`` (shared by
    the single-street commands and ``city``). Each option's ``dest`` is the keyword of
    :func:`planner.pipeline.run_pipeline` it sets."""
    g.add_argument(
        "--organisation-names",
        action="store_true",
        help="also write branch and team names into the grids layers (default: counts only)",
    )
    g.add_argument(
        "--card-phones",
        action="store_true",
        help="print the staff's phones on the grid cards (default: no phones; cards are posted)",
    )
    g.add_argument(
        "--cards-by-community",
        action="store_true",
        help="also write one PDF of grid cards per community (grid_cards/<community_id>.pdf)",
    )
    g.add_argument(
        "--other-grids",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="another grid system's cells (综治, 城管, police beats; polygons with an id): "
        "report which of its cells each grid overlaps and whether it nests (repeatable)",
    )
    g.add_argument(
        "--nest-in",
        type=Path,
        metavar="FILE",
        help="also divide so that every grid nests inside this layer's cells, and report "
        "the cost in balance (grids_nested, nesting_cost.csv)",
    )


def org_files_from_args(args: argparse.Namespace, source: str) -> RegisterFiles | None:
    """The registers the flags name; on ``demo`` without any, the demo's synthetic ones
    (unless ``--no-registers``). ``None`` when there are none."""
    from planner.organisation.organise import demo_register_files
    from planner.organisation.registers import RegisterFiles

    files = RegisterFiles(
        party=getattr(args, "party_register", None),
        staff=getattr(args, "staff_register", None),
        property=getattr(args, "property_register", None),
        incidents=getattr(args, "incident_register", None),
        incidents_crs=getattr(args, "incidents_crs", "wgs84"),
    )
    if files:
        return files
    if str(source) == "demo" and not getattr(args, "no_registers", False):
        return demo_register_files()
    return None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m planner",
        description="Grids and 15-minute walking service circles for a sub-district (街道).",
        epilog="Exit codes: 0 ok, 1 a grid rule is violated, 2 bad input, 3 an internal "
        "error (the message names a log file with the details).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"planner.cli.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (see the module docstring).

    No input ends in a traceback: the planner's own errors are mapped to 1 or 2 by
    :func:`run_command`, and anything else (a bug) to 3, with a one-line message and
    the traceback in a log file (:func:`write_crash_log`).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return run_command(args)
    except Exception as exc:  # a bug in the planner, not bad input: never a bare traceback
        where = write_crash_log(exc, sys.argv if argv is None else ["planner", *argv])
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        detail = f"details in {where}" if where else "the traceback follows"
        print(
            f"internal error: {type(exc).__name__}: {first} (a bug in the planner, not in "
            f"your data; please report it); {detail}",
            file=sys.stderr,
        )
        if where is None:
            traceback.print_exception(exc, file=sys.stderr)
        return EXIT_CRASH


def run_command(args: argparse.Namespace) -> int:
    """Run the command of ``args``, mapping the planner's errors to exit codes 1 and 2."""
    try:
        code: int = args.func(args)
        return code
    except RuleViolation as exc:
        print(f"rule violated: {exc}", file=sys.stderr)
        return EXIT_RULES
    except SettingsError as exc:
        text = str(InputError(settings_problems(exc, args))) if exc.problems else str(exc)
        print(f"error: {text}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except PlannerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}", file=sys.stderr)
        return EXIT_BAD_INPUT


def write_crash_log(exc: BaseException, command: Sequence[str]) -> Path | None:
    """Write the command and the traceback of ``exc`` to a new log file; its path, or
    None when no log can be written."""
    folder = Path(os.environ.get(LOG_DIR_ENV) or Path(tempfile.gettempdir()) / "planner-logs")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    text = "".join(traceback.format_exception(exc))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f"crash-{stamp}-", suffix=".log", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"command: {' '.join(command)}\npython: {sys.version.split()[0]}\n\n{text}")
    except OSError:
        return None
    return Path(name)
