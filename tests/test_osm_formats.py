"""OSM extracts under their real names, and XML = PBF for buildings that are inner rings
(issue 13, item 9).

The PBF twin of the hand-made XML file is written with pyosmium (``osmium``, a dev
dependency), copying every node, way and relation unchanged.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import osmium
import pytest
import shapely

from planner.errors import InputError
from planner.load import osm
from planner.load.sources import load_street

#: Building relation 20 (outer way 10) whose inner ring is building way 11 (apartments,
#: 6 floors); compound relation 30 (landuse=residential, outer way 12) whose inner ring is
#: building way 13; and a footway 40 so that the street has a network.
INNER_RINGS = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="planner tests">
 <bounds minlat="39.9990" minlon="116.3490" maxlat="40.0030" maxlon="116.3600"/>
 <node id="1" version="1" lat="40.0000" lon="116.3500"/>
 <node id="2" version="1" lat="40.0000" lon="116.3530"/>
 <node id="3" version="1" lat="40.0020" lon="116.3530"/>
 <node id="4" version="1" lat="40.0020" lon="116.3500"/>
 <node id="5" version="1" lat="40.0005" lon="116.3505"/>
 <node id="6" version="1" lat="40.0005" lon="116.3515"/>
 <node id="7" version="1" lat="40.0015" lon="116.3515"/>
 <node id="8" version="1" lat="40.0015" lon="116.3505"/>
 <node id="21" version="1" lat="40.0000" lon="116.3540"/>
 <node id="22" version="1" lat="40.0000" lon="116.3590"/>
 <node id="23" version="1" lat="40.0025" lon="116.3590"/>
 <node id="24" version="1" lat="40.0025" lon="116.3540"/>
 <node id="25" version="1" lat="40.0008" lon="116.3555"/>
 <node id="26" version="1" lat="40.0008" lon="116.3565"/>
 <node id="27" version="1" lat="40.0013" lon="116.3565"/>
 <node id="28" version="1" lat="40.0013" lon="116.3555"/>
 <node id="31" version="1" lat="39.9995" lon="116.3495"/>
 <node id="32" version="1" lat="39.9995" lon="116.3595"/>
 <way id="10" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/></way>
 <way id="11" version="1"><nd ref="5"/><nd ref="6"/><nd ref="7"/><nd ref="8"/><nd ref="5"/>
  <tag k="building" v="apartments"/><tag k="building:levels" v="6"/><tag k="name" v="内楼"/></way>
 <way id="12" version="1"><nd ref="21"/><nd ref="22"/><nd ref="23"/><nd ref="24"/><nd ref="21"/></way>
 <way id="13" version="1"><nd ref="25"/><nd ref="26"/><nd ref="27"/><nd ref="28"/><nd ref="25"/>
  <tag k="building" v="residential"/></way>
 <way id="40" version="1"><nd ref="31"/><nd ref="32"/><tag k="highway" v="footway"/></way>
 <relation id="20" version="1">
  <member type="way" ref="10" role="outer"/><member type="way" ref="11" role="inner"/>
  <tag k="type" v="multipolygon"/><tag k="building" v="yes"/><tag k="name" v="外楼"/>
 </relation>
 <relation id="30" version="1">
  <member type="way" ref="12" role="outer"/><member type="way" ref="13" role="inner"/>
  <tag k="type" v="multipolygon"/><tag k="landuse" v="residential"/><tag k="name" v="内院小区"/>
 </relation>
</osm>
"""


def _write_pbf(xml: Path, pbf: Path) -> Path:
    """Copy every element of ``xml`` unchanged into the PBF file ``pbf`` (pyosmium)."""
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(xml)):
            if obj.is_node():
                writer.add_node(obj)
            elif obj.is_way():
                writer.add_way(obj)
            else:
                writer.add_relation(obj)
    return pbf


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("inner")
    xml = d / "inner.osm"
    xml.write_text(INNER_RINGS, encoding="utf-8")
    out = {"osm": xml, "pbf": _write_pbf(xml, d / "inner.osm.pbf")}
    for name in ("inner.osm.xml", "inner.xml"):
        out[name] = Path(shutil.copy(xml, d / name))
    return out


