"""City runs on Dask (issue 17): the synthetic city, demo-city sources, identical answers,
rollups, the city red map, failing streets and incremental re-runs.

One small city (``demo-city:3``, about 70-200 buildings a street) is run once per module
on a local cluster of two thread workers (``processes=False`` for speed); the command
line test runs one worker process, so process workers are exercised too.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planner.city.hashes import HASH_FILE
from planner.city.rollup import write_rollups
from planner.city.run import CITY_FILE, CityResult, run_city
from planner.city.source import read_city, read_streets
from planner.errors import InputError
from planner.settings import Settings
from planner.synthetic.city import CitySpec, make_city

N = 3
FAST = ("geojson", "csv")


@pytest.fixture(scope="module")
def city_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CityResult]:
    out = tmp_path_factory.mktemp("city")
    city = read_city(f"demo-city:{N}")
    result = run_city(
        city, out, settings=Settings(), job="coverage", workers=2, processes=False,
        html=True, formats=FAST,
    )  # fmt: skip
    write_rollups(city, out, result.outcomes)
    return out, result


def test_synthetic_city_streets_side_by_side_with_own_codes() -> None:
    city = make_city(CitySpec(n_streets=N))
    streets = city.streets.to_crs(city.utm_crs)
    assert list(streets["street_code"]) == ["001", "002", "003"]
    assert set(streets["county_code"]) == {"610113"}
    whole = city.layers["boundary"].to_crs(city.utm_crs).geometry.iloc[0]
    assert abs(streets.area.sum() - whole.area) < 1.0  # the streets tile the city
    assert streets.geometry.iloc[0].intersection(streets.geometry.iloc[1]).area < 1.0
    # every community lies in one street, and every compound in its community's street
    comms = city.layers["communities"].to_crs(city.utm_crs)
    street_of = {}
    for cid, geom in zip(comms["community_id"], comms.geometry, strict=True):
        shares = streets.intersection(geom).area / geom.area
        assert shares.max() > 0.999, cid
        street_of[cid] = int(np.argmax(shares.to_numpy()))
    comp = city.layers["compounds"].to_crs(city.utm_crs)
    for cid, geom in zip(comp["community_id"], comp.geometry, strict=True):
        assert streets.geometry.iloc[street_of[cid]].contains(geom.representative_point())
    again = make_city(CitySpec(n_streets=N, seed=2026))
    assert again is city  # generated once per process


@pytest.mark.parametrize("src", ["demo-city:0/1", "demo-city:3/4", "demo-city:x", "demo-city:3/"])
def test_bad_demo_city_sources_name_the_source_and_fix(src: str) -> None:
    from planner.load.sources import load_street

    with pytest.raises(InputError) as err:
        load_street(src)
    assert src in str(err.value) and "demo-city:N/K" in str(err.value)


def test_a_whole_city_is_not_a_street_and_a_street_not_a_city() -> None:
    from planner.load.sources import load_street

    with pytest.raises(InputError, match="whole city"):
        load_street("demo-city:3")
    with pytest.raises(InputError, match="one street"):
        read_city("demo-city:3/1")


def test_streets_file_problems_name_file_feature_and_field(tmp_path: Path) -> None:
    streets = make_city(CitySpec(n_streets=N)).streets.copy()
    streets.loc[1, "street_code"] = "001"
    streets.loc[2, "county_code"] = "61"
    path = tmp_path / "streets.geojson"
    streets.to_file(path)
    with pytest.raises(InputError) as err:
        read_streets(path)
    text = str(err.value)
    assert "street_code 001 is given twice" in text and "street_code" in text
    assert "county_code '61' is not 6 digits" in text and str(path) in text
    with pytest.raises(InputError, match="needs --streets"):
        read_city(str(tmp_path))


def test_city_run_equals_single_street_runs(city_run: tuple[Path, CityResult]) -> None:
    """Figures, grids and codes of every street: city run == single-street demo-city:N/K."""
    from planner.coverage.layers import compute_coverage_layers
    from planner.grids.codes import effective_code_settings
    from planner.load.sources import load_street
    from planner.pipeline import divide_grids

    out, result = city_run
    assert result.failed == [] and result.ran == ["001", "002", "003"]
    for k, code in enumerate(["001", "002", "003"], start=1):
        s = Settings()
        street = load_street(f"demo-city:{N}/{k}", settings=s)
        s = effective_code_settings(s, street.meta)
        grids = divide_grids(street, settings=s).grids
        cov = compute_coverage_layers(street, settings=s, grids=grids)
        summary = json.loads((out / "streets" / code / "summary.json").read_text("utf-8"))
        assert summary["street"] == street.name
        assert summary["coverage"]["households_covered"] == cov.summary["households_covered"]
        assert summary["coverage"]["gaps"] == cov.summary["gaps"]
        assert summary["load"]["households_total"] == int(street.buildings["households"].sum())
        city_grids = gpd.read_file(out / "streets" / code / "grids.geojson")
        assert sorted(city_grids["code"]) == sorted(grids["code"])
        assert all(c[6:12] == "610113" and c[12:15] == code for c in grids["code"])
        mine = city_grids.set_index("code")["households"].sort_index()
        theirs = grids.set_index("code")["households"].sort_index()
        assert mine.tolist() == theirs.astype(int).tolist()


def test_each_street_outcome_reports_its_cpu_seconds_and_worker_process(
    city_run: tuple[Path, CityResult],
) -> None:
    """A task reports its own CPU seconds, its worker process's CPU up to the task's end
    (start-up and earlier tasks included) and the process id, which the city benchmark
    splits a worker's CPU with (thread workers: this process)."""
    import os

    _, result = city_run
    for outcome in result.outcomes.values():
        assert outcome.pid == os.getpid()
        assert 0 < outcome.cpu_seconds <= outcome.process_cpu_s


