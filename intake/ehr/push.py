"""Send one submitted intake's document to the EHR: find the patient, create the DocumentReference
once, record and audit what the EHR answered.

The clinician's "Send to EHR" only records the send as "queued" and queues it
(``queue_send``); the background worker does it (``deliver``), in this order, which matters for
safety and for the database:

1. in a short transaction, mark the attempt "sending" (a second send while one waits or runs is
   refused; a send cut short by a killed worker stays visible, and its job is taken up again);
2. outside any transaction (on SQLite a held write transaction would block every patient's
   save), find the patient in the EHR by MRN, and refuse unless exactly one patient carries that
   very identifier and the date of birth the patient confirmed: a document must never land on the
   wrong record;
3. POST the DocumentReference with ``If-None-Exist`` on the service's own identifier, so a retry,
   a double click or a second clinician does not make a second document (the EHR decides; a
   server that does not honour conditional creates could still store two);
4. in a second short transaction, record the outcome and audit it.

The network part is bounded by EHR_SEND_BUDGET_SECONDS.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake import db
from intake.audit import log as audit
from intake.clock import as_utc, utcnow
from intake.ehr.errors import EhrError
from intake.ehr.settings import EhrSettings, ehr_settings, is_loopback, settings_problems
from intake.fhir import exports
from intake.fhir.document import document_identifier, if_none_exist
from intake.intakes.drafts import lock_for_update
from intake.intakes.invitations import find_by_public_id
from intake.intakes.submissions import NotSubmittedError, make_pdf
from intake.jobs import queue
from intake.models import EhrUpload, Intake, Submission

if TYPE_CHECKING:
    # Imported when a send starts (see there): httpx, PyJWT and cryptography stay out of workers
    # that only show the intake page.
    from intake.ehr.client import FhirClient

log = logging.getLogger(__name__)

#: Stored outcomes. "unmatched": not sent because the EHR's patient could not be trusted to be
#: this one; "queued": waiting for the background worker; "sending": under way (or cut short,
#: when it stays so past the budget).
OUTCOMES = ("created", "exists", "rejected", "failed", "unmatched", "queued", "sending")
#: The audit outcome of each upload outcome ("ok" is what the audit log calls success).
AUDIT_OUTCOME: dict[str, str] = {
    "created": "ok",
    "exists": "exists",
    "rejected": "rejected",
    "failed": "failed",
    "unmatched": "unmatched",
}

ClientFactory = Callable[[EhrSettings], "FhirClient"]


class NotConfiguredError(RuntimeError):
    """No EHR endpoint is set up: the clinic downloads the PDF instead."""


class AlreadySendingError(RuntimeError):
    """Another send of this intake is under way (a double click, a second clinician)."""


@dataclass(frozen=True)
class UploadResult:
    """What the intake page and the CLI say after a send."""

    outcome: str
    message: str
    http_status: int | None = None
    remote_id: str | None = None
    attempts: int = 0


def identity_problems(config: Any) -> list[str]:
    """Names an EHR must be able to rely on: a real MRN system, stable identifier URLs."""
    problems = []
    canonical = config["FHIR_CANONICAL_BASE"]
    if config["FHIR_MRN_SYSTEM"] == canonical + "/mrn":
        problems.append(
            "FHIR_MRN_SYSTEM is not set: set it to the identifier system of the clinic's MRNs in "
            "the EHR, or the EHR cannot find any patient."
        )
    host = canonical.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
    if is_loopback(host):
        problems.append(
            "FHIR_CANONICAL_BASE (or PUBLIC_BASE_URL) names this machine's loopback address: set "
            "it to the service's public address, once, before the first send (the EHR matches "
            "documents by it; changing it later makes duplicates)."
        )
    return problems


def configured_settings() -> EhrSettings | None:
    """The EHR settings when the feature is on and complete; None when it is off."""
    settings = ehr_settings(current_app.config)
    if settings is None:
        return None
    problems = settings_problems(settings) + identity_problems(current_app.config)
    if problems:
        raise NotConfiguredError("; ".join(problems))
    return settings


def latest_upload(tx: Session, intake: Intake) -> EhrUpload | None:
    return tx.scalars(
        select(EhrUpload).where(EhrUpload.intake_id == intake.id).order_by(EhrUpload.id.desc())
    ).first()


def send_in_progress(upload: EhrUpload | None, budget_seconds: float) -> bool:
    """A "sending" row younger than the budget (plus a margin) is a send still under way."""
    if upload is None or upload.outcome != "sending":
        return False
    age = utcnow() - as_utc(upload.attempted_at)
    return age < timedelta(seconds=budget_seconds + 30)


def search_value(text: str) -> str:
    """Escape FHIR search syntax: in ``identifier=a,b`` the comma means "or", so an MRN with a
    comma would match two patients (FHIR R4, 3.1.1.5.7: escape ``\\ , $ |``)."""
    for char in "\\,$|":
        text = text.replace(char, "\\" + char)
    return text


def _has_identifier(patient: dict[str, Any], system: str, value: str) -> bool:
    return any(
        isinstance(identifier, dict)
        and identifier.get("system") == system
        and identifier.get("value") == value
        for identifier in patient.get("identifier") or []
    )


def find_patient(client: FhirClient, system: str, mrn: str, dob: date) -> tuple[str | None, str]:
    """``Patient/<id>`` of the one EHR patient with this exact MRN and date of birth, or why not.

    The search is only a pre-filter: each result must itself carry the identifier, whatever the
    server's matching rules are.
    """
    found = client.search("Patient", {"identifier": f"{search_value(system)}|{search_value(mrn)}"})
    matching = [p for p in found if _has_identifier(p, system, mrn)]
    if not matching:
        return None, (
            f"The EHR has no patient with MRN {mrn} (identifier system {system}). "
            "Check the MRN on the intake, or download the PDF and attach it by hand."
        )
    if len(matching) > 1:
        return None, (
            f"The EHR has {len(matching)} patients with MRN {mrn}; the document was not sent. "
            "Download the PDF and attach it by hand."
        )
    patient = matching[0]
    if patient.get("birthDate") != dob.isoformat():
        return None, (
            f"The EHR's patient with MRN {mrn} has no date of birth, or another one than the "
            "patient confirmed; the document was not sent. Check the MRN."
        )
    return f"Patient/{patient['id']}", ""


def queue_send(
    public_id: str, actor: str, address: str | None = None, *, background: bool = True
) -> int:
    """Record a send as "queued" and (``background``) queue it for the worker; the upload's id.

    Refused while another send of this intake waits or runs (a double click, a second
    clinician). A web request only does this: the send itself, retries included, can take up to
    EHR_SEND_BUDGET_SECONDS, which must never hold a web worker.
    """
    if configured_settings() is None:
        raise NotConfiguredError("No EHR endpoint is configured (EHR_FHIR_BASE_URL).")
    budget = float(current_app.config["EHR_SEND_BUDGET_SECONDS"])
    with db.transaction() as tx:
        intake = find_by_public_id(tx, public_id)
        if intake is None or intake.submission is None:
            raise NotSubmittedError(public_id)
        lock_for_update(tx, intake)
        busy = queue.active_job(tx, "ehr_send", intake.id) is not None
        if busy or send_in_progress(latest_upload(tx, intake), budget):
            raise AlreadySendingError(public_id)
        upload = EhrUpload(intake_id=intake.id, actor=actor, outcome="queued", attempts=0)
        tx.add(upload)
        tx.flush()
        if background:
            queue.enqueue(
                tx, "ehr_send", intake.id, actor=actor, address=address, upload_id=upload.id
            )
    return upload.id


def deliver(
    upload_id: int, address: str | None = None, *, client_factory: ClientFactory | None = None
) -> UploadResult | None:
    """Do a queued send: make sure the PDF exists, find the patient, create the document once,
    record and audit the outcome. None when this upload has already ended (nothing to do).

    Runs in the background worker (or the CLI), never in a web request.
    """
    try:
        settings, unset = (
            configured_settings(),
            "No EHR endpoint is configured (EHR_FHIR_BASE_URL).",
        )
    except NotConfiguredError as exc:  # changed since the send was queued: say so, do not retry
        settings, unset = None, f"Sending to the EHR is not set up: {exc}"
    budget = float(current_app.config["EHR_SEND_BUDGET_SECONDS"])
    with db.transaction() as tx:
        upload = tx.get(EhrUpload, upload_id, with_for_update=True)
        if upload is None or upload.outcome not in ("queued", "sending"):
            return None
        upload.outcome = "sending"  # a send cut short by a killed worker stays visible
        upload.attempted_at = utcnow()
        intake = tx.get(Intake, upload.intake_id)
        assert intake is not None
        actor, public_id = upload.actor, intake.public_id
    if settings is None:
        result = UploadResult("failed", unset)
    else:
        result = _send(settings, upload.intake_id, budget, client_factory)
    with db.transaction() as tx:
        row = tx.get(EhrUpload, upload_id)
        assert row is not None
        row.outcome = result.outcome
        row.http_status = result.http_status
        row.attempts = result.attempts
        row.remote_id = result.remote_id
        row.message = result.message[:2000]
        audit.record(tx, actor, "ehr.send", public_id, address, AUDIT_OUTCOME[result.outcome])
    return result


def _send(
    settings: EhrSettings, intake_id: int, budget: float, client_factory: ClientFactory | None
) -> UploadResult:
    """The send itself, outside any transaction (on SQLite a held write transaction would block
    every patient's save); any error becomes a "failed" outcome."""

    def default_factory(ehr: EhrSettings) -> FhirClient:
        from intake.ehr.client import FhirClient

        return FhirClient(ehr, budget_seconds=budget)

    try:
        try:
            make_pdf(intake_id)  # stored already, unless every render so far failed
        except Exception:
            log.warning("EHR send of intake %s: its PDF could not be rendered", intake_id)
        with db.transaction() as tx:
            intake = tx.get(Intake, intake_id)
            assert intake is not None and intake.submission is not None
            submission = intake.submission
        return _deliver(
            settings, intake, submission, submission.pdf, client_factory or default_factory
        )
    except Exception as exc:  # whatever happens, the attempt is recorded and audited
        log.error("EHR send of intake %s failed: %s", intake_id, type(exc).__name__)
        return UploadResult("failed", f"The send stopped with an error ({type(exc).__name__}).")


def send(
    public_id: str,
    actor: str,
    address: str | None = None,
    *,
    client_factory: ClientFactory | None = None,
) -> UploadResult:
    """Send now and wait for the outcome (``intake send-to-ehr`` on the command line)."""
    upload_id = queue_send(public_id, actor, address, background=False)
    result = deliver(upload_id, address, client_factory=client_factory)
    assert result is not None  # this upload was just queued, and by nobody else
    return result


def _deliver(
    settings: EhrSettings,
    intake: Intake,
    submission: Submission,
    pdf: bytes | None,
    client_factory: ClientFactory,
) -> UploadResult:
    if pdf is None:
        return UploadResult("failed", "The PDF could not be rendered; nothing was sent.")
    if not intake.mrn:
        return UploadResult(
            "unmatched",
            "This intake has no MRN, so the EHR cannot tell which patient it belongs to. "
            "Download the PDF and attach it by hand.",
        )
    site = exports.current_site()
    try:
        with client_factory(settings) as client:
            reference, refusal = find_patient(
                client, site.mrn_system, intake.mrn, intake.date_of_birth
            )
            if reference is None:
                return UploadResult("unmatched", refusal)
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
