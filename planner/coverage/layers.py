"""Coverage outputs as layers and tables: circles, gaps, buildings and figures.

Everything is in the street's projected CRS; writers convert to WGS84 at the edge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.coverage.budget import check_circle_work, estimate_circle_work
from planner.coverage.capacity import Capacity, capacity_by_area, compute_capacity
from planner.coverage.circles import gap_polygons
from planner.coverage.completeness import (
    ServiceCompleteness,
    completeness_by_area,
    compute_completeness,
    needs_by_area,
)
from planner.coverage.figures import (
    Coverage,
    area_figures,
    compute_coverage,
    covered_column,
    station_figures,
    summary,
    uncovered_compounds,
)
from planner.settings import Settings
from planner.street import Street


@dataclass
class ServiceLayers:
    """Service completeness and capacity as layers and tables (street CRS).

    Attributes
    ----------
    completeness, capacity
        The computed results (:mod:`planner.coverage.completeness`,
        :mod:`planner.coverage.capacity`).
    by_area
        Per street, community and grid: :func:`~planner.coverage.completeness.completeness_by_area`
        joined with :func:`~planner.coverage.capacity.capacity_by_area` (``level``, ``id``).
    buildings
        The completeness layer: each building with its ``reach_<kind>`` and
        ``complete_<circle>`` flags, ``missing_kinds``, ``missing`` and
        ``m2_per_100_households`` (2SFCA floor area within reach, m² per 100 households).
    stations
        Capacity per service station (:attr:`planner.coverage.capacity.Capacity.stations`).
    """

    completeness: ServiceCompleteness
    capacity: Capacity
    by_area: pd.DataFrame
    buildings: gpd.GeoDataFrame
    stations: pd.DataFrame
    #: The "一老一小" view (:func:`~planner.coverage.completeness.needs_by_area`): empty
    #: unless the buildings carry residents by age from a register.
    needs: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: The grids ``by_area`` was computed with (the same frame object), or ``None``:
    #: :func:`service_grid_table` reuses its grid rows for them instead of computing
    #: them again.
    grids: gpd.GeoDataFrame | None = None

    def table(self, level: str) -> pd.DataFrame:
        """Completeness and capacity of one level: ``street``, ``community`` or ``grid``."""
        t = self.by_area
        return t[t["level"] == level].drop(columns=["level"]).reset_index(drop=True)

    def summary(self) -> dict[str, Any]:
        """Street totals for ``summary.json``: shares per kind and circle, capacity."""
        row = self.table("street").iloc[0]
        kinds = self.completeness.kinds
        return {
            "service_kinds": list(kinds),
            "circle_minutes": {k: self.completeness.minutes[k] for k in kinds},
            "households_share_pct": {k: _num(row[f"share_{k}_pct"]) for k in kinds},
            "complete_pct": {c: _num(row[f"complete_{c}_pct"]) for c in self.completeness.circles},
            "complete_all_pct": _num(row["complete_all_pct"]),
            "missing_most": str(row["missing_most"]),
            "facilities": len(self.completeness.points),
            "capacity_catchment_min": self.capacity.catchment_min,
            "m2_per_100_households": _num(row["m2_per_100_households"]),
            "stations_overloaded": self.stations.loc[
                self.stations["overloaded"].fillna(False).astype(bool), "station_id"
            ].tolist(),
            "communities_below_norm": self.table("community")
            .loc[lambda t: t["below_norm"].fillna(False).astype(bool), "id"]
            .tolist(),
        }


def _num(v: object) -> float | None:
    """A figure for JSON: ``None`` for NaN."""
    f = float(v)  # type: ignore[arg-type]
    return None if np.isnan(f) else f


def service_by_area(
    comp: ServiceCompleteness,
    cap: Capacity,
    cov: Coverage,
    *,
    grids: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Completeness and capacity per street, community and grid, one row per area."""
    by_area = completeness_by_area(comp, cov, grids=grids)
    cap_area = capacity_by_area(cap, cov, grids=grids)
    return by_area.merge(
        cap_area[["level", "id", "m2_per_100_households", "households_below_norm", "below_norm"]],
        on=["level", "id"],
        how="left",
    )


