"""Read OpenStreetMap data (``.osm`` XML, ``.osm.pbf``, or online) into folder-format layers.

Both file formats go through the same code: each reader only turns its file into two
plain tables, and everything after that is shared.

* **ways of the street network**: one row per OSM way carrying a ``highway`` tag, its
  line geometry and the tags the walking filter needs. ``.osm`` XML is read with
  :func:`osmnx.graph_from_xml` (unsimplified, every way, straight node-to-node edges);
  ``.osm.pbf`` with :meth:`pyrosm.OSM.get_network` (``"all"``, whole ways). The shared
  :func:`walkable_ways` filter follows OSMnx's ``walk`` network type, and
  :func:`roads_from_ways` nodes, clips and simplifies the walkable ways into graph edges.
* **features**: one row per OSM element (node, way or multipolygon relation) with the
  tags of :data:`FEATURE_TAGS` as columns. ``.osm`` XML is read with
  :func:`osmnx.features_from_xml`, ``.osm.pbf`` with
  :meth:`pyrosm.OSM.get_data_by_custom_criteria`. :func:`layers_from_features` maps
  tags to the buildings, compounds, landuse, barriers, POIs and gates layers.
* **gated compounds**: :func:`planner.load._osm_gates.gate_compounds` cuts the roads at
  gated compounds' walls, gives the paths inside their ``compound_id`` and keeps the
  compounds closed except at their gates (the folder format's mechanism).

The layers are in WGS84 (EPSG:4326) with the columns of the folder source format
(see ``docs/readme/osm.md``); :func:`planner.load.sources.load_street` projects them to the
street's UTM zone and builds the :class:`~planner.street.Street`.

OSM data are © OpenStreetMap contributors, ODbL 1.0; :data:`ATTRIBUTION` must be shown
with every map or figure made from them.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from planner.crs import WGS84, utm_crs_for
from planner.errors import InputError, Problem
from planner.i18n import msg
from planner.load._osm_gates import gate_compounds

log = logging.getLogger(__name__)

#: Data credit for every street loaded from OpenStreetMap.
ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"

#: Layers :func:`read_osm` returns, in this order.
OSM_LAYERS: tuple[str, ...] = (
    "boundary",
    "roads",
    "buildings",
    "compounds",
    "landuse",
    "barriers",
    "pois",
    "gates",
)

#: Way tags the walking filter and the roads layer read.
WAY_TAGS: tuple[str, ...] = (
    "highway",
    "name",
    "bridge",
    "tunnel",
    "area",
    "access",
    "foot",
    "service",
    "sidewalk",
    "sidewalk:both",
    "sidewalk:left",
    "sidewalk:right",
)

#: OSM ``highway`` values excluded from the walking network (OSMnx ``walk``).
EXCLUDED_HIGHWAY: tuple[str, ...] = (
    "abandoned",
    "bus_guideway",
    "busway",
    "construction",
    "cycleway",
    "motor",
    "motorway",
    "motorway_link",
    "no",
    "planned",
    "platform",
    "proposed",
    "raceway",
    "razed",
    "rest_area",
    "services",
)

#: What an OSM extract is stored as.
OsmFormat = Literal["xml", "pbf"]

#: File name endings of OSM XML extracts (``.xml`` files are read when their root
#: element is ``<osm>``).
OSM_XML_SUFFIXES: tuple[str, ...] = (".osm", ".osm.xml")

#: File name endings of OSM extracts.
OSM_SUFFIXES: tuple[str, ...] = (*OSM_XML_SUFFIXES, ".osm.pbf", ".pbf")

#: ``barrier=*`` values of a compound gate (with ``entrance=*`` of any value).
GATE_BARRIERS: tuple[str, ...] = (
    "gate",
    "lift_gate",
    "swing_gate",
    "sliding_gate",
    "entrance",
    "turnstile",
    "full-height_turnstile",
    "kissing_gate",
)

# --- services: leisure and amenity values kept as POIs for the service kinds (issue 16) ---
#: ``leisure=*`` values read as POIs: the sports grounds and gardens of the service kinds
#: (:data:`planner.schema.SERVICE_KINDS`); parks go to the landuse layer.
SERVICE_LEISURE: tuple[str, ...] = (
    "pitch",
    "playground",
    "fitness_station",
    "fitness_centre",
    "sports_centre",
    "stadium",
    "garden",
)
#: ``amenity=*`` values of :data:`NON_SITE_AMENITIES` still kept as POIs (no site for a
#: station, but a service: a cash machine serves the convenience circle's finance, a
#: public toilet the 5-minute circle).
SERVICE_AMENITIES: frozenset[str] = frozenset({"atm", "toilets"})

#: Tags selecting the features read besides the street network (``True`` = any value).
FEATURE_SELECTION: dict[str, bool | list[str]] = {
    "building": True,
    "landuse": True,
    "leisure": ["park", *SERVICE_LEISURE],
    "amenity": True,
    "shop": True,
    "office": True,
    "natural": ["water"],
    "waterway": ["riverbank"],
    "railway": ["rail"],
    "barrier": list(GATE_BARRIERS),
    "entrance": True,
}

#: Feature tags kept as columns (the selection keys plus the attributes read).
FEATURE_TAGS: tuple[str, ...] = (
    *FEATURE_SELECTION,
    "name",
    "building:levels",
    "building:flats",
    "building:use",
    "height",
    "access",
    "type",
)

#: ``building=*`` value -> building kind of the folder format.
BUILDING_KINDS: dict[str, str] = {
    "apartments": "residential",
    "residential": "residential",
    "house": "residential",
    "dormitory": "residential",
    "detached": "residential",
    "semidetached_house": "residential",
    "terrace": "residential",
    "school": "school",
    "university": "school",
    "college": "school",
    "kindergarten": "school",
    "retail": "shop",
    "commercial": "shop",
    "supermarket": "shop",
    "kiosk": "shop",
    "office": "office",
    "hospital": "public",
    "public": "public",
    "government": "public",
    "civic": "public",
    "townhall": "public",
}

#: ``amenity=*`` polygons kept in the landuse layer, with their kind.
LANDUSE_AMENITIES: dict[str, str] = {
    "school": "school",
    "kindergarten": "school",
    "university": "campus",
    "college": "campus",
    "hospital": "hospital",
}

#: ``landuse=*`` value -> landuse kind (other values keep their OSM value).
LANDUSE_KINDS: dict[str, str] = {
    "retail": "commercial",
    "recreation_ground": "park",
    "village_green": "park",
    "grass": "green",
    "education": "school",
}

#: ``access=*`` values that open a residential compound to the public (``gated=False``).
OPEN_ACCESS: tuple[str, ...] = ("yes", "public", "permissive", "destination")

#: ``amenity=*`` values that are no place for a service station (street furniture,
#: parking, vehicles, and facilities kept in the landuse layer).
NON_SITE_AMENITIES: frozenset[str] = frozenset(
    {
        "atm",
        "bench",
        "bicycle_parking",
        "bicycle_rental",
        "car_wash",
        "charging_station",
        "clock",
        "drinking_water",
        "fountain",
        "fuel",
        "grave_yard",
        "motorcycle_parking",
        "parking",
        "parking_entrance",
        "parking_space",
        "post_box",
        "recycling",
        "shelter",
        "taxi",
        "telephone",
        "toilets",
        "vending_machine",
        "waste_basket",
        "waste_disposal",
        *LANDUSE_AMENITIES,
    }
)

#: A gate counts as opening a compound when it lies this close to the outline, metres.
GATE_SNAP_M = 15.0

#: Coordinates are rounded to OSM's precision (1e-7 degree, about 1 cm) to match nodes.
_COORD_SCALE = 1e7


# ----------------------------------------------------------------------------- public


def read_osm(
    path: str | Path,
    *,
    clip: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    margin_m: float = 1000.0,
) -> dict[str, gpd.GeoDataFrame]:
    """Read an OSM extract (``.osm`` XML or ``.osm.pbf``) into folder-format layers.

    Parameters
    ----------
    path
        The extract. ``.osm``/``.xml`` files are read with osmnx, ``.pbf`` with pyrosm;
        both give the same layers for the same data.
    clip
        The street boundary: a shapely polygon in WGS84 degrees, or a GeoDataFrame /
        GeoSeries in any CRS (its polygons are merged). Default: the extract's
        ``<bounds>`` box, else the convex hull of its data.
    margin_m
        The walking network and POIs are kept this far beyond the boundary, metres
        (measured in the local UTM zone).

    Returns
    -------
    dict
        Layer name -> GeoDataFrame in WGS84 (EPSG:4326), for every name of
        :data:`OSM_LAYERS`. ``boundary`` holds the clip polygon; ``buildings`` the
        buildings whose representative point lies inside it; ``compounds`` and
        ``landuse`` the polygons meeting it; ``roads``, ``barriers`` and ``pois`` what
        meets the boundary buffered by ``margin_m`` (roads inside a gated compound
        carry its ``compound_id``); ``gates`` the gates on the outline of a kept
        compound (``mapped=True``) and the wall crossings used as gates
        (``mapped=False``, see :mod:`planner.load._osm_gates`).

    Raises
    ------
    InputError
        The file is missing, unreadable, not OSM data, or the clip is not a polygon.

    Notes
    -----
    The parsed tables of the last two files are cached (keyed by path, size and
    modification time), so reading the same extract with another boundary is fast;
    :func:`clear_cache` empties the cache.
    """
    p = Path(path)
    _check_file(p)
    fmt = osm_format(p)
    # a bad clip fails before the (slower) read
    boundary = None if clip is None else _boundary_polygon(clip, None, source=str(p))
    ways, features, extent = _read_extract(p, fmt, boundary=boundary, margin_m=margin_m)
    _check_extract_covers(p, ways, features, extent, boundary=boundary, margin_m=margin_m)
    if boundary is None:
        boundary = _boundary_polygon(None, extent, source=str(p))
    return layers_from_tables(ways, features, boundary, margin_m=margin_m, name=_clip_name(clip))


# --- city: a city-wide extract read once (issue 17 item 1) ---
def read_osm_tables(
    path: str | Path, *, clip: gpd.GeoDataFrame, margin_m: float
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The reader tables of an extract (``ways``, ``features``: WGS84, see
    :func:`layers_from_tables`) around ``clip`` (polygons, any CRS) within ``margin_m``
    metres, checked as :func:`read_osm` checks them. A city reads its extract once with
    this and each street builds its layers from its share of the tables
    (:func:`layers_from_tables` with the street's own boundary), so a street of a city
    gets the layers a single-street load of the extract gives.

    Raises
    ------
    InputError
        As :func:`read_osm`.
    """
    p = Path(path)
    _check_file(p)
    boundary = _boundary_polygon(clip, None, source=str(p))
    ways, features, extent = _read_extract(p, osm_format(p), boundary=boundary, margin_m=margin_m)
    _check_extract_covers(p, ways, features, extent, boundary=boundary, margin_m=margin_m)
    return gpd.GeoDataFrame(ways, crs=WGS84), features


