"""The assembly steps, one per layer: clean, clip to the street, derive what is missing.

Each step takes a layer already projected to the street's UTM CRS (metres) and the
:class:`Context` of the load, records its problems (naming file, feature id, field and
fix) in the context's :class:`~planner.errors.ProblemLog`, and returns a new layer;
inputs are never modified. :func:`planner.load.assemble.assemble` runs them in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from planner import schema
from planner.errors import ProblemLog
from planner.i18n import STRINGS, Message, msg
from planner.load import validate
from planner.load.kinds import ResolvedKinds, catalogue_lookup, resolve_kinds
from planner.load.register import RegisterJoin
from planner.load.tables import normalise_text
from planner.load.validate import PLAUSIBLE
from planner.settings import Settings

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
#: Land-use kinds (normalised) that are residential land: a building of a kind that says
#: nothing standing on it is residential.
RESIDENTIAL_LANDUSE: frozenset[str] = frozenset(
    {
        "residential",
        "住宅",
        "住宅用地",
        "居住",
        "居住用地",
        "城镇住宅用地",
        "r",
        "r1",
        "r2",
        "r3",
        "0701",
    }
)
#: Building kinds that say nothing (OSM ``building=yes``): residential inside a compound.
UNKNOWN_KINDS: frozenset[str] = frozenset({"", "yes", "building", "unknown", "nan", "none"})


@dataclass
class Context:
    """State shared by the assembly steps of one load.

    Attributes
    ----------
    settings
        The load's settings (``margin_m`` in m, household estimates, ...).
    problems
        Where every step records its problems.
    files
        Layer name -> file, named in messages.
    crs
        The street's UTM CRS; every geometry below is in it (metres).
    street, reach
        The street polygon, and the street buffered by ``margin_m``.
    derived
        What was derived or estimated, with counts (the load report's ``derived``).
    station_kinds
        The user's station-kind mapping (text -> kind key), from a station-kinds file.
    """

    settings: Settings
    problems: ProblemLog
    files: dict[str, str]
    crs: CRS
    street: BaseGeometry
    reach: BaseGeometry
    derived: list[str] = field(default_factory=list)
    station_kinds: dict[str, str] = field(default_factory=dict)

    def file(self, layer: str) -> str:
        """The file ``layer`` came from (the layer name when unknown)."""
        return self.files.get(layer, layer)

    def warn_features(
        self,
        layer: str,
        ids: Sequence[object],
        text: Message,
        *,
        field: str | None,
        fix: Message,
    ) -> None:
        """A warning about features of ``layer``: ``text``, then their ids (at most
        :data:`planner.load.validate.MAX_IDS`), the first one as the feature."""
        bad = list(ids)
        self.problems.add(
            msg("note_with_ids", text=text, ids=validate.id_message(bad)),
            file=self.file(layer),
            feature_id=validate.short(bad[0]),
            field=field,
            fix=fix,
            severity="warning",
        )


def clean_layer(name: str, gdf: gpd.GeoDataFrame, ctx: Context) -> gpd.GeoDataFrame:
    """Text cleaned (:func:`planner.load.validate.clean_text`), ids filled and unique,
    geometry of the right kind and repaired (projected CRS)."""
    gdf = gdf.reset_index(drop=True)
    file = ctx.file(name)
    id_col, prefix = ID_COLUMNS.get(name, ("", ""))
    raw = gdf

    def raw_ids() -> pd.Series:
        return validate.feature_ids(raw, id_col or "id").map(validate.short)

    gdf = validate.clean_text(gdf, ids=raw_ids, file=file, problems=ctx.problems)
    ids = validate.feature_ids(gdf, id_col or "id")
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


def polygonal(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
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


def largest_overlap(
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


def report_outside(
    name: str, ids: pd.Series, beyond: NDArray[np.bool_], ctx: Context, *, what: str
) -> None:
    """Warn about the features of ``name`` lying beyond the margin (their ids listed)."""
    if beyond.any():
        bad = ids[beyond].tolist()
        ctx.warn_features(
            name,
            bad,
            msg(
                "note_outside",
                n=len(bad),
                what=msg(f"note_layer_{what}") if f"note_layer_{what}" in STRINGS else what,
                margin=ctx.settings.margin_m,
            ),
            field="geometry",
            fix=msg("note_fix_check_coordinates"),
        )


def station_kinds(st: gpd.GeoDataFrame, ctx: Context) -> ResolvedKinds:
    """Each station's kind as a key of :data:`planner.schema.STATION_KINDS`, and its text.

    Catalogue names, aliases and the user's mapping (``ctx.station_kinds``) are
    understood; empty means ``community_station``; any other text is kept as ``other``
    with its text, and one warning lists those stations (never an error).
    """
    raw = st["kind"] if "kind" in st.columns else pd.Series("", index=st.index)
    resolved = resolve_kinds(raw, catalogue_lookup(ctx.station_kinds))
    if resolved.unknown.any():
        texts = sorted(set(resolved.text[resolved.unknown]))
        shown = validate.id_message([repr(validate.short(x, 40)) for x in texts])
        ctx.warn_features(
            "stations",
            st["station_id"][resolved.unknown].tolist(),
            msg("note_unknown_kinds", n=int(resolved.unknown.sum()), shown=shown),
            field="kind",
            fix=msg("note_fix_station_kinds"),
        )
    return resolved


def residential_land(b: gpd.GeoDataFrame, landuse: gpd.GeoDataFrame | None) -> NDArray[np.bool_]:
    """Whether each building's representative point lies in residential land use
    (a ``landuse`` polygon whose ``kind`` is in :data:`RESIDENTIAL_LANDUSE`)."""
    out = np.zeros(len(b), dtype=bool)
    if landuse is None or landuse.empty or "kind" not in landuse.columns or b.empty:
        return out
    kind = landuse["kind"].astype(object).where(landuse["kind"].notna(), "").astype(str)
    res = kind.map(normalise_text).isin(RESIDENTIAL_LANDUSE).to_numpy()
    if not res.any():
        return out
    land = shapely.union_all(shapely.make_valid(landuse.geometry.to_numpy()[res]))
    rep = shapely.point_on_surface(b.geometry.to_numpy())
    return np.asarray(shapely.intersects(land, rep), dtype=bool)


def building_kinds(
    b: gpd.GeoDataFrame, in_residential_land: NDArray[np.bool_] | None = None
) -> tuple[pd.Series, pd.Series]:
    """Each building's kind (:data:`planner.schema.BUILDING_KINDS`) from its ``kind``, and
    whether that kind is unknown.

    OSM ``building=*`` values and Chinese words are mapped (:data:`BUILDING_KIND_MAP`);
    other stated kinds (``industrial``, ``church``, ``garage``...) are ``other``, not
    residential. A kind that says nothing (:data:`UNKNOWN_KINDS`, OSM ``building=yes``)
    is residential inside a residential compound (``compound_id``) or residential land
    use (``in_residential_land``), else ``other`` and marked unknown: its households
    cannot be known.
    """
    raw = (
        b["kind"].astype(object).where(b["kind"].notna(), "").astype(str)
        if "kind" in b.columns
        else pd.Series("", index=b.index)
    )
    norm = raw.map({v: normalise_text(v) for v in raw.unique()})
    kinds = norm.map(lambda v: BUILDING_KIND_MAP.get(v, v if v in schema.BUILDING_KINDS else ""))
    says_nothing = norm.isin(UNKNOWN_KINDS)
    in_compound = b["compound_id"].astype(str) != ""
    if in_residential_land is not None:
        in_compound |= in_residential_land
    kinds = kinds.where(~(says_nothing & in_compound), "residential")
    return kinds.where(kinds != "", "other"), says_nothing & ~in_compound


def clean_communities(gdf: gpd.GeoDataFrame | None, ctx: Context) -> gpd.GeoDataFrame:
    """Communities clipped to the street with 3-digit codes; one for the whole street
    when none are given. Gaps or overlaps over 1 % of the street's area are warned about."""
    if gdf is None or gdf.empty:
        ctx.derived.append("communities: none given, one community covers the whole street")
        return gpd.GeoDataFrame(
            {"community_id": ["C0001"], "name": [""], "code": ["001"]},
            geometry=[ctx.street],
            crs=ctx.crs,
        )
    clipped = gdf.copy()
    clipped["geometry"] = polygonal(shapely.intersection(gdf.geometry.to_numpy(), ctx.street))
    keep = shapely.area(clipped.geometry.to_numpy()) > 1.0
    report_outside("communities", clipped["community_id"], ~keep, ctx, what="communities")
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
            msg("note_communities_gap", share=gap),
            file=ctx.file("communities"),
            field="geometry",
            fix=msg("note_fix_communities_tile"),
            severity="warning",
        )
    if overlap > 0.01:
        ctx.problems.add(
            msg("note_communities_overlap", share=overlap),
            file=ctx.file("communities"),
            field="geometry",
            fix=msg("note_fix_communities_overlap"),
            severity="warning",
        )
    return clipped


