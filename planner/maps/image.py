"""The red map as a PNG or PDF for printed reports (matplotlib).

The same layers, colours, line styles and legend words as the HTML map: both draw a
:class:`planner.maps.content.MapContent` in the looks of :mod:`planner.maps.style`
(one CSS pixel of the web map is :data:`planner.maps.style.PRINT_PT_PER_PX` points
on paper). The map is drawn in the street's projected CRS (UTM, metres), so the scale
bar is measured, not guessed: its length is corrected by the projection's scale
factor at the map centre, and the north arrow is turned by the grid convergence
there. Chinese labels use Noto Sans CJK from Debian's ``fonts-noto-cjk`` (installed by
``scripts/setup.sh``); without it the map refuses to draw rather than printing empty
boxes for every Chinese character.

Examples
--------
>>> from planner.maps.image import render_map, save_map  # doctest: +SKIP
>>> fig = render_map(street, coverage=coverage, grids=grids.grids, settings=settings)  # doctest: +SKIP
>>> save_map(fig, "out/redmap.png")  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import glob
import logging
import math
import os
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import matplotlib
import numpy as np
from matplotlib.legend_handler import HandlerBase
from matplotlib.path import Path as MplPath
from matplotlib.transforms import offset_copy
from pyproj import CRS, Proj

from planner._atomic import atomic_path
from planner.coverage.layers import CoverageLayers
from planner.errors import PlannerError
from planner.grids.codes import provisional_note
from planner.i18n import t
from planner.maps.content import MapContent, map_content
from planner.maps.style import (
    ALL_LAYERS,
    COMPLETENESS_BINS,
    DARK_RED,
    LANDUSE_COLOURS,
    LANDUSE_OTHER,
    LOOKS,
    PRINT_MARKER_PT_PER_PX,
    SITE_COLOUR,
    SITE_KIND,
    LayerKey,
    LegendEntry,
    Look,
    circle_look,
    completeness_colour,
    completeness_legend,
    completeness_look,
    landuse_look,
    map_title,
    rgba,
    station_style,
)
from planner.settings import Settings
from planner.street import completeness_warning

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from planner.street import Street

#: Languages of the map's words.
Language = Literal["zh", "en"]


log = logging.getLogger(__name__)

#: Where the Noto CJK fonts of Debian's ``fonts-noto-cjk`` live (and common other places).
CJK_FONT_PATTERNS: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-*.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-*.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-*.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-*.ttc",
    "/usr/local/share/fonts/NotoSansCJK-*.ttc",
)
#: Font family used for every label (the Simplified Chinese face of the collection).
CJK_FAMILY = "Noto Sans CJK SC"

_registered: str | None = None


class FontMissingError(PlannerError):
    """No CJK font is installed, so Chinese labels cannot be drawn."""


def find_cjk_fonts() -> list[str]:
    """Paths of installed Noto Sans CJK font files (``PLANNER_CJK_FONT`` first)."""
    found: list[str] = []
    env = os.environ.get("PLANNER_CJK_FONT")
    if env:
        found.append(env)
    for pattern in CJK_FONT_PATTERNS:
        found += sorted(glob.glob(pattern))
    return [p for p in dict.fromkeys(found) if Path(p).is_file()]


def register_cjk_font() -> str:
    """Register the Noto Sans CJK fonts with matplotlib; return the family name.

    Raises
    ------
    FontMissingError
        When no Noto Sans CJK font file is installed; the message says how to fix it.
    """
    global _registered
    if _registered is not None:
        return _registered
    from matplotlib import font_manager

    paths = find_cjk_fonts()
    if not paths:
        raise FontMissingError(
            "no Chinese (CJK) font found for the map image: looked for "
            + ", ".join(CJK_FONT_PATTERNS)
            + ". Fix: install Debian's fonts-noto-cjk (`sudo apt-get install fonts-noto-cjk`; "
            "scripts/setup.sh does it), or set PLANNER_CJK_FONT to a NotoSansCJK .ttc/.otf file"
        )
    for p in paths:
        font_manager.fontManager.addfont(p)
    names = {f.name for f in font_manager.fontManager.ttflist if f.fname in paths}
    family = CJK_FAMILY if CJK_FAMILY in names else sorted(names)[0]
    _registered = family
    log.info("registered CJK font %s from %s", family, paths[0])
    return family


# ---------------------------------------------------------------------------------------
# Scale bar and north arrow


def nice_length_m(target_m: float) -> float:
    """The largest 1, 2 or 5 × 10^n metres not above ``target_m``.

    >>> nice_length_m(730.0), nice_length_m(1900.0), nice_length_m(49.0)
    (500.0, 1000.0, 20.0)
    """
    if target_m <= 0:
        raise ValueError("target_m must be positive")
    exp = math.floor(math.log10(target_m))
    for m in (5, 2, 1):
        if m * 10**exp <= target_m:
            return float(m * 10**exp)
    return float(10**exp)


def projection_factors(crs: CRS, x: float, y: float) -> tuple[float, float]:
    """(scale factor, grid convergence in degrees) of projected ``crs`` at ``x, y`` (m).

    The scale factor k turns ground metres into map metres (UTM: 0.9996-1.0010);
    the convergence is the angle from grid north to true north.
    """
    proj = Proj(crs)
    lon, lat = proj(x, y, inverse=True)
    f = proj.get_factors(lon, lat)
    return float(f.meridional_scale), float(f.meridian_convergence)


def _draw_scale_bar(ax: Axes, crs: CRS, *, family: str) -> float:
    from matplotlib.patches import Rectangle

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    k, _ = projection_factors(crs, (x0 + x1) / 2, (y0 + y1) / 2)
    ground_m = nice_length_m((x1 - x0) * 0.3 / k)
    bar = ground_m * k  # map metres
    seg = bar / 4
    left = x0 + (x1 - x0) * 0.04
    base = y0 + (y1 - y0) * 0.045
    h = (y1 - y0) * 0.011
    ax.add_patch(
        Rectangle(
            (left - seg * 0.2, base - h * 1.2),
            bar + seg * 0.7,
            h * 5.2,
            facecolor="white",
            edgecolor="none",
            alpha=0.8,
            zorder=19,
        )
    )
    for i in range(4):
        ax.add_patch(
            Rectangle(
                (left + i * seg, base),
                seg,
                h,
                facecolor="black" if i % 2 == 0 else "white",
                edgecolor="black",
                linewidth=0.6,
                zorder=20,
            )
        )
    for i in (0, 2, 4):
        value = ground_m * i / 4
        text = f"{value / 1000:g} km" if (i == 4 and ground_m >= 1000) else f"{value:g}"
        if i == 4 and ground_m < 1000:
            text += " m"
        ax.text(
            left + i * seg,
            base + h * 1.6,
            text,
            ha="center",
            va="bottom",
            fontsize=7,
            family=family,
            zorder=21,
        )
    return ground_m


def _draw_north_arrow(ax: Axes, crs: CRS, *, lang: Language, family: str) -> float:
    from matplotlib.patches import Circle

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    _, conv = projection_factors(crs, (x0 + x1) / 2, (y0 + y1) / 2)
    # true north is turned by -convergence from grid north (east of the central meridian)
    ang = math.radians(-conv)
    cx = x1 - (x1 - x0) * 0.07
    cy = y1 - (y1 - y0) * 0.12
    length = (y1 - y0) * 0.07
    dx, dy = -math.sin(ang) * length, math.cos(ang) * length
    ax.annotate(
        "",
        xy=(cx + dx / 2, cy + dy / 2),
        xytext=(cx - dx / 2, cy - dy / 2),
        arrowprops={
            "arrowstyle": "-|>,head_width=0.5,head_length=1.0",
            "color": "black",
            "linewidth": 2.0,
        },
        zorder=20,
    )
    ax.text(
        cx + dx * 0.8,
        cy + dy * 0.8,
        t("north", lang),
        ha="center",
        va="center",
        fontsize=12,
        family=family,
        zorder=21,
    )
    ax.add_patch(
        Circle(
            (cx + dx * 0.1, cy + dy * 0.1),
            length * 0.8,
            facecolor="white",
            edgecolor="none",
            alpha=0.8,
            zorder=19,
        )
    )
    return conv


# ---------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------
# Layers: one painter per layer, in the looks of planner.maps.style


@dataclass
class _Pen:
    """What every painter needs: the figure and axes, the language, the font, labels."""

    fig: Figure
    ax: Axes
    lang: Language
    family: str
    label_stations: bool = True
    #: The completeness layer is drawn: residential buildings are its, not grey.
    completeness: bool = False
    community_labels: list[Any] = field(default_factory=list)
    station_labels: list[tuple[float, float, str]] = field(default_factory=list)

    def zorder(self, layer: LayerKey) -> float:
        """Layers stack in :data:`planner.maps.style.ALL_LAYERS` order (above zorder 1)."""
        return 1.0 + ALL_LAYERS.index(layer)


def _paint(
    pen: _Pen,
    gdf: gpd.GeoDataFrame | None,
    look: Look,
    layer: LayerKey,
    *,
    rasterized: bool = False,
) -> None:
    """Draw ``gdf`` (polygons or lines) in ``look``; dense layers rasterised in PDFs."""
    if gdf is None or len(gdf) == 0:
        return
    kw: dict[str, Any] = {
        "linewidth": look.width_pt,
        "linestyle": look.print_dashes(),
        "zorder": pen.zorder(layer),
        "rasterized": rasterized,
    }
    edge = rgba(look.colour, look.opacity)
    polys = gdf[gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    lines = gdf.drop(polys.index)
    if len(polys):
        face = "none" if look.fill is None else rgba(look.fill, look.fill_opacity)
        polys.plot(ax=pen.ax, facecolor=face, edgecolor=edge, **kw)
    if len(lines):
        lines.plot(ax=pen.ax, color=edge, **kw)


def _paint_landuse(c: MapContent, pen: _Pen) -> None:
    lu = c.street.landuse
    colours = lu["kind"].map(LANDUSE_COLOURS).fillna(LANDUSE_OTHER)
    for colour in sorted(set(colours)):
        _paint(pen, lu[colours == colour], landuse_look(colour), "landuse")


def _paint_communities(c: MapContent, pen: _Pen) -> None:
    """Community areas and their names (placed first; station labels avoid them)."""
    comm = c.street.communities
    _paint(pen, comm, LOOKS["communities"], "communities")
    named = comm[comm["name"].astype(str) != ""]
    points = named.geometry.representative_point()
    for p, name in zip(points, named["name"].astype(str), strict=True):
        pen.community_labels.append(
            pen.ax.text(
                p.x,
                p.y,
                name,
                ha="center",
                va="center",
                fontsize=9,
                color="#252525",
                family=pen.family,
                zorder=pen.zorder("stations") - 0.5,
                alpha=0.85,
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.55, "pad": 1.2},
            )
        )


def _paint_circles(c: MapContent, pen: _Pen) -> None:
    """The union circle of each threshold, the largest first (nearer ones drawn on top)."""
    assert c.circles is not None
    for rank in reversed(range(len(c.thresholds))):
        part = c.circles[c.circles["threshold_min"] == c.thresholds[rank]]
        _paint(pen, part, circle_look(rank), "circles", rasterized=True)


def _paint_gaps(c: MapContent, pen: _Pen) -> None:
    _paint(pen, c.gaps, LOOKS["gaps"], "gaps", rasterized=True)


def _paint_compounds(c: MapContent, pen: _Pen) -> None:
    _paint(pen, c.compounds, LOOKS["compounds"], "compounds")


def _paint_uncovered(c: MapContent, pen: _Pen) -> None:
    _paint(pen, c.uncovered, LOOKS["uncovered"], "uncovered")


def _paint_completeness(c: MapContent, pen: _Pen) -> None:
    """Residential buildings coloured by the service kinds they miss (the web map's
    completeness layer, :data:`planner.maps.style.COMPLETENESS_BINS`); rasterised."""
    b = c.completeness
    assert b is not None
    colours = b["missing_kinds"].map(completeness_colour)
    for _most, colour in COMPLETENESS_BINS:
        look = completeness_look(colour)
        _paint(pen, b[colours == colour], look, "completeness", rasterized=True)


def _paint_buildings(c: MapContent, pen: _Pen) -> None:
    """Buildings in grey; with the completeness layer only those it does not colour."""
    b = c.street.buildings
    coloured = c.completeness if pen.completeness else None
    if coloured is not None:
        b = b[~b["building_id"].isin(coloured["building_id"])]
    _paint(pen, b, LOOKS["buildings"], "buildings", rasterized=True)


def _paint_roads(c: MapContent, pen: _Pen) -> None:
    _paint(pen, c.minor_roads, LOOKS["roads_minor"], "roads")
    _paint(pen, c.major_roads, LOOKS["roads_major"], "roads")


def _paint_barriers(c: MapContent, pen: _Pen) -> None:
    _paint(pen, c.rivers, LOOKS["rivers"], "barriers")
    _paint(pen, c.railways, LOOKS["railways"], "barriers")


def _paint_grids(c: MapContent, pen: _Pen) -> None:
    _paint(pen, c.grids, LOOKS["grids"], "grids")


def _paint_boundary(c: MapContent, pen: _Pen) -> None:
    _paint(pen, c.street.boundary, LOOKS["boundary"], "boundary")


def _paint_stations(c: MapContent, pen: _Pen) -> None:
    """Red symbols by kind with their glyphs; names of centres and community stations."""
    st = c.street.stations
    for kind in c.station_kinds():
        part = st[st["kind"] == kind]
        xy = np.column_stack([part.geometry.x, part.geometry.y])
        _symbols(pen, xy, kind, station_style(kind).colour, zorder=pen.zorder("stations"))
        if pen.label_stations and kind in ("street_centre", "community_station"):
            pen.station_labels += [
                (float(x), float(y), str(n))
                for (x, y), n in zip(xy, part["name"].astype(str), strict=True)
            ]


def _paint_sites(c: MapContent, pen: _Pen) -> None:
    assert c.sites is not None
    centres = c.sites.geometry.centroid
    xy = np.column_stack([centres.x, centres.y])
    _symbols(pen, xy, SITE_KIND, SITE_COLOUR, zorder=pen.zorder("sites"))


#: Layer -> its painter, called in :data:`ALL_LAYERS` order when the layer has features
#: (the grid editor's atoms are not printed).
_PAINTERS: dict[LayerKey, Callable[[MapContent, _Pen], None]] = {
    "landuse": _paint_landuse,
    "communities": _paint_communities,
    "circles": _paint_circles,
    "gaps": _paint_gaps,
    "compounds": _paint_compounds,
    "uncovered": _paint_uncovered,
    "completeness": _paint_completeness,
    "buildings": _paint_buildings,
    "roads": _paint_roads,
    "barriers": _paint_barriers,
    "grids": _paint_grids,
    "boundary": _paint_boundary,
    "stations": _paint_stations,
    "sites": _paint_sites,
}


# ---------------------------------------------------------------------------------------
# Station symbols: the web map's shapes, colour and glyphs at print size


@dataclass(frozen=True)
class _PrintSymbol:
    """A station shape in matplotlib: marker, size factor, glyph position and size.

    ``scale``: markersize = size × scale; ``lift``: the glyph's centre above the
    station's point, × size; ``glyph``: the glyph's font size, × size (as on the web).
    """

    marker: Any
    scale: float = 1.0
    lift: float = 0.0
    glyph: float = 0.45


def _pin_path() -> MplPath:
    """A map pin (the web map's shape) whose tip is the origin: height 1, head 0.84 wide."""
    ang = np.radians(np.linspace(-40.0, 220.0, 27))
    head = np.column_stack([0.42 * np.cos(ang), 0.58 + 0.42 * np.sin(ang)])
    return MplPath(np.vstack([[[0.0, 0.0]], head, [[0.0, 0.0]]]), closed=True)


#: Symbol shape -> its print form. matplotlib scales a path marker so that its largest
#: |coordinate| is half the marker size: the pin (tip at the origin) is drawn at twice
#: the size to be ``size`` tall.
_PRINT_SYMBOLS: dict[str, _PrintSymbol] = {
    "pin": _PrintSymbol(_pin_path(), scale=2.0, lift=0.58, glyph=0.4),
    "star": _PrintSymbol("*", scale=1.3, glyph=0.3),
    "square": _PrintSymbol("s"),
    "circle": _PrintSymbol("o"),
}


def _symbols(pen: _Pen, xy: np.ndarray, kind: str, colour: str, *, zorder: float) -> None:
    """Station symbols of one ``kind`` at ``xy`` (street CRS, metres) with white glyphs."""
    if len(xy) == 0:
        return
    style = station_style(kind)
    sym = _PRINT_SYMBOLS[style.shape]
    size_pt = style.size_px * PRINT_MARKER_PT_PER_PX
    ax = pen.ax
    ax.scatter(
        xy[:, 0],
        xy[:, 1],
        s=(size_pt * sym.scale) ** 2,
        marker=sym.marker,
        c=colour,
        edgecolors="white",
        linewidths=0.7,
        zorder=zorder,
    )
    lifted = offset_copy(ax.transData, fig=pen.fig, x=0, y=sym.lift * size_pt, units="points")
    for x, y in xy:
        ax.text(
            x,
            y,
            style.glyph(pen.lang),
            transform=lifted,
            ha="center",
            va="center",
            fontsize=size_pt * sym.glyph,
            color="white",
            fontweight="bold",
            family=pen.family,
            zorder=zorder + 0.1,
        )


class _SymbolHandler(HandlerBase):
    """Legend handler drawing a station symbol (a :class:`LegendEntry` with a kind)."""

    def __init__(self, lang: Language, family: str) -> None:
        super().__init__()
        self.lang, self.family = lang, family

    def create_artists(
        self,
        legend: Any,
        orig_handle: Any,
        xdescent: float,
        ydescent: float,
        width: float,
        height: float,
        fontsize: float,
        trans: Any,
    ) -> list[Any]:
        from matplotlib.lines import Line2D
        from matplotlib.text import Text

        entry: LegendEntry = orig_handle
        style = station_style(entry.kind or "")
        sym = _PRINT_SYMBOLS[style.shape]
        size = min(style.size_px * PRINT_MARKER_PT_PER_PX, fontsize * 1.6)
        cx, cy = width / 2 - xdescent, height / 2 - ydescent
        if sym.lift:  # a pin: its tip below the middle, its head above
            cy -= size / 2
        symbol = Line2D(
            [cx],
            [cy],
            marker=sym.marker,
            markersize=size * sym.scale,
            markerfacecolor=entry.symbol_colour,
            markeredgecolor="white",
            linestyle="none",
            transform=trans,
        )
        glyph = Text(
            cx,
            cy + sym.lift * size,
            style.glyph(self.lang),
            ha="center",
            va="center",
            fontsize=size * sym.glyph,
            color="white",
            fontweight="bold",
            family=self.family,
            transform=trans,
        )
        return [symbol, glyph]


def _legend_handle(entry: LegendEntry) -> Any:
    """A matplotlib legend handle of one legend entry (swatch, line or symbol)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    look = entry.look
    if look is None:
        return entry  # drawn by _SymbolHandler
    edge = rgba(look.colour, look.opacity)
    if look.fill is None:
        return Line2D([], [], color=edge, linewidth=look.width_pt, linestyle=look.print_dashes())
    return Patch(
        facecolor=rgba(look.fill, look.fill_opacity),
        edgecolor=edge,
        linewidth=look.width_pt,
        linestyle=look.print_dashes(),
    )


def _add_legend(fig: Figure, entries: list[LegendEntry], pen: _Pen) -> None:
    """The legend right of the map: the entries of :meth:`MapContent.legend`."""
    legend = fig.legend(
        handles=[_legend_handle(e) for e in entries],
        labels=[e.label for e in entries],
        handler_map={LegendEntry: _SymbolHandler(pen.lang, pen.family)},
        loc="upper left",
        bbox_to_anchor=(0.775, 0.89),
        frameon=False,
        prop={"family": pen.family, "size": 8.5},
        handlelength=2.2,
        title=t("legend", pen.lang),
        title_fontproperties={"family": pen.family, "size": 10.5},
        alignment="left",
        labelspacing=0.8,
        borderaxespad=0,
    )
    legend.set_zorder(40)


# ---------------------------------------------------------------------------------------
# The sheet


def render_map(
    street: Street,
    *,
    coverage: CoverageLayers | None = None,
    grids: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    settings: Settings | None = None,
    title: str | None = None,
    lang: str = "zh",
    size_in: tuple[float, float] = (11.69, 8.27),
    label_stations: bool = True,
    completeness: bool = False,
) -> Figure:
    """Draw the red map of ``street`` as a matplotlib figure (A4 landscape by default).

    Parameters
    ----------
    street
        The street; every layer in its projected CRS (metres).
    coverage
        The coverage layers (:func:`planner.coverage.layers.compute_coverage_layers`):
        union circles per threshold, gaps and uncovered compounds are drawn, and the
        share of households within the gap threshold is printed under the title.
    grids
        The grid layer (:attr:`planner.grids.division.GridResult.grids`), outlines.
    sites
        Proposed new station sites (points).
    settings
        Walking speed and gap threshold printed under the map.
    title
        Map title; default "<street name> 红色地图".
    lang
        ``"zh"`` (default) or ``"en"`` labels.
    size_in
        Figure size in inches (A4 landscape: 11.69 x 8.27).
    label_stations
        Write the names of the street centre and the community stations.
    completeness
        Colour the residential buildings by the number of service kinds they miss
        within their circle's minutes (the web map's completeness layer, with its
        colours in the legend); needs ``coverage`` with its services
        (:class:`planner.coverage.layers.ServiceLayers`), else nothing is added.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; save it with :func:`save_map`.
    """
    if lang not in ("zh", "en"):
        raise PlannerError(f"map language {lang!r} is not supported; use 'zh' or 'en'")
    crs = CRS.from_user_input(street.crs)
    if crs.is_geographic:
        raise PlannerError("the map image needs the street in its projected CRS (metres)")
    s = settings or Settings()
    content = map_content(street, coverage=coverage, grids=grids, sites=sites)
    fig, pen = _sheet(size_in, "en" if lang == "en" else "zh", label_stations)
    pen.completeness = completeness and content.has("completeness")
    for key in ALL_LAYERS:
        if key == "completeness" and not pen.completeness:
            continue  # an option: off unless asked for, as on the web map
        if key in _PAINTERS and content.has(key):
            _PAINTERS[key](content, pen)
    ground_m = _frame(fig, pen, street, crs)
    _add_texts(fig, pen, content, s, crs, title=title)
    legend = content.legend(pen.lang)
    if pen.completeness:
        legend += completeness_legend(pen.lang)
    _add_legend(fig, legend, pen)
    fig._planner_scale_m = ground_m  # type: ignore[attr-defined]  # for tests and logs
    return fig


def _sheet(
    size_in: tuple[float, float], lang: Language, label_stations: bool
) -> tuple[Figure, _Pen]:
    """A white figure and the map axes (equal aspect, no axis lines)."""
    from matplotlib.figure import Figure

    family = register_cjk_font()
    fig = Figure(figsize=size_in, dpi=100)
    fig.patch.set_facecolor("white")
    ax = fig.add_axes((0.02, 0.09, 0.74, 0.80))
    ax.set_aspect("equal")
    ax.set_axis_off()
    return fig, _Pen(fig=fig, ax=ax, lang=lang, family=family, label_stations=label_stations)


def _frame(fig: Figure, pen: _Pen, street: Street, crs: CRS) -> float:
    """Fit the street with a small margin; labels, scale bar, north arrow and a border.

    Returns the scale bar's ground length, metres.
    """
    return _frame_bounds(fig, pen, tuple(street.boundary.total_bounds), crs)


def _frame_bounds(
    fig: Figure, pen: _Pen, bounds: tuple[float, float, float, float], crs: CRS
) -> float:
    """Fit ``bounds`` (x0, y0, x1, y1 in ``crs``, m) with a small margin; labels, scale
    bar, north arrow and a border. Returns the scale bar's ground length, metres."""
    from matplotlib.patches import Rectangle

    ax = pen.ax
    bx0, by0, bx1, by1 = bounds
    pad = max(bx1 - bx0, by1 - by0) * 0.04
    ax.set_xlim(bx0 - pad, bx1 + pad)
    ax.set_ylim(by0 - pad, by1 + pad)
    ax.margins(0)
    ax.apply_aspect()  # keep the aspect: widen the short side to fill the axes box
    _place_station_labels(fig, ax, pen.station_labels, pen.community_labels, family=pen.family)
    ground_m = _draw_scale_bar(ax, crs, family=pen.family)
    _draw_north_arrow(ax, crs, lang=pen.lang, family=pen.family)
    frame = Rectangle(
        (0, 0), 1, 1, transform=ax.transAxes, fill=False, edgecolor="#999999", linewidth=0.8
    )
    frame.set_zorder(30)
    ax.add_patch(frame)
    return ground_m


