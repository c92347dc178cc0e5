"""Paying for the kept items, against the real sandbox provider: by card on its hosted page, and
by debit from a linked bank account on the due date."""

from __future__ import annotations

import json
import time as wall
from datetime import datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import time_machine

from returns_app.domain import clock
from returns_app.domain.errors import Invalid
from returns_app.domain.money import format_minor
from returns_app.provider.client import ProviderClient
from returns_app.services import orders, payments, refunds
from returns_app.services.payments import ReturnUrls
from returns_app.store import outbox
from returns_app.store.db import select
from returns_app.worker import deliveries
from tests.builders import decide, link_bank_account, make_merchant, make_order, make_return
from tests.builders import viewer_for as viewer

JEANS = 1
JEAN = 79900
TOTAL = 149700  # two shirts at 299 kr, jeans at 799 kr, a 100 kr gift card
URLS = ReturnUrls(paid="http://127.0.0.1:5000/paid", cancelled="http://127.0.0.1:5000/cancelled")
PAYS = "4242 4242 4242 4242"
DECLINES = "4000 0000 0000 0002"


@pytest.fixture
def provider(sandbox):
    return ProviderClient(sandbox.url, read_timeout=2.0, sleep=lambda s: None)


@pytest.fixture
def shop(db):
    merchant, _ = make_merchant(db)
    return merchant


@pytest.fixture
def order(db, shop):
    return make_order(db, shop["id"])


def pay(db, provider, order, amount, key="key-1", **extra):
    return payments.pay(db, provider, viewer(order), order["id"], {"amount": amount, **extra},
                        key, URLS)


def fill_in_card_page(url: str, card: str = PAYS) -> requests.Response:
    """What the customer does on the provider's hosted page (field names from its template)."""
    return requests.post(url, data={"card_number": card, "expiry": "12/30", "cvc": "123"},
                         allow_redirects=False, timeout=5)


def pay_by_card(db, provider, order, amount, key="key-1") -> dict:
    """Start a card payment, pay on the hosted page and come back: the booked payment."""
    body = pay(db, provider, order, amount, key).body
    answer = fill_in_card_page(body["checkout_url"])
    assert answer.status_code == 303, answer.text
    back = urlsplit(answer.headers["Location"])
    assert back.path == "/paid"
    [session_id] = parse_qs(back.query)["session_id"]
    return payments.confirm_checkout(db, provider, session_id)


def ledger(db, order_id: int, kind: str) -> list[int]:
    return [r[0] for r in db.execute(
        "SELECT amount_minor FROM ledger_entry WHERE order_id = ? AND kind = ? ORDER BY id",
        [order_id, kind]).fetchall()]


def count(db, table: str) -> int:
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def snapshot(db) -> dict:
    return {table: count(db, table) for table in (
        "payment", "ledger_entry", "outbox", "audit_event", "idempotency_record", "refund")}


# --- by card --------------------------------------------------------------------------------

def test_paying_by_card_starts_a_pending_payment_with_the_providers_page(db, provider, order,
                                                                          sandbox):
    response = pay(db, provider, order, 50000)
    assert response.status == 201
    body = response.body
    assert (body["amount"], body["method"], body["status"]) == (50000, "card", "pending")
    assert body["checkout_url"].startswith(sandbox.url + "/checkout/cs_")
    payment = payments.get_payment(db, body["id"])
    assert payment["provider_ref"] == body["checkout_url"].rsplit("/", 1)[1]
    assert ledger(db, order["id"], "payment") == []  # nothing is paid before the page is
    # An open checkout holds nothing back: a new payment cancels it first (test_checkouts_...).
    assert payments.allowed_now(db, order["id"]) == TOTAL
    assert requests.get(body["checkout_url"], timeout=5).status_code == 200


def test_a_paid_card_page_books_one_payment_with_the_cards_last_digits(db, provider, order):
    payment = pay_by_card(db, provider, order, 50000)
    assert payment["status"] == "succeeded"
    assert (payment["card_last4"], payment["settled_amount_minor"]) == ("4242", 50000)
    assert payment["provider_payment_id"].startswith("pay_")
    assert ledger(db, order["id"], "payment") == [50000]
    amounts = orders.amounts(db, order["id"])
    assert (amounts.paid, amounts.payable_now) == (50000, TOTAL - 50000)
    before = snapshot(db)
    again = payments.confirm_checkout(db, provider, payment["provider_ref"])
    assert again == payment
    assert snapshot(db) == before


def test_a_declined_card_or_a_cancelled_page_books_nothing(db, provider, order, sandbox):
    body = pay(db, provider, order, 50000).body
    assert fill_in_card_page(body["checkout_url"], DECLINES).status_code == 422
    session_id = body["checkout_url"].rsplit("/", 1)[1]
    assert payments.confirm_checkout(db, provider, session_id)["status"] == "pending"
    cancel = requests.post(body["checkout_url"] + "/cancel", allow_redirects=False, timeout=5)
    assert cancel.status_code == 303
    assert payments.confirm_checkout(db, provider, session_id)["status"] == "cancelled"
    assert ledger(db, order["id"], "payment") == []
    assert payments.allowed_now(db, order["id"]) == TOTAL