def service_grid_table(layers: CoverageLayers, grids: gpd.GeoDataFrame) -> pd.DataFrame:
    """Completeness and capacity per grid of ``grids`` (``code`` first), whether or not the
    coverage was computed with these grids (the app computes it before the grids; when
    it was, with this very frame, its rows are reused: ~0.5 CPU s a street of ~5,000
    buildings)."""
    sv = layers.services
    if sv is None:
        return pd.DataFrame()
    if sv.grids is grids:  # by_area holds these grids' rows (the pipeline's case)
        t = sv.table("grid")
    else:
        t = service_by_area(sv.completeness, sv.capacity, layers.coverage, grids=grids)
        t = t[t["level"] == "grid"].drop(columns=["level"]).reset_index(drop=True)
    t = t.rename(columns={"id": "code"})
    if "code_provisional" in grids.columns:  # a provisional code says so in every grid file
        t.insert(1, "code_provisional", grids["code_provisional"].astype(bool).to_numpy())
    return t


def compute_service_layers(
    cov: Coverage,
    street: Street,
    *,
    grids: gpd.GeoDataFrame | None = None,
    mapping: Mapping[str, str] | None = None,
) -> ServiceLayers:
    """Completeness of the service circles and 2SFCA capacity, as layers and tables."""
    comp = compute_completeness(cov, street, mapping=mapping)
    cap = compute_capacity(cov)
    by_area = service_by_area(comp, cap, cov, grids=grids)
    b = cov.buildings
    # the reach flags say which kinds; the text list would overflow a Shapefile field
    layer = comp.buildings.drop(columns=["population", "missing"]).copy()
    layer.insert(1, "name", b["name"].astype(str).to_numpy())
    layer["m2_per_100_households"] = np.round(cap.building_m2_per_100, 2)
    gdf = gpd.GeoDataFrame(layer, geometry=b.geometry.to_numpy(), crs=b.crs)
    needs = needs_by_area(comp, cov, grids=grids)
    return ServiceLayers(comp, cap, by_area, gdf, cap.stations, needs, grids=grids)


@dataclass
class CoverageLayers:
    """Coverage outputs as layers and tables (street CRS).

    ``circles`` has one row per station and threshold (``view="station"``), the
    street split by nearest station (``view="nearest"``) and the union per
    threshold (``view="union"``); ``minutes`` and ``threshold_min`` give the
    threshold. ``gaps`` are residential areas beyond the gap threshold
    (``Settings.gap_minutes``, 15 minutes by default).
    """

    coverage: Coverage
    circles: gpd.GeoDataFrame
    gaps: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    by_area: pd.DataFrame
    stations: pd.DataFrame
    uncovered_compounds: pd.DataFrame
    summary: dict[str, Any]
    services: ServiceLayers | None = None

    @property
    def union_circles(self) -> gpd.GeoDataFrame:
        c = self.circles
        return c[c["view"] == "union"] if "view" in c.columns else c

    @property
    def compounds(self) -> pd.DataFrame:
        """Uncovered compounds (what the red map's compound table reads)."""
        return self.uncovered_compounds

    def table(self, level: str) -> pd.DataFrame:
        """Coverage figures of one level: ``street``, ``community`` or ``grid``."""
        t = self.by_area
        return t[t["level"] == level].drop(columns=["level"]).reset_index(drop=True)


