"""What-if: add, move or remove a station or POI, close a path, open a gate, and compare.

The facilities team tries a change before building it. A *scenario* is a list of changes
(:func:`read_scenario`: a YAML or JSON file, coordinates WGS84 longitude/latitude):

.. code-block:: yaml

    name: 新增托育点、开东门
    changes:
      - add_station: {station_id: X1, name: 新站, kind: community_station,
                      lon: 108.9431, lat: 34.2102, floor_area_m2: 300}
      - move_station: {station_id: ZD02, lon: 108.9405, lat: 34.2125}
      - remove_station: {station_id: ZD05}
      - add_poi: {poi_id: Q1, name: 幸福食堂, kind: canteen, lon: 108.94, lat: 34.21}
      - remove_poi: {poi_id: P031}
      - close_path: {lon: 108.9441, lat: 34.2167}          # the nearest path, within 30 m
      - open_gate: {compound_id: XQ001, lon: 108.9391, lat: 34.2088}

:func:`apply_changes` makes the changed street (inputs never mutated);
:func:`run_whatif` evaluates the street before and after exactly as a run does
(:func:`planner.coverage.figures.compute_coverage`,
:func:`~planner.coverage.completeness.compute_completeness`,
:func:`~planner.coverage.capacity.compute_capacity`; no circles are drawn) and compares:
per street, community and grid the households within the gap minutes, complete circles
and 2SFCA floor area before and after; per building who gains or loses coverage or a
service kind; per station the capacity before and after.

Times minutes, lengths metres, areas m²; geometry in the street's projected CRS.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, get_args

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner import schema
from planner.coverage.capacity import Capacity, capacity_by_area, compute_capacity
from planner.coverage.completeness import (
    ServiceCompleteness,
    completeness_by_area,
    compute_completeness,
    reach_column,
)
from planner.coverage.figures import Coverage, area_figures, compute_coverage, covered_column
from planner.crs import WGS84
from planner.errors import InputError, Problem
from planner.settings import Settings
from planner.street import Street

log = logging.getLogger(__name__)

Action = Literal[
    "add_station",
    "move_station",
    "remove_station",
    "add_poi",
    "remove_poi",
    "close_path",
    "open_gate",
]
ACTIONS: tuple[str, ...] = get_args(Action)

#: Fields each action needs (besides optional ones named in the module docstring).
REQUIRED: dict[str, tuple[str, ...]] = {
    "add_station": ("station_id", "lon", "lat"),
    "move_station": ("station_id", "lon", "lat"),
    "remove_station": ("station_id",),
    "add_poi": ("poi_id", "kind", "lon", "lat"),
    "remove_poi": ("poi_id",),
    "close_path": ("lon", "lat"),
    "open_gate": ("compound_id", "lon", "lat"),
}

#: A path to close must lie within this distance of the point given, metres.
CLOSE_PATH_MAX_M = 30.0


@dataclass(frozen=True)
class Change:
    """One change of a scenario: the action and its fields (``lon``/``lat`` WGS84)."""

    action: Action
    fields: dict[str, Any]


@dataclass(frozen=True)
class Scenario:
    """A named list of changes."""

    name: str
    changes: tuple[Change, ...]


def read_scenario(path: Path) -> Scenario:
    """A scenario from a YAML (``.yaml``/``.yml``) or JSON file.

    Raises
    ------
    InputError
        Every problem at once, each naming the file, the change (``change 3``) and the
        field, with a fix.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # yaml errors are ValueErrors
        raise InputError(
            Problem(
                f"cannot read the scenario: {exc}",
                fix="give a YAML or JSON file with name: and changes: (see the README)",
                file=str(path),
            )
        ) from None
    return parse_scenario(data, file=str(path))


def parse_scenario(data: object, *, file: str = "scenario") -> Scenario:
    """A scenario from parsed YAML/JSON (see :func:`read_scenario`)."""
    if not isinstance(data, dict) or not isinstance(data.get("changes"), list):
        raise InputError(
            Problem(
                "a scenario needs a list of changes",
                fix="write changes: followed by items such as - remove_station: {station_id: ZD05}",
                file=file,
                field="changes",
            )
        )
    problems: list[Problem] = []
    changes = []
    for i, item in enumerate(data["changes"], start=1):
        change = _change(item, i, file, problems)
        if change is not None:
            changes.append(change)
    if problems:
        raise InputError(problems)
    return Scenario(str(data.get("name") or Path(file).stem), tuple(changes))


