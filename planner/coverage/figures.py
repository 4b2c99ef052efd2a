"""15-minute walking coverage: who is within reach of which station, and the figures.

:func:`compute_coverage` snaps stations and buildings onto the walking network
(:mod:`planner.network.walk`), runs one multi-source Dijkstra from every service station
(:mod:`planner.network.routing`), and gives each building the walking time to its nearest
station and which station that is. The figure functions turn that into tables:

* :func:`area_figures`: households, residents and buildings within each threshold
  for the street, each community and each grid;
* :func:`station_figures`: per station, the households it serves (those for which
  it is the nearest), its circle area and its floor area per 100 households
  against the 30 m² norm (and at least 500 m² per community);
* :func:`uncovered_compounds`: compounds with households beyond the gap threshold
  (``Settings.gap_minutes``, 15 by default), with their nearest station and walking time;
* :func:`summary`: the street totals keyed by threshold.

Stations in the margin (outside the street, ``in_street=False``) serve residents
when ``Settings.count_margin_stations`` is true; the households covered only
thanks to them are reported separately. Only station kinds in
``Settings.service_kinds`` count.

Times are minutes, lengths metres, areas m², all geometry in the street's CRS.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray

from planner.coverage.circles import CircleBuilder
from planner.errors import Problem
from planner.i18n import CLAUSE_SEP, items, msg
from planner.network.routing import (
    NodeTimes,
    RoutingGraph,
    nearest_times,
    point_times,
    with_stations,
)
from planner.network.walk import (
    PieceFacts,
    Snap,
    WalkNetwork,
    components_table,
    from_street,
    piece_facts,
    point_components,
    snap_buildings,
    snap_stations,
)
from planner.schema import STATION_KINDS
from planner.settings import Settings
from planner.street import Completeness, Street

log = logging.getLogger(__name__)

#: Tolerance when comparing a walking time with a threshold, minutes.
TIME_EPS_MIN = 1e-9


@dataclass
class Coverage:
    """The result of :func:`compute_coverage`.

    Attributes
    ----------
    settings
        Settings used (walking speed, thresholds, service kinds...).
    net, rg
        The walking network and the routing graph with the service stations in it.
    stations
        The service stations used (row position = station index in ``rg``), with
        ``on_network``, ``snap_m`` and ``community_id``.
    times
        Time to the nearest station and which station for every routing node.
    buildings
        The street's buildings (those whose representative point lies inside the
        boundary) with ``time_min``, ``walk_m``, ``station``, ``station_id``,
        ``via_margin`` (nearest station is in the margin), ``time_street_min`` (time
        using stations inside the street only), ``on_network``, ``snap_m``,
        ``component``, ``stranded`` and ``covered_<T>`` per threshold; ``access``
        holds the access point on the network.
    components
        One row per connected piece of the network (:func:`planner.network.walk.components_table`).
    problems
        Warnings for the user (buildings or stations off the network, no stations...).
    """

    settings: Settings
    net: WalkNetwork
    rg: RoutingGraph
    stations: gpd.GeoDataFrame
    times: NodeTimes
    buildings: gpd.GeoDataFrame
    components: pd.DataFrame
    building_snap: Snap
    station_snap: Snap
    communities: gpd.GeoDataFrame
    compounds: gpd.GeoDataFrame
    problems: list[Problem] = field(default_factory=list)

    @property
    def thresholds(self) -> tuple[float, ...]:
        return tuple(sorted(self.settings.thresholds_min))

    @property
    def gap_minutes(self) -> float:
        """The promise, minutes (``Settings.gap_minutes``, one of the thresholds):
        gaps, uncovered compounds and the ``_<T>`` figures count beyond it."""
        return self.settings.gap_minutes

    def circle_builder(self) -> CircleBuilder:
        """A :class:`~planner.coverage.circles.CircleBuilder` that draws covered buildings'
        connectors (centroid to access point) and respects gated compounds' walls."""
        return CircleBuilder(
            self.rg,
            buffer_m=self.settings.circle_buffer_m,
            cell_m=self.settings.circle_cell_m,
            points=self.building_snap,
            point_geoms=self.buildings.geometry.centroid.to_numpy(),
            compounds=self.compounds,
        )

    @property
    def speed_note(self) -> str:
        """The walking-speed assumption, printed on every map and summary."""
        s = self.settings
        return (
            f"步行速度 {s.walk_speed_kmh:g} km/h（15 分钟约 {s.walk_m_per_min * 15:,.0f} m）; "
            f"walking speed {s.walk_speed_kmh:g} km/h "
            f"({s.walk_m_per_min * 15:,.0f} m in 15 minutes)"
        )


