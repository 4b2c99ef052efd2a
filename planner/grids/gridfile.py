"""Read grids edited elsewhere (QGIS, ArcGIS, SuperMap, the city's platform) back in.

:func:`read_grids` accepts what :mod:`planner.export.formats` writes (GeoJSON, GeoPackage,
Shapefile; WGS84 or GCJ-02) and what desktop tools make of it after an edit: a
Shapefile's cut field names are mapped back through ``fields.csv`` (or by the same
deterministic rule, :func:`planner.export.formats.shapefile_field_names`), GCJ-02
coordinates are converted back when the file says so, multi-part features and
polygons are both fine, and numbers typed as text (or codes typed as numbers) are
put right. Everything that cannot be put right is reported together as one
:class:`~planner.errors.InputError` naming the file, the feature and the fix.

An unchanged export reads back identical: same codes and households, geometry
within 1 cm (GeoJSON keeps 7 decimals of a degree, ~1 cm; GeoPackage and
Shapefile keep full double precision).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from numpy.typing import NDArray

from planner.crs import WGS84, PointCRS, to_wgs84
from planner.errors import InputError, Problem, ProblemLog
from planner.export.formats import read_fields_csv, shapefile_field_names
from planner.load.uploads import GIS_SUFFIXES
from planner.street import Street

log = logging.getLogger(__name__)

#: Grid columns the reader knows (GRID_COLUMNS of planner.grids.division), with their types.
GRID_FIELD_TYPES: dict[str, str] = {
    "grid_id": "str",
    "code": "str",
    "code_provisional": "bool",
    "community_id": "str",
    "community": "str",
    "households": "int",
    "population": "float",
    "buildings": "int",
    "atoms": "int",
    "area_m2": "float",
    "compactness": "float",
    "locked": "bool",
    "reason": "str",
    "load": "float",  # --- bounds: the workload of each grid ---
    # --- dedicated: dedicated grids and grid shape ---
    "kind": "str",
    "land_use": "str",
    "feature_share": "float",
    "shape_reason": "str",
}

FileCoordinates = Literal["auto", "wgs84", "gcj02", "bd09"]

#: Vertices this close to the street boundary or a neighbouring grid are joined to it,
#: metres: the largest error of 7-decimal rounding (half a step of 1e-7 degree in
#: latitude and longitude, ~0.56 cm and ~0.46 cm at 34°N, together ~0.72 cm), with a
#: margin. Larger would merge vertices the exporter kept apart and move them further
#: than rounding did.
SNAP_M = 0.008
SUFFIXES = (".geojson", ".json", ".gpkg", ".shp")


#: How to fill in codes (every other code kept), named in the fixes of code problems.
RECODE_HINT = " (python -m planner check-grids FILE SOURCE --recode [--previous OLD_GRIDS])"


@contextlib.contextmanager
def _no_sidecars() -> Iterator[None]:
    """Read without GDAL writing a ``.aux.xml`` sidecar next to the user's file."""
    old = pyogrio.get_gdal_config_option("GDAL_PAM_ENABLED")
    pyogrio.set_gdal_config_options({"GDAL_PAM_ENABLED": "NO"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"GDAL_PAM_ENABLED": old})


def _declared_coordinates(path: Path, layer: str | None) -> str:
    """'gcj02' when the file states GCJ-02 (as planner exports do), else 'wgs84'."""
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        with path.open("r", encoding="utf-8-sig") as f:
            head = f.read(4096)
        if '"coordinate_system"' in head:
            try:
                doc = json.loads(path.read_text(encoding="utf-8-sig"))
            except json.JSONDecodeError:
                return "wgs84"
            if str(doc.get("coordinate_system", "")).upper().replace("-", "") == "GCJ02":
                return "gcj02"
        return "wgs84"
    if suffix == ".gpkg":
        info = pyogrio.read_info(path, layer=layer)
        meta = info.get("layer_metadata") or {}
        dmeta = info.get("dataset_metadata") or {}
        value = meta.get("coordinate_system") or dmeta.get("coordinate_system") or ""
        return "gcj02" if str(value).upper().replace("-", "") == "GCJ02" else "wgs84"
    if suffix == ".shp":
        note = path.parent / "COORDINATES.txt"
        if note.exists() and "GCJ-02" in note.read_text(encoding="utf-8", errors="replace"):
            return "gcj02"
    return "wgs84"


