"""Several rows (falling asleep, staying asleep) answered on one shared scale of options."""

from __future__ import annotations

from typing import Any

from wtforms import Field, Form, FormField
from wtforms.validators import Optional

from forms.display import Display, _, mark
from forms.schema import NON_ANSWERS, Item
from forms.types.base import AnswerType, Question, QuietRadioField, choices, valid_codes


class GridType(AnswerType):
    """Stored as ``{row code: answer code}``, rows left blank left out."""

    name = "grid"
    choice = True
    macro = "grid_question"

    def field(self, question: Question) -> Field:
        assert isinstance(question, Item)
        codes = question.codes
        rows = {
            r.code: QuietRadioField(
                choices=choices(question), validators=[Optional(), valid_codes(codes)]
            )
            for r in question.rows
        }
        return FormField(type("GridForm", (Form,), rows))

    def parse(self, question: Question, data: Any) -> Any:
        grid = {code: v for code, v in (data or {}).items() if v}
        return grid or None

    def posted(self, question: Question, name: str, stored: Any) -> dict[str, Any]:
        return {f"{name}-{row}": code for row, code in stored.items()}

    def display(self, question: Item, stored: Any) -> Display:
        return Display(
            lines=tuple(
                mark(question, stored.get(r.code), prefix=_(r.label)) for r in question.rows
            )
        )

    def example(self, question: Question) -> Any:
        assert isinstance(question, Item)
        real = [c for c in question.codes if c not in (*NON_ANSWERS, *question.exclusive)]
        return {row.code: real[0] for row in question.rows}

    def uses_known_codes(self, question: Question, stored: Any) -> bool:
        assert isinstance(question, Item)
        allowed = set(question.codes) | set(NON_ANSWERS)
        return set(stored) <= {r.code for r in question.rows} and set(stored.values()) <= allowed

    def problems(self, item: Item) -> list[str]:
        found = super().problems(item)
        if not item.rows:
            found.append(f"{item.id}: a grid has no rows")
        return found
