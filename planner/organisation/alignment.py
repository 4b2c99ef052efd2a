"""Aligning grid systems (多网合一): our grids against the street's other grid layers.

A street keeps other grid divisions beside the new one: the comprehensive-governance
(综治) grid, the city-management unit grid (城管单元网格), the police beat (警务责任区).
:func:`read_other_grids` loads one (any layer file the planner reads: GeoJSON,
GeoPackage, Shapefile; its cells named by an id column); :func:`align` reports, for
each of our grids, which of their cells it overlaps and by how much, and whether it
*nests*: lies inside one of their cells but for at most ``tolerance`` of its area
(default 2 %, digitising noise between two layers drawn apart); the grids that do not
nest are the misfits. :func:`nested_division` divides the street again so that every
grid nests inside the other layer (its cells cut the atoms, as community boundaries
do) and reports what that costs in balance against the current division.

Every area is measured in the street's projected CRS (m²).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.errors import InputError, ProblemLog
from planner.grids.rules import RuleReport
from planner.load.tables import normalise_text
from planner.settings import Settings
from planner.street import Street

log = logging.getLogger(__name__)

#: Share of a grid's area that may lie outside the cell it nests in (digitising noise).
NEST_TOLERANCE = 0.02
#: Overlaps smaller than this share of our grid are not listed (slivers), fraction.
MIN_LISTED_SHARE = 0.005
#: Id columns of another grid layer (normalised), in the order tried.
ID_COLUMNS: tuple[str, ...] = (
    "cell_id", "grid_id", "id", "code", "编号", "网格编号", "网格编码", "单元编号",
    "责任区编号", "name", "名称", "网格名称",
)  # fmt: skip


def read_other_grids(
    path: str | Path, street: Street, *, name: str | None = None, file_crs: Any = None
) -> gpd.GeoDataFrame:
    """Another grid layer as ``cell_id``, ``layer`` and polygons in the street's CRS.

    Parameters
    ----------
    path
        A polygon layer file (GeoJSON, GeoPackage, Shapefile) the loader reads.
    street
        The street (its CRS).
    name
        The layer's name in reports (default: the file's stem, e.g. ``综治网格``).
    file_crs
        The CRS of a file that declares none (``--crs``).

    Raises
    ------
    InputError
        The file cannot be read, holds no polygons, or has no id column (named, with
        the columns found and the fix).
    """
    from planner.load.readers import read_layer_file

    p = Path(path)
    problems = ProblemLog()
    layer = read_layer_file(p, layer="communities", problems=problems, file_crs=file_crs)
    problems.raise_if_errors()
    if layer is None or len(layer) == 0:
        raise InputError(f"no features in {p}", fix="give a polygon layer of grid cells")
    polys = layer[layer.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    if len(polys) == 0:
        raise InputError(
            f"{p} holds no polygons (found {', '.join(sorted(set(layer.geom_type)))})",
            fix="give the other grid system's cells as polygons",
        )
    normal = {normalise_text(c): c for c in polys.columns if c != polys.geometry.name}
    col = next((normal[c] for c in ID_COLUMNS if c in normal), None)
    if col is None:
        raise InputError(
            f"{p}: no id column for the cells (found: {', '.join(map(str, normal.values()))})",
            fix="name the cells' id column id, code, 编号 or 名称",
        )
    out = gpd.GeoDataFrame(
        {"cell_id": polys[col].astype(str).to_numpy(), "layer": name or p.stem},
        geometry=polys.geometry.to_crs(street.crs).make_valid().to_numpy(),
        crs=street.crs,
    )
    dup = out["cell_id"][out["cell_id"].duplicated()]
    if len(dup):
        raise InputError(
            f"{p}: cell ids used twice: {', '.join(dup.unique()[:10])}",
            fix="give every cell its own id",
        )
    return out


@dataclass
class Alignment:
    """Our grids against one other layer (:func:`align`).

    Attributes
    ----------
    layer
        The other layer's name.
    by_grid
        One row per grid: ``code``, ``layer``, ``nests_in`` (the cell holding it, ''
        if none), ``best_cell``, ``best_share_pct`` (of the grid's area in its
        largest overlap), ``cells`` (every overlap: "A 62.0%；B 38.0%"), ``misfit``.
    tolerance
        The share of a grid's area allowed outside the cell it nests in.
    """

    layer: str
    by_grid: pd.DataFrame
    tolerance: float

    @property
    def misfits(self) -> list[str]:
        """Codes of the grids that do not nest."""
        return [str(c) for c in self.by_grid.loc[self.by_grid["misfit"], "code"]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "grids": len(self.by_grid),
            "nested": int((~self.by_grid["misfit"]).sum()),
            "misfits": self.misfits,
            "tolerance_pct": 100 * self.tolerance,
        }

    def to_text(self) -> str:
        """A short report: how many nest, and each misfit with its overlaps."""
        d = self.to_dict()
        lines = [
            f"Alignment with {self.layer} 多网合一: {d['nested']} of {d['grids']} grids nest "
            f"(tolerance {d['tolerance_pct']:g}% of a grid's area)"
        ]
        for r in self.by_grid[self.by_grid["misfit"]].itertuples():
            lines.append(f"  - grid {r.code} does not nest: {r.cells}")
        return "\n".join(lines)


def align(
    grids: gpd.GeoDataFrame, other: gpd.GeoDataFrame, *, tolerance: float = NEST_TOLERANCE
) -> Alignment:
    """Which cells of ``other`` each grid overlaps, by how much, and whether it nests.

    One spatial-index query and one vectorised intersection over the candidate
    pairs (both layers in the same projected CRS, metres).
    """
    if not 0 <= tolerance < 0.5:
        raise InputError(f"nesting tolerance {tolerance!r} out of range", fix="give 0-0.5")
    layer = str(other["layer"].iloc[0]) if len(other) else "other"
    g_idx, o_idx = other.sindex.query(grids.geometry.to_numpy(), predicate="intersects")
    area = shapely.area(
        shapely.intersection(grids.geometry.to_numpy()[g_idx], other.geometry.to_numpy()[o_idx])
    )
    own = grids.geometry.area.to_numpy()
    share = area / np.where(own[g_idx] > 0, own[g_idx], 1.0)
    pairs = pd.DataFrame({"g": g_idx, "cell": other["cell_id"].to_numpy()[o_idx], "share": share})
    pairs = pairs[pairs["share"] >= MIN_LISTED_SHARE].sort_values(
        ["g", "share"], ascending=[True, False]
    )
    best = pairs.groupby("g").first()
    words = pairs["cell"] + " " + (100 * pairs["share"]).round(1).astype(str) + "%"
    cells = words.groupby(pairs["g"].to_numpy()).agg("；".join)
    n = len(grids)
    best_share = best["share"].reindex(range(n)).fillna(0.0).to_numpy()
    best_cell = best["cell"].reindex(range(n)).fillna("").to_numpy()
    nests = best_share >= 1.0 - tolerance
    table = pd.DataFrame(
        {
            "code": grids["code"].astype(str).to_numpy(),
            "layer": layer,
            "nests_in": np.where(nests, best_cell, ""),
            "best_cell": best_cell,
            "best_share_pct": np.round(100 * best_share, 1),
            "cells": cells.reindex(range(n)).fillna("").to_numpy(),
            "misfit": ~nests,
        }
    )
    log.info("alignment with %s: %d of %d grids nest", layer, int(nests.sum()), n)
    return Alignment(layer=layer, by_grid=table, tolerance=tolerance)


def _nested_communities(street: Street, other: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The street's communities cut by the other layer's cells: each piece a
    "community" of the division (codes 001, 002 ... in piece order)."""
    base = street.communities[["community_id", "name", "geometry"]]
    if len(base) == 0:
        base = gpd.GeoDataFrame(
            {"community_id": ["all"], "name": [street.name]}, geometry=list(street.boundary.geometry),
            crs=street.crs,
        )  # fmt: skip
    pieces = gpd.overlay(
        base, other[["cell_id", "geometry"]], how="intersection", keep_geom_type=True
    )
    pieces = pieces[pieces.area > 1.0].reset_index(drop=True)
    out = gpd.GeoDataFrame(
        {
            "community_id": pieces["community_id"].astype(str)
            + "|"
            + pieces["cell_id"].astype(str),
            "name": pieces["name"].astype(str) + "·" + pieces["cell_id"].astype(str),
            "code": [f"{i + 1:03d}" for i in range(len(pieces))],
            "area_m2": pieces.area.to_numpy(),
        },
        geometry=pieces.geometry.to_numpy(),
        crs=street.crs,
    )
    return out


