"""Tests of the synthetic street generator and the committed demo street (data/demo)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from planner.settings import DEFAULT_SERVICE_KINDS
from planner.synthetic import demo as synthetic
from planner.synthetic.demo import DEMO_SPEC, StreetSpec, make_demo, make_street, write_folder
from tests.rfc7946 import check_rfc7946

DEMO_DIR = Path(__file__).resolve().parents[1] / "data" / "demo"
PARTY_MASS = DEFAULT_SERVICE_KINDS  # street centre, community and grid stations
WALK_M = 1000.0  # 15 minutes at 4 km/h


@pytest.fixture(scope="module")
def demo() -> synthetic.SyntheticStreet:
    return make_demo()


@pytest.fixture(scope="module")
def utm(demo: synthetic.SyntheticStreet) -> dict[str, gpd.GeoDataFrame]:
    """The demo layers read back from the committed files, in the street's UTM CRS."""
    return {
        name: gpd.read_file(DEMO_DIR / f"{name}.geojson").to_crs(demo.utm_crs)
        for name in synthetic.LAYERS
    }


#: Other streets the consistency checks run on: the invariants hold for any spec.
OTHER_SPECS = {
    "small-3": StreetSpec(n_cols=2, n_rows=2, n_communities=2, seed=3, n_pois=6),
    "wide-8": StreetSpec(
        n_cols=5,
        n_rows=2,
        n_communities=4,
        seed=8,
        n_pois=10,
        village_share=0.2,
        drop_corner=False,
        railway=False,
    ),
    "dry-21": StreetSpec(n_cols=3, n_rows=3, n_communities=4, seed=21, river=False, block_m=520),
}


@pytest.fixture(scope="module", params=["demo", *OTHER_SPECS])
def case(
    request: pytest.FixtureRequest, utm: dict[str, gpd.GeoDataFrame]
) -> dict[str, gpd.GeoDataFrame]:
    """The demo (from its files) and freshly generated streets, in UTM."""
    if request.param == "demo":
        return utm
    street = make_street(OTHER_SPECS[request.param])
    return {k: v.to_crs(street.utm_crs) for k, v in street.layers.items()}


# -- a small test-only walking network ---------------------------------------------------


def _key(x: float, y: float) -> tuple[float, float]:
    return (round(x, 3), round(y, 3))


def walk_graph(roads: gpd.GeoDataFrame) -> nx.Graph:
    """Nodes at line end points (the roads are noded), edges weighted by length in m."""
    g = nx.Graph()
    geoms = roads.geometry.to_numpy()
    a = shapely.get_coordinates(shapely.get_point(geoms, 0))
    b = shapely.get_coordinates(shapely.get_point(geoms, -1))
    for (ax, ay), (bx, by), ln in zip(a, b, shapely.length(geoms), strict=True):
        g.add_edge(_key(ax, ay), _key(bx, by), weight=float(ln))
    return g


def _attach(points: np.ndarray, lines: np.ndarray) -> tuple[list, list, np.ndarray, np.ndarray]:
    """For each point: nearest line, its end nodes and the walk from the point to each."""
    tree = shapely.STRtree(lines)
    j = tree.query_nearest(points, all_matches=False)[1]
    line = lines[j]
    along = shapely.line_locate_point(line, points)
    perp = shapely.distance(points, line)
    a = shapely.get_coordinates(shapely.get_point(line, 0))
    b = shapely.get_coordinates(shapely.get_point(line, -1))
    na = [_key(x, y) for x, y in a]
    nb = [_key(x, y) for x, y in b]
    return na, nb, perp + along, perp + shapely.length(line) - along


