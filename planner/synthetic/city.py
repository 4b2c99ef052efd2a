"""A synthetic city: N synthetic streets (街道) side by side, with a street-boundary layer.

:func:`make_city` lays out one synthetic area with the street generator
(:class:`planner.synthetic._build.Builder`: ``n_streets * cols_per_street`` superblocks
east-west, ``rows`` north-south, a river, stations placed from the layout) and cuts it
into ``n_streets`` vertical strips along north-south arterials: strip ``k`` is street
``k`` (1-based). Communities (社区) that straddle a strip edge are cut there (their edges
follow arterials, so the pieces are whole superblocks); compounds never straddle an
arterial, so each lies in one street and keeps one community.

Every street has its own 3-digit street code (``001``, ``002``, ...) and the county
code of the spec; the ``streets`` layer (WGS84) has the columns of
:data:`STREET_COLUMNS`, the format ``python -m planner city --streets`` reads.

The same seed and sizes give the same city (the generator is deterministic), so
``demo-city:N`` and ``demo-city:N/K`` (:mod:`planner.load.sources`) always see the same
streets.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import box

from planner.crs import WGS84
from planner.synthetic._build import Builder, _Framer
from planner.synthetic.demo import StreetSpec

__all__ = ["STREET_COLUMNS", "CitySpec", "SyntheticCity", "make_city", "street_code"]

#: Columns of a street-boundary layer (one polygon per street): the street's code
#: (3 digits, unique in the city), its county code (GB/T 2260, 6 digits) and name.
STREET_COLUMNS: tuple[str, ...] = ("street_code", "county_code", "name")


@dataclass(frozen=True)
class CitySpec:
    """Parameters of a synthetic city. Lengths in metres.

    Parameters
    ----------
    n_streets
        Streets side by side west to east (1-999).
    cols_per_street, rows
        Superblocks of each street east-west, and of the city north-south.
    communities_per_street
        Communities the layout aims at per street (cut at street borders, so a street
        may have one more).
    block_m
        Mean arterial spacing, m.
    density
        Multiplier (0.5-2) on buildings per compound.
    seed
        Seed of the generator.
    code_county
        GB/T 2260 county code of every street.
    """

    n_streets: int = 4
    cols_per_street: int = 1
    rows: int = 2
    communities_per_street: int = 2
    block_m: float = 500.0
    density: float = 1.0
    seed: int = 2026
    code_county: str = "610113"
    origin_lon: float = 108.945
    origin_lat: float = 34.215


@dataclass
class SyntheticCity:
    """A generated city: city-wide WGS84 layers and the street-boundary layer.

    Attributes
    ----------
    layers
        Layer name -> GeoDataFrame (WGS84), city-wide, folder format; ``boundary`` is
        the whole city.
    streets
        One polygon per street (WGS84), columns :data:`STREET_COLUMNS`.
    meta
        City metadata (``name``, ``synthetic``, ``attribution``, ``code_county``).
    utm_crs
        The projected CRS the city was built in.
    """

    layers: dict[str, gpd.GeoDataFrame]
    streets: gpd.GeoDataFrame
    meta: dict[str, Any]
    utm_crs: CRS
    spec: CitySpec


def street_code(k: int) -> str:
    """The 3-digit street code of street ``k`` (1-based) of a synthetic city."""
    return f"{k:03d}"


def _street_spec(spec: CitySpec) -> StreetSpec:
    n = spec.n_streets
    return StreetSpec(
        seed=spec.seed,
        name=f"合成城市（{n}个街道，合成数据）",
        origin_lon=spec.origin_lon,
        origin_lat=spec.origin_lat,
        n_cols=n * spec.cols_per_street,
        n_rows=spec.rows,
        block_m=spec.block_m,
        n_communities=n * spec.communities_per_street,
        drop_corner=False,
        railway=False,
        village_share=0.1,
        density=spec.density,
        n_pois=10 * n,
        station_plan="auto",
        code_county=spec.code_county,
        code_street="000",
    )


def _check(spec: CitySpec) -> None:
    bad = []
    if not 1 <= spec.n_streets <= 999:
        bad.append(f"n_streets={spec.n_streets}: use 1-999")
    if spec.cols_per_street < 1 or spec.rows < 1 or spec.communities_per_street < 1:
        bad.append("cols_per_street, rows and communities_per_street must be at least 1")
    if bad:
        raise ValueError("invalid synthetic city spec: " + "; ".join(bad))


@functools.lru_cache(maxsize=4)
def make_city(spec: CitySpec | None = None, **overrides: Any) -> SyntheticCity:
    """Generate a synthetic city of ``spec.n_streets`` streets side by side.

    The result is cached per spec (a city is generated once per process); callers
    must not modify its layers.

    Examples
    --------
    >>> city = make_city(CitySpec(n_streets=2, cols_per_street=1, rows=1))  # doctest: +SKIP
    >>> list(city.streets["street_code"])  # doctest: +SKIP
    ['001', '002']
    """
    spec = replace(spec or CitySpec(), **overrides)
    _check(spec)
    sspec = _street_spec(spec)
    b = Builder(sspec)
    layers, _meta, utm = b.build()
    e0, n0 = Transformer.from_crs(WGS84, utm, always_xy=True).transform(
        sspec.origin_lon, sspec.origin_lat
    )
    frame = _Framer(utm, (e0 - b.W / 2, n0 - b.H / 2))
    edges = b.xs[:: spec.cols_per_street]
    strips = [box(float(edges[k]), -1e6, float(edges[k + 1]), 1e6) for k in range(spec.n_streets)]
    streets = [
        {
            "street_code": street_code(k + 1),
            "county_code": spec.code_county,
            "name": f"合成城市第{k + 1}街道（合成数据）",
            "geometry": shapely.intersection(b.street_poly, strip),
        }
        for k, strip in enumerate(strips)
    ]
    communities, renamed = _cut_communities(b.communities, strips)
    compounds = layers["compounds"].copy()
    strip_of = _strip_index(
        shapely.point_on_surface(np.array([c["geometry"] for c in b.compounds], dtype=object)),
        edges,
    )
    compounds["community_id"] = [
        renamed[(c["community_id"], int(k))] for c, k in zip(b.compounds, strip_of, strict=True)
    ]
    layers = dict(layers)
    layers["communities"] = frame(communities, layer="communities")
    layers["compounds"] = compounds
    meta = {
        "name": sspec.name,
        "synthetic": True,
        "code_county": spec.code_county,
        "attribution": "合成数据，非真实地点 / Synthetic data, not a real place "
        f"(planner.synthetic.city, seed {spec.seed})",
    }
    street_layer = frame(streets)[[*STREET_COLUMNS, "geometry"]]
    return SyntheticCity(layers=layers, streets=street_layer, meta=meta, utm_crs=utm, spec=spec)


def _strip_index(points: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The strip (0-based street index) each point's x falls in (local frame, m)."""
    x = shapely.get_x(points)
    index = np.searchsorted(edges, x, side="right") - 1
    return np.asarray(np.clip(index, 0, len(edges) - 2), dtype=np.int64)


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygons of a community's piece: where a community only touches a strip's
    edge elsewhere, the intersection is a collection of a polygon and lines or points,
    which a communities layer refuses (polygons only)."""
    if geom.geom_type != "GeometryCollection":
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)


def _cut_communities(
    communities: list[dict[str, Any]], strips: list[shapely.Geometry]
) -> tuple[list[dict[str, Any]], dict[tuple[str, int], str]]:
    """Communities cut at the street strips (pieces under 1 m² dropped), new ids and codes.

    Returns the pieces and ``(old community id, strip index) -> new community id``.
    """
    out: list[dict[str, Any]] = []
    renamed: dict[tuple[str, int], str] = {}
    for c in communities:
        pieces = [
            (k, _polygonal(shapely.intersection(c["geometry"], s))) for k, s in enumerate(strips)
        ]
        pieces = [(k, g) for k, g in pieces if g.area > 1.0]
        for k, geom in pieces:
            n = len(out) + 1
            renamed[(c["community_id"], k)] = f"SQ{n:03d}"
            suffix = "" if len(pieces) == 1 else f"{k + 1}区"
            out.append(
                {
                    "community_id": f"SQ{n:03d}",
                    "name": c["name"] + suffix if suffix else c["name"],
                    "code": f"{n:03d}",
                    "geometry": geom,
                }
            )
    return out, renamed
