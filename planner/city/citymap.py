"""The city red map (``city_redmap.html``, ``.png``, ``.pdf``): streets shaded by coverage,
drill-down, border gaps.

A standalone folium page (:func:`planner.maps.offline.standalone_html`, every script
inlined) in the red map's vocabulary (:mod:`planner.maps.style`: the boundary red, the
gaps' look, the circles' colours): each street is shaded by the share of its households
within ``gap_minutes`` (the 15-minute promise; darker red = fewer covered), its popup
links to the street's own ``streets/<code>/redmap.html``; every street's gaps are drawn,
and gaps that straddle a street border (a gap of one street within :data:`TOUCH_M` of a
gap of a neighbouring street) are outlined in red: they need two street offices to act.

The same map is drawn for print (:func:`write_city_images`: ``city_redmap.png`` and
``.pdf``) on the street red map's sheet (:func:`planner.maps.image.render_layers`: the
measured scale bar, north arrow, legend and attribution), in the same looks
(:func:`street_look`, :data:`BORDER_GAP_LOOK`, the gaps' look), each street labelled
with its name and share.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

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
from planner.maps.style import CIRCLE_COLOURS, LOOKS, RED, LegendEntry, Look

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from planner.maps.image import Language

__all__ = [
    "BORDER_GAP_LOOK",
    "TOUCH_M",
    "border_gaps",
    "city_figure",
    "city_map",
    "shade",
    "street_look",
    "write_city_images",
    "write_city_map",
]

#: Gaps of two streets closer than this (m) form one gap across their border.
TOUCH_M = 30.0


def shade(pct: float | None) -> str:
    """Fill colour of a street covering ``pct`` % of households: the circles' colours,
    lightest at 100 %, darker by quarters (None: no data, grey)."""
    if pct is None or not np.isfinite(pct):
        return "#dddddd"
    light_first = CIRCLE_COLOURS[::-1]
    return light_first[min(len(light_first) - 1, int((100.0 - float(pct)) / 25.0))]


def street_look(pct: float | None) -> Look:
    """How a street covering ``pct`` % is drawn: the boundary red outline, filled in its
    :func:`shade`."""
    return _filled(shade(pct))


def _filled(colour: str) -> Look:
    return Look(RED, 2.5, colour, 0.55)


#: A gap across a street border: outlined thick in the boundary red.
BORDER_GAP_LOOK = Look(RED, 4.0, RED, 0.1)

#: The shades' legend: a share standing for each quarter, and its words.
SHADE_LEGEND: tuple[tuple[float | None, str], ...] = (
    (100.0, "> 75%"),
    (75.0, "50–75%"),
    (50.0, "25–50%"),
    (25.0, "≤ 25%"),
    (None, ""),
)


@dataclass
class CityMapData:
    """What both city maps draw (WGS84): the streets with their share ``pct`` (NaN: no
    data), every street's gaps and the gaps across a street border."""

    streets: gpd.GeoDataFrame
    gaps: gpd.GeoDataFrame
    across: gpd.GeoDataFrame
    households: pd.Series


def city_map_data(city: CityInput, out: Path, *, minutes: float = 15.0) -> CityMapData:
    """The city map's layers, read back from the street folders of ``out``."""
    streets_dir = out / "streets"
    table = street_table(city, streets_dir, {}).set_index("street_code")
    col = f"households_within_{minutes:g}_min_pct"
    layers = city_layers(city, streets_dir)
    streets = layers["streets"].copy()
    codes = streets["street_code"].astype(str)
    pct = table[col] if col in table else pd.Series(dtype=float)
    streets["pct"] = pd.to_numeric(codes.map(pct), errors="coerce").to_numpy()
    held = table["households"] if "households" in table else pd.Series(dtype=float)
    households = pd.to_numeric(codes.map(held), errors="coerce")
    gaps = layers["gaps"]
    return CityMapData(streets, gaps, border_gaps(gaps), households.set_axis(codes))


