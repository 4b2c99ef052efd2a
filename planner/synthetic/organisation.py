"""Synthetic organisation registers of the demo street (issue 15): plainly fictional.

:func:`make_registers` draws the four registers of :mod:`planner.organisation.registers`
for a street and its grids from a seeded generator, so every organisation feature
shows on ``demo``: most grids have a branch (one pair shares one, two have none), most
buildings with three or more party members have a party group (a few do not), teams
are "1+1+n" but for two grids without a full-time worker and one leader serving two
grids, about four in five compounds have red property and two are abandoned, and a
year of incidents is keyed by building id, by address and by WGS84 point.

Every person is named 示例 + a surname + a number (示例王03) and every phone is
``1380000`` + four digits, so no row can be mistaken for a real one; every row says
``合成数据（虚构）`` in its 备注 column.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pyproj import Transformer

from planner.crs import WGS84
from planner.street import Street

#: What every row of a synthetic register says in its 备注 (note) column.
SYNTHETIC_NOTE = "合成数据（虚构）"
#: Seed of the demo registers.
REGISTER_SEED = 20261202

_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_PART_TIME = ("宣传员", "治安巡查员", "矛盾纠纷调解员", "兼职网格员", "楼栋长")
_CATEGORIES = (
    "噪音扰民",
    "占道经营",
    "垃圾堆放",
    "邻里纠纷",
    "违章停车",
    "设施损坏",
    "消防隐患",
    "群租房",
)
_STATUS = ("已办结", "已办结", "已办结", "处置中", "已上报")


def _person(rng: np.random.Generator, i: int) -> str:
    return f"示例{_SURNAMES[int(rng.integers(len(_SURNAMES)))]}{i:02d}"


def _phone(i: int) -> str:
    return f"1380000{i:04d}"


def _party(rng: np.random.Generator, street: Street, grids: gpd.GeoDataFrame,
           building_grid: pd.Series) -> pd.DataFrame:  # fmt: skip
    """Committees per community, branches per grid (a shared pair, two missing),
    party-member counts, building groups (a few missing), central households."""
    rows: list[dict[str, object]] = []
    for name in dict.fromkeys(grids["community"].astype(str)):
        rows.append({"组织类型": "社区党委", "组织名称": f"{name}党委", "社区": name})
    codes = grids["code"].astype(str).tolist()
    skip = set(rng.choice(len(codes), size=min(2, len(codes)), replace=False).tolist())
    shared = next((i for i in range(len(codes) - 1) if {i, i + 1}.isdisjoint(skip)), None)
    for i, code in enumerate(codes):
        if i in skip or (shared is not None and i == shared + 1):
            continue
        cell = f"{code}、{codes[i + 1]}" if i == shared else code
        rows.append({"组织类型": "网格党支部", "组织名称": f"第{i + 1}网格党支部",
                     "网格编码": cell, "书记": _person(rng, i)})  # fmt: skip
    b = street.buildings
    res = b.index[(b["kind"] == "residential") & (building_grid != "")]
    counted = rng.choice(res, size=len(res) // 3, replace=False)
    for k, idx in enumerate(sorted(counted)):
        members = int(rng.integers(0, 13))
        bid = str(b.at[idx, "building_id"])
        level = "楼栋党小组" if members >= 3 and rng.random() > 0.06 else "党员人数"
        rows.append({"组织类型": level, "组织名称": f"{bid}党小组" if level != "党员人数" else "",
                     "楼栋编号": bid, "党员人数": members})  # fmt: skip
        if members >= 5 and rng.random() < 0.3:
            rows.append({"组织类型": "党员中心户", "组织名称": _person(rng, k), "楼栋编号": bid})
    return pd.DataFrame(rows)


def _staff(rng: np.random.Generator, grids: gpd.GeoDataFrame) -> pd.DataFrame:
    """A leader (one serving two grids), a full-time worker (two grids without), and
    one to three part-time posts per grid; fictional names and phones."""
    codes = grids["code"].astype(str).tolist()
    no_worker = set(rng.choice(len(codes), size=min(2, len(codes)), replace=False).tolist())
    rows: list[dict[str, object]] = []
    n = 0
    for i, code in enumerate(codes):
        n += 1
        if i == 1:  # grid 1's leader is grid 0's
            rows[0]["所属网格"] = f"{codes[0]}、{code}"
        else:
            rows.append({"姓名": _person(rng, n), "岗位": "网格长", "联系电话": _phone(n),
                         "所属网格": code})  # fmt: skip
        if i not in no_worker:
            n += 1
            rows.append({"姓名": _person(rng, n), "岗位": "专职网格员", "联系电话": _phone(n),
                         "所属网格": code})  # fmt: skip
        for post in rng.choice(_PART_TIME, size=int(rng.integers(1, 4)), replace=False):
            n += 1
            rows.append({"姓名": _person(rng, n), "岗位": str(post), "联系电话": _phone(n),
                         "所属网格": code})  # fmt: skip
    return pd.DataFrame(rows)


def _property(rng: np.random.Generator, street: Street) -> pd.DataFrame:
    """Every compound: a company, red property for about four in five, two abandoned."""
    comps = street.compounds
    abandoned = set(rng.choice(len(comps), size=min(2, len(comps)), replace=False).tolist())
    rows = []
    for i, (name, cid) in enumerate(zip(comps["name"], comps["compound_id"], strict=True)):
        if i in abandoned:
            rows.append({"小区编号": cid, "小区名称": name, "物业公司": "", "是否成立党组织": "否",
                         "管理方式": "弃管"})  # fmt: skip
            continue
        red = rng.random() < 0.82
        rows.append({"小区编号": cid, "小区名称": name,
                     "物业公司": f"示例物业服务有限公司{int(rng.integers(1, 9))}",
                     "是否成立党组织": "是" if red else "否", "管理方式": "物业服务企业"})  # fmt: skip
    return pd.DataFrame(rows)


def _incidents(rng: np.random.Generator, street: Street, n: int = 600) -> pd.DataFrame:
    """A year (2025) of incidents: a third by building id, a third by address
    (compound + building name), a third by WGS84 longitude/latitude."""
    b = street.buildings[street.buildings["kind"] == "residential"]
    pick = rng.choice(len(b), size=n, replace=True)
    days = np.sort(rng.integers(0, 365, size=n))
    dates = pd.Timestamp("2025-01-01") + pd.to_timedelta(days, unit="D")
    cats = rng.choice(len(_CATEGORIES), size=n, p=_category_weights())
    pts = b.geometry.representative_point().iloc[pick]
    lon, lat = Transformer.from_crs(b.crs, WGS84, always_xy=True).transform(
        pts.x.to_numpy(), pts.y.to_numpy()
    )
    comp_name = dict(zip(street.compounds["compound_id"], street.compounds["name"], strict=True))
    rows = []
    for k in range(n):
        row = b.iloc[pick[k]]
        rec: dict[str, object] = {"上报时间": dates[k].strftime("%Y-%m-%d"),
                                  "事件类型": _CATEGORIES[cats[k]],
                                  "办理状态": _STATUS[int(rng.integers(len(_STATUS)))]}  # fmt: skip
        way = k % 3
        if way == 0 or not row["name"] or not comp_name.get(row["compound_id"]):
            rec["楼栋编号"] = row["building_id"]
        elif way == 1:
            rec["小区名称"] = comp_name.get(row["compound_id"], "")
            rec["地址"] = row["name"]
        else:
            rec["经度"], rec["纬度"] = f"{lon[k]:.6f}", f"{lat[k]:.6f}"
        rows.append(rec)
    return pd.DataFrame(rows)


def _category_weights() -> NDArray[np.float64]:
    """Chances of the categories, commonest first."""
    w = np.array([8, 6, 6, 5, 4, 3, 2, 1], dtype=np.float64)
    out: NDArray[np.float64] = w / w.sum()
    return out


def make_registers(street: Street, grids: gpd.GeoDataFrame, *, seed: int = REGISTER_SEED
                   ) -> dict[str, pd.DataFrame]:  # fmt: skip
    """The four synthetic registers of ``street`` divided into ``grids`` (``code``,
    ``community``), by kind (``party``, ``staff``, ``property``, ``incidents``)."""
    from planner.organisation.registers import Locator

    rng = np.random.default_rng(seed)
    loc = Locator.build(street.buildings, street.compounds, grids)
    building_grid = pd.Series(loc.building_grid, index=street.buildings.index)
    tables = {
        "party": _party(rng, street, grids, building_grid),
        "staff": _staff(rng, grids),
        "property": _property(rng, street),
        "incidents": _incidents(rng, street),
    }
    for t in tables.values():
        t["备注"] = SYNTHETIC_NOTE
    return tables


def write_demo_registers(folder: str | Path) -> list[Path]:
    """Divide the street in ``folder`` and write its synthetic registers beside it
    (:data:`planner.organisation.organise.DEMO_REGISTERS`: UTF-8 CSV with a byte-order
    mark, byte for byte reproducible). Returns the paths."""
    from planner._atomic import write_text
    from planner.grids.codes import effective_code_settings
    from planner.grids.division import divide
    from planner.load.sources import load_street
    from planner.organisation.organise import DEMO_REGISTERS
    from planner.settings import Settings

    out = Path(folder)
    street = load_street(str(out))
    settings = effective_code_settings(Settings(), street.meta, explicit=())
    grids = divide(street, settings=settings).grids
    paths = []
    for kind, table in make_registers(street, grids).items():
        path = out / DEMO_REGISTERS[kind]
        write_text(path, "\ufeff" + table.to_csv(index=False, lineterminator="\n"))
        paths.append(path)
    return paths


#: The provenance note's paragraph on the registers.
PROVENANCE_REGISTERS = """## Organisation registers (synthetic)

`register_party.csv`, `register_staff.csv`, `register_property.csv` and
`register_incidents.csv` are made by `planner/synthetic/organisation.py`
(`make_registers`, seed 20261202) for the grids the planner divides this street
into, and written by the same command. **Every name and phone number is fictional**
(示例王03, 13800000042); every row says 合成数据（虚构） in its 备注 column. They
are drawn so that every organisation rule shows passing and failing grids.
"""
