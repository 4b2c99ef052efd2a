"""Synthetic Chinese sub-districts (街道): the embedded demo street and benchmark cases.

A deterministic generator (``numpy.random.Generator`` seeded from the spec) of a
made-up but realistic street: an arterial road grid with smaller roads, a river
crossed only at a few bridges, an optional railway, communities (社区) that tile
the street exactly along roads and the river, gated compounds (小区) with gates and
internal paths, residential buildings with floors and households, schools, shops,
a park, a campus, party-mass service stations and candidate sites.

Geometry is built in a local metric frame (metres, x east, y north, the street's
bounding box centred on the origin), shifted into the local UTM zone of
``origin_lon``/``origin_lat`` and converted to WGS84 at the end. The result is a
:class:`SyntheticStreet` whose ``layers`` are WGS84 GeoDataFrames in the folder
format of ``/data/demo`` (see ``docs/readme/demo.md``); :func:`write_folder` writes
them as GeoJSON files byte for byte reproducibly.

Invariants the generator keeps (and ``tests/test_synthetic.py`` checks):

- communities tile the street exactly; their edges follow arterials and the river;
- compounds lie inside one community and never overlap each other, a road or the river;
- buildings never overlap, never cross a compound outline, a road or the river;
- every road line ends at junctions (lines are noded: they meet only at end points);
- internal paths of a compound meet the public network only at its gates, through a
  short public footway from each gate to the nearest public road;
- bridges are the only road lines meeting the river (or the railway).

Examples
--------
>>> street = make_street(StreetSpec(n_cols=2, n_rows=2, n_communities=2, seed=3))
>>> sorted(street.layers) == sorted(LAYERS)
True
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
from pyproj import CRS

from planner.export.geojson import write_geojson, write_text_atomic
from planner.settings import Settings
from planner.street import Street
from planner.synthetic._build import ROAD_HALF_WIDTH_M, Builder
from planner.synthetic._names import street_short_name

log = logging.getLogger(__name__)

#: Layers written to a street folder, in file order.
LAYERS: tuple[str, ...] = (
    "boundary",
    "communities",
    "compounds",
    "buildings",
    "roads",
    "gates",
    "barriers",
    "landuse",
    "stations",
    "pois",
)

__all__ = [
    "DEMO_SPEC",
    "LAYERS",
    "ROAD_HALF_WIDTH_M",
    "StreetSpec",
    "SyntheticStreet",
    "make_demo",
    "make_district",
    "make_street",
    "provenance_text",
    "street_short_name",
    "street_stats",
    "write_folder",
]


@dataclass(frozen=True)
class StreetSpec:
    """Parameters of a synthetic street. All lengths in metres.

    Parameters
    ----------
    seed
        Seed of the ``numpy.random.Generator``; the same spec gives the same street.
    name
        Street name written to ``street.json`` (should say it is synthetic).
    origin_lon, origin_lat
        WGS84 degrees of the centre of the street's bounding box.
    n_cols, n_rows
        Arterial superblocks east-west and north-south.
    block_m
        Mean arterial spacing, m (Chinese cities: 500-700 m).
    margin_m
        Roads extend this far beyond the street, m (a walk can leave and come back).
    n_communities
        Communities (社区) tiling the street.
    drop_corner
        Leave the north-west superblock out, giving an L-shaped street.
    river
        A river (~``river_width_m`` wide) crossing the street east-west.
    bridge_cols
        In-street north-south arterials (0 = west boundary) that bridge the river;
        ``None`` chooses every third one.
    margin_bridges
        Margin arterials west of the street that also bridge the river.
    railway
        A railway east-west through the northern margin, crossed at two underpasses.
    village_share, standalone_share
        Share of residential blocks that are urban villages (城中村, dense small
        buildings) / small blocks of standalone buildings outside any compound.
    open_share
        Share of compounds that are not gated (open old neighbourhoods).
    density
        Multiplier (0.5-2) on the number of buildings per compound.
    missing_households_share, height_only_share
        Share of residential buildings whose households are missing (floors given),
        and whose floors and households are missing (only ``height_m`` given).
    n_pois
        Candidate sites (vacant shops, community rooms).
    service_pois
        Also place the facilities of every service kind (canteens, kindergartens,
        schools, markets, banks ...: :data:`planner.synthetic._build.SERVICE_POI_PLAN`)
        as POIs along the public roads, from their own random stream (the other layers
        do not move).
    station_plan
        ``"demo"``: station anchors tuned for the demo street (coverage gaps across
        the river and in the far corner); ``"auto"``: anchors from the layout.
    code_county, code_street
        GB/T 2260 county code and 3-digit street code for ``street.json``.
    """

    seed: int = 20241125
    name: str = "示例街道（合成数据）"
    origin_lon: float = 108.945
    origin_lat: float = 34.215
    n_cols: int = 4
    n_rows: int = 3
    block_m: float = 600.0
    margin_m: float = 1200.0
    n_communities: int = 5
    drop_corner: bool = True
    river: bool = True
    river_width_m: float = 50.0
    bridge_cols: tuple[int, ...] | None = None
    margin_bridges: int = 1
    railway: bool = True
    village_share: float = 0.02
    standalone_share: float = 0.04
    open_share: float = 0.1
    density: float = 1.0
    missing_households_share: float = 0.05
    height_only_share: float = 0.012
    n_pois: int = 30
    service_pois: bool = False
    station_plan: Literal["demo", "auto"] = "auto"
    code_county: str = "610113"
    code_street: str = "099"


#: The spec of the embedded demo street (``data/demo``).
DEMO_SPEC = StreetSpec(bridge_cols=(1, 2), station_plan="demo", service_pois=True)


@dataclass
class SyntheticStreet:
    """A generated street: WGS84 layers in the folder format, plus metadata.

    Attributes
    ----------
    layers
        Layer name -> GeoDataFrame in WGS84 (EPSG:4326), columns as in the folder format.
    metadata
        The content of ``street.json``.
    utm_crs
        The projected CRS the geometry was built in.
    spec
        The spec it was made from.
    """

    layers: dict[str, gpd.GeoDataFrame]
    metadata: dict[str, Any]
    utm_crs: CRS
    spec: StreetSpec
    stats: dict[str, Any] = field(default_factory=dict)

    def to_street(self, settings: Settings | None = None) -> Street:
        """Load these layers as a validated :class:`~planner.street.Street` (UTM CRS),
        exactly as loading the written folder would, without writing files."""
        from planner.load.assemble import assemble

        return assemble(
            dict(self.layers),
            source=f"synthetic:{self.metadata['name']}",
            settings=settings or Settings(),
            name=self.metadata["name"],
            synthetic=True,
            attribution=self.metadata["attribution"],
        )


# ---------------------------------------------------------------------------
# the generator


def make_street(spec: StreetSpec | None = None, **overrides: Any) -> SyntheticStreet:
    """Generate a synthetic street.

    Parameters
    ----------
    spec
        The parameters (default :class:`StreetSpec`); keyword ``overrides`` replace
        single fields, e.g. ``make_street(seed=5, n_cols=6)``.

    Returns
    -------
    SyntheticStreet
        WGS84 layers in the folder format, ``street.json`` metadata and statistics.
    """
    spec = replace(spec or StreetSpec(), **overrides)
    _check_spec(spec)
    layers, meta, utm = Builder(spec).build()
    out = SyntheticStreet(layers=layers, metadata=meta, utm_crs=utm, spec=spec)
    out.stats = street_stats(out)
    return out


def _check_spec(spec: StreetSpec) -> None:
    """Refuse specs the generator cannot honour, naming every bad field at once."""
    bad = []
    if spec.n_cols < 1 or spec.n_rows < 1:
        bad.append(
            f"n_cols/n_rows={spec.n_cols}/{spec.n_rows}: need at least 1 superblock each way"
        )
    if not 300 <= spec.block_m <= 1500:
        bad.append(f"block_m={spec.block_m}: use 300-1,500 m (arterial spacing)")
    if not 0 <= spec.margin_m <= 5000:
        bad.append(f"margin_m={spec.margin_m}: use 0-5,000 m")
    if spec.n_communities < 1:
        bad.append(f"n_communities={spec.n_communities}: need at least 1")
    if not 20 <= spec.river_width_m <= 150:
        bad.append(f"river_width_m={spec.river_width_m}: use 20-150 m")
    for name in (
        "village_share",
        "standalone_share",
        "open_share",
        "missing_households_share",
        "height_only_share",
    ):
        v = getattr(spec, name)
        if not 0 <= v <= 1:
            bad.append(f"{name}={v}: a share must be 0-1")
    if spec.missing_households_share + spec.height_only_share > 1:
        bad.append("missing_households_share + height_only_share must not exceed 1")
    if not 0.5 <= spec.density <= 2:
        bad.append(f"density={spec.density}: use 0.5-2")
    if spec.n_pois < 0:
        bad.append(f"n_pois={spec.n_pois}: must be 0 or more")
    if spec.station_plan not in ("demo", "auto"):
        bad.append(f"station_plan={spec.station_plan!r}: use 'demo' or 'auto'")
    if not (spec.code_county.isdigit() and len(spec.code_county) == 6):
        bad.append(f"code_county={spec.code_county!r}: 6 digits (GB/T 2260)")
    if not (spec.code_street.isdigit() and len(spec.code_street) == 3):
        bad.append(f"code_street={spec.code_street!r}: 3 digits")
    if bad:
        raise ValueError("invalid synthetic street spec: " + "; ".join(bad))


def make_demo() -> SyntheticStreet:
    """The embedded demo street (``data/demo``), from :data:`DEMO_SPEC`."""
    return make_street(DEMO_SPEC)


def make_district(
    n_streets: int = 10,
    *,
    seed: int = 1,
    origin_lon: float = 108.945,
    origin_lat: float = 34.215,
    density: float = 1.0,
) -> SyntheticStreet:
    """A big synthetic case for benchmarks: about ``n_streets`` streets as one area.

    The area has ~12 superblocks and 5 communities per street, a higher share of
    urban villages (dense small buildings), and stations placed from the layout;
    10 streets give about 50,000 buildings (~45 km²). The result has the same
    layers as :func:`make_street` (one boundary around the whole area).

    Parameters
    ----------
    n_streets
        Number of street-sized pieces (≥ 1).
    seed
        Generator seed.
    origin_lon, origin_lat
        WGS84 centre, degrees.
    density
        Multiplier on buildings per compound.
    """
    if n_streets < 1:
        raise ValueError(f"n_streets must be at least 1, got {n_streets}")
    cells = 12 * n_streets
    n_cols = max(2, round(math.sqrt(cells * 1.3)))
    n_rows = max(2, math.ceil(cells / n_cols))
    spec = StreetSpec(
        seed=seed,
        name=f"合成示例区（{n_streets}个街道，合成数据）",
        origin_lon=origin_lon,
        origin_lat=origin_lat,
        n_cols=n_cols,
        n_rows=n_rows,
        n_communities=5 * n_streets,
        drop_corner=False,
        village_share=0.45,
        standalone_share=0.05,
        density=density,
        n_pois=30 * n_streets,
        station_plan="auto",
    )
    return make_street(spec)


def street_stats(street: SyntheticStreet) -> dict[str, Any]:
    """Counts and totals of a generated street (area in km², households, residents)."""
    L = street.layers
    utm = street.utm_crs
    b = L["buildings"]
    res = b[b["kind"] == "residential"]
    st = L["stations"]
    boundary = L["boundary"].to_crs(utm).geometry.union_all()
    in_street = st.to_crs(utm).within(boundary)
    return {
        "area_km2": round(float(boundary.area) / 1e6, 3),
        "counts": {k: len(v) for k, v in L.items()},
        "communities": len(L["communities"]),
        "compounds": len(L["compounds"]),
        "gated_compounds": int(L["compounds"]["gated"].astype(bool).sum()),
        "residential_buildings": len(res),
        "residential_in_compounds": int((res["compound_id"] != "").sum()),
        "households": int(np.nansum(res["households"].to_numpy(dtype=float))),
        "households_missing": int(res["households"].isna().sum()),
        "height_only": int(res["floors"].isna().sum()),
        "population": int(np.nansum(res["population"].to_numpy(dtype=float))),
        "stations": len(st),
        "stations_in_street": int(in_street.sum()),
        "stations_in_margin": int((~in_street).sum()),
        "station_kinds": {k: int(v) for k, v in st["kind"].value_counts().sort_index().items()},
        "bridges": int(L["roads"]["bridge"].sum()),
        "roads": len(L["roads"]),
        "internal_paths": int((L["roads"]["compound_id"] != "").sum()),
        "gates": len(L["gates"]),
        "pois": int(L["pois"]["kind"].isin(["vacant_shop", "community_room"]).sum()),
        "service_pois": int((~L["pois"]["kind"].isin(["vacant_shop", "community_room"])).sum()),
    }


# ---------------------------------------------------------------------------
# writing a street folder


def write_folder(street: SyntheticStreet, out_dir: str | Path, *, decimals: int = 7) -> list[Path]:
    """Write ``street`` as a street folder: ``<layer>.geojson`` per layer and ``street.json``.

    Files are RFC 7946 GeoJSON (:func:`planner.export.geojson.write_geojson`: WGS84,
    counter-clockwise outer rings, ``decimals`` decimals, UTF-8), written atomically
    and byte for byte reproducibly. Returns the paths.
    """
    out = Path(out_dir)
    paths = [
        write_geojson(street.layers[name], out / f"{name}.geojson", precision=decimals)
        for name in LAYERS
    ]
    p = out / "street.json"
    write_text_atomic(json.dumps(street.metadata, ensure_ascii=False, indent=2) + "\n", p)
    paths.append(p)
    return paths


def provenance_text(
    street: SyntheticStreet, *, command: str = "python scripts/make_demo.py"
) -> str:
    """The ``PROVENANCE.md`` of a generated street folder (Markdown)."""
    s = street.spec
    made_by = "`make_demo()`, spec `DEMO_SPEC`" if s == DEMO_SPEC else f"`make_street()`, {s!r}"
    st = street.stats
    kinds = ", ".join(f"{k} {v}" for k, v in st["station_kinds"].items())
    text = f"""# Provenance of this street folder

