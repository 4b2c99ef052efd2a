"""The red map's style and vocabulary: one table for the HTML map and the PNG/PDF map.

Both maps (:mod:`planner.maps.redmap`, folium; :mod:`planner.maps.image`, matplotlib)
draw the same layers, in the same order, with the looks and the legend words defined
here, so a printed report and the web map speak one vocabulary: 服务盲区 is 服务盲区 on
paper too, and the 15-minute circle has one colour.

Units: line widths and dash patterns are CSS pixels of the web map (Leaflet's
``weight`` and ``dashArray``). The printed map is an A4 sheet showing the whole street,
about half the scale of a web map zoomed to fit a screen, so it draws one CSS pixel as
:data:`PRINT_PT_PER_PX` points (and marker sizes as :data:`PRINT_MARKER_PT_PER_PX`).
Opacities are 0..1; colours are ``#rrggbb``.

Names and legend words are :mod:`planner.i18n` keys (Chinese and English).

Examples
--------
>>> LOOKS["gaps"].leaflet()["fillColor"]
'#4d4d4d'
>>> [e.label for e in legend_entries(kinds=(), thresholds=(15.0,), parts=("gaps",))]
['15 分钟服务圈', '服务盲区']
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from planner.i18n import station_kind_label, t
from planner.schema import STATION_KINDS, station_kind_group

#: The layers the maps draw, in drawing order (bottom to top).
LayerKey = Literal[
    "landuse",
    "communities",
    "circles",
    "gaps",
    "compounds",
    "uncovered",
    "completeness",
    "buildings",
    "roads",
    "barriers",
    "grids",
    "atoms",
    "boundary",
    "stations",
    "sites",
]

#: Layers the maps draw, in drawing order (bottom to top).
ALL_LAYERS: tuple[LayerKey, ...] = get_args(LayerKey)
#: Layers shown when the web map opens (others are in the layer control, switched off).
DEFAULT_LAYERS: tuple[LayerKey, ...] = tuple(
    k for k in ALL_LAYERS if k not in ("buildings", "atoms", "completeness")
)

#: i18n key of each layer's name (layer control of the web map). ``circles`` is named
#: per threshold with :func:`circle_label`.
LAYER_NAME_KEYS: dict[LayerKey, str] = {k: f"layer_{k}" for k in ALL_LAYERS if k != "circles"}

#: One CSS pixel of the web map in points on the printed map (lines and dashes).
PRINT_PT_PER_PX = 0.6
#: One CSS pixel of a web-map marker in points on the printed map (station symbols).
PRINT_MARKER_PT_PER_PX = 0.45

RED = "#c8161d"
DARK_RED = "#8b0000"
#: Proposed new sites: a station symbol in green (not yet a party-mass station).
SITE_COLOUR = "#1a7f37"
#: A station cut off from the main walking network (it serves only its own small piece):
#: its symbol drawn in grey with a dashed red ring, so it does not read as serving.
CUT_OFF_COLOUR = "#7f7f7f"
#: The ring around a cut-off station's symbol: colour and dash pattern (CSS px).
CUT_OFF_RING = (RED, (3.0, 2.0))
#: Road classes drawn as major roads (wider, named in tooltips).
MAJOR_HIGHWAYS: tuple[str, ...] = ("motorway", "trunk", "primary", "secondary", "tertiary")
#: Barrier ``kind`` drawn as railway; every other barrier is drawn as water.
RAILWAY_KINDS: tuple[str, ...] = ("railway", "rail")


@dataclass(frozen=True)
class Look:
    """How features are drawn: line colour and width, fill colour and opacity, dashes.

    Attributes
    ----------
    colour
        Line colour.
    weight_px
        Line width, CSS px (printed as ``weight_px * PRINT_PT_PER_PX`` points).
    fill
        Fill colour, or ``None`` for lines and outlines.
    fill_opacity
        Fill opacity, 0..1.
    opacity
        Line opacity, 0..1.
    dash_px
        Dash pattern (on, off, ...), CSS px; empty for a solid line.
    """

    colour: str
    weight_px: float
    fill: str | None = None
    fill_opacity: float = 0.0
    opacity: float = 1.0
    dash_px: tuple[float, ...] = ()

    def leaflet(self) -> dict[str, Any]:
        """Leaflet path options (``color``, ``weight``, ``fillColor`` ...)."""
        out: dict[str, Any] = {"color": self.colour, "weight": self.weight_px}
        out["opacity"] = self.opacity
        if self.fill is None:
            out.update(fill=False, fillOpacity=0)
        else:
            out.update(fillColor=self.fill, fillOpacity=self.fill_opacity)
        if self.dash_px:
            out["dashArray"] = " ".join(f"{v:g}" for v in self.dash_px)
        return out

    @property
    def width_pt(self) -> float:
        """Line width on the printed map, points."""
        return self.weight_px * PRINT_PT_PER_PX

    def print_dashes(self) -> tuple[float, tuple[float, ...]] | Literal["solid"]:
        """matplotlib ``linestyle``: the web dashes at print scale (``"solid"`` if none).

        matplotlib scales dash lengths by the line width, so the pattern is given in
        line widths: ``dash_px / weight_px``.
        """
        if not self.dash_px:
            return "solid"
        return (0.0, tuple(d / self.weight_px for d in self.dash_px))


def rgba(colour: str, opacity: float = 1.0) -> tuple[float, float, float, float]:
    """``#rrggbb`` and an opacity as an RGBA tuple of floats 0..1.

    >>> rgba("#ff8000", 0.5)
    (1.0, 0.5019607843137255, 0.0, 0.5)
    """
    h = colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    r, g, b = (int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return (r, g, b, float(opacity))


def css_rgba(colour: str, opacity: float = 1.0) -> str:
    """``#rrggbb`` and an opacity as CSS ``rgba(r,g,b,a)`` (0..255 channels).

    >>> css_rgba("#ff8000", 0.5)
    'rgba(255,128,0,0.5)'
    """
    r, g, b, a = rgba(colour, opacity)
    return f"rgba({round(r * 255)},{round(g * 255)},{round(b * 255)},{a:g})"


#: Fill colours of the service circles, nearest threshold first (darker = nearer).
CIRCLE_COLOURS: tuple[str, ...] = ("#b2182b", "#ef6548", "#fdbb84", "#fee8c8")

#: The look of every part of a layer (a layer may have several: roads major and minor).
LOOKS: dict[str, Look] = {
    "boundary": Look(RED, 3.5),
    "communities": Look("#b03060", 2.0, "#fff5f5", 0.15, dash_px=(6.0, 4.0)),
    "compounds": Look("#7a4a4a", 1.0, "#f2e0d0", 0.25),
    "uncovered": Look("#ff8c00", 3.0, "#ff8c00", 0.35),
    "buildings": Look("#666666", 0.5, "#999999", 0.5),
    "roads_major": Look("#555555", 3.0, opacity=0.8),
    "roads_minor": Look("#9a9a9a", 1.2, opacity=0.8),
    "rivers": Look("#6baed6", 1.0, "#9ecae1", 0.8),
    "railways": Look("#333333", 3.0, dash_px=(10.0, 5.0)),
    "gaps": Look("#4d4d4d", 1.5, "#4d4d4d", 0.35, dash_px=(4.0, 3.0)),
    "grids": Look("#1f4e9c", 1.6, "#1f4e9c", 0.04),
    "grids_selected": Look("#ffd400", 4.0, "#ffd400", 0.3),
    "atoms": Look("#5a7bb5", 0.8, "#dfe8f7", 0.1),
    "atoms_selected": Look("#ffd400", 3.0, "#ffd400", 0.45),
}

#: Land-use fill colours by ``kind`` (others: :data:`LANDUSE_OTHER`).
LANDUSE_COLOURS: dict[str, str] = {
    "park": "#c7e9c0",
    "school": "#fdebd0",
    "campus": "#fdebd0",
    "hospital": "#fadbd8",
    "commercial": "#f5e6f0",
    "industrial": "#e5e5e5",
}
LANDUSE_OTHER = "#eeeeee"


# --- services: the completeness layer (issue 16) ---
#: Buildings coloured by the number of service kinds they miss: (most missing, colour),
#: green (complete) to red; the layer's name spells the scale out.
COMPLETENESS_BINS: tuple[tuple[float, str], ...] = (
    (0, "#1a9850"),
    (2, "#fee08b"),
    (6, "#fc8d59"),
    (float("inf"), "#d73027"),
)


def completeness_colour(missing: int) -> str:
    """The fill of a building missing ``missing`` service kinds (:data:`COMPLETENESS_BINS`)."""
    return next(colour for most, colour in COMPLETENESS_BINS if missing <= most)


def completeness_look(colour: str) -> Look:
    """The look of the completeness layer's buildings of one colour."""
    return Look("#555555", 0.5, colour, 0.85)


