"""Staging uploaded files safely (planner/load/uploads.py)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from planner.errors import InputError
from planner.load.uploads import check_zip, stage_upload


def _zip(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_zip_of_a_folder_is_extracted_and_the_folder_returned(tmp_path: Path) -> None:
    data = _zip(
        {
            "mystreet/boundary.geojson": b'{"type":"FeatureCollection","features":[]}',
            "mystreet/stations.csv": "name,longitude,latitude\n站,116.3,39.9\n".encode(),
        }
    )
    folder = stage_upload([("mystreet.zip", data)], dest=tmp_path, limit_mb=10)
    assert folder.name == "mystreet"
    assert (folder / "boundary.geojson").is_file()
    assert "站" in (folder / "stations.csv").read_text(encoding="utf-8")
    # same content again: the same staged folder, nothing re-extracted
    assert stage_upload([("mystreet.zip", data)], dest=tmp_path, limit_mb=10) == folder


def test_separate_layer_files_and_an_osm_extract(tmp_path: Path) -> None:
    folder = stage_upload(
        [("boundary.geojson", b"{}"), ("roads.geojson", b"{}")], dest=tmp_path, limit_mb=10
    )
    assert sorted(p.name for p in folder.iterdir()) == ["boundary.geojson", "roads.geojson"]
    osm = stage_upload([("area.osm.pbf", b"\x00\x01")], dest=tmp_path, limit_mb=10)
    assert osm.name == "area.osm.pbf" and osm.is_file()


def test_zip_bomb_is_refused_before_extracting(tmp_path: Path) -> None:
    bomb = _zip({"buildings.geojson": b"0" * (30 * 1024 * 1024)})  # ~30 KB compressed
    assert len(bomb) < 100_000
    with pytest.raises(InputError, match=r"unpacks to 30\.0 MB, over the 20 MB limit") as err:
        stage_upload([("bomb.zip", bomb)], dest=tmp_path, limit_mb=20)
    assert "compressed" in str(err.value)  # the ratio check names it too
    assert not list(tmp_path.glob("upload-*"))  # nothing written
    with pytest.raises(InputError, match="zip bomb"):
        check_zip(bomb, name="bomb.zip", limit_mb=1000)


def test_corrupt_zip_too_big_unknown_type_and_unsafe_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a readable zip"):
        stage_upload([("street.zip", b"PK\x03\x04 not really")], dest=tmp_path, limit_mb=10)
    with pytest.raises(InputError, match="over the 1 MB limit"):
        stage_upload([("buildings.geojson", b"x" * (2 * 1024 * 1024))], dest=tmp_path, limit_mb=1)
    with pytest.raises(InputError, match=r"file type \.exe"):
        stage_upload([("virus.exe", b"MZ")], dest=tmp_path, limit_mb=10)
    with pytest.raises(InputError, match="unsafe path"):
        stage_upload([("evil.zip", _zip({"../escape.geojson": b"{}"}))], dest=tmp_path, limit_mb=10)
    with pytest.raises(InputError, match="no file"):
        stage_upload([], dest=tmp_path, limit_mb=10)
    assert not (tmp_path.parent / "escape.geojson").exists()
