"""The patient's own copy of their sent answers: the very PDF the clinician gets (the stored bytes
the background worker made), for as long as the link works, and never by e-mail.

Whether a copy can be had, and its fingerprint, are read without loading the PDF itself: the done
page and its poll ask often, and the bytes are only needed for the download.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.clock import as_utc
from intake.intakes.submissions import pdf_header
from intake.models import Intake, Submission
from intake.pdf.document import DownloadName

#: ``ready``: stored, to download; ``making``: sent, the worker has not stored the PDF yet (or
#: every render so far failed: a download queues it again); ``gone``: the link has ended.
CopyState = Literal["ready", "making", "gone"]
#: The download's name. Never the patient's name: on a shared phone or computer the downloads
#: list, a "download complete" notice on a locked screen and a synced Downloads folder all show
#: file names, and this one would say whose health record it is. The day it was sent tells the
#: patient which copy it is.
FILE_PREFIX = "pre-visit-answers"


@dataclass(frozen=True)
class PatientCopy:
    """What the done page says about the copy."""

    state: CopyState
    #: Until when the copy can be downloaded here: the link's end.
    until: datetime
    sha256: str | None = None
    size: int | None = None

    @property
    def kilobytes(self) -> int:
        """The size as the page says it, never "0 KB"."""
        return max(1, round((self.size or 0) / 1024))


def link_works(intake: Intake, now: datetime) -> bool:
    """Whether the intake's link still works for its patient's copy: not past its end, revoked or
    locked. (A sent intake's link otherwise still opens the done page after its end, which says
    the answers were sent; the copy goes with the link, as the issue asks.)"""
    if intake.revoked_at is not None or intake.locked_at is not None:
        return False
    return as_utc(intake.token_expires_at) >= now


def patient_copy(db: Session, intake: Intake, now: datetime) -> PatientCopy | None:
    """The copy's state, fingerprint and size; None while the answers are not sent."""
    row = db.execute(
        select(Submission.pdf_sha256, func.length(Submission.pdf)).where(
            Submission.intake_id == intake.id
        )
    ).first()
    if row is None:
        return None
    until = as_utc(intake.token_expires_at)
    if not link_works(intake, now):
        return PatientCopy("gone", until)
    sha256, size = row
    if sha256 is None:
        return PatientCopy("making", until)
    return PatientCopy("ready", until, sha256, int(size or 0))


def copy_mark(intake: Intake) -> str:
    """Which intake a done page was drawn for, carried by its download link and its poll.

    The session, not the link, says whose copy a request gets: a done page left open in a tab
    while the next patient signs in and sends on the same browser would otherwise fetch that
    patient's PDF. The mark names the intake without showing its id in a URL; it is no secret
    (the session is the lock), only a label to compare.
    """
    return hashlib.sha256(f"patient-copy:{intake.public_id}".encode()).hexdigest()[:16]


def copy_filename(intake: Intake, submission: Submission) -> DownloadName:
    """``pre-visit-answers_YYYY-MM-DD.pdf``, the day it was sent in the clinic's time zone."""
    day = pdf_header(intake, submission).submitted_at.date()
    return DownloadName(f"{FILE_PREFIX}_{day.isoformat()}.pdf")
