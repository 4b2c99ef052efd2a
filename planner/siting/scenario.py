"""Siting on a street: candidates, walking matrix, solve, and the before/after results.

:func:`site_street` is the whole pipeline for one scenario:

1. coverage before (:func:`planner.coverage.figures.compute_coverage`);
2. candidates (user list, available buildings, suitable POIs, generated network
   points near the gaps), filtered by exclusion areas and the minimum spacing to
   existing stations (:mod:`planner.siting.candidates`);
3. walking minutes from every site to every building within the threshold
   (:mod:`planner.siting.matrix`, the coverage engine's routing);
4. the question - ``k`` new stations (maximal coverage) or a target share (fewest
   stations) - solved by :mod:`planner.siting.plan`;
5. results: ranked proposed sites with the households each newly covers and
   serves and the floor area the 30 m²/100 households norm asks for; every
   building before/after; figures per street, community and grid before/after
   (the coverage engine's :func:`planner.coverage.figures.area_figures` run again with
   the proposed stations added).

:func:`scenario_to_tables` / :func:`scenario_from_tables` turn a scenario into
layers and tables the project file (:mod:`planner.grids.project`, ``extra=``) stores,
and :func:`compare_scenarios` puts saved scenarios side by side.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from planner.coverage.figures import (
    Coverage,
    area_figures,
    community_of,
    compute_coverage,
    covered_column,
)
from planner.errors import InputError
from planner.settings import Settings
from planner.siting import candidates as cand_mod
from planner.siting.assign import Assignment, capacity_assignment, nearest_assignment
from planner.siting.matrix import site_building_minutes
from planner.siting.plan import (
    Method,
    SitingPlan,
    fewest_stations,
    maximal_coverage,
    whole_households,
)
from planner.siting.problem import BoolArray, CoverageProblem, FloatArray, IntArray
from planner.street import Street

log = logging.getLogger(__name__)

CandidateSource = Literal["user", "building", "poi", "network"]

#: Exclusion areas: layers with a CRS, or a shapely geometry in the street's CRS.
Exclusion: TypeAlias = gpd.GeoDataFrame | gpd.GeoSeries | shapely.Geometry | None

#: Station kind given to proposed sites when the "after" coverage is computed.
PROPOSED_KIND = "community_station"

#: Household columns of the sites layer written as integers in ``siting.json`` when whole.
_SITE_HOUSEHOLD_COLUMNS = frozenset(
    {"households_newly_covered", "cumulative_households_covered", "households_served"}
)

#: Columns of the proposed-sites layer, in order.
SITE_COLUMNS: tuple[str, ...] = (
    "rank",
    "site_id",
    "candidate_id",
    "name",
    "source",
    "kind",
    "community_id",
    "households_newly_covered",
    "cumulative_households_covered",
    "households_served",
    "buildings_served",
    "mean_walk_min",
    "recommended_floor_area_m2",
    "households_catchment",
    "catchment_floor_area_m2",
    "snap_m",
)


@dataclass
class SitingResult:
    """One siting scenario on a street, with everything needed to show and save it.

    Attributes
    ----------
    name
        Scenario name (used when saving several side by side).
    plan
        The solver's answer (:class:`~planner.siting.plan.SitingPlan`).
    sites
        Proposed stations, ranked (columns :data:`SITE_COLUMNS`, projected CRS).
    candidates
        Candidates considered, with ``on_network``, ``snap_m`` and ``chosen``.
    dropped
        Candidates removed before solving, with the reason.
    buildings
        The street's buildings with ``households``, ``time_before_min``,
        ``covered_before``, ``time_after_min``, ``covered_after``, ``newly_covered``,
        ``served_by`` (station or site id), ``unreachable`` (no candidate reaches it).
    figures
        Per street, community and grid: households, and before/after covered
        households and share at the threshold (``households_covered_before``,
        ``households_covered_after``, ``share_before_pct``, ``share_after_pct``,
        ``households_newly_covered``).
    coverage_before, coverage_after
        The coverage engine's results without and with the proposed stations.
    settings
        Settings used.
    """

    name: str
    plan: SitingPlan
    sites: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    dropped: pd.DataFrame
    buildings: gpd.GeoDataFrame
    figures: pd.DataFrame
    coverage_before: Coverage
    coverage_after: Coverage | None
    settings: Settings
    notes: list[str] = field(default_factory=list)

    @property
    def threshold_min(self) -> float:
        return self.settings.gap_minutes

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (``siting.json``)."""
        s = self.plan.summary()
        s.update(
            {
                "scenario": self.name,
                "threshold_min": self.threshold_min,
                "speed_kmh": self.settings.walk_speed_kmh,
                "walk_m_in_threshold": round(self.settings.walk_m_per_min * self.threshold_min),
                "candidates_considered": len(self.candidates),
                "candidates_on_network": int(self.candidates["on_network"].sum())
                if len(self.candidates)
                else 0,
                "candidates_dropped": len(self.dropped),
                "candidate_sources": sorted(set(self.candidates["source"]))
                if len(self.candidates)
                else [],
                "min_station_spacing_m": self.settings.min_station_spacing_m,
                "station_capacity_households": self.settings.station_capacity_households,
                "mip_time_limit_s": self.settings.mip_time_limit_s,
                "floor_area_per_100_households_m2": (
                    self.settings.floor_area_per_100_households_m2
                ),
                "sites": [
                    {
                        k: whole_households(v) if k in _SITE_HOUSEHOLD_COLUMNS else v
                        for k, v in rec.items()
                    }
                    for rec in self.sites.drop(columns="geometry").to_dict(orient="records")
                ],
                "notes": list(self.notes),
            }
        )
        if self.settings.station_capacity_households > 0:
            s["households_served_within_capacity"] = whole_households(
                round(float(self.buildings["households_served"].sum()), 3)
            )
        return s