def test_more_than_allowed_now_is_invalid_naming_the_amount_allowed(db, provider, order):
    link_bank_account(db, order["customer_id"])
    pay(db, provider, order, 100000)  # a scheduled debit counts against what may be paid
    allowed = TOTAL - 100000
    before = snapshot(db)
    with pytest.raises(Invalid) as exc:
        pay(db, provider, order, allowed + 1, key="key-2", method="card")
    assert exc.value.details["allowed"] == allowed
    assert format_minor(allowed, "SEK") in exc.value.fields["amount"]
    assert snapshot(db) == before
    assert pay(db, provider, order, allowed, key="key-2", method="card").status == 201


def test_a_paused_amount_cannot_be_paid(db, provider, order):
    make_return(db, order, {JEANS: 1})
    payable = orders.amounts(db, order["id"]).payable_now
    assert payable == TOTAL - JEAN
    with pytest.raises(Invalid) as exc:
        pay(db, provider, order, payable + 1)
    assert exc.value.details["allowed"] == payable
    assert "paused" in exc.value.fields["amount"]
    assert count(db, "payment") == 0


def test_a_refusal_blames_a_payment_under_way_not_paused_items(db, provider, order):
    link_bank_account(db, order["customer_id"])
    pay(db, provider, order, 100000)
    with pytest.raises(Invalid) as exc:
        pay(db, provider, order, TOTAL, key="key-2", method="card")
    assert exc.value.fields["amount"] == (
        f"You can pay at most {format_minor(TOTAL - 100000, 'SEK')} now: a payment of "
        f"{format_minor(100000, 'SEK')} is already under way.")


def test_a_refusal_with_nothing_paused_names_what_is_owed(db, provider, order):
    with pytest.raises(Invalid) as exc:
        pay(db, provider, order, TOTAL + 1)
    assert exc.value.fields["amount"] == (f"You can pay at most {format_minor(TOTAL, 'SEK')} "
                                          "now: that is what you owe for the items you keep.")


def test_a_refusal_on_an_order_paid_in_full_says_nothing_is_owed(db, provider, order):
    payments.record_transfer(db, order["id"], TOTAL, "OCR 1", "test")
    with pytest.raises(Invalid) as exc:
        pay(db, provider, order, 100)
    assert exc.value.fields["amount"] == "There is nothing to pay on this order now."


def test_a_double_submit_gets_the_first_answer_and_makes_one_payment(db, provider, order,
                                                                     sandbox):
    first = pay(db, provider, order, 50000)
    again = pay(db, provider, order, 50000)
    assert again == first
    assert count(db, "payment") == 1
    assert sandbox.ledger()["requests_per_key"] == {f"order-{order['id']}-key-1": 1}


def test_the_same_key_with_another_amount_is_invalid_and_writes_nothing(db, provider, order):
    pay(db, provider, order, 50000)
    before = snapshot(db)
    with pytest.raises(Invalid) as exc:
        pay(db, provider, order, 40000)
    assert "Idempotency-Key" in exc.value.fields
    assert snapshot(db) == before


def test_overpaying_by_card_is_refunded_to_that_card(db, provider, shop, order):
    payment = pay_by_card(db, provider, order, TOTAL)
    decide(db, shop["id"], make_return(db, order, {JEANS: 1}), (0, 1, 0))
    [refund] = refunds.refunds_of_order(db, order["id"])
    assert (refund["amount_minor"], refund["status"], refund["destination_kind"]) == (
        JEAN, "ready", "card")
    assert json.loads(refund["destination_json"]) == {
        "type": "card", "payment_id": payment["provider_payment_id"]}
    assert refund["destination_masked"] == "Card •••• 4242"
    assert ledger(db, order["id"], "refund") == [JEAN]


# --- from a linked bank account -------------------------------------------------------------

def test_paying_from_a_bank_account_needs_a_linked_one(db, provider, order):
    with pytest.raises(Invalid) as exc:
        pay(db, provider, order, 50000, method="bank_account")
    assert set(exc.value.fields) == {"method"}
    assert count(db, "payment") == 0


def test_a_bank_account_payment_is_scheduled_for_the_due_date(db, provider, order):
    link_bank_account(db, order["customer_id"])
    body = pay(db, provider, order, TOTAL).body  # a linked account is the default
    assert (body["method"], body["status"]) == ("bank_account", "scheduled")
    assert body["scheduled_for"] == order["due_date"] > clock.today().isoformat()
    [row] = select(db, "SELECT * FROM outbox")
    assert (row["kind"], row["subject_id"], row["status"]) == ("debit", body["id"], "pending")
    due = datetime.fromisoformat(order["due_date"]).date()
    assert row["available_at"] == clock.iso(datetime.combine(due, time(8),
                                                             tzinfo=clock.LOCAL_ZONE))
    assert payments.allowed_now(db, order["id"]) == 0
    assert outbox.claim(db, "worker") is None  # not before the due date


