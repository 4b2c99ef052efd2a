"""What every page of the app reads from the session: the language, the street source,
the project's current grids, its status line and its saved work.

The session state (``st.session_state``) is set up by :func:`planner.app.state.init_state`
in the app script; the pages (:mod:`planner.app.redmap_page`, ``overview_page``,
``siting_page``, ``export_page``, :mod:`planner.app.sidebar`) reach it through the
functions here, and the computations through :mod:`planner.app.cache`.
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from typing import Any, cast

import streamlit as st

from planner.app import editor as app_editor
from planner.app import pages_common
from planner.app import project as app_project
from planner.app.cache import (
    cached_coverage,
    cached_grids,
    cached_siting,
    cached_street,
    for_result,
    settings_json,
)
from planner.app.state import SETTING_KEYS, can_edit
from planner.errors import PlannerError, error_text
from planner.i18n import LANGS, msg, t
from planner.i18n import markdown_literal as md
from planner.settings import Settings
from planner.street import Street

S = cast("MutableMapping[str, Any]", st.session_state)  # the session state, typed


def L(key: str, **fmt: Any) -> str:
    """A catalogue string in the session's language."""
    return t(key, S["lang"], **fmt)


def coverage_or_none(source_json: str, settings_json: str) -> Any:
    """Coverage, or ``None`` (with the reason shown once) when it cannot be computed."""
    try:
        return cached_coverage(source_json, settings_json)
    except (PlannerError, ValueError) as exc:
        S.setdefault("capability_errors", {})["coverage"] = _both(exc)
        return None


def grids_or_none(source_json: str, settings_json: str) -> Any:
    """The grid division, or ``None`` (with the reason shown once) when it fails."""
    try:
        return cached_grids(source_json, settings_json)
    except (PlannerError, ValueError) as exc:
        S.setdefault("capability_errors", {})["grids"] = _both(exc)
        return None


def _both(exc: BaseException) -> dict[str, str]:
    """Why a step failed, in each language (:func:`planner.errors.error_text`)."""
    return {lang: error_text(exc, lang) for lang in LANGS}


def capability_error(step: str) -> str:
    """Why ``step`` ("coverage" or "grids") failed, in the session's language
    (the catalogue's "no data" when it did not)."""
    why = S.get("capability_errors", {}).get(step)
    if isinstance(why, dict):
        return str(why.get(S["lang"], ""))
    return str(why) if why else L("no_data")


def cannot(step: str) -> None:
    """Say why ``step`` ("coverage" or "grids") could not be computed for this street:
    the layers it lacks (in the reader's language), else the planner's reason."""
    why = capability_error(step)
    street = cached_street(source_json())
    why = pages_common.step_reason(street, step, why, S["lang"])
    st.warning(L("cannot_compute", what=L("step_" + step), why=md(why)))


def project_key(settings: Settings) -> str:
    """The key of the project's editor and autosave (:func:`planner.app.editor.editor_key`)."""
    tj = for_result(settings_json(settings), "grids")
    return app_editor.editor_key(source_json(), tj, S["project"])


def project_grids(street: Street, settings: Settings) -> Any:
    """The project's current grids (:func:`planner.app.project.current_grids`): the
    editor's after any edit, else the street's division; ``None`` when there are none
    (the reason is shown by :func:`cannot`)."""
    sj, tj = source_json(), settings_json(settings)
    return app_project.current_grids(
        S,
        street,
        key=project_key(settings),
        settings=settings,
        division=lambda: grids_or_none(sj, tj),
    )


def project_status(street: Street, settings: Settings) -> None:
    """The project's edit count and last change, on every page."""
    editor = app_project.current_editor(S, street, key=project_key(settings), settings=settings)
    note = "" if can_edit(S) else " " + L("status_read_only")
    st.caption(app_project.edit_status(editor, S["lang"]) + note)


def source_json() -> str:
    """The session's street source as JSON, keys sorted (the cache key of the street)."""
    return json.dumps(S["source"], sort_keys=True)


def siting_result(street: Street, settings: Settings) -> dict[str, Any] | None:
    """The project's last siting run (its request is kept in the project's work, so a
    reload shows it again), or ``None`` when none was asked for."""
    if not S.get("siting_request"):
        return None
    mode, value, kind = siting_request()
    grids = project_grids(street, settings)
    return cached_siting(
        source_json(),
        settings_json(settings),
        mode,
        value,
        app_project.grids_token(grids),
        grids,
        kind,
    )


def siting_request() -> tuple[str, float, str]:
    """The kept siting request: mode ("k" or "target"), its value and the service kind
    sited for ('' for party-mass stations; a request saved before kinds has none)."""
    mode, value, *rest = S["siting_request"]
    return str(mode), float(value), str(rest[0]) if rest else ""


def save_work() -> None:
    """Keep the settings, siting request and scenarios with the project (if owned)."""
    try:
        app_project.save_work(S, SETTING_KEYS)
    except OSError as exc:
        S["save_error"] = msg("autosave_failed", reason=str(exc))


def copy_widget(src: str, dst: str) -> None:
    """A widget callback: copy the widget's value ``S[src]`` to the session key ``dst``."""
    S[dst] = list(S[src]) if isinstance(S[src], list) else S[src]
