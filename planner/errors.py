"""The planner's own exception types and the problem records they carry.

Every validation step collects *all* problems it finds and raises once, so a
planner fixes a file in one pass instead of one error at a time. Each problem
names the file, the feature id, the field, what is wrong and what to do.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # planner.i18n is imported by whoever builds a message
    from planner.i18n import Message

Severity = Literal["error", "warning", "repair"]


@dataclass(frozen=True)
class Problem:
    """One problem found in the planner's input.

    Parameters
    ----------
    message
        What is wrong, in plain words.
    fix
        What the user should do about it.
    file
        The file (or layer) the problem is in, if any.
    feature_id
        The id of the offending feature, if any.
    field
        The column involved, if any.
    severity
        ``"error"`` stops the load; ``"warning"`` is reported and the load goes on;
        ``"repair"`` records a safe repair the planner made (e.g. ``make_valid``).
    text, fix_text
        The message and the fix as catalogue messages (:func:`planner.i18n.msg`) when
        they were given so (``message`` and ``fix`` then hold their English), so a user
        interface shows them in the reader's language (:meth:`render`).
    """

    message: str
    fix: str = ""
    file: str | None = None
    feature_id: str | None = None
    field: str | None = None
    severity: Severity = "error"
    text: Message | None = dataclasses.field(default=None, compare=False, repr=False)
    fix_text: Message | None = dataclasses.field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(f"file {self.file}")
        if self.feature_id is not None:
            where.append(f"feature {self.feature_id}")
        if self.field:
            where.append(f"field '{self.field}'")
        head = f"[{', '.join(where)}] " if where else ""
        tail = f" Fix: {self.fix}" if self.fix else ""
        message = self.message.rstrip()
        stop = "" if message.endswith((".", "!", "?", "。")) else "."
        return f"{head}{message}{stop}{tail}"

    @classmethod
    def of(
        cls,
        message: str | Message,
        *,
        fix: str | Message = "",
        file: str | None = None,
        feature_id: object | None = None,
        field: str | None = None,
        severity: Severity = "error",
    ) -> Problem:
        """A problem whose ``message`` and ``fix`` may be catalogue messages
        (:func:`planner.i18n.msg`): kept so they render in the reader's language,
        their English in ``message`` and ``fix``.

        Examples
        --------
        >>> from planner.i18n import msg
        >>> p = Problem.of(msg("err_file_not_found"), fix=msg("err_fix_check_path"), file="a.csv")
        >>> str(p)
        '[file a.csv] file not found. Fix: check the path'
        >>> p.render("zh")
        '[文件 a.csv] 找不到文件。处理办法：请检查文件路径'
        """
        return cls(
            str(message),
            str(fix),
            file,
            None if feature_id is None else str(feature_id),
            field,
            severity,
            text=None if isinstance(message, str) else message,
            fix_text=None if isinstance(fix, str) else fix,
        )

    def to_dict(self) -> dict[str, str | None]:
        """The problem as plain text fields (the English message and fix)."""
        out = asdict(self)
        out.pop("text"), out.pop("fix_text")
        return out

    def render(self, lang: str = "en") -> str:
        """The problem in ``lang``: where, what and the fix; English is ``str()``.

        A message or fix given as plain text (not a catalogue message) stays as it is.
        """
        if lang == "en":
            return str(self)
        from planner.i18n import column_label, render, t

        where = []
        if self.file:
            where.append(t("note_where_file", lang, file=_file_label(self.file, lang)))
        row = re.fullmatch(r"row (\d+)", self.feature_id or "")
        if row:  # a spreadsheet row (a register's), named as a row
            where.append(t("note_where_row", lang, row=row.group(1)))
        elif self.feature_id is not None:
            where.append(t("note_where_feature", lang, feature=self.feature_id))
        if self.field:
            where.append(t("note_where_field", lang, field=column_label(self.field, lang)))
        head = f"[{'，'.join(where)}] " if where else ""
        message = render(self.text or self.message, lang).rstrip()
        stop = "" if message.endswith((".", "!", "?", "。")) else "。"
        fix = render(self.fix_text or self.fix, lang)
        tail = t("note_fix", lang, fix=fix) if fix else ""
        return f"{head}{message}{stop}{tail}"


#: A file named with the layer read from it: ``map.osm (compounds)``.
_FILE_LAYER = re.compile(r"(?P<file>.+) \((?P<layer>[a-z_]+)\)")


def _file_label(file: str, lang: str) -> str:
    """``file`` with the layer it names (``map.osm (compounds)``) in ``lang``."""
    from planner.i18n import STRINGS, t

    hit = _FILE_LAYER.fullmatch(file)
    key = f"note_layer_{hit.group('layer')}" if hit else ""
    if hit is None or key not in STRINGS:
        return file
    return f"{hit.group('file')}（{t(key, lang)}）"


class PlannerError(Exception):
    """Base class of every error the planner raises on purpose.

    :meth:`render` gives the error in the reader's language; ``str()`` is always the
    English the command line prints. An error with no catalogue message renders in
    Chinese as a Chinese lead sentence followed by its English detail.
    """

    def render(self, lang: str = "en") -> str:
        """The error in ``lang`` (``"zh"`` or ``"en"``)."""
        return str(self) if lang == "en" else _untranslated(str(self), lang)


def _untranslated(detail: str, lang: str) -> str:
    """An English ``detail`` behind the catalogue's lead sentence ("无法读取数据：…")."""
    from planner.i18n import t

    return t("error_untranslated", lang, detail=detail)