def test_rollups_one_row_per_street_and_city_layers(city_run: tuple[Path, CityResult]) -> None:
    out, _ = city_run
    table = pd.read_csv(out / "city_streets.csv", encoding="utf-8-sig", dtype={"street_code": str})
    assert list(table["street_code"]) == ["001", "002", "003"]
    assert set(table["status"]) == {"ok"}
    for code, row in table.set_index("street_code").iterrows():
        summary = json.loads((out / "streets" / str(code) / "summary.json").read_text("utf-8"))
        assert (
            row["households_within_15_min_pct"]
            == summary["coverage"]["households_covered_pct"]["15"]
        )
        assert row["grids"] == summary["grids"]["count"]
        assert row["peak_memory_mb"] > 0
    comm = pd.read_csv(out / "city_communities.csv", encoding="utf-8-sig", dtype=str)
    assert set(comm["street_code"]) == {"001", "002", "003"}
    inputs = json.loads((out / CITY_FILE).read_text("utf-8"))  # a street can be reopened
    assert inputs["source"] == f"demo-city:{N}" and inputs["margin_m"] == Settings().margin_m
    layers = {
        name: gpd.read_file(out / "city.gpkg", layer=name)
        for name in ("grids", "circles", "streets")
    }
    assert len(layers["grids"]) == int(table["grids"].sum())
    assert set(layers["circles"]["street_code"]) == {"001", "002", "003"}


def test_city_red_map_links_streets_and_marks_border_gaps(
    city_run: tuple[Path, CityResult],
) -> None:
    from planner.city.citymap import border_gaps, shade, write_city_map

    out, _ = city_run
    city = read_city(f"demo-city:{N}")
    page = write_city_map(city, out).read_text("utf-8")
    for code in ("001", "002", "003"):
        assert f"streets/{code}/redmap.html" in page
    table = pd.read_csv(out / "city_streets.csv", encoding="utf-8-sig", dtype={"street_code": str})
    pct = table.set_index("street_code")["households_within_15_min_pct"]
    assert f"合成城市第3街道（合成数据）（003）：15分钟覆盖 {pct['003']:.1f}% 的住户" in page
    assert shade(100.0) == "#fee8c8" and shade(10.0) == "#b2182b" and shade(None) == "#dddddd"
    # two gaps of two streets meeting at their border straddle it; a lone gap does not
    a = shapely.box(108.9, 34.2, 108.901, 34.201)
    b = shapely.box(108.901, 34.2, 108.902, 34.201)
    far = shapely.box(108.95, 34.2, 108.951, 34.201)
    gaps = gpd.GeoDataFrame({"street_code": ["001", "002", "002"]}, geometry=[a, b, far], crs=4326)
    across = border_gaps(gaps)
    assert list(across["street_codes"]) == ["001,002", "001,002"]


def test_failing_street_is_reported_and_others_run_in_worker_processes(tmp_path: Path) -> None:
    """A street whose polygon has no UTM zone (a wrong coordinate) fails with its error
    naming the streets file; the others are written; exit 2. The command runs one worker
    process (processes=True)."""
    from planner.cli.parser import main

    streets = make_city(CitySpec(n_streets=N)).streets.copy()
    streets.loc[2, "geometry"] = shapely.affinity.translate(streets.geometry.iloc[2], yoff=52.0)
    path = tmp_path / "streets.geojson"
    streets.to_file(path)
    out = tmp_path / "out"
    code = main(["city", f"demo-city:{N}", "--streets", str(path), "--out", str(out),
                 "--jobs", "grids", "--workers", "1", "--no-html", "--formats", "geojson,csv",
                 "-q"])  # fmt: skip
    assert code == 2
    table = pd.read_csv(out / "city_streets.csv", encoding="utf-8-sig", dtype={"street_code": str})
    status = dict(zip(table["street_code"], table["status"], strict=True))
    assert status == {"001": "ok", "002": "ok", "003": "failed"}
    error = table.set_index("street_code").loc["003", "error"]
    assert str(path) in error and "street 003" in error and "UTM zone" in error
    assert (out / "streets" / "001" / "grids.geojson").is_file()
    assert not (out / "streets" / "003").exists()
    assert set(json.loads((out / HASH_FILE).read_text())["streets"]) == {"001", "002"}


def test_rerun_recomputes_only_changed_streets_and_their_margin_neighbours(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Unchanged inputs: nothing re-runs. A building changed in the west of street 001
    (beyond the 300 m margin of 002): only 001. One at 001's east border: 001 and 002.
    Every run goes to an existing cluster given by its scheduler address (--scheduler)."""
    from distributed import LocalCluster

    settings = Settings(margin_m=300.0)
    city = read_city(f"demo-city:{N}")
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    )
    request.addfinalizer(cluster.close)

    def run(c: object) -> CityResult:
        return run_city(
            c, tmp_path, settings=settings, job="grids", scheduler=cluster.scheduler_address,  # type: ignore[arg-type]
            html=False, formats=("geojson",),
        )  # fmt: skip

    assert run(city).ran == ["001", "002", "003"]
    again = run(city)
    assert again.ran == [] and again.reused == ["001", "002", "003"]
    utm = make_city(CitySpec(n_streets=N)).utm_crs
    streets = city.streets.to_crs(utm)
    b = city.layers["buildings"]
    pts = b.to_crs(utm).representative_point()
    in_001 = pts.within(streets.geometry.iloc[0]) & (b["kind"] == "residential")
    to_002 = pts.distance(streets.geometry.iloc[1])
    west = to_002[in_001].idxmax()
    east = to_002[in_001].idxmin()
    assert to_002[west] > 400 and to_002[east] < 250

    def changed(i: int) -> object:
        layers = dict(city.layers)
        layers["buildings"] = b.copy()
        layers["buildings"].loc[i, "households"] = float(b.loc[i, "households"] or 0) + 7
        return type(city)(city.source, layers, city.streets, city.meta)

    assert run(changed(west)).ran == ["001"]
    assert run(changed(east)).ran == ["001", "002"]


def test_shares_cut_with_a_spatial_index_equal_shares_cut_feature_by_feature() -> None:
    from planner.city.partition import layer_trees, street_part

    city = make_city(CitySpec(n_streets=N))
    trees = layer_trees(city.layers)
    for k in range(N):
        row = city.streets.iloc[[k]]
        plain = street_part(city.layers, row, margin_m=1000.0, meta=city.meta, source="s")
        fast = street_part(
            city.layers, row, margin_m=1000.0, meta=city.meta, source="s", trees=trees
        )
        assert plain.layers.keys() == fast.layers.keys()
        for name, gdf in plain.layers.items():
            pd.testing.assert_frame_equal(pd.DataFrame(gdf), pd.DataFrame(fast.layers[name]))


def test_ctrl_c_closes_the_cluster_and_keeps_finished_streets(tmp_path: Path) -> None:
    """Ctrl-C after the first street: the cluster is closed, the finished street's hash is
    kept (it is not run again), the unfinished ones run next time."""
    import distributed

    city = read_city(f"demo-city:{N}")

    def interrupt(line: str) -> None:
        if line.startswith("[grids 1/"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_city(city, tmp_path, settings=Settings(), job="grids", workers=1, processes=False,
                 html=False, formats=("geojson",), report=interrupt)  # fmt: skip
    with pytest.raises(ValueError):
        distributed.get_client()  # no client (and so no cluster) is left open
    done = json.loads((tmp_path / HASH_FILE).read_text())["streets"]
    assert len(done) == 1
    again = run_city(city, tmp_path, settings=Settings(), job="grids", workers=1,
                     processes=False, html=False, formats=("geojson",))  # fmt: skip
    assert again.reused == list(done) and len(again.ran) == N - 1


@pytest.mark.parametrize(("signame", "group"), [("SIGTERM", False), ("SIGINT", True)])
def test_a_stop_ends_the_city_command_cleanly_and_leaves_no_process(
    tmp_path: Path, signame: str, group: bool
) -> None:
    """SIGTERM to ``planner city`` while its streets run, or Ctrl-C in its terminal
    (SIGINT to the whole process group, the workers included): it exits with 128 + the
    signal's number and a plain message (no traceback, none of dask's shutdown errors),
    no process of its group (workers, nanny, resource tracker) is left, and every street
    folder present is complete (the COMPLETE marker). Before, SIGTERM killed the command
    on Python's default with no message and exit -15."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from planner._atomic import read_marker

    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "c"
    argv = [sys.executable, "-m", "planner", "city", f"demo-city:{N}", "--jobs", "grids",
            "--out", str(out), "--no-html", "--no-city-images", "--workers", "1"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, text=True)  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:  # the cluster is up once the dashboard's address is printed
        if "Dask dashboard" in line:
            break
    else:
        raise AssertionError(f"the city run ended before its cluster started: {proc.stderr}")
    time.sleep(1.0)  # a street's task is under way in the worker
    sig = getattr(signal, signame)
    if group:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + sig, (proc.returncode, err[-2000:])
    assert f"stopped by {signame}" in err, err[-2000:]
    assert "Traceback" not in err and "ERROR" not in err, err[-2000:]
    end = time.monotonic() + 30
    while True:  # the group's processes go with the command
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        assert time.monotonic() < end, "a process of the city run outlived it"
        time.sleep(0.2)
    streets = sorted((out / "streets").iterdir()) if (out / "streets").is_dir() else []
    assert all(read_marker(d) is not None for d in streets if not d.name.startswith(".")), streets
    assert not [d.name for d in streets if ".tmp-" in d.name], streets


