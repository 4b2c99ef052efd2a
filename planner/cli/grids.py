"""``python -m planner grids SOURCE --out DIR``: divide a street into grids and prove them.

Writes ``grids.geojson`` (WGS84; properties ``code``, ``community``,
``community_id``, ``households``, ``population``, ``buildings``, ``atoms``,
``area_m2``, ``compactness``, ``reason``), ``atoms.geojson``, ``grid_report.txt`` and
``grid_report.json`` into DIR, and prints the proof report. Exit 1 if a rule fails.

``--keep PREVIOUS_GRIDS`` (a ``grids.geojson`` written earlier, with its
``atoms.geojson`` beside it, or a project ``.gpkg``) re-divides with the least
disruption (:func:`planner.grids.keep.divide_keeping`): only the grids the new data
breaks are divided again, codes are kept, and ``grid_moves.csv`` lists every atom that
moved, with its old and new code and why; the report gains a "Kept" section.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd

from planner.cli.parser import (
    EXIT_OK,
    EXIT_RULES,
    add_grid_args,
    add_org_args,
    add_source_args,
    check_out,
    code_flags,
    grid_settings_from_args,
    load_from_args,
    org_files_from_args,
    out_folder,
)
from planner.errors import InputError
from planner.export.geojson import write_geojson
from planner.grids.codes import code_status, effective_code_settings

if TYPE_CHECKING:
    from planner.grids.keep import KeepResult
    from planner.organisation.alignment import GridSystems
    from planner.organisation.organise import Organisation
    from planner.settings import Settings
    from planner.street import Street

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
    p.add_argument(
        "--keep",
        type=Path,
        metavar="PREVIOUS_GRIDS",
        help="re-divide keeping the previous grids (a grids.geojson written by this command, "
        "or a project .gpkg): only grids the new data breaks are divided again, codes are "
        "kept, locked grids never change; grid_moves.csv lists what moved and why",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    add_org_args(p)
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
    if args.card_phones or args.cards_by_community:
        flag = "--card-phones" if args.card_phones else "--cards-by-community"
        raise InputError(
            f"{flag}: the grids command writes no grid cards; "
            "the cards (and this flag) are written by `python -m planner run`"
        )
    check_out(args.out)  # refused before loading or computing anything
    street = load_from_args(args, settings)
    # grid codes: flags > the street's metadata (street.json) > settings
    settings = effective_code_settings(settings, street.meta, explicit=code_flags(args))
    incidents = None
    if args.incidents is not None:
        if args.keep:
            raise InputError(
                f"{args.incidents}: --incidents cannot be combined with --keep yet; "
                "re-divide with --keep first, then weigh incidents in a fresh division"
            )
        from planner.grids.workload import read_incidents

        incidents = read_incidents(args.incidents, street)
    kept = _divide_keeping(args, street, settings) if args.keep else None
    result = (
        kept.result
        if kept is not None
        else divide(street, settings=settings, communities=args.communities, incidents=incidents)
    )
    out: Path = out_folder(args.out)
    org = _organisation(args, street, result.grids, settings, out)  # --- org ---
    grids = _grid_layer(result.grids, org, names=args.organisation_names)
    meta = {"attribution": street.attribution} if street.attribution else None
    retired = sorted(kept.retired) if kept is not None else []
    grid_meta: dict[str, Any] | None = (
        {**(meta or {}), "retired_codes": retired} if retired else meta
    )
    _write_geojson(grids, out / "grids.geojson", settings.coordinate_precision, grid_meta)
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
    doc = {**result.report.to_dict(), "codes": codes.to_dict()}
    if kept is not None:
        text += "\n" + kept.to_text()
        doc["keep"] = kept.to_dict()
        moves = kept.moves.to_csv(index=False, lineterminator="\n")
        _atomic_text(out / "grid_moves.csv", "\ufeff" + moves)  # BOM: Excel reads UTF-8
    if org is not None:
        text += "\n\n" + org.report.to_text()
        doc["organisation"] = org.to_dict()
    if args.other_grids or args.nest_in:
        systems = _grid_systems(args, street, result.grids, settings, out)
        text += "\n\n" + systems.to_text()
        doc["grid_systems"] = systems.to_dict()
    _atomic_text(out / "grid_report.txt", text + "\n")
    _atomic_text(out / "grid_report.json", json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    if args.project:
        from planner.grids.edits import GridEditor
        from planner.grids.project import save_project

        editor = GridEditor.from_result(street, result, settings=settings)
        if kept is not None:
            editor.retired = set(kept.retired)
            editor.locked = frozenset(result.grids.loc[result.grids["locked"], "code"])
        save_project(args.project, editor, source=str(args.source))
    print(json.dumps(doc, ensure_ascii=False, indent=2) if args.json else text)
    print(f"Wrote {out / 'grids.geojson'} ({len(grids)} grids)")
    return EXIT_OK if result.report.ok else EXIT_RULES


def _divide_keeping(args: argparse.Namespace, street: Street, settings: Settings) -> KeepResult:
    """``--keep``: the previous grids (and their atoms and retired codes) read, the
    street re-divided keeping them."""
    from planner.grids.keep import divide_keeping
    from planner.grids.recode import read_previous

    known = read_previous(args.keep, street, settings=settings)
    return divide_keeping(
        street,
        known.grids,
        settings=settings,
        retired=known.retired,
        previous_atoms=known.atoms,
        name=str(args.keep),
    )


def _grid_layer(
    grids: gpd.GeoDataFrame, org: Organisation | None, *, names: bool
) -> gpd.GeoDataFrame:
    """The grids as ``grids.geojson`` writes them: with the organisation counts (and the
    branch and team names when ``names``) when registers are given, as ``run`` writes
    them; without the app's ``grid_id`` and ``locked``."""
    layer = org.grid_layer(grids, with_names=names) if org is not None else grids
    return layer.drop(columns=["grid_id", "locked"])