def _add_texts(
    fig: Figure,
    pen: _Pen,
    content: MapContent,
    s: Settings,
    crs: CRS,
    *,
    title: str | None,
) -> None:
    """Title, subtitle (with the share covered) and the notes under the map."""
    lang, family = pen.lang, pen.family
    heading = title or map_title(content.street.name or "", lang)
    sub = t("map_subtitle", lang, minutes=s.gap_minutes)
    share = covered_share(content.coverage, s.gap_minutes)
    if share is not None:
        sub += "   " + t("map_covered", lang, minutes=s.gap_minutes, share=share)
    provisional = provisional_note(content.grids, lang)
    if provisional:
        sub += "   " + provisional
    metres = s.walk_m_per_min * s.gap_minutes
    speed = t("map_speed_note", lang, speed=s.walk_speed_kmh, minutes=s.gap_minutes, metres=metres)
    notes = [speed]
    credit = attribution_text(content.street, lang=lang)
    if credit:
        notes.append(credit)
    notes.append(made_note(crs, lang))
    _completeness_text(fig, content.street, lang=lang, family=family)
    _write_texts(fig, family, heading, sub, notes)


def made_note(crs: CRS, lang: Language) -> str:
    """The "made with planner, <date>" note and the map's CRS name."""
    return t("map_made", lang, date=dt.date.today().isoformat()) + f"   {crs.name}"


