"""Stage files uploaded in the app into a folder the loader can read, safely.

A planner uploads either one zip of a street folder, or individual layer files
(``boundary.geojson``, ``stations.csv``, a Shapefile's parts, ...), or an OSM extract
(``.osm`` / ``.osm.pbf``); besides, a separate stations file, a household register or
a project file (read from a private copy by
:func:`planner.grids.project.read_project`). Everything lands in the uploading session's
own folder (:func:`session_folder`), under names the planner makes: a layer file is saved
as its layer's name (``boundary.geojson``; a file named like no layer is refused), an OSM
extract under a name cut to letters, digits, ``-`` and ``_``, a stations file as
``stations.<ext>``, a register as ``register.<ext>``. The browser's file name is never
used as a path.

Zips are checked before anything is written (:func:`check_zip`): the total unpacked
size against ``limit_mb``; the compression ratio of every member and of the whole zip
(a zip bomb); unsafe, too long, clashing or repeated member paths; encrypted members and
compression methods Python cannot unpack (Deflate64). Extraction then counts the bytes
really written, and a damaged member (bad CRC, a flipped byte) is an error naming it.
Every refusal is an :class:`~planner.errors.InputError` naming the file, the member
and the fix; nothing is written outside the destination folder.

Old uploads are removed by :func:`clean_old_uploads` (the app calls it on start-up):
folders older than :data:`MAX_AGE_S` (one day).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import secrets
import shutil
import tempfile
import time
import weakref
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Literal

from planner.errors import InputError, Problem
from planner.i18n import Message, items, msg
from planner.load.readers import FOLDER_LAYERS
from planner.load.validate import short

logger = logging.getLogger(__name__)

#: File endings of GIS layers: GeoJSON, GeoPackage, Shapefile parts, point CSV.
GIS_SUFFIXES: tuple[str, ...] = (
    ".geojson",
    ".json",
    ".gpkg",
    ".shp",
    ".shx",
    ".dbf",
    ".prj",
    ".cpg",
    ".csv",
)
#: File endings the loader reads (layer files, Shapefile parts, tables, metadata).
LAYER_SUFFIXES: tuple[str, ...] = (*GIS_SUFFIXES, ".xlsx", ".md", ".txt")
OSM_SUFFIXES: tuple[str, ...] = (".osm", ".pbf")

#: Names a loose layer file may have (its stem): the folder format's layer names.
LAYER_NAMES: tuple[str, ...] = FOLDER_LAYERS
#: Other loose files a street folder may hold, by their whole name.
OTHER_NAMES: tuple[str, ...] = ("street.json", "readme.md", "provenance.md", "readme.txt")

#: A zip member (or a whole zip) compressed more than this many times is refused.
MAX_RATIO = 100.0
#: At most this many members in an uploaded zip.
MAX_MEMBERS = 2000
#: Longest member path in a zip, characters; each part at most 255 bytes (UTF-8).
MAX_MEMBER_PATH = 400
#: Upload folders older than this are removed on start-up, seconds (one day).
MAX_AGE_S = 24 * 3600

#: Compression methods Python's zipfile unpacks.
SUPPORTED_METHODS: frozenset[int] = frozenset(
    {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
)
#: Names of the other methods met in practice.
METHOD_NAMES: dict[int, str | Message] = {
    9: msg("up_method_deflate64"),
    93: "Zstandard",
    95: "XZ",
    98: "PPMd",
    99: msg("up_method_aes"),
}

#: Prefixes of what this module writes under an upload root (the only names cleaned).
_OURS = ("session-", "upload-", ".staging-", "stations-", "register-", "project-", "grids-")
_SESSION_KEY = re.compile(r"^[0-9a-f]{16,64}$")

ExtraKind = Literal["stations", "register", "station_kinds"]
#: File endings accepted for a separate stations file and a register.
EXTRA_SUFFIXES: dict[str, tuple[str, ...]] = {
    "stations": (".csv", ".geojson", ".json", ".gpkg", ".xlsx"),
    "register": (".csv", ".xlsx"),
    "station_kinds": (".csv", ".xlsx", ".yaml", ".yml"),
}


def _mb(n: int) -> float:
    return n / (1024 * 1024)


def _suffix(name: str) -> str:
    lower = name.lower()
    if lower.endswith(".osm.pbf"):
        return ".pbf"
    if lower.endswith(".osm.xml"):  # SUMO's and other tools' name for OSM XML
        return ".osm"
    return PurePosixPath(lower).suffix


# ------------------------------------------------------------------------ sessions


def new_session_key() -> str:
    """A random key naming one session's upload folder (32 hex digits)."""
    return secrets.token_hex(16)


