"""Assembly: WGS84 layers of any source into one validated :class:`~planner.street.Street`.

Every source (:mod:`planner.load.sources`, the synthetic generator) ends in
:func:`assemble`, which runs small steps in order:

1. :func:`street_outline` - the boundary as one polygon, the UTM zone chosen from its
   centroid, the street and its reach (the street buffered by ``margin_m``) in metres;
2. :func:`project_layers` - every other layer projected, checked against the street
   (a whole layer far away is a wrong CRS or swapped axes), ids filled and geometry
   repaired (:func:`planner.load._layers.clean_layer`);
3. :func:`street_layers` - one step per layer (:mod:`planner.load._layers`): communities,
   compounds, gates, buildings with the household register and estimates, roads,
   barriers, land use, stations, POIs;
4. :func:`add_network` - the walking network built from the roads;
5. :func:`fill_report` - the load report (counts, households, network pieces).

All problems are collected and raised together as one :class:`~planner.errors.InputError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from planner import schema
from planner.crs import WGS84, utm_crs_for
from planner.errors import InputError, ProblemLog
from planner.i18n import items, msg
from planner.load import _layers as steps
from planner.load import register as register_mod
from planner.load import validate
from planner.network import walk as network
from planner.network.build import NodeAt, build_network, nearest_nodes
from planner.settings import Settings
from planner.street import Completeness, Street, from_layers

#: Fix for a missing or unusable boundary.
BOUNDARY_FIX = msg("err_fix_boundary")


@dataclass(frozen=True)
class Outline:
    """The street's outline: its UTM CRS, the street and its reach in metres.

    Attributes
    ----------
    crs
        The local UTM zone of the boundary's centroid.
    street
        The street polygon (valid, projected, metres).
    reach
        ``street`` buffered by ``margin_m`` (roads, stations and POIs are kept in it).
    name
        The first non-empty ``name`` of the boundary layer ('' if none).
    """

    crs: CRS
    street: BaseGeometry
    reach: BaseGeometry
    name: str


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
    station_kinds: dict[str, str] | None = None,
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
    station_kinds
        The user's station-kind mapping, text -> kind key (:mod:`planner.load.kinds`).

    Raises
    ------
    InputError
        With every problem found.
    """
    problems = problems if problems is not None else ProblemLog()
    files = dict(files or {})
    outline = street_outline(raw.get("boundary"), settings=settings, files=files, problems=problems)
    name = _street_name(name or outline.name, files=files, problems=problems)
    ctx = steps.Context(
        settings,
        problems,
        files,
        outline.crs,
        outline.street,
        outline.reach,
        station_kinds=dict(station_kinds or {}),
    )
    layers = project_layers(raw, ctx)
    out, reg_report = street_layers(layers, ctx, register=register, name=name)
    add_network(out, ctx, node_at=node_at, roads_given=_has_features(raw.get("roads")))
    problems.raise_if_errors()
    street = from_layers(
        out,
        crs=outline.crs,
        name=name,
        source=source,
        synthetic=synthetic,
        attribution=attribution,
        meta=meta,
    )
    fill_report(street, ctx, reg_report)
    return street


def _street_name(name: str, *, files: dict[str, str], problems: ProblemLog) -> str:
    """The street's name without control characters, cut to the text limit (said so)."""
    clean = validate.clean_value(name)
    if clean != name:
        problems.add(
            msg("note_street_name", limit=validate.MAX_TEXT_CHARS, name=repr(clean)),
            file=files.get("boundary", "boundary"),
            field="name",
            fix=msg("note_fix_street_name"),
            severity="warning",
        )
    return clean


def _has_features(gdf: gpd.GeoDataFrame | None) -> bool:
    return gdf is not None and len(gdf) > 0


# ----------------------------------------------------------------------------- outline


