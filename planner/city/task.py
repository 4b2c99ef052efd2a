"""One street's task, run on a Dask worker: load its share, run the chosen jobs, write its folder.

:func:`run_street` takes a :class:`~planner.city.partition.StreetPart` (handed out by the
scheduler, never re-read from the city source), assembles it into a
:class:`~planner.street.Street` exactly as a single-street load does, runs
:func:`planner.pipeline.run_pipeline` (the one pipeline; its files are written by
:func:`planner.export.outputs.write_run_files`, the one export path) into
``streets/<street code>/`` and returns a small :class:`StreetOutcome` (figures, the
community table, time and peak memory), never raising: a failing street is reported
with its error and the other streets go on.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pandas as pd

from planner.city.partition import StreetPart
from planner.city.source import OSM_TABLES
from planner.errors import PlannerError, ProblemLog
from planner.export.formats import ALL_FORMATS, ExportFormat
from planner.settings import Settings
from planner.street import Street

__all__ = ["JOBS", "Job", "RegisterOutputs", "StreetOutcome", "load_part", "run_street"]

Job = Literal["run", "grids", "coverage", "site"]

#: ``--jobs`` choices: ``grids`` (grids and their proof), ``coverage`` (grids and
#: coverage), ``site`` and ``run`` (grids, coverage and new sites: siting needs both).
JOBS: tuple[str, ...] = ("run", "grids", "coverage", "site")


@dataclass(frozen=True)
class RegisterOutputs:
    """What each street writes of its organisation registers and of the other grid
    systems, as a single-street run's flags set it (``--organisation-names``,
    ``--card-phones``, ``--cards-by-community``, ``--other-grids``, ``--nest-in``;
    :func:`planner.cli.parser.add_register_output_args`). Field names are the keywords
    of :func:`planner.pipeline.run_pipeline`.

    ``other_grids`` and ``nest_in`` are city-wide layer files, read by each street's task
    (in the street's CRS, :func:`planner.organisation.alignment.read_other_grids`): on a
    cluster they must be on storage every worker reads.
    """

    organisation_names: bool = False
    card_phones: bool = False
    cards_by_community: bool = False
    other_grids: tuple[str, ...] = ()
    nest_in: str | None = None

    def pipeline_kwargs(self) -> dict[str, Any]:
        """The keywords of :func:`planner.pipeline.run_pipeline` these options set."""
        return asdict(self)


@dataclass
class StreetOutcome:
    """What a street task hands back to the city run (small: the files stay on disk).

    Attributes
    ----------
    code
        The street code.
    ok
        False when the street failed; ``error`` then says why.
    summary
        The run's ``summary.json`` content (:meth:`planner.pipeline.RunResult.summary`).
    communities
        The coverage table per community (``None`` without coverage).
    seconds
        Wall time of the task, s.
    peak_mb
        Peak resident memory of the worker process up to the end of the task, MB
        (``getrusage``; with thread workers, of the whole process).
    cpu_seconds
        CPU seconds (user + system) the worker process spent while the task ran, s
        (its event loop and other threads included; with thread workers, the whole
        process's).
    process_cpu_s
        CPU seconds of the worker process from its start to the end of the task, s
        (its start-up and every earlier task included): with ``cpu_seconds`` and
        ``pid`` a benchmark splits a worker's CPU into start-up, tasks and the rest.
    pid
        The worker process's id.
    """

    code: str
    ok: bool
    error: str = ""
    summary: dict[str, Any] = field(default_factory=dict)
    communities: pd.DataFrame | None = None
    seconds: float = 0.0
    peak_mb: float = 0.0
    rules_ok: bool = True
    cpu_seconds: float = 0.0
    process_cpu_s: float = 0.0
    pid: int = 0


def load_part(part: StreetPart, settings: Settings) -> Street:
    """Assemble a street's share into a validated :class:`Street` (UTM CRS), with the
    arguments :func:`planner.load.sources.load_street` gives a resolved source."""
    from planner.load.assemble import assemble

    layers = _osm_layers(part, settings) if OSM_TABLES[0] in part.layers else part.layers
    return assemble(
        layers,
        source=part.source,
        settings=settings,
        name=str(part.meta.get("name", "")),
        synthetic=bool(part.meta.get("synthetic", False)),
        attribution=str(part.meta.get("attribution", "")),
        problems=ProblemLog(),
        files=part.files or dict.fromkeys(layers, part.source),
        meta=part.meta,
        node_at=part.node_at,
        register=part.register,
    )


def _osm_layers(part: StreetPart, settings: Settings) -> dict[str, gpd.GeoDataFrame]:
    """The street's layers built from its share of a city extract's reader tables, with
    its own boundary and margin (what a single-street load of the extract builds).
    An extract's stations file given city-wide (``--stations``) is kept."""
    from planner.load.osm import layers_from_tables

    ways, features = (part.layers[name] for name in OSM_TABLES)
    polygon = part.layers["boundary"].geometry.iloc[0]
    name = str(part.meta.get("name", ""))
    layers = layers_from_tables(ways, features, polygon, margin_m=settings.margin_m, name=name)
    layers.update({k: v for k, v in part.layers.items() if k not in (*OSM_TABLES, "boundary")})
    layers["boundary"] = part.layers["boundary"]
    return layers


def _cpu_s() -> float:
    """CPU seconds (user + system) of this process since it started, s."""
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def _peak_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024, 1)


def run_street(
    part: StreetPart,
    *,
    settings: Settings,
    job: Job,
    out_dir: str,
    new_sites: int = 3,
    html: bool = True,
    images: bool = False,
    formats: tuple[ExportFormat, ...] = ALL_FORMATS,
    register_outputs: RegisterOutputs | None = None,
) -> StreetOutcome:
    """Run ``job`` on one street and write ``out_dir`` (see the module docstring).

    ``register_outputs`` (default: none of them) are passed to the pipeline as a
    single-street run's flags are.

    Any exception is caught and returned as a failed outcome: the planner's own errors
    (bad input) with their message, anything else with its type (a bug), so that one
    street never stops the city.
    """
    from planner.pipeline import run_pipeline

    t0, c0 = time.perf_counter(), _cpu_s()
    try:
        street = load_part(part, settings)
        result = run_pipeline(
            part.source,
            Path(out_dir),
            settings=settings,
            street=street,
            new_sites=new_sites if job in ("run", "site") else 0,
            coverage=job != "grids",
            html=html,
            images=images,
            formats=formats,
            registers=part.org_registers,
            **(register_outputs or RegisterOutputs()).pipeline_kwargs(),
        )
    except PlannerError as exc:
        return _failed(part.code, str(exc), t0, c0)
    except Exception as exc:  # a bug on one street must not stop the others
        return _failed(part.code, f"internal error {type(exc).__name__}: {exc}", t0, c0)
    communities = None if result.coverage is None else result.coverage.table("community")
    return StreetOutcome(
        code=part.code,
        ok=True,
        summary=result.summary(),
        communities=communities,
        rules_ok=result.rules_ok,
        **_usage(t0, c0),
    )


def _usage(t0: float, c0: float) -> dict[str, Any]:
    """The task's wall and CPU seconds since ``t0`` / ``c0``, the worker's CPU so far,
    its peak memory and its process id (:class:`StreetOutcome` fields)."""
    cpu = _cpu_s()
    return {
        "seconds": round(time.perf_counter() - t0, 3),
        "cpu_seconds": round(cpu - c0, 3),
        "process_cpu_s": round(cpu, 3),
        "peak_mb": _peak_mb(),
        "pid": os.getpid(),
    }


def _failed(code: str, error: str, t0: float, c0: float) -> StreetOutcome:
    return StreetOutcome(code=code, ok=False, error=error, **_usage(t0, c0))
