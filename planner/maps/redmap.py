"""The red map (红色地图): a folium map of a street's party-building positions and coverage.

Used by the app, the command line (HTML file) and the notebook. Stations are drawn in
red with an icon per kind and a legend; service circles per threshold, grids with
their codes, coverage gaps and uncovered compounds are layers the user toggles in the
layer control; popups give names, households, walking time and the nearest station.

Every script, style and icon comes from the planner itself (:mod:`planner.maps.offline`);
station icons are inline SVG, so they need no icon font. Only basemap tiles come from
outside, and only when a basemap is chosen:

``none``
    no tiles (default; works offline).
``osm``
    OpenStreetMap standard tiles (WGS84 web mercator).
``tianditu``
    Tianditu vector map with labels; the service refuses requests without a user key
    (``tianditu_key``), so without one no tile layer is added and the map says so.
``amap``
    Amap (Gaode) road map. Amap tiles are drawn in GCJ-02, which is offset 100-700 m
    from WGS84 in China; every planner layer is shifted to GCJ-02 with
    :func:`planner.crs.from_wgs84` so layers and tiles line up.

Layers are simplified (a tolerance in metres, in the street's UTM CRS) and coordinates
rounded to 6 decimals (about 0.1 m) to keep the page light.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template
from pyproj import CRS

from planner.coverage.layers import CoverageLayers
from planner.crs import WGS84, from_wgs84
from planner.grids.codes import provisional_note
from planner.i18n import station_kind_label, t
from planner.maps import offline
from planner.maps.content import CutOff, MapContent, building_table, map_content
from planner.maps.style import (
    ALL_LAYERS,
    COMPLETENESS_BINS,
    CUT_OFF_COLOUR,
    CUT_OFF_RING,
    DEFAULT_LAYERS,
    LANDUSE_COLOURS,
    LANDUSE_OTHER,
    LOOKS,
    SITE_COLOUR,
    SITE_KIND,
    LayerKey,
    LegendEntry,
    Look,
    circle_label,
    circle_look,
    completeness_colour,
    completeness_look,
    css_rgba,
    landuse_look,
    layer_label,
    map_title,
    station_style,
)
from planner.street import Street, completeness_warning

logger = logging.getLogger(__name__)

__all__ = [
    "ALL_LAYERS",
    "BASEMAPS",
    "DEFAULT_LAYERS",
    "Basemap",
    "RedMap",
    "basemap_notice",
    "fit_zoom",
    "html_text",
    "red_map",
    "station_icon_svg",
]

Basemap = Literal["none", "osm", "tianditu", "amap"]
BASEMAPS: tuple[Basemap, ...] = ("none", "osm", "tianditu", "amap")

_TILES: dict[str, tuple[str, str, str]] = {
    "osm": (
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
        "",
    ),
    "tianditu_vec": (
        "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        "&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
        "&TILECOL={x}&tk=",
        "© 天地图 Tianditu",
        "01234567",
    ),
    "tianditu_cva": (
        "https://t{s}.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        "&LAYER=cva&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
        "&TILECOL={x}&tk=",
        "© 天地图 Tianditu",
        "01234567",
    ),
    "amap": (
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
        "&x={x}&y={y}&z={z}",
        "© 高德地图 AutoNavi",
        "1234",
    ),
}

# ---------------------------------------------------------------------------------------
# Escaping: every string from the data passes through html_text before it reaches HTML

_HTML_TEXT = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&#x27;",
        "`": "&#96;",
        "$": "&#36;",
        "\\": "&#92;",
    }
)


def html_text(value: object) -> str:
    """``value`` as text safe in HTML content, attributes and folium's JS templates.

    Escapes ``& < > " '`` (HTML) and also the backtick, ``$`` and the backslash:
    folium puts popup and tooltip HTML inside JavaScript template literals
    (`` `...` ``), where a backtick would end the literal, ``${...}`` would run as
    code and a backslash would start an escape. The browser shows the text as it was.

    >>> html_text('<img src=x onerror=alert(1)> `${a}` \\\\')
    '&lt;img src=x onerror=alert(1)&gt; &#96;&#36;{a}&#96; &#92;'
    """
    return str(value).translate(_HTML_TEXT)


# ---------------------------------------------------------------------------------------
# The map frame


class RedMap(folium.Map):
    """A folium map that shows itself in Jupyter with every asset inlined.

    The app and the command line use it like any :class:`folium.Map`; in a notebook its
    display (``_repr_html_``) is :func:`planner.maps.offline.notebook_html`, because the app's
    asset URLs (``/app/static/...``) do not exist outside the app.
    """

    def _repr_html_(self, **kwargs: Any) -> str:
        return offline.notebook_html(self)


def fit_zoom(bounds: tuple[float, float, float, float], *, width_px: int, height_px: int) -> int:
    """The largest web-map zoom level at which ``bounds`` (lon/lat degrees) fit the frame."""
    x0, y0, x1, y1 = bounds
    lat = np.radians((y0 + y1) / 2)
    metres_per_px_z0 = 156_543.03 * np.cos(lat)
    dx = max((x1 - x0) * 111_320 * np.cos(lat), 1.0)
    dy = max((y1 - y0) * 110_574, 1.0)
    z = min(np.log2(width_px * metres_per_px_z0 / dx), np.log2(height_px * metres_per_px_z0 / dy))
    return int(np.clip(np.floor(z), 1, 19))


def basemap_notice(basemap: str, *, tianditu_key: str = "", lang: str = "zh") -> str | None:
    """What the user must know about a basemap choice (``None`` when nothing).

    Tianditu without a key: no tiles are requested (the service refuses them). Amap:
    the layers are shifted to GCJ-02. Any basemap: tiles are fetched from the internet.
    """
    if basemap == "tianditu" and not tianditu_key.strip():
        return t("tianditu_no_key", lang)
    if basemap == "amap":
        return t("amap_note", lang) + " " + t("online_note", lang)
    if basemap in ("osm", "tianditu"):
        return t("online_note", lang)
    return None


def _new_map(street: Street, basemap: str, tianditu_key: str, height: str) -> RedMap:
    """The empty map, centred and zoomed on the street, with the basemap and the CSS."""
    m = RedMap(
        tiles=None, control_scale=False, prefer_canvas=False, zoom_control=True, height=height
    )
    _MetricScale().add_to(m)  # metres only: no feet or miles on a Chinese map
    if len(street.boundary):
        x0, y0, x1, y1 = (float(v) for v in street.boundary.to_crs(WGS84).total_bounds)
        if basemap == "amap":
            (x0, x1), (y0, y1) = from_wgs84([x0, x1], [y0, y1], "gcj02")
            x0, x1, y0, y1 = float(x0), float(x1), float(y0), float(y1)
        m.location = [(y0 + y1) / 2, (x0 + x1) / 2]
        # a zoom that fits the street in a ~650 x 550 px frame (Leaflet's fitBounds runs
        # before the app's map frame has its final size, and zooms in too far)
        m.options["zoom"] = fit_zoom((x0, y0, x1, y1), width_px=650, height_px=550)
    _add_basemap(m, basemap, tianditu_key)
    _Css().add_to(m)
    return m


def _add_basemap(m: folium.Map, basemap: str, tianditu_key: str) -> None:
    if basemap == "osm":
        url, attr, _ = _TILES["osm"]
        folium.TileLayer(url, attr=attr, name="OpenStreetMap", max_zoom=19, control=False).add_to(m)
    elif basemap == "tianditu" and tianditu_key.strip():
        key = tianditu_key.strip()
        for part in ("tianditu_vec", "tianditu_cva"):
            url, attr, subs = _TILES[part]
            folium.TileLayer(
                url + key, attr=attr, name=part, subdomains=subs, max_zoom=18, control=False
            ).add_to(m)
    elif basemap == "amap":
        url, attr, subs = _TILES["amap"]
        folium.TileLayer(
            url, attr=attr, name="Amap", subdomains=subs, max_zoom=18, control=False
        ).add_to(m)
    elif basemap not in BASEMAPS:
        raise ValueError(f"basemap must be one of {BASEMAPS}, got {basemap!r}")


# ---------------------------------------------------------------------------------------
# Features to GeoJSON


@dataclass
class _Ctx:
    """What every layer drawer needs: the map, the language and the drawing options."""

    m: folium.Map
    lang: str
    basemap: str
    crs: CRS
    simplify_m: float
    shown: frozenset[str]
    max_buildings: int = 3000
    highlight_grids: frozenset[str] = frozenset()
    highlight_atoms: frozenset[str] = frozenset()

    def group(self, key: str, label: str) -> folium.FeatureGroup:
        """A new layer in the layer control, shown at start when ``key`` is shown."""
        fg = folium.FeatureGroup(name=label, show=key in self.shown, overlay=True, control=True)
        fg.add_to(self.m)
        return fg


def _to_map(
    gdf: gpd.GeoDataFrame, ctx: _Ctx, *, simplify_m: float | None = None
) -> gpd.GeoDataFrame:
    """Simplify (metres, projected CRS), reproject to WGS84, shift for Amap, round to 1e-6°."""
    if gdf.crs is None:
        gdf = gdf.set_crs(ctx.crs)
    tol = ctx.simplify_m if simplify_m is None else simplify_m
    geom = gdf.geometry
    if tol > 0 and not gdf.crs.is_geographic:
        geom = geom.simplify(tol, preserve_topology=True)
    geom = gpd.GeoSeries(geom, crs=gdf.crs).to_crs(WGS84)

    def shift(coords: np.ndarray) -> np.ndarray:
        if ctx.basemap == "amap":
            lon, lat = from_wgs84(coords[:, 0], coords[:, 1], "gcj02")
            coords = np.column_stack([lon, lat])
        return np.round(coords, 6)

    arr = shapely.transform(np.asarray(geom.values), shift)
    out = gpd.GeoDataFrame(gdf.drop(columns=gdf.geometry.name), geometry=list(arr), crs=WGS84)
    return out[~out.geometry.is_empty & out.geometry.notna()]


def _property_values(col: pd.Series) -> list[Any]:
    """JSON-ready values of one column: numbers as numbers, text HTML-escaped."""
    if pd.api.types.is_bool_dtype(col):
        return [bool(v) for v in col]
    if pd.api.types.is_numeric_dtype(col):
        arr = col.to_numpy(dtype="float64")
        is_int = pd.api.types.is_integer_dtype(col)
        return [
            None if not np.isfinite(v) else (int(v) if is_int else round(float(v), 1)) for v in arr
        ]
    # tooltips and popups put property values into innerHTML: escape every text
    return [
        "" if v is None or (isinstance(v, float) and np.isnan(v)) else html_text(v) for v in col
    ]


def _feature_collection(gdf: gpd.GeoDataFrame, columns: Iterable[str]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of ``gdf`` with ``columns`` as properties.

    Text properties are HTML-escaped (:func:`html_text`): folium's GeoJSON tooltips
    and popups write property values as HTML.
    """
    cols = [c for c in columns if c in gdf.columns]
    geoms = shapely.to_geojson(np.asarray(gdf.geometry.values))
    values = {c: _property_values(gdf[c]) for c in cols}
    records = [{c: values[c][i] for c in cols} for i in range(len(gdf))]
    parts = [
        '{"type":"Feature","geometry":'
        + g
        + ',"properties":'
        + json.dumps(rec, ensure_ascii=False)
        + "}"
        for g, rec in zip(geoms, records, strict=True)
        if g is not None
    ]
    data: dict[str, Any] = json.loads(
        '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"
    )
    return data


