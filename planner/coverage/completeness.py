"""Service completeness: which kinds of facility each building reaches within its circle.

For every service kind of ``Settings.service_catalogue`` (:data:`planner.schema.SERVICE_KINDS`),
the street's facilities of that kind (:func:`planner.coverage.service_kinds.service_points`)
are put on the walking network as sources of one routing graph
(:func:`planner.network.routing.with_stations`), and **one multi-source Dijkstra per kind**
(:func:`planner.network.routing.nearest_times`, bounded by the kind's minutes) gives every
building its walking time to the nearest facility of the kind, timed exactly as the
coverage figures time a building (partial edges count on both sides, gated compounds are
left through their gates). No per-building loop.

* :func:`compute_completeness`: per building, the minutes to each kind and whether it is
  reached within the kind's circle; the number of kinds missing and which;
* :func:`completeness_by_area`: per street, community and grid, the share of households
  reaching each kind, the share reaching every kind of each circle ("complete") and the
  kinds most often missing.

Times are minutes; geometry in the street's projected CRS.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from planner.coverage.figures import TIME_EPS_MIN, Coverage, assign_grids
from planner.coverage.service_kinds import service_points
from planner.network.routing import (
    NodeTimes,
    RoutingGraph,
    nearest_times,
    point_times,
    with_stations,
)
from planner.network.walk import snap_stations
from planner.schema import CIRCLES, SERVICE_KINDS, CircleKey, kind_minutes, kinds_of_circle
from planner.street import Street

log = logging.getLogger(__name__)

#: How many of the kinds most often missing an area's row names.
TOP_MISSING = 3


def reach_column(kind: str) -> str:
    """Name of the column flagging buildings that reach ``kind`` (``reach_canteen``)."""
    return f"reach_{kind}"


def complete_column(circle: str) -> str:
    """Name of the column flagging buildings whose ``circle`` is complete."""
    return f"complete_{circle}"


@dataclass
class ServiceCompleteness:
    """The result of :func:`compute_completeness`.

    Attributes
    ----------
    kinds
        The service kinds checked, in catalogue order.
    minutes
        Kind -> its circle's walking minutes.
    points
        The facilities of each kind (:func:`~planner.coverage.service_kinds.service_points`)
        with ``on_network`` and ``snap_m`` (m).
    time_min
        Buildings (rows as ``Coverage.buildings``) x kinds: walking minutes to the
        nearest facility of the kind (``inf`` beyond its minutes or none).
    buildings
        ``building_id``, ``community_id``, ``households``, ``population``, the
        ``reach_<kind>`` and ``complete_<circle>`` flags, ``missing_kinds`` (count) and
        ``missing`` (the kinds' keys, comma-separated), on ``Coverage.buildings``' rows.
    """

    kinds: tuple[str, ...]
    minutes: dict[str, float]
    points: gpd.GeoDataFrame
    time_min: pd.DataFrame
    buildings: pd.DataFrame
    #: The routing graph with every facility as a source, and each kind's node times
    #: (what :func:`kind_gaps` draws a kind's circle from).
    rg: RoutingGraph | None = None
    node_times: dict[str, NodeTimes] = field(default_factory=dict)

    @property
    def circles(self) -> tuple[CircleKey, ...]:
        """The circles with at least one kind checked, in :data:`CIRCLES` order."""
        return tuple(c for c in CIRCLES if kinds_of_circle(c, self.kinds))

    def reaches(self) -> NDArray[np.bool_]:
        """Buildings x kinds: reached within the kind's minutes."""
        return self.buildings[[reach_column(k) for k in self.kinds]].to_numpy(dtype=bool)


def compute_completeness(
    cov: Coverage, street: Street, *, mapping: Mapping[str, str] | None = None
) -> ServiceCompleteness:
    """Walking minutes from every building to the nearest facility of each service kind.

    Parameters
    ----------
    cov
        The coverage result: its network, settings and building snaps are reused, so
        a building's time to a kind is measured exactly as its time to a station.
    street
        The street whose stations, POIs and land use feed the kinds.
    mapping
        A service-kinds mapping file's text -> kind
        (:func:`~planner.coverage.service_kinds.read_service_kinds_file`); default
        ``Settings.service_kind_names``.

    Returns
    -------
    ServiceCompleteness
        Facilities in the margin count when ``Settings.count_margin_stations``.
    """
    s = cov.settings
    kinds = tuple(k for k in SERVICE_KINDS if k in s.service_catalogue)
    mapping = dict(s.service_kind_names) if mapping is None else mapping
    pts = service_points(street.stations, street.pois, street.landuse, kinds=kinds, mapping=mapping)
    if not s.count_margin_stations and len(pts):
        pts = pts[pts["in_street"].to_numpy(dtype=bool)].reset_index(drop=True)
    snap = snap_stations(cov.net, pts, s)
    pts["on_network"] = snap.ok
    pts["snap_m"] = np.round(snap.snap_m, 2)
    rg = with_stations(cov.net, snap)
    minutes = {k: kind_minutes(k, s.service_circle_minutes) for k in kinds}
    kind_of = pts["service_kind"].to_numpy(dtype=object)
    times = {}
    node_times = {}
    for k in kinds:
        idx = np.flatnonzero(kind_of == k)
        node_t = nearest_times(rg, limit_min=minutes[k] + TIME_EPS_MIN, stations=idx)
        t, _ = point_times(rg, node_t, cov.building_snap)
        times[k] = t
        node_times[k] = node_t
    time_min = pd.DataFrame(times, index=cov.buildings.index, columns=list(kinds), dtype=float)
    b = building_completeness(cov.buildings, time_min, minutes)
    log.info("completeness: %d kinds, %d facilities, %d buildings", len(kinds), len(pts), len(b))
    return ServiceCompleteness(kinds, minutes, pts, time_min, b, rg, node_times)


def building_completeness(
    buildings: pd.DataFrame, time_min: pd.DataFrame, minutes: Mapping[str, float]
) -> pd.DataFrame:
    """Per building: reached kinds, complete circles, the count and list of missing kinds.

    ``time_min`` holds the minutes to each kind (columns), ``minutes`` each kind's limit.
    """
    kinds = tuple(time_min.columns)
    limit = np.array([minutes[k] for k in kinds], dtype=float)
    reach = time_min.to_numpy(dtype=float) <= limit + TIME_EPS_MIN
    out = pd.DataFrame(
        {
            "building_id": buildings["building_id"].astype(str).to_numpy(),
            "community_id": buildings["community_id"].astype(str).to_numpy(),
            "households": buildings["households"].to_numpy(dtype="int64"),
            "population": buildings["population"].to_numpy(dtype=float),
        },
        index=buildings.index,
    )
    for j, k in enumerate(kinds):
        out[reach_column(k)] = reach[:, j]
    for c in CIRCLES:
        members = [j for j, k in enumerate(kinds) if SERVICE_KINDS[k].circle == c]
        if members:
            out[complete_column(c)] = np.asarray(reach[:, members].all(axis=1), dtype=bool)
    missing = ~reach
    out["missing_kinds"] = missing.sum(axis=1).astype("int64")
    names = np.array(kinds, dtype=object)
    out["missing"] = [",".join(names[row]) for row in missing] if len(kinds) else ""
    return out


@dataclass(frozen=True)
class AreaKeys:
    """The areas of one level and which area each building belongs to."""

    level: str
    ids: list[str]
    names: list[str]
    community_ids: list[str]
    key: NDArray[np.object_]


def area_keys(cov: Coverage, grids: gpd.GeoDataFrame | None) -> list[AreaKeys]:
    """The street, its communities and (when given) its grids, each building keyed."""
    b = cov.buildings
    out = [AreaKeys("street", ["street"], [""], [""], np.full(len(b), "street", dtype=object))]
    comm = cov.communities
    comm_ids = [str(c) for c in comm["community_id"]] if len(comm) else []
    b_comm = b["community_id"].astype(str).to_numpy(dtype=object)
    ids = comm_ids + sorted(set(b_comm[b_comm != ""]) - set(comm_ids))
    names = dict(zip(comm_ids, comm["name"].astype(str), strict=False)) if len(comm) else {}
    if ids:
        out.append(AreaKeys("community", ids, [names.get(i, "") for i in ids], ids, b_comm))
    if grids is not None and len(grids):
        codes = [str(x) for x in grids["code"]]
        g_names = grids["name"].astype(str).tolist() if "name" in grids else [""] * len(codes)
        g_comm = (
            grids["community_id"].astype(str).tolist()
            if "community_id" in grids
            else [""] * len(codes)
        )
        out.append(AreaKeys("grid", codes, g_names, g_comm, assign_grids(b, grids)))
    return out


def _share(part: NDArray[np.float64], total: NDArray[np.float64]) -> NDArray[np.float64]:
    """``part / total`` in percent, one decimal (NaN where ``total`` is 0)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, 100.0 * part / total, np.nan)
    return np.asarray(np.round(share, 1), dtype=np.float64)


def completeness_by_area(
    comp: ServiceCompleteness, cov: Coverage, *, grids: gpd.GeoDataFrame | None = None
) -> pd.DataFrame:
    """Completeness figures per street, community and grid.

    Returns
    -------
    DataFrame
        One row per area: ``level``, ``id``, ``name``, ``community_id``,
        ``households``; per kind K ``share_K_pct`` (households reaching K within its
        minutes, % of the area's households); per circle C ``complete_C_pct``
        (households reaching every checked kind of C); ``households_complete_all``
        and ``complete_all_pct`` (every kind of every circle); ``missing_most``: the
        :data:`TOP_MISSING` kinds most households lack, as ``kind share%`` texts
        (Chinese names), most missing first.
    """
    b = comp.buildings
    hh = b["households"].to_numpy(dtype=float)
    reach = comp.reaches()
    circles = comp.circles
    complete = {c: b[complete_column(c)].to_numpy(dtype=bool) for c in circles}
    all_ok = reach.all(axis=1) if comp.kinds else np.ones(len(b), bool)
    frames = []
    for area in area_keys(cov, grids):
        df = pd.DataFrame({"key": area.key, "households": hh})
        for j, k in enumerate(comp.kinds):
            df[k] = np.where(reach[:, j], hh, 0.0)
        for c in circles:
            df["C:" + c] = np.where(complete[c], hh, 0.0)
        df["all"] = np.where(all_ok, hh, 0.0)
        agg = df.groupby("key").sum().reindex(area.ids, fill_value=0.0)
        total = agg["households"].to_numpy()
        out = pd.DataFrame(
            {
                "level": area.level,
                "id": area.ids,
                "name": area.names,
                "community_id": area.community_ids,
                "households": total.round().astype("int64"),
            }
        )
        for k in comp.kinds:
            out[f"share_{k}_pct"] = _share(agg[k].to_numpy(), total)
        for c in circles:
            out[f"complete_{c}_pct"] = _share(agg["C:" + c].to_numpy(), total)
        out["households_complete_all"] = agg["all"].to_numpy().round().astype("int64")
        out["complete_all_pct"] = _share(agg["all"].to_numpy(), total)
        lack = total[:, None] - agg[list(comp.kinds)].to_numpy()
        out["missing_most"] = [
            _most_missing(row, t, comp.kinds) for row, t in zip(lack, total, strict=True)
        ]
        frames.append(out)
    return pd.concat(frames, ignore_index=True)


def _most_missing(lack: NDArray[np.float64], total: float, kinds: tuple[str, ...]) -> str:
    """The kinds most households lack, ``名称 share%``, most missing first ('' if none)."""
    if total <= 0:
        return ""
    order = np.argsort(-lack, kind="stable")[:TOP_MISSING]
    return "; ".join(
        f"{SERVICE_KINDS[kinds[j]].zh} {100.0 * lack[j] / total:.0f}%"
        for j in order
        if lack[j] > 0.5
    )


# --- who needs it: "一老一小" (issue 16) ---
#: Age group (register columns, :data:`planner.load.register.AGE_GROUPS`) -> the service
#: kinds that serve it: young children the nursery and kindergarten; the elderly day care
#: and the health station.
NEED_KINDS: dict[str, tuple[str, ...]] = {
    "children_0_6": ("nursery", "kindergarten"),
    "elderly_60": ("elderly_day_care", "health_station"),
    "elderly_80": ("elderly_day_care", "health_station"),
    "elderly_alone": ("elderly_day_care", "health_station"),
}


def needs_by_area(
    comp: ServiceCompleteness, cov: Coverage, *, grids: gpd.GeoDataFrame | None = None
) -> pd.DataFrame:
    """The "一老一小" view: for each age group the buildings carry (from a register with
    residents by age), the share of those residents reaching each kind that serves them,
    beside the share of all households.

    Returns
    -------
    DataFrame
        Per street, community and grid: ``level``, ``id``, ``name``, ``households``; per
        group G present ``G`` (residents) and, per kind K serving G that was checked,
        ``G_reach_K_pct``, beside ``households_reach_K_pct``. Empty (no rows) when the
        buildings carry no age group. Buildings without a figure for a group count 0.
    """
    b = cov.buildings
    groups = [g for g in NEED_KINDS if g in b.columns and b[g].notna().any()]
    if not groups:
        return pd.DataFrame()
    hh = b["households"].to_numpy(dtype=float)
    kinds = sorted(
        {k for g in groups for k in NEED_KINDS[g] if k in comp.kinds}, key=comp.kinds.index
    )
    reach = {k: comp.buildings[reach_column(k)].to_numpy(dtype=bool) for k in kinds}
    people = {
        g: pd.to_numeric(b[g], errors="coerce").fillna(0.0).to_numpy(dtype=float) for g in groups
    }
    frames = []
    for area in area_keys(cov, grids):
        df = pd.DataFrame({"key": area.key, "households": hh})
        for k in kinds:
            df[f"hh:{k}"] = np.where(reach[k], hh, 0.0)
        for g in groups:
            df[g] = people[g]
            for k in NEED_KINDS[g]:
                if k in reach:
                    df[f"{g}:{k}"] = np.where(reach[k], people[g], 0.0)
        agg = df.groupby("key").sum().reindex(area.ids, fill_value=0.0)
        total = agg["households"].to_numpy()
        out = pd.DataFrame(
            {
                "level": area.level,
                "id": area.ids,
                "name": area.names,
                "households": total.round().astype("int64"),
            }
        )
        for k in kinds:
            out[f"households_reach_{k}_pct"] = _share(agg[f"hh:{k}"].to_numpy(), total)
        for g in groups:
            n = agg[g].to_numpy()
            out[g] = n.round().astype("int64")
            for k in NEED_KINDS[g]:
                if k in reach:
                    out[f"{g}_reach_{k}_pct"] = _share(agg[f"{g}:{k}"].to_numpy(), n)
        frames.append(out)
    return pd.concat(frames, ignore_index=True)


def kind_gaps(comp: ServiceCompleteness, cov: Coverage, kind: str) -> gpd.GeoDataFrame:
    """The gap polygons of one service kind, on demand: the residential parts of the
    street outside the union circle of the kind's facilities within its minutes (drawn
    as the coverage's circles are, :class:`planner.coverage.circles.CircleBuilder`).

    Returns
    -------
    geopandas.GeoDataFrame
        :func:`planner.coverage.circles.gap_polygons`' columns plus ``service_kind`` and
        ``minutes`` (street CRS).
    """
    from planner.coverage.circles import CircleBuilder, gap_polygons

    if kind not in comp.node_times or comp.rg is None:
        raise ValueError(f"{kind!r} was not checked; checked kinds: {', '.join(comp.kinds)}")
    minutes = comp.minutes[kind]
    builder = CircleBuilder(
        comp.rg,
        buffer_m=cov.settings.circle_buffer_m,
        cell_m=cov.settings.circle_cell_m,
        points=cov.building_snap,
        point_geoms=cov.buildings.geometry.centroid.to_numpy(),
        compounds=cov.compounds,
    )
    union = builder.union_circles(comp.node_times[kind], [minutes])
    covered = union.geometry.iloc[0] if len(union) else shapely.Polygon()
    b = cov.buildings
    miss = ~comp.buildings[reach_column(kind)].to_numpy(dtype=bool) & (b["households"] > 0)
    gaps = gap_polygons(cov.compounds, b, covered, uncovered_buildings=b[miss.to_numpy()])
    gaps["service_kind"] = kind
    gaps["minutes"] = minutes
    return gaps
