"""Regenerate the embedded demo street in data/demo/ (synthetic, deterministic).

Usage::

    python scripts/make_demo.py [--out data/demo]
    python scripts/make_demo.py --district 10 --out /tmp/district10   # benchmark case

Writes one WGS84 GeoJSON file per layer (coordinates rounded to 7 decimals, UTF-8),
``street.json`` and ``PROVENANCE.md``. Running it twice gives byte-identical files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planner.export.geojson import write_text_atomic  # noqa: E402
from planner.synthetic.demo import (  # noqa: E402
    SyntheticStreet,
    make_demo,
    make_district,
    provenance_text,
    write_folder,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="output folder (default data/demo)")
    parser.add_argument(
        "--district",
        type=int,
        default=0,
        metavar="N",
        help="write a synthetic district of about N streets instead (needs --out)",
    )
    parser.add_argument(
        "--seed", type=int, default=1, help="seed of the district (with --district)"
    )
    args = parser.parse_args(argv)
    if args.district and not args.out:
        parser.error("--district needs --out (data/demo holds only the demo street)")
    street = make_district(args.district, seed=args.seed) if args.district else make_demo()
    out = Path(args.out) if args.out else ROOT / "data" / "demo"
    paths = write_folder(street, out)
    if not args.district:  # the demo's synthetic organisation registers (issue 15)
        from planner.synthetic.organisation import write_demo_registers

        paths += write_demo_registers(out)
    command = "python scripts/make_demo.py" + (
        f" --district {args.district} --seed {args.seed} --out {out}" if args.district else ""
    )
    paths.append(write_provenance(street, out, command))
    size = sum(p.stat().st_size for p in paths)
    print(f"wrote {len(paths)} files to {out} ({size / 1e6:.2f} MB), seed {street.spec.seed}")
    for key, value in street.stats.items():
        print(f"  {key}: {value}")
    return 0


def write_provenance(street: SyntheticStreet, out: Path, command: str) -> Path:
    path = out / "PROVENANCE.md"
    write_text_atomic(provenance_text(street, command=command), path)
    return path


if __name__ == "__main__":
    raise SystemExit(main())
