"""Makers of the hostile and broken inputs of the review (../shared/reviews/hostile-inputs-2026-12.md).

Every input is made by code here, from the fixture street of ``conftest.py`` or from a
few bytes, so no binary needs to be committed. The review's ids (F12, U08, ...) name
what each maker reproduces.
"""

from __future__ import annotations

import io
import json
import struct
import warnings
import zipfile
import zlib
from pathlib import Path

import geopandas as gpd
import pandas as pd


def geojson_text(gdf: gpd.GeoDataFrame) -> dict:  # type: ignore[type-arg]
    """A layer as a GeoJSON document (dict) in WGS84, to be edited and written as text."""
    return json.loads(gdf.to_crs("EPSG:4326").to_json(drop_id=True))


def write_geojson_text(path: Path, doc: dict, *, raw: str | None = None) -> Path:  # type: ignore[type-arg]
    """Write ``doc`` (or ``raw`` text) as a .geojson file; ``allow_nan`` for NaN/Infinity."""
    path.write_text(raw if raw is not None else json.dumps(doc, ensure_ascii=False), "utf-8")
    return path


def gbk_shapefile_without_cpg(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    """F12: a Shapefile written in GBK with no .cpg and no DBF language id (LDID 0)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 10-character field names
        gdf.to_file(path, driver="ESRI Shapefile", encoding="GBK")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    dbf = path.with_suffix(".dbf")
    data = bytearray(dbf.read_bytes())
    data[29] = 0  # no language driver id: GDAL falls back to ISO-8859-1
    dbf.write_bytes(bytes(data))
    return path


def multi_layer_gpkg(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> Path:
    """F13/F14: one GeoPackage holding several layers, written in the given order."""
    for name, gdf in layers.items():
        gdf.to_file(path, layer=name, driver="GPKG")
    return path


def workbook(
    path: Path, sheets: dict[str, list[list[object]]], *, merged: dict[str, list[str]] | None = None
) -> Path:
    """An .xlsx with ``sheets`` (title -> rows) in order; ``merged``: title -> ranges."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        for rng in (merged or {}).get(title, []):
            ws.merge_cells(rng)
    wb.save(path)
    return path


# ------------------------------------------------------------------------------- zips


def zip_bytes(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _headers(data: bytes) -> tuple[int, int]:
    """Offsets of the first local file header and the first central directory header."""
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    return local, central


def with_bad_crc(data: bytes) -> bytes:
    """U08: the first member's CRC-32 is wrong (in both headers)."""
    out = bytearray(data)
    local, central = _headers(data)
    for off in (local + 14, central + 16):
        (crc,) = struct.unpack_from("<I", out, off)
        struct.pack_into("<I", out, off, crc ^ 0xFFFFFFFF)
    return bytes(out)


def with_flipped_byte(data: bytes) -> bytes:
    """U25: one byte flipped in the middle of the first member's compressed data."""
    out = bytearray(data)
    local, _central = _headers(data)
    name_len, extra_len = struct.unpack_from("<HH", out, local + 26)
    (size,) = struct.unpack_from("<I", out, local + 18)
    start = local + 30 + name_len + extra_len
    out[start + size // 2] ^= 0xFF
    return bytes(out)


def encrypted(data: bytes) -> bytes:
    """U17: the first member flagged as encrypted (general purpose bit 0)."""
    out = bytearray(data)
    local, central = _headers(data)
    for off in (local + 6, central + 8):
        (flags,) = struct.unpack_from("<H", out, off)
        struct.pack_into("<H", out, off, flags | 0x1)
    return bytes(out)


def with_method(data: bytes, method: int = 9) -> bytes:
    """U18: the first member's compression method set to ``method`` (9 = Deflate64)."""
    out = bytearray(data)
    local, central = _headers(data)
    for off in (local + 8, central + 10):
        struct.pack_into("<H", out, off, method)
    return bytes(out)


def lying_size(real: bytes, claimed: int) -> bytes:
    """A stored member whose headers claim ``claimed`` bytes (with the matching CRC)."""
    data = zip_bytes({"buildings.geojson": real}, compression=zipfile.ZIP_STORED)
    out = bytearray(data)
    local, central = _headers(data)
    struct.pack_into("<I", out, local + 22, claimed)
    struct.pack_into("<I", out, central + 24, claimed)
    crc = zlib.crc32(real[:claimed]) & 0xFFFFFFFF
    struct.pack_into("<I", out, local + 14, crc)
    struct.pack_into("<I", out, central + 16, crc)
    return bytes(out)


# --------------------------------------------------------------------------- projects


def project_with_meta(path: Path, rows: dict[str, str]) -> Path:
    """P02/P03: a GeoPackage holding only a ``meta`` table of key -> raw value text."""
    import pyogrio

    pyogrio.write_dataframe(
        pd.DataFrame({"key": list(rows), "value": list(rows.values())}),
        path,
        layer="meta",
        driver="GPKG",
    )
    return path
