"""Write notebooks/walkthrough.ipynb (run: python scripts/make_walkthrough.py).

The notebook is kept as this script so its cells are reviewed as code; the test
suite executes the generated notebook (tests/test_notebook.py) so it cannot rot.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]

CELLS: list[tuple[str, str]] = [
    (
        "md",
        """# Walkthrough: grids and 15-minute service circles for one street

This notebook runs the planner step by step on the **demo street** that ships with it (a
made-up sub-district, 街道, with communities, compounds, buildings, roads and party-mass
service stations; *synthetic data, not a real place*). Each step is one call; the same
steps run in one go with

```
python -m planner demo --out out/
```

Steps: load the street → divide it into grids (网格) and prove the rules → walking
coverage of the stations (15-minute circles, 服务圈) → the red map (红色地图) → exports
for other systems → re-checking grids edited in a desktop GIS.""",
    ),
    (
        "code",
        """import os
import sys
from pathlib import Path

# make the planner importable when the notebook is opened from notebooks/
root = Path.cwd() if (Path.cwd() / "planner").is_dir() else Path.cwd().parent
if str(root) not in sys.path:
    sys.path.insert(0, str(root))

import pandas as pd
from IPython.display import Image, display

from planner import pipeline
from planner.load.sources import load_street
from planner.settings import Settings

OUT = Path(os.environ.get("PLANNER_WALKTHROUGH_OUT", "walkthrough_out"))
OUT.mkdir(parents=True, exist_ok=True)
settings = Settings()  # walking speed 4 km/h, thresholds 5/10/15 min, 200-500 households per grid
print(f"walking {settings.walk_speed_kmh:g} km/h = {settings.walk_m_per_min:.0f} m per minute; "
      f"15 minutes = {15 * settings.walk_m_per_min:,.0f} m along the walking network")""",
    ),
    (
        "md",
        """## 1. Load the street

`load_street("demo")` reads the demo folder (`data/demo/`, GeoJSON files in the folder
format a planner can also use for a real street), checks it, estimates missing household
counts and builds the walking network. Every layer is then in the street's metric
projection (UTM), so lengths are metres and areas m². The load report says what was
found, what was estimated and what was repaired.""",
    ),
    (
        "code",
        """street = load_street("demo", settings=settings)
print(street.report.to_text())""",
    ),
    (
        "md",
        """## 2. Divide the street into grids

The street is cut into *atoms* along its own features (roads, the river, the railway,
community and compound outlines), and the atoms are grouped per community into grids
of 200–500 households, contiguous and compact. Then every rule of the policy is
**proved** on the result: the grids tile the street with no gap and no overlap, each
grid lies in one community, no compound and no building is cut, households are in
range (or the reason is given), codes follow CJ/T 349-2010.""",
    ),
    (
        "code",
        """grids = pipeline.divide_grids(street, settings=settings)
print(grids.report.to_text())""",
    ),
    (
        "code",
        """cols = ["code", "community", "households", "population", "buildings", "compactness"]
grids.grids[cols].sort_values("code").head(10)""",
    ),
    (
        "code",
        """from matplotlib.figure import Figure

fig = Figure(figsize=(7, 3))
ax = fig.add_subplot()
ax.hist(grids.grids["households"], bins=20, color="#d7191c", edgecolor="white")
ax.axvspan(settings.grid_min_households, settings.grid_max_households, color="#eeeeee", zorder=0)
ax.set_xlabel("households per grid (grey: allowed range)")
ax.set_ylabel("grids")
fig.tight_layout()
fig.savefig(OUT / "households_per_grid.png", dpi=90)
display(Image(filename=str(OUT / "households_per_grid.png")))""",
    ),
    (
        "md",
        """## 3. Who is within a 15-minute walk?

Walking times run along the pedestrian network from every party-mass service station
(gated compounds are entered only through their gates; the river and the railway are
crossed only on bridges). Each building gets the time to its nearest station; the
circles are the parts of the street reached within 5, 10 and 15 minutes, and the
*gaps* are residential areas beyond 15 minutes.""",
    ),
    (
        "code",
        """coverage = pipeline.compute_coverage_layers(street, settings=settings, grids=grids.grids)
