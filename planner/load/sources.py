"""Loading a street from every source a planner has, into one :class:`Street`.

Sources (:func:`load_street`):

- ``"demo"``: the embedded synthetic street in ``data/demo`` (folder format; an installed
  wheel carries it as ``planner/_demo``, see :func:`demo_dir`);
- a folder of layer files (see docs/readme/load.md and FOLDER_FORMAT);
- an OpenStreetMap extract, ``.osm`` or ``.osm.pbf`` (read by :mod:`planner.load.osm`);
- ``"place:NAME"``: OpenStreetMap online through osmnx (needs internet);
- ``"osm"`` with ``boundary=``: OpenStreetMap online inside the boundary polygon.

Every source ends in :func:`assemble`, which takes WGS84 layers, chooses the UTM
zone from the boundary, projects, validates and repairs, clips to the street
(roads, stations and POIs to ``margin_m`` beyond it), builds the walking network,
joins the household register, estimates missing households, conforms every
layer to :mod:`planner.schema` and fills the :class:`~planner.street.LoadReport`.
All problems are collected and raised together as one
:class:`~planner.errors.InputError`.
"""

from __future__ import annotations

import importlib
import logging
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from planner import schema
from planner.crs import WGS84, PointCRS, utm_crs_for
from planner.errors import InputError, Problem, ProblemLog
from planner.load import register as register_mod
from planner.load import validate
from planner.load.osm import ATTRIBUTION as OSM_ATTRIBUTION
from planner.load.readers import normalise_text, read_folder, read_layer_file
from planner.network import walk as network
from planner.network.build import NodeAt, build_network, nearest_nodes
from planner.settings import Settings
from planner.street import Street, from_layers

log = logging.getLogger(__name__)


def demo_dir() -> Path:
    """The folder of the embedded demo street (folder format).

    An installed wheel carries it as package data, ``planner/_demo/`` (copied there
    from ``data/demo/`` by ``setup.py``), found with :mod:`importlib.resources`; a
    source checkout or an editable install reads ``data/demo/`` beside the package.
    """
    packaged = resources.files("planner") / "_demo"
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "data" / "demo"


#: The embedded demo street (folder format): :func:`demo_dir`.
DEMO_DIR: Path = demo_dir()

#: Id column of each layer, and the prefix of ids the loader makes up.
ID_COLUMNS: dict[str, tuple[str, str]] = {
    "communities": ("community_id", "C"),
    "compounds": ("compound_id", "X"),
    "buildings": ("building_id", "B"),
    "roads": ("road_id", "R"),
    "stations": ("station_id", "S"),
    "gates": ("gate_id", "G"),
    "barriers": ("barrier_id", "W"),
    "landuse": ("landuse_id", "L"),
    "pois": ("poi_id", "P"),
}
GEOMETRY_KIND: dict[str, str] = {
    "boundary": "polygon",
    "communities": "polygon",
    "compounds": "polygon",
    "buildings": "polygon",
    "landuse": "polygon",
    "roads": "line",
    "stations": "point",
    "gates": "point",
    "pois": "point",
}

#: Building ``kind`` values (OSM ``building=*`` tags, Chinese words) -> schema kind.
BUILDING_KIND_MAP: dict[str, str] = {
    **dict.fromkeys(
        (
            "residential",
            "apartments",
            "apartment",
            "house",
            "dormitory",
            "detached",
            "terrace",
            "semidetached_house",
            "住宅",
            "居民楼",
            "住宅楼",
            "宿舍",
        ),
        "residential",
    ),
    **dict.fromkeys(
        ("school", "university", "college", "kindergarten", "学校", "幼儿园", "小学", "中学"),
        "school",
    ),
    **dict.fromkeys(
        ("shop", "retail", "commercial", "supermarket", "mall", "商业", "商铺", "商场"), "shop"
    ),
    **dict.fromkeys(("office", "办公", "写字楼"), "office"),
    **dict.fromkeys(
        (
            "public",
            "civic",
            "government",
            "hospital",
            "clinic",
            "community_centre",
            "公共",
            "医院",
            "政府",
        ),
        "public",
    ),
}
#: Building kinds that say nothing (OSM ``building=yes``): residential inside a compound.
UNKNOWN_KINDS: frozenset[str] = frozenset({"", "yes", "building", "unknown", "nan", "none"})


