"""Drive the grid editor in Chromium: pick a valid move, click map points, read the view.

Shared by tests/test_browser_editor.py and bench/bench_app.py. The move is found on
the same division the app makes (its default settings), so the atom and the target
grid clicked in the browser are ones the rules allow to move.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import shapely
from pyproj import Transformer

from planner.app import services as svc
from planner.app.preview import trial
from planner.app.selection import short_label
from planner.app.state import init_state, settings_from_state
from planner.grids.codes import effective_code_settings
from planner.grids.edits import GridEditor
from planner.load.sources import load_street
from tests.appserver import map_frame, wait_idle


@dataclass(frozen=True)
class Move:
    """One allowed move on the app's division: where to click, what should follow."""

    atom: int
    source: str
    target: str
    atom_latlng: tuple[float, float]
    target_latlng: tuple[float, float]
    source_label: str
    target_label: str


def app_editor(source: str = "demo", **extra: Any) -> GridEditor:
    """The editor the app opens on ``source`` with its default settings (``extra``: the
    loader's further files, e.g. ``stations=path``)."""
    state: dict[str, Any] = {}
    init_state(state, {})
    settings = settings_from_state(state)
    street = load_street(source, settings=settings, **extra)
    result = svc.grids_for(street, settings)
    return GridEditor.from_result(
        street, result, settings=effective_code_settings(settings, street.meta)
    )


def find_move(editor: GridEditor) -> Move:
    """An atom with households, alone in no grid, that the rules let move to a neighbour.

    The atom's click point is its inner point; the target's is an inner point of the
    target grid away from the source (so the click lands on the target).
    """
    to_wgs = Transformer.from_crs(editor.atoms.crs, "EPSG:4326", always_xy=True)
    grids = editor.grids.set_index("code")
    hh = editor.atoms["households"]
    for atom in editor.atoms.index[(hh > 0).to_numpy()]:
        source = editor.grid_of_atom(int(atom))
        others = grids[(grids["community_id"] == grids.loc[source, "community_id"])]
        for target in others.index:
            if target == source or target in editor.locked:
                continue
            if grids.loc[target].get("kind", "residential") == "dedicated":
                continue  # homes belong in residential grids, not a 专属网格
            if not trial(editor, lambda e, a=int(atom), t=target: e.move_atoms([a], t)).ok:
                continue
            apt = shapely.point_on_surface(editor.atoms.geometry[atom])
            tgt = grids.geometry[target].difference(grids.geometry[source].buffer(30))
            tpt = shapely.point_on_surface(tgt if not tgt.is_empty else grids.geometry[target])
            alon, alat = to_wgs.transform(apt.x, apt.y)
            tlon, tlat = to_wgs.transform(tpt.x, tpt.y)
            return Move(
                atom=int(atom),
                source=source,
                target=str(target),
                atom_latlng=(alat, alon),
                target_latlng=(tlat, tlon),
                source_label=short_label(source, editor.settings),
                target_label=short_label(str(target), editor.settings),
            )
    raise AssertionError("no movable atom on this street")


def editor_frame(page: Any, *, timeout_s: float = 90) -> Any:
    """The editor map's frame once its editing layer (grid labels) is drawn and shown
    (other pages keep the editor's map frame hidden: not taken for the editor's)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        map_frame(page, timeout_s=timeout_s, min_paths=5)
        for frame in page.frames:
            try:
                if frame.locator(".ed-label").count() > 0 and frame.frame_element().is_visible():
                    return frame
            except Exception:  # frame replaced while the app reruns
                continue
        time.sleep(0.05)
    raise TimeoutError("the editor map did not draw its grids")


def click_latlng(page: Any, frame: Any, latlng: tuple[float, float]) -> None:
    """Click the map in ``frame`` at a latitude/longitude (pixel from Leaflet itself).

    A point under one of the map's panels (legend and notes, title) is first brought to
    the middle of the map, as a person would pan to it: a panel takes the click.
    """
    covered = frame.evaluate(
        "([lat, lng]) => { const p = window.map.latLngToContainerPoint([lat, lng]);"
        " const r = window.map.getContainer().getBoundingClientRect();"
        " const e = document.elementFromPoint(r.left + p.x, r.top + p.y);"
        " return !!(e && e.closest('.leaflet-control')); }",
        list(latlng),
    )
    if covered:
        frame.evaluate(
            "([lat, lng]) => window.map.panTo([lat, lng], {animate: false})", list(latlng)
        )
        wait_idle(page)
    x, y = frame.evaluate(
        "([lat, lng]) => { const p = window.map.latLngToContainerPoint([lat, lng]);"
        " return [p.x, p.y]; }",
        list(latlng),
    )
    box = frame.frame_element().bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)


def legend_takes_clicks(frame: Any) -> bool:
    """Whether the map's legend notes (bottom right) take a click at their centre
    (``False``: the click goes through to the map beneath, as it should)."""
    taken: bool = frame.evaluate(
        "() => { const n = document.querySelector('.rm-legend .rm-note');"
        " const r = n.getBoundingClientRect();"
        " const e = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);"
        " return !e || !!e.closest('.leaflet-control'); }"
    )
    return taken


def map_view(frame: Any) -> tuple[int, float, float]:
    """The map's zoom and centre (latitude, longitude)."""
    zoom, lat, lng = frame.evaluate(
        "() => { const c = window.map.getCenter(); return [window.map.getZoom(), c.lat, c.lng]; }"
    )
    return int(zoom), float(lat), float(lng)


def grid_geometry(frame: Any, code: str) -> dict[str, Any] | None:
    """The GeoJSON geometry the editing layer draws for grid ``code`` (None if absent)."""
    geom: dict[str, Any] | None = frame.evaluate(
        """(code) => {
          const grids = window.__ed && window.__ed.grids;
          let found = null;
          if (!grids || !window.map.hasLayer(grids)) return null;
          grids.eachLayer(l => {
            if (l.feature && l.feature.properties.code === code) found = l.feature.geometry;
          });
          return found;
        }""",
        code,
    )
    return geom