def session_folder(root: Path, key: str) -> Path:
    """The upload folder of the session holding ``key`` (created; its age reset).

    Raises
    ------
    ValueError
        ``key`` is not 16-64 hex digits (it is made by :func:`new_session_key`, never
        taken from a browser).
    """
    if not _SESSION_KEY.match(key):
        raise ValueError(f"not a session key: {key!r}")
    folder = Path(root) / f"session-{key}"
    folder.mkdir(parents=True, exist_ok=True)
    os.utime(folder)  # in use: not old
    return folder


class SessionUploads:
    """A session's upload folder, removed when the session's state is dropped.

    Kept in the app's session state: when Streamlit drops a session that has ended,
    this object is collected and its folder (everything the session uploaded) goes
    with it; :func:`clean_old_uploads` removes by age what a crashed server left.
    """

    def __init__(self, root: Path) -> None:
        self.key = new_session_key()
        self.folder = session_folder(root, self.key)
        self._remove = weakref.finalize(self, shutil.rmtree, self.folder, True)

    def path(self) -> Path:
        """The folder (made again if it was removed by age), its age reset."""
        return session_folder(self.folder.parent, self.key)


def clean_old_uploads(
    root: Path, *, max_age_s: float = MAX_AGE_S, now: float | None = None
) -> list[Path]:
    """Remove what this module wrote under ``root`` longer than ``max_age_s`` ago.

    Only entries named by this module (``session-*``, ``upload-*``, ...) are touched,
    so a mistaken ``root`` loses nothing else. Returns the entries removed.
    """
    root = Path(root)
    if not root.is_dir():
        return []
    cutoff = (time.time() if now is None else now) - max_age_s
    removed: list[Path] = []
    for entry in root.iterdir():
        if not entry.name.startswith(_OURS) or entry.is_symlink():
            continue
        try:
            if entry.stat().st_mtime >= cutoff:
                continue
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError as exc:  # removed by another process meanwhile, or not ours to remove
            logger.warning("could not remove old upload %s: %s", entry, exc)
            continue
        removed.append(entry)
    if removed:
        logger.info("removed %d upload folder(s) older than %.0f h", len(removed), max_age_s / 3600)
    return removed


# ------------------------------------------------------------------------------ zips


