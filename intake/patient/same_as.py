"""“Same as for <an earlier topic>”: one press fills a topic's reaction questions with the
answers the patient gave for an earlier topic (issue 15, item 3).

Most topics end with the same block: which of the reactions follow, how soon, how often. A
patient whose reactions are the same after stress, poor sleep and effort reads the eleven
choices once, and afterwards presses one button instead of answering three or four questions
again. The answers are copied into the page, where the patient sees them and can change any;
what is stored, and so the review page, the PDF and FHIR, are exactly as if they had been
ticked one by one. Nothing here is a question of the catalog: the offer is derived from the
reaction blocks the catalog already declares.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from forms.logic import Visibility, hidden_reason
from forms.schema import NON_ANSWERS, Catalog, Item, Section
from intake.intakes.drafts import section_version

#: The parts a copy carries, in the order the block asks them. Never "What else did you
#: notice?": those are the patient's own words about this topic, not to be written over or
#: cleared by a button (the "Something else" tick is copied; its box keeps what it holds).
PARTS = ("noticed", "onset", "how_often", "last_time")
#: The codes of "which of these?" that report no reaction (they open no follow-up).
NO_REACTION = frozenset({"none", *NON_ANSWERS})


@dataclass(frozen=True)
class SameAs:
    """The offer shown above a topic's reaction block: where it copies from, and what."""

    source: Section
    #: The block's first question (the offer is drawn just above it).
    item_id: str
    #: The source's answers in words, a line per question ("Hives; Flushing", "Within minutes").
    summary: tuple[str, ...]
    #: The version of the source's answers these were read from (``section_version``): a button
    #: pressed after another window changed them copies nothing, and the page shows them anew.
    version: str = "0"
    #: The questions a copy sets (their input names), and the copy as (name, value) pairs, a
    #: multiple choice one pair per code: what the page fills in with scripts on (same.js).
    names: tuple[str, ...] = ()
    values: tuple[tuple[str, str], ...] = ()

    @property
    def action(self) -> str:
        return f"same:{self.source.id}:{self.version}"


def topic(catalog: Catalog, section_id: str | None) -> Section | None:
    """The section named in a button or an address, if it has a reaction block to copy from."""
    return next((s for s in catalog.sections if s.id == section_id and s.reaction), None)


def block_items(catalog: Catalog, section: Section) -> dict[str, Item]:
    """The section's own reaction questions by part; empty for a block asked inside a list
    (foods, medicines: each row is about something else) and for a section without one."""
    block = section.reaction
    if block is None or block.embedded_in is not None:
        return {}
    return {part: catalog.item(block.parts[part]) for part in PARTS if part in block.parts}


def _reports_reactions(value: Any) -> bool:
    return isinstance(value, list) and bool(set(value) - NO_REACTION)


def _shown(catalog: Catalog, item: Item, answers: Mapping[str, Any], seen: Visibility) -> bool:
    return hidden_reason(catalog, item, dict(answers), seen) is None


def source_for(
    catalog: Catalog, section: Section, answers: Mapping[str, Any], seen: Visibility
) -> Section | None:
    """The nearest earlier topic whose block is shown and reports a reaction."""
    index = catalog.section_index(section.id)
    for earlier in reversed(catalog.sections[:index]):
        noticed = block_items(catalog, earlier).get("noticed")
        if noticed is None or not _shown(catalog, noticed, answers, seen):
            continue
        if _reports_reactions(answers.get(noticed.id)):
            return earlier
    return None


def copies(
    catalog: Catalog,
    section: Section,
    source: Section,
    answers: Mapping[str, Any],
    seen: Visibility,
) -> dict[str, Any]:
    """The source block's answers under the section's own ids, for the parts the section shows
    once they are in (a part asked only with "more detail" is copied only while that is open).
    A part the source left unanswered, or does not show, clears the section's: the copy is the
    source as its own page shows it, whole."""
    here, there = block_items(catalog, section), block_items(catalog, source)
    pairs = {
        here[part].id: answers.get(there[part].id)
        if _shown(catalog, there[part], answers, seen)
        else None
        for part in here
        if part in there
    }
    merged = {**answers, **pairs}
    return {
        item_id: value
        for item_id, value in pairs.items()
        if _shown(catalog, catalog.item(item_id), merged, seen)
    }


def offer(
    catalog: Catalog,
    section: Section,
    answers: Mapping[str, Any],
    seen: Visibility,
    shown_ids: list[str],
) -> SameAs | None:
    """The offer for this step, if its block is on the page and an earlier topic's answers
    differ from what it holds (once copied, or answered alike, the button has nothing to do)."""
    noticed = block_items(catalog, section).get("noticed")
    if noticed is None or noticed.id not in shown_ids:
        return None
    source = source_for(catalog, section, answers, seen)
    if source is None:
        return None
    copied = copies(catalog, section, source, answers, seen)
    if all(answers.get(item_id) == value for item_id, value in copied.items()):
        return None
    words = summary(catalog, source, answers, seen)
    version = section_version(answers, source)
    return SameAs(source, noticed.id, words, version, tuple(copied), _pairs(copied))


def _pairs(copied: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The copy as a form would post it (the block's questions are choices and one text box)."""
    pairs: list[tuple[str, str]] = []
    for item_id, value in copied.items():
        for one in value if isinstance(value, list) else [value]:
            if one not in (None, ""):
                pairs.append((item_id, str(one)))
    return tuple(pairs)


def summary(
    catalog: Catalog, source: Section, answers: Mapping[str, Any], seen: Visibility
) -> tuple[str, ...]:
    """What a copy carries from the source, in the words the patient chose it in."""
    parts = []
    for item in block_items(catalog, source).values():
        value = answers.get(item.id)
        if value in (None, "", []) or not _shown(catalog, item, answers, seen):
            continue
        lines = item.kind.display(item, value).lines
        parts.append("; ".join(mark.text for mark in lines))
    return tuple(parts)
