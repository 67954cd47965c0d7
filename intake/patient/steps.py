"""What one step page shows: its items, its form (stored or just typed), errors and notices."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from flask import request

from forms.builder import SectionForm, section_form_class
from forms.logic import Visibility, value_state, visible_items
from forms.schema import Catalog, Item, Section
from intake.intakes.drafts import section_version, visibility_for
from intake.models import Intake
from intake.patient.access import signed_in
from intake.patient.field_errors import FieldError, item_errors
from intake.patient.reveal import Drawn, as_shown, detail_offer, drawn_items
from intake.patient.same_as import SameAs, block_items, offer, topic
from intake.patient.tickets import resume_ticket

#: The steps that show the notice that the form is not watched, and what to do in an emergency
#: (also the welcome and done pages): those that ask about distressing experiences.
URGENT_SECTIONS = frozenset({"trauma"})


@dataclass
class StepPage:
    """Everything the step template needs; built the same way for a fresh page and a re-shown one."""

    catalog: Catalog
    section: Section
    items: list[Item]
    form: SectionForm
    #: What the page draws, in order: ``items``, and the follow-ups it may show in place.
    drawn: list[Drawn]
    index: int
    resume: str | None
    #: The section's stored answers the page was drawn from (``section_version``).
    version: str | None
    detail_on: bool
    optional_count: int = 0
    #: While the detail is closed, what "Add more detail" would show as the page is answered
    #: (``reveal.detail_offer``): its script counts them again in place.
    offer: list[dict[str, Any]] = field(default_factory=list)
    #: Optional questions of this part with a stored answer: sent only while they are shown.
    optional_answered: int = 0
    notice: str | None = None
    errors: list[FieldError] = field(default_factory=list)
    #: The patient came from the review page's "Change" link, and goes back there after saving.
    to_review: bool = False
    #: Questions that just appeared because of the answers (listed in the notice).
    new_items: list[Item] = field(default_factory=list)
    #: After "Save and finish later" or "Back" stopped on an error: where the patient can go
    #: anyway, leaving the answers in error as they were (a half-typed year must not trap them).
    leave: tuple[str, str] | None = None
    #: "Same as for <an earlier topic>" above the reaction block (``intake.patient.same_as``).
    same_as: SameAs | None = None
    #: After that button: the topic whose answers were just copied (the notice names it), and
    #: whether they had changed in another window since the page showed them (nothing copied).
    copied_from: Section | None = None
    copy_changed: bool = False

    @property
    def urgent_notice(self) -> bool:
        """Whether the page says the form is not watched (see ``URGENT_SECTIONS``)."""
        return self.section.id in URGENT_SECTIONS

    @property
    def total(self) -> int:
        return len(self.catalog.sections)

    @property
    def shown_ids(self) -> list[str]:
        """The shown questions whose ``_shown`` input is the page's own, not inside a question
        the page may hide (``reveal``)."""
        return [d.item.id for d in self.drawn if not d.when and not d.hidden]

    @property
    def is_first(self) -> bool:
        return self.index == 0

    @property
    def is_last(self) -> bool:
        return self.index == self.total - 1

    def errors_for(self, item_id: str) -> list[FieldError]:
        return [e for e in self.errors if e.item_id == item_id]

    @property
    def problem_ids(self) -> set[str]:
        return {e.item_id for e in self.errors}


@dataclass(frozen=True)
class Action:
    """The button pressed: ``kind`` is next, back, save, more, less, add, remove or same;
    ``add`` and ``remove`` name their list, and ``remove`` its row (from 0); ``same`` names in
    ``item_id`` the section whose reaction answers to copy."""

    kind: str
    item_id: str | None = None
    row: int | None = None
    #: ``same``: the version of the source section's answers the button was drawn with.
    seen: str | None = None


#: ``signout``: the header's "Sign out" on a step page saves the page first, as every button does.
ACTIONS = ("next", "back", "save", "more", "less", "signout")


def parse_action(value: str) -> Action:
    """The posted ``action``; anything unrecognised counts as "Save and continue", the button
    Enter presses."""
    kind, _, rest = value.partition(":")
    if kind in ACTIONS and not rest:
        return Action(kind)
    if kind == "add":
        return Action("add", rest or None)
    if kind == "same" and rest:
        source, _, seen = rest.partition(":")
        return Action("same", source, seen=seen or None)
    item_id, _, row = rest.partition(":")
    if kind == "remove" and item_id and row.isdecimal():
        return Action("remove", item_id, int(row))
    return Action("next")


def posted_shown(section: Section) -> list[str]:
    """The section's items the submitted page says it showed (only those are saved)."""
    ids = set(request.form.getlist("_shown"))
    return [item.id for item in section.items if item.id in ids]


