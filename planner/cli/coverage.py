"""``python -m planner coverage SOURCE --out DIR``: service circles, gaps and figures.

Writes into DIR:

* ``circles.geojson``: one feature per station and threshold (``view=station``),
  the street split by nearest station (``view=nearest``) and the union per
  threshold (``view=union``);
* ``gaps.geojson``: residential parts outside every circle of the gap threshold
  (``--gap-minutes``, 15 by default);
* ``buildings.geojson``: each building with its walking time and nearest station;
* ``coverage.csv``: figures for the street, each community and each grid
  (UTF-8 with BOM so Excel opens Chinese text);
* ``stations.csv``: per-station figures; ``uncovered_compounds.csv``;
* ``summary.json``: totals keyed by threshold, with the walking-speed assumption,
  every problem (the load's warnings too) and the load report.

Every problem is printed once on stderr, also with ``--quiet``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from planner._atomic import write_text
from planner.cli.parser import (
    add_minutes_args,
    add_source_args,
    add_station_args,
    check_out,
    load_from_args,
    minutes_settings,
    out_folder,
    print_problems,
    settings_from_args,
    station_settings,
)
from planner.coverage.layers import compute_coverage_layers
from planner.errors import Problem
from planner.export.formats import write_csv
from planner.export.geojson import write_geojson
from planner.grids.gridfile import read_grids
from planner.settings import Settings
from planner.street import Completeness, completeness_warning

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "coverage",
        help="15-minute walking service circles, gap map and coverage figures",
        description="Walking times from every building to its nearest service station on "
        "the pedestrian network; service circles, gaps, and figures per street, "
        "community and grid.",
    )
    add_source_args(p)
    p.add_argument("--out", type=Path, required=True, help="output folder (created if needed)")
    add_minutes_args(p)
    add_station_args(p)
    p.add_argument(
        "--grids",
        type=Path,
        metavar="FILE",
        help="grids file: polygons with code (and community_id); GeoJSON, GPKG or Shapefile. "
        "A file without a CRS is read as longitude/latitude (WGS84) when its coordinates "
        "are, else refused",
    )
    p.add_argument(
        "--kind-gaps",
        default=None,
        metavar="KIND[,KIND...]",
        help="also write gaps_<kind>.geojson: the residential areas beyond the circle of "
        "each service kind named (e.g. kindergarten,canteen)",
    )
    p.add_argument(
        "-q", "--quiet", action="store_true", help="print nothing but problems (for scripts)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args, **minutes_settings(args), **station_settings(args))
    gap_kinds = _kind_gap_kinds(args.kind_gaps, settings) if args.kind_gaps else []
    check_out(args.out)  # refused before loading or computing anything
    street = load_from_args(args, settings, announce=False)  # printed with the figures'
    grids = read_grids(args.grids, street, require_codes=True) if args.grids else None
    with _problems_not_logged():
        result = write_outputs(street, out_folder(args.out), settings=settings, grids=grids)
    if gap_kinds:
        _write_kind_gaps(street, out_folder(args.out), settings, gap_kinds)
    if not args.quiet:
        print(format_summary(result))
    print_problem_dicts(result.get("problems", []))
    return 0


# --- services: per-kind gap polygons on demand (issue 16) ---
def _kind_gap_kinds(text: str, settings: Settings) -> list[str]:
    """The service kinds ``--kind-gaps`` names (Chinese names too); unknown ones: exit 2."""
    from planner.coverage.service_kinds import kind_lookup
    from planner.errors import InputError

    lookup = kind_lookup()
    names = [x.strip() for x in text.replace("，", ",").split(",") if x.strip()]
    kinds = [lookup.get(x.lower(), lookup.get(x, x)) for x in names]
    bad = [n for n, k in zip(names, kinds, strict=True) if k not in settings.service_catalogue]
    if bad or not kinds:
        raise InputError(
            f"--kind-gaps {text}: {', '.join(bad) or '(none)'} is no service kind checked",
            fix="name kinds of --service-catalogue (default all), e.g. --kind-gaps kindergarten",
        )
    return kinds


def _write_kind_gaps(street: Any, out: Path, settings: Settings, kinds: list[str]) -> None:
    """``gaps_<kind>.geojson`` for each service kind: residential areas beyond its circle."""
    from planner.coverage.completeness import compute_completeness, kind_gaps
    from planner.coverage.figures import compute_coverage

    cov = compute_coverage(street, settings=settings)
    comp = compute_completeness(cov, street)
    for kind in kinds:
        gaps = kind_gaps(comp, cov, kind)
        write_geojson(gaps, out / f"gaps_{kind}.geojson", precision=settings.coordinate_precision)


def print_problem_dicts(problems: list[dict[str, Any]]) -> None:
    """Each problem of ``summary.json`` once on stderr (:func:`print_problems`)."""
    print_problems(Problem(**p) for p in problems)


class _DropWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno != logging.WARNING


@contextlib.contextmanager
def _problems_not_logged() -> Iterator[None]:
    """The coverage warnings are printed once by the command, not also as log lines.

    :func:`planner.coverage.figures.compute_coverage` logs each problem it returns as a
    warning (what ``run`` shows); this command prints them itself, with the load's.
    """
    lg = logging.getLogger("planner.coverage.figures")
    f = _DropWarnings()
    lg.addFilter(f)
    try:
        yield
    finally:
        lg.removeFilter(f)


def format_summary(s: dict[str, Any]) -> str:
    """The summary as a few lines of text (what the command prints)."""
    c = s.get("data_completeness") or {}
    lines = [completeness_warning(Completeness.from_dict(c))] if c.get("warning") else []
    lines.append(s["walking_speed_note"])
    total = s["households_total"]
    lines.append(
        f"Households 户数: {total:,}   buildings 楼栋: {s['buildings_total']:,}   "
        f"stations 服务站: {s['stations']} ({s['stations_in_margin']} in the margin)"
    )
    for t, h in s["households_covered"].items():
        # from the counts (the summary's share is already rounded to 0.01)
        pct_txt = f"{100.0 * h / total:.1f}%" if total else "-"
        lines.append(
            f"  within {t} min: {h:,} households ({pct_txt}), "
            f"{s['buildings_covered'][t]:,} buildings"
        )
    g = s.get("gap_minutes")
    if g is not None:
        uncovered = s.get(f"households_uncovered_{g:g}", 0)
        lines.append(
            f"  beyond {g:g} min (the gap map): {uncovered:,} households in {s.get('gaps', 0):,} "
            f"gaps of {s.get('gap_area_m2', 0):,.0f} m²"
        )
        via = s.get(f"households_via_margin_{g:g}", 0)
        if via:
            lines.append(
                f"  covered within {g:g} min only thanks to stations outside the street: "
                f"{via:,} households"
            )
    if s.get("households_stranded"):
        lines.append(
            f"  on network pieces no station reaches: {s['households_stranded']:,} households"
        )
    lines.append(f"Written to {s.get('out', '')}")
    return "\n".join(lines)


def write_outputs(
    street: Any,
    out: Path,
    *,
    settings: Settings | None = None,
    grids: gpd.GeoDataFrame | None = None,
) -> dict[str, Any]:
    """Compute coverage for ``street`` and write every output file into ``out``.

    Returns the summary dictionary (also written as ``summary.json``).
    """
    settings = settings or Settings()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    layers = compute_coverage_layers(street, settings=settings, grids=grids)
    p = settings.coordinate_precision
    write_geojson(layers.circles, out / "circles.geojson", precision=p)
    write_geojson(layers.gaps, out / "gaps.geojson", precision=p)
    write_geojson(layers.buildings, out / "buildings.geojson", precision=p)
    write_csv(layers.by_area, out / "coverage.csv")
    write_csv(layers.stations, out / "stations.csv")
    write_csv(layers.uncovered_compounds, out / "uncovered_compounds.csv")
    cov = layers.coverage
    s = dict(layers.summary)
    report = getattr(street, "report", None)
    if report is not None:
        # what the loader left out or doubted changes the figures: say so with them
        warned = [p.to_dict() for p in report.notes if p.severity == "warning"]
        s["problems"] = warned + list(s.get("problems", []))
        s["load"] = report.to_dict()  # the whole load report, as ``run`` writes it
    s["network_components"] = cov.components.head(50).to_dict(orient="records")
    s["out"] = str(out)
    _write_text(out / "summary.json", json.dumps(s, ensure_ascii=False, indent=2, default=_json))
    return s


def _json(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value)}")


def _write_text(path: Path, text: str) -> None:
    write_text(path, text)
