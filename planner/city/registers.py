"""City-wide registers split to streets by key: the household register and the
organisation registers (party, staff, property, incidents; :func:`split_org_registers`).

A city keeps one household register (户数/人口 per building or compound) for all its
streets. :func:`split_register` hands each street the rows that name one of *its own*
buildings or compounds, so that each street task joins only its rows
(:func:`planner.load.register.join_register`, as a single-street run with that street's
register would). A row goes to the street of the key the join itself uses first:

1. ``building_id`` - the street holding the building with that id;
2. ``compound_id``, else ``compound_name`` - the street holding that compound (a row
   naming a building by name is narrowed by its compound here too);
3. ``building_name`` alone - the street holding a building of that name (or
   compound name + building name, as an address).

A building or compound belongs to the street holding its representative point. A row
whose key no street holds, or that several streets hold (a name given twice in the
city: add the id), goes to no street and is listed in :attr:`RegisterSplit.unmatched`
with the reason. Rows are tens of thousands at most: the lookups are dictionary maps
over columns, no loop over rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from planner.crs import WGS84
from planner.load.tables import normalise_text
from planner.organisation.registers import RegisterTables

__all__ = [
    "AMBIGUOUS",
    "ORG_KEY_ORDER",
    "OrgSplit",
    "RegisterSplit",
    "key_streets",
    "split_org_registers",
    "split_register",
    "street_of",
]

#: An object array of street codes.
NDArrayStr = NDArray[np.object_]

#: The street of a key several streets hold.
AMBIGUOUS = "\0ambiguous"


@dataclass
class RegisterSplit:
    """Each street's register rows, and the rows of no street with the reason.

    Attributes
    ----------
    by_street
        Street code -> its rows (the columns of
        :func:`planner.load.register.read_register`, the row numbers kept).
    unmatched
        Rows no street takes: ``row``, ``label`` and ``reason``.
    """

    by_street: dict[str, pd.DataFrame] = field(default_factory=dict)
    unmatched: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["row", "label", "reason"])
    )


def street_of(layer: gpd.GeoDataFrame, streets: gpd.GeoDataFrame) -> NDArrayStr:
    """The street code holding each feature's representative point ('' if none).

    Both layers in any CRS (compared in WGS84 degrees).
    """
    out = np.full(len(layer), "", dtype=object)
    if len(layer) == 0:
        return out
    pts = layer.to_crs(WGS84).geometry.representative_point().to_numpy()
    polys = streets.to_crs(WGS84).geometry.to_numpy()
    i, j = shapely.STRtree(polys).query(pts, predicate="within")
    first = np.unique(i, return_index=True)[1]
    out[i[first]] = streets["street_code"].astype(str).to_numpy()[j[first]]
    return out


def _lookup(keys: pd.Series, codes: NDArrayStr) -> dict[str, str]:
    """Normalised key -> the one street holding it, or :data:`AMBIGUOUS`."""
    df = pd.DataFrame({"key": keys.to_numpy(dtype=object), "code": codes})
    df = df[(df["key"] != "") & (df["code"] != "")].drop_duplicates()
    many = df["key"].duplicated(keep=False)
    df.loc[many, "code"] = AMBIGUOUS
    return dict(zip(df["key"], df["code"], strict=True))


def _norm_keys(layer: gpd.GeoDataFrame, col: str) -> pd.Series:
    """Normalised text of ``layer[col]`` ('' where absent)."""
    if col not in layer.columns or len(layer) == 0:
        return pd.Series([""] * len(layer), dtype=object)
    norm = np.vectorize(normalise_text, otypes=[object])
    return pd.Series(norm(layer[col].fillna("").astype(str).to_numpy()), dtype=object)


def key_streets(
    layers: dict[str, gpd.GeoDataFrame], streets: gpd.GeoDataFrame
) -> dict[str, dict[str, str]]:
    """Location key -> {normalised value -> street code or :data:`AMBIGUOUS`}, for the
    keys registers use: ``building_id``, ``building_name`` (name, or compound name +
    name), ``compound_id``, ``compound_name`` and ``community`` (id or name)."""
    empty = gpd.GeoDataFrame(geometry=[], crs=WGS84)
    buildings = layers.get("buildings", empty)
    compounds = layers.get("compounds", empty)
    communities = layers.get("communities", empty)
    b_code = street_of(buildings, streets)
    c_code = street_of(compounds, streets)
    m_code = street_of(communities, streets)
    comp_name = dict(
        zip(_norm_keys(compounds, "compound_id"), _norm_keys(compounds, "name"), strict=True)
    )
    b_names = _norm_keys(buildings, "name")
    b_addr = _norm_keys(buildings, "compound_id").map(comp_name).fillna("") + b_names
    m_keys = pd.concat([_norm_keys(communities, "community_id"), _norm_keys(communities, "name")])
    return {
        "building_id": _lookup(_norm_keys(buildings, "building_id"), b_code),
        "building_name": _lookup(pd.concat([b_names, b_addr]), np.concatenate([b_code, b_code])),
        "compound_id": _lookup(_norm_keys(compounds, "compound_id"), c_code),
        "compound_name": _lookup(_norm_keys(compounds, "name"), c_code),
        "community": _lookup(m_keys, np.concatenate([m_code, m_code])),
    }


def _first_key_streets(
    table: pd.DataFrame, key_street: pd.DataFrame, order: tuple[str, ...]
) -> tuple[pd.Series, pd.Series]:
    """Each row's street by the first key of ``order`` it gives (NaN: no street holds it,
    :data:`AMBIGUOUS`: several), and that key ('' when the row gives none)."""
    code = pd.Series(np.nan, index=table.index, dtype=object)
    used = pd.Series("", index=table.index, dtype=object)
    for col in order:
        if col not in table.columns:
            continue
        given = table[col].fillna("").astype(str) != ""
        take = code.isna() & (used == "") & given
        code[take] = key_street.loc[take, col]
        used[take] = col
    return code, used


def _split(
    table: pd.DataFrame, code: pd.Series, used: pd.Series
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Rows per street, and the rows of none (``row``, ``label``, ``reason``)."""
    ok = code.notna() & (code != AMBIGUOUS)
    what = used.str.replace("_", " ")
    reason = np.select(
        [used == "", code == AMBIGUOUS],
        ["no location key", "several streets hold this " + what + "; add the id"],
        "no street holds this " + what,
    )
    unmatched = table.loc[~ok, ["row", "label"]].assign(reason=reason[~ok.to_numpy()])
    rows = table.loc[ok]
    by_street = {str(c): g for c, g in rows.groupby(code[ok], sort=True)}
    return by_street, unmatched.reset_index(drop=True)


