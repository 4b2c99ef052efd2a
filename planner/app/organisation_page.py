"""The app's organisation page (组织建设): registers, rules, map layers, team and branch edits.

A self-contained Streamlit page mounted by one line of ``app.py``: :func:`render` is
called with the street and settings like every page. It reads the organisation
registers (the demo street's synthetic ones, or the four files uploaded here), checks
the organisation rules on the grids in use (the grid editor's, else the division of
the settings), and shows the overview figures, the rules, the per-grid and
per-community tables, the red map with the organisation layers (grids coloured by the
chosen check), and a form to set a grid's branch and team. Edits go to the project's
``<project>.organisation.json`` with their history (:mod:`planner.organisation.edits`);
a read-only session (a shared link) sees them but cannot save.

The logic lives in :mod:`planner.organisation`; this module only lays out widgets.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import pandas as pd
import streamlit as st

from planner.errors import InputError, PlannerError
from planner.i18n import markdown_literal as md
from planner.i18n import render as render_text
from planner.i18n import t
from planner.organisation.edits import Member, OrgEditLog, apply_edits, edits_path
from planner.organisation.maplayers import GRID_CHECKS, Check, add_organisation_layers
from planner.organisation.organise import Organisation, demo_register_files, organise, read_or_raise
from planner.organisation.registers import REGISTER_KINDS, RegisterFiles, RegisterKind
from planner.settings import Settings, settings_for
from planner.street import Street

S = st.session_state


def L(key: str, **fmt: Any) -> str:
    """A catalogue string in the session's language."""
    return t(key, S.get("lang", "zh"), **fmt)


def _source_key() -> str:
    return json.dumps(S.get("source", {}), sort_keys=True)


def _grids(street: Street, settings: Settings) -> gpd.GeoDataFrame:
    """The grids in use: the grid editor's (with the planner's edits), else the division
    of these settings (computed once per street and grid settings)."""
    editor = S.get("editor")
    if editor is not None and str(S.get("editor_key", "")).startswith(_source_key()):
        grids = editor.grids  # the editor of this street (editor_key starts with its source)
        if isinstance(grids, gpd.GeoDataFrame) and len(grids):
            return grids
    from planner.app import services as svc

    key = _source_key() + repr(settings_for(settings, "grids"))
    cache: dict[str, gpd.GeoDataFrame] = S.setdefault("_org_grids", {})
    if key not in cache:
        cache.clear()
        cache[key] = svc.grids_for(street, settings).grids
    return cache[key]


def _upload_dir() -> Path:
    """This session's folder for uploaded registers (named by the session, not the user)."""
    sid = str(S.setdefault("_org_session", hashlib.sha256(str(id(S)).encode()).hexdigest()[:16]))
    folder = Path(tempfile.gettempdir()) / "planner-org-uploads" / sid
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _register_files(settings: Settings) -> RegisterFiles | None:
    """The registers: uploaded here (saved under names the planner makes), else the demo's."""
    with st.expander(L("org_upload_title"), expanded=False):
        paths: dict[RegisterKind, Path] = {}
        for kind in REGISTER_KINDS:
            up = st.file_uploader(
                L(f"org_register_{kind}"), type=["csv", "xlsx"], key=f"org_up_{kind}"
            )
            if up is None:
                continue
            data = up.getvalue()
            if len(data) > settings.upload_limit_mb * 1_000_000:
                st.error(L("org_upload_too_big", mb=settings.upload_limit_mb))
                continue
            suffix = ".xlsx" if up.name.lower().endswith(".xlsx") else ".csv"
            path = _upload_dir() / f"register_{kind}{suffix}"
            path.write_bytes(data)
            paths[kind] = path
        crs = st.radio(L("org_incidents_crs"), ("wgs84", "gcj02", "bd09"), horizontal=True,
                       key="org_incidents_crs")  # fmt: skip
    if paths:
        return RegisterFiles(
            party=paths.get("party"), staff=paths.get("staff"), property=paths.get("property"),
            incidents=paths.get("incidents"), incidents_crs=crs,  # type: ignore[arg-type]
        )  # fmt: skip
    if S.get("source", {}).get("kind") == "demo":
        return demo_register_files()
    return None


def _edit_log() -> tuple[OrgEditLog, Path]:
    path = edits_path(_project_path())
    return OrgEditLog.load(path), path


def _project_path() -> Path:
    from planner.app.editor import autosave_path

    return autosave_path(S.get("editor_key") or _source_key())


def _overview(org: Organisation) -> None:
    report = org.report
    t_ = report.by_grid
    cols = st.columns(4)
    figures = (
        ("org_fig_grids_branch", int(t_["has_branch"].sum()) if "has_branch" in t_ else None),
        ("org_fig_grids_team", int(t_["team_complete"].sum()) if "team_complete" in t_ else None),
        ("org_fig_red_pct", _red_pct(report.compounds)),
        ("org_fig_incidents_n", int(t_["incidents"].sum()) if "incidents" in t_ else None),
    )
    for col, (key, value) in zip(cols, figures, strict=True):
        col.metric(L(key, grids=len(t_)), "—" if value is None else value)
    lang = S.get("lang", "zh")
    rows = [
        {L("org_col_rule"): render_text(c.title, lang), L("org_col_result"): L("rule_pass") if c.passed
         else L("rule_fail"), L("org_col_figure"): render_text(c.figure, lang)}
        for c in report.checks
    ]  # fmt: skip
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    for kind in report.missing:
        st.caption(L("org_not_checked", register=L(f"org_register_{kind}")).strip())
    unmatched = {k: v for k, v in org.registers.unmatched.items() if v}
    for kind, rows_ in unmatched.items():
        st.warning(L("org_unmatched", register=L(f"org_register_{kind}"), n=len(rows_)) + " "
                   + md("; ".join(f"row {u.row} {u.key}: {u.reason}" for u in rows_[:10])))  # fmt: skip