def error_text(exc: BaseException, lang: str = "en") -> str:
    """What a user interface shows for ``exc`` in ``lang``: a planner error rendered
    (:meth:`PlannerError.render`), any other (a file system or value error) as its
    English text behind the Chinese lead sentence.

    Examples
    --------
    >>> error_text(InputError("file not found", fix="check the path"), "en")
    'file not found. Fix: check the path'
    >>> error_text(OSError("disk full"), "zh")
    '无法读取数据：disk full'
    """
    if isinstance(exc, PlannerError):
        return exc.render(lang)
    return str(exc) if lang == "en" else _untranslated(str(exc), lang)


class InputError(PlannerError):
    """Bad input: one or more problems, all reported together.

    ``problems`` and ``fix`` may be catalogue messages (:func:`planner.i18n.msg`);
    :meth:`render` then shows them in the reader's language, ``str()`` in English.
    """

    def __init__(
        self,
        problems: list[Problem] | Problem | str | Message,
        *,
        fix: str | Message = "",
    ) -> None:
        if not isinstance(problems, list | Problem):
            log = ProblemLog()
            log.add(problems, fix=fix)
            problems = log.problems
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = [p for p in problems if p.severity == "error"] or list(
            problems
        )
        super().__init__(self._text())

    def _text(self) -> str:
        if len(self.problems) == 1:
            return str(self.problems[0])
        lines = [f"{len(self.problems)} problems in the input:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)

    def render(self, lang: str = "en") -> str:
        """Every problem in ``lang``; a problem without a catalogue message in Chinese
        is its English text behind the lead sentence ("无法读取数据：…")."""
        if lang == "en":
            return str(self)
        from planner.i18n import t

        texts = [
            p.render(lang) if p.text is not None else _untranslated(p.render(lang), lang)
            for p in self.problems
        ]
        if len(texts) == 1:
            return texts[0]
        return "\n".join([t("error_problems_n", lang, n=len(texts))] + [f"  - {x}" for x in texts])


class SettingsError(PlannerError):
    """A setting has an unknown name or a value out of range.

    ``problems`` holds one ``(setting, value, rule)`` per value out of range, so a
    user interface can name its own control (the command line names the flag the
    user typed, :func:`planner.cli.parser.settings_problems`).
    """

    def __init__(self, message: str, *, problems: Sequence[tuple[str, Any, str]] = ()) -> None:
        self.problems: list[tuple[str, Any, str]] = list(problems)
        super().__init__(message)


class RuleViolation(PlannerError):
    """A planner edit or a grid set breaks a grid rule; the message says which.

    Raised with a :class:`planner.i18n.Message`, it carries the message's key and
    parameters (grid codes, atom ids, counts) so a user interface renders it in the
    reader's language with :meth:`render`; ``str()`` is always the English text.

    Examples
    --------
    >>> from planner.i18n import msg
    >>> exc = RuleViolation(msg("edit_no_grid", grid="10000011010800100199"))
    >>> str(exc)
    'there is no grid 10000011010800100199'
    >>> exc.render("zh")
    '没有网格 10000011010800100199'
    """

    def __init__(self, message: Message | str) -> None:
        self.message: Message | None = None if isinstance(message, str) else message
        super().__init__(str(message))

    @property
    def key(self) -> str | None:
        """The catalogue key of the message (``None`` for plain text)."""
        return None if self.message is None else self.message.key

    @property
    def params(self) -> dict[str, Any]:
        """The message's parameters (empty for plain text)."""
        return {} if self.message is None else self.message.kwargs

    def render(self, lang: str = "en") -> str:
        """The reason in ``lang`` (``"zh"`` or ``"en"``)."""
        return str(self) if self.message is None else self.message.render(lang)


@dataclass
class ProblemLog:
    """Collects problems during a load and raises them together.

    Examples
    --------
    >>> log = ProblemLog()
    >>> log.add("households is not a number", file="buildings.geojson", feature_id="b7",
    ...         field="households", fix="write a whole number or leave it empty")
    >>> log.has_errors
    True
    """

    problems: list[Problem] = field(default_factory=list)

    def add(
        self,
        message: str | Message,
        *,
        fix: str | Message = "",
        file: str | None = None,
        feature_id: object | None = None,
        field: str | None = None,
        severity: Severity = "error",
    ) -> None:
        """Record one problem; ``message`` and ``fix`` may be catalogue messages
        (:func:`planner.i18n.msg`), kept so they render in the reader's language."""
        self.problems.append(
            Problem.of(
                message, fix=fix, file=file, feature_id=feature_id, field=field, severity=severity
            )
        )

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)

    def raise_if_errors(self) -> None:
        """Raise one :class:`InputError` naming every error collected so far."""
        if self.has_errors:
            raise InputError([p for p in self.problems if p.severity == "error"])

    def notes(self) -> list[Problem]:
        """Warnings and repairs (what the load report lists)."""
        return [p for p in self.problems if p.severity != "error"]