def _pick_layer(path: Path, layer: str | None) -> str | None:
    if path.suffix.lower() != ".gpkg":
        return layer
    layers = pyogrio.list_layers(path)
    names = [str(n) for n, _t in layers]
    if layer is not None:
        if layer not in names:
            raise InputError(
                Problem(
                    f"layer {layer!r} is not in {path.name}; layers: {', '.join(names)}",
                    fix="name one of the layers listed",
                    file=path.name,
                )
            )
        return layer
    if "grids" in names:
        return "grids"
    polys = [str(n) for n, t in layers if t and "Polygon" in str(t)]
    if len(polys) == 1:
        return polys[0]
    raise InputError(
        Problem(
            f"{path.name} holds several layers ({', '.join(names)}) and none is called 'grids'",
            fix="name the grids layer with --layer",
            file=path.name,
        )
    )


def _shapefile_names(path: Path, columns: list[str]) -> dict[str, str]:
    """Shapefile field -> original column, from fields.csv or the documented rule."""
    fields_csv = path.parent / "fields.csv"
    if fields_csv.exists():
        try:
            table = read_fields_csv(path.parent)
        except (KeyError, ValueError, pd.errors.ParserError) as exc:
            raise InputError(
                f"{fields_csv} cannot be read: {exc}",
                fix="restore fields.csv from the export or delete it",
            ) from exc
        if path.stem in table:
            return {f: c for f, c in table[path.stem].items() if f in columns}
    rule = shapefile_field_names(list(GRID_FIELD_TYPES))
    inverse = {v.lower(): k for k, v in rule.items() if k != v}
    return {c: inverse[c.lower()] for c in columns if c.lower() in inverse}


def snap_vertices(
    geoms: NDArray[np.object_], boundary: Any, *, tolerance_m: float = SNAP_M
) -> NDArray[np.object_]:
    """Close the sub-centimetre slivers a rounded file brings back, and nothing more.

    Three vectorised passes, each only within ``tolerance_m``:

    1. a vertex near a corner of the street boundary moves onto the corner;
    2. a vertex near the street boundary's outline moves to the nearest point on it
       (the boundary is exact, so this only brings a rounded vertex closer to where
       it was);
    3. grids are snapped to each other's vertices (:func:`shapely.snap`): a vertex
       near a neighbour's vertex joins it, and where one grid's corner lies on a
       neighbour's edge (a T-junction) that corner is inserted into the neighbour's
       outline, so both share it exactly. No vertex moves further from where the
       exporter put it than rounding already did.

    Vertices farther away are untouched, so a planner's deliberate edit (anything
    over 0.8 cm) is kept exactly as drawn.
    """
    from scipy.spatial import cKDTree

    coords = shapely.get_coordinates(geoms)
    if len(coords) == 0:
        return geoms
    out = coords.copy()
    ring = shapely.boundary(boundary) if boundary is not None else None
    if ring is not None and not shapely.is_empty(ring):
        corners = shapely.get_coordinates(ring)
        dist, idx = cKDTree(corners).query(coords, distance_upper_bound=tolerance_m)
        at_corner = np.isfinite(dist)
        out[at_corner] = corners[idx[at_corner]]
        pts = shapely.points(out)
        near = ~at_corner & shapely.dwithin(ring, pts, tolerance_m)
        if near.any():
            on = shapely.line_interpolate_point(ring, shapely.line_locate_point(ring, pts[near]))
            out[near] = shapely.get_coordinates(on)
    moved = np.asarray(shapely.set_coordinates(geoms.copy(), out), dtype=object)
    if len(moved) > 1:
        ref = shapely.multipoints(np.unique(out, axis=0))
        moved = np.asarray(shapely.snap(moved, ref, tolerance_m), dtype=object)
    return moved


def _code_text(values: pd.Series, width: int | None, log_: ProblemLog, file: str) -> pd.Series:
    """Codes as text; numeric codes are accepted only when they are exact integers."""
    if pd.api.types.is_float_dtype(values.dtype):
        a = values.to_numpy(dtype="float64", na_value=np.nan)
        if np.nanmax(np.abs(a), initial=0.0) >= 2**53:
            log_.add(
                "grid codes are stored as decimal numbers too long to be exact "
                "(a 20-digit code loses its last digits)",
                file=file,
                field="code",
                fix=f"store the code column as text in the GIS, or re-code the grids{RECODE_HINT}",
            )
            return values.astype(str)
        out = pd.Series(
            ["" if np.isnan(v) else str(int(v)) for v in a], index=values.index, dtype=object
        )
    elif pd.api.types.is_integer_dtype(values.dtype):
        out = values.astype("int64").astype(str)
    else:
        out = values.astype(object).where(values.notna(), "").astype(str).str.strip()
    if width is not None:
        short = out.str.fullmatch(r"\d+") & (out.str.len() < width)
        out = out.where(~short, out.str.zfill(width))
    return out


