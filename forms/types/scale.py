"""A 0 to 10 rating with words at both ends; "Not sure" and "Prefer not to say" beside it."""

from __future__ import annotations

from typing import Any

from wtforms import Field
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from forms.display import Display, Mark, _
from forms.schema import NON_ANSWERS, Item
from forms.types.base import AnswerType, Question, QuietRadioField, valid_codes


def scale_codes(item: Item) -> tuple[str, ...]:
    """What a scale's radio buttons post: the numbers, then the two non-answers."""
    return (*(str(n) for n in range(item.scale_min, item.scale_max + 1)), *NON_ANSWERS)


class ScaleType(AnswerType):
    """Stored as the number chosen (an int) or a non-answer code; nothing is computed from it."""

    name = "scale"
    builtin_non_answers = True
    macro = "scale_question"

    def field(self, question: Question) -> Field:
        assert isinstance(question, Item)
        codes = scale_codes(question)
        return QuietRadioField(
            choices=[SelectChoice(c, c) for c in codes], validators=[Optional(), valid_codes(codes)]
        )

    def prefill(self, question: Question, stored: Any) -> Any:
        return None if stored is None else str(stored)

    def parse(self, question: Question, data: Any) -> Any:
        if not data:
            return None
        return int(data) if str(data).isdigit() else data

    def posted(self, question: Question, name: str, stored: Any) -> dict[str, Any]:
        return {name: str(stored)}

    def display(self, question: Item, stored: Any) -> Display:
        if not isinstance(stored, int):
            return Display()
        low, high = question.anchors
        text = _(
            "%(value)s on a %(min)s to %(max)s scale (%(low)s; %(high)s)",
            value=stored,
            min=question.scale_min,
            max=question.scale_max,
            low=low,
            high=high,
        )
        return Display(lines=(Mark(text),))

    def example(self, question: Question) -> Any:
        assert isinstance(question, Item)
        return (question.scale_min + question.scale_max) // 2

    def problems(self, item: Item) -> list[str]:
        found = super().problems(item)
        if len(item.anchors) != 2:
            found.append(f"{item.id}: a scale needs word anchors at both ends")
        return found
