"""Every asset of the red map is served by the planner (planner/maps/offline.py)."""

from __future__ import annotations

import re

import folium
from folium.plugins import Draw

from planner.maps import offline
from planner.maps.redmap import red_map
from tests.app_street import tiny_street


def test_vendored_files_exist() -> None:
    assert offline.missing_files() == []


def test_map_and_draw_plugin_use_only_local_assets() -> None:
    offline.use_local_assets()
    m = folium.Map(tiles=None)
    Draw().add_to(m)
    urls = offline.asset_urls(m)
    assert urls, "folium should list its scripts"
    assert offline.external_assets(m) == []
    assert all(u.startswith(offline.APP_BASE_URL + "/") for u in urls)
    assert any(u.endswith("leaflet/leaflet.js") for u in urls)
    assert any(u.endswith("leaflet-draw/leaflet.draw.js") for u in urls)
    for u in urls:
        assert (offline.VENDOR_DIR / u[len(offline.APP_BASE_URL) + 1 :]).is_file(), u


def test_rendered_red_map_names_no_cdn() -> None:
    html = red_map(tiny_street(), draw_tool=True).get_root().render()
    for host in (
        "cdn.jsdelivr.net",
        "cdnjs.cloudflare.com",
        "code.jquery.com",
        "netdna.bootstrapcdn.com",
        "unpkg.com",
    ):
        assert host not in html


def test_standalone_html_inlines_every_asset() -> None:
    html = offline.standalone_html(red_map(tiny_street()))
    assert not re.search(r'<script[^>]+src="', html)
    assert not re.search(r'<link[^>]+rel="stylesheet"', html)
    assert "L.map(" in html or "L.map (" in html
    assert "data:font/woff2;base64," in html  # Font Awesome fonts embedded
    # the app's asset lists are restored afterwards
    assert all(u.startswith(offline.APP_BASE_URL) for u in offline.asset_urls(folium.Map()))


def test_notebook_display_inlines_assets() -> None:
    m = red_map(tiny_street())
    html = m._repr_html_()
    assert html.startswith("<iframe srcdoc=")
    assert "/app/static/" not in html and "cdn.jsdelivr.net" not in html
    assert "data:font/woff2;base64," in html
    # displaying does not change the map: the app can still render it
    assert offline.external_assets(m) == []
    assert m._repr_html_() == html
