"""Maps: the red map (红色地图) as interactive HTML and as PNG/PDF, served offline.

* :mod:`planner.maps.redmap` - :func:`red_map`, the folium map of the app, the CLI and the notebook;
* :mod:`planner.maps.image` - the same map as PNG/PDF for printed reports (matplotlib);
* :mod:`planner.maps.offline` - every script, style and font served by the planner itself
  (``planner/maps/static``), and standalone HTML with assets inlined.

Modules load on first use (folium and matplotlib are heavy): ``planner.maps.redmap.red_map``.
"""
