"""Two-factor sign-in pages, the rule that can make it compulsory, and the session keep-alive.

Until the code is accepted there is no session: only a note in Flask's signed cookie says whose
password was right. It holds no secret, lasts five minutes, and all it allows is typing a code,
which counts in the same sign-in limits as passwords.
"""

from __future__ import annotations

import math
import time
from datetime import timedelta
from typing import Any

from flask import current_app, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from intake import db
from intake.audit import log as audit
from intake.auth import accounts, totp
from intake.clinician import bp, resume
from intake.clinician.access import cookie_token, set_cookie, settings, signed_in
from intake.clinician.forms import CodeForm, TurnOffForm
from intake.models import User
from intake.tokens import hash_token

PENDING = "clinic_pending_sign_in"
PENDING_LIFETIME = timedelta(minutes=5)


def totp_key() -> str:
    """The key material the stored TOTP secrets are encrypted under (see intake.auth.totp)."""
    return str(current_app.config["TOTP_ENCRYPTION_KEY"] or current_app.config["SECRET_KEY"])


def _minutes(wait: timedelta) -> int:
    return max(1, math.ceil(wait.total_seconds() / 60))


def _code_error(check: totp.CodeCheck) -> tuple[str, int]:
    """The message and status for a refused code (the same for a wrong password beside it)."""
    if check.wait:
        message = ngettext(
            "Too many wrong tries: wait %(num)s minute, then try again.",
            "Too many wrong tries: wait %(num)s minutes, then try again.",
            _minutes(check.wait),
        )
        return message, 429
    if check.outcome == "replayed":
        return _("This code was already used. Wait for the next one, then enter it."), 401
    return _("This code is wrong or too old. Enter the code your app shows now."), 401


# --- the code step of signing in --------------------------------------------------------------


def _pending_user() -> int | None:
    note = session.get(PENDING)
    if not isinstance(note, dict) or not isinstance(note.get("user"), int):
        return None
    if time.time() - float(note.get("at", 0)) > PENDING_LIFETIME.total_seconds():
        return None
    return int(note["user"])


def _code_page(form: CodeForm, error: str | None, status: int) -> ResponseReturnValue:
    page = render_template(
        "clinician/login_code.html", form=form, error=error, **resume.login_context()
    )
    return page, status


def ask_for_code(user_id: int) -> ResponseReturnValue:
    """After a right password for an account with two-factor sign-in: ask for the code next."""
    session[PENDING] = {"user": user_id, "at": int(time.time())}
    context = resume.login_context()
    if context["carry"]:  # the fields a form kept must travel on in this page
        return _code_page(CodeForm(formdata=None), None, 200)
    return redirect(url_for("clinician.login_code", next=context["next_path"]), 303)


@bp.route("/login/code", methods=["GET", "POST"])
def login_code() -> ResponseReturnValue:
    """Sign in, step two: the code from the authenticator app. The session starts only here."""
    user_id = _pending_user()
    if user_id is None:
        return redirect(url_for("clinician.login", done="code_expired"), 303)
    form = CodeForm()
    if not form.validate_on_submit():
        return _code_page(form, None, 422 if form.errors else 200)
    address = request.remote_addr
    token = None
    with db.transaction() as tx:
        user = tx.get(User, user_id)
        if user is None or user.disabled_at is not None or not totp.is_enabled(user):
            session.pop(PENDING, None)
            return redirect(url_for("clinician.login"), 303)
        check = totp.check_code(tx, user, form.code.data or "", address, settings(), totp_key())
        if check.outcome == "ok":
            accounts.end_session(tx, cookie_token())  # an earlier session in this browser
            token = accounts.start_session(tx, user, address)
        audit.record(
            tx, audit.user_ref(user.id), "auth.totp", address=address, outcome=check.outcome
        )
    if token is None:
        return _code_page(form, *_code_error(check))
    session.pop(PENDING, None)
    resume.new_csrf_token()
    response = resume.after_sign_in(**resume.login_context())
    set_cookie(response, token)
    return response


# --- turning it on and off --------------------------------------------------------------------