class _Style:
    """A constant folium style function that can be pickled (cached maps are pickled)."""

    def __init__(self, style: Mapping[str, Any]) -> None:
        self.style = dict(style)

    def __call__(self, _feature: Any) -> dict[str, Any]:
        return self.style


def _add_geojson(
    group: folium.FeatureGroup,
    gdf: gpd.GeoDataFrame | None,
    ctx: _Ctx,
    look: Look,
    *,
    fields: Mapping[str, str] | None = None,
    popup: bool = False,
    simplify_m: float | None = None,
    interactive: bool = True,
) -> None:
    """Draw ``gdf`` in ``look``; ``fields`` (column -> label) as tooltip or popup.

    ``interactive=False`` draws shapes that never take the pointer (no tooltip): what
    lies below (a compound's or building's popup) stays reachable through them.
    """
    if gdf is None or len(gdf) == 0:
        return
    mapped = _to_map(gdf, ctx, simplify_m=simplify_m)
    shown = {k: v for k, v in (fields or {}).items() if k in mapped.columns}
    data = _feature_collection(mapped, shown)
    kwargs: dict[str, Any] = {}
    if not interactive:
        kwargs["interactive"] = False
    elif shown:
        detail = folium.GeoJsonPopup if popup else folium.GeoJsonTooltip
        kwargs["popup" if popup else "tooltip"] = detail(
            fields=list(shown), aliases=list(shown.values()), localize=True, labels=True
        )
    folium.GeoJson(
        data, name="", style_function=_Style(look.leaflet()), smooth_factor=1.0, **kwargs
    ).add_to(group)


