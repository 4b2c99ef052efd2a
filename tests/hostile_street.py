"""A street whose every text field holds script and markup (hostile-input tests).

Built from the tiny test street (tests/app_street.py, made up, near Beijing): the same
geometry, plus land use, a river, a railway and gates, with every name, id, kind and
free-text field replaced by :data:`PAYLOAD` and a short tag that keeps ids unique.
:func:`hostile_street` gives the :class:`~planner.street.Street`;
:func:`write_hostile_folder` writes it as a folder of GeoJSON layers with ``street.json``
(what a user uploads); :func:`hostile_zip` zips that folder. Nothing binary is
committed: the tests build these files when they run.

Run ``python tests/hostile_street.py DIR`` to write the folder for a manual look.
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
from shapely.geometry import LineString, Point, box

from planner.street import Street, from_layers
from tests.app_street import CRS, X0, Y0, tiny_street

#: Script and markup payloads: HTML that runs script, breaking out of an attribute, a
#: JavaScript template literal (folium's tooltips and popups are built in one), a
#: backslash escape, and a markdown link (Streamlit's messages render markdown).
PAYLOADS: tuple[str, ...] = (
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    '"><svg onload=alert(1)>',
    "`${alert(1)}`",
    "\\x",
    "[领取补贴 Click here](http://evil.example/phish)",
)
#: Every payload in one string: each text field of the hostile street starts with it.
PAYLOAD = "".join(PAYLOADS)
#: Raw fragments that must never reach a page unescaped.
RAW_MARKERS: tuple[str, ...] = ("<img src=x", "<script>alert", "<svg onload", "${alert")


def hostile(tag: str) -> str:
    """The payload followed by ``tag`` (a short id that keeps ids unique)."""
    return f"{PAYLOAD} {tag}"


def _text(frame: gpd.GeoDataFrame, columns: list[str]) -> gpd.GeoDataFrame:
    """``frame`` with each of ``columns`` replaced by the payload and its old value."""
    out = frame.copy()
    for col in columns:
        out[col] = [hostile(str(v)) for v in out[col]]
    return out


def hostile_layers() -> dict[str, gpd.GeoDataFrame]:
    """Every layer of the hostile street (UTM zone 50N, metres)."""
    base = tiny_street()
    communities = _text(
        base.communities[["community_id", "name", "code", "geometry"]],
        ["community_id", "name", "code"],
    )
    ids = dict(zip(base.communities["community_id"], communities["community_id"], strict=True))
    compounds = _text(
        base.compounds[["compound_id", "name", "community_id", "geometry"]], ["compound_id", "name"]
    )
    compounds["community_id"] = compounds["community_id"].map(ids)
    cids = dict(zip(base.compounds["compound_id"], compounds["compound_id"], strict=True))
    b = base.buildings[
        ["building_id", "name", "kind", "compound_id", "floors", "households", "geometry"]
    ]
    buildings = _text(b, ["building_id", "name"])
    buildings["compound_id"] = b["compound_id"].map(cids)
    roads = _text(base.roads[["road_id", "name", "highway", "geometry"]], ["road_id", "name"])
    stations = _text(
        base.stations[["station_id", "name", "kind", "floor_area_m2", "opening_hours", "geometry"]],
        ["station_id", "name", "opening_hours"],
    )
    stations["address"] = [hostile(f"addr{i}") for i in range(len(stations))]
    boundary = _text(base.boundary[["street_id", "name", "geometry"]], ["street_id", "name"])
    landuse = gpd.GeoDataFrame(
        {
            "landuse_id": [hostile("lu1"), hostile("lu2")],
            "kind": ["park", hostile("kind")],
            "name": [hostile("park"), hostile("plot")],
        },
        geometry=[
            box(X0 + 460, Y0 + 360, X0 + 490, Y0 + 390),
            box(X0 + 510, Y0 + 360, X0 + 540, Y0 + 390),
        ],
        crs=CRS,
    )
    barriers = gpd.GeoDataFrame(
        {
            "barrier_id": [hostile("w1"), hostile("rail1")],
            "kind": ["river", "railway"],
            "name": [hostile("river"), hostile("railway")],
        },
        geometry=[
            box(X0, Y0 + 770, X0 + 1000, Y0 + 790),
            LineString([(X0 + 990, Y0), (X0 + 990, Y0 + 800)]),
        ],
        crs=CRS,
    )
    gates = gpd.GeoDataFrame(
        {
            "gate_id": [hostile(f"gate-{k}") for k in cids],
            "compound_id": list(cids.values()),
        },
        geometry=[Point(c.bounds[0] + 200, c.bounds[1]) for c in base.compounds.geometry],
        crs=CRS,
    )
    return {
        "boundary": boundary,
        "communities": communities,
        "compounds": compounds,
        "buildings": buildings,
        "roads": roads,
        "stations": stations,
        "landuse": landuse,
        "barriers": barriers,
        "gates": gates,
    }


#: The street's own name and data credit (``street.json``).
STREET_NAME = hostile("street")
ATTRIBUTION = hostile("credit")


def hostile_street() -> Street:
    """The hostile street as a :class:`~planner.street.Street` (marked synthetic)."""
    return from_layers(
        hostile_layers(), crs=CRS, name=STREET_NAME, synthetic=True, attribution=ATTRIBUTION
    )


def _write(folder: Path, layers: dict[str, gpd.GeoDataFrame]) -> bytes:
    """Write ``layers`` (WGS84 GeoJSON) and ``street.json`` into ``folder``; zip bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, layer in layers.items():
        layer.to_crs("EPSG:4326").to_file(folder / f"{name}.geojson", driver="GeoJSON")
    meta = {"name": STREET_NAME, "synthetic": True, "attribution": ATTRIBUTION}
    (folder / "street.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.iterdir()):
            zf.write(path, path.name)
    return buf.getvalue()


def write_hostile_folder(folder: Path) -> Path:
    """Write the hostile street as GeoJSON layers (WGS84) and ``street.json``; return it."""
    _write(folder, hostile_layers())
    return folder


def hostile_zip(folder: Path) -> bytes:
    """The hostile street as zip bytes (what the app's upload takes), written via ``folder``."""
    return _write(folder, hostile_layers())


def markdown_households_zip(folder: Path) -> bytes:
    """The hostile street with one building's households a markdown link (review row W11).

    Loading it fails (households must be numbers); the error quotes the value, which
    must show as text, not as a link.
    """
    layers = hostile_layers()
    b = layers["buildings"].copy()
    b["households"] = b["households"].astype(object)
    b.loc[b.index[0], "households"] = PAYLOADS[-1]
    layers["buildings"] = b
    return _write(folder, layers)


if __name__ == "__main__":  # pragma: no cover - manual use
    print(write_hostile_folder(Path(sys.argv[1])))
