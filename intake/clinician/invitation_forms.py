"""The invitation form the clinic fills in, and the one field a new link needs.

Names come as two fields, given and family, copied from the clinic's records: splitting one string
(as the command line does) guesses wrong for "Maria de la Cruz" or "Nguyen Van An", and a wrong
family name puts the PDF under the wrong file name.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, StringField, TimeField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

#: Link validity the clinic may choose (the command line accepts the same range).
MIN_DAYS, MAX_DAYS = 1, 90
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
    """Days the link works: a number from MIN_DAYS to MAX_DAYS, the clinic's default pre-filled."""
    return IntegerField(
        _l("Link works for (days)"),
        default=_default_days,
        validators=[
            InputRequired(_l("Enter for how many days the link works.")),
            NumberRange(MIN_DAYS, MAX_DAYS, _l("Enter a number of days from 1 to 90.")),
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
