"""City rollups from the street folders: ``city_streets.csv``, ``city_communities.csv``, ``city.gpkg``.

Everything is read back from each street's own files (``summary.json``,
``coverage_by_community.csv``, ``grids/circles/gaps.geojson``), so streets reused
from an earlier run (unchanged inputs) count exactly like streets run now; the task
outcomes add what only the run knows (time, peak memory, errors).

``city_streets.csv`` has one row per street: code, name, status (``ok``, ``reused``,
``failed``), households, the share of households within each threshold (%), gaps and
gap area (m²), grids and whether they keep every rule, stations in the street and in
the margin, station floor area and the floor-area norm (m², summed over communities)
and communities meeting it, wall time (s) and the worker's peak memory (MB), and the
error of a failed street.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from planner.city.source import CityInput
from planner.city.task import StreetOutcome
from planner.crs import WGS84
from planner.export.formats import write_csv, write_geopackage

__all__ = [
    "CITY_LAYERS",
    "city_layers",
    "community_table",
    "street_row",
    "street_table",
    "write_rollups",
]

#: Layers of ``city.gpkg`` gathered from every street (each with ``street_code``).
CITY_LAYERS: tuple[str, ...] = ("grids", "circles", "gaps")


def _summary(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _communities(folder: Path) -> pd.DataFrame:
    path = folder / "coverage_by_community.csv"
    if not path.is_file():
        return pd.DataFrame()
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"id": str, "community_id": str})


def street_row(code: str, name: str, folder: Path, outcome: StreetOutcome | None) -> dict[str, Any]:
    """One row of ``city_streets.csv`` (see the module docstring)."""
    row: dict[str, Any] = {"street_code": code, "name": name}
    if outcome is not None and not outcome.ok:
        return {**row, "status": "failed", "error": outcome.error, "seconds": outcome.seconds}
    s = _summary(folder)
    cov = s.get("coverage") or {}
    grids = s.get("grids") or {}
    row["status"] = "ok" if outcome is not None else "reused"
    row["households"] = (s.get("load") or {}).get("households_total")
    for t, pct in (cov.get("households_covered_pct") or {}).items():
        row[f"households_within_{t}_min_pct"] = pct
    row["gaps"] = cov.get("gaps")
    row["gap_area_m2"] = cov.get("gap_area_m2")
    row["grids"] = grids.get("count")
    row["rules_ok"] = grids.get("rules_ok")
    row["stations_in_street"] = (s.get("load") or {}).get("stations_in_street")
    row["stations_in_margin"] = (s.get("load") or {}).get("stations_in_margin")
    comm = _communities(folder)
    if "floor_area_norm_m2" in comm:
        row["station_floor_area_m2"] = round(float(comm["station_floor_area_m2"].sum()), 1)
        row["floor_area_norm_m2"] = round(float(comm["floor_area_norm_m2"].sum()), 1)
        row["communities_meeting_norm"] = int(comm["floor_area_ok"].astype(bool).sum())
        row["communities"] = len(comm)
    if outcome is not None:
        row["seconds"] = outcome.seconds
        row["peak_memory_mb"] = outcome.peak_mb
    return row


def street_table(
    city: CityInput, streets_dir: Path, outcomes: dict[str, StreetOutcome]
) -> pd.DataFrame:
    """``city_streets.csv``: one row per street of ``city``, in its order."""
    rows = [
        street_row(str(code), str(name), streets_dir / str(code), outcomes.get(str(code)))
        for code, name in zip(city.streets["street_code"], city.streets["name"], strict=True)
    ]
    table = pd.DataFrame(rows)
    if "rules_ok" in table:  # True/False, empty for a failed street (not object dtype)
        table["rules_ok"] = table["rules_ok"].astype("boolean")
    return table


def community_table(city: CityInput, streets_dir: Path) -> pd.DataFrame:
    """``city_communities.csv``: every street's community coverage, with ``street_code``."""
    parts = []
    for code in city.streets["street_code"]:
        comm = _communities(streets_dir / str(code))
        if not comm.empty:
            parts.append(comm.assign(street_code=str(code)))
    if not parts:
        return pd.DataFrame(columns=["street_code"])
    out = pd.concat(parts, ignore_index=True)
    return out[["street_code", *[c for c in out.columns if c != "street_code"]]]


def city_layers(city: CityInput, streets_dir: Path) -> dict[str, gpd.GeoDataFrame]:
    """Every street's grids, circles and gaps (WGS84) with ``street_code``, and the streets."""
    out: dict[str, gpd.GeoDataFrame] = {"streets": city.streets.to_crs(WGS84)}
    for layer in CITY_LAYERS:
        frames = []
        for code in city.streets["street_code"]:
            path = streets_dir / str(code) / f"{layer}.geojson"
            if path.is_file():
                gdf = gpd.read_file(path)
                if not gdf.empty:
                    frames.append(gdf.assign(street_code=str(code)))
        if frames:
            out[layer] = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=WGS84)
        else:
            out[layer] = gpd.GeoDataFrame({"street_code": []}, geometry=[], crs=WGS84)
    return out


def write_rollups(
    city: CityInput, out: Path, outcomes: dict[str, StreetOutcome]
) -> dict[str, Path]:
    """Write ``city_streets.csv``, ``city_communities.csv`` and ``city.gpkg`` into ``out``.

    Returns the file per name. CSV files are UTF-8 with BOM, formula-safe
    (:func:`planner.export.formats.write_csv`); the GeoPackage is written atomically.
    """
    streets_dir = out / "streets"
    table = street_table(city, streets_dir, outcomes)
    comm = community_table(city, streets_dir)
    layers = city_layers(city, streets_dir)
    return {
        "city_streets.csv": write_csv(table, out / "city_streets.csv"),
        "city_communities.csv": write_csv(comm, out / "city_communities.csv"),
        "city.gpkg": write_geopackage(
            out / "city.gpkg",
            layers=layers,
            tables={"city_streets": table},
            metadata={"source": city.source},
        ),
    }
