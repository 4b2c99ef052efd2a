"""The app's organisation page (组织建设): registers, rules, map layers, team and branch edits.

A self-contained Streamlit page mounted by one line of ``app.py``: :func:`render` is
called with the street and settings like every page. It reads the organisation
registers (the four files a planner uploads here, kept for the session, else the
demo street's synthetic ones), checks the organisation rules on the project's
current grids (the grid editor's, else the street's division), and shows the
overview figures, the rules and the rows of each register that match nothing, the
per-grid and per-community tables, the red map with the organisation layers (grids
coloured by the chosen check), and a form to set a grid's branch and team.

Edits are kept inside the project file (:mod:`planner.grids.project`, table
``extra_organisation_edits``; :mod:`planner.organisation.edits`) with their history,
by the project's atomic save under its lock, and refused when another tab saved the
project since (as the grid editor's edits are). A project of an earlier version kept
them beside the file (``<project>.organisation.json``): opening it moves them in and
removes that file. A read-only session (a shared link) sees the edits but cannot save.
Staff phones are hidden on the page (the team table and the history) unless the
project's editor ticks "显示联系电话"; a read-only session never sees them. A team saved
with the phones hidden keeps each remaining member's phone (:func:`members_from_table`).

The overview page shows the same figures (:func:`overview_figures`) and the export
page writes ``organisation_by_grid.csv`` and ``grid_cards.pdf`` from the same
registers and edits (:func:`export_key`, :func:`export_inputs`).

The logic lives in :mod:`planner.organisation`; this module only lays out widgets.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import tempfile
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, NamedTuple, cast

import geopandas as gpd
import pandas as pd
import streamlit as st

from planner.errors import InputError, PlannerError
from planner.grids.division import GridResult
from planner.i18n import markdown_literal as md
from planner.i18n import render as render_text
from planner.i18n import t
from planner.organisation.edits import (
    EDITS_TABLE,
    Member,
    OrgEditLog,
    legacy_edits_path,
    merge_logs,
    read_legacy,
)
from planner.organisation.maplayers import GRID_CHECKS, Check, add_organisation_layers
from planner.organisation.organise import (
    Organisation,
    demo_register_files,
    organise,
    read_or_raise,
)
from planner.organisation.registers import REGISTER_KINDS, RegisterFiles, RegisterKind
from planner.settings import Settings, settings_for
from planner.street import Street

S = st.session_state
#: The session state as the plain mapping :mod:`planner.app.project` and
#: :mod:`planner.app.editor` work on.
STATE = cast("MutableMapping[str, Any]", S)


def L(key: str, **fmt: Any) -> str:
    """A catalogue string in the session's language."""
    return t(key, S.get("lang", "zh"), **fmt)


def _source_key() -> str:
    return json.dumps(S.get("source", {}), sort_keys=True)


# ----------------------------------------------------------------------------- the project
def project_key(settings: Settings) -> str:
    """The key of the session's project (its editor and project file): street source,
    grid settings and project id, as every page names it
    (:func:`planner.app.editor.editor_key`)."""
    from planner.app.editor import editor_key

    grid_settings = json.dumps(settings_for(settings, "grids").to_dict(), sort_keys=True,
                               default=list)  # fmt: skip
    return editor_key(_source_key(), grid_settings, str(S.get("project", "")))


def project_path(settings: Settings) -> Path:
    """The session's project file (the grid editor's autosave)."""
    from planner.app.editor import autosave_path

    return autosave_path(project_key(settings))


def _division(street: Street, settings: Settings) -> GridResult | None:
    """The street's division by ``settings`` (``None`` when it fails: the page says why)."""
    grid_settings = json.dumps(settings_for(settings, "grids").to_dict(), sort_keys=True,
                               default=list)  # fmt: skip
    division: GridResult | None = _cached_division(_source_key(), grid_settings, street)
    return division


