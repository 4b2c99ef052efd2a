"""A city run on Dask: one task per street, the city read once, failures reported per street.

:func:`run_city` cuts every street's share out of the city-wide layers once
(:func:`planner.city.partition.street_part`), scatters the shares to the workers of a
``dask.distributed`` cluster, submits one :func:`planner.city.task.run_street` per
street and gathers the outcomes as they complete (:class:`StreetProgress`: a line per
street, or the command's progress bar). With no
``scheduler`` it starts a ``LocalCluster`` of worker *processes* (the grid division and
the network searches hold the GIL), one thread each, as many as the cores this process
may use; with ``scheduler="tcp://host:8786"`` the same run goes to an existing cluster.
The cluster and client are closed on return, on error and on Ctrl-C.

Incremental runs: a content hash of each street's share (every feature within its
margin, so a change in a neighbour that the margin reaches changes it too), the
settings and the job is kept in ``city_inputs.json`` beside the outputs
(:mod:`planner.city.hashes`); a street whose hash is unchanged and whose folder is
complete is not run again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import pandas as pd

from planner._atomic import write_text
from planner._threads import THREADS_ENV
from planner.city.hashes import load_hashes, options_digest, part_hash, save_hashes
from planner.city.partition import StreetPart, layer_trees, street_part
from planner.city.registers import OrgSplit, RegisterSplit, split_org_registers, split_register
from planner.city.source import CityInput
from planner.city.task import Job, RegisterOutputs, StreetOutcome, run_street
from planner.errors import InputError, PlannerError, Problem
from planner.export.formats import ALL_FORMATS, ExportFormat
from planner.organisation.registers import RegisterFiles, RegisterTables
from planner.settings import Settings
from planner.street import Street

__all__ = [
    "CITY_FILE",
    "POLLING",
    "UNMATCHED_FILE",
    "CityResult",
    "LineProgress",
    "StreetProgress",
    "city_parts",
    "load_city_street",
    "local_workers",
    "report_unmatched_rows",
    "run_city",
    "split_city_org_registers",
    "split_city_register",
    "street_line",
    "worker_config",
    "write_city_inputs",
]

#: Rows of a city-wide household register that no street takes (written by the command).
UNMATCHED_FILE = "city_register_unmatched.csv"

#: The city's inputs in its output folder (:func:`write_city_inputs`).
CITY_FILE = "city.json"

Report = Callable[[str], None]


class StreetProgress(Protocol):
    """How a city run shows its progress: one job across the streets it runs."""

    def start(self, job: str, total: int) -> None:
        """``total`` streets of ``job`` are about to run."""

    def done(self, outcome: StreetOutcome) -> None:
        """A street finished (or failed: ``outcome.ok`` is False)."""

    def close(self) -> None:
        """The run is over (also after an error or Ctrl-C)."""


def street_line(job: str, done: int, total: int, outcome: StreetOutcome) -> str:
    """One finished street as a line: ``[coverage 2/4] street 003 ok (14.9 s, 412 MB)``
    (wall time s, the worker's peak memory MB)."""
    state = "ok" if outcome.ok else f"FAILED: {outcome.error}"
    return (
        f"[{job} {done}/{total}] street {outcome.code} {state} "
        f"({outcome.seconds:.1f} s, {outcome.peak_mb:.0f} MB)"
    )


@dataclass
class LineProgress:
    """Progress as one line per finished street (:func:`street_line`), for logs and
    terminals that are not a tty."""

    report: Report
    job: str = ""
    total: int = 0
    count: int = 0

    def start(self, job: str, total: int) -> None:
        self.job, self.total, self.count = job, total, 0

    def done(self, outcome: StreetOutcome) -> None:
        self.count += 1
        self.report(street_line(self.job, self.count, self.total, outcome))

    def close(self) -> None:
        return None


@dataclass
class CityResult:
    """Outcomes of a city run, in street order (``reused`` streets were not re-run)."""

    outcomes: dict[str, StreetOutcome] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    dashboard: str = ""

    @property
    def failed(self) -> list[str]:
        return [c for c, o in self.outcomes.items() if not o.ok]


def local_workers() -> int:
    """Worker processes of a local cluster: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def city_parts(
    city: CityInput, settings: Settings, *, codes: set[str] | None = None
) -> tuple[list[StreetPart], dict[str, StreetOutcome]]:
    """Every street's share (or those of ``codes``), in the order of the streets layer,
    and the streets whose share cannot be cut (a failed outcome naming the streets file,
    the street and why).

    The share of street K of ``demo-city:N`` is named ``demo-city:N/K``, the source a
    single-street command uses for the same street.
    """
    synthetic_own = city.source.startswith("demo-city:") and not city.streets_file
    trees = layer_trees(city.layers)
    rows = split_city_register(city).by_street if city.register is not None else None
    org = split_city_org_registers(city) if city.org_registers is not None else None
    parts: list[StreetPart] = []
    failed: dict[str, StreetOutcome] = {}
    for k, code in enumerate(city.streets["street_code"], start=1):
        code = str(code)
        if codes is not None and code not in codes:
            continue
        source = f"{city.source}/{k}" if synthetic_own else f"{city.source}#{code}"
        try:
            part = street_part(
                city.layers,
                city.street(code),
                margin_m=settings.margin_m,
                meta=city.meta,
                source=source,
                trees=trees,
            )
        except PlannerError as exc:
            where = city.streets_file or city.source
            failed[code] = StreetOutcome(code, ok=False, error=f"[{where}, street {code}] {exc}")
            continue
        part.node_at = city.node_at
        if city.files:
            part.files = {**dict.fromkeys(part.layers, city.source), **city.files}
            part.files["boundary"] = city.streets_file or city.source
        if rows is not None:
            part.register = rows.get(code, city.register.iloc[0:0])  # type: ignore[union-attr]
        if org is not None:
            part.org_registers = org.by_street.get(code) or RegisterTables(
                files=dict(city.org_registers.files)  # type: ignore[union-attr]
            )
        parts.append(part)
    return parts, failed


def split_city_register(city: CityInput) -> RegisterSplit:
    """The city-wide household register split to its streets by key
    (:func:`planner.city.registers.split_register`); empty without a register."""
    if city.register is None:
        return RegisterSplit()
    return split_register(city.register, layers=city.layers, streets=city.streets)


def split_city_org_registers(city: CityInput) -> OrgSplit:
    """The city-wide organisation registers split to its streets
    (:func:`planner.city.registers.split_org_registers`); empty without them."""
    if city.org_registers is None:
        return OrgSplit()
    return split_org_registers(city.org_registers, layers=city.layers, streets=city.streets)


def write_city_inputs(city: CityInput, out: Path, settings: Settings) -> Path:
    """Write ``city.json`` in the city folder: the city's source, streets file, city-wide
    stations and register and the margin, so a street of it can be opened again
    (:func:`load_city_street`; the app's city page)."""

    def absolute(path: str) -> str:
        return path if not path or path.startswith("demo-city:") else str(Path(path).resolve())

    data = {
        "source": absolute(city.source),
        "streets": absolute(city.streets_file),
        "stations": absolute(city.stations_file),
        "register": absolute(city.files.get("register", "")),
        "margin_m": settings.margin_m,
    }
    if city.org_files is not None:
        given = city.org_files.given()
        data["org_registers"] = {k: absolute(str(v)) for k, v in given.items()}
        data["incidents_crs"] = city.org_files.incidents_crs
    return write_text(out / CITY_FILE, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def load_city_street(city_dir: Path, code: str, settings: Settings) -> Street:
    """Street ``code`` of the city run in ``city_dir``, loaded from the city's inputs
    (``city.json``) with the city's margin, as the city run's task loaded it.

    Raises
    ------
    InputError
        No ``city.json`` in the folder, no such street, or the city's inputs are gone.
    """
    from planner.city.source import read_city
    from planner.city.task import load_part

    path = Path(city_dir) / CITY_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(
            Problem(f"not a city output folder ({exc})", file=str(path),
                    fix="give the --out folder of a `python -m planner city` run")
        ) from exc  # fmt: skip
    s = replace(settings, margin_m=float(data.get("margin_m", settings.margin_m)))
    city = read_city(
        str(data["source"]),
        streets=data.get("streets") or None,
        stations=data.get("stations") or None,
        register=data.get("register") or None,
        margin_m=s.margin_m,
        org_files=_org_files(data.get("org_registers") or {}, data.get("incidents_crs")),
    )
    parts, failed = city_parts(city, s, codes={code})
    if code in failed:
        raise InputError(Problem(failed[code].error, file=str(path)))
    if not parts:
        raise InputError(
            Problem(f"the city has no street {code}", file=str(path),
                    fix="choose a street of the city's street table")
        )  # fmt: skip
    return load_part(parts[0], s)


def _org_files(files: dict[str, str], crs: str | None) -> RegisterFiles | None:
    """The organisation register files recorded in ``city.json`` (None: none)."""
    if not files:
        return None
    paths = {k: Path(v) for k, v in files.items()}
    return RegisterFiles(**paths, incidents_crs=crs or "wgs84")  # type: ignore[arg-type]


def report_unmatched_rows(city: CityInput, out: Path) -> tuple[int, Path | None]:
    """Write ``city_register_unmatched.csv`` (``register`` file, ``row``, ``label``,
    ``reason``: the rows of the city-wide registers no street takes) when there are
    any; their count and the file."""
    household = split_city_register(city).unmatched.assign(register=city.files.get("register"))
    org = split_city_org_registers(city).unmatched
    unmatched = pd.concat([household, org], ignore_index=True)
    if unmatched.empty:
        return 0, None
    text = unmatched[["register", "row", "label", "reason"]].to_csv(index=False)
    return len(unmatched), write_text(out / UNMATCHED_FILE, "\ufeff" + text)


#: dask's polling intervals a city run's local cluster slows down (:func:`worker_config`).
POLLING: dict[str, object] = {
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
}


#: The module every local worker process preloads (:mod:`planner.city.worker_setup`).
WORKER_SETUP = "planner.city.worker_setup"


def worker_config(workers: int = 1) -> dict[str, object]:
    """The dask settings of the city run's ``workers`` local worker processes
    (``dask.config.set`` keys), where they differ from dask's defaults for a reason of ours:

    - ``distributed.worker.profile.enabled`` off: dask's statistical profiler samples
      the running task's stack every 10 ms from the worker's event-loop thread, taking
      the GIL from a task that holds it most of the time (the grid division and the
      network searches are Python-heavy);
    - ``distributed.nanny.pre-spawn-environ`` without ``MALLOC_TRIM_THRESHOLD_``: dask
      sets it to 64 KiB so that a worker hands freed memory back to the system at once,
      which makes glibc return and re-fault heap pages all the time under the many small
      arrays of geopandas and shapely; a street task's memory is freed when it ends
      anyway. The one-thread BLAS settings are kept (a worker per core);
    - ``PLANNER_THREADS`` (:data:`planner._threads.THREADS_ENV`) in the worker's
      environment: the cores this process may use divided among the workers, so the
      GEOS threads of :mod:`planner._threads` do not multiply by the workers;
    - the polling of dask's servers slowed down (:data:`POLLING`): the event-loop health
      check every 1 s instead of 20 ms (``distributed.admin.tick.interval``), the
      memory monitor every 1 s instead of 100 ms and the system monitor every 5 s
      instead of 0.5 s. At dask's rates an idle one-worker local cluster costs ≈ 2.1
      CPU s a minute in the command's process (scheduler, nanny, client) and ≈ 1.2 in
      the worker, ≈ 0.4 and ≈ 0.2 at these (docs/benchmarks/city.md): a city run pays
      that for its whole wall time, and a worker's checks take the GIL from its task.
      A street task runs for seconds to minutes and a worker's memory grows by tens of
      MB a street, so a 1 s memory check still pauses or restarts a worker in time.

    - ``distributed.worker.preload`` :mod:`planner.city.worker_setup`: a worker ignores
      SIGINT (Ctrl-C reaches the whole process group; the command stops the cluster).

    The same keys apply to the scheduler, nannies and client of the local cluster (they
    run in the command's process, inside the same ``dask.config.set``).
    """
    import dask
    import distributed  # noqa: F401  (its import loads its config defaults)

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {})
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    environ[THREADS_ENV] = str(max(1, local_workers() // max(1, workers)))
    return {
        "distributed.worker.profile.enabled": False,
        "distributed.worker.preload": [WORKER_SETUP],
        "distributed.nanny.pre-spawn-environ": environ,
        **POLLING,
    }


@contextlib.contextmanager
def _client(scheduler: str | None, workers: int | None, processes: bool) -> Iterator[object]:
    """A ``distributed.Client`` on ``scheduler`` or on a new ``LocalCluster``; both closed
    on exit (also on Ctrl-C)."""
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:  # type: ignore[no-untyped-call]
            yield client
        return
    import dask

    n = workers or local_workers()
    config = worker_config(n)
    environ = config["distributed.nanny.pre-spawn-environ"]
    assert isinstance(environ, dict)
    kept = {k: os.environ.get(k) for k in [*environ, "PYTHONHASHSEED"]}  # the nanny's too
    try:
        with (
            dask.config.set(config),
            LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=n,
                threads_per_worker=1,
                processes=processes,
                dashboard_address=":0",
            ) as cluster,
            Client(cluster) as client,  # type: ignore[no-untyped-call]
        ):
            try:
                yield client
            except KeyboardInterrupt:  # Ctrl-C or a stop signal: close without dask's noise
                _quiet_close(client)
                raise
    finally:  # a nanny puts the workers' variables in this process's environment too
        for key, value in kept.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _silence_distributed() -> None:
    """Drop the log lines of dask's ``distributed`` below CRITICAL in this process."""
    logging.getLogger("distributed").setLevel(logging.CRITICAL)


def _quiet_close(client: object) -> None:
    """Before a cluster closed on a stop: silence ``distributed``'s logging here and in
    the workers. Closing a cluster under a running task makes every part log errors
    with tracebacks (heartbeats to a closed scheduler, scattered data lost) that say
    nothing to the user: the command prints what was kept. Best effort: the message to
    the workers is not waited for."""
    _silence_distributed()
    with contextlib.suppress(Exception):
        client.run(_silence_worker, wait=False)  # type: ignore[attr-defined]


async def _silence_worker() -> None:
    """:func:`_silence_distributed` on a worker's event loop (``Client.run`` without
    waiting takes a coroutine function): it runs even while the worker's task holds
    its one thread."""
    _silence_distributed()


def run_city(
    city: CityInput,
    out: Path,
    *,
    settings: Settings,
    job: Job = "run",
    scheduler: str | None = None,
    workers: int | None = None,
    processes: bool = True,
    new_sites: int = 3,
    html: bool = True,
    images: bool = False,
    formats: tuple[ExportFormat, ...] = ALL_FORMATS,
    force: bool = False,
    report: Report | None = None,
    progress: StreetProgress | None = None,
    register_outputs: RegisterOutputs | None = None,
) -> CityResult:
    """Run ``job`` on every street of ``city`` on Dask; street folders under ``out/streets``.

    Parameters
    ----------
    city
        The city, read once (:func:`planner.city.source.read_city`).
    out
        The city output folder (created by the caller).
    settings
        Settings of every street (``margin_m`` is the margin of each street's share).
    job
        ``run``, ``grids``, ``coverage`` or ``site`` (:data:`planner.city.task.JOBS`).
    scheduler
        Address of an existing Dask scheduler; None starts a local cluster.
    workers
        Local worker processes (default: the cores this process may use).
    processes
        Local workers as processes (True; threads only for quick tests).
    new_sites, html, images, formats
        Each street's new stations (``run``/``site``), HTML red map, PNG/PDF map and
        export formats (:func:`planner.pipeline.run_pipeline`).
    force
        Re-run every street even when its inputs are unchanged.
    report
        Called with one line per event (streets reused, the dashboard address).
    progress
        Shown the job's progress across the streets it runs (default: a
        :class:`LineProgress` line per finished street through ``report``).
    register_outputs
        What each street writes of its organisation registers and the other grid
        systems (a single-street run's ``--organisation-names`` ... ``--nest-in``;
        default none).
    """
    from distributed import as_completed

    say = report or (lambda _line: None)
    task_options: dict[str, object] = {
        "settings": settings,
        "job": job,
        "new_sites": new_sites,
        "html": html,
        "images": images,
        "formats": formats,
        "register_outputs": register_outputs or RegisterOutputs(),
    }
    parts, failed = city_parts(city, settings)
    write_city_inputs(city, out, settings)
    digest = _options_digest(task_options)
    hashes = {p.code: part_hash(p, settings, job, digest) for p in parts}
    old = load_hashes(out)
    streets_dir = out / "streets"
    todo = [
        p
        for p in parts
        if force
        or old.get(p.code) != hashes[p.code]
        or not (streets_dir / p.code / "COMPLETE").is_file()
    ]
    run_codes = {p.code for p in todo}
    result = CityResult(
        outcomes=dict(failed), reused=[p.code for p in parts if p.code not in run_codes]
    )
    if result.reused:
        say(f"unchanged, not re-run: {', '.join(result.reused)}")
    result.ran = [p.code for p in todo]
    shown = progress or LineProgress(say)
    try:
        if todo:
            with _client(scheduler, workers, processes) as client:
                result.dashboard = str(getattr(client, "dashboard_link", "") or "")
                if result.dashboard:
                    say(f"Dask dashboard: {result.dashboard}")
                futures = _submit(client, todo, hashes, streets_dir, task_options)
                shown.start(job, len(futures))
                for fut in as_completed(futures):  # type: ignore[no-untyped-call]
                    outcome: StreetOutcome = fut.result()
                    result.outcomes[outcome.code] = outcome
                    shown.done(outcome)
    finally:  # also after Ctrl-C: the streets finished so far are not run again
        shown.close()
        _record_hashes(out, old, hashes, result.outcomes)
    return result


def _options_digest(options: dict[str, object]) -> str:
    """The digest of a run's task options other than the settings and job (hashed on
    their own), with the bytes of the other grid files each task reads."""
    outputs = options["register_outputs"]
    assert isinstance(outputs, RegisterOutputs)
    files = [*outputs.other_grids, *([outputs.nest_in] if outputs.nest_in else [])]
    shown = {k: v for k, v in options.items() if k not in ("settings", "job", "register_outputs")}
    return options_digest({**shown, **outputs.pipeline_kwargs()}, files)


def _submit(
    client: object,
    todo: list[StreetPart],
    hashes: dict[str, str],
    streets_dir: Path,
    options: dict[str, object],
) -> list[object]:
    """Scatter the streets' shares to the workers and submit one task per street.

    The shares are scattered without dask's content hash (``hash=False``: random keys):
    hashing tokenizes every share, its geometry written to WKB and read back, in the
    client's event loop before any task starts (≈ 70 ms a share of a 200-building street, ≈ 0.5
    CPU s a share of ~5,000 buildings with its margin: docs/benchmarks/city.md); the
    city run keys its streets by its own content hashes (:func:`part_hash`) and scatters
    each share once."""
    remote = client.scatter(todo, hash=False)  # type: ignore[attr-defined]
    return [
        client.submit(  # type: ignore[attr-defined]
            run_street,
            part,
            out_dir=str(streets_dir / p.code),
            key=f"street-{p.code}-{hashes[p.code][:12]}",
            pure=False,
            **options,
        )
        for p, part in zip(todo, remote, strict=True)
    ]


def _record_hashes(
    out: Path, old: dict[str, str], hashes: dict[str, str], outcomes: dict[str, StreetOutcome]
) -> None:
    """Keep the hash of every street finished now, and the old hash of streets not run
    (failed streets are dropped: they run again next time)."""
    keep = {c: h for c, h in old.items() if c in hashes}
    for code, outcome in outcomes.items():
        if outcome.ok and code in hashes:
            keep[code] = hashes[code]
        else:
            keep.pop(code, None)
    save_hashes(out, {c: keep[c] for c in hashes if c in keep})
