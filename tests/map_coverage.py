"""Coverage layers made by hand for the map tests (no network, no routing).

:func:`coverage_layers` fills a :class:`planner.coverage.layers.CoverageLayers` with the
parts a test gives and empty tables for the rest, so a test states only what it draws.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd

from planner.coverage.layers import CoverageLayers


def coverage_layers(
    crs: Any,
    *,
    circles: gpd.GeoDataFrame | None = None,
    gaps: gpd.GeoDataFrame | None = None,
    buildings: pd.DataFrame | None = None,
    uncovered_compounds: pd.DataFrame | None = None,
    stations: pd.DataFrame | None = None,
    summary: dict[str, Any] | None = None,
) -> CoverageLayers:
    """Coverage layers holding the given parts (street CRS ``crs``); the rest empty."""

    def empty(columns: list[str]) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=crs)

    return CoverageLayers(
        coverage=None,
        circles=circles if circles is not None else empty(["view", "minutes", "threshold_min"]),
        gaps=gaps if gaps is not None else empty(["households"]),
        buildings=buildings  # type: ignore[arg-type]
        if buildings is not None
        else pd.DataFrame({"building_id": [], "time_min": [], "station_name": []}),
        by_area=pd.DataFrame(),
        stations=stations
        if stations is not None
        else pd.DataFrame({"station_id": [], "households_served": []}),
        uncovered_compounds=uncovered_compounds
        if uncovered_compounds is not None
        else pd.DataFrame({"compound_id": []}),
        summary=summary or {},
    )
