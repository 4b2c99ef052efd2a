"""Service kinds of the life circles, and the street's facilities of each kind.

The quarter-hour circle is "well laid out and functionally complete" only when a resident
reaches, within the circle's minutes, every kind of facility it should hold. This module
uses the catalogue of those kinds (:data:`planner.schema.SERVICE_KINDS`), each in one
circle (:data:`planner.schema.CIRCLES`):

* ``life_5``, ``life_10``, ``life_15``: GB 50180-2018 *Standard for urban residential
  area planning and design*, Appendix B (tables B.0.1 and B.0.2): the facilities of the
  15-, 10- and 5-minute life circles (a higher circle does not replace a lower one);
* ``party_15``: the quarter-hour party-building service circle (一刻钟党建服务圈) of the
  party-mass service system documents: the party-mass centre or station joined by city
  study rooms, pocket parks and neighbourhood centres;
* ``convenience_15``: the 15-minute convenience service circle (15分钟便民服务圈,
  MOFCOM's urban convenient-living-circle guidance): finance, medical, delivery and
  groceries.

A kind is fed by the street's layers (:func:`service_points`): stations by their station
kind (:data:`planner.schema.STATION_KINDS`), POIs by their OSM value (``amenity``,
``shop``, ``office``, ``leisure``, ``healthcare`` or ``social_facility`` value; see
:func:`planner.load.osm` and ``docs/readme/osm.md``), land-use polygons by their kind
(parks, schools), and any of them by words in its name (小学, 幼儿园, 菜市场 ...); a user
mapping file (:func:`read_service_kinds_file`, ``text,kind``) adds a register's own
names. One feature may feed several kinds (a neighbourhood centre is also a community
service station).

Minutes: ``Settings.service_circle_minutes`` gives the 5-, 10- and 15-minute circles'
walking minutes (the two policy circles are 15-minute circles).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner import schema
from planner.errors import InputError, ProblemLog
from planner.load.kinds import MappingSpec, read_mapping_table
from planner.load.tables import normalise_text
from planner.schema import ALL_SERVICE_KINDS, SERVICE_KINDS, ServiceKind, kind_minutes
from planner.settings import Settings
from planner.street import Street

#: Header names of a service-kinds mapping file's kind column (normalised).
SERVICE_KIND_COLUMNS: frozenset[str] = frozenset(
    {"service_kind", "kind", "maps_to", "服务类型", "设施类型", "类型", "归类"}
)

#: The columns of :func:`service_points`.
POINT_COLUMNS: tuple[str, ...] = (
    "point_id",
    "service_kind",
    "layer",
    "source_id",
    "name",
    "floor_area_m2",
    "capacity_households",
    "in_street",
)


def kind_lookup(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Normalised text -> service kind: the keys, their Chinese and English names, and
    ``extra`` (a mapping file's text -> kind, which wins)."""
    out: dict[str, str] = {}
    for key, k in SERVICE_KINDS.items():
        out[normalise_text(key)] = key
        out[normalise_text(k.zh)] = key
        out[normalise_text(k.en)] = key
    out.update({normalise_text(t): k for t, k in (extra or {}).items()})
    return out


def read_service_kinds_file(path: Path, *, problems: ProblemLog) -> dict[str, str]:
    """A user's mapping of names to service kinds, from a CSV/Excel table.

    Two columns: the text (``text``/``原文``/``名称``), matched whole against a station's
    kind as written, a POI's kind, or any feature's name; and the service kind it means
    (``service_kind``/``服务类型``/``类型``): a key of :data:`SERVICE_KINDS` or its Chinese
    or English name. Blank rows are skipped; a kind not in the catalogue is logged naming
    the file, the row and the field, with the kinds to choose from.

    Returns
    -------
    dict
        Text -> service kind key (empty when the file could not be used).
    """
    spec = MappingSpec(
        what="service-kinds",
        kind_columns=SERVICE_KIND_COLUMNS,
        kind_field="service_kind",
        target="service kind",
        columns_fix="name the columns text,service_kind (or 原文,服务类型): one row per name, "
        "e.g. 幸福食堂,canteen",
        lookup=kind_lookup(),
        valid=", ".join(f"{k} ({v.zh})" for k, v in SERVICE_KINDS.items()),
    )
    return read_mapping_table(path, spec, problems=problems)


def _texts(layer: gpd.GeoDataFrame, column: str) -> pd.Series:
    if column not in layer.columns:
        return pd.Series([""] * len(layer), index=layer.index, dtype=object)
    col = layer[column]
    out: pd.Series = col.astype(object).where(col.notna(), "").astype(str)
    return out


def _matches(
    layer: gpd.GeoDataFrame,
    kind: ServiceKind,
    value_column: str,
    values: tuple[str, ...],
    mapped: pd.Series,
    key: str,
) -> np.ndarray:
    """Rows of ``layer`` that are a ``kind`` facility: by value, name word or mapping."""
    value = _texts(layer, value_column).str.strip().str.lower()
    hit = value.isin(values).to_numpy(dtype=bool, copy=True)
    names = _texts(layer, "name")
    for word in kind.name_words:
        hit |= names.str.contains(word, regex=False).to_numpy()
    hit |= (mapped == key).to_numpy()
    return np.asarray(hit, dtype=bool)


def _mapped(layer: gpd.GeoDataFrame, columns: tuple[str, ...], extra: dict[str, str]) -> pd.Series:
    """The service kind a mapping file gives each row (by any of ``columns``), else ''."""
    out = pd.Series([""] * len(layer), index=layer.index, dtype=object)
    if not extra:
        return out
    norm = {normalise_text(t): k for t, k in extra.items()}
    for col in columns:
        hit = _texts(layer, col).map(normalise_text).map(norm)
        out = out.where(out != "", hit.fillna(""))
    return out


