"""Grid codes in the CJ/T 349-2010 structure.

20-digit code (default, ``Settings.code_width = 20``)::

    digits  1-6   service-object code          Settings.code_service_object (6 digits)
    digits  7-12  county-level division code   Settings.code_county (GB/T 2260)
    digits 13-15  street code                  Settings.code_street (GB/T 10114)
    digits 16-18  community code               community layer ``code`` (3 digits; a 12-digit
                                               ``code`` gives digits 7-18 itself)
    digits 19-20  sequence within community    01-99

15-digit local variant (``code_width = 15``): no service-object prefix and a
three-digit sequence::

    county (6) + street (3) + community (3) + sequence (3, 001-999)

Where the county and street codes come from (:func:`effective_code_settings`): the
user's flags or settings file, else the street's metadata (a folder's ``street.json``,
or the ``ref:admin:CN*`` tags of an OpenStreetMap extract's admin relations, see
:mod:`planner.load.admin_codes`), else nothing: the parts are then ``000000`` / ``000``
(:data:`UNKNOWN_COUNTY`, :data:`UNKNOWN_STREET`; no real place has them) and every such
code is *provisional*: flagged in the grids' ``code_provisional`` column
(:func:`provisional_codes`) and said in every report (:func:`code_status`).

Sequence numbers run west to east, north to south within a community: grids are
put in rows by the height of their inner point (row height = median grid size,
the square root of the median grid area), rows from north to south, and within a
row from west to east. Codes never move: grids passed in ``keep`` keep their code
and new grids take the lowest sequence numbers in that reading order that no kept
grid holds and no *retired* code (a code of a grid that is gone, remembered by the
project file) held; a retired code is never given again.

Community codes (:func:`community_codes`) are 3 digits within the street, so one
street numbers at most 999 communities; a community may instead carry its 12-digit
statistics code (county + street + community), which names its own street, so a
source of many streets codes every grid in its own street. More than 999 uncoded
communities is an :class:`~planner.errors.InputError` naming that fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.errors import InputError, PlannerError, Problem, SettingsError
from planner.load.admin_codes import META_CODE_FIELDS
from planner.settings import Settings

#: County code meaning "not known" (the settings' default); no GB/T 2260 county has it.
UNKNOWN_COUNTY = "000000"
#: Street code meaning "not known" (the settings' default); GB/T 10114 numbers from 001.
UNKNOWN_STREET = "000"


@dataclass(frozen=True)
class CodeStatus:
    """Where a run's county and street codes came from, and whether codes are provisional.

    Attributes
    ----------
    county, street
        The codes used (``000000`` / ``000`` when not known).
    county_source, street_source
        ``"flag"`` (command line or settings file), ``"street.json"``, the OSM
        relation the code was read from (e.g. ``"OpenStreetMap relation 123
        ref:admin:CN:mca"``), or ``"unknown"``.
    """

    county: str
    street: str
    county_source: str
    street_source: str

    @property
    def provisional(self) -> bool:
        """True when the county or the street code is not known."""
        return self.county == UNKNOWN_COUNTY or self.street == UNKNOWN_STREET

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (what ``summary.json`` holds under ``codes``)."""
        return {
            "code_county": self.county,
            "code_street": self.street,
            "county_source": self.county_source,
            "street_source": self.street_source,
            "provisional": self.provisional,
            "warning": self.warning("en"),
            "warning_zh": self.warning("zh"),
        }

    def warning(self, lang: str = "zh") -> str:
        """The warning every report carries when codes are provisional ('' otherwise)."""
        from planner.i18n import t

        if not self.provisional:
            return ""
        missing = [
            name
            for name, value, unknown in (
                ("--code-county", self.county, UNKNOWN_COUNTY),
                ("--code-street", self.street, UNKNOWN_STREET),
            )
            if value == unknown
        ]
        return t("codes_provisional", lang, missing=", ".join(missing))


def code_status(
    settings: Settings, meta: Mapping[str, Any] | None, *, explicit: Iterable[str] = ()
) -> CodeStatus:
    """Where the codes of ``settings`` (as made by :func:`effective_code_settings` with the
    same ``meta`` and ``explicit``) came from.

    ``meta["code_source"]`` (set by the OSM resolver) names where the metadata's codes
    were read; a folder's codes are from ``street.json``.
    """
    given = set(explicit)
    meta = meta or {}
    origin = str(meta.get("code_source", "") or "street.json")

    def source(key: str, unknown: str) -> str:
        value = getattr(settings, key)
        if key in given:
            return "flag"
        if value == unknown:
            return "unknown"
        if str(meta.get(key, "") or "").strip() == value:
            return origin
        return "flag"  # a settings file or a caller's Settings

    return CodeStatus(
        county=settings.code_county,
        street=settings.code_street,
        county_source=source("code_county", UNKNOWN_COUNTY),
        street_source=source("code_street", UNKNOWN_STREET),
    )


def provisional_note(grids: pd.DataFrame | None, lang: str = "zh") -> str:
    """The short warning maps carry when any grid code is provisional ('' otherwise)."""
    from planner.i18n import t

    if grids is None or "code" not in grids.columns or len(grids) == 0:
        return ""
    flags = (
        grids["code_provisional"].astype(bool)
        if "code_provisional" in grids.columns
        else provisional_codes(grids["code"])
    )
    return t("codes_provisional_map", lang) if bool(flags.any()) else ""


def provisional_codes(codes: pd.Series) -> pd.Series:
    """True for each grid code whose county or street part is not known.

    The width (20 or 15 digits) is read from each code, so codes read back from a
    file are flagged the same way; codes of another width are not flagged.
    """
    s = codes.astype(object).where(codes.notna(), "").astype(str)
    n = s.str.len().to_numpy()
    at20 = (s.str.slice(6, 12) == UNKNOWN_COUNTY) | (s.str.slice(12, 15) == UNKNOWN_STREET)
    at15 = (s.str.slice(0, 6) == UNKNOWN_COUNTY) | (s.str.slice(6, 9) == UNKNOWN_STREET)
    flag = np.where(n == 20, at20.to_numpy(), np.where(n == 15, at15.to_numpy(), False))
    return pd.Series(flag.astype(bool), index=codes.index, name="code_provisional")


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
    """The code of a grid without its sequence number.

    ``community_code`` is the community's 3-digit number within the run's street
    (``settings.code_county`` + ``settings.code_street`` precede it), or its 12-digit
    statistics code (county 6 + street 3 + community 3, :data:`STATS_CODE_DIGITS`),
    which names the community's own county and street: a source holding communities
    of several streets codes each grid within its own street.
    """
    if settings.code_width == 20:
        if len(settings.code_service_object) != 6:
            raise SettingsError(
                f"code_service_object={settings.code_service_object!r}: a 20-digit grid code "
                "needs a 6-digit service-object code (e.g. 100000)"
            )
        head = settings.code_service_object
    else:
        head = ""
    if len(community_code) == STATS_CODE_DIGITS:
        return head + community_code
    return head + settings.code_county + settings.code_street + community_code


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


#: Digits of a community's number within its street (GB/T 10114 village-level code).
COMMUNITY_DIGITS = 3
#: Digits of a community's full statistics code: county (6, GB/T 2260) + street (3,
#: GB/T 10114) + community (3), the statistics bureau's 统计用区划代码 without its
#: trailing ``000``.
STATS_CODE_DIGITS = 12
#: Communities one street can number: 001-999.
MAX_COMMUNITIES_PER_STREET = 10**COMMUNITY_DIGITS - 1


def community_codes(communities: pd.DataFrame, *, file: str = "communities") -> pd.Series:
    """The code of each community used in grid codes.

    A community keeps its ``code`` when it is valid and unique: 3 digits (its number
    within the run's street) or 12 digits (county + street + community: its full
    statistics code, which may name another street of the same source). The others
    take the lowest free 3-digit numbers of the run's street, in the order of
    ``community_id``.

    Raises
    ------
    InputError
        More communities need a number in one street than its 3 digits allow (999):
        the standard has no wider community field, so the error names the count and
        the fix (give the communities their 12-digit codes, which carry their street,
        or run one street at a time).
    """
    given = communities.get("code", pd.Series("", index=communities.index)).astype(object)
    given = given.where(given.notna(), "").astype(str).str.strip()
    valid = given.str.fullmatch(rf"\d{{{COMMUNITY_DIGITS}}}|\d{{{STATS_CODE_DIGITS}}}")
    valid &= ~given.duplicated()
    out = given.where(valid, "")
    todo = communities.loc[~valid].sort_values("community_id").index
    if len(todo) == 0:
        return out
    used = {int(c) for c in out[valid] if len(c) == COMMUNITY_DIGITS}
    free = [i for i in range(1, MAX_COMMUNITIES_PER_STREET + 1) if i not in used]
    if len(free) < len(todo):
        raise InputError(
            Problem(
                f"{len(todo):,} communities have no valid code and {len(used):,} codes "
                f"are taken, but a community code within one street has "
                f"{COMMUNITY_DIGITS} digits (at most {MAX_COMMUNITIES_PER_STREET} "
                "communities per street, GB/T 10114 village level); a grid code has no "
                "wider community field",
                fix="give each community its 12-digit statistics code (county 6 + street "
                "3 + community 3, 统计用区划代码) in the 'code' column, so each is "
                "numbered within its own street, or run one street at a time (--boundary)",
                file=file,
                field="code",
            )
        )
    numbers = pd.Series([f"{i:0{COMMUNITY_DIGITS}d}" for i in free[: len(todo)]], index=todo)
    out.loc[todo] = numbers
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
    retired: Iterable[str] = (),
) -> gpd.GeoDataFrame:
    """Give every grid its code; grids in ``keep`` (``grid_id -> code``) keep theirs.

    Parameters
    ----------
    grids
        Grids with ``grid_id`` and ``community_id``.
    communities
        Table with ``community_id`` and ``code`` (3 digits, or 12 with the
        community's own county and street, :func:`community_codes`).
    keep
        Codes to keep (e.g. of grids an edit did not touch, or locked grids).
    retired
        Codes that once belonged to a grid that is gone (the project file remembers
        them): never given to a new grid.

    Returns
    -------
    GeoDataFrame
        A copy of ``grids`` with ``code`` filled and ``code_provisional`` set
        (:func:`provisional_codes`). New grids take the lowest sequence numbers of
        their community that no kept and no retired code holds, in reading order
        (:func:`reading_order`).
    """
    out = grids.copy()
    keep = keep if keep is not None else pd.Series(dtype=object)
    comm_code = communities.set_index("community_id")["code"]
    digits = sequence_digits(settings)
    taken = {str(c) for c in retired}
    codes = out["grid_id"].map(keep).astype(object)
    for comm, sel in out.groupby("community_id").groups.items():
        prefix = code_prefix(settings, str(comm_code.get(comm, "000")))
        todo = out.loc[sel][codes.loc[sel].isna()]
        if len(todo) == 0:
            continue
        used = taken | {str(c) for c in codes.loc[sel].dropna()}
        rank = reading_order(todo).sort_values()
        free = free_sequences(prefix, used, len(rank), digits=digits)
        if len(free) < len(rank):
            limit = 10**digits - 1
            raise PlannerError(
                f"community {comm} needs {len(rank)} new grid codes but only {len(free)} of "
                f"the {limit} sequence numbers a {settings.code_width}-digit code allows "
                "per community are free (kept or retired codes hold the others); "
                "raise grid_max_households or use code_width=15"
            )
        codes.loc[rank.index] = [f"{prefix}{seq:0{digits}d}" for seq in free]
    out["code"] = codes.astype(str)
    out["code_provisional"] = provisional_codes(out["code"])
    return out


def free_sequences(prefix: str, used: Iterable[str], count: int, *, digits: int) -> list[int]:
    """The ``count`` lowest sequence numbers of ``digits`` digits after ``prefix`` that no
    code in ``used`` holds (fewer when the field runs out: 99 for 2 digits, 999 for 3)."""
    held = {
        int(c[-digits:])
        for c in used
        if len(c) == len(prefix) + digits and c.startswith(prefix) and c[-digits:].isdigit()
    }
    out: list[int] = []
    for i in range(1, 10**digits):
        if len(out) == count:
            break
        if i not in held:
            out.append(i)
    return out