def load_street(
    source: str | Path,
    *,
    boundary: str | Path | None = None,
    stations: str | Path | None = None,
    points_crs: PointCRS = "wgs84",
    register: str | Path | None = None,
    settings: Settings | None = None,
) -> Street:
    """Load a street from ``source`` into a :class:`Street` in its UTM CRS.

    Parameters
    ----------
    source
        ``"demo"``, a folder of layer files, an OSM extract (``.osm``/``.osm.pbf``),
        ``"place:NAME"`` (OpenStreetMap online), or ``"osm"`` with ``boundary``
        (OpenStreetMap online inside that polygon).
    boundary
        A boundary file (polygon layer); clips an OSM extract and replaces a
        folder's boundary.
    stations
        A stations file (GeoJSON/GPKG/Shapefile, or CSV with longitude/latitude);
        replaces the source's stations.
    points_crs
        What longitude/latitude in CSV point files are: ``"wgs84"``, ``"gcj02"``
        (Amap, Tencent) or ``"bd09"`` (Baidu).
    register
        A household register (.csv UTF-8/GBK or .xlsx), see :mod:`planner.load.register`.
    settings
        Settings (``margin_m``, ``dwelling_size_m2``, ...); defaults when None.

    Raises
    ------
    InputError
        Naming every problem found (file, feature id, field, fix).
    """
    t0 = time.perf_counter()
    settings = settings or Settings()
    problems = ProblemLog()
    src = str(source)
    files: dict[str, str] = {}
    meta: dict[str, Any] = {}
    node_at: NodeAt = "intersections"
    attribution = ""

    boundary_raw: gpd.GeoDataFrame | None = None
    if boundary is not None:
        boundary_raw = read_layer_file(Path(boundary), layer="boundary", problems=problems)
        files["boundary"] = str(boundary)

    online_polygon = src == "osm" and not Path(src).exists()  # a folder named osm wins
    online = online_polygon or src.startswith("place:")
    path = DEMO_DIR if src == "demo" or online else Path(src).expanduser()
    suffixes = "".join(path.suffixes[-2:]).lower()
    if src == "demo" and not DEMO_DIR.is_dir():
        raise InputError(
            f"the demo street is missing ({DEMO_DIR})",
            fix="regenerate it with: python scripts/make_demo.py",
        )
    if online_polygon:
        if boundary_raw is None:
            problems.raise_if_errors()  # the file was named but could not be read: say why
        if boundary_raw is None or boundary_raw.empty:
            problems.add(
                "source 'osm' downloads OpenStreetMap data inside a polygon, but no boundary "
                "was given"
                if boundary is None
                else "the boundary file gives no polygon",
                file=str(boundary) if boundary is not None else None,
                fix="pass --boundary FILE (the street polygon), or use place:NAME",
            )
            problems.raise_if_errors()
        assert boundary_raw is not None
        osm = _osm_module()
        polygon = shapely.union_all(boundary_raw.geometry.to_numpy())
        raw = osm.fetch_place(polygon, margin_m=settings.margin_m, source=str(boundary))
        node_at, attribution = "endpoints", OSM_ATTRIBUTION
        files.update({k: f"OpenStreetMap online ({k})" for k in raw if k not in files})
        meta = {"name": _first_name(boundary_raw)}
    elif src.startswith("place:"):
        name = src.split(":", 1)[1].strip()
        if not name:
            raise InputError(
                "place: needs a name, e.g. place:学院路街道, 北京",
                fix="write the place name after 'place:'",
            )
        osm = _osm_module()
        raw = osm.fetch_place(name, margin_m=settings.margin_m)
        node_at, attribution = "endpoints", OSM_ATTRIBUTION
        files = {k: f"OpenStreetMap ({name}) {k}" for k in raw}
        meta = {"name": name}
    elif path.is_dir():
        raw, meta, paths = read_folder(
            path, problems=problems, points_crs=points_crs if points_crs != "wgs84" else None
        )
        files.update({k: str(p) for k, p in paths.items() if k not in files})
        files.setdefault("boundary", str(path))  # no boundary file: name the folder
        if src == "demo":
            meta.setdefault("synthetic", True)
    elif suffixes.endswith((".osm", ".osm.pbf", ".pbf")):
        if not path.exists():
            raise InputError(
                Problem("file not found", fix="check the path of the OSM extract", file=src)
            )
        clip = None
        if boundary_raw is not None and len(boundary_raw):
            clip = shapely.union_all(boundary_raw.geometry.to_numpy())
        elif boundary is not None:
            problems.raise_if_errors()
        osm = _osm_module()
        raw = osm.read_osm(path, clip=clip, margin_m=settings.margin_m)
        node_at, attribution = "endpoints", OSM_ATTRIBUTION
        files.update({k: f"{path} ({k})" for k in raw if k not in files})
        meta = {"name": _first_name(boundary_raw) or path.name.split(".")[0]}
    elif not path.exists():
        raise InputError(
            f"no such file or folder: {src}",
            fix="give 'demo', a folder of layer files, an .osm/.osm.pbf extract or place:NAME",
        )
    else:
        raise InputError(
            f"cannot load {src}: not a folder and not an OpenStreetMap extract",
            fix="give a folder holding boundary.geojson (and other layers), or an .osm/.osm.pbf "
            "file; single layer files go in a folder",
        )

    raw = dict(raw)
    if boundary_raw is not None:
        raw["boundary"] = boundary_raw
    if stations is not None:
        st = read_layer_file(
            Path(stations), layer="stations", problems=problems, points_crs=points_crs
        )
        files["stations"] = str(stations)
        if st is not None:
            raw["stations"] = st
    table = None
    if register is not None:
        table = register_mod.read_register(Path(register), problems=problems)
        files["register"] = str(register)

    street = assemble(
        raw,
        source=src,
        settings=settings,
        name=str(meta.get("name", "")),
        synthetic=bool(meta.get("synthetic", False)),
        attribution=str(meta.get("attribution", attribution)),
        node_at=node_at,
        problems=problems,
        files=files,
        register=table,
        meta=meta,
    )
    log.info("loaded %s in %.2f s", src, time.perf_counter() - t0)
    return street


