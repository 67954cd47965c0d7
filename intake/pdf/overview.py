"""The at-a-glance table: for each topic, what the patient reported about the reactions after it.

Every cell is a catalog label, a state in the key's words, or the patient's own words (the foods
and medicines a list names, as ``Cell.patient_text``). Nothing is ranked, counted or scored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from forms.display import Cell, Mark, _, mark, option_text
from forms.logic import HiddenReason, Visibility, hidden_reason, value_state
from forms.schema import NOT_SURE, PREFER_NOT, Catalog, Item, ListField, Section
from intake.pdf.rows import HIDDEN_TEXT, SectionView, section_view

#: Codes of a reaction list that are not reactions ("None of these", "Not sure", ...).
NOT_REACTIONS = ("none", NOT_SURE, PREFER_NOT)

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


def overview_key() -> tuple[KeyEntry, ...]:
    """Every status the at-a-glance table can show, in its words and style."""
    return tuple(
        KeyEntry(
            status,
            Mark(_(OVERVIEW_TEXT[status]), state=status not in ANSWER_STATUSES),
            _(meaning) if meaning else "",
        )
        for status, meaning in OVERVIEW_KEY
    )


@dataclass(frozen=True)
class OverviewRow:
    """One line of the at-a-glance table: what the patient reported for one topic.

    ``title`` is the section's heading in the body, the words of what was asked. The topic's
    *reactions question* is "have you noticed any of these?" of its reaction block; food and
    medicines ask about reactions per row of a list instead, opened by a yes/no question ("Have
    you ever noticed symptoms after eating or drinking something?", "Have you ever had a bad
    reaction to a medicine…?"), which stands in for it here. ``status``, first match wins:

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
    one the topic does not have (``NO_SUCH_QUESTION``) each read as themselves. A reported list
    also has ``named``: what each of its rows is about (the food, the medicine), in the
    patient's words and order, whole; a row that names nothing reads "Not answered".
    """

    section_id: str
    title: str
    status: OverviewStatus
    hidden: HiddenReason | None = None
    reactions: tuple[Mark, ...] = ()
    onset: tuple[Mark, ...] = ()
    how_often: tuple[Mark, ...] = ()
    last_time: tuple[Mark, ...] = ()
    named: tuple[Cell, ...] = ()

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


def _named(subject: str | None, entries: list[dict[str, Any]]) -> tuple[Cell, ...]:
    """What each row names (the list's ``subject`` field), as typed; every row, in order."""
    if subject is None:
        return ()
    return tuple(
        Cell(patient_text=str(e[subject]))
        if e.get(subject)
        else Cell(_("Not answered"), state=True)
        for e in entries
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
    reported = _reported(base, reactions, column)
    return replace(reported, named=_named(block.parts.get("subject"), entries))


def overview_row(
    catalog: Catalog,
    section: Section,
    answers: Mapping[str, Any],
    visibility: Visibility,
    view: SectionView | None = None,
) -> OverviewRow:
    """The at-a-glance line for one topic, in the words of what was asked (see ``OverviewRow``).

    ``view`` is the section as the body prints it, so that both say the same about it.
    """
    view = view or section_view(catalog, section, answers, visibility)
    base = OverviewRow(section.id, _(section.title_pdf), "skipped")
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