def walk_to_stations(layers: dict[str, gpd.GeoDataFrame], kinds: tuple[str, ...]) -> np.ndarray:
    """Network walk (m) from each residential building centroid to the nearest station."""
    roads = layers["roads"]
    g = walk_graph(roads)
    public = roads[
        (roads["compound_id"] == "")
        & ~roads["bridge"].astype(bool)
        & (roads["highway"] != "footway")
    ].geometry.to_numpy()
    st = layers["stations"]
    st = st[st["kind"].isin(kinds)]
    na, nb, da, db = _attach(st.geometry.to_numpy(), public)
    for u, v, du, dv in zip(na, nb, da, db, strict=True):
        for n, d in ((u, du), (v, dv)):
            w = g.get_edge_data("S", n, {}).get("weight", np.inf)
            g.add_edge("S", n, weight=min(w, float(d)))
    dist = nx.single_source_dijkstra_path_length(g, "S")
    b = layers["buildings"]
    res = b[b["kind"] == "residential"]
    cent = res.geometry.centroid.to_numpy()
    out = np.full(len(res), np.inf)
    comp = res["compound_id"].fillna("").to_numpy()
    for cid in np.unique(comp):
        sel = np.flatnonzero(comp == cid)
        lines = roads[roads["compound_id"] == cid].geometry.to_numpy() if cid else public
        na, nb, da, db = _attach(cent[sel], lines)
        for k, u, v, du, dv in zip(sel, na, nb, da, db, strict=True):
            out[k] = min(dist.get(u, np.inf) + du, dist.get(v, np.inf) + dv)
    return out


# -- the committed files ----------------------------------------------------------------


def _same_layer(committed: Path, fresh: Path) -> bool:
    """Same features, properties and geometry (within 1e-6 degrees, about 10 cm)."""
    a, b = gpd.read_file(committed), gpd.read_file(fresh)
    if len(a) != len(b) or list(a.columns) != list(b.columns):
        return False
    props = [c for c in a.columns if c != "geometry"]
    if not a[props].equals(b[props]):
        return False
    ga, gb = a.geometry.to_numpy(), b.geometry.to_numpy()
    return bool((shapely.hausdorff_distance(ga, gb) < 1e-6).all())


def test_demo_files_match_fresh_generation(demo: synthetic.SyntheticStreet, tmp_path: Path) -> None:
    """The committed data/demo is what scripts/make_demo.py writes now.

    Byte-identical in the environment that generated it; elsewhere (another GEOS or
    PROJ build may round a last digit differently) the same features within 10 cm.
    """
    write_folder(demo, tmp_path)
    for name in [*synthetic.LAYERS, "street"]:
        ext = "json" if name == "street" else "geojson"
        committed, fresh = DEMO_DIR / f"{name}.{ext}", tmp_path / f"{name}.{ext}"
        if committed.read_bytes() == fresh.read_bytes():
            continue
        assert ext == "geojson" and _same_layer(committed, fresh), (
            f"data/demo/{name}.{ext} is stale: run python scripts/make_demo.py"
        )


def test_stale_demo_is_detected(tmp_path: Path) -> None:
    street = make_street(StreetSpec(n_cols=2, n_rows=2, n_communities=2, seed=11, n_pois=6))
    write_folder(street, tmp_path / "a")
    other = make_street(StreetSpec(n_cols=2, n_rows=2, n_communities=2, seed=12, n_pois=6))
    write_folder(other, tmp_path / "b")
    assert _same_layer(tmp_path / "a" / "roads.geojson", tmp_path / "a" / "roads.geojson")
    assert not _same_layer(tmp_path / "a" / "roads.geojson", tmp_path / "b" / "roads.geojson")


def test_generation_is_deterministic(tmp_path: Path) -> None:
    spec = StreetSpec(n_cols=2, n_rows=2, n_communities=2, seed=11, n_pois=6)
    write_folder(make_street(spec), tmp_path / "a")
    write_folder(make_street(spec), tmp_path / "b")
    for p in sorted((tmp_path / "a").iterdir()):
        assert p.read_bytes() == (tmp_path / "b" / p.name).read_bytes(), p.name


def test_street_json_says_synthetic() -> None:
    meta = json.loads((DEMO_DIR / "street.json").read_text(encoding="utf-8"))
    assert meta["synthetic"] is True
    assert "合成" in meta["name"]
    assert meta["code_county"] == "610113" and len(meta["code_street"]) == 3
    assert "synthetic" in (DEMO_DIR / "PROVENANCE.md").read_text(encoding="utf-8").lower()


