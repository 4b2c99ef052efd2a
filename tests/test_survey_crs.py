"""Coordinates planners use: CGCS2000 / Gauss-Kruger and local systems in and out, and
grids files in GCJ-02/BD-09 recognised (issue 13, item 7)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from conftest import street_layers, write_folder
from pyproj import CRS, Transformer

from planner.cli import main
from planner.crs import from_wgs84, parse_crs
from planner.errors import InputError
from planner.load.sources import load_street

GK = "EPSG:4547"  # CGCS2000 / 3-degree Gauss-Kruger CM 114E
LOCAL = (
    "+proj=tmerc +lat_0=0 +lon_0=116.35 +k=1 +x_0=50000 +y_0=-4400000 +ellps=GRS80 "
    "+units=m +no_defs"
)


def _geojson_without_crs(gdf: gpd.GeoDataFrame, crs: str, path: Path) -> None:
    """A GeoJSON whose coordinates are in ``crs`` but that does not say so."""
    moved = gdf.to_crs(crs)
    doc = json.loads(moved.set_crs(None, allow_override=True).to_json())
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def _shapefile_without_prj(gdf: gpd.GeoDataFrame, crs: str, path: Path) -> None:
    with warnings.catch_warnings():  # 10-character field names: the loader undoes it
        warnings.simplefilter("ignore")
        pyogrio.write_dataframe(gdf.to_crs(crs), path, driver="ESRI Shapefile", encoding="UTF-8")
    path.with_suffix(".prj").unlink()


def _survey_folder(tmp_path: Path, crs: str) -> Path:
    """The fixture street with every layer in ``crs`` and no file saying so:
    buildings a Shapefile without .prj, the rest GeoJSON in metres."""
    folder = tmp_path / "survey"
    folder.mkdir()
    for name, gdf in street_layers().items():
        if name == "buildings":
            _shapefile_without_prj(gdf, crs, folder / "buildings.shp")
        else:
            _geojson_without_crs(gdf, crs, folder / f"{name}.geojson")
    return folder


def test_parse_crs_takes_epsg_names_proj_wkt_and_prj_files(tmp_path: Path) -> None:
    assert parse_crs("EPSG:4547").to_epsg() == 4547
    assert parse_crs("4549").to_epsg() == 4549
    assert parse_crs("cgcs2000").to_epsg() == 4490
    local = parse_crs(LOCAL)
    assert local.is_projected and "116.35" in local.to_wkt()
    prj = tmp_path / "city.prj"
    prj.write_text(CRS.from_epsg(4547).to_wkt("WKT1_ESRI"), encoding="utf-8")
    assert "114E" in parse_crs(prj).name
    assert parse_crs(CRS.from_epsg(4526).to_wkt()).to_epsg() == 4526  # 3° zone 38, WKT
    with pytest.raises(InputError, match="--crs 'no-such-crs' is not a coordinate"):
        parse_crs("no-such-crs")


def test_gauss_kruger_files_without_crs_are_refused_then_read_with_crs(
    tmp_path: Path, street_folder: Path
) -> None:
    folder = _survey_folder(tmp_path, GK)
    with pytest.raises(InputError) as err:
        load_street(folder)
    text = str(err.value)
    assert "no coordinate reference system" in text and "--crs" in text
    street = load_street(folder, crs=GK)
    ref = load_street(street_folder)
    assert len(street.buildings) == len(ref.buildings) == len(street_layers()["buildings"])
    assert street.households_total == ref.households_total
    a = street.buildings.sort_values("building_id").geometry.centroid
    b = ref.buildings.sort_values("building_id").to_crs(street.crs).geometry.centroid
    assert float(np.max(a.distance(b, align=False))) < 0.01  # metres
    repairs = [n for n in street.report.notes if "(--crs)" in str(n)]
    assert len(repairs) == len(street_layers())  # every file named


def test_a_local_city_system_as_proj_string_or_prj_file(
    tmp_path: Path, street_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _survey_folder(tmp_path, LOCAL)
    ref = load_street(street_folder)
    street = load_street(folder, crs=LOCAL)
    assert street.households_total == ref.households_total
    prj = tmp_path / "local.prj"
    prj.write_text(CRS.from_proj4(LOCAL).to_wkt(), encoding="utf-8")
    code = main(["info", str(folder), "--crs", str(prj)])
    assert code == 0, capsys.readouterr().err
    assert main(["info", str(folder), "--crs", "+proj=nothing"]) == 2
    assert "--crs '+proj=nothing' is not a coordinate reference system" in capsys.readouterr().err


def test_out_crs_writes_gpkg_shapefile_and_csv_in_the_survey_crs(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    code = main(
        [
            "run",
            str(street_folder),
            "--out",
            str(out),
            "--no-siting",
            "--no-images",
            "--no-html",
            "--formats",
            "geojson,gpkg,shp,csv",
            "--out-crs",
            GK,
            "--code-county",
            "110108",
            "--code-street",
            "013",
        ]
    )
    assert code in (0, 1), capsys.readouterr().err
    gpkg = next(out.glob("*.gpkg"))
    info = pyogrio.read_info(gpkg, layer="grids")
    assert CRS.from_user_input(info["crs"]).to_epsg() == 4547
    in_gk = pyogrio.read_dataframe(gpkg, layer="buildings")
    wgs = gpd.read_file(out / "buildings.geojson")  # GeoJSON stays WGS84
    assert wgs.crs.to_epsg() == 4326 and abs(float(wgs.total_bounds[0]) - 116.3) < 0.1
    expected = wgs.to_crs(GK).set_index("building_id").geometry.centroid
    got = in_gk.set_index("building_id").geometry.centroid.reindex(expected.index)
    assert float(np.max(got.distance(expected))) < 0.02  # GeoJSON's 7 decimals: ~1 cm
    assert 38_000_000 > float(got.x.min()) > 500_000  # Gauss-Kruger metres, not degrees
    prj = (out / "shapefile" / "grids.shp").with_suffix(".prj").read_text(encoding="utf-8")
    assert "114" in prj and "CGCS" in prj.upper()
    table = pd.read_csv(out / "coverage_by_grid.csv", encoding="utf-8-sig")
    to_gk = Transformer.from_crs("EPSG:4326", GK, always_xy=True)
    x, y = to_gk.transform(table["lon"].to_numpy(), table["lat"].to_numpy())
    assert np.allclose(table["x"], x, atol=0.01) and np.allclose(table["y"], y, atol=0.01)


def test_out_crs_with_a_proj_string_and_conflicts(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    args = ["run", str(street_folder), "--out", str(out), "--no-siting", "--no-images"]
    args += ["--no-html", "-q", "--formats", "gpkg"]
    assert main([*args, "--out-crs", LOCAL]) in (0, 1)
    crs = CRS.from_user_input(pyogrio.read_info(next(out.glob("*.gpkg")), layer="grids")["crs"])
    assert crs.is_projected and "116.35" in crs.to_wkt()
    capsys.readouterr()
    assert main([*args, "--out-crs", GK, "--coordinates", "gcj02"]) == 2
    assert "--out-crs" in capsys.readouterr().err
    assert main([*args, "--out-crs", "EPSG:999999"]) == 2
    assert "--out-crs 'EPSG:999999'" in capsys.readouterr().err


# ------------------------------------------------------------------ GCJ-02 grid files


def _shifted_grids(src: Path, dest: Path, system: str) -> Path:
    """``src`` (a WGS84 GeoJSON) with every coordinate moved into ``system``, as a
    desktop GIS on an Amap/Baidu base map would save it (no word about it)."""
    g = gpd.read_file(src)

    def move(c: np.ndarray) -> np.ndarray:
        lon, lat = from_wgs84(c[:, 0], c[:, 1], system)  # type: ignore[arg-type]
        return np.column_stack([lon, lat])

    moved = shapely.transform(np.asarray(g.geometry.values), move)
    g.set_geometry(gpd.GeoSeries(moved, crs="EPSG:4326")).to_file(dest, driver="GeoJSON")
    return dest


@pytest.mark.parametrize(("system", "label"), [("gcj02", "GCJ-02"), ("bd09", "BD-09")])
def test_check_grids_recognises_a_gcj02_or_bd09_grid_file(
    street_folder: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    system: str,
    label: str,
) -> None:
    out = tmp_path / "grids"
    main(["grids", str(street_folder), "--out", str(out)])
    capsys.readouterr()
    assert main(["check-grids", str(out / "grids.geojson"), str(street_folder)]) == 0
    capsys.readouterr()
    shifted = _shifted_grids(out / "grids.geojson", tmp_path / "edited.geojson", system)
    assert main(["check-grids", str(shifted), str(street_folder)]) == 2
    err = capsys.readouterr().err
    assert f"this looks like {label}" in err and f"--grid-crs {system}" in err
    assert "rule" not in err.lower()  # one clear hint, not six failed rules
    assert main(["check-grids", str(shifted), str(street_folder), "--grid-crs", system]) == 0
    capsys.readouterr()
    # the user insists the file is WGS84: the rules are checked (and fail)
    assert main(["check-grids", str(shifted), str(street_folder), "--grid-crs", "wgs84"]) == 1


def test_shift_guess_leaves_a_genuinely_wrong_file_alone(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Grids that miss the street for another reason (moved 2 km) are not called GCJ-02."""
    out = tmp_path / "grids"
    main(["grids", str(street_folder), "--out", str(out)])
    g = gpd.read_file(out / "grids.geojson")
    g.geometry = g.geometry.translate(0.02, 0.0)
    g.to_file(tmp_path / "far.geojson", driver="GeoJSON")
    capsys.readouterr()
    assert main(["check-grids", str(tmp_path / "far.geojson"), str(street_folder)]) == 1
    assert "looks like" not in capsys.readouterr().err


def test_write_folder_helper_still_writes_wgs84(tmp_path: Path) -> None:
    """Guard for the helpers above: the reference folder is plain WGS84 GeoJSON."""
    folder = write_folder(tmp_path / "ref", street_layers())
    doc = json.loads((folder / "boundary.geojson").read_text(encoding="utf-8"))
    x, y = doc["features"][0]["geometry"]["coordinates"][0][0][:2]
    assert 116 < x < 117 and 39 < y < 41