def test_a_folder_of_city_wide_layers_with_a_streets_file(tmp_path: Path) -> None:
    """A city folder (the street folder format, city-wide) and --streets give the same
    streets' shares as the synthetic city they were written from."""
    from planner.city.run import city_parts
    from planner.export.geojson import write_geojson

    made = make_city(CitySpec(n_streets=N))
    folder = tmp_path / "city"
    for name, gdf in made.layers.items():
        write_geojson(gdf, folder / f"{name}.geojson")
    write_geojson(made.streets, tmp_path / "streets.geojson")
    city = read_city(str(folder), streets=tmp_path / "streets.geojson")
    parts, failed = city_parts(city, Settings())
    demo, _ = city_parts(read_city(f"demo-city:{N}"), Settings())
    assert failed == {} and [p.code for p in parts] == ["001", "002", "003"]
    assert parts[1].source == f"{folder}#002" and demo[1].source == f"demo-city:{N}/2"
    for mine, theirs in zip(parts, demo, strict=True):
        assert mine.meta["code_street"] == theirs.meta["code_street"]
        assert len(mine.layers["buildings"]) == len(theirs.layers["buildings"])


def test_atoms_tile_a_street_whose_border_runs_on_a_road_and_meets_a_river() -> None:
    """Street 001 of ``demo-city:3``: its east border is the arterial the city was cut
    along and the river's banks meet it; the plain noding of that linework lost the
    strip between the river and its bank road (6,597 m², 1.29 % of the street, so the
    grids failed the coverage rule by 1.29 %). The atoms (hence the grids) now tile the
    street."""
    from planner.grids.atoms import make_atoms
    from planner.load.sources import load_street

    s = Settings()
    street = load_street(f"demo-city:{N}/1", settings=s)
    atoms = make_atoms(street, settings=s)
    boundary = street.boundary_geom
    union = shapely.union_all(atoms.geometry.to_numpy())
    assert shapely.difference(boundary, union).area < 1.0
    assert abs(float(atoms.area.sum()) - boundary.area) < 1.0  # and no overlap


