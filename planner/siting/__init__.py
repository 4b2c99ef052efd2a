"""Siting new party-mass service stations: maximal coverage and fewest stations.

Modules, one concept each:

* :mod:`planner.siting.problem` - the sparse coverage problem (households, sites,
  walking minutes within the threshold);
* :mod:`planner.siting.model` - exact reductions to a compact model;
* :mod:`planner.siting.greedy` - lazy greedy (instant answer, starting incumbent);
* :mod:`planner.siting.highs` - a silent HiGHS solver object;
* :mod:`planner.siting.lagrange` - Lagrangian bounds that prune candidate sites;
* :mod:`planner.siting.mip` - exact MILPs with HiGHS (highspy);
* :mod:`planner.siting.plan` - the two questions and the :class:`SitingPlan` answer;
* :mod:`planner.siting.candidates` - candidate sites and the spacing/exclusion rules;
* :mod:`planner.siting.matrix` - walking minutes site x building (coverage routing);
* :mod:`planner.siting.assign` - who each station serves (nearest, or under a capacity);
* :mod:`planner.siting.scenario` - the street pipeline (:func:`site_street`), results
  and scenario tables for the project file.

The street-level names (``site_street``, ``SitingResult``, ``scenario_to_tables``,
``scenario_from_tables``, ``compare_scenarios``) load on first use, so the solver core
imports without the coverage engine's cost.
"""

from typing import Any

from planner.siting.plan import SitingPlan, fewest_stations, maximal_coverage
from planner.siting.problem import CoverageProblem, nearest_site

_LAZY = (
    "SitingResult",
    "compare_scenarios",
    "scenario_from_tables",
    "scenario_to_tables",
    "site_street",
)

__all__ = [
    "CoverageProblem",
    "SitingPlan",
    "fewest_stations",
    "maximal_coverage",
    "nearest_site",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from planner.siting import scenario

        return getattr(scenario, name)
    raise AttributeError(f"module 'planner.siting' has no attribute {name!r}")