def clean_compounds(
    gdf: gpd.GeoDataFrame | None, communities: gpd.GeoDataFrame, ctx: Context
) -> gpd.GeoDataFrame:
    """Compounds at least half inside the street, clipped to it, with the community
    covering most of each and ``gated`` as a bool (false/0/no/否 open a compound)."""
    if gdf is None or gdf.empty:
        return schema.empty("compounds", ctx.crs)
    geoms = gdf.geometry.to_numpy()
    inside = shapely.area(shapely.intersection(geoms, ctx.street))
    keep = inside >= 0.5 * shapely.area(geoms)
    out = gdf.loc[keep].copy()
    out["geometry"] = polygonal(shapely.intersection(out.geometry.to_numpy(), ctx.street))
    if (~keep).sum():
        bad = gdf["compound_id"][~keep].tolist()
        ctx.warn_features(
            "compounds",
            bad,
            msg("note_compounds_outside", n=len(bad)),
            field="geometry",
            fix=msg("note_fix_compounds_outside"),
        )
    out["community_id"] = largest_overlap(
        out.geometry.to_numpy(),
        communities.geometry.to_numpy(),
        communities["community_id"].to_numpy(dtype=object),
    )
    if "gated" in out.columns:
        g = out["gated"]
        txt = g.astype(object).where(g.notna(), "").astype(str).str.strip().str.lower()
        out["gated"] = ~txt.isin(["false", "0", "no", "n", "否"])
    return out.reset_index(drop=True)


