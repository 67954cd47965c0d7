"""This installation's FHIR names: canonical URLs, identifier systems and the document type."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: The Questionnaire's id at the public URL (``/fhir/Questionnaire/<id>``) and its computable name.
QUESTIONNAIRE_ID = "intake-history"
QUESTIONNAIRE_NAME = "IntakeHistory"
QUESTIONNAIRE_TITLE = "Pre-visit history: possible triggers and the reactions that follow them"
#: The media type of every FHIR resource the service sends or serves.
FHIR_JSON = "application/fhir+json"


@dataclass(frozen=True)
class FhirSite:
    """Names that must stay the same for the life of an installation (receivers match on them)."""

    canonical_base: str
    mrn_system: str
    document_type_system: str
    document_type_code: str
    document_type_display: str
    timezone: str

    @property
    def questionnaire_url(self) -> str:
        return f"{self.canonical_base}/Questionnaire/{QUESTIONNAIRE_ID}"

    @property
    def response_identifier_system(self) -> str:
        return f"{self.canonical_base}/questionnaire-response"

    @property
    def document_identifier_system(self) -> str:
        """``If-None-Exist`` matches on this: one document per intake, however often it is sent."""
        return f"{self.canonical_base}/document"


def site_from_config(config: Mapping[str, Any]) -> FhirSite:
    system, code, display = config["FHIR_DOCUMENT_TYPE"].split("|")
    return FhirSite(
        canonical_base=config["FHIR_CANONICAL_BASE"],
        mrn_system=config["FHIR_MRN_SYSTEM"],
        document_type_system=system,
        document_type_code=code,
        document_type_display=display,
        timezone=config["INTAKE_TIMEZONE"],
    )


def fhir_json(resource: Mapping[str, Any]) -> bytes:
    """The one serialisation of every resource: key order as built, UTF-8, no whitespace.

    Exports, the PDF attachment and the upload all use it, so equal answers give equal bytes.
    Compact, because the same bytes ride inside every PDF (and its 100 KB budget).
    """
    return json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
