"""Gated compounds on OpenStreetMap data: internal paths, walls and gates.

OSM road lines carry no compound. This step gives them the folder format's own
mechanism (see ``docs/readme/load.md``): a road line inside a gated compound gets the
compound's ``compound_id`` (an internal path), and internal paths meet the public
network only at the compound's gates. The network builder, the building snapping and
the circle clipping then treat OSM streets exactly as folder streets.

The rule, for every gated compound (``landuse=residential`` polygon, see
:func:`planner.load.osm.layers_from_features`):

1. Minor road lines (``highway`` not in :data:`PUBLIC_HIGHWAY`) are cut where they
   cross the compound's wall (its outline, and public-class lines running inside it);
   the pieces inside get its ``compound_id``. Public classes (primary, secondary, ...)
   crossing a compound stay public and uncut.
2. With gates mapped in OSM (``barrier=gate|lift_gate|entrance|...`` or ``entrance=*``
   nodes within :data:`planner.load.osm.GATE_SNAP_M` of the outline): a crossing is a
   gate crossing when one of the compound's gates lies within ``GATE_SNAP_M`` of it (a
   gate node often sits on the wall or fence way a few metres from the ``landuse``
   outline, or on a private way the walk filter left out). When that gate node is on the
   path, the stretch between it and the outline changes side, so that inside and public
   lines meet at the gate node; otherwise the crossing itself is added as a gate
   (``mapped=False``). At every other crossing the wall stands: the inside piece is
   shortened by :data:`WALL_GAP_M`, so the path does not connect there.
3. With no gate mapped: every crossing is used as a gate (a row of the gates layer with
   ``mapped=False``), and the load report names the compound (the gates are a guess).

All measuring is done in the local UTM zone (metres); the layers stay in WGS84.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS
from shapely.ops import substring

from planner.crs import WGS84, utm_crs_for

#: ``highway`` classes that stay public where they cross a compound (city streets).
PUBLIC_HIGHWAY: frozenset[str] = frozenset(
    {
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "tertiary",
        "tertiary_link",
        "unclassified",
    }
)

#: Where a path crosses a wall without a gate, the inside piece stops this short of it, m.
WALL_GAP_M = 1.0

#: Points closer than this are the same point, metres.
_SAME_M = 0.001


@dataclass(frozen=True)
class GatedLayers:
    """Roads and gates after gating (WGS84).

    Attributes
    ----------
    roads
        The road lines, cut at gated compounds' outlines, with ``compound_id`` (``''``
        for public lines).
    gates
        The mapped gates (``mapped=True``), and crossings used as gates
        (``mapped=False``): every crossing of a gated compound without a mapped gate,
        and a crossing opened by a mapped gate that is not on the path itself.
    """

    roads: gpd.GeoDataFrame
    gates: gpd.GeoDataFrame


@dataclass(frozen=True)
class _Crossings:
    """Points where minor road lines cross gated compounds' walls (metres): the line
    and the compound (row of the gated compounds) of each."""

    line: NDArray[np.intp]
    compound: NDArray[np.intp]
    point: NDArray[np.object_]


def gate_compounds(
    roads: gpd.GeoDataFrame,
    compounds: gpd.GeoDataFrame,
    gates: gpd.GeoDataFrame,
    *,
    utm: CRS,
    gate_snap_m: float,
) -> GatedLayers:
    """Give road lines inside gated compounds their ``compound_id``, walls and gates.

    Parameters
    ----------
    roads
        Road lines (``road_id``, ``highway``, ...; WGS84), meeting only at end points.
    compounds
        Compounds (``compound_id``, ``gated``; WGS84 polygons).
    gates
        Mapped gates (``gate_id``, ``compound_id``; WGS84 points).
    utm
        The metric CRS the geometry is measured in.
    gate_snap_m
        A gate opens a crossing when it lies this close to it, metres.

    Returns
    -------
    GatedLayers
    """
    gates = gates.assign(mapped=True)
    gated = compounds[compounds["gated"].astype(bool)] if len(compounds) else compounds
    if len(roads) == 0 or len(gated) == 0:
        return GatedLayers(roads=roads.assign(compound_id=""), gates=gates)
    lines = roads.to_crs(utm).geometry.to_numpy()
    polys = gated.to_crs(utm).geometry.to_numpy()
    comp_ids = gated["compound_id"].astype(str).to_numpy(dtype=object)
    minor = ~roads["highway"].astype(str).isin(PUBLIC_HIGHWAY).to_numpy()
    cross = _crossings(lines, polys, minor)
    gate_pts = gates.to_crs(utm).geometry.to_numpy()
    gate_comp = gates["compound_id"].astype(str).to_numpy(dtype=object)
    opener = _gate_crossings(cross, comp_ids, gate_pts, gate_comp, gate_snap_m)
    has_mapped = np.isin(comp_ids, gate_comp)
    blocked = has_mapped[cross.compound] & (opener < 0)
    pieces, src = _cut(lines, cross)
    inside = _compound_of_pieces(pieces, polys, minor[src])
    inside, at_gate = _move_to_gates(pieces, inside, cross, opener, gate_pts, polys)
    new_pieces, keep = _wall_gaps(pieces, inside, cross, blocked)
    # lines left whole keep their WGS84 geometry exactly; cut or shortened ones are new
    changed = (new_pieces != lines[src]) & keep
    geoms = roads.geometry.to_numpy()[src].copy()
    if changed.any():
        geoms[changed] = gpd.GeoSeries(new_pieces[changed], crs=utm).to_crs(WGS84).to_numpy()
    out = roads.iloc[src[keep]].reset_index(drop=True)
    out = gpd.GeoDataFrame(
        out.drop(columns="geometry").assign(
            road_id=_piece_ids(out["road_id"].astype(str).to_numpy(dtype=object)),
            compound_id=np.where(inside >= 0, comp_ids[inside], "")[keep],
        ),
        geometry=geoms[keep],
        crs=WGS84,
    )
    # the crossings that stay open without a mapped gate node at them are gates too
    as_gate = ~has_mapped[cross.compound] | ((opener >= 0) & ~at_gate)
    inferred = _crossing_gates(cross, comp_ids, as_gate, utm=utm)
    return GatedLayers(
        roads=out, gates=pd.concat([gates, inferred], ignore_index=True).pipe(_as_gdf)
    )


def _as_gdf(df: pd.DataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(df, geometry="geometry", crs=WGS84)


def _crossings(
    lines: NDArray[np.object_], polys: NDArray[np.object_], minor: NDArray[np.bool_]
) -> _Crossings:
    """Every point where a minor line meets a gated compound's wall: its outline, and
    the public-class lines running inside it (a line running along a wall meets it at
    the ends of the shared stretch)."""
    public = np.flatnonzero(~minor)
    pi, pc = shapely.STRtree(polys).query(lines[public], predicate="intersects")
    walls = np.concatenate(
        [shapely.boundary(polys), shapely.intersection(lines[public[pi]], polys[pc])]
    )
    wall_comp = np.concatenate([np.arange(len(polys)), pc])
    minor_idx = np.flatnonzero(minor)
    qi, wi = shapely.STRtree(walls).query(lines[minor_idx], predicate="intersects")
    li, ci = minor_idx[qi], wall_comp[wi]
    meet = shapely.intersection(lines[li], walls[wi])
    parts, pair = shapely.get_parts(meet, return_index=True)
    linear = shapely.get_type_id(parts) != shapely.GeometryType.POINT
    ends, end_pair = shapely.get_parts(shapely.boundary(parts[linear]), return_index=True)
    points = np.concatenate([parts[~linear], ends])
    pair = np.concatenate([pair[~linear], pair[linear][end_pair]])
    # one row per (line, compound, point)
    xy = np.round(shapely.get_coordinates(points) / _SAME_M).astype(np.int64)
    key = np.column_stack([li[pair], ci[pair], xy])
    _, first = np.unique(key, axis=0, return_index=True)
    first = np.sort(first)
    return _Crossings(line=li[pair][first], compound=ci[pair][first], point=points[first])


def _gate_crossings(
    cross: _Crossings,
    comp_ids: NDArray[np.object_],
    gate_pts: NDArray[np.object_],
    gate_comp: NDArray[np.object_],
    gate_snap_m: float,
) -> NDArray[np.intp]:
    """The mapped gate of its compound nearest to each crossing within ``gate_snap_m``
    metres (-1: none, the crossing is walled)."""
    opener = np.full(len(cross.point), -1, dtype=np.intp)
    if len(gate_pts) == 0 or len(cross.point) == 0:
        return opener
    ki, gi = shapely.STRtree(gate_pts).query(cross.point, predicate="dwithin", distance=gate_snap_m)
    same = gate_comp[gi] == comp_ids[cross.compound[ki]]
    ki, gi = ki[same], gi[same]
    order = np.lexsort((shapely.distance(cross.point[ki], gate_pts[gi]), ki))
    ki, gi = ki[order], gi[order]
    first = np.unique(ki, return_index=True)[1]
    opener[ki[first]] = gi[first]
    return opener


def _move_to_gates(
    pieces: NDArray[np.object_],
    inside: NDArray[np.intp],
    cross: _Crossings,
    opener: NDArray[np.intp],
    gate_pts: NDArray[np.object_],
    polys: NDArray[np.object_],
) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
    """Where the gate opening a crossing is the far end of a piece leaving the crossing
    (the gate node on the path, a few metres off the outline), that piece changes side
    so that inside and public lines meet at the gate itself. Returns the pieces' new
    compound (-1: public) and which crossings moved to their gate."""
    inside = inside.copy()
    # a gate node on the outline itself is where the lines meet already
    moved = np.zeros(len(cross.point), dtype=bool)
    k_open = np.flatnonzero(opener >= 0)
    moved[k_open] = shapely.distance(cross.point[k_open], gate_pts[opener[k_open]]) <= _SAME_M
    k_open = k_open[~moved[k_open]]
    if len(k_open) == 0:
        return inside, moved
    for end, other in ((0, -1), (-1, 0)):
        ends = shapely.get_point(pieces, end)
        qi, pi = shapely.STRtree(ends).query(
            cross.point[k_open], predicate="dwithin", distance=_SAME_M
        )
        k = k_open[qi]
        far = shapely.get_point(pieces[pi], other)
        hit = shapely.distance(far, gate_pts[opener[k]]) <= _SAME_M
        k, pi = k[hit], pi[hit]
        gate_inside = shapely.contains(polys[cross.compound[k]], gate_pts[opener[k]])
        inside[pi] = np.where(gate_inside, -1, cross.compound[k])
        moved[k] = True
    return inside, moved


def _cut(
    lines: NDArray[np.object_], cross: _Crossings
) -> tuple[NDArray[np.object_], NDArray[np.intp]]:
    """Cut the lines at their crossings; returns the pieces and the line of each."""
    n = len(lines)
    pieces: list[object] = []
    src: list[int] = []
    cut_lines = np.unique(cross.line)
    keep = np.ones(n, dtype=bool)
    keep[cut_lines] = False
    at = shapely.line_locate_point(lines[cross.line], cross.point)
    for i in cut_lines:  # only the lines crossing a wall (a few per compound)
        line = lines[i]
        d = at[cross.line == i]
        d = np.unique(d[(d > _SAME_M) & (d < line.length - _SAME_M)])
        bounds = np.concatenate([[0.0], d, [line.length]])
        for a, b in itertools.pairwise(bounds):
            pieces.append(substring(line, a, b))
            src.append(int(i))
    all_pieces = np.concatenate([lines[keep], np.array(pieces, dtype=object)])
    all_src = np.concatenate([np.flatnonzero(keep), np.array(src, dtype=np.intp)])
    order = np.argsort(all_src, kind="stable")
    return all_pieces[order], all_src[order].astype(np.intp)


def _compound_of_pieces(
    pieces: NDArray[np.object_], polys: NDArray[np.object_], minor: NDArray[np.bool_]
) -> NDArray[np.intp]:
    """The gated compound holding each minor piece's midpoint (-1: public)."""
    out = np.full(len(pieces), -1, dtype=np.intp)
    mids = shapely.line_interpolate_point(pieces, 0.5, normalized=True)
    idx = np.flatnonzero(minor)
    qi, ci = shapely.STRtree(polys).query(mids[idx], predicate="within")
    first = np.unique(qi, return_index=True)[1]
    out[idx[qi[first]]] = ci[first]
    return out