@st.cache_data(show_spinner=False, max_entries=4)
def _cached_division(
    source_json: str, grid_settings_json: str, _street: Street
) -> GridResult | None:
    """The division of the street ``source_json`` names, once per server for each
    street and grid settings (not once per session)."""
    from planner.app import services as svc

    try:
        result: GridResult | None = svc.grids_for(
            _street, Settings.from_dict(json.loads(grid_settings_json))
        )
    except PlannerError:
        return None
    return result


def _grid_result(street: Street, settings: Settings) -> GridResult | None:
    """The project's current grids: the editor's (edits included), else the division."""
    from planner.app.project import current_grids

    return current_grids(STATE, street, key=project_key(settings), settings=settings,
                         division=lambda: _division(street, settings))  # fmt: skip


def _read_edits(path: Path) -> OrgEditLog:
    """The edits kept in the project file ``path`` and in a legacy side file, merged."""
    from planner.grids.project import read_extra

    table = read_extra(path).get(EDITS_TABLE)
    log = OrgEditLog() if table is None else OrgEditLog.from_table(table, file=str(path))
    legacy = read_legacy(path)
    return log if legacy is None else merge_logs(legacy, log)


def load_edits(street: Street, settings: Settings) -> OrgEditLog:
    """The project's organisation edits and its file (read again only when the file
    changed). A legacy side file is moved into the project file when this session
    owns the project (else only read)."""
    from planner.app.project import file_version
    from planner.app.state import can_edit

    path = project_path(settings)
    legacy = legacy_edits_path(path)
    stamp = (str(path), file_version(path), legacy.exists())
    cached = S.get("_org_edits")
    if cached is not None and cached[0] == stamp:
        return cast(OrgEditLog, cached[1])
    log = _read_edits(path)
    if legacy.exists() and can_edit(STATE):
        save_edits(street, settings, log)  # into the project file, then the side file goes
        legacy.unlink(missing_ok=True)
        stamp = (str(path), file_version(path), False)
    S["_org_edits"] = (stamp, log)
    return log


def save_edits(street: Street, settings: Settings, log: OrgEditLog) -> Path:
    """Write ``log`` into the project file with the grids, atomically (the project's
    save and lock, :func:`planner.grids.project.save_project`).

    Raises
    ------
    planner.app.project.ChangedElsewhere
        Another tab saved the project since this session read it.
    PlannerError
        The project has no grids to save them with (the division failed).
    """
    from planner.app.editor import editor_for, finish_save
    from planner.app.project import check_version, remember_version
    from planner.grids.project import save_project

    key = project_key(settings)
    editor = editor_for(STATE, street, key=key, settings=settings,
                        division=lambda: _division(street, settings))  # fmt: skip
    if editor is None:
        raise PlannerError("the street has no grids to keep the edits with")
    finish_save(STATE)  # the session's own autosave in flight is not "another tab"
    check_version(STATE)
    out = save_project(project_path(settings), editor, extra={EDITS_TABLE: log.to_table()},
                       source=_source_key())  # fmt: skip
    remember_version(STATE)
    return out


# ----------------------------------------------------------------------------- registers
def _upload_dir() -> Path:
    """This session's folder for uploaded registers (named by the session, not the user)."""
    sid = str(S.setdefault("_org_session", secrets.token_hex(8)))
    folder = Path(tempfile.gettempdir()) / "planner-org-uploads" / sid
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _keep_upload(kind: RegisterKind, name: str, data: bytes) -> None:
    """Save an uploaded register under a name the planner makes; remember it for the
    session (``S["org_files"]``: kind -> path, the name as uploaded, digest)."""
    suffix = ".xlsx" if name.lower().endswith(".xlsx") else ".csv"
    digest = hashlib.sha256(data).hexdigest()[:16]
    path = _upload_dir() / f"register_{kind}_{digest}{suffix}"
    path.write_bytes(data)
    files: dict[str, dict[str, str]] = dict(S.get("org_files") or {})
    files[kind] = {"path": str(path), "name": name, "sha": digest}
    S["org_files"] = files


