"""``bench/bench_load.py`` and ``bench/bench_exports.py`` time ours and the baselines
run by run (the order rotating each round) and check both give the same answer.

Checked on recorded calls and small frames; the benches themselves are not run here.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from bench import bench_exports, bench_load


@pytest.mark.parametrize("module", [bench_load, bench_exports])
def test_jobs_take_turns_and_the_order_rotates(module) -> None:  # type: ignore[no-untyped-def]
    calls: list[str] = []
    if module is bench_load:
        jobs = [module.Job(n, lambda n=n: calls.append(n), clock=lambda: 0.0) for n in "ab"]
    else:
        jobs = [module.Job(n, lambda n=n: calls.append(n)) for n in "ab"]
    module.interleave(jobs, 3)
    assert calls == ["a", "b", "b", "a", "a", "b"]
    assert [len(j.wall) for j in jobs] == [3, 3] and [len(j.cpu) for j in jobs] == [3, 3]


def test_three_jobs_each_take_every_position() -> None:
    calls: list[str] = []
    jobs = [bench_load.Job(n, lambda n=n: calls.append(n), clock=lambda: 0.0) for n in "abc"]
    bench_load.interleave(jobs, 3)
    assert calls == list("abcbcacab")


def test_per_run_ratios_pair_runs_of_the_same_round() -> None:
    ours = bench_load.Job("o", lambda: None, clock=lambda: 0.0, wall=[1.0, 4.0], cpu=[2.0, 2.0])
    base = bench_load.Job("b", lambda: None, clock=lambda: 0.0, wall=[2.0, 2.0], cpu=[1.0, 4.0])
    assert bench_load.ratios(ours, base) == ([0.5, 2.0], [2.0, 0.5])


def test_load_answers_are_compared() -> None:
    frame = gpd.GeoDataFrame({"a": [1, 2]}, geometry=[None, None])
    bench_load.check_same_counts({"buildings": 2, "roads": 5}, {"buildings": frame, "roads": frame})
    with pytest.raises(SystemExit, match="buildings"):
        bench_load.check_same_counts({"buildings": 3}, {"buildings": frame})
    bench_load.check_info_buildings("Layers:\n  buildings        919\n", 919)
    with pytest.raises(SystemExit, match="918"):
        bench_load.check_info_buildings("Layers:\n  buildings        918\n", 919)


def test_exported_features_are_compared() -> None:
    box = shapely.box(0, 0, 1, 1)
    a = gpd.GeoDataFrame({"k": ["x"], "v": [1.0]}, geometry=[box])
    turned = gpd.GeoDataFrame({"k": ["x"], "v": [1.0 + 1e-8]}, geometry=[box.reverse()])
    bench_exports.same_features(a, turned, "same")  # ring order and 1e-8 do not count
    with pytest.raises(SystemExit, match="'v' differs"):
        bench_exports.same_features(a, a.assign(v=1.1), "value")
    with pytest.raises(SystemExit, match="geometries differ"):
        bench_exports.same_features(a, a.set_geometry([shapely.box(0, 0, 1, 1.01)]), "shape")
    with pytest.raises(SystemExit, match="1 features against 2"):
        bench_exports.same_features(a, gpd.GeoDataFrame(pd_concat(a)), "count")


def pd_concat(a: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    import pandas as pd

    return gpd.GeoDataFrame(pd.concat([a, a], ignore_index=True))