def street_outline(
    b_raw: gpd.GeoDataFrame | None,
    *,
    settings: Settings,
    files: dict[str, str],
    problems: ProblemLog,
) -> Outline:
    """The street polygon in its UTM zone, from the boundary layer (any CRS).

    Raises
    ------
    InputError
        No boundary, no polygon in it, no area, or a place no UTM zone fits; with
        every problem collected so far.
    """
    file = files.get("boundary", "boundary")
    b_wgs = _boundary_polygons(b_raw, file=file, problems=problems)
    b_union = shapely.union_all(shapely.make_valid(b_wgs.geometry.to_numpy()))
    if not shapely.is_valid(b_wgs.geometry.to_numpy()).all():
        problems.add(
            msg("note_boundary_repaired"),
            file=file,
            field="geometry",
            fix=msg("note_fix_check_boundary"),
            severity="repair",
        )
    if b_union.is_empty:
        _no_area(file, problems)
    crs = _utm_zone(b_union, file=file, problems=problems)
    street = shapely.make_valid(gpd.GeoSeries([b_union], crs=WGS84).to_crs(crs).iloc[0])
    if street.area <= 0:
        _no_area(file, problems)
    reach = street.buffer(settings.margin_m) if settings.margin_m > 0 else street
    shapely.prepare(street)
    shapely.prepare(reach)
    return Outline(crs=crs, street=street, reach=reach, name=first_name(b_wgs))


def _boundary_polygons(
    b_raw: gpd.GeoDataFrame | None, *, file: str, problems: ProblemLog
) -> gpd.GeoDataFrame:
    """The polygons of the boundary layer in WGS84 (raises when there are none)."""
    unreadable = any(p.file == file and p.severity == "error" for p in problems.problems)
    if b_raw is None and unreadable:
        problems.raise_if_errors()  # the boundary file could not be read: its error says why
    if b_raw is None or b_raw.empty:
        problems.add(
            msg("err_boundary_missing" if b_raw is None else "err_boundary_empty"),
            file=file,
            fix=BOUNDARY_FIX,
        )
        problems.raise_if_errors()
        raise InputError(problems.problems)
    b_wgs = b_raw.to_crs(WGS84) if b_raw.crs is not None else b_raw.set_crs(WGS84)
    b_wgs = validate.clean_text(
        b_wgs, ids=validate.feature_ids(b_wgs, "street_id"), file=file, problems=problems
    )
    polygons = b_wgs.geom_type.isin(["Polygon", "MultiPolygon"])
    if not polygons.any():
        problems.add(
            msg("err_boundary_not_polygons", kinds=sorted(set(b_wgs.geom_type))),
            file=file,
            field="geometry",
            fix=msg("err_fix_boundary_polygon"),
        )
        problems.raise_if_errors()
    return b_wgs.loc[polygons]


def _no_area(file: str, problems: ProblemLog) -> None:
    problems.add(
        msg("err_boundary_no_area"),
        file=file,
        field="geometry",
        fix=msg("err_fix_boundary_polygon"),
    )
    problems.raise_if_errors()


def _utm_zone(b_union: BaseGeometry, *, file: str, problems: ProblemLog) -> CRS:
    """The UTM zone of the boundary's centroid (the error names the boundary file)."""
    c = b_union.centroid
    try:
        return utm_crs_for(c.x, c.y)
    except InputError as exc:
        problems.add(
            str(exc.problems[0].message),
            file=file,
            field="geometry",
            fix=exc.problems[0].fix,
        )
        problems.raise_if_errors()
        raise


def first_name(gdf: gpd.GeoDataFrame | None) -> str:
    """The first non-empty ``name`` of a layer ('' if none)."""
    if gdf is None or "name" not in gdf.columns:
        return ""
    names = gdf["name"].dropna().astype(str).str.strip()
    names = names[names != ""]
    return str(names.iloc[0]) if len(names) else ""


# ------------------------------------------------------------------------------ layers


def project_layers(
    raw: dict[str, gpd.GeoDataFrame], ctx: steps.Context
) -> dict[str, gpd.GeoDataFrame]:
    """Every layer but the boundary projected to the street's CRS and cleaned.

    Unknown layer names are warned about and ignored; features without geometry are
    dropped; a layer lying wholly beyond the reach is an error (see
    :func:`_check_placement`) and left out.
    """
    layers: dict[str, gpd.GeoDataFrame] = {}
    for lname, gdf in raw.items():
        if lname == "boundary" or gdf is None:
            continue
        if lname not in steps.ID_COLUMNS:
            ctx.problems.add(
                msg("note_unknown_layer", layer=repr(lname)),
                file=ctx.file(lname),
                fix=msg("note_fix_layer_names"),
                severity="warning",
            )
            continue
        wgs = gdf if gdf.crs is not None else gdf.set_crs(WGS84)
        wgs = wgs.loc[wgs.geometry.notna() & ~wgs.geometry.is_empty].reset_index(drop=True)
        proj = wgs.to_crs(ctx.crs)
        if _check_placement(lname, wgs, proj, ctx):
            layers[lname] = steps.clean_layer(lname, proj, ctx)
    return layers


