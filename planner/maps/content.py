"""What the red map shows: the features of every layer, gathered once for both maps.

:func:`map_content` takes the street, the coverage layers
(:class:`planner.coverage.layers.CoverageLayers`), the grid layer and proposed sites,
and returns a :class:`MapContent`: each layer's features (street CRS, metres), the
popup columns of compounds and buildings (households, walking time, nearest station)
and the legend. The HTML map (:mod:`planner.maps.redmap`) and the PNG/PDF map
(:mod:`planner.maps.image`) both draw from it, so they show the same things.

Inputs are never changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from planner.coverage.layers import CoverageLayers
from planner.maps.style import (
    MAJOR_HIGHWAYS,
    RAILWAY_KINDS,
    LayerKey,
    LegendEntry,
    legend_entries,
)
from planner.schema import SERVICE_KINDS, STATION_KINDS
from planner.street import Street


@dataclass(frozen=True)
class CutOff:
    """A station on a piece of the walking network that is not the main network:
    the piece's ``nodes`` and the distance ``main_m`` (metres) to the main network."""

    nodes: int
    main_m: float


@dataclass(frozen=True)
class MapContent:
    """The features of every map layer, in the street's projected CRS (metres).

    Attributes
    ----------
    street
        The street (boundary, communities, landuse, stations ... are drawn as they are).
    coverage
        The coverage layers, or ``None`` (no circles, gaps or coverage columns).
    circles
        The union circle of each threshold (``threshold_min``, minutes), or ``None``.
    thresholds
        The thresholds of ``circles``, minutes, ascending (empty without circles).
    compounds
        Compounds with ``households`` and, with coverage, ``time_min`` (walk from the
        compound's farthest residential building to its nearest station, minutes),
        ``nearest_station`` (that station's name) and ``covered`` (bool: no household
        beyond the gap threshold).
    grids
        The grid layer (``grid_id``, ``code``, ``community_id``, ``households``), or ``None``.
    sites
        Proposed new station sites (points), or ``None``.
    atoms
        Grid atoms (``atom_id``, ``grid_id``, ``households``) for the grid editor, or ``None``.
    station_households
        Station id -> households for which it is the nearest station.
    cut_off_stations
        Station id -> :class:`CutOff` of the stations cut off from the main walking
        network (drawn with their own symbol and said so in their popup).
    """

    street: Street
    coverage: CoverageLayers | None
    circles: gpd.GeoDataFrame | None
    thresholds: tuple[float, ...]
    compounds: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame | None = None
    sites: gpd.GeoDataFrame | None = None
    atoms: gpd.GeoDataFrame | None = None
    station_households: Mapping[str, int] = field(default_factory=dict)
    cut_off_stations: Mapping[str, CutOff] = field(default_factory=dict)

    @property
    def gaps(self) -> gpd.GeoDataFrame | None:
        """Residential areas beyond the gap threshold, or ``None`` without coverage."""
        gaps = None if self.coverage is None else self.coverage.gaps
        return gaps if gaps is not None and len(gaps) else None

    @property
    def completeness(self) -> gpd.GeoDataFrame | None:
        """Buildings with households: ``missing_kinds`` (service kinds not reached within
        their circle), ``missing`` (their Chinese names) and ``m2_per_100_households``
        (2SFCA), or ``None`` without the services (:class:`planner.coverage.layers.ServiceLayers`)."""
        services = None if self.coverage is None else self.coverage.services
        if services is None:
            return None
        b = services.buildings
        b = b[b["households"] > 0]
        if len(b) == 0:
            return None
        keep = ["building_id", "name", "households", "missing_kinds", "m2_per_100_households"]
        out = b[[*keep, "geometry"]].copy()
        kinds = services.completeness.kinds
        flags = b[[f"reach_{k}" for k in kinds]].to_numpy(dtype=bool)
        names = [SERVICE_KINDS[k].zh for k in kinds]
        out["missing"] = [
            "、".join(n for n, ok in zip(names, row, strict=True) if not ok) for row in flags
        ]
        return out

    @property
    def uncovered(self) -> gpd.GeoDataFrame | None:
        """Compounds with households beyond the gap threshold (``None`` without coverage)."""
        if "covered" not in self.compounds.columns:
            return None
        return self.compounds[~self.compounds["covered"].astype(bool)]

    @property
    def major_roads(self) -> gpd.GeoDataFrame:
        """Roads of the classes in :data:`planner.maps.style.MAJOR_HIGHWAYS`."""
        roads = self.street.roads
        return roads[roads["highway"].isin(MAJOR_HIGHWAYS)]

    @property
    def minor_roads(self) -> gpd.GeoDataFrame:
        """Every other road and path."""
        roads = self.street.roads
        return roads[~roads["highway"].isin(MAJOR_HIGHWAYS)]

    @property
    def rivers(self) -> gpd.GeoDataFrame:
        """Barriers that are not railways (rivers, canals; polygons or lines)."""
        bar = self.street.barriers
        return bar[~bar["kind"].astype(str).str.lower().isin(RAILWAY_KINDS)]

    @property
    def railways(self) -> gpd.GeoDataFrame:
        """Barriers of a railway kind (lines)."""
        bar = self.street.barriers
        return bar[bar["kind"].astype(str).str.lower().isin(RAILWAY_KINDS)]

    def station_kinds(self) -> list[str]:
        """Kinds of the stations present, in :data:`planner.schema.STATION_KINDS` order."""
        present = set(self.street.stations["kind"].astype(str))
        return [k for k in STATION_KINDS if k in present]

    def has(self, layer: LayerKey) -> bool:
        """Whether ``layer`` has features to draw (a map draws only those layers)."""
        s = self.street
        # only the layer asked for is built: ``completeness`` makes a frame of every
        # building (about 10 ms on the demo street), and a map asks for every layer
        optional: dict[str, Callable[[], object]] = {
            "circles": lambda: self.circles,
            "gaps": lambda: self.gaps,
            "grids": lambda: self.grids,
            "atoms": lambda: self.atoms,
            "sites": lambda: self.sites,
            "completeness": lambda: self.completeness,
        }
        if layer in optional:
            return optional[layer]() is not None
        if layer == "uncovered":
            return self.uncovered is not None and len(self.uncovered) > 0
        frames: dict[str, gpd.GeoDataFrame] = {
            "landuse": s.landuse,
            "communities": s.communities,
            "compounds": s.compounds,
            "buildings": s.buildings,
            "roads": s.roads,
            "barriers": s.barriers,
            "boundary": s.boundary,
            "stations": s.stations,
        }
        return len(frames[layer]) > 0

    def drawn_parts(self) -> set[str]:
        """The legend parts (:data:`planner.maps.style.LEGEND_PARTS`) this content draws."""
        parts: dict[str, bool] = {
            "roads_major": len(self.major_roads) > 0,
            "rivers": len(self.rivers) > 0,
            "railways": len(self.railways) > 0,
        }
        whole: tuple[LayerKey, ...] = (
            "gaps",
            "uncovered",
            "grids",
            "communities",
            "compounds",
            "boundary",
        )
        parts.update({layer: self.has(layer) for layer in whole})
        return {part for part, drawn in parts.items() if drawn}

    def legend(self, lang: str = "zh") -> list[LegendEntry]:
        """The legend rows of this content (both maps show exactly these)."""
        return legend_entries(
            kinds=self.station_kinds(),
            thresholds=self.thresholds,
            parts=self.drawn_parts(),
            sites=self.has("sites"),
            lang=lang,
        )