@pytest.fixture(scope="module")
def city_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The synthetic city written as city-wide files: a folder of layers, the streets, a
    household register (by building id, by compound name, one unknown id, one building
    name several streets hold) and a stations CSV."""
    from planner.export.geojson import write_geojson

    tmp = tmp_path_factory.mktemp("city_files")
    made = make_city(CitySpec(n_streets=N))
    folder = tmp / "city"
    for name, gdf in made.layers.items():
        if name != "stations":
            write_geojson(gdf, folder / f"{name}.geojson")
    write_geojson(made.streets, tmp / "streets.geojson")
    utm = made.utm_crs
    streets = made.streets.to_crs(utm)
    b = made.layers["buildings"]
    where = b.to_crs(utm).representative_point()
    res = b["kind"] == "residential"
    first = b.loc[res & where.within(streets.geometry.iloc[0]), "building_id"].iloc[0]
    third = b.loc[res & where.within(streets.geometry.iloc[2]), "building_id"].iloc[0]
    comp = made.layers["compounds"]
    comp_where = comp.to_crs(utm).representative_point()
    comp2 = comp.loc[comp_where.within(streets.geometry.iloc[1]), "name"].iloc[0]
    register = pd.DataFrame(
        {
            "楼栋编号": [first, third, "", "NO-SUCH", ""],
            "楼栋名称": ["", "", "", "", "1号楼"],
            "小区名称": ["", "", comp2, "", ""],
            "户数": [111, 222, 333, 5, 6],
        }
    )
    register.to_csv(tmp / "register.csv", index=False, encoding="utf-8-sig")
    st = made.layers["stations"]
    pd.DataFrame(
        {"station_id": ["C1", "C2"], "name": ["城站一", "城站二"],
         "longitude": st.geometry.x.iloc[:2], "latitude": st.geometry.y.iloc[:2]}
    ).to_csv(tmp / "stations.csv", index=False)  # fmt: skip
    return {"folder": folder, "streets": tmp / "streets.geojson",
            "register": tmp / "register.csv", "stations": tmp / "stations.csv",
            "first": Path(str(first)), "third": Path(str(third))}  # fmt: skip


def test_city_wide_register_and_stations_split_to_streets(
    city_files: dict[str, Path], tmp_path: Path
) -> None:
    """A city-wide household register goes to streets by building id or compound name;
    an unknown id and a building name three streets hold go to none (listed with the
    reason); a city-wide stations file is split by location like every layer, and each
    street's load joins only its own rows."""
    from planner.city.run import UNMATCHED_FILE, city_parts, report_unmatched_rows
    from planner.city.task import load_part

    city = read_city(
        str(city_files["folder"]), streets=city_files["streets"],
        register=city_files["register"], stations=city_files["stations"],
    )  # fmt: skip
    assert list(city.layers["stations"]["station_id"]) == ["C1", "C2"]
    parts, failed = city_parts(city, Settings())
    assert failed == {}
    rows = {p.code: sorted(p.register["households"].astype(int)) for p in parts}  # type: ignore[index]
    assert rows == {"001": [111], "002": [333], "003": [222]}
    count, path = report_unmatched_rows(city, tmp_path)
    assert count == 2 and path == tmp_path / UNMATCHED_FILE
    lost = pd.read_csv(path, encoding="utf-8-sig").set_index("label")["reason"]
    assert lost["NO-SUCH"] == "no street holds this building id"
    assert lost["1号楼"].startswith("several streets hold this building name")
    street = load_part(parts[0], Settings())
    b = street.buildings.set_index("building_id")
    assert b.loc[str(city_files["first"]), "households"] == 111
    assert str(city_files["third"]) not in b.index  # the margin's buildings are not loaded
    assert set(street.stations["station_id"]) <= {"C1", "C2"}
    assert parts[0].files["register"] == str(city_files["register"])


def test_city_wide_osm_extract_split_by_streets_equals_single_street_loads(
    tmp_path: Path,
) -> None:
    """One city-wide OSM extract (the Beijing test extract) and a streets file of two
    streets: the extract is parsed once, and a street's share loads the same buildings,
    households, walking network and stations as a single-street load of that street's
    boundary (the share's layers are built from the extract's tables with the street's
    own boundary, so no way is clipped differently at the margin's edge)."""
    from planner.city.run import city_parts
    from planner.city.task import load_part
    from planner.load.sources import load_street

    extract = Path(__file__).parent / "data" / "beijing-haidian-xueyuanlu" / "map.osm.pbf"
    west = shapely.box(116.3452, 39.9988, 116.3518, 40.0078)
    east = shapely.box(116.3518, 39.9988, 116.3587, 40.0078)
    streets = gpd.GeoDataFrame(
        {"street_code": ["001", "002"], "county_code": ["110108"] * 2, "name": ["西", "东"]},
        geometry=[west, east], crs=4326,
    )  # fmt: skip
    streets.to_file(tmp_path / "streets.geojson")
    s = Settings(margin_m=300.0)
    city = read_city(str(extract), streets=tmp_path / "streets.geojson", margin_m=s.margin_m)
    parts, failed = city_parts(city, s)
    assert failed == {} and [p.node_at for p in parts] == ["endpoints"] * 2
    assert set(parts[0].layers) == {"osm_ways", "osm_features", "boundary"}
    mine = load_part(parts[1], s)  # the east street (its margin reaches into the west one)
    streets.iloc[[1]].to_file(tmp_path / "east.geojson")
    alone = load_street(extract, boundary=tmp_path / "east.geojson", settings=s)
    assert sorted(mine.buildings["building_id"]) == sorted(alone.buildings["building_id"])
    assert mine.buildings["households"].sum() == alone.buildings["households"].sum()
    assert len(mine.nodes) == len(alone.nodes) and len(mine.edges) == len(alone.edges)
    assert mine.edges["length_m"].sum() == pytest.approx(alone.edges["length_m"].sum())
    assert sorted(mine.stations.geometry.x) == pytest.approx(sorted(alone.stations.geometry.x))


def test_city_command_refuses_bad_city_wide_inputs_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An extract without --streets, and a register without a households column, exit 2
    before any cluster starts, naming the file and the fix."""
    from planner.cli.parser import main

    extract = Path(__file__).parent / "data" / "beijing-haidian-xueyuanlu" / "map.osm.pbf"
    assert main(["city", str(extract), "--out", str(tmp_path / "o1"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "needs --streets" in err and "OSM extract" in err and str(extract) in err
    bad = tmp_path / "register.csv"
    bad.write_text("楼栋编号,备注\nB00001,x\n", encoding="utf-8")
    code = main(["city", f"demo-city:{N}", "--register", str(bad), "--out",
                 str(tmp_path / "o2"), "-q"])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "no households column" in err
    assert not (tmp_path / "o2" / "streets").exists()


def test_city_wide_organisation_registers_split_by_grid_code_key_and_point(
    city_files: dict[str, Path], tmp_path: Path
) -> None:
    """Party and incident registers of the whole city go to streets by grid code (its
    county + street digits), community name, building id or the incident's point; rows
    of no street are listed; each street's rows reach its pipeline as read tables."""
    from planner.city.registers import split_org_registers
    from planner.city.run import city_parts, report_unmatched_rows
    from planner.organisation.registers import RegisterFiles

    made = make_city(CitySpec(n_streets=N))
    utm = made.utm_crs
    streets = made.streets.to_crs(utm)
    comm = made.layers["communities"]
    comm_where = comm.to_crs(utm).representative_point()
    comm3 = comm.loc[comm_where.within(streets.geometry.iloc[2]), "name"].iloc[0]
    party = tmp_path / "party.csv"
    pd.DataFrame(
        {
            "组织类型": ["网格党支部", "社区党委", "楼栋党小组", "网格党支部"],
            "组织名称": ["一支部", "三社区党委", "一小组", "无名支部"],
            "社区": ["", comm3, "", ""],
            "网格编码": ["10000061011300200101、10000061011300200102", "", "", "10000061099900100101"],
            "楼栋编号": ["", "", str(city_files["first"]), ""],
        }
    ).to_csv(party, index=False, encoding="utf-8-sig")  # fmt: skip
    point = made.layers["buildings"].to_crs(utm).representative_point()
    inside_3 = point[point.within(streets.geometry.iloc[2])].to_crs(4326).iloc[0]
    incidents = tmp_path / "incidents.csv"
    pd.DataFrame(
        {"上报时间": ["2025-01-01", "2025-01-02"], "事件类型": ["设施损坏", "噪音"],
         "办理状态": ["已办结", "处置中"], "经度": [inside_3.x, 100.0], "纬度": [inside_3.y, 30.0]}
    ).to_csv(incidents, index=False, encoding="utf-8-sig")  # fmt: skip
    files = RegisterFiles(party=party, incidents=incidents)
    city = read_city(str(city_files["folder"]), streets=city_files["streets"], org_files=files)
    split = split_org_registers(city.org_registers, layers=city.layers, streets=city.streets)  # type: ignore[arg-type]
    names = {
        code: sorted(t.tables["party"]["name"]) if "party" in t.tables else []
        for code, t in split.by_street.items()
    }
    assert names == {"001": ["一小组"], "002": ["一支部"], "003": ["三社区党委"]}
    assert len(split.by_street["003"].tables["incidents"]) == 1
    assert "incidents" not in split.by_street["001"].tables
    lost = split.unmatched.set_index("label")["reason"]
    assert lost["10000061099900100101"] == "no street holds this grid code"
    by_file = split.unmatched.set_index("register")["reason"]
    assert by_file[str(incidents)] == "no street holds this point"  # outside the city
    assert len(split.unmatched) == 2
    parts, _ = city_parts(city, Settings())
    assert parts[2].org_registers is not None and "party" in parts[2].org_registers.tables
    assert parts[0].org_registers.files["party"] == str(party)  # type: ignore[union-attr]
    count, path = report_unmatched_rows(city, tmp_path)
    assert count == 2 and path is not None
    assert set(pd.read_csv(path, encoding="utf-8-sig")["register"]) == {str(party), str(incidents)}
    # street 003's rows reach its pipeline as read tables and are joined to its grids
    from planner.city.task import run_street

    done = run_street(parts[2], settings=Settings(), job="grids", out_dir=str(tmp_path / "003"),
                      html=False, formats=("csv",))  # fmt: skip
    assert done.ok, done.error
    org = pd.read_csv(tmp_path / "003" / "organisation_by_grid.csv", encoding="utf-8-sig")
    assert len(org) == done.summary["grids"]["count"]