def _red_pct(compounds: pd.DataFrame) -> str | None:
    if len(compounds) == 0:
        return None
    return f"{100 * compounds['red'].mean():.1f}%"


def _map(street: Street, grids: gpd.GeoDataFrame, org: Organisation) -> None:
    from planner.app import map as app_map
    from planner.maps.redmap import red_map

    lang = S.get("lang", "zh")
    check: Check = st.selectbox(
        L("org_colour_by"), list(GRID_CHECKS), key="org_check",
        format_func=lambda k: GRID_CHECKS[k][1 if lang == "en" else 0],
    )  # fmt: skip
    shown = grids if "grid_id" in grids.columns else grids.assign(grid_id=range(len(grids)))
    basemap = S.get("basemap", "none")
    m = red_map(street, grids=shown, basemap=basemap, tianditu_key=S.get("tianditu_key", ""),
                lang=lang, layers=("boundary", "communities", "grids", "stations"))  # fmt: skip
    add_organisation_layers(m, street, shown, org, check=check, lang=lang,
                            coordinates="gcj02" if basemap == "amap" else "wgs84")  # fmt: skip
    app_map.show_map(app_map.map_payload(m), key="org_map", height=560, returned_objects=[])


def _team_of(org: Organisation, code: str) -> list[Member]:
    staff = org.registers.table("staff")
    if staff is None:
        return []
    rows = staff[staff["grids"].map(lambda g: code in g).astype(bool)]
    return [(str(p), str(n), str(ph)) for p, n, ph in zip(rows["post_text"], rows["name"],
                                                         rows["phone"], strict=True)]  # fmt: skip


def _edit_form(org: Organisation, log: OrgEditLog, path: Path, editable: bool) -> None:
    """Choose a grid; set its branch and team; save (with history) or see why not."""
    codes = org.report.by_grid["code"].astype(str).tolist()
    code = st.selectbox(L("org_edit_grid"), codes, key="org_edit_grid")
    row = org.report.by_grid.set_index("code").loc[code]
    before_branch = str(row.get("branch", "") or "")
    branch = st.text_input(L("org_edit_branch"), value=before_branch, key=f"org_branch_{code}")
    team = pd.DataFrame(_team_of(org, code), columns=["post", "name", "phone"])
    edited = st.data_editor(team, num_rows="dynamic", key=f"org_team_{code}", width="stretch")
    if not editable:
        st.info(L("org_read_only"))
        return
    if st.button(L("org_edit_save"), key="org_save"):
        try:
            log.set_branch(code, branch, before=before_branch)
            members = [(str(p or ""), str(n or ""), str(ph or "")) for p, n, ph in
                       edited[["post", "name", "phone"]].itertuples(index=False)]  # fmt: skip
            log.set_team(code, members, before=_team_of(org, code))
            log.save(path)
        except (InputError, OSError) as exc:
            st.error(md(exc))
            return
        st.success(L("org_edit_saved", path=md(path.name)))
        st.rerun()
    if log.history:
        hist = pd.DataFrame([{"time": e.time, "grid": e.grid, "field": e.field,
                              "old": json.dumps(e.old, ensure_ascii=False),
                              "new": json.dumps(e.new, ensure_ascii=False)} for e in log.history])  # fmt: skip
        st.dataframe(hist.iloc[::-1], hide_index=True, width="stretch")


def render(street: Street, settings: Settings) -> None:
    """The organisation page (called by ``app.py`` with the loaded street and settings)."""
    from planner.app.state import can_edit

    files = _register_files(settings)
    if files is None:
        st.info(L("org_no_registers"))
        return
    try:
        with st.spinner(L("org_checking")):
            grids = _grids(street, settings)
            org = organise(read_or_raise(files), street, grids, settings=settings)
    except (InputError, PlannerError, OSError) as exc:
        st.error(md(exc))
        return
    log, path = _edit_log()
    if log.branches or log.teams:
        from planner.organisation.checks import check_organisation

        regs = apply_edits(org.registers, log)
        org = Organisation(regs, check_organisation(regs, grids, street.buildings, street.compounds,
                                                    settings=settings))  # fmt: skip
    tabs = st.tabs(
        [L("org_tab_overview"), L("org_tab_map"), L("org_tab_tables"), L("org_tab_edit")]
    )
    with tabs[0]:
        _overview(org)
    with tabs[1]:
        _map(street, grids, org)
    with tabs[2]:
        st.dataframe(org.report.by_grid, hide_index=True, width="stretch")
        st.dataframe(org.report.by_community, hide_index=True, width="stretch")
    with tabs[3]:
        _edit_form(org, log, path, can_edit(cast("Mapping[str, Any]", S)))