def _settings_page(
    user: User,
    secret: str | None,
    code_form: CodeForm | None = None,
    off_form: TurnOffForm | None = None,
    error: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    qr_code = secret_text = None
    if secret is not None:
        issuer = str(current_app.config["CLINIC_NAME"] or "Pre-visit intake")
        uri = totp.provisioning_uri(secret, user.email, issuer)
        qr_code = totp.qr_code_svg(uri, _("QR code for your authenticator app"))
        secret_text = totp.format_secret(secret)
    page = render_template(
        "clinician/two_factor.html",
        enabled_at=user.totp_enabled_at,
        required=current_app.config["REQUIRE_TOTP"],
        qr_code=qr_code,
        secret=secret_text,
        code_form=code_form or CodeForm(formdata=None),
        off_form=off_form or TurnOffForm(formdata=None),
        error=error,
        done=request.args.get("done"),
    )
    return page, status


@bp.route("/account/two-factor", methods=["GET", "POST"])
def two_factor() -> ResponseReturnValue:
    """Two-factor sign-in for the signed-in account: its state, or setting it up (a QR code and
    the same key as text), turned on only by a code that proves the app has the key."""
    clinician = signed_in()
    form = CodeForm()
    enabled = False
    with db.transaction() as tx:
        user = tx.get(User, clinician.user_id)
        assert user is not None  # the guard found its live session
        secret = None if totp.is_enabled(user) else totp.enrolment_secret(tx, user, totp_key())
        if secret is not None and form.validate_on_submit():
            session_id = hash_token(cookie_token() or "")
            enabled = totp.confirm_enrolment(tx, user, form.code.data or "", totp_key(), session_id)
            if enabled:
                address = request.remote_addr
                audit.record(tx, clinician.actor, "user.totp_enable", address=address)
            else:
                form.code.errors.append(
                    _("This code is wrong or too old. Enter the code your app shows now.")
                )
    if enabled:
        return redirect(url_for("clinician.two_factor", done="on"), 303)
    return _settings_page(user, secret, code_form=form, status=422 if form.errors else 200)


@bp.post("/account/two-factor/off")
def two_factor_off() -> ResponseReturnValue:
    """Turn two-factor sign-in off: the password and a current code, both checked under the
    sign-in limits (a session left open must not be enough to weaken the account)."""
    clinician = signed_in()
    form = TurnOffForm()
    with db.transaction() as tx:
        user = tx.get(User, clinician.user_id)
        assert user is not None
        if not totp.is_enabled(user) or current_app.config["REQUIRE_TOTP"]:
            return redirect(url_for("clinician.two_factor"), 303)
        if not form.validate_on_submit():
            return _settings_page(user, None, off_form=form, status=422)
        check = totp.check_code(
            tx,
            user,
            form.code.data or "",
            request.remote_addr,
            settings(),
            totp_key(),
            password=form.password.data or "",
        )
        if check.outcome == "ok":
            totp.turn_off(user)
        audit.record(
            tx,
            clinician.actor,
            "user.totp_disable",
            address=request.remote_addr,
            outcome=check.outcome,
        )
    if check.outcome == "ok":
        return redirect(url_for("clinician.two_factor", done="off"), 303)
    message, status = _code_error(check)
    if status == 401:
        message = _("The password or the code is wrong.")
    return _settings_page(user, None, off_form=form, error=message, status=status)


# --- the session clock ------------------------------------------------------------------------


@bp.post("/session/keepalive")
def keepalive() -> ResponseReturnValue:
    """The notice's "Stay signed in": the guard has just restarted the idle clock (this request
    is activity); tell the page how long it has now. CSRF-protected like every POST."""
    return {"signed_in": True, "idle_seconds": signed_in().seconds_left}


@bp.context_processor
def session_clock() -> dict[str, Any]:
    """What every clinic page's layout needs: how long until the idle timeout (app.js warns
    before it), and who is signed in (for the links to account and admin pages)."""
    clinician = g.get("clinician")
    return {
        "idle_seconds": clinician.seconds_left if clinician is not None else None,
        "signed_in_as": clinician,
    }
