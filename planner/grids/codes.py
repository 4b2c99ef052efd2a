"""Grid codes in the CJ/T 349-2010 structure.

20-digit code (default, ``Settings.code_width = 20``)::

    digits  1-6   service-object code          Settings.code_service_object (6 digits)
    digits  7-12  county-level division code   Settings.code_county (GB/T 2260)
    digits 13-15  street code                  Settings.code_street (GB/T 10114)
    digits 16-18  community code               community layer ``code`` (3 digits)
    digits 19-20  sequence within community    01-99

15-digit local variant (``code_width = 15``): no service-object prefix and a
three-digit sequence::

    county (6) + street (3) + community (3) + sequence (3, 001-999)

Sequence numbers run west to east, north to south within a community: grids are
put in rows by the height of their inner point (row height = median grid size,
the square root of the median grid area), rows from north to south, and within a
row from west to east. Codes are stable: grids passed in ``keep`` keep their code
and new grids take the lowest free sequence numbers in that reading order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.errors import PlannerError, SettingsError
from planner.settings import Settings

#: Grid-code parts a street's metadata (``street.json``) may declare, with their widths.
META_CODE_FIELDS: tuple[tuple[str, int], ...] = (("code_county", 6), ("code_street", 3))


def effective_code_settings(
    settings: Settings,
    meta: Mapping[str, Any] | None,
    *,
    explicit: Iterable[str] = (),
) -> Settings:
    """The settings grid codes are made with: flags > street metadata > settings.

    Parameters
    ----------
    settings
        The run's settings (flags the user gave already applied).
    meta
        The street's metadata (``Street.meta``, a folder's ``street.json``); its
        ``code_county`` (6 digits, GB/T 2260) and ``code_street`` (3 digits) replace
        the settings' values when well formed.
    explicit
        Setting names the user set explicitly (command-line flags, a settings file):
        these keep the settings' value whatever the metadata says.

    Returns
    -------
    Settings
        ``settings`` itself when nothing changes, else a validated copy.
    """
    given = set(explicit)
    values: dict[str, str] = {}
    for key, width in META_CODE_FIELDS:
        if key in given or not meta:
            continue
        value = str(meta.get(key, "") or "").strip()
        if value.isdigit() and len(value) == width and value != getattr(settings, key):
            values[key] = value
    return settings.with_(**values) if values else settings


def code_prefix(settings: Settings, community_code: str) -> str:
    """The code of a grid without its sequence number."""
    if settings.code_width == 20:
        if len(settings.code_service_object) != 6:
            raise SettingsError(
                f"code_service_object={settings.code_service_object!r}: a 20-digit grid code "
                "needs a 6-digit service-object code (e.g. 100000)"
            )
        return (
            settings.code_service_object
            + settings.code_county
            + settings.code_street
            + (community_code)
        )
    return settings.code_county + settings.code_street + community_code


def sequence_digits(settings: Settings) -> int:
    """Digits of the sequence number: 2 for 20-digit codes, 3 for 15-digit codes."""
    return 2 if settings.code_width == 20 else 3


def parse_code(code: str, *, settings: Settings) -> dict[str, str]:
    """Split a grid code into its parts (keys: service_object, county, street, community,
    sequence). Raises ``ValueError`` if the code has the wrong width or non-digits."""
    if not (code.isdigit() and len(code) == settings.code_width):
        raise ValueError(f"grid code {code!r} is not {settings.code_width} digits")
    rest = code
    parts = {"service_object": ""}
    if settings.code_width == 20:
        parts["service_object"], rest = code[:6], code[6:]
    parts["county"], parts["street"], parts["community"] = rest[:6], rest[6:9], rest[9:12]
    parts["sequence"] = rest[12:]
    return parts


def community_codes(communities: pd.DataFrame) -> pd.Series:
    """3-digit code of each community: its ``code`` if valid, else the next free number
    in the order of ``community_id``."""
    given = communities.get("code", pd.Series("", index=communities.index)).astype(object)
    given = given.where(given.notna(), "").astype(str).str.strip()
    valid = given.str.fullmatch(r"\d{3}") & ~given.duplicated()
    out = given.where(valid, "")
    used = set(out[valid])
    free = (f"{i:03d}" for i in range(1, 1000) if f"{i:03d}" not in used)
    order = communities.loc[~valid].sort_values("community_id").index
    for idx in order:
        out.loc[idx] = next(free)
    return out


def reading_order(grids: gpd.GeoDataFrame) -> pd.Series:
    """Rank of each grid west to east, north to south (0 first), per call on one community."""
    if len(grids) == 0:
        return pd.Series(dtype="int64")
    pts = shapely.point_on_surface(np.asarray(grids.geometry.values, dtype=object))
    xy = shapely.get_coordinates(pts)
    row_h = max(float(np.sqrt(np.median(grids.geometry.area))), 1.0)
    row = np.floor((xy[:, 1].max() - xy[:, 1]) / row_h)
    order = np.lexsort((xy[:, 0], row))
    rank = np.empty(len(grids), dtype=np.int64)
    rank[order] = np.arange(len(grids))
    return pd.Series(rank, index=grids.index)


def assign_codes(
    grids: gpd.GeoDataFrame,
    *,
    settings: Settings,
    communities: pd.DataFrame,
    keep: pd.Series | None = None,
) -> gpd.GeoDataFrame:
    """Give every grid its code; grids in ``keep`` (``grid_id -> code``) keep theirs.

    Parameters
    ----------
    grids
        Grids with ``grid_id`` and ``community_id``.
    communities
        Table with ``community_id`` and 3-digit ``code``.
    keep
        Codes to keep (e.g. of grids an edit did not touch, or locked grids).

    Returns
    -------
    GeoDataFrame
        A copy of ``grids`` with ``code`` filled.
    """
    out = grids.copy()
    keep = keep if keep is not None else pd.Series(dtype=object)
    comm_code = communities.set_index("community_id")["code"]
    digits = sequence_digits(settings)
    limit = 10**digits - 1
    codes = out["grid_id"].map(keep).astype(object)
    for comm, sel in out.groupby("community_id").groups.items():
        prefix = code_prefix(settings, str(comm_code.get(comm, "000")))
        sub = out.loc[sel]
        kept = codes.loc[sel].dropna()
        used = {int(c[-digits:]) for c in kept if str(c).startswith(prefix)}
        todo = sub[codes.loc[sel].isna()]
        if len(todo) == 0:
            continue
        rank = reading_order(todo).sort_values()
        free = [i for i in range(1, limit + 1) if i not in used][: len(rank)]
        if len(free) < len(rank):
            raise PlannerError(
                f"community {comm} needs {len(used) + len(rank)} grids but a "
                f"{settings.code_width}-digit code allows {limit} per community; "
                "raise grid_max_households or use code_width=15"
            )
        for idx, seq in zip(rank.index, free, strict=True):
            codes.loc[idx] = f"{prefix}{seq:0{digits}d}"
    out["code"] = codes.astype(str)
    return out
