"""What the app asks of the planner, in one place: load, coverage, grids, figures.

The app (``app.py``) only wires widgets to these functions and caches their results.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from planner.i18n import column_label, from_english, t
from planner.settings import Settings
from planner.street import HOUSEHOLD_SOURCES, Street, completeness_warning

if TYPE_CHECKING:
    from planner.coverage.layers import CoverageLayers
    from planner.grids.division import GridResult
    from planner.organisation.edits import OrgEditLog  # --- org ---
    from planner.organisation.registers import RegisterFiles  # --- org ---
    from planner.pipeline import SitingLayers

logger = logging.getLogger(__name__)


def load(source: dict[str, Any], settings: Settings) -> Street:
    """Load the street described by ``source`` (``{"kind": "demo"}``, a staged folder, ...).

    Raises :class:`~planner.errors.InputError` with every problem on bad input.
    """
    from planner.load.sources import load_street

    kind = source.get("kind", "demo")
    extra: dict[str, Any] = {}
    if kind == "demo":
        arg: Any = "demo"
    elif kind in ("upload", "osm"):
        arg = Path(source["path"])
        if kind == "osm" and arg.is_dir():  # an extract uploaded with its boundary file
            osm = sorted(p for p in arg.iterdir() if p.name.lower().endswith((".osm", ".pbf")))
            bnd = sorted(p for p in arg.iterdir() if p.stem.lower() == "boundary")
            if osm:
                arg = osm[0]
                if bnd:
                    extra["boundary"] = bnd[0]
        for name in ("stations", "register", "station_kinds"):  # optional separate files
            if source.get(name):
                extra[name] = Path(source[name])
    elif kind == "place":
        arg = f"place:{source['name']}"
    elif kind == "city":  # --- city: a street of a city output folder (issue 17) ---
        from planner.city.run import load_city_street

        return load_city_street(Path(source["city"]), str(source["code"]), settings)
    else:
        raise ValueError(f"unknown source kind {kind!r}")
    street: Street = load_street(
        arg, points_crs=source.get("points_crs", "wgs84"), settings=settings, **extra
    )
    return street


def street_figures(street: Street) -> dict[str, Any]:
    """Key figures of a street that need no coverage (households, layers, stations)."""
    st = street.stations
    in_street = st[st["in_street"]] if "in_street" in st.columns else st
    return {
        "households": int(street.buildings["households"].sum()),
        "population": float(street.buildings["population"].sum()),
        "communities": len(street.communities),
        "compounds": len(street.compounds),
        "buildings": len(street.buildings),
        "stations": len(in_street),
        "area_km2": float(street.boundary.geometry.area.sum() / 1e6)
        if len(street.boundary)
        else 0.0,
    }


def completeness_table(street: Street, *, lang: str = "zh") -> tuple[pd.DataFrame, str | None]:
    """The data-completeness table (buildings and households by source, then the total)
    in ``lang``, and its warning (None when the households are mostly known). An empty
    table for a street without buildings."""
    c = street.report.completeness
    if c is None:
        return pd.DataFrame(), None
    table = pd.DataFrame(
        {
            t("completeness_source", lang): [t(f"hh_source_{k}", lang) for k in HOUSEHOLD_SOURCES]
            + [t("completeness_total", lang)],
            t("completeness_buildings", lang): [c.buildings[k] for k in HOUSEHOLD_SOURCES]
            + [c.total_buildings],
            t("completeness_households", lang): [c.households[k] for k in HOUSEHOLD_SOURCES]
            + [c.total_households],
        }
    )
    return table, completeness_warning(c, lang) if c.warning else None


def community_table(street: Street, *, lang: str = "zh") -> pd.DataFrame:
    """Per community: households, residents, compounds, buildings, stations."""
    c = street.communities
    if len(c) == 0:
        return pd.DataFrame()
    b = street.buildings
    comm_of_building = b["community_id"].where(b["community_id"] != "")
    if comm_of_building.isna().any() and len(b):
        joined = gpd.sjoin(
            gpd.GeoDataFrame(geometry=b.geometry.representative_point(), crs=b.crs),
            c[["community_id", "geometry"]],
            how="left",
            predicate="within",
        )
        joined = joined[~joined.index.duplicated()]
        comm_of_building = comm_of_building.fillna(joined["community_id"])
    hh = b["households"].groupby(comm_of_building).sum()
    pop = b["population"].groupby(comm_of_building).sum()
    nb = b["households"].groupby(comm_of_building).size()
    # a station on a community boundary counts once, in the first community it touches
    stations = gpd.sjoin(
        street.stations[["station_id", "geometry"]],
        c[["community_id", "geometry"]],
        how="inner",
        predicate="intersects",
    ).drop_duplicates("station_id")
    ns = stations.groupby("community_id").size()
    ids = c["community_id"]
    table = pd.DataFrame(
        {
            t("community", lang): c["name"].where(c["name"] != "", ids).to_numpy(),
            "community_id": ids.to_numpy(),
            t("households", lang): ids.map(hh).fillna(0).astype(int).to_numpy(),
            t("col_residents", lang): ids.map(pop).fillna(0).round().astype(int).to_numpy(),
            t("col_buildings", lang): ids.map(nb).fillna(0).astype(int).to_numpy(),
            t("stations", lang): ids.map(ns).fillna(0).astype(int).to_numpy(),
        }
    )
    return table


def coverage_for(street: Street, settings: Settings) -> Any:
    """Coverage layers and figures (:func:`planner.coverage.layers.compute_coverage_layers`).

    The same computation the command line runs, so the app shows the CLI's figures.
    """
    from planner.coverage.layers import compute_coverage_layers

    return compute_coverage_layers(street, settings=settings)


def grids_for(street: Street, settings: Settings) -> Any:
    """Grid division (:func:`planner.grids.division.divide`, a ``GridResult``), or ``None`` if missing.

    Grid codes use the street's own county/street codes (``street.json``) when it
    declares them, as the command line does.
    """
    from planner.grids.codes import effective_code_settings
    from planner.grids.division import divide

    return divide(street, settings=effective_code_settings(settings, street.meta))


def _summary(coverage: Any) -> dict[str, Any]:
    s = getattr(coverage, "summary", None)
    return s if isinstance(s, dict) else {}


def coverage_summary(coverage: Any, settings: Settings, *, lang: str = "zh") -> dict[str, Any]:
    """Key coverage figures: share of households covered per threshold, households in gaps."""
    s = _summary(coverage)
    metrics: list[tuple[str, str]] = []
    pct = s.get("households_covered_pct", {})
    for key in sorted(pct, key=float):
        value = pct[key]
        metrics.append(
            (
                t("covered_at", lang, minutes=float(key)),
                "—" if value is None else f"{float(value):.1f}%",
            )
        )
    covered = s.get("households_covered", {})
    gap = f"{settings.gap_minutes:g}"
    if gap in covered and "households_total" in s:
        metrics.append(
            (t("households_in_gaps", lang), f"{int(s['households_total']) - int(covered[gap]):,}")
        )
    return {"metrics": metrics or [(t("no_data", lang), "—")], "summary": s}


def community_coverage(coverage: Any) -> pd.DataFrame:
    """Per-community coverage figures (the CLI's ``coverage_by_community`` table)."""
    table = getattr(coverage, "table", None)
    if callable(table):
        out: pd.DataFrame = table("community")
        return out
    return pd.DataFrame()


def add_coverage_columns(table: pd.DataFrame, coverage: Any, *, lang: str = "zh") -> pd.DataFrame:
    """Per-community table with coverage shares joined on ``community_id``."""
    per = community_coverage(coverage)
    if per.empty or "id" not in per.columns:
        return table
    keep = [c for c in per.columns if c.startswith(("households_covered", "households_share"))]
    per = _readable(per[["id", *keep]].rename(columns={"id": "community_id"}))
    return table.merge(per, on="community_id", how="left").rename(
        columns=lambda c: coverage_column_label(c, lang)
    )


def coverage_column_label(column: str, lang: str = "zh") -> str:
    """Readable label of a coverage figure column (``households_covered_15`` and
    ``households_share_15_pct``); other names are returned unchanged."""
    import re

    m = re.fullmatch(r"households_covered_(\d+(?:\.\d+)?)", column)
    if m:
        return t("covered_households", lang, minutes=float(m.group(1)))
    m = re.fullmatch(r"households_share_(\d+(?:\.\d+)?)_pct", column)
    if m:
        return t("covered_at", lang, minutes=float(m.group(1))) + " %"
    return column


def grid_table(grids: Any, coverage: Any, *, lang: str = "zh") -> pd.DataFrame:
    """Per grid: code, community, households, and its coverage figures when known."""
    g = grids if isinstance(grids, gpd.GeoDataFrame) else getattr(grids, "grids", None)
    if g is None:
        return pd.DataFrame()
    # names, not ids: the community's name where the grids carry it
    community = "community" if "community" in g.columns else "community_id"
    cols = [
        c
        for c in ("code", community, "households", "population", "area_m2", "reason")
        if c in g.columns
    ]
    cols += [c for c in ("kind", "land_use", "feature_share") if c in g.columns]  # dedicated
    base = _readable(pd.DataFrame(g[cols]).sort_values("code", kind="stable"))
    if "kind" in base.columns:
        known = {"residential", "dedicated"}
        base["kind"] = [
            t(f"grid_kind_{k}", lang) if k in known else k for k in base["kind"].astype(str)
        ]
    if "reason" in base.columns:
        base["reason"] = [reason_text(r, lang) for r in base["reason"].fillna("").astype(str)]
    cov = getattr(coverage, "coverage", None)
    if cov is None:
        return base.rename(columns=_grid_labels(lang))
    from planner.coverage.figures import area_figures

    fig = area_figures(cov, grids=g)
    fig = fig[fig["level"] == "grid"].rename(columns={"id": "code"})
    keep = [c for c in fig.columns if c.startswith(("households_covered", "households_share"))]
    out = _readable(base.merge(fig[["code", *keep]], on="code", how="left"))
    return out.rename(columns=lambda c: coverage_column_label(c, lang)).rename(
        columns=_grid_labels(lang)
    )


def _readable(table: pd.DataFrame) -> pd.DataFrame:
    """Figures as a reader wants them: whole residents, households and m², one decimal
    for percentages (``*_pct``); other columns as they are."""
    out = table.copy()
    for c in out.columns:
        if not pd.api.types.is_numeric_dtype(out[c]) or pd.api.types.is_bool_dtype(out[c]):
            continue
        if c.endswith("_pct"):
            out[c] = out[c].astype("float64").round(1)
        elif c in ("population", "area_m2", "households") or c.startswith("households_"):
            out[c] = out[c].astype("float64").round().astype("Int64")
    return out


def reason_text(reason: str, lang: str = "zh") -> str:
    """A grid's ``reason`` (English, as planner.grids.division writes it) in ``lang``; text of
    another origin (typed in a desktop GIS) as it is."""
    m = from_english(reason, "grid_reason_") if reason else None
    return reason if m is None else m.render(lang)


def _grid_labels(lang: str) -> dict[str, str]:
    return {
        "code": t("code", lang),
        "community_id": t("community", lang),
        "community": t("community", lang),
        "households": t("households", lang),
        "population": t("col_residents", lang),
        "area_m2": t("col_area_m2", lang),
        "reason": t("col_note", lang),
        "kind": t("col_grid_kind", lang),
        "land_use": t("col_land_use", lang),
        "feature_share": t("col_feature_share", lang),
    }


#: Columns of the proposed sites shown on the siting page, in order.
SITE_TABLE_COLUMNS = (
    "rank",
    "name",
    "households_newly_covered",
    "households_served",
    "community_id",
    "recommended_floor_area_m2",
    # --- walk1516: the floor area each site's catchment needs (issue 16 item 6) ---
    "households_catchment",
    "catchment_floor_area_m2",
)


def site_table(sites: Any, *, lang: str = "zh") -> pd.DataFrame:
    """The proposed sites as displayed: the main columns, labelled in ``lang``."""
    table = pd.DataFrame(sites.drop(columns="geometry", errors="ignore"))
    keep = [c for c in SITE_TABLE_COLUMNS if c in table.columns]
    return table[keep or list(table.columns)].rename(columns=lambda c: column_label(c, lang))


def worst_compounds(
    street: Street, coverage: Any, *, lang: str = "zh", n: int = 10
) -> pd.DataFrame:
    """The ``n`` compounds with most households beyond the gap threshold (CLI's table)."""
    per = getattr(coverage, "uncovered_compounds", None)
    if per is None:
        return pd.DataFrame()
    return pd.DataFrame(per).head(n).rename(columns=lambda c: column_label(c, lang))


def export_files(
    street: Street,
    *,
    settings: Settings | None = None,
    coverage: CoverageLayers | None = None,
    grids: GridResult | None = None,
    siting: SitingLayers | None = None,
    images: bool = False,
    registers: RegisterFiles | None = None,
    org_edits: OrgEditLog | None = None,
    map_completeness: bool = False,
) -> dict[str, bytes]:
    """The files ``python -m planner run --no-siting`` writes, for the street on screen.

    Written by the command line's own writer
    (:func:`planner.export.outputs.write_run_files`) into a temporary folder and read
    back: the same names, columns and bytes (``relative name -> bytes``; Shapefiles
    under ``shapefile/``). ``coverage`` is the app's coverage (:func:`coverage_for`,
    computed before the grids existed), ``grids`` its ``GridResult``
    (:func:`grids_for`); the grid figures the command line computes with the
    coverage are added here the same way. ``grids`` is the project's current grids
    (edits included) and ``siting`` the last siting run's proposed sites
    (``sites.geojson`` and the sites on the maps, as ``run`` with siting writes
    them). ``images=False`` leaves out ``redmap.png``
    and ``redmap.pdf`` (a few seconds to draw), as ``--no-images`` does. Grid codes
    use the street's own county/street codes, as the command line does.
    ``registers`` are the planner's own organisation registers (else the demo
    street's synthetic ones) and ``org_edits`` the project's branch and team edits:
    ``organisation_by_grid.csv``, ``grid_cards.pdf`` and the grids' counts use both.
    ``map_completeness`` draws the completeness layer on ``redmap.png``/``.pdf``
    (``OutputOptions.map_completeness``, the command line's ``--map-completeness``).
    """
    import tempfile
    from dataclasses import replace

    from planner.coverage.figures import area_figures
    from planner.export.outputs import OutputOptions, read_files, write_run_files
    from planner.grids.codes import code_status, effective_code_settings
    from planner.pipeline import RunResult

    s = effective_code_settings(settings or Settings(), street.meta)
    codes = code_status(s, street.meta)
    if coverage is not None and grids is not None:  # the CLI's coverage knows the grids
        coverage = replace(coverage, by_area=area_figures(coverage.coverage, grids=grids.grids))
    result = RunResult(
        street=street,
        settings=s,
        grids=grids,
        coverage=coverage,
        codes=codes,
        siting=siting,
        notes=[codes.warning("en")] if codes.provisional else [],
    )
    if grids is not None:  # --- org: the planner's registers (else the demo's) and edits ---
        from planner.organisation.organise import street_organisation

        result.organisation = street_organisation(
            street, grids.grids, files=registers, settings=s, edits=org_edits
        )
    with tempfile.TemporaryDirectory(prefix="planner-export-") as tmp:
        out = Path(tmp) / "export"
        options = OutputOptions(images=images, map_completeness=map_completeness)
        write_run_files(result, out, options=options)
        return read_files(out)


#: Download groups of the export page, in order: (i18n key, which files).
EXPORT_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("export_geojson", (".geojson",)),
    ("export_tables", (".csv", ".xlsx")),
    ("export_gis", (".gpkg", "shapefile.zip")),
    ("export_maps", ("redmap.html", "redmap.png", "redmap.pdf", "grid_cards.pdf")),
    ("export_proof", ("grid_rules.txt", "summary.json", "COMPLETE")),
)


