"""Choices from the question's own options: one (radio buttons) or several (checkboxes)."""

from __future__ import annotations

from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l
from wtforms import Field, Form
from wtforms.validators import Optional, ValidationError

from forms.display import Cell, Display, mark, option_text
from forms.schema import NON_ANSWERS, NONE_CODES, Item, ListField
from forms.types.base import (
    AnswerType,
    MultiCheckboxField,
    Question,
    QuietRadioField,
    Validator,
    choices,
    codes_known,
    valid_codes,
)


def _codes(question: Question) -> tuple[str, ...]:
    return tuple(o.code for o in question.options)


def _non_answer(stored: Any) -> bool:
    first = stored[0] if isinstance(stored, list) else stored
    return first in NON_ANSWERS


def _exclusive(question: Question) -> tuple[str, ...]:
    """An item's stand-alone answers; a list field's are not kept out of the demo's picks."""
    return question.exclusive if isinstance(question, Item) else ()


class ChoiceType(AnswerType):
    """What single and multi choices share: options of their own, codes stored."""

    choice = True
    can_gate = True
    in_lists = True
    macro = "choice_question"
    row_macro = "choice_row"
    #: The input each option is drawn with.
    input_kind: ClassVar[str]

    def example(self, question: Question) -> Any:
        real = [
            o.code for o in question.options if o.code not in (*NON_ANSWERS, *_exclusive(question))
        ]
        return self._pick(real or [question.options[0].code])

    def _pick(self, codes: list[str]) -> Any:
        raise NotImplementedError


class SingleType(ChoiceType):
    """One answer, as radio buttons: a skipped question and "No" stay different."""

    name = "single"
    input_kind = "radio"
    one_code = True

    def field(self, question: Question) -> Field:
        return QuietRadioField(
            choices=choices(question), validators=[Optional(), valid_codes(_codes(question))]
        )

    def display(self, question: Item, stored: Any) -> Display:
        return Display(lines=(mark(question, stored),))

    def cell(self, question: ListField, stored: Any) -> Cell:
        return Cell(
            option_text(question, str(stored), short=True),
            state=_non_answer(stored),
            full_text=option_text(question, str(stored)),
        )

    def _pick(self, codes: list[str]) -> Any:
        return codes[0]

    def uses_known_codes(self, question: Question, stored: Any) -> bool:
        return codes_known(question, [stored])


def exclusive(question: Question) -> Validator:
    """Let "None of these", "Not sure" and "Prefer not to say" stand alone in a multi-choice."""

    def check(_form: Form, field: Field) -> None:
        chosen = set(field.data or [])
        lone = chosen & set(question.exclusive)
        if lone and len(chosen) > 1:
            labels = ", ".join(f"“{o.label}”" for o in question.options if o.code in lone)
            raise ValidationError(
                _l(
                    "%(labels)s cannot be chosen together with other answers. Please choose one or the other.",
                    labels=labels,
                )
            )

    return check


class MultiType(ChoiceType):
    """Any number of answers, as checkboxes; a missing field means "not answered"."""

    name = "multi"
    input_kind = "checkbox"

    def field(self, question: Question) -> Field:
        return MultiCheckboxField(
            choices=choices(question),
            validators=[valid_codes(_codes(question)), exclusive(question)],
        )

    def parse(self, question: Question, data: Any) -> Any:
        """The chosen codes: a question's in its own order, whatever order they were posted in;
        a list row's as posted (a browser posts them in the page's order)."""
        if isinstance(question, ListField):
            return list(data or []) or None
        return [c for c in _codes(question) if c in (data or [])] or None

    def display(self, question: Item, stored: Any) -> Display:
        return Display(lines=tuple(mark(question, code) for code in stored))

    def cell(self, question: ListField, stored: Any) -> Cell:
        text = "; ".join(option_text(question, code, short=True) for code in stored)
        full = "; ".join(option_text(question, code) for code in stored)
        return Cell(text, state=_non_answer(stored), full_text=full)

    def _pick(self, codes: list[str]) -> Any:
        return codes[:2]

    def example(self, question: Question) -> Any:
        if isinstance(question, ListField):  # one reaction per row reads more plainly
            return [o.code for o in question.options if o.code not in NON_ANSWERS][:1]
        return super().example(question)

    def uses_known_codes(self, question: Question, stored: Any) -> bool:
        return codes_known(question, list(stored))

    def implied_exclusive(self, question: ListField) -> tuple[str, ...]:
        return tuple(o.code for o in question.options if o.code in (*NON_ANSWERS, *NONE_CODES))

    def problems(self, item: Item) -> list[str]:
        return [
            f"{item.id}: {code!r} must be exclusive"
            for code in item.codes
            if code in (*NON_ANSWERS, *NONE_CODES) and code not in item.exclusive
        ]