def _wall_gaps(
    pieces: NDArray[np.object_],
    inside: NDArray[np.intp],
    cross: _Crossings,
    blocked: NDArray[np.bool_],
) -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
    """Shorten inside pieces by :data:`WALL_GAP_M` at their blocked crossings (the wall);
    returns the pieces and which are kept (pieces shorter than the gap are dropped)."""
    keep = np.ones(len(pieces), dtype=bool)
    if not blocked.any():
        return pieces, keep
    walls = cross.point[blocked]
    wall_comp = cross.compound[blocked]
    cand = np.flatnonzero(inside >= 0)
    out = pieces.copy()
    for end in (0, -1):
        ends = shapely.get_point(out[cand], end)
        qi, wi = shapely.STRtree(walls).query(ends, predicate="dwithin", distance=_SAME_M)
        hit = np.unique(cand[qi[wall_comp[wi] == inside[cand[qi]]]])
        for i in hit:  # only the pieces ending at a wall
            length = out[i].length
            if length <= WALL_GAP_M + _SAME_M:
                keep[i] = False
                continue
            a, b = (WALL_GAP_M, length) if end == 0 else (0.0, length - WALL_GAP_M)
            out[i] = substring(out[i], a, b)
    return out, keep


def _piece_ids(road_ids: NDArray[np.object_]) -> NDArray[np.object_]:
    """``road_id`` of an uncut line; ``<road_id>-<k>`` (k = 1, 2, ...) of its pieces."""
    s = pd.Series(road_ids)
    count = s.map(s.value_counts())
    k = s.groupby(s, sort=False).cumcount() + 1
    return np.where(count > 1, s + "-" + k.astype(str), s).astype(object)


