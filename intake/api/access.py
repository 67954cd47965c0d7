"""Who is asking: an API token (``Authorization: Bearer itk_...``) or a clinician's live session.

A guard on the whole blueprint, as for the clinic pages: a new endpoint is protected without anyone
remembering to. Answers are JSON (an API client cannot follow a sign-in page).

A refused token (unknown, revoked, expired, or its creator's account disabled) gets one and the
same 401, and is audited as ``api.token_refused`` with the client's address and the reason as the
outcome; never the secret that was sent, only the token's id (as target) when it names a stored
token. Requests with no credential at all are not audited (any browser can send one).

There is no rate limit on the API, on purpose: a token is 256 random bits, so there is nothing to
guess, and a lock per address would let one misconfigured channel of an interface engine (a
revoked token in a retry loop) lock out every other system behind the same address. What a flood
of bad tokens could do is grow the append-only audit log, so refusals are audited under quotas per
hour (``REFUSAL_WINDOW``): at most ``PER_TOKEN`` rows naming one stored token, ``PER_ADDRESS`` rows
of unknown secrets from one address, and ``ALL_UNKNOWN`` rows of unknown secrets from all addresses
together. That is at most 2,400 rows a day of unknown secrets whatever the attacker does, and the
first refusals of each kind in an hour are always there. When a quota fills up, the service log
says so once; later refusals in that hour still get their 401, without an audit row. Quotas are
counted without the audit chain's lock, so that refusals beyond them never wait for it: a few
workers refusing at the same instant may each write one row past a quota.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from intake import db
from intake.api import bp, fhir_public
from intake.audit import log as audit
from intake.auth.accounts import current_session
from intake.auth.api_tokens import check_token
from intake.clinician.access import cookie_token, settings
from intake.clock import utcnow
from intake.edge import UnstorableInput
from intake.models import AuditEvent

REFUSED = "api.token_refused"
REFUSAL_WINDOW = timedelta(hours=1)
PER_TOKEN = 10
PER_ADDRESS = 10
ALL_UNKNOWN = 100
REFUSED_TEXT = "This API token is not valid: it is unknown, revoked or expired."


@dataclass(frozen=True)
class Caller:
    """The account or token behind a request, as the audit log names it."""

    actor: str


def caller() -> Caller:
    found: Caller = g.api_caller
    return found


def problem(status: int, text: str) -> Response:
    """A FHIR OperationOutcome: what FHIR clients expect to read an error from."""
    code = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found"}.get(
        status, "processing"
    )
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


def unstorable_input(_error: UnstorableInput) -> Response:
    """A NUL in a path or query (intake.edge), answered as FHIR clients read errors."""
    return problem(
        400, "The request contains a character that cannot be stored (NUL). Nothing was changed."
    )


for _blueprint in (bp, fhir_public):
    _blueprint.register_error_handler(UnstorableInput, unstorable_input)


def _recent_refusals(tx: Session, *where: ColumnElement[bool]) -> int:
    since = utcnow() - REFUSAL_WINDOW
    query = select(func.count()).select_from(AuditEvent)
    count = tx.scalar(query.where(AuditEvent.action == REFUSED, AuditEvent.at > since, *where))
    return count or 0


def _quota_left(tx: Session, token_id: int | None, address: str | None) -> bool:
    """Whether this refusal may still be audited this hour; logs once when a quota fills up."""
    if token_id is not None:
        quotas = [(AuditEvent.target == audit.token_ref(token_id), PER_TOKEN, f"token {token_id}")]
    else:
        unknown = AuditEvent.target.is_(None)
        same_address = AuditEvent.address == address if address else AuditEvent.address.is_(None)
        quotas = [
            (unknown & same_address, PER_ADDRESS, f"address {address}"),
            (unknown, ALL_UNKNOWN, "all addresses"),
        ]
    counted = [(_recent_refusals(tx, where), limit, whom) for where, limit, whom in quotas]
    if any(count >= limit for count, limit, _whom in counted):
        return False
    for count, limit, whom in counted:
        if count == limit - 1:  # the row about to be written is the last one
            current_app.logger.warning(
                "API: %d refused token attempts this hour for %s; further ones get their 401 "
                "without an audit row until the hour is over",
                limit,
                whom,
            )
    return True


def refuse_token(
    tx: Session, reason: str, token_id: int | None = None, text: str = REFUSED_TEXT
) -> Response:
    """The 401 for a credential that may not be used, audited within the quotas."""
    address = request.remote_addr
    if _quota_left(tx, token_id, address):
        target = audit.token_ref(token_id) if token_id is not None else None
        audit.record(tx, "anonymous", REFUSED, address=address, outcome=reason, target=target)
    return problem(401, text)


@bp.before_request
def require_caller() -> ResponseReturnValue | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    with db.transaction() as tx:
        if header:
            if scheme.lower() != "bearer":
                text = "Use an API token: Authorization: Bearer <token>."
                return refuse_token(tx, "not_bearer", text=text)
            checked = check_token(tx, secret.strip())
            token = checked.usable
            if token is None:
                known = checked.token.id if checked.token is not None else None
                return refuse_token(tx, checked.refusal or "unknown", known)
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
