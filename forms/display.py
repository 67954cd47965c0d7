"""What one answer looks like on paper: plain values that the review page and the PDF both print.

The answer types (``forms.types``) build these from a stored value; the summary
(``intake.pdf.summary``) puts them in rows and tables. Everything here is a catalog label or a
fixed phrase, except ``patient_text``: the patient's own words travel apart, so that templates
quote them and tests can strip them before scanning the service's own wording.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext

from forms.schema import NON_ANSWER_TEXT, NON_ANSWERS


def _(text: str, **values: Any) -> str:
    """gettext, typed (Flask-Babel has no type information)."""
    return str(gettext(text, **values))


#: Every state a shown question can be in besides "answered", in the words the key prints.
ANSWER_TEXT: dict[str, str] = {**NON_ANSWER_TEXT, "not_answered": "Not answered"}


@dataclass(frozen=True)
class Mark:
    """One value as printed: an answer's label, or a state in the key's words.

    ``state`` marks the second kind (Not sure, Prefer not to say, Not answered, Not shown, and
    the dash for a question a topic does not have): templates set it apart from answers, in
    italic, wherever it appears. ``prefix`` names the grid row a value belongs to.
    """

    text: str
    state: bool = False
    prefix: str = ""


@dataclass(frozen=True)
class Cell:
    """One table cell: either service text (labels) or the patient's own words.

    ``state`` is set when the text is a non-answer (Not sure, Prefer not to say) rather than an
    answer; an empty cell is one the patient left blank. ``full_text`` is a choice in the words
    the patient saw, where ``text`` has the clinician's short labels ("Fast/pounding heartbeat"):
    the patient's own review prints it.
    """

    text: str = ""
    patient_text: str | None = None
    state: bool = False
    full_text: str | None = None


@dataclass(frozen=True)
class Table:
    """A repeating list (medicines, foods, reactions, episodes) as columns and rows."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class Display:
    """An answered question as printed: lines of marks, the patient's words, or a table."""

    lines: tuple[Mark, ...] = ()
    patient_text: str | None = None
    table: Table | None = None


def state_text(code: str) -> str:
    """A non-answer or "Not answered" in the key's words (any other code as it is)."""
    return _(ANSWER_TEXT.get(code, code))


def option_text(question: Any, code: str, *, short: bool = False) -> str:
    """The label of one of a question's codes (its short label on tables and at a glance); a
    non-answer in the key's words."""
    for option in question.options:
        if option.code == code:
            return _(option.short_label if short else option.label)
    return state_text(code)


def mark(question: Any, code: Any, *, short: bool = False, prefix: str = "") -> Mark:
    """One chosen code as printed; a blank or a non-answer in the key's words, as a state."""
    if code in (None, "", []):
        return Mark(_(ANSWER_TEXT["not_answered"]), state=True, prefix=prefix)
    if code in NON_ANSWERS:
        return Mark(_(ANSWER_TEXT[code]), state=True, prefix=prefix)
    return Mark(option_text(question, code, short=short), prefix=prefix)


def year_text(stored: Any) -> str:
    """A year as printed ("About 2015"), or its non-answer in the key's words."""
    if isinstance(stored, int):
        return _("About %(year)s", year=stored)
    return state_text(str(stored))