def _exclusion_union(exclusion: Exclusion, crs: CRS | None) -> shapely.Geometry | None:
    if exclusion is None:
        return None
    if isinstance(exclusion, gpd.GeoDataFrame | gpd.GeoSeries):
        if exclusion.crs is None:
            raise InputError(
                "the exclusion areas have no CRS", fix="save them with a CRS (GeoJSON is WGS84)"
            )
        geoms = exclusion.to_crs(crs).geometry.to_numpy()
        return shapely.union_all(shapely.make_valid(geoms))
    return shapely.make_valid(exclusion)


def gather_candidates(
    street: Street,
    cov: Coverage,
    *,
    settings: Settings,
    user: gpd.GeoDataFrame | None,
    sources: tuple[CandidateSource, ...],
) -> gpd.GeoDataFrame:
    """Candidates from the requested sources (see :mod:`planner.siting.candidates`)."""
    parts: list[gpd.GeoDataFrame] = []
    if "user" in sources and user is not None:
        parts.append(cand_mod.user_candidates(user, crs=street.crs))
    if "building" in sources:
        parts.append(cand_mod.available_buildings(street.buildings))
    if "poi" in sources:
        parts.append(cand_mod.poi_candidates(street.pois))
    if "network" in sources:
        b = cov.buildings
        tmax = settings.gap_minutes
        unc = b[~b[covered_column(tmax)].to_numpy() & (b["households"].to_numpy() > 0)]
        parts.append(
            cand_mod.network_candidates(
                street.edges,
                boundary=street.boundary_geom,
                targets=unc.geometry.centroid.to_numpy(),
                reach_m=settings.walk_m_per_min * tmax,
                spacing_m=settings.candidate_spacing_m,
            )
        )
    return cand_mod.combine(*parts, crs=street.crs)