def _write_texts(fig: Figure, family: str, heading: str, sub: str, notes: list[str]) -> None:
    """The sheet's title and subtitle above the map and the notes under it."""
    fig.text(0.02, 0.955, heading, fontsize=19, family=family, color=DARK_RED, va="center")
    fig.text(0.02, 0.915, sub, fontsize=10.5, family=family, color="#333333", va="center")
    fig.text(
        0.02,
        0.055,
        "\n".join(notes),
        fontsize=7.5,
        family=family,
        color="#444444",
        va="top",
        linespacing=1.5,
    )


def _completeness_text(fig: Figure, street: Street, *, lang: Language, family: str) -> None:
    """Where the households come from, bottom right under the legend; the warning in
    red above it when most households are guessed."""
    c = street.report.completeness
    if c is None:
        return
    width = 34 if lang == "zh" else 52  # characters per line in the legend's column
    lines = textwrap.wrap(c.short(lang), width)
    fig.text(0.775, 0.09, "\n".join(lines), fontsize=7, family=family, color="#444444", va="bottom")
    if c.warning:
        warn = textwrap.wrap(completeness_warning(c, lang), width)
        y = 0.09 + 0.016 * (len(lines) + 0.5)
        fig.text(
            0.775,
            y,
            "\n".join(warn),
            fontsize=7,
            family=family,
            color=DARK_RED,
            weight="bold",
            va="bottom",
        )


