"""The organisation registers: party organisations, grid staff, property management, incidents.

A street keeps four more spreadsheets beside its household register (read the same
way, :func:`planner.load.tables.read_table`: CSV in UTF-8 or GBK, or ``.xlsx``; a title
row above the header is skipped; Chinese headers understood):

- **party** (党组织台账): community party committees (社区党委), grid party branches
  (网格党支部), building party groups (楼栋党小组) and party-member central households
  (党员中心户), with the building where known, and party-member counts per building
  (党员人数);
- **staff** (网格员台账): name, post (网格长 grid leader, 专职网格员 full-time worker,
  part-time posts: 宣传员 publicity officer, 治安巡查员 public-security patroller,
  矛盾纠纷调解员 dispute mediator, or the register's own words), phone (private: never
  exported unless asked), the grid(s) served;
- **property** (物业台账): per compound, the management company, whether it has a party
  organisation (red property 红色物业), and abandoned or unmanaged compounds (弃管小区);
- **incidents** (网格事件): date, category, status, and a location: longitude/latitude
  (WGS84, GCJ-02 or BD-09, converted by :func:`planner.crs.to_wgs84`), or an address,
  building or compound, or a grid code.

Every row is keyed by grid code (网格编码; several codes separated by 、 , ; name the
grids a branch or a worker shares), building id (楼栋编号), building name or address
(楼栋名称/地址, the compound name before it or in its own column), compound id or
name (小区编号/小区名称), or (incidents) a point. Reading (:func:`read_registers`) checks
each file at load time, naming the file, the row and the field of every bad cell;
joining (:func:`join_registers`, once the grids exist) resolves each row to grids and
lists the rows that match nothing, with the reason.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.crs import WGS84, PointCRS, to_wgs84
from planner.errors import ProblemLog
from planner.load import validate
from planner.load.register import TOTAL_WORDS, UnmatchedRow
from planner.load.tables import normalise_text, read_table

log = logging.getLogger(__name__)

RegisterKind = Literal["party", "staff", "property", "incidents"]
REGISTER_KINDS: tuple[RegisterKind, ...] = get_args(RegisterKind)

#: Chinese and English names of each register (messages, reports).
REGISTER_NAMES: dict[RegisterKind, tuple[str, str]] = {
    "party": ("党组织台账", "party-organisation register"),
    "staff": ("网格员台账", "grid-staff register"),
    "property": ("物业台账", "property-management register"),
    "incidents": ("网格事件台账", "incident register"),
}

#: Location columns every register may use (normalised names), by meaning.
LOCATION_ALIASES: dict[str, tuple[str, ...]] = {
    "grid_code": (
        "grid_code",
        "grid",
        "网格编码",
        "网格编号",
        "网格代码",
        "所属网格",
        "服务网格",
        "网格",
        "负责网格",
    ),
    "building_id": ("building_id", "楼栋编号", "楼栋id", "楼栋编码", "建筑编号"),
    "building_name": (
        "building_name",
        "building",
        "address",
        "楼栋名称",
        "楼栋",
        "楼号",
        "楼栋地址",
        "地址",
        "所在楼栋",
        "住址",
        "发生地址",
        "事件地址",
    ),
    "compound_id": ("compound_id", "小区编号", "小区id", "小区编码"),
    "compound_name": ("compound_name", "compound", "小区名称", "小区", "小区名", "所在小区"),
    "community": ("community", "community_id", "社区", "社区名称", "所属社区", "社区编号"),
}

#: The columns of each register (normalised names), by meaning; the first found wins.
FIELD_ALIASES: dict[RegisterKind, dict[str, tuple[str, ...]]] = {
    "party": {
        "level": ("level", "type", "组织类型", "组织层级", "类型", "层级", "组织类别"),
        "name": ("name", "组织名称", "名称", "党组织名称"),
        "leader": ("leader", "secretary", "书记", "负责人", "组长", "户主", "姓名"),
        "members": ("members", "party_members", "党员数", "党员人数", "党员数量"),
    },
    "staff": {
        "name": ("name", "姓名", "名字"),
        "post": ("post", "role", "岗位", "职务", "职责", "身份"),
        "phone": ("phone", "mobile", "电话", "手机", "联系电话", "手机号", "手机号码"),
    },
    "property": {
        "company": ("company", "物业公司", "物业服务企业", "物业企业", "物业名称", "物业"),
        "party_org": (
            "party_org",
            "red_property",
            "是否成立党组织",
            "党组织",
            "是否建立党组织",
            "红色物业",
            "是否红色物业",
        ),
        "management": ("management", "status", "管理方式", "管理状态", "物业状态", "管理类型"),
    },
    "incidents": {
        "date": ("date", "日期", "上报时间", "发生时间", "上报日期", "事件日期", "时间"),
        "category": ("category", "kind", "事件类型", "类别", "事件类别", "类型", "事件分类"),
        "status": ("status", "状态", "办理状态", "处置状态", "办结状态"),
        "lon": ("lon", "lng", "longitude", "经度"),
        "lat": ("lat", "latitude", "纬度"),
    },
}

#: Meanings a register needs (any one of each tuple).
REQUIRED: dict[RegisterKind, tuple[tuple[str, ...], ...]] = {
    "party": (("level", "members"),),
    "staff": (("post",), ("name",)),
    "property": (("company", "party_org", "management"),),
    "incidents": (("date",), ("category",)),
}

PartyLevel = Literal["committee", "branch", "group", "central_household", "members"]
#: Party-organisation levels: words of the register (normalised, tried in order) -> level.
PARTY_LEVEL_WORDS: tuple[tuple[str, PartyLevel], ...] = (
    ("中心户", "central_household"),
    ("党小组", "group"),
    ("小组", "group"),
    ("group", "group"),
    ("支部", "branch"),
    ("branch", "branch"),
    ("党委", "committee"),
    ("总支", "committee"),
    ("committee", "committee"),
    ("central", "central_household"),
    ("党员人数", "members"),
    ("党员数", "members"),
    ("members", "members"),
)

Post = Literal["leader", "full_time", "publicity", "patrol", "mediator", "part_time", "other"]
#: Staff posts: words of the register (normalised, tried in order) -> post. A post the
#: catalogue does not know is kept as ``other`` with its text: a part-time ("n") post.
POST_WORDS: tuple[tuple[str, Post], ...] = (
    ("网格长", "leader"),
    ("leader", "leader"),
    ("专职", "full_time"),
    ("full", "full_time"),
    ("宣传", "publicity"),
    ("publicity", "publicity"),
    ("巡查", "patrol"),
    ("治安", "patrol"),
    ("patrol", "patrol"),
    ("调解", "mediator"),
    ("mediat", "mediator"),
    ("兼职", "part_time"),
    ("part", "part_time"),
)
#: Posts of the "n" in "1+1+n" (everything but the leader and the full-time worker).
PART_TIME_POSTS: frozenset[str] = frozenset(
    {"publicity", "patrol", "mediator", "part_time", "other"}
)

#: Cells meaning yes / no in a yes-no column (normalised).
YES_WORDS: frozenset[str] = frozenset(
    {"是", "有", "已成立", "已建立", "已建", "成立", "yes", "y", "true", "1", "√", "✓", "红色物业"}
)
NO_WORDS: frozenset[str] = frozenset(
    {"否", "无", "未成立", "未建立", "未建", "没有", "no", "n", "false", "0", "×", "✗"}
)
#: Words in the management column marking an abandoned or unmanaged compound.
ABANDONED_WORDS: tuple[str, ...] = ("弃管", "无物业", "无人管理", "无管理", "abandoned", "none")

#: Separators of several grid codes in one cell.
_CODE_SEP = re.compile(r"[,，、;；/|\s]+")


@dataclass(frozen=True)
class RegisterFiles:
    """The registers a run reads (any may be missing) and the incidents' coordinates.

    Attributes
    ----------
    party, staff, property, incidents
        Paths of the spreadsheets (``None``: not given).
    incidents_crs
        Coordinate system of the incidents' longitude/latitude (``wgs84``, ``gcj02``
        for Amap/Tencent, ``bd09`` for Baidu).
    """

    party: Path | None = None
    staff: Path | None = None
    property: Path | None = None
    incidents: Path | None = None
    incidents_crs: PointCRS = "wgs84"

    def given(self) -> dict[RegisterKind, Path]:
        """The registers given, by kind."""
        paths = {k: getattr(self, k) for k in REGISTER_KINDS}
        return {k: Path(p) for k, p in paths.items() if p is not None}

    def __bool__(self) -> bool:
        return bool(self.given())


@dataclass
class RegisterTables:
    """The registers as read (:func:`read_registers`), before they meet the grids.

    Each table has ``row`` (the spreadsheet row, header = row 1), ``label`` (the row's
    key as written), the normalised location keys of :data:`LOCATION_ALIASES` ('' if
    absent) and the register's fields (see :func:`read_register`).
    """

    tables: dict[RegisterKind, pd.DataFrame] = field(default_factory=dict)
    files: dict[RegisterKind, str] = field(default_factory=dict)


def _columns(table: pd.DataFrame, aliases: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """Meaning -> column of ``table`` (first alias found, in the alias order)."""
    normal = {normalise_text(c): str(c) for c in table.columns}
    found: dict[str, str] = {}
    for meaning, names in aliases.items():
        hit = next((normal[a] for a in names if a in normal), None)
        if hit is not None and hit not in found.values():
            found[meaning] = hit
    return found


def _aliases(kind: RegisterKind) -> dict[str, tuple[str, ...]]:
    return {**FIELD_ALIASES[kind], **LOCATION_ALIASES}


def _check_columns(
    kind: RegisterKind,
    table: pd.DataFrame,
    cols: dict[str, str],
    *,
    file: str,
    problems: ProblemLog,
) -> bool:
    """The register names its required fields and (but incidents with points) a key."""
    found = ", ".join(map(str, table.columns))
    ok = True
    for need in REQUIRED[kind]:
        if not any(m in cols for m in need):
            names = " or ".join(f"{_zh(FIELD_ALIASES[kind][m])} ({m})" for m in need)
            problems.add(
                f"the {REGISTER_NAMES[kind][1]} has no column {names} (found: {found})",
                file=file,
                field=need[0],
                fix=f"name the column {names}",
            )
            ok = False
    has_point = "lon" in cols and "lat" in cols
    if not any(k in cols for k in LOCATION_ALIASES) and not has_point:
        problems.add(
            f"the {REGISTER_NAMES[kind][1]} names no grid, building or compound (found: {found})",
            file=file,
            field="grid_code",
            fix="add a column 网格编码 (grid_code), 楼栋编号 (building_id), 楼栋名称/地址 "
            "(building_name) or 小区名称 (compound_name)"
            + ("; or 经度/纬度 (lon/lat)" if kind == "incidents" else ""),
        )
        ok = False
    return ok


def _zh(aliases: tuple[str, ...]) -> str:
    """The first Chinese name among a column's aliases (the one messages suggest)."""
    return next((a for a in aliases if not a.isascii()), aliases[0])


