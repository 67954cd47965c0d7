"""The answer types of the catalog, one class each, and the one table from a type's name to it.

Adding a type is a class here (see ``base.AnswerType`` for what it owns), its entry in
``TYPES``, its macro in ``templates/patient/_answer_types.html``, its FHIR mapping in
``intake.fhir.answer_types`` and their tests.
"""

from __future__ import annotations

from forms.types.base import KEEP, AnswerType
from forms.types.choice import MultiType, SingleType
from forms.types.grid import GridType
from forms.types.repeating import ListType
from forms.types.scale import ScaleType
from forms.types.text import TextType
from forms.types.year import YearType

TYPES: dict[str, AnswerType] = {
    t.name: t
    for t in (
        SingleType(),
        MultiType(),
        GridType(),
        ScaleType(),
        YearType(),
        TextType(),
        ListType(),
    )
}
#: The types a field of a list row may have.
FIELD_TYPES: dict[str, AnswerType] = {name: t for name, t in TYPES.items() if t.in_lists}

__all__ = ["FIELD_TYPES", "KEEP", "TYPES", "AnswerType"]
