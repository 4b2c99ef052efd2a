"""The no-English check of a page shown in Chinese: ASCII words outside an allowed list.

Shared by the AppTest scan (tests/test_app_workbench.py) and the real-Chromium scan
of every page (tests/test_browser_chinese.py).
"""

from __future__ import annotations

import re

#: ASCII words a Chinese page may show: units, data formats and coordinate systems,
#: proper names of data sources and measures, and the language switch itself.
ALLOWED_ASCII = {
    "m", "km", "h", "min", "ha",
    "CSV", "Excel", "GeoJSON", "GeoPackage", "Shapefile", "PDF", "PNG", "HTML", "ZIP", "GIS",
    "GCJ", "WGS", "BD", "EPSG", "UTM", "CRS",
    "OSM", "OpenStreetMap", "Polsby", "Popper",
    "Language", "English",
    # --- i18n19: text encodings, file formats and names, units, a keyboard key ---
    "UTF", "GBK", "XLSX", "GPKG", "MB", "COMPLETE", "Esc",
}  # fmt: skip


def ascii_words(text: str) -> set[str]:
    """ASCII words of ``text`` outside `code spans`, file names and hex colours, and
    not in :data:`ALLOWED_ASCII`."""
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(
        r"[\w./-]*\.(?:geojson|json|csv|xlsx|gpkg|zip|html|png|pdf|txt|osm|pbf|xml)", " ", text
    )
    words = set(re.findall(r"[A-Za-z]+", text))
    return {w for w in words if w not in ALLOWED_ASCII and not re.fullmatch(r"[0-9a-fA-F]{2,6}", w)}
