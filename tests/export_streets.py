"""A small hand-made street for the export and map-image tests (made up, UTM zone 49N)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from planner.street import Street, from_layers

UTM = "EPSG:32649"
X0, Y0 = 310_000.0, 3_800_000.0


def small_street(*, synthetic: bool = True, attribution: str = "") -> Street:
    """A 1.6 km x 1.2 km street: 2 communities, 4 compounds, a grid of roads, 3 stations."""
    w, h = 1600.0, 1200.0
    boundary = shapely.box(X0, Y0, X0 + w, Y0 + h)
    comms = [shapely.box(X0, Y0, X0 + 800, Y0 + h), shapely.box(X0 + 800, Y0, X0 + w, Y0 + h)]
    cpds = [
        shapely.box(X0 + 60 + 400 * i, Y0 + 80 + 600 * j, X0 + 340 + 400 * i, Y0 + 520 + 600 * j)
        for i in range(4)
        for j in range(2)
    ]
    bld = []
    for c in cpds:
        x, y = c.bounds[0], c.bounds[1]
        bld += [
            shapely.box(x + 20 + 70 * a, y + 30 + 110 * b, x + 70 + 70 * a, y + 60 + 110 * b)
            for a in range(4)
            for b in range(4)
        ]
    roads = [
        shapely.LineString([(X0 - 200, Y0 + y), (X0 + w + 200, Y0 + y)]) for y in (0, 600, 1200)
    ]
    roads += [
        shapely.LineString([(X0 + x, Y0 - 200), (X0 + x, Y0 + h + 200)])
        for x in (0, 400, 800, 1200, 1600)
    ]
    hw = [
        "secondary",
        "primary",
        "secondary",
        "tertiary",
        "residential",
        "primary",
        "residential",
        "tertiary",
    ]
    n_b = len(bld)
    layers = {
        "boundary": gpd.GeoDataFrame({"name": ["示范街道"]}, geometry=[boundary], crs=UTM),
        "communities": gpd.GeoDataFrame(
            {
                "community_id": ["c1", "c2"],
                "name": ["东风社区", "幸福里社区"],
                "code": ["001", "002"],
            },
            geometry=comms,
            crs=UTM,
        ),
        "compounds": gpd.GeoDataFrame(
            {
                "compound_id": [f"k{i}" for i in range(len(cpds))],
                "name": [f"第{i + 1}小区" for i in range(len(cpds))],
            },
            geometry=cpds,
            crs=UTM,
        ),
        "buildings": gpd.GeoDataFrame(
            {
                "building_id": [f"b{i}" for i in range(n_b)],
                "kind": ["residential"] * n_b,
                "households": np.full(n_b, 24),
            },
            geometry=bld,
            crs=UTM,
        ),
        "roads": gpd.GeoDataFrame(
            {
                "road_id": [f"r{i}" for i in range(len(roads))],
                "highway": hw,
                "name": [f"路{i}" for i in range(len(roads))],
            },
            geometry=roads,
            crs=UTM,
        ),
        "barriers": gpd.GeoDataFrame(
            {"barrier_id": ["w1"], "kind": ["river"], "name": ["皂河"]},
            geometry=[shapely.box(X0 - 200, Y0 + 1000, X0 + w + 200, Y0 + 1030)],
            crs=UTM,
        ),
        "stations": gpd.GeoDataFrame(
            {
                "station_id": ["s1", "s2", "s3"],
                "name": ["街道党群服务中心", "东风社区党群服务站", "红色物业服务点"],
                "kind": ["street_centre", "community_station", "red_property"],
            },
            geometry=shapely.points(
                [[X0 + 420, Y0 + 620], [X0 + 300, Y0 + 300], [X0 + 1000, Y0 + 900]]
            ),
            crs=UTM,
        ),
    }
    return from_layers(
        layers, crs=UTM, name="示范街道", synthetic=synthetic, attribution=attribution
    )


def fake_circles(street: Street) -> gpd.GeoDataFrame:
    """Circles as buffers around stations (stand-in for network circles), 5/10/15 min."""
    rows = []
    for minutes, radius in ((5.0, 300.0), (10.0, 600.0), (15.0, 900.0)):
        for sid, geom in zip(street.stations["station_id"], street.stations.geometry, strict=True):
            rows.append(
                {
                    "station_id": sid,
                    "threshold_min": minutes,
                    "geometry": geom.buffer(radius * 0.7).intersection(street.boundary_geom),
                }
            )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=street.crs)


def fake_gaps(street: Street, circles: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    outer = circles[circles["threshold_min"] == 15.0].geometry.union_all()
    gap = street.boundary_geom.difference(outer)
    parts = [g for g in getattr(gap, "geoms", [gap]) if g.area > 1]
    return gpd.GeoDataFrame(
        {"gap_id": [f"g{i}" for i in range(len(parts))]}, geometry=parts, crs=street.crs
    )