def _location_keys(table: pd.DataFrame, cols: dict[str, str]) -> pd.DataFrame:
    """Row numbers, normalised location keys, and the label (the first key as written)."""
    out = pd.DataFrame({"row": table.index.to_numpy(dtype=np.int64)}, index=table.index)
    out["label"] = ""
    for key in LOCATION_ALIASES:
        if key in cols:
            raw = table[cols[key]].fillna("").astype(str).str.strip()
            out[key] = raw.map(normalise_text)
            out["label"] = out["label"].where(out["label"] != "", raw)
        else:
            out[key] = ""
    return out


def _text(table: pd.DataFrame, cols: dict[str, str], meaning: str) -> pd.Series:
    """The column of ``meaning`` as stripped text ('' where blank or absent)."""
    if meaning not in cols:
        return pd.Series("", index=table.index, dtype=object)
    return table[cols[meaning]].fillna("").astype(str).str.strip()


def _classify(text: pd.Series, words: tuple[tuple[str, str], ...], default: str) -> pd.Series:
    """Each cell's class: the first word of ``words`` the normalised cell contains."""
    norm = text.map(normalise_text)
    out = pd.Series(default, index=text.index, dtype=object)
    found = pd.Series(False, index=text.index)
    for word, cls in words:
        hit = ~found & norm.str.contains(word, regex=False)
        out[hit] = cls
        found |= hit
    return out