def _read_extract(
    p: Path, fmt: str, *, boundary: BaseGeometry | None, margin_m: float
) -> tuple[pd.DataFrame, gpd.GeoDataFrame, BaseGeometry | None]:
    """The reader tables of an extract (ways, features, extent); a broken file is an
    :class:`InputError` naming it."""
    log.info("reading OSM %s extract %s", fmt, p.name)
    try:
        st = p.stat()
        # PBF: read only the boundary's margin box (a city-wide extract stays fast);
        # pyrosm keeps every way reaching into the box whole, and completes relations
        window = None
        if fmt == "pbf" and boundary is not None:
            window = tuple(float(c) for c in _buffer_m(boundary, margin_m + 100.0).bounds)
        return _read_tables(str(p.resolve()), fmt, st.st_size, st.st_mtime_ns, window)
    except InputError:
        raise
    except Exception as exc:  # the readers raise many kinds on a broken file
        raise InputError(
            Problem.of(
                msg("osm_unreadable", detail=f"{type(exc).__name__}: {exc}"),
                fix=msg("osm_fix_give_extract"),
                file=str(p),
            )
        ) from exc


def _check_extract_covers(
    p: Path,
    ways: pd.DataFrame,
    features: gpd.GeoDataFrame,
    extent: BaseGeometry | None,
    *,
    boundary: BaseGeometry | None,
    margin_m: float,
) -> None:
    """Refuse an extract with no data, or none where the boundary is (saying which).

    Raises
    ------
    InputError
        The extract holds nothing; or the boundary lies outside the extract's area
        (with the distance in km and the area's longitude/latitude ranges).
    """
    if boundary is not None and extent is not None and not extent.intersects(boundary):
        x0, y0, x1, y1 = extent.bounds
        raise InputError(
            Problem.of(
                msg(
                    "osm_boundary_far",
                    km=_distance_km(boundary, extent),
                    x0=x0,
                    x1=x1,
                    y0=y0,
                    y1=y1,
                ),
                fix=msg("osm_fix_boundary_extract"),
                file=str(p),
                field="geometry",
            )
        )
    if len(ways) or len(features):
        return
    if boundary is not None:
        raise InputError(
            Problem.of(
                msg("osm_empty_in_boundary", margin=margin_m),
                fix=msg("osm_fix_boundary_extract"),
                file=str(p),
            )
        )
    raise InputError(Problem.of(msg("osm_empty"), fix=msg("osm_fix_export_again"), file=str(p)))


def _distance_km(a: BaseGeometry, b: BaseGeometry) -> float:
    """Geodesic distance between two WGS84 shapes' nearest points, km."""
    from pyproj import Geod

    pa, pb = shapely.ops.nearest_points(a, b)
    return float(Geod(ellps="WGS84").inv(pa.x, pa.y, pb.x, pb.y)[2]) / 1000