def completeness_legend(lang: str = "zh") -> list[LegendEntry]:
    """The legend rows of the completeness layer, one per colour of
    :data:`COMPLETENESS_BINS` ("服务类型齐全", "缺 1–2 类服务", ..., "缺 7 类以上服务")."""
    out: list[LegendEntry] = []
    low = 0
    for most, colour in COMPLETENESS_BINS:
        if most == 0:
            label = t("legend_missing_none", lang)
        elif most == float("inf"):
            label = t("legend_missing_over", lang, low=low)
        else:
            label = t("legend_missing_range", lang, low=low, high=int(most))
        out.append(LegendEntry("completeness", label, look=completeness_look(colour)))
        low = int(min(most, 1e9)) + 1
    return out


def landuse_look(colour: str) -> Look:
    """The look of land use of one fill colour (line and fill alike)."""
    return Look(colour, 0.5, colour, 0.6)


def circle_look(rank: int) -> Look:
    """The look of a service circle; ``rank`` 0 is the shortest threshold (darkest)."""
    colour = CIRCLE_COLOURS[min(rank, len(CIRCLE_COLOURS) - 1)]
    return Look(colour, 1.0, colour, 0.28)


def circle_label(minutes: float, lang: str = "zh") -> str:
    """Name of the circle layer of ``minutes`` (layer control and legend)."""
    return t("layer_circle", lang, minutes=minutes)


