"""The siting page: k new stations (or facilities of one service kind) or a target share,
the coverage before and after,
the proposed sites on a map and in a table, and the scenarios saved with the project.

Only UI lives here: one siting run is computed once per request by
:func:`planner.app.cache.cached_siting` (through :func:`planner.app.session.siting_result`,
on the project's current grids); the request and the scenarios are kept in the
project's work (:func:`planner.app.session.save_work`), so a reload shows them again.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from planner.app import project as app_project
from planner.app import services as svc
from planner.app.cache import settings_json
from planner.app.overview_page import norm_panel
from planner.app.session import (
    L,
    S,
    cannot,
    coverage_or_none,
    save_work,
    siting_request,
    siting_result,
    source_json,
)
from planner.errors import PlannerError
from planner.i18n import markdown_literal as md
from planner.i18n import t
from planner.maps.redmap import red_map
from planner.settings import Settings
from planner.street import Street


def page_siting(street: Street, settings: Settings) -> None:
    """The siting page of ``street`` with ``settings``."""
    coverage = coverage_or_none(source_json(), settings_json(settings))
    if coverage is None:
        cannot("coverage")
        return
    _siting_request(settings)
    if not S.get("siting_request"):
        return
    mode_r, value_r, kind_r = siting_request()
    try:
        with st.spinner("…"):
            res = siting_result(street, settings)
    except (PlannerError, TypeError, ValueError) as exc:
        st.error(md(exc))
        return
    if res is None:
        return
    stations_coverage = coverage  # the scenarios' "before" row: the street as it is
    if kind_r:  # sited for a service kind: its facilities, circle minutes and coverage
        coverage, settings = res["before"], res["settings"]
        st.caption(
            L("siting_kind_note", kind=_kind_label(kind_r, S["lang"]), minutes=settings.gap_minutes)
        )
    achieved = svc.siting_text(coverage, res["after"], len(res["sites"]), settings, lang=S["lang"])
    # the plan's own message is English: shown as it is only in English
    detail = f" ({md(res['message'])})" if S["lang"] == "en" and res.get("message") else ""
    if not res.get("feasible", True):
        st.warning(L("siting_not_reached_with", what=md(achieved)) + detail)
    else:
        st.caption(md(achieved) + detail)
    _before_after(coverage, res["after"], settings)
    if not kind_r:  # the party-mass station norm per community (a kind's: the table)
        norm_panel(res["after"], settings)
    _siting_map(street, res, settings)
    # the table gets the full width below the map (a side column cut its columns off)
    st.dataframe(
        svc.site_table(res["sites"], lang=S["lang"]), hide_index=True, use_container_width=True
    )
    base_name = (
        L("scenario_k", k=int(value_r))
        if mode_r == "k"
        else L("scenario_target", share=float(value_r) * 100)
    )
    if kind_r:
        base_name = f"{_kind_label(kind_r, S['lang'])} · {base_name}"
    _scenarios(stations_coverage, res, base_name)


def _kind_label(kind: str, lang: str) -> str:
    """A service kind's name in ``lang`` ('' : party-mass stations)."""
    from planner.schema import SERVICE_KINDS

    if not kind:
        return t("siting_kind_party", lang)
    k = SERVICE_KINDS[kind]
    return k.en if lang == "en" else k.zh


def _siting_request(settings: Settings) -> None:
    """What to site (party-mass stations or one service kind of the catalogue), k new
    sites or a target share; the button keeps the request in the session (the kind only
    when one is chosen, so a party-mass request reads ``[mode, value]`` as before)."""
    lang = str(S["lang"])
    kinds = ["", *settings.service_catalogue]
    kind = st.selectbox(
        L("siting_kind"),
        kinds,
        key="siting_kind",
        format_func=lambda k: _kind_label(k, lang),
        help=L("siting_kind_help"),
    )
    c1, c2, c3 = st.columns([1, 1, 1])
    mode = c1.radio(
        L("siting_mode"),
        ["k", "target"],
        key="siting_mode",
        horizontal=True,
        format_func=lambda m: t("siting_k" if m == "k" else "siting_target", lang),
    )
    if mode == "k":
        value = float(c2.number_input(L("siting_k"), 1, 20, 3, key="siting_k"))
    else:
        value = float(c2.slider(L("siting_target"), 0.5, 1.0, 0.95, 0.01, key="siting_share"))
    if c3.button(L("run_siting"), key="run_siting", type="primary"):
        S["siting_request"] = [mode, value, *([kind] if kind else [])]
        save_work()


def _before_after(coverage: Any, after_coverage: Any, settings: Settings) -> None:
    before = svc.coverage_summary(coverage, settings, lang=S["lang"])["metrics"]
    after = svc.coverage_summary(after_coverage, settings, lang=S["lang"])["metrics"]
    st.markdown(f"**{L('before')} → {L('after')}**")
    cols = st.columns(len(after))
    for col, (label, value_after), (_l, value_before) in zip(cols, after, before, strict=False):
        col.metric(label, value_after, f"{L('before')}: {value_before}", delta_color="off")


def _siting_map(street: Street, res: dict[str, Any], settings: Settings) -> None:
    from streamlit_folium import st_folium

    m = red_map(
        street,
        coverage=res["after"],
        sites=res["sites"],
        basemap=S["basemap"],
        tianditu_key=S["tianditu_key"],
        lang=S["lang"],
        walk_speed_kmh=settings.walk_speed_kmh,
        legend_open=False,
    )
    st_folium(m, key="siting_map", height=560, use_container_width=True, returned_objects=[])


def _scenarios(coverage: Any, res: dict[str, Any], base_name: str) -> None:
    """Save the run as a scenario under a name no scenario has yet (an existing name
    is replaced only when asked); compare the saved ones with the street as it is."""
    default = app_project.new_scenario_name(S["scenarios"], base_name)
    c4, c5, c6 = st.columns([3, 1.2, 1])
    # keyed by the offered name: after a save the next free name is offered
    name = c4.text_input(L("save_scenario"), default, key=f"scenario_name_{default}")
    replace = c5.checkbox(L("scenario_replace"), key="scenario_replace")
    if c6.button(L("save_scenario"), key="save_scenario"):
        row = svc.scenario_row(name, res["after"].summary, sites=len(res["sites"]))
        if app_project.add_scenario(S["scenarios"], name, row, replace=replace):
            S["scenario_message"] = ("ok", name.strip())
            save_work()
        else:
            S["scenario_message"] = ("taken", name.strip())
        st.rerun()
    kind, shown = S.pop("scenario_message", ("", ""))
    if kind == "ok":
        st.success(L("scenario_saved", name=md(shown)))
    elif kind == "taken":
        st.error(L("scenario_name_taken", name=md(shown)))
    if S["scenarios"]:
        st.subheader(L("scenarios"))
        base = svc.scenario_row(L("before"), coverage.summary, sites=0)
        st.dataframe(
            svc.scenario_table([base, *S["scenarios"].values()], lang=S["lang"]),
            hide_index=True,
            use_container_width=True,
        )
