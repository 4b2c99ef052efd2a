"""The synthetic demo street and benchmark districts (deterministic generator).

* :mod:`planner.synthetic.demo` - :func:`make_demo`, :func:`make_street`, :func:`make_district`,
  :func:`write_folder`; its private helpers ``_build``, ``_lines`` and ``_names``;
* :mod:`planner.synthetic.estate` - :func:`add_estate`: a new estate on a generated street.
* :mod:`planner.synthetic.organisation` - the demo's synthetic organisation registers
  (party, staff, property, incidents; fictional names, marked synthetic).
* :mod:`planner.synthetic.estate` - :func:`add_estate`: a new estate on a generated street;
* :mod:`planner.synthetic.city` - :func:`make_city`: a city of N synthetic streets side by
  side with a street-boundary layer (``demo-city:N``).
* :mod:`planner.synthetic.lattice` - :func:`planted_lattice`: unit graphs with a planted
  (known) contiguous division in bounds, for the exact division's tests and benchmark.
"""

from planner.synthetic.demo import (
    DEMO_SPEC,
    StreetSpec,
    SyntheticStreet,
    make_demo,
    make_district,
    make_street,
    write_folder,
)

__all__ = [
    "DEMO_SPEC",
    "StreetSpec",
    "SyntheticStreet",
    "make_demo",
    "make_district",
    "make_street",
    "write_folder",
]
