"""The whole job in one call: load, divide into grids, coverage, siting, exports.

Each step is a function of its own (the walkthrough notebook calls them one by
one); :func:`run_pipeline` chains them and writes every output into one folder:

- per-layer GeoJSON (RFC 7946): boundary, communities, compounds, buildings (with
  walking times), roads, stations, grids, circles, gaps, sites;
- ``planner.gpkg`` with every layer and every table; ``shapefile/`` with
  ``fields.csv``;
- CSV tables (UTF-8 with BOM): ``coverage_by_community.csv``,
  ``coverage_by_grid.csv`` (each grid's attributes and coverage),
  ``coverage_by_station.csv``, ``uncovered_compounds.csv``;
- ``redmap.html`` (standalone, offline), ``redmap.png`` and ``redmap.pdf``;
- ``grid_rules.txt`` (the proof of the grid rules) and ``summary.json``.

Every step reports to a progress bar made by the caller (tqdm in the CLI).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd

from planner._atomic import write_text
from planner.coverage.layers import CoverageLayers, compute_coverage_layers
from planner.export import formats as ex
from planner.grids.codes import effective_code_settings
from planner.settings import Settings
from planner.street import Street

log = logging.getLogger(__name__)

#: Steps of the pipeline, in order.
STEPS: tuple[str, ...] = ("load", "grids", "coverage", "siting", "export")

#: Default number of new stations the run proposes (``--sites K``; 0 skips siting).
DEFAULT_NEW_SITES = 3


class StepBar(Protocol):
    """What the pipeline needs from a progress bar (a tqdm bar has all of it)."""

    def update(self, n: int = 1) -> Any: ...

    def set_postfix_str(self, s: str, refresh: bool = True) -> Any: ...

    def close(self) -> Any: ...


BarFactory = Callable[[str, int], StepBar]


class _NoBar:
    def update(self, n: int = 1) -> None:
        return None

    def set_postfix_str(self, s: str, refresh: bool = True) -> None:
        return None

    def close(self) -> None:
        return None


def _no_bar(_desc: str, _total: int) -> StepBar:
    return _NoBar()


@contextlib.contextmanager
def _step(bars: BarFactory, name: str, total: int, timings: dict[str, float]) -> Iterator[StepBar]:
    bar = bars(name, total)
    t0 = time.perf_counter()
    try:
        yield bar
    finally:
        timings[name] = round(time.perf_counter() - t0, 3)
        bar.close()


# ---------------------------------------------------------------------------------------
# Results


@dataclass
class SitingLayers:
    """Proposed new stations (``sites``, street CRS) and the plan's figures."""

    sites: gpd.GeoDataFrame
    summary: dict[str, Any]
    plan: Any = None


@dataclass
class RunResult:
    """Everything one run produced."""

    street: Street
    settings: Settings
    grids: Any = None  # planner.grids.division.GridResult
    coverage: CoverageLayers | None = None
    siting: SitingLayers | None = None
    files: list[Path] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def rules_ok(self) -> bool:
        """True when the grids keep every rule (or there are no grids)."""
        return self.grids is None or bool(self.grids.report.ok)

    @property
    def grid_layer(self) -> gpd.GeoDataFrame | None:
        return None if self.grids is None else self.grids.grids

    def summary(self) -> dict[str, Any]:
        """JSON-ready figures of the run (what ``summary.json`` holds)."""
        st = self.street
        out: dict[str, Any] = {
            "street": st.name,
            "synthetic": bool(st.synthetic),
            "attribution": st.attribution,
            "crs": st.crs.to_string(),
            "made": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "settings": {
                k: (list(v) if isinstance(v, tuple) else v)
                for k, v in self.settings.to_dict().items()
            },
            "load": st.report.to_dict() if st.report is not None else {},
        }
        if self.grids is not None:
            g = self.grids.grids
            out["grids"] = {
                "count": len(g),
                "rules_ok": bool(self.grids.report.ok),
                "quality": {k: round(float(v), 4) for k, v in self.grids.report.quality.items()},
                "violations": [v.to_dict() for v in self.grids.report.violations],
            }
        if self.coverage is not None:
            out["coverage"] = self.coverage.summary
        if self.siting is not None:
            out["siting"] = self.siting.summary
        out["timings_s"] = dict(self.timings_s)
        out["notes"] = list(self.notes)
        out["files"] = [str(p) for p in self.files]
        return out


# ---------------------------------------------------------------------------------------
# Steps


def divide_grids(street: Street, *, settings: Settings) -> Any:
    """Step 2: divide the street into grids and prove the rules (:func:`planner.grids.division.divide`)."""
    from planner.grids.division import divide

    return divide(street, settings=settings)