@dataclass(frozen=True)
class _Sheet:
    """One register being read: its rows, the columns found by meaning, the file and
    the problem log. Each field reader (:data:`_FIELD_READERS`) asks it for a
    column's text or numbers and reports bad cells through it, so every register
    names its file, row and field the same way."""

    table: pd.DataFrame
    cols: dict[str, str]
    file: str
    problems: ProblemLog

    def field(self, meaning: str) -> str:
        """The column name as written for ``meaning`` (``meaning`` when absent)."""
        return self.cols.get(meaning, meaning)

    def text(self, meaning: str) -> pd.Series:
        """The column of ``meaning`` as stripped text ('' where blank or absent)."""
        return _text(self.table, self.cols, meaning)

    def number(
        self, meaning: str, *, minimum: float = 0.0, maximum: float | None = None,
        whole: bool = False,
    ) -> pd.Series:  # fmt: skip
        """The column of ``meaning`` as numbers (NaN blank); bad cells (not a number,
        outside ``minimum``-``maximum``, not ``whole``) are errors
        (:func:`planner.load.validate.numeric_column`)."""
        ids = pd.Series([f"row {i}" for i in self.table.index], index=self.table.index)
        return validate.numeric_column(self.table, self.field(meaning), ids=ids, file=self.file,
                                       problems=self.problems, minimum=minimum, maximum=maximum,
                                       whole=whole)  # fmt: skip

    def flag(self, bad: pd.Series, shown: pd.Series, meaning: str, what: str, fix: str) -> None:
        """One error per cell where ``bad`` (at most :data:`planner.load.validate.MAX_IDS`,
        then a count), showing the cell's ``shown`` text."""
        rows = list(bad.index[bad.to_numpy()])
        for r in rows[: validate.MAX_IDS]:
            self.problems.add(f"{what}: {shown.loc[r]!r}", file=self.file,
                              feature_id=f"row {r}", field=self.field(meaning), fix=fix)  # fmt: skip
        if len(rows) > validate.MAX_IDS:
            self.problems.add(f"... and {len(rows) - validate.MAX_IDS} more rows with {what}",
                              file=self.file, field=self.field(meaning), fix=fix)  # fmt: skip


