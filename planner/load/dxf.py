"""CAD drawings (DXF) as a street source.

Planning institutes hand over CAD drawings: roads, building outlines, the street
boundary, each on its own CAD layer (图层), with text entities (文字) giving a building's
name or households. The user says which CAD layer is which planner layer
(:func:`parse_mapping`)::

    --dxf-layers "roads=道路,buildings=建筑|房屋,boundary=街道界,buildings.households=户数文字层"

or the same ``key=value`` pairs in a small text file, one per line (``#`` comments).
``layer=CAD1|CAD2`` maps several CAD layers; ``layer.field=CAD`` takes ``field`` (one of
:data:`TEXT_FIELDS`) of each ``layer`` feature from the text entities of that CAD layer
lying inside it (numbers are read from text such as ``120户``).

The drawing is read with GDAL's DXF driver (through pyogrio): closed polylines become
polygons (vectorised, :func:`closed_lines_as_polygons`), Z is dropped, blocks are
expanded by GDAL. Texts are decoded as the file says (``$DWGCODEPAGE``, e.g. ANSI_936 =
GBK for Chinese R12 drawings); a file whose non-ASCII bytes are valid UTF-8 is read as
UTF-8, one without a code page as GB18030. A DXF has no coordinate system: ``--crs``
(e.g. ``EPSG:4547``, or the city's local system) is required, and the load is refused
without it. DWG is not read: save the drawing as DXF (AutoCAD: Save As > DXF; ODA File
Converter; QGIS opens DXF too).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from numpy.typing import NDArray
from pyproj import CRS

from planner.crs import WGS84
from planner.errors import InputError, Problem, ProblemLog
from planner.i18n import msg
from planner.schema import LAYERS

#: Planner layers a CAD layer may be mapped to.
DXF_TARGETS: tuple[str, ...] = (
    "boundary",
    "communities",
    "compounds",
    "buildings",
    "roads",
    "stations",
    "gates",
    "barriers",
    "landuse",
    "pois",
)
#: Fields text entities may give (``buildings.households=CAD layer``); numbers are parsed.
TEXT_FIELDS: dict[str, str] = {
    "name": "str",
    "code": "str",
    "kind": "str",
    "households": "number",
    "population": "number",
    "floors": "number",
}
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@dataclass(frozen=True)
class DxfMapping:
    """Which CAD layers make which planner layer, and which text layers give which field.

    Attributes
    ----------
    layers
        Planner layer -> CAD layer names.
    texts
        ``(planner layer, field)`` -> CAD layer names whose text entities give the field.
    """

    layers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    texts: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)


def parse_mapping(text: str | Path) -> DxfMapping:
    """The mapping of ``--dxf-layers``: ``a=X,b=Y|Z,b.field=T`` or a file of such pairs.

    Raises
    ------
    InputError
        An unknown planner layer or field, a pair without ``=``, an empty CAD name, or
        no layer mapped at all; the message names the pair and the names accepted.
    """
    raw = str(text)
    path = Path(raw).expanduser()
    source = "--dxf-layers"
    if "=" not in raw and path.is_file():
        source = str(path)
        raw = path.read_text(encoding="utf-8-sig")
    pairs = [p.strip() for line in raw.splitlines() for p in line.split("#")[0].split(",")]
    layers: dict[str, tuple[str, ...]] = {}
    texts: dict[tuple[str, str], tuple[str, ...]] = {}
    for pair in filter(None, pairs):
        key, sep, value = (s.strip() for s in pair.replace(":", "=", 1).partition("="))
        names = tuple(n.strip() for n in value.split("|") if n.strip())
        layer, _dot, fld = key.partition(".")
        if not sep or not names:
            _bad(source, pair, "write planner_layer=CAD layer name, e.g. buildings=建筑")
        if layer not in DXF_TARGETS:
            _bad(source, pair, f"the planner layers are {', '.join(DXF_TARGETS)}")
        if fld and fld not in TEXT_FIELDS:
            _bad(source, pair, f"text entities can give {', '.join(TEXT_FIELDS)}")
        if fld:
            texts[(layer, fld)] = names
        else:
            layers[layer] = names
    if not layers:
        _bad(source, raw[:60], "map at least one CAD layer, e.g. buildings=建筑,boundary=街道界")
    return DxfMapping(layers=layers, texts=texts)


def _bad(source: str, pair: str, fix: str) -> None:
    raise InputError(Problem(f"{source}: cannot use {pair!r}", fix=fix, field="--dxf-layers"))


def read_dxf(
    path: Path, mapping: DxfMapping, *, crs: CRS | None, problems: ProblemLog
) -> dict[str, gpd.GeoDataFrame]:
    """The planner layers of a DXF drawing, WGS84.

    Parameters
    ----------
    path
        The ``.dxf`` file.
    mapping
        CAD layers per planner layer and text layers per field (:func:`parse_mapping`).
    crs
        The drawing's coordinate system (``--crs``; CAD files carry none): metres of a
        CGCS2000 Gauss-Kruger zone or a local city system.
    problems
        Warnings are logged here: CAD layers named in the mapping but absent, entities
        of the wrong kind for their layer, texts in no feature or several in one.

    Raises
    ------
    InputError
        No ``crs``; the file cannot be read; no entity on any mapped CAD layer.
    """
    if crs is None:
        raise InputError(
            Problem(
                "a DXF drawing has no coordinate system",
                fix="give it with --crs, e.g. --crs EPSG:4547 (CGCS2000 / 3-degree "
                "Gauss-Kruger CM 114E) or the city's local system as a PROJ string or .prj",
                file=str(path),
            )
        )
    entities = read_entities(path)
    present = set(entities["Layer"])
    wanted = {n for names in (*mapping.layers.values(), *mapping.texts.values()) for n in names}
    missing = sorted(wanted - present)
    if missing:
        problems.add(
            msg("note_cad_missing", missing=missing, present=sorted(present)),
            file=str(path),
            field="--dxf-layers",
            fix=msg("note_fix_cad_names"),
            severity="warning",
        )
    out: dict[str, gpd.GeoDataFrame] = {}
    for layer, names in mapping.layers.items():
        gdf = _layer(entities, layer, names, path=path, problems=problems)
        for (tlayer, fld), tnames in mapping.texts.items():
            if tlayer == layer and len(gdf):
                gdf[fld] = _texts_inside(gdf, entities, tnames, fld, path=path, problems=problems)
        out[layer] = gdf.set_crs(crs).to_crs(WGS84)
    if not any(len(g) for g in out.values()):
        raise InputError(
            Problem(
                "no entity of the drawing is on a CAD layer named in --dxf-layers; its "
                "layers: " + ", ".join(sorted(present)),
                fix="map the drawing's layer names, e.g. --dxf-layers buildings=建筑",
                file=str(path),
                field="--dxf-layers",
            )
        )
    return out


def read_entities(path: Path) -> gpd.GeoDataFrame:
    """Every entity of the drawing (``Layer``, ``Text``, 2-D geometry; closed polylines
    as polygons), no CRS."""
    try:
        with _dxf_encoding(dxf_encoding(path)):
            raw = pyogrio.read_dataframe(path)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        raise InputError(
            Problem.of(
                msg("dxf_unreadable", detail=str(exc)),
                fix=msg("dxf_fix_unreadable"),
                file=str(path),
            )
        ) from exc
    geoms = shapely.force_2d(np.asarray(raw.geometry.values, dtype=object))
    text = raw["Text"] if "Text" in raw.columns else pd.Series(None, index=raw.index)
    return gpd.GeoDataFrame(
        {
            "Layer": raw["Layer"].astype(str).to_numpy(),
            "Text": text.astype(object).where(text.notna(), "").astype(str).to_numpy(),
        },
        geometry=closed_lines_as_polygons(geoms),
    )


def dxf_encoding(path: Path) -> str | None:
    """The text encoding to read ``path`` with: ``None`` lets GDAL follow the file's
    ``$DWGCODEPAGE``; UTF-8 when its non-ASCII bytes are valid UTF-8; GB18030 when it
    names no code page (Chinese drawings)."""
    data = path.read_bytes()
    if data.isascii():
        return None
    try:
        data.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        return None if b"$DWGCODEPAGE" in data else "GB18030"


@contextlib.contextmanager
def _dxf_encoding(encoding: str | None) -> Iterator[None]:
    pyogrio.set_gdal_config_options({"DXF_ENCODING": encoding})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"DXF_ENCODING": None})


def closed_lines_as_polygons(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Closed line strings (first point = last, at least 4 points) as polygons; the
    rest unchanged. One vectorised pass."""
    out = geoms.copy()
    line = shapely.get_type_id(geoms) == 1
    closed = np.zeros(len(geoms), dtype=bool)
    closed[line] = shapely.is_closed(geoms[line]) & (shapely.get_num_points(geoms[line]) >= 4)
    if closed.any():
        coords, index = shapely.get_coordinates(geoms[closed], return_index=True)
        rings = shapely.linearrings(coords, indices=index)
        out[closed] = shapely.make_valid(shapely.polygons(rings))
    return out


