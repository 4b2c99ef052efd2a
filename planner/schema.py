"""The fixed columns of every layer of a :class:`~planner.street.Street`, with units.

This module is the one place where layer columns are defined. Loaders build layers
with :func:`conform`, which adds missing optional columns with their defaults and
casts types, so every later step can rely on the columns below being present.

All geometry columns are in the street's projected metric CRS (local UTM zone)
while inside the planner; WGS84 (EPSG:4326) only at the edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str  # "str", "int", "float", "bool"
    unit: str
    description: str
    default: Any = None


def _c(name: str, dtype: str, unit: str, description: str, default: Any = None) -> Column:
    return Column(name, dtype, unit, description, default)


#: Layer name -> (geometry type, columns). Geometry types are what the layer holds.
LAYERS: dict[str, tuple[str, tuple[Column, ...]]] = {
    "boundary": (
        "Polygon",
        (
            _c("street_id", "str", "", "street id"),
            _c("name", "str", "", "street name (Chinese)", ""),
            _c("area_m2", "float", "m²", "area of the street"),
        ),
    ),
    "communities": (
        "Polygon",
        (
            _c("community_id", "str", "", "community id, unique"),
            _c("name", "str", "", "community name (Chinese)", ""),
            _c("code", "str", "", "grid-code community part: 3 digits or 12 (statistics)", ""),
            _c("area_m2", "float", "m²", "area"),
        ),
    ),
    "compounds": (
        "Polygon",
        (
            _c("compound_id", "str", "", "compound (小区) id, unique"),
            _c("name", "str", "", "compound name (Chinese)", ""),
            _c("community_id", "str", "", "community holding most of the compound", ""),
            _c("gated", "bool", "", "walled compound entered only through its gates", True),
            _c("area_m2", "float", "m²", "area"),
        ),
    ),
    "buildings": (
        "Polygon",
        (
            _c("building_id", "str", "", "building id, unique"),
            _c("name", "str", "", "name or address, e.g. 3号楼", ""),
            _c("kind", "str", "", "residential, school, shop, office, public, other", "other"),
            _c("compound_id", "str", "", "compound holding the building ('' if none)", ""),
            _c("community_id", "str", "", "community holding the building", ""),
            _c("floors", "int", "storeys", "number of storeys above ground", 0),
            _c("footprint_m2", "float", "m²", "footprint area"),
            _c("households", "int", "households", "households living in the building", 0),
            _c("population", "float", "residents", "residents (households x 2.62 if unknown)", 0.0),
            _c("households_estimated", "bool", "", "households estimated, not registered", False),
            _c(
                "households_source",
                "str",
                "",
                "where households come from: register, data, estimate or unknown",
                "data",
            ),
        ),
    ),
    "gates": (
        "Point",
        (
            _c("gate_id", "str", "", "gate id"),
            _c("compound_id", "str", "", "compound the gate opens"),
            _c("node_id", "int", "", "network node at the gate (-1 if not on the network)", -1),
        ),
    ),
    "roads": (
        "LineString",
        (
            _c("road_id", "str", "", "road id"),
            _c("name", "str", "", "road name", ""),
            _c("highway", "str", "", "OSM highway class (primary, residential, footway, ...)"),
            _c("bridge", "bool", "", "bridge segment", False),
        ),
    ),
    "barriers": (
        "Geometry",
        (
            _c("barrier_id", "str", "", "barrier id"),
            _c("kind", "str", "", "river or railway"),
            _c("name", "str", "", "name", ""),
        ),
    ),
    "landuse": (
        "Polygon",
        (
            _c("landuse_id", "str", "", "land-use id"),
            _c("kind", "str", "", "park, school, campus, commercial, industrial, ..."),
            _c("name", "str", "", "name", ""),
        ),
    ),
    "nodes": (
        "Point",
        (
            _c("node_id", "int", "", "node id = row position 0..n-1"),
            _c("compound_id", "str", "", "compound the node is inside ('' if outside)", ""),
            _c("is_gate", "bool", "", "the node is a compound gate", False),
            _c("in_street", "bool", "", "node inside the street boundary", True),
        ),
    ),
    "edges": (
        "LineString",
        (
            _c("u", "int", "", "from node id"),
            _c("v", "int", "", "to node id"),
            _c("length_m", "float", "m", "length"),
            _c("highway", "str", "", "OSM highway class", "footway"),
            _c("name", "str", "", "road name", ""),
            _c("compound_id", "str", "", "compound of an internal path ('' if public)", ""),
        ),
    ),
    "stations": (
        "Point",
        (
            _c("station_id", "str", "", "station id, unique"),
            _c("name", "str", "", "station name (Chinese)", ""),
            _c("kind", "str", "", "station kind (see STATION_KINDS)", "community_station"),
            _c("kind_text", "str", "", "the kind as the stations file wrote it", ""),
            _c("floor_area_m2", "float", "m²", "floor area (NaN if unknown)", np.nan),
            _c("opening_hours", "str", "", "opening hours, e.g. 09:00-17:00", ""),
            _c("address", "str", "", "address", ""),
            _c("in_street", "bool", "", "inside the street (False: in the margin)", True),
        ),
    ),
    "pois": (
        "Point",
        (
            _c("poi_id", "str", "", "POI id"),
            _c("name", "str", "", "name", ""),
            _c("kind", "str", "", "OSM amenity/shop/office value"),
            _c("in_street", "bool", "", "inside the street", True),
        ),
    ),
}

#: Station kinds: key -> (Chinese label, English label). The positions the policy
#: documents name for the party-mass service system (党群服务体系) and the 15-minute life
#: circle; ``other`` holds a kind the catalogue does not know (its text is kept in
#: the stations' ``kind_text``).
STATION_KINDS: dict[str, tuple[str, str]] = {
    "street_centre": ("街道党群服务中心", "Street party-mass service centre"),
    "community_station": ("社区党群服务站", "Community party-mass service station"),
    "grid_station": ("网格党群服务站", "Grid party-mass service station"),
    "red_property": ("红色物业", "Red property management"),
    "red_office": ("红色楼宇", "Red office building"),
    "party_member_room": ("党员活动室", "Party-member activity room"),
    "volunteer_station": ("志愿服务站", "Volunteer service station"),
    "neighbourhood_centre": ("邻里中心", "Neighbourhood centre"),
    "convenience_point": ("便民服务点", "Convenience service point"),
    "elderly_day_care": ("日间照料中心", "Day-care centre for the elderly"),
    "health_station": ("社区卫生服务站", "Community health service station"),
    "city_study_room": ("城市书房", "City study room"),
    "pocket_park": ("小游园", "Pocket park"),
    "micro_fire_station": ("微型消防站", "Micro fire station"),
    "emergency_shelter": ("应急避难场所", "Emergency shelter"),
    "other": ("其他", "Other"),
}

#: Kind group -> the station kinds in it; maps give a group one colour.
STATION_KIND_GROUPS: dict[str, tuple[str, ...]] = {
    "party_mass": (
        "street_centre",
        "community_station",
        "grid_station",
        "red_property",
        "red_office",
        "party_member_room",
        "volunteer_station",
    ),
    "health_care": (
        "neighbourhood_centre",
        "convenience_point",
        "elderly_day_care",
        "health_station",
    ),
    "culture_leisure": ("city_study_room", "pocket_park"),
    "safety": ("micro_fire_station", "emergency_shelter"),
    "other": ("other",),
}


def station_kind_group(kind: str) -> str:
    """The group (a key of :data:`STATION_KIND_GROUPS`) of a station ``kind``."""
    for group, kinds in STATION_KIND_GROUPS.items():
        if kind in kinds:
            return group
    return "other"


#: Other names of each kind (Chinese spellings in registers, English words). With the
#: kinds' own Chinese and English labels they make :data:`STATION_KIND_ALIASES`.
STATION_KIND_OTHER_NAMES: dict[str, tuple[str, ...]] = {
    "street_centre": (
        "党群服务中心",
        "街道党群服务中心",
        "街道党建服务中心",
        "街道党群活动中心",
        "街道社区党群服务中心",
        "street centre",
    ),
    "community_station": (
        "党群服务站",
        "社区党群服务中心",
        "社区党建服务站",
        "党建服务站",
        "社区服务站",
        "社区党群活动中心",
        "社区服务中心",
        "community station",
    ),
    "grid_station": ("网格站", "网格党建服务站", "网格服务站", "网格工作站", "grid station"),
    "red_property": ("红色物业服务站", "物业党建联建", "red property"),
    "red_office": ("红色楼宇党群服务站", "楼宇党群服务站", "楼宇党建服务站", "red office"),
    "party_member_room": ("党员活动室", "党员活动中心", "党员之家", "党建活动室"),
    "volunteer_station": ("志愿者服务站", "志愿服务点", "新时代文明实践站", "volunteer station"),
    "neighbourhood_centre": ("邻里中心", "邻里之家", "邻里服务中心"),
    "convenience_point": ("便民点", "便民服务站", "便民服务中心"),
    "elderly_day_care": (
        "社区日间照料中心",
        "日间照料站",
        "老年人日间照料中心",
        "养老服务驿站",
        "社区养老服务驿站",
        "day care centre",
    ),
    "health_station": (
        "社区卫生服务中心",
        "卫生服务站",
        "社区卫生站",
        "卫生室",
        "community health station",
    ),
    "city_study_room": ("城市书屋", "社区书房", "城市阅读空间", "study room"),
    "pocket_park": ("口袋公园", "街心公园", "小微绿地", "游园"),
    "micro_fire_station": ("社区微型消防站", "微型消防站点", "micro fire station"),
    "emergency_shelter": ("避难场所", "应急避难所", "应急避险场所", "shelter"),
    "other": (),
}

#: Chinese and English names accepted in a stations file's ``kind`` column -> kind key.
#: A user mapping file adds more (:mod:`planner.load.kinds`).
STATION_KIND_ALIASES: dict[str, str] = {
    **{zh: key for key, (zh, _en) in STATION_KINDS.items() if key != "other"},
    **{en.lower(): key for key, (_zh, en) in STATION_KINDS.items() if key != "other"},
    **{name: key for key, names in STATION_KIND_OTHER_NAMES.items() for name in names},
}

BUILDING_KINDS: tuple[str, ...] = ("residential", "school", "shop", "office", "public", "other")


def columns(layer: str) -> tuple[Column, ...]:
    """The columns of ``layer`` (without geometry)."""
    return LAYERS[layer][1]


def column_names(layer: str) -> list[str]:
    return [c.name for c in columns(layer)]


def _cast(series: pd.Series, dtype: str, default: Any) -> pd.Series:
    if dtype == "str":
        out = series.astype(object).where(series.notna(), default if default is not None else "")
        return out.astype(str)
    if dtype == "int":
        fill = 0 if default is None else default
        return pd.to_numeric(series, errors="coerce").fillna(fill).round().astype("int64")
    if dtype == "float":
        return pd.to_numeric(series, errors="coerce").astype("float64")
    if dtype == "bool":
        fill = False if default is None else default
        return series.astype(object).where(series.notna(), fill).astype(bool)
    raise ValueError(dtype)


def conform(layer: str, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``gdf`` with exactly the schema columns of ``layer`` (plus geometry), typed.

    Missing columns get their default; ``area_m2``/``footprint_m2``/``length_m`` are
    computed from geometry when missing (the CRS must be projected). Extra columns
    are kept after the schema columns. The input is not modified.
    """
    out = gdf.copy()
    n = len(out)
    for col in columns(layer):
        if col.name not in out.columns:
            if col.name in ("area_m2", "footprint_m2"):
                out[col.name] = out.geometry.area if n else pd.Series(dtype="float64")
            elif col.name == "length_m":
                out[col.name] = out.geometry.length if n else pd.Series(dtype="float64")
            else:
                out[col.name] = pd.Series([col.default] * n, index=out.index, dtype=object)
        out[col.name] = _cast(out[col.name], col.dtype, col.default)
    names = column_names(layer)
    extra = [c for c in out.columns if c not in names and c != out.geometry.name]
    ordered = out[[*names, *extra, out.geometry.name]]
    return gpd.GeoDataFrame(ordered, geometry=out.geometry.name, crs=gdf.crs)


