"""Staging uploaded files safely (planner/load/uploads.py)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from planner.errors import InputError
from planner.load.uploads import check_zip, stage_upload
from tests.hostile_inputs import zip_bytes


def _zip(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    return zip_bytes(members, compression=compression)


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


def test_an_osm_xml_upload_is_staged_as_osm(tmp_path: Path) -> None:
    """SUMO and other tools name OSM XML ``.osm.xml`` (issue 13, item 9)."""
    osm = stage_upload([("学院路 map.osm.xml", b"<osm/>")], dest=tmp_path, limit_mb=10)
    assert osm.name == "学院路_map.osm" and osm.read_bytes() == b"<osm/>"


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


# ---------------------------------------------------------------- hostile zips (review U..)


def test_u06_many_small_bomb_members_are_refused(tmp_path: Path) -> None:
    """150 x 1 MiB of zeros slipped under a guard that looked only at members > 1 MiB."""
    from tests.hostile_inputs import zip_bytes

    data = zip_bytes({f"m{i}.geojson": b"\0" * (1024 * 1024) for i in range(40)})
    with pytest.raises(InputError) as err:
        stage_upload([("many.zip", data)], dest=tmp_path, limit_mb=200)
    assert "member 'm0.geojson' is compressed" in str(err.value)
    assert "the zip is compressed" in str(err.value)  # the whole zip too
    small = zip_bytes({f"s{i}.csv": b"\0" * 65536 for i in range(10)})
    with pytest.raises(InputError, match=r"member 's0\.csv' is compressed \d+ times"):
        check_zip(small, name="small.zip", limit_mb=200)
    assert not list(tmp_path.iterdir()) or not list(tmp_path.glob("upload-*"))


def test_extraction_counts_the_bytes_really_written(tmp_path: Path) -> None:
    import os
    import zipfile

    from planner.load.uploads import extract_zip
    from tests.hostile_inputs import zip_bytes

    data = zip_bytes({"buildings.geojson": os.urandom(3 * 1024 * 1024)})
    members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    with pytest.raises(InputError, match=r"unpacks to more than 1 MB \(its headers said less\)"):
        extract_zip(data, members, tmp_path, name="z.zip", limit_mb=1)


@pytest.mark.parametrize(
    ("damage", "words"),
    [("with_bad_crc", "Bad CRC-32"), ("with_flipped_byte", "damaged")],
    ids=["U08", "U25"],
)
def test_u08_u25_damaged_members_name_the_member(tmp_path: Path, damage: str, words: str) -> None:
    import tests.hostile_inputs as h

    text = ("".join(f'{{"id": {i}, "name": "楼{i}"}},' for i in range(3000))).encode()
    data = getattr(h, damage)(h.zip_bytes({"street/buildings.geojson": text}))
    with pytest.raises(InputError) as err:
        stage_upload([("street.zip", data)], dest=tmp_path, limit_mb=10)
    (p,) = err.value.problems
    assert p.file == "street.zip" and p.feature_id == "street/buildings.geojson"
    assert "is damaged" in p.message and words in p.message
    assert "zip the files again" in p.fix
    assert not list(tmp_path.glob("upload-*")) and not list(tmp_path.glob(".staging-*"))


def test_u15_a_4200_character_member_path_is_refused_briefly(tmp_path: Path) -> None:
    from tests.hostile_inputs import zip_bytes

    long = "/".join(["d" * 200] * 20) + "/boundary.geojson"
    assert len(long) > 4000
    with pytest.raises(InputError) as err:
        stage_upload([("long.zip", zip_bytes({long: b"{}"}))], dest=tmp_path, limit_mb=10)
    (p,) = err.value.problems
    assert f"is {len(long):,} characters long (at most 400" in p.message
    assert len(str(err.value)) < 600  # the path is not repeated in full


def test_u16_a_file_and_a_folder_of_the_same_name_are_refused(tmp_path: Path) -> None:
    from tests.hostile_inputs import zip_bytes

    data = zip_bytes({"street/roads": b"x", "street/roads/roads.geojson": b"{}"})
    with pytest.raises(InputError, match="'street/roads' is both a file and a folder"):
        stage_upload([("clash.zip", data)], dest=tmp_path, limit_mb=10)
    twice = zip_bytes({"a/boundary.geojson": b"{}"})
    import zipfile

    buf = io.BytesIO(twice)
    with zipfile.ZipFile(buf, "a") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        zf.writestr("a/boundary.geojson", b"[]")
    with pytest.raises(InputError, match="appears twice in the zip"):
        check_zip(buf.getvalue(), name="twice.zip", limit_mb=10)


def test_u17_u18_encrypted_and_deflate64_members_are_refused(tmp_path: Path) -> None:
    from tests.hostile_inputs import encrypted, with_method, zip_bytes

    plain = zip_bytes({"street/boundary.geojson": b'{"type": "FeatureCollection"}'})
    with pytest.raises(InputError) as err:
        stage_upload([("secret.zip", encrypted(plain))], dest=tmp_path, limit_mb=10)
    assert "member 'street/boundary.geojson' is encrypted" in str(err.value)
    assert "without a password" in err.value.problems[0].fix
    with pytest.raises(InputError) as err:
        stage_upload([("big.zip", with_method(plain, 9))], dest=tmp_path, limit_mb=10)
    assert "compressed with Deflate64" in str(err.value)
    assert "standard Deflate" in err.value.problems[0].fix


# ---------------------------------------------------------------- names, sessions, cleaning


def test_loose_files_are_saved_under_names_the_planner_makes(tmp_path: Path) -> None:
    folder = stage_upload(
        [
            ("../../outside/Boundary.GeoJSON", b"{}"),
            ("C:\\Users\\x\\BUILDINGS.shp", b"shp"),
            ("buildings.DBF", b"dbf"),
            ("street.json", b"{}"),
        ],
        dest=tmp_path,
        limit_mb=10,
    )
    assert sorted(p.name for p in folder.iterdir()) == [
        "boundary.geojson",
        "buildings.dbf",
        "buildings.shp",
        "street.json",
    ]
    assert folder.parent == tmp_path and not (tmp_path.parent / "outside").exists()
    osm = stage_upload([("../../evil name!.osm.pbf", b"\0")], dest=tmp_path, limit_mb=10)
    assert osm.name == "evil_name.osm.pbf" and osm.parent.parent == tmp_path


def test_loose_files_named_like_no_layer_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        stage_upload(
            [("boundary.geojson", b"{}"), ("my roads.geojson", b"{}")], dest=tmp_path, limit_mb=10
        )
    (p,) = err.value.problems
    assert "'my roads.geojson' is not named like a layer" in p.message
    assert "boundary, communities, compounds, buildings, roads" in p.fix
    with pytest.raises(InputError, match=r"are both boundary\.geojson"):
        stage_upload(
            [("boundary.geojson", b"{}"), ("BOUNDARY.geojson", b"[]")], dest=tmp_path, limit_mb=10
        )


def test_u21_a_stations_file_is_saved_as_stations_whatever_its_name(tmp_path: Path) -> None:
    """Review U21/W09: the app joined the browser's name onto the upload folder."""
    from planner.load.uploads import stage_extra

    secret = tmp_path / "outside" / "secret.csv"
    secret.parent.mkdir()
    secret.write_text("api_key,password\n1,2\n")
    dest = tmp_path / "uploads"
    path = stage_extra(
        "stations", "../outside/secret.csv", b"lon,lat\n116.3,39.9\n", dest=dest, limit_mb=10
    )
    assert path.name == "stations.csv" and path.parent.parent == dest
    assert path.read_bytes() == b"lon,lat\n116.3,39.9\n"
    assert secret.read_text() == "api_key,password\n1,2\n"
    reg = stage_extra("register", "台账.XLSX", b"PK", dest=dest, limit_mb=10)
    assert reg.name == "register.xlsx"
    with pytest.raises(InputError, match=r"file type \.exe is not a register file"):
        stage_extra("register", "x.exe", b"MZ", dest=dest, limit_mb=10)
    kinds = stage_extra("station_kinds", "../类型对照.csv", b"text,kind\n", dest=dest, limit_mb=10)
    assert kinds.name == "station_kinds.csv" and kinds.parent.parent == dest
    yml = stage_extra("station_kinds", "类型对照.YML", b"a: other\n", dest=dest, limit_mb=10)
    assert yml.name == "station_kinds.yml"


