"""One intake as the clinic's intake page shows it: who, when, where it stands, and its summary.

Plain data for the template, so the page cannot wander into the ORM (and lazy-load, or show a
draft answer by accident): answers appear only once the patient has sent them, as they promised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from forms.loader import UnknownCatalogVersion, get_catalog
from intake.clock import as_utc
from intake.intakes.states import State
from intake.intakes.submissions import submission_summary
from intake.models import Intake
from intake.pdf.summary import Summary


@dataclass(frozen=True)
class IntakeLine:
    """What the clinic shows of any intake, as its worklist row and atop its own page: who, which
    visit, where it stands. Plain data, never the answers."""

    public_id: str
    given_name: str
    family_name: str
    date_of_birth: date
    mrn: str | None
    appointment_at: datetime | None
    state: State
    sections_done: int
    #: Steps of the intake's own catalog version: a form started before a release keeps its steps.
    sections_total: int


@dataclass(frozen=True)
class IntakeDetails(IntakeLine):
    """The intake page's header: the worklist's line, and the link, the sending and the review."""

    link_expires_at: datetime
    last_saved_at: datetime | None
    submitted_at: datetime | None
    reviewed_at: datetime | None
    reviewed_by: str | None
    pdf_stored: bool

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    @property
    def link_usable(self) -> bool:
        """Whether the patient's current link still opens the form."""
        return self.state in ("invited", "in_progress")

    @property
    def link_changeable(self) -> bool:
        """Before the answers are in, the clinic may revoke the link or issue a new one."""
        return self.submitted_at is None


def sections_total(version: str) -> int:
    """Steps in the form of catalog ``version``, which an intake keeps for life. Only a count: a
    version this service lacks (after a rollback) shows the current one's rather than failing the
    page."""
    try:
        return len(get_catalog(version).sections)
    except UnknownCatalogVersion:
        return len(get_catalog().sections)


def intake_details(intake: Intake, now: datetime) -> IntakeDetails:
    """The page header's facts about ``intake`` at ``now``."""
    submission = intake.submission
    return IntakeDetails(
        public_id=intake.public_id,
        given_name=intake.given_name,
        family_name=intake.family_name,
        date_of_birth=intake.date_of_birth,
        mrn=intake.mrn,
        appointment_at=as_utc(intake.appointment_at) if intake.appointment_at else None,
        state=intake.state(now),
        sections_done=len(intake.sections_saved or ()),
        sections_total=sections_total(intake.catalog_version),
        link_expires_at=as_utc(intake.token_expires_at),
        last_saved_at=as_utc(intake.updated_at) if intake.updated_at else None,
        submitted_at=as_utc(submission.submitted_at) if submission else None,
        reviewed_at=as_utc(intake.reviewed_at) if intake.reviewed_at else None,
        reviewed_by=intake.reviewed_by.email if intake.reviewed_by else None,
        pdf_stored=bool(submission and submission.pdf),
    )


def submitted_summary(intake: Intake) -> Summary | None:
    """The summary the PDF prints, from the frozen answers read with the catalog version they were
    given under; None before the patient sends them. Raises ``UnknownCatalogVersion``."""
    return submission_summary(intake.submission) if intake.submission is not None else None