def _check_placement(
    name: str, gdf_wgs: gpd.GeoDataFrame, projected: gpd.GeoDataFrame, ctx: steps.Context
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


def street_layers(
    layers: dict[str, gpd.GeoDataFrame],
    ctx: steps.Context,
    *,
    register: pd.DataFrame | None,
    name: str,
) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, Any] | None]:
    """The street's layers (projected, cleaned, clipped, derived) and the register report."""
    out: dict[str, gpd.GeoDataFrame] = {
        "boundary": gpd.GeoDataFrame(
            {"street_id": ["street"], "name": [name], "area_m2": [ctx.street.area]},
            geometry=[ctx.street],
            crs=ctx.crs,
        )
    }
    out["communities"] = steps.clean_communities(layers.get("communities"), ctx)
    out["compounds"] = steps.clean_compounds(layers.get("compounds"), out["communities"], ctx)
    out["gates"] = steps.clean_gates(layers.get("gates"), out["compounds"], ctx)
    buildings = steps.clean_buildings(
        layers.get("buildings"), out["compounds"], out["communities"], ctx, layers.get("landuse")
    )
    buildings, reg_report = _join_register(buildings, out["compounds"], register, ctx)
    out["buildings"] = steps.estimate_households(buildings, ctx)
    out["roads"] = steps.clip_lines(layers.get("roads"), ctx)
    out["barriers"] = steps.clip_any(layers.get("barriers"), ctx)
    out["landuse"] = steps.clip_any(layers.get("landuse"), ctx)
    out["stations"] = steps.clean_stations(layers.get("stations"), ctx)
    out["pois"] = steps.points_in_reach("pois", layers.get("pois"), ctx)
    return out, reg_report


def _join_register(
    buildings: gpd.GeoDataFrame | None,
    compounds: gpd.GeoDataFrame,
    register: pd.DataFrame | None,
    ctx: steps.Context,
) -> tuple[gpd.GeoDataFrame | None, dict[str, Any] | None]:
    """Buildings with the register's households and residents, and the register report."""
    if register is None:
        return buildings, None
    if buildings is None:
        ctx.problems.add(
            msg("note_register_no_buildings"),
            file=ctx.file("register"),
            fix=msg("note_fix_register_buildings"),
            severity="warning",
        )
        return None, None
    joined = register_mod.join_register(
        buildings, compounds, register, file=ctx.file("register"), problems=ctx.problems
    )
    return steps.apply_register(buildings, joined), joined.report.to_dict()


# ----------------------------------------------------------------------------- network