def split_register(
    table: pd.DataFrame,
    *,
    layers: dict[str, gpd.GeoDataFrame],
    streets: gpd.GeoDataFrame,
) -> RegisterSplit:
    """Split a city-wide household register (see the module docstring).

    Parameters
    ----------
    table
        Rows of :func:`planner.load.register.read_register` (normalised keys).
    layers
        The city-wide layers (``buildings``: ``building_id``, ``name``, ``compound_id``;
        ``compounds``: ``compound_id``, ``name``; any CRS).
    streets
        The street layer (``street_code``).
    """
    maps = key_streets(layers, streets)
    order = ("building_id", "compound_id", "compound_name", "building_name")
    key_street = pd.DataFrame({k: table[k].map(maps[k]) for k in order}, index=table.index)
    by_street, unmatched = _split(table, *_first_key_streets(table, key_street, order))
    return RegisterSplit(by_street=by_street, unmatched=unmatched)


# --- organisation registers (party, staff, property, incidents) ---

#: Location keys of an organisation register row, in the order they place it.
ORG_KEY_ORDER: tuple[str, ...] = (
    "grid_code",
    "building_id",
    "compound_id",
    "compound_name",
    "building_name",
    "community",
)


def _grid_code_streets(cells: pd.Series, streets: gpd.GeoDataFrame) -> pd.Series:
    """The street named by the county + street digits of every grid code in each cell
    (several codes separated by 、 , ; name one street, else :data:`AMBIGUOUS`; NaN when
    none is a code of the city's streets). 20-digit codes hold them at digits 7-15,
    15-digit codes at 1-9 (:func:`planner.grids.codes.parse_code`)."""
    from planner.organisation.registers import _CODE_SEP

    key = dict(
        zip(
            streets["county_code"].astype(str) + streets["street_code"].astype(str),
            streets["street_code"].astype(str),
            strict=True,
        )
    )

    def one(cell: str) -> object:
        codes = [c for c in _CODE_SEP.split(cell) if c]
        found = {key.get(c[6:15] if len(c) == 20 else c[0:9]) for c in codes} - {None}
        return found.pop() if len(found) == 1 else (AMBIGUOUS if found else np.nan)

    # one call per distinct cell (a register names tens to hundreds of grids)
    unique = cells.drop_duplicates()
    return cells.map(dict(zip(unique, unique.map(one), strict=True)))