def step_page(
    catalog: Catalog,
    section: Section,
    intake: Intake | None,
    *,
    posted: bool = False,
    notice: str | None = None,
    visible: list[Item] | None = None,
    copied_from: str | None = None,
) -> StepPage:
    """Build a step page from the stored draft, or from what was just posted (nothing is dropped).

    ``visible``: the items the stored answers show, when the caller has just worked them out.
    """
    form_class = section_form_class(catalog, section.id)
    answers = (intake.answers or {}) if intake is not None else {}
    visibility = visibility_for(intake) if intake is not None else Visibility()
    if visible is None:
        visible = visible_items(catalog, section, answers, visibility) if intake else []
    ids = [i.id for i in visible]
    if posted:
        ids = list(dict.fromkeys([*posted_shown(section), *ids]))
    items = [item for item in section.items if item.id in ids]
    drawn = drawn_items(catalog, section, items, answers, visibility) if intake else []
    hidden = [d.item for d in drawn if d.hidden]
    if posted:
        form = form_class(formdata=request.form, meta={"csrf": False})
        _remove_row(items, form, parse_action(request.form.get("action", "")))
    else:
        data = {item.id: item.kind.prefill(item, answers.get(item.id)) for item in items}
        form = form_class(formdata=None, data=data, meta={"csrf": False})
    errors: list[FieldError] = []
    if posted:
        form.validate()
        for item in items:
            errors += item_errors(item, form[item.id])
    for item in hidden:  # not sent (disabled): drawn from what is stored, to show as it was
        form[item.id].process(None, item.kind.prefill(item, answers.get(item.id)))
    for item in (*items, *hidden):
        item.kind.ready(item, form[item.id])
    optional = _detail_items(catalog, section, answers, visibility)
    source = topic(catalog, copied_from)
    return StepPage(
        catalog=catalog,
        section=section,
        items=items,
        form=form,
        drawn=drawn or [Drawn(item) for item in items],
        index=catalog.section_index(section.id),
        resume=_resume(intake),
        version=section_version(intake.answers, section)
        if intake is not None
        else request.form.get("_version"),
        detail_on=section.id in visibility.detail_sections,
        optional_count=len(optional),
        offer=detail_offer(catalog, section, answers, visibility, drawn) if intake else [],
        optional_answered=sum(value_state(answers.get(i.id)) != "not_answered" for i in optional),
        notice=notice,
        errors=errors,
        to_review=(request.form.get("_return") if posted else request.args.get("from")) == "review",
        new_items=[] if posted else _new_items(items, request.args.get("new", "")),
        same_as=_same_as(catalog, section, answers, visibility, drawn or [Drawn(i) for i in items]),
        copied_from=source,
        copy_changed=notice == "same_changed",
    )


def _same_as(
    catalog: Catalog,
    section: Section,
    answers: dict[str, Any],
    visibility: Visibility,
    drawn: list[Drawn],
) -> SameAs | None:
    """ "Same as for <topic>", drawn with the block's first question: hidden with it, when the
    page shows that in place, as the page would offer it then."""
    first = block_items(catalog, section).get("noticed")
    if first is not None:
        answers = as_shown(catalog, drawn, first.id, answers)
    return offer(catalog, section, answers, visibility, [d.item.id for d in drawn])


def _resume(intake: Intake | None) -> str | None:
    """The page's ticket: this session's, or (for a page shown again without one) the one it
    was posted with."""
    signed = signed_in()
    if intake is not None and signed is not None and signed.intake.id == intake.id:
        return resume_ticket(signed)
    return request.form.get("_resume")


def _detail_items(
    catalog: Catalog, section: Section, answers: dict[str, Any], visibility: Visibility
) -> list[Item]:
    """The optional questions "Add more detail" would show now: not those only a clinic can
    switch on, nor follow-ups whose gate is not answered that way (so a section the patient
    chose to skip offers none).

    The page counts them, and those of them that hold an answer. Hiding the detail withdraws
    those answers from what is sent (they are kept, and come back with the detail), so the page
    says so before and after: a patient tidying the page must not lose them unawares.
    """
    detail = replace(visibility, detail_sections=visibility.detail_sections | {section.id})
    return [i for i in visible_items(catalog, section, answers, detail) if not i.core]


def _remove_row(items: list[Item], form: SectionForm, action: Action) -> None:
    """Take out the row whose "Remove" button was pressed, before anything is checked: a row
    with a choice made cannot be emptied (a radio cannot be unticked), and a row with a
    mistake in it must not stop its own removal."""
    if action.kind != "remove" or action.row is None:
        return
    for item in items:
        if item.id == action.item_id:
            item.kind.remove_entry(form[item.id], action.row)


def _new_items(items: list[Item], ids: str) -> list[Item]:
    wanted = set(ids.split(","))
    return [item for item in items if item.id in wanted]