def add_network(
    out: dict[str, gpd.GeoDataFrame], ctx: steps.Context, *, node_at: NodeAt, roads_given: bool
) -> None:
    """Add ``nodes`` and ``edges`` built from ``out["roads"]`` (and gates' ``node_id``)."""
    nodes, edges = build_network(
        out["roads"] if not out["roads"].empty else schema.empty("roads", ctx.crs),
        node_at=node_at,
        boundary=ctx.street,
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
        _empty_network(ctx, roads_given=roads_given)


def _empty_network(ctx: steps.Context, *, roads_given: bool) -> None:
    if roads_given:
        ctx.problems.add(
            "the walking network is empty: no walkable road lies within "
            f"{ctx.settings.margin_m:,.0f} m of the street",
            file=ctx.file("roads"),
            field="highway",
            fix="check the roads layer's coordinates, and that it holds walkable ways "
            "(not only motorways)",
        )
    else:
        ctx.problems.add(
            msg("note_no_roads"),
            file=ctx.file("roads"),
            fix=msg("note_fix_add_roads"),
            severity="warning",
        )


# ------------------------------------------------------------------------------ report


def fill_report(street: Street, ctx: steps.Context, reg_report: dict[str, Any] | None) -> None:
    """Fill ``street.report``: totals, stations, area (km²), network (km), notes."""
    r = street.report
    b = street.buildings
    r.households_total = int(b["households"].sum())
    r.households_estimated = int(b.loc[b["households_estimated"], "households"].sum())
    r.completeness = Completeness.of(b) if len(b) else None
    r.population_total = float(b["population"].sum())
    r.stations_in_street = int(street.stations["in_street"].sum())
    r.stations_in_margin = int((~street.stations["in_street"]).sum())
    r.area_km2 = float(street.boundary.area.sum()) / 1e6
    r.network_length_km = float(street.edges["length_m"].sum()) / 1000
    r.register = reg_report
    r.derived = list(ctx.derived)
    r.network_components, r.network_pieces = network_pieces(street, ctx)
    r.notes = ctx.problems.notes()


@dataclass(frozen=True)
class _PieceCounts:
    """Per piece of the walking network: nodes, length (m), buildings and households."""

    nodes: NDArray[np.int64]
    length_m: NDArray[np.float64]
    buildings: NDArray[np.int64]
    households: NDArray[np.float64]


def network_pieces(street: Street, ctx: steps.Context) -> tuple[list[dict[str, Any]], int]:
    """Pieces of the walking network with the buildings/households nearest to each
    (those near buildings, and the first), and the number of all pieces."""
    if street.edges.empty:
        return [], 0
    counts = _piece_counts(street, ctx)
    n_comp = len(counts.nodes)
    show = np.flatnonzero((counts.buildings > 0) | (np.arange(n_comp) == 0))
    pieces = [
        {
            "component": int(k),
            "nodes": int(counts.nodes[k]),
            "length_km": round(float(counts.length_m[k]) / 1000, 3),
            "buildings": int(counts.buildings[k]),
            "households": int(counts.households[k]),
        }
        for k in show
    ]
    _report_pieces(pieces, counts, ctx)
    return pieces, n_comp


def _piece_counts(street: Street, ctx: steps.Context) -> _PieceCounts:
    """Count nodes, length and the buildings snapping to each piece of the network."""
    # the same network and snapping as the coverage figures, so the two agree
    net = network.from_street(street, settings=ctx.settings)
    labels = net.component
    n_comp = int(labels.max()) + 1
    nodes = np.bincount(labels, minlength=n_comp).astype(np.int64)
    length = np.bincount(labels[net.u], weights=net.length_m, minlength=n_comp).astype(np.float64)
    nb = np.zeros(n_comp, dtype=np.int64)
    hh = np.zeros(n_comp, dtype=np.float64)
    b = street.buildings
    if not b.empty:
        snap = network.snap_buildings(net, b, street.compounds, ctx.settings)
        comp = network.point_components(net, snap)
        on = comp >= 0
        nb = np.bincount(comp[on], minlength=n_comp).astype(np.int64)
        weights = b["households"].to_numpy(dtype=np.float64)[on]
        hh = np.bincount(comp[on], weights=weights, minlength=n_comp).astype(np.float64)
        if (~on).any():
            bad = b["building_id"].to_numpy()[~on].tolist()
            ctx.warn_features(
                "roads",
                bad,
                msg("note_buildings_far", n=len(bad), snap=ctx.settings.snap_max_m),
                field=None,
                fix=msg("note_fix_paths_to_buildings"),
            )
    return _PieceCounts(nodes=nodes, length_m=length, buildings=nb, households=hh)


def _report_pieces(pieces: list[dict[str, Any]], counts: _PieceCounts, ctx: steps.Context) -> None:
    """Warn about a network cut into pieces near buildings; note stray small pieces."""
    n_comp = len(counts.nodes)
    with_buildings = [p for p in pieces if p["buildings"] > 0]
    if len(with_buildings) > 1:
        detail = items(
            (
                msg(
                    "note_piece",
                    piece=p["component"],
                    nodes=p["nodes"],
                    buildings=p["buildings"],
                    households=p["households"],
                )
                for p in with_buildings[: validate.MAX_IDS]
            ),
            sep=("；", "; "),
        )
        ctx.problems.add(
            msg("note_pieces", n=n_comp, near=len(with_buildings), detail=detail),
            file=ctx.file("roads"),
            fix=msg("note_fix_connect_pieces"),
            severity="warning",
        )
    elif n_comp > 1:
        ctx.derived.append(
            f"network: {n_comp - 1} small piece(s) away from every building "
            f"({int(counts.nodes[1:].sum())} nodes)"
        )
