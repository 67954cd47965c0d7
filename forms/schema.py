"""Typed, frozen shape of the questionnaire catalog.

The catalog is data (``catalog.yaml``); these dataclasses are what every other part of the
service reads. Nothing here knows about Flask or the database.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the types read these dataclasses; each question holds its type's object
    from forms.types import AnswerType

Operator = Literal["=", "!=", "any_of"]

#: The two non-answers the house rules require on every patient question.
NOT_SURE = "not_sure"
PREFER_NOT = "prefer_not"
NON_ANSWERS = (NOT_SURE, PREFER_NOT)
#: Their words, wherever the service prints or offers them (widgets, summary, FHIR displays).
NON_ANSWER_TEXT: dict[str, str] = {NOT_SURE: "Not sure", PREFER_NOT: "Prefer not to say"}
#: Codes that say "nothing of the kind"; in a multi-choice they must be exclusive.
NONE_CODES = ("none", "no_change", "never_tested")

#: How an item is brought forward to the top of the clinician's summary ("Before the visit"):
#: ``own_words``, the patient's own words about this visit, printed first whatever the answer
#: (a blank says "Not answered"); ``answered``, printed after them whenever the patient gave
#: any answer, a non-answer included. The same rule for every patient: never ranked or scored.
BeforeVisit = Literal["own_words", "answered"]
BEFORE_VISIT_KINDS: tuple[BeforeVisit, ...] = ("own_words", "answered")

#: Years a patient can give: wide enough for anyone alive, narrow enough to catch typos.
YEAR_MIN = 1900


@dataclass(frozen=True)
class Option:
    """One answer choice: a stable code (stored) and its patient-facing label."""

    code: str
    label: str
    short: str | None = None

    @property
    def short_label(self) -> str:
        return self.short or self.label


#: The two non-answers as options, for the widgets that offer them themselves (year, scale).
NON_ANSWER_OPTIONS = tuple(Option(code, label) for code, label in NON_ANSWER_TEXT.items())


@dataclass(frozen=True)
class Condition:
    """One enable-when test against an earlier item's answer."""

    item: str
    op: Operator
    answers: tuple[str, ...]


@dataclass(frozen=True)
class EnableWhen:
    """Show the item when any of the conditions holds (FHIR enableBehavior=any)."""

    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class ListField:
    """One field of a repeating-list row (a medicine, a food, a reaction)."""

    id: str
    label: str
    type: str
    #: The answer type named by ``type`` (``forms.types``): its field, parsing and display.
    kind: AnswerType = field(compare=False, repr=False)
    options: tuple[Option, ...] = ()
    max_length: int | None = None
    core: bool = True
    #: The list item whose answers this field reuses to name what the row is about (which
    #: nutrient); such a field is the row's subject, so it offers no non-answers of its own.
    answers_from: str | None = None
    #: Answers that stand alone in a multi-choice field ("None of these", "Not sure"...).
    exclusive: tuple[str, ...] = ()


@dataclass(frozen=True)
class Item:
    """One question, addressed everywhere by its stable id (form field, JSON key, FHIR linkId)."""

    id: str
    section_id: str
    text: str
    type: str
    #: The answer type named by ``type`` (``forms.types``): its field, parsing and display.
    kind: AnswerType = field(compare=False, repr=False)
    core: bool
    help: str | None = None
    options: tuple[Option, ...] = ()
    exclusive: tuple[str, ...] = ()
    max_length: int | None = None
    rows: tuple[Option, ...] = ()
    scale_min: int = 0
    scale_max: int = 10
    anchors: tuple[str, ...] = ()
    fields: tuple[ListField, ...] = ()
    max_rows: int = 0
    enable_when: EnableWhen | None = None
    clinic_opt_in: bool = False
    nonanswer_exempt: bool = False
    #: The answer names who filled in the form: printed with the patient's identity.
    respondent: bool = False
    #: The answer by which the patient declines the rest of the section (a consent question).
    declines: str | None = None
    #: Whether, and how, the answer is brought forward "Before the visit" (``BeforeVisit``).
    before_visit: BeforeVisit | None = None
    reaction_part: str | None = None
    sources: tuple[str, ...] = ()

    def option_label(self, code: str) -> str:
        """Label of one of this item's codes (the code itself if unknown)."""
        for option in self.options:
            if option.code == code:
                return option.label
        return code

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(option.code for option in self.options)


@dataclass(frozen=True)
class ReactionBlock:
    """How a section asks which of the seven reactions follow its exposure."""

    lead: str
    embedded_in: str | None = None
    #: Where each part of the block is asked (``noticed``, ``onset``, ``how_often``,
    #: ``last_time``): item ids of the expanded block, or the fields of the list it is embedded
    #: in. A part the block does not ask is missing. A list also names its ``subject``: the
    #: field in which the patient names what each row is about (the food, the medicine), which
    #: the at-a-glance table prints in the patient's words.
    parts: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Section:
    """One step of the form and one section of the summary."""

    id: str
    title: str
    title_pdf: str
    intro: str
    article_category: str | None
    items: tuple[Item, ...]
    reaction: ReactionBlock | None = None

    @property
    def core_items(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.core)

    @property
    def optional_items(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if not item.core)

    @property
    def overview_row(self) -> bool:
        """Whether the at-a-glance table has a row for this section."""
        return self.reaction is not None


@dataclass(frozen=True, eq=False)  # hashed by identity: one catalog object per process
class Catalog:
    """The whole questionnaire, in the order the patient sees it."""

    version: str
    sections: tuple[Section, ...]
    answer_sets: Mapping[str, tuple[Option, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        index = {item.id: item for section in self.sections for item in section.items}
        object.__setattr__(self, "_items", index)
        object.__setattr__(self, "_sections", {s.id: s for s in self.sections})

    def items(self) -> Iterator[Item]:
        for section in self.sections:
            yield from section.items

    def item(self, item_id: str) -> Item:
        return self._items[item_id]  # type: ignore[attr-defined,no-any-return]

    def has_item(self, item_id: str) -> bool:
        return item_id in self._items  # type: ignore[attr-defined]

    def section(self, section_id: str) -> Section:
        return self._sections[section_id]  # type: ignore[attr-defined,no-any-return]

    @property
    def respondent(self) -> Item | None:
        """The question that asks who filled in the form, if the catalog has one."""
        return next((item for item in self.items() if item.respondent), None)

    def section_index(self, section_id: str) -> int:
        return [s.id for s in self.sections].index(section_id)