def empty(layer: str, crs: Any) -> gpd.GeoDataFrame:
    """An empty layer with the schema columns."""
    gdf = gpd.GeoDataFrame(
        {c.name: pd.Series(dtype=object) for c in columns(layer)},
        geometry=gpd.GeoSeries([], crs=crs),
        crs=crs,
    )
    return conform(layer, gdf)


# --- services: service kinds of the life circles (issue 16) ---
# The catalogue lives here (not in planner.coverage) because Settings validates
# ``service_catalogue`` against it and planner.coverage imports the settings.

#: A circle's key.
CircleKey = Literal["life_5", "life_10", "life_15", "party_15", "convenience_15"]


@dataclass(frozen=True)
class Circle:
    """One service circle: its names, which of the 5/10/15-minute settings gives its
    minutes (``minutes_index`` into ``Settings.service_circle_minutes``) and its source."""

    zh: str
    en: str
    minutes_index: int
    source: str


#: The circles, in the order tables show them.
CIRCLES: dict[CircleKey, Circle] = {
    "life_5": Circle("5分钟生活圈", "5-minute life circle", 0, "GB 50180-2018 table B.0.2"),
    "life_10": Circle("10分钟生活圈", "10-minute life circle", 1, "GB 50180-2018 table B.0.1"),
    "life_15": Circle("15分钟生活圈", "15-minute life circle", 2, "GB 50180-2018 table B.0.1"),
    "party_15": Circle(
        "一刻钟党建服务圈",
        "Quarter-hour party-building circle",
        2,
        "party-mass service system documents",
    ),
    "convenience_15": Circle(
        "15分钟便民服务圈",
        "15-minute convenience circle",
        2,
        "MOFCOM convenient-living-circle guidance",
    ),
}


