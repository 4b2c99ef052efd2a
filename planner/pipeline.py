"""The whole job in one call: load, divide into grids, coverage, siting, exports.

Each step is a function of its own (the walkthrough notebook calls them one by
one); :func:`run_pipeline` chains them and writes every output into one folder
with :func:`planner.export.outputs.write_run_files` (the files are listed there):
GeoJSON per layer, ``planner.gpkg``, ``shapefile/``, CSV tables and ``tables.xlsx``,
``redmap.html``/``.png``/``.pdf``, ``grid_rules.txt``, ``summary.json`` and the
``COMPLETE`` marker, staged and swapped into place when complete.

Every step reports to a progress bar made by the caller (tqdm in the CLI).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import geopandas as gpd

from planner._atomic import raise_if_stop_requested
from planner.coverage.layers import CoverageLayers, compute_coverage_layers
from planner.crs import parse_crs
from planner.errors import PlannerError
from planner.export import formats as ex
from planner.export.outputs import OutputOptions, export_file_count, write_run_files
from planner.grids.codes import CodeStatus, code_status, effective_code_settings
from planner.settings import Settings
from planner.street import Street

if TYPE_CHECKING:  # imported where the steps run (siting needs the solver)
    from planner.grids.division import GridResult
    from planner.organisation.alignment import GridSystems
    from planner.organisation.organise import Organisation
    from planner.organisation.registers import RegisterFiles, RegisterTables
    from planner.siting.scenario import SitingResult

log = logging.getLogger(__name__)

#: Steps of the pipeline, in order.
STEPS: tuple[str, ...] = ("load", "grids", "coverage", "siting", "export")

#: Default number of new stations the run proposes (``--sites K``; 0 skips siting).
DEFAULT_NEW_SITES = 3


class StepBar(Protocol):
    """What the pipeline needs from a progress bar (a tqdm bar has all of it)."""

    def update(self, n: int = 1) -> object: ...

    def set_postfix_str(self, s: str, refresh: bool = True) -> object: ...

    def close(self) -> object: ...


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
    """One step with its bar and time; a stop request whose exception was lost (see
    :func:`planner._atomic.raise_if_stop_requested`) is raised before and after it."""
    raise_if_stop_requested()
    bar = bars(name, total)
    t0 = time.perf_counter()
    try:
        yield bar
    finally:
        timings[name] = round(time.perf_counter() - t0, 3)
        bar.close()
    raise_if_stop_requested()


# ---------------------------------------------------------------------------------------
# Results


@dataclass
class SitingLayers:
    """Proposed new stations (``sites``, street CRS) and the plan's figures."""

    sites: gpd.GeoDataFrame
    summary: dict[str, Any]
    plan: SitingResult | None = None


@dataclass
class RunResult:
    """Everything one run produced."""

    street: Street
    settings: Settings
    grids: GridResult | None = None
    coverage: CoverageLayers | None = None
    siting: SitingLayers | None = None
    files: list[Path] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    codes: CodeStatus | None = None
    # --- org: the organisation registers and rules (issue 15) ---
    organisation: Organisation | None = None
    grid_systems: GridSystems | None = None

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
            "data_completeness": (
                st.report.completeness.to_dict() if st.report.completeness is not None else None
            ),
            "load": st.report.to_dict() if st.report is not None else {},
        }
        if self.codes is not None:
            out["codes"] = self.codes.to_dict()
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
        if self.organisation is not None:
            out["organisation"] = self.organisation.to_dict()
        if self.grid_systems is not None:
            out["grid_systems"] = self.grid_systems.to_dict()
        out["timings_s"] = dict(self.timings_s)
        out["notes"] = list(self.notes)
        out["files"] = [str(p) for p in self.files]
        return out


# ---------------------------------------------------------------------------------------
# Steps


def divide_grids(street: Street, *, settings: Settings) -> GridResult:
    """Step 2: divide the street into grids and prove the rules (:func:`planner.grids.division.divide`)."""
    from planner.grids.division import divide

    return divide(street, settings=settings)


