"""The cached map payload (planner/app/map.py)."""

from __future__ import annotations

import pickle

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