def _lines_by(lines: gpd.GeoDataFrame, column: str | None) -> gpd.GeoDataFrame:
    """Lines gathered into one MultiLineString per value of ``column`` (all in one if None)."""
    if len(lines) == 0:
        return lines
    parts = lines.explode(index_parts=False)
    parts = parts[parts.geometry.geom_type == "LineString"]
    keys = parts[column].astype(str).to_numpy() if column else np.zeros(len(parts), dtype=object)
    uniq, inv = np.unique(keys.astype(str), return_inverse=True)
    order = np.argsort(inv, kind="stable")
    geoms = shapely.multilinestrings(np.asarray(parts.geometry.values)[order], indices=inv[order])
    data = {column: uniq} if column else {}
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=lines.crs)


# ---------------------------------------------------------------------------------------
# Station symbols


def station_icon_svg(
    kind: str, *, lang: str = "zh", size: int = 30, colour: str | None = None
) -> str:
    """Inline SVG of the icon for a station ``kind`` (also used in the legend), in its
    kind group's colour unless ``colour`` is given."""
    style = station_style(kind)
    colour = colour or style.colour
    s = size
    stroke = 'stroke="#fff" stroke-width="1.5"'
    if style.shape == "star":
        a = np.pi / 2 + np.arange(10) * np.pi / 5
        r = np.where(np.arange(10) % 2 == 0, s * 0.5, s * 0.24)
        pts = " ".join(
            f"{x:.1f},{y:.1f}"
            for x, y in zip(s / 2 + r * np.cos(a), s / 2 - r * np.sin(a), strict=True)
        )
        body = f'<polygon points="{pts}" fill="{colour}" {stroke}/>'
        fy, fs = s * 0.62, s * 0.3
    elif style.shape == "pin":
        body = (
            f'<path d="M{s / 2},{s - 1} C{s * 0.2},{s * 0.62} {s * 0.08},{s * 0.48} {s * 0.08},{s * 0.38}'
            f" A{s * 0.42},{s * 0.38} 0 1 1 {s * 0.92},{s * 0.38}"
            f' C{s * 0.92},{s * 0.48} {s * 0.8},{s * 0.62} {s / 2},{s - 1} Z" fill="{colour}"'
            f" {stroke}/>"
        )
        fy, fs = s * 0.5, s * 0.4
    elif style.shape == "square":
        body = (
            f'<rect x="2" y="2" width="{s - 4}" height="{s - 4}" rx="4" fill="{colour}" {stroke}/>'
        )
        fy, fs = s * 0.66, s * 0.45
    else:
        body = f'<circle cx="{s / 2}" cy="{s / 2}" r="{s / 2 - 2}" fill="{colour}" {stroke}/>'
        fy, fs = s * 0.66, s * 0.45
    text = (
        f'<text x="{s / 2}" y="{fy:.1f}" font-size="{fs:.0f}" fill="#fff" text-anchor="middle"'
        ' font-family="Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif"'
        f' font-weight="bold">{html_text(style.glyph(lang))}</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{s}" height="{s}" viewBox="0 0 {s} {s}">'
        f"{body}{text}</svg>"
    )


