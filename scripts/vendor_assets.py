"""Vendor the web assets the red map needs into planner/maps/static/vendor/ (run once; committed).

folium and streamlit-folium load Leaflet, jQuery, Bootstrap, Font Awesome,
Leaflet.awesome-markers and Leaflet.draw from public CDNs by default; an offline
machine or a Chinese network often cannot reach them. This script fetches the same
versions from the npm registry (``npm pack``) into a temporary directory and copies
the files the map uses. ``planner/maps/offline.py`` then points folium at them.

Usage: ``python scripts/vendor_assets.py`` (needs ``npm``; only the npm registry).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "planner" / "maps" / "static" / "vendor"

#: npm package spec -> list of (path inside the package, path under vendor/).
PACKAGES: dict[str, list[tuple[str, str]]] = {
    "leaflet@1.9.3": [
        ("dist/leaflet.js", "leaflet/leaflet.js"),
        ("dist/leaflet.css", "leaflet/leaflet.css"),
        ("dist/images", "leaflet/images"),
        ("LICENSE", "leaflet/LICENSE"),
    ],
    "jquery@3.7.1": [
        ("dist/jquery.min.js", "jquery/jquery.min.js"),
        ("LICENSE.txt", "jquery/LICENSE.txt"),
    ],
    "bootstrap@5.2.2": [
        ("dist/js/bootstrap.bundle.min.js", "bootstrap/bootstrap.bundle.min.js"),
        ("dist/css/bootstrap.min.css", "bootstrap/bootstrap.min.css"),
        ("LICENSE", "bootstrap/LICENSE"),
    ],
    "@fortawesome/fontawesome-free@6.2.0": [
        ("css/all.min.css", "fontawesome/css/all.min.css"),
        ("webfonts/fa-solid-900.woff2", "fontawesome/webfonts/fa-solid-900.woff2"),
        ("webfonts/fa-regular-400.woff2", "fontawesome/webfonts/fa-regular-400.woff2"),
        ("webfonts/fa-brands-400.woff2", "fontawesome/webfonts/fa-brands-400.woff2"),
        ("webfonts/fa-v4compatibility.woff2", "fontawesome/webfonts/fa-v4compatibility.woff2"),
        ("LICENSE.txt", "fontawesome/LICENSE.txt"),
    ],
    "leaflet.awesome-markers@2.0.5": [
        ("dist/leaflet.awesome-markers.js", "awesome-markers/leaflet.awesome-markers.js"),
        ("dist/leaflet.awesome-markers.css", "awesome-markers/leaflet.awesome-markers.css"),
        ("dist/images", "awesome-markers/images"),
        ("LICENSE", "awesome-markers/LICENSE"),
    ],
    "leaflet-draw@1.0.2": [
        ("dist/leaflet.draw.js", "leaflet-draw/leaflet.draw.js"),
        ("dist/leaflet.draw.css", "leaflet-draw/leaflet.draw.css"),
        ("dist/images", "leaflet-draw/images"),
    ],
}


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst, dirs_exist_ok=True)
    else:
        shutil.copy2(src, dst)


def _drop_ttf_fallbacks(css: Path) -> None:
    """Keep only the woff2 sources of Font Awesome (every current browser reads them)."""
    text = css.read_text(encoding="utf-8")
    text = re.sub(r',url\([^)]*\.ttf\) format\("truetype"\)', "", text)
    css.write_text(text, encoding="utf-8")


def _rotate_css(path: Path) -> None:
    """folium's ``Icon(angle=...)`` adds class ``fa-rotate-<angle>`` to the icon."""
    rules = [f".fa-rotate-{a}{{transform:rotate({a}deg)}}" for a in range(1, 360)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rules) + "\n", encoding="utf-8")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        for spec, files in PACKAGES.items():
            out = (
                subprocess.run(
                    ["npm", "pack", spec, "--silent"],
                    cwd=tmpdir,
                    check=True,
                    capture_output=True,
                    text=True,
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            pkg_dir = tmpdir / spec.replace("/", "_")
            with tarfile.open(tmpdir / out) as tar:
                tar.extractall(pkg_dir, filter="data")
            for src, dst in files:
                _copy(pkg_dir / "package" / src, VENDOR / dst)
    _drop_ttf_fallbacks(VENDOR / "fontawesome/css/all.min.css")
    _rotate_css(VENDOR / "folium/leaflet.awesome.rotate.css")


if __name__ == "__main__":
    main()
