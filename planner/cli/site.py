"""``python -m planner site SOURCE --out DIR (-k N | --target-share 0.95)``: new station sites.

Writes into DIR:

* ``sites.geojson``: proposed stations, ranked, with households newly covered and
  served and the recommended floor area (30 m² per 100 households);
* ``siting.json``: the answer and the figures to trust it (households covered
  before/after, method, optimality gap, greedy value, times, k, threshold, speed);
* ``candidates.geojson``: every candidate considered (``chosen`` marks the picks);
* ``buildings.geojson``: each building before/after (time, covered, served by);
* ``figures.csv``: households covered before/after per street, community and grid;
* ``circles_before.geojson``, ``circles_after.geojson``: union service circles per
  threshold without and with the proposed stations; ``gaps_before.geojson``,
  ``gaps_after.geojson``: the residential gaps beyond the largest threshold;
* ``unreachable.geojson``: households no candidate can reach (when a target share
  cannot be reached).

Exit codes: 0 a plan was found; 2 bad input or a target that cannot be reached
(``siting.json`` and ``unreachable.geojson`` still say why).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.cli.parser import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    add_source_args,
    add_station_args,
    check_out,
    load_from_args,
    out_folder,
    settings_from_args,
    station_settings,
)
from planner.errors import InputError, ProblemLog
from planner.export.formats import write_csv
from planner.export.geojson import write_geojson, write_text_atomic

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "site",
        help="suggest new station sites (k stations, or fewest stations for a target share)",
        description="Maximal coverage (-k N: where do N new stations bring the most "
        "uncovered households within the walking threshold?) or fewest stations "
        "(--target-share S: how few new stations reach share S of all households?). "
        "Solved exactly with HiGHS under a time limit, with a greedy answer beside it.",
    )
    add_source_args(p)
    add_station_args(p)
    p.add_argument("--out", type=Path, required=True, help="output folder (created if needed)")
    q = p.add_mutually_exclusive_group(required=True)
    q.add_argument("-k", type=int, help="number of new stations (maximal coverage)")
    q.add_argument(
        "--target-share",
        type=float,
        help="target share of all households within the threshold, e.g. 0.95 (fewest stations)",
    )
    p.add_argument(
        "--candidates",
        type=Path,
        help="candidate sites file (points or polygons: GeoJSON/GPKG/SHP, or CSV lon/lat); "
        "default: available buildings, suitable POIs and points generated on the network",
    )
    p.add_argument(
        "--also-generate",
        action="store_true",
        help="with --candidates: also use POIs and generated network points",
    )
    p.add_argument("--exclude", type=Path, help="exclusion areas file (polygons): no new station")
    p.add_argument("--grids", type=Path, help="grids file (polygons with code, community_id)")
    p.add_argument("--minutes", type=float, help="walking threshold, minutes (default 15)")
    p.add_argument("--spacing-m", type=float, help="minimum distance between stations, m")
    p.add_argument("--candidate-spacing-m", type=float, help="spacing of generated candidates, m")
    p.add_argument("--capacity", type=int, help="households one station may serve (0: no limit)")
    p.add_argument("--time-limit", type=float, help="time limit of the exact solve, s")
    p.add_argument(
        "--method", choices=["mip", "greedy"], default="mip", help="exact (default) or greedy"
    )
    p.add_argument("--name", default="scenario", help="scenario name")
    # --- services: site facilities of one service kind (issue 16) ---
    p.add_argument(
        "--service-kind",
        default=None,
        metavar="KIND",
        help="site new facilities of this service kind (e.g. kindergarten, canteen): the "
        "kind's facilities are the existing stations and its circle's minutes the "
        "threshold (default: party-mass service stations)",
    )
    p.add_argument(
        "--no-circles", action="store_true", help="skip the before/after circles and gaps files"
    )
    p.add_argument(
        "-q", "--quiet", action="store_true", help="print nothing but errors (for scripts)"
    )
    p.set_defaults(func=run)


def _read_file(path: Path, *, layer: str, points_crs: str, crs: Any) -> gpd.GeoDataFrame:
    from planner.load.readers import read_layer_file

    problems = ProblemLog()
    gdf = read_layer_file(path, layer=layer, problems=problems, points_crs=points_crs)  # type: ignore[arg-type]
    problems.raise_if_errors()
    if gdf is None or len(gdf) == 0:
        raise InputError(f"{path} holds no features", fix=f"give a {layer} file with features")
    return gdf.to_crs(crs)


def run(args: argparse.Namespace) -> int:
    from planner.pipeline import require_siting_solver

    require_siting_solver()  # a missing solver: exit 2 naming the package and the fix
    from planner.siting.scenario import site_street

    extra: dict[str, Any] = {
        **station_settings(args),
        "min_station_spacing_m": args.spacing_m,
        "candidate_spacing_m": args.candidate_spacing_m,
        "station_capacity_households": args.capacity,
        "mip_time_limit_s": args.time_limit,
    }
    if args.minutes is not None:
        extra["thresholds_min"] = (args.minutes,)
        extra["gap_minutes"] = args.minutes  # the one threshold is the promise here
    settings = settings_from_args(args, **extra)
    check_out(args.out)  # refused before loading or computing anything
    street = load_from_args(args, settings)
    if args.service_kind:
        from planner.coverage.service_kinds import kind_lookup, kind_street

        kind = kind_lookup().get(args.service_kind.strip().lower(), args.service_kind.strip())
        street, settings = kind_street(street, kind, settings)
    cands = excl = grids = None
    if args.candidates:
        cands = _read_file(
            args.candidates, layer="pois", points_crs=args.points_crs, crs=street.crs
        )
    if args.exclude:
        excl = _read_file(args.exclude, layer="landuse", points_crs=args.points_crs, crs=street.crs)
    if args.grids:
        grids = _read_file(args.grids, layer="landuse", points_crs=args.points_crs, crs=street.crs)
        if "code" not in grids.columns:
            raise InputError(
                f"the grids file {args.grids} has no 'code' column",
                fix="name the grid code column 'code' (the grids command writes it)",
            )
    sources = None
    if cands is not None and args.also_generate:
        sources = ("user", "building", "poi", "network")
    result = site_street(
        street,
        k=args.k,
        target_share=args.target_share,
        candidates=cands,
        sources=sources,  # type: ignore[arg-type]
        exclusion=excl,
        grids=grids,
        settings=settings,
        method=args.method,
        name=args.name,
    )
    out: Path = out_folder(args.out)
    prec = settings.coordinate_precision
    summary = result.summary()
    write_geojson(result.sites, out / "sites.geojson", precision=prec)
    write_geojson(result.candidates, out / "candidates.geojson", precision=prec)
    write_geojson(result.buildings, out / "buildings.geojson", precision=prec)
    # UTF-8 with BOM so Excel opens the Chinese names; formula-like text made safe
    write_csv(result.figures, out / "figures.csv")
    if not args.no_circles:
        from planner.siting.scenario import circles_and_gaps

        views = [("before", result.coverage_before)]
        if result.coverage_after is not None:
            views.append(("after", result.coverage_after))
        for label, cov in views:
            circles, gaps = circles_and_gaps(cov, street, label=label)
            write_geojson(circles, out / f"circles_{label}.geojson", precision=prec)
            write_geojson(gaps, out / f"gaps_{label}.geojson", precision=prec)
    unreachable = result.buildings[result.buildings["unreachable"].to_numpy(dtype=bool)]
    if not result.plan.feasible:
        write_geojson(unreachable, out / "unreachable.geojson", precision=prec)
    write_text_atomic(
        json.dumps(summary, ensure_ascii=False, indent=2, default=_json), out / "siting.json"
    )
    if not args.quiet:
        print(format_summary(summary, out))
    if not result.plan.feasible:
        print(f"error: {result.plan.message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


def format_summary(s: dict[str, Any], out: Path) -> str:
    """What the command prints."""
    tot = s["households_total"] or 0
    lines = [
        f"Siting 选址 ({s['question']}, method {s['method']}, status {s['status']}): "
        f"{s['message']}",
        f"  walking threshold {s['threshold_min']:g} min at {s['speed_kmh']:g} km/h "
        f"(about {s['walk_m_in_threshold']:,} m)",
        f"  households covered 覆盖户数: {s['households_covered_before']:,.0f} -> "
        f"{s['households_covered_after']:,.0f} of {tot:,.0f}",
    ]
    if s.get("optimality_gap") is not None:
        lines.append(f"  optimality gap 最优性差距: {s['optimality_gap']:.2%}")
    lines.append(
        f"  greedy 贪心: {s['greedy_stations']} stations, "
        f"{s['greedy_households_covered_after']:,.0f} households covered"
    )
    for site in s.get("sites", []):
        lines.append(
            f"  #{site['rank']} {site['candidate_id']} {site['name']}: "
            f"+{site['households_newly_covered']:,.0f} households, serves "
            f"{site['households_served']:,.0f}, floor area ≥ {site['recommended_floor_area_m2']:,.0f} m²"
        )
    lines.append(f"Written to {out}")
    return "\n".join(lines)


def _json(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value)}")