def export_downloads(files: dict[str, bytes]) -> list[tuple[str, dict[str, bytes]]]:
    """The export page's download buttons: ``(i18n key, {file name: bytes})`` per group.

    Every file of :func:`export_files` is offered once, as it is, except the
    Shapefile folder, which comes as one ``shapefile.zip`` holding ``shapefile/...``
    exactly as the command line writes it.
    """
    from planner.export.outputs import zip_files

    shp = sorted(n for n in files if n.startswith("shapefile/"))
    plain = {n: b for n, b in files.items() if "/" not in n}
    if shp:
        plain["shapefile.zip"] = zip_files(files, names=shp)
    groups: list[tuple[str, dict[str, bytes]]] = []
    for key, ends in EXPORT_GROUPS:
        picked = {n: plain.pop(n) for n in sorted(plain) if n.endswith(ends)}
        if picked:
            groups.append((key, picked))
    if plain:  # a file no group names: still offered
        groups.append(("export_other", plain))
    return groups


def propose_sites(
    street: Street,
    coverage: Any,
    settings: Settings,
    *,
    k: int | None = None,
    target_share: float | None = None,
    grids: gpd.GeoDataFrame | None = None,
) -> Any:
    """Proposed new stations: ``k`` sites (maximal coverage) or the fewest reaching
    ``target_share`` (0-1) of households. Returns the siting result (``sites`` layer
    in the street CRS); its figures per area use ``grids`` (the project's current
    grids) when given."""
    from planner.siting.scenario import site_street

    kwargs: dict[str, Any] = {"settings": settings, "after_coverage": False, "grids": grids}
    if target_share is not None:
        kwargs["target_share"] = float(target_share)
    else:
        kwargs["k"] = int(k or 1)
    # the app draws the after-coverage itself (with circles), so the solver skips it
    return site_street(street, coverage.coverage, **kwargs)


