"""The app's caches: the street, coverage, grids, map, siting and exports computed once
per input (``st.cache_data``, keyed by hashable JSON strings; the folium map too, so
every run gets its own copy).

Only computations live here, no widgets and no session state: each wrapper calls
:mod:`planner.app.services` with the street source and the settings given as JSON
(:func:`settings_json`), so the cache key is the input itself. An argument whose name
starts with ``_`` is not hashed: a token beside it names it (``grids_token``).

The street, coverage, grids and maps are also kept on disk between server starts
(:mod:`planner.app.store`); :func:`computed` says whether a step's result was already
made in this process (e.g. by another tab) or is kept on disk, so the red map page can
skip its street-only paint.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

import streamlit as st

from planner.app import map as app_map
from planner.app import services as svc
from planner.app import store
from planner.errors import PlannerError
from planner.maps.redmap import red_map
from planner.settings import Result, Settings, settings_for
from planner.street import Street


@st.cache_data(show_spinner=False, max_entries=4)
def cached_street(source_json: str) -> Street:
    """The street of ``source_json`` (the sidebar's source, JSON), loaded once (and kept
    on disk for the next server start, :func:`planner.app.store.remembered`)."""
    return store.remembered(
        "street", source_json, (), lambda: svc.load(json.loads(source_json), Settings())
    )


def for_result(settings_text: str, result: Result) -> str:
    """The settings JSON with only what ``result`` reads (:func:`planner.settings.settings_for`).

    The cache key of the grids and of the coverage: a change to one's settings does
    not recompute the other.
    """
    return settings_json(settings_for(Settings.from_dict(json.loads(settings_text)), result))


def cached_coverage(source_json: str, settings_json: str) -> Any:
    return _cached_coverage(source_json, for_result(settings_json, "coverage"))


def cached_grids(source_json: str, settings_json: str) -> Any:
    return _cached_grids(source_json, for_result(settings_json, "grids"))


@st.cache_data(show_spinner=False, max_entries=8)
def _cached_coverage(source_json: str, settings_json: str) -> Any:
    return _computed_step("coverage", source_json, settings_json)


@st.cache_data(show_spinner=False, max_entries=8)
def _cached_grids(source_json: str, settings_json: str) -> Any:
    return _computed_step("grids", source_json, settings_json)


def _computed_step(step: Result, source_json: str, step_settings_json: str) -> Any:
    """``step`` ("coverage" or "grids") of the street with the step's settings: kept on
    disk (:func:`planner.app.store.remembered`) and recorded as computed."""
    settings = Settings.from_dict(json.loads(step_settings_json))
    func = svc.coverage_for if step == "coverage" else svc.grids_for
    result = store.remembered(
        step, source_json, (step_settings_json,), lambda: func(cached_street(source_json), settings)
    )
    _mark_computed(step, source_json, step_settings_json)
    return result


#: (step, source JSON, step's settings JSON) of results computed in this process, the
#: most recent last; as many as the step caches keep (an older one may be evicted).
_COMPUTED: OrderedDict[tuple[str, str, str], None] = OrderedDict()
_COMPUTED_LOCK = threading.Lock()
_COMPUTED_KEEP = 16


def _mark_computed(step: Result, source_json: str, step_settings_json: str) -> None:
    with _COMPUTED_LOCK:
        _COMPUTED[(step, source_json, step_settings_json)] = None
        _COMPUTED.move_to_end((step, source_json, step_settings_json))
        while len(_COMPUTED) > _COMPUTED_KEEP:
            _COMPUTED.popitem(last=False)


def computed(step: Result, source_json: str, settings_json: str) -> bool:
    """Whether ``step`` ("coverage" or "grids") was computed in this process for the
    source and the settings (only what the step reads, :func:`for_result`), or is kept
    on disk from an earlier server start (:func:`planner.app.store.has`).

    A hint, not a promise: ``st.cache_data.clear()`` or eviction may have dropped the
    result since, and reading it then recomputes it (same result, just not instant).
    """
    key = (step, source_json, for_result(settings_json, step))
    with _COMPUTED_LOCK:
        if key in _COMPUTED:
            return True
    return store.has(step, source_json, key[2:])


def forget_computed() -> None:
    """Forget which steps were computed (beside ``st.cache_data.clear()``: tests)."""
    with _COMPUTED_LOCK:
        _COMPUTED.clear()


def build_map(
    source_json: str,
    settings_json: str,
    basemap: str,
    key: str,
    lang: str,
    layers: tuple[str, ...],
    with_coverage: bool = True,
    grids: Any = None,
) -> Any:
    """The red map of the street with its coverage and ``grids`` (the project's current
    grids, :func:`project_grids`; ``None`` draws none)."""
    street = cached_street(source_json)
    settings = Settings.from_dict(json.loads(settings_json))
    coverage = cached_coverage(source_json, settings_json) if with_coverage else None
    return red_map(
        street,
        coverage=coverage,
        grids=None if grids is None else grids.grids,
        basemap=basemap,  # type: ignore[arg-type]
        tianditu_key=key,
        lang=lang,
        layers=layers,
        walk_speed_kmh=settings.walk_speed_kmh,
    )


@st.cache_data(show_spinner=False, max_entries=12)
def cached_map(
    source_json: str,
    settings_json: str,
    basemap: str,
    key: str,
    lang: str,
    layers: tuple[str, ...],
    with_coverage: bool,
    grids_token: str,
    _grids: Any,
) -> dict[str, Any]:
    """The red map rendered once into the strings the map component draws (fast reruns).

    ``grids_token`` (:func:`planner.app.project.grids_token`) names ``_grids``, so an
    edit of the project draws its new grids. Kept on disk for the next server start
    (:func:`planner.app.store.remembered`), except with a Tianditu key (a secret).
    """

    def draw() -> dict[str, Any]:
        m = build_map(source_json, settings_json, basemap, key, lang, layers, with_coverage, _grids)
        return app_map.map_payload(m)

    if key:
        return draw()
    parts = (settings_json, basemap, lang, ",".join(layers), str(with_coverage), grids_token)
    return store.remembered("map", source_json, parts, draw)


def safe(func: Any, *args: Any) -> Any:
    """``func(*args)``, or ``None`` when the planner cannot compute it (shown elsewhere)."""
    try:
        return func(*args)
    except (PlannerError, ValueError):
        return None


@st.cache_data(show_spinner=False, max_entries=4)
def cached_exports(
    source_json: str,
    settings_json: str,
    images: bool,
    grids_token: str,
    _grids: Any,
    siting_token: str,
    _siting: Any,
    org_key: str = "",
    map_completeness: bool = False,
) -> dict[str, bytes]:
    """The CLI's files for the street with the project's current grids (``_grids``,
    named by ``grids_token``), the proposed sites of the last siting run
    (``_siting``, named by ``siting_token``) and the organisation registers and edits
    named by ``org_key`` (:func:`planner.app.organisation_page.export_key`);
    ``map_completeness`` adds the completeness layer to the PNG/PDF map."""
    from planner.app import organisation_page

    street = cached_street(source_json)
    return svc.export_files(
        street,
        settings=Settings.from_dict(json.loads(settings_json)),
        coverage=safe(cached_coverage, source_json, settings_json),
        grids=_grids,
        siting=_siting,
        images=images,
        map_completeness=map_completeness,
        **organisation_page.export_inputs(org_key),
    )


def settings_json(settings: Settings) -> str:
    """The settings as JSON, keys sorted (the cache key of every step)."""
    return json.dumps(settings.to_dict(), sort_keys=True, default=list)


@st.cache_data(show_spinner=False, max_entries=8)
def cached_siting(
    source_json: str,
    settings_json: str,
    mode: str,
    value: float,
    grids_token: str,
    _grids: Any,
    kind: str = "",
) -> dict[str, Any]:
    """One siting run (``mode`` "k" or "target"), its figures per area on the project's
    current grids (``_grids``, named by ``grids_token``), the coverage before (``before``)
    and after it. ``kind`` sites new facilities of one service kind within its circle's
    minutes (:func:`planner.coverage.service_kinds.kind_street`, as ``site
    --service-kind``); '' sites party-mass stations."""
    street = cached_street(source_json)
    settings = Settings.from_dict(json.loads(settings_json))
    if kind:
        from planner.coverage.service_kinds import kind_street

        street, settings = kind_street(street, kind, settings)
        coverage = svc.coverage_for(street, settings)
    else:
        coverage = cached_coverage(source_json, settings_json)
    grids = None if _grids is None else _grids.grids
    if mode == "k":
        result = svc.propose_sites(street, coverage, settings, k=int(value), grids=grids)
    else:
        result = svc.propose_sites(street, coverage, settings, target_share=value, grids=grids)
    outcome = svc.siting_outcome(result)
    after = svc.coverage_for(svc.with_new_stations(street, outcome["sites"]), settings)
    return {**outcome, "before": coverage, "after": after, "settings": settings, "kind": kind}