def site_new_stations(
    street: Street,
    layers: CoverageLayers,
    *,
    settings: Settings,
    k: int,
    grids: gpd.GeoDataFrame | None = None,
) -> SitingLayers | None:
    """Step 4: propose ``k`` new stations (:func:`planner.siting.site_street`).

    Uses the coverage already computed; the after figures come from coverage
    recomputed with the proposed stations added (checked against the solver).
    Returns None (and the run notes it) when this build has no street-level siting.
    """
    import importlib

    try:
        siting = importlib.import_module("planner.siting")
        site_street = siting.site_street
    except (ImportError, AttributeError):
        return None
    result = site_street(
        street, layers.coverage, k=k, grids=grids, settings=settings, after_coverage=True
    )
    return SitingLayers(sites=result.sites, summary=result.summary(), plan=result)


def grid_table(grids: gpd.GeoDataFrame, coverage: CoverageLayers | None) -> pd.DataFrame:
    """Per grid: code, community, households... joined with the grid's coverage figures."""
    base = pd.DataFrame(grids.drop(columns=grids.geometry.name))
    for col, nd in (("area_m2", 1), ("compactness", 3), ("population", 1)):
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


def output_layers(result: RunResult) -> dict[str, gpd.GeoDataFrame]:
    """The layers a run exports, by file name (street CRS)."""
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
    if result.coverage is not None:
        layers["circles"] = result.coverage.circles
        layers["gaps"] = result.coverage.gaps
    if result.siting is not None:
        layers["sites"] = result.siting.sites
    return layers


def output_tables(result: RunResult) -> dict[str, pd.DataFrame]:
    """The CSV tables a run writes, by file name."""
    tables: dict[str, pd.DataFrame] = {}
    cov = result.coverage
    if cov is not None:
        tables["coverage_by_community"] = cov.table("community")
    if result.grids is not None:
        tables["coverage_by_grid"] = grid_table(result.grids.grids, cov)
    if cov is not None:
        tables["coverage_by_station"] = cov.stations
        tables["uncovered_compounds"] = _with_lonlat(
            cov.uncovered_compounds, result.street.compounds, "compound_id"
        )
    if result.siting is not None and result.siting.plan is not None:
        figures = getattr(result.siting.plan, "figures", None)
        if isinstance(figures, pd.DataFrame):
            tables["siting_by_area"] = figures
    return tables


def _with_lonlat(table: pd.DataFrame, layer: gpd.GeoDataFrame, key: str) -> pd.DataFrame:
    """``table`` with ``lon``/``lat`` (WGS84) of the matching feature's inside point."""
    if len(table) == 0 or len(layer) == 0 or key not in table.columns:
        return table
    pts = ex.points_lonlat(layer[[key, layer.geometry.name]])
    pts[key] = pts[key].astype(str)
    out = table.copy()
    out[key] = out[key].astype(str)
    return out.merge(pts, on=key, how="left")


def export_results(
    result: RunResult,
    out_dir: str | Path,
    *,
    formats: Sequence[ex.ExportFormat] = ex.ALL_FORMATS,
    coordinate_system: ex.CoordinateSystem = "wgs84",
    html: bool = True,
    images: bool = True,
    bar: StepBar | None = None,
) -> list[Path]:
    """Step 5: write every output of ``result`` into ``out_dir``; return the files."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    bar = bar or _NoBar()
    s = result.settings
    meta = {
        "generator": "planner",
        "street": result.street.name,
        "synthetic": bool(result.street.synthetic),
        "walk_speed_kmh": s.walk_speed_kmh,
    }
    if result.street.attribution:
        meta["attribution"] = result.street.attribution
    layers = output_layers(result)
    tables = output_tables(result)
    # GeoPackage and Shapefile take the tables too; CSV needs no geometry
    csv_tables = {
        k: (v.drop(columns=["geometry"]) if "geometry" in v.columns else v)
        for k, v in tables.items()
    }

    def tick(name: str) -> None:
        bar.set_postfix_str(name)
        bar.update(1)

    files = ex.export_all(
        out,
        layers=layers,
        tables=csv_tables,
        formats=formats,
        coordinate_system=coordinate_system,
        precision=s.coordinate_precision,
        metadata=meta,
        progress=tick,
    )
    if result.grids is not None:
        files.append(write_text(out / "grid_rules.txt", result.grids.report.to_text() + "\n"))
    if html:
        bar.set_postfix_str("redmap.html")
        files.append(write_red_map_html(result, out / "redmap.html"))
        bar.update(1)
    if images:
        from planner.maps.image import write_map_images

        bar.set_postfix_str("redmap.png, redmap.pdf")
        files += write_map_images(
            result.street,
            out,
            coverage=result.coverage,
            grids=result.grid_layer,
            sites=result.siting.sites if result.siting else None,
            settings=s,
        )
        bar.update(2)
    return files


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
    return write_text(path, standalone_html(m))


def export_file_count(
    result: RunResult, formats: Sequence[str], *, html: bool, images: bool
) -> int:
    """How many ticks the export step's progress bar makes."""
    n_layers = len(output_layers(result))
    n_tables = len(output_tables(result))
    n = 0
    n += n_layers if "geojson" in formats else 0
    n += n_tables if "csv" in formats else 0
    n += 1 if "gpkg" in formats else 0
    n += 1 if "xlsx" in formats and n_tables else 0
    n += 1 if "shp" in formats else 0
    return n + (1 if html else 0) + (2 if images else 0)


