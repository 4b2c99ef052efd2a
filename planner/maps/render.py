"""Rendering a folium map without compiling its rendered scripts again as templates.

folium renders each layer's script, then wraps the rendered text in a new
``branca.element.Element``, which compiles it as a Jinja template: the demo street's red
map compiled about 1.4 MB of GeoJSON and styling that way, about 60 % of the app's map
rendering (:func:`planner.app.map.map_payload`: 2.2-4.9 s against 0.7-1.4 s under load,
same strings). :func:`literal_templates` makes text without Jinja syntax render as
itself; the app's map and the standalone red map (:func:`planner.maps.offline.standalone_html`)
both render inside it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import branca.element
import jinja2


class _Literal:
    """A template without Jinja syntax: it renders to its own text, as Jinja would."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def render(self, *args: Any, **kwargs: Any) -> str:
        return self.text


#: What starts a Jinja tag, expression or comment (default delimiters, as branca's).
_JINJA_MARKS = ("{{", "{%", "{#")


def literal_or_jinja(source: Any, *args: Any, **kwargs: Any) -> Any:
    r"""``jinja2.Template(source)``, or the same text without compiling when ``source``
    holds no Jinja syntax (Jinja's default output: line ends as ``\n``, one trailing
    newline dropped).

    Text with a Jinja mark still goes to Jinja (see the module's docstring for why).

    Examples
    --------
    >>> literal_or_jinja('{"a": 1}\r\n').render()
    '{"a": 1}'
    >>> literal_or_jinja("{{ 1 + 1 }}").render()
    '2'
    """
    if (
        isinstance(source, str)
        and not args
        and not kwargs
        and not any(mark in source for mark in _JINJA_MARKS)
    ):
        text = source.replace("\r\n", "\n").replace("\r", "\n")
        return _Literal(text[:-1] if text.endswith("\n") else text)
    return jinja2.Template(source, *args, **kwargs)


_RENDER_LOCK = threading.Lock()


@contextmanager
def literal_templates() -> Iterator[None]:
    """While inside, branca's elements made from text use :func:`literal_or_jinja` (the
    same output; other threads drawing meanwhile get the same strings too)."""
    module: Any = branca.element  # its ``Template`` is jinja2's, looked up at each Element()
    with _RENDER_LOCK:
        saved = module.Template
        module.Template = literal_or_jinja
        try:
            yield
        finally:
            module.Template = saved
