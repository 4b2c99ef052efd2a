"""The files of a run: one writer for ``python -m planner run``/``demo``, the pipeline and the app.

:func:`write_run_files` is the only code that decides which files a run writes, their
names and their columns; the command line (through :func:`planner.pipeline.run_pipeline`)
and the app's export page (:func:`planner.app.services.export_files`, into a temporary
folder) both call it, so the app offers byte for byte the files the command line writes.

The folder it fills (every coordinate WGS84 lon/lat, or GCJ-02 on request):

- per-layer GeoJSON (RFC 7946): boundary, communities, compounds, buildings (with
  walking times), roads, stations, grids, circles, gaps, sites;
- ``planner.gpkg`` with every layer and every table; ``shapefile/`` with ``fields.csv``;
- CSV tables (UTF-8 with BOM): ``coverage_by_community.csv``, ``coverage_by_grid.csv``
  (each grid's attributes and coverage), ``coverage_by_station.csv``,
  ``uncovered_compounds.csv`` (``siting_by_area.csv`` when siting ran),
  ``completeness_by_community.csv``, ``completeness_by_grid.csv`` (share of households
  reaching each service kind within its circle, complete circles, 2SFCA floor area per
  100 households), ``capacity_by_station.csv`` (2SFCA per station), and the same
  tables as sheets of ``tables.xlsx``; the ``completeness`` layer (buildings with the
  kinds they reach and miss);
- ``redmap.html`` (standalone, offline), ``redmap.png`` and ``redmap.pdf``;
- with the organisation registers: ``organisation_by_grid.csv`` and
  ``organisation_by_community.csv`` (and sheets), the organisation rules after the
  geometric ones in ``grid_rules.txt``, and ``grid_cards.pdf`` (one page per grid,
  with the images); with other grid layers (``--other-grids``, ``--nest-in``):
  ``alignment_by_grid.csv``, ``nesting_cost.csv`` and ``grids_nested``;
- ``grid_rules.txt`` (the proof of the grid rules), ``summary.json``, and ``COMPLETE``
  (written last: the list of every file; a folder without it holds no complete run).

The set is written into a staging folder and swapped into place when complete
(:func:`planner._atomic.staged_folder`).
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd

from planner._atomic import list_files, staged_folder, write_text
from planner.crs import parse_crs
from planner.export import formats as ex
from planner.export.geojson import CoordinateSystem

if TYPE_CHECKING:
    from planner.coverage.layers import CoverageLayers
    from planner.pipeline import RunResult


class ProgressBar(Protocol):
    """What the writer needs from a progress bar (a tqdm bar has all of it)."""

    def update(self, n: int = 1) -> Any: ...

    def set_postfix_str(self, s: str, refresh: bool = True) -> Any: ...


class _NoBar:
    def update(self, n: int = 1) -> None:
        return None

    def set_postfix_str(self, s: str, refresh: bool = True) -> None:
        return None


@dataclass(frozen=True)
class OutputOptions:
    """Which files a run writes (the command line's ``--formats``, ``--coordinates``,
    ``--no-html``, ``--no-images``)."""

    formats: tuple[ex.ExportFormat, ...] = ex.ALL_FORMATS
    coordinate_system: CoordinateSystem = "wgs84"
    html: bool = True
    images: bool = True
    #: The city's survey CRS for the GeoPackage, Shapefiles and CSV x/y (``--out-crs``:
    #: EPSG code, PROJ string, WKT or .prj path, :func:`planner.crs.parse_crs`).
    out_crs: str | None = None
    # --- org: organisation outputs (issue 15) ---
    #: Branch and team names in the grids layers (``--organisation-names``; off: counts only).
    organisation_names: bool = False
    #: Staff phones on the grid cards (``--card-phones``; off: a card is posted in public).
    card_phones: bool = False
    #: Also one PDF of cards per community, ``grid_cards/<community_id>.pdf``.
    cards_by_community: bool = False
    # --- svcapp: the completeness layer on the printed map (issue 16) ---
    #: Colour the PNG/PDF map's residential buildings by the service kinds they miss
    #: (``--map-completeness``).
    map_completeness: bool = False


# ---------------------------------------------------------------------------------------
# What is written: layers and tables, by file name


def grid_table(grids: gpd.GeoDataFrame, coverage: CoverageLayers | None) -> pd.DataFrame:
    """Per grid: code, community, households... joined with the grid's coverage figures.

    ``lon``/``lat`` (WGS84 degrees) is a point inside each grid; the coverage columns
    come from the coverage's grid table (``households_covered_T``,
    ``households_share_T_pct``, ``population_covered_T``, ``households_uncovered_15``).
    """
    base = pd.DataFrame(grids.drop(columns=grids.geometry.name))
    for col, nd in (("area_m2", 1), ("compactness", 3), ("population", 1), ("feature_share", 3)):
        if col in base.columns:
            base[col] = pd.to_numeric(base[col], errors="coerce").round(nd)
    table = ex.points_lonlat(grids)[["lon", "lat"]]
    base["lon"], base["lat"] = table["lon"].to_numpy(), table["lat"].to_numpy()
    if coverage is None:
        return base
    cov = coverage.table("grid").rename(columns={"id": "code"})
    keep = [
        c
        for c in cov.columns
        if c.startswith(
            ("households_covered", "households_share", "households_uncovered", "population_covered")
        )
    ]
    return base.merge(cov[["code", *keep]], on="code", how="left")


def output_layers(
    result: RunResult, *, organisation_names: bool = False
) -> dict[str, gpd.GeoDataFrame]:
    """The layers a run exports, by file name (street CRS).

    With the organisation registers, the grids carry their branch and team counts
    (:data:`planner.organisation.organise.GRID_LAYER_COLUMNS`), names only with
    ``organisation_names``; phones never.
    """
    st = result.street
    layers: dict[str, gpd.GeoDataFrame] = {
        "boundary": st.boundary,
        "communities": st.communities,
        "compounds": st.compounds,
        "buildings": result.coverage.buildings if result.coverage else st.buildings,
        "roads": st.roads,
        "stations": st.stations,
    }
    if result.grids is not None:
        layers["grids"] = result.grids.grids
        if result.organisation is not None:
            layers["grids"] = result.organisation.grid_layer(
                result.grids.grids, with_names=organisation_names
            )
    if result.grid_systems is not None and result.grid_systems.nested is not None:
        layers["grids_nested"] = result.grid_systems.nested.grids
    if result.coverage is not None:
        layers["circles"] = result.coverage.circles
        layers["gaps"] = result.coverage.gaps
        # --- services: the completeness layer (issue 16) ---
        if result.coverage.services is not None:
            layers["completeness"] = result.coverage.services.buildings
    if result.siting is not None:
        layers["sites"] = result.siting.sites
    return layers


def output_tables(result: RunResult) -> dict[str, pd.DataFrame]:
    """The tables a run writes (CSV, sheets of ``tables.xlsx``, GeoPackage tables)."""
    # GeoPackage and Shapefile take the layers; a table carries no geometry
    return {
        k: make().drop(columns=["geometry"], errors="ignore")
        for k, make in _table_makers(result).items()
    }


def _table_makers(result: RunResult) -> dict[str, Callable[[], pd.DataFrame]]:
    """The tables of :func:`output_tables`, by name, each built only when called: the
    export step's progress bar counts them (:func:`export_file_count`) without
    building them (joins and point-in-polygon work of ~0.7 CPU s on a street of
    ~5,000 buildings, otherwise done twice per run)."""
    makers: dict[str, Callable[[], pd.DataFrame]] = {}
    cov = result.coverage
    if cov is not None:
        makers["coverage_by_community"] = lambda: cov.table("community")
    if result.grids is not None:
        grids = result.grids.grids
        makers["coverage_by_grid"] = lambda: grid_table(grids, cov)
    if cov is not None:
        makers["coverage_by_station"] = lambda: cov.stations
        compounds = result.street.compounds
        makers["uncovered_compounds"] = lambda: _with_lonlat(
            cov.uncovered_compounds, compounds, "compound_id"
        )
    # --- services: completeness and capacity tables (issue 16) ---
    services = cov.services if cov is not None else None
    if cov is not None and services is not None:
        from planner.coverage.layers import service_grid_table

        makers["completeness_by_community"] = lambda: services.table("community")
        if result.grids is not None:
            grids = result.grids.grids
            makers["completeness_by_grid"] = lambda: service_grid_table(cov, grids)
        makers["capacity_by_station"] = lambda: services.stations
        if len(services.needs):  # a register with residents by age ("一老一小")
            needs = services.needs
            makers["needs_by_community"] = lambda: needs[needs["level"] != "grid"].reset_index(
                drop=True
            )
    if result.siting is not None and result.siting.plan is not None:
        figures = getattr(result.siting.plan, "figures", None)
        if isinstance(figures, pd.DataFrame):
            makers["siting_by_area"] = lambda: figures
    if result.organisation is not None:  # --- org: organisation tables ---
        org = result.organisation
        makers["organisation_by_grid"] = org.grid_table
        makers["organisation_by_community"] = lambda: org.report.by_community
    if result.grid_systems is not None:
        for name, table in result.grid_systems.tables().items():
            makers[name] = lambda table=table: table  # type: ignore[misc]
    return makers


def _with_lonlat(table: pd.DataFrame, layer: gpd.GeoDataFrame, key: str) -> pd.DataFrame:
    """``table`` with ``lon``/``lat`` (WGS84) of the matching feature's inside point."""
    if len(table) == 0 or len(layer) == 0 or key not in table.columns:
        return table
    pts = ex.points_lonlat(layer[[key, layer.geometry.name]])
    pts[key] = pts[key].astype(str)
    out = table.copy()
    out[key] = out[key].astype(str)
    return out.merge(pts, on=key, how="left")