def layer_label(key: LayerKey, lang: str = "zh") -> str:
    """Name of a layer in the layer control; ``circles`` reads "5/10/15 分钟服务圈".

    >>> layer_label("gaps"), layer_label("circles", "en")
    ('服务盲区', '5/10/15-minute circle')
    """
    if key == "circles":
        return circle_label(15, lang).replace("15", "5/10/15")
    return t(LAYER_NAME_KEYS[key], lang)


#: Station kind group (:data:`planner.schema.STATION_KIND_GROUPS`) -> symbol colour:
#: party-mass service red, health and care orange, culture and leisure purple,
#: safety blue, other kinds grey (none is the proposed sites' green).
GROUP_COLOURS: dict[str, str] = {
    "party_mass": RED,
    "health_care": "#d9730d",
    "culture_leisure": "#7b3294",
    "safety": "#1f5aa6",
    "other": "#6b6b6b",
}


@dataclass(frozen=True)
class StationStyle:
    """A station symbol: shape, the glyph written on it (zh, en), its size (CSS px) and
    its colour (its kind group's, :data:`GROUP_COLOURS`)."""

    shape: Literal["star", "pin", "square", "circle"]
    glyph_zh: str
    glyph_en: str
    size_px: int = 28
    colour: str = RED

    def glyph(self, lang: str) -> str:
        return self.glyph_en if lang == "en" else self.glyph_zh


def _style(
    kind: str,
    shape: Literal["star", "pin", "square", "circle"],
    zh: str,
    en: str,
    size_px: int = 28,
) -> StationStyle:
    return StationStyle(shape, zh, en, size_px, GROUP_COLOURS[station_kind_group(kind)])