def read_grids(
    path: str | Path,
    street: Street,
    *,
    layer: str | None = None,
    coordinates: FileCoordinates = "auto",
    code_width: int | None = None,
    require_codes: bool = True,
    snap_m: float | None = None,
) -> gpd.GeoDataFrame:
    """Read a grids file and bring it into the street's projected CRS.

    Parameters
    ----------
    path
        ``.geojson``/``.json``, ``.gpkg`` (layer ``grids``, or the only polygon
        layer, or ``layer``) or ``.shp`` (field names mapped back via ``fields.csv``).
    street
        The street the grids belong to; the result is in ``street.crs`` (metres).
    layer
        Layer name inside a GeoPackage.
    coordinates
        ``"auto"`` (default): GCJ-02 if the file says so (planner exports do), else
        the file's own CRS; ``"gcj02"`` / ``"bd09"``: the lon/lat numbers are GCJ-02
        (drawn on an Amap/Tencent base map) or BD-09 (Baidu) whatever the file says;
        ``"wgs84"``: trust the file. :func:`looks_shifted` tells whether a file read
        as WGS84 is really GCJ-02/BD-09.
    code_width
        Digits of a grid code (20 or 15); numeric codes shorter than this are padded
        with leading zeros. None: no padding.
    require_codes
        Refuse grids without a ``code`` (False when the grids will be re-coded).
    snap_m
        Vertices this close to the street boundary or a neighbouring grid are moved
        onto it (:func:`snap_vertices`), metres. Default: :data:`SNAP_M` (0.8 cm) for
        GeoJSON, whose coordinates are rounded to ~1 cm, and 0 (off) for GeoPackage
        and Shapefile, which keep full precision.

    Returns
    -------
    geopandas.GeoDataFrame
        The grids (columns of the file with the planner's names and types, geometry
        in ``street.crs``), index 0..n-1.

    Raises
    ------
    InputError
        Every problem found: missing file, unknown format, no CRS, non-polygon
        features, empty geometry, missing or duplicate codes, codes stored as lossy
        numbers.
    """
    p = Path(path)
    gdf, declared = _read_grids_file(p, layer=layer, coordinates=coordinates)
    if p.suffix.lower() == ".shp":
        cols = [c for c in gdf.columns if c != gdf.geometry.name]
        gdf = gdf.rename(columns=_shapefile_names(p, cols))
    gdf = _with_crs(gdf, p.name)
    gdf = _to_street(gdf, street, declared=declared, name=p.name)
    tol = (
        (SNAP_M if p.suffix.lower() in (".geojson", ".json") else 0.0) if snap_m is None else snap_m
    )
    if tol > 0 and len(street.boundary) and len(gdf):
        gdf = _snapped(gdf, street, tolerance_m=tol)
    problems = ProblemLog()
    ids = (
        gdf["code"].astype(str).tolist()
        if "code" in gdf.columns
        else [str(i + 1) for i in range(len(gdf))]
    )
    gdf = _checked_polygons(gdf, ids, name=p.name, problems=problems)
    gdf = _typed_fields(gdf, ids, name=p.name, problems=problems)
    gdf = _checked_codes(
        gdf, code_width=code_width, require_codes=require_codes, name=p.name, problems=problems
    )
    problems.raise_if_errors()
    return gdf


def _read_grids_file(
    p: Path, *, layer: str | None, coordinates: FileCoordinates
) -> tuple[gpd.GeoDataFrame, str]:
    """The file's features as read, and the coordinates they are in ("wgs84"/"gcj02")."""
    name = p.name
    if not p.exists():
        raise InputError(Problem(f"grids file {p} does not exist", fix="check the path", file=name))
    if p.suffix.lower() not in SUFFIXES:
        raise InputError(
            Problem(
                f"grids file {name} has an unknown format {p.suffix!r}",
                fix="give a .geojson, .gpkg or .shp file",
                file=name,
            )
        )
    with _no_sidecars():
        try:
            lay = _pick_layer(p, layer)
            gdf = pyogrio.read_dataframe(p, layer=lay) if lay else pyogrio.read_dataframe(p)
            declared = _declared_coordinates(p, lay) if coordinates == "auto" else coordinates
        except InputError:
            raise
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
            raise InputError(
                Problem(f"grids file {name} cannot be read: {exc}", fix="re-export it", file=name)
            ) from exc
        except (OSError, ValueError, UnicodeDecodeError) as exc:  # a damaged file
            raise InputError(
                Problem(
                    f"grids file {name} cannot be read: {type(exc).__name__}: {exc}",
                    fix="re-export it from your GIS (GeoJSON, GeoPackage or Shapefile)",
                    file=name,
                )
            ) from exc
    return gdf, declared


