"""The grid card (网格信息卡 / 网格公示牌): one printable A4 page per grid, in Chinese.

Each card shows the grid's map (its buildings, compounds, the service stations near it
and the walking service circle of the gap threshold), its code, community, households
and residents, its party branch and groups, its team with each post, and the nearest
party-mass service station with the households' walking time. Phones are printed only
with ``phones=True`` (off by default: a card is posted in public).

:func:`grid_cards` gathers what each card says (:class:`GridCard`, plain data, tested
by itself); :func:`render_card` draws one page with matplotlib; :func:`write_cards_pdf`
writes the pages of many grids into one PDF (the run's ``grid_cards.pdf``, or one per
community), the Noto Sans CJK font embedded as TrueType so the text stays text.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from planner._atomic import atomic_path
from planner.organisation.organise import Organisation
from planner.street import Street

log = logging.getLogger(__name__)

#: A4 portrait, inches.
A4_PORTRAIT_IN: tuple[float, float] = (8.27, 11.69)
#: Ground shown around the grid on its card, metres.
CARD_MARGIN_M = 120.0
#: The red of the red map.
RED = "#c8102e"


@dataclass(frozen=True)
class GridCard:
    """What one grid's card says (plain text and numbers; see :func:`grid_cards`)."""

    code: str
    community: str
    households: int
    residents: int
    branch: str
    groups: int
    central_households: int
    party_members: int
    team: tuple[tuple[str, str, str], ...]  # (post as written, name, phone or '')
    station: str
    walk_min: float | None
    synthetic: bool

    def lines(self) -> list[str]:
        """The card's text lines (Chinese), as printed beside the map."""
        out = [
            f"网格编码：{self.code}",
            f"所属社区：{self.community or '—'}",
            f"户数：{self.households:,} 户    常住人口：{self.residents:,} 人",
            f"网格党支部：{self.branch or '未建立'}",
            f"楼栋党小组：{self.groups} 个    党员中心户：{self.central_households} 户"
            f"    党员：{self.party_members} 名",
            "网格队伍（1+1+n）：" + ("" if self.team else "未配备"),
        ]
        out += [
            f"    {post}：{name}" + (f"  {phone}" if phone else "")
            for post, name, phone in self.team
        ]
        if self.station:
            walk = "" if self.walk_min is None else f"，住户步行中位 {self.walk_min:.0f} 分钟"
            out.append(f"最近党群服务站：{self.station}{walk}")
        return out


def _team(
    staff: pd.DataFrame | None, code: str, *, phones: bool
) -> tuple[tuple[str, str, str], ...]:
    """The grid's staff, leader first, then full-time workers, then the "n"."""
    if staff is None:
        return ()
    rows = staff[staff["grids"].map(lambda g: code in g).astype(bool)]
    order = rows["post"].map({"leader": 0, "full_time": 1}).fillna(2)
    rows = rows.assign(_o=order).sort_values(["_o", "row"])
    return tuple(
        (str(p), str(n), str(ph) if phones else "")
        for p, n, ph in zip(rows["post_text"], rows["name"], rows["phone"], strict=True)
    )


def _nearest_station(
    buildings: pd.DataFrame | None, grid_of: pd.Series, code: str
) -> tuple[str, float | None]:
    """The station nearest to most of the grid's households, and their median walk, min."""
    if buildings is None or "station_name" not in buildings.columns:
        return "", None
    grid = grid_of.reindex(buildings.index).fillna("")
    mine = buildings[(grid == code).to_numpy() & (buildings["households"] > 0).to_numpy()]
    mine = mine[mine["station_name"].fillna("") != ""]
    if len(mine) == 0:
        return "", None
    served = mine.groupby("station_name")["households"].sum()
    times = np.repeat(
        mine["time_min"].to_numpy(dtype=float), mine["households"].to_numpy(dtype=int)
    )
    times = times[np.isfinite(times)]
    return str(served.idxmax()), (float(np.median(times)) if len(times) else None)