def _split_city_folders(root: Path) -> tuple[dict[str, gpd.GeoDataFrame], list[Path]]:
    """The conftest street cut into two streets (west, east halves), written as one
    folder per street: each folder holds the features touching its street (a feature
    touching both is in both), features of neither go to the nearest street."""
    from shapely.geometry import box

    from tests.conftest import UTM, X0, Y0, street_layers, write_folder

    layers = street_layers()
    halves = {
        "001": box(X0, Y0, X0 + 500, Y0 + 1000),
        "002": box(X0 + 500, Y0, X0 + 1000, Y0 + 1000),
    }
    folders = []
    for code, half in halves.items():
        other = next(h for c, h in halves.items() if c != code)
        own: dict[str, gpd.GeoDataFrame] = {}
        for name, gdf in layers.items():
            if name == "boundary":
                continue
            g = gdf.geometry
            mine = g.intersects(half) & ~g.touches(half)
            theirs = g.intersects(other) & ~g.touches(other)
            nearest = ~mine & ~theirs & (g.distance(half) <= g.distance(other))
            own[name] = gdf.loc[mine | nearest]
        own["boundary"] = gpd.GeoDataFrame({"name": [f"街道{code}"]}, geometry=[half], crs=UTM)
        folder = write_folder(root / f"street_{code}", own)
        (folder / "street.json").write_text(
            json.dumps({"code_street": code, "code_county": "110108"}), encoding="utf-8"
        )
        folders.append(folder)
    return layers, folders


