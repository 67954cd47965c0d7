"""The PDF summary as a US Core ``DocumentReference``, and the transaction ``Bundle`` of response
and document that a FHIR server can take in one request."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import datetime
from typing import Any

from intake.fhir.codes import Json
from intake.fhir.response import fhir_datetime
from intake.fhir.site import FhirSite

US_CORE_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
FORMAT_SYSTEM = "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode"
#: HL7 v3 ObservationValue PATAST: "patient asserted", information the patient reported.
PATIENT_ASSERTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "PATAST",
    "display": "patient asserted",
}
DOCUMENT_TITLE = "Pre-visit history summary (reported by the patient)"


def document_identifier(site: FhirSite, public_id: str) -> Json:
    return {"system": site.document_identifier_system, "value": public_id}


def if_none_exist(identifier: Json) -> str:
    """The ``If-None-Exist`` query that finds an earlier upload of the same thing."""
    return f"identifier={identifier['system']}|{identifier['value']}"


def build_document_reference(
    site: FhirSite,
    *,
    public_id: str,
    submitted_at: datetime,
    pdf: bytes,
    subject: Json,
    response_reference: str | None = None,
) -> Json:
    """A DocumentReference carrying the PDF itself (base64), its size and SHA-1 as US Core wants.

    ``context.related`` names the QuestionnaireResponse by its identifier, and, inside a
    transaction Bundle, also by ``response_reference`` (the Bundle's ``urn:uuid:`` for it).
    """
    when = fhir_datetime(submitted_at, site.timezone)
    related: Json = {}
    if response_reference:
        related["reference"] = response_reference
    related["type"] = "QuestionnaireResponse"
    related["identifier"] = {"system": site.response_identifier_system, "value": public_id}
    return {
        "resourceType": "DocumentReference",
        "identifier": [document_identifier(site, public_id)],
        "status": "current",
        "docStatus": "final",
        "type": {
            "coding": [
                {
                    "system": site.document_type_system,
                    "code": site.document_type_code,
                    "display": site.document_type_display,
                }
            ],
            "text": site.document_type_display,
        },
        "category": [
            {
                "coding": [
                    {
                        "system": US_CORE_CATEGORY,
                        "code": "clinical-note",
                        "display": "Clinical Note",
                    }
                ]
            }
        ],
        "subject": subject,
        "date": when,
        "author": [subject],
        "description": "Answers to the pre-visit history questionnaire, as the patient gave them.",
        "securityLabel": [{"coding": [PATIENT_ASSERTED]}],
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "language": "en",
                    "data": base64.b64encode(pdf).decode("ascii"),
                    "size": len(pdf),
                    "hash": base64.b64encode(hashlib.sha1(pdf).digest()).decode("ascii"),  # noqa: S324 - FHIR R4 defines the hash as SHA-1
                    "title": DOCUMENT_TITLE,
                    "creation": when,
                },
                "format": {
                    "system": FORMAT_SYSTEM,
                    "code": "urn:ihe:iti:xds:2017:mimeTypeSufficient",
                    "display": "mimeType Sufficient",
                },
            }
        ],
        "context": {"period": {"start": when, "end": when}, "related": [related]},
    }


def bundle_uuid(identifier: Json) -> str:
    """A stable ``urn:uuid:`` for a resource in a Bundle, derived from its identifier."""
    name = f"{identifier['system']}|{identifier['value']}"
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def build_bundle(response: Json, document: Json) -> Json:
    """A transaction: create the response and the document unless they already exist.

    Each entry has ``ifNoneExist`` on its identifier, so posting the Bundle twice changes nothing.
    The document's ``context.related`` must already point at the response's ``urn:uuid:``
    (``bundle_uuid(response["identifier"])``); the server rewrites it to the new id.
    """
    response_url = bundle_uuid(response["identifier"])
    document_url = bundle_uuid(document["identifier"][0])
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            _entry(response_url, response, if_none_exist(response["identifier"])),
            _entry(document_url, document, if_none_exist(document["identifier"][0])),
        ],
    }


def _entry(full_url: str, resource: Json, condition: str) -> dict[str, Any]:
    return {
        "fullUrl": full_url,
        "resource": resource,
        "request": {
            "method": "POST",
            "url": resource["resourceType"],
            "ifNoneExist": condition,
        },
    }
