"""The grid editor's map: a base map drawn once, and a layer of grids redrawn in place.

The base map (:func:`base_map`: boundary, roads, stations, the line and lasso tools)
does not change while a planner edits, so the map frame is never rebuilt: it keeps
its zoom and centre and redraws nothing but the editing layer. That layer
(:func:`layer_script`: grids with their short labels, atoms, the selection, the
target grid, locked grids hatched, a split preview) is plain JavaScript that
streamlit-folium runs in the drawn map at each change (its ``feature_group``
mechanism, :func:`planner.app.map.show_map`). The atoms and grids it draws stay on the
map between runs (``window.__ed``) and are rebuilt only when their data change (an
edit); a click only restyles them. Its data is JSON with every non-ASCII character
and ``< > &`` escaped, and labels are HTML-escaped, so no data text can run as code.

Coordinates: layers are in the street's projected CRS (metres); the map gets WGS84
degrees, shifted to GCJ-02 for the Amap basemap, rounded to 1e-6°.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement
from jinja2 import Template

from planner.crs import WGS84, from_wgs84
from planner.i18n import t
from planner.maps.redmap import Basemap, html_text, red_map
from planner.street import Street

#: The base map's layers (the editing layer adds grids and atoms on top).
BASE_LAYERS = ("boundary", "roads", "stations")

#: Colours of the editing layer.
COLOURS = {
    "grid": "#1f4e9c",
    "source": "#ffd400",
    "target": "#e4007f",
    "atom": "#5a7bb5",
    "selected": "#ffd400",
    "part_a": "#00a0e9",
    "part_b": "#f39800",
}


def base_map(
    street: Street,
    *,
    basemap: Basemap = "none",
    tianditu_key: str = "",
    lang: str = "zh",
    walk_speed_kmh: float = 4.0,
) -> folium.Map:
    """The editor's base map: :func:`planner.maps.redmap.red_map` of :data:`BASE_LAYERS`
    with the Leaflet.draw line tool (split) and polygon tool (lasso selection)."""
    from folium.plugins import Draw

    m = red_map(
        street,
        basemap=basemap,
        tianditu_key=tianditu_key,
        lang=lang,
        layers=BASE_LAYERS,
        walk_speed_kmh=walk_speed_kmh,
        legend_open=False,
    )
    _DrawLocale(lang).add_to(m)  # before the tools: their titles are read when made
    Draw(  # type: ignore[no-untyped-call]
        export=False,
        draw_options={
            "polyline": {"shapeOptions": {"color": COLOURS["source"], "weight": 4}},
            "polygon": {"shapeOptions": {"color": COLOURS["target"], "weight": 2}},
            "rectangle": False,
            "circle": False,
            "marker": False,
            "circlemarker": False,
        },
        edit_options={"edit": False, "remove": True},
    ).add_to(m)
    return m


class _DrawLocale(MacroElement):
    """Leaflet.draw's words for the line and lasso tools in the map's language."""

    _template = Template(
        "{% macro script(this, kwargs) %}(function (d) { {{ this.js }} })(L.drawLocal);"
        "{% endmacro %}"
    )

    def __init__(self, lang: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "DrawLocale"
        self.js = _draw_locale_js(lang)


def _draw_locale_js(lang: str) -> str:
    """JavaScript setting ``d`` (``L.drawLocal``) to the catalogue's words in ``lang``."""

    def w(key: str) -> str:
        return _safe_json(t(key, lang))

    return (
        "var a = d.draw.toolbar, h = d.draw.handlers, e = d.edit.toolbar;"
        f"a.actions = {{title: {w('ed_draw_cancel_title')}, text: {w('ed_draw_cancel')}}};"
        f"a.finish = {{title: {w('ed_draw_finish_title')}, text: {w('ed_draw_finish')}}};"
        f"a.undo = {{title: {w('ed_draw_undo')}, text: {w('ed_draw_undo')}}};"
        f"a.buttons.polyline = {w('ed_draw_line')}; a.buttons.polygon = {w('ed_draw_lasso')};"
        f"h.polyline.tooltip = {{start: {w('ed_draw_line_start')}, "
        f"cont: {w('ed_draw_line_cont')}, end: {w('ed_draw_line_end')}}};"
        f"h.polyline.error = {w('ed_draw_cross')};"
        f"h.polygon.tooltip = {{start: {w('ed_draw_lasso_start')}, "
        f"cont: {w('ed_draw_lasso_cont')}, end: {w('ed_draw_lasso_end')}}};"
        f"e.actions.save = {{title: {w('ed_draw_save_title')}, text: {w('ed_draw_save')}}};"
        f"e.actions.cancel = {{title: {w('ed_draw_edit_cancel_title')}, "
        f"text: {w('ed_draw_cancel')}}};"
        f"e.actions.clearAll = {{title: {w('ed_draw_clear_all_title')}, "
        f"text: {w('ed_draw_clear_all')}}};"
        f"e.buttons.remove = {w('ed_draw_remove')};"
        f"e.buttons.removeDisabled = {w('ed_draw_remove_none')};"
        f"d.edit.handlers.remove.tooltip = {{text: {w('ed_draw_remove_tip')}}};"
    )


