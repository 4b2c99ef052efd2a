"""Bounds on the coverage run's work: the estimate before the circles, the refusal above
the limits (a clear message naming the setting to raise), the command line's flags."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from planner.cli import coverage as command
from planner.cli import parser as cli
from planner.coverage.budget import CircleWork, estimate_circle_work, sample_pieces
from planner.coverage.figures import compute_coverage
from planner.coverage.layers import compute_coverage_layers
from planner.errors import InputError, SettingsError
from planner.settings import Settings
from tests.coverage_streets import lattice_layers, points, squares, street


def _street(n_stations: int = 12):
    nodes, edges = lattice_layers(5, 5, 100.0)
    rng = np.random.default_rng(1)
    b = squares(
        [tuple(p) for p in rng.uniform(0, 400, (20, 2))],
        size=8,
        households=rng.integers(5, 50, 20),
        kind="residential",
    )
    n = max(n_stations, 1)
    st = points(
        [tuple(p) for p in rng.uniform(0, 400, (n, 2))], station_id=[f"s{i}" for i in range(n)]
    )
    return street(nodes, edges, buildings=b, stations=st.iloc[:n_stations])


def test_too_many_stations_are_refused_before_the_circles_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from planner.coverage import circles

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("a circle was drawn")

    monkeypatch.setattr(circles.CircleBuilder, "station_circles", never)
    with pytest.raises(InputError) as exc:
        compute_coverage_layers(_street(12), settings=Settings(max_stations=10))
    text = str(exc.value)
    assert "12 service stations" in text and "max_stations = 10" in text
    assert "36 circles" in text and "expected about" in text and " MB" in text
    assert "Fix: raise the limit" in text and "--max-stations 12" in text
    assert exc.value.problems[0].field == "max_stations"


def test_too_large_a_network_is_refused_naming_the_setting() -> None:
    st = _street(3)
    with pytest.raises(InputError, match=r"edges, more than one coverage run works on") as exc:
        compute_coverage_layers(st, settings=Settings(max_network_edges=10))
    assert "max_network_edges = 10" in str(exc.value)
    assert "--max-network-edges 40" in str(exc.value)  # the 5 x 5 lattice's 40 edges


def test_the_estimate_is_logged_and_in_the_summary(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="planner.coverage.budget"):
        layers = compute_coverage_layers(_street(12), settings=Settings(max_stations=12))
    work = layers.summary["circle_work"]
    assert work["stations"] == 12 and work["thresholds"] == 3 and work["network_edges"] == 40
    assert work["cpu_seconds"] >= work["seconds"] >= 0 and work["memory_mb"] >= 0
    assert 0 < work["pieces_per_station"] <= 3 * (40 + 1)
    assert any("12 stations x 3 thresholds = 36 circles" in r.message for r in caplog.records)


def test_the_estimate_grows_with_stations_and_reach() -> None:
    few = compute_coverage(_street(4))
    many = compute_coverage(_street(40))
    w_few, w_many = estimate_circle_work(few), estimate_circle_work(many)
    assert w_many.seconds > w_few.seconds and w_many.memory_mb > w_few.memory_mb
    short = compute_coverage(_street(4), settings=Settings(thresholds_min=(2.0,), gap_minutes=2))
    assert sample_pieces(short) < sample_pieces(few)
    none = compute_coverage(_street(0))
    assert sample_pieces(none) == 0.0 and estimate_circle_work(none).stations == 0


def test_describe_speaks_in_minutes_hours_and_gigabytes() -> None:
    w = CircleWork(20000, 1071, 3, 1000.0, cpu_seconds=3000.0, cores=2, memory_mb=3000.0)
    assert w.seconds == 1500.0
    assert w.describe().endswith("expected about 25 min (idle cores) to 50 min and 2.9 GB")
    assert "60,000 circles on 1,071 network edges" in w.describe()
    one = CircleWork(1, 1, 1, 1.0, cpu_seconds=20000.0, cores=1, memory_mb=10.0)
    assert one.describe().endswith("expected about 5.6 h and 10 MB")


@pytest.mark.parametrize("value", [0, -5, 2.5, True, "many", float("nan"), float("inf")])
def test_bounds_must_be_whole_numbers_of_at_least_one(value: object) -> None:
    for name in ("max_stations", "max_network_edges"):
        with pytest.raises(SettingsError, match=f"{name}=.*must be a whole number, 1 or more"):
            Settings(**{name: value})
    assert Settings(max_stations=8.0).max_stations == 8
    assert isinstance(Settings(max_stations=8.0).max_stations, int)


@pytest.fixture
def one_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("coverage",))
    st = _street(12)
    monkeypatch.setattr(command, "load_from_args", lambda args, settings, **_: st)


def test_command_refuses_with_exit_2_and_the_flag_to_raise(
    one_command: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert cli.main(["coverage", "demo", "--out", str(out), "--max-stations", "5"]) == 2
    err = capsys.readouterr().err
    assert "12 service stations" in err and "--max-stations 12" in err
    assert "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())  # refused before anything is written
    assert cli.main(["coverage", "demo", "--out", str(out), "--max-stations", "12"]) == 0
    assert cli.main(["coverage", "demo", "--out", str(out), "--max-stations", "0"]) == 2
    err = capsys.readouterr().err
    assert "--max-stations 0" in err and "max_stations=" not in err