def _crossing_gates(
    cross: _Crossings, comp_ids: NDArray[np.object_], use: NDArray[np.bool_], *, utm: CRS
) -> gpd.GeoDataFrame:
    """The crossings of ``use`` as gates (``mapped=False``), ``gate_id`` =
    ``<compound_id>-crossing-<k>``."""
    pts = cross.point[use]
    comp = comp_ids[cross.compound[use]]
    xy = np.round(shapely.get_coordinates(pts) / _SAME_M).astype(np.int64)
    frame = pd.DataFrame({"compound_id": comp, "x": xy[:, 0], "y": xy[:, 1]})
    frame["geometry"] = pts
    frame = frame.drop_duplicates(["compound_id", "x", "y"]).sort_values(
        ["compound_id", "x", "y"], kind="stable"
    )
    k = frame.groupby("compound_id", sort=False).cumcount() + 1
    gate_id = frame["compound_id"] + "-crossing-" + k.astype(str)
    out = gpd.GeoDataFrame(
        {"gate_id": gate_id.to_numpy(), "compound_id": frame["compound_id"].to_numpy()},
        geometry=gpd.GeoSeries(frame["geometry"].to_numpy(), crs=utm).to_crs(WGS84).to_numpy(),
        crs=WGS84,
    )
    return out.assign(mapped=False)