def _party_fields(sheet: _Sheet, out: pd.DataFrame) -> None:
    """``level`` (:data:`PartyLevel`), ``name``, ``leader``, ``members`` (float, NaN blank)."""
    level_text = sheet.text("level")
    level = _classify(level_text, PARTY_LEVEL_WORDS, "")
    members = sheet.number("members", maximum=100_000, whole=True)
    level = level.where((level != "") | members.isna(), "members")
    sheet.flag(level == "", level_text, "level", "unknown party-organisation level",
               "write 社区党委, 网格党支部, 楼栋党小组 or 党员中心户 (or give 党员人数 for a building)")  # fmt: skip
    out["level"] = level
    out["name"] = sheet.text("name")
    out["leader"] = sheet.text("leader")
    out["members"] = members


def _staff_fields(sheet: _Sheet, out: pd.DataFrame) -> None:
    """``name``, ``post`` (:data:`Post`), ``post_text`` (as written), ``phone``."""
    post_text = sheet.text("post")
    out["name"] = sheet.text("name")
    out["post"] = _classify(post_text, POST_WORDS, "other")
    out["post_text"] = post_text
    sheet.flag(post_text == "", post_text, "post", "no post given",
               "write the post: 网格长, 专职网格员, 兼职网格员, 宣传员, 治安巡查员, 矛盾纠纷调解员 ...")  # fmt: skip
    phone = sheet.text("phone")
    digits = phone.str.replace(r"[\s\-+()（）]", "", regex=True)
    sheet.flag((phone != "") & ~digits.str.fullmatch(r"\d{5,15}"), phone, "phone",
               "not a phone number", "write the number in digits (e.g. 13800000000 or 029-88880000)")  # fmt: skip
    out["phone"] = phone


def _yes_no(sheet: _Sheet, meaning: str) -> pd.Series:
    """A yes/no column as a nullable boolean (NA where blank); other words are errors."""
    text = sheet.text(meaning)
    norm = text.map(normalise_text)
    yes, no = norm.isin(YES_WORDS), norm.isin(NO_WORDS)
    sheet.flag(
        (norm != "") & ~yes & ~no, text, meaning, "neither yes nor no", "write 是/否 (yes/no)"
    )
    out = pd.Series(pd.NA, index=text.index, dtype="boolean")
    out[yes] = True
    out[no] = False
    return out