def siting_outcome(result: Any) -> dict[str, Any]:
    """What the siting page shows of a siting result: ``sites`` (street CRS),
    ``feasible`` (False when a target share cannot be reached) and the plan's
    ``message`` (why not, or what the plan achieves) and ``layers`` (the
    :class:`~planner.pipeline.SitingLayers` the exports write)."""
    from planner.pipeline import SitingLayers

    plan = getattr(result, "plan", None)
    sites = result.sites if hasattr(result, "sites") else result[0]
    summary = result.summary() if callable(getattr(result, "summary", None)) else {}
    return {
        "sites": sites,
        "layers": SitingLayers(sites=sites, summary=summary, plan=result),
        "feasible": bool(getattr(plan, "feasible", True)),
        "message": str(getattr(plan, "message", "") or ""),
    }


def with_new_stations(street: Street, sites: gpd.GeoDataFrame) -> Street:
    """The street with proposed sites added as community stations (for after-figures)."""
    new = gpd.GeoDataFrame(
        {
            "station_id": [f"new-{i + 1}" for i in range(len(sites))],
            "name": [str(n) for n in sites.get("name", pd.Series([""] * len(sites)))],
            "kind": "community_station",
            "in_street": True,
        },
        geometry=sites.geometry.to_numpy(),
        crs=street.crs,
    )
    stations = pd.concat([street.stations, new], ignore_index=True)
    return street.with_layers(
        stations=gpd.GeoDataFrame(stations, geometry="geometry", crs=street.crs)
    )