@dataclass
class NestedDivision:
    """A division whose every grid nests in the other layer, and its cost in balance.

    ``grids`` carry ``community_id`` = "<community>|<cell>" (the piece they lie in);
    their codes number those pieces, so they are a proposal, not codes to publish.
    ``cost`` compares the current division (``before``) with this one (``after``):
    grids, households min/median/max, coefficient of variation, grids out of range.
    """

    grids: gpd.GeoDataFrame
    alignment: Alignment
    cost: pd.DataFrame
    report: RuleReport


def _balance(grids: gpd.GeoDataFrame, s: Settings) -> dict[str, float]:
    hh = grids["households"].to_numpy(dtype=float)
    out_of_range = (hh < s.grid_min_households) | (hh > s.grid_max_households)
    return {
        "grids": float(len(hh)),
        "households_min": float(hh.min()) if len(hh) else 0.0,
        "households_median": float(np.median(hh)) if len(hh) else 0.0,
        "households_max": float(hh.max()) if len(hh) else 0.0,
        "households_cv": round(float(hh.std() / hh.mean()), 4) if len(hh) and hh.mean() else 0.0,
        "grids_out_of_range": float(out_of_range.sum()),
    }


def nested_division(
    street: Street,
    other: gpd.GeoDataFrame,
    current: gpd.GeoDataFrame,
    *,
    settings: Settings | None = None,
    tolerance: float = NEST_TOLERANCE,
) -> NestedDivision:
    """Divide ``street`` so every grid nests inside a cell of ``other``; say the cost.

    The other layer's cells cut the atoms as community boundaries do (a constraint of
    the division, :func:`planner.grids.division.divide`), so no grid crosses a cell
    edge; ``cost`` compares its balance with ``current`` (the division in use).
    """
    from planner.grids.division import divide

    s = settings or Settings()
    constrained = street.with_layers(communities=_nested_communities(street, other))
    result = divide(constrained, settings=s, communities="given")
    after = align(result.grids, other, tolerance=tolerance)
    cost = pd.DataFrame(
        {"before": _balance(current, s), "after": _balance(result.grids, s)}
    ).rename_axis("figure")
    cost["change"] = cost["after"] - cost["before"]
    return NestedDivision(
        grids=result.grids, alignment=after, cost=cost.reset_index(), report=result.report
    )


