"""One form per console screen or action. Every action carries a required "why" note; each is
created with its own prefix, so several can share a page without clashing ids."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, EmailField, PasswordField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..web.form_base import Form

MAX_NOTE = 500


def why_field(label=None, description=None):
    return TextAreaField(
        label or _l("Why"),
        validators=[InputRequired(_l("Say why: it goes on the record.")), Length(max=MAX_NOTE)],
        description=description or _l("Goes on the record with your name. No account or "
                                      "card numbers."),
        render_kw={"rows": 2, "maxlength": MAX_NOTE},
    )


class SignInForm(Form):
    email = EmailField(_l("Email address"), validators=[
        InputRequired(_l("Enter your email address.")), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[
        InputRequired(_l("Enter your password."))])


class SignOutForm(Form):
    """No fields: the button still carries a CSRF token."""


class SearchForm(Form):
    class Meta:
        csrf = False  # a GET that changes nothing

    q = StringField(_l("Order number, email or refund id"),
                    validators=[Optional(), Length(max=254)])


class RetryForm(Form):
    why = why_field()


class DetailsLinkForm(Form):
    why = why_field()


class DestinationForm(Form):
    clearing_number = StringField(_l("Clearing number"), validators=[Length(max=64)])
    account_number = StringField(_l("Account number"), validators=[Length(max=64)])
    iban = StringField(_l("IBAN"), validators=[Length(max=64)])
    swish_number = StringField(_l("Swish number"), validators=[Length(max=64)])
    consent = TextAreaField(
        _l("How the customer agreed"),
        validators=[InputRequired(_l("Say how the customer agreed.")), Length(max=MAX_NOTE)],
        description=_l("For example: by phone on 12 March, call id 4711."),
        render_kw={"rows": 2, "maxlength": MAX_NOTE})
    why = why_field()

    def details(self) -> dict:
        return {name: self[name].data for name in
                ("clearing_number", "account_number", "iban", "swish_number")}


class MarkPaidForm(Form):
    reference = StringField(
        _l("Payment reference"),
        validators=[InputRequired(_l("Give the payment's reference.")), Length(max=100)],
        description=_l("The bank transfer's reference, so anyone can find the payment."))
    why = why_field()


class ApprovalForm(Form):
    why = why_field()
    approve = SubmitField(_l("Approve and book as paid"))
    decline = SubmitField(_l("Decline"))


class RemindMerchantForm(Form):
    why = why_field()


class HoldInvoiceForm(Form):
    until = DateField(_l("Keep paused until"),
                      validators=[InputRequired(_l("Choose a date, like 2025-03-31."))])
    why = why_field()


class DueDateForm(Form):
    due_date = DateField(_l("New due date"),
                         validators=[InputRequired(_l("Choose a date, like 2025-03-31."))])
    why = why_field()


class BookPaymentForm(Form):
    order_number = StringField(_l("Order number"), validators=[
        InputRequired(_l("Enter the order the payer meant.")), Length(max=32)],
        description=_l("For example 482-913-057: from the payer's message or a call."))
    why = why_field()


class ReturnPaymentForm(Form):
    why = why_field(description=_l("For example: paid twice, or not one of our customers. "
                                   "The money is sent back outside this system."))
