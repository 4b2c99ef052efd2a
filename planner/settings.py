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
from planner.schema import STATION_KINDS

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

    Output
    ------
    coordinate_precision
        Decimals of longitude/latitude in GeoJSON (7 decimals is about 1 cm).
    upload_limit_mb
        Largest upload the app accepts, MB.
    """

    walk_speed_kmh: float = 4.0
    thresholds_min: tuple[float, ...] = (5.0, 10.0, 15.0)
    gap_minutes: float = 15.0
    margin_m: float = 1000.0
    count_margin_stations: bool = True
    service_kinds: tuple[str, ...] = DEFAULT_SERVICE_KINDS
    circle_buffer_m: float = 25.0
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
        need(0 <= self.coordinate_precision <= 15, "coordinate_precision", "must be 0-15")
        need(self.upload_limit_mb > 0, "upload_limit_mb", "must be positive")
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
        for key in ("thresholds_min", "service_kinds", "cut_road_classes", "dedicated_kinds"):
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
        # --- dedicated: dedicated grids and grid shape ---
        "dedicated_kinds": "grids",
        "dedicated_min_area_m2": "grids",
        "dedicated_min_floor_area_m2": "grids",
        "grid_min_compactness": "grids",
        "grid_verge_cut": "grids",
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