def _icon(kind: str, ctx: _Ctx, *, colour: str | None = None, ring: bool = False) -> folium.DivIcon:
    """The station symbol of ``kind`` (in ``colour``, default its group's colour);
    ``ring`` adds the dashed ring of a station cut off from the main walking network
    (:data:`CUT_OFF_RING`)."""
    style = station_style(kind)
    size = style.size_px
    anchor = (size // 2, size - 1) if style.shape == "pin" else (size // 2, size // 2)
    svg = station_icon_svg(kind, lang=ctx.lang, size=size, colour=colour)
    if ring:
        ring_colour, dash = CUT_OFF_RING
        circle = (
            f'<circle cx="{size / 2}" cy="{size / 2}" r="{size / 2 - 1}" fill="none" '
            f'stroke="{ring_colour}" stroke-width="2" '
            f'stroke-dasharray="{" ".join(f"{d:g}" for d in dash)}"/>'
        )
        svg = svg.replace("</svg>", f"{circle}</svg>")
    return folium.DivIcon(
        html=svg,
        icon_size=(size, size),
        icon_anchor=anchor,
        class_name="rm-icon",
    )


# ---------------------------------------------------------------------------------------
# Legend, title, north arrow, attribution


def _js_string(text: str) -> str:
    """A JavaScript string literal keeping CJK characters readable (``</`` escaped)."""
    return json.dumps(text, ensure_ascii=False).replace("</", "<\\/")


class _Control(MacroElement):
    """A fixed HTML box (legend, title, north arrow) added as a Leaflet control."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var ctl = L.control({position: {{ this.position|tojson }}});
            ctl.onAdd = function() {
                var div = L.DomUtil.create('div', {{ this.css_class|tojson }});
                div.innerHTML = {{ this.inner_js }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            ctl.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, inner: str, *, position: str, css_class: str) -> None:
        super().__init__()
        self._name = "PlannerControl"
        self.inner_js = _js_string(inner)
        self.position = position
        self.css_class = css_class


class _Attribution(MacroElement):
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text_js }});
        {% endmacro %}
        """
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "PlannerAttribution"
        self.text_js = _js_string(text)


def _swatch_html(look: Look) -> str:
    """A legend swatch: the fill at its opacity inside the line (dashed when dashed);
    a line alone (no fill) is drawn as a short line."""
    width = min(look.weight_px, 3.0)
    border = f"{width:g}px {'dashed' if look.dash_px else 'solid'}"
    bg = "transparent" if look.fill is None else css_rgba(look.fill, look.fill_opacity)
    line = "" if look.fill is not None else f";border-width:{width:g}px 0 0 0;height:0"
    return (
        f'<i class="rm-sw" style="background:{bg};'
        f'border:{border} {css_rgba(look.colour, look.opacity)}{line}"></i>'
    )


def _legend_row(entry: LegendEntry, lang: str) -> str:
    if entry.kind is not None:
        mark = station_icon_svg(entry.kind, lang=lang, size=18, colour=entry.symbol_colour)
    else:
        assert entry.look is not None
        mark = _swatch_html(entry.look)
    return (
        f'<div class="rm-row" data-layer="{entry.layer}">{mark}'
        f"<span>{html_text(entry.label)}</span></div>"
    )


def _legend_html(entries: Iterable[LegendEntry], *, lang: str, open_: bool) -> str:
    """The legend as a ``<details>`` box: open by default, folds away with one click."""
    rows = "".join(_legend_row(e, lang) for e in entries)
    return (
        f"<details{' open' if open_ else ''}><summary><b>{html_text(t('legend', lang))}</b>"
        f'</summary><div class="rm-rows">{rows}</div></details>'
    )


def _notes_html(
    street: Street,
    ctx: _Ctx,
    walk_speed_kmh: float,
    tianditu_key: str,
    grids: gpd.GeoDataFrame | None = None,
) -> str:
    """The notes under the legend (always visible): walking speed, synthetic data,
    provisional grid codes, where the households come from (with the warning when most
    are guessed), tiles."""
    notes = [
        f'<div class="rm-note">{html_text(t("walk_note", ctx.lang, speed=walk_speed_kmh))}</div>'
    ]
    warnings = [t("synthetic_note", ctx.lang)] if street.synthetic else []
    warnings += [w for w in (provisional_note(grids, ctx.lang),) if w]
    for text in warnings:
        notes.append(f'<div class="rm-note" style="color:#c8161d"><b>{html_text(text)}</b></div>')
    c = street.report.completeness
    if c is not None:
        if c.warning:
            notes.append(
                '<div class="rm-note rm-completeness" style="color:#c8161d">'
                f"<b>{html_text(completeness_warning(c, ctx.lang))}</b></div>"
            )
        notes.append(f'<div class="rm-note">{html_text(c.short(ctx.lang))}</div>')
    notice = basemap_notice(ctx.basemap, tianditu_key=tianditu_key, lang=ctx.lang)
    if ctx.basemap == "tianditu" and notice:
        notes.append(f'<div class="rm-note">{html_text(notice)}</div>')
    return "".join(notes)


def _add_frame(
    ctx: _Ctx,
    content: MapContent,
    *,
    title: str | None,
    notes: str,
    legend_open: bool,
) -> None:
    """Legend with notes (bottom right), title (top right), north (top left), credit.

    The panels take no pointer (CSS ``pointer-events:none``): a click or hover on a
    grid, compound or building under them reaches the map; only the legend's title
    (its fold/unfold switch) takes clicks.
    """
    street = content.street
    legend = _legend_html(content.legend(ctx.lang), lang=ctx.lang, open_=legend_open)
    _Control(legend + notes, position="bottomright", css_class="rm-legend").add_to(ctx.m)
    heading = title if title is not None else map_title(street.name or "", ctx.lang)
    _Control(html_text(heading), position="topright", css_class="rm-title").add_to(ctx.m)
    north = f"▲<br>{html_text(t('north', ctx.lang))}"
    _Control(north, position="topleft", css_class="rm-north").add_to(ctx.m)
    if street.attribution:
        _Attribution(html_text(street.attribution)).add_to(ctx.m)


_CSS = """
<style>
.rm-legend{background:rgba(255,255,255,.93);padding:6px 9px;border-radius:6px;
 font:12px/1.35 'Noto Sans CJK SC','Microsoft YaHei','PingFang SC',sans-serif;
 box-shadow:0 1px 4px rgba(0,0,0,.3);max-width:330px}
.rm-legend .rm-rows{display:grid;grid-template-columns:auto auto;column-gap:10px}
.rm-legend .rm-row{display:flex;align-items:center;gap:6px;margin:2px 0}
.rm-legend .rm-sw{display:inline-block;width:16px;height:12px;flex:none;box-sizing:border-box}
.rm-legend .rm-note{color:#555;margin-top:4px;font-size:11px}
.rm-legend summary{cursor:pointer}
.leaflet-control.rm-legend,.leaflet-control.rm-title,.leaflet-control.rm-north{pointer-events:none}
.leaflet-control.rm-legend summary{pointer-events:auto}
.rm-title{background:rgba(255,255,255,.93);padding:4px 10px;border-radius:6px;
 font:bold 15px 'Noto Sans CJK SC','Microsoft YaHei',sans-serif;color:#c8161d;
 box-shadow:0 1px 4px rgba(0,0,0,.3)}
.rm-north{background:rgba(255,255,255,.9);border-radius:4px;padding:2px 6px;
 font:bold 13px sans-serif;text-align:center;box-shadow:0 1px 4px rgba(0,0,0,.3)}
.rm-grid-label{font:11px 'Noto Sans CJK SC',sans-serif;color:#1f4e9c;font-weight:bold;
 text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff;white-space:nowrap}
.rm-icon{background:none;border:none}
.rm-community-label{font:bold 13px 'Noto Sans CJK SC',sans-serif;color:#7a1f1f;
text-align:center;white-space:nowrap;text-shadow:0 0 3px #fff,0 0 3px #fff;pointer-events:none}
.rm-station-label{font:11px 'Noto Sans CJK SC',sans-serif;color:#c8161d;text-align:center;
white-space:nowrap;text-shadow:0 0 2px #fff,0 0 2px #fff;pointer-events:none}
.leaflet-control-attribution{font-size:10px;max-width:60%}
</style>
"""


class _Css(MacroElement):
    _template = Template("{% macro header(this, kwargs) %}" + _CSS + "{% endmacro %}")

    def __init__(self) -> None:
        super().__init__()
        self._name = "PlannerCss"


class _MetricScale(MacroElement):
    """Leaflet's scale bar in metres and kilometres only."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "L.control.scale({metric: true, imperial: false})"
        ".addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "MetricScale"


#: The Leaflet.draw words the line tool shows (``L.drawLocal``), by language.
DRAW_WORDS: dict[str, dict[str, Any]] = {
    "zh": {
        "draw": {
            "toolbar": {
                "actions": {"title": "取消画线", "text": "取消"},
                "finish": {"title": "完成画线", "text": "完成"},
                "undo": {"title": "删除最后画的点", "text": "删除最后一点"},
                "buttons": {"polyline": "画线（按线拆分网格）"},
            },
            "handlers": {
                "polyline": {
                    "error": "<strong>错误：</strong>线不能自相交！",
                    "tooltip": {
                        "start": "点击开始画线",
                        "cont": "点击继续画线",
                        "end": "点击最后一点结束画线",
                    },
                }
            },
        },
        "edit": {
            "toolbar": {
                "actions": {
                    "save": {"title": "保存更改", "text": "保存"},
                    "cancel": {"title": "取消编辑，放弃所有更改", "text": "取消"},
                    "clearAll": {"title": "删除所有画线", "text": "全部删除"},
                },
                "buttons": {
                    "remove": "删除画线",
                    "removeDisabled": "没有可删除的画线",
                },
            },
            "handlers": {"remove": {"tooltip": {"text": "点击要删除的画线"}}},
        },
    },
}


class _DrawWords(MacroElement):
    """Sets Leaflet.draw's words (``L.drawLocal``) before the draw control is made."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "(function (dst, src) {"
        " function merge(d, s) { for (const k in s) {"
        "  if (typeof s[k] === 'object') { d[k] = d[k] || {}; merge(d[k], s[k]); }"
        "  else { d[k] = s[k]; } } }"
        " merge(dst, src); })(L.drawLocal, {{ this.words | tojson }});"
        "{% endmacro %}"
    )

    def __init__(self, words: dict[str, Any]) -> None:
        super().__init__()
        self._name = "DrawWords"
        self.words = words


