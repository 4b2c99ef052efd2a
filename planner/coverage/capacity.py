"""Station capacity: floor area shared among the households that reach it (2SFCA).

A station within walking reach counts for nothing if it is a 60 m² room shared by 4,000
households. The two-step floating catchment area method (2SFCA; Luo & Wang 2003) with the
quarter-hour circle's minutes as catchment (``Settings.service_circle_minutes[2]``, 15):

1. each service station *j* shares its floor area ``S_j`` (m²) among the households
   ``P_j`` of the buildings within the catchment of it:
   ``R_j = 100 * S_j / P_j`` m² per 100 households;
2. each building *i* adds up the ratios of the stations it reaches:
   ``A_i = sum of R_j over the stations j within the catchment of i``.

``A_i`` is compared with the community service norm, ``Settings.floor_area_per_100_households_m2``
(30 m² per 100 households); a station with ``R_j`` below it is *overloaded*, an area
(grid, community, street) whose household-weighted mean ``A`` is below it is *below the
norm*. A station's ``capacity_households`` column, where given, replaces its floor area
by the area those households need under the norm (``capacity * 30 / 100`` m²); stations
of unknown size supply nothing and are flagged.

The station-building minutes are one bounded search per station on the compiled router
(:func:`planner.network.routing.station_point_minutes`), timed as the coverage times a
building. Minutes, metres, m².
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from planner.coverage.completeness import area_keys
from planner.coverage.figures import Coverage
from planner.network.routing import station_point_minutes


@dataclass
class Capacity:
    """The result of :func:`compute_capacity`.

    Attributes
    ----------
    catchment_min
        The catchment, minutes.
    norm_m2_per_100
        The norm, m² per 100 households.
    stations
        Per service station (rows of ``Coverage.stations``): ``station_id``,
        ``name``, ``kind``, ``community_id``, ``supply_m2``, ``supply_source``
        (floor_area / capacity / unknown), ``households_catchment``,
        ``m2_per_100_households`` (``R_j``), ``norm_met`` and ``overloaded``.
    building_m2_per_100
        ``A_i`` per building (rows of ``Coverage.buildings``), m² per 100 households.
    """

    catchment_min: float
    norm_m2_per_100: float
    stations: pd.DataFrame
    building_m2_per_100: NDArray[np.float64]


def station_supply(
    stations: pd.DataFrame, norm_m2_per_100: float
) -> tuple[NDArray[np.float64], NDArray[np.str_]]:
    """Each station's supply, m² (NaN when unknown), and where it comes from.

    ``capacity_households`` (when the column exists and the value is positive) wins
    over ``floor_area_m2``: it is turned into the floor area those households need.
    """
    area, cap = (
        pd.to_numeric(stations[c], errors="coerce").to_numpy(dtype=float)
        if c in stations.columns
        else np.full(len(stations), np.nan)
        for c in ("floor_area_m2", "capacity_households")
    )
    use_cap = np.isfinite(cap) & (cap > 0)
    supply = np.where(use_cap, cap * norm_m2_per_100 / 100.0, area)
    supply = np.where(np.isfinite(supply) & (supply >= 0), supply, np.nan)
    source = np.where(use_cap, "capacity", np.where(np.isfinite(supply), "floor_area", "unknown"))
    return supply, source


def two_step_fca(
    minutes: sp.csr_matrix, supply_m2: NDArray[np.float64], households: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """The two steps of 2SFCA on a station x building matrix of pairs within the catchment.

    Parameters
    ----------
    minutes
        CSR ``(stations, buildings)``: a stored entry (zero included) is a pair within
        the catchment.
    supply_m2
        Each station's floor area, m² (NaN: unknown, supplies nothing).
    households
        Each building's households.

    Returns
    -------
    households_catchment, ratio, access
        Per station the households within its catchment and ``R_j`` (m² per 100
        households; NaN when unknown or nobody is in reach); per building ``A_i``.
    """
    pattern = sp.csr_matrix(
        (np.ones(minutes.nnz), minutes.indices, minutes.indptr), shape=minutes.shape
    )
    demand = pattern @ households.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(demand > 0, 100.0 * supply_m2 / demand, np.nan)
    access = pattern.T @ np.nan_to_num(ratio, nan=0.0)
    return demand, ratio, np.asarray(access, dtype=float)


def compute_capacity(cov: Coverage) -> Capacity:
    """2SFCA of the coverage's service stations, catchment the 15-minute circle's minutes.

    Parameters
    ----------
    cov
        The coverage result: its service stations (``Settings.service_kinds``, margin
        ones when counted), routing graph and building snaps.
    """
    s = cov.settings
    catchment = float(s.service_circle_minutes[2])
    norm = float(s.floor_area_per_100_households_m2)
    minutes = station_point_minutes(cov.rg, cov.building_snap, limit_min=catchment)
    supply, source = station_supply(cov.stations, norm)
    hh = cov.buildings["households"].to_numpy(dtype=float)
    demand, ratio, access = two_step_fca(minutes, supply, hh)
    st = cov.stations
    ok = np.isfinite(ratio)
    table = pd.DataFrame(
        {
            "station_id": st["station_id"].astype(str).to_numpy(),
            "name": st["name"].astype(str).to_numpy(),
            "kind": st["kind"].astype(str).to_numpy(),
            "community_id": st["community_id"].astype(str).to_numpy(),
            "in_street": st["in_street"].astype(bool).to_numpy(),
            "supply_m2": np.round(supply, 1),
            "supply_source": source,
            "households_catchment": demand.round().astype("int64"),
            "m2_per_100_households": np.round(ratio, 2),
            "norm_m2_per_100_households": norm,
            "norm_met": pd.array(np.where(ok, ratio >= norm, False), dtype="boolean"),
            "overloaded": pd.array(np.where(ok, ratio < norm, False), dtype="boolean"),
        }
    )
    table.loc[~ok, ["norm_met", "overloaded"]] = pd.NA
    return Capacity(catchment, norm, table, access)


def capacity_by_area(
    cap: Capacity, cov: Coverage, *, grids: gpd.GeoDataFrame | None = None
) -> pd.DataFrame:
    """Per street, community and grid: the household-weighted mean ``A`` against the norm.

    Returns
    -------
    DataFrame
        ``level``, ``id``, ``name``, ``community_id``, ``households``,
        ``m2_per_100_households`` (mean of ``A_i`` weighted by households),
        ``households_below_norm`` (in buildings whose ``A_i`` is below the norm),
        ``below_norm`` (the mean is below the norm; empty without households).
    """
    hh = cov.buildings["households"].to_numpy(dtype=float)
    a = cap.building_m2_per_100
    below = a < cap.norm_m2_per_100 - 1e-9
    frames = []
    for area in area_keys(cov, grids):
        df = pd.DataFrame(
            {"key": area.key, "hh": hh, "ha": hh * a, "below": np.where(below, hh, 0)}
        )
        agg = df.groupby("key").sum().reindex(area.ids, fill_value=0.0)
        total = agg["hh"].to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.where(total > 0, agg["ha"].to_numpy() / total, np.nan)
        out = pd.DataFrame(
            {
                "level": area.level,
                "id": area.ids,
                "name": area.names,
                "community_id": area.community_ids,
                "households": total.round().astype("int64"),
                "m2_per_100_households": np.round(mean, 2),
                "households_below_norm": agg["below"].to_numpy().round().astype("int64"),
            }
        )
        flag = pd.array(mean < cap.norm_m2_per_100 - 1e-9, dtype="boolean")
        flag[np.isnan(mean)] = pd.NA
        out["below_norm"] = flag
        frames.append(out)
    return pd.concat(frames, ignore_index=True)
