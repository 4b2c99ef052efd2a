"""CAD drawings (DXF) as a source: Chinese layer names, closed polylines, texts inside
buildings giving households and names (issue 13, item 8)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from conftest import street_layers
from shapely.geometry.base import BaseGeometry

from planner.cli import main
from planner.errors import InputError
from planner.load.dxf import closed_lines_as_polygons, parse_mapping
from planner.load.sources import load_street

GK = "EPSG:4547"  # CGCS2000 / 3-degree Gauss-Kruger CM 114E
MAPPING = (
    "boundary=街道界,buildings=建筑|房屋,roads=道路,stations=党群服务站,"
    "buildings.households=户数文字层,buildings.name=楼名,buildings.kind=用途"
)


def _polyline(layer: str, geom: BaseGeometry, *, closed: bool) -> list[str]:
    coords = shapely.get_coordinates(geom.exterior if closed else geom)
    if closed:
        coords = coords[:-1]  # a closed R12 polyline does not repeat its first vertex
    out = ["0", "POLYLINE", "8", layer, "66", "1", "70", "1" if closed else "0"]
    out += ["10", "0.0", "20", "0.0", "30", "0.0"]
    for x, y in coords:
        out += ["0", "VERTEX", "8", layer, "10", f"{x:.4f}", "20", f"{y:.4f}", "30", "0.0"]
    return [*out, "0", "SEQEND", "8", layer]


def _text(layer: str, x: float, y: float, text: str) -> list[str]:
    head = ["0", "TEXT", "8", layer, "10", f"{x:.4f}", "20", f"{y:.4f}", "30", "0.0"]
    return [*head, "40", "2.5", "1", text]


def write_dxf(path: Path, *, encoding: str = "gbk") -> dict[str, object]:
    """The fixture street drawn as a minimal R12 ASCII DXF in CGCS2000 GK metres, as a
    Chinese CAD drawing holds it (GBK text, code page ANSI_936)."""
    layers = {k: v.to_crs(GK) for k, v in street_layers().items()}
    ents: list[str] = []
    ents += _polyline("街道界", layers["boundary"].geometry.iloc[0], closed=True)
    b = layers["buildings"]
    for i, (geom, hh, name) in enumerate(zip(b.geometry, b["households"], b["name"], strict=True)):
        ents += _polyline("建筑" if i % 2 else "房屋", geom, closed=True)
        p = geom.representative_point()
        if hh == hh:  # a building without households in the fixture gets no text
            ents += _text("户数文字层", p.x, p.y, f"{int(hh)}户")
        ents += _text("楼名", p.x + 0.5, p.y + 0.5, str(name))
        ents += _text("用途", p.x - 0.5, p.y - 0.5, str(b["kind"].iloc[i]))
    for geom in layers["roads"].geometry:
        ents += _polyline("道路", geom, closed=False)
    for geom, name in zip(layers["stations"].geometry, layers["stations"]["name"], strict=True):
        ents += _text("党群服务站", geom.x, geom.y, str(name))
    ents += _text("户数文字层", 0.0, 0.0, "99户")  # a stray text far outside
    head = ["0", "SECTION", "2", "HEADER", "9", "$ACADVER", "1", "AC1009"]
    head += ["9", "$DWGCODEPAGE", "3", "ANSI_936", "0", "ENDSEC"]
    body = ["0", "SECTION", "2", "ENTITIES", *ents, "0", "ENDSEC", "0", "EOF"]
    path.write_text("\n".join([*head, *body]) + "\n", encoding=encoding)
    return {
        "buildings": len(b),
        "households": dict(zip(map(str, b["name"]), b["households"], strict=True)),
        "kinds": dict(zip(map(str, b["name"]), b["kind"], strict=True)),
        "names": sorted(map(str, b["name"])),
        "stations": sorted(map(str, layers["stations"]["name"])),
    }


def test_a_dxf_drawing_loads_with_its_layer_mapping(tmp_path: Path, street_folder: Path) -> None:
    dxf = tmp_path / "街道图.dxf"
    want = write_dxf(dxf)
    street = load_street(dxf, crs=GK, dxf_layers=MAPPING)
    ref = load_street(street_folder)
    assert len(street.buildings) == want["buildings"]
    assert (street.buildings.geom_type == "Polygon").all()  # closed polylines
    got = street.buildings.set_index("name")
    for name, households in want["households"].items():  # type: ignore[attr-defined]
        if households == households:  # the texts give them
            assert got.loc[name, "households"] == households
            assert not got.loc[name, "households_estimated"]
    assert got["kind"].to_dict() == want["kinds"]
    assert sorted(street.buildings["name"]) == want["names"]
    assert sorted(street.stations["name"]) == want["stations"]
    assert abs(street.report.area_km2 - ref.report.area_km2) < 1e-4
    assert len(street.roads) == len(ref.roads)  # open polylines stay lines
    assert abs(float(street.roads.length.sum()) - float(ref.roads.length.sum())) < 1.0
    stray = [n for n in street.report.notes if "lie in no feature" in str(n)]
    assert len(stray) == 1 and "户数文字层" in str(stray[0])


def test_dxf_in_utf8_and_a_mapping_file(tmp_path: Path) -> None:
    dxf = tmp_path / "utf8.dxf"
    want = write_dxf(dxf, encoding="utf-8")
    mapping = tmp_path / "layers.txt"
    mapping.write_text("# CAD layers\n" + MAPPING.replace(",", "\n") + "\n", encoding="utf-8")
    street = load_street(dxf, crs=GK, dxf_layers=mapping)
    assert sorted(street.buildings["name"]) == want["names"]


def test_dxf_without_crs_or_mapping_is_refused_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dxf = tmp_path / "drawing.dxf"
    write_dxf(dxf)
    assert main(["info", str(dxf), "--dxf-layers", MAPPING]) == 2
    err = capsys.readouterr().err
    assert "a DXF drawing has no coordinate system" in err and "--crs" in err
    assert main(["info", str(dxf), "--crs", GK]) == 2
    err = capsys.readouterr().err
    assert "needs --dxf-layers" in err and "街道界" in err and "户数文字层" in err
    assert main(["info", str(dxf), "--crs", GK, "--dxf-layers", MAPPING]) == 0
    capsys.readouterr()
    dwg = tmp_path / "drawing.dwg"
    dwg.write_bytes(b"AC1032")
    assert main(["info", str(dwg), "--crs", GK]) == 2
    assert "save the drawing as DXF" in capsys.readouterr().err


def test_dxf_mapping_errors_name_the_pair() -> None:
    m = parse_mapping("buildings=建筑|房屋, buildings.households=户数")
    assert m.layers == {"buildings": ("建筑", "房屋")}
    assert m.texts == {("buildings", "households"): ("户数",)}
    with pytest.raises(InputError, match="cannot use 'houses=建筑'"):
        parse_mapping("houses=建筑")
    with pytest.raises(InputError, match="text entities can give"):
        parse_mapping("buildings=建筑,buildings.colour=颜色")
    with pytest.raises(InputError, match="planner_layer=CAD layer"):
        parse_mapping("buildings")


def test_closed_polylines_become_polygons_open_ones_stay_lines() -> None:
    geoms = np.array(
        [
            shapely.LineString([(0, 0), (1, 0), (1, 1), (0, 0)]),
            shapely.LineString([(0, 0), (1, 0), (1, 1)]),
            shapely.Point(0, 0),
        ],
        dtype=object,
    )
    out = closed_lines_as_polygons(geoms)
    assert [g.geom_type for g in out] == ["Polygon", "LineString", "Point"]
    assert out[0].area == pytest.approx(0.5)


def test_dxf_entities_of_the_wrong_kind_are_named(tmp_path: Path) -> None:
    """Open polylines on a building layer are left out with a warning, not guessed at."""
    dxf = tmp_path / "open.dxf"
    write_dxf(dxf)
    text = dxf.read_text(encoding="gbk")
    line = shapely.LineString([(0, 0), (10, 0)])
    extra = "\n".join(_polyline("建筑", line, closed=False))
    dxf.write_text(text.replace("0\nENDSEC\n0\nEOF", extra + "\n0\nENDSEC\n0\nEOF"), "gbk")
    street = load_street(dxf, crs=GK, dxf_layers=MAPPING)
    assert len(street.buildings) == len(street_layers()["buildings"])
    notes = [str(n) for n in street.report.notes if "are not polygons" in str(n)]
    assert notes and "left out of buildings" in notes[0]
