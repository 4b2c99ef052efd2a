"""The project file: the grid editor's working state saved as one GeoPackage.

Layers (all in the street's projected CRS)

========================  ==============================================================
``grids``                 the current grids (readable in any desktop GIS)
``atoms``                 atoms with the ``code`` of their grid
``communities``           the community table the division used
``street_boundary``,      the street layers the rules need, so a project reopens
``street_communities``,   without its source
``street_compounds``,
``street_buildings``
``history``               table: one row per applied edit (op, args as JSON, message, time)
``meta``                  table of key/value JSON: format version, settings, locked grids,
                          retired codes (never given again), reasons, undo and redo
                          stacks, names of extra layers
``extra_<name>``          layers or tables other parts of the planner store with the
                          project (e.g. siting scenarios, the organisation edits); a
                          save keeps the extras already in the file that it does not
                          name, so the grid editor's autosave never drops them
========================  ==============================================================

Writes are atomic: everything is written to a temporary file in the same folder,
which then replaces the project with :func:`os.replace`. A crash mid-save leaves
the previous project file as it was (and its temporary file is removed by the next
save). Saves of one project run one at a time: each holds the project's lock file
(``.<name>.lock`` beside it). A read takes one consistent snapshot: the file is copied
once, under the lock, and every layer is read from that copy, so a save running at the
same time never gives a reader layers of two versions.
"""

from __future__ import annotations

import contextlib
import glob
import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import geopandas as gpd
import pandas as pd
import pyogrio

from planner.errors import InputError, Problem, SettingsError
from planner.grids.edits import EditRecord, GridEditor, _Snapshot
from planner.settings import Settings
from planner.street import Completeness, from_layers

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
_STREET_LAYERS = ("boundary", "communities", "compounds", "buildings")


@dataclass
class Project:
    """A reopened project: the editor exactly as saved, plus any extra layers."""

    editor: GridEditor
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)
    source: str = ""


if sys.platform == "win32":  # pragma: no cover - the planner's machines run Linux
    import msvcrt
    import time

    def _lock_file(fh: IO[bytes], *, shared: bool) -> None:
        while True:  # msvcrt has no shared locks: readers queue like writers
            try:
                msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
                return
            except OSError:
                time.sleep(0.05)

    def _unlock_file(fh: IO[bytes]) -> None:
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock_file(fh: IO[bytes], *, shared: bool) -> None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_SH if shared else fcntl.LOCK_EX)

    def _unlock_file(fh: IO[bytes]) -> None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def lock_path(path: Path) -> Path:
    """The lock file of the project at ``path``: ``.<name>.lock`` in the same folder."""
    return path.with_name(f".{path.name}.lock")


@contextlib.contextmanager
def project_lock(path: Path, *, shared: bool = False) -> Iterator[None]:
    """Hold the lock of the project at ``path``: exclusive to save, shared to read.

    The lock is an advisory ``flock`` on :func:`lock_path` (held per open file, so it
    also separates threads of one process). A reader that cannot create the lock file
    (a read-only folder) reads without it: saves replace the file atomically.
    """
    try:
        fh = open(lock_path(path), "a+b")  # noqa: SIM115 - held across the yield
    except OSError:
        if not shared:
            raise
        yield
        return
    with fh:
        _lock_file(fh, shared=shared)
        try:
            yield
        finally:
            _unlock_file(fh)


def _remove_stale_temps(path: Path) -> None:
    """Remove temporary files of saves killed midway (call with the lock held)."""
    pattern = glob.escape(str(path.parent / f".{path.name}.")) + "*.tmp.gpkg*"
    for stale in glob.glob(pattern):
        with contextlib.suppress(OSError):
            os.remove(stale)
            logger.info("removed %s, left by a save that did not finish", stale)


def _write_layer(path: Path, name: str, df: pd.DataFrame) -> None:
    """Write one layer or table into the GeoPackage at ``path`` (a seam for tests)."""
    if isinstance(df, gpd.GeoDataFrame):
        pyogrio.write_dataframe(df, path, layer=name, driver="GPKG")
    else:
        pyogrio.write_dataframe(pd.DataFrame(df), path, layer=name, driver="GPKG")