def to_map(gdf: gpd.GeoDataFrame, basemap: str = "none") -> gpd.GeoDataFrame:
    """``gdf`` in the map's degrees: WGS84, GCJ-02 for ``basemap="amap"``, 1e-6° rounded."""
    geom = gdf.geometry.to_crs(WGS84)

    def shift(coords: np.ndarray) -> np.ndarray:
        if basemap == "amap":
            lon, lat = from_wgs84(coords[:, 0], coords[:, 1], "gcj02")
            coords = np.column_stack([lon, lat])
        return np.round(coords, 6)

    arr = shapely.transform(np.asarray(geom.values, dtype=object), shift)
    return gpd.GeoDataFrame(gdf.drop(columns=gdf.geometry.name), geometry=list(arr), crs=WGS84)


def _features(gdf: gpd.GeoDataFrame, props: dict[str, list[Any]]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of ``gdf``'s geometries with the given properties."""
    geoms = shapely.to_geojson(np.asarray(gdf.geometry.values, dtype=object))
    keys = list(props)
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": json.loads(g),
                "properties": {k: props[k][i] for k in keys},
            }
            for i, g in enumerate(geoms)
        ],
    }


def atoms_json(atoms: gpd.GeoDataFrame, basemap: str = "none") -> dict[str, Any]:
    """The atoms as GeoJSON in map degrees (property ``id``: the ``atom_id``).

    Atoms never change while a project is edited: compute this once per editor.
    """
    simple = gpd.GeoDataFrame(
        geometry=atoms.geometry.simplify(0.5, preserve_topology=True).values, crs=atoms.crs
    )
    mapped = to_map(simple, basemap)
    return _features(mapped, {"id": [int(a) for a in atoms["atom_id"]]})


@dataclass(frozen=True)
class LayerView:
    """What the editing layer shows besides the grids and atoms.

    Attributes
    ----------
    labels
        Short label of each grid code (drawn at the grid, HTML-escaped).
    selected
        ``atom_id`` of the selected atoms.
    source, target
        Codes of the selection's grid and of the grid it would move to ("" for none).
    locked
        Codes of locked grids (drawn hatched).
    parts
        A split preview: the two parts (street CRS) or ``None``.
    """

    labels: dict[str, str] = field(default_factory=dict)
    selected: tuple[int, ...] = ()
    source: str = ""
    target: str = ""
    locked: frozenset[str] = frozenset()
    parts: gpd.GeoDataFrame | None = None


def _digest(data: object) -> str:
    """A short digest of JSON-ready data: the browser rebuilds a layer only when it changes."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]


def _safe_json(data: object) -> str:
    """JSON that is safe inside a ``<script>``: ASCII only, ``< > &`` as escapes."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


_STYLE_JS = """
if (!document.getElementById('ed-hatch')) {
  var svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('width', '0'); svg.setAttribute('height', '0');
  svg.setAttribute('style', 'position:absolute');
  svg.innerHTML = '<defs><pattern id="ed-hatch" patternUnits="userSpaceOnUse" width="8" '
    + 'height="8" patternTransform="rotate(45)"><rect width="8" height="8" fill="#ffffff" '
    + 'fill-opacity="0.2"/><line x1="0" y1="0" x2="0" y2="8" stroke="#444" '
    + 'stroke-width="3"/></pattern></defs>';
  document.body.appendChild(svg);
  var css = document.createElement('style');
  css.textContent = '.ed-locked{fill:url(#ed-hatch)!important;fill-opacity:0.55!important}'
    + '.leaflet-tooltip.ed-label{background:rgba(255,255,255,.8);border:0;box-shadow:none;'
    + 'padding:0 3px;font:11px sans-serif;color:#1f4e9c}'
    + '.leaflet-tooltip.ed-label:before{display:none}';
  document.head.appendChild(css);
  // Esc inside the map frame reaches the page (the clear-selection shortcut)
  document.addEventListener('keydown', function (e) {
    if (e.key !== 'Escape') return;
    try {
      var P = window.parent;
      P.document.dispatchEvent(new P.KeyboardEvent('keydown',
        {key: 'Escape', code: 'Escape', keyCode: 27, bubbles: true}));
    } catch (err) { /* the page is not reachable: Esc works outside the map */ }
  });
}
"""