def _point_streets(table: pd.DataFrame, streets: gpd.GeoDataFrame) -> pd.Series:
    """The street holding each row's WGS84 ``lon``/``lat`` point (NaN: none or no point)."""
    out = pd.Series(np.nan, index=table.index, dtype=object)
    if "lon" not in table.columns:
        return out
    has = table["lon"].notna() & table["lat"].notna()
    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(table.loc[has, "lon"], table.loc[has, "lat"]), crs=WGS84
    )
    codes = street_of(pts, streets)
    out[has] = np.where(codes == "", np.nan, codes)
    return out


@dataclass
class OrgSplit:
    """Each street's organisation registers, and the rows of no street.

    Attributes
    ----------
    by_street
        Street code -> :class:`planner.organisation.registers.RegisterTables` holding
        its rows of every register (the files kept for messages).
    unmatched
        ``register``, ``row``, ``label`` and ``reason`` of the rows no street takes.
    """

    by_street: dict[str, RegisterTables] = field(default_factory=dict)
    unmatched: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["register", "row", "label", "reason"])
    )


def split_org_registers(
    tables: RegisterTables,
    *,
    layers: dict[str, gpd.GeoDataFrame],
    streets: gpd.GeoDataFrame,
) -> OrgSplit:
    """Split city-wide organisation registers (read by
    :func:`planner.organisation.registers.read_registers`) to streets.

    A row goes to the street of the first location key it gives, in
    :data:`ORG_KEY_ORDER`: a grid code (the street its county and street digits name),
    a building id, a compound id or name, a building name, a community id or name; an
    incident with no key but a point goes to the street holding the point. Each street
    then joins its rows to its own grids (:func:`planner.organisation.registers.join_registers`).
    """
    maps = key_streets(layers, streets)
    out = OrgSplit()
    lost: list[pd.DataFrame] = []
    for kind, table in tables.tables.items():
        key_street = pd.DataFrame(
            {k: table[k].map(maps[k]) for k in ORG_KEY_ORDER[1:] if k in table.columns},
            index=table.index,
        )
        key_street["grid_code"] = _grid_code_streets(table["grid_code"], streets)
        code, used = _first_key_streets(table, key_street, ORG_KEY_ORDER)
        by_point = code.isna() & (used == "")
        if by_point.any() and "lon" in table.columns:
            code[by_point] = _point_streets(table.loc[by_point], streets)
            used[by_point & table["lon"].notna() & table["lat"].notna()] = "point"
        by_street, unmatched = _split(table, code, used)
        for street_code, rows in by_street.items():
            mine = out.by_street.setdefault(street_code, RegisterTables(files=dict(tables.files)))
            mine.tables[kind] = rows
        lost.append(unmatched.assign(register=tables.files.get(kind, kind)))
    if lost:
        out.unmatched = pd.concat(lost, ignore_index=True)[["register", "row", "label", "reason"]]
    return out
