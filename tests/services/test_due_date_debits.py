"""Paying an invoice from the linked account on its due date, against the real sandbox: what
is owed on the day caps the debit; support moving the due date moves it; linking an account
sends refunds that waited for one."""

from __future__ import annotations

from datetime import timedelta

import pytest

from returns_app.domain import clock
from returns_app.domain.errors import Conflict
from returns_app.services import (
    bank_accounts,
    due_date_debits,
    payments,
    refunds,
    support,
    support_actions,
)
from returns_app.store import outbox
from tests.builders import decide, link_bank_account, make_merchant, make_order, make_return
from tests.builders import viewer_for as viewer
from tests.services.test_payments_service import TOTAL, debit_on_due_date, provider  # noqa: F401

SHIRT, JEANS = 0, 1
SHIRT_PRICE, JEAN = 29900, 79900


@pytest.fixture
def shop(db):
    merchant, _ = make_merchant(db)
    return merchant


@pytest.fixture
def order(db, shop):
    return make_order(db, shop["id"])


def test_no_debit_without_a_confirmed_mandate(db, order):
    link_bank_account(db, order["customer_id"], mandate=False)
    with pytest.raises(Conflict):
        due_date_debits.schedule_invoice(db, viewer(order), order["id"])
    bank_accounts.confirm_mandate(db, order["customer_id"], "en", "test")
    assert due_date_debits.schedule_invoice(db, viewer(order), order["id"])["status"] == \
        "scheduled"


def test_accepted_returns_and_payments_in_between_lower_the_debit(db, provider, shop, order,  # noqa: F811
                                                                  sandbox):
    link_bank_account(db, order["customer_id"])
    debit = due_date_debits.schedule_invoice(db, viewer(order), order["id"])
    assert debit["scheduled_for"] == order["due_date"] and debit["amount_minor"] == TOTAL
    decide(db, shop["id"], make_return(db, order, {JEANS: 1}), (0, 1, 0))
    payments.record_transfer(db, order["id"], 10000, "OCR-part", actor="test")
    assert debit_on_due_date(db, provider, order) == "succeeded"
    [execution] = sandbox.ledger()["executions"]
    assert execution["amount"] == TOTAL - JEAN - 10000


def test_items_in_an_open_return_are_never_taken(db, provider, shop, order, sandbox):  # noqa: F811
    link_bank_account(db, order["customer_id"])
    make_return(db, order, {SHIRT: 1})
    debit = due_date_debits.schedule_invoice(db, viewer(order), order["id"])
    assert debit["amount_minor"] == TOTAL  # what may become due if the shop rejects it
    assert debit_on_due_date(db, provider, order) == "succeeded"
    assert sandbox.ledger()["executions"][0]["amount"] == TOTAL - SHIRT_PRICE


def test_scheduling_twice_schedules_once(db, order):
    link_bank_account(db, order["customer_id"])
    first = due_date_debits.schedule_invoice(db, viewer(order), order["id"])
    assert due_date_debits.schedule_invoice(db, viewer(order), order["id"])["id"] == first["id"]
    assert db.execute("SELECT count(*) FROM outbox WHERE kind = 'debit'").fetchone()[0] == 1


def test_support_moving_the_due_date_moves_the_debit(db, order):
    link_bank_account(db, order["customer_id"])
    debit = due_date_debits.schedule_invoice(db, viewer(order), order["id"])
    agent = support.create_support_user(db, "agent@example.se")[0]["id"]
    new_due = clock.today() + timedelta(days=40)
    support_actions.move_due_date(db, order["id"], new_due, agent, "Hospital stay")
    moved = payments.get_payment(db, debit["id"])
    assert moved["scheduled_for"] == new_due.isoformat()
    available = db.execute("SELECT available_at FROM outbox WHERE kind = 'debit' AND"
                           " subject_id = ?", [debit["id"]]).fetchone()[0]
    assert clock.local_date(clock.parse(available)) == new_due
    assert outbox.claim(db, "w", ("debit",)) is None


def test_linking_an_account_sends_the_refund_that_waited_for_details(db, shop, order):
    payments.record_transfer(db, order["id"], TOTAL, "OCR-all", actor="test")
    decide(db, shop["id"], make_return(db, order, {JEANS: 1}), (0, 1, 0))
    [refund] = refunds.refunds_of_order(db, order["id"])
    assert refund["status"] == "needs_details"
    link_bank_account(db, order["customer_id"], mandate=False)
    refund = refunds.get_refund(db, refund["id"])
    assert refund["status"] == "ready" and refund["destination_kind"] == "bank_account"
    assert db.execute("SELECT count(*) FROM outbox WHERE kind = 'payout' AND subject_id = ?",
                      [refund["id"]]).fetchone()[0] == 1


def test_a_later_refund_goes_to_the_linked_account_without_asking(db, shop, order):
    link_bank_account(db, order["customer_id"], mandate=False)
    payments.record_transfer(db, order["id"], TOTAL, "OCR-all", actor="test")
    decide(db, shop["id"], make_return(db, order, {JEANS: 1}), (0, 1, 0))
    [refund] = refunds.refunds_of_order(db, order["id"])
    assert refund["status"] == "ready" and refund["destination_masked"].startswith("Swedbank")
