"""Events become webhook outbox rows: one per event, in the transaction that caused it, only for
the three event types, only for the merchant of the order, only when it has a URL."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine

from returns_app.domain import clock
from returns_app.services import refunds, returns
from returns_app.services.events import Event
from returns_app.store.db import insert, select, write_transaction
from returns_app.webhooks import subscriber
from tests.builders import link_bank_account, make_merchant, make_order, make_return, viewer_for
from tests.webhook_support import set_webhook

HOOK = "https://shop.example.com/hooks"


@pytest.fixture
def shop(db):
    merchant, _ = make_merchant(db, "Hooked Shop")
    set_webhook(db, merchant["id"], HOOK)
    return merchant


@pytest.fixture
def other_shop(db):
    merchant, _ = make_merchant(db, "Other Shop")
    set_webhook(db, merchant["id"], "https://other.example.com/hooks")
    return merchant


def webhook_rows(db, merchant_id: int | None = None) -> list[dict]:
    rows = list(select(db,
        "SELECT webhook_message.*, outbox.kind, outbox.subject_id AS outbox_subject,"
        " outbox.payload, outbox.status FROM webhook_message"
        " JOIN outbox ON outbox.id = outbox_id ORDER BY webhook_message.id"))
    for row in rows:
        row["payload"] = json.loads(row["payload"])
    return [r for r in rows if merchant_id is None or r["merchant_id"] == merchant_id]


def audit_id(db, action: str, subject_id: int) -> tuple[int, str]:
    return db.execute("SELECT id, at FROM audit_event WHERE action = ? AND subject_id = ?",
                      [action, subject_id]).fetchone()


def test_a_reported_return_queues_one_webhook_with_the_merchant_api_shape(db, shop, other_shop):
    order = make_order(db, shop["id"])
    ret = make_return(db, order)
    [row] = webhook_rows(db)
    event_id, at = audit_id(db, "return.reported", ret["id"])
    assert row["merchant_id"] == shop["id"]
    assert (row["kind"], row["outbox_subject"], row["event_id"]) == ("webhook", event_id, event_id)
    assert (row["event_type"], row["subject_kind"], row["subject_id"]) == (
        "return.reported", "return", ret["id"])
    assert row["status"] == "pending"
    assert row["payload"] == {
        "id": f"evt_{event_id}", "type": "return.reported", "created_at": at,
        "data": returns.as_api(returns.return_for_merchant(db, shop["id"], ret["id"])),
    }
    assert row["payload"]["data"]["status"] == "reported"
    assert [i["line_id"] for i in row["payload"]["data"]["items"]] == [order["lines"][0]["id"]]


def test_a_sent_return_queues_its_own_webhook_with_the_tracking_number(db, shop):
    order = make_order(db, shop["id"])
    ret = make_return(db, order)
    returns.mark_sent(db, viewer_for(order), ret["id"], "RR123456789SE")
    reported, sent = webhook_rows(db)
    assert (reported["event_type"], sent["event_type"]) == ("return.reported", "return.sent")
    assert sent["payload"]["data"]["status"] == "sent"
    assert sent["payload"]["data"]["tracking_number"] == "RR123456789SE"
    assert sent["event_id"] != reported["event_id"]


def succeed_refund(db, shop) -> dict:
    """An accepted return on a paid order with a linked account, paid out as the worker would
    record it."""
    from returns_app.services import payments
    from tests.builders import decide

    order = make_order(db, shop["id"])
    link_bank_account(db, order["customer_id"])
    payments.record_transfer(db, order["id"], 149700, "OCR 1", "bank")
    decide(db, shop["id"], make_return(db, order, {1: 1}), (0, 1, 0))
    [refund] = refunds.refunds_of_order(db, order["id"])
    with write_transaction(db):
        refunds.start_sending(db, refund["id"])
    with write_transaction(db):
        refunds.record_outcome(db, refund["id"], "succeeded", "po_1", "paid")
    return refunds.get_refund(db, refund["id"])


def test_a_succeeded_refund_queues_a_webhook_with_the_refund(db, shop):
    refund = succeed_refund(db, shop)
    types = [r["event_type"] for r in webhook_rows(db)]
    # refund.created, the decision and the payout's sending are not webhook events.
    assert types == ["return.reported", "refund.succeeded"]
    row = webhook_rows(db)[-1]
    assert (row["subject_kind"], row["subject_id"]) == ("refund", refund["id"])
    assert row["payload"]["data"] == refunds.as_api(refund)
    assert row["payload"]["data"]["status"] == "succeeded"


def test_other_actions_queue_nothing(db, shop):
    order = make_order(db, shop["id"])
    cancelled = make_return(db, order, {0: 1})
    returns.cancel_return(db, viewer_for(order), cancelled["id"])
    expiring = make_return(db, order, {1: 1})
    with time_machine.travel(clock.parse(expiring["reported_at"]) + timedelta(days=20),
                             tick=False):
        assert returns.expire_overdue(db) == [expiring["id"]]
    actions = {a for (a,) in db.execute("SELECT action FROM audit_event").fetchall()}
    assert {"merchant.created", "instructions.published", "webhook.endpoint_created",
            "return.cancelled", "return.expired"} <= actions
    assert [r["event_type"] for r in webhook_rows(db)] == ["return.reported"] * 2


def test_nothing_is_queued_for_a_merchant_without_a_url(db):
    merchant, _ = make_merchant(db, "Quiet Shop")
    make_return(db, make_order(db, merchant["id"]))
    assert webhook_rows(db) == []
    assert db.execute("SELECT count(*) FROM outbox WHERE kind = 'webhook'").fetchone()[0] == 0


def test_a_merchant_never_gets_another_merchants_events(db, shop, other_shop):
    mine = make_return(db, make_order(db, shop["id"]))
    theirs = make_return(db, make_order(db, other_shop["id"]))
    assert [r["subject_id"] for r in webhook_rows(db, shop["id"])] == [mine["id"]]
    assert [r["subject_id"] for r in webhook_rows(db, other_shop["id"])] == [theirs["id"]]


def test_the_same_event_published_twice_is_one_delivery(db, shop):
    ret = make_return(db, make_order(db, shop["id"]))
    event_id, at = audit_id(db, "return.reported", ret["id"])
    event = Event(event_id, at, "test", "return.reported", "return", ret["id"], None, None)
    with write_transaction(db):
        subscriber.on_event(db, event)
    assert len(webhook_rows(db)) == 1
    assert db.execute("SELECT count(*) FROM outbox WHERE kind = 'webhook'").fetchone()[0] == 1


def test_the_database_itself_refuses_a_second_message_of_one_event_to_one_endpoint(db, shop):
    import sqlite3

    ret = make_return(db, make_order(db, shop["id"]))
    [first] = webhook_rows(db)
    with pytest.raises(sqlite3.IntegrityError), write_transaction(db):
        outbox_id = insert(db, "outbox", {
            "kind": "webhook", "subject_id": first["event_id"], "payload": "{}",
            "available_at": clock.now_iso(), "created_at": clock.now_iso()})
        insert(db, "webhook_message", {
            **{k: first[k] for k in ("merchant_id", "endpoint_id", "event_id", "event_type",
                                     "subject_kind", "subject_id", "created_at")},
            "outbox_id": outbox_id})
    assert ret["id"] == first["subject_id"]


def test_a_change_rolled_back_leaves_no_webhook(db, shop):
    order = make_order(db, shop["id"])
    ret = make_return(db, order)
    with pytest.raises(RuntimeError), write_transaction(db):
        returns.status_moves.move(db, "return", ret["id"], "reported", "sent",
                            sent_at=clock.now_iso())
        from returns_app.services import audit

        audit.record(db, "test", "return.sent", "return", ret["id"])
        assert len(webhook_rows(db)) == 2  # queued inside the transaction ...
        raise RuntimeError("the request failed after the event")
    assert [r["event_type"] for r in webhook_rows(db)] == ["return.reported"]  # ... and gone


def test_the_url_is_read_when_the_event_happens(db, shop):
    from returns_app.services import webhook_settings

    webhook_settings.remove_url(db, shop["id"], "test")
    make_return(db, make_order(db, shop["id"]))
    assert webhook_rows(db) == []


@pytest.mark.sqlite_only(reason="reads SQLite's schema; tests/postgres/test_migrations.py holds "
                                 "PostgreSQL's tables, columns and indexes equal to it")
def test_the_migration_builds_the_webhook_tables(db):
    columns = {c.name: (c.type, c.notnull) for c in db["webhook_delivery"].columns}
    assert columns["outbox_id"] == ("INTEGER", True) and columns["duration_ms"] == ("INTEGER", True)
    assert {"attempt", "url", "http_status", "error", "response_excerpt", "at"} <= set(columns)
    assert {"url", "events", "secret", "status", "failing_since"} <= {
        c.name for c in db["webhook_endpoint"].columns}
    assert {"webhook_message_merchant", "webhook_message_event_endpoint"} <= {
        name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}


def test_a_delivery_is_append_only_and_holds_a_status_or_an_error(db):
    import sqlite3

    merchant, _ = make_merchant(db, "Schema Shop")
    set_webhook(db, merchant["id"], HOOK)
    make_return(db, make_order(db, merchant["id"]))
    [outbox_id] = [r for (r,) in db.execute("SELECT outbox_id FROM webhook_message")]
    insert(db, "webhook_delivery", {"outbox_id": outbox_id, "attempt": 1, "url": HOOK,
                                    "http_status": 200, "duration_ms": 5, "at": clock.now_iso()})
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE webhook_delivery SET http_status = 500")
    with pytest.raises(sqlite3.IntegrityError):  # a status or an error, never both or neither
        insert(db, "webhook_delivery", {"outbox_id": outbox_id, "attempt": 2, "url": HOOK,
                                        "duration_ms": 5, "at": clock.now_iso()})