def _with_crs(gdf: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """A file without a CRS is read as WGS84 when its coordinates fit, else refused."""
    if gdf.crs is not None:
        return gdf
    x0, y0, x1, y1 = gdf.total_bounds if len(gdf) else (0, 0, 0, 0)
    if -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90:
        log.warning("%s has no CRS; reading it as longitude/latitude (WGS84)", name)
        return gdf.set_crs(WGS84)
    raise InputError(
        Problem(
            f"grids file {name} has no coordinate reference system and its "
            "coordinates are not longitude/latitude",
            fix="save it with its CRS (a .prj next to a Shapefile)",
            file=name,
            field="geometry",
        )
    )


def _to_street(
    gdf: gpd.GeoDataFrame, street: Street, *, declared: str, name: str
) -> gpd.GeoDataFrame:
    """Into ``street.crs`` (metres), GCJ-02 / BD-09 coordinates converted back to WGS84
    first."""
    if declared in ("gcj02", "bd09"):
        gdf = _read_as(gdf, "gcj02" if declared == "gcj02" else "bd09")
        log.info("%s: converted %s coordinates back to WGS84", name, declared)
    return gdf.to_crs(street.crs).reset_index(drop=True)


def _read_as(gdf: gpd.GeoDataFrame, source: PointCRS) -> gpd.GeoDataFrame:
    """``gdf``'s longitude/latitude taken as ``source`` (GCJ-02, BD-09) and moved back
    to WGS84 degrees."""
    ll = gdf.to_crs(WGS84)

    def back(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        lon, lat = to_wgs84(coords[:, 0], coords[:, 1], source)
        return np.column_stack([lon, lat])

    moved = shapely.transform(np.asarray(ll.geometry.values), back)
    return ll.set_geometry(gpd.GeoSeries(moved, index=ll.index, crs=WGS84))


#: Web-map offsets :func:`looks_shifted` tries.
SHIFT_CANDIDATES: tuple[PointCRS, ...] = ("gcj02", "bd09")


@dataclass(frozen=True)
class ShiftGuess:
    """A grids file that fits the street far better read as ``system``.

    ``shift_m``: how far the grids move, metres; ``misfit_m2`` / ``fitted_m2``: the
    area of the symmetric difference between the grids' union and the street,
    read as they are and read as ``system``, m².
    """

    system: PointCRS
    shift_m: float
    misfit_m2: float
    fitted_m2: float

    def message(self, name: str) -> str:
        label = {"gcj02": "GCJ-02 (Amap/Tencent)", "bd09": "BD-09 (Baidu)"}[self.system]
        return (
            f"grids file {name} lies about {self.shift_m:,.0f} m from the street: this looks "
            f"like {label} coordinates (read as {self.system} the grids miss the street by "
            f"{self.fitted_m2:,.0f} m² instead of {self.misfit_m2:,.0f} m²)"
        )


def looks_shifted(
    grids: gpd.GeoDataFrame, street: Street, *, min_gain: float = 4.0
) -> ShiftGuess | None:
    """Whether ``grids`` (read as WGS84, in ``street.crs``) are GCJ-02 or BD-09 numbers.

    The grids' union is compared with the street boundary (area of the symmetric
    difference, m²); each of :data:`SHIFT_CANDIDATES` moves the coordinates back as if
    they were in that system. A guess is made only when the grids miss the street by
    more than 1% of its area as read, the best candidate cuts that by ``min_gain``
    times, and the move is 50-2,500 m (GCJ-02 moves 100-700 m in China; BD-09 about
    1.3 km in Beijing). Vectorised: one union and one transform per candidate.
    """
    if len(grids) == 0 or len(street.boundary) == 0 or grids.crs is None:
        return None
    boundary = street.boundary_geom

    def misfit(geoms: NDArray[np.object_]) -> tuple[float, Any]:
        union = shapely.union_all(shapely.make_valid(geoms))
        return float(shapely.area(shapely.symmetric_difference(union, boundary))), union

    base, union = misfit(np.asarray(grids.geometry.values, dtype=object))
    if base <= 0.01 * float(boundary.area):
        return None
    best: ShiftGuess | None = None
    for system in SHIFT_CANDIDATES:
        moved = _read_as(grids, system).to_crs(street.crs)
        fitted, moved_union = misfit(np.asarray(moved.geometry.values, dtype=object))
        shift = float(shapely.distance(shapely.centroid(union), shapely.centroid(moved_union)))
        fits = fitted * min_gain < base and 50.0 <= shift <= 2500.0
        if fits and (best is None or fitted < best.fitted_m2):
            best = ShiftGuess(system, shift, base, fitted)
    return best


def _snapped(gdf: gpd.GeoDataFrame, street: Street, *, tolerance_m: float) -> gpd.GeoDataFrame:
    """:func:`snap_vertices` applied, except where snapping would break a grid."""
    before = np.asarray(gdf.geometry.values, dtype=object)
    snapped = snap_vertices(before, street.boundary_geom, tolerance_m=tolerance_m)
    # never make a grid worse: keep the file's own shape where snapping would break it
    worse = (shapely.is_valid(before) & ~shapely.is_valid(snapped)) | (
        shapely.get_type_id(before) != shapely.get_type_id(snapped)
    )
    snapped[worse] = before[worse]
    return gdf.set_geometry(gpd.GeoSeries(snapped, index=gdf.index, crs=gdf.crs))


def _checked_polygons(
    gdf: gpd.GeoDataFrame, ids: list[str], *, name: str, problems: ProblemLog
) -> gpd.GeoDataFrame:
    """Polygons only (others are problems), invalid ones repaired with ``make_valid``,
    single-part multipolygons (GeoPackage/Shapefile promote all) made polygons again."""
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    not_poly = ~missing & ~np.isin(shapely.get_type_id(geoms), [3, 6])
    for i in np.flatnonzero(missing):
        problems.add(
            "feature has no geometry",
            file=name,
            feature_id=ids[i],
            field="geometry",
            fix="draw the grid or delete the feature",
        )
    for i in np.flatnonzero(not_poly):
        problems.add(
            f"feature is a {geoms[i].geom_type} geometry, not a polygon",
            file=name,
            feature_id=ids[i],
            field="geometry",
            fix="grids are areas: draw each grid as a polygon (or export the grids "
            "from the grids command) and remove point or line features",
        )
    ok = ~missing & ~not_poly
    geoms = geoms.copy()
    invalid = ok & ~shapely.is_valid(geoms)
    if invalid.any():
        geoms[invalid] = shapely.make_valid(
            geoms[invalid], method="structure", keep_collapsed=False
        )
        log.info("%s: repaired %d invalid grid polygons (make_valid)", name, int(invalid.sum()))
    single = ok & (shapely.get_type_id(geoms) == 6) & (shapely.get_num_geometries(geoms) == 1)
    if single.any():
        geoms[single] = shapely.get_geometry(geoms[single], 0)
    return gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))