def _layer_points(
    layer: gpd.GeoDataFrame | None,
    name: Literal["stations", "pois", "landuse"],
    kinds: tuple[str, ...],
    extra: dict[str, str],
) -> list[pd.DataFrame]:
    """One frame per kind: the rows of one layer that feed it, as points."""
    if layer is None or len(layer) == 0:
        return []
    id_col = {"stations": "station_id", "pois": "poi_id", "landuse": "landuse_id"}[name]
    mapped = _mapped(layer, ("kind_text", "kind", "name"), extra)
    pts = shapely.point_on_surface(layer.geometry.to_numpy())
    in_street = (
        layer["in_street"].astype(bool).to_numpy()
        if "in_street" in layer.columns
        else np.ones(len(layer), bool)
    )
    area = (
        pd.to_numeric(layer["floor_area_m2"], errors="coerce").to_numpy(dtype=float)
        if name == "stations" and "floor_area_m2" in layer.columns
        else np.full(len(layer), np.nan)
    )
    cap = (
        pd.to_numeric(layer["capacity_households"], errors="coerce").to_numpy(dtype=float)
        if "capacity_households" in layer.columns
        else np.full(len(layer), np.nan)
    )
    frames = []
    for key in kinds:
        k = SERVICE_KINDS[key]
        values = {"stations": k.station_kinds, "pois": k.poi_kinds, "landuse": k.landuse_kinds}
        hit = _matches(layer, k, "kind", values[name], mapped, key)
        if not hit.any():
            continue
        frames.append(
            pd.DataFrame(
                {
                    "service_kind": key,
                    "layer": name,
                    "source_id": _texts(layer, id_col).to_numpy()[hit],
                    "name": _texts(layer, "name").to_numpy()[hit],
                    "floor_area_m2": area[hit],
                    "capacity_households": cap[hit],
                    "in_street": in_street[hit],
                    "geometry": pts[hit],
                }
            )
        )
    return frames


def service_points(
    stations: gpd.GeoDataFrame,
    pois: gpd.GeoDataFrame | None,
    landuse: gpd.GeoDataFrame | None,
    *,
    kinds: tuple[str, ...] = ALL_SERVICE_KINDS,
    mapping: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """The street's facilities of each service kind, as points (the layers' CRS).

    Parameters
    ----------
    stations, pois, landuse
        The street's layers (projected CRS); a polygon stands at a point on its surface.
    kinds
        Service kinds to look for (keys of :data:`SERVICE_KINDS`).
    mapping
        A mapping file's text -> service kind (:func:`read_service_kinds_file`).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per (feature, kind) with :data:`POINT_COLUMNS`; ``floor_area_m2`` (m²)
        from stations, ``capacity_households`` where a layer has that column.
    """
    extra = dict(mapping or {})
    frames = [
        *_layer_points(stations, "stations", kinds, extra),
        *_layer_points(pois, "pois", kinds, extra),
        *_layer_points(landuse, "landuse", kinds, extra),
    ]
    crs = stations.crs
    if not frames:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in POINT_COLUMNS})
        return gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    df = pd.concat(frames, ignore_index=True)
    order = {k: i for i, k in enumerate(kinds)}
    df = df.sort_values(
        ["service_kind", "layer", "source_id"],
        key=lambda s: s.map(order) if s.name == "service_kind" else s,
        kind="stable",
    ).reset_index(drop=True)
    df.insert(
        0,
        "point_id",
        [
            f"{k}:{lay}:{s}"
            for k, lay, s in zip(df["service_kind"], df["layer"], df["source_id"], strict=True)
        ],
    )
    df["in_street"] = df["in_street"].astype(bool)
    return gpd.GeoDataFrame(df, geometry="geometry", crs=crs)


def kind_street(street: Street, kind: str, settings: Settings) -> tuple[Street, Settings]:
    """``street`` with the facilities of one service ``kind`` as its stations, and settings
    whose one threshold is the kind's minutes: siting then places new facilities of that
    kind (``python -m planner site --service-kind kindergarten``).

    The stations layer holds the kind's facilities (:func:`service_points`, margin ones
    included as the settings say) as ``community_station`` rows with ``kind_text`` the
    service kind; ``service_kinds`` is that station kind alone.

    Raises
    ------
    InputError
        ``kind`` is not a service kind (naming the kinds to choose from).
    """
    if kind not in SERVICE_KINDS:
        raise InputError(
            f"{kind!r} is not a service kind",
            fix="use one of: " + ", ".join(f"{k} ({v.zh})" for k, v in SERVICE_KINDS.items()),
        )
    pts = service_points(
        street.stations,
        street.pois,
        street.landuse,
        kinds=(kind,),
        mapping=dict(settings.service_kind_names),
    )
    stations = gpd.GeoDataFrame(
        {
            "station_id": pts["point_id"].astype(str).to_numpy(),
            "name": pts["name"].astype(str).to_numpy(),
            "kind": "community_station",
            "kind_text": kind,
            "floor_area_m2": pd.to_numeric(pts["floor_area_m2"], errors="coerce").to_numpy(),
            "in_street": pts["in_street"].astype(bool).to_numpy(),
        },
        geometry=pts.geometry.to_numpy(),
        crs=street.crs,
    )
    minutes = kind_minutes(kind, settings.service_circle_minutes)
    out = replace(street, stations=schema.conform("stations", stations))
    kind_settings = settings.with_(
        thresholds_min=(minutes,), gap_minutes=minutes, service_kinds=("community_station",)
    )
    return out, kind_settings