def test_coordinates_are_wgs84_rounded() -> None:
    text = (DEMO_DIR / "buildings.geojson").read_text(encoding="utf-8")
    coords = shapely.get_coordinates(gpd.read_file(DEMO_DIR / "buildings.geojson").geometry)
    assert np.all(
        (coords[:, 0] > 108) & (coords[:, 0] < 110) & (coords[:, 1] > 34) & (coords[:, 1] < 35)
    )
    assert np.allclose(coords, np.round(coords, 7), atol=1e-12, rtol=0)
    assert "号楼" in text  # UTF-8, not escaped
    for path in sorted(DEMO_DIR.glob("*.geojson")):
        assert check_rfc7946(path) == [], path.name


# -- scale and texture ------------------------------------------------------------------


def test_counts_and_ranges(utm: dict[str, gpd.GeoDataFrame]) -> None:
    area_km2 = utm["boundary"].area.sum() / 1e6
    assert 3.0 <= area_km2 <= 6.0
    comms = utm["communities"]
    assert 4 <= len(comms) <= 6
    assert comms["code"].str.fullmatch(r"\d{3}").all() and comms["code"].is_unique
    comps = utm["compounds"]
    assert comps["gated"].sum() >= 40
    b = utm["buildings"]
    res = b[b["kind"] == "residential"]
    assert (res.area >= 250).sum() >= 600  # apartment blocks, besides urban-village houses
    assert (res["compound_id"].fillna("") != "").mean() > 0.9
    assert (res["compound_id"].fillna("") == "").sum() >= 1
    hh = res["households"].sum()
    assert 15_000 <= hh <= 25_000
    ratio = res["population"].sum() / res.loc[res["population"].notna(), "households"].sum()
    assert 2.4 <= ratio <= 2.8
    missing = res["households"].isna()
    assert 0.02 <= missing.mean() <= 0.1
    only_height = res["floors"].isna()
    assert only_height.sum() >= 2 and res.loc[only_height, "height_m"].notna().all()
    assert res.loc[missing & ~only_height, "floors"].notna().all()
    assert set(b["kind"]) >= {"residential", "school", "shop", "office", "public"}
    assert set(utm["landuse"]["kind"]) >= {"park", "school", "campus", "commercial"}
    pois = utm["pois"]
    candidates = pois["kind"].isin(["vacant_shop", "community_room"])
    assert 20 <= candidates.sum() <= 40
    # besides the candidate sites, the facilities of every service kind (issue 16)
    from planner.coverage.service_kinds import service_points
    from planner.schema import SERVICE_KINDS

    stations = utm["stations"]
    fed = set(service_points(stations, pois, utm["landuse"])["service_kind"])
    assert fed == set(SERVICE_KINDS)


def test_footprints_are_realistic(utm: dict[str, gpd.GeoDataFrame]) -> None:
    b = utm["buildings"]
    res = b[(b["kind"] == "residential") & (b["compound_id"].fillna("") != "")]
    area = res.area
    assert area.between(100, 1200).all()
    gated = set(utm["compounds"].loc[utm["compounds"]["gated"], "compound_id"])
    in_gated = area[res["compound_id"].isin(gated)]
    assert (in_gated > 250).mean() > 0.9  # slab blocks (~60x12 m) and towers (~25x25 m)
    assert 400 <= in_gated.median() <= 900


def test_stations(utm: dict[str, gpd.GeoDataFrame]) -> None:
    st = utm["stations"]
    assert 12 <= len(st) <= 20
    assert (st["kind"] == "street_centre").sum() == 1
    assert {
        "community_station",
        "red_property",
        "neighbourhood_centre",
        "convenience_point",
    } <= set(st["kind"])
    assert st["name"].str.contains("党群服务").sum() >= 5
    assert st["floor_area_m2"].gt(0).all() and st["opening_hours"].str.len().gt(0).all()
    assert st["address"].str.len().gt(0).all()
    boundary = utm["boundary"].union_all()
    outside = ~st.within(boundary)
    assert 2 <= outside.sum() <= 3
    assert (st[outside].distance(boundary) < 1000).all()
    n_comm = len(utm["communities"])
    assert (st["kind"] == "community_station").sum() - outside.sum() >= n_comm // 2 + 1
    roads = utm["roads"]
    public = roads[(roads["compound_id"].fillna("") == "")].union_all()
    assert (st.distance(public) <= 30).all()


