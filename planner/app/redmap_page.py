"""The red map page: the street's map drawn progressively (the street first, then the
walking circles, then the project's current grids, one rerun each) beside the load report.

On a cold open each step is computed once the map before it is sent: the coverage after
the street's map, the grid division after the circles' map, so the circles show without
waiting for the division, and the browser draws them while the server divides the
street (issue 19 item 9: cold open to circles). A worker thread computing the division
beside the coverage saved nothing on two busy cores (docs/benchmarks/app.md). When both
were already computed in this process (another tab) or kept on disk by an earlier server
start (:func:`planner.app.cache.computed`, :mod:`planner.app.store`), the first drawing
has them and there is no progressive paint. Once a street's map was drawn complete in
the session, a settings change computes what it changes before drawing: one drawing,
with the new circles (no map without circles in between).

Only UI lives here: the map is rendered once per input by :func:`planner.app.cache.cached_map`
and shown by :func:`planner.app.map.show_map` (panning and zooming never rerun the script).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from planner.app import map as app_map
from planner.app import project as app_project
from planner.app import services as svc
from planner.app.cache import cached_map, computed, for_result, settings_json
from planner.app.overview_page import completeness_panel
from planner.app.session import (
    L,
    S,
    cannot,
    copy_widget,
    coverage_or_none,
    project_grids,
    source_json,
)
from planner.coverage.layers import CoverageLayers
from planner.i18n import STRINGS, layer_name
from planner.i18n import markdown_literal as md
from planner.maps.redmap import ALL_LAYERS
from planner.maps.style import layer_label
from planner.settings import Result, Settings
from planner.street import Street


def load_report(street: Street) -> None:
    """The load report beside the map: key counts, notes, and the full text."""
    rep = street.report
    st.markdown(f"**{L('load_report')}** · {md(street.name)}")
    if street.synthetic:
        st.warning(L("synthetic_note"))
    completeness_panel(street)
    figs = svc.street_figures(street)
    c1, c2 = st.columns(2)
    c1.metric(L("households"), f"{figs['households']:,}")
    c2.metric(L("stations"), figs["stations"])
    counts = {k: v for k, v in rep.counts.items() if v}
    if counts:
        st.dataframe(
            {
                L("street_layers"): [layer_name(k, S["lang"]) for k in counts],
                L("count"): list(counts.values()),
            },
            hide_index=True,
            use_container_width=True,
        )
    for note in rep.notes[:8]:
        key = f"severity_{note.severity}"
        st.caption(f"{L(key) if key in STRINGS else note.severity}: {md(note.render(S['lang']))}")
    with st.expander(L("load_report")):
        st.text("\n".join(svc.report_lines(street, lang=S["lang"])))


def coverage_notes(layers: CoverageLayers | None) -> None:
    """The coverage step's warnings (stations off the network, buildings on cut-off
    pieces ...) in the reader's language (:meth:`planner.errors.Problem.render`)."""
    problems = [] if layers is None else layers.coverage.problems
    if not problems:
        return
    st.markdown(f"**{L('coverage_notes')}**")
    for note in problems[:8]:
        key = f"severity_{note.severity}"
        st.caption(f"{L(key) if key in STRINGS else note.severity}: {md(note.render(S['lang']))}")


def page_redmap(street: Street, settings: Settings) -> None:
    lang = str(S["lang"])
    wkey = f"w_layers_{lang}"
    st.sidebar.multiselect(
        L("street_layers"),
        list(ALL_LAYERS),
        default=S["layers"],
        key=wkey,
        format_func=lambda k: layer_label(k, lang),
        on_change=copy_widget,
        args=(wkey, "layers"),
    )
    sj, tj = source_json(), settings_json(settings)
    done = S.setdefault("_map_steps", {}).setdefault(sj + tj, {})
    left, right = st.columns([3, 1])
    shown = S.setdefault("_map_shown", set())
    if start_steps(street, settings, sj, tj, done) or sj in shown:
        # all computed in this process already (another tab), or this street's full map
        # was shown (a settings change): no intermediate paint, one drawing of the result
        compute_steps(street, settings, sj, tj, done, left)
    grids = project_grids(street, settings) if done.get("grids") is True else None
    with left:
        payload = cached_map(
            sj,
            tj,
            S["basemap"],
            S["tianditu_key"],
            S["lang"],
            tuple(S["layers"]),
            done.get("coverage") is True,
            app_project.grids_token(grids),
            grids,
        )
        # no returned objects: panning and zooming never rerun the script
        app_map.show_map(payload, key="redmap", height=640, returned_objects=[])
    with right:
        load_report(street)
        if done.get("coverage") is True:
            coverage_notes(coverage_or_none(sj, tj))
        for step in S.get("capability_errors", {}):
            cannot(step)
    # the next step computed once this map is sent; a rerun draws it
    if compute_steps(street, settings, sj, tj, done, left, first_only=True):
        st.rerun()
    shown.add(sj)  # nothing left to compute: this street's map is complete


STEPS: tuple[Result, ...] = ("coverage", "grids")


def start_steps(
    street: Street, settings: Settings, sj: str, tj: str, done: dict[str, bool]
) -> bool:
    """Prepare the steps the red map draws beyond the street for source ``sj`` and
    settings ``tj``; return whether all left to compute were already computed in this
    process (by another tab: :func:`planner.app.cache.computed`), so computing them
    before the first drawing costs only cache reads.

    ``done`` maps a step ("coverage", "grids") to computed (True) or failed (False, the
    reason is shown beside the map); a step not in it is still to compute. A step
    computed for the same inputs earlier in the session (other settings changed) is
    marked done.
    """
    for step in STEPS:
        if step not in done and S["_map_steps"].get(f"{step}:{sj}{for_result(tj, step)}"):
            done[step] = True
    left = [step for step in STEPS if step not in done]
    return bool(left) and all(computed(step, sj, tj) for step in left)


def compute_steps(
    street: Street,
    settings: Settings,
    sj: str,
    tj: str,
    done: dict[str, bool],
    where: Any,
    *,
    first_only: bool = False,
) -> bool:
    """Compute the steps not in ``done`` (spinners in ``where``) and record them in
    ``done`` and in the session's steps; return whether one of them succeeded (the map
    has more to draw).

    ``first_only`` stops after the first step that succeeds (the caller draws it before
    the next is computed: circles before grids); a failed step does not stop it.
    """
    pending: tuple[tuple[Result, Callable[[], Any], str], ...] = (
        ("coverage", lambda: coverage_or_none(sj, tj), "layer_circle"),
        ("grids", lambda: project_grids(street, settings), "layer_grids"),
    )
    more = False
    for step, func, label in pending:
        if step in done:
            continue
        with where, st.spinner(f"{L(label, minutes=max(settings.thresholds_min))} …"):
            result = func()
        done[step] = result is not None
        S["_map_steps"][f"{step}:{sj}{for_result(tj, step)}"] = result is not None
        more = more or result is not None
        if more and first_only:
            break
    return more