**Synthetic data. This is not a real place.** Every road, compound, building,
household count and station here was made up by a program; any likeness to a real
street is by design only ("what a street in Xi'an's Yanta district could look like").

- Name: {s.name} (`street.json` says `"synthetic": true`)
- Made by: `planner/synthetic/demo.py` ({made_by}), a deterministic
  generator driven by `numpy.random.default_rng({s.seed})`.
- Command: `{command}` (rewrites every file here; running it twice
  gives byte-identical files, checked by `tests/test_synthetic.py`).
- Placed at: {s.origin_lon:.3f}E, {s.origin_lat:.3f}N (WGS84), county code {s.code_county}
  (Yanta district, Xi'an), fictional street code {s.code_street}.
- Built in: {street.utm_crs.name} (metres), written as WGS84 GeoJSON (RFC 7946),
  coordinates rounded to 7 decimals (about 1 cm), UTF-8.
- Licence: CC0 (generated; no third-party data).

## Statistics

| figure | value |
| --- | --- |
| area | {st["area_km2"]} km² |
| communities (社区) | {st["communities"]} |
| compounds (小区) | {st["compounds"]} ({st["gated_compounds"]} gated) |
| residential buildings | {st["residential_buildings"]} ({st["residential_in_compounds"]} in compounds) |
| households (registered) | {st["households"]:,} |
| buildings without households (to estimate) | {st["households_missing"]} ({st["height_only"]} with only a height) |
| residents (registered) | {st["population"]:,} |
| buildings (all kinds) | {st["counts"]["buildings"]} |
| road lines (noded) | {st["roads"]} ({st["internal_paths"]} internal paths, {st["bridges"]} bridges/underpasses) |
| gates | {st["gates"]} |
| stations | {st["stations"]} ({st["stations_in_street"]} in the street, {st["stations_in_margin"]} in the margin): {kinds} |
| candidate sites (pois) | {st["pois"]} |
| service facilities (pois; every service kind of the completeness check) | {st["service_pois"]} |
"""
    # --- org: the demo's synthetic organisation registers (issue 15) ---
    if s == DEMO_SPEC:
        from planner.synthetic.organisation import PROVENANCE_REGISTERS

        text += "\n" + PROVENANCE_REGISTERS
    return text