_FAMILY = {"Polygon": (3, 6), "LineString": (1, 5), "Point": (0, 4)}


def _layer(
    entities: gpd.GeoDataFrame,
    layer: str,
    names: tuple[str, ...],
    *,
    path: Path,
    problems: ProblemLog,
) -> gpd.GeoDataFrame:
    """The entities of ``names`` that fit ``layer``'s geometry (others warned about)."""
    sel = entities[entities["Layer"].isin(names)]
    kind = LAYERS.get(layer, ("Geometry", ()))[0]
    geoms = np.asarray(sel.geometry.values, dtype=object)
    types = shapely.get_type_id(geoms)
    if kind in _FAMILY:
        fits = np.isin(types, _FAMILY[kind])
        if kind == "LineString":  # a closed road polyline is still a road: its outline
            poly = np.isin(types, _FAMILY["Polygon"])
            geoms = geoms.copy()
            geoms[poly] = shapely.boundary(geoms[poly])
            fits |= poly
    else:
        fits = types >= 0
    fits &= ~shapely.is_empty(geoms)
    if (~fits).any():
        problems.add(
            msg(
                "note_cad_wrong_kind",
                n=int((~fits).sum()),
                names=list(names),
                kind=msg(f"note_cad_kind_{kind}") if kind in _FAMILY else f"{kind.lower()}s",
                layer=layer,
            ),
            file=str(path),
            field="--dxf-layers",
            fix=msg("note_fix_cad_closed", layer=layer)
            if kind == "Polygon"
            else msg("note_fix_cad_layer", layer=layer),
            severity="warning",
        )
    id_col = f"{layer[:-1]}_id" if layer.endswith("s") else f"{layer}_id"
    kept = sel.loc[fits]
    out = gpd.GeoDataFrame(
        {id_col: [f"dxf{i + 1}" for i in range(int(fits.sum()))]},
        geometry=list(geoms[fits]),
    )
    if kind == "Point":  # a station's or gate's own text is its name
        out["name"] = kept["Text"].to_numpy()
    return out


