"""``python -m planner grids SOURCE --out DIR``: divide a street into grids and prove them.

Writes ``grids.geojson`` (WGS84; properties ``code``, ``community``,
``community_id``, ``households``, ``population``, ``buildings``, ``atoms``,
``area_m2``, ``compactness``, ``reason``), ``atoms.geojson``, ``grid_report.txt`` and
``grid_report.json`` into DIR, and prints the proof report. Exit 1 if a rule fails.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd

from planner.cli.parser import (
    EXIT_OK,
    EXIT_RULES,
    add_grid_args,
    add_source_args,
    code_flags,
    grid_settings_from_args,
    load_from_args,
    out_folder,
)
from planner.export.geojson import write_geojson
from planner.grids.codes import code_status, effective_code_settings

logger = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "grids",
        help="divide the street into grids (网格划分) and print the proof of the rules",
        description="Divide the street into seamless, balanced, coded grids and prove the "
        "rules. Exit 1 if a rule fails.",
    )
    add_source_args(p)
    p.add_argument("--out", type=Path, required=True, help="output folder")
    add_grid_args(p)
    p.add_argument(
        "--communities",
        choices=["given", "derive", "single"],
        default="given",
        help="use the community layer (default; derived when missing), derive communities "
        "of 1,500-3,000 households, or treat the street as one community",
    )
    p.add_argument("--code-width", type=int, choices=[20, 15], help="grid code width (20)")
    p.add_argument("--project", type=Path, help="also save an editable project file (.gpkg)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    # --- bounds: incidents for the workload ---
    p.add_argument(
        "--incidents",
        type=Path,
        help="CSV/Excel of past grid events (lon/lat in WGS84, or building_id) counted in each "
        "grid's load with the weight load_weight_incident",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from planner.grids.division import divide

    settings = grid_settings_from_args(args, code_width=args.code_width)
    street = load_from_args(args, settings)
    # grid codes: flags > the street's metadata (street.json) > settings
    settings = effective_code_settings(settings, street.meta, explicit=code_flags(args))
    incidents = None
    if args.incidents is not None:
        from planner.grids.workload import read_incidents

        incidents = read_incidents(args.incidents, street)
    result = divide(street, settings=settings, communities=args.communities, incidents=incidents)
    out: Path = out_folder(args.out)
    grids = result.grids.drop(columns=["grid_id", "locked"])
    meta = {"attribution": street.attribution} if street.attribution else None
    _write_geojson(grids, out / "grids.geojson", settings.coordinate_precision, meta)
    atoms = result.atoms[
        [
            "atom_id",
            "code",
            "community_id",
            "compound_id",
            "households",
            "population",
            "buildings",
            "area_m2",
            "landuse",
            "geometry",
        ]
    ]
    _write_geojson(atoms, out / "atoms.geojson", settings.coordinate_precision, meta)
    codes = code_status(settings, street.meta, explicit=code_flags(args))
    text = result.report.to_text()
    if codes.provisional:
        text = f"WARNING: {codes.warning('en')}\n警告：{codes.warning('zh')}\n{text}"
    if result.notes:
        text += "\nNotes:\n" + "\n".join(f"  - {n}" for n in result.notes)
    _atomic_text(out / "grid_report.txt", text + "\n")
    doc = {**result.report.to_dict(), "codes": codes.to_dict()}
    _atomic_text(out / "grid_report.json", json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    if args.project:
        from planner.grids.edits import GridEditor
        from planner.grids.project import save_project

        save_project(
            args.project,
            GridEditor.from_result(street, result, settings=settings),
            source=str(args.source),
        )
    print(json.dumps(doc, ensure_ascii=False, indent=2) if args.json else text)
    print(f"Wrote {out / 'grids.geojson'} ({len(grids)} grids)")
    return EXIT_OK if result.report.ok else EXIT_RULES


def _write_geojson(
    gdf: gpd.GeoDataFrame, path: Path, precision: int, meta: dict[str, str] | None = None
) -> None:
    """GeoJSON (RFC 7946, WGS84), written atomically; ``meta``: foreign members such as
    the data credit ``attribution`` (OpenStreetMap data, ODbL)."""
    write_geojson(gdf, path, precision=precision, metadata=meta)


def _atomic_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
