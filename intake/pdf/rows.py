"""One section's questions as asked and their answers as given: the body of the summary.

Everything the service writes here is a label from the catalog or a fixed phrase; what the patient
typed travels separately as ``patient_text`` so templates can quote it and tests can strip it
before scanning the service's own wording.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from forms.display import ANSWER_TEXT, Mark, Table, _
from forms.logic import HiddenReason, State, Visibility, hidden_reason, value_state
from forms.schema import Catalog, Item, Section

HIDDEN_TEXT: dict[str, str] = {
    "branch": "Not shown (did not apply to earlier answers)",
    "optional": "Not shown (optional detail not opened)",
    "clinic": "Not shown (not used by this clinic)",
}
#: What a section's body says in place of its questions: the words of its at-a-glance status.
SECTION_NOTE: dict[str, str] = {
    "skipped": "Skipped: no answers in this section.",
    "declined": "Patient chose not to answer this section.",
}


@dataclass(frozen=True)
class AnswerRow:
    """One question as asked and its answer as given, in one of the five states."""

    item_id: str
    question: str
    state: State
    hidden: HiddenReason | None = None
    lines: tuple[Mark, ...] = ()
    patient_text: str | None = None
    table: Table | None = None

    @property
    def state_text(self) -> str:
        if self.hidden:
            return _(HIDDEN_TEXT[self.hidden])
        return _(ANSWER_TEXT[self.state]) if self.state in ANSWER_TEXT else ""

    @property
    def numbered(self) -> bool:
        """A list with one column ("Up to 3 things, the most important first"): printed as a
        numbered list, in the patient's order."""
        return self.table is not None and len(self.table.columns) == 1

    @property
    def given(self) -> bool:
        """Whether the patient gave any answer, a non-answer (Not sure...) included."""
        return self.state in ("answered", "not_sure", "prefer_not")


@dataclass(frozen=True)
class SectionView:
    """One section of the summary, in catalog order, skipped or not."""

    id: str
    title: str
    title_pdf: str
    rows: tuple[AnswerRow, ...]
    optional_not_opened: int = 0
    declined: bool = False

    @property
    def skipped(self) -> bool:
        """No answer of any kind (not even Not sure or Prefer not to say) to a shown question."""
        return not any(r.given for r in self.rows)

    @property
    def note(self) -> str:
        """What the body prints instead of the rows ("" when it prints them)."""
        if self.declined:
            return _(SECTION_NOTE["declined"])
        return _(SECTION_NOTE["skipped"]) if self.skipped else ""

    @property
    def form_page(self) -> str:
        """The form page's title, where the heading does not already say it ("" otherwise)."""
        return "" if self.title.lower() in self.title_pdf.lower() else self.title


def answer_row(
    catalog: Catalog, item: Item, answers: Mapping[str, Any], visibility: Visibility
) -> AnswerRow:
    """One question as the patient was (or was not) shown it, and its answer."""
    reason = hidden_reason(catalog, item, answers, visibility)
    if reason is not None:
        return AnswerRow(item.id, _(item.text), "not_shown", hidden=reason)
    value = answers.get(item.id)
    state = value_state(value)
    if state != "answered":
        return AnswerRow(item.id, _(item.text), state)
    shown = item.kind.display(item, value)
    return AnswerRow(
        item.id,
        _(item.text),
        state,
        lines=shown.lines,
        patient_text=shown.patient_text,
        table=shown.table,
    )


def section_view(
    catalog: Catalog, section: Section, answers: Mapping[str, Any], visibility: Visibility
) -> SectionView:
    """The rows of one section; optional items never opened are counted, not listed."""
    rows, closed = [], 0
    for item in section.items:
        row = answer_row(catalog, item, answers, visibility)
        if row.hidden in ("optional", "clinic"):
            closed += row.hidden == "optional"
            continue
        rows.append(row)
    # A consent gate answered "skip this part": say so once instead of listing unasked questions.
    declined = any(
        item.declines is not None and answers.get(item.id) == item.declines
        for item in section.items
    )
    view = SectionView(
        id=section.id,
        title=_(section.title),
        title_pdf=_(section.title_pdf),
        rows=tuple(rows[:1]) if declined else tuple(rows),
        optional_not_opened=closed,
        declined=declined,
    )
    # A section declined or left empty says so; that its detail stayed closed goes without saying.
    return replace(view, optional_not_opened=0) if view.note else view
