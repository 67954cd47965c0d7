"""Enable-when and answer states, evaluated on the server from the catalog and stored answers.

Answers are a plain dict keyed by item id. Value shapes by item type:
single: code; multi: [codes]; grid: {row: code}; scale: int or non-answer code;
year: int or non-answer code; text: str; list: [{field: value}].
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from forms.schema import NOT_SURE, PREFER_NOT, Catalog, Condition, Item, Section

Answers = Mapping[str, Any]
State = Literal["answered", "not_sure", "prefer_not", "not_answered", "not_shown"]
#: Why an item was not shown: its gate answer did not call for it, the patient did not open the
#: section's optional detail, or the clinic has not switched the question on.
HiddenReason = Literal["branch", "optional", "clinic"]


@dataclass(frozen=True)
class Visibility:
    """Which optional parts of the form are switched on for one intake."""

    detail_sections: frozenset[str] = frozenset()
    clinic_opt_ins: frozenset[str] = frozenset()


def _as_codes(value: Any) -> set[str]:
    if isinstance(value, list):
        return {v for v in value if isinstance(v, str)}
    if isinstance(value, str):
        return {value}
    return set()


def _holds(cond: Condition, answers: Answers) -> bool:
    given = _as_codes(answers.get(cond.item))
    if cond.op == "!=":
        return bool(given) and not given & set(cond.answers)
    return bool(given & set(cond.answers))


def condition_holds(catalog: Catalog, cond: Condition, answers: Answers) -> bool:
    """One enable-when condition holds, and its gate item is itself enabled."""
    return _holds(cond, answers) and branch_enabled(catalog, catalog.item(cond.item), answers)


def branch_enabled(catalog: Catalog, item: Item, answers: Answers) -> bool:
    """True when the item's enable-when holds, and its gate item is itself enabled."""
    if item.enable_when is None:
        return True
    return any(condition_holds(catalog, cond, answers) for cond in item.enable_when.conditions)


def conditions_on_page(
    catalog: Catalog, item: Item, answers: Answers, on_page: Collection[str]
) -> tuple[Condition, ...] | None:
    """The conditions that decide, on a page holding the questions ``on_page``, whether the
    item is shown there: those whose gate is on the page, to evaluate in the browser as it is
    answered (as ``_holds`` does, each with its gate shown). The others are answered elsewhere
    and read from ``answers``: None when one of them holds (the item is shown whatever this
    page says) or the item has no condition; empty when none of the conditions left can hold.
    """
    if item.enable_when is None:
        return None
    live = []
    for cond in item.enable_when.conditions:
        if cond.item in on_page:
            live.append(cond)
        elif condition_holds(catalog, cond, answers):
            return None
    return tuple(live)


def hidden_reason(
    catalog: Catalog, item: Item, answers: Answers, visibility: Visibility
) -> HiddenReason | None:
    """Why the patient was not (or would not be) shown this item; None when it is shown.

    An optional item whose gate answers rule it out is hidden by those answers, not by the
    closed detail: opening the detail would not show it either, and "optional detail not
    opened" would tell the clinician a question was skipped that never applied.
    """
    if item.clinic_opt_in and item.id not in visibility.clinic_opt_ins:
        return "clinic"
    if not item.core and item.section_id not in visibility.detail_sections:
        return "branch" if _ruled_out(catalog, item, answers, visibility) else "optional"
    if not branch_enabled(catalog, item, answers):
        return "branch"
    return None


def _ruled_out(catalog: Catalog, item: Item, answers: Answers, visibility: Visibility) -> bool:
    """Whether answers the patient was shown close every way to this item: each gate was shown
    and answered otherwise, or is itself ruled out. A gate behind closed detail rules nothing
    out, since opening the detail could still lead to the item."""
    if item.enable_when is None:
        return False
    for cond in item.enable_when.conditions:
        gate = catalog.item(cond.item)
        reason = hidden_reason(catalog, gate, answers, visibility)
        if reason is None and _holds(cond, answers):
            return False
        if reason not in (None, "branch"):
            return False
    return True


def visible_items(
    catalog: Catalog, section: Section, answers: Answers, visibility: Visibility
) -> list[Item]:
    """The items a step shows for the given answers."""
    return [i for i in section.items if hidden_reason(catalog, i, answers, visibility) is None]


def value_state(value: Any) -> State:
    """The answer state of a stored value for an item that was shown."""
    if value is None or value == "" or value == [] or value == {}:
        return "not_answered"
    if value == NOT_SURE or value == [NOT_SURE]:
        return "not_sure"
    if value == PREFER_NOT or value == [PREFER_NOT]:
        return "prefer_not"
    if isinstance(value, dict) and set(value.values()) <= {PREFER_NOT}:
        return "prefer_not"
    return "answered"


def item_state(catalog: Catalog, item: Item, answers: Answers, visibility: Visibility) -> State:
    """One of the five states a question can be in on paper."""
    if hidden_reason(catalog, item, answers, visibility) is not None:
        return "not_shown"
    return value_state(answers.get(item.id))


def shown_answers(catalog: Catalog, answers: Answers, visibility: Visibility) -> dict[str, Any]:
    """The answers of shown items only: a hidden follow-up's old draft value is never reported."""
    return {
        item.id: answers[item.id]
        for item in catalog.items()
        if item.id in answers and hidden_reason(catalog, item, answers, visibility) is None
    }


def newly_enabled(
    catalog: Catalog,
    section: Section,
    answers: Answers,
    visibility: Visibility,
    shown: Collection[str],
) -> list[Item]:
    """Items the step now shows that the patient has not seen yet (a gate was just opened)."""
    return [i for i in visible_items(catalog, section, answers, visibility) if i.id not in shown]
