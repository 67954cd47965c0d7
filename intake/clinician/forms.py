"""Sign-in and set-password forms. Their messages say nothing about whether an account exists."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length


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
