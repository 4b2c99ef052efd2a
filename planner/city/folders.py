"""A city given as one folder per street: each sub-folder a street folder, merged once.

``CITY_FOLDER/<street>/`` holds one street in the street folder format
(docs/readme/load.md: ``boundary``, ``buildings``, ``roads``, ``stations``, ...,
``street.json``), as the single-street loader reads it. :func:`read_street_folders`
reads every street folder once (:func:`planner.load.readers.read_folder`, each with its
own ``street.json``: ``points_crs``, codes) and merges them into city-wide layers, so a
street's share (:func:`planner.city.partition.street_part`) holds its neighbours' roads,
stations and buildings within its margin: walks cross street borders and a
neighbour's station serves across, as a single-street run whose folder holds
everything within the margin.

A feature present in several folders (a road exported with each street's margin) is
kept once: rows with the same id (``road_id``, ``building_id``, ...; else the same
attributes) and the same geometry (to about 1 cm) are duplicates (:func:`merge_layers`).

Without ``--streets`` the streets layer is each folder's ``boundary`` (its polygons
dissolved) with ``street_code`` from ``street.json``'s ``code_street`` (else the folder's
name), ``county_code`` from ``code_county`` (required) and ``name`` from ``street.json``
or the boundary's ``name`` (else the folder's name).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from planner.crs import WGS84
from planner.errors import InputError, Problem, ProblemLog
from planner.load._layers import ID_COLUMNS
from planner.load.readers import FOLDER_LAYERS, LAYER_EXTENSIONS, read_folder

__all__ = ["StreetFolders", "is_street_folders", "merge_layers", "read_street_folders"]

FIX_FOLDERS = (
    "give a folder holding one sub-folder per street, each in the street folder format "
    "(boundary, buildings, roads, stations, ... and street.json; docs/readme/load.md)"
)


def _has_layer_file(folder: Path) -> bool:
    return any(
        (folder / f"{layer}{ext}").exists() for layer in FOLDER_LAYERS for ext in LAYER_EXTENSIONS
    )


def _street_dirs(path: Path) -> list[Path]:
    """The sub-folders of ``path`` holding at least one layer file, by name."""
    return sorted(
        d
        for d in path.iterdir()
        if d.is_dir() and not d.name.startswith(".") and _has_layer_file(d)
    )


def is_street_folders(path: Path) -> bool:
    """True when ``path`` is a folder of street folders: no layer file of its own and at
    least one sub-folder holding layer files."""
    return path.is_dir() and not _has_layer_file(path) and bool(_street_dirs(path))


@dataclass
class StreetFolders:
    """Every street folder of a city folder, read and merged.

    Attributes
    ----------
    layers
        Layer name -> the city-wide layer in WGS84 (duplicates across folders dropped;
        ``boundary`` is every folder's boundary).
    streets
        The streets layer made of the folders' boundaries (WGS84, ``street_code``,
        ``county_code``, ``name``), checked later like a streets file.
    meta
        ``attribution`` (every folder's, joined) and ``synthetic`` (any folder's).
    files
        Layer -> the files it was read from (``CITY/*/roads.geojson``), for messages.
    """

    layers: dict[str, gpd.GeoDataFrame]
    streets: gpd.GeoDataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)


#: Grid of the duplicate test, degrees (about 1 cm): the same feature read from files of
#: two CRSs (a GeoPackage in UTM, a GeoJSON in WGS84) differs only by rounding.
SAME_DEG = 1e-7


def merge_layers(parts: list[gpd.GeoDataFrame], id_column: str | None = None) -> gpd.GeoDataFrame:
    """One WGS84 layer of ``parts``, a feature given in several of them kept once.

    Two rows are the same feature when their geometries are equal on a
    :data:`SAME_DEG` grid and their ``id_column`` values are equal (the layer's id,
    :data:`planner.load._layers.ID_COLUMNS`), or, for a layer without that column, all
    their attributes (compared as text).
    """
    frames = [p.to_crs(WGS84) for p in parts]
    merged = pd.concat(frames, ignore_index=True)
    gdf = gpd.GeoDataFrame(merged, geometry="geometry", crs=WGS84)
    attrs = [id_column] if id_column in gdf.columns else [c for c in gdf.columns if c != "geometry"]
    key = gdf[attrs].astype("string").fillna("")
    snapped = shapely.set_precision(gdf.geometry.to_numpy(), SAME_DEG)
    key["__wkb"] = shapely.to_wkb(shapely.normalize(snapped), hex=True)
    return gdf.loc[~key.duplicated().to_numpy()].reset_index(drop=True)


def _street_row(folder: Path, layers: dict[str, gpd.GeoDataFrame], meta: dict[str, Any],
                problems: ProblemLog) -> dict[str, Any] | None:  # fmt: skip
    """The streets-layer row of one street folder (None after a problem, logged)."""
    boundary = layers.get("boundary")
    if boundary is None or boundary.empty:
        problems.add(
            "the street folder has no boundary layer, and no --streets file was given",
            file=str(folder),
            field="boundary",
            fix="add boundary.geojson (the street's polygon) to the folder, or give --streets",
        )
        return None
    code = str(meta.get("code_street") or folder.name).strip()
    county = str(meta.get("code_county") or "").strip()
    if not county:
        problems.add(
            "street.json gives no code_county",
            file=str(folder / "street.json"),
            feature_id=code,
            field="code_county",
            fix='write the GB/T 2260 county code, e.g. {"code_county": "610113"}, or give --streets',
        )
        return None
    names = boundary["name"].dropna().astype(str) if "name" in boundary else pd.Series(dtype=str)
    name = str(meta.get("name") or (names.iloc[0] if len(names) else folder.name))
    polygon = shapely.union_all(boundary.to_crs(WGS84).geometry.to_numpy())
    return {"street_code": code, "county_code": county, "name": name, "geometry": polygon}


def read_street_folders(path: Path, *, need_streets: bool) -> StreetFolders:
    """Read every street folder of ``path`` once and merge them (module docstring).

    Parameters
    ----------
    path
        The city folder (one sub-folder per street).
    need_streets
        Build the streets layer from the folders' boundaries and ``street.json`` (no
        ``--streets`` file given).

    Raises
    ------
    InputError
        Any street folder's problems (file, feature, field), all together; no street
        folder at all.
    """
    dirs = _street_dirs(path)
    if not dirs:
        raise InputError(Problem("the city folder holds no street folder", file=str(path),
                                 fix=FIX_FOLDERS))  # fmt: skip
    problems = ProblemLog()
    by_layer: dict[str, list[gpd.GeoDataFrame]] = {}
    rows: list[dict[str, Any]] = []
    attributions: list[str] = []
    synthetic = False
    files: dict[str, str] = {}
    for folder in dirs:
        contents = read_folder(folder, problems=problems)
        for layer, gdf in contents.layers.items():
            by_layer.setdefault(layer, []).append(gdf)
        for layer, file in contents.files.items():
            files.setdefault(layer, str(path / "*" / file.name))
        text = str(contents.meta.get("attribution") or "")
        if text and text not in attributions:
            attributions.append(text)
        synthetic = synthetic or bool(contents.meta.get("synthetic", False))
        if need_streets:
            row = _street_row(folder, contents.layers, contents.meta, problems)
            if row is not None:
                rows.append(row)
    problems.raise_if_errors()
    layers = {
        name: merge_layers(parts, ID_COLUMNS.get(name, ("", ""))[0] or None)
        for name, parts in by_layer.items()
    }
    streets = (
        gpd.GeoDataFrame(rows, geometry="geometry", crs=WGS84)
        if rows
        else gpd.GeoDataFrame(
            {"street_code": [], "county_code": [], "name": []}, geometry=[], crs=WGS84
        )
    )
    meta: dict[str, Any] = {"synthetic": synthetic}
    if attributions:
        meta["attribution"] = "; ".join(attributions)
    return StreetFolders(layers=layers, streets=streets, meta=meta, files=files)