def fetch_place(
    name_or_polygon: str | BaseGeometry,
    *,
    margin_m: float = 1000.0,
    timeout_s: int = 15,
    source: str | None = None,
) -> dict[str, gpd.GeoDataFrame]:
    """Download a street's OSM data online (osmnx: Nominatim and Overpass).

    Parameters
    ----------
    name_or_polygon
        A place name that Nominatim geocodes to a polygon (e.g. ``"学院路街道, 海淀区,
        北京市"``), or a shapely polygon in WGS84 degrees.
    margin_m
        Walking network and POIs are downloaded this far beyond the polygon, metres.
    timeout_s
        Timeout of each HTTP request, seconds. No retries: an unreachable server fails
        within about this time.
    source
        What to name in messages for a polygon (e.g. the boundary file's path);
        default ``"polygon"``.

    Returns
    -------
    dict
        The same layers as :func:`read_osm`.

    Raises
    ------
    InputError
        The servers cannot be reached ("could not reach OpenStreetMap: ...; load an
        extract file instead"), or the place is not found or not a polygon.
    """
    import osmnx as ox

    polygon_name = source or "polygon"
    source = f"place:{name_or_polygon}" if isinstance(name_or_polygon, str) else polygon_name
    with _osmnx_settings(requests_timeout=timeout_s, use_cache=False, overpass_rate_limit=False):
        try:
            if isinstance(name_or_polygon, str):
                place = ox.geocode_to_gdf(name_or_polygon)
                boundary = _boundary_polygon(place, None, source=f"place:{name_or_polygon}")
            else:
                boundary = _boundary_polygon(name_or_polygon, None, source=source)
            area = _buffer_m(boundary, margin_m)
            graph = ox.graph_from_polygon(
                area, network_type="all", simplify=False, retain_all=True, truncate_by_edge=True
            )
            ways = _ways_from_osmnx_graph(graph)
            features = _features_from_osmnx(ox.features_from_polygon(area, tags=_osmnx_tags()))
        except InputError:
            raise
        except (ox._errors.InsufficientResponseError, TypeError) as exc:
            # the server answered, but with no polygon (or no data) for the request
            raise InputError(
                Problem.of(
                    msg("osm_online_no_data", detail=str(exc)),
                    fix=msg("osm_fix_place"),
                    file=source,
                )
            ) from exc
        except Exception as exc:
            raise _offline_error(exc, str(source)) from exc
    name = name_or_polygon if isinstance(name_or_polygon, str) else ""
    return layers_from_tables(ways, features, boundary, margin_m=margin_m, name=name)


def osm_format(path: str | Path) -> OsmFormat:
    """The format of an OSM extract, from its content where that is sure, else its name.

    A file whose first bytes are a PBF ``OSMHeader`` blob is ``"pbf"`` and one whose XML
    root element is ``<osm>`` is ``"xml"``, whatever their names. Otherwise the name
    decides: ``*.pbf`` is ``"pbf"``; ``*.osm`` and ``*.osm.xml`` are ``"xml"`` (a broken
    file is then reported by the reader, naming what failed).

    Raises
    ------
    InputError
        A ``.xml`` file whose root element is not ``<osm>`` (naming the element found),
        or a file that neither its name nor its content shows to be OSM data.
    """
    p = Path(path)
    sniffed = sniff_osm(p)
    if sniffed is not None:
        return sniffed
    name = p.name.lower()
    if name.endswith(".pbf"):
        return "pbf"
    if name.endswith(OSM_XML_SUFFIXES):
        return "xml"
    if name.endswith(".xml"):
        root = _xml_root(_head(p))
        raise InputError(
            Problem.of(
                msg("osm_xml_root", root=root) if root else msg("osm_xml_empty"),
                fix=msg("osm_fix_xml"),
                file=str(path),
            )
        )
    raise InputError(Problem.of(msg("osm_not_extract"), fix=msg("osm_fix_rename"), file=str(path)))


def is_osm_extract(path: str | Path) -> bool:
    """Whether ``path`` is to be read as an OSM extract: its name ends with one of
    :data:`OSM_SUFFIXES` (or ``.xml``: read, or refused naming its root element), or it
    is a file whose content is OSM XML or PBF (:func:`sniff_osm`)."""
    p = Path(path)
    name = p.name.lower()
    if name.endswith((*OSM_SUFFIXES, ".xml")):
        return True
    return p.is_file() and sniff_osm(p) is not None


def sniff_osm(path: str | Path) -> OsmFormat | None:
    """``"pbf"`` when the file starts with a PBF ``OSMHeader`` blob, ``"xml"`` when its
    XML root element is ``<osm>``, else None (also for an unreadable file). Reads the
    first 4 KB only."""
    head = _head(Path(path))
    if len(head) >= 4:
        size = int.from_bytes(head[:4], "big")
        if 0 < size <= 64 * 1024 and b"OSMHeader" in head[4 : 4 + size]:
            return "pbf"
    return "xml" if _xml_root(head) == "osm" else None


def _head(path: Path, size: int = 4096) -> bytes:
    """The first ``size`` bytes of a file (b'' when it cannot be read)."""
    try:
        with path.open("rb") as fh:
            return fh.read(size)
    except OSError:
        return b""


_XML_PROLOG = re.compile(r"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", re.DOTALL)
_XML_ROOT = re.compile(r"\s*<([A-Za-z_][\w.:-]*)")


def _xml_root(head: bytes) -> str | None:
    """The name of the first element in the start of an XML file, None when none."""
    text = _XML_PROLOG.sub("", head.decode("utf-8", errors="replace").lstrip("\ufeff"))
    m = _XML_ROOT.match(text)
    return m.group(1) if m else None


def clear_cache() -> None:
    """Forget the cached reader tables (:func:`read_osm` keeps the last two files)."""
    _read_tables.cache_clear()


# ------------------------------------------------------------------ shared processing


def layers_from_tables(
    ways: pd.DataFrame,
    features: gpd.GeoDataFrame,
    boundary: BaseGeometry,
    *,
    margin_m: float = 1000.0,
    name: str = "",
) -> dict[str, gpd.GeoDataFrame]:
    """Turn the reader tables into the folder-format layers (shared by every reader).

    Parameters
    ----------
    ways
        GeoDataFrame of OSM ways with a ``highway`` tag: ``osmid``, the tags of
        :data:`WAY_TAGS` (missing ones are treated as absent) and line geometry (WGS84).
    features
        GeoDataFrame of OSM elements: ``element`` (node/way/relation), ``osmid``, the
        tags of :data:`FEATURE_TAGS` and geometry (WGS84).
    boundary
        The street boundary polygon, WGS84 degrees.
    margin_m
        Network and POI margin beyond the boundary, metres.
    name
        Street name for the boundary layer.
    """
    if margin_m < 0:
        raise InputError(f"margin_m must be >= 0 m, got {margin_m}", fix="give a margin in metres")
    area = _buffer_m(boundary, margin_m)
    layers = layers_from_features(features, boundary=boundary, area=area)
    gate_xy = shapely.get_coordinates(layers["gates"].geometry.to_numpy())
    roads = roads_from_ways(walkable_ways(ways), clip=area, split_at=gate_xy)
    c = boundary.centroid
    gated = gate_compounds(
        roads,
        layers["compounds"],
        layers["gates"],
        utm=utm_crs_for(c.x, c.y),
        gate_snap_m=GATE_SNAP_M,
    )
    roads, layers["gates"] = gated.roads, gated.gates
    bnd = gpd.GeoDataFrame({"name": [name]}, geometry=[boundary], crs=WGS84)
    out = {"boundary": bnd, "roads": roads, **layers}
    log.info(
        "OSM layers: %s",
        ", ".join(f"{k} {len(v)}" for k, v in out.items()),
    )
    return {k: out[k] for k in OSM_LAYERS}