def map_content(
    street: Street,
    *,
    coverage: CoverageLayers | None = None,
    grids: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    atoms: gpd.GeoDataFrame | None = None,
) -> MapContent:
    """Gather what the maps draw from ``street`` and the optional results.

    Parameters
    ----------
    street
        The loaded street (layers in its UTM CRS).
    coverage
        From :func:`planner.coverage.layers.compute_coverage_layers`: its union circles,
        gaps, per-building times (``time_min``, ``station_name``), uncovered compounds
        and per-station ``households_served`` are drawn.
    grids
        The grid layer (:attr:`planner.grids.division.GridResult.grids` or an edited copy).
    sites
        Proposed station sites (points; ``site_id``, ``name``, ``households_gained`` or
        ``households_newly_covered``).
    atoms
        Grid atoms for the editor.
    """
    circles = None if coverage is None else _union_circles(coverage)
    thresholds = (
        tuple(sorted({float(v) for v in circles["threshold_min"]})) if circles is not None else ()
    )
    return MapContent(
        street=street,
        coverage=coverage,
        circles=circles,
        thresholds=thresholds,
        compounds=compound_table(street, coverage),
        grids=grids if grids is not None and len(grids) else None,
        sites=sites if sites is not None and len(sites) else None,
        atoms=atoms if atoms is not None and len(atoms) else None,
        station_households=_station_households(coverage),
        cut_off_stations=_cut_off_stations(coverage),
    )


