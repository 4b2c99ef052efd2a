"""The app's warm-up at server start (:mod:`planner.app.warm`) and the launcher that
starts it beside the Streamlit server (:mod:`planner.app.serve`), issue 19 item 9."""

from __future__ import annotations

import json
import logging
import sys
import threading
from pathlib import Path

import pytest

from planner.app import serve, warm
from planner.app.cache import settings_json
from planner.app.state import init_state, settings_from_state


def test_the_server_starts_while_the_warm_up_is_still_running(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """serve.main hands over to Streamlit at once: the warm-up runs beside the server
    (in a daemon thread), it never delays it."""
    release = threading.Event()
    started: list[threading.Thread | None] = []
    seen: dict[str, object] = {}

    def slow_warm_up() -> None:
        release.wait(timeout=10)

    def streamlit_entry(**kwargs: object) -> None:
        thread = started[0]
        seen["warming"] = thread is not None and thread.is_alive()
        seen["daemon"] = thread is not None and thread.daemon
        seen["argv"] = list(sys.argv)
        seen["kwargs"] = kwargs
        release.set()

    monkeypatch.setattr(sys, "argv", ["serve"])
    monkeypatch.delenv(warm.ENV, raising=False)
    serve.main(
        ["app.py", "--server.port", "8999"],
        cli_main=lambda: streamlit_entry,
        start_warm=lambda: started.append(warm.start(slow_warm_up)),
    )
    assert seen["warming"] is True and seen["daemon"] is True
    assert seen["argv"] == ["streamlit", "run", "app.py", "--server.port", "8999"]
    assert seen["kwargs"] == {"prog_name": "streamlit"}


def test_the_launcher_runs_the_app_beside_the_package_when_no_script_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv: list[str] = []
    monkeypatch.setattr(sys, "argv", ["serve"])
    serve.main(
        ["--server.headless", "true"],
        cli_main=lambda: lambda **_kw: argv.extend(sys.argv),
        start_warm=lambda: None,
    )
    assert argv[:2] == ["streamlit", "run"]
    assert Path(argv[2]) == Path(__file__).resolve().parents[1] / "app.py"
    assert argv[3:] == ["--server.headless", "true"]


def test_no_warm_up_when_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(warm.ENV, "0")
    assert warm.start(lambda: None) is None


def test_the_warm_up_imports_then_waits_for_the_runtime_then_computes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    monkeypatch.setenv("PLANNER_RUN_LOG", str(log))
    calls: list[str] = []
    warm.run(
        imports=lambda: calls.append("imports"),
        app_imports=lambda: calls.append("app"),
        view=lambda: calls.append("view"),
        runtime_ready=lambda: calls.append("runtime") is None,
    )
    assert calls == ["imports", "runtime", "app", "view"]
    events = [line.split("\t")[0] for line in log.read_text(encoding="utf-8").splitlines()]
    assert events == ["warm_start", "warm_imports", "warm_app_imports", "warm_end"]
    assert {"warm_start", "warm_end"} <= set(warm.done())
    # no runtime (the server did not start): nothing is computed, nothing raised
    calls.clear()
    warm.run(
        imports=lambda: calls.append("imports"),
        app_imports=lambda: calls.append("app"),
        view=lambda: calls.append("view"),
        runtime_ready=lambda: False,
    )
    assert calls == ["imports"]


def test_a_failing_warm_up_is_logged_and_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> None:
        raise ValueError("no demo street")

    with caplog.at_level(logging.ERROR, logger="planner.app.warm"):
        warm.run(imports=broken, app_imports=broken, view=broken, runtime_ready=lambda: True)
    assert "warm-up at server start failed" in caplog.text
    assert "warm_failed" in warm.done()


def test_the_warmed_view_is_a_fresh_sessions_view() -> None:
    """The warm-up computes what a first visit without a link reads: the same street
    source and settings (cache keys) as a new session's state."""
    state: dict[str, object] = {}
    init_state(state, {}, browser="0" * 32)
    source, settings, view = warm.default_view()
    assert source == json.dumps(state["source"], sort_keys=True)
    assert settings == settings_json(settings_from_state(state))
    assert view == {
        "basemap": state["basemap"],
        "lang": state["lang"],
        "layers": tuple(state["layers"]),  # type: ignore[arg-type]
    }
