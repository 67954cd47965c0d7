"""Clinician routes: sign in, sign out, set a password from a one-time link, and the home page."""

from __future__ import annotations

import math
from datetime import timedelta

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf.csrf import CSRFError

from intake import db
from intake.audit import log as audit
from intake.auth import accounts
from intake.auth.passwords import PasswordRejected
from intake.clinician import bp, resume, security_views
from intake.clinician.access import (
    cookie_token,
    forget_cookie,
    set_cookie,
    settings,
    signed_in,
)
from intake.clinician.forms import LoginForm, SetPasswordForm
from intake.edge import UnstorableInput


def _minutes(wait: timedelta) -> int:
    return max(1, math.ceil(wait.total_seconds() / 60))


def _login_page(
    form: LoginForm, error: str | None, status: int, signed_in_as: str | None = None
) -> ResponseReturnValue:
    # Only names the template knows are shown: the query string cannot inject text.
    notice = "ended" if request.args.get("ended") else request.args.get("done")
    page = render_template(
        "clinician/login.html",
        form=form,
        error=error,
        notice=notice,
        signed_in_as=signed_in_as,
        **resume.login_context(),
    )
    return page, status


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Sign in. A new session and token every time, so a token planted earlier is worthless.

    A browser that is already signed in still gets the form, with whose account it is in: a
    session cookie planted by someone else would otherwise open their worklist unnoticed, and
    what this clinician then did would happen in that account.
    """
    form = LoginForm()
    if not form.validate_on_submit():
        live = _live_session_email() if request.method == "GET" else None
        return _login_page(form, None, 422 if form.errors else 200, signed_in_as=live)
    address = request.remote_addr
    email = form.email.data or ""
    with db.transaction() as tx:
        result = accounts.authenticate(tx, email, form.password.data or "", address, settings())
        token = None
        if result.user is not None and not result.needs_code:
            accounts.end_session(tx, cookie_token())  # an earlier session in this browser
            token = accounts.start_session(tx, result.user, address)
        known = result.user or accounts.find_user(tx, email)
        actor = audit.user_ref(known.id) if known is not None else "anonymous"
        outcome = "needs_code" if result.needs_code else result.outcome
        audit.record(tx, actor, "auth.login", address=address, outcome=outcome)
    if result.user is not None and result.needs_code:
        return security_views.ask_for_code(result.user.id)
    if token is not None:
        resume.new_csrf_token()
        response = resume.after_sign_in(**resume.login_context())
        set_cookie(response, token)
        return response
    if result.wait:
        error = ngettext(
            "Email or password is wrong, or there were too many tries: wait %(num)s minute, "
            "then try again.",
            "Email or password is wrong, or there were too many tries: wait %(num)s minutes, "
            "then try again.",
            _minutes(result.wait),
        )
        return _login_page(form, error, 429)
    return _login_page(form, _("Email or password is wrong."), 401)


def _live_session_email() -> str | None:
    """The account this browser's live session belongs to, if it has one."""
    with db.transaction() as tx:
        live = accounts.current_session(tx, cookie_token(), settings())
        return live.user.email if live is not None else None


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Revoke the session on the server: the cookie stops working everywhere at once."""
    with db.transaction() as tx:
        accounts.end_session(tx, cookie_token())
        audit.record(tx, signed_in().actor, "auth.logout", address=request.remote_addr)
    response = redirect(url_for("clinician.login", done="signed_out"), 303)
    forget_cookie(response)
    return response


@bp.route("/password", methods=["GET", "POST"])
def set_password() -> ResponseReturnValue:
    """Choose a password from a one-time link. The token travels in the form after the first
    request; the access log records paths only, never the query string."""
    form = SetPasswordForm()
    if request.method == "GET":
        form.token.data = request.args.get("t", "")
    done = False
    with db.transaction() as tx:
        user = accounts.user_for_password_token(tx, form.token.data or "")
        if user is not None and form.validate_on_submit():
            try:
                accounts.set_password(tx, user, form.password.data or "", settings())
            except PasswordRejected as rejected:
                form.password.errors.append(str(rejected))
            else:
                audit.record(
                    tx, audit.user_ref(user.id), "user.set_password", address=request.remote_addr
                )
                done = True
    if user is None:
        return render_template("clinician/set_password.html", form=None), 410
    if done:
        return redirect(url_for("clinician.login", done="password_set"), 303)
    status = 422 if form.errors else 200
    return render_template("clinician/set_password.html", form=form, email=user.email), status


@bp.errorhandler(UnstorableInput)
def unstorable_input(error: UnstorableInput) -> ResponseReturnValue:
    """A NUL or damaged bytes in what was sent (intake.edge): say which, and that nothing was
    saved, in the clinic's layout."""
    if resume.wants_json():
        return {"error": "unstorable_input"}, 400
    return render_template("clinician/bad_input.html", causes=error.causes), 400


@bp.errorhandler(CSRFError)
def csrf_failed(_error: CSRFError) -> ResponseReturnValue:
    """A sign-in page left open too long: show it again with what was typed (not the password)."""
    if request.endpoint == "clinician.login":
        return _login_page(LoginForm(), _("This page had expired. Please try again."), 400)
    if resume.wants_json():
        return {"error": "csrf"}, 400
    return redirect(url_for("clinician.home"), 303)