def _change(item: object, i: int, file: str, problems: list[Problem]) -> Change | None:
    """One change, or ``None`` with its problems logged."""
    where = f"change {i}"
    if not (isinstance(item, dict) and len(item) == 1):
        problems.append(
            Problem(
                f"{where} is not one action",
                fix="write - action: {field: value}",
                file=file,
                feature_id=where,
            )
        )
        return None
    ((action, fields),) = item.items()
    if action not in ACTIONS:
        problems.append(
            Problem(
                f"{where}: unknown action {action!r}",
                fix=f"use one of: {', '.join(ACTIONS)}",
                file=file,
                feature_id=where,
                field=str(action),
            )
        )
        return None
    fields = dict(fields or {}) if isinstance(fields, dict) else {}
    missing = [f for f in REQUIRED[action] if fields.get(f) in (None, "")]
    for f in missing:
        problems.append(
            Problem(
                f"{where} ({action}) has no {f}",
                fix=f"add {f}: to it",
                file=file,
                feature_id=where,
                field=f,
            )
        )
    for f in ("lon", "lat", "floor_area_m2"):
        if f in fields and f not in missing:
            try:
                value = float(fields[f])
            except (TypeError, ValueError):
                value = float("nan")
            limit = 180.0 if f == "lon" else 90.0 if f == "lat" else 1e6
            if not (np.isfinite(value) and abs(value) <= limit):
                problems.append(
                    Problem(
                        f"{where} ({action}): {f}={fields[f]!r} is not a valid number",
                        fix="give WGS84 degrees (lon 73-135, lat 18-54 in China) or m²",
                        file=file,
                        feature_id=where,
                        field=f,
                    )
                )
            else:
                fields[f] = value
    return None if missing else Change(action, fields)


def _point(street: Street, fields: dict[str, Any]) -> shapely.Point:
    """The change's WGS84 lon/lat as a point in the street's CRS."""
    pt = gpd.GeoSeries([shapely.Point(fields["lon"], fields["lat"])], crs=WGS84).to_crs(street.crs)
    return pt.iloc[0]


def _need_id(layer: gpd.GeoDataFrame, column: str, value: str, change: int) -> pd.Series:
    """Rows of ``layer`` whose ``column`` is ``value``; refused when there are none."""
    hit: pd.Series = layer[column].astype(str) == str(value)
    if not hit.any():
        raise InputError(
            Problem(
                f"change {change}: there is no {column} {value!r}",
                fix=f"use an existing {column} (see the {column.split('_')[0]}s layer)",
                feature_id=f"change {change}",
                field=column,
            )
        )
    return hit


def _add_point(
    layer: gpd.GeoDataFrame, name: str, row: dict[str, Any], geom: shapely.Point
) -> gpd.GeoDataFrame:
    new = gpd.GeoDataFrame([row], geometry=[geom], crs=layer.crs)
    return schema.conform(name, pd.concat([layer, schema.conform(name, new)], ignore_index=True))


def apply_changes(street: Street, scenario: Scenario) -> Street:
    """The street with the scenario's changes made (``street`` is not changed)."""
    st = street
    for i, ch in enumerate(scenario.changes, start=1):
        st = _APPLY[ch.action](st, ch.fields, i)
    return st


def _add_station(st: Street, f: dict[str, Any], i: int) -> Street:
    if (st.stations["station_id"].astype(str) == str(f["station_id"])).any():
        raise InputError(
            Problem(
                f"change {i}: station_id {f['station_id']!r} exists already",
                fix="give a new id",
                field="station_id",
            )
        )
    row = {
        "station_id": str(f["station_id"]),
        "name": str(f.get("name", "")),
        "kind": str(f.get("kind", "community_station")),
        "floor_area_m2": f.get("floor_area_m2", np.nan),
        "in_street": True,
    }
    return replace(st, stations=_add_point(st.stations, "stations", row, _point(st, f)))


def _move_station(st: Street, f: dict[str, Any], i: int) -> Street:
    hit = _need_id(st.stations, "station_id", f["station_id"], i)
    stations = st.stations.copy()
    stations.loc[hit, stations.geometry.name] = _point(st, f)
    return replace(st, stations=stations)


def _remove_station(st: Street, f: dict[str, Any], i: int) -> Street:
    hit = _need_id(st.stations, "station_id", f["station_id"], i)
    return replace(st, stations=st.stations[~hit].reset_index(drop=True))


def _add_poi(st: Street, f: dict[str, Any], i: int) -> Street:
    row = {
        "poi_id": str(f["poi_id"]),
        "name": str(f.get("name", "")),
        "kind": str(f["kind"]),
        "in_street": True,
    }
    return replace(st, pois=_add_point(st.pois, "pois", row, _point(st, f)))


def _remove_poi(st: Street, f: dict[str, Any], i: int) -> Street:
    hit = _need_id(st.pois, "poi_id", f["poi_id"], i)
    return replace(st, pois=st.pois[~hit].reset_index(drop=True))