def _upload_panel(settings: Settings) -> None:
    """Upload the four registers (kept for the session, across pages); say which are
    in use; forget them."""
    generation = int(S.get("org_up_generation", 0))  # new, empty uploaders after "forget"
    with st.expander(L("org_upload_title"), expanded=not S.get("org_files")):
        for kind in REGISTER_KINDS:
            up = st.file_uploader(L(f"org_register_{kind}"), type=["csv", "xlsx"],
                                  key=f"org_up_{kind}_{generation}")  # fmt: skip
            if up is None:
                continue
            data = up.getvalue()
            if len(data) > settings.upload_limit_mb * 1_000_000:
                st.error(L("org_upload_too_big", mb=settings.upload_limit_mb))
                continue
            kept = (S.get("org_files") or {}).get(kind, {})
            if kept.get("sha") != hashlib.sha256(data).hexdigest()[:16]:
                _keep_upload(kind, up.name, data)
        crs_options = ("wgs84", "gcj02", "bd09")
        S["org_crs"] = st.radio(L("org_incidents_crs"), crs_options, horizontal=True,
                                index=crs_options.index(S.get("org_crs", "wgs84")),
                                format_func=lambda c: L(f"points_crs_{c}"),
                                key="org_incidents_crs")  # fmt: skip
        files = S.get("org_files") or {}
        for kind, f in files.items():
            st.caption(L("org_upload_in_use", register=L(f"org_register_{kind}"),
                         name=md(f["name"])))  # fmt: skip
        if files and st.button(L("org_upload_forget"), key="org_forget"):
            S["org_files"] = {}
            S["org_up_generation"] = generation + 1
            st.rerun()


def register_files() -> RegisterFiles | None:
    """The registers in use: the session's uploads, else the demo street's."""
    files = {k: Path(f["path"]) for k, f in (S.get("org_files") or {}).items()
             if Path(f["path"]).exists()}  # fmt: skip
    if files:
        return RegisterFiles(
            party=files.get("party"), staff=files.get("staff"), property=files.get("property"),
            incidents=files.get("incidents"), incidents_crs=S.get("org_crs", "wgs84"),
        )  # fmt: skip
    if S.get("source", {}).get("kind") == "demo":
        return demo_register_files()
    return None


# ----------------------------------------------------------------------------- organisation
class OrgView(NamedTuple):
    """What the page shows: the organisation, the grids it was checked on, the edits."""

    org: Organisation
    grids: GridResult
    edits: OrgEditLog


def organisation(
    street: Street, settings: Settings, grids: GridResult | None = None
) -> OrgView | None:
    """The organisation of the project (registers in use, current grids, edits),
    computed again only when one of them changed; ``None`` without registers or grids.
    ``grids``: the project's current grids when the caller has them (else found here).

    Raises
    ------
    InputError
        A register cannot be read (every bad file, row and field named).
    """
    from planner.app.project import grids_token

    files = register_files()
    if files is None:
        return None
    result = grids if grids is not None else _grid_result(street, settings)
    if result is None:
        return None
    log = load_edits(street, settings)
    key = json.dumps([{k: str(p) for k, p in files.given().items()}, files.incidents_crs,
                      grids_token(result), S["_org_edits"][0],
                      settings.to_dict()], sort_keys=True, default=list)  # fmt: skip
    cached = S.get("_org_result")
    if cached is not None and cached[0] == key:
        return OrgView(cached[1], result, log)
    org = organise(read_or_raise(files), street, result.grids, settings=settings, edits=log)
    S["_org_result"] = (key, org)
    return OrgView(org, result, log)