# ---------------------------------------------------------------------------------------
# One drawer per layer: (content, ctx) -> features added to the map


def _place_fields(lang: str) -> dict[str, str]:
    """Popup of a compound or building: who lives there and how far the walk is."""
    return {
        "name": t("name", lang),
        "households": t("households", lang),
        "time_min": t("walk_time", lang),
        "nearest_station": t("nearest_station", lang),
    }


def _draw_landuse(c: MapContent, ctx: _Ctx) -> None:
    lu = c.street.landuse
    colours = lu["kind"].map(LANDUSE_COLOURS).fillna(LANDUSE_OTHER)
    fg = ctx.group("landuse", layer_label("landuse", ctx.lang))
    fields = {"name": t("name", ctx.lang), "kind": t("kind", ctx.lang)}
    for colour in sorted(set(colours)):
        _add_geojson(fg, lu[colours == colour], ctx, landuse_look(colour), fields=fields)


def _draw_communities(c: MapContent, ctx: _Ctx) -> None:
    """Communities with their names written on the map."""
    fields = {"name": t("community", ctx.lang), "code": t("code", ctx.lang)}
    fg = ctx.group("communities", layer_label("communities", ctx.lang))
    comm = c.street.communities
    _add_geojson(fg, comm, ctx, LOOKS["communities"], fields=fields)
    if len(comm):
        pts = gpd.GeoDataFrame(
            {"name": comm["name"].astype(str).to_numpy()},
            geometry=shapely.point_on_surface(np.asarray(comm.geometry.values)),
            crs=comm.crs,
        )
        pts = _to_map(pts, ctx, simplify_m=0)
        _text_labels(fg, pts.geometry, pts["name"], "rm-community-label", width=120, dy=-16)


def _draw_circles(c: MapContent, ctx: _Ctx) -> None:
    """One layer per threshold, the largest first (drawn below the nearer ones)."""
    if c.circles is None:
        return
    for rank in reversed(range(len(c.thresholds))):
        minutes = c.thresholds[rank]
        part = c.circles[c.circles["threshold_min"] == minutes]
        fg = ctx.group("circles", circle_label(minutes, ctx.lang))
        simplify = max(ctx.simplify_m, 3.0)
        _add_geojson(fg, part, ctx, circle_look(rank), simplify_m=simplify)


def _draw_gaps(c: MapContent, ctx: _Ctx) -> None:
    if c.gaps is None:
        return
    fg = ctx.group("gaps", layer_label("gaps", ctx.lang))
    fields = {"households": t("households", ctx.lang)}
    simplify = max(ctx.simplify_m, 3.0)
    _add_geojson(fg, c.gaps, ctx, LOOKS["gaps"], fields=fields, simplify_m=simplify)


