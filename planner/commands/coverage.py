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
import shapely

from planner.atomic import atomic_path, write_text
from planner.circles import gap_polygons
from planner.cli import add_source_args, load_from_args, settings_from_args
from planner.coverage import (
    Coverage,
    area_figures,
    compute_coverage,
    covered_column,
    station_figures,
    summary,
    uncovered_compounds,
)
from planner.errors import InputError
from planner.geojson import write_geojson
from planner.routing import station_reach
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
    cov = compute_coverage(street, settings=settings)
    thresholds = list(cov.thresholds)
    builder = cov.circle_builder()
    reach = station_reach(cov.rg, limit_min=max(thresholds))
    ids = cov.stations["station_id"].astype(str).tolist()
    own = builder.station_circles(reach, thresholds, station_ids=ids)
    union = builder.union_circles(cov.times, thresholds)
    nearest = builder.nearest_split(cov.times, union, station_ids=ids)
    circles = _circles_layer(cov, own, nearest, union)
    tmax = max(thresholds)
    b = cov.buildings
    uncovered = b[~b[covered_column(tmax)] & (b["households"] > 0)]
    covered_geom = union.geometry.iloc[-1] if len(union) else shapely.Polygon()
    gaps = gap_polygons(street.compounds, b, covered_geom, uncovered_buildings=uncovered)
    gaps["minutes"] = tmax
    gaps["speed_kmh"] = settings.walk_speed_kmh

    write_geojson(circles, out / "circles.geojson", precision=settings.coordinate_precision)
    write_geojson(gaps, out / "gaps.geojson", precision=settings.coordinate_precision)
    write_geojson(
        _buildings_layer(cov), out / "buildings.geojson", precision=settings.coordinate_precision
    )
    _write_csv(area_figures(cov, grids=grids), out / "coverage.csv")
    _write_csv(station_figures(cov, circles=own), out / "stations.csv")
    _write_csv(uncovered_compounds(cov), out / "uncovered_compounds.csv")
    s = summary(cov)
    s["gaps"] = len(gaps)
    s["gap_area_m2"] = round(float(gaps["area_m2"].sum()), 1)
    s["network_components"] = cov.components.head(50).to_dict(orient="records")
    s["out"] = str(out)
    _write_text(out / "summary.json", json.dumps(s, ensure_ascii=False, indent=2, default=_json))
    return s


def _json(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value)}")


def _circles_layer(
    cov: Coverage, own: gpd.GeoDataFrame, nearest: gpd.GeoDataFrame, union: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    names = dict(
        zip(cov.stations["station_id"].astype(str), cov.stations["name"].astype(str), strict=True)
    )
    frames = []
    for view, gdf in (("station", own), ("nearest", nearest)):
        g = gdf[["station_id", "minutes", "area_m2", "geometry"]].copy()
        g.insert(0, "view", view)
        g.insert(2, "station_name", g["station_id"].map(names).fillna(""))
        frames.append(g)
    u = union[["minutes", "area_m2", "geometry"]].copy()
    u.insert(0, "view", "union")
    u.insert(1, "station_id", "")
    u.insert(2, "station_name", "")
    frames.append(u)
    crs = cov.net.crs
    df = pd.concat(frames, ignore_index=True)
    gdf = gpd.GeoDataFrame(df, geometry="geometry", crs=crs)
    gdf = gdf[~gdf.geometry.is_empty].reset_index(drop=True)
    gdf["area_m2"] = gdf["area_m2"].round(1)
    gdf.insert(gdf.columns.get_loc("minutes") + 1, "threshold_min", gdf["minutes"].astype(float))
    gdf["speed_kmh"] = cov.settings.walk_speed_kmh
    gdf["note"] = cov.speed_note
    return gdf


def _buildings_layer(cov: Coverage) -> gpd.GeoDataFrame:
    b = cov.buildings
    keep = [
        "building_id",
        "name",
        "kind",
        "compound_id",
        "community_id",
        "households",
        "population",
        "households_estimated",
        "time_min",
        "walk_m",
        "station_id",
        "station_name",
        "via_margin",
        "on_network",
        "snap_m",
        "component",
        "stranded",
    ]
    keep += [covered_column(t) for t in cov.thresholds]
    out = gpd.GeoDataFrame(b[keep].copy(), geometry=b.geometry, crs=b.crs)
    finite = np.isfinite(out["time_min"].to_numpy())
    out["time_min"] = np.where(finite, out["time_min"].round(3), np.nan)
    out["walk_m"] = np.where(finite, out["walk_m"].round(1), np.nan)
    acc = gpd.GeoSeries(b["access"], crs=b.crs).to_crs("EPSG:4326")
    out["access_lon"] = np.round(acc.x.to_numpy(), 7)
    out["access_lat"] = np.round(acc.y.to_numpy(), 7)
    out["speed_kmh"] = cov.settings.walk_speed_kmh
    return out


def _write_text(path: Path, text: str) -> None:
    write_text(path, text)


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, encoding="utf-8-sig")
