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

import html
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template

from planner.crs import WGS84, from_wgs84
from planner.i18n import t
from planner.maps import offline
from planner.schema import STATION_KINDS
from planner.street import Street

logger = logging.getLogger(__name__)

Basemap = Literal["none", "osm", "tianditu", "amap"]
BASEMAPS: tuple[Basemap, ...] = ("none", "osm", "tianditu", "amap")

#: Layers the map can draw, in drawing order (bottom to top).
ALL_LAYERS: tuple[str, ...] = (
    "landuse",
    "communities",
    "circles",
    "gaps",
    "compounds",
    "uncovered",
    "buildings",
    "roads",
    "barriers",
    "grids",
    "atoms",
    "boundary",
    "stations",
    "sites",
)
#: Layers shown when the map opens (others are in the layer control, switched off).
DEFAULT_LAYERS: tuple[str, ...] = (
    "landuse",
    "communities",
    "circles",
    "gaps",
    "compounds",
    "uncovered",
    "roads",
    "barriers",
    "grids",
    "boundary",
    "stations",
    "sites",
)

RED = "#c8161d"
DARK_RED = "#8b0000"
#: Fill colours of the service circles, nearest threshold first (darker = nearer).
CIRCLE_COLOURS: tuple[str, ...] = ("#b2182b", "#ef6548", "#fdbb84", "#fee8c8")
GAP_COLOUR = "#4d4d4d"
UNCOVERED_COLOUR = "#ff8c00"
GRID_COLOUR = "#1f4e9c"
#: Land-use fill colours by ``kind``.
LANDUSE_COLOURS: dict[str, str] = {
    "park": "#c7e9c0",
    "school": "#fdebd0",
    "campus": "#fdebd0",
    "hospital": "#fadbd8",
    "commercial": "#f5e6f0",
    "industrial": "#e5e5e5",
}

#: Station kind -> (SVG shape, glyph zh, glyph en). Glyphs are drawn in white on red.
STATION_STYLE: dict[str, tuple[str, str, str]] = {
    "street_centre": ("star", "中", "C"),
    "community_station": ("pin", "站", "S"),
    "grid_station": ("pin", "格", "G"),
    "red_property": ("square", "物", "P"),
    "red_office": ("square", "楼", "O"),
    "neighbourhood_centre": ("circle", "邻", "N"),
    "convenience_point": ("circle", "便", "V"),
}

OSM_ATTRIBUTION = "© OpenStreetMap contributors"

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


@dataclass(frozen=True)
class _Ctx:
    lang: str
    basemap: str
    crs: Any
    simplify_m: float


def _get(obj: Any, *names: str) -> Any:
    """First of ``names`` found on ``obj`` (attribute or mapping key), else ``None``."""
    if obj is None:
        return None
    for name in names:
        if isinstance(obj, Mapping) and name in obj:
            return obj[name]
        value = getattr(obj, name, None)
        if value is not None:
            return value
    return None


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
    arr = geom.values._data if hasattr(geom.values, "_data") else np.asarray(geom.values)

    def shift(coords: np.ndarray) -> np.ndarray:
        if ctx.basemap == "amap":
            lon, lat = from_wgs84(coords[:, 0], coords[:, 1], "gcj02")
            coords = np.column_stack([lon, lat])
        return np.round(coords, 6)

    arr = shapely.transform(np.asarray(arr), shift)
    out = gpd.GeoDataFrame(gdf.drop(columns=gdf.geometry.name), geometry=list(arr), crs=WGS84)
    return out[~out.geometry.is_empty & out.geometry.notna()]


