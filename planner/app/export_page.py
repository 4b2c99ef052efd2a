"""The export page: the command line's files (one export function,
:func:`planner.app.services.export_files`) for the project's current grids and the last
siting run, one download button each and all of them in one zip; the PNG/PDF map on
request, with the completeness layer when ticked (``run --map-completeness``).
"""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from planner.app import organisation_page
from planner.app import project as app_project
from planner.app import services as svc
from planner.app.cache import cached_exports, safe, settings_json
from planner.app.session import L, S, project_grids, siting_result, source_json
from planner.settings import Settings
from planner.street import Street

#: Media types of the export page's downloads, by file ending.
_MIME = {
    ".geojson": "application/geo+json",
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".gpkg": "application/geopackage+sqlite3",
    ".zip": "application/zip",
    ".html": "text/html",
    ".png": "image/png",
    ".pdf": "application/pdf",
    ".json": "application/json",
}


def page_export(street: Street, settings: Settings) -> None:
    """The command line's files (planner.export.outputs.write_run_files), one button each.

    A checkbox draws the completeness layer on the PNG/PDF map (the command line's
    ``--map-completeness``), through the same writer.
    """
    from planner.export.outputs import zip_files

    images = bool(S.get("_export_images"))
    st.caption(L("export_intro"))
    map_completeness = st.checkbox(
        L("export_map_completeness"),
        key="export_map_completeness",
        help=L("export_map_completeness_help"),
    )
    with st.spinner("…"):
        grids = project_grids(street, settings)
        siting = safe(siting_result, street, settings)
        files = cached_exports(
            source_json(),
            settings_json(settings),
            images,
            app_project.grids_token(grids),
            grids,
            json.dumps(S.get("siting_request")),
            None if siting is None else siting["layers"],
            organisation_page.export_key(settings),
            map_completeness and images,  # no images, nothing to recompute
        )
    st.download_button(
        L("export_all"),
        zip_files(files),
        file_name="planner-export.zip",
        mime="application/zip",
        key="dl_all",
        type="primary",
    )
    for group, downloads in svc.export_downloads(files):
        st.markdown(f"**{L(group)}**")
        cols = st.columns(4)
        for i, (name, data) in enumerate(downloads.items()):
            mime = _MIME.get(Path(name).suffix, "text/plain")
            cols[i % 4].download_button(name, data, file_name=name, mime=mime, key=f"dl_{name}")
        if group == "export_maps" and not images and st.button(L("export_png"), key="make_png"):
            S["_export_images"] = True
            st.rerun()
