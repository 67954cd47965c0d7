"""A year box (4 digits), with "Not sure" and "Prefer not to say" boxes beside it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Field, Form, FormField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from forms.display import Cell, Display, Mark, year_text
from forms.schema import NON_ANSWER_TEXT, NON_ANSWERS, YEAR_MIN, Item, ListField
from forms.types.base import (
    AnswerType,
    MultiCheckboxField,
    Question,
    reject_unstorable,
    valid_codes,
)


class YearForm(Form):
    """A year box plus "Not sure" / "Prefer not to say" boxes."""

    year = StringField(validators=[Optional(), reject_unstorable])
    unknown = MultiCheckboxField(
        choices=[SelectChoice(code, _l(label)) for code, label in NON_ANSWER_TEXT.items()],
        validators=[valid_codes(NON_ANSWERS)],
    )

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        year, unknown = (self.year.data or "").strip(), self.unknown.data or []
        if (year and unknown) or len(unknown) > 1:
            self.year.errors = [*self.year.errors, _l("Give a year, or tick one box, not both.")]
            return False
        if (
            year
            and not self.year.errors
            and not (year.isdigit() and YEAR_MIN <= int(year) <= date.today().year)
        ):
            self.year.errors = [
                *self.year.errors,
                _l(
                    "Enter a year as 4 digits, between %(low)s and %(high)s, for example 2015.",
                    low=YEAR_MIN,
                    high=date.today().year,
                ),
            ]
            return False
        return bool(ok)


class YearType(AnswerType):
    """Stored as the year (an int) or a non-answer code."""

    name = "year"
    in_lists = True
    builtin_non_answers = True
    macro = "year_question"
    row_macro = "year_row"

    def field(self, question: Question) -> Field:
        return FormField(YearForm)

    def prefill(self, question: Question, stored: Any) -> Any:
        if stored is None:
            return None
        if isinstance(stored, int):
            return {"year": str(stored), "unknown": []}
        return {"year": "", "unknown": [stored] if stored in NON_ANSWERS else []}

    def parse(self, question: Question, data: Any) -> Any:
        data = data or {}
        assert isinstance(data, Mapping)
        year = (data.get("year") or "").strip()
        if year:
            return int(year)
        unknown = data.get("unknown") or []
        return unknown[0] if unknown else None

    def posted(self, question: Question, name: str, stored: Any) -> dict[str, Any]:
        if stored in NON_ANSWERS:
            return {f"{name}-unknown": stored}
        return {f"{name}-year": str(stored)}

    def display(self, question: Item, stored: Any) -> Display:
        return Display(lines=(Mark(year_text(stored)),))

    def cell(self, question: ListField, stored: Any) -> Cell:
        return Cell(year_text(stored), state=stored in NON_ANSWERS)

    def example(self, question: Question) -> Any:
        return 2020
