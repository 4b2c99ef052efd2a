"""The ``Street`` bundle: everything the planner knows about one sub-district.

Every layer is a GeoDataFrame in the street's projected CRS (the local UTM zone,
chosen from the boundary), with the columns fixed in :mod:`planner.schema`.
WGS84 is used only at the edges: :meth:`Street.to_wgs84` for maps and GeoJSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from planner import schema
from planner.crs import WGS84
from planner.errors import Problem

#: Where a building's households come from (``households_source``), in report order:
#: the household register, the data (a layer's count, OSM ``building:flats``, or a
#: non-residential kind: 0), an estimate from floor area, unknown (a building whose
#: use the data does not say, outside residential land: 0, not known).
HOUSEHOLD_SOURCES: tuple[str, ...] = ("register", "data", "estimate", "unknown")
#: Above this share of estimated households, or of buildings of unknown use, every
#: report opens with a warning.
GUESS_WARN_SHARE = 0.5


@dataclass(frozen=True)
class Completeness:
    """How much of the households the data knows: buildings and households by source.

    Attributes
    ----------
    buildings, households
        Source (:data:`HOUSEHOLD_SOURCES`) -> buildings, and their households.
    non_residential
        Buildings of a stated non-residential kind (counted under ``data``, 0 households).
    """

    buildings: dict[str, int]
    households: dict[str, int]
    non_residential: int = 0

    @classmethod
    def of(cls, buildings: gpd.GeoDataFrame) -> Completeness:
        """The table of a buildings layer (``households_source``, ``households``, ``kind``)."""
        src = buildings["households_source"].astype(str)
        hh = buildings["households"].astype("int64")
        n = src.value_counts()
        h = hh.groupby(src).sum()
        data_zero = (src == "data") & (buildings["kind"] != "residential") & (hh == 0)
        return cls(
            buildings={k: int(n.get(k, 0)) for k in HOUSEHOLD_SOURCES},
            households={k: int(h.get(k, 0)) for k in HOUSEHOLD_SOURCES},
            non_residential=int(data_zero.sum()),
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Completeness:
        """The table back from :meth:`to_dict` (a ``summary.json``)."""
        src = d.get("sources", {})
        return cls(
            buildings={k: int(src.get(k, {}).get("buildings", 0)) for k in HOUSEHOLD_SOURCES},
            households={k: int(src.get(k, {}).get("households", 0)) for k in HOUSEHOLD_SOURCES},
            non_residential=int(d.get("non_residential_buildings", 0)),
        )

    @property
    def total_buildings(self) -> int:
        return sum(self.buildings.values())

    @property
    def total_households(self) -> int:
        return sum(self.households.values())

    @property
    def estimated_share(self) -> float:
        """Share of the households that are estimates (0 without households)."""
        total = self.total_households
        return self.households["estimate"] / total if total else 0.0

    @property
    def unknown_share(self) -> float:
        """Share of the buildings whose use, and so households, is unknown."""
        total = self.total_buildings
        return self.buildings["unknown"] / total if total else 0.0

    @property
    def warning(self) -> bool:
        """More than half of the households estimated, or of the buildings unknown."""
        return max(self.estimated_share, self.unknown_share) > GUESS_WARN_SHARE

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources": {
                k: {"buildings": self.buildings[k], "households": self.households[k]}
                for k in HOUSEHOLD_SOURCES
            },
            "buildings": self.total_buildings,
            "households": self.total_households,
            "non_residential_buildings": self.non_residential,
            "estimated_share": round(self.estimated_share, 4),
            "unknown_share": round(self.unknown_share, 4),
            "warning": self.warning,
        }

    def short(self, lang: str = "en") -> str:
        """One line for a map's footer: households by source, unknown buildings."""
        from planner.i18n import t

        return t(
            "completeness_short",
            lang,
            **{k: f"{self.households[k]:,}" for k in ("register", "data", "estimate")},
            unknown=f"{self.buildings['unknown']:,}",
        )

    def to_lines(self, lang: str = "en") -> list[str]:
        """The table as text lines (the warning first when there is one)."""
        from planner.i18n import t

        out = [completeness_warning(self, lang)] if self.warning else []
        out.append(t("completeness_title", lang))
        out.append(
            f"  {t('completeness_source', lang):<24}{t('completeness_buildings', lang):>10}"
            f"{t('completeness_households', lang):>12}"
        )
        for k in HOUSEHOLD_SOURCES:
            out.append(
                f"  {t(f'hh_source_{k}', lang):<24}{self.buildings[k]:>10,}{self.households[k]:>12,}"
            )
        out.append(
            f"  {t('completeness_total', lang):<24}{self.total_buildings:>10,}"
            f"{self.total_households:>12,}"
        )
        if self.non_residential:
            out.append("  " + t("completeness_non_residential", lang, n=self.non_residential))
        return out