@dataclass(frozen=True)
class ServiceKind:
    """One kind of facility a circle should hold, and what feeds it.

    Attributes
    ----------
    zh, en
        Chinese and English names.
    circle
        The circle it belongs to (a key of :data:`CIRCLES`).
    station_kinds
        Station kinds (:data:`planner.schema.STATION_KINDS`) that are such a facility.
    poi_kinds
        POI ``kind`` values (OSM ``amenity``/``shop``/``office``/``leisure``/
        ``healthcare``/``social_facility`` values) that are.
    landuse_kinds
        Land-use kinds (park, ...) that are.
    name_words
        Words whose presence in a station's, POI's or land-use polygon's name makes it
        one (小学 in 育才路小学).
    """

    zh: str
    en: str
    circle: CircleKey
    station_kinds: tuple[str, ...] = ()
    poi_kinds: tuple[str, ...] = ()
    landuse_kinds: tuple[str, ...] = ()
    name_words: tuple[str, ...] = ()


def _k(
    zh: str,
    en: str,
    circle: CircleKey,
    stations: tuple[str, ...] = (),
    pois: tuple[str, ...] = (),
    landuse: tuple[str, ...] = (),
    words: tuple[str, ...] = (),
) -> ServiceKind:
    return ServiceKind(zh, en, circle, stations, pois, landuse, words)


