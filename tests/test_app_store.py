"""The app's disk cache (planner.app.store): a result computed once is read back by
the next server start, and only for the same input files, parts and code."""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest

from planner.app import cache as app_cache
from planner.app import store


@pytest.fixture
def folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """The disk cache on, in a folder of its own."""
    path = tmp_path / "app-cache"
    monkeypatch.setenv(store.ENV, str(path))
    yield path


def _source(tmp_path: Path, text: str = '{"type": "FeatureCollection", "features": []}') -> str:
    street = tmp_path / "street"
    street.mkdir(exist_ok=True)
    (street / "boundary.geojson").write_text(text, encoding="utf-8")
    return json.dumps({"kind": "upload", "path": str(street)}, sort_keys=True)


def _counting() -> tuple[list[int], object]:
    calls: list[int] = []

    def compute() -> dict[str, int]:
        calls.append(1)
        return {"answer": len(calls)}

    return calls, compute


def test_a_result_is_computed_once_and_read_back(folder: Path, tmp_path: Path) -> None:
    sj = _source(tmp_path)
    calls, compute = _counting()
    assert store.remembered("grids", sj, ("s1",), compute) == {"answer": 1}  # type: ignore[arg-type]
    assert store.has("grids", sj, ("s1",))
    # a new server start: same inputs, read from disk, not computed
    assert store.remembered("grids", sj, ("s1",), compute) == {"answer": 1}  # type: ignore[arg-type]
    assert len(calls) == 1
    assert len(list(folder.glob("grids-*.pkl"))) == 1


def test_other_settings_files_or_code_compute_again(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sj = _source(tmp_path)
    calls, compute = _counting()
    store.remembered("coverage", sj, ("s1",), compute)  # type: ignore[arg-type]
    store.remembered("coverage", sj, ("s2",), compute)  # type: ignore[arg-type]  # other settings
    assert len(calls) == 2
    _source(tmp_path, '{"type": "FeatureCollection", "features": [] }')  # the file changed
    assert not store.has("coverage", sj, ("s1",))
    store.remembered("coverage", sj, ("s1",), compute)  # type: ignore[arg-type]
    assert len(calls) == 3
    monkeypatch.setattr(store, "code_digest", lambda: "another version of the planner")
    assert not store.has("coverage", sj, ("s1",))


def test_off_non_file_sources_and_failures_keep_nothing(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls, compute = _counting()
    place = json.dumps({"kind": "place", "name": "学院路街道"})
    store.remembered("street", place, (), compute)  # type: ignore[arg-type]
    store.remembered("street", place, (), compute)  # type: ignore[arg-type]
    assert len(calls) == 2 and not folder.exists()  # not files: never kept

    def fail() -> None:
        raise ValueError("no network")

    sj = _source(tmp_path)
    with pytest.raises(ValueError):
        store.remembered("coverage", sj, (), fail)
    assert not store.has("coverage", sj, ())
    monkeypatch.setenv(store.ENV, "off")
    assert store.store_dir() is None
    store.remembered("coverage", sj, (), compute)  # type: ignore[arg-type]
    assert not list(folder.glob("*.pkl"))


def _kept_map(tmp_path: Path) -> tuple[str, list[int], object, Path]:
    """A street source, a counting computation and the path of the map result it kept."""
    sj = _source(tmp_path)
    calls, compute = _counting()
    store.remembered("map", sj, ("x",), compute)  # type: ignore[arg-type]
    path = store.entry_path("map", sj, ("x",))
    assert path is not None and path.is_file()
    return sj, calls, compute, path


def test_a_damaged_entry_is_computed_again(folder: Path, tmp_path: Path) -> None:
    sj, _calls, compute, path = _kept_map(tmp_path)
    path.write_bytes(b"not a pickle")
    assert store.remembered("map", sj, ("x",), compute) == {"answer": 2}  # type: ignore[arg-type]
    assert pickle.loads(path.read_bytes()) == {"answer": 2}


def test_an_entry_others_may_write_is_never_read(folder: Path, tmp_path: Path) -> None:
    sj, calls, compute, path = _kept_map(tmp_path)
    # another account could have planted this pickle: it is computed again, not loaded
    path.write_bytes(pickle.dumps({"answer": "planted"}))
    folder.chmod(0o777)
    assert store.remembered("map", sj, ("x",), compute) == {"answer": 2}  # type: ignore[arg-type]
    folder.chmod(0o700)
    path.chmod(0o666)
    assert store.remembered("map", sj, ("x",), compute) == {"answer": 3}  # type: ignore[arg-type]
    assert len(calls) == 3


def test_the_least_recently_used_are_pruned(folder: Path, tmp_path: Path) -> None:
    sj = _source(tmp_path)
    for i in range(5):
        store.remembered("map", sj, (str(i),), lambda i=i: i)  # type: ignore[misc]
        path = store.entry_path("map", sj, (str(i),))
        assert path is not None
        os.utime(path, ns=(i * 10**9, i * 10**9))  # used in this order
    store.prune(folder, keep=3)
    assert len(list(folder.glob("*.pkl"))) == 3
    assert not store.has("map", sj, ("0",)) and store.has("map", sj, ("4",))


def test_the_demo_street_has_a_content_digest() -> None:
    demo = json.dumps({"kind": "demo"})
    assert store.source_digest(demo) == store.source_digest(demo)
    assert store.source_digest(json.dumps({"kind": "demo", "points_crs": "gcj02"})) != (
        store.source_digest(demo)
    )


def test_the_app_takes_a_kept_result_as_computed(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restarted server (nothing computed in the process) finds the grids on disk, so
    the red map draws them at once, without its street-only paint."""
    sj = _source(tmp_path)
    tj = app_cache.settings_json(app_cache.Settings())
    app_cache.forget_computed()
    assert not app_cache.computed("grids", sj, tj)
    store.remembered("grids", sj, (app_cache.for_result(tj, "grids"),), lambda: "grids")
    assert app_cache.computed("grids", sj, tj)
    assert not app_cache.computed("coverage", sj, tj)


def test_a_map_with_a_tianditu_key_is_not_kept(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sj = _source(tmp_path)
    monkeypatch.setattr(app_cache, "build_map", lambda *a: object())
    monkeypatch.setattr(app_cache.app_map, "map_payload", lambda m: {"script": "s"})
    tj = app_cache.settings_json(app_cache.Settings())
    app_cache.cached_map(sj, tj, "tianditu", "secret-key", "zh", ("grids",), False, "", None)
    assert not folder.exists() or not list(folder.glob("map-*.pkl"))
    app_cache.cached_map(sj, tj, "none", "", "zh", ("grids",), False, "", None)
    assert len(list(folder.glob("map-*.pkl"))) == 1
