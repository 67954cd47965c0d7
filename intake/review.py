"""Turn (catalog, answers) into plain rows: the same data for the review page and the PDF.

Everything the service writes here is a label from the catalog or a fixed phrase; what the patient
typed travels separately as ``patient_text`` so templates can quote it and tests can strip it
before scanning the service's own wording.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from flask_babel import gettext

from forms.logic import HiddenReason, State, Visibility, hidden_reason, value_state
from forms.schema import NOT_SURE, PREFER_NOT, Catalog, Item, ListField, Section


def _(text: str, **values: Any) -> str:
    """gettext, typed (Flask-Babel has no type information)."""
    return str(gettext(text, **values))


#: Codes of a reaction list that are not reactions ("None of these", "Not sure", ...).
NOT_REACTIONS = ("none", NOT_SURE, PREFER_NOT)
#: The answer by which a patient declines a whole section at its consent gate.
DECLINE_CODE = "skip"

ANSWER_TEXT: dict[str, str] = {
    "not_sure": "Not sure",
    "prefer_not": "Prefer not to say",
    "not_answered": "Not answered",
}
HIDDEN_TEXT: dict[str, str] = {
    "branch": "Not shown (did not apply to earlier answers)",
    "optional": "Not shown (optional detail not opened)",
    "clinic": "Not shown (not used by this clinic)",
}
OVERVIEW_TEXT: dict[str, str] = {
    "reported": "Reported",
    "none": "None noticed",
    "not_sure": "Not sure",
    "prefer_not": "Prefer not to say",
    "skipped": "Skipped",
    "not_shown": "Not asked",
}


@dataclass(frozen=True)
class Cell:
    """One table cell: either service text (labels) or the patient's own words."""

    text: str = ""
    patient_text: str | None = None


