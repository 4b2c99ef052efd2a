"""County and street codes from an OpenStreetMap extract's administrative relations.

Chinese admin relations (``boundary=administrative``) may carry the official division
codes (OSM wiki, *Key:ref:admin:CN*):

==========================  =============================================================
tag                         value
==========================  =============================================================
``ref:admin:CN``            the Ministry of Civil Affairs (MCA) code; 6 digits (GB/T 2260)
                            on counties and above, 9 digits on townships/streets
``ref:admin:CN:mca``        the MCA code of a township/street: 9 digits (county 6 +
                            township 3)
``ref:admin:CN:nbs``        the statistics bureau's code: 12 digits (county 6 + township 3
                            + village 3, ``000`` for the township itself)
==========================  =============================================================

``admin_level=6`` is the county level (县、区、县级市) and ``admin_level=8`` the township
level (街道、镇、乡) in China. Many relations carry no code at all: the Beijing test
extract's only admin relation (a level-10 community, 矿业大学社区居委会) has just
``name``/``admin_level``/``boundary``/``type``. A code is taken only when the extract
names it without doubt (one street relation, or the one named like the street; one
county); otherwise nothing is taken and the grid codes stay provisional
(:mod:`planner.grids.codes`).

Relations are read by tags only (their geometry is usually cut by the extract's edge):
``.osm``/``.xml`` with the standard library's streaming XML parser, ``.pbf`` with pyrosm.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from planner.i18n import CLAUSE_SEP, Message, items, msg

log = logging.getLogger(__name__)

#: Grid-code parts a street's metadata (``street.json``, or what this module reads)
#: may declare, with their widths.
META_CODE_FIELDS: tuple[tuple[str, int], ...] = (("code_county", 6), ("code_street", 3))

#: Code tags read, in order of preference.
CODE_TAGS: tuple[str, ...] = ("ref:admin:CN:mca", "ref:admin:CN", "ref:admin:CN:nbs")

#: ``admin_level`` of a county and of a township/street in China.
COUNTY_LEVEL = "6"
STREET_LEVEL = "8"


@dataclass(frozen=True)
class AdminRelation:
    """One admin relation's id, level, name and code tag (tag name and digits)."""

    osm_id: int
    level: str
    name: str
    tag: str
    code: str

    @property
    def county(self) -> str:
        """The county code (first 6 digits) the relation's code gives."""
        return self.code[:6]

    @property
    def street(self) -> str:
        """The township/street code (digits 7-9), '' on a county's 6-digit code."""
        return self.code[6:9] if len(self.code) >= 9 else ""

    def source(self) -> str:
        return str(self.source_message())

    def source_message(self) -> Message:
        """:meth:`source` as a catalogue message (in the reader's language)."""
        return msg(
            "osm_relation", id=self.osm_id, name=self.name or "?", tag=self.tag, code=self.code
        )


def relation_code(tags: Mapping[str, str]) -> tuple[str, str] | None:
    """The first well-formed code tag of an admin relation: (tag, digits), or None.

    6 digits (county), 9 (township) or 12 (statistics code) are accepted.
    """
    for tag in CODE_TAGS:
        value = str(tags.get(tag, "") or "").strip()
        if value.isdigit() and len(value) in (6, 9, 12):
            return tag, value
    return None


def admin_relations(path: Path) -> list[AdminRelation]:
    """The county- and street-level admin relations of an extract that carry a code."""
    rows = _xml_relations(path) if path.suffix.lower() != ".pbf" else _pbf_relations(path)
    out: list[AdminRelation] = []
    for osm_id, tags in rows:
        if tags.get("boundary") != "administrative":
            continue
        level = str(tags.get("admin_level", "")).strip()
        found = relation_code(tags)
        if level in (COUNTY_LEVEL, STREET_LEVEL) and found is not None:
            out.append(AdminRelation(int(osm_id), level, tags.get("name", ""), *found))
    return out


def codes_from_relations(
    relations: list[AdminRelation], *, street_name: str = ""
) -> tuple[dict[str, str], list[Message]]:
    """Street metadata (``code_county``, ``code_street``, ``code_source``) the relations
    give without doubt, and a note for each doubt (several candidates) as a catalogue
    message (``str()`` is its English).

    The street relation is the one named ``street_name``, else the only one with a
    street code; the county comes from it, else from the only county code.
    """
    notes: list[Message] = []
    streets = [r for r in relations if r.level == STREET_LEVEL and r.street]
    named = [r for r in streets if street_name and r.name == street_name]
    pick = named if named else streets
    meta: dict[str, str] = {}
    if len(pick) == 1:
        r = pick[0]
        meta = {"code_county": r.county, "code_street": r.street, "code_source": r.source()}
    elif len(pick) > 1:
        notes.append(
            msg(
                "osm_several_streets",
                relations=items([r.source_message() for r in pick[:5]], sep=CLAUSE_SEP),
            )
        )
    counties = sorted({r.county for r in relations if r.level == COUNTY_LEVEL})
    if "code_county" in meta:
        return meta, notes
    if len(counties) == 1:
        r = next(r for r in relations if r.level == COUNTY_LEVEL)
        meta = {"code_county": r.county, "code_source": r.source()}
    elif len(counties) > 1:
        notes.append(msg("osm_several_counties", counties=counties))
    return meta, notes


def osm_code_meta(path: Path, *, street_name: str = "") -> tuple[dict[str, str], list[Message]]:
    """:func:`codes_from_relations` of an extract file; an unreadable file gives nothing
    (the extract reader reports it)."""
    try:
        relations = admin_relations(path)
    except (OSError, ET.ParseError, ValueError, KeyError) as exc:
        log.info("admin relations of %s not read: %s", path, exc)
        return {}, []
    return codes_from_relations(relations, street_name=street_name)


def _xml_relations(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(id, tags) of every relation of an OSM XML file, streamed."""
    for _event, elem in ET.iterparse(path, events=("end",)):
        if elem.tag == "relation":
            tags = {t.get("k", ""): t.get("v", "") for t in elem.iter("tag")}
            yield int(elem.get("id", "0")), tags
            elem.clear()
        elif elem.tag in ("node", "way"):
            elem.clear()


def _pbf_relations(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(id, tags) of every relation of a PBF file (pyrosm's relation table)."""
    import pyrosm

    osm = pyrosm.OSM(str(path))
    osm._read_pbf()  # the relation table only; no geometry is built
    table = osm._relations
    if not isinstance(table, dict) or "id" not in table:
        return
    for osm_id, tags in zip(table["id"], table["tags"], strict=True):
        yield int(osm_id), {str(k): str(v) for k, v in (tags or {}).items()}
