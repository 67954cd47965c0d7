"""Send one submitted intake's document to the EHR: find the patient, create the DocumentReference
once, record and audit what the EHR answered.

Order matters for safety and for the database:

1. read what is needed, in a short transaction (no database lock is held while the network is
   slow: on SQLite a write transaction would block every patient's save);
2. find the patient in the EHR by MRN, and refuse when there is none, several, or the EHR's date
   of birth differs from the one the patient confirmed: a document must never land on the wrong
   record;
3. POST the DocumentReference with ``If-None-Exist`` on the service's own identifier, so a retry,
   a double click or a second clinician never makes a second document;
4. record the attempt and audit it, in a second short transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake import audit, db
from intake.clock import utcnow
from intake.ehr.client import FhirClient
from intake.ehr.errors import EhrError
from intake.ehr.results import Outcome
from intake.ehr.settings import EhrSettings, ehr_settings, settings_problems
from intake.fhir import exports
from intake.fhir.document import document_identifier, if_none_exist
from intake.invitations import find_by_public_id
from intake.models import EhrUpload, Intake, Submission
from intake.submissions import stored_pdf

#: The audit outcome of each upload outcome ("ok" is what the audit log calls success).
AUDIT_OUTCOME: dict[str, str] = {
    "created": "ok",
    "exists": "exists",
    "rejected": "rejected",
    "failed": "failed",
}

ClientFactory = Callable[[EhrSettings], FhirClient]


class NotConfiguredError(RuntimeError):
    """No EHR endpoint is set up: the clinic downloads the PDF instead."""


class NotSubmittedError(LookupError):
    """Only a submitted intake has a document to send."""


@dataclass(frozen=True)
class UploadResult:
    """What the intake page and the CLI say after a send."""

    outcome: Outcome
    message: str
    http_status: int | None = None
    remote_id: str | None = None
    attempts: int = 0


def configured_settings() -> EhrSettings | None:
    """The EHR settings when the feature is on and complete; None when it is off."""
    settings = ehr_settings(current_app.config)
    if settings is None:
        return None
    problems = settings_problems(settings)
    if problems:
        raise NotConfiguredError("; ".join(problems))
    return settings


def latest_upload(tx: Session, intake: Intake) -> EhrUpload | None:
    return tx.scalars(
        select(EhrUpload).where(EhrUpload.intake_id == intake.id).order_by(EhrUpload.id.desc())
    ).first()


def _find_patient(client: FhirClient, system: str, mrn: str, dob: date) -> tuple[str | None, str]:
    """``Patient/<id>`` of the one EHR patient with this MRN and date of birth, or why not."""
    found = client.search("Patient", {"identifier": f"{system}|{mrn}"})
    if not found:
        return None, (
            f"The EHR has no patient with MRN {mrn} (identifier system {system}). "
            "Check the MRN on the intake, or download the PDF and attach it by hand."
        )
    if len(found) > 1:
        return None, (
            f"The EHR has {len(found)} patients with MRN {mrn}; the document was not sent. "
            "Download the PDF and attach it by hand."
        )
    patient = found[0]
    birth = patient.get("birthDate")
    if birth and birth != dob.isoformat():
        return None, (
            f"The EHR's patient with MRN {mrn} has another date of birth than the one the patient "
            "confirmed; the document was not sent. Check the MRN."
        )
    return f"Patient/{patient['id']}", ""


def send(
    public_id: str,
    actor: str,
    address: str | None = None,
    *,
    client_factory: ClientFactory | None = None,
) -> UploadResult:
    """Send the intake's DocumentReference to the EHR once; record and audit the outcome."""
    settings = configured_settings()
    if settings is None:
        raise NotConfiguredError("No EHR endpoint is configured (EHR_FHIR_BASE_URL).")
    with db.transaction() as tx:
        intake = find_by_public_id(tx, public_id)
        if intake is None or intake.submission is None:
            raise NotSubmittedError(public_id)
        submission = intake.submission
        pdf = stored_pdf(submission)
        mrn, dob = intake.mrn, intake.date_of_birth
    result = _deliver(settings, intake, submission, pdf, mrn, dob, client_factory or FhirClient)
    with db.transaction() as tx:
        tx.add(
            EhrUpload(
                intake_id=intake.id,
                actor=actor,
                attempted_at=utcnow(),
                outcome=result.outcome,
                http_status=result.http_status,
                attempts=result.attempts,
                remote_id=result.remote_id,
                message=result.message[:2000],
            )
        )
        audit.record(tx, actor, "ehr.send", public_id, address, AUDIT_OUTCOME[result.outcome])
    return result


def _deliver(
    settings: EhrSettings,
    intake: Intake,
    submission: Submission,
    pdf: bytes | None,
    mrn: str | None,
    dob: date,
    client_factory: ClientFactory,
) -> UploadResult:
    if pdf is None:
        return UploadResult("failed", "The PDF could not be rendered; nothing was sent.")
    if not mrn:
        return UploadResult(
            "failed",
            "This intake has no MRN, so the EHR cannot tell which patient it belongs to. "
            "Download the PDF and attach it by hand.",
        )
    site = exports.current_site()
    try:
        with client_factory(settings) as client:
            reference, refusal = _find_patient(client, site.mrn_system, mrn, dob)
            if reference is None:
                return UploadResult("failed", refusal)
            patient = exports.patient_of(intake, reference)
            document = exports.document_reference(intake, submission, pdf, patient=patient)
            condition = if_none_exist(document_identifier(site, intake.public_id))
            created = client.create("DocumentReference", document, if_none_exist=condition)
    except EhrError as exc:
        return UploadResult("failed", str(exc), http_status=exc.status)
    return UploadResult(
        created.outcome,
        created.message,
        http_status=created.status,
        remote_id=created.resource_id,
        attempts=created.attempts,
    )