def run_metadata(result: RunResult) -> dict[str, Any]:
    """Foreign members of every GeoJSON and the GeoPackage's dataset metadata."""
    meta: dict[str, Any] = {
        "generator": "planner",
        "street": result.street.name,
        "synthetic": bool(result.street.synthetic),
        "walk_speed_kmh": result.settings.walk_speed_kmh,
    }
    if result.street.attribution:
        meta["attribution"] = result.street.attribution
    return meta


def export_file_count(result: RunResult, options: OutputOptions) -> int:
    """How many ticks the export step's progress bar makes."""
    formats = options.formats
    n_tables = len(_table_makers(result))
    n = len(output_layers(result)) if "geojson" in formats else 0
    n += n_tables if "csv" in formats else 0
    n += 1 if "gpkg" in formats else 0
    n += 1 if "xlsx" in formats and n_tables else 0
    n += 1 if "shp" in formats else 0
    cards = 1 if options.images and result.organisation is not None else 0
    return n + (1 if options.html else 0) + (2 if options.images else 0) + cards


# ---------------------------------------------------------------------------------------
# Writing


def write_red_map_html(result: RunResult, path: Path) -> Path:
    """The red map as one standalone HTML file (every script inlined; opens offline)."""
    from planner.maps.offline import standalone_html
    from planner.maps.redmap import red_map

    s = result.settings
    m = red_map(
        result.street,
        coverage=result.coverage,
        grids=result.grid_layer,
        sites=result.siting.sites if result.siting else None,
        walk_speed_kmh=s.walk_speed_kmh,
    )
    if result.organisation is not None and result.grid_layer is not None:
        from planner.organisation.maplayers import add_organisation_layers

        add_organisation_layers(m, result.street, result.grid_layer, result.organisation)
    return write_text(path, standalone_html(m))


