"""A city as input, read once: city-wide layers and the street-boundary layer.

:func:`read_city` reads ``CITY_SOURCE`` once in the process that starts the run:

- ``demo-city:N`` - the synthetic city of N streets (:func:`planner.synthetic.city.make_city`),
  its own street layer unless ``--streets`` gives one;
- a folder of city-wide layer files (the folder format of a street, docs/readme/load.md),
  with ``--streets`` (required).

The streets file (GeoJSON, GeoPackage, Shapefile) holds one polygon per street with
``street_code`` (unique, not empty), ``county_code`` (6 digits, GB/T 2260) and ``name``.
Every problem is raised together as one :class:`~planner.errors.InputError` naming the
file, the feature and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd

from planner.errors import InputError, Problem, ProblemLog
from planner.load.readers import read_folder, read_layer_file
from planner.synthetic.city import STREET_COLUMNS

__all__ = ["CityInput", "read_city", "read_streets"]

STREETS_FIX = (
    "give a polygon layer with one feature per street and the fields street_code "
    "(unique), county_code (6 digits) and name"
)


@dataclass
class CityInput:
    """City-wide WGS84 layers, the streets (WGS84, :data:`STREET_COLUMNS`) and metadata."""

    source: str
    layers: dict[str, gpd.GeoDataFrame]
    streets: gpd.GeoDataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    streets_file: str = ""

    def street(self, code: str) -> gpd.GeoDataFrame:
        """The one-row street layer of ``code``."""
        return self.streets.loc[self.streets["street_code"] == code]


def read_city(source: str, *, streets: str | Path | None = None) -> CityInput:
    """Read ``source`` and the streets file once (see the module docstring).

    Raises
    ------
    InputError
        An unknown source, a folder without ``--streets``, or a bad streets file.
    """
    from planner.load.sources import DEMO_CITY_PREFIX, parse_demo_city

    if source.startswith(DEMO_CITY_PREFIX):
        from planner.synthetic.city import CitySpec, make_city

        n, k = parse_demo_city(source)
        if k is not None:
            raise InputError(
                Problem(
                    f"{source} is one street; the city command runs a whole city",
                    fix=f"give demo-city:{n} (every street), or run single-street commands "
                    f"on {source}",
                    file=source,
                )
            )
        city = make_city(CitySpec(n_streets=n))
        layer = read_streets(streets) if streets is not None else city.streets
        return CityInput(source, dict(city.layers), layer, dict(city.meta), str(streets or ""))
    path = Path(source).expanduser()
    if not path.is_dir():
        raise InputError(
            Problem(
                f"no such city folder: {source}",
                fix="give demo-city:N or a folder of city-wide layer files with --streets",
                file=source,
            )
        )
    if streets is None:
        raise InputError(
            Problem(
                f"the city folder {source} needs --streets",
                fix="give --streets FILE: " + STREETS_FIX,
                file=source,
            )
        )
    problems = ProblemLog()
    contents = read_folder(path, problems=problems)
    problems.raise_if_errors()
    meta = dict(contents.meta)
    return CityInput(source, dict(contents.layers), read_streets(streets), meta, str(streets))


def read_streets(path: str | Path) -> gpd.GeoDataFrame:
    """The street-boundary layer of ``path`` in WGS84, checked (codes unique, polygons).

    Raises
    ------
    InputError
        Naming the file, the feature (``street_code`` or row number) and the field.
    """
    problems = ProblemLog()
    file = str(path)
    gdf = read_layer_file(Path(path), layer="streets", problems=problems)
    problems.raise_if_errors()
    if gdf is None or gdf.empty:
        raise InputError(Problem("the streets file holds no streets", fix=STREETS_FIX, file=file))
    missing = [c for c in STREET_COLUMNS if c not in gdf.columns]
    for col in missing:
        problems.add(
            f"the streets file has no field {col!r}", file=file, field=col, fix=STREETS_FIX
        )
    problems.raise_if_errors()
    codes = gdf["street_code"].astype("string").fillna("").str.strip()
    for i, code in enumerate(codes):
        feature = code or f"row {i + 1}"
        if not code:
            problems.add("street_code is empty", file=file, feature_id=feature, field="street_code",
                         fix="give every street its code")  # fmt: skip
        elif (codes == code).sum() > 1:
            problems.add(f"street_code {code} is given twice", file=file, feature_id=feature,
                         field="street_code", fix="give every street its own code")  # fmt: skip
        county = str(gdf["county_code"].iloc[i])
        if not (county.isdigit() and len(county) == 6):
            problems.add(f"county_code {county!r} is not 6 digits", file=file, feature_id=feature,
                         field="county_code", fix="give the GB/T 2260 county code, e.g. 610113")  # fmt: skip
        if gdf.geometry.iloc[i] is None or gdf.geom_type.iloc[i] not in ("Polygon", "MultiPolygon"):
            problems.add("the street is not a polygon", file=file, feature_id=feature,
                         field="geometry", fix="draw each street as a polygon")  # fmt: skip
    problems.raise_if_errors()
    out = gdf.assign(street_code=codes, county_code=gdf["county_code"].astype(str))
    out["name"] = out["name"].astype(str)
    return out[[*STREET_COLUMNS, "geometry"]].reset_index(drop=True)
