"""`/dev/mail`: in development only, the emails the app has written, newest first, so a new
user sees them at once. Anywhere else every page here is a 404."""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, render_template, request
from markupsafe import Markup, escape

from ..notifications.queue import PAGE_SIZE, get_notification, recent
from .database_session import get_db

bp = Blueprint("dev_mail", __name__)
URL = re.compile(r"https?://[^\s<>\"]+")
# An email's own HTML has inline styles the app's CSP forbids: it is served alone, sandboxed
# (no script, no same-origin access), with a policy that allows only that.
EMAIL_HTML_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox " \
                    "allow-top-navigation-by-user-activation allow-popups"


@bp.before_request
def development_only():
    if current_app.config["ENV_NAME"] != "development":
        abort(404)


def linkify(text: str) -> Markup:
    """The text version, escaped, with its URLs clickable."""
    parts, last = [], 0
    for match in URL.finditer(text):
        # Punctuation after a URL ends the sentence, not the URL: "(see https://x/y)."
        url = match.group().rstrip(".,;:!?)]")
        parts += [escape(text[last:match.start()]), Markup('<a href="{0}">{0}</a>').format(url)]
        last = match.start() + len(url)
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


@bp.get("")
def inbox():
    before = request.args.get("before", type=int)
    emails = recent(get_db(), before)
    older = emails[-1]["id"] if len(emails) == PAGE_SIZE else None
    return render_template("dev/mail.html", emails=emails, older=older, newest=before is None)


@bp.get("/<id:notification_id>")
def message(notification_id: int):
    note = get_notification(get_db(), notification_id)
    return render_template("dev/mail_message.html", note=note,
                           body=linkify(note["body_text"] or ""),
                           sender=current_app.config["MAIL_FROM"])


@bp.get("/<id:notification_id>/html")
def message_html(notification_id: int):
    note = get_notification(get_db(), notification_id)
    if not note["body_html"]:
        abort(404)
    response = current_app.response_class(note["body_html"], mimetype="text/html")
    response.headers["Content-Security-Policy"] = EMAIL_HTML_POLICY
    return response
