"""Who is signed in, and who may reach which clinic page: the clinic's one guard.

A session is server-side, named by a random token in the ``intake_clinic`` cookie. The cookie is
separate from Flask's signed session cookie (which patients use, and which logout could not
revoke), and its path keeps it off patient pages.

``guard`` is one ``before_request`` for the whole blueprint (registered in
``intake.clinician``), not a decorator on each view: a new clinic page is protected without anyone
remembering to protect it. It checks, in this order and each relying on the one before: a live
session (only ``PUBLIC_ENDPOINTS`` are open without one), two-factor enrolment where REQUIRE_TOTP
asks for it, and the admin role on the admin blueprint's pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from intake import db
from intake.audit import log as audit
from intake.auth.accounts import Settings, current_session, seconds_left
from intake.clinician import resume
from intake.clock import utcnow

COOKIE = "intake_clinic"
COOKIE_PATH = "/clinic"
#: The only clinician endpoints a browser without a live session may reach.
PUBLIC_ENDPOINTS = frozenset({"clinician.login", "clinician.login_code", "clinician.set_password"})
#: All that an account made to enrol (REQUIRE_TOTP) may reach until it has.
ENROLMENT_ENDPOINTS = frozenset({"clinician.two_factor", "clinician.logout", "clinician.keepalive"})
#: Every page of this blueprint (intake.clinician.admin) needs the admin role.
ADMIN_BLUEPRINT = "clinician.admin"


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


def guard() -> ResponseReturnValue | None:
    """Let a request through to a clinic page only if every check passes; else the first refusal."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    for check in (require_sign_in, require_two_factor, require_admin):
        refusal = check()
        if refusal is not None:
            return refusal
    return None


def require_sign_in() -> ResponseReturnValue | None:
    """Let a request through only with a live session; send everyone else to the sign-in page."""
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


def require_two_factor() -> ResponseReturnValue | None:
    """With REQUIRE_TOTP, a signed-in account without two-factor sign-in reaches nothing but the
    page that sets it up."""
    if signed_in().two_factor or not current_app.config["REQUIRE_TOTP"]:
        return None
    if request.endpoint in ENROLMENT_ENDPOINTS:
        return None
    if resume.wants_json():
        return {"error": "two_factor_required"}, 403
    return redirect(url_for("clinician.two_factor"), 303)


def require_admin() -> ResponseReturnValue | None:
    """Clinicians get 403 on admin pages: the role is checked on the server for every one."""
    if ADMIN_BLUEPRINT in request.blueprints and signed_in().role != "admin":
        return render_template("clinician/forbidden.html"), 403
    return None
