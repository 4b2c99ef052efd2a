"""The city red map (``city_redmap.html``): streets shaded by coverage, drill-down, border gaps.

A standalone folium page (:func:`planner.maps.offline.standalone_html`, every script
inlined) in the red map's vocabulary (:mod:`planner.maps.style`: the boundary red, the
gaps' look, the circles' colours): each street is shaded by the share of its households
within ``gap_minutes`` (the 15-minute promise; darker red = fewer covered), its popup
links to the street's own ``streets/<code>/redmap.html``; every street's gaps are drawn,
and gaps that straddle a street border (a gap of one street within :data:`TOUCH_M` of a
gap of a neighbouring street) are outlined in red: they need two street offices to act.
"""

from __future__ import annotations

import html
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner._atomic import write_text
from planner.city.rollup import city_layers, street_table
from planner.city.source import CityInput
from planner.crs import WGS84, utm_crs_for
from planner.i18n import t
from planner.maps.offline import standalone_html
from planner.maps.style import CIRCLE_COLOURS, LOOKS, RED

__all__ = ["TOUCH_M", "border_gaps", "city_map", "shade", "write_city_map"]

#: Gaps of two streets closer than this (m) form one gap across their border.
TOUCH_M = 30.0


def shade(pct: float | None) -> str:
    """Fill colour of a street covering ``pct`` % of households: the circles' colours,
    lightest at 100 %, darker by quarters (None: no data, grey)."""
    if pct is None or not np.isfinite(pct):
        return "#dddddd"
    light_first = CIRCLE_COLOURS[::-1]
    return light_first[min(len(light_first) - 1, int((100.0 - float(pct)) / 25.0))]


def border_gaps(gaps: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The gaps (WGS84, with ``street_code``) within :data:`TOUCH_M` of another street's
    gap, with ``street_codes`` listing the streets they join (comma-separated)."""
    if gaps.empty:
        return gaps.assign(street_codes=pd.Series(dtype=str))
    c = shapely.union_all(gaps.geometry.to_numpy()).centroid
    local = gaps.to_crs(utm_crs_for(c.x, c.y))
    tree = shapely.STRtree(local.geometry.to_numpy())
    left, right = tree.query(local.geometry.to_numpy(), predicate="dwithin", distance=TOUCH_M)
    codes = local["street_code"].to_numpy()
    cross = codes[left] != codes[right]
    joined: dict[int, set[str]] = {}
    for i, j in zip(left[cross], right[cross], strict=True):
        joined.setdefault(int(i), {str(codes[i])}).add(str(codes[j]))
    keep = sorted(joined)
    out = gaps.iloc[keep].copy()
    out["street_codes"] = [",".join(sorted(joined[i])) for i in keep]
    return out


def city_map(city: CityInput, out: Path, *, minutes: float = 15.0, lang: str = "zh") -> folium.Map:
    """The city red map of the city output folder ``out`` (see the module docstring)."""
    streets_dir = out / "streets"
    table = street_table(city, streets_dir, {}).set_index("street_code")
    col = f"households_within_{minutes:g}_min_pct"
    layers = city_layers(city, streets_dir)
    streets = layers["streets"]
    b = streets.total_bounds
    m = folium.Map(tiles=None, control_scale=True)
    m.fit_bounds([[b[1], b[0]], [b[3], b[2]]])
    group = folium.FeatureGroup(name=t("city_layer_streets", lang, minutes=minutes)).add_to(m)
    for _, row in streets.iterrows():
        code = str(row["street_code"])
        pct = table[col].get(code) if col in table else None
        pct = None if pct is None or pd.isna(pct) else float(pct)
        text = t(
            "city_street_popup",
            lang,
            name=html.escape(str(row["name"])),
            code=html.escape(code),
            pct=t("city_no_data", lang) if pct is None else f"{pct:.1f}%",
            minutes=minutes,
        )
        look = {"color": RED, "weight": 2.5, "fillColor": shade(pct), "fillOpacity": 0.55}
        link = f"streets/{code}/redmap.html"
        if (streets_dir / code / "redmap.html").is_file():
            text += f'<br><a href="{html.escape(link)}" target="_blank">{t("city_open_street_map", lang)}</a>'
        shape = folium.GeoJson(
            gpd.GeoSeries([row.geometry], crs=WGS84).__geo_interface__,
            style_function=lambda _f, look=look: look,
            tooltip=html.escape(f"{row['name']} ({code})"),
        ).add_to(group)
        folium.Popup(text, max_width=320).add_to(shape)
    gaps = layers["gaps"]
    if not gaps.empty:
        gl = LOOKS["gaps"].leaflet()
        folium.GeoJson(
            gaps[["street_code", "geometry"]].__geo_interface__,
            name=t("layer_gaps", lang),
            style_function=lambda _f: gl,
        ).add_to(m)
        across = border_gaps(gaps)
        if not across.empty:
            across_group = folium.FeatureGroup(name=t("city_layer_border_gaps", lang)).add_to(m)
            for _, g in across.iterrows():
                gap = folium.GeoJson(
                    gpd.GeoSeries([g.geometry], crs=WGS84).__geo_interface__,
                    style_function=lambda _f: {"color": RED, "weight": 4, "fillOpacity": 0.1},
                ).add_to(across_group)
                folium.Popup(
                    t("city_border_gap_popup", lang, codes=html.escape(g["street_codes"])),
                    max_width=320,
                ).add_to(gap)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def write_city_map(city: CityInput, out: Path, *, minutes: float = 15.0, lang: str = "zh") -> Path:
    """Write ``out/city_redmap.html`` (standalone, atomic); return its path."""
    return write_text(
        out / "city_redmap.html", standalone_html(city_map(city, out, minutes=minutes, lang=lang))
    )