# -- consistency --------------------------------------------------------------------------


def test_communities_tile_the_boundary(case: dict[str, gpd.GeoDataFrame]) -> None:
    boundary = case["boundary"].union_all()
    comms = case["communities"].geometry
    assert abs(comms.area.sum() - boundary.area) < 1.0  # m², after rounding to 1e-7 degrees
    assert comms.union_all().symmetric_difference(boundary).area < 1.0
    tree = shapely.STRtree(comms.to_numpy())
    a, b = tree.query(comms.to_numpy(), predicate="intersects")
    keep = a < b
    overlap = shapely.area(
        shapely.intersection(comms.to_numpy()[a[keep]], comms.to_numpy()[b[keep]])
    )
    assert overlap.max(initial=0) < 0.5


def test_compounds_in_one_community_and_disjoint(case: dict[str, gpd.GeoDataFrame]) -> None:
    comps = case["compounds"]
    comms = case["communities"]
    inter = gpd.overlay(comps[["compound_id", "geometry"]], comms[["community_id", "geometry"]])
    big = inter[inter.area > 1.0]
    assert big.groupby("compound_id").size().max() == 1
    joined = dict(zip(big["compound_id"], big["community_id"], strict=True))
    assert all(
        joined[c] == k for c, k in zip(comps["compound_id"], comps["community_id"], strict=True)
    )
    g = comps.geometry.to_numpy()
    a, b = shapely.STRtree(g).query(g, predicate="intersects")
    assert (a == b).all()


def test_buildings_do_not_overlap_or_cross(case: dict[str, gpd.GeoDataFrame]) -> None:
    b = case["buildings"]
    g = b.geometry.to_numpy()
    a, c = shapely.STRtree(g).query(g, predicate="intersects")
    assert (a == c).all(), "buildings overlap"
    comps = case["compounds"].set_index("compound_id")
    in_comp = b["compound_id"].fillna("") != ""
    holder = comps.geometry.loc[b.loc[in_comp, "compound_id"]].to_numpy()
    assert shapely.within(g[in_comp.to_numpy()], holder).all()
    outlines = shapely.boundary(comps.geometry.to_numpy())
    assert not shapely.STRtree(outlines).query(g, predicate="intersects")[0].size
    roads = case["roads"].geometry.to_numpy()
    assert not shapely.STRtree(roads).query(g, predicate="intersects")[0].size
    river = case["barriers"].union_all()
    assert not shapely.intersects(g, river).any()


def test_compounds_clear_of_roads_and_river(case: dict[str, gpd.GeoDataFrame]) -> None:
    comps = case["compounds"].geometry.to_numpy()
    inner = shapely.buffer(comps, -0.05)
    roads = case["roads"]
    public = roads[roads["compound_id"].fillna("") == ""].geometry.to_numpy()
    assert not shapely.STRtree(public).query(inner, predicate="intersects")[0].size
    assert not shapely.intersects(comps, case["barriers"].union_all()).any()


def test_bridges_are_the_only_crossings(case: dict[str, gpd.GeoDataFrame]) -> None:
    roads = case["roads"]
    bar = case["barriers"]
    assert len(bar) >= 1
    river = bar[bar["kind"] == "river"].union_all()
    rail = bar[bar["kind"] == "railway"].union_all()
    for barrier, lo, hi in ((river, 2, 3), (rail, 1, 2)):
        if barrier.is_empty:
            continue
        hits = roads.intersects(barrier)
        assert roads.loc[hits, "bridge"].astype(bool).all()
        assert lo <= hits.sum() <= hi
    # a bridge meets the rest of the network only at its end points, which lie on land
    bridges = roads[roads["bridge"].astype(bool)]
    ends = (
        shapely.get_point(bridges.geometry.to_numpy(), 0),
        shapely.get_point(bridges.geometry.to_numpy(), -1),
    )
    for e in ends:
        assert not shapely.intersects(e, river).any()
    g = walk_graph(roads)
    for line in bridges.geometry:
        a, b = line.coords[0], line.coords[-1]
        assert g.degree(_key(*a)) >= 2 and g.degree(_key(*b)) >= 2


