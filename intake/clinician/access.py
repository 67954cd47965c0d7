"""Who is signed in: a server-side session named by a random token in the ``intake_clinic`` cookie.

The guard is a ``before_request`` on the whole blueprint, not a decorator on each view: a new
clinician page is protected without anyone remembering to protect it. Only the endpoints in
``PUBLIC_ENDPOINTS`` are open. The cookie is separate from Flask's signed session cookie (which
patients use, and which logout could not revoke), and its path keeps it off patient pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from intake import db
from intake.audit import log as audit
from intake.auth.accounts import Settings, current_session, seconds_left
from intake.clinician import bp, resume
from intake.clock import utcnow

COOKIE = "intake_clinic"
COOKIE_PATH = "/clinic"
#: The only clinician endpoints a browser without a live session may reach.
PUBLIC_ENDPOINTS = frozenset({"clinician.login", "clinician.login_code", "clinician.set_password"})


@dataclass(frozen=True)
class Clinician:
    """The signed-in account, as plain data for views and templates."""

    user_id: int
    email: str
    role: str
    #: Whether the account signs in with a code as well (intake.auth.totp).
    two_factor: bool = False
    #: How long the session lasts without another request (the page warns before it ends).
    seconds_left: int = 0

    @property
    def actor(self) -> str:
        """How the audit log names this account."""
        return audit.user_ref(self.user_id)


def settings() -> Settings:
    return Settings.from_config(current_app.config)


def signed_in() -> Clinician:
    """The account the guard let through (every non-public clinician view has one)."""
    clinician: Clinician = g.clinician
    return clinician


def set_cookie(response: Response, token: str) -> None:
    # No expiry: the browser forgets it on close, and the server ends it sooner or later anyway.
    response.set_cookie(
        COOKIE,
        token,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )


def forget_cookie(response: Response) -> None:
    response.delete_cookie(
        COOKIE,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )


def cookie_token() -> str | None:
    return request.cookies.get(COOKIE)


@bp.before_request
def require_sign_in() -> ResponseReturnValue | None:
    """Let a request through only with a live session; send everyone else to the sign-in page."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    token = cookie_token()
    with db.transaction() as tx:
        row = current_session(tx, token, settings())
        if row is not None:
            user = row.user
            g.clinician = Clinician(
                user.id,
                user.email,
                user.role,
                two_factor=user.totp_enabled_at is not None,
                seconds_left=seconds_left(row, settings(), utcnow()),
            )
    if row is not None:
        return None
    # A form posted now keeps its fields through sign-in; everyone else goes to sign in.
    response = resume.session_ended(had_cookie=token is not None)
    forget_cookie(response)
    return response
