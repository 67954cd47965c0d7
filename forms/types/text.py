"""Free text in the patient's own words: one line, or a box of several lines for longer ones."""

from __future__ import annotations

from typing import Any

from flask_babel import ngettext
from wtforms import Field, Form, StringField, TextAreaField
from wtforms.validators import Optional, ValidationError

from forms.display import Cell, Display
from forms.schema import Item, ListField
from forms.types.base import AnswerType, Question, reject_unstorable

#: Text boxes allowed more characters than this get several lines on screen (and are FHIR
#: ``text`` rather than ``string``).
TEXTAREA_FROM = 150
#: Boxes allowed more than this get a taller box.
TALL_FROM = 1000


def multiline(max_length: int | None) -> bool:
    """Whether a box of this limit gets several lines."""
    return (max_length or 0) > TEXTAREA_FROM


def stored_text(data: str | None) -> str:
    """The text as it is stored: line breaks as ``\\n`` (a browser sends CRLF), no blank ends."""
    return (data or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def length(data: str | None) -> int:
    """Characters as the patient's box counts them, so the page's counter and this message
    always agree: a line break is one (a browser sends two, CRLF, for the one its counters
    count), an emoji is one, and spaces at the ends count while they are in the box."""
    return len((data or "").replace("\r\n", "\n"))


class FitsLimit:
    """Refuse text longer than the box's limit, counted as the page counts it (``length``).

    The box has no ``maxlength``: a browser would cut a paste at the limit without a word. The
    page's counter says how many characters are over while typing; this message says so after
    a send, and the page shows the text again, whole, to shorten (it is not saved till then).
    """

    def __init__(self, max_length: int) -> None:
        self.max_length = max_length

    def __call__(self, _form: Form, field: Field) -> None:
        over = length(field.data) - self.max_length
        if over > 0:
            raise ValidationError(
                ngettext(
                    "This answer is %(num)s character longer than the %(max)s that fit. Please shorten it: everything you typed is still in the box, and it is saved once it fits.",
                    "This answer is %(num)s characters longer than the %(max)s that fit. Please shorten it: everything you typed is still in the box, and it is saved once it fits.",
                    over,
                    max=self.max_length,
                )
            )


class TextType(AnswerType):
    """Stored as the text typed, line breaks as ``\\n``, blank counting as not answered."""

    name = "text"
    in_lists = True
    free_text = True
    asks_non_answers = False
    macro = "text_question"
    row_macro = "text_row"

    def field(self, question: Question) -> Field:
        cls = TextAreaField if multiline(question.max_length) else StringField
        limit = FitsLimit(question.max_length or 0)
        return cls(validators=[Optional(), reject_unstorable, limit])

    def parse(self, question: Question, data: Any) -> Any:
        return stored_text(data) or None

    def display(self, question: Item, stored: Any) -> Display:
        return Display(patient_text=str(stored))

    def cell(self, question: ListField, stored: Any) -> Cell:
        return Cell(patient_text=str(stored))

    def example(self, question: Question) -> Any:
        return "As written by the patient." if isinstance(question, Item) else "As written"

    def multiline(self, max_length: int | None) -> bool:
        """Whether the box gets several lines (the template asks)."""
        return multiline(max_length)

    def rows(self, max_length: int | None) -> int:
        """How many lines a multi-line box shows."""
        return 8 if (max_length or 0) > TALL_FROM else 4