def _first_name(gdf: gpd.GeoDataFrame | None) -> str:
    """The first non-empty ``name`` of a layer ('' if none)."""
    if gdf is None or "name" not in gdf.columns:
        return ""
    names = gdf["name"].dropna().astype(str).str.strip()
    names = names[names != ""]
    return str(names.iloc[0]) if len(names) else ""


def _osm_module() -> Any:
    try:
        return importlib.import_module("planner.load.osm")
    except ImportError as exc:  # pragma: no cover - until planner.load.osm lands
        raise InputError(
            f"reading OpenStreetMap data is not available: {exc}",
            fix="use a folder of layer files or the demo street",
        ) from exc


@dataclass
class _Ctx:
    """State shared by the assembly steps."""

    settings: Settings
    problems: ProblemLog
    files: dict[str, str]
    crs: CRS
    street: BaseGeometry
    reach: BaseGeometry
    derived: list[str] = field(default_factory=list)

    def file(self, layer: str) -> str:
        return self.files.get(layer, layer)


def _clean_layer(name: str, gdf: gpd.GeoDataFrame, ctx: _Ctx) -> gpd.GeoDataFrame:
    """Ids filled and unique, geometry of the right kind and repaired (projected CRS)."""
    gdf = gdf.reset_index(drop=True)
    file = ctx.file(name)
    id_col, prefix = ID_COLUMNS.get(name, ("", ""))
    ids = validate.feature_ids(gdf, id_col) if id_col else validate.feature_ids(gdf, "id")
    kind = GEOMETRY_KIND.get(name)
    if kind is not None:
        gdf = validate.check_geometry_kind(
            gdf, kind=kind, ids=ids, file=file, problems=ctx.problems
        )
        ids = ids.loc[gdf.index]
    if kind == "polygon":
        gdf = validate.repair_polygons(gdf, ids=ids, file=file, problems=ctx.problems)
        ids = ids.loc[gdf.index]
    if id_col:
        validate.check_duplicate_ids(ids, file=file, field=id_col, problems=ctx.problems)
        given = ids.where(~ids.str.startswith("#"), "")
        made = pd.Series([f"{prefix}{i + 1:04d}" for i in range(len(gdf))], index=gdf.index)
        gdf = gdf.copy()
        gdf[id_col] = given.where(given != "", made)
    return gdf.reset_index(drop=True)