def compute_coverage_layers(
    street: Street,
    *,
    settings: Settings,
    grids: gpd.GeoDataFrame | None = None,
) -> CoverageLayers:
    """Walking coverage of ``street`` as layers and tables (street CRS).

    The one place coverage outputs are assembled: the ``coverage`` command, the
    ``run``/``demo`` pipeline and the app all call it, so their figures agree. It
    includes the service circles' completeness and capacity (:class:`ServiceLayers`).
    """
    cov = compute_coverage(street, settings=settings)
    work = estimate_circle_work(cov)
    check_circle_work(work, cov)
    thresholds = list(cov.thresholds)
    builder = cov.circle_builder()
    ids = cov.stations["station_id"].astype(str).tolist()
    own = builder.station_circles(None, thresholds, station_ids=ids)
    union = builder.union_circles(cov.times, thresholds)
    nearest = builder.nearest_split(cov.times, union, station_ids=ids)
    circles = circles_layer(cov, own, nearest, union)
    gap_t = cov.gap_minutes
    b = cov.buildings
    uncovered = b[~b[covered_column(gap_t)] & (b["households"] > 0)]
    at_gap = union[union["minutes"] == gap_t] if len(union) else union
    covered_geom = at_gap.geometry.iloc[0] if len(at_gap) else shapely.Polygon()
    gaps = gap_polygons(street.compounds, b, covered_geom, uncovered_buildings=uncovered)
    gaps["area_m2"] = gaps["area_m2"].round(1)
    gaps["minutes"] = gap_t
    gaps["speed_kmh"] = settings.walk_speed_kmh
    s = summary(cov)
    s["gaps"] = len(gaps)
    s["gap_area_m2"] = round(float(gaps["area_m2"].sum()), 1) if len(gaps) else 0.0
    s["circle_work"] = work.to_dict()
    services = compute_service_layers(cov, street, grids=grids)
    s["services"] = services.summary()
    return CoverageLayers(
        coverage=cov,
        circles=circles,
        gaps=gaps,
        buildings=buildings_layer(cov),
        by_area=area_figures(cov, grids=grids),
        stations=station_figures(cov, circles=own),
        uncovered_compounds=uncovered_compounds(cov),
        summary=s,
        services=services,
    )


def circles_layer(
    cov: Coverage, own: gpd.GeoDataFrame, nearest: gpd.GeoDataFrame, union: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """One layer of every circle: per station, nearest-station split, union per threshold."""
    names = dict(
        zip(cov.stations["station_id"].astype(str), cov.stations["name"].astype(str), strict=True)
    )
    frames = []
    for view, gdf in (("station", own), ("nearest", nearest)):
        g = gdf[["station_id", "minutes", "area_m2", "geometry"]].copy()
        g.insert(0, "view", view)
        g.insert(2, "station_name", g["station_id"].map(names).fillna(""))
        frames.append(g)
    u = union[["minutes", "area_m2", "geometry"]].copy()
    u.insert(0, "view", "union")
    u.insert(1, "station_id", "")
    u.insert(2, "station_name", "")
    frames.append(u)
    crs = cov.net.crs
    df = pd.concat(frames, ignore_index=True)
    gdf = gpd.GeoDataFrame(df, geometry="geometry", crs=crs)
    gdf = gdf[~gdf.geometry.is_empty].reset_index(drop=True)
    gdf["area_m2"] = gdf["area_m2"].round(1)
    gdf.insert(gdf.columns.get_loc("minutes") + 1, "threshold_min", gdf["minutes"].astype(float))
    gdf["speed_kmh"] = cov.settings.walk_speed_kmh
    gdf["note"] = cov.speed_note
    return gdf


def buildings_layer(cov: Coverage) -> gpd.GeoDataFrame:
    """Buildings with walking time (min), distance (m), nearest station and access point."""
    b = cov.buildings
    keep = [
        "building_id",
        "name",
        "kind",
        "compound_id",
        "community_id",
        "households",
        "population",
        "households_estimated",
        "households_source",
        "time_min",
        "walk_m",
        "station_id",
        "station_name",
        "via_margin",
        "on_network",
        "snap_m",
        "component",
        "stranded",
    ]
    keep += [covered_column(t) for t in cov.thresholds]
    out = gpd.GeoDataFrame(b[keep].copy(), geometry=b.geometry, crs=b.crs)
    finite = np.isfinite(out["time_min"].to_numpy())
    out["time_min"] = np.where(finite, out["time_min"].round(3), np.nan)
    out["walk_m"] = np.where(finite, out["walk_m"].round(1), np.nan)
    acc = gpd.GeoSeries(b["access"], crs=b.crs).to_crs("EPSG:4326")
    out["access_lon"] = np.round(acc.x.to_numpy(), 7)
    out["access_lat"] = np.round(acc.y.to_numpy(), 7)
    out["speed_kmh"] = cov.settings.walk_speed_kmh
    return out
