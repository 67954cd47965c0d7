"""The follow-up questions a step page shows and hides itself, as their gate is answered.

A follow-up whose gate is a question of the same page is drawn on it even while its gate does
not call for it, hidden, with the conditions that show it as data (``conditions_on_page``,
the server's own reading of the catalog's enable-when). With scripts on, ``static/reveal.js``
evaluates them as the patient answers: the follow-up appears right below its gate, and goes
again when the gate is un-answered (what was typed in it stays in the page, not sent). With
scripts off a hidden follow-up is neither shown, focusable, announced nor sent (``hidden`` on
a disabled fieldset), and the server's path is as before: "Save and continue" reloads the step
with the notice "Some more questions appeared".

A page says which questions it showed with its ``_shown`` inputs, and only those are saved. A
follow-up that the page may hide carries its own ``_shown`` input inside its fieldset (a
hidden one gets it from the script when it first appears), so a disabled fieldset withdraws
it too: the server saves a revealed follow-up and, having nothing new to point out, moves on.

Conditions on questions of other pages, or of questions this page does not show (optional
detail not opened, or not switched on by the clinic), are the server's, read from the stored
answers when the page is drawn.

The offer "Add more detail" counts the optional questions the answers would show: a gate that
opens optional follow-ups makes it appear (or count more) in place too (``detail_offer``),
so that a patient who moves on without a reload is offered what a reload would have offered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from forms.logic import Visibility, conditions_on_page, value_state
from forms.schema import Catalog, Condition, Item, Section


@dataclass(frozen=True)
class Drawn:
    """One question drawn on a step page."""

    item: Item
    #: The conditions the page evaluates (any of them, each with its gate shown); empty when
    #: whether it is shown does not depend on this page's answers.
    when: tuple[Condition, ...] = ()
    #: Drawn hidden: its gate on this page does not call for it (yet).
    hidden: bool = False

    @property
    def conditions(self) -> list[dict[str, Any]]:
        """The conditions as the page's data (``data-when``)."""
        return as_data(self.when)


def as_data(conditions: tuple[Condition, ...]) -> list[dict[str, Any]]:
    return [{"item": c.item, "op": c.op, "answers": list(c.answers)} for c in conditions]


def offered(item: Item, visibility: Visibility) -> bool:
    """Whether the item can be shown on its page at all, whatever the answers: switched on by
    the clinic where that is needed, and its part's optional detail opened if it is optional."""
    if item.clinic_opt_in and item.id not in visibility.clinic_opt_ins:
        return False
    return item.core or item.section_id in visibility.detail_sections


def drawn_items(
    catalog: Catalog,
    section: Section,
    shown: list[Item],
    answers: Mapping[str, Any],
    visibility: Visibility,
) -> list[Drawn]:
    """The page's questions in catalog order: those it shows (``shown``), each with the
    conditions that may hide it again, and, hidden, the follow-ups its answers may show.

    A gate comes before what it opens (the catalog checks it), so one pass knows which gates
    are on the page.
    """
    shown_ids = {item.id for item in shown}
    on_page: set[str] = set()
    drawn = []
    for item in section.items:
        visible = item.id in shown_ids
        if not visible and not offered(item, visibility):
            continue
        when = conditions_on_page(catalog, item, answers, on_page)
        if not visible and not when:
            continue  # decided elsewhere, and not shown
        on_page.add(item.id)
        drawn.append(Drawn(item, when or (), hidden=not visible))
    return drawn


def detail_offer(
    catalog: Catalog,
    section: Section,
    answers: Mapping[str, Any],
    visibility: Visibility,
    drawn: list[Drawn],
) -> list[dict[str, Any]]:
    """While the part's optional detail is closed: each optional question opening it could
    show as the page is answered, with the conditions on this page that show it (none: shown
    whatever they say) and whether it holds a stored answer, as the page's data
    (``data-offer``). Counted as the server counts them for the page it draws."""
    if section.id in visibility.detail_sections:
        return []
    detail = replace(visibility, detail_sections=visibility.detail_sections | {section.id})
    on_page = {d.item.id for d in drawn}
    offer = []
    for item in section.items:
        if item.core or not offered(item, detail):
            continue
        when = conditions_on_page(catalog, item, answers, on_page)
        if when is not None and not when:
            continue  # decided elsewhere, and not shown
        answered = value_state(answers.get(item.id)) != "not_answered"
        offer.append({"when": as_data(when or ()), "answered": answered})
    return offer


def as_shown(
    catalog: Catalog, drawn: list[Drawn], item_id: str, answers: Mapping[str, Any]
) -> dict[str, Any]:
    """The answers with the gates of a follow-up drawn hidden (and theirs, up the chain) set
    to the first code that shows it: what goes with the question is drawn with it, hidden, as
    it would be once the page shows it (the "Same as for <topic>" offer above a reaction
    block)."""
    by_id = {d.item.id: d for d in drawn}
    out = dict(answers)
    follow_up = by_id.get(item_id)
    while follow_up is not None and follow_up.hidden and follow_up.when:
        cond = follow_up.when[0]
        gate = catalog.item(cond.item)
        code = next(c for c in gate.codes if (c in cond.answers) != (cond.op == "!="))
        out[gate.id] = code if gate.kind.one_code else [code]
        follow_up = by_id.get(gate.id)
    return out