def _draw_compounds(c: MapContent, ctx: _Ctx) -> None:
    fg = ctx.group("compounds", layer_label("compounds", ctx.lang))
    fields = _place_fields(ctx.lang)
    _add_geojson(fg, c.compounds, ctx, LOOKS["compounds"], fields=fields, popup=True)


def _draw_uncovered(c: MapContent, ctx: _Ctx) -> None:
    if c.uncovered is None:
        return
    fg = ctx.group("uncovered", layer_label("uncovered", ctx.lang))
    fields = _place_fields(ctx.lang)
    _add_geojson(fg, c.uncovered, ctx, LOOKS["uncovered"], fields=fields, popup=True)


def _draw_completeness(c: MapContent, ctx: _Ctx) -> None:
    """Buildings coloured by the service kinds they miss (off when the map opens)."""
    b = c.completeness
    if b is None:
        return
    if len(b) > ctx.max_buildings:
        b = b.nlargest(ctx.max_buildings, "households")
    fg = ctx.group("completeness", layer_label("completeness", ctx.lang))
    fields = {
        "name": t("name", ctx.lang),
        "households": t("households", ctx.lang),
        "missing_kinds": t("missing_kinds", ctx.lang),
        "missing": t("missing_list", ctx.lang),
        "m2_per_100_households": t("m2_per_100_households", ctx.lang),
    }
    colours = b["missing_kinds"].map(completeness_colour)
    for colour in dict.fromkeys(colour for _most, colour in COMPLETENESS_BINS):
        part = b[colours == colour]
        _add_geojson(fg, part, ctx, completeness_look(colour), fields=fields, simplify_m=0.5)


def _draw_buildings(c: MapContent, ctx: _Ctx) -> None:
    """At most ``max_buildings`` buildings (the most populous) keep the page light."""
    b = building_table(c.street, c.coverage)
    if len(b) > ctx.max_buildings:
        logger.info("drawing the %d most populous of %d buildings", ctx.max_buildings, len(b))
        b = b.nlargest(ctx.max_buildings, "households")
    fg = ctx.group("buildings", layer_label("buildings", ctx.lang))
    fields = _place_fields(ctx.lang)
    _add_geojson(fg, b, ctx, LOOKS["buildings"], fields=fields, popup=True, simplify_m=0.5)


def _draw_roads(c: MapContent, ctx: _Ctx) -> None:
    """Few features draw fast: one multi-line for all minor roads, one per major road."""
    fg = ctx.group("roads", layer_label("roads", ctx.lang))
    _add_geojson(fg, _lines_by(c.minor_roads, None), ctx, LOOKS["roads_minor"])
    fields = {"name": t("name", ctx.lang)}
    _add_geojson(fg, _lines_by(c.major_roads, "name"), ctx, LOOKS["roads_major"], fields=fields)


def _draw_barriers(c: MapContent, ctx: _Ctx) -> None:
    fg = ctx.group("barriers", layer_label("barriers", ctx.lang))
    fields = {"name": t("name", ctx.lang)}
    _add_geojson(fg, c.rivers, ctx, LOOKS["rivers"], fields=fields)
    _add_geojson(fg, c.railways, ctx, LOOKS["railways"], fields=fields)


def _draw_grids(c: MapContent, ctx: _Ctx) -> None:
    """Grids with their short labels; the highlighted ones (grid editor) in yellow.

    On the red map (no atoms drawn) the grids never take the pointer, so hovering a
    building or compound shows its popup with the grids on; their short labels are
    drawn on the map. In the grid editor a grid's tooltip names its short label,
    community and households.
    """
    if c.grids is None:
        return
    fg = ctx.group("grids", layer_label("grids", ctx.lang))
    g = c.grids.copy()
    g["label"] = _short_labels(g)
    if "community" not in g.columns and "community_id" in g.columns:
        names = c.street.communities.set_index("community_id")["name"].astype(str)
        g["community"] = g["community_id"].map(names).fillna(g["community_id"])
    fields = {
        "label": t("grid", ctx.lang),
        "community": t("community", ctx.lang),
        "households": t("households", ctx.lang),
        "code": t("code", ctx.lang),
    }
    editing = c.atoms is not None
    selected = g["grid_id"].astype(str).isin(ctx.highlight_grids)
    for part, look in ((g[~selected], LOOKS["grids"]), (g[selected], LOOKS["grids_selected"])):
        _add_geojson(fg, part, ctx, look, fields=fields, interactive=editing)
    _grid_labels(fg, g, ctx)


def _short_labels(grids: gpd.GeoDataFrame) -> pd.Series:
    """A grid's short label: community code + sequence (the code's last 5 digits)."""
    column = "code" if "code" in grids.columns else "grid_id"
    labels: pd.Series = grids[column].astype(str)
    return labels.str[-5:] if column == "code" else labels


def _grid_labels(fg: folium.FeatureGroup, grids: gpd.GeoDataFrame, ctx: _Ctx) -> None:
    """Short grid labels (community code + sequence: the code's last 5 digits) at each grid."""
    pts = grids.copy()
    pts["geometry"] = shapely.point_on_surface(np.asarray(grids.geometry.values))
    pts = _to_map(gpd.GeoDataFrame(pts, geometry="geometry", crs=grids.crs), ctx, simplify_m=0)
    _text_labels(fg, pts.geometry, _short_labels(pts), "rm-grid-label", width=44)


def _text_labels(
    fg: folium.FeatureGroup, points: Any, texts: Any, css: str, *, width: int, dy: int = 0
) -> None:
    """Text at points (map coordinates) that never takes the pointer; ``dy`` pixels
    below the point (a name under a station symbol). One element draws the whole set."""
    rows = [
        [round(float(g.y), 7), round(float(g.x), 7), html_text(str(x))]
        for g, x in zip(points, texts, strict=True)
        if str(x)
    ]
    if rows:
        fg.add_child(_TextLabels(rows, css, width=width, dy=dy))


