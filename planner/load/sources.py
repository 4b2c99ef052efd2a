"""Loading a street from every source a planner has, into one :class:`Street`.

:func:`load_street` reads the files named by the options (``boundary``, ``stations``,
``register``), hands the source to the one resolver of its kind, applies the options
over what the resolver found, and ends in :func:`planner.load.assemble.assemble`.

One resolver per source kind, each returning a :class:`Resolved` (WGS84 layers, the
file each layer came from, the street's metadata):

- :func:`resolve_demo` - ``"demo"``: the embedded synthetic street in ``data/demo`` (an
  installed wheel carries it as ``planner/_demo``, see :func:`demo_dir`);
- :func:`resolve_folder` - a folder of layer files (see docs/readme/load.md);
- :func:`resolve_osm_file` - an OpenStreetMap extract, ``.osm``, ``.osm.xml``, ``.xml``
  with OSM content or ``.osm.pbf`` (read by :mod:`planner.load.osm`; the content decides
  the format), clipped to the boundary when one is given;
- :func:`resolve_place` - ``"place:NAME"``: OpenStreetMap online (needs internet);
- :func:`resolve_osm_polygon` - ``"osm"`` with a boundary: OpenStreetMap online inside
  the boundary polygon.

All problems are collected and raised together as one
:class:`~planner.errors.InputError`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from planner.crs import PointCRS, parse_crs
from planner.errors import InputError, Problem, ProblemLog
from planner.i18n import CLAUSE_SEP, items, msg
from planner.load import osm, validate
from planner.load import register as register_mod
from planner.load._layers import largest_overlap as _largest_overlap
from planner.load._osm_gates import compounds_without_gates
from planner.load.admin_codes import META_CODE_FIELDS, osm_code_meta
from planner.load.assemble import assemble, first_name
from planner.load.kinds import read_kinds_file
from planner.load.osm import ATTRIBUTION as OSM_ATTRIBUTION
from planner.load.readers import read_folder, read_layer_file
from planner.network.build import NodeAt
from planner.settings import Settings
from planner.street import Street

log = logging.getLogger(__name__)

__all__ = [
    "DEMO_DIR",
    "OSM_ATTRIBUTION",
    "BoundaryFile",
    "Resolved",
    "_largest_overlap",
    "assemble",
    "demo_dir",
    "load_street",
    "resolve_demo",
    "resolve_demo_city",
    "resolve_folder",
    "resolve_osm_file",
    "resolve_osm_polygon",
    "resolve_place",
    "resolve_source",
]


def demo_dir() -> Path:
    """The folder of the embedded demo street (folder format).

    An installed wheel carries it as package data, ``planner/_demo/`` (copied there
    from ``data/demo/`` by ``setup.py``), found with :mod:`importlib.resources`; a
    source checkout or an editable install reads ``data/demo/`` beside the package.
    """
    packaged = resources.files("planner") / "_demo"
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "data" / "demo"


#: The embedded demo street (folder format): :func:`demo_dir`.
DEMO_DIR: Path = demo_dir()

#: File name endings of OpenStreetMap extracts (``.xml`` files too when their root
#: element is ``<osm>``; any file whose content is OSM XML or PBF is read as one).
OSM_SUFFIXES: tuple[str, ...] = osm.OSM_SUFFIXES


@dataclass
class Resolved:
    """What a source resolver found: layers in WGS84 and what to say about them.

    Attributes
    ----------
    layers
        Layer name -> GeoDataFrame (WGS84, any CRS accepted by assemble).
    files
        Layer name -> the file (or description) named in messages.
    meta
        The street's metadata (a folder's ``street.json``; ``name`` for OSM), kept on
        ``Street.meta``: ``name``, ``synthetic`` and ``attribution`` are read from it.
    attribution
        The data credit when ``meta`` names none (OpenStreetMap's for OSM data).
    node_at
        How road lines become a network: ``"intersections"`` for drawn layers,
        ``"endpoints"`` for OSM graph edges.
    unread
        Layer name -> a file named like the layer in a format the source does not read
        (a folder's ``boundary.kml``), to name when that layer is missing.
    """

    layers: dict[str, gpd.GeoDataFrame]
    files: dict[str, str]
    meta: dict[str, Any] = field(default_factory=dict)
    attribution: str = ""
    node_at: NodeAt = "intersections"
    unread: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.meta.get("name", ""))

    @property
    def synthetic(self) -> bool:
        return bool(self.meta.get("synthetic", False))


@dataclass(frozen=True)
class BoundaryFile:
    """A boundary given with ``boundary=``: its path and its layer (None if unreadable)."""

    path: str
    layer: gpd.GeoDataFrame | None

    @property
    def polygon(self) -> BaseGeometry | None:
        """The union of its features (WGS84 degrees if the file is), None if empty."""
        if self.layer is None or self.layer.empty:
            return None
        return shapely.union_all(self.layer.geometry.to_numpy())


def load_street(
    source: str | Path,
    *,
    boundary: str | Path | None = None,
    stations: str | Path | None = None,
    points_crs: PointCRS = "wgs84",
    register: str | Path | None = None,
    settings: Settings | None = None,
    crs: str | Path | None = None,
    dxf_layers: str | Path | None = None,
    station_kinds: str | Path | None = None,
) -> Street:
    """Load a street from ``source`` into a :class:`Street` in its UTM CRS.

    Parameters
    ----------
    source
        ``"demo"``, a folder of layer files, an OSM extract (``.osm``, ``.osm.xml``,
        ``.xml`` with OSM content, ``.osm.pbf``),
        ``"place:NAME"`` (OpenStreetMap online), or ``"osm"`` with ``boundary``
        (OpenStreetMap online inside that polygon).
    boundary
        A boundary file (polygon layer); clips an OSM extract and replaces a
        folder's boundary.
    stations
        A stations file (GeoJSON/GPKG/Shapefile, or CSV with longitude/latitude);
        replaces the source's stations.
    points_crs
        What longitude/latitude in CSV point files are: ``"wgs84"``, ``"gcj02"``
        (Amap, Tencent) or ``"bd09"`` (Baidu).
    register
        A household register (.csv UTF-8/GBK or .xlsx), see :mod:`planner.load.register`.
    settings
        Settings (``margin_m``, ``dwelling_size_m2``, ...); defaults when None.
    crs
        The coordinate system of layer files that declare none (``--crs``): an EPSG
        code (CGCS2000 ``EPSG:4490``, its Gauss-Kruger zones ``EPSG:4491``-``4554``),
        a PROJ string, WKT or a ``.prj`` file (:func:`planner.crs.parse_crs`).
    dxf_layers
        For a ``.dxf`` source: which CAD layers are which planner layers, and which
        text layers give which field (``--dxf-layers``, :func:`planner.load.dxf.parse_mapping`).
    station_kinds
        A station-kinds mapping file (CSV/Excel: text -> kind, see
        :mod:`planner.load.kinds`); wins over a folder's ``station_kinds_file``.

    Raises
    ------
    InputError
        Naming every problem found (file, feature id, field, fix).
    """
    t0 = time.perf_counter()
    settings = settings or Settings()
    problems = ProblemLog()
    src = str(source)
    file_crs = parse_crs(crs) if crs is not None else None
    given = _read_boundary(boundary, problems, file_crs)
    resolved = resolve_source(
        src,
        boundary=given,
        points_crs=points_crs,
        settings=settings,
        problems=problems,
        file_crs=file_crs,
        dxf_layers=dxf_layers,
    )
    _use_boundary(resolved, given, problems=problems)
    _note_unknown_codes(resolved.meta, src, problems, settings)
    _use_stations(resolved, stations, points_crs=points_crs, problems=problems, file_crs=file_crs)
    table = _read_register(resolved, register, problems=problems)
    kind_map = _read_station_kinds(resolved, station_kinds, problems=problems)
    street = assemble(
        resolved.layers,
        source=src,
        settings=settings,
        name=resolved.name,
        synthetic=resolved.synthetic,
        attribution=str(resolved.meta.get("attribution", resolved.attribution)),
        node_at=resolved.node_at,
        problems=problems,
        files=resolved.files,
        register=table,
        meta=resolved.meta,
        station_kinds=kind_map,
    )
    log.info("loaded %s in %.2f s", src, time.perf_counter() - t0)
    return street


def resolve_source(
    src: str,
    *,
    boundary: BoundaryFile | None,
    points_crs: PointCRS,
    settings: Settings,
    problems: ProblemLog,
    file_crs: CRS | None = None,
    dxf_layers: str | Path | None = None,
) -> Resolved:
    """Hand ``src`` to the resolver of its kind (``file_crs``: ``--crs``, for folders
    and DXF drawings; ``dxf_layers``: ``--dxf-layers``).

    Raises
    ------
    InputError
        ``src`` is no known kind of source (a missing path, a plain file).
    """
    if src == "demo":
        return resolve_demo(points_crs=points_crs, problems=problems)
    if src.startswith(DEMO_CITY_PREFIX):
        return resolve_demo_city(src, settings=settings)
    if src.startswith("place:"):
        return resolve_place(src.split(":", 1)[1].strip(), settings=settings, problems=problems)
    path = Path(src).expanduser()
    if src == "osm" and not path.exists():  # a folder named osm wins
        return resolve_osm_polygon(boundary, settings=settings, problems=problems)
    if path.is_dir():
        return resolve_folder(path, points_crs=points_crs, problems=problems, file_crs=file_crs)
    if path.suffix.lower() in (".dxf", ".dwg"):
        return resolve_dxf(path, dxf_layers, file_crs=file_crs, problems=problems)
    if osm.is_osm_extract(path):
        return resolve_osm_file(path, boundary=boundary, settings=settings, problems=problems)
    if not path.exists():
        raise InputError(
            Problem.of(msg("src_no_such_path", src=src), fix=msg("src_fix_no_such_path"), file=src)
        )
    raise InputError(
        Problem.of(msg("src_not_loadable", src=src), fix=msg("src_fix_not_loadable"), file=src)
    )


def resolve_demo(*, points_crs: PointCRS, problems: ProblemLog) -> Resolved:
    """The embedded demo street: :data:`DEMO_DIR` read as a folder, marked synthetic."""
    if not DEMO_DIR.is_dir():
        raise InputError(
            Problem(
                f"the demo street is missing ({DEMO_DIR})",
                fix="regenerate it with: python scripts/make_demo.py",
                file=str(DEMO_DIR),
            )
        )
    resolved = resolve_folder(DEMO_DIR, points_crs=points_crs, problems=problems)
    resolved.meta.setdefault("synthetic", True)
    return resolved


# --- city: demo-city:N/K, one street of a synthetic city ---
#: Prefix of a synthetic city source: ``demo-city:N`` (the city, for ``python -m planner
#: city``) or ``demo-city:N/K`` (its street K alone, for single-street commands).
DEMO_CITY_PREFIX = "demo-city:"

DEMO_CITY_FIX = (
    "write demo-city:N/K for street K (1..N) of the synthetic city of N streets "
    "(e.g. demo-city:4/2); the whole city runs with `python -m planner city demo-city:N`"
)


def parse_demo_city(src: str) -> tuple[int, int | None]:
    """``demo-city:N`` -> (N, None); ``demo-city:N/K`` -> (N, K), checked (1 <= K <= N <= 999).

    Raises
    ------
    InputError
        Naming the source and the fix when N or K is not a number in range.
    """
    body = src[len(DEMO_CITY_PREFIX) :].strip()
    n_text, _, k_text = body.partition("/")
    try:
        n = int(n_text)
        k = int(k_text) if k_text else None
    except ValueError:
        n, k = 0, None
    if not 1 <= n <= 999 or (k is not None and not 1 <= k <= n) or (k_text and k is None):
        raise InputError(
            Problem(f"{src!r} is not a synthetic city source", fix=DEMO_CITY_FIX, file=src)
        )
    return n, k


def resolve_demo_city(src: str, *, settings: Settings) -> Resolved:
    """Street K of the synthetic city of N streets (``demo-city:N/K``), cut with the
    margin a city run uses (:func:`planner.city.partition.street_part`)."""
    from planner.city.partition import street_part
    from planner.synthetic.city import CitySpec, make_city

    n, k = parse_demo_city(src)
    if k is None:
        raise InputError(
            Problem(
                f"{src} is a whole city, not one street",
                fix=DEMO_CITY_FIX,
                file=src,
            )
        )
    city = make_city(CitySpec(n_streets=n))
    part = street_part(
        city.layers,
        city.streets.iloc[[k - 1]],
        margin_m=settings.margin_m,
        meta=city.meta,
        source=src,
    )
    return Resolved(layers=part.layers, files=dict.fromkeys(part.layers, src), meta=part.meta)


def resolve_folder(
    path: Path, *, points_crs: PointCRS, problems: ProblemLog, file_crs: CRS | None = None
) -> Resolved:
    """A folder of layer files (``boundary.geojson``, ``buildings.gpkg``, ...).

    ``points_crs`` other than WGS84 overrides ``street.json``'s ``points_crs``. Without
    a boundary file, messages about the boundary name the folder. ``file_crs``
    (``--crs``): the CRS of layer files that declare none.
    """
    contents = read_folder(
        path,
        problems=problems,
        points_crs=points_crs if points_crs != "wgs84" else None,
        file_crs=file_crs,
    )
    files = {k: str(p) for k, p in contents.files.items()}
    files.setdefault("boundary", str(path))
    kinds_file = _folder_kinds_file(path, contents.meta, problems=problems)
    if kinds_file is not None:
        files["station_kinds"] = str(kinds_file)
    unread = {k: str(p) for k, p in contents.unread.items()}
    return Resolved(
        layers=dict(contents.layers), files=files, meta=dict(contents.meta), unread=unread
    )


def resolve_osm_file(
    path: Path, *, boundary: BoundaryFile | None, settings: Settings, problems: ProblemLog
) -> Resolved:
    """An OSM extract clipped to the boundary (else its bounds); named by the boundary's
    ``name``, else by the file name."""
    if not path.exists():
        raise InputError(
            Problem.of(msg("err_file_not_found"), fix=msg("err_fix_check_osm_path"), file=str(path))
        )
    clip = boundary.polygon if boundary is not None else None
    if boundary is not None and clip is None:
        problems.raise_if_errors()  # the boundary was named but could not be read: say why
    raw = osm.read_osm(path, clip=clip, margin_m=settings.margin_m)
    name = first_name(boundary.layer if boundary is not None else None)
    codes, doubts = osm_code_meta(path, street_name=name)
    for doubt in doubts:
        problems.add(doubt, file=str(path), severity="warning", fix=msg("note_fix_codes"))
    files = {k: f"{path} ({k})" for k in raw}
    _warn_guessed_gates(raw, files["compounds"], problems)
    return Resolved(
        layers=dict(raw),
        files=files,
        meta={"name": name or path.name.split(".")[0], **codes},
        attribution=OSM_ATTRIBUTION,
        node_at="endpoints",
    )


def _warn_guessed_gates(
    layers: dict[str, gpd.GeoDataFrame], file: str, problems: ProblemLog
) -> None:
    """One warning naming the gated OSM compounds with no gate mapped (their gates are
    the points where paths cross the outline, or none when no path enters)."""
    unmapped = compounds_without_gates(layers)
    if not unmapped:
        return
    details = [
        msg(
            "osm_gate_crossings" if u.crossings else "osm_gate_none",
            compound=f"{u.compound_id}{f' {u.name}' if u.name else ''}",
            **({"n": u.crossings} if u.crossings else {}),
        )
        for u in unmapped[: validate.MAX_IDS]
    ]
    more = len(unmapped) - validate.MAX_IDS
    shown = items(details, sep=CLAUSE_SEP)
    detail = msg("note_ids_more", ids=shown, more=more) if more > 0 else msg("note_ids", ids=shown)
    problems.add(
        msg("osm_gates_guessed", n=len(unmapped), detail=detail),
        file=file,
        feature_id=unmapped[0].compound_id,
        field="barrier",
        fix=msg("osm_fix_gates"),
        severity="warning",
    )


def resolve_dxf(
    path: Path, dxf_layers: str | Path | None, *, file_crs: CRS | None, problems: ProblemLog
) -> Resolved:
    """A CAD drawing (DXF) with its layer mapping (:mod:`planner.load.dxf`); a DWG, a
    missing mapping or a missing ``--crs`` is refused with the fix."""
    from planner.load import dxf

    if path.suffix.lower() == ".dwg":
        raise InputError(
            Problem(
                "DWG drawings are not read",
                fix="save the drawing as DXF (AutoCAD: Save As > DXF; or the free ODA File "
                "Converter) and load the .dxf with --dxf-layers and --crs",
                file=str(path),
            )
        )
    if not path.exists():
        raise InputError(
            Problem.of(msg("err_file_not_found"), fix=msg("err_fix_check_path"), file=str(path))
        )
    if dxf_layers is None:
        found = sorted(set(dxf.read_entities(path)["Layer"]))
        raise InputError(
            Problem(
                "a DXF drawing needs --dxf-layers: which CAD layer is which planner layer; "
                "its layers: " + ", ".join(found),
                fix="e.g. --dxf-layers roads=道路,buildings=建筑,boundary=街道界"
                ",buildings.households=户数",
                file=str(path),
            )
        )
    layers = dxf.read_dxf(path, dxf.parse_mapping(dxf_layers), crs=file_crs, problems=problems)
    name = first_name(layers.get("boundary"))
    return Resolved(
        layers=layers,
        files={k: f"{path} ({k})" for k in layers},
        meta={"name": name or path.stem},
    )


def resolve_place(name: str, *, settings: Settings, problems: ProblemLog) -> Resolved:
    """OpenStreetMap online for a place name Nominatim knows (needs internet)."""
    if not name:
        raise InputError(msg("osm_place_needs_name"), fix=msg("osm_fix_place_name"))
    raw = osm.fetch_place(name, margin_m=settings.margin_m)
    files = {k: f"OpenStreetMap ({name}) {k}" for k in raw}
    _warn_guessed_gates(raw, files["compounds"], problems)
    return Resolved(
        layers=dict(raw),
        files=files,
        meta={"name": name},
        attribution=OSM_ATTRIBUTION,
        node_at="endpoints",
    )


def resolve_osm_polygon(
    boundary: BoundaryFile | None, *, settings: Settings, problems: ProblemLog
) -> Resolved:
    """OpenStreetMap online inside the boundary polygon (needs internet)."""
    polygon = boundary.polygon if boundary is not None else None
    if boundary is not None and boundary.layer is None:
        problems.raise_if_errors()  # the file was named but could not be read: say why
    if boundary is None or polygon is None:
        problems.add(
            msg("osm_polygon_no_boundary" if boundary is None else "osm_polygon_no_polygon"),
            file=boundary.path if boundary is not None else None,
            fix=msg("osm_fix_polygon"),
        )
        problems.raise_if_errors()
        raise InputError(problems.problems)
    raw = osm.fetch_place(polygon, margin_m=settings.margin_m, source=boundary.path)
    files = {k: f"OpenStreetMap online ({k})" for k in raw}
    _warn_guessed_gates(raw, files["compounds"], problems)
    return Resolved(
        layers=dict(raw),
        files=files,
        meta={"name": first_name(boundary.layer)},
        attribution=OSM_ATTRIBUTION,
        node_at="endpoints",
    )


# ---------------------------------------------------------------- options over sources


def _known_code(value: object, width: int) -> bool:
    """A county or street code of ``width`` digits, not the all-zero unknown one."""
    text = str(value or "")
    return text.isdigit() and len(text) == width and set(text) != {"0"}


def _note_unknown_codes(
    meta: dict[str, Any], src: str, problems: ProblemLog, settings: Settings
) -> None:
    """Warn when neither the source nor the settings (``--code-county``/``--code-street``)
    name a county or street code: grid codes made from it are provisional
    (:mod:`planner.grids.codes`)."""
    missing = [
        key
        for key, width in META_CODE_FIELDS
        if not (_known_code(meta.get(key), width) or _known_code(getattr(settings, key), width))
    ]
    if missing:
        problems.add(
            msg(
                "note_codes_missing",
                missing=items((msg(f"note_{k}") for k in missing), sep=(" / ", " / ")),
            ),
            file=src,
            field=missing[0],
            severity="warning",
            fix=msg("note_fix_codes"),
        )


def _read_boundary(
    boundary: str | Path | None, problems: ProblemLog, file_crs: CRS | None = None
) -> BoundaryFile | None:
    """The ``boundary=`` file, read (its problems logged), or None when not given."""
    if boundary is None:
        return None
    layer = read_layer_file(Path(boundary), layer="boundary", problems=problems, file_crs=file_crs)
    return BoundaryFile(path=str(boundary), layer=layer)


def _use_boundary(resolved: Resolved, given: BoundaryFile | None, *, problems: ProblemLog) -> None:
    """A given boundary replaces the source's (the file is named in messages).

    Without one, and without a readable boundary in the source, a boundary file in a
    format the source does not read (``boundary.kml`` in a folder) is named, with how
    to use it.
    """
    if given is None:
        unread = resolved.unread.get("boundary")
        if "boundary" not in resolved.layers and unread is not None:
            name = Path(unread).name
            problems.add(
                msg("src_boundary_unread", name=name),
                file=unread,
                fix=msg("src_fix_boundary_unread", name=name),
            )
            resolved.files["boundary"] = unread
        return
    resolved.files["boundary"] = given.path
    if given.layer is not None:
        resolved.layers["boundary"] = given.layer


def _use_stations(
    resolved: Resolved,
    stations: str | Path | None,
    *,
    points_crs: PointCRS,
    problems: ProblemLog,
    file_crs: CRS | None = None,
) -> None:
    """A given stations file replaces the source's stations."""
    if stations is None:
        return
    layer = read_layer_file(
        Path(stations),
        layer="stations",
        problems=problems,
        points_crs=points_crs,
        file_crs=file_crs,
    )
    resolved.files["stations"] = str(stations)
    if layer is not None:
        resolved.layers["stations"] = layer


def _read_register(
    resolved: Resolved, register: str | Path | None, *, problems: ProblemLog
) -> pd.DataFrame | None:
    """The household register's rows (None when not given or unreadable)."""
    if register is None:
        return None
    resolved.files["register"] = str(register)
    return register_mod.read_register(Path(register), problems=problems)


def _folder_kinds_file(folder: Path, meta: dict[str, Any], *, problems: ProblemLog) -> Path | None:
    """``street.json``'s ``station_kinds_file``: a file inside ``folder`` (None if not named).

    The name must be relative and stay inside the folder (an uploaded folder must not
    make the planner read other files); otherwise the problem is logged.
    """
    name = meta.get("station_kinds_file")
    if name in (None, ""):
        return None
    rel = Path(str(name))
    target = (folder / rel).resolve()
    if rel.is_absolute() or not target.is_relative_to(folder.resolve()):
        problems.add(
            f"station_kinds_file {str(name)!r} is not a file inside the folder",
            file=str(folder / "street.json"),
            field="station_kinds_file",
            fix="put the station-kinds file in the street's folder and name it relative to "
            'it, e.g. "station_kinds.csv"',
        )
        return None
    return target


def _read_station_kinds(
    resolved: Resolved, given: str | Path | None, *, problems: ProblemLog
) -> dict[str, str]:
    """The station-kinds mapping: the file given, else the folder's (``{}`` for none)."""
    if given is not None:
        resolved.files["station_kinds"] = str(given)
    path = resolved.files.get("station_kinds")
    if path is None:
        return {}
    return read_kinds_file(Path(path), problems=problems)
