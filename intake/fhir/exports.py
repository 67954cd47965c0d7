"""The FHIR resources of one submitted intake, built from the app's settings and checked.

This is the one place views, the CLI, the PDF renderer and the EHR upload get them from, so the
JSON a clinician downloads, the JSON inside the PDF and the JSON sent to the EHR are the same.
"""

from __future__ import annotations

import copy
from functools import cache

from flask import current_app

from forms.loader import get_catalog
from forms.schema import Catalog
from intake.clock import as_utc
from intake.fhir.answer_types import vocabularies
from intake.fhir.codes import Json, build_code_system
from intake.fhir.document import build_bundle, build_document_reference, bundle_uuid
from intake.fhir.questionnaire import build_questionnaire
from intake.fhir.response import (
    PatientRef,
    build_response,
    patient_reference,
)
from intake.fhir.site import FhirSite, site_from_config
from intake.fhir.validation import validate
from intake.models import Intake, Submission


def current_site() -> FhirSite:
    return site_from_config(current_app.config)


@cache
def _questionnaire(site: FhirSite, catalog: Catalog) -> Json:
    resource = build_questionnaire(site, catalog)
    validate(resource)
    return resource


def questionnaire(version: str | None = None) -> Json:
    """The whole catalog of ``version`` (default: the current one) as a Questionnaire, built and
    validated once per process; each caller gets its own copy, so nobody can change the public
    one by accident. Raises ``UnknownCatalogVersion``."""
    return copy.deepcopy(_questionnaire(current_site(), get_catalog(version)))


@cache
def _code_systems(site: FhirSite, catalog: Catalog) -> dict[str, Json]:
    systems = {
        system_id: build_code_system(catalog, vocabulary)
        for system_id, vocabulary in vocabularies(site, catalog).items()
    }
    for resource in systems.values():
        validate(resource)
    return systems


def code_system(system_id: str) -> Json | None:
    """One of the catalog's answer code systems, by id (a copy), or None."""
    found = _code_systems(current_site(), get_catalog()).get(system_id)
    return copy.deepcopy(found) if found is not None else None


def patient_of(intake: Intake, reference: str | None = None) -> PatientRef:
    return PatientRef(display=intake.display_name, mrn=intake.mrn, reference=reference)


def questionnaire_response(intake: Intake, submission: Submission) -> Json:
    """The submission's answers, read with the catalog version they were given under; equal
    answers give equal JSON (no clock, no random ids)."""
    catalog = get_catalog(submission.catalog_version)  # UnknownCatalogVersion if not here
    resource = build_response(
        current_site(),
        catalog,
        submission.answers,
        catalog_version=submission.catalog_version,
        public_id=intake.public_id,
        submitted_at=as_utc(submission.submitted_at),
        patient=patient_of(intake),
    )
    validate(resource)
    return resource


def document_reference(
    intake: Intake,
    submission: Submission,
    pdf: bytes,
    *,
    patient: PatientRef | None = None,
    in_bundle: bool = False,
) -> Json:
    """The PDF as a DocumentReference; ``patient`` overrides the subject (the EHR's own id)."""
    site = current_site()
    response_ref = None
    if in_bundle:
        response_ref = bundle_uuid(
            {"system": site.response_identifier_system, "value": intake.public_id}
        )
    resource = build_document_reference(
        site,
        public_id=intake.public_id,
        submitted_at=as_utc(submission.submitted_at),
        pdf=pdf,
        subject=patient_reference(site, patient or patient_of(intake)),
        response_reference=response_ref,
    )
    validate(resource)
    return resource


def transaction_bundle(intake: Intake, submission: Submission, pdf: bytes) -> Json:
    """Response and document in one transaction Bundle, each created only if not already there."""
    bundle = build_bundle(
        questionnaire_response(intake, submission),
        document_reference(intake, submission, pdf, in_bundle=True),
    )
    validate(bundle)
    return bundle
