"""Siting new party-mass service stations: maximal coverage and fewest stations.

Modules, one concept each:

* :mod:`planner.siting.problem` - the sparse coverage problem (households, sites,
  walking minutes within the threshold);
* :mod:`planner.siting.model` - exact reductions to a compact model;
* :mod:`planner.siting.greedy` - lazy greedy (instant answer, starting incumbent);
* :mod:`planner.siting.mip` - exact MILPs with HiGHS (highspy);
* :mod:`planner.siting.plan` - the two questions and the :class:`SitingPlan` answer.
"""

from planner.siting.plan import SitingPlan, fewest_stations, maximal_coverage
from planner.siting.problem import CoverageProblem, nearest_site

__all__ = [
    "CoverageProblem",
    "SitingPlan",
    "fewest_stations",
    "maximal_coverage",
    "nearest_site",
]