def due_day(order: dict) -> datetime:
    return datetime.combine(datetime.fromisoformat(order["due_date"]).date(), time(12),
                            tzinfo=clock.LOCAL_ZONE)


def debit_on_due_date(db, provider, order) -> str:
    with time_machine.travel(due_day(order), tick=False):
        row = outbox.claim(db, "worker", ("debit",))
        assert row is not None
        return deliveries.deliver_debit(db, provider, row)


def test_the_debit_takes_no_more_than_is_owed_on_the_due_date(db, provider, shop, order,
                                                              sandbox):
    link_bank_account(db, order["customer_id"])
    payment_id = pay(db, provider, order, TOTAL).body["id"]
    decide(db, shop["id"], make_return(db, order, {JEANS: 1}), (0, 1, 0))
    assert debit_on_due_date(db, provider, order) == "succeeded"
    [execution] = sandbox.ledger()["executions"]
    assert (execution["kind"], execution["amount"], execution["status"]) == (
        "debit", TOTAL - JEAN, "succeeded")
    payment = payments.get_payment(db, payment_id)
    assert (payment["status"], payment["settled_amount_minor"]) == ("succeeded", TOTAL - JEAN)
    assert ledger(db, order["id"], "payment") == [TOTAL - JEAN]
    amounts = orders.amounts(db, order["id"])
    assert (amounts.payable_now, amounts.refund_owed) == (0, 0)
    assert refunds.refunds_of_order(db, order["id"]) == []
    assert db.execute("SELECT status FROM outbox ORDER BY id").fetchone()[0] == "done"


def test_a_debit_with_nothing_left_to_take_is_cancelled_without_calling_the_bank(
        db, provider, shop, sandbox):
    order = make_order(db, shop["id"], lines=[
        {"sku": "JEANS-32", "name": "Jeans", "quantity": 1, "unit_price": JEAN}])
    link_bank_account(db, order["customer_id"])
    payment_id = pay(db, provider, order, JEAN).body["id"]
    decide(db, shop["id"], make_return(db, order, {0: 1}), (0, 1, 0))
    assert debit_on_due_date(db, provider, order) == "skipped"
    assert payments.get_payment(db, payment_id)["status"] == "cancelled"
    assert sandbox.ledger()["executions"] == []
    assert ledger(db, order["id"], "payment") == []


def test_a_declined_debit_fails_the_payment_and_the_amount_stays_payable(db, provider, order,
                                                                         sandbox):
    link_bank_account(db, order["customer_id"])
    payment_id = pay(db, provider, order, TOTAL).body["id"]
    sandbox.mode("decline", times=1)
    assert debit_on_due_date(db, provider, order) == "declined"
    payment = payments.get_payment(db, payment_id)
    assert payment["status"] == "failed" and payment["failure_reason"]
    assert ledger(db, order["id"], "payment") == []
    assert orders.amounts(db, order["id"]).payable_now == TOTAL
    assert payments.allowed_now(db, order["id"]) == TOTAL
    with time_machine.travel(due_day(order) + timedelta(days=1), tick=False):
        assert outbox.claim(db, "worker") is None  # a declined debit is not retried


def wait_for_execution(sandbox, kind: str, seconds: float = 10.0) -> list[dict]:
    """The sandbox executes a timed-out request after its delay: wait (bounded) for it."""
    deadline = wall.monotonic() + seconds
    while wall.monotonic() < deadline:
        done = [e for e in sandbox.ledger()["executions"] if e["kind"] == kind]
        if done:
            return done
        wall.sleep(0.05)
    raise AssertionError(f"the sandbox executed no {kind} within {seconds}s")


def test_a_debit_whose_answer_was_lost_is_not_taken_again_when_the_amount_changes(
        db, shop, order, sandbox):
    provider = ProviderClient(sandbox.url, read_timeout=0.3, sleep=lambda s: None)
    link_bank_account(db, order["customer_id"])
    payment_id = pay(db, provider, order, TOTAL).body["id"]
    sandbox.mode("timeout", times=1, delay=1.0)
    assert debit_on_due_date(db, provider, order) == "unknown"
    wait_for_execution(sandbox, "debit")  # the bank took the money; we never heard
    decide(db, shop["id"], make_return(db, order, {JEANS: 1}), (0, 1, 0))
    with time_machine.travel(due_day(order) + timedelta(hours=2), tick=False):
        row = outbox.claim(db, "worker", ("debit",))
        deliveries.deliver_debit(db, provider, row)
    taken = [e["amount"] for e in sandbox.ledger()["executions"] if e["status"] == "succeeded"]
    assert taken == [TOTAL]
    payment = payments.get_payment(db, payment_id)
    assert (payment["status"], payment["settled_amount_minor"]) == ("succeeded", TOTAL)
    # Taken before the return was accepted: the jeans come back as a refund.
    assert [r["amount_minor"] for r in refunds.refunds_of_order(db, order["id"])] == [JEAN]