def completeness_warning(c: Completeness, lang: str = "en") -> str:
    """The loud warning of a street whose households are mostly guessed."""
    from planner.i18n import t

    return t(
        "completeness_warning",
        lang,
        estimated=f"{c.estimated_share:.0%}",
        unknown=f"{c.unknown_share:.0%}",
        n_unknown=f"{c.buildings['unknown']:,}",
    )


#: Layers of a street, in the order reports and exports list them.
LAYER_NAMES: tuple[str, ...] = (
    "boundary",
    "communities",
    "compounds",
    "buildings",
    "gates",
    "roads",
    "barriers",
    "landuse",
    "nodes",
    "edges",
    "stations",
    "pois",
)


@dataclass
class LoadReport:
    """What a load found: counts, totals, estimates, repairs and warnings.

    ``completeness`` is the data-completeness table (buildings and households by source,
    :class:`Completeness`). ``network_components`` lists the connected pieces of the walking network that
    buildings are nearest to (and the largest piece), with node count and the
    buildings/households whose nearest link lies on it; ``network_pieces`` counts all
    pieces, including small ones away from every building (filled in by the loader). ``register`` holds the household-register join
    (matched rows, unmatched rows, unmatched buildings) when a register was given.
    """

    source: str
    street_name: str = ""
    crs: str = ""
    synthetic: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    households_total: int = 0
    households_estimated: int = 0
    population_total: float = 0.0
    stations_in_street: int = 0
    stations_in_margin: int = 0
    area_km2: float = 0.0
    network_length_km: float = 0.0
    network_components: list[dict[str, Any]] = field(default_factory=list)
    network_pieces: int = 0
    completeness: Completeness | None = None
    register: dict[str, Any] | None = None
    notes: list[Problem] = field(default_factory=list)
    derived: list[str] = field(default_factory=list)
    attribution: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Machine-readable report (what ``info --json`` prints)."""
        return {
            "source": self.source,
            "street_name": self.street_name,
            "crs": self.crs,
            "synthetic": self.synthetic,
            "area_km2": round(self.area_km2, 4),
            "counts": dict(self.counts),
            "households_total": int(self.households_total),
            "households_estimated": int(self.households_estimated),
            "completeness": self.completeness.to_dict() if self.completeness else None,
            "population_total": round(float(self.population_total), 1),
            "stations": int(self.stations_in_street + self.stations_in_margin),
            "stations_in_street": int(self.stations_in_street),
            "stations_in_margin": int(self.stations_in_margin),
            "network_length_km": round(self.network_length_km, 3),
            "network_pieces": int(self.network_pieces),
            "network_components": self.network_components,
            "register": self.register,
            "derived": list(self.derived),
            "notes": [p.to_dict() for p in self.notes],
            "attribution": self.attribution,
        }

    def to_text(self) -> str:
        """Human-readable report (what ``info`` prints); it opens with the data-completeness
        table (and its warning) when the street has buildings."""
        lines = self.completeness.to_lines("en") if self.completeness else []
        lines.append(f"Street: {self.street_name or '(unnamed)'}  source: {self.source}")
        if self.synthetic:
            lines.append("SYNTHETIC DATA: a made-up street for demonstration, not a real place.")
        lines.append(f"CRS for computation: {self.crs}   area: {self.area_km2:.2f} km²")
        lines.append("Layers:")
        for name, n in self.counts.items():
            lines.append(f"  {name:<12} {n:>7}")
        est = self.households_estimated
        lines.append(
            f"Households: {self.households_total:,} ({est:,} estimated from floor area)"
            f"   residents: {self.population_total:,.0f}"
        )
        lines.append(
            f"Stations: {self.stations_in_street} in the street, "
            f"{self.stations_in_margin} in the margin"
        )
        lines.append(f"Walking network: {self.network_length_km:.1f} km")
        pieces = max(self.network_pieces, len(self.network_components))
        if len(self.network_components) > 1:
            near = sum(1 for c in self.network_components if c.get("buildings", 0) > 0)
            lines.append(f"  {pieces} disconnected pieces, {near} of them nearest to buildings:")
            for c in self.network_components[:10]:
                lines.append(
                    f"    piece {c['component']}: {c['nodes']} nodes, "
                    f"{c.get('buildings', 0)} buildings, {c.get('households', 0)} households"
                )
        if self.register is not None:
            r = self.register
            lines.append(
                f"Household register: {r.get('rows_matched', 0)} rows matched, "
                f"{len(r.get('unmatched_rows', []))} unmatched rows, "
                f"{len(r.get('unmatched_buildings', []))} residential buildings not in it"
            )
        if self.derived:
            lines.append("Derived: " + "; ".join(self.derived))
        if self.notes:
            lines.append("Notes:")
            lines += [f"  - {p.severity}: {p}" for p in self.notes]
        if self.attribution:
            lines.append(self.attribution)
        return "\n".join(lines)


@dataclass
class Street:
    """One sub-district with all its layers, in one projected metric CRS.

    Attributes
    ----------
    name
        Street name (Chinese where known).
    crs
        The projected CRS every layer is in (local UTM zone).
    boundary, communities, compounds, buildings, gates, roads, barriers, landuse,
    nodes, edges, stations, pois
        Layers with the columns of :mod:`planner.schema`. ``nodes``/``edges`` are the
        walking network, loaded ``margin_m`` beyond the boundary; ``node_id`` equals
        the row position, and ``u``/``v`` refer to it.
    report
        The :class:`LoadReport` of the load.
    synthetic
        True for the embedded demo street (made up, not a real place).
    attribution
        Data credit to print on maps ("© OpenStreetMap contributors" for OSM data).
    meta
        The source's own metadata: a folder's ``street.json`` (``code_county``,
        ``code_street``, ``points_crs``, ...), ``{"name": ...}`` for OpenStreetMap.
    """

    name: str
    crs: CRS
    boundary: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    compounds: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    gates: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    barriers: gpd.GeoDataFrame
    landuse: gpd.GeoDataFrame
    nodes: gpd.GeoDataFrame
    edges: gpd.GeoDataFrame
    stations: gpd.GeoDataFrame
    pois: gpd.GeoDataFrame
    report: LoadReport
    synthetic: bool = False
    attribution: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def boundary_geom(self) -> BaseGeometry:
        """The street boundary as one shapely geometry (projected CRS, metres)."""
        return self.boundary.geometry.union_all()

    @property
    def households_total(self) -> int:
        return int(self.buildings["households"].sum())

    def layer(self, name: str) -> gpd.GeoDataFrame:
        if name not in LAYER_NAMES:
            raise KeyError(f"unknown layer {name!r}; layers: {', '.join(LAYER_NAMES)}")
        gdf: gpd.GeoDataFrame = getattr(self, name)
        return gdf

    def to_wgs84(self, name: str) -> gpd.GeoDataFrame:
        """Layer ``name`` reprojected to WGS84 longitude/latitude (EPSG:4326)."""
        return self.layer(name).to_crs(WGS84)

    def with_layers(self, **layers: gpd.GeoDataFrame) -> Street:
        """A copy with some layers replaced (conformed to the schema)."""
        conformed = {k: schema.conform(k, v) for k, v in layers.items()}
        return replace(self, **conformed)


def from_layers(
    layers: dict[str, gpd.GeoDataFrame],
    *,
    crs: Any,
    name: str = "",
    source: str = "layers",
    synthetic: bool = False,
    attribution: str = "",
    meta: dict[str, Any] | None = None,
) -> Street:
    """Build a :class:`Street` from layers already in the projected ``crs``.

    Missing layers become empty layers; every layer is conformed to the schema.
    No validation beyond that: loaders (:mod:`planner.load.sources`) validate first. Tests
    and the grid/coverage code use this to make small hand-built streets.
    """
    crs_obj = CRS.from_user_input(crs)
    unknown = sorted(set(layers) - set(LAYER_NAMES))
    if unknown:
        raise KeyError(f"unknown layer(s) {unknown}; layers: {', '.join(LAYER_NAMES)}")
    full: dict[str, gpd.GeoDataFrame] = {}
    for lname in LAYER_NAMES:
        gdf = layers.get(lname)
        if gdf is None:
            full[lname] = schema.empty(lname, crs_obj)
        else:
            if gdf.crs is None or not CRS.from_user_input(gdf.crs).equals(crs_obj):
                raise ValueError(f"layer {lname} is in {gdf.crs}, expected {crs_obj.to_string()}")
            full[lname] = schema.conform(lname, gdf.reset_index(drop=True))
    report = LoadReport(
        source=source,
        street_name=name,
        crs=crs_obj.to_string(),
        synthetic=synthetic,
        attribution=attribution,
    )
    report.counts = {k: len(v) for k, v in full.items()}
    return Street(
        name=name,
        crs=crs_obj,
        report=report,
        synthetic=synthetic,
        attribution=attribution,
        meta=dict(meta or {}),
        **full,
    )