def _property_fields(sheet: _Sheet, out: pd.DataFrame) -> None:
    """``company``, ``management`` (as written), ``party_org`` (yes/no/NA), ``abandoned``.

    A compound is abandoned when the management column says so (弃管, 无物业 ...) or
    when it names neither a company nor a management.
    """
    out["company"] = sheet.text("company")
    out["management"] = sheet.text("management")
    out["party_org"] = _yes_no(sheet, "party_org")
    norm = out["management"].map(normalise_text)
    said = pd.Series(False, index=sheet.table.index)
    for word in ABANDONED_WORDS:
        said |= norm.str.contains(word, regex=False)
    out["abandoned"] = said | ((out["company"] == "") & (norm == ""))


def parse_dates(text: pd.Series) -> pd.Series:
    """Dates as a planner writes them (2025-03-01, 2025/3/1, 2025.3.1, 2025年3月1日,
    with or without a time) to datetimes; NaT where unreadable or blank."""
    clean = (
        text.fillna("")
        .astype(str)
        .str.strip()
        .str.replace(r"[年月./]", "-", regex=True)
        .str.replace("日", "", regex=False)
    )
    return pd.to_datetime(clean, errors="coerce", format="mixed", yearfirst=True)


def _incident_fields(sheet: _Sheet, out: pd.DataFrame, *, points_crs: PointCRS) -> None:
    """``date`` (datetime), ``category``, ``status``, ``lon``/``lat`` (WGS84, NaN if none)."""
    date_text = sheet.text("date")
    out["date"] = parse_dates(date_text)
    sheet.flag(out["date"].isna(), date_text, "date", "not a date",
               "write the date as 2025-03-01 (or 2025年3月1日)")  # fmt: skip
    out["category"] = sheet.text("category").replace("", "未分类")
    out["status"] = sheet.text("status")
    lon, lat = sheet.number("lon", minimum=-180), sheet.number("lat", minimum=-180)
    has = lon.notna() & lat.notna()
    wlon, wlat = to_wgs84(lon[has].to_numpy(), lat[has].to_numpy(), points_crs)
    out["lon"], out["lat"] = np.nan, np.nan
    out.loc[has, "lon"], out.loc[has, "lat"] = wlon, wlat
    x0, y0, x1, y1 = validate.CHINA_BOX
    outside = has & ~((out["lon"].between(x0, x1)) & (out["lat"].between(y0, y1)))
    sheet.flag(outside, lon.astype(str) + ", " + lat.astype(str), "lon",
               "longitude/latitude outside China (swapped?)",
               "put the longitude (about 73-136) in 经度 and the latitude (17-54) in 纬度")  # fmt: skip


def read_register(
    path: Path, kind: RegisterKind, *, problems: ProblemLog, points_crs: PointCRS = "wgs84"
) -> pd.DataFrame | None:
    """One organisation register as a table of :class:`RegisterTables`' columns.

    Fields by kind: party ``level``, ``name``, ``leader``, ``members``; staff ``name``,
    ``post``, ``post_text``, ``phone``; property ``company``, ``management``,
    ``party_org``, ``abandoned``; incidents ``date``, ``category``, ``status``,
    ``lon``/``lat`` (WGS84 degrees, converted from ``points_crs``). Total rows (合计 ...)
    are skipped. Returns ``None`` (with the problems logged) when the file cannot be
    read or lacks a needed column; bad cells are errors naming the row and field.
    """
    aliases = _aliases(kind)
    names = {a for group in aliases.values() for a in group}
    table = read_table(path, problems=problems, header_names=names)
    if table is None:
        return None
    file = str(path)
    cols = _columns(table, aliases)
    if not _check_columns(kind, table, cols, file=file, problems=problems):
        return None
    cells = table.map(normalise_text)
    table = table.loc[~cells.isin(TOTAL_WORDS).any(axis=1)]
    out = _location_keys(table, cols)
    sheet = _Sheet(table, cols, file, problems)
    if kind == "incidents":
        _incident_fields(sheet, out, points_crs=points_crs)
    else:
        _FIELD_READERS[kind](sheet, out)
    log.info("%s %s: %d rows", REGISTER_NAMES[kind][1], file, len(out))
    return out


#: The field reader of each register but incidents (which also takes the points' CRS).
_FIELD_READERS: dict[RegisterKind, Callable[[_Sheet, pd.DataFrame], None]] = {
    "party": _party_fields,
    "staff": _staff_fields,
    "property": _property_fields,
}