def walkable_ways(ways: pd.DataFrame) -> pd.DataFrame:
    """The ways of OSMnx's ``walk`` network type (a filtered copy).

    Kept: ways with a ``highway`` tag, except ``area=yes``, ``access`` containing
    ``private``, ``highway`` in :data:`EXCLUDED_HIGHWAY`, ``foot=no``,
    ``service=private`` and ``sidewalk[:both|:left|:right]=separate`` (the sidewalk is a
    way of its own). Multi-valued tags (``a;b``) match when one value does, as OSMnx's
    regular expressions do.
    """

    def tokens(key: str, values: tuple[str, ...]) -> NDArray[np.bool_]:
        if key not in ways.columns:
            return np.zeros(len(ways), dtype=bool)
        col = _str_col(ways[key]).str.lower()
        pattern = r"(?:^|;)\s*(?:" + "|".join(re.escape(v) for v in values) + r")\s*(?:;|$)"
        return np.asarray(col.str.contains(pattern, regex=True), dtype=bool)

    keep = np.array(_str_col(ways["highway"]) != "", dtype=bool) if len(ways) else np.zeros(0, bool)
    keep &= ~tokens("area", ("yes",))
    if "access" in ways.columns:
        keep &= ~np.asarray(_str_col(ways["access"]).str.contains("private"), dtype=bool)
    keep &= ~tokens("highway", EXCLUDED_HIGHWAY)
    keep &= ~tokens("foot", ("no",))
    keep &= ~tokens("service", ("private",))
    for key in ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right"):
        keep &= ~tokens(key, ("separate",))
    log.debug("walk filter keeps %d of %d ways", int(keep.sum()), len(ways))
    return ways.loc[keep]


def roads_from_ways(
    ways: pd.DataFrame,
    *,
    clip: BaseGeometry | None = None,
    split_at: NDArray[np.float64] | None = None,
) -> gpd.GeoDataFrame:
    """Node, clip and simplify OSM ways into road lines meeting only at their end points.

    Each way is cut into node-to-node segments; nodes are matched by their coordinates
    (rounded to 1e-7 degree, OSM's precision). With ``clip`` (WGS84 polygon) only
    segments with both nodes inside it are kept. Segments then merge into one line
    between *end points*: nodes where the network branches or ends (not exactly two
    segments), where ``highway``, ``name`` or ``bridge`` change, and at the points of
    ``split_at`` (compound gates, so that each gate is a network node). The result is the
    edge set of the simplified, undirected street graph, the same as OSMnx's
    ``simplify_graph`` up to splits at tag changes.

    Parameters
    ----------
    ways
        GeoDataFrame of walkable ways (``osmid``, ``highway``, ``name``, ``bridge``,
        ``tunnel``, geometry in WGS84).
    clip
        Keep only the network inside this polygon (WGS84).
    split_at
        ``(n, 2)`` longitude/latitude of OSM nodes that must stay line end points.

    Returns
    -------
    GeoDataFrame
        ``road_id``, ``name``, ``highway``, ``bridge`` (bridge or tunnel), ``osmid``
        (the first OSM way of the line) and LineString geometry, WGS84, sorted so that
        the same data always give the same rows and ids.
    """
    cols = ["road_id", "name", "highway", "bridge", "osmid"]
    empty = gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=WGS84)
    if len(ways) == 0:
        return empty
    ways = ways.sort_values("osmid", kind="stable")
    seg = _way_segments(ways, clip=clip)
    if seg is None:
        return empty
    attrs = pd.DataFrame(
        {
            "highway": _str_col(ways["highway"]).to_numpy()[seg.way],
            "name": _str_col(ways["name"]).to_numpy()[seg.way]
            if "name" in ways.columns
            else np.full(len(seg.a), ""),
            "bridge": _bridge_flag(ways)[seg.way],
        }
    )
    groups = attrs.groupby(["highway", "name", "bridge"], sort=False).ngroup()
    attr_code = np.asarray(groups, dtype=np.int64)
    label = _line_labels(seg, attr_code, split_at=split_at)
    out = _merged_lines(seg, label, attrs, osmid=ways["osmid"].to_numpy())
    out = _canonical_order(out)
    out.insert(0, "road_id", "osm-road-" + pd.Series(np.arange(len(out))).astype(str))
    return out[[*cols, "geometry"]]


@dataclass(frozen=True)
class _Segments:
    """Node-to-node segments of the ways, one per node pair (``a < b``).

    ``a``, ``b`` index ``node_xy`` (lon/lat at OSM's 1e-7 degree) and ``codes`` (the
    nodes' identities, :func:`_node_code`); ``way`` is the row of the segment's way.
    """

    a: NDArray[np.intp]
    b: NDArray[np.intp]
    way: NDArray[np.intp]
    node_xy: NDArray[np.float64]
    codes: NDArray[np.int64]


def _way_segments(ways: pd.DataFrame, *, clip: BaseGeometry | None) -> _Segments | None:
    """Cut the ways (sorted by OSM id) into node-to-node segments; None when none."""
    geoms = ways.geometry.to_numpy()
    lines = shapely.get_parts(geoms)
    line_idx = np.repeat(np.arange(len(geoms)), shapely.get_num_geometries(geoms))
    # polygons (closed ways read as areas) contribute their outline
    poly = shapely.get_type_id(lines) == 3
    if poly.any():
        lines = lines.copy()
        lines[poly] = shapely.get_exterior_ring(lines[poly])
    xy, vidx = shapely.get_coordinates(lines, return_index=True)
    if len(xy) < 2:
        return None
    way_of_vertex = line_idx[vidx]
    same = vidx[:-1] == vidx[1:]
    codes, first_vertex, node = np.unique(_node_code(xy), return_index=True, return_inverse=True)
    node = node.ravel()
    node_xy = np.round(xy[first_vertex] * _COORD_SCALE) / _COORD_SCALE
    u, v = node[:-1][same], node[1:][same]
    seg_way = way_of_vertex[:-1][same]
    ok = u != v
    if clip is not None:
        inside = shapely.contains_xy(clip, node_xy[:, 0], node_xy[:, 1])
        ok &= inside[u] & inside[v]
    u, v, seg_way = u[ok], v[ok], seg_way[ok]
    # one segment per node pair: the first way (lowest OSM id) wins
    a, b = np.minimum(u, v), np.maximum(u, v)
    _, first = np.unique(np.stack([a, b], axis=1), axis=0, return_index=True)
    first = np.sort(first)
    if len(first) == 0:
        return None
    return _Segments(a=a[first], b=b[first], way=seg_way[first], node_xy=node_xy, codes=codes)


def _line_labels(
    seg: _Segments, attr_code: NDArray[np.int64], *, split_at: NDArray[np.float64] | None
) -> NDArray[np.int32]:
    """The line each segment merges into: segments join through interior nodes (exactly
    two segments with equal tags, not a ``split_at`` point)."""
    n_seg, n_nodes = len(seg.a), len(seg.node_xy)
    inc_node = np.concatenate([seg.a, seg.b])
    inc_seg = np.concatenate([np.arange(n_seg), np.arange(n_seg)])
    order = np.argsort(inc_node, kind="stable")
    inc_node, inc_seg = inc_node[order], inc_seg[order]
    degree = np.bincount(inc_node, minlength=n_nodes)
    starts = np.searchsorted(inc_node, np.arange(n_nodes))
    deg2 = np.flatnonzero(degree == 2)
    s1, s2 = inc_seg[starts[deg2]], inc_seg[starts[deg2] + 1]
    interior = attr_code[s1] == attr_code[s2]
    if split_at is not None and len(split_at):
        interior &= ~np.isin(seg.codes[deg2], _node_code(np.asarray(split_at, dtype=np.float64)))
    s1, s2 = s1[interior], s2[interior]
    adj = coo_matrix((np.ones(len(s1)), (s1, s2)), shape=(n_seg, n_seg))
    _n_lines, label = connected_components(adj, directed=False)
    return np.asarray(label, dtype=np.int32)