def _texts_inside(
    features: gpd.GeoDataFrame,
    entities: gpd.GeoDataFrame,
    names: tuple[str, ...],
    fld: str,
    *,
    path: Path,
    problems: ProblemLog,
) -> pd.Series:
    """``fld`` of each feature from the text entities of ``names`` inside it (the first
    one when several; numbers parsed). Texts in no feature and features with several
    texts are named in one warning each."""
    texts = entities[entities["Layer"].isin(names) & (entities["Text"] != "")]
    pts = shapely.point_on_surface(np.asarray(texts.geometry.values, dtype=object))
    tree = shapely.STRtree(np.asarray(features.geometry.values, dtype=object))
    ti, fi = tree.query(pts, predicate="within")
    values = texts["Text"].to_numpy()
    if TEXT_FIELDS[fld] == "number":
        found = pd.Series(values).str.extract(f"({_NUMBER.pattern})", expand=False)
        values = pd.to_numeric(found, errors="coerce").to_numpy()
    pairs = pd.DataFrame({"f": fi, "v": values[ti]}).drop_duplicates("f", keep="first")
    out = pd.Series(pairs["v"].to_numpy(), index=pairs["f"].to_numpy()).reindex(
        range(len(features))
    )
    outside = len(texts) - len(set(ti.tolist()))
    several = int((np.bincount(fi, minlength=len(features)) > 1).sum())
    for count, message in (
        (outside, msg("note_cad_text_outside", n=outside, field=fld, names=list(names))),
        (several, msg("note_cad_text_several", n=several, field=fld, names=list(names))),
    ):
        if count:
            problems.add(
                message,
                file=str(path),
                field=fld,
                fix=msg("note_fix_cad_text"),
                severity="warning",
            )
    return out.set_axis(features.index)