# ---------------------------------------------------------------------------------------
# Everything


def run_pipeline(
    source: str | Path,
    out_dir: str | Path,
    *,
    settings: Settings | None = None,
    load_options: dict[str, Any] | None = None,
    street: Street | None = None,
    new_sites: int = DEFAULT_NEW_SITES,
    formats: Sequence[ex.ExportFormat] = ex.ALL_FORMATS,
    coordinate_system: ex.CoordinateSystem = "wgs84",
    html: bool = True,
    images: bool = True,
    bars: BarFactory | None = None,
    explicit_codes: Iterable[str] = (),
) -> RunResult:
    """Load ``source``, divide, compute coverage, site ``new_sites`` stations, export.

    Parameters
    ----------
    source
        ``"demo"``, a folder of layer files, an OSM extract, or ``place:NAME``
        (see :func:`planner.load.sources.load_street`).
    out_dir
        Folder for every output (created if needed; files in it are replaced
        atomically, other files are left alone).
    settings
        The settings of the run (default :class:`~planner.settings.Settings`).
    load_options
        Extra keyword arguments of :func:`planner.load.sources.load_street` (``boundary``,
        ``stations``, ``points_crs``, ``register``).
    street
        An already loaded street (skips loading ``source``).
    new_sites
        New stations to propose (0 skips siting).
    formats, coordinate_system
        Export formats and coordinate system (``"wgs84"`` or ``"gcj02"``).
    html, images
        Write the HTML red map, and its PNG/PDF.
    bars
        Progress bar factory ``(step name, total) -> bar`` (default: none).
    explicit_codes
        Grid-code settings the user gave (e.g. ``code_county`` from a flag): they win
        over the street's own ``street.json`` codes (:func:`planner.grids.codes.effective_code_settings`).

    Returns
    -------
    RunResult
        With ``rules_ok`` False when the grids break a rule (the files are still
        written so the planner can see where).
    """
    s = settings or Settings()
    bars = bars or _no_bar
    timings: dict[str, float] = {}
    notes: list[str] = []
    with _step(bars, "load", 1, timings) as bar:
        if street is None:
            from planner.load.sources import load_street

            street = load_street(str(source), settings=s, **(load_options or {}))
        bar.set_postfix_str(f"{len(street.buildings):,} buildings")
        bar.update(1)
    s = effective_code_settings(s, street.meta, explicit=explicit_codes)
    result = RunResult(street=street, settings=s, timings_s=timings, notes=notes)
    with _step(bars, "grids", 1, timings) as bar:
        result.grids = divide_grids(street, settings=s)
        bar.set_postfix_str(
            f"{len(result.grids.grids)} grids, rules "
            + ("hold" if result.grids.report.ok else "VIOLATED")
        )
        bar.update(1)
    with _step(bars, "coverage", 1, timings) as bar:
        result.coverage = compute_coverage_layers(street, settings=s, grids=result.grids.grids)
        pct = result.coverage.summary.get("households_covered_pct", {})
        top = pct.get(f"{s.gap_minutes:g}")
        bar.set_postfix_str(f"{top}% of households within {s.gap_minutes:g} min")
        bar.update(1)
    if new_sites > 0:
        with _step(bars, "siting", 1, timings) as bar:
            result.siting = site_new_stations(
                street, result.coverage, settings=s, k=new_sites, grids=result.grids.grids
            )
            if result.siting is None:
                notes.append("siting skipped: this build has no street-level siting")
            else:
                notes.extend(getattr(result.siting.plan, "notes", []))
                bar.set_postfix_str(f"{len(result.siting.sites)} new sites")
            bar.update(1)
    total = export_file_count(result, formats, html=html, images=images)
    with _step(bars, "export", total, timings) as bar:
        result.files = export_results(
            result,
            out_dir,
            formats=formats,
            coordinate_system=coordinate_system,
            html=html,
            images=images,
            bar=bar,
        )
    summary_path = Path(out_dir) / "summary.json"
    result.files.append(summary_path)
    write_text(
        summary_path,
        json.dumps(result.summary(), ensure_ascii=False, indent=2, default=_json_default) + "\n",
    )
    return result


def _json_default(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, Path):
        return str(v)
    return str(v)
