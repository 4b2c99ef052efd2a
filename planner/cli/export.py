"""``python -m planner export SOURCE --out DIR``: write the street's layers as GeoJSON.

Each file carries the street's data credit as the foreign member ``"attribution"``
(``"© OpenStreetMap contributors (ODbL)"`` for OpenStreetMap data, as the ODbL asks).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from planner.cli.parser import (
    EXIT_OK,
    add_source_args,
    load_from_args,
    out_folder,
    settings_from_args,
)
from planner.errors import InputError
from planner.export.geojson import write_geojson
from planner.load.readers import CORE_LAYERS

#: Layers written by ``export``, one ``<layer>.geojson`` each.
EXPORT_LAYERS: tuple[str, ...] = CORE_LAYERS


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "export",
        help="write the street's layers as GeoJSON (RFC 7946, WGS84)",
        description="Load a street and write boundary, communities, compounds, buildings, "
        "roads and stations as <layer>.geojson (RFC 7946, WGS84, UTF-8) in DIR.",
    )
    add_source_args(p)
    p.add_argument("--out", type=Path, required=True, help="folder to write into")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    out: Path = out_folder(args.out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file, not a folder", fix="give a folder path")
    street = load_from_args(args, settings)
    # OSM-derived data must carry its credit (ODbL): a foreign member of each file
    meta = {"attribution": street.attribution} if street.attribution else None
    for name in EXPORT_LAYERS:
        path = write_geojson(
            street.layer(name),
            out / f"{name}.geojson",
            precision=settings.coordinate_precision,
            metadata=meta,
        )
        sys.stdout.write(f"{path}  ({len(street.layer(name))} features)\n")
    return EXIT_OK
