"""Saving a step page: what it posted, the version check against other tabs, and where the
patient goes next."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from flask import request

from forms.logic import visible_items
from forms.schema import Catalog, Item, Section
from forms.types import KEEP
from intake import db
from intake.intakes.drafts import (
    FrozenError,
    lock_for_update,
    move_to,
    place_after,
    save_step,
    section_version,
    set_detail,
    visibility_for,
)
from intake.models import Intake
from intake.patient.same_as import copies, topic
from intake.patient.steps import Action, StepPage, parse_action, posted_shown, step_page


def posted_answers(page: StepPage, stored: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """Stored values for the items on the page, and the ids of the items left as they were.

    An item with an error keeps its stored value, except a list: its rows are saved with only
    the boxes in error kept as stored. One half-typed year must not throw away a medicine list
    typed since the last save while the page says the rest was saved.
    """
    values: dict[str, Any] = {}
    unsaved: set[str] = set()
    for item in page.items:
        posted = page.form[item.id]
        if item.id not in page.problem_ids:
            values[item.id] = item.kind.parse(item, posted.data)
            continue
        kept = item.kind.salvage(item, posted, _drawn_from(item.id, stored.get(item.id)))
        if kept is KEEP:
            unsaved.add(item.id)
        else:
            values[item.id] = kept
    return values, unsaved


def _drawn_from(item_id: str, stored: Any) -> Any:
    """The stored rows a list's posted rows match by place. A page with scripts on removes
    entries in place and numbers the rest on (``static/entries.js``), saying which of the rows
    it was drawn with went (``_removed``: ``list id:place``): without them, a box in error
    would be given back the stored value of the row that was in its place before."""
    gone = set()
    for value in request.form.getlist("_removed"):
        list_id, _, place = value.rpartition(":")
        if list_id == item_id and place.isdecimal():
            gone.add(int(place))
    if not gone or not isinstance(stored, list):
        return stored
    return [row for n, row in enumerate(stored) if n not in gone]


def posts_what_is_stored(page: StepPage, stored: Mapping[str, Any]) -> bool:
    """Whether the page posts exactly what is stored for the questions it showed: the same
    page sent a second time (a double click), whose first press already saved it."""
    values, unsaved = posted_answers(page, stored)
    shown = [item_id for item_id in posted_shown(page.section) if item_id not in unsaved]
    return all(values.get(item_id) == stored.get(item_id) for item_id in shown)


CopyResult = Literal["copied", "changed"] | None


@dataclass
class SaveOutcome:
    """What one press of a step's button did, for the view to answer with.

    ``status``: ``saved``; ``invalid`` (saved around the answers in error: ``page`` shows them);
    ``conflict`` (another tab saved first: nothing saved, ``page`` shows what was typed);
    ``frozen`` (the answers were sent meanwhile). ``place`` is where the patient goes next (a
    section id, ``REVIEW`` or ``WELCOME``); ``anchor`` the question to scroll to there.
    """

    status: Literal["saved", "invalid", "conflict", "frozen"]
    action: Action
    page: StepPage
    new_items: list[Item] = field(default_factory=list)
    place: str | None = None
    anchor: str | None = None
    #: "Same as for <topic>": ``copied``, or ``changed`` (that topic's answers changed in
    #: another window since the page showed them: nothing was copied); None if nothing to copy.
    copy: CopyResult = None


def save_page(catalog: Catalog, section: Section, intake: Intake) -> SaveOutcome:
    """Save what was posted on a step, and decide what comes next.

    Every button saves the page first: the answers that are valid are stored (a list keeps what
    can be kept), the version check refuses a save over another tab's, and the patient moves on
    only when nothing is in error and no question just appeared. What the answers show after
    the save is worked out once and serves the newly shown questions, the page shown again and
    the place to scroll to.
    """
    page = step_page(catalog, section, intake, posted=True)
    values, unsaved = posted_answers(page, intake.answers or {})
    has_errors = bool(page.problem_ids)
    action = parse_action(request.form.get("action", "next"))
    seen = request.form.get("_version")
    try:
        with db.transaction() as tx:
            lock_for_update(tx, intake)
            shown = [i for i in posted_shown(section) if i not in unsaved]
            copy: CopyResult = None
            if action.kind == "same" and not has_errors:
                copied, copy = _copied(catalog, section, intake, values, action)
                values, shown = {**values, **copied}, [*shown, *copied]
            saved = save_step(intake, section, values, shown, seen).saved
            if saved and action.kind in ("more", "less"):
                set_detail(intake, section.id, action.kind == "more")
            visible = visible_items(catalog, section, intake.answers, visibility_for(intake))
            new_items: list[Item] = []
            if saved and (has_errors or action.kind in ("next", "back")):
                # Named on an error page too: the next post lists them as shown, and would
                # never point them out.
                posted = set(request.form.getlist("_shown"))
                new_items = [item for item in visible if item.id not in posted]
            place = section.id
            if not has_errors and not new_items:
                place = place_after(catalog, section, action.kind, to_review=page.to_review)
            if saved and not has_errors:
                move_to(intake, place)
    except FrozenError:
        return SaveOutcome("frozen", action, page)
    if not saved:  # another tab saved first: built outside the transaction, as is the rest
        return SaveOutcome("conflict", action, _again(catalog, section, intake, "conflict"))
    if has_errors:
        notice = "more" if new_items else None
        again = _again(catalog, section, intake, notice, visible)
        again.new_items = new_items
        return SaveOutcome("invalid", action, again, new_items, place)
    anchor = _anchor(action, visible, intake)
    return SaveOutcome("saved", action, page, new_items, place, anchor, copy)


def _copied(
    catalog: Catalog, section: Section, intake: Intake, values: dict[str, Any], action: Action
) -> tuple[dict[str, Any], CopyResult]:
    """ "Same as for <topic>": that topic's reaction answers, for this section's block. The copy
    goes over what the page posted for the block (pressing the button says so); the rest of the
    page is saved as posted. A topic without a block copies nothing, and so does a page with a
    mistake on it (the caller's test): shown again as typed, it would post the block over the
    copy at its next save. Nor does a button drawn before another window changed that topic's
    answers: it named answers that are no longer the patient's."""
    source = topic(catalog, action.item_id)
    if source is None or source.id == section.id:
        return {}, None
    if action.seen != section_version(intake.answers, source):
        return {}, "changed"
    answers = {**(intake.answers or {}), **values}
    copied = copies(catalog, section, source, answers, visibility_for(intake))
    return copied, "copied" if copied else None


def _again(
    catalog: Catalog,
    section: Section,
    intake: Intake,
    notice: str | None,
    visible: list[Item] | None = None,
) -> StepPage:
    """The step shown again with everything typed on it."""
    return step_page(catalog, section, intake, posted=True, notice=notice, visible=visible)


def _anchor(action: Action, visible: list[Item], intake: Intake) -> str | None:
    """Where the page that stays open scrolls to: the first optional question just opened, the
    detail switch, a list's new row, or the list a row left."""
    if action.kind == "more":
        extra = [item for item in visible if not item.core]
        return f"q-{extra[0].id}" if extra else "more"
    if action.kind == "less":
        return "more"
    if action.kind == "add" and action.item_id:
        rows = intake.answers.get(action.item_id)
        return f"q-{action.item_id}-{len(rows) if isinstance(rows, list) else 0}"
    if action.kind == "remove":
        return f"q-{action.item_id}"
    if action.kind == "same":
        return "same-as"
    return None
