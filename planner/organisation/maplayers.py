"""The organisation on the red map: branches and groups, grids by a check, compounds by red property.

:func:`add_organisation_layers` adds three overlay layers to a red map made by
:func:`planner.maps.redmap.red_map` (the app's organisation page and the run's
``redmap.html``):

- **grids coloured by a chosen check** (:data:`GRID_CHECKS`): no branch (red) or a
  branch (green); team incomplete (red) or "1+1+n" in place (green); incidents per 100
  households per year in four classes;
- **compounds by red-property status**: red property (red), a company without a party
  organisation (grey), abandoned or unmanaged (black, dashed), not in the register
  (white outline);
- **branches and groups**: a marker per grid branch (at a point inside its grid) and a
  dot per building party group.

Every text shown is escaped (names come from spreadsheets). Coordinates are WGS84, or
GCJ-02 under the Amap basemap (``coordinates="gcj02"``).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.crs import WGS84, from_wgs84
from planner.organisation.organise import Organisation
from planner.street import Street

Check = Literal["no_branch", "team_incomplete", "incidents"]
#: The checks grids can be coloured by: (Chinese, English) names.
GRID_CHECKS: dict[Check, tuple[str, str]] = {
    "no_branch": ("网格党支部", "party branch"),
    "team_incomplete": ("网格队伍（1+1+n）", 'team ("1+1+n")'),
    "incidents": ("每百户年事件数", "incidents per 100 households per year"),
}
GOOD, BAD, NONE = "#2e8b57", "#c8102e", "#bbbbbb"
#: Incidents per 100 households per year: upper bounds of the classes and their colours.
INCIDENT_CLASSES: tuple[tuple[float, str], ...] = (
    (1.0, "#fee5d9"),
    (3.0, "#fcae91"),
    (6.0, "#fb6a4a"),
    (float("inf"), "#cb181d"),
)
COMPOUND_STYLE: dict[str, tuple[str, str, str]] = {  # status -> colour, dash, (zh, en) key
    "red": (BAD, "", "红色物业"),
    "plain": ("#888888", "", "有物业、未建党组织"),
    "abandoned": ("#000000", "6 4", "弃管/无物业"),
    "unknown": ("#ffffff", "2 4", "未登记"),
}


def _to_map_crs(gdf: gpd.GeoDataFrame, coordinates: str) -> gpd.GeoDataFrame:
    """``gdf`` in WGS84, shifted to GCJ-02 for the Amap basemap."""
    out = gdf.to_crs(WGS84)
    if coordinates == "gcj02":
        out = out.set_geometry(
            shapely.transform(
                out.geometry.to_numpy(),
                lambda xy: np.column_stack(from_wgs84(xy[:, 0], xy[:, 1], "gcj02")),
            ),
            crs=WGS84,
        )
    return out


def grid_colours(org: Organisation, check: Check) -> pd.DataFrame:
    """Per grid: ``code``, ``colour`` and ``value`` (the text shown) for ``check``."""
    t = org.report.by_grid
    out = pd.DataFrame({"code": t["code"].astype(str)})
    if check == "no_branch" and "has_branch" in t.columns:
        out["colour"] = np.where(t["has_branch"], GOOD, BAD)
        out["value"] = np.where(t["has_branch"], t["branch"].astype(str), "—")
    elif check == "team_incomplete" and "team_complete" in t.columns:
        out["colour"] = np.where(t["team_complete"], GOOD, BAD)
        out["value"] = (
            "网格长 " + t["leaders"].astype(str) + " / 专职 " + t["full_time"].astype(str)
            + " / 兼职 " + t["part_time"].astype(str)
        )  # fmt: skip
    elif check == "incidents" and "incidents_per_100_households" in t.columns:
        rate = t["incidents_per_100_households"].fillna(0.0).to_numpy(dtype=float)
        bounds = [b for b, _ in INCIDENT_CLASSES]
        colours = np.array([c for _, c in INCIDENT_CLASSES])
        out["colour"] = colours[np.searchsorted(bounds, rate, side="left")]
        out["value"] = [f"{r:.2f}" for r in rate]
    else:  # the register this check needs was not given
        out["colour"], out["value"] = NONE, "—"
    return out


def _geojson(
    gdf: gpd.GeoDataFrame, name: str, style: Callable[[dict[str, Any]], dict[str, Any]],
    tooltip: list[str],
) -> folium.FeatureGroup:  # fmt: skip
    group = folium.FeatureGroup(name=name, show=True)
    folium.GeoJson(
        gdf.__geo_interface__,
        style_function=style,
        tooltip=folium.GeoJsonTooltip(fields=tooltip, labels=False),
    ).add_to(group)
    return group


def _grid_layer(grids: gpd.GeoDataFrame, org: Organisation, check: Check, lang: str,
                coordinates: str) -> folium.FeatureGroup:  # fmt: skip
    colours = grid_colours(org, check).set_index("code")
    g = grids[["code", "geometry"]].copy()
    g["code"] = g["code"].astype(str)
    g["colour"] = g["code"].map(colours["colour"]).fillna(NONE)
    label = GRID_CHECKS[check][1 if lang == "en" else 0]
    g["tip"] = [
        html.escape(f"{c[-5:]} · {label}: {v}")
        for c, v in zip(g["code"], g["code"].map(colours["value"]).fillna("—"), strict=True)
    ]
    g = _to_map_crs(g, coordinates)
    name = ("grids by check: " if lang == "en" else "网格检查：") + label
    return _geojson(
        g[["tip", "colour", "geometry"]], name,
        lambda f: {"fillColor": f["properties"]["colour"], "color": "#555555", "weight": 1,
                   "fillOpacity": 0.45},
        ["tip"],
    )  # fmt: skip


def compound_status(street: Street, org: Organisation) -> pd.Series:
    """Per compound (index of the compounds): red, plain, abandoned or unknown."""
    status = org.report.compounds
    out = pd.Series("unknown", index=street.compounds.index, dtype=object)
    if len(status) == 0:
        return out
    by = status.set_index("compound_id")
    ids = street.compounds["compound_id"].astype(str)
    known = ids.isin(by.index)
    red = ids.map(by["red"]).fillna(False).astype(bool)
    abandoned = ids.map(by["abandoned"]).fillna(False).astype(bool)
    out[known] = "plain"
    out[red] = "red"
    out[abandoned] = "abandoned"
    return out


def _compound_layer(street: Street, org: Organisation, lang: str,
                    coordinates: str) -> folium.FeatureGroup:  # fmt: skip
    c = street.compounds[["name", "geometry"]].copy()
    c["status"] = compound_status(street, org)
    c["tip"] = [
        html.escape(f"{n} · {COMPOUND_STYLE[s][2]}")
        for n, s in zip(c["name"].astype(str), c["status"], strict=True)
    ]
    c = _to_map_crs(c, coordinates)
    name = "compounds by red property" if lang == "en" else "小区红色物业"

    def style(f: dict[str, Any]) -> dict[str, Any]:
        colour, dash, _ = COMPOUND_STYLE[f["properties"]["status"]]
        return {"color": colour if colour != "#ffffff" else "#666666", "dashArray": dash,
                "weight": 2, "fillColor": colour, "fillOpacity": 0.25}  # fmt: skip

    return _geojson(c[["tip", "status", "geometry"]], name, style, ["tip"])


def _branch_layer(street: Street, grids: gpd.GeoDataFrame, org: Organisation, lang: str,
                  coordinates: str) -> folium.FeatureGroup:  # fmt: skip
    name = "party branches and groups" if lang == "en" else "党支部与楼栋党小组"
    group = folium.FeatureGroup(name=name, show=True)
    t = org.report.by_grid
    if "has_branch" in t.columns:
        with_branch = set(t.loc[t["has_branch"], "code"].astype(str))
        g = grids[grids["code"].astype(str).isin(with_branch)][["code", "geometry"]]
        pts = _to_map_crs(g.set_geometry(g.geometry.representative_point()), coordinates)
        names = t.set_index("code")["branch"]
        for code, p in zip(pts["code"].astype(str), pts.geometry, strict=True):
            folium.CircleMarker(
                (p.y, p.x), radius=7, color=BAD, fill=True, fill_opacity=0.9,
                tooltip=html.escape(str(names.get(code, ""))),
            ).add_to(group)  # fmt: skip
    party = org.registers.table("party")
    if party is not None:
        ids = set(party.loc[party["level"] == "group", "building_id"])
        b = street.buildings[street.buildings["building_id"].astype(str).isin(ids)]
        pts = _to_map_crs(b.set_geometry(b.geometry.representative_point()), coordinates)
        for bid, p in zip(pts["building_id"].astype(str), pts.geometry, strict=True):
            folium.CircleMarker(
                (p.y, p.x), radius=3, color=BAD, fill=True, fill_opacity=1.0, weight=1,
                tooltip=html.escape(f"{bid} 楼栋党小组"),
            ).add_to(group)  # fmt: skip
    return group


def add_organisation_layers(
    m: folium.Map,
    street: Street,
    grids: gpd.GeoDataFrame,
    org: Organisation,
    *,
    check: Check = "team_incomplete",
    lang: str = "zh",
    coordinates: Literal["wgs84", "gcj02"] = "wgs84",
) -> folium.Map:
    """Add the organisation's three overlay layers to ``m`` (a red map); returns ``m``.

    ``grids`` in the street's CRS with ``code``; ``check`` colours the grids.
    """
    _grid_layer(grids, org, check, lang, coordinates).add_to(m)
    if org.registers.table("property") is not None:
        _compound_layer(street, org, lang, coordinates).add_to(m)
    _branch_layer(street, grids, org, lang, coordinates).add_to(m)
    # the layer control names its layers by their script variables: it must come after
    # them in the page's script, or Leaflet meets undefined layers
    for key in [k for k, v in m._children.items() if isinstance(v, folium.LayerControl)]:
        m._children.move_to_end(key)
    return m
