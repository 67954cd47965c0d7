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
    kind = resource.get("resourceType")
    try:
        model = get_fhir_model_class(str(kind))
    except KeyError:
        raise FhirValidationError(f"unknown resourceType {kind!r}") from None
    try:
        model.model_validate(dict(resource))
    except ValidationError as exc:
        # Where and what kind of error only: pydantic's own message quotes the input, which is
        # the patient's answers, and this message may reach a log.
        where = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['type']}"
            for error in exc.errors(include_input=False, include_url=False)
        )
        raise FhirValidationError(f"{kind}: {where}") from None
