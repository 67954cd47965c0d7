"""Build one FlaskForm class per catalog section, and convert between form data and stored answers.

Each question type owns three things here: its WTForms field, how a stored value pre-fills it, and
how its submitted data becomes a stored value. Every question is optional ("you can skip any
question"); validators only reject what cannot be stored faithfully.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from functools import cache
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    Field,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from forms.schema import NON_ANSWERS, NOT_SURE, PREFER_NOT, YEAR_MIN, Catalog, Item, ListField

#: Text boxes longer than this get several lines on screen.
TEXTAREA_FROM = 150
Validator = Callable[[Form, Field], None]


def reject_nul(_form: Form, field: Field) -> None:
    """PostgreSQL cannot store NUL characters: say so instead of failing on save."""
    values = field.data if isinstance(field.data, list) else [field.data]
    if any(isinstance(v, str) and "\x00" in v for v in values):
        raise ValidationError(
            _l(
                "This answer contains a hidden character (NUL) that cannot be saved. Please remove it or type the answer again."
            )
        )


def valid_codes(codes: tuple[str, ...]) -> Validator:
    def check(_form: Form, field: Field) -> None:
        values = field.data if isinstance(field.data, list) else [field.data]
        if any(v not in codes for v in values if v not in (None, "")):
            raise ValidationError(_l("Please choose from the answers shown."))

    return check


def exclusive(question: Item | ListField) -> Validator:
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


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes; a missing field means "not answered", never "none"."""

    def pre_validate(self, form: Form) -> None:  # choices are checked by valid_codes
        return None


class QuietRadioField(RadioField):
    def pre_validate(self, form: Form) -> None:  # choices are checked by valid_codes
        return None


class YearForm(Form):
    """A year box plus "Not sure" / "Prefer not to say" boxes."""

    year = StringField(validators=[Optional(), reject_nul])
    unknown = MultiCheckboxField(
        choices=[
            SelectChoice(NOT_SURE, _l("Not sure")),
            SelectChoice(PREFER_NOT, _l("Prefer not to say")),
        ],
        validators=[valid_codes(NON_ANSWERS)],
    )

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        year, unknown = (self.year.data or "").strip(), self.unknown.data or []
        if (year and unknown) or len(unknown) > 1:
            self.year.errors = [*self.year.errors, _l("Give a year, or tick one box, not both.")]
            return False
        if year and not (year.isdigit() and YEAR_MIN <= int(year) <= date.today().year):
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


def _choices(item: Item | ListField) -> list[SelectChoice]:
    return [SelectChoice(o.code, o.label) for o in item.options]


def _text_field(max_length: int | None) -> Field:
    cls = TextAreaField if (max_length or 0) > TEXTAREA_FROM else StringField
    message = _l("Please keep this to %(max)s characters or fewer.", max=max_length)
    return cls(validators=[Optional(), reject_nul, Length(max=max_length, message=message)])


def _list_field(f: ListField) -> Field:
    if f.type == "text":
        return _text_field(f.max_length)
    if f.type == "year":
        return FormField(YearForm)
    if f.type == "multi":
        return MultiCheckboxField(
            choices=_choices(f),
            validators=[valid_codes(tuple(o.code for o in f.options)), exclusive(f)],
        )
    return QuietRadioField(
        choices=_choices(f), validators=[Optional(), valid_codes(tuple(o.code for o in f.options))]
    )


def _scale_codes(item: Item) -> tuple[str, ...]:
    return (*(str(n) for n in range(item.scale_min, item.scale_max + 1)), *NON_ANSWERS)


