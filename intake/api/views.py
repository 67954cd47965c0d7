"""Export endpoints: thin wrappers over ``intake.fhir.exports``; each one audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from forms.loader import UnknownCatalogVersion
from intake import db
from intake.api import bp, fhir_public
from intake.api.access import caller, problem
from intake.audit import log as audit
from intake.clinician.workspace import PUBLIC_ID
from intake.fhir import exports
from intake.fhir.site import FHIR_JSON, QUESTIONNAIRE_ID, fhir_json
from intake.intakes.drafts import lock_for_update
from intake.intakes.invitations import find_by_public_id
from intake.intakes.submissions import queue_pdf, summary_filename
from intake.models import Intake, Submission
from intake.pdf.document import DownloadName


@fhir_public.get("/Questionnaire/<questionnaire>")
def questionnaire(questionnaire: str) -> ResponseReturnValue:
    """The catalog as a Questionnaire: the current version by its plain id, any released one
    (current or earlier, which stored answers point at) by its versioned id."""
    version = None
    if questionnaire != QUESTIONNAIRE_ID:
        version = questionnaire.removeprefix(f"{QUESTIONNAIRE_ID}-")
        if version == questionnaire:
            return problem(404, "No such Questionnaire.")
    try:
        resource = exports.questionnaire(version)
    except UnknownCatalogVersion:
        return problem(404, "No such Questionnaire.")
    response = Response(fhir_json(resource), mimetype=FHIR_JSON)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@fhir_public.get("/CodeSystem/<system_id>")
def code_system(system_id: str) -> ResponseReturnValue:
    """The answer codes of one question or answer set: what each code in the answers means."""
    resource = exports.code_system(system_id)
    if resource is None:
        return problem(404, "No such CodeSystem.")
    response = Response(fhir_json(resource), mimetype=FHIR_JSON)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def _file_response(data: bytes, mimetype: str, name: DownloadName) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", **name.header_options())
    response.headers["Cache-Control"] = "no-store"
    return response


def _export(
    public_id: str,
    action: str,
    build: Callable[[Intake, Submission, bytes], dict[str, Any] | bytes],
) -> tuple[Intake, Submission, dict[str, Any] | bytes | None]:
    """Find the submitted intake, build the export, audit it; 404 for unknown or unsubmitted."""
    with db.transaction() as tx:
        found = find_by_public_id(tx, public_id) if PUBLIC_ID.fullmatch(public_id) else None
        if found is None or found.submission is None:
            abort(problem(404, "No submitted intake with this id."))
        submission = found.submission
        pdf = submission.pdf
        if pdf is None:  # still being made by the worker (queued again if every try failed)
            lock_for_update(tx, found)
            queue_pdf(tx, submission)
        try:
            result = build(found, submission, pdf) if pdf is not None else None
            outcome = "ok" if result is not None else "pending"
        except UnknownCatalogVersion:
            result, outcome = None, "old_catalog"
        audit.record(tx, caller().actor, action, found.public_id, request.remote_addr, outcome)
    if outcome == "old_catalog":
        abort(
            problem(
                409,
                f"These answers were given under catalog version {submission.catalog_version}, "
                "which this service no longer has: the PDF is the record of them.",
            )
        )
    return found, submission, result


#: Seconds a client is asked to wait before asking again for an export whose PDF is being made.
PDF_RETRY_SECONDS = 5


def _pdf_pending() -> ResponseReturnValue:
    response = problem(
        503,
        "The PDF of these answers is still being made (usually within seconds of the patient "
        f"sending them). Try again in {PDF_RETRY_SECONDS} seconds.",
    )
    response.headers["Retry-After"] = str(PDF_RETRY_SECONDS)
    return response


@bp.get("/intakes/<public_id>/summary.pdf")
def summary_pdf(public_id: str) -> ResponseReturnValue:
    found, submission, data = _export(public_id, "pdf.download", lambda _i, _s, pdf: pdf)
    if not isinstance(data, bytes):
        return _pdf_pending()
    return _file_response(data, "application/pdf", summary_filename(found, submission))


def _json_export(
    public_id: str,
    action: str,
    kind: str,
    build: Callable[[Intake, Submission, bytes], dict[str, Any]],
) -> ResponseReturnValue:
    found, submission, resource = _export(public_id, action, build)
    if not isinstance(resource, dict):
        return _pdf_pending()
    name = summary_filename(found, submission, f"{kind}.json")
    return _file_response(fhir_json(resource), FHIR_JSON, name)


@bp.get("/intakes/<public_id>/questionnaire-response")
def questionnaire_response(public_id: str) -> ResponseReturnValue:
    return _json_export(
        public_id,
        "export.fhir_response",
        "questionnaire-response",
        lambda intake, submission, _pdf: exports.questionnaire_response(intake, submission),
    )


@bp.get("/intakes/<public_id>/document-reference")
def document_reference(public_id: str) -> ResponseReturnValue:
    return _json_export(
        public_id, "export.fhir_document", "document-reference", exports.document_reference
    )


@bp.get("/intakes/<public_id>/bundle")
def bundle(public_id: str) -> ResponseReturnValue:
    return _json_export(public_id, "export.fhir_bundle", "bundle", exports.transaction_bundle)
