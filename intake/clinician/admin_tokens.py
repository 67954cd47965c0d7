"""Admins give other systems API tokens for the export API, and take them back.

On the admin blueprint (its guard already refused everyone but admins). The token is shown once,
on a page that is not cached; only its hash is kept. Creation and revocation are audited. A token
works for as many days as the admin chose (intake.auth.api_tokens.DEFAULT_DAYS pre-filled).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from intake import db
from intake.audit import log as audit
from intake.auth import api_tokens
from intake.clinician.access import signed_in
from intake.clinician.admin import admin_bp
from intake.clinician.forms import ActionForm, NewTokenForm
from intake.clock import as_utc, utcnow
from intake.models import ApiToken

NO_STORE = {"Cache-Control": "no-store"}
#: A live token expiring within this long is pointed out on the list: time to make its successor.
SOON = timedelta(days=30)


@dataclass(frozen=True)
class Listed:
    """One row of the list: the token, why it does not work (None: it does), and whether it
    expires within ``SOON``."""

    token: ApiToken
    refusal: api_tokens.Refusal | None
    expires_soon: bool


def _list_page(form: NewTokenForm | None = None, status: int = 200) -> ResponseReturnValue:
    now = utcnow()
    with db.transaction() as tx:
        tokens = [
            Listed(
                row,
                api_tokens.refusal(row, now),
                row.expires_at is not None and as_utc(row.expires_at) <= now + SOON,
            )
            for row in api_tokens.list_tokens(tx)
        ]
        if request.method == "GET":  # a form shown again is recorded as that form's action
            audit.record(tx, signed_in().actor, "api_tokens.view", address=request.remote_addr)
    done = request.args.get("done")
    page = render_template(
        "clinician/admin_tokens.html",
        tokens=tokens,
        form=form or NewTokenForm(formdata=None),
        max_days=api_tokens.MAX_DAYS,
        done=done if done == "revoked" else None,
    )
    return page, status


@admin_bp.get("/api-tokens")
def api_tokens_page() -> ResponseReturnValue:
    """Every token: its name, first characters, when made, last used and expiring, and whether
    it works (revoked, expired, or its creator's account disabled)."""
    return _list_page()


@admin_bp.post("/api-tokens")
def create_api_token() -> ResponseReturnValue:
    admin = signed_in()
    form = NewTokenForm()
    if not form.validate_on_submit():
        return _list_page(form, status=400 if "csrf_token" in form.errors else 422)
    with db.transaction() as tx:
        days = form.days.data or api_tokens.DEFAULT_DAYS
        row, token = api_tokens.create_token(tx, form.name.data or "", admin.user_id, days)
        audit.record(
            tx,
            admin.actor,
            "api_token.create",
            address=request.remote_addr,
            target=audit.token_ref(row.id),
        )
        name, expires_at = row.name, row.expires_at
    page = render_template(
        "clinician/admin_token_created.html", name=name, token=token, expires_at=expires_at
    )
    return page, 201, NO_STORE


@admin_bp.post("/api-tokens/<int:token_id>/revoke")
def revoke_api_token(token_id: int) -> ResponseReturnValue:
    admin = signed_in()
    if not ActionForm().validate_on_submit():
        return _list_page(status=400)
    with db.transaction() as tx:
        row = api_tokens.revoke_token(tx, token_id)
        outcome = "ok" if row is not None else "not_found"
        audit.record(
            tx,
            admin.actor,
            "api_token.revoke",
            address=request.remote_addr,
            outcome=outcome,
            target=audit.token_ref(token_id),
        )
    if row is None:
        abort(404)
    return redirect(url_for("clinician.admin.api_tokens_page", done="revoked"), 303)