def _close_path(st: Street, f: dict[str, Any], i: int) -> Street:
    """The walkable link nearest the point is removed (a path closed)."""
    p = _point(st, f)
    dist = st.edges.geometry.distance(p).to_numpy()
    j = int(np.argmin(dist)) if len(dist) else -1
    if j < 0 or dist[j] > CLOSE_PATH_MAX_M:
        raise InputError(
            Problem(
                f"change {i} (close_path): no path within {CLOSE_PATH_MAX_M:g} m of "
                f"{f['lon']:.6f}, {f['lat']:.6f}",
                fix="put the point on the path to close",
                feature_id=f"change {i}",
                field="lon",
            )
        )
    return replace(st, edges=st.edges.drop(index=st.edges.index[j]).reset_index(drop=True))


def _open_gate(st: Street, f: dict[str, Any], i: int) -> Street:
    """A new opening in a compound's wall at the point: a footway from the compound's
    nearest internal node to the nearest public node."""
    p = _point(st, f)
    cid = str(f["compound_id"])
    ends = _gate_ends(st, cid, p, i)
    nodes = st.nodes.geometry.to_numpy()
    line = shapely.LineString([nodes[ends[0]], p, nodes[ends[1]]])
    row = {
        "u": ends[0],
        "v": ends[1],
        "length_m": line.length,
        "highway": "footway",
        "name": f"{cid} 新开门",
        "compound_id": "",
    }
    new = gpd.GeoDataFrame([row], geometry=[line], crs=st.edges.crs)
    edges = pd.concat([st.edges, schema.conform("edges", new)], ignore_index=True)
    return replace(st, edges=gpd.GeoDataFrame(edges, geometry="geometry", crs=st.edges.crs))


def _gate_ends(st: Street, cid: str, p: shapely.Point, i: int) -> tuple[int, int]:
    """The compound's internal node and the public node nearest ``p``."""
    e = st.edges
    comp = e["compound_id"].astype(str)
    inner = np.unique(e.loc[comp == cid, ["u", "v"]].to_numpy())
    public = np.setdiff1d(np.unique(e.loc[comp == "", ["u", "v"]].to_numpy()), inner)
    if inner.size == 0 or public.size == 0:
        raise InputError(
            Problem(
                f"change {i} (open_gate): compound {cid!r} has no internal paths to open",
                fix="name a gated compound with internal paths (compounds layer)",
                feature_id=f"change {i}",
                field="compound_id",
            )
        )
    xy = shapely.get_coordinates(st.nodes.geometry.to_numpy())
    d_in = np.hypot(*(xy[inner] - [p.x, p.y]).T)
    d_pub = np.hypot(*(xy[public] - [p.x, p.y]).T)
    return int(inner[np.argmin(d_in)]), int(public[np.argmin(d_pub)])


_APPLY = {
    "add_station": _add_station,
    "move_station": _move_station,
    "remove_station": _remove_station,
    "add_poi": _add_poi,
    "remove_poi": _remove_poi,
    "close_path": _close_path,
    "open_gate": _open_gate,
}


@dataclass
class ServiceState:
    """A street's coverage, completeness and capacity (what a run computes, no circles)."""

    coverage: Coverage
    completeness: ServiceCompleteness
    capacity: Capacity

    def by_area(self, grids: gpd.GeoDataFrame | None) -> pd.DataFrame:
        """Per area: households within the gap minutes, complete circles, m² per 100."""
        cov = self.coverage
        g = cov.gap_minutes
        a = area_figures(cov, grids=grids)[
            ["level", "id", "name", "households", f"households_covered_{g:g}"]
        ]
        c = completeness_by_area(self.completeness, cov, grids=grids)
        keep = [
            "level",
            "id",
            "complete_all_pct",
            *[x for x in c.columns if x.startswith("complete_") and x.endswith("_pct")],
        ]
        cap = capacity_by_area(self.capacity, cov, grids=grids)[
            ["level", "id", "m2_per_100_households"]
        ]
        out = a.merge(c[list(dict.fromkeys(keep))], on=["level", "id"]).merge(
            cap, on=["level", "id"]
        )
        return out.rename(columns={f"households_covered_{g:g}": "households_covered"})


def evaluate(street: Street, settings: Settings) -> ServiceState:
    """Coverage, completeness and capacity of ``street`` (as a run computes them)."""
    cov = compute_coverage(street, settings=settings)
    return ServiceState(cov, compute_completeness(cov, street), compute_capacity(cov))


