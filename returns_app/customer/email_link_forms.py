"""Forms of the pages an email link opens: reminder preferences, and asking for a new link."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, RadioField, SelectChoice
from wtforms.validators import AnyOf, Email, InputRequired, Length

from ..notifications.preferences import RENEWABLE
from ..web.form_base import Form


class PreferencesForm(Form):
    reminder_channel = RadioField(
        _l("Reminders before a due date"),
        # Text messages are not offered: we send none (a stored "sms" means email).
        choices=[SelectChoice("email", _l("By email")),
                 SelectChoice("none", _l("No reminders"))],
        validators=[InputRequired(_l("Choose how you want reminders."))],
    )
    language = RadioField(
        _l("Language of our emails and pages"),
        choices=[SelectChoice("sv", "Svenska"), SelectChoice("en", "English")],
        validators=[InputRequired(_l("Choose a language."))],
    )


class NewLinkForm(Form):
    token = HiddenField(validators=[InputRequired()])
    purpose = HiddenField(validators=[AnyOf(RENEWABLE)])
    email = EmailField(
        _l("Your email address"),
        validators=[InputRequired(_l("Enter the email address you used for the order.")),
                    Email(_l("Enter a valid email address, like name@example.com.")),
                    Length(max=254)],
        description=_l("The one you used for the order."),
    )
