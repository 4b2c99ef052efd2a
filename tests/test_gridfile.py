"""Grids edited elsewhere come back in: every format, GCJ-02, cut field names, bad files."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planner.errors import InputError
from planner.export import formats as ex
from planner.grids.gridfile import read_grids
from planner.street import Street
from tests.export_streets import X0, Y0, small_street


@pytest.fixture(scope="module")
def street() -> Street:
    return small_street()


@pytest.fixture(scope="module")
def grids(street: Street) -> gpd.GeoDataFrame:
    # 4 columns x 2 rows; an odd vertex count and a hole to make the round trip honest
    geoms = [
        shapely.box(X0 + 400 * i, Y0 + 600 * j, X0 + 400 * (i + 1), Y0 + 600 * (j + 1))
        for j in range(2)
        for i in range(4)
    ]
    geoms[0] = shapely.Polygon(
        [(X0, Y0), (X0 + 400, Y0), (X0 + 400, Y0 + 600), (X0 + 123.456, Y0 + 600), (X0, Y0 + 600)],
        [[(X0 + 10, Y0 + 10), (X0 + 20, Y0 + 10), (X0 + 20, Y0 + 20)]],
    )
    n = len(geoms)
    return gpd.GeoDataFrame(
        {
            "grid_id": [f"g{i}" for i in range(n)],
            "code": [f"1000006101130030010{i + 1}" for i in range(n)],
            "community_id": ["c1", "c1", "c2", "c2"] * 2,
            "community": ["东风社区", "东风社区", "幸福里社区", "幸福里社区"] * 2,
            "households": [312, 250, 288, 401, 199, 350, 276, 333],
            "population": np.linspace(500.5, 900.25, n),
            "buildings": [16] * n,
            "atoms": [2] * n,
            "area_m2": [g.area for g in geoms],
            "compactness": [0.7] * n,
            "locked": [False, True] * 4,
            "reason": ["", "少于 200 户"] + [""] * 6,
        },
        geometry=geoms,
        crs=street.crs,
    )


def _same(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame, *, tol_m: float) -> None:
    assert a["code"].tolist() == b["code"].tolist()
    assert a["households"].tolist() == b["households"].tolist()
    assert a["community"].tolist() == b["community"].tolist()
    assert a["locked"].tolist() == b["locked"].tolist()
    assert a.crs == b.crs
    d = shapely.hausdorff_distance(a.geometry.values, b.geometry.values)
    assert float(np.max(d)) < tol_m
    assert (a.geometry.geom_type == b.geometry.geom_type).all()


@pytest.mark.parametrize("cs", ["wgs84", "gcj02"])
def test_geojson_round_trip_within_1_cm(
    tmp_path: Path, street: Street, grids: gpd.GeoDataFrame, cs: str
) -> None:
    path = ex.write_geojson(grids, tmp_path / "grids.geojson", coordinate_system=cs)  # type: ignore[arg-type]
    back = read_grids(path, street)
    _same(back, grids, tol_m=0.01)


@pytest.mark.parametrize("cs", ["wgs84", "gcj02"])
def test_geopackage_round_trip(
    tmp_path: Path, street: Street, grids: gpd.GeoDataFrame, cs: str
) -> None:
    path = ex.write_geopackage(
        tmp_path / "p.gpkg",
        layers={"stations": street.stations, "grids": grids},
        tables={"t": pd.DataFrame({"a": [1]})},
        coordinate_system=cs,
    )  # type: ignore[arg-type]
    back = read_grids(path, street)
    _same(back, grids, tol_m=0.001 if cs == "wgs84" else 0.01)
    assert back["reason"].tolist()[1] == "少于 200 户"
    # reading leaves no GDAL .aux.xml sidecar in the user's folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.gpkg"]


def test_shapefile_round_trip_maps_fields_back(
    tmp_path: Path, street: Street, grids: gpd.GeoDataFrame
) -> None:
    ex.write_shapefiles(tmp_path, layers={"grids": grids})
    back = read_grids(tmp_path / "grids.shp", street)
    _same(back, grids, tol_m=0.001)
    assert "compactness" in back.columns  # 'compactnes' in the .dbf
    # without fields.csv the documented rule maps the names back too
    (tmp_path / "fields.csv").unlink()
    back2 = read_grids(tmp_path / "grids.shp", street)
    assert (
        "compactness" in back2.columns
        and back2["households"].tolist() == grids["households"].tolist()
    )


def test_numeric_codes_padded_and_lossy_codes_refused(
    tmp_path: Path, street: Street, grids: gpd.GeoDataFrame
) -> None:
    g = grids.copy()
    g["code"] = [int(f"6101130030010{i}") for i in range(8)]
    back = read_grids(ex.write_geojson(g, tmp_path / "a.geojson"), street, code_width=17)
    assert back["code"].iloc[0] == "00061011300300100"
    g["code"] = [float(f"1000006101130030010{i}") for i in range(8)]
    with pytest.raises(InputError, match="store the code column as text"):
        read_grids(ex.write_geojson(g, tmp_path / "b.geojson"), street)


def test_bad_grids_file_lists_every_problem(
    tmp_path: Path, street: Street, grids: gpd.GeoDataFrame
) -> None:
    g = grids.copy()
    g.loc[1, "code"] = g.loc[0, "code"]
    g.loc[2, "code"] = None
    geoms = g.geometry.to_numpy().copy()
    geoms[3] = shapely.Point(X0, Y0)
    g = g.set_geometry(gpd.GeoSeries(geoms, crs=g.crs))
    path = ex.write_geojson(g, tmp_path / "bad.geojson")
    with pytest.raises(InputError) as err:
        read_grids(path, street)
    text = str(err.value)
    assert "3 problems" in text
    assert "is used by 2 grids" in text and "no code" in text and "Point geometry" in text
    assert "bad.geojson" in text


def test_missing_file_and_unknown_suffix(tmp_path: Path, street: Street) -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_grids(tmp_path / "none.geojson", street)
    (tmp_path / "g.txt").write_text("x")
    with pytest.raises(InputError, match="unknown format"):
        read_grids(tmp_path / "g.txt", street)


def test_recode_mode_accepts_missing_codes(
    tmp_path: Path, street: Street, grids: gpd.GeoDataFrame
) -> None:
    path = ex.write_geojson(grids.drop(columns="code"), tmp_path / "g.geojson")
    with pytest.raises(InputError, match="no 'code' column"):
        read_grids(path, street)
    assert len(read_grids(path, street, require_codes=False)) == len(grids)


def test_upload_of_shapefile_parts_and_zip(
    tmp_path: Path, street: Street, grids: gpd.GeoDataFrame
) -> None:
    import io
    import zipfile

    from planner.grids.gridfile import read_grids_upload

    shp = tmp_path / "shp"
    ex.write_shapefiles(shp, layers={"grids": grids})
    parts = [(p.name, p.read_bytes()) for p in sorted(shp.iterdir())]
    back = read_grids_upload(parts, street, dest=tmp_path / "up")
    assert back["code"].tolist() == grids["code"].tolist()
    assert "compactness" in back.columns  # fields.csv uploaded with the parts
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("edited/grids.geojson", ex.to_geojson_text(grids))
    back = read_grids_upload([("grids.zip", buf.getvalue())], street, dest=tmp_path / "up")
    assert back["households"].tolist() == grids["households"].tolist()


def test_bad_uploads_refused(tmp_path: Path, street: Street) -> None:
    import io
    import zipfile

    from planner.grids.gridfile import read_grids_upload

    with pytest.raises(InputError, match="no grids file uploaded"):
        read_grids_upload([], street, dest=tmp_path)
    with pytest.raises(InputError, match="unknown file type"):
        read_grids_upload([("grids.exe", b"MZ")], street, dest=tmp_path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../evil.geojson", "{}")
    with pytest.raises(InputError, match="unsafe path"):
        read_grids_upload([("g.zip", buf.getvalue())], street, dest=tmp_path)
    with pytest.raises(InputError, match="no grids file among"):
        read_grids_upload([("fields.csv", b"layer,column,field\n")], street, dest=tmp_path)


def test_grids_upload_damaged_zip_and_browser_paths(
    tmp_path: Path, street: Street, grids: gpd.GeoDataFrame
) -> None:
    """A damaged zip is an InputError naming the member; a browser path is never a path."""
    from planner.grids.gridfile import read_grids_upload
    from tests.hostile_inputs import with_bad_crc, zip_bytes

    data = zip_bytes({"edited/grids.geojson": ex.to_geojson_text(grids).encode()})
    with pytest.raises(InputError) as err:
        read_grids_upload([("grids.zip", with_bad_crc(data))], street, dest=tmp_path / "up")
    assert err.value.problems[0].feature_id == "edited/grids.geojson"
    assert "is damaged" in str(err.value)
    text = ex.to_geojson_text(grids).encode()
    back = read_grids_upload([("../../网格 编辑.geojson", text)], street, dest=tmp_path / "up")
    assert back["code"].tolist() == grids["code"].tolist()
    (saved,) = (tmp_path / "up").glob("grids-*/grids.geojson")
    assert saved.read_bytes() == text and not (tmp_path / "网格 编辑.geojson").exists()