def covered_column(minutes: float) -> str:
    """Name of the column flagging buildings within ``minutes`` (e.g. ``covered_15``)."""
    return f"covered_{minutes:g}"


def service_stations(stations: gpd.GeoDataFrame, settings: Settings) -> gpd.GeoDataFrame:
    """The stations that count: kind in ``service_kinds``, margin ones only if allowed."""
    keep = stations["kind"].isin(settings.service_kinds)
    if not settings.count_margin_stations:
        keep &= stations["in_street"].astype(bool)
    return stations[keep].reset_index(drop=True)


def _in_street(buildings: gpd.GeoDataFrame, boundary: gpd.GeoDataFrame) -> NDArray[np.bool_]:
    if len(boundary) == 0 or len(buildings) == 0:
        return np.ones(len(buildings), dtype=bool)
    geom = shapely.make_valid(boundary.geometry.union_all())
    rep = buildings.geometry.representative_point().to_numpy()
    return np.asarray(shapely.covers(geom, rep), dtype=bool)


def _ids(values: pd.Series, prefix: str) -> list[str]:
    """The ids as text, ``<prefix><row>`` where one is missing."""
    return [
        str(v) if str(v) not in ("", "nan", "None") else f"{prefix}{i + 1}"
        for i, v in enumerate(values)
    ]


def compute_coverage(street: Street, *, settings: Settings | None = None) -> Coverage:
    """Walking times from every building to its nearest service station.

    Parameters
    ----------
    street
        A :class:`~planner.street.Street` (projected CRS).
    settings
        Walking speed, thresholds, service kinds, margin stations, snap distance.

    Returns
    -------
    Coverage
        Zero stations is not an error: every household is uncovered and
        ``problems`` says so.
    """
    settings = settings or Settings()
    net = from_street(street, settings=settings)
    stations, st_snap = _snap_stations(street, net, settings)
    rg = with_stations(net, st_snap)
    times = nearest_times(rg)
    b, b_snap = _time_buildings(street, net, rg, times, stations, settings)
    st_comp = point_components(net, st_snap)
    comps = components_table(
        net,
        building_component=b["component"].to_numpy(),
        households=b["households"].to_numpy(),
        station_component=st_comp,
    )
    # stranded: on a piece no station stands on, while some piece has one (with no
    # station on the network at all every household is simply uncovered)
    served = set(st_comp[st_comp >= 0].tolist())
    b["stranded"] = b_snap.ok & bool(served) & ~np.isin(b["component"].to_numpy(), list(served))
    problems = (
        _station_problems(stations, st_snap, settings)
        + _building_problems(b, b_snap, stations, settings)
        + _piece_problems(stations, piece_facts(net, b_snap, b.geometry.centroid), b, settings)
    )
    for p in problems:
        log.warning("%s", p)
    log.info("coverage: %d stations, %d buildings, %d pieces", len(stations), len(b), len(comps))
    return Coverage(
        settings=settings,
        net=net,
        rg=rg,
        stations=stations,
        times=times,
        buildings=b,
        components=comps,
        building_snap=b_snap,
        station_snap=st_snap,
        communities=street.communities,
        compounds=street.compounds,
        problems=problems,
    )


