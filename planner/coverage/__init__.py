"""Coverage: who is within a walk of which station, the service circles and the gaps.

* :mod:`planner.coverage.figures` - :func:`compute_coverage`: walking times per building and
  the figures per street, community, grid and station;
* :mod:`planner.coverage.circles` - service-circle and gap polygons from the reached network;
* :mod:`planner.coverage._field` - the network's raster field (each cell's nearest link,
  position along it and distance), built once; a circle is one filled contour of it;
* :mod:`planner.coverage._field_kernel` - the field's two numba kernels (a walk's cells and
  their times; one circle's grid window with the borders between reached and unreached ground);
* :mod:`planner.coverage._reached` - what a walk reaches of the network, as the tables a
  circle is timed from (each station alone on the network, or all stations at once);
* :mod:`planner.coverage._kept` - the circles kept from one batch of stations to the next
  (compact WKB) and the batch's freed memory handed back to the operating system;
* :mod:`planner.coverage.budget` - the work a coverage run asks for: the expected time and
  memory of the circles, and the refusal above ``max_stations`` / ``max_network_edges``;
* :mod:`planner.coverage.layers` - :func:`compute_coverage_layers`: the output layers and
  tables every front end writes and draws.
* :mod:`planner.coverage.service_kinds` - the street's facilities of each service kind
  (stations, POIs, land use, names, a user mapping file);
* :mod:`planner.coverage.completeness` - which service kinds each building reaches within
  its circle's minutes, and the shares per street, community and grid;
* :mod:`planner.coverage.capacity` - station floor area shared among the households within
  reach (2SFCA) against 30 m² per 100 households;
* :mod:`planner.coverage.whatif` - scenarios (add, move or remove a station or POI, close a
  path, open a gate): coverage, completeness and capacity before and after, who gains.
"""

from planner.coverage.figures import Coverage, compute_coverage
from planner.coverage.layers import CoverageLayers, compute_coverage_layers

__all__ = ["Coverage", "CoverageLayers", "compute_coverage", "compute_coverage_layers"]
