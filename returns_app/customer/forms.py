"""One form per customer screen. Forms check shape; the domain checks the rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import AnyOf, Email, InputRequired, Length, NumberRange, Optional

from ..web.form_base import Form
from ..web.return_reasons import REASON_LABELS


class FindOrderForm(Form):
    order_number = StringField(
        _l("Order number"),
        validators=[InputRequired(_l("Enter the order number from your confirmation email.")),
                    Length(max=40)],
        description=_l("Nine digits, for example 482-913-057."),
    )
    email = EmailField(
        _l("Email address"),
        validators=[InputRequired(_l("Enter the email address you used for the order.")),
                    Email(_l("Enter a valid email address, like name@example.com.")),
                    Length(max=254)],
    )


class SignInForm(Form):
    email = EmailField(_l("Email address"), validators=[
        InputRequired(_l("Enter your email address.")), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired(_l("Enter your password."))])
    stay_signed_in = BooleanField(
        _l("Stay signed in for 30 days"),
        description=_l("Only on a device nobody else uses. Otherwise you are signed out when "
                       "you close the browser, or after 30 minutes without activity."))


class ShipmentForm(Form):
    tracking_number = StringField(
        _l("Tracking number (optional)"), validators=[Optional(), Length(max=64)],
        description=_l("From your receipt at the post office or drop-off point."),
    )


class CancelReturnForm(Form):
    """No fields: the button still carries a CSRF token."""


class ReportReturnForm(Form):
    """Fields are added per order line by `report_return_form`."""

    line_ids: list[int] = []

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for line_id in self.line_ids:
            if not (self[f"qty_{line_id}"].data or 0) > 0:
                continue
            reason = self[f"reason_{line_id}"]
            if not reason.data:
                reason.errors = [*reason.errors, _l("Choose why this item goes back.")]
                valid = False
            comment = self[f"comment_{line_id}"]
            if reason.data == "other" and not (comment.data or "").strip():
                comment.errors = [*comment.errors, _l("Tell us in a few words why it goes back.")]
                valid = False
        return valid

    @property
    def errored_line_ids(self) -> list[int]:
        return [i for i in self.line_ids
                if any(self[f"{name}_{i}"].errors for name in ("qty", "reason", "comment"))]


def report_return_form(lines: list[dict], **kwargs) -> ReportReturnForm:
    class Form(ReportReturnForm):
        pass

    reasons = [SelectChoice("", _l("Choose a reason")),
               *(SelectChoice(code, label) for code, label in REASON_LABELS.items())]
    for line in lines:
        if not line["returnable"]:
            continue
        Form.line_ids = [*Form.line_ids, line["id"]]
        # Optional: a line already fully in a return is not shown, so its field isn't sent.
        setattr(Form, f"qty_{line['id']}", IntegerField(
            _l("How many go back"), default=0,
            validators=[Optional(), NumberRange(min=0, message=_l("Enter 0 or more."))]))
        setattr(Form, f"reason_{line['id']}", SelectField(_l("Reason"), choices=reasons,
                                                          default=""))
        setattr(Form, f"comment_{line['id']}", StringField(
            _l("Anything to add?"), validators=[Optional(), Length(max=500)]))
    return Form(**kwargs)


def chosen_items(form: ReportReturnForm) -> tuple[list[dict], list[int]]:
    """The service's items, and for each the line id it came from (to put errors back)."""
    items, line_ids = [], []
    for line_id in form.line_ids:
        quantity = form[f"qty_{line_id}"].data or 0
        if quantity <= 0:
            continue
        items.append({
            "line_id": line_id,
            "quantity": quantity,
            "reason": form[f"reason_{line_id}"].data or None,
            "comment": form[f"comment_{line_id}"].data or "",
        })
        line_ids.append(line_id)
    return items, line_ids


class PaymentForm(Form):
    """Amount in kronor as people type it; the buttons carry the method."""

    amount = StringField(_l("Amount to pay (kr)"), validators=[
        InputRequired(_l("Enter the amount you want to pay.")), Length(max=20)])
    method = StringField(validators=[Optional()])
    idempotency_key = HiddenField()


class CancelCheckoutForm(Form):
    """No fields: "cancel the card payment I started"."""


class PayoutDetailsForm(Form):
    """One page, three small forms (one per option), each naming its choice: no JavaScript
    needed, and Enter in a field submits that field's own option."""

    choice = HiddenField(validators=[AnyOf(["bank_account", "iban", "swish"],
                                           _l("Choose where to receive your refund."))])
    clearing_number = StringField(_l("Clearing number"), validators=[Optional(), Length(max=20)],
                                  description=_l("4 digits, or 5 for some Swedbank accounts "
                                                 "(like 8327-9)."))
    account_number = StringField(_l("Account number"), validators=[Optional(), Length(max=40)])
    save_account = BooleanField(_l("Save this account for next time"),
                                description=_l("Later refunds go straight to it, without "
                                               "asking. You can remove it any time."))
    iban = StringField(_l("IBAN"), validators=[Optional(), Length(max=50)],
                       description=_l("Starts with a country code, like SE45 5000 …"))
    swish_number = StringField(_l("Mobile number for Swish"), validators=[Optional(),
                                                                      Length(max=20)],
                               description=_l("For example 070-123 45 67."))

    EMPTY = {"clearing_number": _l("Enter the clearing number: the 4 or 5 digits before "
                                       "the account number."),
             "account_number": _l("Enter the account number."),
             "iban": _l("Enter the IBAN."),
             "swish_number": _l("Enter the mobile number you use for Swish.")}

    def validate(self, extra_validators=None) -> bool:
        """A field left empty in the chosen option is named next to that field."""
        valid = super().validate(extra_validators)
        if self.choice.data in ("bank_account", "iban", "swish"):
            for name in self.details():
                if not (self[name].data or "").strip():
                    self[name].errors = [*self[name].errors, self.EMPTY[name]]
                    valid = False
        return valid

    def details(self) -> dict:
        """Only the fields of the chosen option go to the domain."""
        fields = {"bank_account": ("clearing_number", "account_number"),
                  "iban": ("iban",), "swish": ("swish_number",)}[self.choice.data]
        return {name: self[name].data or "" for name in fields}


class ObjectionForm(Form):
    """No fields: the button still carries a CSRF token."""
