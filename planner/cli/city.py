"""``python -m planner city CITY_SOURCE [--streets FILE] --out DIR``: every street of a city on Dask.

One Dask task per street (:func:`planner.city.run.run_city`): a local cluster of worker
processes sized to the cores this process may use, or an existing cluster with
``--scheduler tcp://host:8786``. Each street's usual files land in
``DIR/streets/<street code>/``; the city rollups ``city_streets.csv``,
``city_communities.csv``, ``city.gpkg``, ``city_redmap.html`` and its print version
``city_redmap.png``/``.pdf`` (``--no-city-images``: none) in ``DIR``. A re-run
only recomputes streets whose inputs (their share within the margin), settings or job
changed (``--force`` re-runs all). Progress: the Dask dashboard's address, then a bar per
job across the streets on a terminal (:class:`BarProgress`), or one line per finished
street with its time and peak memory when the output is a log or a pipe.

Exit codes: 0 every street ran and keeps the grid rules; 1 some street's grids break a
rule; 2 bad input, or one or more streets failed (each named with its error on stderr,
the others are still written); 130 interrupted (Ctrl-C; the cluster is closed).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from planner._atomic import Interrupted, interrupts_raise, raise_if_stop_requested
from planner.cli.parser import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    EXIT_RULES,
    add_register_args,
    add_register_output_args,
    check_out,
    org_files_from_args,
    out_folder,
    settings_from_args,
)
from planner.cli.run import _formats
from planner.export.formats import ExportFormat
from planner.pipeline import DEFAULT_NEW_SITES

if TYPE_CHECKING:
    from planner.city.run import StreetProgress
    from planner.city.task import RegisterOutputs, StreetOutcome

#: Exit code after Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130


def register(sub: Any) -> None:
    from planner.city.task import JOBS

    p = sub.add_parser(
        "city",
        help="every street of a district or city at once, on Dask",
        description="Run every street of a city: one Dask task per street (a local cluster, "
        "or --scheduler for an existing one), each street's files under "
        "DIR/streets/<code>/, and the city tables, GeoPackage and red map in DIR.",
        epilog="Exit codes: 0 ok, 1 a street's grids break a rule, 2 bad input or a street "
        "failed, 130 interrupted.",
    )
    p.add_argument(
        "source",
        help="demo-city:N (a synthetic city of N streets), a folder of city-wide layer files, "
        "a folder of street folders (one sub-folder per street) or a city-wide OSM extract "
        "(.osm, .osm.pbf)",
    )
    p.add_argument(
        "--streets",
        type=Path,
        help="street boundaries: one polygon per street with street_code, county_code, name "
        "(needed for a folder of city-wide layers or an extract; demo-city:N has its own, "
        "street folders their boundaries)",
    )
    p.add_argument(
        "--stations",
        type=Path,
        help="city-wide stations file (replaces the source's; split to streets by location)",
    )
    p.add_argument(
        "--register",
        type=Path,
        help="city-wide household register (.csv/.xlsx; split to streets by building or "
        "compound key)",
    )
    g = p.add_argument_group(
        "city-wide organisation registers (.csv/.xlsx; split to streets by grid code, "
        "building, compound, community or the incident's point)"
    )
    add_register_args(g)
    add_register_output_args(g)  # each street writes what a single-street run writes
    p.add_argument("--out", type=Path, required=True, help="city output folder")
    p.add_argument(
        "--jobs", choices=JOBS, default="run", help="what each street runs (default run)"
    )
    p.add_argument(
        "--scheduler", help="address of an existing Dask scheduler, e.g. tcp://host:8786"
    )
    p.add_argument(
        "--workers", type=int, help="local worker processes (default: the cores available)"
    )
    p.add_argument(
        "--threads",
        action="store_true",
        help="local workers as threads of this process (quick small runs; slower on big ones)",
    )
    p.add_argument(
        "--sites", type=int, default=DEFAULT_NEW_SITES, metavar="K",
        help=f"new stations per street for --jobs run/site (default {DEFAULT_NEW_SITES})",
    )  # fmt: skip
    p.add_argument("--no-html", action="store_true", help="no street red maps (HTML)")
    p.add_argument("--images", action="store_true", help="also each street's PNG/PDF red map")
    p.add_argument(
        "--no-city-images",
        action="store_true",
        help="skip the city red map's PNG/PDF (city_redmap.png/.pdf; written by default)",
    )
    p.add_argument(
        "--formats",
        default="geojson,gpkg,shp,csv,xlsx",
        help="each street's export formats, comma-separated (default geojson,gpkg,shp,csv,xlsx)",
    )
    p.add_argument("--force", action="store_true", help="re-run every street, changed or not")
    p.add_argument("--margin-m", type=float, help="walking network margin beyond each street, m")
    p.add_argument("--speed-kmh", type=float, help="walking speed, km/h (default 4)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    p.set_defaults(func=run)


class BarProgress:
    """A progress bar per job across the streets (tqdm, on ``file``): streets finished of
    the streets to run, elapsed time and ETA, the last street and its peak memory; a
    failed street is written above the bar as it fails."""

    def __init__(self, file: TextIO | None = None) -> None:
        self.file = file or sys.stderr
        self.bar: Any = None

    def start(self, job: str, total: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc=f"{job} streets", unit="street", file=self.file,
                        dynamic_ncols=True, leave=True)  # fmt: skip

    def done(self, outcome: StreetOutcome) -> None:
        if self.bar is None:
            return
        state = "ok" if outcome.ok else "FAILED"
        self.bar.set_postfix_str(f"{outcome.code} {state}, {outcome.peak_mb:.0f} MB", refresh=False)
        self.bar.update(1)
        if not outcome.ok:
            self.bar.write(f"street {outcome.code} failed: {outcome.error}", file=self.file)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def street_progress(
    *, quiet: bool, report: Callable[[str], None], tty: bool | None = None
) -> StreetProgress:
    """The city run's progress: nothing with ``-q``, a bar per job on a terminal
    (:class:`BarProgress`), else one line per finished street
    (:class:`planner.city.run.LineProgress`: logs and pipes stay readable)."""
    from planner.city.run import LineProgress

    if quiet:
        return LineProgress(lambda _line: None)
    if sys.stderr.isatty() if tty is None else tty:
        return BarProgress()
    return LineProgress(report)


def _check_args(args: argparse.Namespace) -> None:
    from planner.errors import InputError

    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers {args.workers}", fix="give 1 or more worker processes")
    if args.scheduler and (args.workers or args.threads):
        raise InputError(
            "--workers/--threads size a local cluster; --scheduler uses an existing one",
            fix="give either --scheduler or --workers/--threads",
        )
    if args.sites < 0:
        raise InputError(f"--sites {args.sites}", fix="give 0 or more new stations")


def register_outputs_from_args(args: argparse.Namespace) -> RegisterOutputs:
    """The register output flags of a single-street run (:func:`add_register_output_args`)
    as every street's task gets them; the other grid files as absolute paths (the
    workers read them), refused before the cluster starts when missing."""
    from planner.city.task import RegisterOutputs
    from planner.errors import InputError

    named = [("--other-grids", p) for p in args.other_grids]
    named += [("--nest-in", args.nest_in)] if args.nest_in else []
    for flag, path in named:
        if not Path(path).is_file():
            raise InputError(f"{flag} {path}: no such file",
                             fix="give a polygon layer file of the other grid system's cells")  # fmt: skip
    return RegisterOutputs(
        organisation_names=args.organisation_names,
        card_phones=args.card_phones,
        cards_by_community=args.cards_by_community,
        other_grids=tuple(str(Path(p).resolve()) for p in args.other_grids),
        nest_in=str(Path(args.nest_in).resolve()) if args.nest_in else None,
    )


def run(args: argparse.Namespace) -> int:
    """The ``city`` command; returns the exit code.

    SIGTERM, SIGINT (Ctrl-C) and SIGHUP stop it cleanly: the Dask cluster is closed,
    every street finished so far keeps its complete folder (a street being written is
    swapped in whole or not at all), and the command says so and exits with 128 + the
    signal's number. A stop whose exception a library lost on the way is raised again
    after the streets and after the city-wide files.
    """
    with interrupts_raise():
        try:
            code = _run(args)
            raise_if_stop_requested(after_swap=True)
            return code
        except Interrupted as exc:
            print(_stopped(exc.signal_name, args.out), file=sys.stderr)
            return 128 + exc.signum
        except KeyboardInterrupt:  # Ctrl-C outside the handler's reach (not the main thread)
            print(_stopped("SIGINT", args.out), file=sys.stderr)
            return EXIT_INTERRUPTED


def _stopped(signal_name: str, out: Path) -> str:
    """What ``city`` prints when it was asked to stop."""
    return (
        f"stopped by {signal_name}: the Dask cluster was closed; the streets finished so far "
        f"keep their complete folders in {out}/streets (a re-run skips them); the city-wide "
        "tables and maps are written by the next complete run"
    )


def _run(args: argparse.Namespace) -> int:
    from planner.city.citymap import write_city_images, write_city_map
    from planner.city.rollup import write_rollups
    from planner.city.run import report_unmatched_rows, run_city
    from planner.city.source import read_city

    _check_args(args)
    outputs = register_outputs_from_args(args)
    if not args.verbose:  # the cluster's own logging (workers joining, closing) is noise
        import distributed  # noqa: F401  (its import sets its logger's level: set ours after)

        logging.getLogger("distributed").setLevel(logging.ERROR)
    settings = settings_from_args(args)
    check_out(args.out)  # refused before reading the city
    city = read_city(
        args.source,
        streets=args.streets,
        stations=args.stations,
        register=args.register,
        margin_m=settings.margin_m,
        org_files=org_files_from_args(args, args.source),
    )
    out = out_folder(args.out)

    def say(line: str) -> None:
        if not args.quiet:
            print(line, flush=True)

    say(f"{len(city.streets)} streets, job {args.jobs}")
    lost, lost_file = report_unmatched_rows(city, out)
    if lost:
        print(f"warning: {lost} row(s) of the city-wide registers belong to no street "
              f"(listed with the reason in {lost_file})", file=sys.stderr)  # fmt: skip
    result = run_city(
        city,
        out,
        settings=settings,
        job=args.jobs,
        scheduler=args.scheduler,
        workers=args.workers,
        processes=not args.threads,
        new_sites=args.sites,
        html=not args.no_html,
        images=args.images,
        formats=cast(tuple[ExportFormat, ...], tuple(_formats(args.formats))),
        force=args.force,
        report=say,
        progress=street_progress(quiet=args.quiet, report=say),
        register_outputs=outputs,
    )
    raise_if_stop_requested()  # before the city-wide files: a lost stop is not a finished run
    files = write_rollups(city, out, result.outcomes)
    files["city_redmap.html"] = write_city_map(city, out)
    if not args.no_city_images:
        files.update({p.name: p for p in write_city_images(city, out)})
    for code in result.failed:
        print(f"error: street {code} failed: {result.outcomes[code].error}", file=sys.stderr)
    say(f"ran {len(result.ran)} street(s), reused {len(result.reused)}; wrote " + ", ".join(files))
    if result.failed:
        return EXIT_BAD_INPUT
    if not all(o.rules_ok for o in result.outcomes.values()):
        return EXIT_RULES
    return EXIT_OK
