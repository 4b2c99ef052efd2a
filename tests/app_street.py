"""A tiny hand-made street for the red map and app tests (UTM zone 50N, near Beijing).

1,000 m x 800 m; two communities (west/east), four compounds with five buildings
each, a road cross and three stations. Made up; not a real place.
"""

from __future__ import annotations

import geopandas as gpd
from shapely.geometry import LineString, Point, box

from planner.street import Street, from_layers

CRS = "EPSG:32650"
X0, Y0 = 440_000.0, 4_420_000.0


def tiny_street(*, synthetic: bool = True) -> Street:
    """The test street; ``synthetic`` marks it as made up (the map then says so)."""
    boundary = gpd.GeoDataFrame(
        {"street_id": ["s1"], "name": ["测试街道"]},
        geometry=[box(X0, Y0, X0 + 1000, Y0 + 800)],
        crs=CRS,
    )
    communities = gpd.GeoDataFrame(
        {"community_id": ["c1", "c2"], "name": ["西社区", "东社区"], "code": ["001", "002"]},
        geometry=[box(X0, Y0, X0 + 500, Y0 + 800), box(X0 + 500, Y0, X0 + 1000, Y0 + 800)],
        crs=CRS,
    )
    comp_boxes = {
        "k1": box(X0 + 50, Y0 + 50, X0 + 450, Y0 + 350),
        "k2": box(X0 + 50, Y0 + 450, X0 + 450, Y0 + 750),
        "k3": box(X0 + 550, Y0 + 50, X0 + 950, Y0 + 350),
        "k4": box(X0 + 550, Y0 + 450, X0 + 950, Y0 + 750),
    }
    compounds = gpd.GeoDataFrame(
        {
            "compound_id": list(comp_boxes),
            "name": ["花园小区", "阳光小区", "东方小区", "和平小区"],
            "community_id": ["c1", "c1", "c2", "c2"],
        },
        geometry=list(comp_boxes.values()),
        crs=CRS,
    )
    rows = []
    for cid, poly in comp_boxes.items():
        x, y = poly.bounds[0], poly.bounds[1]
        for i in range(5):
            rows.append(
                {
                    "building_id": f"{cid}-b{i}",
                    "name": f"{i + 1}号楼",
                    "kind": "residential",
                    "compound_id": cid,
                    "floors": 6,
                    "households": 40 + 10 * i,
                    "geometry": box(x + 20 + 70 * i, y + 100, x + 70 + 70 * i, y + 140),
                }
            )
    buildings = gpd.GeoDataFrame(rows, crs=CRS)
    roads = gpd.GeoDataFrame(
        {
            "road_id": ["r1", "r2"],
            "name": ["中山路", "人民路"],
            "highway": ["primary", "residential"],
        },
        geometry=[
            LineString([(X0, Y0 + 400), (X0 + 1000, Y0 + 400)]),
            LineString([(X0 + 500, Y0), (X0 + 500, Y0 + 800)]),
        ],
        crs=CRS,
    )
    stations = gpd.GeoDataFrame(
        {
            "station_id": ["st1", "st2", "st3"],
            "name": ["街道党群服务中心", "西社区党群服务站", "红色物业点"],
            "kind": ["street_centre", "community_station", "red_property"],
            "floor_area_m2": [1200.0, 600.0, 80.0],
            "opening_hours": ["09:00-17:00", "", ""],
        },
        geometry=[Point(X0 + 500, Y0 + 410), Point(X0 + 250, Y0 + 420), Point(X0 + 900, Y0 + 700)],
        crs=CRS,
    )
    return from_layers(
        {
            "boundary": boundary,
            "communities": communities,
            "compounds": compounds,
            "buildings": buildings,
            "roads": roads,
            "stations": stations,
        },
        crs=CRS,
        name="测试街道",
        synthetic=synthetic,
    )