def _union_circles(coverage: CoverageLayers) -> gpd.GeoDataFrame | None:
    """One polygon per threshold (the union view), ``threshold_min`` as float minutes."""
    circles = coverage.union_circles
    if circles is None or len(circles) == 0:
        return None
    out = circles.copy()
    col = "threshold_min" if "threshold_min" in out.columns else "minutes"
    out["threshold_min"] = out[col].astype(float)
    return out


def _station_households(coverage: CoverageLayers | None) -> dict[str, int]:
    """Station id -> households for which it is the nearest station."""
    if coverage is None:
        return {}
    st = coverage.stations
    if len(st) == 0 or "households_served" not in st.columns:
        return {}
    served = pd.to_numeric(st["households_served"], errors="coerce").fillna(0).round()
    return dict(zip(st["station_id"].astype(str), served.astype(int), strict=True))


def _cut_off_stations(coverage: CoverageLayers | None) -> dict[str, CutOff]:
    """Station id -> :class:`CutOff` of the stations not on the main network."""
    if coverage is None:
        return {}
    st = coverage.stations
    if len(st) == 0 or "on_main_network" not in st.columns:
        return {}
    off = st[st["on_network"].astype(bool) & ~st["on_main_network"].astype(bool)]
    ids = off["station_id"].astype(str).tolist()
    nodes = off["piece_nodes"].to_numpy(dtype="int64").tolist()
    main_m = off["main_network_m"].to_numpy(dtype="float64").tolist()
    return {i: CutOff(n, d) for i, n, d in zip(ids, nodes, main_m, strict=True)}


def building_table(street: Street, coverage: CoverageLayers | None) -> gpd.GeoDataFrame:
    """Buildings with households and, with coverage, ``time_min`` (minutes, 0.1) and
    ``nearest_station`` (the name of the nearest station)."""
    b = street.buildings[["building_id", "name", "households", "compound_id", "geometry"]].copy()
    if coverage is not None:
        times = coverage.buildings.drop_duplicates("building_id")
        times = times.set_index(times["building_id"].astype(str))
        key = b["building_id"].astype(str)
        b["time_min"] = pd.to_numeric(key.map(times["time_min"]), errors="coerce").round(1)
        names = times["station_name"] if "station_name" in times.columns else None
        nearest = key.map(names) if names is not None else pd.Series(None, index=b.index)
        b["nearest_station"] = nearest.astype(object).fillna("").astype(str)
    return gpd.GeoDataFrame(b, geometry="geometry", crs=street.crs)


def compound_table(street: Street, coverage: CoverageLayers | None) -> gpd.GeoDataFrame:
    """Compounds with households and, with coverage, walking time, nearest station, covered.

    ``time_min`` is the walk from the compound's farthest residential building to its
    nearest station (minutes, 0.1), ``nearest_station`` that station's name, and
    ``covered`` is false for the compounds in ``coverage.uncovered_compounds``.
    """
    c = street.compounds[["compound_id", "name", "geometry"]].copy()
    households = street.buildings.groupby("compound_id")["households"].sum()
    c["households"] = c["compound_id"].map(households).fillna(0).astype(int)
    if coverage is None:
        return gpd.GeoDataFrame(c, geometry="geometry", crs=street.crs)
    b = building_table(street, coverage)
    b = b[(b["compound_id"] != "") & (b["households"] > 0)]
    worst = (
        b.sort_values("time_min", na_position="first")
        .groupby("compound_id")
        .agg(time_min=("time_min", "last"), nearest_station=("nearest_station", "last"))
    )
    c["time_min"] = c["compound_id"].map(worst["time_min"])
    nearest = c["compound_id"].map(worst["nearest_station"]).astype(object)
    c["nearest_station"] = nearest.fillna("").astype(str)
    uncovered = set(coverage.uncovered_compounds["compound_id"].astype(str))
    c["covered"] = ~c["compound_id"].astype(str).isin(uncovered)
    return gpd.GeoDataFrame(c, geometry="geometry", crs=street.crs)
