"""One validated settings object: every tunable number of the planner lives here.

Defaults follow the norms the planner checks against (see the README, "Methods
and settings"). Build one with keyword arguments or :meth:`Settings.from_dict`;
unknown names and out-of-range values raise :class:`~planner.errors.SettingsError`.

Examples
--------
>>> s = Settings(walk_speed_kmh=4.5)
>>> round(s.walk_m_per_min, 1)
75.0
>>> Settings.from_dict({"walk_speed": 4})
Traceback (most recent call last):
...
planner.errors.SettingsError: unknown setting 'walk_speed'; known settings: ...
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from types import MappingProxyType
from typing import Any, Literal

from planner.errors import SettingsError
from planner.schema import ALL_SERVICE_KINDS, SERVICE_KINDS, STATION_KINDS

# --- bounds: the grid division methods ---
#: How grids are divided (see ``Settings.grid_method``).
GridMethod = Literal["auto", "heuristic", "exact"]
GRID_METHODS: tuple[str, ...] = ("auto", "heuristic", "exact")
#: What the grid bounds apply to (see ``Settings.grid_bound_on``).
BoundOn = Literal["households", "load", "both"]
BOUND_ON: tuple[str, ...] = ("households", "load", "both")

#: The steps of the planner a setting can feed (see :data:`SETTING_STEPS`).
SettingStep = Literal["street", "grids", "coverage", "siting", "output"]
#: The results the app computes and caches apart: the grids and the coverage.
Result = Literal["grids", "coverage"]

#: Station kinds counted as party-mass service stations by default.
DEFAULT_SERVICE_KINDS: tuple[str, ...] = ("street_centre", "community_station", "grid_station")

#: Road classes (OSM ``highway`` values) that cut the street into atoms by default.
DEFAULT_CUT_ROAD_CLASSES: tuple[str, ...] = (
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "unclassified",
    "residential",
    "living_street",
)


# --- dedicated: dedicated grids and grid shape ---
#: Land-use kinds (the ``kind`` of the landuse layer) that become dedicated grids
#: (专属网格) by default: campus/school, hospital, business complex and offices,
#: industrial park, park, construction site.
DEFAULT_DEDICATED_KINDS: tuple[str, ...] = (
    "campus",
    "school",
    "hospital",
    "commercial",
    "office",
    "industrial",
    "park",
    "construction",
)


@dataclass(frozen=True)
class Settings:
    """Every setting of the planner, with its unit and the norm behind the default.

    Walking and coverage
    --------------------
    walk_speed_kmh
        Walking speed, km/h. 4 km/h walks 1,000 m in 15 minutes, GB 50180-2018's
        15-minute life circle (800-1,000 m).
    thresholds_min
        Service-circle thresholds, minutes (GB 50180-2018: 5, 10, 15); kept sorted,
        rounded to 0.001 min, each once (``(15, 5, 15)`` becomes ``(5.0, 15.0)``).
    gap_minutes
        The street's promise, minutes: gaps, uncovered compounds and the
        ``households_uncovered_<T>`` figures count households beyond this threshold
        (default 15: GB 50180-2018's 15-minute life circle, the 15-minute party-building
        service circle). Must be one of ``thresholds_min``.
    margin_m
        Walking network and stations are loaded this far beyond the street boundary,
        metres (default 1,000 m: a 15-minute walk).
    count_margin_stations
        Whether stations outside the street (in the margin) serve its residents.
    service_kinds
        Station kinds counted as service stations.
    circle_buffer_m
        Half-width of the corridor drawn around reached network links, metres.
    circle_cell_m
        Cell size of the raster field the circles are drawn from, metres (default 3:
        the circles' edges run within about a tenth of a cell of the exact rule and
        the border between two unconnected paths 30 m apart within a metre; 100
        stations x 3 circles on a real 5k-node extract in about a third of the CPU of
        the polygon unions drawn before; smaller cells cost about the square more,
        ``docs/benchmarks/coverage.md``). At most a fifth of ``circle_buffer_m``.
    snap_max_m
        Buildings or stations farther than this from any walkable link are reported, metres.
    snap_main_slack_m
        A building or station whose nearest link lies on a small piece of the network
        snaps to the main piece instead when that is at most this much farther, metres
        (OSM often leaves footbridge steps or paths a few metres short of the street).

    Households
    ----------
    dwelling_size_m2
        Gross floor area per household used to estimate households, m².
    floor_height_m
        Storey height used to estimate floors from building height, metres.
    residents_per_household
        Residents per household where the register gives none (China 2020 census: 2.62).
    default_floors
        Storeys assumed for a residential building with neither floors nor height and a
        footprint of at least ``low_rise_footprint_m2`` (6: the common walk-up block,
        多层住宅 of GB 50096-2011, 4-6 storeys).
    low_rise_footprint_m2, low_rise_floors
        A residential building with neither floors nor height and a footprint below
        ``low_rise_footprint_m2`` (m², default 200) is assumed ``low_rise_floors`` storeys
        (default 2: a house or 平房 courtyard row, 低层住宅 of GB 50096-2011, 1-3 storeys).

    Grids
    -----
    grid_min_households, grid_max_households, grid_target_households
        Hard floor, hard ceiling and target of households per grid (practice: 150-500).
    community_min_households, community_max_households
        Range used when communities must be derived (1,500-3,000 for a new community).
    sliver_area_m2
        Atoms smaller than this merge into the neighbour sharing the longest edge, m².
    cut_road_classes
        OSM ``highway`` classes whose roads cut atoms.
    code_county, code_street, code_service_object, code_width
        Grid code parts (CJ/T 349-2010): county-level division code (GB/T 2260, 6
        digits), street code (3 digits), service-object code, code width (20 or 15).
        The county and street codes default to ``000000`` / ``000`` (no real place
        has them): "not known". Grid codes made with either are *provisional* and
        flagged so (:func:`planner.grids.codes.provisional_codes`); the real codes come
        from the user (flags, settings file), the street's ``street.json`` or the OSM
        admin relations' ``ref:admin:CN*`` tags
        (:func:`planner.grids.codes.effective_code_settings`).

    dedicated_kinds
        Land-use kinds whose areas become dedicated grids (专属网格) of their own,
        along their outlines (:mod:`planner.grids.dedicated`); empty: none.
    dedicated_min_area_m2, dedicated_min_floor_area_m2
        Size from which a land-use area of those kinds is a dedicated grid: its area
        (m², default 20,000 = 2 ha) or the floor area of its buildings (m², footprint
        x storeys, default 20,000; 0: area only).
    grid_min_compactness
        Lowest Polsby-Popper compactness (4πA/P²) of a grid (default 0.1, about a
        1:30 strip): a grid below it is a rule failure unless its atoms force it
        (:mod:`planner.grids.shape`).
    grid_verge_cut
        What becomes of thin land without households between compound walls and road
        centre lines (verges, :mod:`planner.grids._verges`): ``"off"`` (default) only
        the ring round a dedicated area goes with it; ``"features"`` rings go whole
        with their block, other verges are cut along paths and roads only;
        ``"nearest"`` as ``"features"`` but other verges are cut by nearness: the most
        compact grids (demo: lowest Polsby-Popper 0.058 against 0.016), with short cuts
        that follow no feature (boundary on features 77 % against 99.9 %).

    Facilities and siting
    ---------------------
    floor_area_per_100_households_m2, community_min_floor_area_m2
        Community service facility norm: 30 m² per 100 households, at least 500 m².
    station_capacity_households
        Households one station may serve when capacity is used (0: unlimited).
    candidate_spacing_m, min_station_spacing_m
        Spacing of generated candidate sites; minimum distance between stations, metres.
    mip_time_limit_s
        Time limit for the exact siting solver, seconds.

    Bounds on work
    --------------
    max_stations
        Most service stations one coverage run draws circles for (default 5,000:
        15,000 circles, about 5 CPU minutes and 600 MB more memory on the team's
        2-core machine for a street like the demo). Above it the run stops before the circles, saying the
        expected time and memory (:mod:`planner.coverage.budget`); raise it to go on.
    max_network_edges
        Largest walking network (edges, margin included) one coverage run works on
        (default 250,000: a district of several streets; the demo street has about
        1,100). Above it the run stops before the circles, as for ``max_stations``.

    Grid bounds and the exact division
    ----------------------------------
    grid_method
        ``"auto"`` (default): the heuristic partition, then the exact method
        (:mod:`planner.grids.exact`, a MILP solved by HiGHS) on every community piece
        the heuristic leaves out of bounds; ``"exact"``: the exact method on every
        piece (the heuristic where it cannot run); ``"heuristic"``: never the exact method.
    grid_exact_time_limit_s
        Clock safety of the exact method per community piece, seconds (default 20):
        since dist14e work limits (branch-and-bound nodes, rounds of cuts) decide the
        answer, and the wall clock stops a piece only at three times this (the result then
        says "stopped by the clock").
    grid_exact_max_units
        Largest piece (units: whole compounds and atoms) the exact method takes on
        (default 300).
    grid_exact_total_s
        Clock safety of the exact method for a whole division, seconds (default 60):
        pieces left when three times this is spent keep the heuristic's division, and the
        notes say the clock decided.
    grid_split_large_compounds
        True (default): a compound above ``grid_max_households`` is divided between
        whole buildings; False: it stays whole, one grid of its own, a proved exception.
    grid_accepted_exceptions
        Grid codes or compound ids whose grids the user accepts out of bounds: listed
        as accepted, not a failure (default none).
    grid_bound_on
        What the bounds apply to: ``"households"`` (default), ``"load"`` (the
        workload, :mod:`planner.grids.workload`, in ``[grid_min_load,
        grid_max_load]``) or ``"both"``.
    grid_min_load, grid_max_load, grid_target_load
        Bounds and target of a grid's load (household equivalents; the target
        defaults to the middle); needed when ``grid_bound_on`` is not households.
    load_weight_business, load_weight_special, load_weight_incident
        Households one business unit, one person of a special population and one
        incident count for in a grid's load (default 0: load = households).
    load_business_kinds, load_business_poi_kinds, load_business_column
        Business units: buildings of these kinds (default shop, office), POIs of these
        kinds (default none), and a buildings' column counting enterprises (register).
    load_special_columns
        Buildings' (register) columns counting special populations, e.g. elderly
        living alone (default none).
    grid_repair_thin
        Repair grids below ``grid_min_compactness`` after the division by moving
        boundary units (whole compounds, blocks, verges) between neighbouring grids,
        keeping bounds, contiguity, communities and boundaries on features
        (:mod:`planner.grids.compact`; default true).

    Output
    ------
    coordinate_precision
        Decimals of longitude/latitude in GeoJSON (7 decimals is about 1 cm).
    upload_limit_mb
        Largest upload the app accepts, MB.

    Organisation (checks of :mod:`planner.organisation.checks`)
    ------------
    org_party_group_min_members
        A building with at least this many party members should have a building party
        group (楼栋党小组); default 3, the Party Constitution's (党章 art. 30) three full
        members for a basic organisation, applied per building as street practice does.
    org_households_per_worker_max
        Most households per full-time grid worker (专职网格员); default 500, the top of
        the 300-500 households per urban grid of GB/T 40763-2021 (城乡社区网格化服务管理规范)
        and of practice, one full-time worker per grid.
    org_red_property_target_pct
        Share of compounds whose property management has a party organisation (红色物业)
        a community or grid should reach, per cent; default 80, the target of the
        red-property policy documents.
    Service completeness (issue 16)
    -------------------------------
    service_catalogue
        Service kinds whose circles are checked for completeness (keys of
        :data:`planner.schema.SERVICE_KINDS`; default all: GB 50180-2018's 5/10/15-minute
        facilities, the quarter-hour party-building circle, the convenience circle).
    service_circle_minutes
        Walking minutes of the 5-, 10- and 15-minute circles (GB 50180-2018: 5, 10, 15;
        the party-building and convenience circles are 15-minute circles), increasing.
    service_kind_names
        A register's own names -> service kind, ``(text, kind)`` pairs (a mapping file,
        ``--service-kinds-file``; :func:`planner.coverage.service_kinds.read_service_kinds_file`).
    """

    walk_speed_kmh: float = 4.0
    thresholds_min: tuple[float, ...] = (5.0, 10.0, 15.0)
    gap_minutes: float = 15.0
    margin_m: float = 1000.0
    count_margin_stations: bool = True
    service_kinds: tuple[str, ...] = DEFAULT_SERVICE_KINDS
    circle_buffer_m: float = 25.0
    circle_cell_m: float = 3.0
    snap_max_m: float = 300.0
    snap_main_slack_m: float = 10.0

    dwelling_size_m2: float = 90.0
    floor_height_m: float = 3.0
    residents_per_household: float = 2.62
    default_floors: int = 6
    low_rise_footprint_m2: float = 200.0
    low_rise_floors: int = 2

    grid_min_households: int = 200
    grid_max_households: int = 500
    grid_target_households: int = 300
    community_min_households: int = 1500
    community_max_households: int = 3000
    sliver_area_m2: float = 500.0
    cut_road_classes: tuple[str, ...] = DEFAULT_CUT_ROAD_CLASSES
    code_county: str = "000000"
    code_street: str = "000"
    code_service_object: str = "100000"
    code_width: Literal[20, 15] = 20
    # --- dedicated: dedicated grids and grid shape ---
    dedicated_kinds: tuple[str, ...] = DEFAULT_DEDICATED_KINDS
    dedicated_min_area_m2: float = 20_000.0
    dedicated_min_floor_area_m2: float = 20_000.0
    grid_min_compactness: float = 0.1
    grid_verge_cut: Literal["off", "features", "nearest"] = "off"

    floor_area_per_100_households_m2: float = 30.0
    community_min_floor_area_m2: float = 500.0
    station_capacity_households: int = 0
    candidate_spacing_m: float = 150.0
    min_station_spacing_m: float = 0.0
    mip_time_limit_s: float = 30.0

    max_stations: int = 5000
    max_network_edges: int = 250_000

    coordinate_precision: int = 7
    upload_limit_mb: int = 200

    # --- org: organisation checks ---
    org_party_group_min_members: int = 3
    org_households_per_worker_max: int = 500
    org_red_property_target_pct: float = 80.0
    # --- services: service completeness and capacity (issue 16) ---
    service_catalogue: tuple[str, ...] = ALL_SERVICE_KINDS
    service_circle_minutes: tuple[float, float, float] = (5.0, 10.0, 15.0)
    service_kind_names: tuple[tuple[str, str], ...] = ()
    # --- bounds: honest household bounds and the exact division ---
    grid_method: GridMethod = "auto"
    grid_exact_time_limit_s: float = 20.0
    grid_exact_max_units: int = 300
    grid_exact_total_s: float = 60.0
    grid_split_large_compounds: bool = True
    grid_accepted_exceptions: tuple[str, ...] = ()
    grid_bound_on: BoundOn = "households"
    grid_min_load: float = 0.0
    grid_max_load: float = 0.0
    grid_target_load: float = 0.0
    load_weight_business: float = 0.0
    load_weight_special: float = 0.0
    load_weight_incident: float = 0.0
    load_business_kinds: tuple[str, ...] = ("shop", "office")
    load_business_poi_kinds: tuple[str, ...] = ()
    load_business_column: str = ""
    load_special_columns: tuple[str, ...] = ()
    # --- grids: repair of thin grids ---
    grid_repair_thin: bool = True

    def __post_init__(self) -> None:
        problems: list[tuple[str, Any, str]] = []

        def need(ok: bool, name: str, rule: str) -> None:
            if not ok:
                problems.append((name, getattr(self, name), rule))

        # the one place thresholds are normalised: every entry point (CLI, app, pipeline)
        # gets them sorted and each once, so no layer ever holds two covered_15 columns
        object.__setattr__(self, "thresholds_min", _normal_minutes(self.thresholds_min))
        object.__setattr__(self, "gap_minutes", _normal_minute(self.gap_minutes))
        need(0.5 <= self.walk_speed_kmh <= 10, "walk_speed_kmh", "must be 0.5-10 km/h")
        thresholds_ok = len(self.thresholds_min) > 0 and all(
            isinstance(t, float) and 0 < t <= 120 for t in self.thresholds_min
        )
        need(thresholds_ok, "thresholds_min", "must be one or more minutes in (0, 120]")
        if thresholds_ok and self.gap_minutes not in self.thresholds_min:
            shown = ", ".join(f"{t:g}" for t in self.thresholds_min)
            need(False, "gap_minutes", f"must be one of the thresholds ({shown} min)")
        bad_kinds = [k for k in self.service_kinds if k not in STATION_KINDS]
        need(
            not bad_kinds,
            "service_kinds",
            f"unknown station kind(s) {', '.join(map(str, bad_kinds))}; "
            "the kinds are "
            + ", ".join(f"{key} ({zh})" for key, (zh, _en) in STATION_KINDS.items()),
        )
        need(0 <= self.margin_m <= 10_000, "margin_m", "must be 0-10,000 m")
        need(0 < self.circle_buffer_m <= 200, "circle_buffer_m", "must be in (0, 200] m")
        need(
            0.5 <= self.circle_cell_m <= self.circle_buffer_m / 5,
            "circle_cell_m",
            "must be at least 0.5 m and at most a fifth of circle_buffer_m",
        )
        need(self.snap_max_m > 0, "snap_max_m", "must be positive")
        need(self.snap_main_slack_m >= 0, "snap_main_slack_m", "must be 0 or more")
        need(20 <= self.dwelling_size_m2 <= 500, "dwelling_size_m2", "must be 20-500 m²")
        need(1.5 <= self.floor_height_m <= 10, "floor_height_m", "must be 1.5-10 m")
        need(0.5 <= self.residents_per_household <= 10, "residents_per_household", "0.5-10")
        need(1 <= self.default_floors <= 100, "default_floors", "must be 1-100 storeys")
        need(0 <= self.low_rise_footprint_m2 <= 10_000, "low_rise_footprint_m2", "0-10,000 m²")
        need(1 <= self.low_rise_floors <= 100, "low_rise_floors", "must be 1-100 storeys")
        need(self.grid_min_households >= 1, "grid_min_households", "must be at least 1")
        if self.grid_min_households > self.grid_max_households:
            # blame the bounds the user set, not the target between them
            need(
                False,
                "grid_min_households",
                f"is above grid_max_households={self.grid_max_households!r}",
            )
        else:
            need(
                self.grid_min_households <= self.grid_target_households <= self.grid_max_households,
                "grid_target_households",
                "must lie between grid_min_households and grid_max_households",
            )
        need(
            self.community_min_households < self.community_max_households,
            "community_min_households",
            "must be below community_max_households",
        )
        need(self.sliver_area_m2 >= 0, "sliver_area_m2", "must be 0 or more")
        need(
            self.code_county.isdigit() and len(self.code_county) == 6,
            "code_county",
            "must be 6 digits (GB/T 2260)",
        )
        need(
            self.code_street.isdigit() and len(self.code_street) == 3,
            "code_street",
            "must be 3 digits",
        )
        need(self.code_service_object.isdigit(), "code_service_object", "must be digits")
        need(self.code_width in (20, 15), "code_width", "must be 20 or 15")
        need(self.floor_area_per_100_households_m2 > 0, "floor_area_per_100_households_m2", ">0")
        need(self.station_capacity_households >= 0, "station_capacity_households", ">= 0")
        need(self.candidate_spacing_m > 0, "candidate_spacing_m", "must be positive")
        need(self.min_station_spacing_m >= 0, "min_station_spacing_m", "must be 0 or more")
        need(self.mip_time_limit_s > 0, "mip_time_limit_s", "must be positive")
        # --- dedicated: dedicated grids and grid shape ---
        need(self.dedicated_min_area_m2 >= 0, "dedicated_min_area_m2", "must be 0 or more")
        need(
            self.dedicated_min_floor_area_m2 >= 0,
            "dedicated_min_floor_area_m2",
            "must be 0 or more",
        )
        need(0 <= self.grid_min_compactness < 1, "grid_min_compactness", "must be in [0, 1)")
        need(
            self.grid_verge_cut in ("off", "features", "nearest"),
            "grid_verge_cut",
            "must be 'off', 'features' or 'nearest'",
        )
        problems += self._work_bound_problems()
        problems += self._service_problems()
        need(0 <= self.coordinate_precision <= 15, "coordinate_precision", "must be 0-15")
        need(self.upload_limit_mb > 0, "upload_limit_mb", "must be positive")
        # --- org: organisation checks ---
        need(self.org_party_group_min_members >= 1, "org_party_group_min_members", ">= 1")
        need(self.org_households_per_worker_max >= 1, "org_households_per_worker_max", ">= 1")
        need(0 <= self.org_red_property_target_pct <= 100, "org_red_property_target_pct", "0-100")
        problems += self._bounds_problems()
        if problems:
            text = "; ".join(f"{name}={value!r}: {rule}" for name, value, rule in problems)
            raise SettingsError("invalid settings: " + text, problems=problems)

    def _work_bound_problems(self) -> list[tuple[str, Any, str]]:
        """The bounds on work (``max_*``) that are not whole numbers of at least 1;
        the good ones are stored as ``int``."""
        out = []
        for name in ("max_stations", "max_network_edges"):
            value = getattr(self, name)
            if _whole(value) >= 1:
                object.__setattr__(self, name, int(value))
            else:
                out.append((name, value, "must be a whole number, 1 or more"))
        return out

    def _service_problems(self) -> list[tuple[str, Any, str]]:
        """The service catalogue's kinds and circle minutes (stored as floats) checked."""
        out: list[tuple[str, Any, str]] = []
        if isinstance(self.service_catalogue, (list, str)):
            kinds = (
                (self.service_catalogue,)
                if isinstance(self.service_catalogue, str)
                else tuple(self.service_catalogue)
            )
            object.__setattr__(self, "service_catalogue", kinds)
        bad = [k for k in self.service_catalogue if k not in SERVICE_KINDS]
        if bad or not self.service_catalogue:
            out.append(
                (
                    "service_catalogue",
                    self.service_catalogue,
                    f"unknown service kind(s) {', '.join(map(str, bad)) or '(none given)'}; "
                    "the kinds are " + ", ".join(f"{k} ({v.zh})" for k, v in SERVICE_KINDS.items()),
                )
            )
        pairs = tuple((str(t), str(k)) for t, k in self.service_kind_names)
        object.__setattr__(self, "service_kind_names", pairs)
        bad_names = [f"{t}={k}" for t, k in pairs if k not in SERVICE_KINDS]
        if bad_names:
            out.append(
                ("service_kind_names", pairs, f"unknown service kind in {', '.join(bad_names)}")
            )
        minutes = tuple(_normal_minute(v) for v in self.service_circle_minutes)
        ok = (
            len(minutes) == 3
            and all(isinstance(m, float) and 0 < m <= 120 for m in minutes)
            and list(minutes) == sorted(minutes)
        )
        if ok:
            object.__setattr__(self, "service_circle_minutes", minutes)
        else:
            out.append(
                (
                    "service_circle_minutes",
                    self.service_circle_minutes,
                    "must be three increasing minutes in (0, 120] (the 5-, 10- and "
                    "15-minute circles, e.g. 5,10,15)",
                )
            )
        return out

    # --- bounds: validation of the exact-division settings ---
    def _bounds_problems(self) -> list[tuple[str, Any, str]]:
        """Problems of the ``grid_method``/``grid_exact_*``/``grid_accepted_exceptions``
        settings; a list of exceptions is stored as a tuple of strings."""
        out: list[tuple[str, Any, str]] = []
        if self.grid_method not in GRID_METHODS:
            out.append(
                ("grid_method", self.grid_method, "must be one of " + ", ".join(GRID_METHODS))
            )
        if not 0 < self.grid_exact_total_s <= 36000:
            out.append(("grid_exact_total_s", self.grid_exact_total_s, "must be in (0, 36000] s"))
        if not 0 < self.grid_exact_time_limit_s <= 3600:
            out.append(
                ("grid_exact_time_limit_s", self.grid_exact_time_limit_s, "must be in (0, 3600] s")
            )
        if not (_whole(self.grid_exact_max_units) >= 2):
            out.append(
                (
                    "grid_exact_max_units",
                    self.grid_exact_max_units,
                    "must be a whole number, 2 or more",
                )
            )
        else:
            object.__setattr__(self, "grid_exact_max_units", int(self.grid_exact_max_units))
        accepted = self.grid_accepted_exceptions
        if isinstance(accepted, str) or not all(isinstance(x, str | int) for x in accepted):
            out.append(
                (
                    "grid_accepted_exceptions",
                    accepted,
                    "must be a list of grid codes or compound ids",
                )
            )
        else:
            object.__setattr__(self, "grid_accepted_exceptions", tuple(str(x) for x in accepted))
        return out + self._load_problems()

    def _load_problems(self) -> list[tuple[str, Any, str]]:
        """Problems of the workload settings (``grid_bound_on``, ``grid_*_load``,
        ``load_*``); lists are stored as tuples of strings."""
        out: list[tuple[str, Any, str]] = []
        if self.grid_bound_on not in BOUND_ON:
            out.append(
                ("grid_bound_on", self.grid_bound_on, "must be one of " + ", ".join(BOUND_ON))
            )
        for name in ("load_weight_business", "load_weight_special", "load_weight_incident"):
            if not 0 <= getattr(self, name) <= 1000:
                out.append((name, getattr(self, name), "must be 0-1,000 (households per unit)"))
        for name in ("load_business_kinds", "load_business_poi_kinds", "load_special_columns"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, tuple(str(x) for x in value))
        if self.grid_bound_on != "households":
            lo, hi = self.grid_min_load, self.grid_max_load
            if not 0 < lo <= hi:
                out.append(
                    (
                        "grid_min_load",
                        lo,
                        f"must be above 0 and at most grid_max_load={hi!r} when grid_bound_on "
                        f"is {self.grid_bound_on!r}",
                    )
                )
            elif self.grid_target_load == 0:
                object.__setattr__(self, "grid_target_load", (lo + hi) / 2)
            elif not lo <= self.grid_target_load <= hi:
                out.append(
                    (
                        "grid_target_load",
                        self.grid_target_load,
                        "must lie between grid_min_load and grid_max_load",
                    )
                )
        return out

    @property
    def walk_m_per_min(self) -> float:
        """Walking speed in metres per minute."""
        return self.walk_speed_kmh * 1000.0 / 60.0

    @property
    def max_threshold_min(self) -> float:
        return max(self.thresholds_min)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Settings:
        """Build settings from a mapping, refusing unknown keys."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise SettingsError(
                f"unknown setting {unknown[0]!r}; known settings: {', '.join(sorted(known))}"
            )
        clean = dict(values)
        for key in (
            "thresholds_min",
            "service_kinds",
            "cut_road_classes",
            "service_catalogue",  # --- services
            "service_circle_minutes",  # --- services
            "service_kind_names",  # --- services
            "dedicated_kinds",  # --- dedicated
        ):
            if key in clean and not isinstance(clean[key], tuple):
                clean[key] = tuple(clean[key])
        return cls(**clean)

    def with_(self, **changes: Any) -> Settings:
        """A copy with some settings changed (validated)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: The step of the planner that reads each setting, declared once beside :class:`Settings`
