"""Admins manage accounts from the web: list, create, disable and enable, reset two-factor sign-in,
issue a set-password link, change the role.

The routes live on the admin blueprint (intake.clinician.admin), where the clinic's guard has
already refused everyone but admins. Every change is a POST through a Flask-WTF form (so CSRF-checked) and
is audited with the admin as the actor; refusals are audited too. An admin never sees or chooses a
password: a new account, or a forgotten password, gets a one-time link, shown once on a page that
is not cached, and only its hash is stored. Audit rows name actions, never passwords or tokens.
"""

from __future__ import annotations

from typing import Literal

from flask import abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from intake import db
from intake.audit import log as audit
from intake.auth import accounts, api_tokens, totp
from intake.clinician.access import Clinician, signed_in
from intake.clinician.admin import admin_bp
from intake.clinician.forms import ActionForm, NewAccountForm, RoleForm
from intake.models import User

NO_STORE = {"Cache-Control": "no-store"}
#: What the list says after a change (the ``done`` query argument of the redirect).
DONE = frozenset({"disabled", "disabled_tokens", "enabled", "role", "totp_reset"})


def _refusal_message(reason: Literal["self", "last_admin", "not_admin"]) -> str:
    if reason == "self":
        message: str = _(
            "You cannot remove your own administrator rights or disable your own account."
        )
    elif reason == "not_admin":
        message = _("Your account is no longer an administrator.")
    else:
        message = _("This is the last active administrator: make another account an admin first.")
    return message