def _snap_stations(
    street: Street, net: WalkNetwork, settings: Settings
) -> tuple[gpd.GeoDataFrame, Snap]:
    """The service stations (ids filled in) with ``on_network``, ``snap_m`` and
    ``community_id``, and their snap onto public walkable links."""
    stations = service_stations(street.stations, settings)
    stations["station_id"] = _ids(stations["station_id"], "station")
    st_snap = snap_stations(net, stations, settings)
    stations["on_network"] = st_snap.ok
    stations["snap_m"] = np.round(st_snap.snap_m, 2)
    facts = piece_facts(net, st_snap, stations.geometry)
    stations["on_main_network"] = facts.on_main
    stations["piece_nodes"] = facts.nodes
    stations["piece_length_m"] = np.round(facts.length_m, 1)
    stations["main_network_m"] = np.round(facts.main_m, 1)
    stations["community_id"] = community_of(stations, street.communities)
    return stations, st_snap


def _time_buildings(
    street: Street,
    net: WalkNetwork,
    rg: RoutingGraph,
    times: NodeTimes,
    stations: gpd.GeoDataFrame,
    settings: Settings,
) -> tuple[gpd.GeoDataFrame, Snap]:
    """The street's buildings (those inside the boundary) with their walking time to
    the nearest station, that station, the time using stations inside the street
    only, their snap, network piece and ``covered_<T>`` flags."""
    inside = _in_street(street.buildings, street.boundary)
    b = street.buildings[inside].reset_index(drop=True)
    b["building_id"] = _ids(b["building_id"], "building")
    b_snap = snap_buildings(net, b, street.compounds, settings)
    t, st = point_times(rg, times, b_snap)
    b["time_min"] = t
    b["walk_m"] = t * settings.walk_m_per_min
    b["station"] = st
    ids = stations["station_id"].to_numpy(dtype=object)
    names = stations["name"].to_numpy(dtype=object)
    in_st = stations["in_street"].to_numpy(dtype=bool)
    has = st >= 0
    b["station_id"] = np.where(has, ids[np.maximum(st, 0)] if len(ids) else "", "")
    b["station_name"] = np.where(has, names[np.maximum(st, 0)] if len(ids) else "", "")
    b["via_margin"] = has & ~(in_st[np.maximum(st, 0)] if len(ids) else np.zeros(len(b), bool))
    if settings.count_margin_stations and (~in_st).any():
        inner = nearest_times(rg, stations=np.flatnonzero(in_st))
        b["time_street_min"] = point_times(rg, inner, b_snap)[0]
    else:
        b["time_street_min"] = t
    b["on_network"] = b_snap.ok
    b["snap_m"] = np.round(b_snap.snap_m, 2)
    b["component"] = point_components(net, b_snap)
    for thr in sorted(settings.thresholds_min):
        b[covered_column(thr)] = b["time_min"].to_numpy() <= thr + TIME_EPS_MIN
    b["access"] = gpd.GeoSeries(b_snap.access, crs=street.crs)
    return b, b_snap


def _station_problems(
    stations: gpd.GeoDataFrame, st_snap: Snap, settings: Settings
) -> list[Problem]:
    """Warnings: stations off the network; no service station on it at all."""
    problems = []
    off = stations.loc[~st_snap.ok, "station_id"].tolist()
    if off:
        problems.append(
            Problem.of(
                msg("cov_stations_off", n=len(off), snap=settings.snap_max_m, ids=off[:20]),
                fix=msg("cov_fix_station_coords"),
                file="stations",
                severity="warning",
            )
        )
    if len(stations) == 0 or not st_snap.ok.any():
        problems.append(
            Problem.of(
                msg("cov_no_station", kinds=list(settings.service_kinds)),
                fix=msg("cov_fix_no_station"),
                file="stations",
                severity="warning",
            )
        )
    return problems


