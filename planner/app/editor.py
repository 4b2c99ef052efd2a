"""Glue between the grid editor page and :mod:`planner.grids.edits`: clicks, lines, autosave.

streamlit-folium cannot edit preloaded shapes, so a planner edits grids by clicking
atoms (selected with :func:`atom_at`) and by drawing a line to split a grid
(:func:`line_from_drawing`). After every edit the page saves the project file
(:func:`autosave_path`, :func:`autosave`), so a page reload or a failed step loses
nothing: a new session reopens the autosaved project (:func:`open_or_create`).
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point, shape

from planner.crs import WGS84, gcj02_to_wgs84

logger = logging.getLogger(__name__)


def autosave_dir() -> Path:
    """Folder of autosaved projects: ``$PLANNER_AUTOSAVE_DIR`` or ``~/.planner/autosave``."""
    env = os.environ.get("PLANNER_AUTOSAVE_DIR")
    return Path(env) if env else Path.home() / ".planner" / "autosave"


def autosave_path(source_key: str) -> Path:
    """The autosave project file of a street source (a GeoPackage named by its digest)."""
    digest = hashlib.sha256(source_key.encode("utf-8")).hexdigest()[:16]
    return autosave_dir() / f"project-{digest}.gpkg"


def _to_street_xy(lon: float, lat: float, crs: Any, basemap: str) -> tuple[float, float]:
    if basemap == "amap":  # the editor map was drawn in GCJ-02 to match Amap tiles
        glon, glat = gcj02_to_wgs84([lon], [lat])
        lon, lat = float(glon[0]), float(glat[0])
    x, y = Transformer.from_crs(WGS84, crs, always_xy=True).transform(lon, lat)
    return float(x), float(y)


def atom_at(atoms: Any, lon: float, lat: float, *, crs: Any, basemap: str = "none") -> int | None:
    """The ``atom_id`` of the atom under a clicked point (longitude/latitude), or ``None``.

    Parameters
    ----------
    atoms
        Atoms (GeoDataFrame in the street CRS) with an ``atom_id`` column.
    lon, lat
        The click, degrees as the map shows them (GCJ-02 when ``basemap="amap"``).
    crs
        The street's projected CRS.
    """
    if atoms is None or len(atoms) == 0:
        return None
    x, y = _to_street_xy(lon, lat, crs, basemap)
    pt = Point(x, y)
    geoms = np.asarray(atoms.geometry.values)
    tree = shapely.STRtree(geoms)
    hits = tree.query(pt, predicate="intersects")
    if len(hits) == 0:
        nearest = tree.query_nearest(pt, max_distance=15.0)
        if len(nearest) == 0:
            return None
        hits = nearest
    return int(atoms["atom_id"].to_numpy()[int(hits[0])])


def line_from_drawing(drawing: Any, *, crs: Any, basemap: str = "none") -> LineString | None:
    """The drawn line (Leaflet.draw GeoJSON feature, lon/lat) in the street CRS, or ``None``."""
    if not drawing:
        return None
    geom = drawing.get("geometry", drawing) if isinstance(drawing, dict) else None
    if not geom or geom.get("type") != "LineString":
        return None
    line = shape(geom)
    coords = [_to_street_xy(x, y, crs, basemap) for x, y in line.coords]
    if len(coords) < 2:
        return None
    return LineString(coords)


def autosave(editor: Any, path: Path, *, source: str = "") -> Path:
    """Save the editor's state to ``path`` (atomic write by :func:`planner.grids.project.save_project`)."""
    from planner.grids.project import save_project

    path.parent.mkdir(parents=True, exist_ok=True)
    out: Path = save_project(path, editor, source=source)
    return out


def open_or_create(street: Any, grids_result: Any, *, settings: Any, source_key: str) -> Any:
    """The autosaved editor of this source if there is one, else a fresh editor on ``grids_result``."""
    from planner.grids.edits import GridEditor
    from planner.grids.project import open_project

    path = autosave_path(source_key)
    if path.exists():
        try:
            return open_project(path).editor
        except Exception as exc:  # a damaged autosave must not block the editor
            logger.warning("could not reopen autosave %s (%s); starting afresh", path, exc)
    return GridEditor.from_result(street, grids_result, settings=settings)
