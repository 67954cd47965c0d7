"""A list of rows (medicines, foods, episodes), each row a few fields of the field types."""

from __future__ import annotations

from typing import Any

from flask_babel import ngettext
from wtforms import Field, FieldList, Form, FormField
from wtforms.validators import ValidationError

from forms.display import Cell, Display, Table, _
from forms.schema import Item, ListField
from forms.types.base import KEEP, AnswerType, Question

#: The number in the names of a new entry's template (``ListType.blank_entry``): no digits, so
#: WTForms would never read it as a row.
NEW_ENTRY = "__n__"


def filled(data: object) -> bool:
    """Whether a row holds anything typed or chosen (then it gets a "Remove" button; the empty
    row to type into does not). A row's data nests: a year field is {year, unknown}."""
    if isinstance(data, dict):
        return any(filled(value) for value in data.values())
    if isinstance(data, (list, tuple)):
        return any(filled(value) for value in data)
    return data not in (None, "", False)


def _item(question: Question) -> Item:
    assert isinstance(question, Item), "a list is never a field of another list"
    return question


class AtMostRows:
    """Refuse more filled entries than the list holds, rather than drop the extra ones.

    The page offers no new entry once the list is full, so more come only from a page that is
    out of date or a post made by hand; the page shows all of them again to choose from.
    """

    def __init__(self, max_rows: int) -> None:
        self.max_rows = max_rows

    def __call__(self, _form: Form, field: Field) -> None:
        count = sum(filled(entry.data) for entry in field.entries)
        if count > self.max_rows:
            raise ValidationError(
                ngettext(
                    "This list holds up to %(num)s entry, and %(count)s were sent. Please remove some (each has a Remove button): until then this list is not saved, and every entry is still here.",
                    "This list holds up to %(num)s entries, and %(count)s were sent. Please remove some (each has a Remove button): until then this list is not saved, and every entry is still here.",
                    self.max_rows,
                    count=count,
                )
            )


def list_messages(field: Any) -> list[str]:
    """The messages about the list as a whole (the rows' own are dicts beside them)."""
    return [str(e) for e in field.errors if not isinstance(e, (dict, list))]


def _cell(f: ListField, stored: Any) -> Cell:
    if stored in (None, "", []):
        return Cell("")
    return f.kind.cell(f, stored)


class ListType(AnswerType):
    """Stored as ``[{field id: value}]`` in the patient's order; a blank row is not an answer."""

    name = "list"
    repeating = True
    asks_non_answers = False
    macro = "list_question"

    def field(self, question: Question) -> Field:
        item = _item(question)
        row_form = type("RowForm", (Form,), {f.id: f.kind.field(f) for f in item.fields})
        # No max_entries: WTForms would drop the rows past it without a word (AtMostRows).
        return FieldList(FormField(row_form), min_entries=0, validators=[AtMostRows(item.max_rows)])

    def prefill(self, question: Question, stored: Any) -> Any:
        if stored is None:
            return None
        fields = _item(question).fields
        return [{f.id: f.kind.prefill(f, row.get(f.id)) for f in fields} for row in stored]

    def parse(self, question: Question, data: Any) -> Any:
        rows: list[dict[str, Any]] = []
        for entry in data or []:
            row = {f.id: f.kind.parse(f, entry.get(f.id)) for f in _item(question).fields}
            row = {k: v for k, v in row.items() if v is not None}
            if row:
                rows.append(row)
        return rows or None

    def posted(self, question: Question, name: str, stored: Any) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for n, row in enumerate(stored):
            for f in _item(question).fields:
                if f.id in row:
                    data.update(f.kind.posted(f, f"{name}-{n}-{f.id}", row[f.id]))
        return data

    def error_groups(self, field: Any) -> list[tuple[str, Any]]:
        """Each row by its own index, not its position: after a "Remove" the rows keep the
        indices they were posted with (1, 2, ...), so a position would put a message, and the
        summary's link, on another row's box. A message about the whole list (too many rows)
        goes by the list itself."""
        whole = [(field.name, list_messages(field))] if list_messages(field) else []
        return whole + [(row.name, row.errors) for row in field.entries]

    def salvage(self, question: Question, field: Any, stored: Any) -> Any:
        """The list as posted, each box in error taken from the stored row it was drawn from (a
        row keeps its posted index after a removal), or left out when that row is new. One
        half-typed year must not throw away a medicine list typed since the last save. A list
        with more rows than it holds keeps the stored one: which to drop is the patient's say."""
        if list_messages(field):
            return KEEP
        before = stored if isinstance(stored, list) else []
        data = []
        for entry in field.entries:
            row = dict(entry.data)
            index = int(entry.name.rsplit("-", 1)[1])
            was = self.prefill(question, [before[index]])[0] if index < len(before) else {}
            for field_id in entry.errors:
                row[field_id] = was.get(field_id)
            data.append(row)
        return self.parse(question, data)

    def ready(self, question: Question, field: Any) -> None:
        """One empty row to type into, unless the list is full or already ends with one (a page
        shown again after an error has it, and must not gain another each time it is sent)."""
        entries = field.entries
        if len(entries) < _item(question).max_rows and (not entries or filled(entries[-1].data)):
            field.append_entry()

    def remove_entry(self, field: Any, index: int) -> None:
        if index < len(field.entries):
            del field.entries[index]

    def blank_entry(self, field: Any) -> Any:
        """An empty row named ``<list>-__n__``, not part of the list: the step page's template
        for an entry added in place, whose script puts its number in (``static/entries.js``).
        Bound as WTForms binds the list's own rows, so it is drawn by the same macros."""
        options = {"name": f"{field.name}-{NEW_ENTRY}", "id": f"{field.id}-{NEW_ENTRY}"}
        options.update(_meta=field.meta, translations=field._translations)
        entry = field.meta.bind_field(field._form, field.unbound_field, options)
        entry.process(None)
        return entry

    def display(self, question: Item, stored: Any) -> Display:
        columns = tuple(_(f.label) for f in question.fields)
        rows = tuple(tuple(_cell(f, entry.get(f.id)) for f in question.fields) for entry in stored)
        return Display(table=Table(columns, rows))

    def example(self, question: Question) -> Any:
        return [{f.id: f.kind.example(f) for f in _item(question).fields}]

    def uses_known_codes(self, question: Question, stored: Any) -> bool:
        fields = {f.id: f for f in _item(question).fields}
        for row in stored:
            for key, value in row.items():
                f = fields.get(key)
                if f is None or not f.kind.uses_known_codes(f, value):
                    return False
        return True

    def problems(self, item: Item) -> list[str]:
        found = super().problems(item)
        if not (item.fields and item.max_rows > 0):
            found.append(f"{item.id}: a list needs fields and a max_rows")
        return found
