"""Who is asking: an API token (``Authorization: Bearer itk_...``) or a clinician's live session.

A guard on the whole blueprint, as for the clinic pages: a new endpoint is protected without anyone
remembering to. Answers are JSON (an API client cannot follow a sign-in page).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from intake import audit, db
from intake.accounts import current_session
from intake.api import bp
from intake.api_tokens import find_token
from intake.clinician.access import cookie_token, settings


@dataclass(frozen=True)
class Caller:
    """The account or token behind a request, as the audit log names it."""

    actor: str


def caller() -> Caller:
    found: Caller = g.api_caller
    return found


def problem(status: int, text: str) -> Response:
    """A FHIR OperationOutcome: what FHIR clients expect to read an error from."""
    code = {401: "login", 403: "forbidden", 404: "not-found"}.get(status, "processing")
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": text}],
    }
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/fhir+json"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="intake"'
    return response


@bp.before_request
def require_caller() -> ResponseReturnValue | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    with db.transaction() as tx:
        if header:
            if scheme.lower() != "bearer":
                return problem(401, "Use an API token: Authorization: Bearer <token>.")
            token = find_token(tx, secret.strip())
            if token is None:
                return problem(401, "This API token is not valid, or it was revoked.")
            g.api_caller = Caller(f"token:{token.id}")
            return None
        row = current_session(tx, cookie_token(), settings())
        if row is None:
            return problem(401, "Sign in to the clinic pages, or send an API token.")
        user = row.user
        if current_app.config["REQUIRE_TOTP"] and user.totp_enabled_at is None:
            return problem(403, "This account must set up two-factor sign-in first.")
        g.api_caller = Caller(audit.user_ref(user.id))
    return None
