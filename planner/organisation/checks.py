"""The organisation rules: per grid and community, is the branch, the team, the red property there?

:func:`check_organisation` takes the joined registers (:mod:`planner.organisation.registers`)
and a grid layer and returns an :class:`OrgReport`: one row per grid
(:attr:`OrgReport.by_grid`, the table ``organisation_by_grid.csv``), one per community,
and the *organisation rules*, kept apart from the geometric rules of
:mod:`planner.grids.rules` (they never change the proof's verdict or the exit code).
Each norm is a setting, with its source:

- ``org_branch``: every grid has a grid party branch (网格党支部), or is named in a
  branch's row as sharing one ("build the party organisation on the grid");
- ``org_party_groups``: every building with at least ``org_party_group_min_members``
  party members has a building party group (楼栋党小组) (Party Constitution art. 30:
  three full members form an organisation);
- ``org_team``: every grid's team is "1+1+n": at least a grid leader (网格长) and a
  full-time grid worker (专职网格员);
- ``org_workload``: households per full-time worker at most
  ``org_households_per_worker_max`` (GB/T 40763-2021: 300-500 households per urban grid);
- ``org_red_property``: in every community at least ``org_red_property_target_pct`` of
  the compounds have red property management (物业 with a party organisation);
- ``org_abandoned``: no abandoned or unmanaged compound (弃管小区);
- ``org_incidents``: a figure, not a rule: incidents per grid per year and per 100
  households per year over the register's period, and the top categories.

A rule is checked only when its register was given; the report says which were not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from planner.crs import WGS84
from planner.grids.rules import Check, Violation
from planner.i18n import Message, msg, render
from planner.organisation.registers import PART_TIME_POSTS, Registers
from planner.settings import Settings

#: The organisation rules in order, and the register each needs.
ORG_RULES: dict[str, str] = {
    "org_branch": "party",
    "org_party_groups": "party",
    "org_team": "staff",
    "org_workload": "staff",
    "org_red_property": "property",
    "org_abandoned": "property",
    "org_incidents": "incidents",
}
#: How many incident categories a grid lists.
TOP_CATEGORIES = 3
#: The shortest period incidents are counted over, days (a register of one day's
#: incidents is not a year's rate times 365).
MIN_PERIOD_DAYS = 30


@dataclass
class OrgReport:
    """What :func:`check_organisation` found.

    Attributes
    ----------
    by_grid
        One row per grid (columns in :func:`grid_table`'s docstring).
    by_community
        One row per community: grids, branches, complete teams, compounds, red
        property share (%), abandoned compounds, incidents per 100 households per year.
    checks
        The organisation rules checked (:class:`planner.grids.rules.Check`).
    missing
        Registers not given (their rules are not checked).
    period_days
        Days the incident register covers (first to last date; 0 without incidents).
    compounds
        Per compound (with the property register): ``compound_id``, ``name``,
        ``registered``, ``red``, ``abandoned``, ``company``, ``grids`` (codes).
    """

    by_grid: pd.DataFrame
    by_community: pd.DataFrame
    checks: list[Check]
    missing: list[str] = field(default_factory=list)
    period_days: int = 0
    compounds: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def ok(self) -> bool:
        """True when every organisation rule checked holds."""
        return all(c.passed for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checks": [c.to_dict() for c in self.checks],
            "registers_missing": list(self.missing),
            "incident_period_days": self.period_days,
        }

    def to_text(self, lang: str = "en") -> str:
        """The organisation rules as text, in the grid proof's layout."""
        lines = [msg("org_report_head", grids=len(self.by_grid)).render(lang)]
        for c in self.checks:
            mark = msg("rule_pass" if c.passed else "rule_fail")
            lines.append(
                msg(
                    "rule_line",
                    mark=mark,
                    title=render(c.title, lang),
                    figure=render(c.figure, lang),
                ).render(lang)
            )
            for v in c.violations[:20]:
                where = (
                    msg("rule_near", lon=v.lon, lat=v.lat).render(lang)
                    if v.lon is not None and v.lat is not None
                    else ""
                )
                lines.append(
                    msg("rule_violation_line", text=v.render(lang), where=where, tag="").render(
                        lang
                    )
                )
            if len(c.violations) > 20:
                lines.append(msg("rule_more", n=len(c.violations) - 20).render(lang))
        for kind in self.missing:
            lines.append(msg("org_not_checked", register=msg(f"org_register_{kind}")).render(lang))
        return "\n".join(lines)


def _explode(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (register row, grid) from the ``grids`` tuples."""
    out = table.explode("grids").rename(columns={"grids": "code"})
    return out[out["code"].notna() & (out["code"] != "")]


def _points(grids: gpd.GeoDataFrame) -> dict[str, tuple[float, float]]:
    """Code -> WGS84 lon/lat of a point inside each grid (where violations are shown)."""
    pts = grids.geometry.representative_point()
    tr = Transformer.from_crs(grids.crs, WGS84, always_xy=True)
    lon, lat = tr.transform(pts.x.to_numpy(), pts.y.to_numpy())
    return {
        str(c): (round(float(x), 6), round(float(y), 6))
        for c, x, y in zip(grids["code"], lon, lat, strict=True)
    }


def _texts(codes: pd.Series, by_code: Mapping[str, str] | pd.Series) -> pd.Series:
    """The text of each code in ``by_code`` ('' where it has none), as text."""
    lookup = dict(by_code)
    return codes.map(lambda c: str(lookup.get(c, ""))).astype(object)


def _violation(
    rule: str, text: Message, codes: Iterable[str], where: dict[str, tuple[float, float]]
) -> Violation:
    codes = tuple(codes)
    lon, lat = where.get(codes[0], (None, None)) if codes else (None, None)
    return Violation(rule, str(text), codes, lon, lat, "error", text)


# ---------------------------------------------------------------------------------------
# Per-grid columns, one small function per register


def _party_columns(base: pd.DataFrame, party: pd.DataFrame, regs: Registers,
                   buildings: pd.DataFrame, s: Settings) -> pd.DataFrame:  # fmt: skip
    """``branch``, ``branch_shared_with``, ``party_groups``, ``central_households``,
    ``party_members``, ``groups_missing`` (buildings listed), ``has_branch``."""
    rows = _explode(party)
    branches = rows[rows["level"] == "branch"]
    named = branches.groupby("code")["name"].agg(lambda v: "、".join(x for x in v if x) or "党支部")
    base["branch"] = _texts(base["code"], named)
    serves = branches.groupby("row")["code"].agg(tuple)
    shared = {
        code: "、".join(c for c in grids if c != code)
        for grids in serves
        if len(grids) > 1
        for code in grids
    }
    base["branch_shared_with"] = _texts(base["code"], shared)
    base["has_branch"] = base["branch"] != ""
    for level, col in (("group", "party_groups"), ("central_household", "central_households")):
        n = rows[rows["level"] == level].groupby("code").size()
        base[col] = base["code"].map(n).fillna(0).astype(int)
    members = _building_members(party, buildings)
    grid_of = regs.building_grid.reindex(buildings.index).fillna("")
    per_grid = members.groupby(grid_of.to_numpy()).sum()
    base["party_members"] = base["code"].map(per_grid).fillna(0).astype(int)
    grouped = set(party.loc[party["level"] == "group", "building_id"])
    need = members[(members >= s.org_party_group_min_members)]
    need = need[~buildings.loc[need.index, "building_id"].astype(str).isin(grouped)]
    missing = (
        buildings.loc[need.index, "building_id"]
        .astype(str)
        .groupby(grid_of.loc[need.index].to_numpy())
        .agg(lambda v: "、".join(sorted(v)))
    )
    base["groups_missing"] = _texts(base["code"], missing)
    return base


def _building_members(party: pd.DataFrame, buildings: pd.DataFrame) -> pd.Series:
    """Party members per building (index of the buildings; 0 where unknown)."""
    known = party[party["members"].notna() & (party["building_id"] != "")]
    by_id = known.groupby("building_id")["members"].max()
    ids = buildings["building_id"].astype(str)
    return ids.map(by_id).fillna(0).astype(int)


def _staff_columns(base: pd.DataFrame, staff: pd.DataFrame, s: Settings) -> pd.DataFrame:
    """``leaders``, ``full_time``, ``part_time`` (counts), ``team`` (post: name; ...),
    ``team_complete``, ``households_per_full_time``, ``workload_ok``."""
    rows = _explode(staff)
    counts = rows.groupby(["code", "post"]).size().unstack(fill_value=0)
    for post, col in (("leader", "leaders"), ("full_time", "full_time")):
        got = counts[post] if post in counts.columns else pd.Series(dtype=int)
        base[col] = base["code"].map(got).fillna(0).astype(int)
    part = [p for p in counts.columns if p in PART_TIME_POSTS]
    base["part_time"] = base["code"].map(counts[part].sum(axis=1) if part else {}).fillna(0)
    base["part_time"] = base["part_time"].astype(int)
    order = {"leader": 0, "full_time": 1}
    rows = rows.assign(_o=rows["post"].map(order).fillna(2)).sort_values(["_o", "row"])
    pairs = rows["post_text"] + "：" + rows["name"]
    team = pairs.groupby(rows["code"].to_numpy()).agg("；".join)
    base["team"] = _texts(base["code"], team)
    base["team_complete"] = (base["leaders"] >= 1) & (base["full_time"] >= 1)
    per = base["households"] / base["full_time"].where(base["full_time"] > 0)
    base["households_per_full_time"] = per.round(1)
    base["workload_ok"] = per.le(s.org_households_per_worker_max)
    return base


def _compound_status(regs: Registers, prop: pd.DataFrame, compounds: pd.DataFrame) -> pd.DataFrame:
    """Per compound: ``red`` (a company with a party organisation), ``abandoned``,
    ``registered`` (a row in the property register), ``grids`` (codes holding it)."""
    by = prop.drop_duplicates("compound_id", keep="last").set_index("compound_id")
    ids = compounds["compound_id"].astype(str)
    out = pd.DataFrame({"compound_id": ids.to_numpy(), "name": compounds["name"].to_numpy()})
    out["registered"] = out["compound_id"].isin(by.index)
    party_org = out["compound_id"].map(by["party_org"]).astype("boolean").fillna(False)
    abandoned = out["compound_id"].map(by["abandoned"]).astype("boolean").fillna(False)
    out["abandoned"] = abandoned.astype(bool).to_numpy()
    out["red"] = (party_org & ~abandoned).astype(bool).to_numpy()
    out["company"] = _texts(out["compound_id"], by["company"])
    out["grids"] = out["compound_id"].map(regs.compound_grids)
    return out[out["grids"].notna()]


def _property_columns(base: pd.DataFrame, status: pd.DataFrame, s: Settings) -> pd.DataFrame:
    """``compounds``, ``compounds_red``, ``red_property_pct``, ``red_property_ok``,
    ``compounds_abandoned`` (names listed in ``abandoned_compounds``)."""
    rows = status.explode("grids").rename(columns={"grids": "code"})
    agg = rows.groupby("code").agg(
        compounds=("compound_id", "size"), compounds_red=("red", "sum"),
        compounds_abandoned=("abandoned", "sum"),
    )  # fmt: skip
    for col in agg.columns:
        base[col] = base["code"].map(agg[col]).fillna(0).astype(int)
    pct = 100.0 * base["compounds_red"] / base["compounds"].where(base["compounds"] > 0)
    base["red_property_pct"] = pct.round(1)
    base["red_property_ok"] = pct.isna() | pct.ge(s.org_red_property_target_pct)
    names = rows[rows["abandoned"]].groupby("code")["name"].agg(lambda v: "、".join(map(str, v)))
    base["abandoned_compounds"] = _texts(base["code"], names)
    return base


def _period_days(incidents: pd.DataFrame) -> int:
    """Days the register covers, first to last date (at least :data:`MIN_PERIOD_DAYS`)."""
    if len(incidents) == 0:
        return 0
    span = (incidents["date"].max() - incidents["date"].min()).days + 1
    return int(max(span, MIN_PERIOD_DAYS))


def _incident_columns(base: pd.DataFrame, incidents: pd.DataFrame, days: int) -> pd.DataFrame:
    """``incidents``, ``incidents_per_year``, ``incidents_per_100_households`` (per
    year), ``top_categories`` ("类别 n；..."), over the register's period."""
    rows = _explode(incidents)
    n = rows.groupby("code").size()
    base["incidents"] = base["code"].map(n).fillna(0).astype(int)
    years = days / 365.25 if days else np.nan
    base["incidents_per_year"] = (base["incidents"] / years).round(1)
    hh = base["households"].where(base["households"] > 0)
    base["incidents_per_100_households"] = (100.0 * base["incidents_per_year"] / hh).round(2)
    counted = (
        rows.groupby(["code", "category"]).size().reset_index(name="n")
        .sort_values(["code", "n", "category"], ascending=[True, False, True])
        .groupby("code").head(TOP_CATEGORIES)
    )  # fmt: skip
    words = counted["category"].astype(str) + " " + counted["n"].astype(str)
    top = words.groupby(counted["code"].to_numpy()).agg("；".join)
    base["top_categories"] = _texts(base["code"], top)
    return base


def grid_table(
    regs: Registers,
    grids: gpd.GeoDataFrame,
    buildings: pd.DataFrame,
    compounds: pd.DataFrame,
    *,
    settings: Settings,
) -> tuple[pd.DataFrame, int, pd.DataFrame]:
    """One row per grid: ``code``, ``community_id``, ``community``, ``households``,
    ``population``, then per register given — party: ``branch``, ``branch_shared_with``,
    ``has_branch``, ``party_groups``, ``central_households``, ``party_members``,
    ``groups_missing``; staff: ``leaders``, ``full_time``, ``part_time``, ``team``,
    ``team_complete``, ``households_per_full_time``, ``workload_ok``; property:
    ``compounds``, ``compounds_red``, ``compounds_abandoned``, ``red_property_pct``,
    ``red_property_ok``, ``abandoned_compounds``; incidents: ``incidents``,
    ``incidents_per_year``, ``incidents_per_100_households`` (per year),
    ``top_categories``. Also the incident period (days) and the compounds' status
    (empty without the property register).
    """
    cols = [c for c in ("code", "community_id", "community", "households", "population")
            if c in grids.columns]  # fmt: skip
    base = pd.DataFrame(grids[cols]).reset_index(drop=True)
    base["code"] = base["code"].astype(str)
    party, staff = regs.table("party"), regs.table("staff")
    prop, inc = regs.table("property"), regs.table("incidents")
    if party is not None:
        base = _party_columns(base, party, regs, buildings, settings)
    if staff is not None:
        base = _staff_columns(base, staff, settings)
    status = pd.DataFrame()
    if prop is not None:
        status = _compound_status(regs, prop, compounds)
        base = _property_columns(base, status, settings)
    days = 0
    if inc is not None:
        days = _period_days(inc)
        base = _incident_columns(base, inc, days)
    return base, days, status


# ---------------------------------------------------------------------------------------
# Rules


def _rule_branch(t: pd.DataFrame, where: dict[str, tuple[float, float]]) -> Check:
    bad = t.loc[~t["has_branch"], "code"]
    return Check(
        "org_branch",
        msg("org_title_branch"),
        msg("org_fig_branch", n=int(t["has_branch"].sum()), grids=len(t)),
        [_violation("org_branch", msg("org_v_branch", grid=c), [c], where) for c in bad],
    )


def _rule_groups(t: pd.DataFrame, s: Settings, where: dict[str, tuple[float, float]]) -> Check:
    bad = t[t["groups_missing"] != ""]
    return Check(
        "org_party_groups",
        msg("org_title_groups", n=s.org_party_group_min_members),
        msg("org_fig_groups", groups=int(t["party_groups"].sum()),
            missing=int(bad["groups_missing"].str.count("、").add(1).sum())),
        [
            _violation("org_party_groups",
                       msg("org_v_groups", grid=r.code, buildings=r.groups_missing,
                           n=s.org_party_group_min_members), [str(r.code)], where)
            for r in bad.itertuples()
        ],
    )  # fmt: skip


def _rule_team(t: pd.DataFrame, where: dict[str, tuple[float, float]]) -> Check:
    bad = t[~t["team_complete"]]
    return Check(
        "org_team",
        msg("org_title_team"),
        msg("org_fig_team", n=int(t["team_complete"].sum()), grids=len(t)),
        [
            _violation("org_team", msg("org_v_team", grid=r.code, leaders=r.leaders,
                                       full_time=r.full_time), [str(r.code)], where)
            for r in bad.itertuples()
        ],
    )  # fmt: skip


def _rule_workload(t: pd.DataFrame, s: Settings, where: dict[str, tuple[float, float]]) -> Check:
    over = t[t["full_time"].gt(0) & ~t["workload_ok"].astype(bool)]
    return Check(
        "org_workload",
        msg("org_title_workload", n=s.org_households_per_worker_max),
        msg("org_fig_workload", max=float(np.nan_to_num(t["households_per_full_time"].max()))),
        [
            _violation("org_workload", msg("org_v_workload", grid=r.code,
                                           per=r.households_per_full_time,
                                           n=s.org_households_per_worker_max), [str(r.code)], where)
            for r in over.itertuples()
        ],
    )  # fmt: skip


def community_table(t: pd.DataFrame, status: pd.DataFrame) -> pd.DataFrame:
    """Per community: grids, and the sums and shares of :func:`grid_table`'s columns;
    compounds counted once each (a compound split between grids is one compound)."""
    key = "community_id" if "community_id" in t.columns else "code"
    g = t.groupby(key, sort=True)
    out = pd.DataFrame({"grids": g.size(), "households": g["households"].sum()})
    if "community" in t.columns:
        out.insert(0, "community", g["community"].first())
    for col in ("has_branch", "team_complete", "incidents", "incidents_per_year"):
        if col in t.columns:
            out[col] = g[col].sum()
    if len(status):
        held = status.explode("grids").rename(columns={"grids": "code"})
        held[key] = held["code"].map(t.set_index("code")[key])
        by = held.drop_duplicates([key, "compound_id"]).groupby(key)
        out["compounds"] = by.size().reindex(out.index).fillna(0).astype(int)
        for col, src in (("compounds_red", "red"), ("compounds_abandoned", "abandoned")):
            out[col] = by[src].sum().reindex(out.index).fillna(0).astype(int)
        out["red_property_pct"] = (100 * out["compounds_red"] / out["compounds"].where(
            out["compounds"] > 0)).round(1)  # fmt: skip
    if "incidents_per_year" in out.columns:
        hh = out["households"].where(out["households"] > 0)
        out["incidents_per_100_households"] = (100 * out["incidents_per_year"] / hh).round(2)
    return out.reset_index()


def _rule_red(c: pd.DataFrame, t: pd.DataFrame, status: pd.DataFrame, s: Settings,
              where: dict[str, tuple[float, float]]) -> Check:  # fmt: skip
    total, red = len(status), int(status["red"].sum())
    pct = 100.0 * red / total if total else 100.0
    bad = c[c["red_property_pct"].lt(s.org_red_property_target_pct)]
    key = "community_id" if "community_id" in t.columns else "code"
    first = t.groupby(key)["code"].first()
    return Check(
        "org_red_property",
        msg("org_title_red", pct=s.org_red_property_target_pct),
        msg("org_fig_red", red=red, compounds=total, pct=pct),
        [
            _violation("org_red_property",
                       msg("org_v_red", community=str(r.get("community", r[key]) or r[key]),
                           pct=float(r["red_property_pct"]), target=s.org_red_property_target_pct),
                       [str(first.get(r[key], ""))], where)
            for _, r in bad.iterrows()
        ],
    )  # fmt: skip


def _rule_abandoned(t: pd.DataFrame, status: pd.DataFrame,
                    where: dict[str, tuple[float, float]]) -> Check:  # fmt: skip
    bad = t[t["abandoned_compounds"] != ""]
    return Check(
        "org_abandoned",
        msg("org_title_abandoned"),
        msg("org_fig_abandoned", n=int(status["abandoned"].sum())),
        [
            _violation("org_abandoned", msg("org_v_abandoned", grid=r.code,
                                            compounds=r.abandoned_compounds), [str(r.code)], where)
            for r in bad.itertuples()
        ],
    )  # fmt: skip


def _rule_incidents(t: pd.DataFrame, days: int) -> Check:
    hh = float(t["households"].sum())
    per_year = float(t["incidents_per_year"].sum())
    rate = 100.0 * per_year / hh if hh else 0.0
    return Check(
        "org_incidents",
        msg("org_title_incidents"),
        msg("org_fig_incidents", n=int(t["incidents"].sum()), days=days, rate=rate),
    )


def check_organisation(
    regs: Registers,
    grids: gpd.GeoDataFrame,
    buildings: pd.DataFrame,
    compounds: pd.DataFrame,
    *,
    settings: Settings | None = None,
) -> OrgReport:
    """The organisation rules and tables of ``grids`` (street CRS, with ``code``).

    Parameters
    ----------
    regs
        The joined registers (:func:`planner.organisation.registers.join_registers`
        on the same buildings, compounds and grids).
    grids
        Grids with ``code``, ``households`` (and ``community_id``, ``community``).
    buildings, compounds
        The street's buildings (``building_id``) and compounds (``compound_id``, ``name``).
    settings
        The norms (``org_*``; default :class:`~planner.settings.Settings`).
    """
    s = settings or Settings()
    t, days, status = grid_table(regs, grids, buildings, compounds, settings=s)
    c = community_table(t, status)
    where = _points(grids)
    checks: list[Check] = []
    if "has_branch" in t.columns:
        checks += [_rule_branch(t, where), _rule_groups(t, s, where)]
    if "team_complete" in t.columns:
        checks += [_rule_team(t, where), _rule_workload(t, s, where)]
    if "compounds" in t.columns:
        checks += [_rule_red(c, t, status, s, where), _rule_abandoned(t, status, where)]
    if "incidents" in t.columns:
        checks.append(_rule_incidents(t, days))
    given = set(regs.tables)
    missing = [k for k in ("party", "staff", "property", "incidents") if k not in given]
    return OrgReport(
        by_grid=t, by_community=c, checks=checks, missing=missing, period_days=days,
        compounds=status,
    )  # fmt: skip
