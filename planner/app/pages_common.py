"""What every page of the app says before (or instead of) its content: which layers the
street lacks and what the page can still show, why a step cannot be computed, and the
plain message a failed page shows instead of a traceback.

A street may come without buildings, roads or stations (the README allows a minimal
upload of a boundary, roads and stations): each page then says in the reader's
language what is missing and what it still shows (:func:`missing_note`), and a step
that cannot run names the missing layer rather than the computation's English
reason (:func:`step_reason`). Plain functions of the street and the language, tested
without Streamlit.
"""

from __future__ import annotations

from planner.i18n import t
from planner.street import Street

#: Key of the container every page has at the same place, under the title: the grid
#: editor's page is drawn in it, and the other pages keep the editor's map frame in it,
#: hidden (:func:`planner.app.editor_page.keep_map`).
EDITOR_SLOT = "editor_slot"

#: The layers a page needs, in the order the message names them.
NEEDED_LAYERS: tuple[str, ...] = ("buildings", "roads", "stations")

#: Which missing layers stop which step ("coverage": walking circles; "grids": division).
STEP_NEEDS: dict[str, tuple[str, ...]] = {
    "coverage": ("buildings", "roads", "stations"),
    "grids": ("buildings",),
}


def missing_layers(street: Street) -> list[str]:
    """The needed layers the street has no feature in (stations: none inside the street)."""
    out: list[str] = []
    for name in NEEDED_LAYERS:
        layer = getattr(street, name)
        if name == "stations" and "in_street" in layer.columns:
            layer = layer[layer["in_street"].astype(bool)]
        if len(layer) == 0:
            out.append(name)
    return out


def missing_note(street: Street, page: str, lang: str = "zh") -> str:
    """The page's note on missing layers ('' when none is missing): what is missing and
    what ``page`` (a key of :data:`planner.app.state.PAGES`) can still show."""
    missing = missing_layers(street)
    if not missing:
        return ""
    sep = "、" if lang == "zh" else ", "
    return t(
        "missing_layers",
        lang,
        missing=sep.join(t(f"missing_{name}", lang) for name in missing),
        can=t(f"can_show_{page}", lang),
    )


def step_reason(street: Street, step: str, reason: str, lang: str = "zh") -> str:
    """Why ``step`` ("coverage" or "grids") cannot be computed, in ``lang``: the missing
    layers it needs when some are missing, else ``reason`` (the planner's message)."""
    missing = [m for m in missing_layers(street) if m in STEP_NEEDS.get(step, ())]
    if not missing:
        return reason
    sep = "、" if lang == "zh" else ", "
    return t("step_missing", lang, missing=sep.join(t(f"missing_{m}", lang) for m in missing))


def uploader_css(lang: str, limit_mb: int) -> str:
    """A ``<style>`` block that words Streamlit's file-upload widgets in ``lang``.

    Streamlit draws the upload button ("Upload") and the size note ("200MB per file •
    ZIP, …", its own hard cap) itself, in English; this replaces both with the words of
    the catalogue and the planner's own limit (``limit_mb``, MB per upload).
    """
    button = t("uploader_button", lang).replace('"', "")
    note = t("uploader_limit", lang, limit=int(limit_mb)).replace('"', "")
    zone = '[data-testid="stFileUploaderDropzone"]'
    hint = '[data-testid="stFileUploaderDropzoneInstructions"]'
    return (
        "<style>"
        f"{hint} *{{font-size:0 !important}}"
        f'{hint}::after{{content:"{note}";font-size:.8rem;opacity:.7}}'
        f"{zone} button *{{font-size:0 !important}}"
        f'{zone} button::after{{content:"{button}";font-size:.9rem}}'
        "</style>"
    )
