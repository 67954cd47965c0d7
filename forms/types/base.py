"""The shape every answer type has: one class per catalog ``type``, owning all it means.

A type builds its WTForms field, turns what a browser posted into the stored value and back,
prints a stored value for the review page and the PDF, says what the demo patient answers, and
names the catalog rules that only it knows. Nothing outside ``forms.types`` branches on a type's
name; the FHIR side keeps its own table keyed by the same names (``intake.fhir.answer_types``).

A *question* is a catalog item or a field of a list row: the field types (``in_lists``) serve
both, with the same code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l
from wtforms import Field, Form, RadioField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from forms.display import Cell, Display
from forms.schema import NON_ANSWERS, Item, ListField

Question = Item | ListField
Validator = Callable[[Form, Field], None]
#: A lone surrogate: no UTF-8 text holds one (``reject_unstorable``).
SURROGATE = re.compile("[\ud800-\udfff]")
#: What ``salvage`` returns for "keep the stored value": the posted one had an error.
KEEP: Any = object()


def reject_unstorable(_form: Form, field: Field) -> None:
    """Say so, by the answer, when it holds what cannot be stored: a NUL (PostgreSQL refuses
    it) or a lone surrogate, which is how the edge hands on bytes that were no UTF-8
    (``intake.edge.StrictFormParser``): saved, they would be replacement characters or junk.
    The page shows the answer again without them (``intake.edge.without_unstorable``)."""
    values = field.data if isinstance(field.data, list) else [field.data]
    texts = [v for v in values if isinstance(v, str)]
    if any("\x00" in v for v in texts):
        raise ValidationError(
            _l(
                "This answer contains a hidden character (NUL) that cannot be saved. Please remove it or type the answer again."
            )
        )
    if any(SURROGATE.search(v) for v in texts):
        raise ValidationError(
            _l(
                "Part of this answer arrived damaged and could not be read, so it was not saved. Please check the answer and type the missing part again."
            )
        )


def valid_codes(codes: tuple[str, ...]) -> Validator:
    """Refuse a posted code the question does not offer (a stale page or a forged post)."""

    def check(_form: Form, field: Field) -> None:
        values = field.data if isinstance(field.data, list) else [field.data]
        if any(v not in codes for v in values if v not in (None, "")):
            raise ValidationError(_l("Please choose from the answers shown."))

    return check


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes; a missing field means "not answered", never "none"."""

    def pre_validate(self, form: Form) -> None:  # choices are checked by valid_codes
        return None


class QuietRadioField(RadioField):
    def pre_validate(self, form: Form) -> None:  # choices are checked by valid_codes
        return None


def choices(question: Question) -> list[SelectChoice]:
    return [SelectChoice(o.code, o.label) for o in question.options]


def codes_known(question: Question, codes: list[Any]) -> bool:
    """Whether every code is one of the question's answers or a non-answer."""
    return set(codes) <= {o.code for o in question.options} | set(NON_ANSWERS)


class AnswerType:
    """One catalog answer type. Subclasses set ``name`` and override what differs."""

    name: ClassVar[str]
    #: May be a field of a list row as well as a question of its own.
    in_lists: ClassVar[bool] = False
    #: Answers are codes from the question's own options (which it therefore needs).
    choice: ClassVar[bool] = False
    #: Can open other questions (enable-when): its answer is one code or a set of codes.
    can_gate: ClassVar[bool] = False
    #: Stores one code from the question's options (printed as that option's label).
    one_code: ClassVar[bool] = False
    #: Must offer "Not sure" and "Prefer not to say" (house rule 2).
    asks_non_answers: ClassVar[bool] = True
    #: Offers the two non-answers itself, as part of its widget, whatever the options say.
    builtin_non_answers: ClassVar[bool] = False
    #: The patient types words of their own (a length limit applies; follow-up rules read it).
    free_text: ClassVar[bool] = False
    #: Holds rows (medicines, foods): a reaction block can live inside it.
    repeating: ClassVar[bool] = False
    #: The macros of ``templates/patient/_answer_types.html`` that draw it on a step page,
    #: as a question and as a field of a list row.
    macro: ClassVar[str]
    row_macro: ClassVar[str] = ""

    # --- the step page ------------------------------------------------------------------------
    def field(self, question: Question) -> Field:
        """The unbound WTForms field for the question."""
        raise NotImplementedError

    def prefill(self, question: Question, stored: Any) -> Any:
        """Form data for the field from a stored value (``None``: nothing stored)."""
        return stored

    def parse(self, question: Question, data: Any) -> Any:
        """The stored value for the field's submitted data; ``None`` means "not answered"."""
        return data or None

    def posted(self, question: Question, name: str, stored: Any) -> dict[str, Any]:
        """The form fields a browser posts for a stored value (tests and benchmarks replay)."""
        return {name: stored}

    def error_groups(self, field: Any) -> list[tuple[str, Any]]:
        """(input name, WTForms errors) pairs to tie each message to its input."""
        return [(field.name, field.errors)]

    def salvage(self, question: Question, field: Any, stored: Any) -> Any:
        """What to store when the posted answer has an error: by default ``KEEP`` the stored
        value; a list keeps what can be kept (``ListType``)."""
        return KEEP

    def ready(self, question: Question, field: Any) -> None:
        """Make a bound field ready to type into (a list adds its empty row)."""

    def remove_entry(self, field: Any, index: int) -> None:
        """The "Remove entry" button (lists only)."""

    # --- review page and PDF ------------------------------------------------------------------
    def display(self, question: Item, stored: Any) -> Display:
        """An answered question as printed (see ``forms.display``)."""
        raise NotImplementedError

    def cell(self, question: ListField, stored: Any) -> Cell:
        """A list row's answered field as a table cell (field types only)."""
        raise NotImplementedError

    # --- demo and catalog rules ---------------------------------------------------------------
    def example(self, question: Question) -> Any:
        """A plain valid answer (the demo patient's, for a question it has no pick for)."""
        raise NotImplementedError

    def uses_known_codes(self, question: Question, stored: Any) -> bool:
        """Whether a stored value uses only codes the catalog still has."""
        return True

    def implied_exclusive(self, question: ListField) -> tuple[str, ...]:
        """Answers of a list field that stand alone (a multi-choice's "None of these")."""
        return ()

    def problems(self, item: Item) -> list[str]:
        """The catalog rules this type adds for one item (see ``forms.validate``)."""
        if item.exclusive:
            return [f"{item.id}: only multi-choice questions have exclusive answers"]
        return []
