"""Proof of the grid rules: one function, run after every step, on any grid layer.

:func:`check_grids` takes a grids GeoDataFrame (made by :func:`planner.grids.division.divide`,
changed in the editor, or drawn in a desktop GIS) and the street, and checks each
rule of the policy as a named check. Each violation names the grids (by ``code``,
else ``grid_id``, else row index), a location (longitude/latitude, WGS84) and says
what is wrong. Figures are recomputed from the geometry, never taken from the
grids' attribute columns.

Rules (name: what holds when it passes)

- ``coverage``: the grids' union equals the street boundary: the symmetric
  difference is under :data:`COVERAGE_TOLERANCE` (0.01 %) of the street's area.
- ``no_overlap``: the grids overlap by less than :data:`OVERLAP_TOLERANCE_M2` (1 m²)
  in total.
- ``one_polygon``: every grid is one valid, non-empty polygon.
- ``one_community``: every grid lies in exactly one community (a community holds
  part of a grid when it holds more than 1 m² and 0.1 % of it), and the grid's
  ``community_id`` column, when present, names that community.
- ``buildings_whole``: no building is cut: a building is cut when a second grid
  holds more than :data:`BUILDING_CUT_TOLERANCE_M2` (0.1 m²) of its footprint.
- ``compounds_whole``: no compound holding at most ``grid_max_households`` is cut
  (a second grid holds more than 1 m² and 0.5 % of its area). A compound cut only
  by a community boundary is listed as a warning: no grid may cross it.
- ``households_in_range``: households per grid (each building counted in the grid
  holding most of its footprint) lie in ``[grid_min_households,
  grid_max_households]``. A grid out of range is a failure listed with its reason
  unless it is a proved exception (:data:`PROVED_REASONS`, from the grid's
  ``reason`` column as :func:`planner.grids.division.divide` writes it, or found
  here: the community holds fewer than the minimum, or one building holds more than
  the maximum) or the user accepts it by its code or a compound it holds
  (``Settings.grid_accepted_exceptions``); those are "explained" and do not fail
  the proof. A reason that proves nothing (the heuristic found no division, the
  exact method ran out of time) is listed and fails.
- ``codes``: when a ``code`` column is present, codes are unique, all digits, of
  ``Settings.code_width``.
- ``load_in_range`` (only when ``Settings.grid_bound_on`` is "load" or "both"; with
  "load" it replaces ``households_in_range``): the workload per grid
  (:mod:`planner.grids.workload`) in ``[grid_min_load, grid_max_load]``, with the
  same exceptions.
- ``compactness``: every grid's Polsby-Popper compactness is at least
  ``Settings.grid_min_compactness``; a grid below it is *explained* when its atoms
  force the shape (the grid's ``shape_reason`` column, or found here: the grid is one
  compound or a dedicated grid), otherwise listed as a *warning* (the division did not
  find a more compact grouping; it does not fail the proof). The figure also gives
  the share of internal grid boundary on roads, walls, water and community lines
  (:mod:`planner.grids.shape`).

Dedicated grids (``kind`` = ``dedicated``, :mod:`planner.grids.dedicated`) hold no
residential land and are exempt from ``households_in_range``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import Transformer

from planner.errors import InputError
from planner.grids.dedicated import KIND_DEDICATED
from planner.grids.shape import feature_share, polsby_popper
from planner.i18n import Message, from_english, msg, render
from planner.settings import Settings
from planner.street import Street

logger = logging.getLogger(__name__)

COVERAGE_TOLERANCE = 1e-4
OVERLAP_TOLERANCE_M2 = 1.0
BUILDING_CUT_TOLERANCE_M2 = 0.1
COMPOUND_CUT_TOLERANCE_M2 = 1.0
COMPOUND_CUT_SHARE = 0.005
COMMUNITY_TOLERANCE_M2 = 1.0
COMMUNITY_SHARE = 0.001
MAX_LISTED = 20
#: Pieces of a grid smaller than this are rounding fragments, m².
_FRAGMENT_M2 = 1.0

Severity = Literal["error", "explained", "warning"]

#: Turns a geometry (street CRS) into the longitude/latitude of a point on it.
Locator = Callable[[shapely.Geometry | None], tuple[float | None, float | None]]

# --- bounds: which reasons prove that a grid cannot be in range ---
#: The ``grid_reason_*`` messages that prove a grid out of range is unavoidable: one
#: building (or a compound the settings keep whole) above the maximum, a community or a
#: piece of one (an enclave) below the minimum, a total no count of grids fits, and
#: the exact method's proof that no contiguous division exists (over the atoms, or over
#: units the settings or the atoms make: never over fixed groups the planner made).
PROVED_REASONS: frozenset[str] = frozenset(
    {
        "grid_reason_single_building",
        "grid_reason_whole_compound",
        "grid_reason_small_community",
        "grid_reason_small_piece",
        "grid_reason_no_count",
        "grid_reason_exact_infeasible",
        "grid_reason_exact_infeasible_least",
        # --- dist14g: proofs over single atoms where the first was over fixed groups of
        # a large compound's buildings (a proof over the groups alone, made by the
        # planner, proves nothing about the buildings: not listed) ---
        "grid_reason_exact_infeasible_atoms",
        "grid_reason_exact_infeasible_least_atoms",
        # --- dist14c: proofs with large compounds the settings keep whole ---
        "grid_reason_exact_infeasible_whole",
        "grid_reason_exact_infeasible_least_whole",
    }
)

#: The rules in order; the title of rule ``name`` is ``rule_title_<name>`` in planner.i18n.
RULES: tuple[str, ...] = (
    "coverage",
    "no_overlap",
    "one_polygon",
    "one_community",
    "buildings_whole",
    "compounds_whole",
    "households_in_range",
    "codes",
    # --- bounds: the workload bound (only when Settings.grid_bound_on asks for it) ---
    "load_in_range",
    # --- dedicated: grid shape ---
    "compactness",
)
#: English title of each rule (the Chinese is in :data:`planner.i18n.STRINGS`).
RULE_TITLES: dict[str, str] = {name: str(msg(f"rule_title_{name}")) for name in RULES}


@dataclass(frozen=True)
class Violation:
    """One breach of a rule, with the grids involved and where it is."""

    rule: str
    message: str
    grids: tuple[str, ...] = ()
    lon: float | None = None
    lat: float | None = None
    severity: Severity = "error"
    #: The message as a catalogue key and parameters (``message`` is its English).
    text: Message | None = field(default=None, compare=False, repr=False)

    def render(self, lang: str = "en") -> str:
        """The message in ``lang`` (``"zh"`` or ``"en"``)."""
        return self.message if self.text is None else self.text.render(lang)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "message": self.message,
            "grids": list(self.grids),
            "lon": self.lon,
            "lat": self.lat,
            "severity": self.severity,
        }


def _violation(
    rule: str,
    text: Message,
    grids: tuple[str, ...] = (),
    lon: float | None = None,
    lat: float | None = None,
    severity: Severity = "error",
) -> Violation:
    """A violation whose English message is ``text`` rendered in English."""
    return Violation(rule, str(text), grids, lon, lat, severity, text)


@dataclass
class Check:
    """The result of one named rule: passed, a figure, and its violations."""

    name: str
    title: Message | str
    figure: Message | str
    violations: list[Violation] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not any(v.severity == "error" for v in self.violations)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": str(self.title),
            "passed": self.passed,
            "figure": str(self.figure),
            "violations": [v.to_dict() for v in self.violations],
        }


@dataclass
class RuleReport:
    """All checks and the quality figures of a grid layer."""

    checks: list[Check]
    quality: dict[str, float]

    @property
    def ok(self) -> bool:
        """True when no rule has an unexplained violation."""
        return all(c.passed for c in self.checks)

    def check(self, name: str) -> Check:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def violations(self) -> list[Violation]:
        return [v for c in self.checks for v in c.violations]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checks": [c.to_dict() for c in self.checks],
            "quality": dict(self.quality),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def to_text(self, lang: str = "en") -> str:
        """The report as text, in English (the CLI's) or Chinese (``lang="zh"``)."""

        def line(key: str, **params: Any) -> str:
            return msg(key, **params).render(lang)

        q = self.quality
        lines = [
            line(
                "rule_report_head",
                grids=int(q.get("grids", 0)),
                households=int(q.get("households_total", 0)),
            )
        ]
        for c in self.checks:
            explained = any(v.severity != "error" for v in c.violations)
            mark = "rule_pass" if c.passed else "rule_fail"
            if c.passed and explained:
                mark = "rule_pass_explained"
            lines.append(
                line(
                    "rule_line",
                    mark=msg(mark),
                    title=render(c.title, lang),
                    figure=render(c.figure, lang),
                )
            )
            for v in c.violations[:MAX_LISTED]:
                where = (
                    line("rule_near", lon=v.lon, lat=v.lat)
                    if v.lon is not None and v.lat is not None
                    else ""
                )
                tag = (
                    ""
                    if v.severity == "error"
                    else line("rule_tag", severity=msg(f"rule_severity_{v.severity}"))
                )
                lines.append(line("rule_violation_line", text=v.render(lang), where=where, tag=tag))
            if len(c.violations) > MAX_LISTED:
                lines.append(line("rule_more", n=len(c.violations) - MAX_LISTED))
        if q.get("grids", 0):
            lines.append(
                line(
                    "rule_quality",
                    hh_min=q["households_min"],
                    hh_median=q["households_median"],
                    hh_max=q["households_max"],
                    cv=q["households_cv"],
                    pp_min=q["compactness_min"],
                    pp_median=q["compactness_median"],
                    grids=int(q["grids"]),
                )
            )
        lines.append(line("rule_explained_note"))
        lines.append(
            line("rule_result_ok")
            if self.ok
            else line("rule_result_fail", n=sum(not c.passed for c in self.checks))
        )
        return "\n".join(lines)


def grid_labels(grids: gpd.GeoDataFrame) -> NDArray[np.object_]:
    """How violations name grids: ``code``, else ``grid_id``, else the row index."""
    for col in ("code", "grid_id"):
        if col in grids.columns:
            vals = grids[col].astype(str).to_numpy()
            if (vals != "").all():
                return np.asarray(vals, dtype=object)
    return np.asarray(grids.index.astype(str), dtype=object)


def check_grids(
    grids: gpd.GeoDataFrame,
    street: Street,
    *,
    settings: Settings | None = None,
    communities: gpd.GeoDataFrame | None = None,
    load: pd.Series | None = None,
) -> RuleReport:
    """Check every grid rule on ``grids`` against ``street``.

    Parameters
    ----------
    grids
        Polygons of the grids, in any CRS (reprojected to ``street.crs``). Optional
        columns: ``code``, ``grid_id``, ``community_id``, ``reason``.
    street
        The street the grids divide (boundary, communities, compounds, buildings).
    settings
        Household bounds and code width.
    communities
        Community polygons with ``community_id`` to check against (default: the
        street's community layer; with neither, only the ``community_id`` column
        is checked).
    load
        Workload per building (index of ``street.buildings``), for the
        ``load_in_range`` rule when ``settings.grid_bound_on`` is "load" or "both"
        (default: :func:`planner.grids.workload.building_load` without incidents).

    Returns
    -------
    RuleReport
    """
    settings = settings or Settings()
    if grids.crs is None:
        raise InputError(
            "the grids layer has no coordinate reference system",
            fix="save it with its CRS (GeoJSON is WGS84) and check again",
        )
    g = grids.to_crs(street.crs).reset_index(drop=True)
    labels = grid_labels(grids)
    geoms = np.asarray(g.geometry.values, dtype=object)
    to_wgs = Transformer.from_crs(street.crs, "EPSG:4326", always_xy=True)

    def at(geom: shapely.Geometry | None) -> tuple[float | None, float | None]:
        if geom is None or shapely.is_empty(geom):
            return None, None
        p = shapely.point_on_surface(geom)
        lon, lat = to_wgs.transform(p.x, p.y)
        return round(float(lon), 6), round(float(lat), 6)

    comm = communities
    if comm is None and len(street.communities):
        comm = street.communities
    checks = [
        _coverage(geoms, street, at),
        _overlap(geoms, labels, at),
        _one_polygon(geoms, labels, at),
        _one_community(g, geoms, labels, comm, at),
    ]
    owner = _owner(street.buildings.geometry.values, geoms)
    checks.append(_buildings(street, geoms, labels, at))
    checks.append(_compounds(street, geoms, labels, settings, g, owner, at))
    hh = np.bincount(
        owner[owner >= 0],
        weights=street.buildings["households"].to_numpy(dtype=float)[owner >= 0],
        minlength=len(g),
    ).astype(np.float64)
    if settings.grid_bound_on != "load":
        checks.append(_households(g, hh, labels, street, settings, owner, comm, at))
    if "code" in g.columns:
        checks.append(_codes(g, labels, settings, geoms, at))
    if settings.grid_bound_on != "households":
        checks.append(_load(g, labels, street, settings, owner, at, load))
    shape_check, shape_quality = _shape(g, labels, street, settings, at)
    checks.append(shape_check)
    return RuleReport(checks=checks, quality={**_quality(g, geoms, hh), **shape_quality})


def quality(geoms: NDArray[np.object_], households: NDArray[np.float64]) -> dict[str, float]:
    """Quality figures: households per grid (min, median, max, mean, CV), compactness
    (Polsby-Popper 4πA/P², 1 = circle), grid count."""
    n = len(geoms)
    if n == 0:
        return {"grids": 0}
    area = shapely.area(geoms)
    perim = shapely.length(geoms)
    pp = 4 * np.pi * area / np.maximum(perim, 1e-9) ** 2
    mean = float(np.mean(households))
    return {
        "grids": float(n),
        "households_total": float(households.sum()),
        "households_min": float(households.min()),
        "households_median": float(np.median(households)),
        "households_max": float(households.max()),
        "households_mean": mean,
        "households_cv": float(np.std(households) / mean) if mean > 0 else 0.0,
        "compactness_min": float(pp.min()),
        "compactness_median": float(np.median(pp)),
        "compactness_mean": float(pp.mean()),
        "area_median_m2": float(np.median(area)),
    }


# --------------------------------------------------------------------------- checks


def _pairs(parts: NDArray[np.object_], containers: NDArray[np.object_]) -> pd.DataFrame:
    """Intersection area of every intersecting (part, container) pair."""
    parts = np.asarray(parts, dtype=object)
    if len(parts) == 0 or len(containers) == 0:
        return pd.DataFrame({"i": [], "j": [], "area": []})
    tree = shapely.STRtree(containers)
    i, j = tree.query(parts, predicate="intersects")
    area = np.zeros(len(i))
    count = np.bincount(i, minlength=len(parts))
    single = count[i] == 1
    area[single] = shapely.area(parts[i[single]])
    m = ~single
    if m.any():
        area[m] = shapely.area(shapely.intersection(parts[i[m]], containers[j[m]]))
    return pd.DataFrame({"i": i, "j": j, "area": area})


def _owner(parts: NDArray[np.object_], containers: NDArray[np.object_]) -> NDArray[np.int64]:
    out = np.full(len(parts), -1, dtype=np.int64)
    df = _pairs(parts, _fixed(containers))
    df = df[df["area"] > 0].sort_values(["i", "area"], ascending=[True, False], kind="stable")
    best = df.drop_duplicates("i")
    out[best["i"].to_numpy(dtype=np.int64)] = best["j"].to_numpy(dtype=np.int64)
    return out


def _fixed(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Valid copies of the geometries (invalid grids are reported by one_polygon)."""
    geoms = np.asarray(geoms, dtype=object).copy()
    bad = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if bad.any():
        geoms[bad] = shapely.make_valid(geoms[bad])
    return geoms


def _coverage(geoms: NDArray[np.object_], street: Street, at: Locator) -> Check:
    boundary = street.boundary_geom
    union = shapely.union_all(_fixed(geoms))
    gap = shapely.difference(boundary, union)
    excess = shapely.difference(union, boundary)
    total = float(gap.area + excess.area)
    share = total / boundary.area if boundary.area else 0.0
    c = Check(
        "coverage",
        msg("rule_title_coverage"),
        msg(
            "rule_fig_coverage",
            share=share * 100,
            area_km2=boundary.area / 1e6,
            limit=COVERAGE_TOLERANCE * 100,
        ),
    )
    if share >= COVERAGE_TOLERANCE:
        for kind, geo in (("rule_v_uncovered", gap), ("rule_v_outside", excess)):
            pieces = shapely.get_parts(geo)
            pieces = pieces[np.argsort(-shapely.area(pieces))] if len(pieces) else pieces
            for p in pieces[:MAX_LISTED]:
                if p.area < 1.0:
                    break
                lon, lat = at(p)
                c.violations.append(_violation("coverage", msg(kind, area=p.area), (), lon, lat))
        if not c.violations:
            c.violations.append(_violation("coverage", msg("rule_v_coverage_slivers", area=total)))
    return c


def _overlap(geoms: NDArray[np.object_], labels: NDArray[np.object_], at: Locator) -> Check:
    fixed = _fixed(geoms)
    tree = shapely.STRtree(fixed)
    i, j = tree.query(fixed, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    inter = shapely.intersection(fixed[i], fixed[j])
    area = shapely.area(inter)
    total = float(area.sum())
    c = Check(
        "no_overlap",
        msg("rule_title_no_overlap"),
        msg("rule_fig_overlap", total=total, limit=OVERLAP_TOLERANCE_M2),
    )
    if total >= OVERLAP_TOLERANCE_M2:
        # pairs overlapping by 1 m² or more are listed; slivers under 1 m² (coordinate
        # rounding) are not violations of their own, only their sum counts
        order = np.argsort(-area, kind="stable")
        big = order[area[order] >= OVERLAP_TOLERANCE_M2]
        if len(big) == 0:
            small = order[area[order] > 0]
            grids = tuple(dict.fromkeys(str(labels[x]) for k in small[:3] for x in (i[k], j[k])))
            lon, lat = at(inter[small[0]])
            c.violations.append(
                _violation(
                    "no_overlap",
                    msg(
                        "rule_v_overlap_slivers",
                        total=total,
                        n=len(small),
                        limit=OVERLAP_TOLERANCE_M2,
                    ),
                    grids,
                    lon,
                    lat,
                )
            )
        for k in big[:MAX_LISTED]:
            lon, lat = at(inter[k])
            a, b = labels[i[k]], labels[j[k]]
            c.violations.append(
                _violation(
                    "no_overlap",
                    msg("rule_v_overlap", a=a, b=b, area=area[k]),
                    (a, b),
                    lon,
                    lat,
                )
            )
    return c


def _one_polygon(geoms: NDArray[np.object_], labels: NDArray[np.object_], at: Locator) -> Check:
    """One valid polygon per grid. A self-touch or a fragment under 1 m² left by
    coordinate rounding (e.g. a round trip through WGS84) is a warning, not a failure."""
    c = Check("one_polygon", msg("rule_title_one_polygon"), "")
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    valid = shapely.is_valid(geoms)
    fixed = _fixed(geoms)
    bad = 0
    for k in np.flatnonzero(missing):
        c.violations.append(
            _violation("one_polygon", msg("rule_v_no_geometry", grid=labels[k]), (labels[k],))
        )
        bad += 1
    for k in np.flatnonzero(~missing):
        parts = shapely.get_parts(fixed[k])
        parts = parts[np.isin(shapely.get_type_id(parts), [3, 6])]
        area = shapely.area(parts)
        real = parts[area >= _FRAGMENT_M2]
        if len(real) > 1:
            small = real[np.argmin(shapely.area(real))]
            c.violations.append(
                _violation(
                    "one_polygon",
                    msg("rule_v_pieces", grid=labels[k], n=len(real), area=small.area),
                    (labels[k],),
                    *at(small),
                )
            )
            bad += 1
        elif len(real) == 0:
            c.violations.append(
                _violation(
                    "one_polygon",
                    msg("rule_v_no_area", grid=labels[k]),
                    (labels[k],),
                    *at(fixed[k]),
                )
            )
            bad += 1
        elif not valid[k] or len(parts) > 1:
            reason = shapely.is_valid_reason(geoms[k])
            c.violations.append(
                _violation(
                    "one_polygon",
                    msg("rule_v_repaired", grid=labels[k], reason=reason, limit=_FRAGMENT_M2),
                    (labels[k],),
                    *at(fixed[k]),
                    "warning",
                )
            )
    c.figure = msg("rule_fig_one_polygon", ok=len(geoms) - bad, n=len(geoms))
    return c


def _one_community(
    g: gpd.GeoDataFrame,
    geoms: NDArray[np.object_],
    labels: NDArray[np.object_],
    comm: gpd.GeoDataFrame | None,
    at: Locator,
) -> Check:
    c = Check("one_community", msg("rule_title_one_community"), "")
    has_col = "community_id" in g.columns
    if comm is None or len(comm) == 0:
        if not has_col:
            c.figure = msg("rule_fig_no_communities")
            return c
        blank = g["community_id"].astype(str).str.strip().isin(["", "nan", "None"]).to_numpy()
        for k in np.flatnonzero(blank):
            c.violations.append(
                _violation(
                    "one_community",
                    msg("rule_v_names_no_community", grid=labels[k]),
                    (labels[k],),
                    *at(geoms[k]),
                )
            )
        c.figure = msg("rule_fig_community_named", ok=len(g) - int(blank.sum()), n=len(g))
        return c
    cgeo = _fixed(np.asarray(comm.to_crs(g.crs).geometry.values, dtype=object))
    cid = comm["community_id"].astype(str).to_numpy()
    df = _pairs(_fixed(geoms), cgeo)
    garea = shapely.area(_fixed(geoms))
    df = df[
        (df["area"] > COMMUNITY_TOLERANCE_M2)
        & (df["area"] > COMMUNITY_SHARE * garea[df["i"].to_numpy(dtype=int)])
    ]
    main = df.sort_values(["i", "area"], ascending=[True, False]).drop_duplicates("i")
    count = df.groupby("i").size()
    bad = 0
    for k, n in count[count > 1].items():
        sub = df[df["i"] == k].sort_values("area", ascending=False)
        names = [
            msg("rule_v_community_area", community=cid[j], area=a)
            for j, a in zip(sub["j"], sub["area"], strict=True)
        ]
        second = shapely.intersection(geoms[k], cgeo[int(sub["j"].iloc[1])])
        c.violations.append(
            _violation(
                "one_community",
                msg("rule_v_communities", grid=labels[k], n=n, communities=names),
                (labels[k],),
                *at(second),
            )
        )
        bad += 1
    if has_col:
        named = g["community_id"].astype(str).to_numpy()
        for k, j in zip(main["i"].to_numpy(dtype=int), main["j"].to_numpy(dtype=int), strict=True):
            if named[k] and named[k] != cid[j] and count.get(k, 0) == 1:
                c.violations.append(
                    _violation(
                        "one_community",
                        msg(
                            "rule_v_wrong_community", grid=labels[k], named=named[k], actual=cid[j]
                        ),
                        (labels[k],),
                        *at(geoms[k]),
                    )
                )
                bad += 1
    c.figure = msg("rule_fig_one_community", ok=len(g) - bad, n=len(g))
    return c


def _buildings(
    street: Street, geoms: NDArray[np.object_], labels: NDArray[np.object_], at: Locator
) -> Check:
    b = street.buildings
    df = _pairs(np.asarray(b.geometry.values, dtype=object), _fixed(geoms))
    df = df[df["area"] > BUILDING_CUT_TOLERANCE_M2]
    cnt = df.groupby("i").size()
    cut = cnt[cnt > 1].index.to_numpy(dtype=int)
    c = Check(
        "buildings_whole",
        msg("rule_title_buildings_whole"),
        msg("rule_fig_buildings", cut=len(cut), n=len(b)),
    )
    ids = b["building_id"].astype(str).to_numpy()
    for k in cut:
        sub = df[df["i"] == k].sort_values("area", ascending=False)
        gl = tuple(labels[j] for j in sub["j"])
        c.violations.append(
            _violation(
                "buildings_whole",
                msg("rule_v_building_cut", building=ids[k], grids=gl, area=sub["area"].iloc[1]),
                gl,
                *at(b.geometry.values[k]),
            )
        )
    return c


def _compounds(
    street: Street,
    geoms: NDArray[np.object_],
    labels: NDArray[np.object_],
    settings: Settings,
    g: gpd.GeoDataFrame,
    owner: NDArray[np.int64],
    at: Locator,
) -> Check:
    cp = street.compounds
    c = Check("compounds_whole", msg("rule_title_compounds_whole"), msg("rule_fig_no_compounds"))
    if len(cp) == 0:
        return c
    cgeo = _fixed(np.asarray(cp.geometry.values, dtype=object))
    # households of each compound: buildings by the compound holding most of them
    bo = _owner(street.buildings.geometry.values, cgeo)
    hh = np.bincount(
        bo[bo >= 0],
        weights=street.buildings["households"].to_numpy(dtype=float)[bo >= 0],
        minlength=len(cp),
    )
    df = _pairs(cgeo, _fixed(geoms))
    carea = shapely.area(cgeo)
    tol = np.maximum(COMPOUND_CUT_TOLERANCE_M2, COMPOUND_CUT_SHARE * carea)
    df = df[df["area"] > tol[df["i"].to_numpy(dtype=int)]]
    cnt = df.groupby("i").size()
    ids = cp["compound_id"].astype(str).to_numpy()
    gcomm = g["community_id"].astype(str).to_numpy() if "community_id" in g.columns else None
    cut = 0
    big = 0
    for k, n in cnt[cnt > 1].items():
        if hh[k] > settings.grid_max_households:
            big += 1
            continue
        sub = df[df["i"] == k].sort_values("area", ascending=False)
        js = sub["j"].to_numpy(dtype=int)
        gl = tuple(labels[j] for j in js)
        severity: Severity = "error"
        text = msg("rule_v_compound_cut", compound=ids[k], households=int(hh[k]), grids=gl)
        if gcomm is not None and len(set(gcomm[js])) == n:
            severity = "warning"
            text = msg(
                "rule_v_compound_cut_boundary",
                compound=ids[k],
                households=int(hh[k]),
                grids=gl,
                communities=sorted(set(gcomm[js])),
            )
        else:
            cut += 1
        second = shapely.intersection(cgeo[k], geoms[js[1]])
        c.violations.append(
            _violation(
                "compounds_whole",
                text,
                gl,
                *at(second),
                severity,
            )
        )
    c.figure = msg(
        "rule_fig_compounds", cut=cut, n=len(cp), big=big, hi=settings.grid_max_households
    )
    return c


def _households(
    g: gpd.GeoDataFrame,
    hh: NDArray[np.float64],
    labels: NDArray[np.object_],
    street: Street,
    settings: Settings,
    owner: NDArray[np.int64],
    comm: gpd.GeoDataFrame | None,
    at: Locator,
) -> Check:
    lo, hi = settings.grid_min_households, settings.grid_max_households
    out = np.flatnonzero((hh < lo) | (hh > hi))
    c = Check(
        "households_in_range",
        msg("rule_title_with_range", title=msg("rule_title_households_in_range"), lo=lo, hi=hi),
        msg("rule_fig_households", ok=len(g) - len(out), n=len(g)),
    )
    out = _exempt_dedicated(g, out, c)  # --- dedicated ---
    reason = (
        g["reason"].astype(object).where(g["reason"].notna(), "").astype(str).to_numpy()
        if "reason" in g.columns
        else None
    )
    b_hh = street.buildings["households"].to_numpy(dtype=float)
    b_id = street.buildings["building_id"].astype(str).to_numpy()
    comm_total: dict[str, float] = {}
    if "community_id" in g.columns:
        sums = pd.Series(hh).groupby(g["community_id"].astype(str).to_numpy()).sum()
        comm_total = {str(k): float(v) for k, v in sums.items()}
    accepted = _accepted(g, labels, street, settings, owner)
    for k in out:
        given = reason[k] if reason is not None else ""
        # a reason written by planner.grids.division reads back as its message (shown in Chinese)
        why: Message | str = (from_english(given, "grid_reason_") or given) if given else ""
        proved = isinstance(why, Message) and why.key in PROVED_REASONS
        if int(k) in accepted:
            why = msg("rule_why_accepted", item=accepted[int(k)], reason=why or "-")
            proved = True
        elif not proved:
            in_grid = np.flatnonzero(owner == k)
            top = in_grid[np.argmax(b_hh[in_grid])] if len(in_grid) else None
            cid = str(g["community_id"].iloc[k]) if "community_id" in g.columns else ""
            if hh[k] > hi and top is not None and b_hh[top] > hi:
                why = msg("rule_why_building", building=b_id[top], households=int(b_hh[top]))
                proved = True
            elif hh[k] < lo and cid and comm_total.get(cid, hh[k]) < lo:
                why = msg("rule_why_community", community=cid, households=int(comm_total[cid]))
                proved = True
        side = "rule_v_below" if hh[k] < lo else "rule_v_above"
        text = msg(side, grid=labels[k], households=int(hh[k]))
        if why and not proved:
            why = msg("rule_why_unproved", reason=why)
        c.violations.append(
            _violation(
                "households_in_range",
                msg("rule_v_with_reason", text=text, why=why) if why else text,
                (labels[k],),
                *at(g.geometry.values[k]),
                "explained" if proved else "error",
            )
        )
    homes = np.flatnonzero(_is_dedicated(g) & (hh > 0))  # --- dedicated: a 专属网格 with homes
    for k in homes:
        text = msg("rule_v_dedicated_homes", grid=labels[k], households=int(hh[k]))
        c.violations.append(
            _violation(
                "households_in_range", text, (labels[k],), *at(g.geometry.values[k]), "error"
            )
        )
    return c


# --- bounds: the workload bound ---
def _load(
    g: gpd.GeoDataFrame,
    labels: NDArray[np.object_],
    street: Street,
    settings: Settings,
    owner: NDArray[np.int64],
    at: Locator,
    load: pd.Series | None,
) -> Check:
    """Load per grid (each building in the grid holding most of it) in
    ``[grid_min_load, grid_max_load]``; out of range is explained only by a proved
    reason in the ``reason`` column, a building above the maximum alone, or the
    settings' accepted exceptions."""
    from planner.grids.workload import building_load

    lo, hi = settings.grid_min_load, settings.grid_max_load
    if load is None:
        load = building_load(street, settings)["load"]
    b_load = load.reindex(street.buildings.index).fillna(0.0).to_numpy(dtype=float)
    inside = owner >= 0
    per = np.bincount(owner[inside], weights=b_load[inside], minlength=len(g))
    out = np.flatnonzero((per < lo - 1e-9) | (per > hi + 1e-9))
    c = Check(
        "load_in_range",
        msg("rule_title_with_load_range", title=msg("rule_title_load_in_range"), lo=lo, hi=hi),
        msg("rule_fig_households", ok=len(g) - len(out), n=len(g)),
    )
    reason = (
        g["reason"].astype(object).where(g["reason"].notna(), "").astype(str).to_numpy()
        if "reason" in g.columns
        else np.full(len(g), "", dtype=object)
    )
    accepted = _accepted(g, labels, street, settings, owner)
    b_id = street.buildings["building_id"].astype(str).to_numpy()
    for k in out:
        given = str(reason[k])
        why: Message | str = (from_english(given, "grid_reason_") or given) if given else ""
        proved = isinstance(why, Message) and why.key in PROVED_REASONS
        in_grid = np.flatnonzero(owner == k)
        top = in_grid[np.argmax(b_load[in_grid])] if len(in_grid) else None
        if int(k) in accepted:
            why = msg("rule_why_accepted", item=accepted[int(k)], reason=why or "-")
            proved = True
        elif not proved and per[k] > hi and top is not None and b_load[top] > hi:
            why = msg("rule_why_building_load", building=b_id[top], load=round(b_load[top], 1))
            proved = True
        elif why and not proved:
            why = msg("rule_why_unproved", reason=why)
        side = "rule_v_load_below" if per[k] < lo else "rule_v_load_above"
        text = msg(side, grid=labels[k], load=round(float(per[k]), 1))
        c.violations.append(
            _violation(
                "load_in_range",
                msg("rule_v_with_reason", text=text, why=why) if why else text,
                (labels[k],),
                *at(g.geometry.values[k]),
                "explained" if proved else "error",
            )
        )
    return c


# --- bounds: exceptions the user accepts in the settings ---
def _accepted(
    g: gpd.GeoDataFrame,
    labels: NDArray[np.object_],
    street: Street,
    settings: Settings,
    owner: NDArray[np.int64],
) -> dict[int, str]:
    """Grids (row -> the accepted code or compound id) that
    ``settings.grid_accepted_exceptions`` names, by their label (code) or a compound
    whose buildings the grid holds."""
    names = set(settings.grid_accepted_exceptions)
    if not names:
        return {}
    out = {k: str(labels[k]) for k in range(len(g)) if str(labels[k]) in names}
    b = street.buildings
    if "compound_id" in b.columns:
        comp = b["compound_id"].astype(object).where(b["compound_id"].notna(), "").astype(str)
        hit = np.flatnonzero(comp.isin(names).to_numpy() & (owner >= 0))
        for i in hit:
            out.setdefault(int(owner[i]), str(comp.iloc[i]))
    return out


def _codes(
    g: gpd.GeoDataFrame,
    labels: NDArray[np.object_],
    settings: Settings,
    geoms: NDArray[np.object_],
    at: Locator,
) -> Check:
    codes = g["code"].astype(object).where(g["code"].notna(), "").astype(str)
    bad = ~(codes.str.fullmatch(r"\d+") & (codes.str.len() == settings.code_width))
    dup = codes.duplicated(keep=False) & ~bad
    # --- workbench: the county/street parts are the street's, short labels unique ---
    wrong = _code_parts_wrong(codes, settings) & ~bad
    short = codes.str.slice(settings.code_width - 3 - (2 if settings.code_width == 20 else 3))
    dup_short = short.duplicated(keep=False) & ~bad & ~dup
    ok = ~bad & ~dup & ~wrong & ~dup_short
    c = Check(
        "codes",
        msg("rule_title_codes"),
        msg("rule_fig_codes", ok=int(ok.sum()), n=len(g), width=settings.code_width),
    )
    for k in np.flatnonzero(wrong.to_numpy()):
        c.violations.append(
            _violation(
                "codes",
                msg(
                    "rule_v_code_parts",
                    grid=labels[k],
                    code=codes.iloc[k],
                    county=settings.code_county,
                    street=settings.code_street,
                ),
                (labels[k],),
                *at(geoms[k]),
            )
        )
    for label in sorted(set(short[dup_short])):
        same = sorted(codes[dup_short & (short == label)])
        c.violations.append(
            _violation(
                "codes",
                msg("rule_v_short_duplicate", label=label, codes=", ".join(same)),
                tuple(same),
            )
        )
    for k in np.flatnonzero(bad.to_numpy()):
        c.violations.append(
            _violation(
                "codes",
                msg(
                    "rule_v_code_format",
                    grid=labels[k],
                    code=codes.iloc[k],
                    width=settings.code_width,
                ),
                (labels[k],),
                *at(geoms[k]),
            )
        )
    for code in sorted(set(codes[dup])):
        c.violations.append(_violation("codes", msg("rule_v_code_duplicate", code=code), (code,)))
    return c


def _code_parts_wrong(codes: pd.Series, settings: Settings) -> pd.Series:
    """True for each code whose service-object, county or street part is not the one the
    settings give (the street's own, :func:`planner.grids.codes.effective_code_settings`);
    a part the settings leave unknown (``000000`` / ``000``) is not compared."""
    off = 6 if settings.code_width == 20 else 0
    wrong = pd.Series(False, index=codes.index)
    parts = [(off, settings.code_county, "000000"), (off + 6, settings.code_street, "000")]
    if off:
        parts.append((0, settings.code_service_object, ""))
    for start, want, unknown in parts:
        if want and want != unknown:
            wrong |= codes.str.slice(start, start + len(want)) != want
    return wrong


# --- dedicated: dedicated grids and grid shape ---


def _is_dedicated(g: gpd.GeoDataFrame) -> NDArray[np.bool_]:
    """Grids whose ``kind`` column says ``dedicated`` (none without the column)."""
    if "kind" not in g.columns:
        return np.zeros(len(g), dtype=bool)
    kind = g["kind"].astype(object).where(g["kind"].notna(), "").astype(str).str.strip()
    return np.asarray(kind == KIND_DEDICATED, dtype=bool)


def _exempt_dedicated(g: gpd.GeoDataFrame, out: NDArray[np.int64], c: Check) -> NDArray[np.int64]:
    """The out-of-range grids less the dedicated ones; the figure counts them apart."""
    ded = _is_dedicated(g)
    if not ded.any():
        return out
    kept = out[~ded[out]]
    n_res = int((~ded).sum())
    c.figure = msg(
        "rule_fig_households_dedicated",
        ok=n_res - len(kept),
        n=n_res,
        dedicated=int(ded.sum()),
    )
    return kept


def _shape(
    g: gpd.GeoDataFrame,
    labels: NDArray[np.object_],
    street: Street,
    settings: Settings,
    at: Locator,
) -> tuple[Check, dict[str, float]]:
    """The ``compactness`` check and the shape figures of the street: lowest and
    median Polsby-Popper, the share of internal boundary on features, the numbers of
    dedicated grids and of grids below the minimum."""
    pp = polsby_popper(g.geometry)
    share = feature_share(g, street)
    minimum = settings.grid_min_compactness
    low = np.flatnonzero(pp < minimum)
    given = (
        g["shape_reason"].astype(object).where(g["shape_reason"].notna(), "").astype(str).to_numpy()
        if "shape_reason" in g.columns
        else np.full(len(g), "", dtype=object)
    )
    forced = given != ""
    forced |= _is_dedicated(g) | _one_compound(g, street)
    c = Check(
        "compactness",
        msg("rule_title_compactness"),
        msg(
            "rule_fig_compactness",
            ok=len(g) - len(low),
            n=len(g),
            minimum=f"{minimum:g}",
            forced=int(forced[low].sum()),
            share=f"{share.share:.1%}",
        ),
    )
    for k in low:
        text = msg(
            "rule_v_compactness", grid=labels[k], compactness=f"{pp[k]:.3f}", minimum=f"{minimum:g}"
        )
        why: Message | str = ""
        if forced[k]:
            why = (
                (from_english(given[k], "grid_shape_") or given[k])
                if given[k]
                else msg(
                    "grid_shape_dedicated" if _is_dedicated(g)[k] else "grid_shape_one_compound",
                    compactness=f"{pp[k]:.3f}",
                    minimum=f"{minimum:g}",
                )
            )
        c.violations.append(
            _violation(
                "compactness",
                msg("rule_v_with_reason", text=text, why=why) if why else text,
                (labels[k],),
                *at(g.geometry.values[k]),
                "explained" if why else "warning",
            )
        )
    figures = {
        "feature_share": share.share,
        "internal_boundary_m": share.internal_m,
        "grids_dedicated": float(_is_dedicated(g).sum()),
        "grids_below_compactness": float(len(low)),
        "grids_below_compactness_unforced": float((~forced[low]).sum()),
    }
    return c, figures


def _one_compound(g: gpd.GeoDataFrame, street: Street) -> NDArray[np.bool_]:
    """Grids that are one compound: a compound covers at least 95 % of the grid."""
    out = np.zeros(len(g), dtype=bool)
    if len(street.compounds) == 0 or len(g) == 0:
        return out
    geoms = np.asarray(g.geometry.values, dtype=object)
    tree = shapely.STRtree(np.asarray(street.compounds.geometry.values, dtype=object))
    i, j = tree.query(geoms, predicate="intersects")
    if len(i) == 0:
        return out
    inter = shapely.area(shapely.intersection(geoms[i], tree.geometries[j]))
    share = inter / np.maximum(shapely.area(geoms[i]), 1e-9)
    out[i[share >= 0.95]] = True
    return out


def _quality(
    g: gpd.GeoDataFrame, geoms: NDArray[np.object_], hh: NDArray[np.float64]
) -> dict[str, float]:
    """:func:`quality` of all grids, the household figures of the residential ones
    (dedicated grids hold none by design; the total stays the street's)."""
    q = quality(geoms, hh)
    res = ~_is_dedicated(g)
    if res.all() or not res.any():
        return q
    q_res = quality(geoms[res], hh[res])
    q.update(
        {k: v for k, v in q_res.items() if k.startswith("households") and k != "households_total"}
    )
    return q