#: Station kind -> symbol: shape and glyph per kind, colour per kind group; glyphs white.
STATION_STYLE: dict[str, StationStyle] = {
    k: _style(k, *v)  # type: ignore[arg-type]
    for k, v in {
        "street_centre": ("star", "中", "C", 34),
        "community_station": ("pin", "站", "S"),
        "grid_station": ("pin", "格", "G"),
        "red_property": ("square", "物", "P"),
        "red_office": ("square", "楼", "O"),
        "party_member_room": ("square", "党", "M"),
        "volunteer_station": ("circle", "志", "V"),
        "neighbourhood_centre": ("circle", "邻", "N"),
        "convenience_point": ("circle", "便", "E"),
        "elderly_day_care": ("square", "老", "D"),
        "health_station": ("square", "医", "H"),
        "city_study_room": ("square", "书", "R"),
        "pocket_park": ("circle", "园", "K"),
        "micro_fire_station": ("square", "消", "F"),
        "emergency_shelter": ("pin", "避", "A"),
        "other": ("circle", "其", "?"),
    }.items()
}
#: The station kind whose symbol a proposed site takes (drawn in :data:`SITE_COLOUR`).
SITE_KIND = "community_station"


def station_style(kind: str) -> StationStyle:
    """The symbol of a station ``kind`` (the ``other`` kind's for a kind not in the catalogue)."""
    return STATION_STYLE.get(kind, STATION_STYLE["other"])


#: Parts that have a legend entry, in legend order after stations, sites and circles.
LEGEND_PARTS: tuple[str, ...] = (
    "gaps",
    "uncovered",
    "grids",
    "communities",
    "compounds",
    "roads_major",
    "rivers",
    "railways",
    "boundary",
)
#: i18n key of the legend words of each part.
LEGEND_KEYS: dict[str, str] = {
    "gaps": "layer_gaps",
    "uncovered": "layer_uncovered",
    "grids": "layer_grids",
    "communities": "layer_communities",
    "compounds": "layer_compounds",
    "roads_major": "layer_roads",
    "rivers": "legend_rivers",
    "railways": "legend_railways",
    "boundary": "layer_boundary",
    "sites": "layer_sites",
}
#: The layer each legend part belongs to.
PART_LAYER: dict[str, LayerKey] = {
    "gaps": "gaps",
    "uncovered": "uncovered",
    "grids": "grids",
    "communities": "communities",
    "compounds": "compounds",
    "roads_major": "roads",
    "rivers": "barriers",
    "railways": "barriers",
    "boundary": "boundary",
}


@dataclass(frozen=True)
class LegendEntry:
    """One row of the legend: the words and either a swatch (``look``) or a symbol.

    ``kind`` names the station symbol (:data:`STATION_STYLE`) drawn in
    ``symbol_colour`` (stations and proposed sites); ``look`` is ``None`` then.
    """

    layer: LayerKey
    label: str
    look: Look | None = None
    kind: str | None = None
    symbol_colour: str = RED


def legend_entries(
    *,
    kinds: Iterable[str],
    thresholds: Sequence[float],
    parts: Collection[str],
    sites: bool = False,
    lang: str = "zh",
) -> list[LegendEntry]:
    """The legend of a map drawing station ``kinds``, circles of ``thresholds`` and ``parts``.

    Order: station kinds (in :data:`planner.schema.STATION_KINDS` order), proposed
    sites, circles (shortest threshold first), then :data:`LEGEND_PARTS` drawn.
    """
    present = set(kinds)
    out = [
        LegendEntry(
            "stations", station_kind_label(k, lang), kind=k, symbol_colour=station_style(k).colour
        )
        for k in STATION_KINDS
        if k in present and k in STATION_STYLE
    ]
    if sites:
        out.append(
            LegendEntry("sites", t("layer_sites", lang), kind=SITE_KIND, symbol_colour=SITE_COLOUR)
        )
    ordered = sorted(thresholds)
    out += [
        LegendEntry("circles", circle_label(m, lang), look=circle_look(i))
        for i, m in enumerate(ordered)
    ]
    out += [
        LegendEntry(PART_LAYER[p], t(LEGEND_KEYS[p], lang), look=LOOKS[p])
        for p in LEGEND_PARTS
        if p in parts
    ]
    return out


def map_title(street_name: str, lang: str = "zh") -> str:
    """The map's title: "<street> 红色地图" ("红色地图" alone for a street without a name)."""
    name = (street_name or "").strip()
    return t("map_title", lang, name=name) if name else t("page_redmap", lang)
