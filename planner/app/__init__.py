"""What the Streamlit app (``app.py``) calls; the script itself only wires widgets to these.

* :mod:`planner.app.services` - load, coverage, grids, siting and exports for the app's pages;
* :mod:`planner.app.state` - session state set up in one place, the view and settings mirrored
  in the URL, which projects the session may edit;
* :mod:`planner.app.map` - the map shown from strings computed once (fast reruns);
* :mod:`planner.app.editor` - the grid editor's clicks, drawn lines, edits, autosave, copies
  and opened project files;
* :mod:`planner.app.services_page` - the facilities page: floor-area norm per community and
  station (2SFCA), complete circles, "一老一小".

Modules load on first use (Streamlit is heavy): ``from planner.app import services``.
"""
