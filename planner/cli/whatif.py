"""``python -m planner whatif SOURCE --scenario FILE --out DIR``: try a change, see who gains.

The scenario file (YAML or JSON; :func:`planner.coverage.whatif.read_scenario`) adds, moves
or removes stations and POIs, closes a path or opens a gate. The command evaluates the
street before and after (:func:`planner.coverage.whatif.run_whatif`) and writes:

* ``whatif_by_area.csv``: per street, community and grid (``--grids``) the households
  within the gap minutes, complete circles and 2SFCA floor area, before and after;
* ``whatif_buildings.csv``: the buildings that gain or lose coverage, a service kind or
  floor area in reach;
* ``whatif_stations.csv``: each station's catchment and m² per 100 households before
  and after;
* ``whatif.json``: the totals (households gaining and losing).

A bad scenario (unknown action, missing field, unknown id, a path or gate not found)
exits 2 naming the file, the change and the field.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from planner.cli.parser import (
    EXIT_OK,
    add_minutes_args,
    add_source_args,
    add_station_args,
    check_out,
    load_from_args,
    minutes_settings,
    out_folder,
    settings_from_args,
    station_settings,
)
from planner.export.formats import write_csv
from planner.export.geojson import write_text_atomic


def register(sub: Any) -> None:
    p = sub.add_parser(
        "whatif",
        help="try a change (add/move/remove a station or POI, close a path, open a gate)",
        description="Evaluate a scenario file: coverage, service completeness and capacity "
        "before and after, and the households who gain or lose.",
    )
    add_source_args(p)
    p.add_argument("--scenario", type=Path, required=True, help="scenario file (.yaml or .json)")
    p.add_argument("--out", type=Path, required=True, help="output folder (created if needed)")
    p.add_argument("--grids", type=Path, metavar="FILE", help="grids file for per-grid rows")
    add_minutes_args(p)
    add_station_args(p)
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but problems")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from planner.coverage.whatif import read_scenario, run_whatif

    scenario = read_scenario(args.scenario)  # a bad file: exit 2 before loading
    settings = settings_from_args(args, **minutes_settings(args), **station_settings(args))
    check_out(args.out)  # refused before loading or computing anything
    street = load_from_args(args, settings, announce=not args.quiet)
    grids = None
    if args.grids:
        from planner.grids.gridfile import read_grids

        grids = read_grids(args.grids, street, require_codes=True)
    t0 = time.perf_counter()
    result = run_whatif(street, scenario, settings=settings, grids=grids)
    seconds = time.perf_counter() - t0
    out: Path = out_folder(args.out)
    write_csv(result.by_area, out / "whatif_by_area.csv")
    write_csv(result.buildings, out / "whatif_buildings.csv")
    write_csv(result.stations, out / "whatif_stations.csv")
    summary = {**result.summary, "seconds": round(seconds, 2)}
    text = json.dumps(summary, ensure_ascii=False, indent=2)
    write_text_atomic(text, out / "whatif.json")
    if not args.quiet:
        print(format_summary(result.summary, result.by_area))
    return EXIT_OK


def format_summary(s: dict[str, Any], by_area: Any) -> str:
    """What the command prints: the street row before and after, who gains and loses."""
    row = by_area[by_area["level"] == "street"].iloc[0]
    return "\n".join(
        [
            f"What-if 情景 {s['scenario']} ({s['changes']} changes):",
            f"  households covered 覆盖户数: {row['households_covered_before']:,} -> "
            f"{row['households_covered_after']:,}",
            f"  gaining 新覆盖: {s['households_gaining_coverage']:,}   losing 失去覆盖: "
            f"{s['households_losing_coverage']:,}",
            f"  gaining a service kind 新可达服务: {s['households_gaining_a_kind']:,}   "
            f"losing one 失去服务: {s['households_losing_a_kind']:,}",
            f"  m² per 100 households 每百户面积: {row['m2_per_100_households_before']:.1f} -> "
            f"{row['m2_per_100_households_after']:.1f}",
        ]
    )