def test_one_folder_per_street_city_equals_single_street_runs_with_the_margin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A city of one folder per street (no --streets: the folders' boundaries and
    street.json codes): each street's margin sees its neighbour's roads and stations, and
    its figures, grids and codes equal a single-street run of a folder holding the whole
    city's layers with that street's boundary (the same margin)."""
    from planner.city.run import load_city_street
    from planner.cli.parser import main
    from planner.coverage.layers import compute_coverage_layers
    from planner.grids.codes import effective_code_settings
    from planner.load.sources import load_street
    from planner.pipeline import divide_grids
    from tests.conftest import write_folder

    layers, folders = _split_city_folders(tmp_path / "city")
    out = tmp_path / "out"
    code = main(["city", str(tmp_path / "city"), "--out", str(out), "--jobs", "coverage",
                 "--threads", "--workers", "1", "--no-html", "--formats", "geojson,csv",
                 "--no-city-images"])  # fmt: skip
    assert code in (0, 1)
    said = capsys.readouterr().out  # not a terminal: one line per finished street
    assert "[coverage 1/2] street 00" in said and "[coverage 2/2] street 00" in said
    assert " MB)" in said and "Dask dashboard: " in said
    table = pd.read_csv(out / "city_streets.csv", encoding="utf-8-sig", dtype={"street_code": str})
    assert list(table["street_code"]) == ["001", "002"] and set(table["status"]) == {"ok"}
    assert list(table["name"]) == ["街道001", "街道002"]
    for code, folder in zip(["001", "002"], folders, strict=True):
        boundary = gpd.read_file(folder / "boundary.geojson")
        whole = write_folder(tmp_path / f"whole_{code}", {**layers, "boundary": boundary})
        (whole / "street.json").write_text(
            json.dumps({"code_street": code, "code_county": "110108"}), encoding="utf-8"
        )
        s = Settings()
        street = load_street(str(whole), settings=s)
        alone = load_street(str(folder), settings=s)
        s = effective_code_settings(s, street.meta)
        grids = divide_grids(street, settings=s).grids
        cov = compute_coverage_layers(street, settings=s, grids=grids)
        summary = json.loads((out / "streets" / code / "summary.json").read_text("utf-8"))
        assert summary["coverage"]["households_covered"] == cov.summary["households_covered"]
        assert summary["coverage"]["gaps"] == cov.summary["gaps"]
        assert summary["load"]["households_total"] == int(street.buildings["households"].sum())
        # the neighbour's stations and roads are in the margin (not in the folder alone)
        row = table.set_index("street_code").loc[code]
        in_all = int(row["stations_in_street"]) + int(row["stations_in_margin"])
        assert in_all == len(street.stations) > len(alone.stations)
        city_grids = gpd.read_file(out / "streets" / code / "grids.geojson")
        assert sorted(city_grids["code"]) == sorted(grids["code"])
        assert all(c[6:12] == "110108" and c[12:15] == code for c in grids["code"])
        mine = city_grids.set_index("code")["households"].sort_index()
        assert (
            mine.tolist() == grids.set_index("code")["households"].sort_index().astype(int).tolist()
        )
        # the app opens the street again from city.json as the city run loaded it
        again = load_city_street(out, code, Settings())
        assert len(again.stations) == len(street.stations) and again.name == f"街道{code}"
    assert json.loads((out / CITY_FILE).read_text("utf-8"))["stations"] == ""  # no --stations


def test_street_folders_without_a_county_code_are_refused_naming_street_json(
    tmp_path: Path,
) -> None:
    layers, folders = _split_city_folders(tmp_path / "city")
    (folders[1] / "street.json").write_text(json.dumps({"code_street": "002"}), encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_city(str(tmp_path / "city"))
    text = str(err.value)
    assert str(folders[1] / "street.json") in text and "code_county" in text
    # with --streets the folders' own codes are not needed
    streets = gpd.GeoDataFrame(
        {"street_code": ["W", "E"], "county_code": ["110108"] * 2, "name": ["西", "东"]},
        geometry=[gpd.read_file(f / "boundary.geojson").geometry.iloc[0] for f in folders],
        crs=4326,
    )
    streets.to_file(tmp_path / "streets.geojson")
    city = read_city(str(tmp_path / "city"), streets=tmp_path / "streets.geojson")
    assert list(city.streets["street_code"]) == ["W", "E"]
    assert len(city.layers["buildings"]) == 4  # B1-B4 once each
    assert len(city.layers["roads"]) == len(layers["roads"])  # kept once


def test_city_red_map_png_and_pdf_on_the_street_maps_sheet(
    city_run: tuple[Path, CityResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    """city_redmap.png/.pdf of a city run; the sheet shades each street by its share
    (the HTML map's colours), outlines gaps across a border in red, and carries the
    legend, a measured scale bar, the north arrow and the data credit."""
    import matplotlib.colors as mcolors

    from planner.city import citymap

    out, _ = city_run
    city = read_city(f"demo-city:{N}")
    paths = citymap.write_city_images(city, out)
    assert [p.name for p in paths] == ["city_redmap.png", "city_redmap.pdf"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert paths[1].read_bytes()[:5] == b"%PDF-"
    # a hand-made city map: three streets at 90 %, 30 % and no data, two gaps meeting
    # at the border of 001 and 002
    streets = city.streets.to_crs(4326).copy()
    streets["pct"] = [90.0, 30.0, np.nan]
    x = streets.geometry.iloc[0].bounds[2]  # the 001/002 border
    y = streets.geometry.iloc[0].centroid.y
    a = shapely.box(x - 0.001, y, x, y + 0.001)
    b = shapely.box(x, y, x + 0.001, y + 0.001)
    gaps = gpd.GeoDataFrame({"street_code": ["001", "002"]}, geometry=[a, b], crs=4326)
    data = citymap.CityMapData(
        streets, gaps, citymap.border_gaps(gaps),
        pd.Series([100.0, 300.0, np.nan], index=["001", "002", "003"]),
    )  # fmt: skip
    monkeypatch.setattr(citymap, "city_map_data", lambda *_a, **_k: data)
    fig = citymap.city_figure(city, out)
    ax = fig.axes[0]
    faces = {
        mcolors.to_hex(tuple(c[:3])): round(float(c[3]), 2)
        for coll in ax.collections
        for c in coll.get_facecolor()
    }
    for pct in (90.0, 30.0, None):
        colour = citymap.shade(pct)
        assert faces[colour] == 0.55, colour
    border = [
        coll
        for coll in ax.collections
        if list(coll.get_linewidth()) == [citymap.BORDER_GAP_LOOK.width_pt]
        and mcolors.to_hex(tuple(coll.get_edgecolor()[0][:3])) == citymap.BORDER_GAP_LOOK.colour
    ]
    assert len(border) == 1 and len(border[0].get_paths()) == 2  # both halves of the gap
    texts = [t.get_text() for t in fig.texts] + [t.get_text() for t in ax.texts]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "跨街道边界的服务盲区" in legend and "街道：15分钟覆盖 > 75%" in legend
    assert any("90.0%" in s for s in texts) and any("—" in s for s in texts)
    assert any("15 分钟覆盖户数 45.0%" in s for s in texts)  # (90*100 + 30*300) / 400
    assert any("合成数据" in s and "Synthetic" in s for s in texts)  # the data credit
    assert "北" in texts and fig._planner_scale_m > 0  # type: ignore[attr-defined]


def test_city_progress_a_bar_per_job_on_a_terminal_else_a_line_per_street() -> None:
    """On a terminal one tqdm bar counts the job's streets (the last street and its peak
    memory beside it; a failure written above the bar); elsewhere one line per street;
    nothing with -q."""
    import io

    from planner.city.run import LineProgress
    from planner.city.task import StreetOutcome
    from planner.cli.city import BarProgress, street_progress

    lines: list[str] = []
    assert isinstance(street_progress(quiet=False, report=lines.append, tty=True), BarProgress)
    quiet = street_progress(quiet=True, report=lines.append, tty=True)
    plain = street_progress(quiet=False, report=lines.append, tty=False)
    assert isinstance(quiet, LineProgress) and isinstance(plain, LineProgress)
    ok = StreetOutcome("001", ok=True, seconds=2.0, peak_mb=312.4)
    bad = StreetOutcome("002", ok=False, error="no roads", seconds=0.5, peak_mb=200.0)
    for shown in (quiet, plain):
        shown.start("grids", 2)
        shown.done(ok)
        shown.done(bad)
        shown.close()
    assert lines == [
        "[grids 1/2] street 001 ok (2.0 s, 312 MB)",
        "[grids 2/2] street 002 FAILED: no roads (0.5 s, 200 MB)",
    ]
    screen = io.StringIO()
    bar = BarProgress(file=screen)
    bar.start("coverage", 2)
    bar.done(ok)
    bar.done(bad)
    bar.close()
    text = screen.getvalue()
    assert "coverage streets" in text and "2/2" in text and "002 FAILED, 200 MB" in text
    assert "street 002 failed: no roads\n" in text


def test_street_folders_merge_a_feature_given_twice_once() -> None:
    """The same road from two folders (one in UTM, one in WGS84) is kept once; another id
    on the same line, or the same id on another line, is another feature."""
    from planner.city.folders import merge_layers
    from tests.conftest import UTM, street_layers

    roads = street_layers()["roads"].iloc[:3]
    moved = roads.iloc[[2]].copy()
    moved["geometry"] = moved.geometry.translate(xoff=5.0)
    renamed = roads.iloc[[1]].assign(road_id="other")
    merged = merge_layers([roads, roads.to_crs(4326), moved, renamed], "road_id")
    assert roads.crs == UTM and merged.crs.to_epsg() == 4326
    assert sorted(merged["road_id"]) == sorted([*roads["road_id"], "v1", "other"])
    assert len(merge_layers([roads.drop(columns="road_id")] * 2)) == 3  # by attributes


# --- city17b: the register output flags reach every street's task ---


def _register_flag_files(tmp: Path) -> tuple[Path, Path]:
    """A party register naming the branch of street 001's first grid, and another grid
    system's cells (one cell per street of ``demo-city:2``, WGS84, with an ``id``)."""
    party = tmp / "party.csv"
    pd.DataFrame(
        {"组织类型": ["网格党支部"], "组织名称": ["一支部"], "网格编码": ["10000061011300100101"]}
    ).to_csv(party, index=False, encoding="utf-8-sig")
    cells = tmp / "cells.geojson"
    streets = make_city(CitySpec(n_streets=2)).streets
    streets.assign(id=["A", "B"])[["id", "geometry"]].to_file(cells)
    return party, cells


