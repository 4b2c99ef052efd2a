"""The app's computed results kept on disk between server starts (issue 19 item 9).

``st.cache_data`` lives in the server process: every fresh ``streamlit run`` loaded the
street, computed its walking circles and grid division and drew the red map again
(about 6 CPU seconds of a cold open on the demo street). :func:`remembered` keeps these
results in a folder, so a restarted app opens a street it has seen at once.

A result is found again only for exactly the same inputs: its key digests

- the street's input files, by content (:func:`source_digest`: the demo street's folder,
  an uploaded folder or extract and its separate stations, register and kinds files);
  a source that is not files (``place:``, a city run) is never stored;
- the caller's parts (the settings JSON of the step, the map's language, layers, ...);
- the planner's own code and the versions of the libraries that compute or draw
  (:func:`code_digest`), so an upgrade or an edited module never serves an old answer.

The folder is ``$PLANNER_APP_CACHE`` (``off`` or an empty value: nothing is stored),
else ``$XDG_CACHE_HOME/planner/app`` (``~/.cache/planner/app``). It holds at most
:data:`KEEP` results, the least recently used removed first. Entries are pickles, read
back only from this folder, which is created private (mode 0700), and only when the
entry and the folder belong to this user and nobody else may write them (a pickle is
code). A damaged entry is removed and computed again. The test suite sets
``PLANNER_APP_CACHE=off`` (``tests/conftest.py``): tests replace the computations.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
from collections.abc import Callable, Iterable
from functools import cache, lru_cache
from importlib import metadata
from pathlib import Path
from typing import TypeVar

from planner._atomic import write_bytes

logger = logging.getLogger(__name__)

T = TypeVar("T")
#: The environment variable naming the folder (``off``: no disk cache).
ENV = "PLANNER_APP_CACHE"
#: Results kept at most (street, coverage, grids and maps of a few streets and settings).
KEEP = 96
#: Libraries whose version is part of every key (they compute or draw the results).
LIBRARIES = ("geopandas", "shapely", "pyproj", "pandas", "numpy", "networkx", "folium", "branca")
_SUFFIX = ".pkl"


def store_dir() -> Path | None:
    """The folder results are kept in, or ``None`` when the disk cache is off."""
    value = os.environ.get(ENV)
    if value is not None:
        return None if value.strip().lower() in ("", "off", "0", "no") else Path(value)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "planner" / "app"


@cache
def code_digest() -> str:
    """A digest of the planner package's files (code, templates, map assets; not the
    compiled caches in ``__pycache__``) and the versions in :data:`LIBRARIES`."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    files = (p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in sorted(files):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    for name in LIBRARIES:
        try:
            h.update(f"{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{name}=none".encode())
    return h.hexdigest()


def _source_files(source: dict[str, object]) -> list[Path] | None:
    """The files a street source reads (``None``: not a source made of files)."""
    kind = source.get("kind", "demo")
    if kind == "demo":
        from planner.load.sources import demo_dir

        roots = [demo_dir()]
    elif kind in ("upload", "osm") and isinstance(source.get("path"), str):
        roots = [Path(str(source["path"]))]
        roots += [
            Path(str(source[k])) for k in ("stations", "register", "station_kinds") if source.get(k)
        ]
    else:
        return None
    files: list[Path] = []
    for root in roots:
        if root.is_dir():
            files += sorted(p for p in root.rglob("*") if p.is_file())
        elif root.is_file():
            files.append(root)
        else:
            return None  # a missing input: the load reports it, nothing is stored
    return files


@lru_cache(maxsize=32)
def _files_digest(signature: tuple[tuple[str, int, int], ...]) -> str:
    h = hashlib.sha256()
    for name, _size, _mtime in signature:
        h.update(name.encode())
        h.update(hashlib.sha256(Path(name).read_bytes()).digest())
    return h.hexdigest()


def source_digest(source_json: str) -> str | None:
    """A digest of the street source's input files by content, with the source's other
    fields (points CRS, ...); ``None`` for a source that is not files.

    Files are read once per process while their size and modification time stay the same.
    """
    source = json.loads(source_json)
    files = _source_files(source) if isinstance(source, dict) else None
    if files is None:
        return None
    signature = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    fields = {
        k: v
        for k, v in source.items()
        if k not in ("path", "stations", "register", "station_kinds")
    }
    return hashlib.sha256(
        (json.dumps(fields, sort_keys=True) + _files_digest(signature)).encode()
    ).hexdigest()


def entry_path(kind: str, source_json: str, parts: Iterable[str]) -> Path | None:
    """Where the result ``kind`` of the source and ``parts`` is kept (``None``: not kept)."""
    folder = store_dir()
    if folder is None:
        return None
    digest = source_digest(source_json)
    if digest is None:
        return None
    h = hashlib.sha256("\0".join([code_digest(), kind, digest, *parts]).encode())
    return folder / f"{kind}-{h.hexdigest()[:40]}{_SUFFIX}"


def has(kind: str, source_json: str, parts: Iterable[str]) -> bool:
    """Whether the result is kept on disk (it may still prove unreadable)."""
    try:
        path = entry_path(kind, source_json, parts)
    except OSError:  # an input file vanished while hashing: not kept
        return False
    return path is not None and path.is_file()


def remembered(kind: str, source_json: str, parts: Iterable[str], compute: Callable[[], T]) -> T:
    """The kept result ``kind`` for the street source and ``parts``, else ``compute()``
    kept for the next server start.

    Errors of ``compute`` are raised and nothing is kept; a disk that cannot be written
    costs only the keeping (logged).
    """
    try:
        path = entry_path(kind, source_json, list(parts))
    except OSError:  # an input file vanished while hashing: the load says so
        path = None
    if path is None:
        return compute()
    if path.is_file() and _private(path):
        try:
            value: T = pickle.loads(path.read_bytes())  # our own private folder
            os.utime(path)  # recently used: kept by the pruning
            return value
        except Exception:  # a damaged or stale entry: computed again
            logger.warning("app cache entry %s unreadable; computing again", path.name)
            path.unlink(missing_ok=True)
    value = compute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_bytes(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        prune(path.parent)
    except (OSError, pickle.PicklingError, TypeError, AttributeError) as exc:
        logger.warning("app cache: %s not kept (%s)", path.name, exc)
    return value


def _private(path: Path) -> bool:
    """Whether the entry ``path`` and its folder belong to this user and nobody else may
    write them (a pickle is code: one planted by another account is never read)."""
    if not hasattr(os, "getuid"):  # Windows: the profile folder's ACLs protect it
        return True
    try:
        stats = [path.stat(), path.parent.stat()]
    except OSError:
        return False
    ok = all(st.st_uid == os.getuid() and not st.st_mode & 0o022 for st in stats)
    if not ok:
        logger.warning(
            "app cache %s is writable by others or not yours: not read (set %s)",
            path.parent,
            ENV,
        )
    return ok


def prune(folder: Path, keep: int = KEEP) -> None:
    """Remove all but the ``keep`` most recently used results of ``folder``."""
    entries = []
    for p in folder.glob(f"*{_SUFFIX}"):
        try:
            entries.append((p.stat().st_mtime_ns, p))
        except OSError:
            continue
    for _mtime, p in sorted(entries, reverse=True)[keep:]:
        p.unlink(missing_ok=True)


def clear() -> None:
    """Remove every kept result (the folder itself stays)."""
    folder = store_dir()
    if folder is not None and folder.is_dir():
        for p in folder.glob(f"*{_SUFFIX}"):
            p.unlink(missing_ok=True)
