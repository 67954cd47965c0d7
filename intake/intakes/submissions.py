"""Submitting: freeze the shown answers once and queue their PDF; the background worker renders
and stores it (``make_pdf``), outside any database transaction and outside any web request."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from forms.loader import UnknownCatalogVersion, get_catalog
from forms.logic import Visibility, shown_answers
from intake import db
from intake.clock import as_utc, utcnow
from intake.fhir.exports import questionnaire_response
from intake.fhir.site import fhir_json
from intake.intakes.drafts import visibility_for
from intake.jobs import queue
from intake.models import Intake, Job, Submission
from intake.pdf import document as pdf
from intake.pdf.job import PdfAttachment, RenderJob
from intake.pdf.summary import Summary, build_summary

log = logging.getLogger(__name__)


def submit_intake(db: Session, intake: Intake) -> Submission:
    """Freeze the answers and queue their PDF, in the caller's transaction: a crash can leave
    neither a submission without its render nor a render without its submission.

    Submitting twice returns the first submission, and queues its PDF again only when it has
    none and no render is waiting (the patient's "Send" again after a render failed for good).
    Call it with the intake's row locked (``drafts.lock_for_update``).
    """
    if intake.submission is not None:
        queue_pdf(db, intake.submission)
        return intake.submission
    catalog = get_catalog(intake.catalog_version)
    visibility = visibility_for(intake)
    submission = Submission(
        intake_id=intake.id,
        catalog_version=intake.catalog_version,
        answers=shown_answers(catalog, intake.answers or {}, visibility),
        detail_sections=sorted(visibility.detail_sections),
        clinic_opt_ins=sorted(visibility.clinic_opt_ins),
        submitted_at=utcnow(),
    )
    db.add(submission)
    try:
        db.flush()
    except IntegrityError:  # another request submitted between our read and our write
        db.rollback()
        existing = db.scalars(select(Submission).where(Submission.intake_id == intake.id)).one()
        return existing
    intake.submission = submission
    queue_pdf(db, submission)
    return submission


def queue_pdf(db: Session, submission: Submission) -> Job | None:
    """Queue the submission's PDF unless it is stored or already on its way; the job, if any."""
    if submission.pdf is not None:
        return None
    return queue.enqueue(db, "pdf", submission.intake_id)


#: How long after its last render failed for good a submission's PDF is tried again by the
#: worker's sweep (``requeue_missing_pdfs``), one attempt each time.
RETRY_FAILED_AFTER = timedelta(hours=1)


def missing_pdfs(db: Session | Connection) -> list[int]:
    """The intakes whose submission has no PDF yet, oldest first (read, without a lock)."""
    missing = select(Submission.intake_id).where(Submission.pdf.is_(None)).order_by(Submission.id)
    return list(db.scalars(missing).all())


def requeue_missing_pdfs(db: Session, intake_ids: list[int], now: datetime | None = None) -> int:
    """Queue a render for each of these submissions (``missing_pdfs``) still without its PDF and
    with none on its way: its last render failed for good more than ``RETRY_FAILED_AFTER`` ago,
    or it never had one (rows restored from a backup, a job table cleared by hand). How many
    were queued.

    The worker calls this every few minutes, a few intakes per transaction, so that no
    submission stays without its PDF until someone happens to ask for it (a font fixed, a full
    disk emptied, a renderer restarted), and no sweep holds SQLite's write lock for long. Each
    such try is a single attempt: a document that cannot be made costs one render an hour, not
    five. Each intake's row is locked first, as a download that queues a render locks it, so
    that a sweep and a download (or two workers' sweeps) never race to add the job.
    """
    now = now or utcnow()
    queued = 0
    for intake_id in intake_ids:
        intake = db.get(Intake, intake_id, with_for_update=True)
        if intake is None or intake.submission is None or intake.submission.pdf is not None:
            continue
        job = queue.latest_job(db, "pdf", intake_id)
        if job is not None and job.state != "failed":
            continue  # on its way, or stored meanwhile
        if job is not None and as_utc(job.finished_at or now) > now - RETRY_FAILED_AFTER:
            continue
        new = queue.enqueue(db, "pdf", intake_id)
        new.attempts = queue.MAX_ATTEMPTS - 1
        queued += 1
    return queued


def pdf_job(db: Session, submission: Submission) -> Job | None:
    """The newest render of this submission (queued, running, done or failed), if any."""
    return queue.latest_job(db, "pdf", submission.intake_id)


def submission_visibility(submission: Submission) -> Visibility:
    return Visibility(frozenset(submission.detail_sections), frozenset(submission.clinic_opt_ins))


def pdf_header(intake: Intake, submission: Submission) -> pdf.PdfHeader:
    tz_name = current_app.config["INTAKE_TIMEZONE"]
    submitted = submission.submitted_at
    submitted = as_utc(submitted)
    return pdf.PdfHeader(
        patient_name=intake.display_name,
        date_of_birth=intake.date_of_birth,
        mrn=intake.mrn,
        intake_id=intake.public_id,
        submitted_at=submitted.astimezone(ZoneInfo(tz_name)),
        timezone=tz_name,
    )


#: The embedded answers' file name and description: readable without opening the PDF, so they
#: say what the file is and never whose.
ANSWERS_FILE = "questionnaire-response.json"
ANSWERS_DESCRIPTION = "The answers in this summary, as a FHIR R4 QuestionnaireResponse"


def answers_attachment(intake: Intake, submission: Submission) -> PdfAttachment:
    """The submission's QuestionnaireResponse, as the PDF carries it (the same bytes as the
    export: one builder, one serialisation)."""
    return PdfAttachment(
        name=ANSWERS_FILE,
        data=fhir_json(questionnaire_response(intake, submission)),
        mime_type="application/fhir+json",
        description=ANSWERS_DESCRIPTION,
        created=as_utc(submission.submitted_at),
    )


def submission_summary(submission: Submission) -> Summary:
    """What the PDF and the clinician's page show: the frozen answers, read with the catalog
    version they were given under. Raises ``UnknownCatalogVersion``."""
    return build_summary(
        get_catalog(submission.catalog_version),
        submission.answers,
        submission_visibility(submission),
    )


@dataclass(frozen=True)
class PdfWork:
    """A submission's PDF, ready to render: read inside a transaction, rendered after it."""

    submission_id: int
    public_id: str
    job: RenderJob


def pdf_work(intake: Intake, submission: Submission) -> PdfWork:
    """The HTML and embedded answers of a submission's PDF, from its frozen answers.

    Raises ``UnknownCatalogVersion`` when the catalog version they were given under is gone.
    """
    summary = submission_summary(submission)
    header = pdf_header(intake, submission)
    try:
        attachments = [answers_attachment(intake, submission)]
    except UnknownCatalogVersion:
        # Answers from an older catalog: the summary still prints; only the FHIR copy is missing.
        log.warning("PDF of intake %s rendered without its FHIR answers", intake.public_id)
        attachments = []
    job = pdf.summary_render_job(
        summary, header, current_app.config["PDF_PAGE_SIZE"], attachments=attachments
    )
    return PdfWork(submission.id, intake.public_id, job)


def render_pdf_bytes(work: PdfWork) -> bytes:
    """Render prepared work (slow; raises ``RenderError``). Tests that never read a PDF swap
    this for a stand-in (``tests/conftest.py``, ``shared_pdf``)."""
    return pdf.render_pdf(work.job)


def make_pdf(intake_id: int) -> bool:
    """Render and store a submission's PDF unless it is stored; True when it is stored now.

    Three steps, so that no transaction is open while the renderer works (on SQLite an open
    session transaction holds the write lock, and every patient's save would wait for the
    render): read and prepare; render; store, only if no PDF was stored meanwhile (one
    submission, one PDF, whichever render ends first). A failed render is recorded on the
    submission (its error type) and raised for the worker to retry.
    """
    with db.transaction() as tx:
        submission = tx.scalars(select(Submission).where(Submission.intake_id == intake_id)).one()
        if submission.pdf is not None:
            return True
        work = pdf_work(submission.intake, submission)
    try:
        data = render_pdf_bytes(work)
    except Exception as exc:
        with db.transaction() as tx:
            failed = tx.get(Submission, work.submission_id, with_for_update=True)
            assert failed is not None
            if failed.pdf is None:
                failed.pdf_error = type(exc).__name__
        raise
    with db.transaction() as tx:
        stored = tx.get(Submission, work.submission_id, with_for_update=True)
        assert stored is not None
        if stored.pdf is None:
            stored.pdf = data
            stored.pdf_sha256 = hashlib.sha256(data).hexdigest()
            stored.pdf_renderer = pdf.RENDERER_VERSION
            stored.pdf_rendered_at = utcnow()
            stored.pdf_error = None
    return True


class NotSubmittedError(RuntimeError):
    """Only answers the patient sent can be reviewed, downloaded or sent to the EHR."""


def mark_reviewed(intake: Intake, user_id: int) -> bool:
    """Record who reviewed the submitted answers and when; True the first time only.

    A second click (another tab, another clinician) keeps the first reviewer: the worklist then
    still says who actually read it first.
    """
    if intake.submission is None:
        raise NotSubmittedError(intake.public_id)
    if intake.reviewed_at is not None:
        return False
    intake.reviewed_at = utcnow()
    intake.reviewed_by_id = user_id
    return True


def summary_filename(
    intake: Intake, submission: Submission, suffix: str = "intake-summary.pdf"
) -> pdf.DownloadName:
    """The download name: family and given name and the day it was sent, in the clinic's zone."""
    day = pdf_header(intake, submission).submitted_at.date()
    return pdf.pdf_filename(intake.family_name, intake.given_name, day, suffix)