def overview_figures(street: Street, settings: Settings, grids: GridResult | None = None) -> None:
    """The organisation figures on the overview page (grids with a branch, with a full
    team, red-property share, incidents), from the registers in use and the project's
    edits, on ``grids`` (the project's current grids the overview shows; found here
    when not given); one line names what is missing (no registers, or one that cannot
    be read)."""
    st.subheader(L("org_overview_title"))
    try:
        found = organisation(street, settings, grids)
    except (InputError, PlannerError, OSError) as exc:
        st.error(md(exc))
        return
    if found is None:
        st.caption(L("org_no_registers"))
        return
    _figures(found.org)


def export_key(settings: Settings) -> str:
    """What the export's organisation reads, as JSON (a cache key): the registers in
    use and the project file with its version (where the edits are)."""
    from planner.app.project import file_version

    files = register_files()
    path = project_path(settings)
    return json.dumps({
        "files": None if files is None else {k: str(p) for k, p in files.given().items()},
        "crs": None if files is None else files.incidents_crs,
        "project": str(path), "version": file_version(path),
    }, sort_keys=True)  # fmt: skip


def export_inputs(key: str) -> dict[str, Any]:
    """The ``registers`` and ``org_edits`` arguments of
    :func:`planner.app.services.export_files` named by :func:`export_key`."""
    doc = json.loads(key) if key else {}
    files = doc.get("files")
    registers = None if not files else RegisterFiles(
        **{k: Path(p) for k, p in files.items()}, incidents_crs=doc.get("crs") or "wgs84"
    )  # fmt: skip
    log = _read_edits(Path(doc["project"])) if doc.get("project") else None
    return {"registers": registers, "org_edits": log}


def _figures(org: Organisation) -> None:
    """Four metrics: grids with a branch, with a full team, red-property share, incidents."""
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


def _overview(org: Organisation) -> None:
    """The figures, the rules, what was not checked, and the rows that match nothing."""
    _figures(org)
    report = org.report
    lang = S.get("lang", "zh")
    rows = [
        {L("org_col_rule"): render_text(c.title, lang), L("org_col_result"): L("rule_pass") if c.passed
         else L("rule_fail"), L("org_col_figure"): render_text(c.figure, lang)}
        for c in report.checks
    ]  # fmt: skip
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    for kind in report.missing:
        st.caption(L("org_not_checked", register=L(f"org_register_{kind}")).strip())
    _unmatched(org)


def _unmatched(org: Organisation) -> None:
    """Per register, a warning with the count and a table of every row matching nothing."""
    for kind, rows in org.registers.unmatched.items():
        if not rows:
            continue
        st.warning(L("org_unmatched", register=L(f"org_register_{kind}"), n=len(rows)) + " "
                   + md("; ".join(f"row {u.row} {u.key}: {u.reason}" for u in rows[:3])))  # fmt: skip
        table = pd.DataFrame(
            [(u.row, u.key, u.reason) for u in rows],
            columns=[L("org_col_row"), L("org_col_key"), L("org_col_reason")],
        )
        st.dataframe(table, hide_index=True, width="stretch")


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


def members_from_table(edited: pd.DataFrame, current: list[Member]) -> list[Member]:
    """The team as edited in the page's table: ``(post, name, phone)`` per row.

    Without a ``phone`` column (phones hidden) each row keeps the phone of the current
    member with the same post and name ('' for a new member), so hiding the phones
    never erases them."""
    cells = edited.reindex(columns=["post", "name", "phone"]).astype(object)
    cells = cells.where(cells.notna(), "")
    if "phone" in edited.columns:
        return [(str(p), str(n), str(ph)) for p, n, ph in cells.itertuples(index=False)]
    known: dict[tuple[str, str], str] = {}
    for p, n, ph in current:
        known.setdefault((p, n), ph)
    return [(str(p), str(n), known.get((str(p), str(n)), "")) for p, n, _ in
            cells.itertuples(index=False)]  # fmt: skip


