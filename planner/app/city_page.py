"""The app's city page (全市街道): a city output folder's street table and city red map.

A self-contained Streamlit page mounted by one line of ``app.py``: :func:`render` is
called with the street and settings like every page (it needs neither). The planner
gives the folder a ``python -m planner city … --out DIR`` run wrote; the page shows
``city_streets.csv`` (one row per street: status, households, 15-minute coverage, gaps,
grids, rules, stations, time and memory) and ``city_redmap.html`` (streets shaded by
coverage, gaps across street borders), and opens a chosen street in every other page:
the session's source becomes ``{"kind": "city", "city": DIR, "code": CODE}``, which
:func:`planner.app.services.load` loads from the city's inputs with the city's margin
(:func:`planner.city.run.load_city_street`), so the pages show what the city run
computed for that street.

The reading lives in :func:`read_city_folder` (no Streamlit); this module only lays out
widgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from planner.city.run import CITY_FILE
from planner.i18n import STRINGS, t
from planner.i18n import markdown_literal as md
from planner.settings import Settings
from planner.street import Street

__all__ = ["CityFolder", "read_city_folder", "render", "street_table"]

S = st.session_state

#: The street table's columns shown, in order (``city_streets.csv`` names).
SHOWN: tuple[str, ...] = (
    "street_code",
    "name",
    "status",
    "households",
    "households_within_15_min_pct",
    "gaps",
    "grids",
    "rules_ok",
    "stations_in_street",
    "communities_meeting_norm",
    "seconds",
    "peak_memory_mb",
    "error",
)

#: Height of the embedded city map, px.
MAP_HEIGHT_PX = 560


@dataclass
class CityFolder:
    """What the page reads from a city output folder.

    Attributes
    ----------
    path
        The folder.
    streets
        ``city_streets.csv`` (``street_code`` as text).
    map_html
        ``city_redmap.html`` ('' when the run wrote none).
    """

    path: Path
    streets: pd.DataFrame
    map_html: str


def read_city_folder(path: str | Path) -> CityFolder | str:
    """The city folder at ``path``, or the name of the file it lacks
    (``city_streets.csv`` or ``city.json``)."""
    folder = Path(path).expanduser()
    table = folder / "city_streets.csv"
    for need in (table, folder / CITY_FILE):
        if not need.is_file():
            return need.name
    streets = pd.read_csv(table, encoding="utf-8-sig", dtype={"street_code": str})
    page = folder / "city_redmap.html"
    html = page.read_text(encoding="utf-8") if page.is_file() else ""
    return CityFolder(folder, streets, html)


def street_table(streets: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The shown columns of ``city_streets.csv`` with labels in ``lang``."""
    cols = [c for c in SHOWN if c in streets.columns]
    labels = {c: t(f"city_col_{c}", lang) if f"city_col_{c}" in STRINGS else c for c in cols}
    return streets[cols].rename(columns=labels)


def _L(key: str, **fmt: Any) -> str:
    return t(key, S.get("lang", "zh"), **fmt)


def render(street: Street, settings: Settings) -> None:
    """The city page (called by ``app.py`` with the loaded street and settings, unused)."""
    import streamlit.components.v1 as components

    st.subheader(_L("city_page_title"))
    path = st.text_input(
        _L("city_dir"), value=S.get("city_dir", ""), key="w_city_dir", help=_L("city_dir_help")
    ).strip()
    S["city_dir"] = path
    if not path:
        return
    city = read_city_folder(path)
    if isinstance(city, str):
        st.error(_L("city_not_folder", path=md(path), missing=city))
        return
    lang = S.get("lang", "zh")
    st.markdown("**" + _L("city_streets_table", n=len(city.streets)) + "**")
    st.dataframe(street_table(city.streets, lang), hide_index=True)
    failed = city.streets.loc[city.streets["status"] == "failed", "street_code"].tolist()
    if failed:
        st.warning(_L("city_failed_streets", codes=", ".join(failed)))
    _open_panel(city)
    st.markdown("**" + _L("city_map") + "**")
    if city.map_html:
        components.html(city.map_html, height=MAP_HEIGHT_PX)
    else:
        st.info(_L("city_no_map"))


def _open_panel(city: CityFolder) -> None:
    """Choose a street and open it in every page (a failed street cannot be opened)."""
    ok = city.streets.loc[city.streets["status"] != "failed"]
    names = dict(zip(ok["street_code"], ok["name"].astype(str), strict=True))
    if not names:
        return
    code = st.selectbox(
        _L("city_street_pick"),
        list(names),
        format_func=lambda c: f"{c} {names[c]}",
        key="w_city_street",
    )
    if st.button(_L("city_open"), key="w_city_open"):
        S["source"] = {"kind": "city", "city": str(city.path.resolve()), "code": str(code)}
        S["load_error"] = ""
        S["selected_grid"] = ""
        S["selected_atoms"] = []
        st.success(_L("city_opened", code=code))
