"""Submitting: freeze the shown answers once, then render and store the PDF (again on demand)."""

from __future__ import annotations

import hashlib
import logging
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from forms.loader import UnknownCatalogVersion, get_catalog
from forms.logic import Visibility, shown_answers
from intake.clock import as_utc, utcnow
from intake.fhir.exports import questionnaire_response
from intake.fhir.site import fhir_json
from intake.intakes.drafts import visibility_for
from intake.models import Intake, Submission
from intake.pdf import document as pdf
from intake.pdf.job import PdfAttachment
from intake.pdf.summary import Summary, build_summary

log = logging.getLogger(__name__)


def submit_intake(db: Session, intake: Intake) -> Submission:
    """Freeze the answers; submitting twice returns the first submission."""
    if intake.submission is not None:
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
    return submission


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


def render_pdf_bytes(intake: Intake, submission: Submission) -> bytes:
    """Render the summary of a submission from its frozen answers, with them embedded as FHIR."""
    summary = submission_summary(submission)
    header = pdf_header(intake, submission)
    try:
        attachments = [answers_attachment(intake, submission)]
    except UnknownCatalogVersion:
        # Answers from an older catalog: the summary still prints; only the FHIR copy is missing.
        log.warning("PDF of intake %s rendered without its FHIR answers", intake.public_id)
        attachments = []
    return pdf.render_summary_pdf(
        summary, header, current_app.config["PDF_PAGE_SIZE"], attachments=attachments
    )


def store_pdf(submission: Submission) -> bool:
    """Render and store the PDF; a failure is recorded and the submission still stands."""
    try:
        data = render_pdf_bytes(submission.intake, submission)
    except Exception as exc:  # the submission must survive any renderer failure
        log.exception("PDF rendering failed for intake %s", submission.intake.public_id)
        submission.pdf_error = type(exc).__name__
        return False
    submission.pdf = data
    submission.pdf_sha256 = hashlib.sha256(data).hexdigest()
    submission.pdf_renderer = pdf.RENDERER_VERSION
    submission.pdf_rendered_at = utcnow()
    submission.pdf_error = None
    return True


def stored_pdf(submission: Submission) -> bytes | None:
    """The stored PDF, rendering it now if the first attempt failed."""
    if submission.pdf is None:
        store_pdf(submission)
    return submission.pdf


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
