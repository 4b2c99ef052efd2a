"""A hand-made street with two hand-drawn grids for the organisation tests.

The block street of :func:`grid_streets.block_street` (54 buildings of 40 households,
compounds c0 小区0, c2 小区2, c4 小区4) cut at the road x = 300 m into two grids:

- grid W (code ``...0101``, community w 西社区, west of the road x = 300 m): buildings b0-b8 (compound c0) and
  b27-b35 (no compound): 18 buildings, 720 households; compound c0;
- grid E (code ``...0201``, community 东社区): the other 36 buildings, 1,440 households;
  compounds c2 and c4.

Buildings are named 1号楼 ... 9号楼 in every block, so a name alone is ambiguous.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from grid_streets import X0, Y0, block_street
from shapely.geometry import box

from planner.street import Street

W = "10000061011300000101"
E = "10000061011300000201"


def org_street() -> tuple[Street, gpd.GeoDataFrame]:
    """The street and its two grids (street CRS, ``code``, ``community_id``,
    ``community``, ``households``)."""
    street = block_street(community_x=300.0)  # communities meet on the road x = 300 m
    street.buildings["name"] = [f"{i % 9 + 1}号楼" for i in range(len(street.buildings))]
    grids = gpd.GeoDataFrame(
        {
            "code": [W, E],
            "community_id": ["w", "e"],
            "community": ["西社区", "东社区"],
            "households": [720, 1440],
        },
        geometry=[box(X0, Y0, X0 + 300, Y0 + 600), box(X0 + 300, Y0, X0 + 900, Y0 + 600)],
        crs=street.crs,
    )
    return street, grids


def write_csv(folder: Path, name: str, text: str, *, encoding: str = "utf-8") -> Path:
    """``text`` (header and rows) written as a CSV in ``encoding``."""
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path