def test_every_register_output_flag_reaches_each_street_task_as_in_a_single_street_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every option of ``add_register_output_args`` (what a single-street run writes of
    its organisation registers and other grid systems), given to ``city``, reaches
    ``run_pipeline`` inside each street's Dask task with the value the single-street
    ``run`` command passes for the same flags: a flag dropped on the way fails here,
    including one added to the shared function later. ``run_pipeline`` is replaced by a
    recorder (thread workers see it), so nothing is computed."""
    import argparse

    import planner.pipeline
    from planner.cli.parser import add_register_output_args, main
    from planner.organisation.registers import RegisterFiles, RegisterTables

    party, cells = _register_flag_files(tmp_path)
    probe = argparse.ArgumentParser()
    add_register_output_args(probe)
    flags: list[str] = []
    dests: list[str] = []
    for action in probe._actions:
        if action.dest == "help":
            continue
        dests.append(action.dest)
        flags += [action.option_strings[0]] + ([] if action.nargs == 0 else [str(cells)])
    assert {"organisation_names", "card_phones", "other_grids", "nest_in"} <= set(dests)
    seen: dict[str, dict[str, object]] = {}

    def record(source: str, out_dir: Path, **kw: object) -> None:
        seen[Path(out_dir).name] = kw
        raise InputError("recorded, not run")

    import planner.cli.run

    monkeypatch.setattr(planner.pipeline, "run_pipeline", record)  # the city task's import
    monkeypatch.setattr(planner.cli.run, "run_pipeline", record)  # the run command's name
    common = [*flags, "--party-register", str(party), "--no-html", "--formats", "csv", "-q"]
    assert main(["city", "demo-city:2", "--out", str(tmp_path / "city"), "--jobs", "grids",
                 "--threads", "--workers", "1", "--no-city-images", *common]) == 2  # fmt: skip
    assert main(["run", "demo-city:2/1", "--out", str(tmp_path / "one"), *common]) == 2

    def given(value: object) -> object:  # paths as the worker gets them: absolute text
        if isinstance(value, list | tuple):
            return [given(v) for v in value]
        return str(Path(value).resolve()) if isinstance(value, Path | str) else value

    single = seen.pop("one")
    assert sorted(seen) == ["001", "002"]  # each street's task
    assert isinstance(single["registers"], RegisterFiles)
    for source, kw in seen.items():
        for dest in dests:
            assert given(kw[dest]) == given(single[dest]), (source, dest)
            assert kw[dest] not in (False, None, (), []), (source, dest)  # set, not defaulted
        assert isinstance(kw["registers"], RegisterTables)


def test_register_output_flags_change_a_city_street_as_they_change_a_single_street_run(
    tmp_path: Path,
) -> None:
    """With ``--organisation-names`` and ``--other-grids``, street 001's city task
    (``--jobs grids``, its share and its rows of the city-wide party register) writes the
    same branch names in its grids and the same alignment and organisation tables as the
    single-street pipeline run of ``demo-city:2/1`` with the same options (issue 17:
    identical answers); the branch name is really there. (That the flags reach the task
    from the command: the test above.)"""
    from planner.city.run import city_parts
    from planner.city.task import RegisterOutputs, run_street
    from planner.organisation.registers import RegisterFiles
    from planner.pipeline import run_pipeline

    party, cells = _register_flag_files(tmp_path)
    city = read_city("demo-city:2", org_files=RegisterFiles(party=party))
    parts, _ = city_parts(city, Settings(), codes={"001"})
    outputs = RegisterOutputs(organisation_names=True, other_grids=(str(cells),))
    done = run_street(parts[0], settings=Settings(), job="grids", out_dir=str(tmp_path / "001"),
                      html=False, formats=("geojson", "csv"), register_outputs=outputs)  # fmt: skip
    assert done.ok, done.error
    one = tmp_path / "one"
    run_pipeline("demo-city:2/1", one, registers=RegisterFiles(party=party),
                 organisation_names=True, other_grids=[cells], coverage=False, new_sites=0,
                 html=False, images=False, formats=("geojson", "csv"))  # fmt: skip
    mine = gpd.read_file(tmp_path / "001" / "grids.geojson").set_index("code")
    theirs = gpd.read_file(one / "grids.geojson").set_index("code")
    assert mine.loc["10000061011300100101", "branch"] == "一支部"
    assert mine["branch"].fillna("").sort_index().tolist() == (
        theirs["branch"].fillna("").sort_index().tolist()
    )
    for table in ("alignment_by_grid.csv", "organisation_by_grid.csv"):
        a = pd.read_csv(tmp_path / "001" / table, encoding="utf-8-sig")
        b = pd.read_csv(one / table, encoding="utf-8-sig")
        pd.testing.assert_frame_equal(a, b)


def test_an_output_flag_or_an_edited_other_grids_file_changes_the_street_hash(
    tmp_path: Path,
) -> None:
    """A re-run with another output flag (``--organisation-names``, ``--no-html`` ...) or
    an edited ``--other-grids`` file is not skipped as unchanged: the options' digest
    enters every street's hash."""
    from planner.city.hashes import options_digest, part_hash
    from planner.city.run import city_parts

    cells = tmp_path / "cells.geojson"
    cells.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    plain = options_digest({"html": True, "organisation_names": False}, [str(cells)])
    named = options_digest({"html": True, "organisation_names": True}, [str(cells)])
    cells.write_text('{"type": "FeatureCollection", "features": [] }', encoding="utf-8")
    edited = options_digest({"html": True, "organisation_names": False}, [str(cells)])
    assert len({plain, named, edited}) == 3
    parts, _ = city_parts(read_city("demo-city:2"), Settings())
    hashes = {part_hash(parts[0], Settings(), "grids", d) for d in (plain, named, edited)}
    assert len(hashes) == 3


