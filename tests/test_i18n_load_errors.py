"""Upload and source errors that reach the app read fully in Chinese (issue 19 item 6):
no English detail behind the Chinese lead sentence ("无法读取数据：…"), while the
English text (CLI, logs) stays as it was."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from planner.errors import InputError, error_text
from planner.load.sources import load_street
from planner.load.uploads import check_zip, stage_extra, stage_upload
from tests.hostile_inputs import encrypted, with_method, zip_bytes

#: English words a Chinese rendering must not contain (beyond file names and codes).
ENGLISH = re.compile(r"\b(the|is|zip again|cannot|file type|member|upload|give|folder)\b")


def _zh(exc: InputError) -> str:
    text = error_text(exc, "zh")
    assert "无法读取数据" not in text, text  # the untranslated lead sentence
    return text


def test_zip_member_problems_read_in_chinese(tmp_path: Path) -> None:
    plain = zip_bytes({"street/boundary.geojson": b'{"type": "FeatureCollection"}'})
    with pytest.raises(InputError) as err:
        stage_upload([("secret.zip", encrypted(plain))], dest=tmp_path, limit_mb=10)
    zh = _zh(err.value)
    assert "成员 'street/boundary.geojson' 已加密" in zh and "请不设密码重新压缩文件" in zh, zh
    assert not ENGLISH.search(zh), zh
    assert "member 'street/boundary.geojson' is encrypted" in str(err.value)  # English kept
    with pytest.raises(InputError) as err:
        stage_upload([("big.zip", with_method(plain, 9))], dest=tmp_path, limit_mb=10)
    zh = _zh(err.value)
    assert "使用 Deflate64（Windows 资源管理器压缩大文件时所用） 压缩，规划工具无法解压" in zh, zh
    assert "标准 Deflate" in zh and not ENGLISH.search(zh), zh
    clash = zip_bytes({"street/roads": b"x", "street/roads/roads.geojson": b"{}"})
    with pytest.raises(InputError) as err:
        stage_upload([("clash.zip", clash)], dest=tmp_path, limit_mb=10)
    assert "'street/roads' 在 ZIP 中既是文件又是文件夹" in _zh(err.value)


def test_a_zip_path_climbing_out_reads_in_chinese() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../evil.geojson", b"{}")
    with pytest.raises(InputError) as err:
        check_zip(buf.getvalue(), name="evil.zip", limit_mb=10)
    zh = _zh(err.value)
    assert "ZIP 中的路径 '../evil.geojson' 不安全" in zh and "请用相对路径压缩文件夹" in zh, zh
    assert "unsafe path '../evil.geojson' in the zip" in str(err.value)


def test_a_stations_file_of_the_wrong_type_or_size_reads_in_chinese(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        stage_extra("stations", "stations.docx", b"x", dest=tmp_path, limit_mb=10)
    zh = _zh(err.value)
    assert "文件类型 .docx 不是服务站文件" in zh and " 或 " in zh, zh
    assert not ENGLISH.search(zh), zh
    assert "file type .docx is not a stations file" in str(err.value)
    assert " or " in err.value.problems[0].fix  # "upload a .csv or .xlsx ... file"
    with pytest.raises(InputError) as err:
        stage_extra("stations", "stations.csv", b"x" * 2_100_000, dest=tmp_path, limit_mb=1)
    assert "该文件为 2.0 MB，超过 1 MB 的上限" in _zh(err.value)


def test_a_missing_source_reads_in_chinese(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(InputError) as err:
        load_street(str(missing))
    zh = _zh(err.value)
    assert f"找不到文件或文件夹：{missing}" in zh and "place:地名" in zh, zh
    assert f"no such file or folder: {missing}" in str(err.value)
    odd = tmp_path / "street.txt"
    odd.write_text("x", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_street(str(odd))
    assert "既不是文件夹，也不是 OpenStreetMap 数据" in _zh(err.value)