def _buildings(path: Path) -> gpd.GeoDataFrame:
    osm.clear_cache()
    return osm.read_osm(path, margin_m=0)["buildings"]


def test_buildings_that_are_inner_rings_come_from_xml_and_pbf_alike(
    files: dict[str, Path],
) -> None:
    xml, pbf = _buildings(files["osm"]), _buildings(files["pbf"])
    cols = ["building_id", "name", "kind", "floors", "osm_building"]
    expected = [
        # building=yes stays "yes" in the reader's layer: the loader decides by location
        # (residential inside residential land, else unknown; planner.load._layers)
        ["osm-relation-20", "外楼", "yes", "yes"],
        ["osm-way-11", "内楼", "residential", "apartments"],
        ["osm-way-13", "", "residential", "residential"],
    ]
    assert xml[["building_id", "name", "kind", "osm_building"]].values.tolist() == expected
    assert pbf[cols].equals(xml[cols])
    assert shapely.equals(pbf.geometry.to_numpy(), xml.geometry.to_numpy()).all()
    # the outer building keeps its hole, the inner building fills it
    outer = xml.geometry.iloc[0]
    assert len(outer.interiors) == 1
    assert shapely.Polygon(outer.interiors[0]).equals(xml.geometry.iloc[1])


def test_a_compound_with_a_building_as_inner_ring_keeps_both(files: dict[str, Path]) -> None:
    for key in ("osm", "pbf"):
        osm.clear_cache()
        layers = osm.read_osm(files[key], margin_m=0)
        assert layers["compounds"]["compound_id"].tolist() == ["osm-relation-30"]
        assert "osm-way-13" in set(layers["buildings"]["building_id"])


@pytest.mark.parametrize("name", ["inner.osm.xml", "inner.xml"])
def test_osm_xml_under_other_names_loads_like_osm(files: dict[str, Path], name: str) -> None:
    assert osm.osm_format(files[name]) == "xml"
    assert _buildings(files[name]).equals(_buildings(files["osm"]))
    street = load_street(str(files[name]))
    assert street.report.counts["buildings"] == 3
    assert "OpenStreetMap" in street.attribution


def test_the_content_decides_the_format(files: dict[str, Path], tmp_path: Path) -> None:
    # PBF bytes under an XML name, and under a name that says nothing
    as_osm = Path(shutil.copy(files["pbf"], tmp_path / "mislabelled.osm"))
    plain = Path(shutil.copy(files["pbf"], tmp_path / "extract.dat"))
    assert osm.sniff_osm(files["pbf"]) == "pbf" and osm.sniff_osm(files["osm"]) == "xml"
    assert osm.osm_format(as_osm) == "pbf" and osm.osm_format(plain) == "pbf"
    assert osm.is_osm_extract(plain)
    assert (
        _buildings(plain)["building_id"].tolist()
        == _buildings(files["osm"])["building_id"].tolist()
    )
    assert load_street(str(plain)).report.counts["buildings"] == 3


def test_xml_that_is_not_osm_is_refused_naming_its_root_element(tmp_path: Path) -> None:
    kml = tmp_path / "street.xml"
    kml.write_text(
        '<?xml version="1.0"?>\n<!-- drawn in Google Earth -->\n'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document/></kml>\n',
        encoding="utf-8",
    )
    assert osm.sniff_osm(kml) is None
    with pytest.raises(InputError, match=r"root element is <kml>, not OpenStreetMap's <osm>"):
        osm.read_osm(kml)
    with pytest.raises(InputError, match=r"street\.xml.*root element is <kml>.*--boundary"):
        load_street(str(kml))
    text = tmp_path / "notes.txt"
    text.write_text("just text", encoding="utf-8")
    assert not osm.is_osm_extract(text)
    with pytest.raises(InputError, match="not a folder and not an OpenStreetMap extract"):
        load_street(str(text))
