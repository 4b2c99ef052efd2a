"""City-wide household register split to streets by key.

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

__all__ = ["AMBIGUOUS", "RegisterSplit", "split_register", "street_of"]

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


def split_register(
    table: pd.DataFrame,
    *,
    buildings: gpd.GeoDataFrame,
    compounds: gpd.GeoDataFrame,
    streets: gpd.GeoDataFrame,
) -> RegisterSplit:
    """Split a city-wide register (see the module docstring).

    Parameters
    ----------
    table
        Rows of :func:`planner.load.register.read_register` (normalised keys).
    buildings, compounds
        The city-wide layers (``building_id``, ``name``, ``compound_id``; any CRS).
    streets
        The street layer (``street_code``).
    """
    b_code = street_of(buildings, streets)
    c_code = street_of(compounds, streets)
    norm = np.vectorize(normalise_text, otypes=[object])

    def keys(col: str, layer: gpd.GeoDataFrame) -> pd.Series:
        if col not in layer.columns or len(layer) == 0:
            return pd.Series([""] * len(layer), dtype=object)
        return pd.Series(norm(layer[col].fillna("").astype(str).to_numpy()), dtype=object)

    comp_name = dict(zip(keys("compound_id", compounds), keys("name", compounds), strict=True))
    b_names = keys("name", buildings)
    b_addr = keys("compound_id", buildings).map(comp_name).fillna("") + b_names
    by_bname = _lookup(pd.concat([b_names, b_addr]), np.concatenate([b_code, b_code]))
    key_street = pd.DataFrame(
        {
            "building_id": table["building_id"].map(
                _lookup(keys("building_id", buildings), b_code)
            ),
            "compound_id": table["compound_id"].map(
                _lookup(keys("compound_id", compounds), c_code)
            ),
            "compound_name": table["compound_name"].map(_lookup(keys("name", compounds), c_code)),
            "building_name": table["building_name"].map(by_bname),
        },
        index=table.index,
    )
    code = pd.Series(np.nan, index=table.index, dtype=object)
    used = pd.Series("", index=table.index, dtype=object)
    for col in ("building_id", "compound_id", "compound_name", "building_name"):
        take = code.isna() & (used == "") & (table[col] != "")
        code[take] = key_street.loc[take, col]
        used[take] = col
    ok = code.notna() & (code != AMBIGUOUS)
    what = used.str.replace("_", " ")
    reason = np.select(
        [used == "", code == AMBIGUOUS],
        ["no building or compound key", "several streets hold this " + what + "; add the id"],
        "no street holds this " + what,
    )
    unmatched = table.loc[~ok, ["row", "label"]].assign(reason=reason[~ok.to_numpy()])
    rows = table.loc[ok]
    by_street = {str(c): g for c, g in rows.groupby(code[ok], sort=True)}
    return RegisterSplit(by_street=by_street, unmatched=unmatched.reset_index(drop=True))