def save_project(
    path: str | Path,
    editor: GridEditor,
    *,
    extra: dict[str, pd.DataFrame] | None = None,
    source: str = "",
) -> Path:
    """Save the editor's state (and extra layers) to a GeoPackage, atomically.

    Parameters
    ----------
    path
        The project file (``.gpkg``).
    editor
        The working state.
    extra
        Further layers (GeoDataFrames) or tables (DataFrames) to keep with the
        project, by name. Extras already in the file at ``path`` and not named here
        are kept as they are (read under the same lock).
    source
        Where the street came from (shown when the project is reopened).

    Returns
    -------
    Path
        The saved file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with project_lock(path):
        _remove_stale_temps(path)
        kept = {k: v for k, v in _kept_extra(path).items() if k not in (extra or {})}
        _save_locked(path, editor, extra={**kept, **(extra or {})}, source=source)
    logger.info(
        "saved project %s (%d grids, %d edits)", path, len(editor.grids), len(editor.history)
    )
    return path


def _kept_extra(path: Path) -> dict[str, pd.DataFrame]:
    """The extras of the file about to be replaced (call with the lock held); ``{}``
    when it is damaged (logged: the save replaces it, as before extras were kept)."""
    try:
        return _read_extra_file(path)
    except InputError as exc:
        logger.warning("the extras of %s cannot be read (%s); they are not kept", path, exc)
        return {}


def _save_locked(
    path: Path, editor: GridEditor, *, extra: dict[str, pd.DataFrame], source: str
) -> None:
    """Write the project to a temporary file beside ``path``, then replace ``path`` with it."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp.gpkg", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # GDAL creates the file itself
    try:
        layers: dict[str, pd.DataFrame] = {
            "grids": editor.grids,
            "atoms": editor.atoms.drop(columns=["grid_id"], errors="ignore")
            .assign(code=editor.labels.to_numpy())
            .reset_index(drop=True),
            "communities": editor.communities,
        }
        empty: list[str] = []
        for lname in _STREET_LAYERS:
            layer = editor.street.layer(lname)
            if len(layer):
                layers[f"street_{lname}"] = layer
            else:
                empty.append(lname)
        history = pd.DataFrame(
            {
                "op": [r.op for r in editor.history],
                "args": [json.dumps(r.args, ensure_ascii=False) for r in editor.history],
                "message": [r.message for r in editor.history],
                "time": [r.time for r in editor.history],
            }
        )
        meta = {
            "format_version": FORMAT_VERSION,
            "source": source,
            "street_name": editor.street.name,
            "crs": editor.street.crs.to_wkt(),
            "settings": _settings_json(editor.settings),
            "locked": sorted(editor.locked),
            "retired": sorted(editor.retired),
            "reasons": editor.reasons,
            "atom_order": [int(a) for a in editor.labels.index],
            "undo": [_snap_json(s) for s in editor.undo_stack],
            "redo": [_snap_json(s) for s in editor.redo_stack],
            "empty_street_layers": empty,
            "extra": {k: isinstance(v, gpd.GeoDataFrame) for k, v in extra.items()},
        }
        for name, df in layers.items():
            _write_layer(tmp, name, df)
        if len(history):
            _write_layer(tmp, "history", history)
        for name, df in extra.items():
            _write_layer(tmp, f"extra_{name}", df)
        _write_layer(
            tmp,
            "meta",
            pd.DataFrame(
                {
                    "key": list(meta),
                    "value": [json.dumps(v, ensure_ascii=False) for v in meta.values()],
                }
            ),
        )
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def open_project(path: str | Path) -> Project:
    """Reopen a project saved by :func:`save_project`, exactly as it was left.

    Every layer comes from one consistent snapshot of the file (copied once under the
    project's lock), even while another session saves it.

    Raises
    ------
    InputError
        The file is missing, not a GeoPackage, not a planner project, saved by a newer
        planner, or damaged (a ``meta`` value that is not JSON, a missing key or layer,
        bad settings); naming the file, the table or key, and the fix.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"project file {path} does not exist", fix="check the path")
    with _snapshot_dir() as tmp:
        with project_lock(path, shared=True):
            snap = Path(shutil.copyfile(path, tmp / "project.gpkg"))
        return _read_project(snap, path)  # from the copy: saves may go on meanwhile


def read_project(data: bytes, *, name: str = "project.gpkg") -> Project:
    """A project from the bytes of a project file (e.g. an upload in the app).

    The bytes are read from a private temporary copy with a generated name, removed
    afterwards; ``name`` (the file's name as the user knows it) is what messages show.
    """
    with _snapshot_dir() as tmp:
        snap = tmp / "project.gpkg"
        snap.write_bytes(data)
        return _read_project(snap, Path(name))


@contextlib.contextmanager
def _snapshot_dir() -> Iterator[Path]:
    """A private temporary folder (generated name), removed with what is in it."""
    with tempfile.TemporaryDirectory(prefix="planner-project-") as tmp:
        yield Path(tmp)


def _layers_and_meta(snap: Path, path: Path) -> tuple[set[str], dict[str, Any]]:
    """The layer names and the checked ``meta`` of the project file ``snap``; messages
    name ``path``. Raises :class:`InputError` for a file that is not a GeoPackage or
    not a planner project."""
    try:
        names = {str(n) for n in pyogrio.list_layers(snap)[:, 0]}
    except Exception as exc:
        raise InputError(
            f"{path} is not a GeoPackage ({exc})", fix="open a project saved by the planner (.gpkg)"
        ) from exc
    if "meta" not in names:
        raise InputError(
            f"{path} is not a planner project (no 'meta' table)",
            fix="open a project saved by the planner",
        )
    return names, _read_meta(snap, path, names)


def _read_project(snap: Path, path: Path) -> Project:
    """Every layer of the project snapshot ``snap``; messages name ``path``."""
    names, meta = _layers_and_meta(snap, path)
    try:
        return _open_layers(snap, path, names, meta)
    except InputError:
        raise
    except SettingsError as exc:
        raise _damaged(path, "meta", "settings", f"its settings are not valid: {exc}") from exc
    except Exception as exc:  # a layer or value the planner did not write
        raise _damaged(path, "", None, f"{type(exc).__name__}: {exc}") from exc


#: ``meta`` keys every project holds, with the JSON type of their value.
_META_KEYS: dict[str, type] = {
    "settings": dict,
    "crs": str,
    "atom_order": list,
    "locked": list,
    "undo": list,
    "redo": list,
}
#: Layers every project holds.
_PROJECT_LAYERS = ("atoms", "communities")


def _damaged(path: Path, table: str, key: str | None, why: str) -> InputError:
    where = f" (table '{table}'{f', key {key!r}' if key else ''})" if table else ""
    return InputError(
        Problem(
            f"the project file is damaged{where}: {why[:300]}",
            fix="open a project saved by the planner (or its autosave), or start the "
            "grids anew from the street",
            file=str(path),
            feature_id=key,
            field=table or None,
        )
    )


def _read_meta(snap: Path, path: Path, names: set[str]) -> dict[str, Any]:
    """The ``meta`` table of ``snap`` as key -> value, every value JSON, the required keys
    there; messages name ``path``."""
    try:
        meta_df = pyogrio.read_dataframe(snap, layer="meta")
        rows = zip(meta_df["key"].astype(str), meta_df["value"], strict=True)
    except Exception as exc:
        raise _damaged(path, "meta", None, f"it cannot be read ({exc})") from exc
    meta: dict[str, Any] = {}
    for key, value in rows:
        try:
            meta[key] = json.loads(value)
        except (TypeError, ValueError) as exc:
            raise _damaged(path, "meta", key, f"the value is not JSON ({exc})") from exc
    try:
        version = int(meta.get("format_version", 0))
    except (TypeError, ValueError) as exc:
        raise _damaged(path, "meta", "format_version", "it is not a number") from exc
    if version > FORMAT_VERSION:
        raise InputError(
            f"{path} was saved by a newer planner (format {meta['format_version']})",
            fix="update the planner",
        )
    for key, kind in _META_KEYS.items():
        if not isinstance(meta.get(key), kind):
            what = "is missing" if key not in meta else f"is not a JSON {kind.__name__}"
            raise _damaged(path, "meta", key, f"the value {what}")
    missing = [n for n in _PROJECT_LAYERS if n not in names]
    if missing:
        raise _damaged(path, missing[0], None, "the layer is missing")
    return meta


def _open_layers(snap: Path, path: Path, names: set[str], meta: dict[str, Any]) -> Project:
    """The editor and extra layers of the project snapshot ``snap`` whose ``meta`` was
    checked; messages name ``path``."""
    settings = Settings.from_dict(meta["settings"])
    crs = meta["crs"]
    street_layers = {
        lname: gpd.read_file(snap, layer=f"street_{lname}")
        for lname in _STREET_LAYERS
        if f"street_{lname}" in names
    }
    street = from_layers(
        {k: v.set_crs(crs, allow_override=True) for k, v in street_layers.items()},
        crs=crs,
        name=meta.get("street_name", ""),
        source=str(path),
    )
    saved = street_layers.get("buildings")
    if saved is not None and len(saved) and "households_source" in saved.columns:
        street.report.completeness = Completeness.of(street.buildings)  # the load's table
    atoms = gpd.read_file(snap, layer="atoms").set_crs(crs, allow_override=True)
    order = [int(a) for a in meta["atom_order"]]
    atoms = atoms.set_index("atom_id", drop=False).loc[order].reset_index(drop=True)
    labels = pd.Series(atoms["code"].astype(str).to_numpy(), index=atoms["atom_id"].to_numpy())
    communities = gpd.read_file(snap, layer="communities").set_crs(crs, allow_override=True)
    for col in ("community_id", "code"):
        communities[col] = communities[col].astype(str)
    for col in ("community_id", "compound_id"):
        atoms[col] = atoms[col].astype(object).where(atoms[col].notna(), "").astype(str)
    history: list[EditRecord] = []
    if "history" in names:
        h = pyogrio.read_dataframe(snap, layer="history")
        history = [
            EditRecord(op, json.loads(a), m, t)
            for op, a, m, t in zip(h["op"], h["args"], h["message"], h["time"], strict=True)
        ]
    editor = GridEditor(
        street,
        atoms.drop(columns=["code"]),
        labels,
        communities,
        settings=settings,
        locked=set(meta["locked"]),
        history=history,
        reasons=meta.get("reasons", {}),
        retired=[str(c) for c in meta.get("retired", []) or []],
    )
    editor.undo_stack = [_snap_from(s, labels.index) for s in meta["undo"]]
    editor.redo_stack = [_snap_from(s, labels.index) for s in meta["redo"]]
    extra = _extra_layers(snap, path, names, meta)
    return Project(editor=editor, extra=extra, source=str(meta.get("source", "")))


def read_extra(path: str | Path) -> dict[str, pd.DataFrame]:
    """Only the extra layers and tables of the project at ``path`` (``{}`` when there
    is no file), from one consistent snapshot: cheaper than :func:`open_project` for
    a part of the planner that keeps its own tables with the project.

    Raises
    ------
    InputError
        The file is not a planner project or is damaged (as :func:`open_project`).
    """
    path = Path(path)
    if not path.exists():
        return {}
    with _snapshot_dir() as tmp:
        with project_lock(path, shared=True):
            snap = Path(shutil.copyfile(path, tmp / "project.gpkg"))
        return _read_extra_file(snap, name=path)


def _read_extra_file(snap: Path, *, name: Path | None = None) -> dict[str, pd.DataFrame]:
    """The extras of the project file ``snap`` (``{}`` if absent); messages name ``name``."""
    if not snap.exists():
        return {}
    shown = name or snap
    names, meta = _layers_and_meta(snap, shown)
    return _extra_layers(snap, shown, names, meta)


def _extra_layers(
    snap: Path, path: Path, names: set[str], meta: dict[str, Any]
) -> dict[str, pd.DataFrame]:
    """The ``extra_<name>`` layers ``meta`` lists (a listed layer missing is damage)."""
    listed = meta.get("extra", {})
    if not isinstance(listed, dict):
        raise _damaged(path, "meta", "extra", "the value is not a JSON dict")
    extra: dict[str, pd.DataFrame] = {}
    for name, spatial in listed.items():
        layer = f"extra_{name}"
        if layer not in names:
            raise _damaged(path, layer, None, "the layer is missing")
        extra[name] = (
            gpd.read_file(snap, layer=layer)
            if spatial
            else pyogrio.read_dataframe(snap, layer=layer)
        )
    return extra


def _settings_json(settings: Settings) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in settings.to_dict().items()}


def _snap_json(s: _Snapshot) -> dict[str, Any]:
    return {
        "labels": [str(x) for x in s.labels.to_numpy()],
        "locked": sorted(s.locked),
        "record": None if s.record is None else s.record.to_dict(),
    }


def _snap_from(d: dict[str, Any], index: pd.Index) -> _Snapshot:
    rec = d.get("record")
    return _Snapshot(
        labels=pd.Series(d["labels"], index=index, dtype=object).astype(str),
        locked=frozenset(d["locked"]),
        record=None if rec is None else EditRecord(**rec),
    )