def _write_map_images(result: RunResult, out: Path, *, completeness: bool = False) -> list[Path]:
    """``redmap.png`` and ``redmap.pdf`` (:func:`planner.maps.image.write_map_images`);
    ``completeness`` adds the completeness layer (``OutputOptions.map_completeness``)."""
    from planner.maps.image import write_map_images

    return write_map_images(
        result.street,
        out,
        coverage=result.coverage,
        grids=result.grid_layer,
        sites=result.siting.sites if result.siting else None,
        settings=result.settings,
        completeness=completeness,
    )


def _write_outputs(
    result: RunResult, out: Path, *, options: OutputOptions, bar: ProgressBar
) -> None:
    """Every file but ``summary.json`` and ``COMPLETE``, into ``out``."""

    def tick(name: str) -> None:
        bar.set_postfix_str(name)
        bar.update(1)

    ex.export_all(
        out,
        layers=output_layers(result, organisation_names=options.organisation_names),
        tables=output_tables(result),
        formats=options.formats,
        coordinate_system=options.coordinate_system,
        precision=result.settings.coordinate_precision,
        metadata=run_metadata(result),
        progress=tick,
        out_crs=parse_crs(options.out_crs, flag="--out-crs") if options.out_crs else None,
    )
    if result.grids is not None:
        text = result.grids.report.to_text() + "\n"
        if result.organisation is not None:  # the organisation rules, apart
            text += "\n" + result.organisation.report.to_text() + "\n"
        if result.grid_systems is not None:
            text += "\n" + result.grid_systems.to_text() + "\n"
        write_text(out / "grid_rules.txt", text)
    if options.html:
        bar.set_postfix_str("redmap.html")
        write_red_map_html(result, out / "redmap.html")
        bar.update(1)
    if options.images:
        bar.set_postfix_str("redmap.png, redmap.pdf")
        _write_map_images(result, out, completeness=options.map_completeness)
        bar.update(2)
    if options.images and result.organisation is not None and result.grids is not None:
        bar.set_postfix_str("grid_cards.pdf")
        _write_grid_cards(result, out, options)
        bar.update(1)