@dataclass(frozen=True)
class UnmappedGates:
    """A gated compound (at least half inside the street) with no gate mapped in OSM.

    Attributes
    ----------
    compound_id, name
        The compound.
    crossings
        Points where paths cross its outline, used as its gates (0: no path enters it,
        so its buildings reach the nearest public link).
    """

    compound_id: str
    name: str
    crossings: int


def compounds_without_gates(layers: dict[str, gpd.GeoDataFrame]) -> list[UnmappedGates]:
    """The gated compounds of OSM layers (:func:`planner.load.osm.read_osm`) at least half
    inside the boundary that have no mapped gate, in ``compound_id`` order.

    Gates without a ``mapped`` column count as mapped (layers made elsewhere)."""
    comp, gates = layers.get("compounds"), layers.get("gates")
    if comp is None or len(comp) == 0 or "boundary" not in layers:
        return []
    if gates is None:
        gates = gpd.GeoDataFrame({"compound_id": [], "mapped": []}, geometry=[], crs=WGS84)
    elif "mapped" not in gates.columns:
        gates = gates.assign(mapped=True)
    gated = comp[comp["gated"].astype(bool)] if "gated" in comp.columns else comp
    if len(gated) == 0:
        return []
    boundary = shapely.union_all(layers["boundary"].to_crs(WGS84).geometry.to_numpy())
    c = boundary.centroid
    utm = utm_crs_for(c.x, c.y)
    # OSM outlines can self-intersect (a bow-tie way): repaired, or the overlay fails
    polys = shapely.make_valid(gated.to_crs(utm).geometry.to_numpy())
    names = gated["name"].fillna("") if "name" in gated.columns else pd.Series("", gated.index)
    street = shapely.make_valid(gpd.GeoSeries([boundary], crs=WGS84).to_crs(utm).iloc[0])
    inside = shapely.area(shapely.intersection(polys, street)) >= 0.5 * shapely.area(polys)
    mapped = set(gates.loc[gates["mapped"].astype(bool), "compound_id"].astype(str))
    counts = gates.loc[~gates["mapped"].astype(bool), "compound_id"].astype(str).value_counts()
    out = [
        UnmappedGates(cid, str(name), int(counts.get(cid, 0)))
        for cid, name, ok in zip(gated["compound_id"].astype(str), names, inside, strict=True)
        if ok and cid not in mapped
    ]
    return sorted(out, key=lambda u: u.compound_id)