@dataclass
class GridSystems:
    """A run's alignment with the street's other grid layers (``--other-grids``) and,
    with ``--nest-in``, the nested division and its cost."""

    alignments: list[Alignment]
    nested: NestedDivision | None = None

    def tables(self) -> dict[str, pd.DataFrame]:
        """``alignment_by_grid`` (every layer's rows) and ``nesting_cost``."""
        out: dict[str, pd.DataFrame] = {}
        if self.alignments:
            out["alignment_by_grid"] = pd.concat([a.by_grid for a in self.alignments])
        if self.nested is not None:
            out["nesting_cost"] = self.nested.cost
        return out

    def to_text(self) -> str:
        """Every alignment, then the nested division's cost."""
        parts = [a.to_text() for a in self.alignments]
        if self.nested is not None:
            n = self.nested
            parts.append(
                f"Nested division inside {n.alignment.layer}: {len(n.grids)} grids, "
                f"{len(n.alignment.misfits)} misfits; cost in balance:\n"
                + n.cost.to_string(index=False)
            )
        return "\n\n".join(parts)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"alignments": [a.to_dict() for a in self.alignments]}
        if self.nested is not None:
            out["nested"] = {
                "layer": self.nested.alignment.layer,
                "grids": len(self.nested.grids),
                "cost": self.nested.cost.to_dict("records"),
            }
        return out


def grid_systems(
    street: Street,
    grids: gpd.GeoDataFrame,
    others: list[gpd.GeoDataFrame],
    *,
    nest_in: gpd.GeoDataFrame | None = None,
    settings: Settings | None = None,
) -> GridSystems:
    """Align ``grids`` with each of ``others``; with ``nest_in``, the nested division."""
    nested = None
    if nest_in is not None:
        nested = nested_division(street, nest_in, grids, settings=settings)
    return GridSystems([align(grids, o) for o in others], nested)