def _building_problems(
    b: gpd.GeoDataFrame, b_snap: Snap, stations: gpd.GeoDataFrame, settings: Settings
) -> list[Problem]:
    """Warnings: buildings off the network; buildings on pieces no station reaches."""
    problems = []
    off_b = b.loc[~b_snap.ok]
    if len(off_b):
        problems.append(
            Problem.of(
                msg(
                    "cov_buildings_off",
                    n=len(off_b),
                    households=int(off_b["households"].sum()),
                    snap=settings.snap_max_m,
                    ids=off_b["building_id"].astype(str).head(20).tolist(),
                ),
                fix=msg("cov_fix_buildings_off"),
                file="buildings",
                severity="warning",
            )
        )
    stranded = b[b["stranded"]]
    if len(stranded) and len(stations):
        problems.append(
            Problem.of(
                msg(
                    "cov_stranded",
                    n=len(stranded),
                    households=int(stranded["households"].sum()),
                ),
                fix=msg("cov_fix_missing_links"),
                file="roads",
                severity="warning",
            )
        )
    return problems


def _label(feature_id: object, name: object) -> str:
    """``id (name)``, or the id alone when the name is empty."""
    text = "" if pd.isna(name) else str(name).strip()  # type: ignore[call-overload]
    return f"{feature_id} ({text})" if text else str(feature_id)


#: Pieces named one by one in the warning about buildings off the main network.
PIECES_LISTED = 10


def _piece_problems(
    stations: gpd.GeoDataFrame, b_facts: PieceFacts, b: gpd.GeoDataFrame, settings: Settings
) -> list[Problem]:
    """Warnings naming the stations and buildings attached to a piece of the walking
    network that is not the main one, with the piece's size (nodes, length) and the
    distance to the main network, metres."""
    problems = []
    slack = settings.snap_main_slack_m
    off = stations[stations["on_network"].astype(bool) & ~stations["on_main_network"]]
    if len(off):
        named = items(
            [
                msg(
                    "cov_station_piece",
                    station=_label(r.station_id, r.name),
                    nodes=r.piece_nodes,
                    length=r.piece_length_m,
                    main=r.main_network_m,
                )
                for r in off.itertuples(index=False)
            ],
            sep=CLAUSE_SEP,
        )
        problems.append(
            Problem.of(
                msg("cov_station_pieces", n=len(off), slack=slack, named=named),
                fix=msg("cov_fix_station_pieces"),
                file="stations",
                feature_id=str(off["station_id"].iloc[0]),
                severity="warning",
            )
        )
    sel = np.flatnonzero(b_facts.off_main)
    if len(sel):
        df = pd.DataFrame(
            {
                "piece": b_facts.component[sel],
                "nodes": b_facts.nodes[sel],
                "length_m": b_facts.length_m[sel],
                "main_m": b_facts.main_m[sel],
                "households": b["households"].to_numpy(dtype="float64")[sel],
                "building_id": b["building_id"].astype(str).to_numpy()[sel],
            }
        )
        per = df.groupby("piece").agg(
            nodes=("nodes", "first"),
            length_m=("length_m", "first"),
            main_m=("main_m", "min"),
            households=("households", "sum"),
            ids=("building_id", lambda x: ", ".join(list(x)[:5]) + (" ..." if len(x) > 5 else "")),
            buildings=("building_id", "size"),
        )
        per = per.sort_values("households", ascending=False)
        named = items(
            [
                msg(
                    "cov_building_piece",
                    piece=k,
                    nodes=r.nodes,
                    length=r.length_m,
                    main=r.main_m,
                    buildings=r.buildings,
                    households=r.households,
                    ids=r.ids,
                )
                for k, r in per.head(PIECES_LISTED).iterrows()
            ],
            sep=CLAUSE_SEP,
        )
        more = (
            msg("cov_more_pieces", n=len(per) - PIECES_LISTED) if len(per) > PIECES_LISTED else ""
        )
        problems.append(
            Problem.of(
                msg(
                    "cov_building_pieces",
                    n=len(sel),
                    households=df["households"].sum(),
                    pieces=len(per),
                    slack=slack,
                    named=named,
                    more=more,
                ),
                fix=msg("cov_fix_building_pieces"),
                file="roads",
                feature_id=str(df["building_id"].iloc[0]),
                severity="warning",
            )
        )
    return problems


