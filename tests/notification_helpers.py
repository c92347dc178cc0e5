"""For the email tests: a real SMTP server on loopback (the app's own catcher on aiosmtpd),
and a worker's email deliveries run in the test's process."""

from __future__ import annotations

import re
import socket
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from returns_app.mailcatcher import Catcher
from returns_app.notifications.sending import deliver_email
from returns_app.store import outbox


class FlakyCatcher(Catcher):
    """Answers "451 try later" to the first `refuse` messages; `keep_refused` stores them
    anyway, as when the message arrived but the answer was lost."""

    def __init__(self) -> None:
        super().__init__()
        self.refuse = 0
        self.keep_refused = False
        self.refused = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.refused < self.refuse:
            self.refused += 1
            if self.keep_refused:
                await super().handle_DATA(server, session, envelope)
            return "451 Try again later"
        return await super().handle_DATA(server, session, envelope)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(app):
    """A real SMTP server the app sends to: `smtp.messages` is what arrived."""
    catcher = FlakyCatcher()
    port = free_port()
    controller = Controller(catcher, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_TIMEOUT=5)
    try:
        yield catcher
    finally:
        controller.stop()


def deliver_emails(app, db, limit: int = 50) -> list[str]:
    """What the worker does with the outbox's email rows that are due now."""
    outcomes = []
    with app.app_context():
        for _ in range(limit):
            row = outbox.claim(db, "test-worker", ("email",))
            if row is None:
                break
            outcomes.append(deliver_email(db, None, row))
    return outcomes


def body(message: EmailMessage, subtype: str = "plain") -> str:
    return message.get_body((subtype,)).get_content().replace("\r\n", "\n")


def links_in(text: str) -> list[str]:
    return re.findall(r"https?://[^\s<>\"]+", text)


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]