def scenario_row(name: str, summary: dict[str, Any], *, sites: int) -> dict[str, Any]:
    """One line of the scenario comparison: new sites and the share covered per threshold."""
    row: dict[str, Any] = {"scenario": name, "new_sites": sites}
    for key, value in summary.get("households_covered_pct", {}).items():
        row[f"covered_{key}min_%"] = value
    return row


def scenario_table(rows: list[dict[str, Any]], *, lang: str = "zh") -> pd.DataFrame:
    """The scenario comparison as displayed: rows of :func:`scenario_row`, labelled in
    ``lang`` (``covered_15min_%`` -> "15 分钟覆盖 %")."""
    import re

    def label(column: str) -> str:
        m = re.fullmatch(r"covered_(\d+(?:\.\d+)?)min_%", column)
        if m:
            return t("covered_at", lang, minutes=float(m.group(1))) + " %"
        return column_label(column, lang)

    return pd.DataFrame(rows).rename(columns=label)


# --- workbench: the floor-area norm per community and per station ---
def _norm_mark(ok: Any, lang: str) -> str:
    """达标 / 未达标 / 面积未知 for one ``floor_area_ok`` value (True, False or NA)."""
    if ok is None or pd.isna(ok):
        return t("norm_unknown", lang)
    return t("norm_met", lang) if bool(ok) else t("norm_short", lang)


