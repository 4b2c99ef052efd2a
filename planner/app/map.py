"""Show a folium map in Streamlit from strings computed once (fast reruns).

``streamlit_folium.st_folium`` renders the folium map on every script run (about
0.4 s for the demo street's red map) before sending the same strings to its
frontend. :func:`map_payload` does that rendering once, returning plain strings the
app caches with ``st.cache_data``; :func:`show_map` sends them to the same
streamlit-folium component on each run. Identical strings mean the frontend keeps
the drawn map: reruns redraw nothing, and with ``returned_objects=[]`` panning or
zooming does not rerun the script at all.

This relies on streamlit-folium internals (0.22-0.27); if they are missing,
:func:`show_map` falls back to ``st_folium`` with the map rebuilt by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import folium
from branca.element import Element
from folium.elements import JSCSSMixin

from planner.maps.render import literal_templates


def _walk(element: Element) -> Iterable[Element]:
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


#: ``\uXXXX`` escapes of Chinese text in the rendered script (CJK symbols and
#: ideographs U+3000-9FFF, full-width forms U+FF00-FFEF), not preceded by an escaped
#: backslash: six bytes each where the character itself takes three in UTF-8.
_CJK_ESCAPE = re.compile(
    r"(?<!\\)((?:\\\\)*)\\u([3-9][0-9a-fA-F]{3}|[fF][fF][0-9a-eA-E][0-9a-fA-F])"
)


def compact_script(script: str) -> str:
    r"""``script`` with Chinese text's ``\uXXXX`` escapes written as the characters.

    The same JavaScript (an escape and its character are the same string); the demo
    street's full red map shrinks by a fifth (1.46 -> about 1.2 MB; the completeness
    layer's tooltips list missing services in Chinese for every building). Only
    characters that need no escape in a script are written out: never quotes, ``<``,
    ``>``, ``&``, line separators or surrogates.

    Examples
    --------
    >>> compact_script(r'{"name": "\u4e1c\u533a", "raw": "\\u4e1c"}')
    '{"name": "东区", "raw": "\\\\u4e1c"}'
    """
    return _CJK_ESCAPE.sub(lambda mt: mt.group(1) + chr(int(mt.group(2), 16)), script)


def map_payload(m: folium.Map) -> dict[str, Any]:
    """The strings streamlit-folium's frontend needs to draw ``m`` (picklable, cacheable).

    Renders ``m`` (which changes it: pass a map built for this purpose), once: the map's
    own render fills the figure's header and html the component reads; rendering the
    whole figure first (streamlit-folium's recipe) compiles the standalone page too and
    renders every element twice (each marker's icon set twice), about half the time.
    Rendered scripts are not compiled again as templates
    (:func:`planner.maps.render.literal_templates`).
    """
    import streamlit_folium as sf

    with literal_templates():
        m.render()
    html = sf._get_html(m)
    header = sf._get_header(m)
    script = compact_script(sf._get_map_string(m))
    css: list[str] = []
    js: list[str] = []
    for el in _walk(m):
        if isinstance(el, JSCSSMixin):
            css += [u for _n, u in getattr(el, "default_css", [])]
            js += [u for _n, u in getattr(el, "default_js", [])]
    try:
        bounds = m.get_bounds()
    except AttributeError:  # pragma: no cover - empty map
        bounds = [[None, None], [None, None]]
    return {
        "script": script,
        "header": header,
        "html": html,
        "id": sf.get_full_id(m),
        "css_links": list(dict.fromkeys(css)),
        "js_links": list(dict.fromkeys(js)),
        "bounds": bounds,
        "zoom": m.options.get("zoom"),
    }


def show_map(
    payload: dict[str, Any],
    *,
    key: str,
    height: int = 640,
    returned_objects: Iterable[str] = (),
    feature_group: str | None = None,
    zoom: int | None = None,
    center: tuple[float, float] | None = None,
    on_change: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any] | None:
    """Draw a map payload with the streamlit-folium component; return what it reports.

    Parameters
    ----------
    payload
        From :func:`map_payload`.
    key
        Widget key (one per map on a page).
    height
        Frame height, pixels; the width follows the container.
    returned_objects
        What the frontend sends back (e.g. ``["last_clicked"]``); empty means panning
        and zooming never rerun the script.
    feature_group
        JavaScript adding layers to the drawn map (see
        :func:`planner.app.editor_map.layer_script`): when only this changes between
        runs, the frontend swaps these layers and keeps the map, its zoom and centre.
    zoom, center
        A view to restore (zoom level; latitude, longitude): applied when it differs
        from the last one applied, e.g. the view the map last reported after the map
        frame was rebuilt.
    on_change
        Called with what the frontend reports (a click, a drawing, a new view) before
        the script (or its fragment) runs again, so the run that follows draws the
        outcome: one run per click.
    """
    import streamlit as st
    import streamlit_folium as sf

    returned = list(returned_objects)
    (s, w), (n, e) = payload["bounds"]
    defaults_all: dict[str, Any] = {
        "last_clicked": None,
        "last_object_clicked": None,
        "last_object_clicked_tooltip": None,
        "last_object_clicked_popup": None,
        "all_drawings": None,
        "last_active_drawing": None,
        "bounds": {"_southWest": {"lat": s, "lng": w}, "_northEast": {"lat": n, "lng": e}},
        "zoom": payload["zoom"],
        "center": {"lat": (s + n) / 2, "lng": (w + e) / 2} if None not in (s, n, w, e) else None,
    }
    defaults = {k: v for k, v in defaults_all.items() if k in returned}
    hash_key = sf.generate_js_hash(payload["script"], key, False)

    def changed() -> None:
        if on_change is not None:
            on_change(st.session_state.get(hash_key) or {})

    result: dict[str, Any] | None = sf._component_func(
        script=payload["script"],
        header=payload["header"],
        html=payload["html"],
        id=payload["id"],
        key=hash_key,
        height=height,
        width=None,
        returned_objects=returned,
        default=defaults,
        zoom=zoom,
        center=list(center) if center is not None else None,
        feature_group=feature_group,
        return_on_hover=False,
        layer_control=None,
        pixelated=False,
        css_links=payload["css_links"],
        js_links=payload["js_links"],
        on_change=changed if on_change is not None else None,
        wrap_longitude=False,
    )
    return result
