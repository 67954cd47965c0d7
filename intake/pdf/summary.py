"""Turn (catalog, answers) into plain rows: the same data for the review page and the PDF.

Everything the service writes here is a label from the catalog or a fixed phrase; what the patient
typed travels separately as ``patient_text`` so templates can quote it and tests can strip it
before scanning the service's own wording.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from forms.display import ANSWER_TEXT, Mark, Table, _, mark, option_text
from forms.logic import HiddenReason, State, Visibility, hidden_reason, value_state
from forms.schema import NOT_SURE, PREFER_NOT, Catalog, Item, ListField, Section

#: Codes of a reaction list that are not reactions ("None of these", "Not sure", ...).
NOT_REACTIONS = ("none", NOT_SURE, PREFER_NOT)

HIDDEN_TEXT: dict[str, str] = {
    "branch": "Not shown (did not apply to earlier answers)",
    "optional": "Not shown (optional detail not opened)",
    "clinic": "Not shown (not used by this clinic)",
}
OverviewStatus = Literal[
    "reported",
    "none",
    "not_sure",
    "prefer_not",
    "not_answered",
    "not_shown",
    "skipped",
    "declined",
]
#: What the at-a-glance table says a patient reported for one topic ("not_shown" prints as
#: ``HIDDEN_TEXT``, with its reason). The key lists every one of these, in these words.
OVERVIEW_TEXT: dict[OverviewStatus, str] = {
    "reported": "Reported",
    "none": "None noticed",
    "not_sure": "Not sure",
    "prefer_not": "Prefer not to say",
    "not_answered": "Not answered",
    "not_shown": "Not shown",
    "skipped": "Skipped",
    "declined": "Patient chose not to answer this section",
}
#: The statuses that are answers; the others are set apart like every non-answer.
ANSWER_STATUSES: tuple[OverviewStatus, ...] = ("reported", "none")
#: What a section's body says in place of its questions: the words of its at-a-glance status.
SECTION_NOTE: dict[str, str] = {
    "skipped": "Skipped: no answers in this section.",
    "declined": "Patient chose not to answer this section.",
}
#: An at-a-glance cell for a question the topic does not have (medicines: no "How often").
NO_SUCH_QUESTION = "—"
#: The key to the at-a-glance statuses, in the order printed: every status, and what it means.
OVERVIEW_KEY: tuple[tuple[OverviewStatus, str], ...] = (
    ("reported", "one or more reactions chosen, or “Yes” for food and medicines"),
    ("none", "“None of these”, or “No”"),
    ("not_sure", ""),
    ("prefer_not", ""),
    ("not_answered", "its reactions question left blank"),
    ("not_shown", "with the reason"),
    ("skipped", "no answers anywhere in the section"),
    ("declined", ""),
)


@dataclass(frozen=True)
class KeyEntry:
    """One status in the key to the at-a-glance table: its words as printed, and what it means."""

    status: OverviewStatus
    term: Mark
    meaning: str

    @property
    def question_state(self) -> bool:
        """Whether a single question can show this too, meaning the same there (the PDF's key
        names those once, for both)."""
        return self.status in ("not_sure", "prefer_not", "not_shown")


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
        """No answer of any kind (not even Not sure or Prefer not to say) to a shown question."""
        return not any(r.state in ("answered", "not_sure", "prefer_not") for r in self.rows)

    @property
    def note(self) -> str:
        """What the body prints instead of the rows ("" when it prints them)."""
        if self.declined:
            return _(SECTION_NOTE["declined"])
        return _(SECTION_NOTE["skipped"]) if self.skipped else ""


@dataclass(frozen=True)
class OverviewRow:
    """One line of the at-a-glance table: what the patient reported for one category.

    The topic's *reactions question* is "have you noticed any of these?" of its reaction block;
    food and medicines ask about reactions per row of a list instead, opened by a yes/no
    question ("Do any foods or drinks seem to cause symptoms?", "Have you ever had a bad
    reaction to a medicine?"), which stands in for it here. ``status``, first match wins:

    - ``declined``: the section's consent question was answered "skip this part"; the body
      says the same words.
    - ``skipped``: no answer of any kind (not even Not sure or Prefer not to say) to any
      question of the section shown to the patient, exactly when the body says "Skipped: no
      answers in this section". A section with any answer in it is never skipped.
    - ``not_shown``: the reactions question was not put to the patient; ``hidden`` says why
      (an earlier answer did not lead to it, or it is optional detail not opened). No other
      answer is read as "none": "no ongoing pain" does not mean no reactions were noticed.
    - ``not_answered``: the reactions question was shown and left blank, while other
      questions of the section were answered.
    - ``not_sure`` / ``prefer_not``: that non-answer to the reactions question.
    - ``none``: "None of these" (food and medicines: "No").
    - ``reported``: one or more reactions chosen (food and medicines: "Yes"; the reactions
      are then gathered from the list's rows, unranked).

    Only a reported row has reactions and follow-ups (how soon, how often, last happened: they
    are asked only about reactions chosen), each cell a tuple of ``Mark``: answers, or a state
    in the key's words, so that a blank (Not answered), a non-answer, a question not shown and
    one the topic does not have (``NO_SUCH_QUESTION``) each read as themselves.
    """

    section_id: str
    title: str
    topic_area: str | None
    status: OverviewStatus
    hidden: HiddenReason | None = None
    reactions: tuple[Mark, ...] = ()
    onset: tuple[Mark, ...] = ()
    how_often: tuple[Mark, ...] = ()
    last_time: tuple[Mark, ...] = ()

    @property
    def status_text(self) -> str:
        if self.status == "not_shown" and self.hidden:
            return _(HIDDEN_TEXT[self.hidden])
        return _(OVERVIEW_TEXT[self.status])

    @property
    def status_is_answer(self) -> bool:
        """Reported and None noticed are answers; every other status is set as a non-answer."""
        return self.status in ANSWER_STATUSES

    @property
    def detailed(self) -> bool:
        """Whether the row has reactions and follow-up columns to print."""
        return self.status == "reported"


@dataclass(frozen=True)
class Summary:
    """Everything the review page and the PDF show about one set of answers."""

    catalog_version: str
    completed_by: str
    overview: tuple[OverviewRow, ...]
    sections: tuple[SectionView, ...] = field(default=())
    #: False when ``completed_by`` is "Not answered", to be set as a non-answer.
    completed_by_given: bool = True

    @property
    def overview_key(self) -> tuple[KeyEntry, ...]:
        """Every status the at-a-glance table can show, in its words and style."""
        return tuple(
            KeyEntry(
                status,
                Mark(_(OVERVIEW_TEXT[status]), state=status not in ANSWER_STATUSES),
                _(meaning) if meaning else "",
            )
            for status, meaning in OVERVIEW_KEY
        )


def _answer_row(item: Item, value: Any) -> AnswerRow:
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
        item.declines is not None and answers.get(item.id) == item.declines
        for item in section.items
    )
    view = SectionView(
        id=section.id,
        title=_(section.title),
        title_pdf=_(section.title_pdf),
        topic_area=section.article_category,
        rows=tuple(rows[:1]) if declined else tuple(rows),
        optional_not_opened=closed,
        declined=declined,
    )
    # A section declined or left empty says so; that its detail stayed closed goes without saying.
    return replace(view, optional_not_opened=0) if view.note else view


def _marks(options_of: Item | ListField, codes: list[Any]) -> tuple[Mark, ...]:
    """The distinct values given across a list's rows, in the order given, then Not answered
    when any row left it blank: "Every time" alone, where two of three foods had no answer,
    would speak for all three."""
    given = [code for code in codes if code not in (None, "", [])]
    if not given:
        return (mark(options_of, None),)
    marks = dict.fromkeys(mark(options_of, code, short=True) for code in given)
    if len(given) < len(codes):
        marks[mark(options_of, None)] = None
    return tuple(marks)


def _reported(
    base: OverviewRow, reactions: tuple[Mark, ...], part: Callable[[str], tuple[Mark, ...]]
) -> OverviewRow:
    """A reported topic's row: its reactions, and each follow-up column as ``part`` reads it."""
    return replace(
        base,
        status="reported",
        reactions=reactions,
        onset=part("onset"),
        how_often=part("how_often"),
        last_time=part("last_time"),
    )


def _overview_from_list(
    catalog: Catalog, section: Section, answers: Mapping[str, Any], base: OverviewRow
) -> OverviewRow:
    """Food and medicines record reactions per row: gather the rows without ranking them."""
    block = section.reaction
    assert block and block.embedded_in
    host = catalog.item(block.embedded_in)
    # The list is opened by one "=" gate (forms.validate): its answer stands for "noticed".
    gate = host.enable_when.conditions[0] if host.enable_when else None
    gate_value = answers.get(gate.item) if gate else None
    state = value_state(gate_value)
    if state != "answered":
        return replace(base, status=state)
    if gate is not None and gate_value not in gate.answers:
        return replace(base, status="none")
    entries = answers.get(host.id) or []
    fields = {f.id: f for f in host.fields}

    def column(part: str) -> tuple[Mark, ...]:
        field_id = block.parts.get(part)
        if field_id is None:
            return (Mark(NO_SUCH_QUESTION, state=True),)
        return _marks(fields[field_id], [e.get(field_id) for e in entries])

    noticed_id = block.parts["noticed"]
    symptoms = fields[noticed_id]
    chosen = [c for e in entries for c in e.get(noticed_id) or []]
    noticed = {c for c in chosen if c not in NOT_REACTIONS}
    reactions = (
        tuple(
            Mark(option_text(symptoms, o.code, short=True))
            for o in symptoms.options
            if o.code in noticed
        )
        if noticed
        else _marks(symptoms, chosen)  # only "None of these", "Not sure" ... or nothing
    )
    return _reported(base, reactions, column)


def overview_row(
    catalog: Catalog,
    section: Section,
    answers: Mapping[str, Any],
    visibility: Visibility,
    view: SectionView | None = None,
) -> OverviewRow:
    """The at-a-glance line for one category, in the patient's own terms (see ``OverviewRow``).

    ``view`` is the section as the body prints it, so that both say the same about it.
    """
    view = view or section_view(catalog, section, answers, visibility)
    base = OverviewRow(section.id, _(section.title), section.article_category, "skipped")
    if view.declined:
        return replace(base, status="declined")
    if view.skipped:
        return base
    if section.reaction and section.reaction.embedded_in:
        return _overview_from_list(catalog, section, answers, base)
    assert section.reaction is not None
    parts = section.reaction.parts
    noticed = catalog.item(parts["noticed"])
    reason = hidden_reason(catalog, noticed, answers, visibility)
    if reason is not None:
        return replace(base, status="not_shown", hidden=reason)
    value = answers.get(noticed.id) or []
    state = value_state(value)
    if state != "answered":
        return replace(base, status=state)
    # In the question's own order, as for food and medicines, so a column reads alike down
    # the page whatever order the patient ticked them in.
    chosen = set(value) - set(NOT_REACTIONS)
    reactions = tuple(
        Mark(option_text(noticed, o.code, short=True)) for o in noticed.options if o.code in chosen
    )
    if not reactions:
        return replace(base, status="none")

    def follow_up(part: str) -> tuple[Mark, ...]:
        item_id = parts.get(part)
        if item_id is None:
            return (Mark(NO_SUCH_QUESTION, state=True),)
        item = catalog.item(item_id)
        hidden = hidden_reason(catalog, item, answers, visibility)
        if hidden is not None:
            return (Mark(_(HIDDEN_TEXT[hidden]), state=True),)
        return (mark(item, answers.get(item_id), short=True),)

    return _reported(base, reactions, follow_up)


def build_summary(catalog: Catalog, answers: Mapping[str, Any], visibility: Visibility) -> Summary:
    """The complete, ordered summary of one intake's answers."""
    respondent = catalog.respondent
    completed = answers.get(respondent.id) if respondent else None
    views = {s.id: section_view(catalog, s, answers, visibility) for s in catalog.sections}
    return Summary(
        catalog_version=catalog.version,
        completed_by=option_text(respondent, completed)
        if respondent and completed
        else _("Not answered"),
        overview=tuple(
            overview_row(catalog, s, answers, visibility, views[s.id])
            for s in catalog.sections
            if s.overview_row
        ),
        sections=tuple(views.values()),
        completed_by_given=bool(completed),
    )