def _polygonal(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Polygonal part of each geometry (clipping can leave lines or points beside polygons)."""
    out = np.asarray(geoms, dtype=object).copy()
    mixed = shapely.get_type_id(out) == shapely.GeometryType.GEOMETRYCOLLECTION
    if mixed.any():
        parts, idx = shapely.get_parts(out[mixed], return_index=True)
        poly = np.isin(
            shapely.get_type_id(parts),
            [shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON],
        )
        rows = np.flatnonzero(mixed)
        fixed = np.array([shapely.Polygon() for _ in rows], dtype=object)
        for k in np.unique(idx[poly]):  # a handful of clipped features at most
            fixed[k] = shapely.union_all(parts[poly & (idx == k)])
        out[rows] = fixed
    return out


def _largest_overlap(
    geoms: NDArray[np.object_], zones: NDArray[np.object_], zone_ids: NDArray[np.object_]
) -> NDArray[np.object_]:
    """Id of the zone covering most of each polygon ('' where none overlaps)."""
    out = np.full(len(geoms), "", dtype=object)
    if len(geoms) == 0 or len(zones) == 0:
        return out
    gi, zi = shapely.STRtree(zones).query(geoms, predicate="intersects")
    if len(gi) == 0:
        return out
    # most features lie wholly in one zone: only the straddling pairs need an intersection
    shapely.prepare(zones)
    whole = shapely.contains(zones[zi], geoms[gi])
    area = shapely.area(geoms[gi])
    part = ~whole
    if part.any():
        area[part] = shapely.area(shapely.intersection(geoms[gi[part]], zones[zi[part]]))
    order = np.lexsort((-area, gi))
    gi, zi, area = gi[order], zi[order], area[order]
    first = np.unique(gi, return_index=True)[1]
    keep = area[first] > 0
    out[gi[first][keep]] = zone_ids[zi[first][keep]]
    return out


def _check_placement(
    name: str, gdf_wgs: gpd.GeoDataFrame, projected: gpd.GeoDataFrame, ctx: _Ctx
) -> bool:
    """False (with an error) when the whole layer lies beyond the margin of the street."""
    if projected.empty:
        return True
    near = shapely.intersects(ctx.reach, projected.geometry.to_numpy())
    if near.any():
        return True
    file = ctx.file(name)
    dist_km = float(shapely.distance(ctx.street, projected.geometry.union_all())) / 1000
    swapped = gdf_wgs.geometry.transform(lambda xy: xy[:, ::-1]).to_crs(ctx.crs)
    if shapely.intersects(ctx.reach, swapped.to_numpy()).any():
        ctx.problems.add(
            f"latitude/longitude are swapped: the layer lies {dist_km:,.1f} km from the "
            "street, and lands on it with the two coordinates exchanged",
            file=file,
            field="geometry",
            fix="write coordinates as longitude, latitude (x = longitude), or swap the "
            "longitude/latitude columns",
        )
    else:
        ctx.problems.add(
            f"the whole layer lies {dist_km:,.1f} km from the street boundary",
            file=file,
            field="geometry",
            fix="check the layer's coordinate system (a wrong .prj or GeoJSON 'crs', or "
            "GCJ-02/BD-09 points declared as WGS84) and that it belongs to this street",
        )
    return False


def _report_outside(
    name: str, ids: pd.Series, beyond: NDArray[np.bool_], ctx: _Ctx, *, what: str
) -> None:
    if beyond.any():
        bad = ids[beyond].tolist()
        ctx.problems.add(
            f"{len(bad)} {what} lie more than {ctx.settings.margin_m:,.0f} m outside the "
            f"street and were left out: {validate.id_list(bad)}",
            file=ctx.file(name),
            feature_id=bad[0],
            field="geometry",
            fix="check their coordinates (and --points-crs for points from Chinese web maps), "
            "or remove them",
            severity="warning",
        )


def _resolve_station_kinds(st: gpd.GeoDataFrame, ctx: _Ctx) -> pd.Series:
    if "kind" not in st.columns:
        return pd.Series("community_station", index=st.index)
    lookup = {
        **{k: k for k in schema.STATION_KINDS},
        **{normalise_text(a): k for a, k in schema.STATION_KIND_ALIASES.items()},
    }
    raw = st["kind"].astype(object).where(st["kind"].notna(), "").astype(str)
    norm = raw.map(normalise_text)
    resolved = norm.map(lambda v: lookup.get(v, "community_station" if v == "" else None))
    bad = resolved.isna()
    if bad.any():
        valid = ", ".join(f"{k} ({zh})" for k, (zh, _en) in schema.STATION_KINDS.items())
        for i in np.flatnonzero(bad.to_numpy())[: validate.MAX_IDS]:
            ctx.problems.add(
                f"unknown station kind {raw.iloc[i]!r}",
                file=ctx.file("stations"),
                feature_id=st["station_id"].iloc[i],
                field="kind",
                fix=f"use one of: {valid}; or leave it empty for community_station",
            )
    return resolved.fillna("community_station")


def _building_kinds(b: gpd.GeoDataFrame) -> pd.Series:
    raw = (
        b["kind"].astype(object).where(b["kind"].notna(), "").astype(str)
        if "kind" in b.columns
        else pd.Series("", index=b.index)
    )
    norm = raw.map({v: normalise_text(v) for v in raw.unique()})
    kinds = norm.map(lambda v: BUILDING_KIND_MAP.get(v, v if v in schema.BUILDING_KINDS else ""))
    unknown = norm.isin(UNKNOWN_KINDS)
    in_compound = b["compound_id"].astype(str) != ""
    kinds = kinds.where(~(unknown & in_compound), "residential")
    return kinds.where(kinds != "", "other")


def assemble(
    raw: dict[str, gpd.GeoDataFrame],
    *,
    source: str,
    settings: Settings,
    name: str = "",
    synthetic: bool = False,
    attribution: str = "",
    node_at: NodeAt = "intersections",
    problems: ProblemLog | None = None,
    files: dict[str, str] | None = None,
    register: pd.DataFrame | None = None,
    meta: dict[str, Any] | None = None,
) -> Street:
    """Build a validated :class:`Street` from WGS84 layers; used for every source.

    Parameters
    ----------
    raw
        Layer name -> GeoDataFrame in WGS84 (any CRS is accepted and reprojected).
        Only ``boundary`` is required. Layer names: boundary, communities, compounds,
        buildings, roads, stations, gates, barriers, landuse, pois.
    source
        What was loaded (for the report).
    settings
        ``margin_m`` (m), ``dwelling_size_m2`` (m²), ``floor_height_m`` (m),
        ``default_floors``, ``residents_per_household``, ``snap_max_m`` (m).
    name, synthetic, attribution
        Street metadata.
    node_at
        ``"intersections"`` for drawn road layers, ``"endpoints"`` for OSM graph edges
        (see :func:`planner.network.build.build_network`).
    problems
        A log already holding problems from reading (raised together with these).
    files
        Layer name -> file, for messages.
    register
        Household register rows from :func:`planner.load.register.read_register`.
    meta
        The source's metadata (a folder's ``street.json``), kept on ``Street.meta``.

    Raises
    ------
    InputError
        With every problem found.
    """
    problems = problems if problems is not None else ProblemLog()
    files = dict(files or {})
    b_raw = raw.get("boundary")
    b_file = files.get("boundary", "boundary")
    if b_raw is None and any(p.file == b_file and p.severity == "error" for p in problems.problems):
        # the boundary file exists but could not be read: its own error says why
        problems.raise_if_errors()
    if b_raw is None or b_raw.empty:
        problems.add(
            "the street boundary is missing" if b_raw is None else "the boundary layer is empty",
            file=files.get("boundary", "boundary"),
            fix="add boundary.geojson (a polygon of the street), or pass --boundary FILE",
        )
        problems.raise_if_errors()
        raise InputError(problems.problems)
    b_wgs = b_raw.to_crs(WGS84) if b_raw.crs is not None else b_raw.set_crs(WGS84)
    b_kind_ok = b_wgs.geom_type.isin(["Polygon", "MultiPolygon"])
    if not b_kind_ok.any():
        problems.add(
            f"the boundary holds {', '.join(sorted(set(b_wgs.geom_type)))}, not polygons",
            file=files.get("boundary", "boundary"),
            field="geometry",
            fix="draw the street boundary as a polygon",
        )
        problems.raise_if_errors()
    b_wgs = b_wgs.loc[b_kind_ok]
    b_union_wgs = shapely.union_all(shapely.make_valid(b_wgs.geometry.to_numpy()))
    if not shapely.is_valid(b_wgs.geometry.to_numpy()).all():
        problems.add(
            "the boundary polygon was invalid and was repaired with make_valid",
            file=files.get("boundary", "boundary"),
            field="geometry",
            fix="check the boundary on the map",
            severity="repair",
        )
    if b_union_wgs.is_empty:
        problems.add(
            "the boundary has no area",
            file=files.get("boundary", "boundary"),
            field="geometry",
            fix="draw the street boundary as a polygon",
        )
        problems.raise_if_errors()
    c = b_union_wgs.centroid
    try:
        crs = utm_crs_for(c.x, c.y)
    except InputError as exc:
        problems.add(
            str(exc.problems[0].message),
            file=files.get("boundary", "boundary"),
            field="geometry",
            fix=exc.problems[0].fix,
        )
        problems.raise_if_errors()
        raise
    b_proj = gpd.GeoSeries([b_union_wgs], crs=WGS84).to_crs(crs).iloc[0]
    b_proj = shapely.make_valid(b_proj)
    if b_proj.area <= 0:
        problems.add(
            "the boundary has no area",
            file=files.get("boundary", "boundary"),
            field="geometry",
            fix="draw the street boundary as a polygon",
        )
        problems.raise_if_errors()
    reach = b_proj.buffer(settings.margin_m) if settings.margin_m > 0 else b_proj
    shapely.prepare(b_proj)
    shapely.prepare(reach)
    ctx = _Ctx(settings, problems, files, crs, b_proj, reach)

    # project and clean every layer
    layers: dict[str, gpd.GeoDataFrame] = {}
    for lname, gdf in raw.items():
        if lname == "boundary" or gdf is None:
            continue
        if lname not in ID_COLUMNS:
            problems.add(
                f"unknown layer {lname!r} ignored",
                file=ctx.file(lname),
                fix="name layer files boundary, communities, compounds, buildings, "
                "roads, stations, gates, barriers, landuse or pois",
                severity="warning",
            )
            continue
        wgs = gdf if gdf.crs is not None else gdf.set_crs(WGS84)
        wgs = wgs.loc[wgs.geometry.notna() & ~wgs.geometry.is_empty].reset_index(drop=True)
        proj = wgs.to_crs(crs)
        if not _check_placement(lname, wgs, proj, ctx):
            continue
        layers[lname] = _clean_layer(lname, proj, ctx)

    out: dict[str, gpd.GeoDataFrame] = {}
    bname = name or _first_name(b_wgs)
    out["boundary"] = gpd.GeoDataFrame(
        {"street_id": ["street"], "name": [bname], "area_m2": [b_proj.area]},
        geometry=[b_proj],
        crs=crs,
    )
    out["communities"] = _communities(layers.get("communities"), ctx)
    out["compounds"] = _compounds(layers.get("compounds"), out["communities"], ctx)
    out["gates"] = _gates(layers.get("gates"), out["compounds"], ctx)
    buildings = _buildings(layers.get("buildings"), out["compounds"], out["communities"], ctx)
    reg_report = None
    if register is not None and buildings is None:
        problems.add(
            "a household register was given but the street has no buildings to join it to",
            file=ctx.file("register"),
            fix="add a buildings layer (or load an OpenStreetMap extract with buildings)",
            severity="warning",
        )
    if register is not None and buildings is not None:
        joined = register_mod.join_register(
            buildings, out["compounds"], register, file=ctx.file("register"), problems=problems
        )
        reg_report = joined.report
        buildings = _apply_register(buildings, joined)
    out["buildings"] = _households(buildings, ctx, crs)
    out["roads"] = _clip_lines(layers.get("roads"), ctx)
    out["barriers"] = _clip_any(layers.get("barriers"), ctx)
    out["landuse"] = _clip_any(layers.get("landuse"), ctx)
    out["stations"] = _points_in_reach("stations", layers.get("stations"), ctx)
    if not out["stations"].empty:
        out["stations"]["kind"] = _resolve_station_kinds(out["stations"], ctx)
        ids = out["stations"]["station_id"]
        out["stations"]["floor_area_m2"] = validate.numeric_column(
            out["stations"], "floor_area_m2", ids=ids, file=ctx.file("stations"), problems=problems
        )
    out["pois"] = _points_in_reach("pois", layers.get("pois"), ctx)

    nodes, edges = build_network(
        out["roads"] if not out["roads"].empty else schema.empty("roads", crs),
        node_at=node_at,
        boundary=b_proj,
        compounds=out["compounds"],
        gates=out["gates"],
    )
    if not out["gates"].empty:
        out["gates"]["node_id"] = nearest_nodes(
            nodes.geometry.to_numpy(), out["gates"].geometry.to_numpy(), max_m=1.0
        )
    out["nodes"], out["edges"] = nodes, edges
    if edges.attrs.get("snapped_ends", 0):
        ctx.derived.append(
            f"network: {edges.attrs['snapped_ends']} road end(s) touching nothing were joined "
            "to a line less than 0.5 m away"
        )
    if edges.empty:
        if "roads" in raw and raw["roads"] is not None and len(raw["roads"]):
            problems.add(
                "the walking network is empty: no walkable road lies within "
                f"{settings.margin_m:,.0f} m of the street",
                file=ctx.file("roads"),
                field="highway",
                fix="check the roads layer's coordinates, and that it holds walkable ways "
                "(not only motorways)",
            )
        else:
            problems.add(
                "no roads given: the walking network is empty, so walking times and service "
                "circles cannot be computed",
                file=ctx.file("roads"),
                fix="add roads.geojson to the folder, or load an OpenStreetMap extract",
                severity="warning",
            )
    problems.raise_if_errors()

    street = from_layers(
        out,
        crs=crs,
        name=bname,
        source=source,
        synthetic=synthetic,
        attribution=attribution,
        meta=meta,
    )
    _fill_report(street, ctx, reg_report)
    return street


def _communities(gdf: gpd.GeoDataFrame | None, ctx: _Ctx) -> gpd.GeoDataFrame:
    if gdf is None or gdf.empty:
        ctx.derived.append("communities: none given, one community covers the whole street")
        return gpd.GeoDataFrame(
            {"community_id": ["C0001"], "name": [""], "code": ["001"]},
            geometry=[ctx.street],
            crs=ctx.crs,
        )
    clipped = gdf.copy()
    clipped["geometry"] = _polygonal(shapely.intersection(gdf.geometry.to_numpy(), ctx.street))
    keep = shapely.area(clipped.geometry.to_numpy()) > 1.0
    _report_outside("communities", clipped["community_id"], ~keep, ctx, what="communities")
    clipped = clipped.loc[keep].reset_index(drop=True)
    if "code" not in clipped.columns:
        clipped["code"] = ""
    code = clipped["code"].astype(object).where(clipped["code"].notna(), "").astype(str)
    code = code.str.replace(r"\.0$", "", regex=True).str.zfill(3).where(code != "", "")
    seq = pd.Series([f"{i + 1:03d}" for i in range(len(clipped))], index=clipped.index)
    clipped["code"] = code.where(code != "", seq)
    geoms = clipped.geometry.to_numpy()
    street_area = ctx.street.area
    union_area = shapely.union_all(geoms).area if len(geoms) else 0.0
    gap = 1.0 - union_area / street_area
    overlap = (shapely.area(geoms).sum() - union_area) / street_area
    if gap > 0.01:
        ctx.problems.add(
            f"the communities leave {gap:.1%} of the street uncovered",
            file=ctx.file("communities"),
            field="geometry",
            fix="communities should tile the street: extend them to the boundary",
            severity="warning",
        )
    if overlap > 0.01:
        ctx.problems.add(
            f"the communities overlap on {overlap:.1%} of the street's area; buildings go to "
            "the community covering most of them",
            file=ctx.file("communities"),
            field="geometry",
            fix="communities should not overlap: fix the shared borders",
            severity="warning",
        )
    return clipped


def _compounds(
    gdf: gpd.GeoDataFrame | None, communities: gpd.GeoDataFrame, ctx: _Ctx
) -> gpd.GeoDataFrame:
    if gdf is None or gdf.empty:
        return schema.empty("compounds", ctx.crs)
    geoms = gdf.geometry.to_numpy()
    inside = shapely.area(shapely.intersection(geoms, ctx.street))
    keep = inside >= 0.5 * shapely.area(geoms)
    out = gdf.loc[keep].copy()
    out["geometry"] = _polygonal(shapely.intersection(out.geometry.to_numpy(), ctx.street))
    if (~keep).sum():
        bad = gdf["compound_id"][~keep].tolist()
        ctx.problems.add(
            f"{len(bad)} compound(s) lie mostly outside the street and were left out: "
            f"{validate.id_list(bad)}",
            file=ctx.file("compounds"),
            feature_id=bad[0],
            field="geometry",
            fix="check the street boundary, or remove compounds that belong to a neighbour",
            severity="warning",
        )
    out["community_id"] = _largest_overlap(
        out.geometry.to_numpy(),
        communities.geometry.to_numpy(),
        communities["community_id"].to_numpy(dtype=object),
    )
    if "gated" in out.columns:
        g = out["gated"]
        txt = g.astype(object).where(g.notna(), "").astype(str).str.strip().str.lower()
        out["gated"] = ~txt.isin(["false", "0", "no", "n", "否"])
    return out.reset_index(drop=True)


def _gates(
    gdf: gpd.GeoDataFrame | None, compounds: gpd.GeoDataFrame, ctx: _Ctx
) -> gpd.GeoDataFrame:
    if gdf is None or gdf.empty:
        return schema.empty("gates", ctx.crs)
    out = gdf.loc[shapely.intersects(ctx.reach, gdf.geometry.to_numpy())].copy()
    given = (
        out["compound_id"].astype(object).where(out["compound_id"].notna(), "").astype(str)
        if "compound_id" in out.columns
        else pd.Series("", index=out.index)
    )
    if (given == "").any() and not compounds.empty:
        bounds = shapely.boundary(compounds.geometry.to_numpy())
        qi, ci = shapely.STRtree(bounds).query_nearest(
            out.geometry.to_numpy(), max_distance=5.0, all_matches=False
        )
        near = np.full(len(out), "", dtype=object)
        near[qi] = compounds["compound_id"].to_numpy(dtype=object)[ci]
        given = given.where(given != "", pd.Series(near, index=out.index))
    out["compound_id"] = given
    return out.reset_index(drop=True)


def _buildings(
    gdf: gpd.GeoDataFrame | None,
    compounds: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    ctx: _Ctx,
) -> gpd.GeoDataFrame | None:
    if gdf is None or gdf.empty:
        ctx.derived.append("buildings: none given, no households")
        return None
    geoms = gdf.geometry.to_numpy()
    rep = shapely.point_on_surface(geoms)
    inside = shapely.intersects(ctx.street, rep)
    near = shapely.intersects(ctx.reach, geoms)
    _report_outside("buildings", gdf["building_id"], ~near, ctx, what="buildings")
    margin = near & ~inside
    if margin.any():
        bad = gdf["building_id"][margin].tolist()
        ctx.problems.add(
            f"{len(bad)} building(s) lie outside the street boundary and were left out: "
            f"{validate.id_list(bad)}",
            file=ctx.file("buildings"),
            feature_id=bad[0],
            field="geometry",
            fix="check the street boundary if they belong to the street",
            severity="warning",
        )
    out = gdf.loc[inside].copy().reset_index(drop=True)
    file = ctx.file("buildings")
    ids = out["building_id"]
    out["footprint_m2"] = shapely.area(out.geometry.to_numpy())
    comp_ids = compounds["compound_id"].astype(str).to_numpy(dtype=object)
    spatial = _largest_overlap(out.geometry.to_numpy(), compounds.geometry.to_numpy(), comp_ids)
    if "compound_id" in out.columns:
        given = out["compound_id"].astype(object).where(out["compound_id"].notna(), "")
        given = given.astype(str).str.strip()
        unknown = (given != "") & ~given.isin(set(comp_ids))
        if unknown.any():
            bad = ids[unknown].tolist()
            ctx.problems.add(
                f"{len(bad)} building(s) name a compound_id not in the compounds layer "
                f"(e.g. {given[unknown].iloc[0]!r}); placed by location instead: "
                f"{validate.id_list(bad)}",
                file=file,
                feature_id=bad[0],
                field="compound_id",
                fix="use ids from the compounds layer, or leave compound_id empty",
                severity="warning",
            )
        out["compound_id"] = given.where((given != "") & ~unknown, spatial)
    else:
        out["compound_id"] = spatial
    out["community_id"] = _largest_overlap(
        out.geometry.to_numpy(),
        communities.geometry.to_numpy(),
        communities["community_id"].to_numpy(dtype=object),
    )
    out["kind"] = _building_kinds(out)
    for col in ("households", "population", "floors", "height_m"):
        out[col] = validate.numeric_column(
            out, col, ids=ids, file=file, problems=ctx.problems, whole=col != "height_m"
        )
    return out


def _apply_register(b: gpd.GeoDataFrame, joined: register_mod.RegisterJoin) -> gpd.GeoDataFrame:
    out = b.copy()
    hh = joined.households
    pop = joined.population
    out["households"] = hh.where(hh.notna(), out["households"])
    out["population"] = pop.where(pop.notna(), out["population"])
    return out


def _households(b: gpd.GeoDataFrame | None, ctx: _Ctx, crs: CRS) -> gpd.GeoDataFrame:
    """Floors from height, households from floor area, residents from households."""
    if b is None:
        return schema.empty("buildings", crs)
    s = ctx.settings
    out = b.copy()
    floors = out["floors"]
    from_height = floors.isna() | (floors <= 0)
    est_floors = np.maximum(np.round(out["height_m"] / s.floor_height_m), 1)
    use_height = from_height & out["height_m"].notna() & (out["height_m"] > 0)
    floors = floors.where(~use_height, est_floors)
    residential = out["kind"] == "residential"
    need_hh = out["households"].isna() & residential
    default = need_hh & (floors.isna() | (floors <= 0))
    floors = floors.where(~default, s.default_floors)
    if use_height.any():
        ctx.derived.append(
            f"floors: {int(use_height.sum())} buildings from height_m ÷ {s.floor_height_m:g} m"
        )
    if default.any():
        ctx.derived.append(
            f"floors: {int(default.sum())} residential buildings without floors or height "
            f"assumed {s.default_floors} storeys"
        )
    est = np.maximum(np.round(out["footprint_m2"] * floors / s.dwelling_size_m2), 1)
    out["households"] = out["households"].where(~need_hh, est)
    out["households"] = out["households"].fillna(0)
    out["households_estimated"] = need_hh
    if need_hh.any():
        ctx.derived.append(
            f"households: {int(need_hh.sum())} residential buildings estimated as footprint × "
            f"floors ÷ {s.dwelling_size_m2:g} m²"
        )
    need_pop = out["population"].isna()
    out["population"] = out["population"].where(
        ~need_pop, out["households"] * s.residents_per_household
    )
    out["floors"] = floors.fillna(0)
    return out


def _clip_lines(gdf: gpd.GeoDataFrame | None, ctx: _Ctx) -> gpd.GeoDataFrame:
    if gdf is None or gdf.empty:
        return schema.empty("roads", ctx.crs)
    geoms = gdf.geometry.to_numpy()
    hit = shapely.intersects(ctx.reach, geoms)
    out = gdf.loc[hit].copy()
    g = out.geometry.to_numpy()
    within = shapely.contains(ctx.reach, g)
    g = g.copy()
    g[~within] = shapely.intersection(g[~within], ctx.reach)
    out["geometry"] = g
    out = out.explode(index_parts=False)
    out = out.loc[out.geom_type == "LineString"]
    return out.reset_index(drop=True)


def _clip_any(gdf: gpd.GeoDataFrame | None, ctx: _Ctx) -> gpd.GeoDataFrame | None:
    if gdf is None or gdf.empty:
        return None
    out = gdf.loc[shapely.intersects(ctx.reach, gdf.geometry.to_numpy())].copy()
    return out.reset_index(drop=True)


def _points_in_reach(name: str, gdf: gpd.GeoDataFrame | None, ctx: _Ctx) -> gpd.GeoDataFrame:
    if gdf is None or gdf.empty:
        return schema.empty(name, ctx.crs)
    id_col = ID_COLUMNS[name][0]
    pts = gdf.geometry.to_numpy()
    if (shapely.get_type_id(pts) != shapely.GeometryType.POINT).any():
        pts = shapely.centroid(pts)
    near = shapely.intersects(ctx.reach, pts)
    _report_outside(name, gdf[id_col], ~near, ctx, what=name)
    out = gdf.loc[near].copy()
    out["geometry"] = pts[near]
    out["in_street"] = shapely.intersects(ctx.street, pts[near])
    return out.reset_index(drop=True)


def _fill_report(street: Street, ctx: _Ctx, reg_report: dict[str, Any] | None) -> None:
    r = street.report
    b = street.buildings
    r.households_total = int(b["households"].sum())
    r.households_estimated = int(b.loc[b["households_estimated"], "households"].sum())
    r.population_total = float(b["population"].sum())
    r.stations_in_street = int(street.stations["in_street"].sum())
    r.stations_in_margin = int((~street.stations["in_street"]).sum())
    r.area_km2 = float(street.boundary.area.sum()) / 1e6
    r.network_length_km = float(street.edges["length_m"].sum()) / 1000
    r.register = reg_report
    r.derived = list(ctx.derived)
    r.network_components, r.network_pieces = _components(street, ctx)
    r.notes = ctx.problems.notes()


def _components(street: Street, ctx: _Ctx) -> tuple[list[dict[str, Any]], int]:
    """Pieces of the walking network with the buildings/households nearest to each
    (those near buildings, and the first), and the number of all pieces."""
    edges = street.edges
    if edges.empty:
        return [], 0
    # the same network and snapping as the coverage figures, so the two agree
    net = network.from_street(street, settings=ctx.settings)
    labels = net.component
    n_comp = int(labels.max()) + 1
    node_count = np.bincount(labels, minlength=n_comp)
    edge_comp = labels[net.u]
    length = np.bincount(edge_comp, weights=net.length_m, minlength=n_comp)
    b = street.buildings
    nb: NDArray[Any] = np.zeros(n_comp, dtype=np.int64)
    hh: NDArray[Any] = np.zeros(n_comp)
    if not b.empty:
        snap = network.snap_buildings(net, b, street.compounds, ctx.settings)
        comp = network.point_components(net, snap)
        on = comp >= 0
        nb = np.bincount(comp[on], minlength=n_comp)
        hh = np.bincount(comp[on], weights=b["households"].to_numpy()[on], minlength=n_comp)
        far = ~on
        if far.any():
            bad = b["building_id"].to_numpy()[far].tolist()
            ctx.problems.add(
                f"{len(bad)} building(s) lie more than {ctx.settings.snap_max_m:,.0f} m from "
                f"any walkable link: {validate.id_list(bad)}",
                file=ctx.file("roads"),
                feature_id=bad[0],
                fix="add the paths that reach these buildings to the roads layer",
                severity="warning",
            )
    show = np.flatnonzero((nb > 0) | (np.arange(n_comp) == 0))
    pieces = [
        {
            "component": int(k),
            "nodes": int(node_count[k]),
            "length_km": round(float(length[k]) / 1000, 3),
            "buildings": int(nb[k]),
            "households": int(hh[k]),
        }
        for k in show
    ]
    with_buildings = [p for p in pieces if p["buildings"] > 0]
    if len(with_buildings) > 1:
        detail = "; ".join(
            f"piece {p['component']}: {p['nodes']} nodes, {p['buildings']} buildings, "
            f"{p['households']} households"
            for p in with_buildings[: validate.MAX_IDS]
        )
        ctx.problems.add(
            f"the walking network has {n_comp} disconnected pieces, {len(with_buildings)} of "
            f"them nearest to buildings ({detail})",
            file=ctx.file("roads"),
            fix="connect the pieces (a missing road link, gate or bridge), or check that "
            "road ends meet exactly",
            severity="warning",
        )
    elif n_comp > 1:
        ctx.derived.append(
            f"network: {n_comp - 1} small piece(s) away from every building "
            f"({int(node_count[1:].sum())} nodes)"
        )
    return pieces, n_comp