def _feature_collection(gdf: gpd.GeoDataFrame, columns: Iterable[str]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of ``gdf`` with ``columns`` as properties (vectorised)."""
    cols = [c for c in columns if c in gdf.columns]
    geoms = shapely.to_geojson(np.asarray(gdf.geometry.values))
    records: list[dict[str, Any]] = [{} for _ in range(len(gdf))]
    for c in cols:
        col = gdf[c]
        if pd.api.types.is_bool_dtype(col):
            values: list[Any] = [bool(v) for v in col]
        elif pd.api.types.is_numeric_dtype(col):
            arr = col.to_numpy(dtype="float64")
            is_int = pd.api.types.is_integer_dtype(col)
            values = [
                None if not np.isfinite(v) else (int(v) if is_int else round(float(v), 1))
                for v in arr
            ]
        else:
            values = [
                "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in col
            ]
        for rec, v in zip(records, values, strict=True):
            rec[c] = v
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


def _add_geojson(
    group: folium.FeatureGroup,
    gdf: gpd.GeoDataFrame,
    ctx: _Ctx,
    *,
    style: dict[str, Any],
    fields: Mapping[str, str] | None = None,
    popup: bool = False,
    name: str = "",
    simplify_m: float | None = None,
) -> None:
    if gdf is None or len(gdf) == 0:
        return
    mapped = _to_map(gdf, ctx, simplify_m=simplify_m)
    fields = dict(fields or {})
    fields = {k: v for k, v in fields.items() if k in mapped.columns}
    data = _feature_collection(mapped, fields)
    kwargs: dict[str, Any] = {}
    if fields:
        tip_cls = folium.GeoJsonPopup if popup else folium.GeoJsonTooltip
        kwargs["popup" if popup else "tooltip"] = tip_cls(
            fields=list(fields), aliases=list(fields.values()), localize=True, labels=True
        )
    folium.GeoJson(
        data, name=name, style_function=_Style(style), smooth_factor=1.0, **kwargs
    ).add_to(group)


class _Style:
    """A constant folium style function that can be pickled (cached maps are pickled)."""

    def __init__(self, style: Mapping[str, Any]) -> None:
        self.style = dict(style)

    def __call__(self, _feature: Any) -> dict[str, Any]:
        return self.style


def station_icon_svg(kind: str, *, lang: str = "zh", size: int = 30, colour: str = RED) -> str:
    """Inline SVG of the red icon for a station ``kind`` (also used in the legend)."""
    shape, glyph_zh, glyph_en = STATION_STYLE.get(kind, STATION_STYLE["community_station"])
    glyph = glyph_en if lang == "en" else glyph_zh
    s = size
    if shape == "star":
        pts = []
        for i in range(10):
            r = s * 0.5 if i % 2 == 0 else s * 0.24
            a = np.pi / 2 + i * np.pi / 5
            pts.append(f"{s / 2 + r * np.cos(a):.1f},{s / 2 - r * np.sin(a):.1f}")
        body = (
            f'<polygon points="{" ".join(pts)}" fill="{colour}" stroke="#fff" stroke-width="1.5"/>'
        )
        fy, fs = s * 0.62, s * 0.3
    elif shape == "pin":
        body = (
            f'<path d="M{s / 2},{s - 1} C{s * 0.2},{s * 0.62} {s * 0.08},{s * 0.48} {s * 0.08},{s * 0.38}'
            f" A{s * 0.42},{s * 0.38} 0 1 1 {s * 0.92},{s * 0.38}"
            f' C{s * 0.92},{s * 0.48} {s * 0.8},{s * 0.62} {s / 2},{s - 1} Z" fill="{colour}"'
            ' stroke="#fff" stroke-width="1.5"/>'
        )
        fy, fs = s * 0.5, s * 0.4
    elif shape == "square":
        body = (
            f'<rect x="2" y="2" width="{s - 4}" height="{s - 4}" rx="4" fill="{colour}"'
            ' stroke="#fff" stroke-width="1.5"/>'
        )
        fy, fs = s * 0.66, s * 0.45
    else:
        body = (
            f'<circle cx="{s / 2}" cy="{s / 2}" r="{s / 2 - 2}" fill="{colour}" stroke="#fff"'
            ' stroke-width="1.5"/>'
        )
        fy, fs = s * 0.66, s * 0.45
    text = (
        f'<text x="{s / 2}" y="{fy:.1f}" font-size="{fs:.0f}" fill="#fff" text-anchor="middle"'
        ' font-family="Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif"'
        f' font-weight="bold">{html.escape(glyph)}</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{s}" height="{s}" viewBox="0 0 {s} {s}">'
        f"{body}{text}</svg>"
    )


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


def _legend_html(
    kinds: Iterable[str],
    thresholds: Iterable[float],
    *,
    lang: str,
    extras: list[str],
    open_: bool = True,
) -> str:
    rows: list[str] = []
    for kind in kinds:
        label = STATION_KINDS.get(kind, (kind, kind))[1 if lang == "en" else 0]
        rows.append(
            f'<div class="rm-row">{station_icon_svg(kind, lang=lang, size=18)}'
            f"<span>{html.escape(label)}</span></div>"
        )
    for i, minutes in enumerate(sorted(thresholds)):
        colour = CIRCLE_COLOURS[min(i, len(CIRCLE_COLOURS) - 1)]
        rows.append(
            f'<div class="rm-row"><i class="rm-sw" style="background:{colour}"></i>'
            f"<span>{html.escape(t('layer_circle', lang, minutes=minutes))}</span></div>"
        )
    rows += extras
    # a <details> box: open by default, folds away with one click to free the map
    return (
        f"<details{' open' if open_ else ''}><summary><b>{t('legend', lang)}</b></summary>"
        + "".join(rows)
        + "</details>"
    )


def _swatch(colour: str, label: str, *, dashed: bool = False, fill: bool = True) -> str:
    border = f"2px {'dashed' if dashed else 'solid'} {colour}"
    bg = colour if fill else "transparent"
    return (
        f'<div class="rm-row"><i class="rm-sw" style="background:{bg};border:{border};'
        f'opacity:0.8"></i><span>{html.escape(label)}</span></div>'
    )


_CSS = """
<style>
.rm-legend{background:rgba(255,255,255,.93);padding:6px 9px;border-radius:6px;
 font:12px/1.35 'Noto Sans CJK SC','Microsoft YaHei','PingFang SC',sans-serif;
 box-shadow:0 1px 4px rgba(0,0,0,.3);max-width:240px}
.rm-legend .rm-row{display:flex;align-items:center;gap:6px;margin:2px 0}
.rm-legend .rm-sw{display:inline-block;width:16px;height:12px;flex:none;box-sizing:border-box}
.rm-legend .rm-note{color:#555;margin-top:4px;font-size:11px}
.rm-legend summary{cursor:pointer}
.rm-title{background:rgba(255,255,255,.93);padding:4px 10px;border-radius:6px;
 font:bold 15px 'Noto Sans CJK SC','Microsoft YaHei',sans-serif;color:#c8161d;
 box-shadow:0 1px 4px rgba(0,0,0,.3)}
.rm-north{background:rgba(255,255,255,.9);border-radius:4px;padding:2px 6px;
 font:bold 13px sans-serif;text-align:center;box-shadow:0 1px 4px rgba(0,0,0,.3)}
.rm-grid-label{font:11px 'Noto Sans CJK SC',sans-serif;color:#1f4e9c;font-weight:bold;
 text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff;white-space:nowrap}
.rm-icon{background:none;border:none}
.leaflet-control-attribution{font-size:10px;max-width:60%}
</style>
"""


class _Css(MacroElement):
    _template = Template("{% macro header(this, kwargs) %}" + _CSS + "{% endmacro %}")

    def __init__(self) -> None:
        super().__init__()
        self._name = "PlannerCss"


def _station_popup(row: Any, lang: str, times: Mapping[str, Any]) -> str:
    kind = str(row.get("kind", "community_station"))
    label = STATION_KINDS.get(kind, (kind, kind))[1 if lang == "en" else 0]
    parts = [f"<b>{html.escape(str(row.get('name', '')) or str(row.get('station_id', '')))}</b>"]
    parts.append(f"{t('kind', lang)}: {html.escape(label)}")
    area = row.get("floor_area_m2")
    if area is not None and not pd.isna(area):
        parts.append(f"{t('floor_area', lang)}: {float(area):,.0f}")
    hours = str(row.get("opening_hours", "") or "")
    if hours:
        parts.append(f"{t('opening_hours', lang)}: {html.escape(hours)}")
    served = times.get(str(row.get("station_id", "")))
    if served is not None:
        parts.append(f"{t('households', lang)}: {int(served):,}")
    if not bool(row.get("in_street", True)):
        parts.append(t("outside_street", lang))
    return "<br>".join(parts)


def _thresholds(circles: gpd.GeoDataFrame | None, fallback: Iterable[float]) -> list[float]:
    if circles is not None and len(circles):
        col = next(
            (c for c in ("threshold_min", "minutes", "time_min") if c in circles.columns), None
        )
        if col:
            return sorted({float(v) for v in circles[col]})
    return sorted(float(v) for v in fallback)


def red_map(
    street: Street,
    *,
    coverage: Any = None,
    grids: Any = None,
    sites: gpd.GeoDataFrame | None = None,
    basemap: Basemap = "none",
    tianditu_key: str = "",
    lang: str = "zh",
    layers: Iterable[str] | None = None,
    walk_speed_kmh: float = 4.0,
    thresholds_min: Iterable[float] = (5.0, 10.0, 15.0),
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
        Coverage result or ``None``. Read by name: ``circles`` (polygons with
        ``threshold_min``, minutes), ``gaps`` (polygons), ``buildings`` (per building:
        ``time_min``, minutes, and ``station_id`` of the nearest station), ``compounds``
        (per compound: ``covered`` bool, ``time_min``), ``stations`` (per station:
        ``households`` served). Missing parts are simply not drawn.
    grids
        Grid polygons (``grid_id``, ``code``, ``community_id``, ``households``) or an
        object with a ``grids`` attribute, or ``None``.
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
    walk_speed_kmh, thresholds_min
        The walking speed (km/h) printed on the map and the thresholds (minutes) shown
        in the legend when ``coverage`` gives none.
    atoms, highlight_grids, highlight_atoms
        Grid editor: atoms to draw (``atom_id``, ``grid_id``) and the ids drawn as selected.
    draw_tool
        Add the Leaflet.draw line tool (grid editor: a line splits a grid).
    simplify_m
        Simplification tolerance, metres.
    max_buildings
        At most this many buildings are drawn (the most populous), to keep the map light.
    legend_open
        Whether the legend box starts unfolded (``False``: only its title shows, one
        click opens it; the notes below it stay visible either way).

    Returns
    -------
    folium.Map
        With every asset served locally (see :mod:`planner.maps.offline`).
    """
    offline.use_local_assets()
    shown = set(DEFAULT_LAYERS if layers is None else layers)
    ctx = _Ctx(lang=lang, basemap=basemap, crs=street.crs, simplify_m=simplify_m)
    bounds_geom = street.boundary.to_crs(WGS84).total_bounds if len(street.boundary) else None

    m = RedMap(
        tiles=None, control_scale=True, prefer_canvas=False, zoom_control=True, height=height
    )
    if bounds_geom is not None:
        x0, y0, x1, y1 = (float(v) for v in bounds_geom)
        if basemap == "amap":
            (x0, x1), (y0, y1) = from_wgs84([x0, x1], [y0, y1], "gcj02")
            x0, x1, y0, y1 = float(x0), float(x1), float(y0), float(y1)
        m.location = [(y0 + y1) / 2, (x0 + x1) / 2]
        # a zoom that fits the street in a ~650 x 550 px frame (Leaflet's fitBounds runs
        # before the app's map frame has its final size, and zooms in too far)
        m.options["zoom"] = fit_zoom((x0, y0, x1, y1), width_px=650, height_px=550)
    _add_basemap(m, basemap, tianditu_key)
    _Css().add_to(m)

    def group(key: str, label: str) -> folium.FeatureGroup:
        fg = folium.FeatureGroup(name=label, show=key in shown, overlay=True, control=True)
        fg.add_to(m)
        return fg

    circles = _union_circles(_get(coverage, "circles"))
    gaps = _get(coverage, "gaps", "gap_areas")
    cov_buildings = _get(coverage, "buildings", "building_times")
    cov_compounds = _compound_coverage(coverage)
    cov_stations = _get(coverage, "stations", "station_load")
    grid_gdf = grids if isinstance(grids, gpd.GeoDataFrame) else _get(grids, "grids")
    thresholds = _thresholds(circles, thresholds_min)
    station_names = dict(zip(street.stations["station_id"], street.stations["name"], strict=False))
    _comp_cache: list[gpd.GeoDataFrame] = []

    def comp_table() -> gpd.GeoDataFrame:
        if not _comp_cache:
            _comp_cache.append(_compound_table(street, cov_compounds, cov_buildings, station_names))
        return _comp_cache[0]

    # popup of a compound or building: who lives there and how far the walk is
    place_fields = {
        "name": t("name", lang),
        "households": t("households", lang),
        "time_min": t("walk_time", lang),
        "nearest_station": t("nearest_station", lang),
    }
    for key in ALL_LAYERS:
        if key == "landuse" and len(street.landuse):
            lu = street.landuse.copy()
            colours = lu["kind"].map(LANDUSE_COLOURS).fillna("#eeeeee")
            fg = group(key, t("layer_landuse", lang))
            for colour in sorted(set(colours)):
                _add_geojson(
                    fg,
                    lu[colours == colour],
                    ctx,
                    style={"color": colour, "weight": 0.5, "fillColor": colour, "fillOpacity": 0.6},
                    fields={"name": t("name", lang), "kind": t("kind", lang)},
                )
        elif key == "barriers" and len(street.barriers):
            fg = group(key, t("layer_barriers", lang))
            bar = street.barriers
            polys = bar[bar.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
            lines = bar.drop(polys.index)
            _add_geojson(
                fg,
                polys,
                ctx,
                style={"color": "#6baed6", "weight": 1, "fillColor": "#9ecae1", "fillOpacity": 0.8},
                fields={"name": t("name", lang)},
            )
            _add_geojson(
                fg,
                lines,
                ctx,
                style={"color": "#333", "weight": 3, "dashArray": "10 5"},
                fields={"name": t("name", lang)},
            )
        elif key == "communities" and len(street.communities):
            _add_geojson(
                group(key, t("layer_communities", lang)),
                street.communities,
                ctx,
                style={
                    "color": "#b03060",
                    "weight": 2,
                    "fillColor": "#fff5f5",
                    "fillOpacity": 0.15,
                    "dashArray": "6 4",
                },
                fields={"name": t("community", lang), "code": t("code", lang)},
            )
        elif key == "circles" and circles is not None and len(circles):
            col = next(c for c in ("threshold_min", "minutes", "time_min") if c in circles.columns)
            for i, minutes in enumerate(sorted(thresholds, reverse=True)):
                colour = CIRCLE_COLOURS[min(len(thresholds) - 1 - i, len(CIRCLE_COLOURS) - 1)]
                part = circles[circles[col].astype(float) == minutes]
                _add_geojson(
                    group(key, t("layer_circle", lang, minutes=minutes)),
                    part,
                    ctx,
                    style={"color": colour, "weight": 1, "fillColor": colour, "fillOpacity": 0.28},
                    simplify_m=max(simplify_m, 3.0),
                )
        elif key == "gaps" and gaps is not None and len(gaps):
            _add_geojson(
                group(key, t("layer_gaps", lang)),
                gaps,
                ctx,
                style={
                    "color": GAP_COLOUR,
                    "weight": 1.5,
                    "fillColor": GAP_COLOUR,
                    "fillOpacity": 0.35,
                    "dashArray": "4 3",
                },
                fields={"households": t("households", lang)},
                simplify_m=max(simplify_m, 3.0),
            )
        elif key == "compounds" and len(street.compounds):
            comp = comp_table()
            _add_geojson(
                group(key, t("layer_compounds", lang)),
                comp,
                ctx,
                style={
                    "color": "#7a4a4a",
                    "weight": 1,
                    "fillColor": "#f2e0d0",
                    "fillOpacity": 0.25,
                },
                fields=place_fields,
                popup=True,
            )
        elif key == "uncovered" and len(street.compounds):
            comp = comp_table()
            if "covered" in comp.columns:
                unc = comp[~comp["covered"].astype(bool)]
                _add_geojson(
                    group(key, t("layer_uncovered", lang)),
                    unc,
                    ctx,
                    style={
                        "color": UNCOVERED_COLOUR,
                        "weight": 3,
                        "fillColor": UNCOVERED_COLOUR,
                        "fillOpacity": 0.35,
                    },
                    fields=place_fields,
                    popup=True,
                )
        elif key == "buildings" and len(street.buildings):
            b = _building_table(street, cov_buildings, station_names)
            if len(b) > max_buildings:
                logger.info("drawing the %d most populous of %d buildings", max_buildings, len(b))
                b = b.nlargest(max_buildings, "households")
            _add_geojson(
                group(key, t("layer_buildings", lang)),
                b,
                ctx,
                style={"color": "#666", "weight": 0.5, "fillColor": "#999", "fillOpacity": 0.5},
                fields=place_fields,
                popup=True,
                simplify_m=0.5,
            )
        elif key == "roads" and len(street.roads):
            major = street.roads[
                street.roads["highway"].isin(
                    ["motorway", "trunk", "primary", "secondary", "tertiary"]
                )
            ]
            minor = street.roads.drop(major.index)
            fg = group(key, t("layer_roads", lang))
            # few features draw fast: one multi-line for all minor roads, one per major road
            _add_geojson(
                fg,
                _lines_by(minor, None),
                ctx,
                style={"color": "#9a9a9a", "weight": 1.2, "opacity": 0.8},
            )
            _add_geojson(
                fg,
                _lines_by(major, "name"),
                ctx,
                style={"color": "#555", "weight": 3, "opacity": 0.8},
                fields={"name": t("name", lang)},
            )
        elif key == "grids" and grid_gdf is not None and len(grid_gdf):
            fg = group(key, t("layer_grids", lang))
            sel = set(map(str, highlight_grids))
            g = grid_gdf.copy()
            if "grid_id" in g.columns and sel:
                g["_sel"] = g["grid_id"].astype(str).isin(sel)
                _add_geojson(
                    fg, g[~g["_sel"]], ctx, style=_grid_style(False), fields=_grid_fields(lang)
                )
                _add_geojson(
                    fg, g[g["_sel"]], ctx, style=_grid_style(True), fields=_grid_fields(lang)
                )
            else:
                _add_geojson(fg, g, ctx, style=_grid_style(False), fields=_grid_fields(lang))
            _grid_labels(fg, g, ctx)
        elif key == "atoms" and atoms is not None and len(atoms):
            fg = group(key, t("layer_atoms", lang))
            sel = set(map(str, highlight_atoms))
            a = atoms.copy()
            id_col = "atom_id" if "atom_id" in a.columns else None
            mask = a[id_col].astype(str).isin(sel) if id_col else pd.Series(False, index=a.index)
            fields = {
                "atom_id": "atom",
                "grid_id": t("grid", lang),
                "households": t("households", lang),
            }
            _add_geojson(
                fg,
                a[~mask],
                ctx,
                style={
                    "color": "#5a7bb5",
                    "weight": 0.8,
                    "fillColor": "#dfe8f7",
                    "fillOpacity": 0.1,
                },
                fields=fields,
            )
            _add_geojson(
                fg,
                a[mask],
                ctx,
                style={
                    "color": "#ffd400",
                    "weight": 3,
                    "fillColor": "#ffd400",
                    "fillOpacity": 0.45,
                },
                fields=fields,
            )
        elif key == "boundary" and len(street.boundary):
            _add_geojson(
                group(key, t("layer_boundary", lang)),
                street.boundary,
                ctx,
                style={"color": RED, "weight": 3.5, "fill": False, "fillOpacity": 0},
            )
        elif key == "stations" and len(street.stations):
            fg = group(key, t("layer_stations", lang))
            served = _station_households(cov_stations)
            _station_markers(fg, street.stations, ctx, served)
        elif key == "sites" and sites is not None and len(sites):
            fg = group(key, t("layer_sites", lang))
            _site_markers(fg, sites, ctx)

    kinds = [k for k in STATION_KINDS if k in set(street.stations["kind"])] or list(STATION_KINDS)
    extras = []
    if gaps is not None and len(gaps):
        extras.append(_swatch(GAP_COLOUR, t("layer_gaps", lang), dashed=True))
    if "covered" in comp_table().columns:
        extras.append(_swatch(UNCOVERED_COLOUR, t("layer_uncovered", lang)))
    if grid_gdf is not None and len(grid_gdf):
        extras.append(_swatch(GRID_COLOUR, t("layer_grids", lang), fill=False))
    if sites is not None and len(sites):
        extras.append(
            f'<div class="rm-row">{station_icon_svg("community_station", lang=lang, size=18, colour="#1a7f37")}'
            f"<span>{html.escape(t('layer_sites', lang))}</span></div>"
        )
    extras.append(_swatch(RED, t("layer_boundary", lang), fill=False))
    notes = [
        f'<div class="rm-note">{html.escape(t("walk_note", lang, speed=walk_speed_kmh))}</div>'
    ]
    if street.synthetic:
        notes.append(
            f'<div class="rm-note" style="color:#c8161d"><b>{html.escape(t("synthetic_note", lang))}</b></div>'
        )
    notice = basemap_notice(basemap, tianditu_key=tianditu_key, lang=lang)
    if basemap == "tianditu" and notice:
        notes.append(f'<div class="rm-note">{html.escape(notice)}</div>')
    _Control(
        _legend_html(
            kinds,
            thresholds if circles is not None else [],
            lang=lang,
            extras=extras,
            open_=legend_open,
        )
        + "".join(notes),  # always visible, also with the legend folded
        position="bottomright",
        css_class="rm-legend",
    ).add_to(m)
    heading = (
        title if title is not None else f"{street.name or ''} {t('page_redmap', lang)}".strip()
    )
    _Control(html.escape(heading), position="topright", css_class="rm-title").add_to(m)
    _Control(f"▲<br>{t('north', lang)}", position="topleft", css_class="rm-north").add_to(m)
    attribution = street.attribution or ""
    if attribution:
        _Attribution(html.escape(attribution)).add_to(m)
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    if draw_tool:
        from folium.plugins import Draw

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
    leftover = offline.external_assets(m)
    if leftover:  # pragma: no cover - guarded by tests/test_offline.py
        logger.warning("map would fetch assets from outside: %s", leftover)
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


def _grid_style(selected: bool) -> dict[str, Any]:
    if selected:
        return {"color": "#ffd400", "weight": 4, "fillColor": "#ffd400", "fillOpacity": 0.3}
    return {"color": GRID_COLOUR, "weight": 1.6, "fillColor": GRID_COLOUR, "fillOpacity": 0.04}


def _grid_fields(lang: str) -> dict[str, str]:
    return {
        "code": t("code", lang),
        "grid_id": t("grid", lang),
        "households": t("households", lang),
        "community_id": t("community", lang),
    }


def _grid_labels(fg: folium.FeatureGroup, grids: gpd.GeoDataFrame, ctx: _Ctx) -> None:
    """Short grid labels (community code + sequence: the code's last 5 digits) at each grid."""
    if "code" not in grids.columns and "grid_id" not in grids.columns:
        return
    pts = grids.copy()
    pts["geometry"] = shapely.point_on_surface(np.asarray(grids.geometry.values))
    pts = _to_map(gpd.GeoDataFrame(pts, geometry="geometry", crs=grids.crs), ctx, simplify_m=0)
    labels = (
        pts["code"].astype(str).str[-5:] if "code" in pts.columns else pts["grid_id"].astype(str)
    )
    for geom, label in zip(pts.geometry, labels, strict=False):
        folium.Marker(
            [geom.y, geom.x],
            icon=folium.DivIcon(
                html=f'<div class="rm-grid-label">{html.escape(label)}</div>',
                icon_size=(44, 14),
                icon_anchor=(22, 7),
                class_name="rm-icon",
            ),
            interactive=False,
        ).add_to(fg)


def _union_circles(circles: Any) -> gpd.GeoDataFrame | None:
    """One circle polygon per threshold: the union view when per-station circles are given."""
    if circles is None or len(circles) == 0:
        return None
    if "view" in circles.columns:
        circles = circles[circles["view"] == "union"]
    return circles


def _compound_coverage(coverage: Any) -> pd.DataFrame | None:
    """Per compound: ``covered`` (bool) and, where known, ``time_min`` and the nearest station.

    Reads a per-compound table with a ``covered`` column, or the table of uncovered
    compounds (``uncovered_compounds``, as :mod:`planner.pipeline` gives it: every
    compound listed is not covered, every other compound is).
    """
    comp = _get(coverage, "compound_coverage")
    if comp is None:
        comp = _get(coverage, "compounds")
        if comp is not None and "covered" not in getattr(comp, "columns", []):
            comp = None
    if comp is not None:
        return pd.DataFrame(comp)
    unc = _get(coverage, "uncovered_compounds")
    if unc is None or "compound_id" not in getattr(unc, "columns", []):
        return None
    out = pd.DataFrame(unc).copy()
    out["covered"] = False
    out.attrs["uncovered_only"] = True
    return out


def _station_households(cov_stations: Any) -> dict[str, Any]:
    if cov_stations is None or not hasattr(cov_stations, "columns"):
        return {}
    if "station_id" in cov_stations.columns and "households" in cov_stations.columns:
        return dict(
            zip(cov_stations["station_id"].astype(str), cov_stations["households"], strict=False)
        )
    return {}


def _station_markers(
    fg: folium.FeatureGroup, stations: gpd.GeoDataFrame, ctx: _Ctx, served: Mapping[str, Any]
) -> None:
    mapped = _to_map(stations, ctx, simplify_m=0)
    for _, row in mapped.iterrows():
        kind = str(row.get("kind", "community_station"))
        size = 34 if kind == "street_centre" else 28
        anchor = (
            (size // 2, size - 1)
            if STATION_STYLE.get(kind, ("pin",))[0] == "pin"
            else (size // 2, size // 2)
        )
        folium.Marker(
            [row.geometry.y, row.geometry.x],
            icon=folium.DivIcon(
                html=station_icon_svg(kind, lang=ctx.lang, size=size),
                icon_size=(size, size),
                icon_anchor=anchor,
                class_name="rm-icon",
            ),
            tooltip=html.escape(str(row.get("name", ""))),
            popup=folium.Popup(_station_popup(row, ctx.lang, served), max_width=260),
        ).add_to(fg)


def _site_markers(fg: folium.FeatureGroup, sites: gpd.GeoDataFrame, ctx: _Ctx) -> None:
    mapped = _to_map(sites, ctx, simplify_m=0)
    for i, (_, row) in enumerate(mapped.iterrows()):
        geom = row.geometry if row.geometry.geom_type == "Point" else row.geometry.centroid
        name = str(row.get("name", "") or row.get("site_id", "") or f"#{i + 1}")
        gained = row.get("households_newly_covered", row.get("households_gained"))
        text = f"<b>{html.escape(t('layer_sites', ctx.lang))}</b><br>{html.escape(name)}"
        if gained is not None and not pd.isna(gained):
            text += f"<br>+{int(gained):,} {t('households', ctx.lang)}"
        folium.Marker(
            [geom.y, geom.x],
            icon=folium.DivIcon(
                html=station_icon_svg(
                    "community_station", lang=ctx.lang, size=28, colour="#1a7f37"
                ),
                icon_size=(28, 28),
                icon_anchor=(14, 27),
                class_name="rm-icon",
            ),
            tooltip=html.escape(name),
            popup=folium.Popup(text, max_width=240),
        ).add_to(fg)


def _building_table(
    street: Street, cov_buildings: Any, names: Mapping[str, str]
) -> gpd.GeoDataFrame:
    b = street.buildings[["building_id", "name", "households", "compound_id", "geometry"]].copy()
    if (
        cov_buildings is not None
        and hasattr(cov_buildings, "columns")
        and "building_id" in cov_buildings.columns
    ):
        cols = [
            c
            for c in ("time_min", "station_id", "nearest_station_id")
            if c in cov_buildings.columns
        ]
        extra = pd.DataFrame(cov_buildings[["building_id", *cols]]).drop_duplicates("building_id")
        b = b.merge(extra, on="building_id", how="left")
        if "time_min" in b.columns:
            b["time_min"] = pd.to_numeric(b["time_min"], errors="coerce").round(1)
        sid = "station_id" if "station_id" in b.columns else "nearest_station_id"
        if sid in b.columns:
            b["nearest_station"] = b[sid].map(
                lambda s: names.get(str(s), "") if pd.notna(s) else ""
            )
    return gpd.GeoDataFrame(b, geometry="geometry", crs=street.crs)


def _compound_table(
    street: Street, cov_compounds: Any, cov_buildings: Any, names: Mapping[str, str]
) -> gpd.GeoDataFrame:
    """Compounds with households and, when coverage is given, walking time and coverage.

    ``time_min`` is the walk from the compound's farthest building to its nearest
    station (minutes) and ``nearest_station`` that station's name.
    """
    c = street.compounds[["compound_id", "name", "geometry"]].copy()
    hh = street.buildings.groupby("compound_id")["households"].sum()
    c["households"] = c["compound_id"].map(hh).fillna(0).astype(int)
    if (
        cov_buildings is not None
        and hasattr(cov_buildings, "columns")
        and {"building_id", "time_min"} <= set(cov_buildings.columns)
    ):
        b = _building_table(street, cov_buildings, names)
        b = b[(b["compound_id"] != "") & (b["households"] > 0)]
        if len(b):
            worst = (
                b.sort_values("time_min", na_position="first")
                .groupby("compound_id")
                .agg(time_min=("time_min", "last"), nearest_station=("nearest_station", "last"))
            )
            c = c.merge(worst, left_on="compound_id", right_index=True, how="left")
    if cov_compounds is not None and "compound_id" in cov_compounds.columns:
        table = pd.DataFrame(cov_compounds).drop_duplicates("compound_id")
        table["compound_id"] = table["compound_id"].astype(str)
        if table.attrs.get("uncovered_only"):
            c["covered"] = ~c["compound_id"].isin(set(table["compound_id"]))
        else:
            covered = dict(zip(table["compound_id"], table["covered"].astype(bool), strict=False))
            c["covered"] = c["compound_id"].map(covered).fillna(True).astype(bool)
        for col in ("time_min", "nearest_station"):
            if col in table.columns and col not in c.columns:
                c = c.merge(table[["compound_id", col]], on="compound_id", how="left")
        if "nearest_station" not in c.columns:
            sid = next(
                (x for x in ("nearest_station_id", "station_id") if x in table.columns), None
            )
            if sid:
                ids = dict(zip(table["compound_id"], table[sid].astype(str), strict=False))
                c["nearest_station"] = c["compound_id"].map(ids).map(lambda x: names.get(x, ""))
    if "time_min" in c.columns:
        c["time_min"] = pd.to_numeric(c["time_min"], errors="coerce").round(1)
    return gpd.GeoDataFrame(c, geometry="geometry", crs=street.crs)
