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

What-if (:func:`whatif_panel`): the facilities team adds, moves or removes a station or
a facility (POI), closes a path or opens a gate (the point picked on the map or typed;
the station, facility or compound chosen by name), and sees the before and after of
coverage, completeness and capacity with the households who gain or lose. The changes
are a scenario as the ``whatif`` command reads it, computed by the same code
(:func:`planner.app.services.whatif_for`, :mod:`planner.coverage.whatif`). A result is
saved as a scenario (``service_scenarios`` in the session) kept in the project's work
file (:func:`planner.app.project.save_work`), so it survives a reload and a reopening;
saved scenarios are compared side by side (:func:`comparison_table`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from planner.i18n import t
from planner.schema import CIRCLES, SERVICE_KINDS

if TYPE_CHECKING:
    from planner.coverage.layers import CoverageLayers
    from planner.coverage.whatif import WhatIf
    from planner.settings import Settings
    from planner.street import Street


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


# --- svcapp: what-if and saved scenarios (issue 16 items 5 and 7) ---
#: Each action's fields as the page asks for them (:data:`planner.coverage.whatif.REQUIRED`
#: plus the optional name, kind and floor area of what is added).
FIELDS: dict[str, tuple[str, ...]] = {
    "add_station": ("station_id", "name", "kind", "floor_area_m2", "lon", "lat"),
    "move_station": ("station_id", "lon", "lat"),
    "remove_station": ("station_id",),
    "add_poi": ("poi_id", "name", "kind", "lon", "lat"),
    "remove_poi": ("poi_id",),
    "close_path": ("lon", "lat"),
    "open_gate": ("compound_id", "lon", "lat"),
}
#: The summary counts of a what-if (:attr:`planner.coverage.whatif.WhatIf.summary`) and
#: their labels.
GAINS: dict[str, str] = {
    "households_gaining_coverage": "wi_gain_cov",
    "households_losing_coverage": "wi_lose_cov",
    "households_gaining_a_kind": "wi_gain_kind",
    "households_losing_a_kind": "wi_lose_kind",
}


def change_item(action: str, values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """One change as a scenario file writes it (``{action: {field: value}}``): the
    action's :data:`FIELDS` taken from ``values``, blank ones left out."""
    fields = {
        f: values[f]
        for f in FIELDS[action]
        if f in values and values[f] is not None and str(values[f]).strip() != ""
    }
    return {action: fields}


def change_text(item: Mapping[str, Mapping[str, Any]], *, lang: str = "zh") -> str:
    """One line naming a change: the action, what it names and where (WGS84)."""
    ((action, fields),) = item.items()
    ids = [str(fields[f]) for f in ("station_id", "poi_id", "compound_id") if f in fields]
    named = [str(fields["name"])] if fields.get("name") else []
    where = (
        [f"{float(fields['lon']):.5f}, {float(fields['lat']):.5f}"]
        if "lon" in fields and "lat" in fields
        else []
    )
    return " · ".join([t(f"wi_act_{action}", lang), *ids, *named, *where])


def new_id(taken: Iterable[str], prefix: str) -> str:
    """``prefix`` followed by the first number no id in ``taken`` has (``W1``, ``W2``...)."""
    used = set(map(str, taken))
    n = 1
    while f"{prefix}{n}" in used:
        n += 1
    return f"{prefix}{n}"


def _figure_label(figure: str, gap_minutes: float, lang: str) -> str:
    """The label of a what-if figure (``households_covered``, ``complete_<c>_pct``...)."""
    if figure == "households_covered":
        return t("covered_households", lang, minutes=gap_minutes)
    if figure == "complete_all_pct":
        return t("fac_complete_all", lang) + " %"
    if figure == "m2_per_100_households":
        return t("m2_per_100_households", lang)
    if figure in GAINS:
        return t(GAINS[figure], lang)
    if figure == "changes":
        return t("wi_changes_n", lang)
    key = figure.removeprefix("complete_").removesuffix("_pct")
    circle = CIRCLES.get(key)  # type: ignore[call-overload]
    return figure if circle is None else (circle.zh if lang == "zh" else circle.en) + " %"


def _area_figures(w: WhatIf) -> list[str]:
    """The figures of ``w.by_area`` (``households_covered``, ``complete_*_pct``, m²)."""
    return [c.removesuffix("_before") for c in w.by_area.columns if c.endswith("_before")]


def whatif_area_table(w: WhatIf, *, lang: str = "zh") -> pd.DataFrame:
    """The street and each community: households and every figure before and after
    (households within the gap minutes, complete circles %, 2SFCA m² per 100)."""
    a = w.by_area[w.by_area["level"].isin(["street", "community"])]
    gap = w.before.coverage.gap_minutes
    name = a["name"].astype(str).where(a["level"] != "street", t("wi_street", lang))
    out = pd.DataFrame(
        {
            t("fac_community", lang): name.where(name != "", a["id"]).to_numpy(),
            t("households", lang): a["households"].round().astype("int64").to_numpy(),
        }
    )
    for fig in _area_figures(w):
        label = _figure_label(fig, gap, lang)
        for when in ("before", "after"):
            column = f"{label} · {t('wi_' + when, lang)}"
            out[column] = a[f"{fig}_{when}"].astype("float64").round(1).to_numpy()
    return out


def _kind_names(text: str, lang: str) -> str:
    """``canteen,kindergarten`` -> ``社区食堂、幼儿园`` (English: comma-separated)."""
    keys = [k for k in text.split(",") if k]
    if lang == "zh":
        return "、".join(SERVICE_KINDS[k].zh for k in keys)
    return ", ".join(SERVICE_KINDS[k].en for k in keys)


def whatif_household_table(w: WhatIf, *, lang: str = "zh") -> pd.DataFrame:
    """The buildings whose households gain or lose coverage or a service kind, most
    households first: coverage change, kinds gained and lost (in ``lang``)."""
    b = w.buildings
    moved = (b["covered_before"] != b["covered_after"]) | (b["gained"] != "") | (b["lost"] != "")
    b = b[moved].sort_values("households", ascending=False, kind="stable")
    gains, loses = (
        b["covered_after"] & ~b["covered_before"],
        b["covered_before"] & ~b["covered_after"],
    )
    cov = np.where(gains, t("wi_gains", lang), np.where(loses, t("wi_loses", lang), ""))
    name = b["name"].astype(str)
    return pd.DataFrame(
        {
            t("wi_building", lang): name.where(name != "", b["building_id"]).to_numpy(),
            t("fac_community", lang): b["community_id"].to_numpy(),
            t("households", lang): b["households"].to_numpy(),
            t("wi_coverage", lang): cov,
            t("wi_gained", lang): [_kind_names(x, lang) for x in b["gained"]],
            t("wi_lost", lang): [_kind_names(x, lang) for x in b["lost"]],
        }
    )


def whatif_station_table(w: WhatIf, *, lang: str = "zh") -> pd.DataFrame:
    """Per station before and after: households in its catchment and 2SFCA m² per 100
    (a station added or removed has one side empty)."""
    s = w.stations
    name = s["name_after"].fillna(s["name_before"]).astype(str)
    out = pd.DataFrame({t("name", lang): name.where(name != "", s["station_id"]).to_numpy()})
    for col, key in (
        ("households_catchment", "fac_catchment"),
        ("m2_per_100_households", "m2_per_100_households"),
    ):
        for when in ("before", "after"):
            column = f"{t(key, lang)} · {t('wi_' + when, lang)}"
            out[column] = s[f"{col}_{when}"].astype("float64").round(1).to_numpy()
    return out


def _num(v: Any) -> float | None:
    """A figure for JSON: rounded to 2 decimals, ``None`` for NaN/NA."""
    return None if v is None or pd.isna(v) else round(float(v), 2)


def scenario_record(w: WhatIf, changes: list[dict[str, Any]]) -> dict[str, Any]:
    """What a saved scenario keeps (plain JSON, for the project's work file): its
    changes, the gap minutes, the street's figures before and after and the counts of
    households gaining and losing."""
    street = w.by_area[w.by_area["level"] == "street"].iloc[0]
    figs = _area_figures(w)
    return {
        "kind": "whatif",
        "changes": [dict(c) for c in changes],
        "gap_minutes": float(w.before.coverage.gap_minutes),
        "households": _num(street["households"]),
        "before": {f: _num(street[f"{f}_before"]) for f in figs},
        "after": {f: _num(street[f"{f}_after"]) for f in figs},
        "summary": {k: int(w.summary.get(k, 0)) for k in GAINS},
    }


def comparison_table(
    scenarios: Mapping[str, Mapping[str, Any]], *, lang: str = "zh"
) -> pd.DataFrame:
    """Saved scenarios side by side: one row per figure, a column for the street as it
    is (the latest scenario's "before") and one per scenario (its "after", the counts
    of households gaining and losing, and its number of changes)."""
    saved = [r for r in scenarios.values() if isinstance(r, Mapping) and r.get("kind") == "whatif"]
    if not saved:
        return pd.DataFrame()
    gap = float(saved[-1].get("gap_minutes", 15.0))
    figs = list(dict.fromkeys(f for r in saved for f in r.get("after", {})))
    rows = [*figs, *GAINS, "changes"]
    before = saved[-1].get("before", {})
    out = pd.DataFrame(
        {
            t("wi_figure", lang): [_figure_label(r, gap, lang) for r in rows],
            t("wi_before", lang): [before.get(r) for r in figs] + [None] * (len(GAINS) + 1),
        }
    )
    for rec in saved:
        after, summary = rec.get("after", {}), rec.get("summary", {})
        values = [after.get(f) for f in figs] + [summary.get(k) for k in GAINS]
        out[str(rec.get("scenario", ""))] = [*values, len(rec.get("changes", []))]
    return out


def page(
    coverage: CoverageLayers | None,
    *,
    lang: str = "zh",
    street: Street | None = None,
    settings: Settings | None = None,
) -> None:
    """Draw the facilities page (Streamlit) from the street's coverage layers; with the
    ``street`` and its ``settings``, the what-if panel (:func:`whatif_panel`) too."""
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
    if street is not None and settings is not None:
        whatif_panel(street, coverage, settings, lang=lang)


def whatif_panel(
    street: Street, coverage: CoverageLayers, settings: Settings, *, lang: str
) -> None:
    """The what-if part of the page: the map to pick a point, the change form, the list
    of changes, their before and after, and the saved scenarios side by side."""
    import streamlit as st

    S = st.session_state
    S.setdefault("whatif_changes", [])
    if not isinstance(S.get("service_scenarios"), dict):
        S["service_scenarios"] = {}
    st.subheader(t("wi_title", lang))
    left, right = st.columns([3, 2])
    with left:
        _pick_map(street, coverage, settings, lang)
    with right:
        _change_form(street, lang)
        _draft(lang)
    _whatif_result(street, settings, lang)
    _saved_scenarios(lang)


def _pick_map(street: Street, coverage: CoverageLayers, settings: Settings, lang: str) -> None:
    """The street with its stations, compounds and completeness; a click fills lon/lat.

    The map's strings are made once per street, settings and language (kept in the
    session: a rerun sends the same strings and the map stays as it is)."""
    import json

    import streamlit as st

    from planner.app.map import map_payload, show_map
    from planner.maps.redmap import red_map

    S = st.session_state
    key = json.dumps(
        [street.name, len(street.buildings), len(street.stations), settings.to_dict(), lang],
        sort_keys=True,
        default=list,
    )
    if S.get("_wi_map_key") != key:
        layers = ["boundary", "roads", "compounds", "completeness", "stations"]
        m = red_map(street, coverage=coverage, lang=lang, layers=layers, legend_open=False)
        S["_wi_map"], S["_wi_map_key"] = map_payload(m), key
    st.caption(t("wi_pick", lang))
    show_map(
        S["_wi_map"],
        key="whatif_map",
        height=420,
        returned_objects=["last_clicked"],
        on_change=_clicked,
    )


def clicked_point(reported: object) -> tuple[float, float] | None:
    """The longitude and latitude (WGS84, 6 decimals) of the map's last click in what
    the map component reports (``{"last_clicked": {"lat": .., "lng": ..}}``); ``None``
    when it reports no click."""
    point = reported.get("last_clicked") if isinstance(reported, Mapping) else None
    if not (isinstance(point, Mapping) and "lat" in point and "lng" in point):
        return None
    try:
        lon, lat = float(point["lng"]), float(point["lat"])
    except (TypeError, ValueError):
        return None
    if not (np.isfinite(lon) and np.isfinite(lat)):
        return None
    return round(lon, 6), round(lat, 6)


def _clicked(reported: Mapping[str, Any]) -> None:
    """A click on the what-if map: its point becomes the change's lon/lat (WGS84)."""
    import streamlit as st

    point = clicked_point(reported)
    if point is not None:
        st.session_state["wi_lon"], st.session_state["wi_lat"] = point


def _choices(layer: Any, column: str) -> dict[str, str]:
    """Id -> "name (id)" of a layer's features, for a select box."""
    ids = layer[column].astype(str)
    names = layer["name"].astype(str) if "name" in layer.columns else ids
    return {i: (f"{n} ({i})" if n and n != i else i) for i, n in zip(ids, names, strict=True)}


def _change_form(street: Street, lang: str) -> None:
    """Pick the action and its fields; "add" appends the change to the list."""
    import streamlit as st

    from planner.coverage.whatif import ACTIONS
    from planner.i18n import station_kind_label
    from planner.schema import STATION_KINDS

    S = st.session_state
    action = st.selectbox(
        t("wi_action", lang), ACTIONS, key="wi_action", format_func=lambda a: t(f"wi_act_{a}", lang)
    )
    fields = FIELDS[action]
    drafted = [str(v) for c in S["whatif_changes"] for f in c.values() for v in f.values()]
    values: dict[str, Any] = {}
    for column, layer, prefix, label in (
        ("station_id", street.stations, "W", "wi_station"),
        ("poi_id", street.pois, "WP", "wi_poi"),
        ("compound_id", street.compounds, "", "wi_compound"),
    ):
        if column not in fields:
            continue
        if action.startswith("add_"):
            values[column] = new_id([*layer[column].astype(str), *drafted], prefix)
        else:
            opts = _choices(layer, column)
            ids: list[str] = list(opts)
            values[column] = st.selectbox(
                t(label, lang), ids, key=f"wi_{column}", format_func=opts.__getitem__
            )
    if "name" in fields:
        values["name"] = st.text_input(t("wi_name", lang), key="wi_name")
    if action == "add_station":
        values["kind"] = st.selectbox(
            t("wi_kind", lang),
            list(STATION_KINDS),
            key="wi_station_kind",
            format_func=lambda k: station_kind_label(k, lang),
        )
        area = st.number_input(t("wi_area", lang), 0.0, 1e5, 0.0, 10.0, key="wi_area")
        values["floor_area_m2"] = area or None
    if action == "add_poi":
        values["kind"] = st.selectbox(
            t("wi_kind", lang),
            list(SERVICE_KINDS),
            key="wi_poi_kind",
            format_func=lambda k: SERVICE_KINDS[k].zh if lang == "zh" else SERVICE_KINDS[k].en,
        )
    if "lon" in fields:
        _lonlat_inputs(street, values, lang)
    _draft_buttons(action, values, lang)


def _lonlat_inputs(street: Street, values: dict[str, Any], lang: str) -> None:
    """Longitude and latitude (WGS84 degrees), the street's centre until a map click."""
    import streamlit as st

    S = st.session_state
    if "wi_lon" not in S or "wi_lat" not in S:
        centre = street.boundary.to_crs(4326).union_all().centroid if len(street.boundary) else None
        if centre is None:
            centre = street.buildings.to_crs(4326).union_all().centroid
        S["wi_lon"], S["wi_lat"] = round(centre.x, 6), round(centre.y, 6)
    c1, c2 = st.columns(2)
    values["lon"] = c1.number_input(
        t("wi_lon", lang), -180.0, 180.0, key="wi_lon", format="%.6f", step=0.0001
    )
    values["lat"] = c2.number_input(
        t("wi_lat", lang), -90.0, 90.0, key="wi_lat", format="%.6f", step=0.0001
    )


def _draft_buttons(action: str, values: dict[str, Any], lang: str) -> None:
    """Add the change to the list, take the last one back, or clear the list."""
    import streamlit as st

    S = st.session_state
    c1, c2, c3 = st.columns(3)
    if c1.button(t("wi_add", lang), key="wi_add", type="primary"):
        S["whatif_changes"] = [*S["whatif_changes"], change_item(action, values)]
    if c2.button(t("wi_undo", lang), key="wi_undo") and S["whatif_changes"]:
        S["whatif_changes"] = S["whatif_changes"][:-1]
    if c3.button(t("wi_clear", lang), key="wi_clear"):
        S["whatif_changes"] = []


def _draft(lang: str) -> None:
    """The changes to try, one line each."""
    import streamlit as st

    from planner.i18n import markdown_literal as md

    changes = st.session_state["whatif_changes"]
    st.markdown("**" + t("wi_draft", lang) + "**")
    if not changes:
        st.caption(t("wi_none", lang))
    for i, item in enumerate(changes, start=1):
        st.markdown(f"{i}\\. {md(change_text(item, lang=lang))}")


def _whatif_result(street: Street, settings: Settings, lang: str) -> None:
    """Run the changes (one button) and show the before and after, kept in the session
    for these changes and settings; save the result as a scenario."""
    import json

    import streamlit as st

    from planner.app import services as svc
    from planner.errors import PlannerError
    from planner.i18n import markdown_literal as md

    S = st.session_state
    changes = list(S["whatif_changes"])
    if not changes:
        return
    key = json.dumps([street.name, changes, settings.to_dict()], sort_keys=True, default=list)
    if st.button(t("wi_run", lang), key="wi_run", type="primary"):
        try:
            with st.spinner(t("wi_run", lang) + " …"):
                S["_wi_result"] = (key, svc.whatif_for(street, changes, settings))
        except PlannerError as exc:
            S.pop("_wi_result", None)
            st.error(t("wi_bad", lang) + md(exc))
    result = S.get("_wi_result")
    if result is None or result[0] != key:
        return
    w = result[1]
    cols = st.columns(len(GAINS))
    for col, (k, label) in zip(cols, GAINS.items(), strict=True):
        col.metric(t(label, lang), f"{int(w.summary.get(k, 0)):,}")
    st.markdown("**" + t("wi_areas", lang) + "**")
    st.dataframe(whatif_area_table(w, lang=lang), hide_index=True, use_container_width=True)
    people = whatif_household_table(w, lang=lang)
    st.markdown("**" + t("wi_households", lang) + "**")
    if len(people):
        st.dataframe(people, hide_index=True, use_container_width=True)
    else:
        st.caption(t("wi_no_change", lang))
    st.markdown("**" + t("wi_stations", lang) + "**")
    st.dataframe(whatif_station_table(w, lang=lang), hide_index=True, use_container_width=True)
    _save_form(w, changes, lang)


def _save_form(w: WhatIf, changes: list[dict[str, Any]], lang: str) -> None:
    """Save the result under a name no scenario has (a taken name only with "replace")."""
    import streamlit as st

    from planner.app import project
    from planner.i18n import markdown_literal as md

    S = st.session_state
    saved = S["service_scenarios"]
    default = project.new_scenario_name(saved, t("wi_base", lang, n=len(changes)))
    c1, c2, c3 = st.columns([3, 1, 1])
    name = c1.text_input(t("save_scenario", lang), default, key=f"wi_scenario_{default}")
    replace = c2.checkbox(t("scenario_replace", lang), key="wi_replace")
    if c3.button(t("save_scenario", lang), key="wi_save"):
        record = scenario_record(w, changes)
        if project.add_scenario(saved, name, record, replace=replace):
            _save_work()
            st.success(t("wi_saved", lang, name=md(name.strip())))
        else:
            st.error(t("scenario_name_taken", lang, name=md(name.strip())))


def _save_work() -> None:
    """Keep the session's work (the saved scenarios with it) in the project's work file."""
    import streamlit as st

    from planner.app import project
    from planner.app.state import SETTING_KEYS

    state: Any = st.session_state  # a mapping of the session's keys
    try:
        project.save_work(state, SETTING_KEYS)
    except OSError as exc:
        st.error(t("autosave_failed", st.session_state.get("lang", "zh"), reason=str(exc)))


def _saved_scenarios(lang: str) -> None:
    """The saved scenarios side by side; one can be loaded back into the changes or deleted."""
    import streamlit as st

    S = st.session_state
    saved = S["service_scenarios"]
    table = comparison_table(saved, lang=lang)
    if table.empty:
        return
    st.markdown("**" + t("wi_compare", lang) + "**")
    st.dataframe(table, hide_index=True, use_container_width=True)
    names = [n for n, r in saved.items() if isinstance(r, Mapping) and r.get("kind") == "whatif"]
    c1, c2, c3 = st.columns([3, 1, 1])
    pick = c1.selectbox(t("scenarios", lang), names, key="wi_pick_saved")
    if c2.button(t("wi_load", lang), key="wi_load") and pick in saved:
        S["whatif_changes"] = [dict(c) for c in saved[pick]["changes"]]
        st.rerun()
    if c3.button(t("wi_delete", lang), key="wi_delete") and pick in saved:
        del saved[pick]
        _save_work()
        st.rerun()