def norm_by_community(coverage: Any, *, lang: str = "zh") -> pd.DataFrame:
    """Per community: households, its stations' floor area and what the norm asks
    (``floor_area_per_100_households_m2`` per 100 households, at least
    ``community_min_floor_area_m2``), m² rounded to whole metres, shortest first."""
    per = community_coverage(coverage)
    if per.empty or "floor_area_norm_m2" not in per.columns:
        return pd.DataFrame()
    area = per["station_floor_area_m2"].astype("float64")
    norm = per["floor_area_norm_m2"].astype("float64")
    table = pd.DataFrame(
        {
            t("community", lang): per["name"].where(per["name"] != "", per["id"]).to_numpy(),
            t("households", lang): per["households"].round().astype("int64").to_numpy(),
            t("stations", lang): per["stations"].fillna(0).astype("int64").to_numpy(),
            t("norm_area", lang): area.round().astype("Int64").to_numpy(),
            t("norm_needed", lang): norm.round().astype("int64").to_numpy(),
            t("norm_status", lang): [_norm_mark(v, lang) for v in per["floor_area_ok"]],
            "_gap": (area - norm).to_numpy(),
        }
    )
    return table.sort_values("_gap", na_position="last").drop(columns="_gap")


def norm_by_station(coverage: Any, *, lang: str = "zh") -> pd.DataFrame:
    """Per station inside the street: households it serves (nearest station), its floor
    area and the area per 100 served households against the norm, shortest first."""
    st = getattr(coverage, "stations", None)
    if st is None or len(st) == 0 or "floor_area_per_100_households_m2" not in st.columns:
        return pd.DataFrame()
    st = st[st["in_street"].astype(bool)]
    per100 = st["floor_area_per_100_households_m2"].astype("float64")
    table = pd.DataFrame(
        {
            t("norm_station", lang): st["name"]
            .where(st["name"] != "", st["station_id"])
            .to_numpy(),
            t("norm_served", lang): st["households_served"].astype("int64").to_numpy(),
            t("norm_area", lang): st["floor_area_m2"].round().astype("Int64").to_numpy(),
            t("norm_per100", lang): per100.round(1).to_numpy(),
            t("norm_status", lang): [_norm_mark(v, lang) for v in st["floor_area_ok"]],
        }
    )
    order = per100.fillna(float("inf")).to_numpy().argsort(kind="stable")
    out: pd.DataFrame = table.iloc[order]
    return out


