"""``python -m planner check-grids GRIDS_FILE SOURCE``: re-prove grids edited elsewhere.

Reads a grids file edited in a desktop GIS or the city's platform
(:func:`planner.grids.gridfile.read_grids`: GeoJSON, GeoPackage, Shapefile; WGS84 or
GCJ-02), loads the street from SOURCE, checks every grid rule
(:func:`planner.grids.rules.check_grids`) and prints each violation with the grid codes
involved and where it is (longitude, latitude). ``--recode`` fills in the codes that
are missing (:func:`planner.grids.recode.recode_grids`: every well-formed code stays,
a grid without one takes the code of the ``--previous`` grid it matches by geometry,
else the next free sequence number of its community, never a retired code);
``--recode all`` numbers every unlocked grid again (CJ/T 349-2010: per community, west
to east, north to south). The re-coded grids go to ``--out`` (never over the input),
with the retired codes as ``retired_codes``, and the list of what changed to
``<out>.codes.csv``.

Exit codes: 0 every rule holds, 1 a rule is violated, 2 bad input.
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
import shapely

from planner.cli.parser import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    EXIT_RULES,
    add_grid_args,
    add_source_args,
    code_flags,
    grid_settings_from_args,
    load_from_args,
)
from planner.errors import InputError, Problem
from planner.export.geojson import write_text_atomic
from planner.grids.gridfile import read_grids
from planner.grids.recode import RecodeMode, RecodeResult, read_previous, recode_grids
from planner.settings import Settings
from planner.street import Street

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "check-grids",
        help="re-check grids edited in a GIS against every grid rule",
        description="Read grids edited elsewhere (GeoJSON, GeoPackage or Shapefile), prove "
        "every grid rule against the street, and list each violation by grid code with its "
        "location. Exit codes: 0 all rules hold, 1 a rule is violated, 2 bad input.",
    )
    p.add_argument("grids_file", type=Path, help="grids file (.geojson, .gpkg or .shp)")
    add_source_args(p)
    p.add_argument("--layer", help="layer name inside a GeoPackage (default: 'grids')")
    p.add_argument(
        "--coordinates",
        choices=["auto", "wgs84", "gcj02"],
        default="auto",
        help="coordinate system of the file's longitude/latitude: auto (default: GCJ-02 if "
        "the file says so), wgs84, or gcj02 (drawn on an Amap/Tencent base map)",
    )
    p.add_argument(
        "--grid-crs",
        choices=["wgs84", "gcj02", "bd09"],
        help="what the file's longitude/latitude are, whatever the file says: wgs84, gcj02 "
        "(Amap/Tencent) or bd09 (Baidu). Without it, a file that fits the street only "
        "once moved back from GCJ-02/BD-09 is refused with that hint (exit 2)",
    )
    p.add_argument(
        "--recode",
        nargs="?",
        const="missing",
        choices=["missing", "all"],
        help="fill in missing grid codes, keeping every other code (CJ/T 349); "
        "'--recode all' numbers every unlocked grid again",
    )
    p.add_argument(
        "--previous",
        type=Path,
        help="the grids before the edit (a grids file or the project .gpkg): grids whose "
        "code was lost take the code of the previous grid they match by geometry, and "
        "codes retired there are never given again",
    )
    p.add_argument(
        "--out", type=Path, help="where to write re-coded grids (default <file>.recoded.geojson)"
    )
    add_grid_args(p, target=False)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def grids_near(
    grids: gpd.GeoDataFrame, lon: float, lat: float, *, within_m: float = 5.0
) -> list[str]:
    """Codes of the grids nearest a location (those within ``within_m`` of the nearest)."""
    if len(grids) == 0:
        return []
    pt = gpd.GeoSeries(shapely.points([lon], [lat]), crs="EPSG:4326").to_crs(grids.crs).iloc[0]
    d = shapely.distance(np.asarray(grids.geometry.values, dtype=object), pt)
    near = np.flatnonzero(d <= d.min() + within_m)
    near = near[np.argsort(d[near], kind="stable")][:4]
    labels = grids["code"] if "code" in grids.columns else grids.index.astype(str)
    return [str(labels.iloc[i]) for i in near]


def recode(
    grids: gpd.GeoDataFrame,
    street: Street,
    settings: Settings,
    *,
    mode: RecodeMode = "missing",
    previous: gpd.GeoDataFrame | None = None,
    retired: frozenset[str] = frozenset(),
) -> gpd.GeoDataFrame:
    """Grids with their codes kept or filled in (:func:`planner.grids.recode.recode_grids`)."""
    return recode_grids(
        grids, street, settings=settings, mode=mode, previous=previous, retired=retired
    ).grids


def _refuse_shifted(grids: gpd.GeoDataFrame, street: Street, path: Path) -> None:
    """Refuse a grids file that is GCJ-02 / BD-09 read as WGS84, naming the fix, instead
    of failing every rule (:func:`planner.grids.gridfile.looks_shifted`)."""
    from planner.grids.gridfile import looks_shifted

    guess = looks_shifted(grids, street)
    if guess is not None:
        raise InputError(
            Problem(
                guess.message(path.name),
                fix=f"re-read it with --grid-crs {guess.system} (or --grid-crs wgs84 if the "
                "file really is WGS84)",
                file=str(path),
                field="geometry",
            )
        )


def _provisional_warning(grids: gpd.GeoDataFrame) -> str:
    """A warning naming how many grid codes are provisional (county/street not known)."""
    from planner.grids.codes import provisional_codes

    if "code" not in grids.columns:
        return ""
    n = int(provisional_codes(grids["code"]).sum())
    if n == 0:
        return ""
    return (
        f"{n} of {len(grids)} grid codes are provisional: their county code is 000000 or "
        "their street code 000 (not known); number them again with --recode and "
        "--code-county/--code-street (or code_county/code_street in street.json)"
    )


def _recode_file(
    args: argparse.Namespace, grids: gpd.GeoDataFrame, street: Street, settings: Settings
) -> gpd.GeoDataFrame:
    """Re-code the grids (``--recode [all]``, ``--previous``), write them and the list of
    changes, print a summary; returns the re-coded grids."""
    out = args.out or args.grids_file.with_name(args.grids_file.stem + ".recoded.geojson")
    if out.resolve() == args.grids_file.resolve():
        raise InputError("--out is the input file", fix="write the re-coded grids elsewhere")
    previous, retired = (None, frozenset[str]())
    if args.previous is not None:
        known = read_previous(args.previous, street, settings=settings)
        previous, retired = known.grids, known.retired
    result = recode_grids(
        grids, street, settings=settings, mode=args.recode, previous=previous, retired=retired
    )
    from planner.export.formats import write_geojson

    write_geojson(
        result.grids.drop(columns=["grid_id"], errors="ignore"),
        out,
        precision=settings.coordinate_precision,
        name="grids",
        metadata={"retired_codes": sorted(result.retired)},
    )
    changes = out.with_name(out.stem + ".codes.csv")
    csv = result.changes.to_csv(index_label="feature", lineterminator="\n")
    write_text_atomic("\ufeff" + csv, changes)  # BOM: Excel reads it as UTF-8
    print(_recode_summary(result, out, changes), file=sys.stderr)
    return result.grids


def _recode_summary(result: RecodeResult, out: Path, changes: Path) -> str:
    """``re-coded N grids -> OUT (kept 74, new 1)`` and one line per grid whose code moved
    or was filled in."""
    counts = ", ".join(f"{k} {v}" for k, v in sorted(result.counts().items()))
    lines = [f"re-coded {len(result.grids)} grids -> {out} ({counts}); changes: {changes}"]
    moved = result.changes[~result.changes["how"].isin(["kept", "locked"])]
    head = moved.head(50)
    for pos, old, code, how, why in zip(
        head.index, head["old_code"], head["code"], head["how"], head["why"], strict=True
    ):
        lines.append(f"  feature #{int(pos) + 1}: {old or '(none)'} -> {code} ({how}: {why})")
    if len(moved) > 50:
        lines.append(f"  ... and {len(moved) - 50} more in {changes.name}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from planner.grids.codes import effective_code_settings

    settings = grid_settings_from_args(args)
    street = load_from_args(args, settings)
    settings = effective_code_settings(settings, street.meta, explicit=code_flags(args))
    grids = read_grids(
        args.grids_file,
        street,
        layer=args.layer,
        coordinates=args.grid_crs or args.coordinates,
        code_width=settings.code_width,
        require_codes=not args.recode,
    )
    if args.grid_crs is None and args.coordinates == "auto":
        _refuse_shifted(grids, street, args.grids_file)
    if args.recode:
        grids = _recode_file(args, grids, street, settings)
    from planner.grids.rules import check_grids

    report = check_grids(grids, street, settings=settings)
    provisional = _provisional_warning(grids)
    if args.json:
        doc = report.to_dict()
        doc["file"] = str(args.grids_file)
        doc["codes_provisional"] = provisional
        for check in doc["checks"]:
            for v in check["violations"]:
                if not v["grids"] and v["lon"] is not None:
                    v["near_grids"] = grids_near(grids, v["lon"], v["lat"])
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        print(f"Grids file: {args.grids_file} ({len(grids)} grids)")
        if provisional:
            print(f"WARNING: {provisional}")
        print(report.to_text())
        for v in report.violations:
            if v.rule == "coverage" and not v.grids and v.lon is not None and v.lat is not None:
                near = grids_near(grids, v.lon, v.lat)
                print(f"  gap near {v.lon:.5f}, {v.lat:.5f} lies between grids {', '.join(near)}")
    return EXIT_OK if report.ok else EXIT_RULES


__all__ = ["EXIT_BAD_INPUT", "grids_near", "recode", "register", "run"]