def build_problem(
    street: Street,
    coverage: Coverage,
    *,
    settings: Settings,
    candidates: gpd.GeoDataFrame | None = None,
    sources: tuple[CandidateSource, ...] | None = None,
    exclusion: Exclusion = None,
) -> tuple[CoverageProblem, gpd.GeoDataFrame, pd.DataFrame]:
    """The siting problem of a street: candidates, spacing conflicts and the matrix.

    Parameters are those of :func:`site_street`.

    Returns
    -------
    problem, candidates, dropped
        The :class:`CoverageProblem` (rows: ``coverage.stations`` then the kept
        candidates; columns: ``coverage.buildings``), the kept candidates (with
        ``on_network`` and ``snap_m``) and the dropped ones with the reason.

    Raises
    ------
    InputError
        No candidate is left.
    """
    cov = coverage
    tmax = settings.gap_minutes
    use: tuple[CandidateSource, ...] = sources or (
        ("user",) if candidates is not None else ("building", "poi", "network")
    )
    cands = gather_candidates(street, cov, settings=settings, user=candidates, sources=use)
    excl = _exclusion_union(exclusion, street.crs)
    cands, dropped = cand_mod.filter_candidates(
        cands,
        stations=cov.stations,
        min_spacing_m=settings.min_station_spacing_m,
        exclusion=excl,
    )
    if len(cands) == 0:
        raise InputError(
            "no candidate site is left to choose from"
            + (f" ({len(dropped)} dropped by exclusion areas or spacing)" if len(dropped) else ""),
            fix="give candidates (--candidates FILE), or let the planner generate them "
            "(network source), or relax the exclusion areas / min_station_spacing_m",
        )
    minutes, cand_snap = site_building_minutes(cov, cands.geometry.to_numpy(), threshold_min=tmax)
    n_st = len(cov.stations)
    cands = cands.copy()
    cands["on_network"] = cand_snap.ok
    cands["snap_m"] = np.round(cand_snap.snap_m, 2)
    conflicts = cand_mod.spacing_conflicts(cands, min_spacing_m=settings.min_station_spacing_m)
    b = cov.buildings
    weights = b["households"].to_numpy(dtype=np.float64)
    problem = CoverageProblem.build(
        weights=weights,
        minutes=minutes,
        threshold_min=tmax,
        fixed=np.r_[np.ones(n_st, bool), np.zeros(len(cands), bool)],
        conflicts=conflicts + n_st,
        site_ids=np.r_[
            cov.stations["station_id"].astype(str).to_numpy(), cands["candidate_id"].to_numpy()
        ],
        demand_ids=b["building_id"].astype(str).to_numpy(),
    )
    return problem, cands, dropped


def site_street(
    street: Street,
    coverage: Coverage | None = None,
    *,
    k: int | None = None,
    target_share: float | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    sources: tuple[CandidateSource, ...] | None = None,
    exclusion: Exclusion = None,
    grids: gpd.GeoDataFrame | None = None,
    settings: Settings | None = None,
    method: Method = "mip",
    name: str = "scenario",
    after_coverage: bool = True,
) -> SitingResult:
    """Propose new station sites for ``street``.

    Parameters
    ----------
    street
        A :class:`~planner.street.Street` (projected CRS).
    coverage
        The street's coverage already computed with the same settings (saves
        recomputing it); default: computed here.
    k
        Maximal coverage: number of new stations (1 or more). Give ``k`` or
        ``target_share``.
    target_share
        Fewest stations: target share of all households within the threshold.
    candidates
        User candidate sites (points or polygons, any CRS).
    sources
        Candidate sources to use; default: the user list alone when given, else
        available buildings, suitable POIs and generated network points.
    exclusion
        Exclusion areas (GeoDataFrame/GeoSeries with a CRS, or a shapely geometry
        in the street CRS): no station inside.
    grids
        Grids (``code``, ``community_id``, polygons) for per-grid figures.
    settings
        ``thresholds_min`` (the largest is the siting threshold), ``walk_speed_kmh``,
        ``candidate_spacing_m``, ``min_station_spacing_m``, ``mip_time_limit_s``,
        ``station_capacity_households``, ``floor_area_per_100_households_m2``.
    method
        ``"mip"`` (exact) or ``"greedy"``.
    name
        Scenario name.
    after_coverage
        Recompute coverage with the proposed stations for the before/after
        figures and check them against the siting matrix. With False (faster)
        the after figures come from the siting matrix's ``covered_after`` flags
        (the same households; no second coverage run).

    Raises
    ------
    InputError
        Neither or both of ``k`` and ``target_share``; ``k`` below 1; no candidates
        at all.
    """
    settings = settings or Settings()
    _check_question(k, target_share)
    cov = coverage if coverage is not None else compute_coverage(street, settings=settings)
    problem, cands, dropped = build_problem(
        street, cov, settings=settings, candidates=candidates, sources=sources, exclusion=exclusion
    )
    plan = _answer(problem, k, target_share, method, settings.mip_time_limit_s)
    return _results(
        street,
        cov,
        problem,
        plan,
        cands,
        dropped,
        settings=settings,
        grids=grids,
        name=name,
        after_coverage=after_coverage,
    )


