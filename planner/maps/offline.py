"""Serve every script, style, font and icon of the red map from the planner itself.

folium and its plugins list their JavaScript and CSS as CDN URLs (``default_js`` and
``default_css`` on each element class); streamlit-folium loads exactly those URLs
into its map frame. With no internet, or from a network that cannot reach the CDNs,
the map stays blank. The planner ships the same files under
``planner/maps/static/vendor/`` (see ``planner/maps/static/LICENSES.md``; fetched from the npm
registry by ``scripts/vendor_assets.py``), and this module points folium at them:

- in the Streamlit app, :func:`use_local_assets` rewrites the lists to URLs under
  ``/app/static/vendor/`` (Streamlit's static file serving of ``./static``, a link to
  ``planner/maps/static``);
- for a standalone HTML file, :func:`standalone_html` renders a map with every asset
  inlined (fonts and images as ``data:`` URLs), so the file works offline on its own.

Basemap tiles are the only thing a map fetches from outside, and only when the user
picks a basemap.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import re
from collections.abc import Iterator
from pathlib import Path

import folium
import folium.plugins
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin

from planner.maps.render import literal_templates

logger = logging.getLogger(__name__)

#: Folder holding the vendored files.
VENDOR_DIR: Path = Path(__file__).resolve().parent / "static" / "vendor"

#: URL prefix under which the Streamlit app serves ``planner/maps/static/vendor``.
APP_BASE_URL = "/app/static/vendor"

#: Marker prefix used while rendering a standalone HTML file (replaced by inlined text).
_INLINE_PREFIX = "planner-vendor:"

#: Asset key (folium's name for it) -> file under ``VENDOR_DIR``; ``None`` = not needed.
ASSET_FILES: dict[str, str | None] = {
    "leaflet": "leaflet/leaflet.js",
    "jquery": "jquery/jquery.min.js",
    "bootstrap": "bootstrap/bootstrap.bundle.min.js",
    "awesome_markers": "awesome-markers/leaflet.awesome-markers.js",
    "leaflet_css": "leaflet/leaflet.css",
    "bootstrap_css": "bootstrap/bootstrap.min.css",
    # Bootstrap 3 glyphicons: only for Icon(prefix="glyphicon"), which the planner never
    # uses; dropped rather than served (it would pull Bootstrap 3 fonts as well).
    "glyphicons_css": None,
    "awesome_markers_font_css": "fontawesome/css/all.min.css",
    "awesome_markers_css": "awesome-markers/leaflet.awesome-markers.css",
    "awesome_rotate_css": "folium/leaflet.awesome.rotate.css",
    "leaflet_draw_js": "leaflet-draw/leaflet.draw.js",
    "leaflet_draw_css": "leaflet-draw/leaflet.draw.css",
}

_ORIGINAL: dict[type, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {}


def _subclasses(cls: type) -> Iterator[type]:
    sub: type
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _rewrite(assets: list[tuple[str, str]], base_url: str) -> list[tuple[str, str]]:
    out = []
    for name, url in assets:
        if name in ASSET_FILES:
            rel = ASSET_FILES[name]
            if rel is not None:
                out.append((name, f"{base_url}/{rel}"))
        else:
            out.append((name, url))
    return out


def use_local_assets(base_url: str = APP_BASE_URL) -> None:
    """Point every folium element class's asset lists at the vendored copies.

    Parameters
    ----------
    base_url
        URL prefix under which ``planner/maps/static/vendor`` is served (default: the
        Streamlit app's ``/app/static/vendor``). Idempotent; the original CDN lists
        are remembered, so calling it again with another prefix works.

    Notes
    -----
    Assets of folium plugins the planner does not vendor keep their CDN URL;
    :func:`external_assets` lists what a given map would still fetch.
    """
    for cls in [JSCSSMixin, *_subclasses(JSCSSMixin)]:
        if "default_js" not in vars(cls) and "default_css" not in vars(cls):
            continue
        if cls not in _ORIGINAL:
            _ORIGINAL[cls] = (
                list(getattr(cls, "default_js", [])),
                list(getattr(cls, "default_css", [])),
            )
        js, css = _ORIGINAL[cls]
        if "default_js" in vars(cls):
            cls.default_js = _rewrite(js, base_url)  # type: ignore[attr-defined]
        if "default_css" in vars(cls):
            cls.default_css = _rewrite(css, base_url)  # type: ignore[attr-defined]
    logger.debug("folium assets now served from %s", base_url)


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def asset_urls(m: folium.Map) -> list[str]:
    """Every script and style URL the map's elements ask for (what streamlit-folium loads)."""
    urls: list[str] = []
    for el in _walk(m):
        urls += [u for _n, u in getattr(el, "default_js", [])]
        urls += [u for _n, u in getattr(el, "default_css", [])]
    return list(dict.fromkeys(urls))


def external_assets(m: folium.Map) -> list[str]:
    """The asset URLs of ``m`` that point outside the planner (should be empty)."""
    return [u for u in asset_urls(m) if re.match(r"^(https?:)?//", u)]


def _data_url(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0]
    if path.suffix == ".woff2":
        mime = "font/woff2"
    elif path.suffix == ".svg":
        mime = "image/svg+xml"
    payload = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"data:{mime or 'application/octet-stream'};base64,{payload}"


def _inline_css(path: Path) -> str:
    """CSS text with every relative ``url(...)`` it uses embedded as a data URL."""
    text = path.read_text(encoding="utf-8")

    def repl(match: re.Match[str]) -> str:
        ref = match.group(1).strip("'\"")
        if ref.startswith(("data:", "http:", "https:", "#")):
            return match.group(0)
        target = (path.parent / ref.split("?")[0].split("#")[0]).resolve()
        if not target.is_file():
            logger.debug("CSS %s refers to missing %s; left out", path.name, ref)
            return "url(data:,)"
        return f"url({_data_url(target)})"

    return re.sub(r"url\(([^)]+)\)", repl, text)


def _vendor_path(url: str) -> Path:
    rel = url[len(_INLINE_PREFIX) :].lstrip("/")
    path = (VENDOR_DIR / rel).resolve()
    if VENDOR_DIR not in path.parents or not path.is_file():
        raise FileNotFoundError(f"vendored asset {rel!r} is missing from {VENDOR_DIR}")
    return path


def standalone_html(m: folium.Map | MacroElement) -> str:
    """Render ``m`` as one self-contained HTML page with every asset inlined.

    The page opens from disk with no network: Leaflet, plugins, styles, fonts and
    icon images are embedded. Only basemap tiles (if the map has any) are fetched.

    Parameters
    ----------
    m
        A folium map (for example from :func:`planner.maps.redmap.red_map`).

    Returns
    -------
    str
        The HTML text (UTF-8).
    """
    use_local_assets(_INLINE_PREFIX.rstrip(":") + ":")
    try:
        with literal_templates():
            html = m.get_root().render()
    finally:
        use_local_assets(APP_BASE_URL)
    prefix = re.escape(_INLINE_PREFIX)

    def script(match: re.Match[str]) -> str:
        text = _vendor_path(match.group(1)).read_text(encoding="utf-8")
        return "<script>" + text.replace("</script", "<\\/script") + "</script>"

    def style(match: re.Match[str]) -> str:
        text = _inline_css(_vendor_path(match.group(1)))
        return "<style>" + text.replace("</style", "<\\/style") + "</style>"

    html = re.sub(rf'<script src="({prefix}[^"]+)"></script>', script, html)
    html = re.sub(rf'<link rel="stylesheet" href="({prefix}[^"]+)"\s*/>', style, html)
    leftover = re.findall(rf'"({prefix}[^"]+)"', html)
    if leftover:
        raise RuntimeError(f"assets left un-inlined: {leftover}")
    return html


def notebook_html(m: folium.Map, *, height_px: int = 600) -> str:
    """``m`` as an iframe with every asset inlined, for Jupyter (works offline there too).

    The map is rendered from a copy, so ``m`` can be displayed again or handed to the app.
    """
    import copy
    import html as _html

    page = standalone_html(copy.deepcopy(m))
    return (
        f'<iframe srcdoc="{_html.escape(page, quote=True)}" '
        f'style="width:100%;height:{int(height_px)}px;border:none"></iframe>'
    )


def missing_files() -> list[str]:
    """Vendored files named in :data:`ASSET_FILES` that are not on disk (should be empty)."""
    return [rel for rel in ASSET_FILES.values() if rel and not (VENDOR_DIR / rel).is_file()]


use_local_assets(APP_BASE_URL)