@dataclass(frozen=True)
class Table:
    """A repeating list (medicines, foods, reactions, episodes) as columns and rows."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class AnswerRow:
    """One question as asked and its answer as given, in one of the five states."""

    item_id: str
    question: str
    state: State
    hidden: HiddenReason | None = None
    lines: tuple[str, ...] = ()
    patient_text: str | None = None
    table: Table | None = None

    @property
    def state_text(self) -> str:
        if self.hidden:
            return _(HIDDEN_TEXT[self.hidden])
        return _(ANSWER_TEXT[self.state]) if self.state in ANSWER_TEXT else ""


@dataclass(frozen=True)
class SectionView:
    """One section of the summary, in catalog order, skipped or not."""

    id: str
    title: str
    title_pdf: str
    topic_area: str | None
    rows: tuple[AnswerRow, ...]
    optional_not_opened: int = 0
    declined: bool = False

    @property
    def skipped(self) -> bool:
        return not any(r.state in ("answered", "not_sure", "prefer_not") for r in self.rows)


@dataclass(frozen=True)
class OverviewRow:
    """One line of the at-a-glance table: what the patient reported for one category."""

    section_id: str
    title: str
    topic_area: str | None
    status: str
    reactions: tuple[str, ...] = ()
    onset: str = ""
    how_often: str = ""
    last_time: str = ""

    @property
    def status_text(self) -> str:
        return _(OVERVIEW_TEXT[self.status])


@dataclass(frozen=True)
class Summary:
    """Everything the review page and the PDF show about one set of answers."""

    catalog_version: str
    completed_by: str
    overview: tuple[OverviewRow, ...]
    sections: tuple[SectionView, ...] = field(default=())


def _label(options_of: Item | ListField, code: str) -> str:
    for option in options_of.options:
        if option.code == code:
            return _(option.label)
    return _(ANSWER_TEXT.get(code, code))


def _year_text(value: Any) -> str:
    if isinstance(value, int):
        return _("About %(year)s", year=value)
    return _(ANSWER_TEXT.get(str(value), str(value)))


def _field_cell(f: ListField, value: Any) -> Cell:
    if value in (None, "", []):
        return Cell("")
    if f.type == "text":
        return Cell(patient_text=str(value))
    if f.type == "year":
        return Cell(_year_text(value))
    if f.type == "multi":
        return Cell("; ".join(_short(f, code) for code in value))
    return Cell(_short(f, str(value)))


def _short(options_of: Item | ListField, code: str) -> str:
    for option in options_of.options:
        if option.code == code:
            return _(option.short_label)
    return _(ANSWER_TEXT.get(code, code))


def _answer_row(item: Item, value: Any) -> AnswerRow:
    state = value_state(value)
    row = AnswerRow(item.id, _(item.text), state)
    if state != "answered":
        return row
    if item.type == "text":
        return AnswerRow(item.id, row.question, state, patient_text=str(value))
    if item.type == "single":
        return AnswerRow(item.id, row.question, state, lines=(_label(item, value),))
    if item.type == "multi":
        return AnswerRow(item.id, row.question, state, lines=tuple(_label(item, c) for c in value))
    if item.type == "grid":
        lines = tuple(
            f"{_(r.label)}: {_label(item, value[r.code]) if r.code in value else _('Not answered')}"
            for r in item.rows
        )
        return AnswerRow(item.id, row.question, state, lines=lines)
    if item.type == "scale" and isinstance(value, int):
        low, high = item.anchors
        text = _(
            "%(value)s on a %(min)s to %(max)s scale (%(low)s; %(high)s)",
            value=value,
            min=item.scale_min,
            max=item.scale_max,
            low=low,
            high=high,
        )
        return AnswerRow(item.id, row.question, state, lines=(text,))
    if item.type == "year":
        return AnswerRow(item.id, row.question, state, lines=(_year_text(value),))
    if item.type == "list":
        columns = tuple(_(f.label) for f in item.fields)
        rows = tuple(tuple(_field_cell(f, entry.get(f.id)) for f in item.fields) for entry in value)
        return AnswerRow(item.id, row.question, state, table=Table(columns, rows))
    return row


def section_view(
    catalog: Catalog, section: Section, answers: Mapping[str, Any], visibility: Visibility
) -> SectionView:
    """The rows of one section; optional items never opened are counted, not listed."""
    rows, closed = [], 0
    for item in section.items:
        reason = hidden_reason(catalog, item, answers, visibility)
        if reason in ("optional", "clinic"):
            closed += reason == "optional"
            continue
        if reason == "branch":
            rows.append(AnswerRow(item.id, _(item.text), "not_shown", hidden="branch"))
        else:
            rows.append(_answer_row(item, answers.get(item.id)))
    # A consent gate answered "skip this part": say so once instead of listing unasked questions.
    declined = any(
        item.nonanswer_exempt and answers.get(item.id) == DECLINE_CODE for item in section.items
    )
    return SectionView(
        id=section.id,
        title=_(section.title),
        title_pdf=_(section.title_pdf),
        topic_area=section.article_category,
        rows=tuple(rows[:1]) if declined else tuple(rows),
        optional_not_opened=0 if declined else closed,
        declined=declined,
    )


def _overview_from_list(
    catalog: Catalog, section: Section, answers: Mapping[str, Any], visibility: Visibility
) -> OverviewRow:
    """Diet and medicines record reactions per row: gather the rows without ranking them."""
    assert section.reaction and section.reaction.embedded_in
    host = catalog.item(section.reaction.embedded_in)
    gate = catalog.item(host.enable_when.conditions[0].item) if host.enable_when else host
    base = OverviewRow(section.id, _(section.title), section.article_category, "skipped")
    gate_value = answers.get(gate.id)
    state = value_state(gate_value)
    if state == "not_answered":
        return base
    if state in ("not_sure", "prefer_not"):
        return replace(base, status=state)
    if gate_value != "yes":
        return replace(base, status="none")
    entries = answers.get(host.id) or []
    fields = {f.id: f for f in host.fields}
    noticed = {c for e in entries for c in e.get("symptoms") or [] if c not in NOT_REACTIONS}

    def distinct(field_id: str) -> str:
        if field_id not in fields:
            return ""
        labels = [_short(fields[field_id], e[field_id]) for e in entries if e.get(field_id)]
        return "; ".join(dict.fromkeys(labels))

    return replace(
        base,
        status="reported",
        reactions=tuple(
            _short(fields["symptoms"], o.code)
            for o in fields["symptoms"].options
            if o.code in noticed
        ),
        onset=distinct("onset"),
        how_often=distinct("how_often"),
    )


def overview_row(
    catalog: Catalog, section: Section, answers: Mapping[str, Any], visibility: Visibility
) -> OverviewRow:
    """The at-a-glance line for one category, in the patient's own terms."""
    if section.reaction and section.reaction.embedded_in:
        return _overview_from_list(catalog, section, answers, visibility)
    base = OverviewRow(section.id, _(section.title), section.article_category, "skipped")
    noticed = catalog.item(f"{section.id}.reaction.noticed")
    if hidden_reason(catalog, noticed, answers, visibility) is not None:
        return replace(base, status="not_shown")
    value = answers.get(noticed.id) or []
    state = value_state(value)
    if state == "not_answered":
        return base
    if state in ("not_sure", "prefer_not"):
        return replace(base, status=state)
    if value == ["none"]:
        return replace(base, status="none")

    def part(suffix: str) -> str:
        item = catalog.item(f"{section.id}.reaction.{suffix}")
        if hidden_reason(catalog, item, answers, visibility) is not None:
            return ""
        code = answers.get(item.id)
        return _short(item, code) if code else ""

    return replace(
        base,
        status="reported",
        reactions=tuple(_short(noticed, c) for c in value if c not in NOT_REACTIONS),
        onset=part("onset"),
        how_often=part("how_often"),
        last_time=part("last_time"),
    )


def build_summary(catalog: Catalog, answers: Mapping[str, Any], visibility: Visibility) -> Summary:
    """The complete, ordered summary of one intake's answers."""
    completed = answers.get("general.completed_by")
    return Summary(
        catalog_version=catalog.version,
        completed_by=_label(catalog.item("general.completed_by"), completed)
        if completed
        else _("Not answered"),
        overview=tuple(
            overview_row(catalog, s, answers, visibility)
            for s in catalog.sections
            if s.overview_row
        ),
        sections=tuple(section_view(catalog, s, answers, visibility) for s in catalog.sections),
    )
