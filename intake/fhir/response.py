"""A submission as a FHIR R4 ``QuestionnaireResponse``: only what the patient answered, typed as the
Questionnaire declares (see ``questionnaire`` for the mapping), non-answers as the catalog's codes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from forms.schema import Catalog, Item, ListField
from intake.fhir.codes import Json, Vocabulary, field_vocabulary, item_vocabulary
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


class CatalogVersionError(ValueError):
    """The answers were given under a catalog version this service does not have (its file is
    missing from ``forms/archive``)."""


def _year_answer(vocabulary: Vocabulary | None, value: Any) -> Json:
    if isinstance(value, int):
        return {"valueString": f"{value:04d}"}
    assert vocabulary is not None
    return {"valueCoding": vocabulary.coding(value)}


def _field_answers(vocabulary: Vocabulary | None, f: ListField, value: Any) -> list[Json]:
    if value is None or value == []:
        return []
    if f.type == "year":
        return [_year_answer(vocabulary, value)]
    if f.type == "text":
        return [{"valueString": value}]
    assert vocabulary is not None
    codes = value if isinstance(value, list) else [value]
    return [{"valueCoding": vocabulary.coding(code)} for code in codes]


def response_item(site: FhirSite, catalog: Catalog, item: Item, value: Any) -> list[Json]:
    """The response items for one answered question: none, one, or one per list row."""
    base: Json = {"linkId": item.id, "text": item.text}
    vocabulary = item_vocabulary(site, catalog, item)
    if item.type in ("single", "multi", "scale"):
        assert vocabulary is not None
        codes = value if isinstance(value, list) else [value]
        answers = [{"valueCoding": vocabulary.coding(str(code))} for code in codes]
        return [{**base, "answer": answers}] if answers else []
    if item.type == "year":
        return [{**base, "answer": [_year_answer(vocabulary, value)]}]
    if item.type == "text":
        return [{**base, "answer": [{"valueString": value}]}]
    if item.type == "grid":
        assert vocabulary is not None
        rows = [
            {
                "linkId": f"{item.id}.{row.code}",
                "text": row.label,
                "answer": [{"valueCoding": vocabulary.coding(value[row.code])}],
            }
            for row in item.rows
            if value.get(row.code)
        ]
        return [{**base, "item": rows}] if rows else []
    groups = []
    for row in value:  # list: one group per row, in the patient's order
        fields = [
            {"linkId": f"{item.id}.{f.id}", "text": f.label, "answer": answers}
            for f in item.fields
            if (
                answers := _field_answers(
                    field_vocabulary(site, catalog, item, f), f, row.get(f.id)
                )
            )
        ]
        if fields:
            groups.append({**base, "item": fields})
    return groups


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
        raise CatalogVersionError(
            f"answers were given under catalog {catalog_version}; this service has {catalog.version}"
        )
    groups = []
    for section in catalog.sections:
        items = [
            entry
            for item in section.items
            if answers.get(item.id) is not None
            for entry in response_item(site, catalog, item, answers[item.id])
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