#: (``tests/test_settings.py`` fails when a field is missing here):
#:
#: - ``"street"``: read while a street is loaded; every later step sees its effect;
#: - ``"grids"``: only the grid division, its proof and its codes;
#: - ``"coverage"``: only walking times, service circles, gaps and coverage figures;
#: - ``"siting"``: only the choice of new station sites;
#: - ``"output"``: only how files are written.
SETTING_STEPS: Mapping[str, SettingStep] = MappingProxyType(
    {
        "walk_speed_kmh": "coverage",
        "thresholds_min": "coverage",
        "gap_minutes": "coverage",
        "margin_m": "street",
        "count_margin_stations": "coverage",
        "service_kinds": "coverage",
        "circle_buffer_m": "coverage",
        "circle_cell_m": "coverage",
        "snap_max_m": "street",
        "snap_main_slack_m": "coverage",
        "dwelling_size_m2": "street",
        "floor_height_m": "street",
        "residents_per_household": "street",
        "default_floors": "street",
        "low_rise_footprint_m2": "street",
        "low_rise_floors": "street",
        "grid_min_households": "grids",
        "grid_max_households": "grids",
        "grid_target_households": "grids",
        "community_min_households": "grids",
        "community_max_households": "grids",
        "sliver_area_m2": "grids",
        "cut_road_classes": "grids",
        "code_county": "grids",
        "code_street": "grids",
        "code_service_object": "grids",
        "code_width": "grids",
        "floor_area_per_100_households_m2": "coverage",
        "community_min_floor_area_m2": "coverage",
        "station_capacity_households": "siting",
        "candidate_spacing_m": "siting",
        "min_station_spacing_m": "siting",
        "mip_time_limit_s": "siting",
        "coordinate_precision": "output",
        "upload_limit_mb": "street",
        "max_stations": "coverage",
        "max_network_edges": "coverage",
        # --- org: organisation checks (read only by reports and exports) ---
        "org_party_group_min_members": "output",
        "org_households_per_worker_max": "output",
        "org_red_property_target_pct": "output",
        # --- services: service completeness and capacity ---
        "service_catalogue": "coverage",
        "service_circle_minutes": "coverage",
        "service_kind_names": "coverage",
        # --- bounds: honest household bounds and the exact division ---
        "grid_method": "grids",
        "grid_exact_time_limit_s": "grids",
        "grid_exact_max_units": "grids",
        "grid_exact_total_s": "grids",
        "grid_split_large_compounds": "grids",
        "grid_accepted_exceptions": "grids",
        "grid_bound_on": "grids",
        "grid_min_load": "grids",
        "grid_max_load": "grids",
        "grid_target_load": "grids",
        "load_weight_business": "grids",
        "load_weight_special": "grids",
        "load_weight_incident": "grids",
        "load_business_kinds": "grids",
        "load_business_poi_kinds": "grids",
        "load_business_column": "grids",
        "load_special_columns": "grids",
        # --- dedicated: dedicated grids and grid shape ---
        "dedicated_kinds": "grids",
        "dedicated_min_area_m2": "grids",
        "dedicated_min_floor_area_m2": "grids",
        "grid_min_compactness": "grids",
        "grid_verge_cut": "grids",
        # --- grids: repair of thin grids ---
        "grid_repair_thin": "grids",
    }
)

