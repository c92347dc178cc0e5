"""Reminder rules over time, the clock frozen in Stockholm: 2 days before the send-by or due
date, from 08:00, at most one of each kind per order and day, never for a paused amount, after
payment or for a return no longer waiting, and only by the channel the customer chose."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
import time_machine

from returns_app.domain import clock
from returns_app.notifications import reminders
from returns_app.services import payments, returns, support, support_actions
from returns_app.store.db import select
from returns_app.worker import rounds as worker
from tests.builders import link_bank_account, make_merchant, make_order, make_return, viewer_for
from tests.notification_helpers import deliver_emails

# Bought and created on 2 March 2026: delivered 27 February at noon, so the invoice is due on
# 13 March; a return reported on 2 March must be sent by 16 March.
CREATED = "2026-03-02 10:00"
DUE = "2026-03-13"
SEND_BY = "2026-03-16"
TOTAL = 2 * 29900 + 79900 + 10000
GIFT_CARD = 10000  # can't be returned: always payable


def at(local: str):
    moment = datetime.fromisoformat(local).replace(tzinfo=clock.LOCAL_ZONE)
    return time_machine.travel(moment, tick=False)


def scan_at(db, local: str):
    with at(local):
        return reminders.scan(db)


@pytest.fixture
def order(db):
    with at(CREATED):
        merchant, _ = make_merchant(db)
        order = make_order(db, merchant["id"])
    assert order["due_date"] == DUE
    return order


def reminders_of(db, kind: str) -> list[dict]:
    return list(select(db, "SELECT * FROM notification WHERE kind = ? ORDER BY id", [kind]))


def decisions(db) -> list[tuple]:
    return [tuple(r) for r in db.execute(
        "SELECT kind, day, outcome FROM reminder_decision ORDER BY id").fetchall()]


def report(db, order, quantities=None) -> dict:
    with at(CREATED):
        ret = make_return(db, order, quantities)
    assert ret["send_by"] == SEND_BY
    return ret


# --- invoice due in 2 days ----------------------------------------------------------------------

@pytest.mark.parametrize("when, reminded", [
    ("2026-03-10 12:00", False),  # 3 days before
    ("2026-03-11 07:59", False),  # the day, but not before 08:00
    ("2026-03-11 08:00", True),
    ("2026-03-11 23:59", True),
    ("2026-03-12 09:00", False),  # 1 day before
    ("2026-03-13 09:00", False),  # the due date itself
])
def test_invoice_reminder_goes_out_two_days_before_the_due_date(db, order, when, reminded):
    scan_at(db, when)
    sent = reminders_of(db, "invoice_due_reminder")
    assert len(sent) == int(reminded)
    if reminded:
        assert sent[0]["order_id"] == order["id"]
        assert f'"amount": {TOTAL}' in sent[0]["facts"]
        assert decisions(db) == [("invoice_due_reminder", "2026-03-11", "email")]


def test_at_most_one_reminder_of_a_kind_per_order_and_day(db, order):
    for when in ("2026-03-11 08:00", "2026-03-11 08:01", "2026-03-11 12:00", "2026-03-11 23:00"):
        scan_at(db, when)
    assert len(reminders_of(db, "invoice_due_reminder")) == 1
    assert db.execute("SELECT count(*) FROM outbox WHERE kind = 'email'").fetchone()[0] == 1


def test_only_the_kept_items_are_reminded_of_while_a_return_is_open(db, order):
    report(db, order, {0: 2, 1: 1})  # shirts and jeans go back; the gift card is kept
    scan_at(db, "2026-03-11 09:00")
    [sent] = reminders_of(db, "invoice_due_reminder")
    assert f'"amount": {GIFT_CARD}' in sent["facts"]


def test_no_reminder_for_an_amount_that_is_all_paused(db, order):
    report(db, order, {0: 2, 1: 1})
    payments.record_transfer(db, order["id"], GIFT_CARD, "OCR gift card", "test")
    scan_at(db, "2026-03-11 09:00")
    assert reminders_of(db, "invoice_due_reminder") == []
    assert decisions(db) == [("invoice_due_reminder", "2026-03-11", "skipped:paused")]


def test_no_reminder_after_payment(db, order):
    payments.record_transfer(db, order["id"], TOTAL, "OCR all", "test")
    scan_at(db, "2026-03-11 09:00")
    assert reminders_of(db, "invoice_due_reminder") == []
    assert decisions(db) == [("invoice_due_reminder", "2026-03-11", "skipped:nothing_due")]


@pytest.mark.parametrize("held_until, outcome", [
    ("2026-03-11", "skipped:on_hold"),  # the hold's last day still counts
    ("2026-03-10", "email"),  # it ended the day before
])
def test_no_reminder_while_support_keeps_the_invoice_on_hold(db, order, held_until, outcome):
    agent, _ = support.create_support_user(db, "agent@example.se")
    with at("2026-03-09 10:00"):
        support_actions.hold_invoice(db, order["id"], date.fromisoformat(held_until),
                                     agent["id"], "Customer disputes the delivery")
    scan_at(db, "2026-03-11 09:00")
    assert decisions(db) == [("invoice_due_reminder", "2026-03-11", outcome)]
    assert len(reminders_of(db, "invoice_due_reminder")) == (outcome == "email")


def test_no_reminder_when_a_bank_payment_is_already_scheduled(db, order):
    link_bank_account(db, order["customer_id"])
    with at("2026-03-05 12:00"):
        payments.pay(db, None, viewer_for(order), order["id"],
                     {"amount": TOTAL, "method": "bank_account"}, "key-1",
                     payments.ReturnUrls("http://x/paid", "http://x/cancelled"))
    scan_at(db, "2026-03-11 09:00")
    assert reminders_of(db, "invoice_due_reminder") == []
    assert decisions(db) == [("invoice_due_reminder", "2026-03-11", "skipped:payment_under_way")]


def test_a_cancelled_return_makes_its_items_due_again(db, order):
    ret = report(db, order, {0: 2, 1: 1})
    with at("2026-03-05 12:00"):
        returns.cancel_return(db, viewer_for(order), ret["id"])
    scan_at(db, "2026-03-11 09:00")
    [sent] = reminders_of(db, "invoice_due_reminder")
    assert f'"amount": {TOTAL}' in sent["facts"]
    scan_at(db, "2026-03-14 09:00")
    assert reminders_of(db, "send_return_reminder") == []  # nothing left to send


# --- send your return ---------------------------------------------------------------------------

@pytest.mark.parametrize("when, reminded", [
    ("2026-03-13 12:00", False),
    ("2026-03-14 08:00", True),
    ("2026-03-15 12:00", False),
    ("2026-03-16 12:00", False),
])
def test_send_reminder_goes_out_two_days_before_the_send_by_date(db, order, when, reminded):
    ret = report(db, order)
    scan_at(db, when)
    sent = reminders_of(db, "send_return_reminder")
    assert len(sent) == int(reminded)
    if reminded:
        assert (sent[0]["return_id"], sent[0]["order_id"]) == (ret["id"], order["id"])


def test_no_send_reminder_once_the_return_is_on_its_way_or_cancelled(db, order):
    sent, cancelled = report(db, order, {0: 1}), report(db, order, {1: 1})
    with at("2026-03-06 12:00"):
        returns.mark_sent(db, viewer_for(order), sent["id"], None)
        returns.cancel_return(db, viewer_for(order), cancelled["id"])
    scan_at(db, "2026-03-14 09:00")
    assert reminders_of(db, "send_return_reminder") == []


def test_two_returns_due_the_same_day_make_one_reminder(db, order):
    first, second = report(db, order, {0: 1}), report(db, order, {1: 1})
    scan_at(db, "2026-03-14 09:00")
    [sent] = reminders_of(db, "send_return_reminder")
    assert f'"return_ids": [{first["id"]}, {second["id"]}]' in sent["facts"]


# --- the customer's choice ----------------------------------------------------------------------

@pytest.mark.parametrize("channel, outcome", [("none", "skipped:customer_chose_none")])
def test_a_customer_who_chose_none_gets_no_email(db, order, channel, outcome):
    report(db, order, {0: 1})
    db.execute("UPDATE customer SET reminder_channel = ? WHERE id = ?",
               [channel, order["customer_id"]])
    scan_at(db, "2026-03-11 09:00")
    scan_at(db, "2026-03-14 09:00")
    assert db.execute("SELECT count(*) FROM notification").fetchone()[0] == 1  # the report
    assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1
    assert decisions(db) == [("invoice_due_reminder", "2026-03-11", outcome),
                             ("send_return_reminder", "2026-03-14", outcome)]


def test_a_reminder_paid_before_it_leaves_is_withdrawn(app, db, order):
    deliver_emails(app, db)  # nothing queued yet but the order's own events
    scan_at(db, "2026-03-11 09:00")
    payments.record_transfer(db, order["id"], TOTAL, "OCR late", "test")
    with at("2026-03-11 09:05"):
        outcomes = deliver_emails(app, db)
    assert "email_withdrawn" in outcomes
    [withdrawn] = reminders_of(db, "invoice_due_reminder")
    assert withdrawn["status"] == "withdrawn"
    assert "nothing_due" in withdrawn["last_error"]


# --- the scan itself ----------------------------------------------------------------------------

def test_the_worker_weighs_reminders_every_round(app, db, order):
    with at("2026-03-11 09:00"):
        first = worker.run_once(app, "test-worker")
        second = worker.run_once(app, "test-worker")
    assert first["reminders_email"] == 1
    assert not any(k.startswith("reminders_") for k in second)


@pytest.mark.sqlite_only(reason="reads SQLite's query plan (EXPLAIN QUERY PLAN); PostgreSQL "
                                 "plans by its statistics, and a test's few rows are a scan there")
def test_the_scan_finds_its_candidates_through_indexes(db):
    plans = {}
    for name, sql in (
        ("returns", "SELECT DISTINCT order_id FROM returns WHERE status = 'reported'"
                    " AND send_by = ?"),
        ("orders", "SELECT id FROM orders WHERE due_date = ? AND payment_method = 'invoice'"),
    ):
        plans[name] = " ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql,
                                                            ["2026-03-13"]).fetchall())
    assert "USING INDEX returns_reported_send_by" in plans["returns"]
    assert "USING INDEX orders_due_date" in plans["orders"]


def test_the_invoice_reminder_says_how_to_pay_from_any_bank(app, db, order):
    from returns_app.bankfiles import ocr
    from returns_app.notifications.rendering import render

    scan_at(db, "2026-03-11 09:00")
    [note] = reminders_of(db, "invoice_due_reminder")
    with app.app_context():
        note["facts"] = json.loads(note["facts"])
        email = render(db, note)
    for text in (email.text, email.html):
        assert "991-2346" in text and ocr.for_order(order["id"]) in text


def test_no_reminder_once_the_bank_file_has_paid_it(db, order):
    from returns_app.bankfiles import ocr, sandbox
    from returns_app.services import bank_payments

    data = sandbox.notification("991-2346", [sandbox.Credit(TOTAL, ocr.for_order(order["id"]))],
                                date(2026, 3, 9), datetime(2026, 3, 9, 6), "REMIND")
    with at("2026-03-09 09:00"):
        bank_payments.import_file(db, data, "application/xml", "991-2346", "bank")
    scan_at(db, "2026-03-11 09:00")
    assert reminders_of(db, "invoice_due_reminder") == []
    assert decisions(db) == [("invoice_due_reminder", "2026-03-11", "skipped:nothing_due")]


def test_a_stored_sms_choice_means_email_never_nothing(db, order):
    """SMS is no longer offered (none is sent); customers who chose it earlier get email."""
    report(db, order, {0: 1})
    db.execute("UPDATE customer SET reminder_channel = 'sms' WHERE id = ?",
               [order["customer_id"]])
    scan_at(db, "2026-03-11 09:00")
    scan_at(db, "2026-03-14 09:00")
    assert decisions(db) == [("invoice_due_reminder", "2026-03-11", "email"),
                             ("send_return_reminder", "2026-03-14", "email")]