@dataclass
class WhatIf:
    """Before and after of a scenario.

    Attributes
    ----------
    scenario
        The scenario.
    before, after
        The two states.
    by_area
        Per street, community and grid: ``households``, and ``<figure>_before`` /
        ``<figure>_after`` for ``households_covered`` (within the gap minutes),
        ``complete_<circle>_pct``, ``complete_all_pct``, ``m2_per_100_households``.
    buildings
        The buildings whose coverage, service kinds or floor area in reach change:
        ``covered_before/after``, ``missing_kinds_before/after``, ``gained`` and
        ``lost`` (service kinds), ``m2_per_100_households_before/after``.
    stations
        Capacity per station before and after (outer join on ``station_id``).
    summary
        The street totals: households gaining and losing coverage and kinds.
    """

    scenario: Scenario
    before: ServiceState
    after: ServiceState
    by_area: pd.DataFrame
    buildings: pd.DataFrame
    stations: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def run_whatif(
    street: Street,
    scenario: Scenario,
    *,
    settings: Settings | None = None,
    grids: gpd.GeoDataFrame | None = None,
) -> WhatIf:
    """Evaluate ``street`` before and after ``scenario`` and compare (see :class:`WhatIf`)."""
    s = settings or Settings()
    before = evaluate(street, s)
    after = evaluate(apply_changes(street, scenario), s)
    return compare(scenario, before, after, grids=grids)


def compare(
    scenario: Scenario,
    before: ServiceState,
    after: ServiceState,
    *,
    grids: gpd.GeoDataFrame | None = None,
) -> WhatIf:
    """The before/after tables of two states of the same street (same buildings)."""
    a, b = before.by_area(grids), after.by_area(grids)
    figures = [c for c in a.columns if c not in ("level", "id", "name", "households")]
    by_area = a[["level", "id", "name", "households"]].copy()
    for col in figures:
        by_area[f"{col}_before"] = a[col].to_numpy()
        by_area[f"{col}_after"] = b[col].to_numpy()
    buildings = _changed_buildings(before, after)
    stations = before.capacity.stations[
        ["station_id", "name", "households_catchment", "m2_per_100_households"]
    ].merge(
        after.capacity.stations[
            ["station_id", "name", "households_catchment", "m2_per_100_households"]
        ],
        on="station_id",
        how="outer",
        suffixes=("_before", "_after"),
    )
    hh = buildings["households"]
    summary = {
        "scenario": scenario.name,
        "changes": len(scenario.changes),
        "households_gaining_coverage": int(
            hh[buildings["covered_after"] & ~buildings["covered_before"]].sum()
        ),
        "households_losing_coverage": int(
            hh[buildings["covered_before"] & ~buildings["covered_after"]].sum()
        ),
        "households_gaining_a_kind": int(hh[buildings["gained"] != ""].sum()),
        "households_losing_a_kind": int(hh[buildings["lost"] != ""].sum()),
        "buildings_changed": len(buildings),
    }
    return WhatIf(scenario, before, after, by_area, buildings, stations, summary)


def _changed_buildings(before: ServiceState, after: ServiceState) -> pd.DataFrame:
    """The buildings whose coverage, kinds reached or floor area in reach change."""
    g = before.coverage.gap_minutes
    bb, ab = before.coverage.buildings, after.coverage.buildings
    kinds = before.completeness.kinds
    rb = before.completeness.buildings[[reach_column(k) for k in kinds]].to_numpy(dtype=bool)
    ra = after.completeness.buildings[[reach_column(k) for k in kinds]].to_numpy(dtype=bool)
    names = np.array(kinds, dtype=object)
    m2b, m2a = before.capacity.building_m2_per_100, after.capacity.building_m2_per_100
    out = pd.DataFrame(
        {
            "building_id": bb["building_id"].astype(str).to_numpy(),
            "name": bb["name"].astype(str).to_numpy(),
            "community_id": bb["community_id"].astype(str).to_numpy(),
            "households": bb["households"].to_numpy(dtype="int64"),
            "covered_before": bb[covered_column(g)].to_numpy(dtype=bool),
            "covered_after": ab[covered_column(g)].to_numpy(dtype=bool),
            "missing_kinds_before": (~rb).sum(axis=1),
            "missing_kinds_after": (~ra).sum(axis=1),
            "gained": [",".join(names[row]) for row in (ra & ~rb)],
            "lost": [",".join(names[row]) for row in (rb & ~ra)],
            "m2_per_100_households_before": np.round(m2b, 2),
            "m2_per_100_households_after": np.round(m2a, 2),
        }
    )
    changed = (
        (out["covered_before"] != out["covered_after"])
        | (out["gained"] != "")
        | (out["lost"] != "")
        | (np.abs(m2a - m2b) > 0.005)
    )
    return out[changed.to_numpy()].reset_index(drop=True)