def _script_json(value: Any) -> str:
    """``value`` as JSON safe inside an inline script and inside the Jinja template
    branca makes of every rendered script: ``<``, ``>``, ``&``, braces and ``%`` as
    ``\\u`` escapes (the browser's JSON reads them back as the same characters)."""
    text = json.dumps(value, ensure_ascii=False)
    for ch in "<>&{}%":
        text = text.replace(ch, f"\\u{ord(ch):04x}")
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


class _TextLabels(MacroElement):
    """Texts written on the map at points, never taking the pointer: one script makes a
    non-interactive marker with a ``div`` per row of a JSON list (each text HTML-escaped
    in Python, as every data text on the map), instead of a folium marker and icon per label (two
    elements each to build and render: the labels were most of a red map's elements)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
(function(){ /* rm-text-labels {{ this.css }} */
  var rows = {{ this.rows }};
  var group = {{ this._parent.get_name() }};
  rows.forEach(function(r){
    var div = document.createElement('div');
    div.className = '{{ this.css }}';
    div.innerHTML = r[2];
    L.marker([r[0], r[1]], {interactive: false, keyboard: false, icon: L.divIcon({
      html: div, className: 'rm-icon', iconSize: [{{ this.width }}, 14],
      iconAnchor: [{{ this.anchor_x }}, {{ this.anchor_y }}]})}).addTo(group);
  });
})();
{% endmacro %}"""
    )

    def __init__(self, rows: list[list[Any]], css: str, *, width: int, dy: int) -> None:
        super().__init__()
        self._name = "TextLabels"
        self.rows = _script_json(rows)
        self.css = css  # one of the fixed class names above, never data
        self.width = int(width)
        self.anchor_x = int(width) // 2
        self.anchor_y = 7 - int(dy)


def _draw_atoms(c: MapContent, ctx: _Ctx) -> None:
    """Grid atoms of the editor; the selected ones in yellow."""
    if c.atoms is None:
        return
    fg = ctx.group("atoms", layer_label("atoms", ctx.lang))
    a = c.atoms
    selected = a["atom_id"].astype(str).isin(ctx.highlight_atoms)
    fields = {
        "atom_id": t("atom", ctx.lang),
        "grid_id": t("grid", ctx.lang),
        "households": t("households", ctx.lang),
    }
    _add_geojson(fg, a[~selected], ctx, LOOKS["atoms"], fields=fields)
    _add_geojson(fg, a[selected], ctx, LOOKS["atoms_selected"], fields=fields)


def _draw_boundary(c: MapContent, ctx: _Ctx) -> None:
    fg = ctx.group("boundary", layer_label("boundary", ctx.lang))
    _add_geojson(fg, c.street.boundary, ctx, LOOKS["boundary"])


def _draw_stations(c: MapContent, ctx: _Ctx) -> None:
    """A red symbol per station; tooltip its name, popup its kind, area, hours, households."""
    fg = ctx.group("stations", layer_label("stations", ctx.lang))
    mapped = _to_map(c.street.stations, ctx, simplify_m=0)
    for row in mapped.itertuples(index=False):
        kind = str(row.kind)
        cut = c.cut_off_stations.get(str(row.station_id))
        tip = html_text(row.name)
        if cut is not None:
            tip = f"{tip}<br>{html_text(_cut_off_text(cut, ctx.lang))}"
        folium.Marker(
            [row.geometry.y, row.geometry.x],
            icon=_icon(kind, ctx, colour=CUT_OFF_COLOUR, ring=True)
            if cut is not None
            else _icon(kind, ctx),
            tooltip=tip,
            popup=folium.Popup(
                _station_popup(row, ctx.lang, c.station_households, cut), max_width=260
            ),
        ).add_to(fg)
    inside = mapped[mapped["in_street"].astype(bool)] if "in_street" in mapped else mapped
    _text_labels(fg, inside.geometry, inside["name"], "rm-station-label", width=120, dy=14)


def _cut_off_text(cut: CutOff, lang: str) -> str:
    """The words for a station cut off from the main walking network."""
    return t("cut_off_station", lang, nodes=cut.nodes, dist_m=f"{cut.main_m:,.0f}")


def _station_popup(
    row: Any, lang: str, served: Mapping[str, int], cut: CutOff | None = None
) -> str:
    """Popup HTML of one station row (every data text escaped)."""
    parts = [f"<b>{html_text(str(row.name) or str(row.station_id))}</b>"]
    if cut is not None:
        parts.append(f'<span class="rm-cut-off">{html_text(_cut_off_text(cut, lang))}</span>')
    label = station_kind_label(str(row.kind), lang)
    text = str(getattr(row, "kind_text", "") or "")
    if row.kind == "other" and text:  # a kind outside the catalogue: the register's words
        label = f"{label} ({text})"
    parts.append(f"{html_text(t('kind', lang))}: {html_text(label)}")
    area = row.floor_area_m2
    if area is not None and not pd.isna(area):
        parts.append(f"{html_text(t('floor_area', lang))}: {float(area):,.0f}")
    hours = str(row.opening_hours or "")
    if hours:
        parts.append(f"{html_text(t('opening_hours', lang))}: {html_text(hours)}")
    households = served.get(str(row.station_id))
    if households is not None:
        parts.append(f"{html_text(t('households', lang))}: {households:,}")
    if not bool(row.in_street):
        parts.append(html_text(t("outside_street", lang)))
    return "<br>".join(parts)