def community_of(points: gpd.GeoDataFrame, communities: gpd.GeoDataFrame) -> NDArray[np.object_]:
    """The ``community_id`` each point lies in ("" outside every community), by position."""
    out = np.full(len(points), "", dtype=object)
    if len(points) == 0 or len(communities) == 0:
        return out
    hit = gpd.sjoin(
        gpd.GeoDataFrame(geometry=points.geometry.to_numpy(), crs=points.crs),
        communities[["community_id", "geometry"]],
        predicate="intersects",
    )
    hit = hit[~hit.index.duplicated()]
    out[hit.index.to_numpy()] = hit["community_id"].astype(str).to_numpy()
    return out


def assign_grids(buildings: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> NDArray[np.object_]:
    """Grid code of each building: the grid holding its representative point.

    Buildings whose point lies in no grid (slivers between grids) take the grid
    with the largest overlap, then the nearest grid.
    """
    out = np.full(len(buildings), "", dtype=object)
    if len(buildings) == 0 or len(grids) == 0:
        return out
    g = grids[["code", "geometry"]].to_crs(buildings.crs).reset_index(drop=True)
    rep = gpd.GeoDataFrame(
        geometry=buildings.geometry.representative_point().to_numpy(), crs=buildings.crs
    )
    hit = gpd.sjoin(rep, g, predicate="within")
    hit = hit[~hit.index.duplicated()]
    out[hit.index.to_numpy()] = hit["code"].astype(str).to_numpy()
    rest = np.flatnonzero(out == "")
    if len(rest):
        near = gpd.sjoin_nearest(rep.iloc[rest], g)
        near = near[~near.index.duplicated()]
        out[near.index.to_numpy()] = near["code"].astype(str).to_numpy()
    return out


def _figures_by(cov: Coverage, key: NDArray[np.object_], ids: Sequence[str]) -> pd.DataFrame:
    """Households/residents/buildings totals and within each threshold, per key."""
    b = cov.buildings
    df = pd.DataFrame(
        {
            "key": key,
            "households": b["households"].to_numpy(dtype="float64"),
            "population": b["population"].to_numpy(dtype="float64"),
            "buildings": 1.0,
            "stranded": np.where(b["stranded"], b["households"], 0).astype("float64"),
            "margin_only": 0.0,
        }
    )
    gap_t = cov.gap_minutes
    street_t = b["time_street_min"].to_numpy()
    df["margin_only"] = np.where(
        (b["time_min"].to_numpy() <= gap_t + TIME_EPS_MIN) & (street_t > gap_t + TIME_EPS_MIN),
        df["households"],
        0.0,
    )
    for thr in cov.thresholds:
        cov_t = b[covered_column(thr)].to_numpy()
        df[f"households_covered_{thr:g}"] = np.where(cov_t, df["households"], 0.0)
        df[f"population_covered_{thr:g}"] = np.where(cov_t, df["population"], 0.0)
        df[f"buildings_covered_{thr:g}"] = cov_t.astype("float64")
    agg = df.groupby("key").sum().reindex(list(ids), fill_value=0.0)
    out = pd.DataFrame({"id": list(ids)})
    out["households"] = agg["households"].to_numpy().round().astype("int64")
    # whole residents, as summary.json gives them (estimates carry no decimals of people)
    out["population"] = agg["population"].to_numpy().round().astype("int64")
    out["buildings"] = agg["buildings"].to_numpy().astype("int64")
    for thr in cov.thresholds:
        h = agg[f"households_covered_{thr:g}"].to_numpy()
        out[f"households_covered_{thr:g}"] = h.round().astype("int64")
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(out["households"] > 0, 100.0 * h / out["households"], np.nan)
        out[f"households_share_{thr:g}_pct"] = np.round(share, 1)
        out[f"population_covered_{thr:g}"] = (
            agg[f"population_covered_{thr:g}"].to_numpy().round().astype("int64")
        )
        out[f"buildings_covered_{thr:g}"] = (
            agg[f"buildings_covered_{thr:g}"].to_numpy().astype("int64")
        )
    out[f"households_uncovered_{gap_t:g}"] = (
        out["households"] - out[f"households_covered_{gap_t:g}"]
    )
    out[f"households_via_margin_{gap_t:g}"] = agg["margin_only"].to_numpy().round().astype("int64")
    out["households_stranded"] = agg["stranded"].to_numpy().round().astype("int64")
    return out


def area_figures(cov: Coverage, *, grids: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Coverage figures for the street, each community and each grid.

    Parameters
    ----------
    cov
        The coverage result.
    grids
        Optional grids (columns ``code``, ``community_id``, geometry); buildings
        belong to the grid holding their representative point.

    Returns
    -------
    DataFrame
        One row per area: ``level`` (street/community/grid), ``id``, ``name``,
        ``community_id``, ``households``, ``population``, ``buildings``, and per
        threshold T ``households_covered_T``, ``households_share_T_pct``,
        ``population_covered_T``, ``buildings_covered_T``; then
        ``households_uncovered_G``, ``households_via_margin_G`` (G = ``gap_minutes``; covered only
        thanks to stations outside the street), ``households_stranded``, and for
        communities the station floor area against the norm: ``stations``,
        ``station_floor_area_m2``, ``floor_area_norm_m2`` (max(500, 30 per 100
        households)) and ``floor_area_ok``.
    """
    b = cov.buildings
    street = _figures_by(cov, np.full(len(b), "street", dtype=object), ["street"])
    street.insert(0, "level", "street")
    street.insert(2, "name", "")
    street.insert(3, "community_id", "")
    frames = [street]
    comm = cov.communities
    comm_ids = [str(c) for c in comm["community_id"]] if len(comm) else []
    b_comm = b["community_id"].astype(str).to_numpy(dtype=object)
    extra = sorted(set(b_comm[b_comm != ""]) - set(comm_ids))
    ids = comm_ids + extra
    if ids:
        c = _figures_by(cov, b_comm, ids)
        names = dict(zip(comm_ids, comm["name"].astype(str), strict=False)) if len(comm) else {}
        c.insert(0, "level", "community")
        c.insert(2, "name", [names.get(i, "") for i in ids])
        c.insert(3, "community_id", ids)
        st = cov.stations
        in_c = st[st["community_id"] != ""]
        area = in_c.groupby("community_id")["floor_area_m2"].sum(min_count=1)
        count = in_c.groupby("community_id").size()
        n_st = np.array([int(count.get(i, 0)) for i in ids], dtype=np.int64)
        c["stations"] = pd.array(n_st, dtype="Int64")
        # no station: 0 m² (short of the norm); stations of unknown size: blank
        c["station_floor_area_m2"] = [
            float(area.get(i, np.nan)) if n > 0 else 0.0 for i, n in zip(ids, n_st, strict=True)
        ]
        s = cov.settings
        c["floor_area_norm_m2"] = np.maximum(
            s.community_min_floor_area_m2,
            c["households"].to_numpy() * s.floor_area_per_100_households_m2 / 100.0,
        ).round(1)
        fa = c["station_floor_area_m2"].to_numpy()
        c["floor_area_ok"] = pd.Series(
            fa >= c["floor_area_norm_m2"].to_numpy(), dtype="boolean"
        ).mask(np.isnan(fa))
        frames.append(c)
    if grids is not None and len(grids):
        codes = [str(x) for x in grids["code"]]
        g = _figures_by(cov, assign_grids(b, grids), codes)
        g.insert(0, "level", "grid")
        g.insert(2, "name", grids["name"].astype(str).tolist() if "name" in grids else "")
        g.insert(
            3,
            "community_id",
            grids["community_id"].astype(str).tolist() if "community_id" in grids else "",
        )
        frames.append(g)
    return pd.concat(frames, ignore_index=True)


def station_figures(cov: Coverage, *, circles: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Per service station: households served, circle area, floor area against the norm.

    ``households_served`` counts the households for which the station is the
    nearest (at any walking time); ``households_served_G`` those of them within the
    gap threshold G (``Settings.gap_minutes``). ``floor_area_per_100_households_m2`` is the station's floor
    area per 100 served households (norm: 30 m²); ``circle_area_m2_T`` comes from
    the station's own circles when ``circles`` (from
    :meth:`planner.coverage.circles.CircleBuilder.station_circles`) is given.
    """
    st = cov.stations
    b = cov.buildings
    n = len(st)
    gap_t = cov.gap_minutes
    sidx = b["station"].to_numpy()
    ok = sidx >= 0
    hh = b["households"].to_numpy(dtype="float64")
    within = ok & b[covered_column(gap_t)].to_numpy()
    served = np.bincount(sidx[ok], weights=hh[ok], minlength=n)
    served_t = np.bincount(sidx[within], weights=hh[within], minlength=n)
    nb = np.bincount(sidx[within], minlength=n)
    out = pd.DataFrame(
        {
            "station_id": st["station_id"].astype(str),
            "name": st["name"].astype(str),
            "kind": st["kind"].astype(str),
            "kind_zh": [STATION_KINDS.get(k, (k, k))[0] for k in st["kind"]],
            # the register's own words (what an ``other`` station is)
            "kind_text": (st["kind_text"] if "kind_text" in st else st["kind"]).astype(str),
            "in_street": st["in_street"].astype(bool),
            "community_id": st["community_id"],
            "on_network": st["on_network"].astype(bool),
            "snap_m": st["snap_m"],
            "on_main_network": st["on_main_network"].astype(bool),
            "piece_nodes": st["piece_nodes"].astype("int64"),
            "main_network_m": st["main_network_m"],
            "households_served": served.round().astype("int64"),
            f"households_served_{gap_t:g}": served_t.round().astype("int64"),
            f"buildings_served_{gap_t:g}": nb.astype("int64"),
            "floor_area_m2": st["floor_area_m2"].astype("float64"),
        }
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        per100 = np.where(served > 0, out["floor_area_m2"] / served * 100.0, np.nan)
    out["floor_area_per_100_households_m2"] = np.round(per100, 1)
    norm = cov.settings.floor_area_per_100_households_m2
    out["floor_area_ok"] = pd.Series(per100 >= norm, dtype="boolean").mask(np.isnan(per100))
    if circles is not None:  # the columns stay when there are no stations (empty table)
        for thr in cov.thresholds:
            sel = circles[circles["minutes"] == thr]
            area = dict(zip(sel["station"].astype(int), sel["area_m2"], strict=True))
            out[f"circle_area_m2_{thr:g}"] = [round(float(area.get(i, 0.0)), 1) for i in range(n)]
    return out


def uncovered_compounds(cov: Coverage) -> pd.DataFrame:
    """Compounds with households beyond the gap threshold (``Settings.gap_minutes``).

    Columns: ``compound_id``, ``name``, ``community_id``, ``households``,
    ``households_uncovered``, ``nearest_station_id``, ``nearest_station_name``,
    ``time_min`` (walk from the compound's closest uncovered building to that
    station, minutes; empty (NaN) if none reaches it), ``time_max_min``, ``walk_m``.
    Sorted by uncovered households, largest first.
    """
    b = cov.buildings
    gap_t = cov.gap_minutes
    unc = b[(~b[covered_column(gap_t)]) & (b["compound_id"] != "") & (b["households"] > 0)]
    cols = [
        "compound_id",
        "name",
        "community_id",
        "households",
        "households_uncovered",
        "nearest_station_id",
        "nearest_station_name",
        "time_min",
        "time_max_min",
        "walk_m",
    ]
    if len(unc) == 0:
        return pd.DataFrame(columns=cols)
    best = unc.sort_values("time_min").groupby("compound_id").head(1).set_index("compound_id")
    agg = unc.groupby("compound_id").agg(
        households_uncovered=("households", "sum"), time_max_min=("time_min", "max")
    )
    total = b[b["compound_id"] != ""].groupby("compound_id")["households"].sum()
    comp = cov.compounds.set_index(cov.compounds["compound_id"].astype(str))
    out = pd.DataFrame({"compound_id": agg.index.astype(str)})
    out["name"] = [str(comp["name"].get(c, "")) if len(comp) else "" for c in out["compound_id"]]
    out["community_id"] = [
        str(comp["community_id"].get(c, "")) if len(comp) else "" for c in out["compound_id"]
    ]
    out["households"] = total.reindex(out["compound_id"]).to_numpy().astype("int64")
    out["households_uncovered"] = agg["households_uncovered"].to_numpy().astype("int64")
    out["nearest_station_id"] = best.loc[out["compound_id"], "station_id"].to_numpy()
    out["nearest_station_name"] = best.loc[out["compound_id"], "station_name"].to_numpy()
    # no station reaches it: blank (NaN), as buildings.geojson gives null, never ``inf``
    t_best = _finite(best.loc[out["compound_id"], "time_min"].to_numpy())
    out["time_min"] = t_best.round(2)
    out["time_max_min"] = _finite(agg["time_max_min"].to_numpy()).round(2)
    out["walk_m"] = (t_best * cov.settings.walk_m_per_min).round(0)
    return out.sort_values(
        ["households_uncovered", "time_min"], ascending=[False, True]
    ).reset_index(drop=True)[cols]


def _finite(values: ArrayLike) -> NDArray[np.float64]:
    """Float copy with ``inf`` (not reached) as NaN, written as an empty cell or null."""
    a = np.asarray(values, dtype="float64")
    return np.where(np.isfinite(a), a, np.nan)


def data_completeness(b: pd.DataFrame) -> dict[str, Any] | None:
    """Buildings and households by source (:class:`planner.street.Completeness`), None
    for buildings without ``households_source`` (a street built by hand)."""
    if "households_source" not in b.columns or b.empty:
        return None
    return Completeness.of(b).to_dict()


def summary(cov: Coverage) -> dict[str, Any]:
    """The street totals, keyed by threshold in minutes (what ``summary.json`` holds)."""
    b = cov.buildings
    s = cov.settings
    gap_t = cov.gap_minutes
    hh = b["households"].to_numpy(dtype="float64")
    margin_only = (b["time_min"] <= gap_t + TIME_EPS_MIN) & (
        b["time_street_min"] > gap_t + TIME_EPS_MIN
    )

    def key(t: float) -> str:
        return f"{t:g}"

    return {
        "data_completeness": data_completeness(b),
        "walk_speed_kmh": s.walk_speed_kmh,
        "walk_m_per_min": round(s.walk_m_per_min, 3),
        "walking_speed_note": cov.speed_note,
        "thresholds_min": [float(t) for t in cov.thresholds],
        "households_total": round(hh.sum()),
        "population_total": round(float(b["population"].sum())),
        "buildings_total": len(b),
        "stations": len(cov.stations),
        "stations_in_street": int(cov.stations["in_street"].sum()),
        "stations_in_margin": int((~cov.stations["in_street"].astype(bool)).sum()),
        "stations_on_network": int(cov.stations["on_network"].sum()),
        "service_kinds": list(s.service_kinds),
        "count_margin_stations": s.count_margin_stations,
        "households_covered": {
            key(t): round(hh[b[covered_column(t)].to_numpy()].sum()) for t in cov.thresholds
        },
        "households_covered_pct": {
            key(t): (
                round(float(100.0 * hh[b[covered_column(t)].to_numpy()].sum() / hh.sum()), 2)
                if hh.sum() > 0
                else None
            )
            for t in cov.thresholds
        },
        "population_covered": {
            key(t): round(float(b.loc[b[covered_column(t)], "population"].sum()))
            for t in cov.thresholds
        },
        "buildings_covered": {key(t): int(b[covered_column(t)].sum()) for t in cov.thresholds},
        "gap_minutes": float(gap_t),
        f"households_uncovered_{gap_t:g}": round(hh[~b[covered_column(gap_t)].to_numpy()].sum()),
        f"households_via_margin_{gap_t:g}": round(hh[margin_only.to_numpy()].sum()),
        "households_stranded": round(hh[b["stranded"].to_numpy()].sum()),
        "households_off_network": round(hh[~b["on_network"].to_numpy()].sum()),
        "network_pieces": len(cov.components),
        "problems": [p.to_dict() for p in cov.problems],
    }
