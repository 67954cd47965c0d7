"""Every form of the clinic's pages, in one place: signing in, two-factor sign-in, invitations and
new links, and the admins' account and API token pages.

Each action is its own small form, so each POST carries a CSRF token that Flask-WTF checks. The
sign-in messages say nothing about whether an account exists.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, PasswordField, StringField, TimeField
from wtforms.validators import (
    AnyOf,
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from intake.auth import api_tokens
from intake.auth.accounts import ROLES
from intake.auth.totp import normalize_code

# --- signing in and setting a password ---------------------------------------------------------


class LoginForm(FlaskForm):
    email = StringField(
        _l("Email address"),
        validators=[InputRequired(_l("Enter your email address.")), Length(max=254)],
    )
    password = PasswordField(_l("Password"), validators=[InputRequired(_l("Enter your password."))])


class SetPasswordForm(FlaskForm):
    token = HiddenField()
    password = PasswordField(
        _l("New password"), validators=[InputRequired(_l("Enter a new password."))]
    )
    confirm = PasswordField(
        _l("The same password again"),
        validators=[
            InputRequired(_l("Enter the new password a second time.")),
            EqualTo("password", _l("The two passwords are not the same.")),
        ],
    )


# --- two-factor sign-in: a code from the authenticator app, and turning it off ------------------


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


# --- the invitation, and the one field a new link needs -----------------------------------------
# Names come as two fields, given and family, copied from the clinic's records: splitting one
# string (as the command line does) guesses wrong for "Maria de la Cruz" or "Nguyen Van An", and a
# wrong family name puts the PDF under the wrong file name.

#: Link validity the clinic may choose (the command line accepts the same range).
LINK_MIN_DAYS, LINK_MAX_DAYS = 1, 90
EARLIEST_BIRTH = date(1900, 1, 1)


def _printable(_form: Any, field: Any) -> None:
    # PostgreSQL refuses NUL; no name or record number needs any control character.
    if field.data and any(ord(c) < 32 or ord(c) == 127 for c in str(field.data)):
        raise ValidationError(_l("Use letters, numbers and punctuation only."))


class _Unreadable:
    """A date or time field whose "could not read this" message is ours, and translated."""

    invalid_message: Any

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)  # type: ignore[misc]
        except ValueError:
            raise ValueError(self.invalid_message) from None


class DayField(_Unreadable, DateField):
    def __init__(self, label: Any, message: Any, **kwargs: Any) -> None:
        super().__init__(label, validators=[InputRequired(message)], **kwargs)
        self.invalid_message = message


class ClockField(_Unreadable, TimeField):
    def __init__(self, label: Any, message: Any, **kwargs: Any) -> None:
        super().__init__(label, validators=[InputRequired(message)], **kwargs)
        self.invalid_message = message


def _default_days() -> int:
    return int(current_app.config["INVITE_DAYS"])


def validity_field() -> IntegerField:
    """Days the link works: LINK_MIN_DAYS to LINK_MAX_DAYS, the clinic's default pre-filled."""
    return IntegerField(
        _l("Link works for (days)"),
        default=_default_days,
        validators=[
            InputRequired(_l("Enter for how many days the link works.")),
            NumberRange(LINK_MIN_DAYS, LINK_MAX_DAYS, _l("Enter a number of days from 1 to 90.")),
        ],
    )


class InvitationForm(FlaskForm):
    given_name = StringField(
        _l("Given name(s)"), validators=[Optional(), Length(max=200), _printable]
    )
    family_name = StringField(
        _l("Family name"),
        validators=[InputRequired(_l("Enter the family name.")), Length(max=200), _printable],
    )
    date_of_birth = DayField(_l("Date of birth"), _l("Enter the date of birth as a full date."))
    mrn = StringField(
        _l("Medical record number (optional)"), validators=[Optional(), Length(max=64), _printable]
    )
    appointment_date = DayField(
        _l("Appointment date"), _l("Enter the appointment date as a full date.")
    )
    appointment_time = ClockField(
        _l("Appointment time"), _l("Enter the appointment time, for example 14:30.")
    )
    valid_days = validity_field()

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today  # in the clinic's time zone, which the server's clock need not be

    def validate_date_of_birth(self, field: DateField) -> None:
        if field.data and not EARLIEST_BIRTH <= field.data <= self.today:
            raise ValidationError(_l("The date of birth must be in the past."))

    def validate_appointment_date(self, field: DateField) -> None:
        if field.data and field.data < self.today:
            raise ValidationError(_l("The appointment date is in the past."))


class NewLinkForm(FlaskForm):
    valid_days = validity_field()


# --- the admins' pages: accounts and API tokens -------------------------------------------------


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
    """No fields: only the CSRF token (disable, enable, reset two-factor, new link, revoke)."""


class NewTokenForm(FlaskForm):
    name = StringField(
        _l("What will use it"),
        filters=[lambda value: " ".join(value.split()) if value else value],
        validators=[
            DataRequired(_l("Name the system that will use the token.")),
            Length(max=api_tokens.NAME_MAX, message=_l("Keep the name to 100 characters.")),
        ],
    )
    # Pre-filled on the page; a request without it (a script) gets the default too.
    days = IntegerField(
        _l("Works for (days)"),
        default=api_tokens.DEFAULT_DAYS,
        validators=[
            Optional(),
            NumberRange(1, api_tokens.MAX_DAYS, _l("Enter a number of days from 1 to 730.")),
        ],
    )