def covered_share(coverage: CoverageLayers | None, minutes: float) -> float | None:
    """Share (0..1) of households within ``minutes`` from the coverage summary, or None."""
    if coverage is None:
        return None
    pct = coverage.summary.get("households_covered_pct", {}).get(f"{minutes:g}")
    return None if pct is None else float(pct) / 100.0


#: Where a station's label may sit, in points from the marker, tried in this order.
_LABEL_OFFSETS: tuple[tuple[float, float, str], ...] = (
    (5, 4, "left"),
    (5, -11, "left"),
    (-5, 4, "right"),
    (-5, -11, "right"),
    (0, 9, "center"),
    (0, -16, "center"),
)


def _place_station_labels(
    fig: Figure,
    ax: Axes,
    labels: list[tuple[float, float, str]],
    obstacles: list[Any],
    *,
    family: str,
) -> None:
    """Label stations where the text overlaps no other label (greedy, 6 positions).

    Community names are placed first and stay; each station label takes the first
    position free of the labels already placed, or the least crowded one.
    """
    if not labels:
        return
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    placed = [a.get_window_extent(renderer) for a in obstacles]
    for x, y, name in labels:
        best: tuple[float, Any] | None = None
        for dx, dy, ha in _LABEL_OFFSETS:
            ann = ax.annotate(
                name,
                (x, y),
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                fontsize=6.5,
                color="#8b0000",
                family=family,
                zorder=15,
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.6, "pad": 0.6},
            )
            box = ann.get_window_extent(renderer)
            overlap = sum(
                max(0.0, min(box.x1, b.x1) - max(box.x0, b.x0))
                * max(0.0, min(box.y1, b.y1) - max(box.y0, b.y0))
                for b in placed
            )
            if best is None or overlap < best[0]:
                if best is not None:
                    best[1].remove()
                best = (overlap, ann)
            else:
                ann.remove()
            if overlap == 0:
                break
        assert best is not None
        placed.append(best[1].get_window_extent(renderer))


