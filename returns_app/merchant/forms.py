"""One form per portal screen. Forms check shape; the domain checks the rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired, FileSize
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange, Optional

from merchant_instructions import MAX_DOCUMENT_BYTES

from ..services.api_keys import MAX_LABEL
from ..services.decisions import MAX_REASON
from ..web.form_base import Form

LANGUAGE_CHOICES = [SelectChoice("sv", _l("Swedish")), SelectChoice("en", _l("English"))]


class SignInForm(Form):
    email = EmailField(_l("Email address"), validators=[
        InputRequired(_l("Enter the email address of your merchant account.")),
        Length(max=254)])
    password = PasswordField(_l("Password"), validators=[
        InputRequired(_l("Enter your password."))])


class SearchForm(Form):
    """The inbox's GET filter: nothing changes, so no CSRF token in the URL."""

    class Meta:
        csrf = False

    q = StringField(_l("Order number or your reference"), validators=[Optional(),
                                                                      Length(max=60)])


class MarkReceivedForm(Form):
    return_ids = SelectMultipleField(coerce=int, validate_choice=False, validators=[
        InputRequired(_l("Tick the returns whose parcels have arrived."))])
    # Where the list was (filter, search, page), to go back there after.
    back = HiddenField()


class RegistrationForm(Form):
    """Fields per undecided item are added by `registration_form`."""

    item_ids: list[int] = []
    # A resubmitted or double-clicked form registers nothing twice (decisions.register_once).
    idempotency_key = HiddenField()

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for item_id in self.item_ids:
            rejected, reason = self[f"rejected_{item_id}"], self[f"reason_{item_id}"]
            if (rejected.data or 0) > 0 and not (reason.data or "").strip():
                reason.errors = [*reason.errors, _l("Say why you reject it: the customer is "
                                                    "told.")]
                valid = False
        if valid and not self.entries():
            self.form_errors.append(_l("Nothing to register: enter how many arrived, or "
                                       "how many you accept or reject, for at least one item."))
            valid = False
        return valid

    def entries(self) -> list[tuple[int, dict]]:
        """(item id, the registration API's item) for each item with something to register."""
        entries = []
        for item_id in self.item_ids:
            item = {
                "return_item_id": item_id,
                "received_quantity": self[f"received_{item_id}"].data or 0,
                "accepted_quantity": self[f"accepted_{item_id}"].data or 0,
                "rejected_quantity": self[f"rejected_{item_id}"].data or 0,
            }
            if any(item[k] for k in ("received_quantity", "accepted_quantity",
                                     "rejected_quantity")):
                if reason := (self[f"reason_{item_id}"].data or "").strip():
                    item["reason"] = reason
                entries.append((item_id, item))
        return entries

    @property
    def errored_item_ids(self) -> list[int]:
        return [i for i in self.item_ids if any(
            self[f"{name}_{i}"].errors for name in ("received", "accepted", "rejected",
                                                    "reason"))]


def registration_form(items: list[dict], **kwargs) -> RegistrationForm:
    class Form(RegistrationForm):
        pass

    def quantity(label):
        return IntegerField(label, default=0, validators=[
            Optional(), NumberRange(min=0, max=10_000, message=_l("Enter 0 or more."))])

    for item in items:
        if item["accepted_quantity"] + item["rejected_quantity"] >= item["quantity"]:
            continue  # fully decided: shown, nothing left to enter
        Form.item_ids = [*Form.item_ids, item["id"]]
        setattr(Form, f"received_{item['id']}", quantity(_l("Arrived now")))
        setattr(Form, f"accepted_{item['id']}", quantity(_l("Accept")))
        setattr(Form, f"rejected_{item['id']}", quantity(_l("Reject")))
        setattr(Form, f"reason_{item['id']}", StringField(
            _l("Why rejected"), validators=[Optional(), Length(max=MAX_REASON)],
            description=_l("Required when you reject; the customer sees it.")))
    return Form(**kwargs)


class _Prefixed(Form):
    """Two forms share the instructions page: prefixes keep their field ids apart."""

    form_prefix = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", self.form_prefix)
        super().__init__(*args, **kwargs)


class EditInstructionsForm(_Prefixed):
    form_prefix = "edit"
    control_characters_checked_elsewhere = ("source",)  # each problem named with its line
    language = SelectField(_l("Language of this version"), choices=LANGUAGE_CHOICES,
                           default="sv", validators=[AnyOf(["sv", "en"])])
    source = TextAreaField(_l("Instructions document (Markdown)"), validators=[
        InputRequired(_l("Write the instructions, or upload the file instead."))])


class UploadInstructionsForm(_Prefixed):
    form_prefix = "upload"
    language = SelectField(_l("Language of this version"), choices=LANGUAGE_CHOICES,
                           default="sv", validators=[AnyOf(["sv", "en"])])
    document = FileField(_l("Markdown file"), validators=[
        FileRequired(_l("Choose the .md file to upload.")),
        FileAllowed(["md", "markdown", "txt"], _l("Upload a Markdown file (.md) saved as "
                                                  "UTF-8 text.")),
        FileSize(MAX_DOCUMENT_BYTES, message=_l("The file is larger than 256 KB; the largest "
                                                "document accepted is 256 KB.")),
    ], description=_l("A .md file, UTF-8 text, at most 256 KB."))


class PublishInstructionsForm(Form):
    """The preview's two buttons; the checked source rides along in a hidden field (no
    server-side draft to expire or clean up)."""

    control_characters_checked_elsewhere = ("source",)  # checked again when published
    language = HiddenField(validators=[AnyOf(["sv", "en"])])
    source = HiddenField(validators=[InputRequired()])
    # Only asked for when the document has warnings (raw HTML, scripts): the view checks it.
    publish_anyway = BooleanField(_l("Publish anyway: I have read the warnings above"))


class CreateApiKeyForm(Form):
    label = StringField(_l("Name of the key"), validators=[
        InputRequired(_l("Give the key a name, such as the system that uses it.")),
        Length(max=MAX_LABEL)], description=_l("For example: Webshop, Warehouse system."))


class RevokeApiKeyForm(Form):
    """No fields: the button still carries a CSRF token."""


class AccountLanguageForm(Form):
    language = SelectField(_l("Language of the portal and of your emails"),
                           choices=LANGUAGE_CHOICES,
                           validators=[AnyOf(["sv", "en"], _l("Choose Swedish or English."))])