s = coverage.summary
for t, pct in s["households_covered_pct"].items():
    print(f"within {t:>2} min: {s['households_covered'][t]:>6,} households ({pct}%)")
print(f"gaps: {s['gaps']} areas, {s['gap_area_m2']:,.0f} m²")""",
    ),
    (
        "code",
        """by_community = coverage.table("community")
by_community[["name", "households", "households_covered_15", "households_share_15_pct",
              "stations", "station_floor_area_m2", "floor_area_norm_m2"]]""",
    ),
    (
        "code",
        """# the compounds furthest from service: where a new station helps most
coverage.uncovered_compounds.head(8)""",
    ),
    (
        "md",
        """## 4. The red map

The report map: stations in red by kind, the 5/10/15-minute circles, the gaps hatched,
grid and community lines, with a measured scale bar, north arrow, the walking-speed
assumption and the data credit. The interactive version (`redmap.html`) opens offline
in any browser.""",
    ),
    (
        "code",
        """from planner.maps.image import render_map, save_map

fig = render_map(street, coverage=coverage, grids=grids.grids, settings=settings)
save_map(fig, OUT / "redmap.png", dpi=80)
display(Image(filename=str(OUT / "redmap.png")))""",
    ),
    (
        "md",
        """## 5. Export for other systems

One call writes every layer as RFC 7946 GeoJSON, one GeoPackage with all layers and
tables, Shapefiles (UTF-8 `.cpg`, field names cut to 10 characters and listed in
`fields.csv`) and CSV tables with a BOM so Excel shows Chinese correctly. Pass
`coordinate_system="gcj02"` for systems built on Amap or Tencent maps.""",
    ),
    (
        "code",
        """result = pipeline.RunResult(street=street, settings=settings, grids=grids, coverage=coverage)
files = pipeline.export_results(result, OUT, images=False, html=False)
pd.DataFrame({"file": [str(p.relative_to(OUT)) for p in files],
              "kB": [round(p.stat().st_size / 1024, 1) for p in files]})""",
    ),
    (
        "md",
        """## 6. Grids edited in a desktop GIS come back and are re-checked

Planners adjust grids in QGIS, ArcGIS or SuperMap. `read_grids` reads the edited file
back (any of the formats above), and the same proof runs again. Here the exported
file is read back unchanged: the codes, households and geometry come back (within
1 cm) and every rule still holds. From the command line:
`python -m planner check-grids grids.geojson demo`.""",
    ),
    (
        "code",
        """from planner.grids.gridfile import read_grids
from planner.grids.rules import check_grids

back = read_grids(OUT / "grids.geojson", street)
report = check_grids(back, street, settings=settings)
print("codes identical:", back["code"].tolist() == grids.grids["code"].tolist())
print("households identical:", back["households"].tolist() == grids.grids["households"].tolist())
print(report.to_text().splitlines()[-1])""",
    ),
    (
        "md",
        """## What next

- Run the whole job on your own street: `python -m planner run path/to/folder --out out/`
  (folder format: see the README), or on an OpenStreetMap extract.
- `python -m planner check-grids edited.gpkg path/to/folder` after editing grids.
- `streamlit run app.py` for the interactive red map, grid editor and siting pages.""",
    ),
]


def build() -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    for kind, text in CELLS:
        nb.cells.append(new_markdown_cell(text) if kind == "md" else new_code_cell(text))
    return nb


def main() -> None:
    """Write the notebook; with ``--execute`` run it first so it is stored with its
    figures and tables (readable on a code host without running it)."""
    import os
    import sys
    import tempfile

    path = ROOT / "notebooks" / "walkthrough.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = build()
    if "--execute" in sys.argv[1:]:
        from nbclient import NotebookClient

        with tempfile.TemporaryDirectory() as out:
            os.environ["PLANNER_WALKTHROUGH_OUT"] = out
            NotebookClient(
                nb,
                timeout=600,
                kernel_name="python3",
                resources={"metadata": {"path": str(path.parent)}},
            ).execute()
    nbformat.write(nb, str(path))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
