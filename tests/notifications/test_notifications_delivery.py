"""Sending through a real SMTP server on loopback: one message per email, retried after a
failure with the same Message-ID, never holding a transaction during the call."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from returns_app.domain import clock
from returns_app.notifications import sending
from returns_app.store import outbox
from returns_app.store.db import select
from tests.builders import make_merchant, make_order, make_return
from tests.notification_helpers import body, deliver_emails, free_port


@pytest.fixture
def reported(db):
    merchant, _ = make_merchant(db)
    make_return(db, make_order(db, merchant["id"]))
    return db.execute("SELECT * FROM notification").fetchone()


def email_row(db) -> dict:
    return next(iter(select(db, "SELECT * FROM outbox WHERE kind = 'email'")))


def note(db) -> dict:
    return next(iter(select(db, "SELECT * FROM notification")))


def test_an_email_is_sent_once_as_text_and_html_and_marked_sent(app, db, smtp, reported):
    assert deliver_emails(app, db) == ["email_sent"]
    assert deliver_emails(app, db) == []  # done: nothing left to send
    [message] = smtp.messages
    assert message.get_content_type() == "multipart/alternative"
    assert "Pack the items." in body(message) and "<ol>" in body(message, "html")
    sent = note(db)
    assert sent["status"] == "sent" and sent["sent_at"]
    assert message["Message-ID"] == sent["message_id"]
    assert sent["message_id"].startswith(f"<notification-{sent['id']}.")
    assert sent["message_id"].endswith("@returns.example.se>")
    assert email_row(db)["status"] == "done"


def test_a_refused_message_is_retried_later_and_arrives_once(app, db, smtp, reported):
    smtp.refuse = 1
    assert deliver_emails(app, db) == ["email_retry"]
    assert smtp.messages == []
    row, waiting = email_row(db), note(db)
    assert row["status"] == "pending" and row["available_at"] > clock.now_iso()
    assert waiting["status"] == "queued" and "451" in waiting["last_error"]
    assert deliver_emails(app, db) == []  # backing off
    with time_machine.travel(clock.now() + timedelta(hours=1), tick=False):
        assert deliver_emails(app, db) == ["email_sent"]
    assert len(smtp.messages) == 1
    assert note(db)["status"] == "sent"


def test_a_retry_after_a_lost_answer_carries_the_same_message_id(app, db, smtp, reported):
    """The server kept the message but its answer never came: the copy the retry sends is the
    very same email, recognisable by its Message-ID."""
    smtp.refuse, smtp.keep_refused = 1, True
    assert deliver_emails(app, db) == ["email_retry"]
    with time_machine.travel(clock.now() + timedelta(hours=1), tick=False):
        assert deliver_emails(app, db) == ["email_sent"]
    first, second = smtp.messages
    assert first["Message-ID"] == second["Message-ID"] == note(db)["message_id"]
    assert body(first) == body(second)


def test_no_server_is_a_retry_and_then_a_failure(app, db, reported):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_TIMEOUT=2)
    moment = clock.now()
    outcomes = []
    for _ in range(outbox.MAX_ATTEMPTS):
        with time_machine.travel(moment, tick=False):
            outcomes += deliver_emails(app, db)
        moment += timedelta(hours=2)
    assert outcomes == ["email_retry"] * (outbox.MAX_ATTEMPTS - 1) + ["email_failed"]
    assert note(db)["status"] == "failed"
    assert email_row(db)["status"] == "failed"


def test_the_smtp_call_happens_outside_any_transaction(app, db, smtp, reported, monkeypatch):
    seen = []
    real_send = sending.send

    def watching(message, settings):
        seen.append(db.conn.in_transaction)
        return real_send(message, settings)

    monkeypatch.setattr(sending, "send", watching)
    assert deliver_emails(app, db) == ["email_sent"]
    assert seen == [False]


class Killed(BaseException):
    """The worker process dying (SIGKILL) between the SMTP answer and the database write."""


def test_an_email_sent_by_a_worker_killed_before_recording_it_is_resent_with_the_same_id(
        app, db, smtp, reported, monkeypatch):
    """At least once: the row's lease runs out and another worker sends it again. The copy is
    byte for byte the same email (Message-ID, Date, body), so the mailbox shows one."""
    real_send = sending.send

    def send_then_die(message, settings):
        real_send(message, settings)
        raise Killed

    monkeypatch.setattr(sending, "send", send_then_die)
    with pytest.raises(Killed):
        deliver_emails(app, db)
    assert email_row(db)["status"] == "pending" and note(db)["status"] == "queued"
    monkeypatch.setattr(sending, "send", real_send)
    assert deliver_emails(app, db) == []  # the dead worker's lease still holds it
    with time_machine.travel(clock.now() + outbox.LEASE + timedelta(seconds=5), tick=False):
        assert deliver_emails(app, db) == ["email_sent"]
    first, second = smtp.messages
    assert first["Message-ID"] == second["Message-ID"] == note(db)["message_id"]
    assert first["Date"] == second["Date"]
    assert body(first) == body(second) and body(first, "html") == body(second, "html")
