"""Content hashes of each street's inputs, kept beside a city's outputs (incremental runs).

:func:`part_hash` digests a street's share (every layer's attributes and geometry as
WKB, in a fixed order), its rows of the city-wide registers, its metadata, the settings, the job and the output
options with the city-wide files every task reads (SHA-256, hex). The
share holds every feature within the street's margin, so editing a building in street
A changes the hash of every street whose margin reaches that building: those, and only
those, are run again. The hashes live in ``city_inputs.json`` in the city folder,
written atomically after each run.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import shapely

from planner._atomic import write_text
from planner.city.partition import StreetPart
from planner.settings import Settings

__all__ = ["HASH_FILE", "load_hashes", "options_digest", "part_hash", "save_hashes"]

#: The file of street hashes in a city output folder.
HASH_FILE = "city_inputs.json"


def part_hash(part: StreetPart, settings: Settings, job: str, options: str = "") -> str:
    """SHA-256 (hex) of a street's share, metadata, settings, job and ``options`` (the
    digest of what the run writes and of the city-wide files its tasks read,
    :func:`options_digest`)."""
    h = hashlib.sha256()
    head = {
        "meta": part.meta,
        "source": part.source,
        "settings": settings.to_dict(),
        "job": job,
        "node_at": part.node_at,
        "options": options,
    }
    h.update(json.dumps(head, sort_keys=True, ensure_ascii=False, default=str).encode())
    if part.register is not None:  # the street's rows of a city-wide household register
        rows = part.register.astype(str)
        h.update(b"\0register\0" + "\0".join(rows.columns).encode())
        h.update(pd.util.hash_pandas_object(rows, index=False).to_numpy().tobytes())
    if part.org_registers is not None:  # its rows of the city's organisation registers
        for kind in sorted(part.org_registers.tables):
            rows = part.org_registers.tables[kind].astype(str)
            h.update(f"\0org-{kind}\0".encode() + "\0".join(rows.columns).encode())
            h.update(pd.util.hash_pandas_object(rows, index=False).to_numpy().tobytes())
    for name in sorted(part.layers):
        gdf = part.layers[name]
        h.update(f"\0{name}\0{len(gdf)}\0".encode())
        # a plain frame first: dropping the geometry of a GeoDataFrame goes through
        # geopandas' constructor fallback, a third of the hash's time on small shares
        attrs = pd.DataFrame(gdf).drop(columns=gdf.geometry.name).astype(str)
        attrs = attrs[sorted(attrs.columns)]
        h.update("\0".join(attrs.columns).encode())
        h.update(pd.util.hash_pandas_object(attrs, index=False).to_numpy().tobytes())
        for wkb in shapely.to_wkb(gdf.geometry.to_numpy(), hex=False):
            h.update(wkb or b"")
    return h.hexdigest()


def options_digest(options: dict[str, object], files: list[str]) -> str:
    """SHA-256 (hex) of a city run's output options (JSON, keys sorted) and of the bytes
    of the city-wide ``files`` every task reads (another grid system's cells): changing
    a flag or editing such a file re-runs every street. A file that cannot be read is
    digested by its name (its task then reports the error)."""
    h = hashlib.sha256(json.dumps(options, sort_keys=True, default=str).encode())
    for name in files:
        h.update(f"\0{name}\0".encode())
        try:
            h.update(Path(name).read_bytes())
        except OSError:
            h.update(b"unreadable")
    return h.hexdigest()


def load_hashes(out: Path) -> dict[str, str]:
    """Street code -> hash of the last complete run in ``out`` ({} when none or unreadable)."""
    path = out / HASH_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    streets = data.get("streets", {}) if isinstance(data, dict) else {}
    return {str(k): str(v) for k, v in streets.items()} if isinstance(streets, dict) else {}


def save_hashes(out: Path, hashes: dict[str, str]) -> Path:
    """Write ``city_inputs.json`` (atomic)."""
    text = json.dumps({"streets": hashes}, ensure_ascii=False, indent=2, sort_keys=True)
    return write_text(out / HASH_FILE, text + "\n")
