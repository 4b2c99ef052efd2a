"""The code rule (issue 19 item 2): codes carry the street's own county and street
parts, short labels (community + sequence) are unique; and the app's re-division and
split number grids with the street's codes, as the command line does."""

from __future__ import annotations

import pytest

from planner.app import editor as app_editor
from planner.app import services as app_services
from planner.errors import RuleViolation
from planner.grids.codes import effective_code_settings
from planner.grids.rules import check_grids
from planner.settings import Settings
from tests.app_street import tiny_street

COUNTY, STREET = "110108", "001"


def _coded() -> tuple[object, object, Settings]:
    street = tiny_street()
    settings = Settings(code_county=COUNTY, code_street=STREET)
    return street, app_services.grids_for(street, settings).grids, settings


def test_codes_of_the_street_pass() -> None:
    street, grids, settings = _coded()
    report = check_grids(grids, street, settings=settings)  # type: ignore[arg-type]
    assert report.check("codes").passed, report.to_text("en")


def test_a_code_of_another_county_or_street_fails_naming_the_grid() -> None:
    street, grids, settings = _coded()
    g = grids.copy()  # type: ignore[attr-defined]
    code = str(g["code"].iloc[0])
    other = code[:6] + "610113" + code[12:]  # another county, same short label
    g.loc[g.index[0], "code"] = other
    check = check_grids(g, street, settings=settings).check("codes")  # type: ignore[arg-type]
    assert not check.passed
    texts = [v.render("zh") for v in check.violations]
    assert any(f"编码 {other} 的区县或街道部分不是本街道的" in t for t in texts), texts
    en = [v.render("en") for v in check.violations]
    assert any(f"does not carry the street's county {COUNTY} and street {STREET}" in t for t in en)


def test_duplicate_short_labels_fail_even_when_full_codes_differ() -> None:
    street, grids, _settings = _coded()
    # unknown county and street: the parts are not compared, the short labels still are
    loose = Settings()
    g = grids.copy()  # type: ignore[attr-defined]
    first = str(g["code"].iloc[0])
    twin = first[:12] + "002" + first[15:]  # another street part, the same 5 last digits
    g.loc[g.index[1], "code"] = twin
    check = check_grids(g, street, settings=loose).check("codes")  # type: ignore[arg-type]
    assert not check.passed
    texts = [v.render("zh") for v in check.violations]
    assert any(f"短编号 {first[-5:]} 被多个网格使用" in t for t in texts), texts


@pytest.fixture
def demo_street() -> object:
    from planner.load.sources import load_street

    return load_street("demo")


def test_the_apps_redivide_and_split_keep_the_streets_codes(
    demo_street: object, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sidebar's settings know no county: the codes come from the street's
    metadata (street.json), as in the CLI, after a re-division and a split too."""
    monkeypatch.setenv("PLANNER_AUTOSAVE_DIR", str(tmp_path))
    street = demo_street
    settings = Settings()
    prefix = "100000" + street.meta["code_county"] + street.meta["code_street"]  # type: ignore[attr-defined]
    state: dict[str, object] = {"project": "0123456789ab", "owned_projects": ["0123456789ab"]}
    editor = app_editor.editor_for(
        state,
        street,  # type: ignore[arg-type]
        key="k",
        settings=settings,
        division=lambda: app_services.grids_for(street, settings),  # type: ignore[arg-type]
    )
    assert editor is not None
    assert editor.settings == effective_code_settings(settings, street.meta)  # type: ignore[attr-defined]
    editor.redivide(seed=1)
    before = len(editor.grids)
    for code in editor.grids.sort_values("households", ascending=False)["code"]:
        try:  # the first grid the automatic split can cut in two within the bounds
            editor.split(str(code))
            break
        except RuleViolation:
            continue
    assert len(editor.grids) == before + 1
    codes = list(editor.grids["code"].astype(str))
    assert all(c.startswith(prefix) for c in codes), codes
    assert len({c[-5:] for c in codes}) == len(codes)
    assert editor.report.check("codes").passed