def _merged_lines(
    seg: _Segments, label: NDArray[np.int32], attrs: pd.DataFrame, *, osmid: NDArray[Any]
) -> gpd.GeoDataFrame:
    """One line per label, with the tags and OSM way id of its first segment."""
    n_seg = len(seg.a)
    n_lines = int(label.max()) + 1
    seg_lines = shapely.linestrings(np.stack([seg.node_xy[seg.a], seg.node_xy[seg.b]], axis=1))
    by_label = np.argsort(label, kind="stable")
    merged = shapely.line_merge(
        shapely.multilinestrings(seg_lines[by_label], indices=label[by_label])
    )
    first_seg = np.full(n_lines, n_seg, dtype=np.int64)
    np.minimum.at(first_seg, label, np.arange(n_seg))
    out = gpd.GeoDataFrame(
        {
            "name": attrs["name"].to_numpy()[first_seg],
            "highway": attrs["highway"].to_numpy()[first_seg],
            "bridge": attrs["bridge"].to_numpy()[first_seg].astype(bool),
            "osmid": osmid[seg.way[first_seg]].astype(np.int64),
        },
        geometry=merged,
        crs=WGS84,
    )
    return out.explode(index_parts=False)


def _canonical_order(out: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Canonical orientation and order, so equal data give equal rows whatever the reader."""
    lines_out = shapely.normalize(out.geometry.to_numpy())
    start = shapely.get_coordinates(shapely.get_point(lines_out, 0))
    end = shapely.get_coordinates(shapely.get_point(lines_out, -1))
    keys = {
        "_x0": start[:, 0],
        "_y0": start[:, 1],
        "_x1": end[:, 0],
        "_y1": end[:, 1],
        "_n": shapely.get_num_points(lines_out),
    }
    return (
        out.set_geometry(lines_out, crs=WGS84)
        .assign(**keys)
        .sort_values(["osmid", *keys], kind="stable")
        .drop(columns=list(keys))
        .reset_index(drop=True)
    )


def _node_code(xy: NDArray[np.float64]) -> NDArray[np.int64]:
    """One int64 per lon/lat pair at OSM's 1e-7 degree precision (the node identity)."""
    q = np.round(np.asarray(xy, dtype=np.float64) * _COORD_SCALE).astype(np.int64)
    # lon + 180 deg < 3.6e9 units, lat + 90 deg < 1.8e9 units: the product fits in int64
    return (q[:, 0] + 1_800_000_001) * 2_000_000_000 + (q[:, 1] + 900_000_001)


def layers_from_features(
    features: gpd.GeoDataFrame,
    *,
    boundary: BaseGeometry,
    area: BaseGeometry,
) -> dict[str, gpd.GeoDataFrame]:
    """Map OSM feature tags to the buildings, compounds, landuse, barriers, POIs and gates.

    See ``docs/readme/osm.md`` for the tag tables. Polygons are taken from polygon
    geometries only (closed ways and multipolygon relations); POIs become points (a
    point on the surface of a polygon).

    Parameters
    ----------
    features
        Reader table: ``element``, ``osmid``, tag columns, geometry (WGS84).
    boundary
        Street boundary (WGS84). Buildings are kept when their representative point is
        inside; compounds and landuse when they meet it.
    area
        The boundary buffered by the margin (WGS84): roads, barriers and POIs meeting it
        are kept.
    """
    f = _FeatureTable.of(features, boundary=boundary, area=area)
    compounds = _compounds_of(f)
    return {
        "buildings": _buildings_of(f),
        "compounds": compounds,
        "landuse": _landuse_of(f),
        "barriers": _barriers_of(f),
        "pois": _pois_of(f, area=area),
        "gates": _gates_of(f, compounds, boundary),
    }


@dataclass(frozen=True)
class _FeatureTable:
    """The reader's features, sorted, with what every layer's selection reads.

    Attributes
    ----------
    tag
        Tag -> values as text ('' where absent), for every tag of :data:`FEATURE_TAGS`.
    ids
        ``osm-<element>-<osmid>``, the feature ids of every layer.
    geom, rep
        Geometry (canonical ring orientation and start) and a point on its surface.
    is_poly, is_line, is_point
        The geometry's kind.
    in_boundary, meets_boundary, meets_area
        Representative point inside the boundary; geometry meeting the boundary, and
        meeting the boundary buffered by the margin.
    """

    tag: dict[str, pd.Series]
    ids: NDArray[np.object_]
    geom: NDArray[np.object_]
    rep: NDArray[np.object_]
    is_poly: NDArray[np.bool_]
    is_line: NDArray[np.bool_]
    is_point: NDArray[np.bool_]
    in_boundary: NDArray[np.bool_]
    meets_boundary: NDArray[np.bool_]
    meets_area: NDArray[np.bool_]

    @classmethod
    def of(
        cls, features: gpd.GeoDataFrame, *, boundary: BaseGeometry, area: BaseGeometry
    ) -> _FeatureTable:
        f = features.sort_values(["element", "osmid"], kind="stable").reset_index(drop=True)
        tag = {
            k: _str_col(f[k]) if k in f.columns else pd.Series("", index=f.index)
            for k in FEATURE_TAGS
        }
        fid = f["element"].astype(str) + "-" + f["osmid"].astype(str)
        # canonical ring orientation and start: the readers assemble relations differently
        geom = shapely.normalize(f.geometry.to_numpy())
        gtype = shapely.get_type_id(geom)
        rep = shapely.point_on_surface(geom)
        return cls(
            tag=tag,
            ids=("osm-" + fid).to_numpy(dtype=object),
            geom=geom,
            rep=rep,
            is_poly=np.isin(gtype, (3, 6)),
            is_line=np.isin(gtype, (1, 2, 5)),
            is_point=gtype == 0,
            in_boundary=np.asarray(shapely.contains(boundary, rep), dtype=bool),
            meets_boundary=np.asarray(shapely.intersects(boundary, geom), dtype=bool),
            meets_area=np.asarray(shapely.intersects(area, geom), dtype=bool),
        )

    @property
    def name(self) -> NDArray[np.object_]:
        return self.tag["name"].to_numpy(dtype=object)

    def frame(
        self,
        mask: NDArray[np.bool_],
        data: dict[str, Any],
        geoms: NDArray[np.object_] | None = None,
    ) -> gpd.GeoDataFrame:
        """The rows of ``mask``: columns from ``data`` (arrays cut by ``mask``, scalars
        repeated) and ``geoms`` (default: the features' geometry), WGS84."""
        cols = {
            k: (np.asarray(v)[mask] if isinstance(v, np.ndarray | pd.Series) else v)
            for k, v in data.items()
        }
        g = self.geom if geoms is None else geoms
        return gpd.GeoDataFrame(cols, geometry=np.asarray(g)[mask], crs=WGS84).reset_index(
            drop=True
        )


def _buildings_of(f: _FeatureTable) -> gpd.GeoDataFrame:
    """``building=*`` polygons whose representative point is inside the boundary."""
    building = f.tag["building"]
    mask = f.is_poly & (building != "").to_numpy() & (building != "no").to_numpy()
    return f.frame(
        mask & f.in_boundary,
        {
            "building_id": f.ids,
            "name": f.name,
            "kind": _building_kind(building, f.tag["building:use"]).to_numpy(),
            "floors": _number(f.tag["building:levels"]).to_numpy(),
            "households": _number(f.tag["building:flats"]).to_numpy(),
            "height_m": _number(f.tag["height"]).to_numpy(),
            "osm_building": building.to_numpy(),
        },
    )


def _building_kind(building: pd.Series, use: pd.Series) -> pd.Series:
    """The folder-format kind of ``building=*``; ``building=yes`` takes ``building:use``.

    Values not in :data:`BUILDING_KINDS` are kept as they are (``yes``, ``industrial``,
    ``church``...): the loader tells kinds that say nothing from non-residential ones
    (:func:`planner.load._layers.building_kinds`).
    """
    value = building.where((building != "yes") | (use == ""), use)
    return value.map(BUILDING_KINDS).fillna(value)


def _compounds_of(f: _FeatureTable) -> gpd.GeoDataFrame:
    """``landuse=residential`` polygons meeting the boundary; gated unless ``access`` opens."""
    mask = f.is_poly & (f.tag["landuse"] == "residential").to_numpy() & f.meets_boundary
    gated = ~f.tag["access"].str.lower().isin(OPEN_ACCESS).to_numpy()
    return f.frame(mask, {"compound_id": f.ids, "name": f.name, "gated": gated})


def _landuse_of(f: _FeatureTable) -> gpd.GeoDataFrame:
    """Other land use, parks, schools and campuses meeting the boundary, with a kind."""
    landuse, amen = f.tag["landuse"], f.tag["amenity"]
    kind: NDArray[np.str_] = np.select(
        [
            (landuse != "").to_numpy(),
            amen.isin(list(LANDUSE_AMENITIES)).to_numpy(),
            (f.tag["leisure"] == "park").to_numpy(),
        ],
        [
            landuse.map(LANDUSE_KINDS).fillna(landuse).to_numpy(dtype=str),
            amen.map(LANDUSE_AMENITIES).fillna("").to_numpy(dtype=str),
            np.full(len(f.ids), "park"),
        ],
        "",
    )
    mask = f.is_poly & (kind != "") & (landuse != "residential").to_numpy() & f.meets_boundary
    return f.frame(mask, {"landuse_id": f.ids, "kind": kind, "name": f.name})


def _barriers_of(f: _FeatureTable) -> gpd.GeoDataFrame:
    """Water areas (river) and railways meeting the margin."""
    water = (f.tag["waterway"] == "riverbank") | (f.tag["natural"] == "water")
    river = f.is_poly & water.to_numpy()
    rail = f.is_line & (f.tag["railway"] == "rail").to_numpy()
    return f.frame(
        (river | rail) & f.meets_area,
        {"barrier_id": f.ids, "kind": np.where(river, "river", "railway"), "name": f.name},
    )


def _pois_of(f: _FeatureTable, *, area: BaseGeometry) -> gpd.GeoDataFrame:
    """Amenity, shop and office features that could host a station, and the leisure
    grounds and cash machines of the service kinds, as points."""
    amen, shop, office = f.tag["amenity"], f.tag["shop"], f.tag["office"]
    leisure = f.tag["leisure"]
    site_amenity = (amen != "") & (~amen.isin(NON_SITE_AMENITIES) | amen.isin(SERVICE_AMENITIES))
    key = np.select(
        [
            site_amenity.to_numpy(),
            (shop != "").to_numpy(),
            (office != "").to_numpy(),
            leisure.isin(SERVICE_LEISURE).to_numpy(),
        ],
        ["amenity", "shop", "office", "leisure"],
        "",
    )
    kind = np.select(
        [key == "amenity", key == "shop", key == "office", key == "leisure"],
        [amen.to_numpy(), shop.to_numpy(), office.to_numpy(), leisure.to_numpy()],
        "",
    )
    kind = np.where((kind == "yes") & (key != ""), key, kind)
    near = np.asarray(shapely.intersects(area, f.rep), dtype=bool)
    mask = (key != "") & (f.is_point | f.is_poly) & near
    return f.frame(
        mask,
        {"poi_id": f.ids, "name": f.name, "kind": kind, "osm_key": key, "in_street": f.in_boundary},
        f.rep,
    )


def _gates_of(
    f: _FeatureTable, compounds: gpd.GeoDataFrame, boundary: BaseGeometry
) -> gpd.GeoDataFrame:
    """``barrier=`` :data:`GATE_BARRIERS` or ``entrance=*`` nodes on a compound outline."""
    is_gate = f.tag["barrier"].isin(list(GATE_BARRIERS)) | (f.tag["entrance"] != "")
    mask = f.is_point & is_gate.to_numpy() & f.meets_area
    return _gates_on_compounds(f.frame(mask, {"gate_id": f.ids}), compounds, boundary)


# ------------------------------------------------------------------------- readers


@functools.lru_cache(maxsize=2)
def _read_tables(
    path: str, fmt: str, size: int, mtime_ns: int, window: tuple[float, ...] | None
) -> tuple[pd.DataFrame, gpd.GeoDataFrame, BaseGeometry | None]:
    """The reader tables of a file, cached by path, size, modification time and window.

    Loading the same extract again with the same boundary (app reruns, tests) skips the
    parsing. The tables are never modified by the shared code. ``window`` (PBF only) is a
    WGS84 box (min lon, min lat, max lon, max lat) the reading is limited to.
    """
    del size, mtime_ns  # cache key only
    return _read_pbf(Path(path), window) if fmt == "pbf" else _read_xml(Path(path))


def _read_xml(path: Path) -> tuple[pd.DataFrame, gpd.GeoDataFrame, BaseGeometry | None]:
    """XML extract -> (ways, features, <bounds> box or None), via osmnx."""
    import osmnx as ox

    extent = _xml_bounds(path)
    empty_answer = ox._errors.InsufficientResponseError  # osmnx: "no data elements"
    with _osmnx_settings():
        try:
            ways = _ways_from_osmnx_graph(ox.graph_from_xml(path, simplify=False, retain_all=True))
        except empty_answer:
            ways = _empty_ways()
        try:
            features = _features_from_osmnx(ox.features_from_xml(path, tags=_osmnx_tags()))
        except empty_answer:
            features = _empty_features()
    if extent is None:
        extent = _convex_extent(ways, features)
    return ways, features, extent


def _ways_from_osmnx_graph(graph: Any) -> gpd.GeoDataFrame:
    """One row per OSM way with a ``highway`` tag from an unsimplified osmnx graph."""
    import osmnx as ox

    if len(graph.edges) == 0:
        return _empty_ways()
    edges = ox.convert.graph_to_gdfs(graph, nodes=False).reset_index()
    edges = edges[~edges["reversed"].astype(bool)] if "reversed" in edges.columns else edges
    if "highway" not in edges.columns:
        return _empty_ways()
    edges = edges[edges["highway"].notna()]
    # consecutive node-to-node segments of a way, in way order, make the way's line
    edges = edges.sort_values("osmid", kind="stable")
    keep = ["osmid", *[t for t in WAY_TAGS if t in edges.columns]]
    lines = shapely.multilinestrings(
        edges.geometry.to_numpy(), indices=pd.factorize(edges["osmid"])[0]
    )
    firsts = edges.drop_duplicates("osmid")[keep].reset_index(drop=True)
    return gpd.GeoDataFrame(firsts, geometry=lines, crs=WGS84)


def _features_from_osmnx(raw: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """osmnx features (index element, id) -> reader table."""
    if len(raw) == 0:
        return _empty_features()
    f = raw.reset_index()
    f = f.rename(columns={"id": "osmid"})
    keep = ["element", "osmid", *[t for t in FEATURE_TAGS if t in f.columns]]
    return gpd.GeoDataFrame(f[keep], geometry=f.geometry.to_numpy(), crs=WGS84)


def _osmnx_tags() -> dict[str, bool | str | list[str]]:
    return dict(FEATURE_SELECTION)


def _read_pbf(
    path: Path, window: tuple[float, ...] | None = None
) -> tuple[pd.DataFrame, gpd.GeoDataFrame, BaseGeometry | None]:
    """PBF extract -> (ways, features, header box or None), via pyrosm."""
    import pyrosm

    with _named_pbf(path) as pbf:
        osm = pyrosm.OSM(
            str(pbf),
            engine="in_memory",
            bounding_box=None if window is None else list(window),
            complete_relations=window is not None,
            progress=False,  # a library prints nothing; the CLI shows its own progress
        )
        return _pbf_tables(osm, path)


@contextlib.contextmanager
def _named_pbf(path: Path) -> Iterator[Path]:
    """``path``, or a link to it named ``*.osm.pbf`` in a temporary folder when its name
    does not end with ``.pbf`` (pyrosm refuses other names; the content was sniffed)."""
    if path.name.lower().endswith(".pbf"):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="planner-pbf-") as tmp:
        link = Path(tmp) / "extract.osm.pbf"
        try:
            link.symlink_to(path.resolve())
        except OSError:  # no symbolic links here (some Windows setups): copy
            shutil.copyfile(path, link)
        yield link


def _pbf_tables(osm: Any, path: Path) -> tuple[pd.DataFrame, gpd.GeoDataFrame, BaseGeometry | None]:
    """The reader tables from an opened pyrosm reader (``path`` names it in the log)."""
    with warnings.catch_warnings():  # an empty window is reported by read_osm, plainly
        warnings.filterwarnings("ignore", message="Could not find any", category=UserWarning)
        net = osm.get_network("all", extra_attributes=[t for t in WAY_TAGS if t != "highway"])
    if net is None or len(net) == 0:
        ways: pd.DataFrame = _empty_ways()
    else:
        net = _expand_tags(net, WAY_TAGS).rename(columns={"id": "osmid"})
        ways = gpd.GeoDataFrame(
            net[["osmid", *WAY_TAGS]], geometry=net.geometry.to_numpy(), crs=WGS84
        )
    raw = _pbf_features(osm)
    if raw is None or len(raw) == 0:
        features = _empty_features()
    else:
        raw = _drop_incomplete_relations(raw, osm, path)
        raw = _expand_tags(raw, FEATURE_TAGS).rename(columns={"id": "osmid", "osm_type": "element"})
        features = gpd.GeoDataFrame(
            raw[["element", "osmid", *FEATURE_TAGS]], geometry=raw.geometry.to_numpy(), crs=WGS84
        )
    extent = _pbf_header_box(osm)
    if extent is None:
        extent = _convex_extent(ways, features)
    return ways, features, extent


def _pbf_features(osm: Any) -> pd.DataFrame | None:
    """The tagged nodes, ways and relations of :data:`FEATURE_SELECTION` from a pyrosm
    reader (None when there are none).

    pyrosm leaves out a way that is a member of a selected relation (it only serves to
    build the relation's polygon), even when the way is a feature itself: a building
    that is the inner ring of another building's multipolygon would be lost. So nodes
    and ways are read in one pass without relations, and relations in a second pass.
    """
    parts = []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Could not find any", category=UserWarning)
        for nodes_and_ways in (True, False):
            part = osm.get_data_by_custom_criteria(
                custom_filter=dict(FEATURE_SELECTION),
                osm_keys_to_keep=list(FEATURE_SELECTION),
                filter_type="keep",
                keep_nodes=nodes_and_ways,
                keep_ways=nodes_and_ways,
                keep_relations=not nodes_and_ways,
            )
            if part is not None and len(part):
                parts.append(part)
    if not parts:
        return None
    out: pd.DataFrame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return out


def _drop_incomplete_relations(raw: pd.DataFrame, osm: Any, path: Path) -> pd.DataFrame:
    """Drop multipolygon relations with member ways missing from the file.

    pyrosm assembles a relation from the members it finds; osmnx skips a relation when
    a member way is missing. Such a relation's polygon is a guess, so both readers
    skip it (logged).
    """
    rel = (raw["osm_type"] == "relation").to_numpy()
    if not rel.any():
        return raw
    store = getattr(osm, "_way_records", None)
    way_ids = getattr(store, "ids", None)
    if way_ids is None:  # pragma: no cover - depends on pyrosm internals
        log.warning("cannot check relation members in %s; keeping %d relations", path, rel.sum())
        return raw
    present = set(np.asarray(way_ids).tolist())
    tags = raw.loc[rel, "tags"] if "tags" in raw.columns else pd.Series(dtype=object)
    complete = np.ones(len(raw), dtype=bool)
    for pos, text in zip(np.flatnonzero(rel), tags, strict=True):
        members = _json(text).get("members", [])
        wanted = [m.get("member_id") for m in members if m.get("member_type") == "way"]
        complete[pos] = all(w in present for w in wanted)
    if not complete.all():
        dropped = raw.loc[~complete, "id"].tolist()
        log.info(
            "skipped %d relations with member ways missing from %s: %s",
            len(dropped),
            path.name,
            dropped,
        )
    return raw.loc[complete]


def _expand_tags(df: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """Add tag columns pyrosm left in its JSON ``tags`` column (missing -> NaN).

    Only the rows whose JSON text names a missing key are parsed.
    """
    missing = [k for k in keys if k not in df.columns]
    if not missing:
        return df
    out = df.copy()
    text = _str_col(df["tags"]) if "tags" in df.columns else pd.Series("", index=df.index)
    for k in missing:
        has = text.str.contains(json.dumps(k) + ":", regex=False).to_numpy()
        values = np.full(len(df), np.nan, dtype=object)
        if has.any():
            values[has] = [_json(t).get(k, np.nan) for t in text.to_numpy()[has]]
        out[k] = values
    return out


def _json(text: Any) -> dict[str, Any]:
    if isinstance(text, dict):
        return text
    if not isinstance(text, str) or not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _pbf_header_box(osm: Any) -> BaseGeometry | None:
    bb = getattr(osm, "_data_bounding_box", None)
    if bb is None:
        return None
    try:
        x0, y0, x1, y1 = (float(c) for c in bb)
    except (TypeError, ValueError):
        return None
    return box(x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


# -------------------------------------------------------------------------- helpers


_BOUND_ATTR = re.compile(r'(minlat|minlon|maxlat|maxlon)\s*=\s*["\']([-0-9.eE+]+)["\']')


def _xml_bounds(path: Path) -> BaseGeometry | None:
    """The ``<bounds>`` box of an OSM XML file (read from its first 64 KB), or None."""
    with path.open("rb") as fh:
        head = fh.read(65536).decode("utf-8", errors="replace")
    m = re.search(r"<bounds\b[^>]*>", head)
    if not m:
        return None
    vals = dict(_BOUND_ATTR.findall(m.group(0)))
    try:
        return box(
            float(vals["minlon"]),
            float(vals["minlat"]),
            float(vals["maxlon"]),
            float(vals["maxlat"]),
        )
    except (KeyError, ValueError):
        return None


def _convex_extent(ways: pd.DataFrame, features: gpd.GeoDataFrame) -> BaseGeometry | None:
    geoms = np.concatenate(
        [
            np.asarray(ways.geometry) if len(ways) else np.empty(0, object),
            np.asarray(features.geometry) if len(features) else np.empty(0, object),
        ]
    )
    if len(geoms) == 0:
        return None
    hull = shapely.convex_hull(shapely.union_all(shapely.envelope(geoms)))
    return hull if hull.geom_type == "Polygon" else None


def _boundary_polygon(
    clip: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | None,
    extent: BaseGeometry | None,
    *,
    source: str,
) -> BaseGeometry:
    """The street boundary as one valid WGS84 polygon."""
    if clip is None:
        if extent is None:
            raise InputError(
                Problem.of(
                    msg("osm_no_data_for_boundary"), fix=msg("osm_fix_nonempty"), file=source
                )
            )
        return extent
    if isinstance(clip, gpd.GeoDataFrame | gpd.GeoSeries):
        if clip.crs is None:
            raise InputError(
                Problem.of(
                    msg("err_boundary_no_crs"),
                    fix=msg("err_fix_boundary_crs"),
                    file=source,
                    field="geometry",
                )
            )
        geom = clip.to_crs(WGS84).geometry.union_all()
    else:
        geom = clip
    geom = shapely.make_valid(geom)
    if geom.geom_type == "GeometryCollection":
        geom = shapely.union_all(
            [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        )
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise InputError(
            Problem.of(
                msg("err_boundary_not_polygon", kind=geom.geom_type),
                fix=msg("err_fix_polygon_boundary"),
                file=source,
                field="geometry",
            )
        )
    x0, y0, x1, y1 = geom.bounds
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise InputError(
            Problem.of(
                msg("err_boundary_not_degrees"), fix=msg("err_fix_boundary_wgs84"), file=source
            )
        )
    return geom


def _clip_name(clip: object) -> str:
    """The first non-empty ``name`` of a boundary GeoDataFrame, else ''."""
    if isinstance(clip, gpd.GeoDataFrame) and "name" in clip.columns:
        names = _str_col(clip["name"])
        names = names[names != ""]
        return str(names.iloc[0]) if len(names) else ""
    return ""


def _buffer_m(geom: BaseGeometry, margin_m: float) -> BaseGeometry:
    """``geom`` (WGS84) buffered by ``margin_m`` metres, measured in its UTM zone."""
    if margin_m == 0:
        return geom
    c = geom.centroid
    utm = utm_crs_for(c.x, c.y)
    gs = gpd.GeoSeries([geom], crs=WGS84).to_crs(utm).buffer(margin_m).to_crs(WGS84)
    return gs.iloc[0]


def _gates_on_compounds(
    gates: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame, boundary: BaseGeometry
) -> gpd.GeoDataFrame:
    """Gates within :data:`GATE_SNAP_M` of a compound outline, with its ``compound_id``."""
    cols = ["gate_id", "compound_id"]
    if len(gates) == 0 or len(compounds) == 0:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=WGS84)
    c = boundary.centroid
    utm = utm_crs_for(c.x, c.y)
    outlines = gpd.GeoDataFrame(
        {"compound_id": compounds["compound_id"].to_numpy()},
        geometry=compounds.to_crs(utm).boundary.to_numpy(),
        crs=utm,
    )
    g = gates[["gate_id", "geometry"]].to_crs(utm)
    joined = gpd.sjoin_nearest(g, outlines, how="inner", max_distance=GATE_SNAP_M)
    joined = joined[~joined.index.duplicated(keep="first")]
    out = gates.loc[joined.index, ["gate_id", "geometry"]].copy()
    out.insert(1, "compound_id", joined["compound_id"].to_numpy())
    dropped = len(gates) - len(out)
    if dropped:
        log.debug("%d OSM gates are not on a compound outline and were left out", dropped)
    return out.reset_index(drop=True)[[*cols, "geometry"]]


def _str_col(s: pd.Series) -> pd.Series:
    """Tag column as plain strings, '' where the tag is absent."""
    return s.astype(object).where(s.notna(), "").astype(str).str.strip()


def _number(s: pd.Series) -> pd.Series:
    """Leading number of a tag value ("6", "18 m", "5;7" -> 6.0, 18.0, 5.0), NaN if none."""
    return pd.to_numeric(s.str.extract(r"^\s*([0-9]+(?:\.[0-9]+)?)", expand=False), errors="coerce")


def _bridge_flag(ways: pd.DataFrame) -> NDArray[np.bool_]:
    flag = np.zeros(len(ways), dtype=bool)
    for key in ("bridge", "tunnel"):
        if key in ways.columns:
            val = _str_col(ways[key]).str.lower()
            flag |= np.asarray(~val.isin(["", "no", "false", "0"]), dtype=bool)
    return flag


def _empty_ways() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"osmid": [], **{t: [] for t in WAY_TAGS}}, geometry=[], crs=WGS84)


def _empty_features() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"element": [], "osmid": [], **{t: [] for t in FEATURE_TAGS}}, geometry=[], crs=WGS84
    )


