"""``python -m planner check-grids GRIDS_FILE SOURCE``: re-prove grids edited elsewhere.

Reads a grids file edited in a desktop GIS or the city's platform
(:func:`planner.grids.gridfile.read_grids`: GeoJSON, GeoPackage, Shapefile; WGS84 or
GCJ-02), loads the street from SOURCE, checks every grid rule
(:func:`planner.grids.rules.check_grids`) and prints each violation with the grid codes
involved and where it is (longitude, latitude). ``--recode`` numbers the grids
again (CJ/T 349-2010: per community, west to east, north to south) and writes the
re-coded grids to ``--out`` (never over the input).

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
import pandas as pd
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
from planner.grids.gridfile import read_grids
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
    p.add_argument("--recode", action="store_true", help="number the grids again (CJ/T 349)")
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


def recode(grids: gpd.GeoDataFrame, street: Street, settings: Settings) -> gpd.GeoDataFrame:
    """Grids with fresh codes: community from the street's communities (largest overlap)."""
    from planner.grids.codes import assign_codes, community_codes

    g = grids.copy()
    if "grid_id" not in g.columns or g["grid_id"].astype(str).duplicated().any():
        g["grid_id"] = [f"g{i + 1}" for i in range(len(g))]
    comm = street.communities
    if len(comm):
        geoms = np.asarray(g.geometry.values, dtype=object)
        cgeo = np.asarray(comm.geometry.values, dtype=object)
        tree = shapely.STRtree(cgeo)
        i, j = tree.query(geoms, predicate="intersects")
        area = shapely.area(shapely.intersection(geoms[i], cgeo[j]))
        df = pd.DataFrame({"i": i, "j": j, "a": area}).sort_values(
            ["i", "a"], ascending=[True, False]
        )
        best = df.drop_duplicates("i")
        cid = np.full(len(g), "", dtype=object)
        cid[best["i"].to_numpy()] = (
            comm["community_id"].astype(str).to_numpy()[best["j"].to_numpy()]
        )
        g["community_id"] = cid
        table = pd.DataFrame(
            {
                "community_id": comm["community_id"].astype(str),
                "code": community_codes(comm).to_numpy(),
            }
        )
    else:
        g["community_id"] = "c1"
        table = pd.DataFrame({"community_id": ["c1"], "code": ["001"]})
    g["code"] = None
    return assign_codes(g, settings=settings, communities=table)


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
        grids = recode(grids, street, settings)
        out = args.out or args.grids_file.with_name(args.grids_file.stem + ".recoded.geojson")
        if out.resolve() == args.grids_file.resolve():
            raise InputError("--out is the input file", fix="write the re-coded grids elsewhere")
        from planner.export.formats import write_geojson

        write_geojson(
            grids.drop(columns=["grid_id"], errors="ignore"),
            out,
            precision=settings.coordinate_precision,
            name="grids",
        )
        print(f"re-coded {len(grids)} grids -> {out}", file=sys.stderr)
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