def make_field(item: Item) -> Field:
    """The WTForms field for one question."""
    if item.type == "single":
        return QuietRadioField(
            choices=_choices(item), validators=[Optional(), valid_codes(item.codes)]
        )
    if item.type == "scale":
        codes = _scale_codes(item)
        return QuietRadioField(
            choices=[SelectChoice(c, c) for c in codes], validators=[Optional(), valid_codes(codes)]
        )
    if item.type == "multi":
        return MultiCheckboxField(
            choices=_choices(item), validators=[valid_codes(item.codes), exclusive(item)]
        )
    if item.type == "grid":
        rows = {
            r.code: QuietRadioField(
                choices=_choices(item), validators=[Optional(), valid_codes(item.codes)]
            )
            for r in item.rows
        }
        return FormField(type("GridForm", (Form,), rows))
    if item.type == "year":
        return FormField(YearForm)
    if item.type == "text":
        return _text_field(item.max_length)
    row_form = type("RowForm", (Form,), {f.id: _list_field(f) for f in item.fields})
    return FieldList(FormField(row_form), min_entries=0, max_entries=item.max_rows)


class SectionForm(FlaskForm):
    """Base for the per-section forms; fields are named by catalog item id."""


@cache
def section_form_class(catalog: Catalog, section_id: str) -> type[SectionForm]:
    """One form class per section, built once per process."""
    section = catalog.section(section_id)
    fields = {item.id: make_field(item) for item in section.items}
    return type(f"SectionForm_{section_id}", (SectionForm,), fields)


# --- stored value <-> form data -----------------------------------------------------------------


def _year_to_data(value: Any) -> dict[str, Any]:
    if isinstance(value, int):
        return {"year": str(value), "unknown": []}
    return {"year": "", "unknown": [value] if value in NON_ANSWERS else []}


def _year_from_data(data: Mapping[str, Any]) -> Any:
    year = (data.get("year") or "").strip()
    if year:
        return int(year)
    unknown = data.get("unknown") or []
    return unknown[0] if unknown else None


def _clean_text(value: Any) -> str | None:
    text = (value or "").replace("\r\n", "\n").strip()
    return text or None


def _field_to_data(f: ListField, value: Any) -> Any:
    if f.type == "year":
        return _year_to_data(value)
    return value


def _field_from_data(f: ListField, data: Any) -> Any:
    if f.type == "year":
        return _year_from_data(data or {})
    if f.type == "text":
        return _clean_text(data)
    if f.type == "multi":
        return list(data or []) or None
    return data or None


def to_form_data(item: Item, value: Any) -> Any:
    """Pre-fill data for an item's field from its stored value."""
    if value is None:
        return None
    if item.type == "scale":
        return str(value)
    if item.type == "year":
        return _year_to_data(value)
    if item.type == "list":
        return [{f.id: _field_to_data(f, row.get(f.id)) for f in item.fields} for row in value]
    return value


def from_form_data(item: Item, data: Any) -> Any:
    """The stored value for an item's submitted data; None means "not answered"."""
    if item.type == "single":
        return data or None
    if item.type == "scale":
        if not data:
            return None
        return int(data) if str(data).isdigit() else data
    if item.type == "multi":
        return [c for c in item.codes if c in (data or [])] or None
    if item.type == "grid":
        grid = {code: v for code, v in (data or {}).items() if v}
        return grid or None
    if item.type == "year":
        return _year_from_data(data or {})
    if item.type == "text":
        return _clean_text(data)
    rows: list[dict[str, Any]] = []
    for entry in data or []:
        row = {f.id: _field_from_data(f, entry.get(f.id)) for f in item.fields}
        row = {k: v for k, v in row.items() if v is not None}
        if row:  # a blank row is not an answer
            rows.append(row)
    return rows or None


def posted_fields(item: Item, value: Any) -> dict[str, Any]:
    """The form fields a browser posts for a stored value (tests and benchmarks replay answers)."""

    def year(name: str, v: Any) -> dict[str, Any]:
        return {f"{name}-unknown": v} if v in NON_ANSWERS else {f"{name}-year": str(v)}

    if item.type == "grid":
        return {f"{item.id}-{row}": code for row, code in value.items()}
    if item.type == "year":
        return year(item.id, value)
    if item.type == "scale":
        return {item.id: str(value)}
    if item.type == "list":
        data: dict[str, Any] = {}
        for n, row in enumerate(value):
            for f in item.fields:
                if f.id in row:
                    name = f"{item.id}-{n}-{f.id}"
                    data.update(year(name, row[f.id]) if f.type == "year" else {name: row[f.id]})
        return data
    return {item.id: value}