def _answer(
    problem: CoverageProblem,
    k: int | None,
    target_share: float | None,
    method: Method,
    time_limit_s: float,
) -> SitingPlan:
    """The plan answering the question asked (``k`` or ``target_share``)."""
    if k is not None:
        plan = maximal_coverage(problem, k, method=method, time_limit_s=time_limit_s)
    else:
        assert target_share is not None
        plan = fewest_stations(problem, target_share, method=method, time_limit_s=time_limit_s)
    log.info("siting: %s", plan.message)
    return plan


def _check_question(k: int | None, target_share: float | None) -> None:
    """Refuse neither or both questions, ``k`` below 1 and a share outside (0, 1]."""
    if (k is None) == (target_share is None):
        raise InputError(
            "give exactly one question: k (number of new stations) or target_share",
            fix="use -k N for maximal coverage or --target-share 0.95 for fewest stations",
        )
    if k is not None and k < 1:
        raise InputError(
            f"k={k}: the number of new stations must be 1 or more",
            fix="give the number of new stations, e.g. -k 3",
        )
    if target_share is not None and not 0 < target_share <= 1:
        raise InputError(
            f"target share {target_share} is not in (0, 1]", fix="e.g. --target-share 0.95"
        )


def _results(
    street: Street,
    cov: Coverage,
    problem: CoverageProblem,
    plan: SitingPlan,
    cands: gpd.GeoDataFrame,
    dropped: pd.DataFrame,
    *,
    settings: Settings,
    grids: gpd.GeoDataFrame | None,
    name: str,
    after_coverage: bool,
) -> SitingResult:
    """The scenario's layers and figures: ranked sites, buildings before/after, the
    figures per area (from a second coverage run with the sites as stations, or the
    siting matrix's flags when ``after_coverage`` is False)."""
    n_st = len(cov.stations)
    open_rows = np.r_[np.arange(n_st), plan.sites]
    assignment = _assign(problem, open_rows, settings)
    sites = _sites_layer(street, problem, plan, cands, assignment, n_st, settings)
    cands = cands.copy()
    cands["chosen"] = False
    cands.loc[plan.sites - n_st, "chosen"] = True
    buildings = _buildings_layer(cov, problem, plan, sites, assignment, open_rows)
    cov_after, notes = (
        _coverage_after(street, plan, sites, settings)
        if after_coverage and plan.sites.size
        else (None, [])
    )
    covered_after = problem.covered_by(plan.sites)
    after_for_figures = cov_after if cov_after is not None else _derived_after(cov, covered_after)
    return SitingResult(
        name=name,
        plan=plan,
        sites=sites,
        candidates=cands,
        dropped=dropped,
        buildings=buildings,
        figures=before_after_figures(cov, after_for_figures, grids=grids, settings=settings),
        coverage_before=cov,
        coverage_after=cov_after,
        settings=settings,
        notes=notes,
    )


def _assign(problem: CoverageProblem, open_rows: IntArray, settings: Settings) -> Assignment:
    """Each building to an open station or site: the nearest, or within each one's
    capacity when ``station_capacity_households`` is set."""
    sub = problem.minutes[open_rows]
    cap = settings.station_capacity_households
    if cap > 0:
        capacity = np.full(open_rows.size, float(cap))
        return capacity_assignment(sub, problem.weights, capacity=capacity, time_limit_s=30)
    return nearest_assignment(sub, problem.weights)