def _pct(value: float | None) -> float | None:
    """A share as a float, None for a missing one (None or NaN)."""
    return None if value is None or not np.isfinite(value) else float(value)


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
    data = city_map_data(city, out, minutes=minutes)
    b = data.streets.total_bounds
    m = folium.Map(tiles=None, control_scale=True)
    m.fit_bounds([[b[1], b[0]], [b[3], b[2]]])
    group = folium.FeatureGroup(name=t("city_layer_streets", lang, minutes=minutes)).add_to(m)
    for _, row in data.streets.iterrows():
        code = str(row["street_code"])
        pct = _pct(row["pct"])
        text = t(
            "city_street_popup",
            lang,
            name=html.escape(str(row["name"])),
            code=html.escape(code),
            pct=t("city_no_data", lang) if pct is None else f"{pct:.1f}%",
            minutes=minutes,
        )
        look = street_look(pct).leaflet()
        link = f"streets/{code}/redmap.html"
        if (streets_dir / code / "redmap.html").is_file():
            text += f'<br><a href="{html.escape(link)}" target="_blank">{t("city_open_street_map", lang)}</a>'
        shape = folium.GeoJson(
            gpd.GeoSeries([row.geometry], crs=WGS84).__geo_interface__,
            style_function=lambda _f, look=look: look,
            tooltip=html.escape(f"{row['name']} ({code})"),
        ).add_to(group)
        folium.Popup(text, max_width=320).add_to(shape)
    if not data.gaps.empty:
        gl = LOOKS["gaps"].leaflet()
        folium.GeoJson(
            data.gaps[["street_code", "geometry"]].__geo_interface__,
            name=t("layer_gaps", lang),
            style_function=lambda _f: gl,
        ).add_to(m)
    if not data.across.empty:
        across_group = folium.FeatureGroup(name=t("city_layer_border_gaps", lang)).add_to(m)
        bl = BORDER_GAP_LOOK.leaflet()
        for _, g in data.across.iterrows():
            gap = folium.GeoJson(
                gpd.GeoSeries([g.geometry], crs=WGS84).__geo_interface__,
                style_function=lambda _f: bl,
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


def _city_name(city: CityInput) -> str:
    return str(city.meta.get("name") or Path(city.source.rstrip("/")).name or city.source)


def city_figure(city: CityInput, out: Path, *, minutes: float = 15.0, lang: str = "zh") -> Figure:
    """The city red map for print (A4 landscape, the street map's sheet): streets shaded
    by the share of households within ``minutes``, labelled with name and share; every
    street's gaps; gaps across a street border outlined in red; legend, scale bar, north
    arrow, the city's figure (households-weighted share) and the data credit."""
    from planner.maps.image import SheetLayer, credit_text, made_note, render_layers

    data = city_map_data(city, out, minutes=minutes)
    c = shapely.union_all(data.streets.geometry.to_numpy()).centroid
    utm = utm_crs_for(c.x, c.y)
    streets = data.streets.to_crs(utm)
    fills = streets["pct"].map(lambda v: shade(_pct(v)))
    layers = [
        SheetLayer(streets[fills == colour], _filled(colour), "communities")
        for colour in dict.fromkeys(fills)
    ]
    layers.append(SheetLayer(data.gaps.to_crs(utm), LOOKS["gaps"], "gaps"))
    layers.append(SheetLayer(data.across.to_crs(utm), BORDER_GAP_LOOK, "boundary"))
    points = streets.geometry.representative_point()
    labels = [
        (p.x, p.y, f"{name}\n{'—' if _pct(v) is None else f'{float(v):.1f}%'}")
        for p, name, v in zip(points, streets["name"], streets["pct"], strict=True)
    ]
    legend = [
        LegendEntry("communities", _shade_words(pct, words, minutes, lang), street_look(pct))
        for pct, words in SHADE_LEGEND
    ]
    legend += [
        LegendEntry("gaps", t("layer_gaps", lang), LOOKS["gaps"]),
        LegendEntry("boundary", t("city_layer_border_gaps", lang), BORDER_GAP_LOOK),
    ]
    language: Language = "en" if lang == "en" else "zh"
    sub = t("map_subtitle", language, minutes=minutes)
    share = _city_share(data)
    if share is not None:
        sub += "   " + t("map_covered", language, minutes=minutes, share=share)
    synthetic = bool(city.meta.get("synthetic", False))
    credit = credit_text(str(city.meta.get("attribution") or ""), synthetic, lang=language)
    notes = [t("city_map_note", language, n=len(streets), minutes=minutes)]
    notes += [credit] if credit else []
    notes.append(made_note(utm, language))
    return render_layers(
        layers,
        crs=utm,
        bounds=tuple(streets.total_bounds),
        title=t("city_map_title", language, city=_city_name(city)),
        subtitle=sub,
        notes=notes,
        legend=legend,
        labels=labels,
        lang=language,
    )


def _shade_words(pct: float | None, words: str, minutes: float, lang: str) -> str:
    if pct is None:
        return t("city_legend_no_data", lang)
    return t("city_legend_shade", lang, range=words, minutes=minutes)


def _city_share(data: CityMapData) -> float | None:
    """The city's share (0..1) of households within the minutes: every street with a
    figure, weighted by its households; None without any."""
    pct = data.streets.set_index(data.streets["street_code"].astype(str))["pct"]
    held = data.households.reindex(pct.index)
    ok = pct.notna() & held.notna()
    if not ok.any() or float(held[ok].sum()) <= 0:
        return None
    return float((pct[ok] * held[ok]).sum() / held[ok].sum() / 100.0)


def write_city_images(
    city: CityInput,
    out: Path,
    *,
    formats: Iterable[str] = ("png", "pdf"),
    minutes: float = 15.0,
    lang: str = "zh",
) -> list[Path]:
    """Draw the city red map once and save ``out/city_redmap.<fmt>`` for each format
    (atomic, :func:`planner.maps.image.save_map`); return the paths."""
    from planner.maps.image import save_map

    fig = city_figure(city, out, minutes=minutes, lang=lang)
    return [save_map(fig, out / f"city_redmap.{fmt}") for fmt in formats]
