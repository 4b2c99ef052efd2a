"""The overview page: the street's figures, coverage per community and per grid (the
project's current grids), the floor-area norm and the worst-served compounds.

Only UI lives here: the tables come from :mod:`planner.app.services`. The completeness
and norm panels are shared with the red map and siting pages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from planner.app import services as svc
from planner.app.cache import settings_json
from planner.app.session import L, S, cannot, coverage_or_none, project_grids, source_json
from planner.i18n import column_label, t
from planner.i18n import markdown_literal as md
from planner.settings import Settings
from planner.street import Street


def completeness_panel(street: Street) -> None:
    """Where the households come from: the warning when most are guessed, the table."""
    table, warning = svc.completeness_table(street, lang=S["lang"])
    if warning:
        st.error(md(warning))
    if len(table):
        st.caption(L("completeness_title"))
        st.dataframe(table, hide_index=True, use_container_width=True)


def norm_panel(coverage: Any, settings: Settings) -> None:
    """The floor-area norm (30 m² per 100 households) per community and per station."""
    if coverage is None:
        return
    st.subheader(
        L(
            "norm_title",
            norm=settings.floor_area_per_100_households_m2,
            minimum=settings.community_min_floor_area_m2,
        )
    )
    left, right = st.columns(2)
    for col, title, table in (
        (left, "norm_by_community", svc.norm_by_community(coverage, lang=S["lang"])),
        (right, "norm_by_station", svc.norm_by_station(coverage, lang=S["lang"])),
    ):
        col.caption(L(title))
        col.dataframe(table, hide_index=True, use_container_width=True)


def page_overview(street: Street, settings: Settings) -> None:
    """The overview page of ``street`` with ``settings``."""
    completeness_panel(street)
    figs = svc.street_figures(street)
    cols = st.columns(5)
    cols[0].metric(L("households"), f"{figs['households']:,}")
    cols[1].metric(L("layer_communities"), figs["communities"])
    cols[2].metric(L("layer_compounds"), figs["compounds"])
    cols[3].metric(L("stations"), figs["stations"])
    cols[4].metric(L("area_km2"), f"{figs['area_km2']:.2f}")
    coverage = coverage_or_none(source_json(), settings_json(settings))
    if coverage is None:
        cannot("coverage")
    else:
        summary = svc.coverage_summary(coverage, settings, lang=S["lang"])
        cc = st.columns(len(summary["metrics"]))
        for col, (label, value) in zip(cc, summary["metrics"], strict=False):
            col.metric(label, value)
    st.subheader(L("per_community"))
    table = svc.community_table(street, lang=S["lang"])
    if coverage is not None:
        table = svc.add_coverage_columns(table, coverage, lang=S["lang"])
    if len(table):
        table = table.rename(columns={"community_id": column_label("community_id", S["lang"])})
        st.dataframe(table, hide_index=True, use_container_width=True)
        chart = table.set_index(table.columns[0])
        tmax = settings.gap_minutes
        covered = t("covered_households", S["lang"], minutes=tmax)
        if covered in chart.columns:
            chart = pd.DataFrame(
                {
                    covered: chart[covered],
                    L("not_covered"): chart[L("households")] - chart[covered],
                }
            )
            st.bar_chart(chart, horizontal=True, stack=True, color=["#c8161d", "#bbbbbb"])
        else:
            st.bar_chart(chart[[L("households")]], horizontal=True, color="#c8161d")
    grids = project_grids(street, settings)
    table_or_cannot(
        "per_grid", grids, "grids", lambda: svc.grid_table(grids, coverage, lang=S["lang"])
    )
    norm_panel(coverage, settings)
    # imported here: the red map's cold open (which shows this module's completeness
    # panel) does not load the organisation modules
    from planner.app import organisation_page

    organisation_page.overview_figures(street, settings, grids)
    table_or_cannot(
        "worst_compounds",
        coverage,
        "coverage",
        lambda: svc.worst_compounds(street, coverage, lang=S["lang"]),
    )


def table_or_cannot(title: str, needed: Any, step: str, table: Callable[[], pd.DataFrame]) -> None:
    """A titled table made by ``table()`` from ``needed`` (the grids or the coverage),
    or why ``step`` ("grids" or "coverage") could not be computed when ``needed`` is
    ``None``."""
    st.subheader(L(title))
    if needed is None:
        cannot(step)
    else:
        st.dataframe(table(), hide_index=True, use_container_width=True)