def _sites_layer(
    street: Street,
    problem: CoverageProblem,
    plan: SitingPlan,
    cands: gpd.GeoDataFrame,
    assignment: Assignment,
    n_st: int,
    settings: Settings,
) -> gpd.GeoDataFrame:
    """The proposed sites, ranked, with the households each newly covers (newly
    covered households go to the nearest proposed site reaching them) and serves,
    the mean walk of those it serves and the floor area the norm asks for: for those it
    serves (``recommended_floor_area_m2``) and for every household within its threshold
    (``households_catchment`` x 30 m² / 100, ``catchment_floor_area_m2``)."""
    weights = problem.weights
    newly = problem.covered_by(plan.sites) & ~problem.covered_before
    new_site = nearest_assignment(problem.minutes[plan.sites], weights).site
    rank = np.arange(1, plan.sites.size + 1)
    n_new = plan.sites.size
    newly_hh = np.bincount(new_site[newly], weights=weights[newly], minlength=n_new)
    served_hh = assignment.site_households[n_st:]
    serving = assignment.site
    sel = serving >= n_st
    served_b = np.bincount(serving[sel] - n_st, minlength=n_new) if n_new else np.zeros(0, np.int64)
    mean_walk = np.zeros(n_new)
    if sel.any() and n_new:
        num = np.bincount(
            serving[sel] - n_st,
            weights=assignment.minutes[sel] * assignment.served[sel],
            minlength=n_new,
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_walk = np.where(served_hh > 0, num / np.maximum(served_hh, 1e-12), 0.0)
    chosen = cands.iloc[plan.sites - n_st].reset_index(drop=True)
    catchment_hh = np.asarray(problem.minutes[plan.sites].astype(bool) @ weights, dtype=float)
    return gpd.GeoDataFrame(
        {
            "rank": rank,
            "site_id": [f"NEW{i:02d}" for i in rank],
            "candidate_id": chosen["candidate_id"].to_numpy(),
            "name": chosen["name"].to_numpy(),
            "source": chosen["source"].to_numpy(),
            "kind": chosen["kind"].to_numpy(),
            "community_id": community_of(chosen, street.communities),
            "households_newly_covered": np.round(newly_hh, 3),
            "cumulative_households_covered": np.round(
                plan.households_covered_before + np.cumsum(newly_hh), 3
            ),
            "households_served": np.round(served_hh, 3),
            "buildings_served": served_b,
            "mean_walk_min": np.round(mean_walk, 2),
            "recommended_floor_area_m2": np.round(
                served_hh * settings.floor_area_per_100_households_m2 / 100.0, 1
            ),
            # --- services: every household within reach, as the 2SFCA counts them ---
            "households_catchment": np.round(catchment_hh, 3),
            "catchment_floor_area_m2": np.round(
                catchment_hh * settings.floor_area_per_100_households_m2 / 100.0, 1
            ),
            "snap_m": chosen["snap_m"].to_numpy(),
        },
        geometry=chosen.geometry.to_numpy(),
        crs=street.crs,
    )


def _buildings_layer(
    cov: Coverage,
    problem: CoverageProblem,
    plan: SitingPlan,
    sites: gpd.GeoDataFrame,
    assignment: Assignment,
    open_rows: IntArray,
) -> gpd.GeoDataFrame:
    """Every building before and after: times, covered flags, who serves it."""
    covered_before = problem.covered_before
    covered_after = problem.covered_by(plan.sites)
    labels = np.r_[cov.stations["station_id"].astype(str).to_numpy(), sites["site_id"].to_numpy()]
    serving = assignment.site
    bb = cov.buildings
    return gpd.GeoDataFrame(
        {
            "building_id": bb["building_id"].astype(str).to_numpy(),
            "community_id": bb["community_id"].astype(str).to_numpy(),
            "compound_id": bb["compound_id"].astype(str).to_numpy(),
            "households": problem.weights,
            "time_before_min": np.round(bb["time_min"].to_numpy(dtype=np.float64), 3),
            "covered_before": covered_before,
            "time_after_min": np.round(_nearest_minutes(problem, open_rows), 3),
            "covered_after": covered_after,
            "newly_covered": covered_after & ~covered_before,
            "served_by": np.where(serving >= 0, labels[np.maximum(serving, 0)], ""),
            "households_served": np.round(assignment.served, 3),
            "unreachable": plan.unreachable if plan.unreachable.size else problem.unreachable(),
        },
        geometry=bb.geometry.to_numpy(),
        crs=cov.buildings.crs,
    )


def _coverage_after(
    street: Street, plan: SitingPlan, sites: gpd.GeoDataFrame, settings: Settings
) -> tuple[Coverage, list[str]]:
    """Coverage recomputed with the proposed sites as stations, and a note when it
    disagrees with the siting matrix by more than half a household."""
    rank = sites["rank"].to_numpy()
    new_st = gpd.GeoDataFrame(
        {
            "station_id": sites["site_id"].to_numpy(),
            "name": [f"拟建站点 {i}" for i in rank],
            "kind": PROPOSED_KIND,
            "in_street": True,
        },
        geometry=sites.geometry.to_numpy(),
        crs=street.crs,
    )
    st_all = pd.concat([street.stations, new_st], ignore_index=True)
    street_after = street.with_layers(stations=gpd.GeoDataFrame(st_all, crs=street.crs))
    cov_after = compute_coverage(street_after, settings=settings)
    col = covered_column(settings.gap_minutes)
    hh_after = float(cov_after.buildings.loc[cov_after.buildings[col], "households"].sum())
    notes: list[str] = []
    if abs(hh_after - plan.households_covered_after) > 0.5:
        msg = (
            f"coverage recomputed with the proposed stations gives {hh_after:,.0f} "
            f"households, the siting matrix {plan.households_covered_after:,.0f}"
        )
        log.warning(msg)
        notes.append(msg)
    return cov_after, notes


def _derived_after(cov: Coverage, covered_after: BoolArray) -> Coverage:
    """``cov`` with its gap-threshold flags replaced by the plan's ``covered_after``
    (one flag per building of ``cov.buildings``): the after figures without a second
    coverage run. Only ``covered_<gap_minutes>`` changes; the walking times stay those of
    the existing stations."""
    col = covered_column(cov.settings.gap_minutes)
    buildings = cov.buildings.copy()
    buildings[col] = np.asarray(covered_after, dtype=bool)
    return dataclasses.replace(cov, buildings=buildings)


def _nearest_minutes(problem: CoverageProblem, rows: IntArray) -> FloatArray:
    from planner.siting.problem import nearest_site

    return nearest_site(problem.minutes[rows])[1]


def before_after_figures(
    before: Coverage,
    after: Coverage,
    *,
    grids: gpd.GeoDataFrame | None,
    settings: Settings,
) -> pd.DataFrame:
    """Households covered at the siting threshold per street, community and grid,
    before and after (the coverage engine's :func:`planner.coverage.figures.area_figures`)."""
    t = f"{settings.gap_minutes:g}"
    fb = area_figures(before, grids=grids)
    fa = area_figures(after, grids=grids)
    key = ["level", "id"]
    col = f"households_covered_{t}"
    out = fb[[*key, "name", "community_id", "households", col]].rename(
        columns={col: "households_covered_before"}
    )
    out = out.merge(
        fa[[*key, col]].rename(columns={col: "households_covered_after"}), on=key, how="left"
    )
    hh = out["households"].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share_before_pct"] = np.round(
            np.where(hh > 0, 100 * out["households_covered_before"] / np.maximum(hh, 1), np.nan), 1
        )
        out["share_after_pct"] = np.round(
            np.where(hh > 0, 100 * out["households_covered_after"] / np.maximum(hh, 1), np.nan), 1
        )
    out["households_newly_covered"] = (
        out["households_covered_after"] - out["households_covered_before"]
    )
    out["threshold_min"] = settings.gap_minutes
    return out