def check_zip(data: bytes, *, name: str, limit_mb: float) -> list[zipfile.ZipInfo]:
    """The members of a zip to extract, after the zip-bomb and path checks.

    Raises
    ------
    InputError
        Corrupt zip; total uncompressed size over ``limit_mb``; the zip or a member
        compressed more than :data:`MAX_RATIO` times; too many members; an absolute
        path, ``..``, a path too long, a path used twice or both as a file and a folder;
        an encrypted member or one compressed by a method Python cannot unpack.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise InputError(
            Problem.of(msg("up_bad_zip", detail=str(exc)), fix=msg("up_fix_bad_zip"), file=name)
        ) from exc
    problems = _size_problems(infos, name=name, limit_mb=limit_mb)
    for info in infos:
        problems += _member_problems(info, name=name)
    problems += _path_clashes(infos, name=name)
    if problems:
        raise InputError(problems)
    return [i for i in infos if not i.is_dir()]


def _size_problems(infos: list[zipfile.ZipInfo], *, name: str, limit_mb: float) -> list[Problem]:
    """Too many members, too big unpacked, or compressed too many times as a whole."""
    problems: list[Problem] = []
    if len(infos) > MAX_MEMBERS:
        problems.append(
            Problem.of(
                msg("up_too_many_members", n=len(infos), limit=MAX_MEMBERS),
                file=name,
                fix=msg("up_fix_zip_layers_only"),
            )
        )
    total = sum(i.file_size for i in infos)
    if _mb(total) > limit_mb:
        problems.append(
            Problem.of(
                msg("up_zip_too_big", mb=_mb(total), limit=limit_mb),
                file=name,
                fix=msg("up_fix_zip_too_big"),
            )
        )
    packed = sum(i.compress_size for i in infos)
    if total > MAX_RATIO * max(packed, 1) and total > 1024 * 1024:
        problems.append(
            Problem.of(
                msg("up_zip_bomb", ratio=total / max(packed, 1), limit=MAX_RATIO),
                file=name,
                fix=msg("up_fix_unzipped"),
            )
        )
    return problems


def _member_problems(info: zipfile.ZipInfo, *, name: str) -> list[Problem]:
    """An unsafe or too long path, a bomb, encryption, an unsupported method."""
    member = short(info.filename, 80)
    problems: list[Problem] = []
    path = PurePosixPath(info.filename.replace("\\", "/"))
    if (
        info.filename.startswith(("/", "\\"))
        or ".." in PurePosixPath(info.filename).parts
        or (bool(path.parts) and ":" in path.parts[0])
    ):
        problems.append(
            Problem.of(
                msg("up_unsafe_path", member=member),
                file=name,
                feature_id=member,
                fix=msg("up_fix_relative_paths"),
            )
        )
    too_long = any(len(p.encode("utf-8")) > 255 for p in path.parts)
    if len(info.filename) > MAX_MEMBER_PATH or too_long:
        problems.append(
            Problem.of(
                msg("up_path_too_long", member=member, n=len(info.filename), limit=MAX_MEMBER_PATH),
                file=name,
                feature_id=member,
                fix=msg("up_fix_short_names"),
            )
        )
    ratio = info.file_size / max(info.compress_size, 1)
    if ratio > MAX_RATIO:
        problems.append(
            Problem.of(
                msg("up_member_bomb", member=member, ratio=ratio),
                file=name,
                feature_id=member,
                fix=msg("up_fix_unzipped"),
            )
        )
    if info.flag_bits & 0x1:
        problems.append(
            Problem.of(
                msg("up_member_encrypted", member=member),
                file=name,
                feature_id=member,
                fix=msg("up_fix_no_password"),
            )
        )
    elif info.compress_type not in SUPPORTED_METHODS:
        method = METHOD_NAMES.get(info.compress_type, msg("up_method_n", n=info.compress_type))
        problems.append(
            Problem.of(
                msg("up_member_method", member=member, method=method),
                file=name,
                feature_id=member,
                fix=msg("up_fix_deflate"),
            )
        )
    return problems


def _path_clashes(infos: list[zipfile.ZipInfo], *, name: str) -> list[Problem]:
    """Member paths used twice, or both as a file and as a folder."""
    files: dict[tuple[str, ...], str] = {}
    problems: list[Problem] = []
    for info in infos:
        parts = _member_parts(info.filename)
        if info.is_dir() or not parts:
            continue
        if parts in files:
            problems.append(
                Problem.of(
                    msg("up_member_twice", member=short(info.filename, 80)),
                    file=name,
                    feature_id=short(info.filename, 80),
                    fix=msg("up_fix_each_once"),
                )
            )
        files[parts] = info.filename
    folders = {parts[:k] for parts in files for k in range(1, len(parts))}
    for parts in sorted(files.keys() & folders):
        member = short(files[parts], 80)
        problems.append(
            Problem.of(
                msg("up_file_and_folder", member=member),
                file=name,
                feature_id=member,
                fix=msg("up_fix_rename"),
            )
        )
    return problems


def _member_parts(filename: str) -> tuple[str, ...]:
    return tuple(p for p in PurePosixPath(filename).parts if p not in ("", "."))


def extract_zip(
    data: bytes, members: Sequence[zipfile.ZipInfo], folder: Path, *, name: str, limit_mb: float
) -> int:
    """Write the checked ``members`` under ``folder``; returns the bytes written.

    Mac OS metadata (``__MACOSX``, ``._*``) is skipped. At most ``limit_mb`` MB are
    written in all, whatever the headers claim.

    Raises
    ------
    InputError
        A damaged member (bad CRC, corrupt data, truncated), more bytes than the
        limit, or a path the file system refuses; naming the zip and the member.
    """
    budget = int(limit_mb * 1024 * 1024)
    written = 0
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in members:
            parts = _member_parts(info.filename)
            if not parts or parts[0] == "__MACOSX" or parts[-1].startswith("._"):
                continue
            out = folder.joinpath(*parts)
            try:
                out.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(out, "wb") as dst:
                    written += _copy_capped(src, dst, budget - written)
            except _OverLimit:
                raise InputError(
                    Problem.of(
                        msg("up_unpacks_over", limit=limit_mb),
                        file=name,
                        feature_id=short(info.filename, 80),
                        fix=msg("up_fix_fewer_layers"),
                    )
                ) from None
            except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
                raise InputError(
                    Problem.of(
                        msg(
                            "up_member_damaged",
                            member=short(info.filename, 80),
                            detail=f"{type(exc).__name__}: {exc}",
                        ),
                        file=name,
                        feature_id=short(info.filename, 80),
                        fix=msg("up_fix_zip_again"),
                    )
                ) from exc
            except OSError as exc:
                raise InputError(
                    Problem.of(
                        msg(
                            "up_member_unwritable",
                            member=short(info.filename, 80),
                            detail=str(exc.strerror or exc),
                        ),
                        file=name,
                        feature_id=short(info.filename, 80),
                        fix=msg("up_fix_plain_names"),
                    )
                ) from exc
    return written


class _OverLimit(Exception):
    pass


def _copy_capped(src: IO[bytes], dst: IO[bytes], budget: int) -> int:
    """Copy until the end of ``src``; more than ``budget`` bytes raises :class:`_OverLimit`."""
    n = 0
    while chunk := src.read(1 << 20):
        n += len(chunk)
        if n > budget:
            raise _OverLimit
        dst.write(chunk)
    return n


# --------------------------------------------------------------------- layer files


def planner_name(fname: str) -> str | None:
    """The name a loose uploaded file is saved under, or None when it names no layer.

    ``Buildings.SHP`` -> ``buildings.shp``; ``street.json`` stays; an OSM extract keeps
    its stem cut to letters, digits, ``-`` and ``_`` (at most 60 characters, the street
    is named by it) with ``.osm`` (also for ``.osm.xml``) or ``.osm.pbf``.
    """
    base = PurePosixPath(fname.replace("\\", "/")).name
    suffix = _suffix(base)
    if suffix in OSM_SUFFIXES:
        two_part = base.lower().endswith((".osm.pbf", ".osm.xml"))
        stem = base[: -len(".osm.pbf")] if two_part else Path(base).stem
        safe = re.sub(r"[^\w-]+", "_", stem, flags=re.UNICODE).strip("_")[:60] or "extract"
        return f"{safe}{'.osm.pbf' if suffix == '.pbf' else '.osm'}"
    if base.lower() in OTHER_NAMES:
        return base.lower()
    stem = base.split(".")[0].strip().lower()
    if stem in LAYER_NAMES and suffix in LAYER_SUFFIXES:
        return f"{stem}{suffix}"
    return None


@dataclass(frozen=True)
class _Upload:
    """The uploaded files, checked: ``(file name, content)`` pairs, and the zip if any."""

    files: Sequence[tuple[str, bytes]]
    zip: tuple[str, bytes] | None


def _checked_upload(files: Sequence[tuple[str, bytes]], *, limit_mb: float) -> _Upload:
    """Refuse an empty or too big upload, unknown file types and names, a zip with more."""
    if not files:
        raise InputError(msg("up_no_file"), fix=msg("up_fix_no_file"))
    total = sum(len(d) for _n, d in files)
    if _mb(total) > limit_mb:
        raise InputError(
            Problem.of(
                msg("up_too_big", mb=_mb(total), limit=limit_mb),
                file=", ".join(short(n) for n, _d in files),
                fix=msg("up_fix_too_big"),
            )
        )
    problems: list[Problem] = []
    for fname, _data in files:
        suffix = _suffix(fname)
        if suffix not in (*LAYER_SUFFIXES, *OSM_SUFFIXES, ".zip"):
            problems.append(
                Problem.of(
                    msg("up_not_layer_type", suffix=short(suffix, 20) or "(none)"),
                    file=short(fname),
                    fix=msg("up_fix_layer_types"),
                )
            )
    if problems:
        raise InputError(problems)
    zips = [(n, d) for n, d in files if _suffix(n) == ".zip"]
    if zips and len(files) > 1:
        raise InputError(
            Problem.of(
                msg("up_zip_and_files"),
                file=", ".join(short(n) for n, _d in files),
                fix=msg("up_fix_one_zip"),
            )
        )
    if not zips:
        _check_loose_names(files)
    return _Upload(files=files, zip=zips[0] if zips else None)


def _check_loose_names(files: Sequence[tuple[str, bytes]]) -> None:
    """Every loose file must name a layer (``boundary.geojson``), once."""
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for fname, _data in files:
        made = planner_name(fname)
        if made is None:
            problems.append(
                Problem.of(
                    msg("up_not_layer_name", name=short(fname)),
                    file=short(fname),
                    fix=msg("up_fix_layer_names", names=list(LAYER_NAMES)),
                )
            )
        elif made in seen:
            problems.append(
                Problem.of(
                    msg("up_same_layer", name=short(fname), other=short(seen[made]), layer=made),
                    file=short(fname),
                    fix=msg("up_fix_one_per_layer"),
                )
            )
        else:
            seen[made] = fname
    if problems:
        raise InputError(problems)


def _digest(files: Sequence[tuple[str, bytes]]) -> str:
    h = hashlib.sha256()
    for name, data in sorted(files):
        h.update(name.encode("utf-8", "surrogatepass"))
        h.update(hashlib.sha256(data).digest())
    return h.hexdigest()[:16]


def stage_upload(files: Sequence[tuple[str, bytes]], *, dest: Path, limit_mb: float) -> Path:
    """Write uploaded files into a new folder under ``dest`` and return what to load.

    Parameters
    ----------
    files
        ``(file name, content)`` pairs as uploaded. Names only choose the layer (or
        are cut to a safe stem for an OSM extract); they are never used as paths.
    dest
        Folder under which a sub-folder named by the content digest is created (the
        session's folder, :func:`session_folder`).
    limit_mb
        Largest total upload (and largest unpacked zip), MB (``Settings.upload_limit_mb``).

    Returns
    -------
    pathlib.Path
        The street folder, or the OSM extract file when one ``.osm``/``.osm.pbf`` was given.

    Raises
    ------
    InputError
        Nothing uploaded, too big, a zip bomb, a corrupt or damaged zip, an unknown
        file type or a file named like no layer.
    """
    upload = _checked_upload(files, limit_mb=limit_mb)
    members = (
        check_zip(upload.zip[1], name=short(upload.zip[0]), limit_mb=limit_mb)
        if upload.zip is not None
        else []
    )
    target = Path(dest) / f"upload-{_digest(files)}"
    if target.exists():
        os.utime(target)
        return _result(target)
    Path(dest).mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".staging-", dir=dest))
    try:
        if upload.zip is not None:
            name, data = upload.zip
            extract_zip(data, members, tmp, name=short(name), limit_mb=limit_mb)
        else:
            for fname, data in upload.files:
                (tmp / str(planner_name(fname))).write_bytes(data)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info("staged %d uploaded file(s) in %s", len(files), target)
    return _result(target)


def stage_extra(kind: ExtraKind, fname: str, data: bytes, *, dest: Path, limit_mb: float) -> Path:
    """Save a separate stations file or household register as ``<kind>.<ext>``.

    Returns the saved file, in a folder of ``dest`` named by the content digest.

    Raises
    ------
    InputError
        Too big, or a file type the loader does not read for ``kind``.
    """
    suffix = _suffix(fname)
    allowed = EXTRA_SUFFIXES[kind]
    if suffix not in allowed:
        raise InputError(
            Problem.of(
                msg(
                    "up_extra_type",
                    suffix=short(suffix, 20) or msg("up_no_suffix"),
                    kind=msg(f"up_extra_kind_{kind}"),
                ),
                file=short(fname),
                fix=msg("up_fix_extra_type", types=items(allowed, sep=(" 或 ", " or "))),
            )
        )
    if _mb(len(data)) > limit_mb:
        raise InputError(
            Problem.of(
                msg("up_file_too_big", mb=_mb(len(data)), limit=limit_mb),
                file=short(fname),
                fix=msg("up_fix_smaller_file"),
            )
        )
    folder = Path(dest) / f"{kind}-{_digest([(suffix, data)])}"
    path = folder / f"{kind}{suffix}"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(path, data)
    return path


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _result(folder: Path) -> Path:
    """The folder to load: descend into a single top folder; an OSM file on its own."""
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir():
        return _result(entries[0])
    osm = [p for p in entries if _suffix(p.name) in OSM_SUFFIXES]
    if len(osm) == 1 and not any(p.stem.startswith("boundary") for p in entries):
        return osm[0]
    return folder
