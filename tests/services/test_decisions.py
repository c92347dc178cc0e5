"""The merchant's decision moves money: credits, refunds (once), rejected value payable again."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from returns_app.domain import clock
from returns_app.domain.errors import Conflict, Invalid, NotFound
from returns_app.services import decisions, orders, payments, refunds, returns
from returns_app.store.db import is_postgres, select, select_one, write_transaction
from returns_app.web.http_errors import status_of
from tests.builders import (
    decide,
    link_bank_account,
    make_merchant,
    make_order,
    make_return,
    viewer_for,
)

SHIRTS, JEANS = 0, 1
SHIRT, JEAN = 29900, 79900
TOTAL = 2 * SHIRT + JEAN + 10000  # 149 700: two shirts, jeans, a gift card


@pytest.fixture
def shop(db):
    merchant, _ = make_merchant(db)
    return merchant


@pytest.fixture
def order(db, shop):
    return make_order(db, shop["id"])


def paid_in_full(db, shop, how: str) -> dict:
    """An order paid in full: by card at purchase, or an invoice paid by bank transfer."""
    if how == "card":
        return make_order(db, shop["id"], payment_method="card")
    order = make_order(db, shop["id"])
    payments.record_transfer(db, order["id"], TOTAL, f"OCR {order['order_number']}", "bank")
    return order


def ledger(db, order_id: int, kind: str) -> list[dict]:
    return list(select(db, "SELECT * FROM ledger_entry WHERE order_id = ? AND kind = ?"
                         " ORDER BY id", [order_id, kind]))


def count(db, table: str) -> int:
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def payouts(db) -> list[dict]:
    return list(select(db, "SELECT * FROM outbox WHERE kind = 'payout' ORDER BY id"))


def audit_actions(db, subject_kind: str, subject_id: int) -> list[str]:
    return [r[0] for r in db.execute(
        "SELECT action FROM audit_event WHERE subject_kind = ? AND subject_id = ? ORDER BY id",
        [subject_kind, subject_id]).fetchall()]


def snapshot(db) -> dict:
    """Everything a registration may write."""
    return {
        "ledger": count(db, "ledger_entry"), "refund": count(db, "refund"),
        "outbox": count(db, "outbox"), "audit": count(db, "audit_event"),
        "idempotency": count(db, "idempotency_record"),
        "items": [tuple(r) for r in db.execute(
            "SELECT accepted_quantity, rejected_quantity, received_quantity, decision_reason"
            " FROM return_item ORDER BY id").fetchall()],
        "returns": [tuple(r) for r in db.execute(
            "SELECT status FROM returns ORDER BY id").fetchall()],
        "due": [r[0] for r in db.execute("SELECT due_date FROM orders ORDER BY id")],
    }


# --- accepted items -----------------------------------------------------------------------------

def test_accepting_books_a_credit_of_the_accepted_value(db, shop, order):
    ret = make_return(db, order, {SHIRTS: 2})
    decide(db, shop["id"], ret, (0, 1, 0))
    credits = ledger(db, order["id"], "credit")
    assert [c["amount_minor"] for c in credits] == [SHIRT]
    decide(db, shop["id"], ret, (0, 1, 0))
    assert [c["amount_minor"] for c in ledger(db, order["id"], "credit")] == [SHIRT, SHIRT]
    assert orders.ledger_amounts(db, order["id"]).accepted == 2 * SHIRT


def test_accepting_on_an_unpaid_invoice_lowers_payable_now_and_starts_no_refund(db, shop, order):
    assert orders.amounts(db, order["id"]).payable_now == TOTAL
    ret = make_return(db, order, {JEANS: 1})
    decide(db, shop["id"], ret, (0, 1, 0))
    amounts = orders.amounts(db, order["id"])
    assert (amounts.payable_now, amounts.paused, amounts.refund_owed) == (TOTAL - JEAN, 0, 0)
    assert refunds.refunds_of_order(db, order["id"]) == []
    assert ledger(db, order["id"], "refund") == []
    assert payouts(db) == []


@pytest.mark.parametrize("how", ["card", "transfer"])
def test_accepting_a_paid_order_refunds_the_accepted_value_at_once(db, shop, how):
    order = paid_in_full(db, shop, how)
    if how == "transfer":
        link_bank_account(db, order["customer_id"])
    ret = make_return(db, order, {JEANS: 1})
    decide(db, shop["id"], ret, (0, 1, 0))
    [refund] = refunds.refunds_of_order(db, order["id"])
    assert (refund["amount_minor"], refund["status"]) == (JEAN, "ready")
    [entry] = ledger(db, order["id"], "refund")
    assert (entry["amount_minor"], entry["idempotency_key"]) == (JEAN, f"refund:{refund['id']}")
    assert entry["created_at"] == refund["created_at"]
    [row] = payouts(db)
    assert (row["subject_id"], row["status"]) == (refund["id"], "pending")
    amounts = orders.amounts(db, order["id"])
    assert (amounts.payable_now, amounts.paused, amounts.refund_owed) == (0, 0, JEAN)


@contextmanager
def outbox_refused(db):
    """Every insert into the outbox fails while this lasts (a trigger, in each engine's own
    words; PostgreSQL's database outlives the test, so the trigger goes also on failure)."""
    if is_postgres(db):
        db.execute("CREATE FUNCTION no_outbox() RETURNS trigger LANGUAGE plpgsql AS"
                   " $$ BEGIN RAISE EXCEPTION 'outbox unavailable'; END $$")
        db.execute("CREATE TRIGGER no_outbox BEFORE INSERT ON outbox"
                   " FOR EACH ROW EXECUTE FUNCTION no_outbox()")
        try:
            yield
        finally:
            db.execute("DROP TRIGGER no_outbox ON outbox")
            db.execute("DROP FUNCTION no_outbox()")
        return
    db.execute("CREATE TRIGGER no_outbox BEFORE INSERT ON outbox"
               " BEGIN SELECT RAISE(ABORT, 'outbox unavailable'); END")
    yield
    db.execute("DROP TRIGGER no_outbox")


def test_the_refund_its_ledger_entry_and_its_payout_are_written_together(db, shop):
    """If any part of the decision can't be written, none of it is: no credit without its
    refund, no refund without its ledger entry or its outbox row."""
    order = paid_in_full(db, shop, "card")
    ret = make_return(db, order, {JEANS: 1})
    with outbox_refused(db):
        before = snapshot(db)
        with pytest.raises(Exception, match="outbox unavailable"):
            decide(db, shop["id"], ret, (0, 1, 0))
        assert snapshot(db) == before
    decide(db, shop["id"], ret, (0, 1, 0))
    assert [r["amount_minor"] for r in refunds.refunds_of_order(db, order["id"])] == [JEAN]


@pytest.mark.parametrize("method, transfer, linked, status, kind, outbox_rows", [
    ("card", False, True, "ready", "card", 1),  # the card that paid comes first
    ("card", False, False, "ready", "card", 1),
    ("invoice", True, True, "ready", "bank_account", 1),
    ("invoice", True, False, "needs_details", None, 0),
])
def test_the_refund_goes_to_the_card_else_the_bank_account_else_waits_for_details(
        db, shop, method, transfer, linked, status, kind, outbox_rows):
    order = paid_in_full(db, shop, "transfer" if transfer else method)
    account = link_bank_account(db, order["customer_id"]) if linked else None
    ret = make_return(db, order, {JEANS: 1})
    decide(db, shop["id"], ret, (0, 1, 0))
    [refund] = refunds.refunds_of_order(db, order["id"])
    assert (refund["status"], refund["destination_kind"], refund["amount_minor"]) == (
        status, kind, JEAN)
    assert len(payouts(db)) == outbox_rows
    destination = json.loads(refund["destination_json"]) if refund["destination_json"] else None
    if kind == "card":
        assert destination == {"type": "card", "payment_id": f"checkout:{order['order_number']}"}
    elif kind == "bank_account":
        assert destination == account
        assert refund["destination_masked"] == "Swedbank 8327-9, account ••••7897"
    else:
        assert destination is None and refund["destination_masked"] is None


def test_a_second_registration_refunds_only_the_new_money(db, shop):
    order = paid_in_full(db, shop, "card")
    ret = make_return(db, order, {SHIRTS: 2, JEANS: 1})
    decide(db, shop["id"], ret, (0, 1, 0))
    assert [r["amount_minor"] for r in refunds.refunds_of_order(db, order["id"])] == [SHIRT]
    decide(db, shop["id"], ret, (0, 1, 0), (1, 1, 0))
    rows = refunds.refunds_of_order(db, order["id"])
    assert [r["amount_minor"] for r in rows] == [SHIRT, SHIRT + JEAN]
    assert [e["amount_minor"] for e in ledger(db, order["id"], "refund")] == [SHIRT, SHIRT + JEAN]
    assert len(payouts(db)) == 2
    # Nothing more is owed, so asking again creates nothing.
    with write_transaction(db):
        assert refunds.settle_refund_owed(db, order["id"], "again", "test") is None
    assert len(refunds.refunds_of_order(db, order["id"])) == 2


def test_accepting_only_the_unpaid_part_refunds_only_what_was_paid_too_much(db, shop, order):
    payments.record_transfer(db, order["id"], TOTAL - JEAN, "OCR 1", "bank")
    ret = make_return(db, order, {SHIRTS: 1, JEANS: 1})
    decide(db, shop["id"], ret, (1, 1, 0))  # jeans: the unpaid part, nothing to refund
    assert refunds.refunds_of_order(db, order["id"]) == []
    decide(db, shop["id"], ret, (0, 1, 0))  # a shirt: paid, so it comes back
    assert [r["amount_minor"] for r in refunds.refunds_of_order(db, order["id"])] == [SHIRT]


# --- rejected items -----------------------------------------------------------------------------

def test_a_rejected_item_is_payable_again_with_a_new_due_date_and_the_reason(db, shop):
    start = datetime(2025, 3, 10, 11, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as traveller:
        order = make_order(db, shop["id"])
        ret = make_return(db, order, {JEANS: 1})
        before = orders.amounts(db, order["id"])
        assert (before.payable_now, before.paused) == (TOTAL - JEAN, JEAN)
        assert order["due_date"] == "2025-03-21"  # delivered 3 days before, 14 days to pay
        traveller.shift(timedelta(days=5))
        decide(db, shop["id"], ret, (0, 0, 1), reason="Stains on the left leg")
        assert clock.today().isoformat() == "2025-03-15"
    after = orders.amounts(db, order["id"])
    assert (after.payable_now, after.paused) == (TOTAL, 0)
    assert orders.get_order(db, order["id"])["due_date"] == "2025-03-29"
    [rejected] = orders.rejected_items(db, order["id"])
    assert (rejected["decision_reason"], rejected["value"]) == ("Stains on the left leg", JEAN)
    assert refunds.refunds_of_order(db, order["id"]) == []
    assert "order.due_date_moved" in audit_actions(db, "order", order["id"])


def test_rejecting_never_moves_the_due_date_earlier(db, shop):
    order = make_order(db, shop["id"], delivered_at=clock.iso(clock.now() + timedelta(days=5)))
    due = order["due_date"]
    ret = make_return(db, order, {JEANS: 1})
    decide(db, shop["id"], ret, (0, 0, 1))
    assert orders.get_order(db, order["id"])["due_date"] == due


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_rejecting_without_a_reason_is_invalid(db, shop, order, reason):
    ret = make_return(db, order, {JEANS: 1})
    before = snapshot(db)
    item = {"return_item_id": ret["items"][0]["id"], "rejected_quantity": 1}
    if reason is not None:
        item["reason"] = reason
    with pytest.raises(Invalid) as exc:
        decisions.register(db, shop["id"], ret["id"], {"items": [item]}, actor="test")
    assert "items[0].reason" in exc.value.fields
    assert snapshot(db) == before


# --- partial decisions and the return's status --------------------------------------------------

def test_partial_decisions_keep_the_rest_paused_until_every_item_is_decided(db, shop, order):
    ret = make_return(db, order, {SHIRTS: 2, JEANS: 1})
    decide(db, shop["id"], ret, (0, 1, 0))
    amounts = orders.amounts(db, order["id"])
    assert (amounts.payable_now, amounts.paused) == (TOTAL - 2 * SHIRT - JEAN, SHIRT + JEAN)
    assert select_one(db, "SELECT * FROM returns WHERE id = ?", [ret["id"]])["status"] == "received"
    decide(db, shop["id"], ret, (1, 1, 0))
    assert select_one(db, "SELECT * FROM returns WHERE id = ?", [ret["id"]])["status"] == "received"
    assert orders.amounts(db, order["id"]).paused == SHIRT
    decide(db, shop["id"], ret, (0, 0, 1))
    row = select_one(db, "SELECT * FROM returns WHERE id = ?", [ret["id"]])
    assert row["status"] == "resolved" and row["resolved_at"] and row["received_at"]
    amounts = orders.amounts(db, order["id"])
    assert (amounts.payable_now, amounts.paused) == (TOTAL - SHIRT - JEAN, 0)


@pytest.mark.parametrize("first, then, field", [
    (None, {"accepted_quantity": 3}, "items[0].accepted_quantity"),
    (None, {"accepted_quantity": 1, "rejected_quantity": 2, "reason": "x"},
     "items[0].accepted_quantity"),
    ((1, 0), {"accepted_quantity": 2}, "items[0].accepted_quantity"),
    ((1, 0), {"rejected_quantity": 2, "reason": "x"}, "items[0].accepted_quantity"),
    (None, {}, "items[0].accepted_quantity"),
    (None, {"accepted_quantity": -1}, "items[0].accepted_quantity"),
])
def test_deciding_more_than_is_undecided_is_invalid_and_writes_nothing(db, shop, order, first,
                                                                       then, field):
    ret = make_return(db, order, {SHIRTS: 2})
    if first:
        decide(db, shop["id"], ret, (0, *first))
    before = snapshot(db)
    with pytest.raises(Invalid) as exc:
        decisions.register(db, shop["id"], ret["id"], {"items": [
            {"return_item_id": ret["items"][0]["id"], **then}]}, actor="test")
    assert field in exc.value.fields
    assert snapshot(db) == before


def test_an_item_of_another_return_is_invalid(db, shop, order):
    ret = make_return(db, order, {SHIRTS: 1})
    other = make_return(db, order, {JEANS: 1})
    with pytest.raises(Invalid) as exc:
        decisions.register(db, shop["id"], ret["id"], {"items": [
            {"return_item_id": other["items"][0]["id"], "accepted_quantity": 1}]}, actor="t")
    assert "items[0].return_item_id" in exc.value.fields


def test_another_merchants_return_is_not_found(db, shop, order):
    ret = make_return(db, order, {JEANS: 1})
    other, _ = make_merchant(db, "Other Shop", instructions=None)
    before = snapshot(db)
    with pytest.raises(NotFound):
        decide(db, other["id"], ret, (0, 1, 0))
    with pytest.raises(NotFound):
        decisions.register(db, shop["id"], ret["id"] + 100, {"items": [
            {"return_item_id": ret["items"][0]["id"], "accepted_quantity": 1}]}, actor="t")
    assert snapshot(db) == before


@pytest.mark.parametrize("ending", ["cancelled", "resolved"])
def test_a_cancelled_or_resolved_return_is_a_conflict(db, shop, order, ending):
    ret = make_return(db, order, {SHIRTS: 2})
    if ending == "cancelled":
        returns.cancel_return(db, viewer_for(order), ret["id"])
    else:
        decide(db, shop["id"], ret, (0, 1, 1))
    before = snapshot(db)
    with pytest.raises(Conflict):
        decide(db, shop["id"], ret, (0, 1, 0))
    assert snapshot(db) == before


def test_an_expired_return_can_still_be_registered_when_the_parcel_arrives(db, shop, order):
    ret = make_return(db, order, {JEANS: 1})
    with time_machine.travel(clock.now() + timedelta(days=15), tick=False):
        assert returns.expire_overdue(db) == [ret["id"]]
    decide(db, shop["id"], ret, (0, 1, 0))
    assert select_one(db, "SELECT * FROM returns WHERE id = ?", [ret["id"]])["status"] == "resolved"
    assert orders.amounts(db, order["id"]).payable_now == TOTAL - JEAN


def test_an_item_reported_again_after_its_return_expired_is_credited_once(db, shop):
    """The parcel of an expired return arrives after the customer reported the same item in a
    new return: the item can't be accepted in both, or A > T and refunds exceed payments."""
    order = paid_in_full(db, shop, "card")
    first = make_return(db, order, {JEANS: 1})
    with time_machine.travel(clock.now() + timedelta(days=15), tick=False):
        returns.expire_overdue(db)
    second = make_return(db, orders.order_details(db, order["id"]), {JEANS: 1})
    decide(db, shop["id"], second, (0, 1, 0))
    with pytest.raises((Conflict, Invalid)):
        decide(db, shop["id"], first, (0, 1, 0))
    booked = orders.ledger_amounts(db, order["id"])
    assert booked.accepted == JEAN
    assert booked.refunded == JEAN <= booked.paid
    assert all(line["returnable_quantity"] >= 0
               for line in orders.lines_with_returnable(db, order["id"]))


def test_an_expired_return_whose_items_still_fit_beside_a_new_one_can_be_registered(db, shop):
    order = paid_in_full(db, shop, "card")
    first = make_return(db, order, {SHIRTS: 1})
    with time_machine.travel(clock.now() + timedelta(days=15), tick=False):
        returns.expire_overdue(db)
    second = make_return(db, orders.order_details(db, order["id"]), {SHIRTS: 1})
    decide(db, shop["id"], second, (0, 1, 0))
    decide(db, shop["id"], first, (0, 1, 0))
    assert orders.ledger_amounts(db, order["id"]).refunded == 2 * SHIRT


# --- Idempotency-Key ----------------------------------------------------------------------------

def body_for(ret: dict, accepted: int = 1) -> dict:
    return {"items": [{"return_item_id": ret["items"][0]["id"], "accepted_quantity": accepted}]}


def test_register_once_with_the_same_key_answers_the_same_and_refunds_once(db, shop):
    order = paid_in_full(db, shop, "card")
    ret = make_return(db, order, {SHIRTS: 2})
    first = decisions.register_once(db, shop["id"], ret["id"], body_for(ret), "k-1", "test")
    again = decisions.register_once(db, shop["id"], ret["id"], body_for(ret), "k-1", "test")
    assert first.status == again.status == 200
    assert again.body == first.body
    assert [r["amount_minor"] for r in refunds.refunds_of_order(db, order["id"])] == [SHIRT]
    assert len(ledger(db, order["id"], "credit")) == 1
    assert len(payouts(db)) == 1
    item = select_one(db, "SELECT * FROM return_item WHERE id = ?", [ret["items"][0]["id"]])
    assert item["accepted_quantity"] == 1
    # A new key is a new registration.
    decisions.register_once(db, shop["id"], ret["id"], body_for(ret), "k-2", "test")
    assert len(refunds.refunds_of_order(db, order["id"])) == 2


def test_register_once_with_the_same_key_and_another_body_is_422_and_writes_nothing(db, shop):
    order = paid_in_full(db, shop, "card")
    ret = make_return(db, order, {SHIRTS: 2})
    decisions.register_once(db, shop["id"], ret["id"], body_for(ret), "k-1", "test")
    before = snapshot(db)
    with pytest.raises(Invalid) as exc:
        decisions.register_once(db, shop["id"], ret["id"], body_for(ret, 2), "k-1", "test")
    assert status_of(exc.value) == 422
    assert "Idempotency-Key" in exc.value.fields
    assert snapshot(db) == before


def test_a_failed_register_once_leaves_its_key_free_for_a_corrected_retry(db, shop):
    order = paid_in_full(db, shop, "card")
    ret = make_return(db, order, {SHIRTS: 2})
    with pytest.raises(Invalid):
        decisions.register_once(db, shop["id"], ret["id"], body_for(ret, 3), "k-1", "test")
    assert count(db, "idempotency_record") == 0
    done = decisions.register_once(db, shop["id"], ret["id"], body_for(ret, 2), "k-1", "test")
    assert done.status == 200


# --- audit --------------------------------------------------------------------------------------

def test_every_change_leaves_an_audit_row(db, shop):
    order = paid_in_full(db, shop, "transfer")
    ret = make_return(db, order, {SHIRTS: 2, JEANS: 1})
    decide(db, shop["id"], ret, (0, 1, 1), (1, 1, 0))
    assert audit_actions(db, "return", ret["id"])[-1] == "return.registered"
    [refund] = refunds.refunds_of_order(db, order["id"])
    assert audit_actions(db, "refund", refund["id"]) == ["refund.created"]
    assert audit_actions(db, "order", order["id"])[-1] == "order.due_date_moved"
    row = db.execute("SELECT actor, before_json, after_json FROM audit_event WHERE action ="
                     " 'return.registered'").fetchone()
    assert row[0] == "test"
    assert json.loads(row[1]) == {"status": "reported"}
    after = json.loads(row[2])
    assert (after["credited"], after["rejected_value"]) == (SHIRT + JEAN, SHIRT)