def _list_page(
    new_form: NewAccountForm | None = None, error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    done = request.args.get("done") if request.method == "GET" else None
    with db.transaction() as tx:
        listed = accounts.list_accounts(tx)
        if request.method == "GET":  # a form shown again is recorded as that form's action
            # Every account's e-mail and sign-in history is on the page: a view like any other.
            audit.record(tx, signed_in().actor, "users.view", address=request.remote_addr)
    page = render_template(
        "clinician/admin_users.html",
        accounts_list=listed,
        new_form=new_form or NewAccountForm(formdata=None),
        me=signed_in().user_id,
        error=error,
        done=done if done in DONE else None,
    )
    return page, status


def _link_page(user: User, token: str, created: bool) -> ResponseReturnValue:
    link = accounts.password_link_url(current_app.config["PUBLIC_BASE_URL"], token)
    page = render_template(
        "clinician/admin_user_link.html", email=user.email, link=link, created=created
    )
    return page, 201 if created else 200, NO_STORE


def _record(tx: Session, admin: Clinician, action: str, user: User, outcome: str = "ok") -> None:
    audit.record(
        tx,
        admin.actor,
        action,
        address=request.remote_addr,
        outcome=outcome,
        target=audit.user_ref(user.id),
    )


def _back(done: str) -> ResponseReturnValue:
    return redirect(url_for("clinician.admin.users", done=done), 303)


@admin_bp.get("/users")
def users() -> ResponseReturnValue:
    """Every account: email, role, two-factor sign-in, disabled or not, created, last sign-in."""
    return _list_page()


@admin_bp.post("/users")
def create_account() -> ResponseReturnValue:
    """Create an account (email and role) and show its one-time set-password link."""
    admin = signed_in()
    form = NewAccountForm()
    if not form.validate_on_submit():
        return _list_page(form, status=400 if "csrf_token" in form.errors else 422)
    settings = accounts.Settings.from_config(current_app.config)
    email = form.email.data or ""
    with db.transaction() as tx:
        try:
            user = accounts.create_user(tx, email, form.role.data, None, settings)
        except accounts.AccountError:
            taken = accounts.find_user(tx, email) is not None
            message = (
                _("An account for %(email)s already exists.", email=accounts.normalize_email(email))
                if taken
                else _("This is not an email address.")
            )
            form.email.errors = [message]
            user = None
        if user is not None:
            token = accounts.issue_password_link(tx, user)
            _record(tx, admin, "user.create", user)
    if user is None:
        return _list_page(form, status=422)
    return _link_page(user, token, created=True)


def _target(tx: Session, user_id: int) -> User:
    """The account to change, or 404 (the exception rolls the transaction back)."""
    user = tx.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _form_refused(form: ActionForm | RoleForm) -> ResponseReturnValue | None:
    if form.validate_on_submit():
        return None
    if "csrf_token" in form.errors:
        return _list_page(error=_("This form expired. Try again."), status=400)
    return _list_page(error=_("Choose a role."), status=422)


@admin_bp.post("/users/<int:user_id>/disable")
def disable_account(user_id: int) -> ResponseReturnValue:
    """Stop the account signing in; every session of it ends at once, and every API token it
    created is revoked (intake.auth.api_tokens says why), each revocation audited."""
    admin = signed_in()
    if refused := _form_refused(ActionForm()):
        return refused
    with db.transaction() as tx:
        admins = accounts.lock_active_admins(tx)  # before the account itself: see the docstring
        user = _target(tx, user_id)
        reason = accounts.admin_change_refused(admin.user_id, user, admins, removes_admin=True)
        revoked = accounts.disable_user(tx, user) if reason is None else []
        _record(tx, admin, "user.disable", user, f"refused_{reason}" if reason else "ok")
        api_tokens.audit_revoked_with_account(tx, revoked, admin.actor, request.remote_addr)
    if reason is not None:
        return _list_page(error=_refusal_message(reason), status=409)
    return _back("disabled_tokens" if revoked else "disabled")


@admin_bp.post("/users/<int:user_id>/enable")
def enable_account(user_id: int) -> ResponseReturnValue:
    """Let a disabled account sign in again (with a new session: the old ones stay ended, and the
    API tokens it created stay revoked)."""
    admin = signed_in()
    if refused := _form_refused(ActionForm()):
        return refused
    with db.transaction() as tx:
        user = _target(tx, user_id)
        leftovers = accounts.enable_user(tx, user)
        _record(tx, admin, "user.enable", user)
        api_tokens.audit_revoked_with_account(tx, leftovers, admin.actor, request.remote_addr)
    return _back("enabled")


@admin_bp.post("/users/<int:user_id>/role")
def change_role(user_id: int) -> ResponseReturnValue:
    """Make the account a clinician or an admin."""
    admin = signed_in()
    form = RoleForm()
    if refused := _form_refused(form):
        return refused
    role = form.role.data
    with db.transaction() as tx:
        admins = accounts.lock_active_admins(tx)
        user = _target(tx, user_id)
        demotes = role != "admin"
        reason = accounts.admin_change_refused(admin.user_id, user, admins, removes_admin=demotes)
        if reason is None:
            user.role = role
        _record(tx, admin, "user.role", user, f"refused_{reason}" if reason else "ok")
    if reason is not None:
        return _list_page(error=_refusal_message(reason), status=409)
    return _back("role")


@admin_bp.post("/users/<int:user_id>/reset-totp")
def reset_two_factor(user_id: int) -> ResponseReturnValue:
    """Turn two-factor sign-in off for an account whose phone is lost; it can set it up again."""
    admin = signed_in()
    if refused := _form_refused(ActionForm()):
        return refused
    with db.transaction() as tx:
        user = _target(tx, user_id)
        totp.turn_off(user)
        _record(tx, admin, "user.totp_reset", user)
    return _back("totp_reset")


@admin_bp.post("/users/<int:user_id>/password-link")
def password_link(user_id: int) -> ResponseReturnValue:
    """A new one-time set-password link (a forgotten password); any earlier link stops working."""
    admin = signed_in()
    if refused := _form_refused(ActionForm()):
        return refused
    with db.transaction() as tx:
        user = _target(tx, user_id)
        if user.disabled_at is not None:
            _record(tx, admin, "user.password_link", user, "refused_disabled")
            token = None
        else:
            token = accounts.issue_password_link(tx, user)
            _record(tx, admin, "user.password_link", user)
    if token is None:
        return _list_page(error=_("Enable the account first: it is disabled."), status=409)
    return _link_page(user, token, created=False)