def _organisation(
    args: argparse.Namespace, street: Street, grids: gpd.GeoDataFrame, settings: Settings, out: Path
) -> Organisation | None:
    """The organisation rules of ``grids`` when registers are given (--party-register ...,
    or the demo's own), with ``organisation_by_grid.csv`` written; else None."""
    files = org_files_from_args(args, str(args.source))
    if files is None:
        return None
    from planner.export.formats import write_csv
    from planner.organisation.organise import organise, read_or_raise

    org = organise(read_or_raise(files), street, grids, settings=settings)
    write_csv(org.grid_table(), out / "organisation_by_grid.csv")
    return org


def _grid_systems(
    args: argparse.Namespace, street: Street, grids: gpd.GeoDataFrame, settings: Settings, out: Path
) -> GridSystems:
    """Alignment with ``--other-grids`` (and the ``--nest-in`` division), tables written."""
    from planner.export.formats import write_csv
    from planner.organisation.alignment import grid_systems, read_other_grids

    others = [read_other_grids(p, street) for p in args.other_grids]
    nest = read_other_grids(args.nest_in, street) if args.nest_in else None
    systems = grid_systems(street, grids, others, nest_in=nest, settings=settings)
    for name, table in systems.tables().items():
        write_csv(table, out / f"{name}.csv")
    if systems.nested is not None:
        _write_geojson(
            systems.nested.grids, out / "grids_nested.geojson", settings.coordinate_precision
        )
    return systems


def _write_geojson(
    gdf: gpd.GeoDataFrame, path: Path, precision: int, meta: dict[str, Any] | None = None
) -> None:
    """GeoJSON (RFC 7946, WGS84), written atomically; ``meta``: foreign members such as
    the data credit ``attribution`` (OpenStreetMap data, ODbL)."""
    write_geojson(gdf, path, precision=precision, metadata=meta)


def _atomic_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
