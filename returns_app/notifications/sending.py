"""The outbox handler for kind "email": render once, send by SMTP outside any transaction,
then mark the email sent in one transaction. A failure is retried with the outbox's backoff;
a retry sends the same message with the same Message-ID, so a copy that did arrive after a
lost answer is recognisable as the same email."""

from __future__ import annotations

import hashlib
import logging
import smtplib
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from flask import current_app

from ..domain import clock
from ..store import notifications as notification_rows
from ..store import outbox
from ..store.db import Database, write_transaction
from . import REMINDER_KINDS, rendering
from .queue import get_notification
from .reminders import reason_to_withdraw

log = logging.getLogger("returns_app.worker")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    timeout: float
    starttls: bool = False
    username: str = ""
    password: str = ""

    @classmethod
    def from_config(cls, config) -> SmtpSettings:
        return cls(config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_TIMEOUT"],
                   config["SMTP_STARTTLS"], config["SMTP_USERNAME"], config["SMTP_PASSWORD"])


def message_id(note: dict, sender: str) -> str:
    """Derived from the notification alone: every attempt at one email carries the same id."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    digest = hashlib.sha256(note["dedupe_key"].encode()).hexdigest()[:16]
    return f"<notification-{note['id']}.{digest}@{domain}>"


def build_message(note: dict, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = Address(addr_spec=note["recipient"])
    message["Subject"] = note["subject"]
    message["Message-ID"] = note["message_id"]
    message["Date"] = format_datetime(clock.parse(note["rendered_at"]))
    message.set_content(note["body_text"])
    message.add_alternative(note["body_html"], subtype="html")
    message["Content-Language"] = note["language"]  # after set_content: it drops Content-*
    return message


def send(message: EmailMessage, smtp: SmtpSettings) -> None:
    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as client:
        if smtp.starttls:
            client.starttls()
        if smtp.username:
            client.login(smtp.username, smtp.password)
        client.send_message(message)


def _permanent(exc: Exception) -> bool:
    """The server refused the address itself (5xx): retrying can't help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return False


def _fail(db: Database, row: dict, note_id: int, error: str, permanent: bool) -> str:
    with write_transaction(db):
        retried = not permanent and outbox.retry_later(db, row, error)
        if permanent:
            outbox.complete(db, row)
        notification_rows.mark_failed_attempt(db, note_id, error,
                                              "queued" if retried else "failed")
    log.warning("email %s: %s (%s)", note_id, error, "will retry" if retried else "gave up")
    return "email_retry" if retried else "email_failed"


def _render_once(db: Database, note: dict, sender: str) -> dict:
    """Pin what the first attempt renders: retries send exactly that."""
    rendered = rendering.render(db, note)
    with write_transaction(db):
        notification_rows.keep_rendering(db, note["id"], rendered.subject, rendered.text,
                                         rendered.html, message_id(note, sender),
                                         clock.now_iso())
    return get_notification(db, note["id"])


def deliver_email(db: Database, provider, row: dict) -> str:
    """The outbox handler (deliveries.HANDLERS["email"]). `provider` is the payout provider,
    unused: emails go by SMTP."""
    note = get_notification(db, row["subject_id"])
    if note["status"] != "queued":
        with write_transaction(db):
            outbox.complete(db, row)
        return f"email_{note['status']}"
    if note["kind"] in REMINDER_KINDS and (why := reason_to_withdraw(db, note)):
        with write_transaction(db):
            notification_rows.mark_withdrawn(db, note["id"], why)
            outbox.complete(db, row)
        return "email_withdrawn"
    config = current_app.config
    try:
        if note["rendered_at"] is None:
            note = _render_once(db, note, config["MAIL_FROM"])
        message = build_message(note, config["MAIL_FROM"])
    except Exception as exc:  # noqa: BLE001  (a template bug: retried, then given up on)
        log.exception("email %s could not be rendered", note["id"])
        return _fail(db, row, note["id"], f"rendering: {type(exc).__name__}: {exc}", False)
    try:
        send(message, SmtpSettings.from_config(config))
    except (smtplib.SMTPException, OSError) as exc:
        return _fail(db, row, note["id"], f"{type(exc).__name__}: {exc}", _permanent(exc))
    with write_transaction(db):
        notification_rows.mark_sent(db, note["id"], clock.now_iso())
        outbox.complete(db, row)
    return "email_sent"
