"""The walking network: built from roads and gates, held as compact arrays, routed on.

* :mod:`planner.network.build` - nodes and edges from road lines (:func:`build_network`);
* :mod:`planner.network.walk` - :class:`WalkNetwork`: CSR arrays, snapping, connected pieces;
* :mod:`planner.network.routing` - walking times from stations (scipy's compiled Dijkstra);
* :mod:`planner.network._reach_kernel` - the compiled (numba) bounded Dijkstra per station.
"""

from planner.network.build import build_network
from planner.network.routing import nearest_times, station_reach
from planner.network.walk import WalkNetwork, snap_buildings, snap_points

__all__ = [
    "WalkNetwork",
    "build_network",
    "nearest_times",
    "snap_buildings",
    "snap_points",
    "station_reach",
]