def attribution_text(street: Street, *, lang: Language = "zh") -> str:
    """The data credit to print: OSM credit when the data came from OSM, synthetic note."""
    return credit_text(street.attribution or "", street.synthetic, lang=lang)


def credit_text(attribution: str, synthetic: bool, *, lang: Language = "zh") -> str:
    """The data credit of a map of data credited ``attribution`` (OSM credit first) and
    the synthetic-data note when ``synthetic``."""
    parts: list[str] = []
    attr = attribution.strip()
    if "openstreetmap" in attr.lower():
        parts.append("© OpenStreetMap contributors")
        rest = attr.replace("© OpenStreetMap contributors", "").strip(" ;,")
        if rest:
            parts.append(rest)
    elif attr:
        parts.append(attr)
    if synthetic and not any(w in attr.lower() for w in ("synthetic", "合成")):
        parts.append(t("synthetic_note", lang))
    return "   ".join(parts)


ImageFormat = Literal["png", "pdf"]


def save_map(fig: Figure, path: str | Path, *, dpi: int = 200) -> Path:
    """Save a map figure to ``path`` (PNG or PDF by suffix), atomically.

    PDF embeds the CJK font as TrueType (Type 42), so Chinese text stays text. The map
    uses the regular weight only: subsetting each CJK font file for the PDF takes
    seconds, and one file is enough.
    """
    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in ("png", "pdf"):
        raise PlannerError(f"map image format {fmt!r} is not supported; use .png or .pdf")
    with matplotlib.rc_context({"pdf.fonttype": 42}), atomic_path(target) as tmp:
        fig.savefig(
            tmp,
            format=fmt,
            dpi=dpi,
            facecolor="white",
            metadata={"Title": fig.texts[0].get_text() if fig.texts else "red map"}
            if fmt == "pdf"
            else {"Software": "planner"},
        )
    log.info("wrote map image %s", target)
    return target


