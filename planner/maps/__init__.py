"""Maps: the red map (红色地图) as interactive HTML and as PNG/PDF, served offline.

* :mod:`planner.maps.style` - the layers, their names (Chinese and English), colours, line
  widths, fill opacities and legend words: one vocabulary for both maps;
* :mod:`planner.maps.content` - what each layer shows (:class:`MapContent`), gathered once
  from the street, the coverage layers, the grid layer and the proposed sites;
* :mod:`planner.maps.redmap` - :func:`red_map`, the folium map of the app, the CLI and the
  notebook (every text from the data HTML-escaped);
* :mod:`planner.maps.image` - the same map as PNG/PDF for printed reports (matplotlib);
* :mod:`planner.maps.offline` - every script, style and font served by the planner itself
  (``planner/maps/static``), and standalone HTML with assets inlined;
* :mod:`planner.maps.render` - a map rendered without compiling its rendered scripts
  again as Jinja templates (the app's map and the standalone HTML).

Modules load on first use (folium and matplotlib are heavy): ``planner.maps.redmap.red_map``.
"""