def test_roads_are_noded(case: dict[str, gpd.GeoDataFrame]) -> None:
    """Road lines meet only at end points, so the network is built by matching end points."""
    roads = case["roads"].geometry.to_numpy()
    a, b = shapely.STRtree(roads).query(roads, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    inter = shapely.intersection(roads[a], roads[b])
    parts, which = shapely.get_parts(inter, return_index=True)
    assert (shapely.get_type_id(parts) == 0).all()  # points only, no overlaps
    for line in (roads[a[which]], roads[b[which]]):
        d0 = shapely.distance(parts, shapely.get_point(line, 0))
        d1 = shapely.distance(parts, shapely.get_point(line, -1))
        assert (np.minimum(d0, d1) < 0.05).all()


def test_internal_paths_meet_public_roads_only_at_gates(case: dict[str, gpd.GeoDataFrame]) -> None:
    roads = case["roads"]
    gates = case["gates"]
    comps = case["compounds"]
    internal = roads[roads["compound_id"].fillna("") != ""]
    public = roads[roads["compound_id"].fillna("") == ""]
    assert set(internal["highway"]) <= {"footway", "service"}
    pub_g = public.geometry.to_numpy()
    a, b = shapely.STRtree(pub_g).query(internal.geometry.to_numpy(), predicate="intersects")
    touch = shapely.intersection(internal.geometry.to_numpy()[a], pub_g[b])
    gate_pts = gates.union_all().buffer(0.05)
    assert len(touch) >= len(gates)
    assert shapely.within(touch, gate_pts).all()
    # every gate lies on its compound outline, with a public footway ending exactly there
    outline = comps.set_index("compound_id").boundary.loc[gates["compound_id"]].to_numpy()
    assert (shapely.distance(gates.geometry.to_numpy(), outline) < 0.05).all()
    g = walk_graph(roads)
    for cid, grp in internal.groupby("compound_id"):
        sub = walk_graph(grp)
        my_gates = gates[gates["compound_id"] == cid]
        assert 1 <= len(my_gates) <= 3
        for p in my_gates.geometry:
            k = _key(p.x, p.y)
            assert k in sub and g.degree(k) > sub.degree(k)
    # the whole network is one piece
    assert nx.number_connected_components(g) == 1


def test_roads_reach_into_the_margin(case: dict[str, gpd.GeoDataFrame]) -> None:
    boundary = case["boundary"].union_all()
    minx, miny, maxx, maxy = boundary.bounds
    rx0, ry0, rx1, ry1 = case["roads"].total_bounds
    assert min(minx - rx0, miny - ry0, rx1 - maxx, ry1 - maxy) >= 1190


def test_coverage_gaps_exist_but_most_are_covered(utm: dict[str, gpd.GeoDataFrame]) -> None:
    walk = walk_to_stations(utm, PARTY_MASS)
    assert np.isfinite(walk).all()
    res = utm["buildings"][utm["buildings"]["kind"] == "residential"]
    far = walk > WALK_M
    assert 0.6 <= 1 - far.mean() <= 0.95
    # gaps are in at least two separate areas
    far_pts = res.geometry.centroid[far]
    groups = shapely.get_parts(shapely.union_all(far_pts.buffer(200).to_numpy()))
    assert len(groups) >= 2


# -- parameters ----------------------------------------------------------------------------


def test_parameters_change_the_street() -> None:
    small = make_street(
        StreetSpec(
            n_cols=2, n_rows=2, n_communities=3, seed=5, river=False, railway=False, n_pois=4
        )
    )
    assert len(small.layers["communities"]) == 3
    assert len(small.layers["barriers"]) == 0
    assert small.stats["area_km2"] < 2.0
    lon, lat = small.layers["boundary"].geometry.iloc[0].centroid.coords[0]
    assert abs(lon - DEMO_SPEC.origin_lon) < 0.02 and abs(lat - DEMO_SPEC.origin_lat) < 0.02


def test_district_scales_up_and_stays_consistent() -> None:
    one = synthetic.make_district(1, seed=2)
    layers = {k: v.to_crs(one.utm_crs) for k, v in one.layers.items()}
    assert len(layers["communities"]) == 5
    assert len(layers["buildings"]) > 3000
    assert one.stats["stations"] >= 12
    g = layers["buildings"].geometry.to_numpy()
    a, b = shapely.STRtree(g).query(g, predicate="intersects")
    assert (a == b).all()
    boundary = layers["boundary"].union_all()
    assert abs(layers["communities"].area.sum() - boundary.area) < 1.0


def test_make_demo_script_writes_a_district(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[1] / "scripts" / "make_demo.py"
    out = tmp_path / "d"
    subprocess.run(
        [sys.executable, str(script), "--district", "1", "--seed", "3", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    assert (out / "buildings.geojson").stat().st_size > 100_000
    assert "--district 1" in (out / "PROVENANCE.md").read_text(encoding="utf-8")
    assert json.loads((out / "street.json").read_text(encoding="utf-8"))["synthetic"] is True


def test_make_demo_script_regenerates_the_committed_folder(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[1] / "scripts" / "make_demo.py"
    subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path)], check=True, capture_output=True
    )
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(p.name for p in DEMO_DIR.iterdir())
    assert (tmp_path / "PROVENANCE.md").read_bytes() == (DEMO_DIR / "PROVENANCE.md").read_bytes()
    for name in written:
        if (tmp_path / name).read_bytes() != (DEMO_DIR / name).read_bytes():
            assert name.endswith(".geojson") and _same_layer(DEMO_DIR / name, tmp_path / name), name


def test_bad_spec_names_every_problem() -> None:
    with pytest.raises(ValueError, match=r"n_cols/n_rows=0/2.*density=5.*code_street='9'"):
        make_street(StreetSpec(n_cols=0, n_rows=2, density=5, code_street="9"))


def test_to_street_loads_like_the_folder(tmp_path: Path) -> None:
    from planner.load.sources import load_street

    gen = make_street(StreetSpec(n_cols=2, n_rows=2, n_communities=2, seed=11, n_pois=6))
    direct = gen.to_street()
    write_folder(gen, tmp_path)
    loaded = load_street(str(tmp_path))
    assert direct.synthetic and direct.crs.equals(gen.utm_crs)
    assert direct.report.counts == loaded.report.counts
    # equal up to estimates from footprints whose coordinates the files round to 1 cm
    assert loaded.households_total > 0
    assert abs(direct.households_total - loaded.households_total) <= 5


def test_demo_loads_cleanly() -> None:
    """The committed demo loads with no problems into one walking network."""
    from planner.load.sources import load_street

    street = load_street("demo")
    rep = street.report
    assert street.synthetic and rep.synthetic
    assert not [p for p in rep.notes if p.severity != "repair"]
    assert len(rep.network_components) == 1
    assert rep.stations_in_margin == 3 and rep.stations_in_street == 13
    assert 15_000 <= street.households_total <= 25_000  # registered plus estimated


def test_demo_community_stations_stand_in_the_community_they_are_named_for() -> None:
    from planner.load.sources import load_street

    st = load_street("demo")
    own = st.stations[st.stations["kind"].isin(["community_station", "grid_station"])]
    own = own[own["name"].str.contains("社区") & ~own["name"].str.contains("街道外")]
    assert len(own) >= 4
    names = dict(zip(st.communities["community_id"], st.communities["name"], strict=True))
    joined = own.sjoin(st.communities[["community_id", "geometry"]], predicate="within")
    assert len(joined) == len(own)
    for name, cid in zip(joined["name"], joined["community_id"], strict=True):
        assert name.startswith(names[cid]), (name, names[cid])