_LAYER_JS = """
var feature_group_feature_group_0 = L.featureGroup();
(function (fg) {
%(style)s
  var D = %(data)s;
  var C = D.colours, sel = new Set(D.selected), ed = window.__ed = window.__ed || {};
  // atoms and grids stay on the map between runs; rebuilt only when their data change
  if (ed.atomsKey !== D.atoms_key) {
    if (ed.atoms) map_div.removeLayer(ed.atoms);
    ed.atoms = L.geoJSON(D.atoms, {interactive: false}).addTo(map_div);
    ed.atomsKey = D.atoms_key;
  }
  if (ed.gridsKey !== D.grids_key) {
    if (ed.grids) map_div.removeLayer(ed.grids);
    ed.grids = L.geoJSON(D.grids, {interactive: false, style: function (f) {
      return {className: f.properties.locked ? 'ed-grid ed-locked' : 'ed-grid'};
    }, onEachFeature: function (f, layer) {
      layer.bindTooltip(f.properties.label, {permanent: true, direction: 'center',
                                             className: 'ed-label', interactive: false});
    }}).addTo(map_div);
    ed.gridsKey = D.grids_key;
  }
  ed.atoms.setStyle(function (f) {
    var s = sel.has(f.properties.id);
    return {color: s ? C.selected : C.atom, weight: s ? 2.5 : 0.6,
            fillColor: s ? C.selected : '#dfe8f7', fillOpacity: s ? 0.5 : 0.08};
  });
  ed.grids.setStyle(function (f) {
    var p = f.properties, role = p.code === D.source ? 'source'
      : (p.code === D.target ? 'target' : 'grid');
    return {color: C[role], weight: role === 'grid' ? 1.6 : 4, fill: true,
            fillColor: C[role], fillOpacity: role === 'target' ? 0.25 : 0.02};
  });
  if (D.parts) {
    L.geoJSON(D.parts, {interactive: false, style: function (f) {
      return {color: C[f.properties.part], weight: 3, dashArray: '6 4',
              fillColor: C[f.properties.part], fillOpacity: 0.35, className: 'ed-part'};
    }}).addTo(fg);
  }
})(feature_group_feature_group_0);
map_div.addLayer(feature_group_feature_group_0);
window.feature_group = window.feature_group || [];
window.feature_group.push(feature_group_feature_group_0);
"""


def layer_script(
    grids: gpd.GeoDataFrame,
    atoms: dict[str, Any],
    view: LayerView,
    *,
    basemap: str = "none",
) -> str:
    """The editing layer as JavaScript for streamlit-folium's ``feature_group``.

    Parameters
    ----------
    grids
        The editor's grids (street CRS; ``code``, ``locked``).
    atoms
        :func:`atoms_json` of the editor's atoms.
    view
        Selection, target, labels, locks and split preview.
    basemap
        The basemap ("amap" shifts coordinates to GCJ-02).
    """
    mapped = to_map(grids[["code", "geometry"]], basemap)
    codes = [str(c) for c in grids["code"]]
    grid_data = _features(
        mapped,
        {
            "code": codes,
            "label": [html_text(view.labels.get(c, c)) for c in codes],
            "locked": [c in view.locked for c in codes],
        },
    )
    data: dict[str, Any] = {
        "grids": grid_data,
        "grids_key": _digest(grid_data),
        "atoms": atoms,
        "atoms_key": _digest(atoms),
        "selected": [int(a) for a in view.selected],
        "source": view.source,
        "target": view.target,
        "colours": COLOURS,
        "parts": None,
    }
    if view.parts is not None and len(view.parts):
        data["parts"] = _features(
            to_map(view.parts[["geometry"]], basemap), {"part": list(view.parts["part"])}
        )
    return _LAYER_JS % {"style": _STYLE_JS, "data": _safe_json(data)}