def read_registers(files: RegisterFiles, *, problems: ProblemLog) -> RegisterTables:
    """Every register given in ``files`` (see :func:`read_register`); problems collected."""
    out = RegisterTables()
    for kind, path in files.given().items():
        table = read_register(path, kind, problems=problems, points_crs=files.incidents_crs)
        out.files[kind] = str(path)
        if table is not None:
            out.tables[kind] = table
    return out


# ---------------------------------------------------------------------------------------
# Joining the rows onto grids, buildings and compounds


def _community_grids(grids: gpd.GeoDataFrame) -> dict[str, tuple[str, ...]]:
    """Normalised community id and name -> codes of its grids (in grid order)."""
    out: dict[str, list[str]] = {}
    for col in ("community_id", "community"):
        if col not in grids.columns:
            continue
        for key, code in zip(
            grids[col].map(normalise_text), grids["code"].astype(str), strict=True
        ):
            if key:
                out.setdefault(key, []).append(code)
    return {k: tuple(dict.fromkeys(v)) for k, v in out.items()}


@dataclass(frozen=True)
class Locator:
    """Where register rows point: grids by code, buildings and compounds by key.

    Built once per street and grid layer (:meth:`build`). Every array is aligned with
    the street's buildings; ``building_grid`` is the code of the grid holding each
    building's representative point ('' outside every grid).
    """

    codes: tuple[str, ...]
    building_ids: np.ndarray
    building_keys: np.ndarray  # normalised ids
    building_names: np.ndarray  # normalised names
    building_addresses: np.ndarray  # normalised compound name + building name
    building_compound: np.ndarray
    building_grid: np.ndarray
    compound_ids: np.ndarray
    compound_keys: np.ndarray
    compound_names: np.ndarray
    compound_grids: dict[str, tuple[str, ...]]
    community_grids: dict[str, tuple[str, ...]]  # normalised community name or id -> codes
    grids: gpd.GeoDataFrame

    @classmethod
    def build(cls, buildings: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame,
              grids: gpd.GeoDataFrame) -> Locator:  # fmt: skip
        """The locator of a street's buildings and compounds on ``grids`` (street CRS)."""
        codes = grids["code"].astype(str).to_numpy()
        pts = buildings.geometry.representative_point()
        tree = shapely.STRtree(grids.geometry.to_numpy())
        b_idx, g_idx = tree.query(pts.to_numpy(), predicate="within")
        building_grid = np.full(len(buildings), "", dtype=object)
        building_grid[b_idx] = codes[g_idx]
        comp_ids = compounds["compound_id"].astype(str).to_numpy(dtype=object)
        comp_name = dict(zip(comp_ids, compounds["name"].map(normalise_text), strict=True))
        b_comp = buildings["compound_id"].astype(str).to_numpy(dtype=object)
        names = buildings["name"].map(normalise_text).to_numpy(dtype=object)
        held = pd.DataFrame({"c": b_comp, "g": building_grid})
        held = held[(held["c"] != "") & (held["g"] != "")].drop_duplicates()
        compound_grids = {str(c): tuple(sorted(g["g"])) for c, g in held.groupby("c")}
        cpts = compounds.geometry.representative_point().to_numpy()
        c_idx, cg_idx = tree.query(cpts, predicate="within")
        for c, g in zip(c_idx, cg_idx, strict=True):
            compound_grids.setdefault(str(comp_ids[c]), (str(codes[g]),))
        return cls(
            codes=tuple(codes),
            building_ids=buildings["building_id"].astype(str).to_numpy(dtype=object),
            building_keys=buildings["building_id"].map(normalise_text).to_numpy(dtype=object),
            building_names=names,
            building_addresses=np.array([comp_name.get(c, "") for c in b_comp], dtype=object)
            + names,
            building_compound=b_comp,
            building_grid=building_grid,
            compound_ids=comp_ids,
            compound_keys=np.array([normalise_text(c) for c in comp_ids], dtype=object),
            compound_names=compounds["name"].map(normalise_text).to_numpy(dtype=object),
            compound_grids=compound_grids,
            community_grids=_community_grids(grids),
            grids=grids,
        )

    def grid_codes(self, cell: str) -> tuple[list[str], list[str]]:
        """The grid codes a cell names (full codes, or a tail of 4+ digits naming one
        grid), and the parts naming none."""
        found, missing = [], []
        norm_codes = [normalise_text(c) for c in self.codes]
        for part in (p for p in _CODE_SEP.split(cell) if p):
            if part in norm_codes:
                found.append(self.codes[norm_codes.index(part)])
                continue
            tails = [c for c in self.codes if len(part) >= 4 and c.endswith(part)]
            if len(tails) == 1:
                found.append(tails[0])
            else:
                missing.append(part)
        return found, missing

    def compound(self, row: pd.Series) -> str | UnmatchedRow | None:
        """The compound a row names (None: none named)."""
        if row["compound_id"]:
            hit = self.compound_ids[self.compound_keys == row["compound_id"]]
        elif row["compound_name"]:
            hit = self.compound_ids[self.compound_names == row["compound_name"]]
        else:
            return None
        if len(hit) != 1:
            key = row["compound_id"] or row["compound_name"]
            return UnmatchedRow(int(row["row"]), key, "no such compound")
        return str(hit[0])

    def building(self, row: pd.Series) -> int | UnmatchedRow | None:
        """The position of the building a row names (None: none named)."""
        if row["building_id"]:
            cand = np.flatnonzero(self.building_keys == row["building_id"])
            key = row["building_id"]
        elif row["building_name"]:
            key = row["building_name"]
            cand = np.flatnonzero((self.building_names == key) | (self.building_addresses == key))
            comp = self.compound(row)
            if isinstance(comp, UnmatchedRow):
                return comp
            if comp is not None:
                cand = cand[self.building_compound[cand] == comp]
        else:
            return None
        if len(cand) == 0:
            return UnmatchedRow(int(row["row"]), key, "no such building")
        if len(cand) > 1:
            reason = f"{len(cand)} buildings have this name; add 小区名称 or 楼栋编号"
            return UnmatchedRow(int(row["row"]), key, reason)
        return int(cand[0])

    def point_grids(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """The codes of the grids holding WGS84 points ('' where none), in one query."""
        out = np.full(len(lon), "", dtype=object)
        if len(lon) == 0:
            return out
        pts = gpd.GeoSeries(shapely.points(lon, lat), crs=WGS84).to_crs(self.grids.crs)
        p_idx, g_idx = self.grids.sindex.query(pts.to_numpy(), predicate="within")
        out[p_idx] = np.asarray(self.codes, dtype=object)[g_idx]
        return out


@dataclass(frozen=True)
class Place:
    """Where one row points: its grids (codes), and its building and compound if named."""

    grids: tuple[str, ...]
    building: int | None = None
    compound: str | None = None


def locate(row: pd.Series, loc: Locator) -> Place | UnmatchedRow:
    """Resolve a row's keys, in order: grid code, building, compound, community, point.

    A grid-code cell may name several grids (a shared branch, a worker serving two
    grids). A building gives its grid; a compound gives every grid holding its
    buildings; a community (name or id) all its grids; a point (incidents, WGS84) the
    grid holding it.
    """
    r = int(row["row"])
    if row["grid_code"]:
        found, missing = loc.grid_codes(row["grid_code"])
        if missing:
            return UnmatchedRow(r, row["grid_code"], f"no grid with code {', '.join(missing)}")
        return Place(tuple(found))
    b = loc.building(row)
    if isinstance(b, UnmatchedRow):
        return b
    if b is not None:
        g = str(loc.building_grid[b])
        comp = str(loc.building_compound[b]) or None
        return Place((g,) if g else (), b, comp)
    c = loc.compound(row)
    if isinstance(c, UnmatchedRow):
        return c
    if c is not None:
        return Place(loc.compound_grids.get(c, ()), None, c)
    if row.get("community", ""):
        grids = loc.community_grids.get(row["community"])
        if grids is None:
            return UnmatchedRow(r, row["community"], "no such community")
        return Place(grids)
    if pd.notna(row.get("lon", np.nan)) and pd.notna(row.get("lat", np.nan)):
        g = str(row.get("point_grid", ""))  # found for every point at once (_join_table)
        return Place((g,) if g else ())
    return UnmatchedRow(r, "", "no grid, building, compound or location given")


@dataclass
class Registers:
    """The registers joined onto the grids (:func:`join_registers`).

    Each table keeps the columns of :func:`read_register` plus ``grids`` (tuple of
    grid codes the row belongs to), ``building_id`` ('' if none) and ``compound_id``
    ('' if none); rows that match nothing are left out and listed in ``unmatched``.
    """

    tables: dict[RegisterKind, pd.DataFrame] = field(default_factory=dict)
    files: dict[RegisterKind, str] = field(default_factory=dict)
    unmatched: dict[RegisterKind, list[UnmatchedRow]] = field(default_factory=dict)
    #: Code of the grid holding each building ('' if none), index of the buildings.
    building_grid: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))
    #: Compound id -> codes of the grids holding its buildings (or its inside point).
    compound_grids: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def table(self, kind: RegisterKind) -> pd.DataFrame | None:
        """The joined rows of ``kind`` (``None`` when that register was not given)."""
        return self.tables.get(kind)

    def to_dict(self) -> dict[str, object]:
        """What was joined, for ``summary.json`` and the reports."""
        return {
            kind: {
                "file": self.files.get(kind, ""),
                "rows_matched": len(self.tables[kind]),
                "unmatched_rows": [u.to_dict() for u in self.unmatched.get(kind, [])],
            }
            for kind in self.tables
        }