def _draw_sites(c: MapContent, ctx: _Ctx) -> None:
    """Proposed new stations: a green symbol, popup with the households gained."""
    if c.sites is None:
        return
    fg = ctx.group("sites", layer_label("sites", ctx.lang))
    mapped = _to_map(c.sites, ctx, simplify_m=0)
    gained_col = next(
        (x for x in ("households_newly_covered", "households_gained") if x in mapped.columns),
        None,
    )
    for i, (_, row) in enumerate(mapped.iterrows()):
        geom = row.geometry if row.geometry.geom_type == "Point" else row.geometry.centroid
        name = str(row.get("name", "") or row.get("site_id", "") or f"#{i + 1}")
        text = f"<b>{html_text(t('layer_sites', ctx.lang))}</b><br>{html_text(name)}"
        gained = row[gained_col] if gained_col else None
        if gained is not None and not pd.isna(gained):
            text += f"<br>+{int(gained):,} {html_text(t('households', ctx.lang))}"
        folium.Marker(
            [geom.y, geom.x],
            icon=_icon(SITE_KIND, ctx, colour=SITE_COLOUR),
            tooltip=html_text(name),
            popup=folium.Popup(text, max_width=240),
        ).add_to(fg)


#: Layer -> its drawer, called in :data:`ALL_LAYERS` order when the layer has features.
_DRAWERS: dict[LayerKey, Callable[[MapContent, _Ctx], None]] = {
    "landuse": _draw_landuse,
    "communities": _draw_communities,
    "circles": _draw_circles,
    "gaps": _draw_gaps,
    "compounds": _draw_compounds,
    "uncovered": _draw_uncovered,
    "completeness": _draw_completeness,
    "buildings": _draw_buildings,
    "roads": _draw_roads,
    "barriers": _draw_barriers,
    "grids": _draw_grids,
    "atoms": _draw_atoms,
    "boundary": _draw_boundary,
    "stations": _draw_stations,
    "sites": _draw_sites,
}


def red_map(
    street: Street,
    *,
    coverage: CoverageLayers | None = None,
    grids: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    basemap: Basemap = "none",
    tianditu_key: str = "",
    lang: str = "zh",
    layers: Iterable[str] | None = None,
    walk_speed_kmh: float = 4.0,
    atoms: gpd.GeoDataFrame | None = None,
    highlight_grids: Iterable[str] = (),
    highlight_atoms: Iterable[str] = (),
    draw_tool: bool = False,
    title: str | None = None,
    simplify_m: float = 1.5,
    max_buildings: int = 3000,
    height: str = "100%",
    legend_open: bool = True,
) -> folium.Map:
    """Build the red map of ``street``.

    Parameters
    ----------
    street
        The loaded street (layers in its UTM CRS).
    coverage
        The coverage layers (:func:`planner.coverage.layers.compute_coverage_layers`)
        or ``None``: union circles per threshold, gaps, per-building walking times and
        nearest stations, uncovered compounds and households served per station.
    grids
        The grid layer (``grid_id``, ``code``, ``community_id``, ``households``; for
        example :attr:`planner.grids.division.GridResult.grids`) or ``None``.
    sites
        Proposed station sites (points; ``site_id``, ``name``, ``households_gained``).
    basemap
        ``"none"`` (default, offline), ``"osm"``, ``"tianditu"`` (needs
        ``tianditu_key``), ``"amap"`` (layers shifted to GCJ-02).
    lang
        ``"zh"`` (default) or ``"en"`` for labels, legend and popups.
    layers
        Layers to show when the map opens (others stay in the layer control, off);
        default :data:`DEFAULT_LAYERS`.
    walk_speed_kmh
        The walking speed (km/h) printed under the legend.
    atoms, highlight_grids, highlight_atoms
        Grid editor: atoms to draw (``atom_id``, ``grid_id``) and the ids drawn as selected.
    draw_tool
        Add the Leaflet.draw line tool (grid editor: a line splits a grid).
    title
        The title; default "<street name> 红色地图".
    simplify_m
        Simplification tolerance, metres.
    max_buildings
        At most this many buildings are drawn (the most populous), to keep the map light.
    height
        CSS height of the map.
    legend_open
        Whether the legend box starts unfolded (``False``: only its title shows, one
        click opens it; the notes below it stay visible either way).

    Returns
    -------
    folium.Map
        With every asset served locally (see :mod:`planner.maps.offline`). Every text
        from the data is escaped (:func:`html_text`).
    """
    offline.use_local_assets()
    content = map_content(street, coverage=coverage, grids=grids, sites=sites, atoms=atoms)
    ctx = _Ctx(
        m=_new_map(street, basemap, tianditu_key, height),
        lang=lang,
        basemap=basemap,
        crs=CRS.from_user_input(street.crs),
        simplify_m=simplify_m,
        shown=frozenset(DEFAULT_LAYERS if layers is None else layers),
        max_buildings=max_buildings,
        highlight_grids=frozenset(map(str, highlight_grids)),
        highlight_atoms=frozenset(map(str, highlight_atoms)),
    )
    for key in ALL_LAYERS:
        if content.has(key):
            _DRAWERS[key](content, ctx)
    notes = _notes_html(street, ctx, walk_speed_kmh, tianditu_key, content.grids)
    _add_frame(ctx, content, title=title, notes=notes, legend_open=legend_open)
    folium.LayerControl(collapsed=True, position="topright").add_to(ctx.m)
    if draw_tool:
        _add_draw_tool(ctx.m, ctx.lang)
    leftover = offline.external_assets(ctx.m)
    if leftover:  # pragma: no cover - guarded by tests/test_offline.py
        logger.warning("map would fetch assets from outside: %s", leftover)
    return ctx.m


def _add_draw_tool(m: folium.Map, lang: str = "zh") -> None:
    """The Leaflet.draw polyline tool (the grid editor splits a grid along a line), its
    words in ``lang`` (Leaflet.draw's own English otherwise)."""
    from folium.plugins import Draw

    if lang in DRAW_WORDS:
        _DrawWords(DRAW_WORDS[lang]).add_to(m)
    Draw(
        export=False,
        draw_options={
            "polyline": {"shapeOptions": {"color": "#ffd400", "weight": 4}},
            "polygon": False,
            "rectangle": False,
            "circle": False,
            "marker": False,
            "circlemarker": False,
        },
        edit_options={"edit": False, "remove": True},
    ).add_to(m)
