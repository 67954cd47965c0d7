"""Saving a step: answers go to the database on every Next, Back and Save, with a version check."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from forms.logic import Visibility
from forms.schema import Catalog, Section
from intake.clock import utcnow
from intake.models import Intake


class FrozenError(RuntimeError):
    """The intake was submitted; its answers can no longer change."""


@dataclass(frozen=True)
class SaveResult:
    saved: bool
    conflict: bool = False


def visibility_for(intake: Intake) -> Visibility:
    """Which optional parts this intake shows: its opened detail and the clinic's opt-ins."""
    return Visibility(
        detail_sections=frozenset(intake.detail_sections or ()),
        clinic_opt_ins=frozenset(current_app.config["CLINIC_OPT_INS"]),
    )


def lock_for_update(db: Session, intake: Intake) -> None:
    """Re-read the intake under a row lock, so two concurrent saves cannot both pass the version
    check (PostgreSQL; SQLite already holds its write lock from BEGIN IMMEDIATE)."""
    db.refresh(intake, with_for_update=True)


def section_version(answers: Mapping[str, Any] | None, section: Section) -> str:
    """A number for what is stored in one section, carried by its page: "0" while nothing is.

    The page's check against other tabs is per section: a save in Sleep must not be refused
    because another tab saved Teeth and gums since. A digest of the section's stored answers,
    not a counter, so it needs no column of its own and is the same in every tab that sees the
    same answers.
    """
    stored = {item.id: answers[item.id] for item in section.items if answers and item.id in answers}
    if not stored:
        return "0"
    canonical = json.dumps(stored, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return str(int(hashlib.sha256(canonical.encode()).hexdigest()[:12], 16) or 1)


def save_step(
    intake: Intake,
    section: Section,
    values: Mapping[str, Any],
    shown: Collection[str],
    seen_version: str | None,
    *,
    force: bool = False,
) -> SaveResult:
    """Store the answers of the items the page showed; leave every other stored answer alone.

    ``seen_version`` is the section's version the page was drawn from (``section_version``).
    If another tab saved this section since, nothing is written and the caller re-shows the page
    (``force`` then saves knowingly), unless the page posts exactly what is stored now: that
    is the same page sent twice (a double click), already saved by its first press.
    """
    if intake.submission is not None:
        raise FrozenError(intake.public_id)
    ids = {item.id for item in section.items} & set(shown)
    answers = dict(intake.answers or {})  # a new dict: SQLAlchemy does not see in-place changes
    if not force and seen_version and seen_version != section_version(answers, section):
        if all(values.get(item_id) == answers.get(item_id) for item_id in ids):
            return SaveResult(saved=True)
        return SaveResult(saved=False, conflict=True)
    for item_id in ids:
        value = values.get(item_id)
        if value is None:
            answers.pop(item_id, None)
        else:
            answers[item_id] = value
    intake.answers = answers
    intake.answers_version += 1
    intake.sections_saved = sorted({*(intake.sections_saved or ()), section.id})
    intake.current_step = section.id  # until the caller moves it (``move_to``)
    intake.updated_at = utcnow()
    return SaveResult(saved=True)


def set_detail(intake: Intake, section_id: str, on: bool) -> None:
    """Open or close a section's optional "more detail" questions (answers are kept either way)."""
    sections = set(intake.detail_sections or ())
    sections = sections | {section_id} if on else sections - {section_id}
    intake.detail_sections = sorted(sections)


#: The pages a patient can be on besides the steps (whose places are their section ids).
REVIEW, WELCOME = "review", "welcome"


def place_after(catalog: Catalog, section: Section, action: str, *, to_review: bool) -> str:
    """Where the patient goes after saving ``section`` with ``action``, which is also where they
    come back to: the same step when they finish later or work on the page (more detail, a row
    added or removed), the step before or after it, or the review page when they came from its
    "Change" link."""
    index = catalog.section_index(section.id)
    if action not in ("next", "back"):
        return section.id
    if to_review:
        return REVIEW
    if action == "back":
        return catalog.sections[index - 1].id if index else WELCOME
    return catalog.sections[index + 1].id if index + 1 < len(catalog.sections) else REVIEW


def move_to(intake: Intake, place: str) -> None:
    """Remember the page the patient is sent to, for ``resume_step``."""
    intake.current_step = None if place == WELCOME else place


def resume_step(catalog: Catalog, intake: Intake) -> str | None:
    """Where a returning patient continues: the page they were sent to by their last save (a
    section id or ``REVIEW``), or None for the welcome page.

    Not "the first step not saved yet": a patient who pressed "Save and finish later" halfway
    through a step must come back to that step, not the one after it.
    """
    place = intake.current_step
    if place == REVIEW or place in {section.id for section in catalog.sections}:
        return place
    return None
