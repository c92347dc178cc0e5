"""A card checkout the customer leaves unfinished never blocks the order: a new payment replaces
it, the customer can cancel it, it expires after 30 minutes, and one that asks for more than is
owed any more is cancelled at the provider. Against the real sandbox provider."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
import time_machine

from returns_app.domain import clock
from returns_app.domain.errors import Conflict, Invalid, NotFound
from returns_app.notifications.reminders import may_remind_about_order
from returns_app.provider.client import ProviderClient, ProviderUnavailable
from returns_app.services import checkouts, orders, payments, refunds
from returns_app.store import outbox
from returns_app.store.db import select
from returns_app.worker import deliveries
from tests.builders import decide, link_bank_account, make_merchant, make_order, make_return
from tests.builders import viewer_for as viewer
from tests.services.test_payments_service import JEAN, JEANS, TOTAL, fill_in_card_page, ledger, pay

LATER = timedelta(minutes=31)


@pytest.fixture
def provider(sandbox):
    return ProviderClient(sandbox.url, read_timeout=2.0, sleep=lambda s: None)


@pytest.fixture
def shop(db):
    return make_merchant(db)[0]


@pytest.fixture
def order(db, shop):
    return make_order(db, shop["id"])


def session_of(payment: dict) -> str:
    return payment["checkout_url"].rsplit("/", 1)[1]


def at_provider(sandbox, session_id: str) -> str:
    return requests.get(f"{sandbox.url}/v1/checkout-sessions/{session_id}", timeout=5).json()[
        "status"]


def started(db, provider, order, amount=TOTAL, key="key-1") -> dict:
    return payments.get_payment(db, pay(db, provider, order, amount, key).body["id"])


def deliver_cancels(db, provider) -> list[str]:
    done = []
    while (row := outbox.claim(db, "worker", (checkouts.CANCEL_KIND,))) is not None:
        done.append(deliveries.deliver(db, provider, row))
    return done


# --- a new payment replaces the open checkout ----------------------------------------------

def test_an_open_checkout_does_not_lower_what_may_be_paid(db, provider, order):
    started(db, provider, order)
    assert payments.allowed_now(db, order["id"]) == TOTAL == \
        orders.amounts(db, order["id"]).payable_now


def test_a_new_payment_cancels_the_open_checkout_at_the_provider_first(db, provider, order,
                                                                      sandbox):
    first = started(db, provider, order)
    second = pay(db, provider, order, 1, key="key-2").body  # even 1 öre
    assert (second["status"], second["amount"]) == ("pending", 1)
    first = payments.get_payment(db, first["id"])
    assert (first["status"], first["failure_reason"]) == ("cancelled", checkouts.REPLACED)
    assert at_provider(sandbox, session_of(first)) == "cancelled"
    assert fill_in_card_page(first["checkout_url"]).status_code == 409  # the old page is dead
    assert at_provider(sandbox, second["checkout_url"].rsplit("/", 1)[1]) == "open"


def test_a_checkout_paid_just_before_a_new_payment_is_booked_and_the_new_one_judged_anew(
        db, provider, order, sandbox):
    first = started(db, provider, order)
    assert fill_in_card_page(first["checkout_url"]).status_code == 303  # we weren't told yet
    with pytest.raises(Invalid) as refused:
        pay(db, provider, order, 100, key="key-2")
    assert refused.value.fields["amount"] == "There is nothing to pay on this order now."
    assert payments.get_payment(db, first["id"])["status"] == "succeeded"
    assert ledger(db, order["id"], "payment") == [TOTAL]


def test_a_new_payment_with_the_provider_down_starts_nothing(db, provider, order, sandbox):
    first = started(db, provider, order)
    provider.base_url = "http://127.0.0.1:9"  # nothing listens on the discard port
    with pytest.raises(ProviderUnavailable):
        pay(db, provider, order, 100, key="key-2")
    assert [p["id"] for p in payments.payments_of_order(db, order["id"])] == [first["id"]]


# --- the customer cancels -------------------------------------------------------------------

def test_the_customer_cancels_the_open_checkout(db, provider, order, sandbox):
    first = started(db, provider, order)
    cancelled = checkouts.cancel_for_customer(db, provider, viewer(order), first["id"])
    assert (cancelled["status"], cancelled["failure_reason"]) == (
        "cancelled", checkouts.CANCELLED_BY_YOU)
    assert at_provider(sandbox, session_of(first)) == "cancelled"
    assert checkouts.cancel_for_customer(db, provider, viewer(order), first["id"]) == cancelled
    assert checkouts.open_checkout(db, order["id"]) is None


def test_another_customers_checkout_is_not_found(db, provider, shop, order):
    first = started(db, provider, order)
    other = make_order(db, shop["id"], customer={"email": "annan@example.se", "name": "Alex"})
    with pytest.raises(NotFound):
        checkouts.cancel_for_customer(db, provider, viewer(other), first["id"])
    assert payments.get_payment(db, first["id"])["status"] == "pending"


def test_a_bank_payment_is_not_cancelled_as_a_checkout(db, provider, order):
    link_bank_account(db, order["customer_id"])
    scheduled = pay(db, provider, order, TOTAL).body
    with pytest.raises(Conflict):
        checkouts.cancel_for_customer(db, provider, viewer(order), scheduled["id"])


# --- expiry ---------------------------------------------------------------------------------

def test_a_checkout_left_for_30_minutes_expires_and_the_payment_says_so(db, provider, order,
                                                                        sandbox):
    first = started(db, provider, order)
    assert checkouts.open_checkout(db, order["id"])["id"] == first["id"]
    sandbox.advance_clock(LATER.total_seconds())
    with time_machine.travel(clock.now() + LATER):
        assert checkouts.open_checkout(db, order["id"]) is None
        confirmed = payments.confirm_checkout(db, provider, session_of(first))
    assert (confirmed["status"], confirmed["failure_reason"]) == ("cancelled", checkouts.EXPIRED)
    assert fill_in_card_page(first["checkout_url"]).status_code == 409


def test_a_replayed_payment_answer_shows_the_payment_as_it_is_now(db, provider, order,
                                                                  sandbox):
    first = pay(db, provider, order, TOTAL).body
    assert first["checkout_url"]
    checkouts.cancel_for_customer(db, provider, viewer(order), first["id"])
    again = pay(db, provider, order, TOTAL).body
    assert (again["id"], again["status"], again["checkout_url"]) == (
        first["id"], "cancelled", None)


def test_a_replay_after_30_minutes_asks_the_provider_and_shows_it_expired(db, provider,
                                                                          order, sandbox):
    first = pay(db, provider, order, TOTAL).body
    sandbox.advance_clock(LATER.total_seconds())
    with time_machine.travel(clock.now() + LATER):
        again = pay(db, provider, order, TOTAL).body
    assert (again["status"], again["checkout_url"]) == ("cancelled", None)
    assert payments.get_payment(db, first["id"])["failure_reason"] == checkouts.EXPIRED


# --- what is owed drops below an open checkout -----------------------------------------------

def test_a_return_accepted_below_an_open_checkout_cancels_it_at_the_provider(
        db, provider, shop, order, sandbox):
    first = started(db, provider, order)
    decide(db, shop["id"], make_return(db, order, {JEANS: 1}), (0, 1, 0))
    assert deliver_cancels(db, provider) == ["cancelled"]
    first = payments.get_payment(db, first["id"])
    assert (first["status"], first["failure_reason"]) == ("cancelled", checkouts.AMOUNT_CHANGED)
    assert at_provider(sandbox, session_of(first)) == "cancelled"
    assert fill_in_card_page(first["checkout_url"]).status_code == 409
    assert ledger(db, order["id"], "payment") == []


def test_a_checkout_still_within_what_is_owed_stays_open(db, provider, order, sandbox):
    first = started(db, provider, order, amount=TOTAL - JEAN)
    make_return(db, order, {JEANS: 1})  # pauses the jeans: the checkout still fits
    assert deliver_cancels(db, provider) == ["kept"]
    assert payments.get_payment(db, first["id"])["status"] == "pending"
    assert at_provider(sandbox, session_of(first)) == "open"


def test_paid_just_as_it_was_cancelled_the_excess_is_refunded_and_support_sees_why(
        db, provider, shop, order, sandbox):
    first = started(db, provider, order)
    decide(db, shop["id"], make_return(db, order, {JEANS: 1}), (0, 1, 0))
    assert fill_in_card_page(first["checkout_url"]).status_code == 303  # before the worker
    assert deliver_cancels(db, provider) == ["paid"]
    assert payments.get_payment(db, first["id"])["status"] == "succeeded"
    [refund] = refunds.refunds_of_order(db, order["id"])
    assert (refund["amount_minor"], refund["destination_kind"]) == (JEAN, "card")
    [note] = select(db, "SELECT * FROM audit_event WHERE action = 'payment.paid_while_cancelling'")
    assert (note["subject_kind"], note["subject_id"]) == ("payment", first["id"])
    assert checkouts.AMOUNT_CHANGED in note["after_json"]


# --- reminders --------------------------------------------------------------------------------

def test_an_open_checkout_does_not_stop_the_reminders(db, provider, order):
    started(db, provider, order)
    assert may_remind_about_order(db, order["id"]).allowed


def test_a_refused_new_payment_leaves_the_open_checkout_alone(db, provider, order, sandbox):
    first = started(db, provider, order, amount=100)
    with pytest.raises(Invalid):
        pay(db, provider, order, TOTAL + 1, key="key-2")
    assert payments.get_payment(db, first["id"])["status"] == "pending"
    assert at_provider(sandbox, session_of(first)) == "open"
