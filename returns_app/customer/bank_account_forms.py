"""Forms of the customer's bank-account page and the "pay on the due date" buttons."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField
from wtforms.validators import AnyOf, InputRequired, Length

from ..web.form_base import Form


class BankAccountForm(Form):
    clearing_number = StringField(
        _l("Clearing number"),
        validators=[InputRequired(_l("Enter the clearing number: the 4 or 5 digits before the "
                                     "account number.")), Length(max=20)],
        description=_l("4 digits, or 5 for some Swedbank accounts (like 8327-9)."))
    account_number = StringField(
        _l("Account number"),
        validators=[InputRequired(_l("Enter the account number.")), Length(max=40)])


class MandateForm(Form):
    """The language of the wording the customer read and confirms."""

    language = HiddenField(validators=[AnyOf(["sv", "en"])])


class UnlinkForm(Form):
    """No fields: the button still carries a CSRF token."""


class PayOnDueDateForm(Form):
    on = HiddenField(validators=[AnyOf(["0", "1"])])


class ScheduleForm(Form):
    """No fields: "pay this invoice on its due date"."""


class CancelDebitForm(Form):
    """No fields: "don't take this payment"."""