def _typed_fields(
    gdf: gpd.GeoDataFrame, ids: list[str], *, name: str, problems: ProblemLog
) -> gpd.GeoDataFrame:
    """The known grid columns with their types (numbers typed as text put right)."""
    out = gdf.copy()
    for col, kind in GRID_FIELD_TYPES.items():
        if col not in out.columns or col == "code":
            continue
        s = out[col]
        if kind in ("int", "float"):
            num = pd.to_numeric(s, errors="coerce")
            bad = num.isna() & s.notna() & (s.astype(str).str.strip() != "")
            for i in np.flatnonzero(bad.to_numpy()):
                problems.add(
                    f"{col} value {s.iloc[i]!r} is not a number",
                    file=name,
                    feature_id=ids[i],
                    field=col,
                    fix="write a number or leave it empty",
                )
            out[col] = num.fillna(0).round().astype("int64") if kind == "int" else num
        elif kind == "bool":
            out[col] = s.map(_as_bool).astype(bool)
        else:
            out[col] = s.astype(object).where(s.notna(), "").astype(str)
    return out


def _checked_codes(
    gdf: gpd.GeoDataFrame,
    *,
    code_width: int | None,
    require_codes: bool,
    name: str,
    problems: ProblemLog,
) -> gpd.GeoDataFrame:
    """Codes as text (padded to ``code_width``), each grid with its own code."""
    if "code" not in gdf.columns:
        if require_codes:
            problems.add(
                "the file has no 'code' column",
                file=name,
                field="code",
                fix="keep the code column when editing, or take the codes back from the previous "
                f"grids by geometry{RECODE_HINT}",
            )
        return gdf
    out = gdf.copy()
    out["code"] = _code_text(out["code"], code_width, problems, name)
    if not require_codes:
        return out
    empty = out["code"] == ""
    for i in np.flatnonzero(empty.to_numpy()):
        problems.add(
            "grid has no code",
            file=name,
            feature_id=f"#{i + 1}",
            field="code",
            fix=f"give it a code, or fill in the missing codes{RECODE_HINT}",
        )
    dup = out["code"].duplicated(keep=False) & ~empty
    for code in sorted(set(out.loc[dup, "code"])):
        problems.add(
            f"code {code} is used by {int((out['code'] == code).sum())} grids",
            file=name,
            feature_id=code,
            field="code",
            fix="give each grid its own code, or let the grid that matches the previous "
            f"one keep it and the other take a new one{RECODE_HINT}",
        )
    return out


