"""A submission as a FHIR R4 ``QuestionnaireResponse``: only what the patient answered, typed as the
Questionnaire declares (see ``answer_types`` for the mapping), non-answers as the catalog's codes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from forms.schema import Catalog
from intake.fhir.answer_types import fhir_type
from intake.fhir.codes import Json
from intake.fhir.site import FhirSite


@dataclass(frozen=True)
class PatientRef:
    """Who the answers are about, as a receiving system can match them.

    ``reference`` is a literal ``Patient/<id>`` on the receiving server, known only when
    uploading (the EHR looks the patient up by MRN first); exports carry the MRN identifier.
    """

    display: str
    mrn: str | None
    reference: str | None = None


def patient_reference(site: FhirSite, patient: PatientRef) -> Json:
    result: Json = {}
    if patient.reference:
        result["reference"] = patient.reference
    result["type"] = "Patient"
    if patient.mrn:
        result["identifier"] = {"system": site.mrn_system, "value": patient.mrn}
    result["display"] = patient.display
    return result


def fhir_datetime(moment: datetime, timezone: str) -> str:
    """A FHIR dateTime/instant in the clinic's zone, to the second, with its offset."""
    if moment.tzinfo is None:
        raise ValueError("a FHIR dateTime needs a timezone-aware datetime")
    return moment.astimezone(ZoneInfo(timezone)).isoformat(timespec="seconds")


def build_response(
    site: FhirSite,
    catalog: Catalog,
    answers: Mapping[str, Any],
    *,
    catalog_version: str,
    public_id: str,
    submitted_at: datetime,
    patient: PatientRef,
) -> Json:
    """The QuestionnaireResponse of a submission. No id: the receiving server assigns one; the
    identifier (the intake id) is what makes it findable and the upload idempotent."""
    if catalog_version != catalog.version:
        raise ValueError(  # a caller's mistake: exports load the answers' own version
            f"answers were given under catalog {catalog_version}; this service has {catalog.version}"
        )
    groups = []
    for section in catalog.sections:
        items = [
            entry
            for item in section.items
            if answers.get(item.id) is not None
            for entry in fhir_type(item).response_items(site, catalog, item, answers[item.id])
        ]
        if items:
            groups.append({"linkId": section.id, "text": section.title, "item": items})
    subject = patient_reference(site, patient)
    return {
        "resourceType": "QuestionnaireResponse",
        "identifier": {"system": site.response_identifier_system, "value": public_id},
        "questionnaire": f"{site.questionnaire_url}|{catalog.version}",
        "status": "completed",
        "subject": subject,
        "authored": fhir_datetime(submitted_at, site.timezone),
        "source": subject,
        "item": groups,
    }
