"""The forms of staff credentials, the same for the merchant portal and the support console.
Forms check shape; services/staff_credentials.py checks the password rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from .form_base import Form


def _new_password():
    return PasswordField(_l("New password"), validators=[
        InputRequired(_l("Choose a new password."))],
        description=_l("At least 12 characters. A few words you remember make a good one."))


def _repeat():
    return PasswordField(_l("New password again"), validators=[
        InputRequired(_l("Type the new password again.")),
        EqualTo("new_password", _l("The two new passwords are not the same."))])


class ChoosePasswordForm(Form):
    """The first sign-in's change of a one-time password, and a reset by link."""

    new_password = _new_password()
    repeat = _repeat()


class ChangePasswordForm(Form):
    current_password = PasswordField(_l("Current password"), validators=[
        InputRequired(_l("Enter your current password."))])
    new_password = _new_password()
    repeat = _repeat()


class ForgotPasswordForm(Form):
    email = EmailField(_l("Email address"), validators=[
        InputRequired(_l("Enter your email address.")), Length(max=254)])


class CodeForm(Form):
    code = StringField(_l("Code"), validators=[
        InputRequired(_l("Enter the code from your authenticator app.")), Length(max=40)],
        description=_l("The 6 digits your authenticator app shows now, or one of your "
                       "recovery codes."))


class EnrolForm(Form):
    code = StringField(_l("Code from the app"), validators=[
        InputRequired(_l("Enter the 6 digits the app shows.")), Length(max=40)],
        description=_l("The 6 digits the app shows for this account now."))