def grid_cards(
    org: Organisation,
    street: Street,
    grids: gpd.GeoDataFrame,
    *,
    buildings: pd.DataFrame | None = None,
    phones: bool = False,
) -> list[GridCard]:
    """What each grid's card says, in the grids' order (by community, then code).

    Parameters
    ----------
    org
        The organisation of ``grids`` (:func:`planner.organisation.organise.organise`).
    street
        The street (its name says whether it is synthetic).
    grids
        The grids (``code``, ``households``, ``population``, ``community``).
    buildings
        Buildings with their nearest station and walking time (``station_name``,
        ``time_min``, ``households``; the coverage's buildings), for the nearest station.
    phones
        Print the staff's phones (off by default).
    """
    t = org.report.by_grid.set_index("code")
    staff = org.registers.table("staff")
    grid_of = org.registers.building_grid
    out = []
    for g in grids.sort_values(
        ["community_id", "code"] if "community_id" in grids else ["code"]
    ).itertuples():
        code = str(g.code)
        row = t.loc[code] if code in t.index else pd.Series(dtype=object)
        branch = str(row.get("branch", "") or "")
        shared = str(row.get("branch_shared_with", "") or "")
        if branch and shared:
            branch += f"（与 {shared} 共建）"
        station, walk = _nearest_station(buildings, grid_of, code)
        out.append(
            GridCard(
                code=code,
                community=str(getattr(g, "community", "") or ""),
                households=int(getattr(g, "households", 0) or 0),
                residents=round(float(getattr(g, "population", 0) or 0)),
                branch=branch,
                groups=int(row.get("party_groups", 0) or 0),
                central_households=int(row.get("central_households", 0) or 0),
                party_members=int(row.get("party_members", 0) or 0),
                team=_team(staff, code, phones=phones),
                station=station,
                walk_min=walk,
                synthetic=bool(street.synthetic),
            )
        )
    return out


def _polygons(ax: Axes, geoms: Sequence[object], **style: object) -> None:
    """Draw polygons' outer rings as one collection (fast: no GeoPandas plotting)."""
    import shapely
    from matplotlib.collections import PolyCollection

    parts = shapely.get_parts(np.asarray(geoms, dtype=object))
    rings = [np.asarray(shapely.get_coordinates(shapely.get_exterior_ring(p))) for p in parts
             if shapely.get_type_id(p) == 3]  # fmt: skip
    if rings:
        ax.add_collection(PolyCollection(rings, **style))  # type: ignore[arg-type]


def _draw_map(ax: Axes, street: Street, geom: object, *, circles: gpd.GeoDataFrame | None,
              family: str) -> None:  # fmt: skip
    """The grid and what is around it, in metres: the service circle (light red), the
    compounds (dashed), buildings (the grid's dark), the grid (red), stations (stars)."""
    import shapely

    x0, y0, x1, y1 = shapely.bounds(geom) + np.array([-1, -1, 1, 1]) * CARD_MARGIN_M
    view = shapely.box(x0, y0, x1, y1)
    if circles is not None and len(circles):
        shown = circles.geometry.intersection(view)
        shown = shown[~shown.is_empty]
        if len(shown):
            shown.plot(ax=ax, color="#f4b6b6", alpha=0.5, linewidth=0)
    comps = street.compounds.geometry
    comps = comps.iloc[comps.sindex.query(view, predicate="intersects")]
    _polygons(ax, list(comps), facecolor="none", edgecolor="#888888", linewidths=0.6,
              linestyles="--")  # fmt: skip
    b = street.buildings.geometry
    b = b.iloc[b.sindex.query(view, predicate="intersects")]
    inside = shapely.within(shapely.point_on_surface(b.to_numpy()), geom)
    _polygons(ax, list(b[~inside]), facecolor="#d9d9d9", edgecolor="none")
    _polygons(ax, list(b[inside]), facecolor="#7a7a7a", edgecolor="none")
    _polygons(ax, [geom], facecolor="none", edgecolor=RED, linewidths=2.0)
    st = street.stations[street.stations.within(view)]
    if len(st):
        ax.scatter(st.geometry.x, st.geometry.y, s=40, color=RED, marker="*", zorder=5)
        for x, y, name in zip(st.geometry.x, st.geometry.y, st["name"], strict=True):
            ax.annotate(str(name), (x, y), xytext=(4, 4), textcoords="offset points",
                        fontsize=7, color="#8b0000", family=family)  # fmt: skip
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()


