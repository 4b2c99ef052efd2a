"""Hostile and broken layer files of the review, each a clear error or a stated assumption.

The review is ../shared/reviews/hostile-inputs-2026-12.md; the ids in the test names
(F12, F38b, ...) are its rows. Every input is made by code (tests/hostile_inputs.py).
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box

from planner.errors import InputError, Problem
from planner.load.sources import load_street
from planner.load.validate import MAX_TEXT_CHARS
from tests.hostile_inputs import (
    gbk_shapefile_without_cpg,
    geojson_text,
    multi_layer_gpkg,
    write_geojson_text,
)

Make = Callable[..., Path]


def _with_buildings(layers: dict, make_folder: Make, **columns: list) -> Path:  # type: ignore[type-arg]
    layers["buildings"] = layers["buildings"].assign(**columns)
    return make_folder(layers)


def _errors(err: pytest.ExceptionInfo[InputError]) -> list[Problem]:
    return err.value.problems


def _notes(street: object, text: str) -> list[Problem]:
    return [p for p in street.report.notes if text in p.message]  # type: ignore[attr-defined]


# ------------------------------------------------------------------------ households


def test_f38b_households_inf_as_text_is_an_error_not_a_traceback(
    layers: dict, make_folder: Make
) -> None:
    folder = _with_buildings(layers, make_folder, households=["inf", "-Infinity", None, None])
    with pytest.raises(InputError) as err:
        load_street(folder)
    problems = _errors(err)
    assert {p.feature_id for p in problems} == {"B1", "B2"}
    for p in problems:
        assert p.field == "households" and p.fix
        assert p.file == str(folder / "buildings.geojson")
        assert "is not a finite number" in p.message


@pytest.mark.parametrize("value", [1e20, 9.9e307])
def test_f39_households_beyond_any_building_are_refused_at_load(
    layers: dict, make_folder: Make, value: float
) -> None:
    folder = _with_buildings(layers, make_folder, households=[value, 40, None, None])
    with pytest.raises(InputError) as err:
        load_street(folder)
    (p,) = _errors(err)
    assert p.feature_id == "B1" and p.field == "households"
    assert "is implausible: more than 5,000" in p.message and p.fix


def test_f39_the_cli_exits_2_with_the_message(
    layers: dict, make_folder: Make, capsys: pytest.CaptureFixture[str]
) -> None:
    from planner.cli.parser import main

    folder = _with_buildings(layers, make_folder, households=[1e20, 40, None, None])
    assert main(["info", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "feature B1" in err and "field 'households'" in err and "Traceback" not in err


def test_f35_fractional_households_are_refused(layers: dict, make_folder: Make) -> None:
    folder = _with_buildings(layers, make_folder, households=[12.5, 0.3, None, None])
    with pytest.raises(InputError) as err:
        load_street(folder)
    problems = _errors(err)
    assert {p.feature_id for p in problems} == {"B1", "B2"}
    assert all("is not a whole number" in p.message and p.field == "households" for p in problems)


def test_f40_json_booleans_in_households_are_refused(layers: dict, make_folder: Make) -> None:
    folder = make_folder(layers)
    doc = geojson_text(layers["buildings"])
    doc["features"][0]["properties"]["households"] = True
    doc["features"][1]["properties"]["households"] = False
    doc["features"][2]["properties"]["households"] = 7
    write_geojson_text(folder / "buildings.geojson", doc)
    with pytest.raises(InputError) as err:
        load_street(folder)
    problems = _errors(err)
    assert [(p.feature_id, p.field) for p in problems] == [
        ("B1", "households"),
        ("B2", "households"),
    ]
    assert "households true is a JSON boolean" in problems[0].message
    assert "households false is a JSON boolean" in problems[1].message


def test_f41_floors_beyond_any_building_are_refused(layers: dict, make_folder: Make) -> None:
    folder = _with_buildings(layers, make_folder, floors=[6, 1e12, None, 2])
    with pytest.raises(InputError) as err:
        load_street(folder)
    (p,) = _errors(err)
    assert p.feature_id == "B2" and p.field == "floors"
    assert "is implausible: more than 200" in p.message


def test_f41_households_too_dense_for_the_floor_area_are_warned(
    layers: dict, make_folder: Make
) -> None:
    # B1: 40 m x 30 m x 6 floors = 7,200 m² for 1,000 households: 7.2 m² each
    folder = _with_buildings(layers, make_folder, households=[1000, None, None, None])
    s = load_street(folder)
    (note,) = _notes(s, "of floor area (footprint × floors) per household")
    assert note.feature_id == "B1" and note.field == "households" and note.severity == "warning"
    assert "B1 (1,000 households on 7,200 m²)" in note.message


# ---------------------------------------------------------------------------- files


def test_f12_gbk_shapefile_without_cpg_is_read_as_gbk_and_said(
    layers: dict, make_folder: Make
) -> None:
    folder = make_folder({k: v for k, v in layers.items() if k != "compounds"})
    gbk_shapefile_without_cpg(layers["compounds"], folder / "compounds.shp")
    s = load_street(folder)
    assert sorted(s.compounds["name"]) == sorted(["阳光小区", "和平小区"])
    (note,) = _notes(s, "no .cpg")
    assert "read as GBK (GB18030)" in note.message
    assert note.file == str(folder / "compounds.shp") and note.fix


def test_f12_utf8_shapefile_without_cpg_is_read_as_utf8(layers: dict, make_folder: Make) -> None:
    folder = make_folder({k: v for k, v in layers.items() if k != "compounds"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 10-character field names: the loader undoes it
        layers["compounds"].to_file(folder / "compounds.shp", encoding="UTF-8")
    (folder / "compounds.cpg").unlink()
    data = bytearray((folder / "compounds.dbf").read_bytes())
    data[29] = 0
    (folder / "compounds.dbf").write_bytes(bytes(data))
    s = load_street(folder)
    assert sorted(s.compounds["name"]) == sorted(["阳光小区", "和平小区"])
    assert _notes(s, "read as UTF-8")


def test_f13_multi_layer_geopackage_reads_the_layer_named_buildings(
    layers: dict, make_folder: Make
) -> None:
    folder = make_folder({k: v for k, v in layers.items() if k != "buildings"})
    pois = layers["stations"][["geometry"]].assign(name="poi")
    multi_layer_gpkg(folder / "buildings.gpkg", {"pois": pois, "buildings": layers["buildings"]})
    s = load_street(folder)
    assert s.report.counts["buildings"] == 4
    (note,) = _notes(s, "holds 2 layers")
    assert "'pois' (3 Point)" in note.message and "read the layer 'buildings'" in note.message


def test_f14_multi_layer_geopackage_without_a_named_layer_is_refused_with_the_list(
    layers: dict, make_folder: Make
) -> None:
    folder = make_folder({k: v for k, v in layers.items() if k != "buildings"})
    old = layers["buildings"].iloc[:1]
    multi_layer_gpkg(folder / "buildings.gpkg", {"old": old, "new": layers["buildings"]})
    with pytest.raises(InputError) as err:
        load_street(folder)
    (p,) = _errors(err)
    assert p.file == str(folder / "buildings.gpkg")
    assert "holds 2 layers ('old' (1 Polygon), 'new' (4 Polygon))" in p.message
    assert "rename the layer" in p.fix


def test_f15_boundary_kml_in_a_folder_is_named_with_how_to_use_it(
    layers: dict, make_folder: Make
) -> None:
    folder = make_folder({k: v for k, v in layers.items() if k != "boundary"})
    layers["boundary"].to_crs(4326).to_file(folder / "boundary.kml", driver="KML")
    with pytest.raises(InputError) as err:
        load_street(folder)
    (p,) = _errors(err)
    assert p.file == str(folder / "boundary.kml")
    assert "boundary.kml is in the folder" in p.message
    assert "--boundary boundary.kml" in p.fix
    # and given as --boundary it is read
    s = load_street(folder, boundary=folder / "boundary.kml")
    assert s.report.counts["buildings"] == 4


def test_f21_nan_and_infinity_coordinates_name_the_features(
    layers: dict, make_folder: Make
) -> None:
    folder = make_folder(layers)
    doc = geojson_text(layers["buildings"])
    doc["features"][0]["geometry"]["coordinates"][0][1][0] = float("nan")
    doc["features"][2]["geometry"]["coordinates"][0][2][1] = float("inf")
    write_geojson_text(folder / "buildings.geojson", {}, raw=json.dumps(doc, allow_nan=True))
    st = geojson_text(layers["stations"])
    st["features"][1]["geometry"]["coordinates"][0] = float("-inf")
    write_geojson_text(folder / "stations.geojson", {}, raw=json.dumps(st, allow_nan=True))
    with pytest.raises(InputError) as err:
        load_street(folder)
    problems = {p.file: p for p in _errors(err)}
    b = problems[str(folder / "buildings.geojson")]
    assert (
        "2 feature(s) have coordinates that are not finite numbers (NaN or Infinity)" in b.message
    )
    assert "B1, B3" in b.message and b.feature_id == "B1" and b.field == "geometry"
    s = problems[str(folder / "stations.geojson")]
    assert s.feature_id == "S2" and "not longitude/latitude" not in str(err.value)


def test_f22_infinity_in_the_boundary_ring(layers: dict, make_folder: Make) -> None:
    folder = make_folder(layers)
    doc = geojson_text(layers["boundary"])
    doc["features"][0]["geometry"]["coordinates"][0][1][0] = float("inf")
    write_geojson_text(folder / "boundary.geojson", {}, raw=json.dumps(doc, allow_nan=True))
    with pytest.raises(InputError) as err:
        load_street(folder)
    (p,) = _errors(err)
    assert p.file == str(folder / "boundary.geojson") and p.field == "geometry"
    assert "not finite numbers" in p.message and p.feature_id == "#1"


def test_f29_a_tiny_boundary_with_nothing_in_it_says_the_street_is_empty(
    layers: dict, make_folder: Make
) -> None:
    x0, y0, _x1, _y1 = layers["boundary"].total_bounds
    layers["boundary"] = gpd.GeoDataFrame(
        {"name": ["一平方米"]},
        geometry=[box(x0 + 1, y0 + 1, x0 + 2, y0 + 2)],
        crs=layers["boundary"].crs,
    )
    with pytest.raises(InputError) as err:
        load_street(make_folder(layers))
    (p,) = _errors(err)
    assert "the street is empty: none of the 4 buildings lies inside the boundary" in p.message
    assert "which encloses 1 m²" in p.message and p.field == "geometry"
    assert p.file is not None and p.file.endswith("boundary.geojson")


# ------------------------------------------------------------------------------ text


@pytest.mark.parametrize("length", [50_000, 1_000_000], ids=["F64b", "F64"])
def test_f64_a_huge_station_name_is_cut_with_a_warning(
    layers: dict, make_folder: Make, length: int
) -> None:
    layers["stations"] = layers["stations"].assign(name=["站" * length, "中心", "三站"])
    folder = make_folder(layers)
    t0 = time.perf_counter()
    s = load_street(folder)
    assert time.perf_counter() - t0 < 30
    name = s.stations.set_index("station_id").loc["S1", "name"]
    assert name == "站" * MAX_TEXT_CHARS
    (note,) = _notes(s, f"longer than {MAX_TEXT_CHARS} characters")
    assert note.field == "name" and note.feature_id == "S1"
    assert f"the longest {length:,}" in note.message
    assert len(str(note)) < 1000  # the message does not carry the text


def test_f64c_control_characters_and_nul_are_removed_and_said(
    layers: dict, make_folder: Make
) -> None:
    folder = make_folder(layers)
    doc = geojson_text(layers["stations"])
    doc["features"][0]["properties"]["name"] = "a\x00b\x1b[31mred\x07\u202eevil"
    write_geojson_text(folder / "stations.geojson", doc)
    s = load_street(folder)
    assert s.stations.set_index("station_id").loc["S1", "name"] == "ab[31mredevil"
    (note,) = _notes(s, "control characters")
    assert note.feature_id == "S1" and note.field == "name" and note.severity == "warning"


def test_control_characters_in_a_stations_csv_and_the_street_name(
    street_folder: Path, tmp_path: Path
) -> None:
    path = tmp_path / "st.csv"
    path.write_text('id,name,lon,lat\nA1,"x\x1b]0;pwn\x07y",116.3005,40.0020\n', encoding="utf-8")
    (street_folder / "street.json").write_text(json.dumps({"name": "街道\u202e" + "长" * 300}))
    s = load_street(street_folder, stations=path)
    assert s.stations.set_index("station_id").loc["A1", "name"] == "x]0;pwny"
    assert s.name == ("街道" + "长" * 300)[:MAX_TEXT_CHARS]
    assert _notes(s, "the street name held control characters")


def test_f23_every_bad_csv_coordinate_is_reported_in_one_pass(
    street_folder: Path, tmp_path: Path
) -> None:
    path = tmp_path / "st.csv"
    path.write_text(
        "id,lon,lat\nS1,nan,40.0\nS2,inf,40.0\nS3,116.3,1e999\nS4,116.30,40.002\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as err:
        load_street(street_folder, stations=path)
    got = {p.feature_id: p for p in _errors(err)}
    assert set(got) == {"S1", "S2", "S3"}
    assert got["S1"].field == "lon"  # pandas reads 'nan' as an empty cell
    assert "is not longitude/latitude in degrees" in got["S2"].message
    assert "is not longitude/latitude in degrees" in got["S3"].message