def test_each_session_has_its_own_folder(tmp_path: Path) -> None:
    from planner.load.uploads import new_session_key, session_folder

    a, b = new_session_key(), new_session_key()
    fa, fb = session_folder(tmp_path, a), session_folder(tmp_path, b)
    assert fa != fb and fa.parent == fb.parent == tmp_path
    one = stage_upload([("boundary.geojson", b"A")], dest=fa, limit_mb=1)
    two = stage_upload([("boundary.geojson", b"B")], dest=fb, limit_mb=1)
    assert one.parent == fa and two.parent == fb
    assert (one / "boundary.geojson").read_bytes() == b"A"
    for bad in ("../x", "abc", "0" * 12 + "/../.."):
        with pytest.raises(ValueError, match="not a session key"):
            session_folder(tmp_path, bad)


def test_old_upload_folders_are_cleaned_and_nothing_else(tmp_path: Path) -> None:
    import os
    import time

    from planner.load.uploads import MAX_AGE_S, clean_old_uploads, session_folder

    old = session_folder(tmp_path, "a" * 32)
    (old / "upload-1").mkdir()
    new = session_folder(tmp_path, "b" * 32)
    legacy = tmp_path / "project-upload.gpkg"
    legacy.write_bytes(b"x")
    mine = tmp_path / "notes.txt"  # not written by the planner: never removed
    mine.write_text("keep")
    past = time.time() - MAX_AGE_S - 60
    for p in (old, legacy, mine):
        os.utime(p, (past, past))
    removed = clean_old_uploads(tmp_path)
    assert sorted(removed) == sorted([old, legacy])
    assert not old.exists() and new.exists() and mine.exists()
    assert clean_old_uploads(tmp_path / "missing") == []


def test_a_sessions_upload_folder_goes_with_its_state(tmp_path: Path) -> None:
    """Issue 18: the uploads of a session are removed when the session ends (its state,
    holding the SessionUploads, is dropped), not only by age at start-up."""
    import gc

    from planner.load.uploads import SessionUploads

    state = {"uploads": SessionUploads(tmp_path)}
    other = SessionUploads(tmp_path)
    folder = state["uploads"].path()
    (folder / "stations.csv").write_text("lon,lat\n")
    assert folder.is_dir() and folder != other.path()
    del state
    gc.collect()
    assert not folder.exists()
    assert other.path().is_dir()  # another session's folder stays
