import json
import subprocess
import sys
from pathlib import Path

import pytest

from planner.cli import main


def test_info_prints_the_load_report(
    street_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["info", str(street_folder)]) == 0
    out = capsys.readouterr().out
    assert "Street: 测试街道" in out
    assert "Households: 253 (213 estimated from floor area)" in out
    assert "Stations: 2 in the street, 1 in the margin" in out


def test_info_json_is_machine_readable(
    street_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["info", str(street_folder), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["buildings"] == 4
    assert report["households_total"] == 253
    assert report["stations"] == 3 and report["stations_in_margin"] == 1
    assert report["crs"] == "EPSG:32650"


def test_info_with_stations_and_register_flags(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    st = tmp_path / "st.csv"
    st.write_text("经度,纬度,名称\n116.3005,40.0020,一\n", encoding="gbk")
    reg = tmp_path / "reg.csv"
    reg.write_text("楼栋编号,户数\nB2,77\n", encoding="utf-8")
    assert (
        main(["info", str(street_folder), "--stations", str(st), "--register", str(reg), "--json"])
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["stations"] == 1
    assert report["register"]["rows_matched"] == 1
    assert report["households_total"] == 40 + 77 + 133


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["info", "/no/such/folder"], "no such file or folder"),
        (["info", "{folder}", "--margin-m", "-5"], "--margin-m -5: must be 0-10,000 m"),
        (["info", "{folder}", "--stations", "{tmp}/missing.csv"], "file not found"),
    ],
)
def test_bad_input_exits_2_with_message(
    street_folder: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    argv = [a.format(folder=street_folder, tmp=tmp_path) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_bad_input_subprocess_has_no_traceback(street_folder: Path) -> None:
    (street_folder / "compounds.geojson").write_text("not json", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "planner", "info", str(street_folder)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[1],
    )
    assert proc.returncode == 2
    assert "compounds.geojson" in proc.stderr and "cannot read the file" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_export_writes_every_layer_as_rfc7946(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["export", str(street_folder), "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "boundary.geojson",
        "buildings.geojson",
        "communities.geojson",
        "compounds.geojson",
        "roads.geojson",
        "stations.geojson",
    ]
    fc = json.loads((out / "buildings.geojson").read_text(encoding="utf-8"))
    assert "crs" not in fc and len(fc["features"]) == 4
    lon, lat = fc["features"][0]["geometry"]["coordinates"][0][0]
    assert 116 < lon < 117 and 39 < lat < 41
    assert fc["features"][0]["properties"]["name"] == "1号楼"


def test_export_out_is_a_file(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["export", str(street_folder), "--out", str(f)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_info_demo_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "demo", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["synthetic"] is True and report["source"] == "demo"
    assert report["counts"]["buildings"] >= 600
    assert report["households_total"] >= 15_000
    assert report["stations"] == report["stations_in_street"] + report["stations_in_margin"]


def test_export_demo_round_trips_through_the_folder_loader(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from planner.load.sources import load_street

    out = tmp_path / "demo_out"
    assert main(["export", "demo", "--out", str(out)]) == 0
    again = load_street(out)
    demo = load_street("demo")
    for layer in ("communities", "compounds", "buildings", "stations"):
        assert again.report.counts[layer] == demo.report.counts[layer], layer
    assert again.report.households_total == demo.report.households_total
    assert again.report.network_length_km == pytest.approx(demo.report.network_length_km, rel=1e-3)


def _unreadable(folder: Path) -> None:
    (folder / "buildings.geojson").write_text("{ not json", encoding="utf-8")


def _projected(folder: Path) -> None:
    from tests.conftest import street_layers

    fc = json.loads(street_layers()["compounds"].to_json(to_wgs84=False))
    fc.pop("crs", None)
    (folder / "compounds.geojson").write_text(json.dumps(fc), encoding="utf-8")


def _edit(layer: str, fn: object) -> object:
    def go(folder: Path) -> None:
        path = folder / f"{layer}.geojson"
        fc = json.loads(path.read_text(encoding="utf-8"))
        fn(fc["features"])  # type: ignore[operator]
        path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")

    return go


def _swap(features: list[dict]) -> None:
    for f in features:
        f["geometry"]["coordinates"] = f["geometry"]["coordinates"][::-1]


def _far(features: list[dict]) -> None:
    for f in features:
        f["geometry"]["coordinates"][0] += 1.0  # 85 km east


def _set(key: str, value: object, index: int = 0) -> object:
    def go(features: list[dict]) -> None:
        features[index]["properties"][key] = value

    return go


def _motorways(features: list[dict]) -> None:
    for f in features:
        f["properties"]["highway"] = "motorway"


def _kinds_file(row: str) -> object:
    """A folder whose street.json names a station-kinds file holding ``row``."""

    def go(folder: Path) -> None:
        (folder / "kinds.csv").write_text(f"text,kind\n{row}\n", encoding="utf-8")
        meta = {"station_kinds_file": "kinds.csv"}
        (folder / "street.json").write_text(json.dumps(meta), encoding="utf-8")

    return go


BAD_FOLDERS = {
    "unreadable": (_unreadable, "cannot read the file"),
    "projected GeoJSON": (_projected, "not longitude/latitude"),
    "swapped": (_edit("stations", _swap), "latitude/longitude are swapped"),
    "far away": (_edit("stations", _far), "km from the street boundary"),
    "empty network": (_edit("roads", _motorways), "walking network is empty"),
    "duplicate id": (_edit("buildings", _set("building_id", "B1", 1)), "used by 2 features"),
    "households text": (_edit("buildings", _set("households", "x")), "households 'x' is not"),
    "bad kinds mapping": (
        _kinds_file("食堂,canteen"),
        "'食堂' is mapped to 'canteen', which is not",
    ),
    "no boundary": (lambda f: (f / "boundary.geojson").unlink(), "boundary is missing"),
}


@pytest.mark.parametrize("case", list(BAD_FOLDERS))
def test_each_bad_folder_exits_2_with_its_message(
    street_folder: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    mutate, message = BAD_FOLDERS[case]
    mutate(street_folder)  # type: ignore[operator]
    assert main(["info", str(street_folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err


def test_unknown_station_kind_loads_with_one_warning(
    street_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit("stations", _set("kind", "食堂"))(street_folder)  # type: ignore[operator]
    assert main(["info", str(street_folder)]) == 0
    out = capsys.readouterr().out
    assert out.count("outside the catalogue ('食堂')") == 1 and "kind 'other'" in out


def test_shapefile_without_prj_exits_2(make_folder, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    folder = make_folder(fmt="shp")
    (folder / "roads.prj").unlink()
    assert main(["info", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "roads.shp" in err and "no coordinate reference system" in err and ".prj" in err


@pytest.mark.parametrize("command", ["coverage", "run", "site"])
def test_station_flags_reach_the_settings_of_every_command_that_computes_coverage(
    command: str,
) -> None:
    from planner.cli.parser import build_parser, settings_from_args, station_settings

    argv = [command, "demo", "--out", "x", "--service-kinds", "社区党群服务站,便民服务点"]
    if command == "site":
        argv += ["-k", "2"]
    args = build_parser().parse_args([*argv, "--no-margin-stations"])
    s = settings_from_args(args, **station_settings(args))
    assert s.service_kinds == ("community_station", "convenience_point")
    assert s.count_margin_stations is False
