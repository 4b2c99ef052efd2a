"""The red map as a PNG or PDF for printed reports (matplotlib).

The map is drawn in the street's projected CRS (UTM, metres), so the scale bar is
measured, not guessed: its length is corrected by the projection's scale factor at
the map centre, and the north arrow is turned by the grid convergence there. Chinese
labels use Noto Sans CJK from Debian's ``fonts-noto-cjk`` (installed by
``scripts/setup.sh``); without it the map refuses to draw rather than printing
empty boxes for every Chinese character.

Examples
--------
>>> from planner.maps.image import render_map, save_map  # doctest: +SKIP
>>> fig = render_map(street, circles=circles, gaps=gaps, settings=settings)  # doctest: +SKIP
>>> save_map(fig, "out/redmap.png")  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import glob
import logging
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import matplotlib
from pyproj import CRS, Proj

from planner._atomic import atomic_path
from planner.errors import PlannerError
from planner.settings import Settings

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from planner.street import Street


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
# Labels

Language = Literal["zh", "en"]

_TEXT: dict[str, tuple[str, str]] = {
    "title": ("{name} 红色地图", "{name} red map"),
    "subtitle": ("{minutes:g} 分钟步行党群服务圈", "{minutes:g}-minute walking service circles"),
    "boundary": ("街道边界", "Street boundary"),
    "community": ("社区界", "Community boundary"),
    "grid": ("网格", "Grid"),
    "compound": ("小区", "Compound"),
    "building": ("建筑", "Building"),
    "road": ("道路", "Road"),
    "river": ("河流", "River"),
    "railway": ("铁路", "Railway"),
    "circle": ("{m:g} 分钟步行可达", "Within {m:g} min walk"),
    "gap": ("服务空白", "Not covered"),
    "site": ("建议新站点", "Proposed new station"),
    "speed": (
        "步行速度 {speed:g} km/h（{minutes:g} 分钟 ≈ {metres:,.0f} m，沿步行路网计算）",
        "Walking speed {speed:g} km/h ({minutes:g} min ≈ {metres:,.0f} m along the walking network)",
    ),
    "synthetic": (
        "合成数据：虚构街道，仅供演示 (synthetic data)",
        "Synthetic data: a made-up street for demonstration",
    ),
    "north": ("北", "N"),
    "made": ("制图：planner，{date}", "Made with planner, {date}"),
    "covered": ("{m:g} 分钟覆盖户数 {share:.1%}", "Households within {m:g} min: {share:.1%}"),
}

#: Station kinds -> (marker, size, face colour); the red family of the red map.
_STATION_STYLE: dict[str, tuple[str, float, str]] = {
    "street_centre": ("*", 260, "#8b0000"),
    "community_station": ("o", 90, "#d7191c"),
    "grid_station": ("o", 40, "#f03b20"),
    "red_property": ("D", 40, "#e34a33"),
    "red_office": ("s", 40, "#e34a33"),
    "neighbourhood_centre": ("p", 60, "#e34a33"),
    "convenience_point": ("^", 35, "#fc8d59"),
}


def _t(key: str, lang: Language, **kw: Any) -> str:
    zh, en = _TEXT[key]
    return (zh if lang == "zh" else en).format(**kw)


def _station_label(kind: str, lang: Language) -> str:
    from planner.schema import STATION_KINDS

    zh, en = STATION_KINDS.get(kind, (kind, kind))
    return zh if lang == "zh" else en


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
        _t("north", lang),
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
# Layers


def _threshold_column(circles: gpd.GeoDataFrame) -> str | None:
    for c in ("threshold_min", "minutes", "time_min", "threshold"):
        if c in circles.columns:
            return c
    return None


def _circle_unions(circles: gpd.GeoDataFrame, settings: Settings) -> list[tuple[float, Any]]:
    """(minutes, union polygon) pairs, largest threshold first."""
    col = _threshold_column(circles)
    if col is None:
        return [(settings.max_threshold_min, circles.geometry.union_all())]
    out = []
    for minutes, part in circles.groupby(col):
        out.append((float(minutes), part.geometry.union_all()))
    return sorted(out, key=lambda t: -t[0])


def _plot_polys(ax: Axes, gdf: gpd.GeoDataFrame | None, **kw: Any) -> None:
    if gdf is not None and len(gdf):
        gdf.plot(ax=ax, **kw)


def render_map(
    street: Street,
    *,
    grids: gpd.GeoDataFrame | None = None,
    circles: gpd.GeoDataFrame | None = None,
    gaps: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    settings: Settings | None = None,
    title: str | None = None,
    coverage_share: Mapping[float, float] | None = None,
    lang: str = "zh",
    size_in: tuple[float, float] = (11.69, 8.27),
    label_stations: bool = True,
) -> Figure:
    """Draw the red map of ``street`` as a matplotlib figure (A4 landscape by default).

    Parameters
    ----------
    street
        The street; every layer in its projected CRS (metres).
    grids, circles, gaps, sites
        Optional layers in ``street.crs``: grids (outlines), service circles (a
        ``threshold_min``/``minutes`` column gives one shade per threshold), gap
        polygons, proposed new station sites (points).
    settings
        Walking speed and thresholds printed under the map.
    title
        Map title; default "<street name> 红色地图".
    coverage_share
        Share of households covered per threshold (minutes -> 0..1), printed in the
        subtitle when given.
    lang
        ``"zh"`` (default) or ``"en"`` labels.
    size_in
        Figure size in inches (A4 landscape: 11.69 x 8.27).

    Returns
    -------
    matplotlib.figure.Figure
        The figure; save it with :func:`save_map`.
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if lang not in ("zh", "en"):
        raise PlannerError(f"map language {lang!r} is not supported; use 'zh' or 'en'")
    lang_: Language = "en" if lang == "en" else "zh"
    family = register_cjk_font()
    s = settings or Settings()
    crs = CRS.from_user_input(street.crs)
    if crs.is_geographic:
        raise PlannerError("the map image needs the street in its projected CRS (metres)")
    fig = Figure(figsize=size_in, dpi=100)
    fig.patch.set_facecolor("white")
    ax = fig.add_axes((0.02, 0.09, 0.74, 0.80))
    ax.set_aspect("equal")
    ax.set_axis_off()
    handles: list[Any] = []

    # base layers, bottom up
    _plot_polys(
        ax,
        street.landuse[street.landuse["kind"].isin(["park"])] if len(street.landuse) else None,
        color="#e5f0dc",
        linewidth=0,
        zorder=1,
    )
    _plot_polys(
        ax, street.compounds, facecolor="#f4efe6", edgecolor="#d8cbb3", linewidth=0.4, zorder=2
    )
    if len(street.compounds):
        handles.append(Patch(facecolor="#f4efe6", edgecolor="#d8cbb3", label=_t("compound", lang_)))
    # dense layers are rasterised in the PDF (at the save dpi): small, fast files
    _plot_polys(ax, street.buildings, color="#c9c4bd", linewidth=0, zorder=3, rasterized=True)
    if len(street.barriers):
        rivers = street.barriers[street.barriers.geometry.geom_type.str.contains("Polygon")]
        rails = street.barriers[street.barriers.geometry.geom_type.str.contains("Line")]
        _plot_polys(ax, rivers, color="#a6cee3", linewidth=0, zorder=2)
        if len(rivers):
            handles.append(Patch(facecolor="#a6cee3", label=_t("river", lang_)))
        if len(rails):
            rails.plot(ax=ax, color="#555555", linewidth=1.6, zorder=4)
            rails.plot(ax=ax, color="white", linewidth=0.8, linestyle=(0, (4, 4)), zorder=4)
            handles.append(
                Line2D([], [], color="#555555", linewidth=1.6, label=_t("railway", lang_))
            )
    if len(street.roads):
        major = street.roads["highway"].isin(
            ["motorway", "trunk", "primary", "secondary", "tertiary"]
        )
        minor_roads = street.roads[
            ~major & ~street.roads["highway"].isin(["footway", "path", "steps"])
        ]
        _plot_polys(ax, minor_roads, color="#bdbdbd", linewidth=0.6, zorder=4)
        _plot_polys(ax, street.roads[major], color="#8c8c8c", linewidth=1.6, zorder=4)
        handles.append(Line2D([], [], color="#8c8c8c", linewidth=1.6, label=_t("road", lang_)))

    # coverage
    if circles is not None and len(circles):
        unions = _circle_unions(circles, s)
        n = len(unions)
        for i, (minutes, geom) in enumerate(unions):
            alpha = 0.16 + 0.14 * i / max(n - 1, 1)
            gpd.GeoSeries([geom], crs=crs).plot(
                ax=ax, color="#e31a1c", alpha=alpha, linewidth=0, zorder=5, rasterized=True
            )
            handles.append(
                Patch(facecolor="#e31a1c", alpha=alpha, label=_t("circle", lang_, m=minutes))
            )
        gpd.GeoSeries([unions[0][1]], crs=crs).boundary.plot(
            ax=ax, color="#b10026", linewidth=0.4, alpha=0.5, zorder=6
        )
    if gaps is not None and len(gaps):
        gaps.plot(
            ax=ax,
            facecolor="none",
            edgecolor="#636363",
            hatch="////",
            linewidth=0.4,
            zorder=6,
            rasterized=True,
        )
        handles.append(
            Patch(facecolor="white", edgecolor="#636363", hatch="////", label=_t("gap", lang_))
        )

    # administrative lines
    community_labels: list[Any] = []
    if grids is not None and len(grids):
        grids.boundary.plot(ax=ax, color="#4a4a4a", linewidth=0.8, linestyle=(0, (3, 2)), zorder=7)
        handles.append(
            Line2D(
                [],
                [],
                color="#4a4a4a",
                linewidth=0.8,
                linestyle=(0, (3, 2)),
                label=_t("grid", lang_),
            )
        )
    if len(street.communities):
        street.communities.boundary.plot(ax=ax, color="#252525", linewidth=1.1, zorder=8)
        handles.append(Line2D([], [], color="#252525", linewidth=1.1, label=_t("community", lang_)))
        for geom, name in zip(street.communities.geometry, street.communities["name"], strict=True):
            if name:
                p = geom.representative_point()
                community_labels.append(
                    ax.text(
                        p.x,
                        p.y,
                        name,
                        ha="center",
                        va="center",
                        fontsize=9,
                        color="#252525",
                        family=family,
                        zorder=12,
                        alpha=0.85,
                        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.55, "pad": 1.2},
                    )
                )
    street.boundary.boundary.plot(ax=ax, color="#8b0000", linewidth=2.4, zorder=9)
    handles.insert(0, Line2D([], [], color="#8b0000", linewidth=2.4, label=_t("boundary", lang_)))

    # stations
    station_labels: list[tuple[float, float, str]] = []
    st = street.stations
    for kind, (marker, size, colour) in _STATION_STYLE.items():
        part = st[st["kind"] == kind] if len(st) else st
        if not len(part):
            continue
        ax.scatter(
            part.geometry.x,
            part.geometry.y,
            s=size,
            marker=marker,
            c=colour,
            edgecolors="white",
            linewidths=0.9,
            zorder=14,
        )
        handles.append(
            Line2D(
                [],
                [],
                marker=marker,
                color="none",
                markerfacecolor=colour,
                markeredgecolor="white",
                markersize=math.sqrt(size) * 0.9,
                label=_station_label(kind, lang_),
            )
        )
        if label_stations and kind in ("street_centre", "community_station"):
            station_labels += [
                (float(x), float(y), str(name))
                for x, y, name in zip(part.geometry.x, part.geometry.y, part["name"], strict=True)
            ]
    if sites is not None and len(sites):
        ax.scatter(
            sites.geometry.x,
            sites.geometry.y,
            s=190,
            marker="*",
            c="#ffd700",
            edgecolors="#8b0000",
            linewidths=1.0,
            zorder=16,
        )
        handles.append(
            Line2D(
                [],
                [],
                marker="*",
                color="none",
                markerfacecolor="#ffd700",
                markeredgecolor="#8b0000",
                markersize=13,
                label=_t("site", lang_),
            )
        )

    # frame: the street with a small margin
    bx0, by0, bx1, by1 = street.boundary.total_bounds
    pad = max(bx1 - bx0, by1 - by0) * 0.04
    ax.set_xlim(bx0 - pad, bx1 + pad)
    ax.set_ylim(by0 - pad, by1 + pad)
    ax.margins(0)
    # keep the aspect: widen the short side to fill the axes box
    ax.apply_aspect()
    _place_station_labels(fig, ax, station_labels, community_labels, family=family)
    ground_m = _draw_scale_bar(ax, crs, family=family)
    _draw_north_arrow(ax, crs, lang=lang_, family=family)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.add_patch(
        matplotlib.patches.Rectangle(
            (0, 0),
            1,
            1,
            transform=ax.transAxes,
            fill=False,
            edgecolor="#999999",
            linewidth=0.8,
            zorder=30,
        )
    )

    # title, legend, notes
    name = street.name or ("示范街道" if lang_ == "zh" else "Street")
    fig.text(
        0.02,
        0.955,
        title or _t("title", lang_, name=name),
        fontsize=19,
        family=family,
        color="#8b0000",
        va="center",
    )
    sub = _t("subtitle", lang_, minutes=s.gap_minutes)
    if coverage_share:
        sub += "   " + "  ".join(
            _t("covered", lang_, m=m, share=v) for m, v in sorted(coverage_share.items())
        )
    fig.text(0.02, 0.915, sub, fontsize=10.5, family=family, color="#333333", va="center")
    legend = fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.775, 0.89),
        frameon=False,
        prop={"family": family, "size": 8.5},
        handlelength=2.2,
        title="图例" if lang_ == "zh" else "Legend",
        title_fontproperties={"family": family, "size": 10.5},
        alignment="left",
        labelspacing=0.8,
        borderaxespad=0,
    )
    legend.set_zorder(40)
    notes = [
        _t(
            "speed",
            lang_,
            speed=s.walk_speed_kmh,
            minutes=s.gap_minutes,
            metres=s.walk_m_per_min * s.gap_minutes,
        )
    ]
    credit = attribution_text(street, lang=lang_)
    if credit:
        notes.append(credit)
    notes.append(_t("made", lang_, date=dt.date.today().isoformat()) + f"   {crs.name}")
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
    fig._planner_scale_m = ground_m  # type: ignore[attr-defined]  # for tests and logs
    return fig


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
    parts: list[str] = []
    attr = (street.attribution or "").strip()
    if "openstreetmap" in attr.lower():
        parts.append("© OpenStreetMap contributors")
        rest = attr.replace("© OpenStreetMap contributors", "").strip(" ;,")
        if rest:
            parts.append(rest)
    elif attr:
        parts.append(attr)
    if street.synthetic and not any(w in attr.lower() for w in ("synthetic", "合成")):
        parts.append(_t("synthetic", lang))
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
