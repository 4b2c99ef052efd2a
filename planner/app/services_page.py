"""The app's facilities page: is the circle complete and big enough (issue 16).

Self-contained: ``app.py`` mounts :func:`page` with the street's coverage layers (their
:class:`planner.coverage.layers.ServiceLayers`). The tables are built by plain functions
(:func:`norm_table`, :func:`station_table`, :func:`circle_table`, :func:`needs_table`),
labelled in the user's language, so they are tested without Streamlit.

Shown: per community the 2SFCA floor area per 100 households against the 30 m² norm and
the station floor area against max(500 m², 30 per 100 households); per station its
catchment and whether it is overloaded; per community the share of households whose
circles are complete and the kinds most often missing; and the "一老一小" view when the
register has residents by age.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from planner.i18n import t
from planner.schema import CIRCLES

if TYPE_CHECKING:
    from planner.coverage.layers import CoverageLayers


def norm_table(coverage: CoverageLayers, *, lang: str = "zh") -> pd.DataFrame:
    """Per community: households, 2SFCA m² per 100 households in reach, below the norm,
    station floor area and the community norm (max(500 m², 30 per 100 households))."""
    services = coverage.services
    if services is None:
        return pd.DataFrame()
    comm = services.table("community")
    cov = coverage.table("community").set_index("id")
    out = pd.DataFrame(
        {
            t("fac_community", lang): comm["name"].where(comm["name"] != "", comm["id"]),
            t("households", lang): comm["households"],
            t("m2_per_100_households", lang): comm["m2_per_100_households"],
            t("fac_below_norm", lang): comm["below_norm"].map(
                lambda v: "" if pd.isna(v) else t("yes" if v else "no", lang)
            ),
            t("fac_households_below_norm", lang): comm["households_below_norm"],
        }
    )
    for col, key in (
        ("station_floor_area_m2", "fac_station_area"),
        ("floor_area_norm_m2", "fac_norm"),
    ):
        if col in cov.columns:
            out[t(key, lang)] = comm["id"].map(cov[col]).to_numpy()
    return out


def station_table(coverage: CoverageLayers, *, lang: str = "zh") -> pd.DataFrame:
    """Per service station: floor area, households within its catchment, m² per 100
    households (2SFCA) and whether it is overloaded (below 30 m² per 100)."""
    services = coverage.services
    if services is None:
        return pd.DataFrame()
    st = services.stations
    return pd.DataFrame(
        {
            t("name", lang): st["name"],
            t("fac_station_area", lang): st["supply_m2"],
            t("fac_catchment", lang): st["households_catchment"],
            t("m2_per_100_households", lang): st["m2_per_100_households"],
            t("fac_overloaded", lang): st["overloaded"].map(
                lambda v: (
                    t("fac_unknown_area", lang) if pd.isna(v) else t("yes" if v else "no", lang)
                )
            ),
        }
    )


def circle_table(coverage: CoverageLayers, *, lang: str = "zh") -> pd.DataFrame:
    """Per community: % of households whose circle is complete, per circle, and the
    kinds most often missing."""
    services = coverage.services
    if services is None:
        return pd.DataFrame()
    comm = services.table("community")
    out = pd.DataFrame(
        {t("fac_community", lang): comm["name"].where(comm["name"] != "", comm["id"])}
    )
    for c in services.completeness.circles:
        circle = CIRCLES[c]
        out[circle.zh if lang == "zh" else circle.en] = comm[f"complete_{c}_pct"]
    out[t("fac_complete_all", lang)] = comm["complete_all_pct"]
    out[t("fac_missing_most", lang)] = comm["missing_most"]
    return out


def needs_table(coverage: CoverageLayers, *, lang: str = "zh") -> pd.DataFrame:
    """The "一老一小" rows of the street and its communities (empty without age data)."""
    services = coverage.services
    if services is None or services.needs.empty:
        return pd.DataFrame()
    needs = services.needs
    return needs[needs["level"] != "grid"].drop(columns=["level"]).reset_index(drop=True)


def page(coverage: CoverageLayers | None, *, lang: str = "zh") -> None:
    """Draw the facilities page (Streamlit) from the street's coverage layers."""
    import streamlit as st

    st.subheader(t("fac_title", lang))
    if coverage is None or coverage.services is None:
        st.info(t("fac_no_coverage", lang))
        return
    summary: dict[str, Any] = coverage.services.summary()
    cols = st.columns(3)
    cols[0].metric(t("m2_per_100_households", lang), f"{summary['m2_per_100_households']:.1f}")
    cols[1].metric(t("fac_overloaded", lang), len(summary["stations_overloaded"]))
    cols[2].metric(t("fac_complete_all", lang), f"{summary['complete_all_pct']:.1f}%")
    st.caption(t("fac_norm_note", lang))
    st.markdown("**" + t("fac_per_community", lang) + "**")
    st.dataframe(norm_table(coverage, lang=lang), hide_index=True, use_container_width=True)
    st.markdown("**" + t("fac_per_station", lang) + "**")
    st.dataframe(station_table(coverage, lang=lang), hide_index=True, use_container_width=True)
    st.markdown("**" + t("fac_circles", lang) + "**")
    st.dataframe(circle_table(coverage, lang=lang), hide_index=True, use_container_width=True)
    needs = needs_table(coverage, lang=lang)
    if len(needs):
        st.markdown("**" + t("fac_needs", lang) + "**")
        st.dataframe(needs, hide_index=True, use_container_width=True)