def without_phones(field: str, value: Any) -> Any:
    """An edit's old or new value as shown with phones hidden: a team's members as
    ``[post, name]``; any other field as it is."""
    if field != "team" or not isinstance(value, list):
        return value
    return [list(m[:2]) if isinstance(m, (list, tuple)) else m for m in value]


def _team_of(org: Organisation, code: str) -> list[Member]:
    staff = org.registers.table("staff")
    if staff is None:
        return []
    rows = staff[staff["grids"].map(lambda g: code in g).astype(bool)]
    return [(str(p), str(n), str(ph)) for p, n, ph in zip(rows["post_text"], rows["name"],
                                                         rows["phone"], strict=True)]  # fmt: skip


def _edit_form(street: Street, settings: Settings, org: Organisation, log: OrgEditLog,
               editable: bool) -> None:  # fmt: skip
    """Choose a grid; set its branch and team; save into the project file (with history)
    or see why not."""
    from planner.app.project import ChangedElsewhere

    codes = org.report.by_grid["code"].astype(str).tolist()
    code = st.selectbox(L("org_edit_grid"), codes, key="org_edit_grid")
    row = org.report.by_grid.set_index("code").loc[code]
    before_branch = str(row.get("branch", "") or "")
    branch = st.text_input(L("org_edit_branch"), value=before_branch, key=f"org_branch_{code}")
    current = _team_of(org, code)
    show_phones = editable and st.checkbox(
        L("org_show_phones"), key="org_show_phones", help=L("org_show_phones_help")
    )
    columns = ["post", "name", "phone"] if show_phones else ["post", "name"]
    team = pd.DataFrame(current, columns=["post", "name", "phone"])[columns]
    key = f"org_team_phones_{code}" if show_phones else f"org_team_{code}"
    edited = st.data_editor(team, num_rows="dynamic", key=key, width="stretch")
    if not editable:
        st.info(L("org_read_only"))
    elif st.button(L("org_edit_save"), key="org_save"):
        new = OrgEditLog.replay(log.history)  # the shown log stays as read if saving fails
        try:
            new.set_branch(code, branch, before=before_branch)
            new.set_team(code, members_from_table(edited, current), before=current)
            path = save_edits(street, settings, new)
        except ChangedElsewhere:
            st.error(L("changed_elsewhere"))
            return
        except (InputError, PlannerError, OSError) as exc:
            st.error(md(exc))
            return
        S["org_saved_to"] = path.name
        st.rerun()
    if S.get("org_saved_to"):
        st.success(L("org_edit_saved", path=md(S.pop("org_saved_to"))))
    if log.history:

        def shown(field: str, value: Any) -> str:
            value = value if show_phones else without_phones(field, value)
            return json.dumps(value, ensure_ascii=False)

        hist = pd.DataFrame([{"time": e.time, "grid": e.grid, "field": e.field,
                              "old": shown(e.field, e.old),
                              "new": shown(e.field, e.new)} for e in log.history])  # fmt: skip
        st.dataframe(hist.iloc[::-1], hide_index=True, width="stretch")


def render(street: Street, settings: Settings) -> None:
    """The organisation page (called by ``app.py`` with the loaded street and settings)."""
    from planner.app.state import can_edit

    _upload_panel(settings)
    try:
        with st.spinner(L("org_checking")):
            found = organisation(street, settings)
    except (InputError, PlannerError, OSError) as exc:
        st.error(md(exc))
        return
    if found is None:
        st.info(L("org_no_registers"))
        return
    org, result, log = found
    tabs = st.tabs(
        [L("org_tab_overview"), L("org_tab_map"), L("org_tab_tables"), L("org_tab_edit")]
    )
    with tabs[0]:
        _overview(org)
    with tabs[1]:
        _map(street, result.grids, org)
    with tabs[2]:
        st.dataframe(org.report.by_grid, hide_index=True, width="stretch")
        st.dataframe(org.report.by_community, hide_index=True, width="stretch")
    with tabs[3]:
        _edit_form(street, settings, org, log, can_edit(STATE))
