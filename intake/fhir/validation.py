"""Check resources against the ``fhir.resources`` R4B models before they leave the service.

R4B's models have the same shape as R4 for every resource we build (Questionnaire,
QuestionnaireResponse, DocumentReference, Bundle). They check structure and data types, and
reject unknown elements; they do not check value sets or profiles (the tests do that).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError


class FhirValidationError(ValueError):
    """A resource we built does not match the FHIR model: a bug here, never the patient's."""


def validate(resource: Mapping[str, Any]) -> None:
    """Raise FhirValidationError if ``resource`` is not a valid R4(B) resource of its type."""
    try:
        model = get_fhir_model_class(resource["resourceType"])
        model.model_validate(dict(resource))
    except (KeyError, ValidationError) as exc:
        raise FhirValidationError(f"{resource.get('resourceType')}: {exc}") from exc