def require_siting_solver() -> None:
    """Check that siting can run: its modules and the HiGHS solver (``highspy``) import.

    A missing or broken install is said at once, naming the package and the fix,
    instead of a run that quietly skips siting.

    Raises
    ------
    PlannerError
        The siting modules or their solver could not be imported.
    """
    try:
        import planner.siting.scenario  # noqa: F401 - imports highspy
    except ImportError as exc:
        module = (exc.name or "highspy").split(".")[0]
        install = (
            "reinstall the planner with its dependencies"
            if module == "planner"
            else f"install it with `pip install {module}`, or reinstall the planner's dependencies"
        )
        raise PlannerError(
            f"siting cannot run: the Python package '{module}' could not be imported ({exc}); "
            "siting solves with the HiGHS solver of the package 'highspy'. "
            f"Fix: {install} (`pip install -e .` in the planner's folder, or "
            "`bash scripts/setup.sh`); or skip siting with --no-siting (run, demo)"
        ) from exc


def site_new_stations(
    street: Street,
    layers: CoverageLayers,
    *,
    settings: Settings,
    k: int,
    grids: gpd.GeoDataFrame | None = None,
) -> SitingLayers:
    """Step 4: propose ``k`` new stations (:func:`planner.siting.site_street`).

    Uses the coverage already computed; the after figures come from coverage
    recomputed with the proposed stations added (checked against the solver).
    Raises :class:`~planner.errors.PlannerError` naming the package and the fix when
    the solver cannot be imported (:func:`require_siting_solver`).
    """
    require_siting_solver()
    from planner.siting.scenario import site_street

    result = site_street(
        street, layers.coverage, k=k, grids=grids, settings=settings, after_coverage=True
    )
    return SitingLayers(sites=result.sites, summary=result.summary(), plan=result)


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
    """Step 5: write every output of ``result`` into ``out_dir``; return the files.

    :func:`planner.export.outputs.write_run_files`, the one writer of a run's files
    (the app's export page calls it too): staged beside ``out_dir`` and swapped into
    place when complete, ``summary.json`` and the ``COMPLETE`` marker last.
    """
    options = OutputOptions(
        formats=tuple(formats), coordinate_system=coordinate_system, html=html, images=images
    )
    return write_run_files(result, out_dir, options=options, bar=bar)


