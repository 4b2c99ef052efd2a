"""Grid codes come from the place (flags, street.json, OSM admin tags), else are provisional.

Issue 13, item 6: no street is silently given Beijing Haidian's county code 110108.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from planner.cli import main
from planner.grids.codes import (
    UNKNOWN_COUNTY,
    UNKNOWN_STREET,
    code_status,
    effective_code_settings,
    provisional_codes,
)
from planner.load.admin_codes import codes_from_relations, osm_code_meta
from planner.load.sources import load_street
from planner.settings import Settings

BEIJING = Path(__file__).parent / "data" / "beijing-haidian-xueyuanlu" / "map.osm"


def test_default_settings_carry_no_real_county_or_street_code() -> None:
    s = Settings()
    assert (s.code_county, s.code_street) == (UNKNOWN_COUNTY, UNKNOWN_STREET) == ("000000", "000")
    status = code_status(s, {})
    assert status.provisional and status.county_source == status.street_source == "unknown"
    assert "--code-county, --code-street" in status.warning("en")
    assert "临时编码" in status.warning("zh")


def test_provisional_codes_read_the_parts_of_20_and_15_digit_codes() -> None:
    codes = pd.Series(
        [
            "10000000000000000101",  # 20 digits, county and street unknown
            "10000032010200000101",  # 20 digits, street 000
            "10000032010200500101",  # 20 digits, both known
            "000000005001001",  # 15 digits, county unknown
            "320102005001001",  # 15 digits, both known
            "",
        ]
    )
    assert provisional_codes(codes).tolist() == [True, True, False, True, False, False]


def test_grids_without_codes_are_flagged_provisional_and_said(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder with no street.json: no 110108, every code flagged, the report says so."""
    out = tmp_path / "out"
    main(["grids", str(street_folder), "--out", str(out)])
    printed = capsys.readouterr().out
    grids = gpd.read_file(out / "grids.geojson")
    assert len(grids) and not grids["code"].str.contains("110108").any()
    assert grids["code"].str.slice(6, 15).eq("000000000").all()
    assert grids["code_provisional"].astype(bool).all()
    assert "WARNING: grid codes are provisional" in printed
    assert "警告：网格编码为临时编码" in printed
    report = json.loads((out / "grid_report.json").read_text(encoding="utf-8"))
    assert report["codes"]["provisional"] is True
    assert report["codes"]["county_source"] == "unknown"
    text = (out / "grid_report.txt").read_text(encoding="utf-8")
    assert text.startswith("WARNING: grid codes are provisional")


