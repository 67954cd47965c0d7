"""Build one FlaskForm class per catalog section from its questions' answer types.

Each answer type (``forms.types``) owns its field, its parsing and its pre-filling; this module
only puts a section's fields together, once per process. Every question is optional ("you can
skip any question"); validators only reject what cannot be stored faithfully.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from flask_wtf import FlaskForm

from forms.schema import Catalog, Item


class SectionForm(FlaskForm):
    """Base for the per-section forms; fields are named by catalog item id."""


@cache
def section_form_class(catalog: Catalog, section_id: str) -> type[SectionForm]:
    """One form class per section, built once per process."""
    section = catalog.section(section_id)
    fields = {item.id: item.kind.field(item) for item in section.items}
    return type(f"SectionForm_{section_id}", (SectionForm,), fields)


def to_form_data(item: Item, value: Any) -> Any:
    """Pre-fill data for an item's field from its stored value."""
    return item.kind.prefill(item, value)


def from_form_data(item: Item, data: Any) -> Any:
    """The stored value for an item's submitted data; None means "not answered"."""
    return item.kind.parse(item, data)


def posted_fields(item: Item, value: Any) -> dict[str, Any]:
    """The form fields a browser posts for a stored value (tests and benchmarks replay answers)."""
    return item.kind.posted(item, item.id, value)
