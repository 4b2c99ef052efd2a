"""The files of a run (planner/export/outputs.py): the app's export is the command line's.

``python -m planner run demo --no-siting`` runs in a subprocess (the real command);
the app's export page computes the same street with the app's own functions
(:mod:`planner.app.services`, as ``app.py`` calls them) and writes through
:func:`planner.app.services.export_files`. Names, columns and bytes must agree.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyogrio
import pytest

from planner.app import services as svc
from planner.cli import main
from planner.export.outputs import read_files, zip_files
from planner.settings import Settings
from tests.conftest import street_layers, write_folder
from tests.test_exports import HOSTILE

ROOT = Path(__file__).resolve().parents[1]

#: Files whose bytes carry a time or random element ids: compared by content.
NOT_BYTE_STABLE = {"planner.gpkg", "tables.xlsx", "redmap.html", "redmap.pdf", "summary.json"}

#: The 29 documented columns of coverage_by_grid.csv (docs/readme/exports.md).
GRID_COLUMNS = [
    "grid_id",
    "code",
    "code_provisional",
    "community_id",
    "community",
    "households",
    "population",
    "buildings",
    "atoms",
    "area_m2",
    "compactness",
    "locked",
    "reason",
    "load",
    "kind",
    "land_use",
    "feature_share",
    "shape_reason",
    "lon",
    "lat",
    "households_covered_5",
    "households_share_5_pct",
    "population_covered_5",
    "households_covered_10",
    "households_share_10_pct",
    "population_covered_10",
    "households_covered_15",
    "households_share_15_pct",
    "population_covered_15",
    "households_uncovered_15",
]


def _planner(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "planner", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def cli_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    work = tmp_path_factory.mktemp("cli")
    proc = _planner("run", "demo", "--out", "out", "--no-siting", "-q", cwd=work)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return read_files(work / "out")


@pytest.fixture(scope="module")
def app_files() -> dict[str, bytes]:
    settings = Settings()
    street = svc.load({"kind": "demo"}, settings)  # what app.py's caches call
    coverage = svc.coverage_for(street, settings)
    grids = svc.grids_for(street, settings)
    return svc.export_files(street, settings=settings, coverage=coverage, grids=grids, images=True)


def _gpkg_layers(data: bytes, folder: Path) -> dict[str, pd.DataFrame]:
    path = folder / "x.gpkg"
    path.write_bytes(data)
    names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    return {n: pd.DataFrame(pyogrio.read_dataframe(path, layer=n)) for n in names}


def _xlsx_cells(data: bytes) -> dict[str, list[list[tuple[object, str]]]]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data))
    return {
        ws.title: [[(c.value, c.data_type) for c in row] for row in ws.iter_rows()]
        for ws in wb.worksheets
    }


def test_app_export_is_the_cli_run(
    cli_files: dict[str, bytes], app_files: dict[str, bytes], tmp_path: Path
) -> None:
    assert sorted(app_files) == sorted(cli_files)  # the same names, Shapefiles included
    assert {"planner.gpkg", "coverage_by_grid.csv", "tables.xlsx", "COMPLETE"} <= set(cli_files)
    differ = [n for n in cli_files if n not in NOT_BYTE_STABLE and app_files[n] != cli_files[n]]
    assert not differ, differ
    # the rest: equal but for the time, the run's timings and folium's random element ids
    ids = re.compile(rb"[0-9a-f]{32}")
    assert ids.sub(b"", app_files["redmap.html"]) == ids.sub(b"", cli_files["redmap.html"])
    date = re.compile(rb"/CreationDate \([^)]*\)")
    assert date.sub(b"", app_files["redmap.pdf"]) == date.sub(b"", cli_files["redmap.pdf"])
    app_s, cli_s = json.loads(app_files["summary.json"]), json.loads(cli_files["summary.json"])
    for doc in (app_s, cli_s):
        del doc["made"], doc["timings_s"]
    assert app_s == cli_s
    assert _xlsx_cells(app_files["tables.xlsx"]) == _xlsx_cells(cli_files["tables.xlsx"])
    (tmp_path / "a").mkdir()
    (tmp_path / "c").mkdir()
    app_g = _gpkg_layers(app_files["planner.gpkg"], tmp_path / "a")
    cli_g = _gpkg_layers(cli_files["planner.gpkg"], tmp_path / "c")
    assert list(app_g) == list(cli_g)
    for name in cli_g:
        pd.testing.assert_frame_equal(app_g[name], cli_g[name], obj=name)


def test_grid_table_has_the_documented_columns(cli_files: dict[str, bytes]) -> None:
    header = next(csv.reader(io.StringIO(cli_files["coverage_by_grid.csv"].decode("utf-8-sig"))))
    assert header == GRID_COLUMNS


def test_complete_lists_every_file_and_the_summary_names_them(
    cli_files: dict[str, bytes],
) -> None:
    listed = [
        line for line in cli_files["COMPLETE"].decode().splitlines() if not line.startswith("#")
    ]
    assert sorted(listed) == sorted(n for n in cli_files if n != "COMPLETE")
    summary = json.loads(cli_files["summary.json"])
    assert sorted(summary["files"]) == listed  # names relative to the folder, not paths
    assert summary["files"][-1] == "summary.json"  # written after every file but COMPLETE


def test_every_file_is_offered_once_on_the_export_page(app_files: dict[str, bytes]) -> None:
    groups = svc.export_downloads(app_files)
    offered = {name: data for _, group in groups for name, data in group.items()}
    assert sum(len(g) for _, g in groups) == len(offered)
    assert [key for key, _ in groups] == [key for key, _ in svc.EXPORT_GROUPS]
    assert set(offered) == {n for n in app_files if "/" not in n} | {"shapefile.zip"}
    assert all(offered[n] == app_files[n] for n in offered if n != "shapefile.zip")
    import zipfile

    shp = sorted(n for n in app_files if n.startswith("shapefile/"))
    with zipfile.ZipFile(io.BytesIO(offered["shapefile.zip"])) as zf:
        assert zf.namelist() == shp and "shapefile/grids.shp" in shp
        assert all(zf.read(n) == app_files[n] for n in shp)
    assert zip_files(app_files) == zip_files(dict(app_files))  # the same bytes every time


def test_hostile_names_never_become_formulas(tmp_path: Path) -> None:
    """Every CSV and the workbook a run writes: formula-like text is text."""
    from openpyxl import load_workbook

    layers = street_layers()
    for name, n in (("communities", 2), ("compounds", 2), ("buildings", 4), ("stations", 3)):
        layers[name]["name"] = [HOSTILE[i % len(HOSTILE)] for i in range(n)]
    folder = write_folder(tmp_path / "street", layers)
    out = tmp_path / "out"
    code = main(
        ["run", str(folder), "--out", str(out), "--no-html", "--no-images", "--sites", "0", "-q"]
    )
    assert code in (0, 1)  # a tiny street may break a grid rule; every file is written
    csvs = sorted(out.rglob("*.csv"))
    assert {"coverage_by_station.csv", "uncovered_compounds.csv"} <= {p.name for p in csvs}
    seen = 0
    for path in csvs:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                bad = [v for v in row if v.startswith(("=", "+", "-", "@", "\t", "\r"))]
                assert not [v for v in bad if not _is_number(v)], (path.name, bad)
                seen += sum(v.startswith("'") and v[1:] in HOSTILE for v in row)
    assert seen >= 3  # station names reached the tables, prefixed
    wb = load_workbook(out / "tables.xlsx")
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert any(c.value == HOSTILE[0] and c.data_type == "s" for c in cells)
    numbers = [
        c for c in cells if isinstance(c.value, int | float) and not isinstance(c.value, bool)
    ]
    assert numbers and all(c.data_type == "n" for c in numbers)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_the_export_builds_each_table_once_and_its_bar_counts_every_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The export step's progress bar counts the tables without building them (a city
    street's task built them twice: ~0.7 CPU s a street of ~5,000 buildings), and the
    count is still the number of files written."""
    from planner.export import outputs
    from planner.pipeline import run_pipeline

    built: list[str] = []
    grid_table = outputs.grid_table
    monkeypatch.setattr(outputs, "grid_table", lambda *a: built.append("grid") or grid_table(*a))
    ticks: dict[str, list[int]] = {}

    class Bar:
        def __init__(self, name: str, total: int) -> None:
            ticks[name] = [total, 0]
            self.name = name

        def update(self, n: int = 1) -> None:
            ticks[self.name][1] += n

        def set_postfix_str(self, s: str, refresh: bool = True) -> None:
            pass

        def close(self) -> None:
            pass

    folder = write_folder(tmp_path / "street", street_layers())
    result = run_pipeline(
        folder, tmp_path / "out", new_sites=0, coverage=False, formats=("geojson", "csv"), html=False,
        images=False, bars=Bar,
    )  # fmt: skip
    assert built == ["grid"]
    total, done = ticks["export"]
    written = [f for f in result.files if f.suffix in (".geojson", ".csv")]
    assert (
        total
        == done
        == len(written)
        == len(outputs.output_layers(result)) + len(outputs.output_tables(result))
    )
