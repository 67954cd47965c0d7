"""Forms for two-factor sign-in: a code from the authenticator app, and turning it off."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Regexp

from intake.auth.totp import normalize_code


def _digits(value: str | None) -> str | None:
    # Apps show "123 456"; people paste "123-456".
    return normalize_code(value) if value else value


def _code_field() -> StringField:
    return StringField(
        _l("Code from your authenticator app"),
        filters=[_digits],
        validators=[
            InputRequired(_l("Enter the 6-digit code from your authenticator app.")),
            Regexp(r"^\d{6}$", message=_l("The code has 6 digits.")),
        ],
    )


class CodeForm(FlaskForm):
    code = _code_field()


class TurnOffForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[InputRequired(_l("Enter your password."))])
    code = _code_field()