def _check_file(p: Path) -> None:
    if not p.exists():
        raise InputError(
            Problem.of(msg("err_file_not_found"), fix=msg("err_fix_check_osm_path"), file=str(p))
        )
    if not p.is_file() or p.stat().st_size == 0:
        raise InputError(
            Problem.of(msg("osm_not_readable_file"), fix=msg("osm_fix_osm_file"), file=str(p))
        )


@contextlib.contextmanager
def _osmnx_settings(**overrides: Any) -> Iterator[None]:
    """Temporarily set osmnx settings: way tags for the walk filter, no log to console."""
    import osmnx as ox

    wanted: dict[str, Any] = {
        "useful_tags_way": sorted(set(ox.settings.useful_tags_way) | set(WAY_TAGS)),
        "log_console": False,
        **overrides,
    }
    saved = {k: getattr(ox.settings, k) for k in wanted}
    try:
        for k, v in wanted.items():
            setattr(ox.settings, k, v)
        yield
    finally:
        for k, v in saved.items():
            setattr(ox.settings, k, v)


def _offline_error(exc: BaseException, source: str) -> InputError:
    """The message for a failed online download."""
    detail = str(exc)
    host = re.search(r"host='([^']+)'", detail)
    if "resolve" in detail or "NameResolution" in detail:
        reason = "the server name could not be resolved (no network or DNS)"
    elif "timed out" in detail.lower() or "Timeout" in type(exc).__name__:
        reason = "the request timed out"
    else:
        reason = detail.splitlines()[0][:160] if detail else "no answer"
    text = f"{type(exc).__name__} for {host.group(1) if host else 'the OSM servers'}: {reason}"
    return InputError(
        Problem.of(msg("osm_offline", detail=text), fix=msg("osm_fix_offline"), file=source)
    )