def _join_table(
    kind: RegisterKind, table: pd.DataFrame, loc: Locator
) -> tuple[pd.DataFrame, list[UnmatchedRow]]:
    """Rows of one register with their grids, building and compound; and the misses."""
    places: list[Place | None] = []
    unmatched: list[UnmatchedRow] = []
    if "lon" in table.columns:  # every point's grid in one spatial query
        has = (table["lon"].notna() & table["lat"].notna()).to_numpy()
        found = loc.point_grids(table["lon"].to_numpy()[has], table["lat"].to_numpy()[has])
        point_grid = np.full(len(table), "", dtype=object)
        point_grid[has] = found
        table = table.assign(point_grid=point_grid)
    # a loop over register rows (tens to thousands), each a few array look-ups
    for _, row in table.iterrows():
        place = locate(row, loc)
        if isinstance(place, UnmatchedRow):
            unmatched.append(place)
            places.append(None)
        elif not place.grids and kind != "property":
            unmatched.append(UnmatchedRow(int(row["row"]), row["label"], "outside every grid"))
            places.append(None)
        elif kind == "property" and place.compound is None:
            unmatched.append(
                UnmatchedRow(int(row["row"]), row["label"], "a property row needs a compound")
            )
            places.append(None)
        else:
            places.append(place)
    keep = np.array([p is not None for p in places], dtype=bool)
    out = table.loc[keep].copy()
    kept = [p for p in places if p is not None]
    out["grids"] = [p.grids for p in kept]
    out["building_id"] = [
        "" if p.building is None else str(loc.building_ids[p.building]) for p in kept
    ]
    out["compound_id"] = [p.compound or "" for p in kept]
    labels = table["label"]
    unmatched = [
        UnmatchedRow(u.row, str(labels.loc[u.row]) or u.key, u.reason)
        if u.row in labels.index
        else u
        for u in unmatched
    ]
    return out, unmatched