def circles_and_gaps(
    coverage: Coverage, street: Street, *, label: str
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Union service circles per threshold and the gap polygons of one coverage result.

    Drawn by the coverage engine (:meth:`planner.coverage.figures.Coverage.circle_builder`,
    :func:`planner.coverage.circles.gap_polygons`), exactly as the ``coverage`` command does;
    both layers get a ``scenario`` column holding ``label`` ("before"/"after").
    """
    from planner.coverage.circles import gap_polygons

    thresholds = list(coverage.thresholds)
    union = coverage.circle_builder().union_circles(coverage.times, thresholds)
    tmax = coverage.settings.gap_minutes
    b = coverage.buildings
    uncovered = b[~b[covered_column(tmax)].to_numpy() & (b["households"].to_numpy() > 0)]
    covered_geom = union.geometry.iloc[-1] if len(union) else shapely.Polygon()
    gaps = gap_polygons(street.compounds, b, covered_geom, uncovered_buildings=uncovered)
    union = union.copy()
    union["scenario"] = label
    gaps["scenario"] = label
    gaps["minutes"] = tmax
    return union, gaps


# ---------------------------------------------------------------- saving scenarios
def scenario_to_tables(result: SitingResult) -> dict[str, pd.DataFrame]:
    """Layers and tables for the project file (``planner.grids.project.save_project(extra=...)``).

    Keys are ``siting_<name>_sites`` (layer), ``siting_<name>_figures`` and
    ``siting_<name>_summary`` (a one-row table holding the summary as JSON).
    """
    key = _key(result.name)
    summary = result.summary()
    return {
        f"siting_{key}_sites": result.sites.copy(),
        f"siting_{key}_figures": result.figures.copy(),
        f"siting_{key}_summary": pd.DataFrame(
            {"scenario": [result.name], "summary_json": [json.dumps(summary, ensure_ascii=False)]}
        ),
    }


@dataclass(frozen=True)
class SavedScenario:
    """A scenario read back from the project file."""

    name: str
    sites: gpd.GeoDataFrame
    figures: pd.DataFrame
    summary: dict[str, Any]


def scenario_from_tables(tables: dict[str, pd.DataFrame]) -> list[SavedScenario]:
    """Every siting scenario found among a project's extra layers/tables."""
    out: list[SavedScenario] = []
    for tname, table in tables.items():
        if not (tname.startswith("siting_") and tname.endswith("_summary")):
            continue
        key = tname[len("siting_") : -len("_summary")]
        summary = json.loads(str(table["summary_json"].iloc[0]))
        sites = tables.get(f"siting_{key}_sites")
        figs = tables.get(f"siting_{key}_figures")
        out.append(
            SavedScenario(
                name=str(table["scenario"].iloc[0]),
                sites=sites if isinstance(sites, gpd.GeoDataFrame) else gpd.GeoDataFrame(sites),
                figures=figs if figs is not None else pd.DataFrame(),
                summary=summary,
            )
        )
    return out


def compare_scenarios(scenarios: list[SavedScenario] | list[SitingResult]) -> pd.DataFrame:
    """One row per scenario: question, stations, households before/after, gap, method."""
    rows = []
    for sc in scenarios:
        s = sc.summary() if isinstance(sc, SitingResult) else sc.summary
        rows.append(
            {
                "scenario": s.get("scenario"),
                "question": s.get("question"),
                "k": s.get("k"),
                "target_share": s.get("target_share"),
                "stations_proposed": s.get("stations_proposed"),
                "households_covered_before": s.get("households_covered_before"),
                "households_covered_after": s.get("households_covered_after"),
                "share_covered_after": s.get("share_covered_after"),
                "method": s.get("method"),
                "optimality_gap": s.get("optimality_gap"),
                "greedy_households_covered_after": s.get("greedy_households_covered_after"),
            }
        )
    return pd.DataFrame(rows)


def _key(name: str) -> str:
    safe = "".join(ch if ch.isalnum() else "_" for ch in name.strip()) or "scenario"
    return safe.lower()
