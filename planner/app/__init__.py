"""What the Streamlit app (``app.py``) calls; the script itself only wires widgets to these.

* :mod:`planner.app.services` - load, coverage, grids, siting and exports for the app's pages;
* :mod:`planner.app.state` - session state set up in one place, the view and settings mirrored
  in the URL, which projects the session may edit;
* :mod:`planner.app.map` - the map shown from strings computed once (fast reruns);
* :mod:`planner.app.editor` - the grid editor's clicks, drawn lines, edits, autosave, copies
  and opened project files;
* :mod:`planner.app.editor_page` - the grid editor page (map, selection, edits, project file);
* :mod:`planner.app.editor_map` - the editor's base map drawn once and its editing layer
  (grids, atoms, selection, target, hatched locks, split preview) swapped in place;
* :mod:`planner.app.selection` - map clicks and lassos to a selection of atoms and a target grid;
* :mod:`planner.app.preview` - an edit tried and undone, and the badges of the grids it touches.
* :mod:`planner.app.organisation_page` - the organisation page (registers, rules, map
  layers, branch and team edits), mounted by one line of ``app.py``.
* :mod:`planner.app.project` - the project's current grids (what every page and export
  reads), its edit status, the work kept with it (settings, siting, scenarios), unique
  scenario names and the two-tab version check;
* :mod:`planner.app.pages_common` - what a page says about missing layers, steps that
  cannot run and a page that failed.
* :mod:`planner.app.services_page` - the facilities page: floor-area norm per community and
  station (2SFCA), complete circles, "一老一小".
* :mod:`planner.app.sidebar` - the sidebar: language and page, the street and its uploads,
  this browser's projects, the basemap and the settings form;
* :mod:`planner.app.cache` - the street, coverage, grids, map, siting and exports computed
  once per input (``st.cache_data``);
* :mod:`planner.app.session` - what every page reads from the session: language, street
  source, the project's current grids, its status line and saved work;
* :mod:`planner.app.redmap_page` - the red map page beside the load report;
* :mod:`planner.app.overview_page` - the overview page (figures, per community and grid,
  the floor-area norm, the worst-served compounds);
* :mod:`planner.app.siting_page` - the siting page (new stations, before and after, scenarios);
* :mod:`planner.app.export_page` - the export page (the command line's files);
* :mod:`planner.app.city_page` - the city page: a city output folder's street table and
  city red map, a street opened in the other pages (issue 17).
* :mod:`planner.app.store` - the street, coverage, grids and maps kept on disk between
  server starts, found again by the input files' content, the settings and the code.

Modules load on first use (Streamlit is heavy): ``from planner.app import services``.
"""