def _worker_settings() -> tuple[str | None, bool]:
    """In a worker: its ``MALLOC_TRIM_THRESHOLD_`` and whether dask's profiler is on."""
    import os

    import dask

    return os.environ.get("MALLOC_TRIM_THRESHOLD_"), bool(
        dask.config.get("distributed.worker.profile.enabled")
    )


def _polling() -> dict[str, object]:
    """In a worker: its dask config of the keys of :data:`planner.city.run.POLLING`."""
    import dask

    from planner.city.run import POLLING

    return {k: dask.config.get(k) for k in POLLING}


def _tick_s(dask_worker: object = None, dask_scheduler: object = None) -> float:
    """In a worker or the scheduler: its event-loop health check interval, s."""
    server = dask_worker or dask_scheduler
    return float(server._tick_interval)  # type: ignore[union-attr]


def test_local_worker_processes_run_without_the_profiler_and_the_malloc_trim_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The city run's local worker processes have dask's statistical profiler off and no
    ``MALLOC_TRIM_THRESHOLD_`` in their environment (both cost a Python-heavy task time:
    docs/benchmarks/city.md); dask's one-thread BLAS settings stay; each worker's GEOS
    threads are capped at the cores per worker (``PLANNER_THREADS``); the command's own
    environment is left as it was."""
    import os

    from planner.city.run import _client

    # a nanny of this process (an earlier local cluster) put it in os.environ: a worker
    # would inherit that, whatever the city run's settings
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    from planner._threads import THREADS_ENV, workers
    from planner.city.run import POLLING, local_workers, worker_config

    monkeypatch.delenv(THREADS_ENV, raising=False)
    before = dict(os.environ)
    with _client(None, 1, True) as client:
        trim, profile = client.submit(_worker_settings, pure=False).result()  # type: ignore[attr-defined]
        blas = client.submit(os.environ.get, "OPENBLAS_NUM_THREADS", pure=False).result()  # type: ignore[attr-defined]
        threads = client.submit(workers, pure=False).result()  # type: ignore[attr-defined]
        polling = client.submit(_polling, pure=False).result()  # type: ignore[attr-defined]
        ticks = [
            *client.run(_tick_s).values(),  # type: ignore[attr-defined]
            client.run_on_scheduler(_tick_s),  # type: ignore[attr-defined]
        ]
    assert (trim, profile, blas) == (None, False, "1")
    # dask's servers poll slower than its defaults (20 ms ticks, 100 ms memory checks)
    assert polling == POLLING and ticks == [1.0, 1.0]
    assert threads == min(local_workers(), 8)  # one worker: every core
    # the nanny's settings for the workers are taken back out of this process's environment
    keys = [THREADS_ENV, "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "PYTHONHASHSEED"]
    assert {k: os.environ.get(k) for k in keys} == {k: before.get(k) for k in keys}
    # N workers share the cores: each caps its GEOS threads at cores // N (at least 1)
    cap = worker_config(2)["distributed.nanny.pre-spawn-environ"][THREADS_ENV]  # type: ignore[index]
    assert cap == str(max(1, local_workers() // 2))
    monkeypatch.setenv(THREADS_ENV, "1")
    assert workers() == 1
    monkeypatch.setenv(THREADS_ENV, "none")  # not a number: ignored
    assert workers() == min(local_workers(), 8)


def test_shares_are_scattered_without_dask_tokenizing_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shares go to the workers under random keys: dask's content hash tokenizes each
    share (its geometry to WKB and back) in the client's event loop before any task
    starts, ≈ 0.5 CPU s a street of ~5,000 buildings; one task per share, each given its
    own share."""
    from planner.city import run as run_module

    calls: list[dict[str, object]] = []

    class Client:
        def scatter(self, data: list[object], **kwargs: object) -> list[str]:
            calls.append(kwargs)
            return [f"remote-{i}" for i in range(len(data))]

        def submit(self, fn: object, part: str, **kwargs: object) -> tuple[str, object]:
            return part, kwargs["key"]

    parts = [type("Part", (), {"code": c})() for c in ("001", "002")]
    hashes = {"001": "a" * 64, "002": "b" * 64}
    got = run_module._submit(Client(), parts, hashes, Path("out"), {})  # type: ignore[arg-type]
    assert calls == [{"hash": False}]
    assert got == [("remote-0", "street-001-" + "a" * 12), ("remote-1", "street-002-" + "b" * 12)]


def test_communities_cut_at_street_edges_are_polygons() -> None:
    """A community that only touches a strip's edge elsewhere is cut into polygons, not a
    collection with a line (its street's load refused it: ``CitySpec(2, 2, 5, 3)``)."""
    made = make_city(CitySpec(n_streets=2, cols_per_street=2, rows=5, communities_per_street=3))
    kinds = set(made.layers["communities"].geom_type)
    assert kinds <= {"Polygon", "MultiPolygon"}, kinds


def test_a_missing_other_grids_file_is_refused_before_the_cluster_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``city --other-grids`` / ``--nest-in`` naming no file exits 2 naming the flag and
    the file, with a fix, before any street runs."""
    from planner.cli.parser import main

    missing = tmp_path / "cells.geojson"
    for flag in ("--other-grids", "--nest-in"):
        code = main(["city", "demo-city:2", flag, str(missing), "--out", str(tmp_path / "o"),
                     "-q"])  # fmt: skip
        err = capsys.readouterr().err
        assert code == 2 and f"{flag} {missing}" in err and "polygon layer" in err, err
    assert not (tmp_path / "o" / "streets").exists()