def render_card(
    card: GridCard,
    street: Street,
    geom: object,
    *,
    circles: gpd.GeoDataFrame | None = None,
) -> Figure:
    """One A4 portrait page: title, the grid's map, its text lines, a footer."""
    from planner.maps.image import register_cjk_font

    family = register_cjk_font()
    fig = Figure(figsize=A4_PORTRAIT_IN, dpi=100)
    fig.patch.set_facecolor("white")
    fig.text(0.5, 0.955, f"网格信息卡　{card.community}　{card.code[-5:]}", ha="center",
             fontsize=20, color=RED, family=family)  # fmt: skip
    ax = fig.add_axes((0.06, 0.44, 0.88, 0.48))
    _draw_map(ax, street, geom, circles=circles, family=family)
    y = 0.40
    for line in card.lines():
        fig.text(0.08, y, line, fontsize=11, family=family, va="top")
        y -= 0.028
    footer = f"{street.name}　{dt.date.today():%Y-%m-%d}"
    if card.synthetic:
        footer += "　合成数据，非真实地点（姓名为虚构）"
    fig.text(0.5, 0.02, footer, ha="center", fontsize=8, color="#666666", family=family)
    return fig


def write_cards_pdf(
    cards: Sequence[GridCard],
    street: Street,
    grids: gpd.GeoDataFrame,
    path: str | Path,
    *,
    circles: gpd.GeoDataFrame | None = None,
) -> Path:
    """Every card of ``cards`` as one page of a PDF at ``path`` (written atomically).

    The Chinese text is embedded as TrueType (Type 42) subsets of Noto Sans CJK, so
    it can be searched and copied. ``circles``: the service circle drawn on each map
    (the union at the gap threshold, street CRS).
    """
    from matplotlib.backends.backend_pdf import PdfPages

    geoms = dict(zip(grids["code"].astype(str), grids.geometry, strict=True))
    target = Path(path)
    with (
        matplotlib.rc_context({"pdf.fonttype": 42}),
        atomic_path(target) as tmp,
        PdfPages(
            tmp,
            metadata={
                "Title": f"{street.name} 网格信息卡",
                "Creator": "planner",
                "CreationDate": None,
            },
        ) as pdf,
    ):
        for card in cards:
            pdf.savefig(render_card(card, street, geoms[card.code], circles=circles))
    log.info("wrote %d grid cards to %s", len(cards), target)
    return target


def write_grid_cards(
    org: Organisation,
    street: Street,
    grids: gpd.GeoDataFrame,
    out_dir: str | Path,
    *,
    coverage_buildings: pd.DataFrame | None = None,
    circles: gpd.GeoDataFrame | None = None,
    phones: bool = False,
    by_community: bool = False,
) -> list[Path]:
    """``grid_cards.pdf`` (one page per grid) in ``out_dir``; with ``by_community`` also
    ``grid_cards/<community_id>.pdf``, every card of one community. Returns the paths.

    ``coverage_buildings`` (the coverage's buildings) gives the nearest station and
    walking time; ``circles`` the service circle drawn on each map.
    """
    cards = grid_cards(org, street, grids, buildings=coverage_buildings, phones=phones)
    out = Path(out_dir)
    paths = [write_cards_pdf(cards, street, grids, out / "grid_cards.pdf", circles=circles)]
    if by_community and "community_id" in grids.columns:
        community_of = dict(
            zip(grids["code"].astype(str), grids["community_id"].astype(str), strict=True)
        )
        (out / "grid_cards").mkdir(exist_ok=True)
        for cid in dict.fromkeys(community_of[c.code] for c in cards):
            mine = [c for c in cards if community_of[c.code] == cid]
            safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in cid) or "community"
            paths.append(
                write_cards_pdf(
                    mine, street, grids, out / "grid_cards" / f"{safe}.pdf", circles=circles
                )
            )
    return paths
