"""The red map app: ``streamlit run app.py`` (Chinese by default, English switch).

Only wiring lives here: the sidebar (:mod:`planner.app.sidebar`) and one function per
page (``planner/app/*_page.py``) are called with the street and the settings; results
are cached in :mod:`planner.app.cache`, session state is set up in one place
(:mod:`planner.app.state`) and the view is mirrored in the URL. Every script, style
and font the map needs is served by the app itself (``./static`` -> planner/maps/static,
see planner/maps/offline.py); nothing is fetched from outside unless a basemap is chosen.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import streamlit as st

from planner.app import pages_common, redmap_page
from planner.app import project as app_project
from planner.app.cache import cached_street, for_result, settings_json
from planner.app.session import (
    L,
    coverage_or_none,
    grids_or_none,
    project_status,
    save_work,
    source_json,
)
from planner.app.sidebar import clean_old_uploads, sidebar
from planner.app.state import can_edit, init_state, view_query
from planner.errors import InputError, PlannerError, error_text
from planner.i18n import markdown_literal as md
from planner.maps import offline
from planner.settings import Settings
from planner.street import Street

if TYPE_CHECKING:
    from planner.app.editor_page import EditorInputs

offline.use_local_assets()
logger = logging.getLogger("planner.app")

st.set_page_config(page_title="红色地图 Red map", page_icon="🗺️", layout="wide")
#: The cookie holding this browser's secret (see planner.app.state.init_state).
BROWSER_COOKIE = "planner_browser"


def _browser_secret() -> str:
    """This browser's secret: from its cookie, or made now and set as the cookie.

    Never in the URL: a reload in the same browser keeps editing its own projects,
    a link opened elsewhere stays read-only.
    """
    secret = str(st.context.cookies.get(BROWSER_COOKIE, ""))
    if re.fullmatch(r"[0-9a-f]{32}", secret):
        return secret
    if "browser_secret" not in st.session_state:
        st.session_state["browser_secret"] = secrets.token_hex(16)
    # Our own script (no user text in it), run in the page: the cookie is the app's. It is
    # written on every run of a session whose request carried no cookie (the session's
    # cookies never change), so the page's elements keep their places across reruns:
    # an element present on the first run only would remount every element after it,
    # the editor's map included (a rebuilt map loses its zoom and the next click).
    st.html(
        f"<script>document.cookie = '{BROWSER_COOKIE}="
        f"{st.session_state['browser_secret']}; path=/; max-age=31536000; "
        "SameSite=Strict';</script>",
        unsafe_allow_javascript=True,
    )
    return str(st.session_state["browser_secret"])


init_state(st.session_state, st.query_params, browser=_browser_secret())
S = st.session_state
clean_old_uploads()


_RUN_STARTED = time.perf_counter()


def _log_run(event: str) -> None:
    """Benchmarks count script runs: one line per event in $PLANNER_RUN_LOG when set."""
    path = os.environ.get("PLANNER_RUN_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(
                f"{event}\t{S.get('page', '')}\t{time.perf_counter() - _RUN_STARTED:.3f}"
                f"\t{time.time():.3f}\n"
            )


_log_run("start")


def _page(module: str, func: str) -> Callable[[Street, Settings], None]:
    """A page function of ``planner.app.<module>``, imported when the page is first shown
    (a cold open of the red map does not import the other pages)."""

    def show(street: Street, settings: Settings) -> None:
        getattr(importlib.import_module(f"planner.app.{module}"), func)(street, settings)

    return show


def page_editor(street: Street, settings: Settings) -> None:
    """The grid editor page (:mod:`planner.app.editor_page`)."""
    from planner.app import editor_page

    editor_page.page_editor(street, settings, _editor_inputs(settings))


def keep_editor_map(street: Street, settings: Settings) -> None:
    """Every other page keeps the editor's map hidden, once the editor was shown
    (:func:`planner.app.editor_page.keep_map`): switching back shows it at once."""
    if "_editor_map_sent" not in S:
        return
    from planner.app import editor_page

    try:
        editor_page.keep_map(street, settings, _editor_inputs(settings))
    except Exception:  # only a speed-up: the page itself must still show
        logger.exception("keeping the editor's map failed")
        S.pop("_editor_map_sent", None)  # the editor draws a new frame next time


def _editor_inputs(settings: Settings) -> EditorInputs:
    """What the editor page takes from this script (``editor_page.EditorInputs``)."""
    from planner.app import editor_page

    sj, tj = source_json(), settings_json(settings)
    return editor_page.EditorInputs(
        source=sj, grid_settings=for_result(tj, "grids"), division=lambda: grids_or_none(sj, tj)
    )


def page_facilities(street: Street, settings: Settings) -> None:
    """The facilities page (:mod:`planner.app.services_page`, issue 16)."""
    from planner.app import services_page

    services_page.page(
        coverage_or_none(source_json(), settings_json(settings)),
        lang=S["lang"],
        street=street,
        settings=settings,
    )


PAGE_FUNCS: dict[str, Callable[[Street, Settings], None]] = {
    "redmap": redmap_page.page_redmap,
    "overview": _page("overview_page", "page_overview"),
    "editor": page_editor,
    "siting": _page("siting_page", "page_siting"),
    "export": _page("export_page", "page_export"),
    "organisation": _page("organisation_page", "render"),  # --- org: the organisation page ---
    "facilities": page_facilities,  # --- services: the facilities page
    "city": _page("city_page", "render"),
}


def main() -> None:
    settings = sidebar()
    st.title(L("app_title"))
    if not st.get_option("server.enableStaticServing"):
        # .streamlit/config.toml is read from the current folder: started elsewhere, the
        # vendored map scripts are not served and the map would stay blank
        st.warning(L("static_off"))
    try:
        street = cached_street(source_json())
    except (InputError, PlannerError, OSError, ValueError) as exc:
        st.error(L("load_failed") + "\n\n" + md(error_text(exc, S["lang"])))
        return
    st.caption(f"{md(street.name)} · {L('page_' + S['page'])}")
    project_status(street, settings)
    if can_edit(S) and not app_project.work_path(S["project"]).exists():
        save_work()  # records this browser as the project's maker (reload keeps editing)
    notes = st.container()  # above the editor's slot on every page
    # the same place on every page: the grid editor is drawn in it, the other pages keep
    # the editor's map frame in it, hidden (a switch back to the editor shows it at once)
    slot = st.container(key=pages_common.EDITOR_SLOT)
    note = pages_common.missing_note(street, S["page"], S["lang"])
    if note:
        notes.info(note)
    try:
        editor = S["page"] == "editor"
        with slot:
            (page_editor if editor else keep_editor_map)(street, settings)
        if not editor:
            PAGE_FUNCS[S["page"]](street, settings)
    except Exception as exc:  # one page's failure never shows a traceback or stops the app
        logger.exception("page %s failed", S["page"])
        st.error(L("page_failed", why=md(pages_common.step_reason(street, "", str(exc)))))
    st.query_params.from_dict(view_query(S))


main()
_log_run("end")
