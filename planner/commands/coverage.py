"""``python -m planner coverage SOURCE --out DIR``: service circles, gaps and figures.

Writes into DIR:

* ``circles.geojson``: one feature per station and threshold (``view=station``),
  the street split by nearest station (``view=nearest``) and the union per
  threshold (``view=union``);
* ``gaps.geojson``: residential parts outside every largest-threshold circle;
* ``buildings.geojson``: each building with its walking time and nearest station;
* ``coverage.csv``: figures for the street, each community and each grid
  (UTF-8 with BOM so Excel opens Chinese text);
* ``stations.csv``: per-station figures; ``uncovered_compounds.csv``;
* ``summary.json``: totals keyed by threshold, with the walking-speed assumption.
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

from planner.atomic import atomic_path, write_text
from planner.cli import add_source_args, load_from_args, settings_from_args
from planner.coverage_layers import compute_coverage_layers
from planner.errors import InputError
from planner.geojson import write_geojson
from planner.settings import Settings

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
    p.add_argument(
        "--minutes", default=None, help="thresholds in minutes, comma-separated (default 5,10,15)"
    )
    p.add_argument("--grids", type=Path, help="grids file (polygons with code, community_id)")
    p.add_argument(
        "--no-margin-stations",
        action="store_true",
        help="stations outside the street (in the margin) do not serve its residents",
    )
    p.add_argument(
        "-q", "--quiet", action="store_true", help="print nothing but problems (for scripts)"
    )
    p.set_defaults(func=run)


def parse_minutes(text: str | None) -> list[float] | None:
    """``"5,10,15"`` -> ``[5.0, 10.0, 15.0]``; refuses anything else with a clear message."""
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


def run(args: argparse.Namespace) -> int:
    extra: dict[str, Any] = {"thresholds_min": parse_minutes(args.minutes)}
    if args.no_margin_stations:
        extra["count_margin_stations"] = False
    settings = settings_from_args(args, **extra)
    street = load_from_args(args, settings)
    grids = _read_grids(args.grids, street.crs) if args.grids else None
    result = write_outputs(street, args.out, settings=settings, grids=grids)
    if not args.quiet:
        print(format_summary(result))
    for p in result.get("problems", []):
        print(f"{p['severity']}: {p['message']}. {p.get('fix') or ''}".rstrip(), file=sys.stderr)
    return 0


def _read_grids(path: Path, crs: Any) -> gpd.GeoDataFrame:
    try:
        g = gpd.read_file(path)
    except Exception as exc:
        raise InputError(
            f"cannot read grids file {path}: {exc}",
            fix="give a GeoJSON/GPKG/Shapefile of grid polygons",
        ) from None
    if "code" not in g.columns:
        raise InputError(
            f"grids file {path} has no 'code' column", fix="name the grid code column 'code'"
        )
    if g.crs is None:
        g = g.set_crs("EPSG:4326")
    return g.to_crs(crs)


def format_summary(s: dict[str, Any]) -> str:
    """The summary as a few lines of text (what the command prints)."""
    lines = [s["walking_speed_note"]]
    total = s["households_total"]
    lines.append(
        f"Households 户数: {total:,}   buildings 楼栋: {s['buildings_total']:,}   "
        f"stations 服务站: {s['stations']} ({s['stations_in_margin']} in the margin)"
    )
    for t, h in s["households_covered"].items():
        pct = s["households_covered_pct"][t]
        pct_txt = f"{pct:.1f}%" if pct is not None else "-"
        lines.append(
            f"  within {t} min: {h:,} households ({pct_txt}), "
            f"{s['buildings_covered'][t]:,} buildings"
        )
    for key, value in s.items():
        if key.startswith("households_via_margin_") and value:
            lines.append(
                f"  covered only thanks to stations outside the street: {value:,} households"
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
    _write_csv(layers.by_area, out / "coverage.csv")
    _write_csv(layers.stations, out / "stations.csv")
    _write_csv(layers.uncovered_compounds, out / "uncovered_compounds.csv")
    cov = layers.coverage
    s = dict(layers.summary)
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


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, encoding="utf-8-sig")