# --- workbench: reports and messages in the reader's language ---
def siting_text(before: Any, after: Any, sites: int, settings: Settings, *, lang: str) -> str:
    """What a siting run achieves, in ``lang``: new stations and the share of households
    within the gap threshold before and after (one decimal)."""
    gap = f"{settings.gap_minutes:g}"
    pct_before = _summary(before).get("households_covered_pct", {}).get(gap)
    pct_after = _summary(after).get("households_covered_pct", {}).get(gap)
    if pct_before is None or pct_after is None:
        return t("siting_result_short", lang, n=sites)
    return t(
        "siting_result",
        lang,
        n=sites,
        minutes=settings.gap_minutes,
        before=float(pct_before),
        after=float(pct_after),
    )


def report_lines(street: Street, *, lang: str = "zh") -> list[str]:
    """The load report as text lines in ``lang`` (the CLI's ``info`` report is English):
    completeness, street, layers, households, stations, walking network, register.
    Load notes follow with their severity in ``lang`` (:func:`note_lines`)."""
    from planner.i18n import layer_name

    rep = street.report
    lines = rep.completeness.to_lines(lang) if rep.completeness else []
    lines.append(t("report_street", lang, name=rep.street_name or "—", crs=str(rep.crs)))
    if rep.synthetic:
        lines.append(t("synthetic_note", lang))
    lines.append(t("report_area", lang, area=rep.area_km2))
    lines += [f"  {layer_name(k, lang)}: {n:,}" for k, n in rep.counts.items()]
    lines.append(
        t(
            "report_households",
            lang,
            total=rep.households_total,
            est=rep.households_estimated,
            residents=rep.population_total,
        )
    )
    lines.append(
        t("report_stations", lang, inside=rep.stations_in_street, margin=rep.stations_in_margin)
    )
    lines.append(t("report_network", lang, km=rep.network_length_km))
    if rep.register is not None:
        r = rep.register
        lines.append(
            t(
                "report_register",
                lang,
                matched=r.get("rows_matched", 0),
                unmatched=len(r.get("unmatched_rows", [])),
                missing=len(r.get("unmatched_buildings", [])),
            )
        )
    return lines + note_lines(street, lang=lang)


def note_lines(street: Street, *, lang: str = "zh") -> list[str]:
    """The load notes (warnings and repairs) as lines in ``lang``: the severity, then the
    note (:meth:`planner.errors.Problem.render`)."""
    return [
        f"  - {t('severity_' + n.severity, lang)}: {n.render(lang)}" for n in street.report.notes
    ]


# --- svcapp: what-if on the facilities page (issue 16 item 5) ---
def whatif_for(
    street: Street,
    changes: list[dict[str, Any]],
    settings: Settings,
    *,
    name: str = "",
    grids: gpd.GeoDataFrame | None = None,
) -> Any:
    """Before and after of ``changes`` on ``street``: the what-if the ``whatif`` command
    runs (:func:`planner.coverage.whatif.run_whatif`, a ``WhatIf``), the changes given
    as a scenario file writes them (``[{"add_station": {...}}, ...]``, WGS84 lon/lat).

    Raises :class:`~planner.errors.InputError` naming the change and the field when a
    change is wrong (an unknown station id, no path near the point, ...).
    """
    from planner.coverage.whatif import parse_scenario, run_whatif

    scenario = parse_scenario({"name": name, "changes": changes}, file="what-if")
    return run_whatif(street, scenario, settings=settings, grids=grids)