def test_code_flags_make_the_codes_final(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    main(
        [
            "grids",
            str(street_folder),
            "--out",
            str(out),
            "--code-county",
            "320102",
            "--code-street",
            "005",
        ]
    )
    assert "provisional" not in capsys.readouterr().out
    grids = gpd.read_file(out / "grids.geojson")
    assert grids["code"].str.slice(6, 15).eq("320102005").all()
    assert not grids["code_provisional"].astype(bool).any()
    report = json.loads((out / "grid_report.json").read_text(encoding="utf-8"))
    assert report["codes"]["county_source"] == "flag"
    assert report["codes"]["provisional"] is False


def test_load_report_warns_when_the_source_names_no_codes(street_folder: Path) -> None:
    street = load_street(street_folder)
    notes = [p for p in street.report.notes if p.field == "code_county"]
    assert len(notes) == 1 and notes[0].severity == "warning"
    assert "provisional" in str(notes[0]) and "--code-county" in notes[0].fix
    demo = load_street("demo")  # street.json names both codes
    assert not [p for p in demo.report.notes if p.field in ("code_county", "code_street")]


def test_check_grids_says_a_files_codes_are_provisional(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    main(["grids", str(street_folder), "--out", str(out)])
    capsys.readouterr()
    main(["check-grids", str(out / "grids.geojson"), str(street_folder)])
    printed = capsys.readouterr().out
    assert "WARNING:" in printed and "grid codes are provisional" in printed
    main(["check-grids", str(out / "grids.geojson"), str(street_folder), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert "provisional" in doc["codes_provisional"]


def test_run_reports_provisional_codes_everywhere(
    street_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """summary.json, the CLI summary, the HTML map, and the GPKG/CSV grid columns."""
    out = tmp_path / "run"
    main(
        [
            "run",
            str(street_folder),
            "--out",
            str(out),
            "--no-siting",
            "--no-images",
            "--formats",
            "geojson,gpkg,csv",
        ]
    )
    printed = capsys.readouterr().out
    assert "Note: grid codes are provisional" in printed
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["codes"]["provisional"] is True
    assert any("grid codes are provisional" in n for n in summary["notes"])
    assert "网格编码为临时编码" in (out / "redmap.html").read_text(encoding="utf-8")
    gpkg = next(out.glob("*.gpkg"))
    g = pyogrio.read_dataframe(gpkg, layer="grids")
    assert g["code_provisional"].astype(bool).all()
    csv = pd.read_csv(next(p for p in out.glob("*.csv") if "grid" in p.name), dtype=str)
    assert set(csv["code_provisional"].str.lower()) == {"true"}


def test_app_editor_splits_take_the_streets_codes(tmp_path: Path) -> None:
    """The app's editor makes new codes with street.json's codes, as the division does."""
    from planner.app.editor import editor_for
    from planner.grids.division import divide

    street = load_street("demo")
    settings = Settings()
    state: dict[str, object] = {}
    ed = editor_for(
        state,
        street,
        key=str(tmp_path / "no-such-key"),
        settings=settings,
        division=lambda: divide(street, settings=effective_code_settings(settings, street.meta)),
    )
    assert ed is not None
    assert (ed.settings.code_county, ed.settings.code_street) == (
        street.meta["code_county"],
        street.meta["code_street"],
    )
    assert not ed.grids["code_provisional"].any()


# ------------------------------------------------------------ OpenStreetMap admin tags


def _relation(rid: int, level: str, name: str, **tags: str) -> str:
    extra = "".join(f'<tag k="{k.replace("_", ":")}" v="{v}"/>' for k, v in tags.items())
    return (
        f'<relation id="{rid}" version="1"><tag k="boundary" v="administrative"/>'
        f'<tag k="admin_level" v="{level}"/><tag k="name" v="{name}"/>{extra}</relation>'
    )


def _osm(tmp_path: Path, *relations: str) -> Path:
    p = tmp_path / "admin.osm"
    p.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><osm version="0.6">'
        '<node id="1" lat="40.0" lon="116.3"/>' + "".join(relations) + "</osm>",
        encoding="utf-8",
    )
    return p


def test_osm_street_relation_gives_county_and_street_codes(tmp_path: Path) -> None:
    p = _osm(
        tmp_path,
        _relation(1, "6", "海淀区", ref_admin_CN="110108"),
        _relation(2, "8", "学院路街道", ref_admin_CN_mca="110108013"),
        _relation(3, "10", "某社区", ref_admin_CN_nbs="110108013001"),
    )
    meta, doubts = osm_code_meta(p)
    assert (meta["code_county"], meta["code_street"]) == ("110108", "013")
    assert "relation 2" in meta["code_source"] and doubts == []


def test_osm_statistics_code_and_name_pick_one_street_of_several(tmp_path: Path) -> None:
    p = _osm(
        tmp_path,
        _relation(2, "8", "学院路街道", ref_admin_CN_nbs="110108013000"),
        _relation(4, "8", "清河街道", ref_admin_CN_mca="110108016"),
    )
    meta, doubts = osm_code_meta(p, street_name="清河街道")
    assert (meta["code_county"], meta["code_street"]) == ("110108", "016")
    meta, doubts = osm_code_meta(p)  # two streets, none named: nothing is taken
    assert meta == {} and "several street relations" in str(doubts[0])


def test_osm_county_only_and_two_counties(tmp_path: Path) -> None:
    one = _osm(tmp_path, _relation(1, "6", "玄武区", ref_admin_CN="320102"))
    meta, _ = osm_code_meta(one)
    assert meta["code_county"] == "320102" and "code_street" not in meta
    assert codes_from_relations([])[0] == {}
    two = _osm(
        tmp_path,
        _relation(1, "6", "玄武区", ref_admin_CN="320102"),
        _relation(5, "6", "秦淮区", ref_admin_CN="320104"),
    )
    meta, doubts = osm_code_meta(two)
    assert meta == {} and "320102, 320104" in str(doubts[0])


def test_beijing_extract_has_no_coded_admin_relation() -> None:
    """The real extract's only admin relation (level 10) carries no code: nothing taken."""
    assert osm_code_meta(BEIJING) == ({}, [])
    assert osm_code_meta(BEIJING.with_suffix(".osm.pbf")) == ({}, [])


def test_osm_extract_codes_reach_the_grid_codes(tmp_path: Path) -> None:
    """The real Beijing extract with a street relation added: its codes are used."""
    text = BEIJING.read_text(encoding="utf-8")
    relation = _relation(99, "8", "学院路街道", ref_admin_CN_mca="110108013")
    p = tmp_path / "xueyuanlu.osm"
    p.write_text(text.replace("</osm>", relation + "\n</osm>"), encoding="utf-8")
    street = load_street(p)
    assert (street.meta["code_county"], street.meta["code_street"]) == ("110108", "013")
    assert not [n for n in street.report.notes if n.field == "code_county"]
    s = effective_code_settings(Settings(), street.meta)
    status = code_status(s, street.meta)
    assert not status.provisional and "relation 99" in status.street_source


def test_provisional_note_for_maps() -> None:
    """The short note the red map (HTML notes, PNG/PDF subtitle) carries."""
    from planner.grids.codes import provisional_note

    grids = pd.DataFrame({"code": ["10000000000000000101", "10000011010801300101"]})
    assert provisional_note(grids, "zh") == "网格编码为临时编码（县级/街道代码未知）"
    assert (
        provisional_note(grids, "en") == "Grid codes are provisional (county/street code not known)"
    )
    assert provisional_note(grids.iloc[1:], "en") == ""
    assert provisional_note(None) == ""


def test_codes_given_as_flags_lift_the_load_warning(street_folder: Path) -> None:
    """--code-county / --code-street make the codes known: the load report does not say
    they will be provisional (only the one not given is still warned about)."""
    both = load_street(street_folder, settings=Settings(code_county="320102", code_street="004"))
    assert not [p for p in both.report.notes if p.field in ("code_county", "code_street")]
    one = load_street(street_folder, settings=Settings(code_county="320102"))
    (note,) = [p for p in one.report.notes if p.field in ("code_county", "code_street")]
    assert note.field == "code_street" and "names no code_street:" in str(note)
