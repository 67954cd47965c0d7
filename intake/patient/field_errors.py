"""A step page's messages: each tied to the input it is about, and named by its question."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from flask_babel import gettext

from forms.schema import Item


@dataclass(frozen=True)
class FieldError:
    """One message, tied to the input it is about (its id is the error summary's link target),
    and the question it is about in words (the summary names it: "Please keep this shorter"
    alone does not say which of twenty boxes)."""

    item_id: str
    target: str
    message: str
    question: str = ""


def dom_id(name: str) -> str:
    """An HTML id for a field name (ids keep the catalog's dots; they are valid in HTML)."""
    return f"f-{name}"


def _flatten(item_id: str, name: str, errors: Any) -> list[FieldError]:
    """WTForms nests errors for sub-forms and lists; give each message its own input."""
    if isinstance(errors, dict):
        return [e for key, sub in errors.items() for e in _flatten(item_id, f"{name}-{key}", sub)]
    if isinstance(errors, list) and errors and isinstance(errors[0], (dict, list)):
        out = []
        for n, sub in enumerate(errors):
            out += _flatten(item_id, f"{name}-{n}", sub)
        return out
    return [FieldError(item_id, dom_id(name), str(message)) for message in errors or []]


def item_errors(item: Item, form_field: Any) -> list[FieldError]:
    """The item's messages, each tied to its input (its type says how inputs are named) and
    named by its question."""
    groups = item.kind.error_groups(form_field)
    found = [e for name, errors in groups for e in _flatten(item.id, name, errors)]
    rows = [name for name, _ in groups if name != form_field.name]
    return [replace(e, question=question_name(item, e.target, rows)) for e in found]


def question_name(item: Item, target: str, rows: list[str] | None = None) -> str:
    """The question an input belongs to, in words: a list row's box adds its entry and label.

    ``rows``: the list's rows' input names in page order. The entry is numbered by its place
    among them, as its legend is ("Entry 2"), not by its name's index: after a removal, the
    rows keep the names they were posted with (1, 2, ...), or their names' indices are gone.
    """
    text = str(gettext(item.text))
    if not item.fields:
        return text
    index, _, rest = target.removeprefix(dom_id(item.id) + "-").partition("-")
    if not index.isdecimal():
        return text
    row = f"{item.id}-{index}"
    number = rows.index(row) + 1 if rows and row in rows else int(index) + 1
    field = next((f for f in item.fields if rest == f.id or rest.startswith(f.id + "-")), None)
    entry = str(gettext("Entry %(n)s", n=number))
    return f"{text} – {entry}" + (f", {gettext(field.label)}" if field is not None else "")
