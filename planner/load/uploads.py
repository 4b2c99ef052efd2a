"""Stage files uploaded in the app into a folder the loader can read, safely.

A planner uploads either one zip of a street folder, or individual layer files
(``boundary.geojson``, ``stations.csv``, a Shapefile's parts, ...), or an OSM extract
(``.osm`` / ``.osm.pbf``). :func:`stage_upload` checks sizes first (the total against
``limit_mb``; for a zip, the total *uncompressed* size and the compression ratio of
every member, before anything is extracted, so a zip bomb is refused without filling
the disk), refuses unsafe member paths, and writes the files into a fresh folder named
by the content's SHA-256 digest. Every refusal is an :class:`~planner.errors.InputError`
naming the file and the fix; nothing is written outside ``dest``.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from planner.errors import InputError, Problem

logger = logging.getLogger(__name__)

#: File endings the loader reads (layer files, Shapefile parts, tables, metadata).
LAYER_SUFFIXES: tuple[str, ...] = (
    ".geojson",
    ".json",
    ".gpkg",
    ".shp",
    ".shx",
    ".dbf",
    ".prj",
    ".cpg",
    ".csv",
    ".xlsx",
    ".md",
    ".txt",
)
OSM_SUFFIXES: tuple[str, ...] = (".osm", ".pbf")

#: A zip member compressed more than this many times is refused (zip-bomb guard).
MAX_RATIO = 100.0
#: At most this many members in an uploaded zip.
MAX_MEMBERS = 2000


def _mb(n: int) -> float:
    return n / (1024 * 1024)


def _suffix(name: str) -> str:
    lower = name.lower()
    if lower.endswith(".osm.pbf"):
        return ".pbf"
    return PurePosixPath(lower).suffix


def check_zip(data: bytes, *, name: str, limit_mb: float) -> list[zipfile.ZipInfo]:
    """The members of a zip to extract, after the zip-bomb and path checks.

    Raises
    ------
    InputError
        Corrupt zip; total uncompressed size over ``limit_mb``; a member with a
        compression ratio over :data:`MAX_RATIO`; too many members; an absolute path
        or ``..`` in a member name.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(
            Problem(
                f"not a readable zip file ({exc})",
                file=name,
                fix="upload the zip again, or the layer files one by one",
            )
        ) from exc
    problems: list[Problem] = []
    if len(infos) > MAX_MEMBERS:
        problems.append(
            Problem(
                f"the zip holds {len(infos)} files (at most {MAX_MEMBERS})",
                file=name,
                fix="zip only the street's layer files",
            )
        )
    total = sum(i.file_size for i in infos)
    if _mb(total) > limit_mb:
        problems.append(
            Problem(
                f"the zip unpacks to {_mb(total):.1f} MB, over the {limit_mb:g} MB limit",
                file=name,
                fix="upload fewer or smaller layers, or raise Settings.upload_limit_mb",
            )
        )
    for info in infos:
        member = PurePosixPath(info.filename)
        unsafe = (
            info.filename.startswith(("/", "\\"))
            or ".." in member.parts
            or (bool(member.parts) and ":" in member.parts[0])
        )
        if unsafe:
            problems.append(
                Problem(
                    f"unsafe path {info.filename!r} in the zip",
                    file=name,
                    fix="zip the folder with relative paths",
                )
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1024 * 1024 and ratio > MAX_RATIO:
            problems.append(
                Problem(
                    f"member {info.filename!r} is compressed {ratio:.0f} times (a zip bomb?)",
                    file=name,
                    fix="upload the layer files unzipped",
                )
            )
    if problems:
        raise InputError(problems)
    return [i for i in infos if not i.is_dir()]


def _digest(files: Sequence[tuple[str, bytes]]) -> str:
    h = hashlib.sha256()
    for name, data in sorted(files):
        h.update(name.encode("utf-8"))
        h.update(hashlib.sha256(data).digest())
    return h.hexdigest()[:16]


def stage_upload(files: Sequence[tuple[str, bytes]], *, dest: Path, limit_mb: float) -> Path:
    """Write uploaded files into a new folder under ``dest`` and return what to load.

    Parameters
    ----------
    files
        ``(file name, content)`` pairs as uploaded.
    dest
        Folder under which a sub-folder named by the content digest is created.
    limit_mb
        Largest total upload (and largest unpacked zip), MB (``Settings.upload_limit_mb``).

    Returns
    -------
    pathlib.Path
        The street folder, or the OSM extract file when one ``.osm``/``.osm.pbf`` was given.

    Raises
    ------
    InputError
        Nothing uploaded, too big, a zip bomb, a corrupt zip, an unknown file type.
    """
    if not files:
        raise InputError("no file uploaded", fix="choose a zip of the street folder or layer files")
    problems: list[Problem] = []
    total = sum(len(d) for _n, d in files)
    if _mb(total) > limit_mb:
        raise InputError(
            Problem(
                f"the upload is {_mb(total):.1f} MB, over the {limit_mb:g} MB limit",
                file=", ".join(n for n, _d in files),
                fix="upload fewer or smaller files",
            )
        )
    for fname, _data in files:
        suffix = _suffix(fname)
        if suffix not in (*LAYER_SUFFIXES, *OSM_SUFFIXES, ".zip"):
            problems.append(
                Problem(
                    f"file type {suffix or '(none)'} is not a layer file",
                    file=fname,
                    fix="upload GeoJSON, GeoPackage, Shapefile parts, CSV/XLSX, an .osm/.osm.pbf "
                    "extract, or a zip of the street folder",
                )
            )
    if problems:
        raise InputError(problems)
    zips = [(n, d) for n, d in files if _suffix(n) == ".zip"]
    if zips and len(files) > 1:
        raise InputError(
            Problem(
                "upload either one zip or separate layer files, not both",
                file=", ".join(n for n, _d in files),
                fix="upload one zip",
            )
        )
    target = Path(dest) / f"upload-{_digest(files)}"
    if target.exists():
        return _result(target)
    dest.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".staging-", dir=dest))
    try:
        if zips:
            name, data = zips[0]
            members = check_zip(data, name=name, limit_mb=limit_mb)
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                for info in members:
                    parts = [p for p in PurePosixPath(info.filename).parts if p not in ("", ".")]
                    if not parts or parts[0] == "__MACOSX" or parts[-1].startswith("._"):
                        continue
                    out = tmp.joinpath(*parts)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src, open(out, "wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
        else:
            for fname, data in files:
                (tmp / PurePosixPath(fname).name).write_bytes(data)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info("staged %d uploaded file(s) in %s", len(files), target)
    return _result(target)


def _result(folder: Path) -> Path:
    """The folder to load: descend into a single top folder; an OSM file on its own."""
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir():
        return _result(entries[0])
    osm = [p for p in entries if _suffix(p.name) in OSM_SUFFIXES]
    if len(osm) == 1 and not any(p.stem.startswith("boundary") for p in entries):
        return osm[0]
    return folder