def _warn_unmatched(
    kind: RegisterKind, unmatched: list[UnmatchedRow], *, file: str | None, problems: ProblemLog
) -> None:
    for u in unmatched[: validate.MAX_IDS]:
        problems.add(
            f"{REGISTER_NAMES[kind][1]} row matches nothing: {u.reason} ({u.key!r})",
            file=file,
            feature_id=f"row {u.row}",
            fix="correct the grid code, building or compound so it matches the street",
            severity="warning",
        )


def join_registers(
    read: RegisterTables,
    buildings: gpd.GeoDataFrame,
    compounds: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    *,
    problems: ProblemLog | None = None,
) -> Registers:
    """Resolve every register row to grids (``grids``: ``code`` and geometry, street CRS).

    Rows that match nothing are listed in :attr:`Registers.unmatched` and, when
    ``problems`` is given, as warnings naming the file, the row and the reason.
    """
    loc = Locator.build(buildings, compounds, grids)
    out = Registers(
        files=dict(read.files),
        building_grid=pd.Series(loc.building_grid, index=buildings.index, dtype=object),
        compound_grids=dict(loc.compound_grids),
    )
    for kind, table in read.tables.items():
        joined, unmatched = _join_table(kind, table, loc)
        out.tables[kind] = joined
        out.unmatched[kind] = unmatched
        if problems is not None:
            _warn_unmatched(kind, unmatched, file=read.files.get(kind), problems=problems)
    return out
