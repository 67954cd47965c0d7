"""Forms for the admins' account pages. Each action is its own small form, so each POST carries
a CSRF token that Flask-WTF checks."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import AnyOf, InputRequired, Length

from intake.auth.accounts import ROLES


def _role_field() -> StringField:
    # The page draws the <select> itself (clinician, admin); the server accepts only those.
    return StringField(
        _l("Role"),
        validators=[InputRequired(_l("Choose a role.")), AnyOf(ROLES, _l("Choose a role."))],
    )


class NewAccountForm(FlaskForm):
    """Email and role only: the person chooses the password through a one-time link."""

    email = StringField(
        _l("Email address"),
        validators=[
            InputRequired(_l("Enter the person's email address.")),
            Length(max=254, message=_l("An email address has at most 254 characters.")),
        ],
    )
    role = _role_field()


class RoleForm(FlaskForm):
    role = _role_field()


class ActionForm(FlaskForm):
    """No fields: only the CSRF token (disable, enable, reset two-factor, new link)."""
