"""Admins give other systems API tokens for the export API, and take them back.

On the admin blueprint (its guard already refused everyone but admins). The token is shown once,
on a page that is not cached; only its hash is kept. Creation and revocation are audited.
"""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from intake import api_tokens, audit, db
from intake.clinician.access import signed_in
from intake.clinician.admin import admin_bp
from intake.clinician.admin_forms import ActionForm

NO_STORE = {"Cache-Control": "no-store"}


class NewTokenForm(FlaskForm):
    name = StringField(
        _l("What will use it"),
        filters=[lambda value: " ".join(value.split()) if value else value],
        validators=[
            DataRequired(_l("Name the system that will use the token.")),
            Length(max=api_tokens.NAME_MAX, message=_l("Keep the name to 100 characters.")),
        ],
    )


def _list_page(form: NewTokenForm | None = None, status: int = 200) -> ResponseReturnValue:
    with db.transaction() as tx:
        tokens = api_tokens.list_tokens(tx)
    done = request.args.get("done")
    page = render_template(
        "clinician/admin_tokens.html",
        tokens=tokens,
        form=form or NewTokenForm(formdata=None),
        done=done if done == "revoked" else None,
    )
    return page, status


@admin_bp.get("/api-tokens")
def api_tokens_page() -> ResponseReturnValue:
    """Every token: its name, first characters, when made and last used, revoked or not."""
    return _list_page()


@admin_bp.post("/api-tokens")
def create_api_token() -> ResponseReturnValue:
    admin = signed_in()
    form = NewTokenForm()
    if not form.validate_on_submit():
        return _list_page(form, status=400 if "csrf_token" in form.errors else 422)
    with db.transaction() as tx:
        row, token = api_tokens.create_token(tx, form.name.data or "", admin.user_id)
        audit.record(
            tx,
            admin.actor,
            "api_token.create",
            address=request.remote_addr,
            target=audit.token_ref(row.id),
        )
        name = row.name
    page = render_template("clinician/admin_token_created.html", name=name, token=token)
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