def clean_gates(
    gdf: gpd.GeoDataFrame | None, compounds: gpd.GeoDataFrame, ctx: Context
) -> gpd.GeoDataFrame:
    """Gates within reach, each with its compound: the one given, else the compound
    whose outline lies within 5 m."""
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


def clean_buildings(
    gdf: gpd.GeoDataFrame | None,
    compounds: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    ctx: Context,
    landuse: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame | None:
    """Buildings in the street with ``footprint_m2`` (m²), compound, community, kind,
    ``households_source`` so far and numeric households/population/floors/height (NaN
    where blank); None without buildings.

    A building belongs to the street when its representative point lies inside the
    boundary; the others are left out and listed (a warning). A compound, or residential
    land use in ``landuse`` (:data:`RESIDENTIAL_LANDUSE`), makes a building whose kind
    says nothing residential.
    """
    if gdf is None or gdf.empty:
        ctx.derived.append(
            "buildings: none given, no households"
            if gdf is None
            else "buildings: the layer is empty"
        )
        ctx.problems.add(
            msg("note_no_buildings"),
            file=ctx.file("buildings") if gdf is not None else None,
            field="geometry",
            fix=msg("note_fix_add_buildings"),
            severity="warning",
        )
        return None
    out = _buildings_in_street(gdf, ctx)
    if out.empty:
        ctx.problems.add(
            msg("err_street_empty", n=len(gdf), area=ctx.street.area),
            file=ctx.file("boundary"),
            field="geometry",
            fix=msg("err_fix_street_empty"),
        )
        return None
    out["footprint_m2"] = shapely.area(out.geometry.to_numpy())
    out["compound_id"] = _compound_of_buildings(out, compounds, ctx)
    out["community_id"] = largest_overlap(
        out.geometry.to_numpy(),
        communities.geometry.to_numpy(),
        communities["community_id"].to_numpy(dtype=object),
    )
    out["kind"], unknown = building_kinds(out, residential_land(out, landuse))
    file = ctx.file("buildings")
    bounds = {
        "households": PLAUSIBLE.households_per_building,
        "population": PLAUSIBLE.residents_per_building,
        "floors": PLAUSIBLE.floors,
        "height_m": PLAUSIBLE.height_m,
    }
    for col, maximum in bounds.items():
        out[col] = validate.numeric_column(
            out,
            col,
            ids=out["building_id"],
            file=file,
            problems=ctx.problems,
            maximum=maximum,
            whole=col == "households",
        )
    given = out["households"].notna()
    out["households_source"] = np.where(given, "data", np.where(unknown, "unknown", ""))
    return out


def _buildings_in_street(gdf: gpd.GeoDataFrame, ctx: Context) -> gpd.GeoDataFrame:
    """The buildings whose representative point is in the street (others reported)."""
    geoms = gdf.geometry.to_numpy()
    inside = shapely.intersects(ctx.street, shapely.point_on_surface(geoms))
    near = shapely.intersects(ctx.reach, geoms)
    report_outside("buildings", gdf["building_id"], ~near, ctx, what="buildings")
    margin = near & ~inside
    if margin.any():
        bad = gdf["building_id"][margin].tolist()
        ctx.warn_features(
            "buildings",
            bad,
            msg("note_buildings_outside", n=len(bad)),
            field="geometry",
            fix=msg("note_fix_buildings_outside"),
        )
    return gdf.loc[inside].copy().reset_index(drop=True)


def _compound_of_buildings(
    b: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame, ctx: Context
) -> pd.Series:
    """Each building's ``compound_id``: the one given when it exists, else by location."""
    comp_ids = compounds["compound_id"].astype(str).to_numpy(dtype=object)
    spatial = pd.Series(
        largest_overlap(b.geometry.to_numpy(), compounds.geometry.to_numpy(), comp_ids),
        index=b.index,
    )
    if "compound_id" not in b.columns:
        return spatial
    given = b["compound_id"].astype(object).where(b["compound_id"].notna(), "")
    given = given.astype(str).str.strip()
    unknown = (given != "") & ~given.isin(set(comp_ids))
    if unknown.any():
        bad = b["building_id"][unknown].tolist()
        ctx.warn_features(
            "buildings",
            bad,
            msg("note_unknown_compound", n=len(bad), example=repr(given[unknown].iloc[0])),
            field="compound_id",
            fix=msg("note_fix_compound_ids"),
        )
    placed: pd.Series = given.where((given != "") & ~unknown, spatial)
    return placed


def apply_register(b: gpd.GeoDataFrame, joined: RegisterJoin) -> gpd.GeoDataFrame:
    """Buildings with the register's households and residents where it has them, and
    its residents by age group (``children_0_6``, ``elderly_60`` ...) when it has those."""
    out = b.copy()
    hh = joined.households
    pop = joined.population
    out["households"] = hh.where(hh.notna(), out["households"])
    out["population"] = pop.where(pop.notna(), out["population"])
    out["households_source"] = out["households_source"].where(hh.isna(), "register")
    # --- services: residents by age group where the register gives them (issue 16) ---
    for group in joined.groups.columns:
        out[group] = joined.groups[group].round(2)
    return out


def estimate_households(b: gpd.GeoDataFrame | None, ctx: Context) -> gpd.GeoDataFrame:
    """Floors from height, households from floor area, residents from households.

    Floors missing: ``height_m`` ÷ ``floor_height_m`` (m), else, for a residential
    building needing an estimate, a default by footprint class (:func:`default_floors`).
    Households missing on a residential building: footprint (m²) × floors ÷
    ``dwelling_size_m2`` (m²), at least 1, marked ``households_estimated``. Other
    buildings without households get 0. ``households_source`` ends as ``register``,
    ``data`` (the layer's count, or a non-residential kind: 0), ``estimate`` or
    ``unknown`` (a kind that says nothing outside residential land: 0, not known).
    Residents missing: households × ``residents_per_household``.
    """
    if b is None:
        return schema.empty("buildings", ctx.crs)
    s = ctx.settings
    out = b.copy()
    floors = out["floors"]
    from_height = floors.isna() | (floors <= 0)
    est_floors = np.maximum(np.round(out["height_m"] / s.floor_height_m), 1)
    use_height = from_height & out["height_m"].notna() & (out["height_m"] > 0)
    floors = floors.where(~use_height, est_floors)
    need_hh = out["households"].isna() & (out["kind"] == "residential")
    default = need_hh & (floors.isna() | (floors <= 0))
    floors = floors.where(~default, default_floors(out["footprint_m2"], s))
    if use_height.any():
        ctx.derived.append(
            f"floors: {int(use_height.sum())} buildings from height_m ÷ {s.floor_height_m:g} m"
        )
    if default.any():
        low = default & (out["footprint_m2"] < s.low_rise_footprint_m2)
        ctx.derived.append(
            f"floors: {int(default.sum())} residential buildings without floors or height "
            f"assumed {s.default_floors} storeys ({int(low.sum())} of them, with a footprint "
            f"under {s.low_rise_footprint_m2:g} m², {s.low_rise_floors})"
        )
    est = np.maximum(np.round(out["footprint_m2"] * floors / s.dwelling_size_m2), 1)
    out["households"] = out["households"].where(~need_hh, est)
    out["households"] = out["households"].fillna(0)
    out["households_estimated"] = need_hh
    source = out["households_source"] if "households_source" in out else pd.Series("", out.index)
    source = source.where(~need_hh, "estimate")
    out["households_source"] = source.where(source != "", "data")
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
    _check_density(out, floors, ctx)
    return out


def default_floors(footprint_m2: pd.Series, s: Settings) -> pd.Series:
    """Storeys assumed by footprint class (m²): ``low_rise_floors`` below
    ``low_rise_footprint_m2``, else ``default_floors``."""
    small = footprint_m2 < s.low_rise_footprint_m2
    return pd.Series(np.where(small, s.low_rise_floors, s.default_floors), index=footprint_m2.index)


def _check_density(b: gpd.GeoDataFrame, floors: pd.Series, ctx: Context) -> None:
    """Warn about buildings with more households than their floor area can hold.

    Floor area = footprint (m²) × floors; where floors are unknown, × the most storeys
    plausible (:data:`planner.load.validate.PLAUSIBLE`), so only impossible counts are
    named. Estimated households above the per-building bound are named too.
    """
    storeys = floors.where(floors > 0, PLAUSIBLE.floors).fillna(PLAUSIBLE.floors)
    floor_area = b["footprint_m2"] * storeys
    dense = b["households"] * PLAUSIBLE.floor_area_per_household_m2 > floor_area
    dense &= b["households"] > 0
    if dense.any():
        rows = np.flatnonzero(dense.to_numpy())
        shown = [
            msg(
                "note_dense_building",
                building=validate.short(b["building_id"].iloc[i]),
                households=b["households"].iloc[i],
                area=floor_area.iloc[i],
            )
            for i in rows[: validate.MAX_IDS]
        ]
        more = len(rows) - validate.MAX_IDS
        listed = (
            msg("note_ids_more", ids=shown, more=more) if more > 0 else msg("note_ids", ids=shown)
        )
        ctx.problems.add(
            msg(
                "note_dense",
                n=len(rows),
                per=PLAUSIBLE.floor_area_per_household_m2,
                listed=listed,
            ),
            file=ctx.file("buildings"),
            feature_id=b["building_id"].iloc[rows[0]],
            field="households",
            fix=msg("note_fix_check_households"),
            severity="warning",
        )
    big = b["households_estimated"] & (b["households"] > PLAUSIBLE.households_per_building)
    if big.any():
        bad = b["building_id"][big].tolist()
        ctx.warn_features(
            "buildings",
            bad,
            msg("note_big_estimate", n=len(bad), limit=PLAUSIBLE.households_per_building),
            field="floors",
            fix=msg("note_fix_big_estimate"),
        )


def clip_lines(gdf: gpd.GeoDataFrame | None, ctx: Context) -> gpd.GeoDataFrame:
    """Road lines clipped to the reach, as single LineStrings."""
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


def clip_any(gdf: gpd.GeoDataFrame | None, ctx: Context) -> gpd.GeoDataFrame | None:
    """The features meeting the reach (barriers, land use), None when there are none."""
    if gdf is None or gdf.empty:
        return None
    out = gdf.loc[shapely.intersects(ctx.reach, gdf.geometry.to_numpy())].copy()
    return out.reset_index(drop=True)


def points_in_reach(name: str, gdf: gpd.GeoDataFrame | None, ctx: Context) -> gpd.GeoDataFrame:
    """Points within reach (other shapes by their centroid), with ``in_street``; the
    others are warned about by id."""
    if gdf is None or gdf.empty:
        return schema.empty(name, ctx.crs)
    id_col = ID_COLUMNS[name][0]
    pts = gdf.geometry.to_numpy()
    if (shapely.get_type_id(pts) != shapely.GeometryType.POINT).any():
        pts = shapely.centroid(pts)
    near = shapely.intersects(ctx.reach, pts)
    report_outside(name, gdf[id_col], ~near, ctx, what=name)
    out = gdf.loc[near].copy()
    out["geometry"] = pts[near]
    out["in_street"] = shapely.intersects(ctx.street, pts[near])
    return out.reset_index(drop=True)


def clean_stations(gdf: gpd.GeoDataFrame | None, ctx: Context) -> gpd.GeoDataFrame:
    """Stations within the margin, ``kind`` resolved to a schema key (Chinese names too),
    ``floor_area_m2`` numeric (m², NaN where blank) and ``in_street`` set."""
    out = points_in_reach("stations", gdf, ctx)
    if out.empty:
        return out
    kinds = station_kinds(out, ctx)
    out["kind"] = kinds.kind
    out["kind_text"] = kinds.text
    out["floor_area_m2"] = validate.numeric_column(
        out,
        "floor_area_m2",
        ids=out["station_id"],
        file=ctx.file("stations"),
        problems=ctx.problems,
        maximum=PLAUSIBLE.floor_area_m2,
    )
    return out
