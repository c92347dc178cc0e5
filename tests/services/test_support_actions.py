"""Each support action: what it changes, the audit row it writes in the same transaction, what
it refuses; the two-person rule; masking; and that the audit trail can't be rewritten."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta

import pytest
import time_machine

from returns_app.domain import clock
from returns_app.domain.errors import Conflict, Forbidden, Invalid
from returns_app.domain.payout_details import parse_payout_details
from returns_app.services import orders, refunds, support_actions
from returns_app.services.holds import invoice_on_hold
from returns_app.store import outbox
from returns_app.store.db import select, write_transaction
from returns_app.worker.deliveries import payout_key
from tests.builders import decide, link_bank_account, make_merchant, make_order
from tests.services.test_support_stuck import ready_refund, worker_outcome
from tests.support_helpers import make_support_user, refund_needing_details


@pytest.fixture
def merchant(db):
    merchant, _ = make_merchant(db)
    return merchant


@pytest.fixture
def agent(db):
    return make_support_user(db)


@pytest.fixture
def second_agent(db):
    return make_support_user(db, "second@example.se")


def last_audit(db, action: str) -> dict:
    rows = list(select(db, "SELECT * FROM audit_event WHERE action = ? ORDER BY id DESC LIMIT 1",
                         [action]))
    assert rows, f"no {action} audit row"
    row = rows[0]
    row["before"] = json.loads(row["before_json"]) if row["before_json"] else None
    row["after"] = json.loads(row["after_json"]) if row["after_json"] else None
    return row


def pending_payouts(db, refund_id: int) -> list[dict]:
    return list(select(db, "SELECT * FROM outbox WHERE kind = 'payout' AND subject_id = ? AND"
                         " status = 'pending'", [refund_id]))


def declined(db, merchant) -> dict:
    refund = ready_refund(db, merchant)
    (row,) = pending_payouts(db, refund["id"])
    with write_transaction(db):
        outbox.complete(db, row)
    worker_outcome(db, refund["id"], "declined", "account_closed")
    return refunds.get_refund(db, refund["id"])


# --- retry ------------------------------------------------------------------------------------

def test_retrying_a_declined_payout_queues_it_with_a_new_key(db, merchant, agent):
    refund = declined(db, merchant)
    first_key = payout_key(refund)
    after = support_actions.retry_payout(db, refund["id"], agent, "Customer reopened account")
    assert after["status"] == "ready"
    assert payout_key(after) != first_key  # the provider would replay the decline otherwise
    assert len(pending_payouts(db, refund["id"])) == 1
    row = last_audit(db, "refund.payout_retried")
    assert row["actor"] == f"support_user:{agent}" and row["subject_id"] == refund["id"]
    assert row["before"] == {"status": "failed"} and row["after"]["status"] == "ready"
    assert row["why"] == "Customer reopened account"


def test_retrying_an_unknown_payout_asks_first_and_never_queues_twice(db, merchant, agent):
    refund = ready_refund(db, merchant)
    worker_outcome(db, refund["id"], "unknown", "timeout")  # its outbox row waits to retry
    before_key = payout_key(refunds.get_refund(db, refund["id"]))
    with time_machine.travel(clock.now() + timedelta(minutes=5), tick=False):
        support_actions.retry_payout(db, refund["id"], agent, "Customer called")
        (row,) = pending_payouts(db, refund["id"])
        assert row["available_at"] == clock.now_iso()  # brought forward, not duplicated
    after = refunds.get_refund(db, refund["id"])
    assert after["status"] == "unknown" and payout_key(after) == before_key
    assert last_audit(db, "refund.payout_retried")["after"]["asks_provider_first"] is True


def test_retrying_an_unknown_payout_whose_deliveries_gave_up_queues_one(db, merchant, agent):
    refund = ready_refund(db, merchant)
    (row,) = pending_payouts(db, refund["id"])
    with write_transaction(db):
        outbox.give_up(db, row, "gave up")
    worker_outcome(db, refund["id"], "unknown", "timeout")
    support_actions.retry_payout(db, refund["id"], agent, "Provider is back")
    assert len(pending_payouts(db, refund["id"])) == 1


@pytest.mark.parametrize("status", ["needs_details", "ready", "succeeded"])
def test_retry_refuses_what_is_not_failed_or_unknown(db, merchant, agent, status):
    refund = refund_needing_details(db, merchant["id"]) if status == "needs_details" \
        else ready_refund(db, merchant)
    if status == "succeeded":
        worker_outcome(db, refund["id"], "succeeded")
    with pytest.raises(Conflict):
        support_actions.retry_payout(db, refund["id"], agent, "why")
    assert db.execute("SELECT count(*) FROM audit_event WHERE action = 'refund.payout_retried'"
                      ).fetchone()[0] == 0


@pytest.mark.parametrize("why", ["", "   ", None, "x" * 501])
def test_every_action_needs_a_why(db, merchant, agent, why):
    refund = declined(db, merchant)
    with pytest.raises(Invalid) as caught:
        support_actions.retry_payout(db, refund["id"], agent, why)
    assert "why" in caught.value.fields
    assert refunds.get_refund(db, refund["id"])["status"] == "failed"


# --- destination --------------------------------------------------------------------------------

def test_changing_the_destination_notes_consent_and_masks_the_account(db, merchant, agent):
    refund = refund_needing_details(db, merchant["id"])
    destination = parse_payout_details({"iban": "SE45 5000 0000 0583 9825 7466"})
    result = support_actions.change_destination(db, refund["id"], destination,
                                                "By phone 3 March, call 4711", agent,
                                                "No online bank access")
    after = refunds.get_refund(db, refund["id"])
    assert result["status"] == "held"  # 299 kr: no second person, but the customer's 24 hours
    assert after["status"] == "ready" and after["destination_kind"] == "iban"
    (payout,) = pending_payouts(db, refund["id"])
    assert payout["available_at"] == result["pays_not_before"] > clock.now_iso()
    row = last_audit(db, "refund.destination_set")
    assert row["actor"] == f"support_user:{agent}"
    assert row["after"]["consent"] == "By phone 3 March, call 4711"
    assert row["why"] == "No online bank access"
    assert "58398257466" not in row["after_json"] and "7466" in row["after"]["destination"]


def test_changing_the_destination_needs_consent(db, merchant, agent):
    refund = refund_needing_details(db, merchant["id"])
    destination = parse_payout_details({"swish_number": "070-123 45 67"})
    with pytest.raises(Invalid) as caught:
        support_actions.change_destination(db, refund["id"], destination, " ", agent, "why")
    assert "consent" in caught.value.fields


def test_the_destination_of_a_payout_under_way_cant_change(db, merchant, agent):
    refund = ready_refund(db, merchant)
    worker_outcome(db, refund["id"], "unknown", "timeout")
    destination = parse_payout_details({"swish_number": "070-123 45 67"})
    with pytest.raises(Conflict):
        support_actions.change_destination(db, refund["id"], destination, "phone", agent, "why")


# --- details link and merchant reminder -----------------------------------------------------------

def test_resending_the_details_link_is_on_record(db, merchant, agent):
    refund = refund_needing_details(db, merchant["id"])
    support_actions.resend_details_link(db, refund["id"], agent, "Lost the first email")
    row = last_audit(db, "refund.details_link_resent")
    assert (row["subject_kind"], row["subject_id"]) == ("refund", refund["id"])
    assert row["actor"] == f"support_user:{agent}" and row["why"] == "Lost the first email"


def test_reminding_the_merchant_is_on_record(db, merchant, agent):
    refund = refund_needing_details(db, merchant["id"])
    other = make_order(db, merchant["id"])
    from tests.builders import make_return
    ret = make_return(db, other)
    support_actions.remind_merchant(db, ret["id"], agent, "Sent 3 weeks ago")
    row = last_audit(db, "return.merchant_reminded")
    assert row["subject_id"] == ret["id"] and row["after"]["merchant_id"] == merchant["id"]
    with pytest.raises(Conflict):  # resolved: nothing left for the merchant to do
        support_actions.remind_merchant(db, refund["return_id"], agent, "why")


# --- paid outside, and the two-person rule --------------------------------------------------------

def big_refund(db, merchant, amount: int) -> dict:
    """A refund of exactly `amount` öre waiting for details."""
    order = make_order(db, merchant["id"], lines=[
        {"sku": "SOFA", "name": "Sofa", "quantity": 1, "unit_price": amount}])
    from returns_app.services import payments
    from tests.builders import make_return
    payments.record_transfer(db, order["id"], amount, f"OCR {order['id']}", actor="test")
    ret = make_return(db, order)
    decide(db, merchant["id"], ret, (0, 1, 0))
    (refund,) = refunds.refunds_of_order(db, order["id"])
    assert refund["amount_minor"] == amount
    return refund


def test_marking_paid_outside_books_refund_and_ledger_consistently(db, merchant, agent):
    refund = big_refund(db, merchant, support_actions.APPROVAL_ABOVE_MINOR)  # not above: no 2nd
    result = support_actions.mark_paid_outside(db, refund["id"], "BG 123-4567 2025-03-03",
                                               agent, "Paid by hand transfer")
    assert result["status"] == "paid"
    paid = refunds.get_refund(db, refund["id"])
    assert paid["status"] == "succeeded" and paid["succeeded_at"]
    amounts = orders.amounts(db, refund["order_id"])
    assert amounts.refunded == refund["amount_minor"] and amounts.refund_owed == 0
    ledger = db.execute("SELECT count(*) FROM ledger_entry WHERE order_id = ? AND kind ="
                        " 'refund'", [refund["order_id"]]).fetchone()[0]
    assert ledger == 1  # booked once, when the refund was created
    row = last_audit(db, "refund.marked_paid_outside")
    assert row["before"] == {"status": "needs_details"}
    assert row["after"]["paid_outside_reference"] == "BG 123-4567 2025-03-03"


def test_a_refund_that_may_be_under_way_cant_be_paid_outside(db, merchant, agent):
    refund = ready_refund(db, merchant)
    worker_outcome(db, refund["id"], "unknown", "timeout")
    with pytest.raises(Conflict):
        support_actions.mark_paid_outside(db, refund["id"], "ref", agent, "why")


def test_above_5000_kr_nothing_moves_until_a_second_person_approves(db, merchant, agent,
                                                                      second_agent):
    refund = big_refund(db, merchant, support_actions.APPROVAL_ABOVE_MINOR + 1)
    result = support_actions.mark_paid_outside(db, refund["id"], "BG 1", agent, "Manual")
    assert result["status"] == "awaiting_approval"
    assert refunds.get_refund(db, refund["id"])["status"] == "needs_details"
    requested = last_audit(db, "refund.manual_payment_requested")
    assert requested["actor"] == f"support_user:{agent}"

    with pytest.raises(Forbidden):
        support_actions.approve_manual_payment(db, result["approval_id"], agent, "Me again")
    assert refunds.get_refund(db, refund["id"])["status"] == "needs_details"
    with pytest.raises(Conflict):  # one request at a time
        support_actions.mark_paid_outside(db, refund["id"], "BG 2", second_agent, "Again")

    support_actions.approve_manual_payment(db, result["approval_id"], second_agent, "Seen it")
    assert refunds.get_refund(db, refund["id"])["status"] == "succeeded"
    booked = last_audit(db, "refund.marked_paid_outside")
    assert booked["actor"] == f"support_user:{second_agent}"
    assert booked["after"]["requested_by"] == agent
    with pytest.raises(Conflict):
        support_actions.approve_manual_payment(db, result["approval_id"], second_agent, "x")


def test_a_declined_request_moves_nothing(db, merchant, agent, second_agent):
    refund = big_refund(db, merchant, 600_000)
    result = support_actions.mark_paid_outside(db, refund["id"], "BG 1", agent, "Manual")
    support_actions.decline_manual_payment(db, result["approval_id"], second_agent, "No proof")
    assert refunds.get_refund(db, refund["id"])["status"] == "needs_details"
    row = last_audit(db, "refund.manual_payment_declined")
    assert row["actor"] == f"support_user:{second_agent}" and row["why"] == "No proof"
    # The refund can be asked about again.
    again = support_actions.mark_paid_outside(db, refund["id"], "BG 2", agent, "With proof")
    assert again["status"] == "awaiting_approval"


def test_an_approval_made_stale_by_the_refund_being_paid_leaves_the_queue(db, merchant, agent,
                                                                         second_agent):
    refund = big_refund(db, merchant, 600_000)
    result = support_actions.mark_paid_outside(db, refund["id"], "BG 1", agent, "Manual")
    assert [a["id"] for a in support_actions.pending_approvals(db)] == [result["approval_id"]]
    # The customer's own choice waits for the decision (issue 16) ...
    with pytest.raises(Conflict, match="waiting for a second support user"):
        refunds.set_destination(db, refund["id"], parse_payout_details(
            {"clearing_number": "8327-9", "account_number": "1234567897"}), actor="customer")
    # ... but a refund paid some other way meanwhile (an operator's fix) outgrows the request.
    db.execute("UPDATE refund SET status = 'succeeded' WHERE id = ?", [refund["id"]])
    assert support_actions.pending_approvals(db) == []
    assert support_actions.pending_approvals(db, refund["id"]) == []
    with pytest.raises(Conflict):
        support_actions.approve_manual_payment(db, result["approval_id"], second_agent, "ok")


def test_the_database_refuses_a_self_approval_too(db, merchant, agent):
    refund = big_refund(db, merchant, 600_000)
    result = support_actions.mark_paid_outside(db, refund["id"], "BG 1", agent, "Manual")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE support_approval SET decided_by = requested_by WHERE id = ?",
                   [result["approval_id"]])


# --- invoices ------------------------------------------------------------------------------------

def test_holding_an_invoice(db, merchant, agent):
    order = make_order(db, merchant["id"])
    today = clock.today()
    until = today + timedelta(days=10)
    assert not invoice_on_hold(db, order["id"], today)
    support_actions.hold_invoice(db, order["id"], until, agent, "Disputed delivery")
    assert invoice_on_hold(db, order["id"], today)
    assert invoice_on_hold(db, order["id"], until)
    assert not invoice_on_hold(db, order["id"], until + timedelta(days=1))
    row = last_audit(db, "order.invoice_held")
    assert row["before"] == {"on_hold_until": None}
    assert row["after"] == {"on_hold_until": until.isoformat()}


def test_moving_the_due_date(db, merchant, agent):
    order = make_order(db, merchant["id"])
    new_due = clock.today() + timedelta(days=30)
    moved = support_actions.move_due_date(db, order["id"], new_due, agent, "Hospital stay")
    assert moved["due_date"] == new_due.isoformat()
    row = last_audit(db, "order.due_date_moved")
    assert row["before"] == {"due_date": order["due_date"]}
    assert row["actor"] == f"support_user:{agent}"


@pytest.mark.parametrize("days, field_ok", [(-1, False), (0, True), (90, True), (91, False)])
def test_dates_must_be_today_to_90_days_ahead(db, merchant, agent, days, field_ok):
    order = make_order(db, merchant["id"])
    until = clock.today() + timedelta(days=days)
    if field_ok:
        support_actions.hold_invoice(db, order["id"], until, agent, "why")
    else:
        with pytest.raises(Invalid) as caught:
            support_actions.hold_invoice(db, order["id"], until, agent, "why")
        assert "until" in caught.value.fields


def test_a_card_order_has_no_invoice_to_hold(db, merchant, agent):
    order = make_order(db, merchant["id"], payment_method="card")
    with pytest.raises(Conflict):
        support_actions.hold_invoice(db, order["id"], date.today(), agent, "why")


# --- the audit trail ------------------------------------------------------------------------------

def test_account_numbers_are_masked_in_every_audit_row(db, merchant, agent):
    refund = refund_needing_details(db, merchant["id"])
    support_actions.resend_details_link(
        db, refund["id"], agent,
        "Customer read out 8327-9 123 456 789-7 and card 4242 4242 4242 4242")
    refunds.set_destination(db, refund["id"], parse_payout_details(
        {"clearing_number": "8327-9", "account_number": "1234567897"}), "customer:1")
    text = " ".join(r[0] or "" for r in db.execute(
        "SELECT before_json || ' ' || after_json || ' ' || why FROM audit_event"))
    for number in ("1234567897", "123 456 789-7", "4242 4242 4242 4242", "424242424242"):
        assert number not in text
    assert "••••7897" in text and "••••4242" in text


def test_a_linked_bank_account_never_reaches_the_audit(db, merchant):
    order = make_order(db, merchant["id"])
    link_bank_account(db, order["customer_id"])
    assert "1234567897" not in " ".join(
        r[0] or "" for r in db.execute("SELECT after_json FROM audit_event"))


@pytest.mark.parametrize("statement", [
    "UPDATE audit_event SET why = 'changed'", "DELETE FROM audit_event"])
def test_the_audit_trail_cant_be_updated_or_deleted(db, merchant, agent, statement):
    refund = refund_needing_details(db, merchant["id"])
    support_actions.resend_details_link(db, refund["id"], agent, "why")
    count = db.execute("SELECT count(*) FROM audit_event").fetchone()[0]
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute(statement)
    assert db.execute("SELECT count(*) FROM audit_event").fetchone()[0] == count


def test_an_action_and_its_audit_row_commit_together(db, merchant, agent, monkeypatch):
    """If writing the audit row fails, the state change is rolled back with it."""
    refund = declined(db, merchant)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(support_actions.audit, "record", broken)
    with pytest.raises(RuntimeError):
        support_actions.retry_payout(db, refund["id"], agent, "why")
    assert refunds.get_refund(db, refund["id"])["status"] == "failed"
    assert pending_payouts(db, refund["id"]) == []
