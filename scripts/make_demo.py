"""Regenerate the embedded demo street in data/demo/ (synthetic, deterministic).

Usage::

    python scripts/make_demo.py [--out data/demo]

Writes one WGS84 GeoJSON file per layer (coordinates rounded to 7 decimals, UTF-8),
``street.json`` and ``PROVENANCE.md``. Running it twice gives byte-identical files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planner.synthetic import DEMO_SPEC, make_demo, provenance_text, write_folder  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "data" / "demo"), help="output folder")
    args = parser.parse_args(argv)
    street = make_demo()
    out = Path(args.out)
    paths = write_folder(street, out)
    paths.append(write_provenance(street, out))
    size = sum(p.stat().st_size for p in paths)
    print(f"wrote {len(paths)} files to {out} ({size / 1e6:.2f} MB), seed {DEMO_SPEC.seed}")
    for key, value in street.stats.items():
        print(f"  {key}: {value}")
    return 0


def write_provenance(street, out: Path) -> Path:  # type: ignore[no-untyped-def]
    from planner.synthetic import _atomic_write

    path = out / "PROVENANCE.md"
    _atomic_write(path, provenance_text(street))
    return path


if __name__ == "__main__":
    raise SystemExit(main())
