"""What a create achieved, and why a request failed, in words a clinician or IT person can act on.

The client does the exchange (retries, token refresh); these functions read its last answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import httpx

from intake.ehr.responses import (
    id_from_location,
    json_body,
    outcome_text,
    redirect_target,
    truncate,
)
from intake.ehr.settings import AuthMode

Outcome = Literal["created", "exists", "rejected", "failed"]


@dataclass(frozen=True)
class CreateResult:
    """How a create went, in terms the hand-off can act on.

    ``created`` and ``exists`` are both success. ``rejected``: the EHR refused this content (it
    will refuse it again; ``message`` has its reasons). ``failed``: nothing conclusive, sending
    again later is safe because creates are conditional.
    """

    outcome: Outcome
    status: int | None
    resource_id: str | None
    location: str | None
    message: str
    attempts: int

    @property
    def ok(self) -> bool:
        return self.outcome in ("created", "exists")


@dataclass(frozen=True)
class Exchange:
    """The last response of a request and its retries; ``failure`` says why it is not a usable
    answer (no response at all, or still 408, 429 or 5xx after the last retry)."""

    response: httpx.Response | None
    failure: str
    attempts: int


def tries(attempts: int) -> str:
    return f"Tried {attempts} time{'s' if attempts != 1 else ''}."


def create_result(
    exchange: Exchange, resource_type: str, *, conditional: bool, auth: AuthMode
) -> CreateResult:
    """Turn the last answer to a create into created, exists, rejected or failed."""
    response, attempts = exchange.response, exchange.attempts

    def failed(message: str, status: int | None = None) -> CreateResult:
        return CreateResult("failed", status, None, None, truncate(message), attempts)

    if response is None:
        return failed(f"{exchange.failure} {tries(attempts)}")
    status = response.status_code
    body = json_body(response)
    if exchange.failure:
        details = outcome_text(body)
        return failed(
            f"{exchange.failure} {tries(attempts)} Sending again later is safe."
            + (f" The EHR said: {details}" if details else ""),
            status,
        )
    if status in (200, 201):
        return _stored(response, body, resource_type, conditional, attempts)
    message = problem(response, body, f"the {resource_type} create", auth)
    if 400 <= status < 500 and status != 401:
        return CreateResult("rejected", status, None, None, message, attempts)
    return failed(message, status)


def _stored(
    response: httpx.Response,
    body: dict[str, Any] | None,
    resource_type: str,
    conditional: bool,
    attempts: int,
) -> CreateResult:
    status = response.status_code
    location = response.headers.get("Location") or None
    if body is None and response.content.strip() and location is None:
        message = (
            f"The EHR answered HTTP {status} with a body that is not FHIR JSON; check that "
            "EHR_FHIR_BASE_URL points at the FHIR endpoint."
        )
        return CreateResult("failed", status, None, None, message, attempts)
    resource_id = id_from_location(location, resource_type)
    if body and body.get("resourceType") == resource_type and isinstance(body.get("id"), str):
        resource_id = body["id"]
    where = f"{resource_type}/{resource_id}" if resource_id else "an id it did not give"
    if status == 200 and conditional:
        message = f"The EHR already had this {resource_type} ({where}); it was not stored twice."
        return CreateResult("exists", status, resource_id, location, message, attempts)
    message = f"The EHR stored the {resource_type} as {where}."
    return CreateResult("created", status, resource_id, location, message, attempts)


def problem(
    response: httpx.Response, body: dict[str, Any] | None, what: str, auth: AuthMode
) -> str:
    """Why a request (``what``, e.g. "the Patient read") did not succeed, with the EHR's own
    reasons when it gave an OperationOutcome."""
    status = response.status_code
    if 300 <= status < 400:
        return (
            f"The EHR server tried to redirect the request (HTTP {status}) to "
            f"{redirect_target(response)}; it was not followed. Set EHR_FHIR_BASE_URL to the "
            "server's final address."
        )
    if status == 401:
        if auth == "bearer":
            return "The EHR refused EHR_BEARER_TOKEN (HTTP 401): it may have expired."
        return (
            "The EHR refused the access token even after a fresh one (HTTP 401): check this "
            "client's registration and EHR_SCOPE with the EHR administrators."
        )
    details = outcome_text(body)
    verb = "rejected" if 400 <= status < 500 else "could not handle"
    message = f"The EHR {verb} {what} (HTTP {status} {response.reason_phrase})"
    return truncate(f"{message}: {details}" if details else f"{message}.")
