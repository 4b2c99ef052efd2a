"""``python -m planner run SOURCE --out DIR`` and ``python -m planner demo --out DIR``.

The whole job in one command (:func:`planner.pipeline.run_pipeline`): load the
street, divide it into grids, compute the walking coverage, propose new station
sites, and export everything into DIR, with a progress bar per step and a final
summary. ``--quiet`` prints nothing but errors (for scripts).

Exit codes: 0 ok; 1 the grids break a rule (every file is still written, and
``grid_rules.txt`` says where); 2 bad input (the message says what and how to fix);
128 + N when signal N (SIGTERM 15, SIGINT 2) stopped it, with ``--out`` as it was.

The files are written into a staging folder beside ``--out`` and swapped into place
when complete (:func:`planner.export.outputs.write_run_files`), so ``--out`` never
holds a mix of two runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from planner._atomic import (
    COMPLETE_MARKER,
    Interrupted,
    interrupts_raise,
    raise_if_stop_requested,
    read_marker,
)
from planner._stdio import native_stdout_to_null
from planner.cli.parser import (
    EXIT_OK,
    EXIT_RULES,
    add_grid_args,
    add_minutes_args,
    add_org_args,
    add_source_args,
    add_station_args,
    code_flags,
    grid_settings_from_args,
    minutes_settings,
    org_files_from_args,
    out_folder,
    print_load_warnings,
    station_settings,
)
from planner.pipeline import DEFAULT_NEW_SITES, RunResult, StepBar, run_pipeline
from planner.street import completeness_warning


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, required=True, help="output folder (created if needed)")
    p.add_argument(
        "--sites",
        type=int,
        default=DEFAULT_NEW_SITES,
        metavar="K",
        help=f"new stations to propose (default {DEFAULT_NEW_SITES}; 0 skips siting)",
    )
    p.add_argument("--no-siting", action="store_true", help="skip siting (same as --sites 0)")
    p.add_argument(
        "--coordinates",
        choices=["wgs84", "gcj02"],
        default="wgs84",
        help="coordinates of every exported file: wgs84 (default) or gcj02 for "
        "Amap/Tencent-based systems (stated in each file's metadata)",
    )
    p.add_argument(
        "--out-crs",
        help="write the GeoPackage, Shapefiles and CSV x/y in this coordinate system (the "
        "city's survey CRS): an EPSG code such as EPSG:4547 (CGCS2000 3-degree "
        "Gauss-Kruger CM 114E), cgcs2000, a PROJ string, WKT or a .prj file; GeoJSON stays "
        "WGS84 (RFC 7946)",
    )
    p.add_argument(
        "--formats",
        default="geojson,gpkg,shp,csv,xlsx",
        help="export formats, comma-separated (default geojson,gpkg,shp,csv,xlsx)",
    )
    p.add_argument("--no-images", action="store_true", help="skip the PNG/PDF map")
    p.add_argument("--no-html", action="store_true", help="skip the HTML red map")
    p.add_argument(  # --- svcapp: the completeness layer on the printed map ---
        "--map-completeness",
        action="store_true",
        help="colour the PNG/PDF map's homes by the service kinds they miss (服务完整度)",
    )
    add_minutes_args(p)
    add_station_args(p)
    add_grid_args(p)
    add_org_args(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or summary")


def register(sub: Any) -> None:
    epilog = "Exit codes: 0 ok, 1 a grid rule is violated (files still written), 2 bad input."
    p = sub.add_parser(
        "run",
        help="load, divide, coverage, siting and every export in one go",
        description="The whole job: load SOURCE, divide it into grids, compute 15-minute "
        "walking coverage, propose new station sites, and export GeoJSON, GeoPackage, "
        "Shapefile, CSV, the HTML red map and its PNG/PDF into --out.",
        epilog=epilog,
    )
    add_source_args(p)
    _common(p)
    p.set_defaults(func=run)
    d = sub.add_parser(
        "demo",
        help="the whole job on the embedded demo street",
        description="Same as `run demo`: the embedded synthetic demo street, every output.",
        epilog=epilog,
    )
    _common(d)
    d.add_argument("--speed-kmh", type=float, help="walking speed, km/h (default 4)")
    d.set_defaults(func=run_demo)


def _formats(text: str) -> list[str]:
    from planner.errors import InputError
    from planner.export.formats import ALL_FORMATS

    items = [x.strip().lower() for x in text.replace("，", ",").split(",") if x.strip()]
    bad = [x for x in items if x not in ALL_FORMATS]
    if bad or not items:
        raise InputError(
            f"--formats {text!r}: unknown format(s) {bad}",
            fix=f"choose from {', '.join(ALL_FORMATS)}",
        )
    return items


def _settings(args: argparse.Namespace) -> Any:
    return grid_settings_from_args(args, **minutes_settings(args), **station_settings(args))


def _bars(quiet: bool) -> Any:
    from tqdm import tqdm

    def make(desc: str, total: int) -> StepBar:
        bar: StepBar = tqdm(
            total=total,
            desc=f"{desc:<9}",
            unit="step" if total == 1 else "file",
            disable=quiet,
            file=sys.stderr,
            leave=True,
            dynamic_ncols=True,
        )
        return bar

    return make


def format_summary(result: RunResult, out: Path) -> str:
    """The final summary the command prints."""
    st = result.street
    c = st.report.completeness
    lines = [completeness_warning(c)] if c is not None and c.warning else []
    lines.append(
        f"Street 街道: {st.name or '(unnamed)'}"
        + ("  [synthetic demo data]" if st.synthetic else "")
    )
    lines.append(
        f"  households 户数 {st.households_total:,}, buildings {len(st.buildings):,}, "
        f"stations {len(st.stations)}"
    )
    if result.grids is not None:
        g = result.grids
        q = g.report.quality
        lines.append(
            f"Grids 网格: {len(g.grids)}  households per grid "
            f"{q.get('households_min', 0):.0f}-{q.get('households_max', 0):.0f} "
            f"(median {q.get('households_median', 0):.0f});  rules: "
            + (
                "all hold 规则全部满足"
                if g.report.ok
                else f"{sum(not c.passed for c in g.report.checks)} VIOLATED, see grid_rules.txt"
            )
        )
    if result.coverage is not None:
        cs = result.coverage.summary
        parts = [
            f"{t} min " + ("— (no households)" if pct is None else f"{pct}%")
            for t, pct in cs.get("households_covered_pct", {}).items()
        ]
        lines.append("Coverage 覆盖 (households): " + ", ".join(parts))
        lines.append(
            f"  gaps: {cs.get('gaps', 0)} areas, {cs.get('gap_area_m2', 0):,.0f} m²; "
            f"{cs.get('walking_speed_note', '')}"
        )
    households = result.coverage.summary.get("households_total") if result.coverage else None
    if result.siting is not None and households == 0:
        lines.append("Siting 选址: no households to cover, no station proposed")
    elif result.siting is not None:
        ss = result.siting.summary
        lines.append(
            f"Siting 选址: {len(result.siting.sites)} new stations -> "
            f"{100 * float(ss.get('share_covered_after', 0) or 0):.1f}% covered "
            f"(was {100 * float(ss.get('share_covered_before', 0) or 0):.1f}%)"
        )
    if result.organisation is not None:  # --- org ---
        org = result.organisation.report
        failed = [c.name for c in org.checks if not c.passed]
        lines.append(
            f"Organisation 组织建设: {len(org.checks)} rules checked, "
            + (
                f"{len(failed)} not met ({', '.join(failed)}), see grid_rules.txt"
                if failed
                else "all met"
            )
        )
    for n in result.notes:
        lines.append(f"Note: {n}")
    timing = ", ".join(f"{k} {v:.1f}s" for k, v in result.timings_s.items())
    lines.append(f"Wrote {len(result.files)} files to {out}  ({timing})")
    return "\n".join(lines)


def run(args: argparse.Namespace, *, source: str | None = None) -> int:
    """The ``run`` command (and ``demo`` with ``source="demo"``); returns the exit code.

    SIGTERM, SIGINT (Ctrl-C) and SIGHUP stop the run cleanly: the staging folder and
    every temporary file are removed, ``--out`` keeps the previous complete set, and
    the command says so and exits with 128 + the signal's number.
    """
    with interrupts_raise():
        try:
            code = _run(args, source=source)
            raise_if_stop_requested(after_swap=True)  # a stop whose exception was lost
            return code
        except Interrupted as exc:
            print(stopped_message(exc, args.out), file=sys.stderr)
            return 128 + exc.signum


def stopped_message(exc: Interrupted, out: Path) -> str:
    """What the command prints when a signal stopped it."""
    if exc.after_swap:
        return (
            f"stopped by {exc.signal_name} as the run finished: {out} holds its complete "
            f"set of files ({COMPLETE_MARKER} lists them)"
        )
    kept = (
        f"{out} still holds the previous complete run ({COMPLETE_MARKER} lists its files)"
        if read_marker(out) is not None
        else f"nothing in {out} was changed"
    )
    return (
        f"stopped by {exc.signal_name} before the run finished: {kept}; no temporary file is left"
    )


def _run(args: argparse.Namespace, *, source: str | None) -> int:
    settings = _settings(args)
    k = 0 if args.no_siting else args.sites
    if k < 0:
        from planner.errors import InputError

        raise InputError(f"--sites {k} is negative", fix="give 0 or more new stations")
    load_options: dict[str, Any] = {}
    if source is None:
        source = args.source
        load_options = {
            "boundary": args.boundary,
            "stations": args.stations,
            "points_crs": args.points_crs,
            "register": args.register,
            "crs": args.crs,
            "dxf_layers": args.dxf_layers,
            "station_kinds": args.station_kinds_file,
        }
    with native_stdout_to_null():
        result = run_pipeline(
            source,
            out_folder(args.out),
            settings=settings,
            load_options=load_options,
            new_sites=k,
            formats=_formats(args.formats),  # type: ignore[arg-type]
            coordinate_system=args.coordinates,
            out_crs=args.out_crs,
            html=not args.no_html,
            images=not args.no_images,
            bars=_bars(args.quiet),
            explicit_codes=code_flags(args),
            registers=org_files_from_args(args, str(source)),
            organisation_names=args.organisation_names,
            card_phones=args.card_phones,
            cards_by_community=args.cards_by_community,
            other_grids=args.other_grids,
            nest_in=args.nest_in,
            map_completeness=args.map_completeness,
        )
    if not args.quiet:
        print(format_summary(result, args.out))
    print_load_warnings(result.street)
    return EXIT_OK if result.rules_ok else EXIT_RULES


def run_demo(args: argparse.Namespace) -> int:
    return run(args, source="demo")