def _as_bool(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes", "y", "t", "是")
    if v is None:
        return False
    try:
        if pd.isna(v):
            return False
    except (TypeError, ValueError):
        pass
    return bool(v)


#: File kinds an uploaded grids file may come as (a Shapefile as its parts or a zip).
UPLOAD_SUFFIXES = (*GIS_SUFFIXES, ".txt", ".zip")


def read_grids_upload(
    files: Sequence[tuple[str, bytes]],
    street: Street,
    *,
    dest: str | Path,
    limit_mb: float = 200.0,
    **options: Any,
) -> gpd.GeoDataFrame:
    """Read grids uploaded in the app: one GeoJSON/GeoPackage, Shapefile parts, or a zip.

    The files are written into a new folder under ``dest`` under names the planner
    makes (``grids.<ext>``; ``fields.csv`` and ``COORDINATES.txt`` keep theirs); a zip is
    checked for zip bombs, unsafe paths and damage first
    (:func:`planner.load.uploads.check_zip`, :func:`planner.load.uploads.extract_zip`).
    Then the first grids file found is read with :func:`read_grids` (``options`` are
    passed on).

    Raises
    ------
    InputError
        Nothing uploaded, too big, an unknown file type, no grids file among the
        files, or any problem :func:`read_grids` finds.
    """
    import hashlib

    from planner.load.uploads import check_zip, extract_zip

    if not files:
        raise InputError("no grids file uploaded", fix="choose a .geojson, .gpkg or .shp file")
    total = sum(len(b) for _n, b in files)
    if total > limit_mb * 1024 * 1024:
        raise InputError(
            f"the upload is {total / 1024 / 1024:.1f} MB, over the {limit_mb:g} MB limit",
            fix="upload the grids layer alone",
        )
    bad = [n for n, _b in files if Path(n).suffix.lower() not in UPLOAD_SUFFIXES]
    if bad:
        raise InputError(
            f"unknown file type(s): {', '.join(n[:80] for n in bad)}",
            fix="upload a .geojson, .gpkg, a Shapefile's .shp/.shx/.dbf/.prj/.cpg, or a zip",
        )
    h = hashlib.sha256()
    for n, b in files:
        h.update(n.encode("utf-8", "surrogatepass") + hashlib.sha256(b).digest())
    folder = Path(dest) / f"grids-{h.hexdigest()[:12]}"
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files:
        if Path(name).suffix.lower() == ".zip":
            members = check_zip(data, name=name[:80], limit_mb=limit_mb)
            extract_zip(data, members, folder, name=name[:80], limit_mb=limit_mb)
        else:
            (folder / _grids_file_name(name)).write_bytes(data)
    for suffix in (".gpkg", ".geojson", ".json", ".shp"):
        found = sorted(folder.rglob(f"*{suffix}"))
        if found:
            return read_grids(found[0], street, **options)
    raise InputError(
        "no grids file among the uploaded files",
        fix="upload a .geojson, .gpkg or .shp (with its .shx, .dbf, .prj) file",
    )


def _grids_file_name(name: str) -> str:
    """The name an uploaded grids file is saved under (never the browser's path)."""
    base = Path(name.replace("\\", "/")).name
    if base.lower() in ("fields.csv", "coordinates.txt"):
        return "fields.csv" if base.lower() == "fields.csv" else "COORDINATES.txt"
    return f"grids{Path(base).suffix.lower()}"