#: The steps whose settings each computed result depends on.
RESULT_READS: Mapping[Result, frozenset[SettingStep]] = MappingProxyType(
    {"grids": frozenset({"street", "grids"}), "coverage": frozenset({"street", "coverage"})}
)


def settings_read_by(result: Result) -> frozenset[str]:
    """The names of the settings the grids (or the coverage) of a street depend on."""
    return frozenset(k for k, step in SETTING_STEPS.items() if step in RESULT_READS[result])


def settings_for(settings: Settings, result: Result) -> Settings:
    """``settings`` with every setting ``result`` does not read put back to its default.

    Two settings that differ only where ``result`` does not look give equal copies,
    so a cache keyed by this copy recomputes the grids when a grid bound changes but
    not when the walking speed does (the app keys its caches and the grid editor's
    autosave this way). Cross-field rules stay within one step, so the copy is valid.

    Examples
    --------
    >>> a, b = Settings(), Settings(walk_speed_kmh=5.0)
    >>> settings_for(a, "grids") == settings_for(b, "grids")
    True
    >>> settings_for(a, "coverage") == settings_for(b, "coverage")
    False
    """
    keep = settings_read_by(result)
    defaults = Settings()
    return replace(
        settings,
        **{f.name: getattr(defaults, f.name) for f in fields(Settings) if f.name not in keep},
    )


def _whole(value: object) -> float:
    """``value`` if it is a whole number (not a bool), else ``-inf`` (which no bound
    accepts)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return -math.inf
    return float(value) if float(value).is_integer() else -math.inf


def _normal_minute(value: Any) -> Any:
    """A threshold as float minutes rounded to 0.001 (what ``f"{t:g}"`` tells apart)."""
    try:
        return round(float(value), 3)
    except (TypeError, ValueError):
        return value  # validation names it


def _normal_minutes(values: Any) -> tuple[Any, ...]:
    """Thresholds sorted, each once (rounded to 0.001 min); non-numbers left for validation."""
    if isinstance(values, (int, float)):
        values = (values,)
    items = [_normal_minute(v) for v in values]
    if all(isinstance(v, float) for v in items):
        return tuple(sorted(set(items)))
    return tuple(items)
