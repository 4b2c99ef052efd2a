"""The cached map payload (planner/app/map.py)."""

from __future__ import annotations

import pickle

import pytest

from planner.app.map import map_payload
from planner.maps.offline import APP_BASE_URL
from planner.maps.redmap import red_map
from tests.app_street import tiny_street


def test_payload_is_stable_picklable_and_local() -> None:
    street = tiny_street()
    a = map_payload(red_map(street))
    b = map_payload(red_map(street))
    # the component key is derived from the script with element ids removed: two builds of
    # the same map give the same script apart from ids, so reruns do not redraw
    import streamlit_folium as sf

    assert sf.generate_js_hash(a["script"], "k") == sf.generate_js_hash(b["script"], "k")
    assert pickle.loads(pickle.dumps(a)) == a
    assert a["js_links"] and all(u.startswith(APP_BASE_URL) for u in a["js_links"] + a["css_links"])
    assert "L.map" in a["script"] or "L.map" in a["header"] + a["html"] + a["script"]
    (s, w), (n, e) = a["bounds"]
    assert s < n and w < e


def test_payload_renders_each_element_once() -> None:
    # streamlit-folium's recipe renders the figure and then the map: every marker's icon
    # was set twice in the script; one render sets it once
    script = map_payload(red_map(tiny_street()))["script"]
    calls = [line.strip() for line in script.splitlines() if ".setIcon(" in line]
    assert len(calls) >= 3  # the tiny street's three stations
    assert len(set(calls)) == len(calls), calls


def test_chinese_text_is_sent_as_characters_not_escapes() -> None:
    """The payload writes Chinese as characters (half the bytes of ``\\uXXXX``); the
    data the browser reads is the same, and escapes that must stay escaped do."""
    import json
    import re

    import streamlit_folium as sf

    from planner.app.map import compact_script

    m = red_map(tiny_street(), lang="zh")
    script = map_payload(m)["script"]
    assert not re.search(r"\\u[4-9][0-9a-f]{3}", script)  # no escaped ideographs left
    assert "图例" in script or "社区" in script or "服务站" in script
    m2 = red_map(tiny_street(), lang="zh")
    m2.render()
    raw = sf._get_map_string(m2)
    assert len(script.encode()) < len(raw.encode())
    blocks = re.compile(r"_add\((\{.*?\})\);", re.S)
    assert [json.loads(b) for b in blocks.findall(script)] == [
        json.loads(b) for b in blocks.findall(raw)
    ]
    text = r'{"a": "\u4e1c\"\u003c", "b": "\\u4e1c", "c": "\\\u4e1c", "d": "\u2028"}'
    assert json.loads(compact_script(text)) == json.loads(text)
    assert (
        compact_script(text) == r'{"a": "东\"\u003c", "b": "\\u4e1c", "c": "\\东", "d": "\u2028"}'
    )


def test_text_without_jinja_syntax_renders_as_jinja_would_without_compiling() -> None:
    import jinja2

    from planner.maps.render import literal_or_jinja

    texts = [
        "",
        "\n",
        'var a = {"type": "Feature", "b": [1, 2]};\n',
        "line\r\nnext\rlast\n\n",
        "  {\n  x: 1 }  ",
        "{% if true %}yes{% endif %}",
        "{{ 2 * 3 }}",
        "text {# a comment #} more",
    ]
    for text in texts:
        assert literal_or_jinja(text).render() == jinja2.Template(text).render(), repr(text)
    assert isinstance(literal_or_jinja('{"a": 1}'), jinja2.Template) is False  # not compiled
    assert isinstance(literal_or_jinja("{{ 1 }}"), jinja2.Template)


def test_the_payload_is_the_same_with_rendered_scripts_not_compiled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The red map's strings, element ids aside, equal those of folium's own rendering
    (every rendered script compiled as a Jinja template again)."""
    import re
    from contextlib import nullcontext

    from planner.app import map as app_map

    street = tiny_street()
    fast = map_payload(red_map(street))
    monkeypatch.setattr(app_map, "literal_templates", nullcontext)
    slow = map_payload(red_map(street))

    def ids(value: object) -> object:
        return re.sub(r"[0-9a-f]{32}", "ID", value) if isinstance(value, str) else value

    assert {k: ids(v) for k, v in fast.items()} == {k: ids(v) for k, v in slow.items()}
    import branca.element
    import jinja2

    assert branca.element.Template is jinja2.Template  # put back after use


def test_the_standalone_red_map_is_the_same_with_rendered_scripts_not_compiled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The standalone HTML (the CLI's redmap.html) renders through the same literal
    templates: its text, element ids aside, equals folium's own rendering."""
    import re
    from contextlib import nullcontext

    from planner.maps import offline
    from planner.maps.offline import standalone_html

    street = tiny_street()
    fast = standalone_html(red_map(street))
    monkeypatch.setattr(offline, "literal_templates", nullcontext)
    slow = standalone_html(red_map(street))
    assert re.sub(r"[0-9a-f]{32}", "ID", fast) == re.sub(r"[0-9a-f]{32}", "ID", slow)