def _write_grid_cards(result: RunResult, out: Path, options: OutputOptions) -> list[Path]:
    """``grid_cards.pdf`` (:func:`planner.organisation.cards.write_grid_cards`)."""
    from planner.organisation.cards import write_grid_cards

    assert result.organisation is not None and result.grids is not None
    cov = result.coverage
    circles = None
    if cov is not None:
        union = cov.union_circles
        circles = union[union["minutes"] == result.settings.gap_minutes]
    return write_grid_cards(
        result.organisation,
        result.street,
        result.grids.grids,
        out,
        coverage_buildings=cov.buildings if cov is not None else None,
        circles=circles,
        phones=options.card_phones,
        by_community=options.cards_by_community,
    )


def _json_default(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return str(v)


def write_run_files(
    result: RunResult,
    out_dir: str | Path,
    *,
    options: OutputOptions = OutputOptions(),
    bar: ProgressBar | None = None,
) -> list[Path]:
    """Write every output of ``result`` into ``out_dir``, as one complete set.

    The one writer of a run's folder (see the module docstring for the files).
    Everything is written into a staging folder beside ``out_dir``; ``summary.json``
    (settings, figures, timings, the file names relative to the folder) and then
    ``COMPLETE`` come last, and the folder is swapped into place: ``out_dir`` holds
    the previous complete set or this one, never a mix, and files in it that the
    planner did not write are kept. On an error or an interruption nothing in
    ``out_dir`` changes and no temporary file is left.

    Records the files written (``result.files``, paths in ``out_dir``, ``COMPLETE``
    last) and the time the step took (``result.timings_s["export"]``, seconds).

    Returns
    -------
    list of pathlib.Path
        Every file written, in order.
    """
    out = Path(out_dir)
    t0 = time.perf_counter()
    with staged_folder(out) as stage:
        _write_outputs(result, stage, options=options, bar=bar or _NoBar())
        names = [*list_files(stage), "summary.json"]  # every file, Shapefile parts too
        result.files = [out / n for n in names]
        result.timings_s["export"] = round(time.perf_counter() - t0, 3)
        doc = result.summary()
        doc["files"] = names
        text = json.dumps(doc, ensure_ascii=False, indent=2, default=_json_default) + "\n"
        write_text(stage / "summary.json", text)
    result.files.append(out / "COMPLETE")
    return list(result.files)


# ---------------------------------------------------------------------------------------
# Reading a written set back (the app's downloads)


def read_files(folder: str | Path) -> dict[str, bytes]:
    """Every file under ``folder``: ``/``-separated relative name -> bytes, sorted."""
    return {name: (Path(folder) / name).read_bytes() for name in list_files(folder)}


def zip_files(files: Mapping[str, bytes], *, names: Sequence[str] | None = None) -> bytes:
    """A zip of ``files`` (relative name -> bytes), the same bytes for the same files.

    ``names`` picks and orders the members (default: all, sorted). Members carry a
    fixed date (1980-01-01), so the archive depends only on the files.
    """
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in names if names is not None else sorted(files):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, files[name])
    return buf.getvalue()