def _other_grids(
    street: Street, paths: Sequence[str | Path], nest_in: str | Path | None
) -> tuple[list[gpd.GeoDataFrame], gpd.GeoDataFrame | None] | None:
    """The other grid layers and the one to nest in (read once; None when none)."""
    if not paths and nest_in is None:
        return None
    from planner.organisation.alignment import read_other_grids

    layers = {
        str(p): read_other_grids(p, street) for p in [*paths, *([nest_in] if nest_in else [])]
    }
    return [layers[str(p)] for p in paths], (layers[str(nest_in)] if nest_in else None)


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
    out_crs: str | None = None,
    registers: RegisterFiles | RegisterTables | None = None,
    organisation_names: bool = False,
    card_phones: bool = False,
    cards_by_community: bool = False,
    other_grids: Sequence[str | Path] = (),
    nest_in: str | Path | None = None,
    coverage: bool = True,
    map_completeness: bool = False,  # --- svcapp: the completeness layer on the PNG/PDF ---
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
    map_completeness
        Colour the PNG/PDF map's residential buildings by the service kinds they miss
        (``--map-completeness``; :func:`planner.maps.image.render_map`).
    bars
        Progress bar factory ``(step name, total) -> bar`` (default: none).
    out_crs
        The city's survey CRS for the GeoPackage, Shapefiles and CSV x/y (``--out-crs``;
        checked before the long steps, :func:`planner.crs.parse_crs`).
    explicit_codes
        Grid-code settings the user gave (e.g. ``code_county`` from a flag): they win
        over the street's own ``street.json`` codes (:func:`planner.grids.codes.effective_code_settings`).
    registers
        The organisation registers (party, staff, property, incidents;
        :class:`planner.organisation.registers.RegisterFiles`): read before the long
        steps, joined and checked once the grids exist (``organisation_by_grid.csv``,
        the organisation rules in ``grid_rules.txt``); or tables already read
        (:class:`~planner.organisation.registers.RegisterTables`: a city street's rows).
    organisation_names
        Also write branch and team names into the grids layers (off: counts only).
    card_phones, cards_by_community
        Print the staff's phones on the grid cards (off); also write one PDF of cards
        per community (``grid_cards/<community_id>.pdf``).
    other_grids, nest_in
        The street's other grid layers (综治, 城管, police beats) to align the grids
        with, and the one a nested division must fit (its cost in balance reported;
        :mod:`planner.organisation.alignment`).
    coverage
        Compute coverage (False: grids only, for ``city --jobs grids``; siting needs
        coverage, so ``new_sites`` must then be 0).

    Returns
    -------
    RunResult
        With ``rules_ok`` False when the grids break a rule (the files are still
        written so the planner can see where).
    """
    s = settings or Settings()
    if out_crs:  # a bad --out-crs is said before the long steps
        ex.check_out_crs(coordinate_system, parse_crs(out_crs, flag="--out-crs"))
    if new_sites > 0:
        require_siting_solver()  # a missing solver is said before the long steps
    org_tables = None
    from planner.organisation import registers as org_registers

    if isinstance(registers, org_registers.RegisterTables):  # --- city: a street's share
        org_tables = registers
    elif registers:  # a bad register is said before the long steps
        from planner.organisation.organise import read_or_raise

        org_tables = read_or_raise(registers)
    bars = bars or _no_bar
    timings: dict[str, float] = {}
    notes: list[str] = []
    with _step(bars, "load", 1, timings) as bar:
        if street is None:
            from planner.load.sources import load_street

            street = load_street(str(source), settings=s, **(load_options or {}))
        bar.set_postfix_str(f"{len(street.buildings):,} buildings")
        bar.update(1)
    others = _other_grids(street, other_grids, nest_in)  # read before the long steps
    s = effective_code_settings(s, street.meta, explicit=explicit_codes)
    codes = code_status(s, street.meta, explicit=explicit_codes)
    if codes.provisional:
        notes.append(codes.warning("en"))
    result = RunResult(street=street, settings=s, timings_s=timings, notes=notes, codes=codes)
    with _step(bars, "grids", 1, timings) as bar:
        result.grids = divide_grids(street, settings=s)
        bar.set_postfix_str(
            f"{len(result.grids.grids)} grids, rules "
            + ("hold" if result.grids.report.ok else "VIOLATED")
        )
        bar.update(1)
    if org_tables is not None:
        from planner.organisation.organise import organise

        result.organisation = organise(org_tables, street, result.grids.grids, settings=s)
    if others:
        from planner.organisation.alignment import grid_systems

        result.grid_systems = grid_systems(
            street, result.grids.grids, others[0], nest_in=others[1], settings=s
        )
    if coverage:
        with _step(bars, "coverage", 1, timings) as bar:
            result.coverage = compute_coverage_layers(street, settings=s, grids=result.grids.grids)
            pct = result.coverage.summary.get("households_covered_pct", {})
            top = pct.get(f"{s.gap_minutes:g}")
            share = "no households" if top is None else f"{top}% of households"
            bar.set_postfix_str(f"{share} within {s.gap_minutes:g} min")
            bar.update(1)
    if new_sites > 0 and result.coverage is not None:
        with _step(bars, "siting", 1, timings) as bar:
            result.siting = site_new_stations(
                street, result.coverage, settings=s, k=new_sites, grids=result.grids.grids
            )
            notes.extend(getattr(result.siting.plan, "notes", []))
            bar.set_postfix_str(f"{len(result.siting.sites)} new sites")
            bar.update(1)
    options = OutputOptions(
        formats=tuple(formats),
        coordinate_system=coordinate_system,
        html=html,
        images=images,
        out_crs=out_crs,
        organisation_names=organisation_names,
        card_phones=card_phones,
        cards_by_community=cards_by_community,
        map_completeness=map_completeness,
    )
    raise_if_stop_requested()
    bar = bars("export", export_file_count(result, options))
    try:  # the writer times the step itself: summary.json holds the export time too
        write_run_files(result, out_dir, options=options, bar=bar)
    finally:
        bar.close()
    return result
