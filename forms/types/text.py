"""Free text in the patient's own words: one line, or a box of several lines for longer ones."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Field, StringField, TextAreaField
from wtforms.validators import Length, Optional

from forms.display import Cell, Display
from forms.schema import Item, ListField
from forms.types.base import AnswerType, Question, reject_nul

#: Text boxes allowed more characters than this get several lines on screen (and are FHIR
#: ``text`` rather than ``string``).
TEXTAREA_FROM = 150
#: Boxes allowed more than this get a taller box.
TALL_FROM = 1000


def multiline(max_length: int | None) -> bool:
    """Whether a box of this limit gets several lines."""
    return (max_length or 0) > TEXTAREA_FROM


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
        message = _l("Please keep this to %(max)s characters or fewer.", max=question.max_length)
        return cls(
            validators=[Optional(), reject_nul, Length(max=question.max_length, message=message)]
        )

    def parse(self, question: Question, data: Any) -> Any:
        text = (data or "").replace("\r\n", "\n").strip()
        return text or None

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
