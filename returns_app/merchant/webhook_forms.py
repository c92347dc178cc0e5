"""The webhook settings screen's forms. Shape only: the URL rules live in webhooks.urls."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import URLField
from wtforms.validators import InputRequired, Length

from ..web.form_base import Form
from ..webhooks.urls import MAX_URL_LENGTH


class WebhookUrlForm(Form):
    url = URLField(
        _l("Webhook URL"),
        validators=[InputRequired(_l("Enter the URL that should receive the events.")),
                    Length(max=MAX_URL_LENGTH)],
        description=_l("Your server's https address, for example "
                       "https://shop.example.com/webhooks/returns."),
    )