def write_map_images(
    street: Street,
    out_dir: str | Path,
    *,
    formats: Iterable[ImageFormat] = ("png", "pdf"),
    stem: str = "redmap",
    dpi: int = 200,
    **render_kwargs: Any,
) -> list[Path]:
    """Render the map once and save it in each format as ``out_dir/<stem>.<fmt>``."""
    fig = render_map(street, **render_kwargs)
    out = [save_map(fig, Path(out_dir) / f"{stem}.{fmt}", dpi=dpi) for fmt in formats]
    return out


# ---------------------------------------------------------------------------------------
# --- city17: a sheet of prepared layers (the city red map, planner.city.citymap) ---


@dataclass
class SheetLayer:
    """One layer of :func:`render_layers`: features in the sheet's CRS, their look, and
    the red map layer whose place in the stack (:data:`ALL_LAYERS`) they take."""

    gdf: gpd.GeoDataFrame
    look: Look
    layer: LayerKey


def render_layers(
    layers: list[SheetLayer],
    *,
    crs: CRS,
    bounds: tuple[float, float, float, float],
    title: str,
    subtitle: str,
    notes: list[str],
    legend: list[LegendEntry],
    labels: Iterable[tuple[float, float, str]] = (),
    lang: str = "zh",
    size_in: tuple[float, float] = (11.69, 8.27),
) -> Figure:
    """A map sheet of prepared layers in the red map's frame: the same sheet, scale bar
    (measured in ``crs``), north arrow, legend, title and notes as :func:`render_map`.

    Parameters
    ----------
    layers
        Drawn in order, each in its look (projected ``crs``, metres).
    crs
        The layers' projected CRS.
    bounds
        The extent to fit (x0, y0, x1, y1 in ``crs``).
    title, subtitle, notes
        Words above and under the map (notes: one line each; the attribution among them).
    legend
        The legend's entries.
    labels
        (x, y, text) written on the map, centred, on a white halo.
    lang
        ``"zh"`` or ``"en"`` (the north arrow's letter).
    size_in
        Figure size in inches (A4 landscape).
    """
    if lang not in ("zh", "en"):
        raise PlannerError(f"map language {lang!r} is not supported; use 'zh' or 'en'")
    crs = CRS.from_user_input(crs)
    if crs.is_geographic:
        raise PlannerError("the map image needs its layers in a projected CRS (metres)")
    fig, pen = _sheet(size_in, "en" if lang == "en" else "zh", False)
    for item in layers:
        _paint(pen, item.gdf, item.look, item.layer)
    for x, y, text in labels:
        pen.ax.text(x, y, text, ha="center", va="center", fontsize=7.5, family=pen.family,
                    color=DARK_RED, zorder=16,
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 0.8})  # fmt: skip
    ground_m = _frame_bounds(fig, pen, bounds, crs)
    _write_texts(fig, pen.family, title, subtitle, notes)
    _add_legend(fig, legend, pen)
    fig._planner_scale_m = ground_m  # type: ignore[attr-defined]  # for tests and logs
    return fig