#: The catalogue: service kind -> what it is and what feeds it (README table).
SERVICE_KINDS: dict[str, ServiceKind] = {
    # GB 50180-2018 table B.0.2: the 5-minute life circle
    "community_service": _k(
        "社区服务站",
        "Community service station",
        "life_5",
        ("community_station", "grid_station", "street_centre", "neighbourhood_centre"),
        ("community_centre", "social_centre"),
        (),
        ("社区服务站", "社区服务中心", "居委会"),
    ),
    "canteen": _k(
        "社区食堂",
        "Community canteen",
        "life_5",
        (),
        ("canteen", "food_court"),
        (),
        ("社区食堂", "老年食堂", "长者食堂", "助餐点"),
    ),
    "kindergarten": _k("幼儿园", "Kindergarten", "life_5", (), ("kindergarten",), (), ("幼儿园",)),
    "nursery": _k(
        "托儿所", "Nursery", "life_5", (), ("childcare",), (), ("托儿所", "托育", "早教")
    ),
    "elderly_day_care": _k(
        "老年人日间照料中心",
        "Day-care centre for the elderly",
        "life_5",
        ("elderly_day_care",),
        ("day_care", "senior_centre"),
        (),
        ("日间照料", "养老服务驿站", "托老"),
    ),
    "health_station": _k(
        "社区卫生服务站",
        "Community health station",
        "life_5",
        ("health_station",),
        ("clinic", "doctors", "health_post"),
        (),
        ("卫生服务站", "卫生站", "卫生室", "诊所"),
    ),
    "small_sports": _k(
        "小型多功能运动场地",
        "Small sports ground",
        "life_5",
        (),
        ("pitch", "fitness_station", "playground", "fitness_centre"),
        ("pitch", "playground"),
        ("健身广场", "运动场", "球场", "健身苑"),
    ),
    "public_toilet": _k(
        "公共厕所", "Public toilet", "life_5", (), ("toilets",), (), ("公厕", "公共厕所")
    ),
    # GB 50180-2018 table B.0.1: the 10-minute life circle
    "primary_school": _k("小学", "Primary school", "life_10", (), (), (), ("小学",)),
    "fresh_market": _k(
        "菜市场或生鲜超市",
        "Fresh market",
        "life_10",
        (),
        ("marketplace", "greengrocer", "supermarket"),
        ("marketplace",),
        ("菜市场", "农贸市场", "生鲜"),
    ),
    "mid_sports": _k(
        "中型多功能运动场地",
        "Mid-size sports ground",
        "life_10",
        (),
        ("sports_centre", "stadium"),
        ("sports_centre", "stadium", "recreation_ground"),
        ("体育中心", "体育场", "全民健身中心"),
    ),
    # GB 50180-2018 table B.0.1: the 15-minute life circle
    "middle_school": _k(
        "初中", "Middle school", "life_15", (), (), (), ("中学", "初中", "初级中学", "九年一贯")
    ),
    "health_centre": _k(
        "社区卫生服务中心",
        "Community health service centre",
        "life_15",
        (),
        ("hospital",),
        ("hospital",),
        ("卫生服务中心", "社区医院", "医院"),
    ),
    "elderly_home": _k(
        "养老院",
        "Elderly home",
        "life_15",
        (),
        ("nursing_home", "assisted_living"),
        (),
        ("养老院", "敬老院", "老年公寓", "福利院", "养护院"),
    ),
    "culture_centre": _k(
        "文化活动中心",
        "Culture centre",
        "life_15",
        (),
        ("arts_centre", "theatre", "library"),
        (),
        ("文化活动中心", "文化中心", "文化馆", "图书馆"),
    ),
    # the quarter-hour party-building service circle
    "party_mass": _k(
        "党群服务中心（站）",
        "Party-mass service centre or station",
        "party_15",
        ("street_centre", "community_station", "grid_station"),
    ),
    "city_study_room": _k(
        "城市书房",
        "City study room",
        "party_15",
        ("city_study_room",),
        ("library",),
        (),
        ("书房", "书屋", "阅读空间", "图书馆"),
    ),
    "pocket_park": _k(
        "小游园",
        "Pocket park",
        "party_15",
        ("pocket_park",),
        ("park", "garden"),
        ("park",),
        ("游园", "口袋公园", "公园", "街心花园"),
    ),
    "neighbourhood_centre": _k(
        "邻里中心",
        "Neighbourhood centre",
        "party_15",
        ("neighbourhood_centre",),
        (),
        (),
        ("邻里中心", "邻里之家"),
    ),
    # the 15-minute convenience service circle
    "finance": _k(
        "金融服务", "Finance", "convenience_15", (), ("bank", "atm"), (), ("银行", "信用社")
    ),
    "medical": _k(
        "医疗服务",
        "Medical",
        "convenience_15",
        ("health_station",),
        ("pharmacy", "clinic", "doctors", "hospital", "chemist"),
        ("hospital",),
        ("药店", "药房", "诊所", "医院"),
    ),
    "delivery": _k(
        "快递邮政",
        "Delivery and post",
        "convenience_15",
        (),
        ("post_office", "parcel_locker", "courier"),
        (),
        ("快递", "菜鸟驿站", "邮政", "邮局", "丰巢"),
    ),
    "grocery": _k(
        "便利店超市",
        "Groceries",
        "convenience_15",
        ("convenience_point",),
        ("convenience", "supermarket", "greengrocer"),
        (),
        ("便利店", "超市"),
    ),
}

#: Every kind's key, in catalogue order (the default ``Settings.service_catalogue``).
ALL_SERVICE_KINDS: tuple[str, ...] = tuple(SERVICE_KINDS)


def kind_minutes(kind: str, circle_minutes: tuple[float, float, float]) -> float:
    """The walking minutes of ``kind``'s circle, from the 5/10/15-minute settings."""
    return float(circle_minutes[CIRCLES[SERVICE_KINDS[kind].circle].minutes_index])


def kinds_of_circle(circle: str, kinds: tuple[str, ...]) -> tuple[str, ...]:
    """The kinds among ``kinds`` that belong to ``circle``."""
    return tuple(k for k in kinds if SERVICE_KINDS[k].circle == circle)
