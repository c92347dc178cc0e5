"""A debit declined for lack of funds, with the sandbox's insufficient-funds mode: tried again
on the next two Swedish banking days, the customer told each time in plain words, then the
invoice is an ordinary invoice with its reminder."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import time_machine

from returns_app.domain import banking_days, clock
from returns_app.services import due_date_debits, orders, payments
from returns_app.store import outbox
from returns_app.worker import deliveries
from tests.builders import link_bank_account, make_merchant, make_order
from tests.builders import viewer_for as viewer
from tests.notification_helpers import body, deliver_emails
from tests.services.test_payments_service import TOTAL, provider  # noqa: F401

DUE = date(2026, 12, 23)  # a Wednesday; then Christmas Eve, Christmas Day, the weekend
TRIES = [date(2026, 12, 23), date(2026, 12, 28), date(2026, 12, 29)]


@pytest.mark.parametrize("day, banking", [
    (date(2026, 12, 23), True), (date(2026, 12, 24), False), (date(2026, 12, 25), False),
    (date(2026, 12, 26), False), (date(2026, 12, 28), True), (date(2026, 6, 19), False),
    (date(2026, 4, 6), False), (date(2026, 12, 31), False), (date(2027, 1, 6), False),
    (date(2027, 1, 7), True)])
def test_banking_days_skip_weekends_public_holidays_and_the_eves_banks_close(day, banking):
    assert banking_days.is_banking_day(day) is banking


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=clock.LOCAL_ZONE)


@pytest.fixture
def scheduled(db):
    merchant, _ = make_merchant(db)
    with time_machine.travel(at(date(2026, 12, 10)), tick=False):
        order = make_order(db, merchant["id"])
        db.execute("UPDATE orders SET due_date = ? WHERE id = ?", [DUE.isoformat(), order["id"]])
        link_bank_account(db, order["customer_id"])
        debit = due_date_debits.schedule_invoice(db, viewer(order), order["id"])
    return order, debit


def try_debit(db, provider, day: date) -> str:  # noqa: F811
    with time_machine.travel(at(day), tick=False):
        row = outbox.claim(db, "worker", ("debit",))
        assert row is not None, f"no debit to try on {day}"
        return deliveries.deliver_debit(db, provider, row)


def test_three_tries_on_banking_days_three_emails_then_the_invoice_reminder(
        app, db, provider, sandbox, smtp, scheduled):  # noqa: F811
    order, debit = scheduled
    sandbox.mode("insufficient_funds", times=3)
    outcomes = []
    for day in TRIES:
        with time_machine.travel(at(day, 7), tick=False):  # before 08:00: not yet
            assert outbox.claim(db, "worker", ("debit",)) is None
        outcomes.append(try_debit(db, provider, day))
        with time_machine.travel(at(day, 13), tick=False):
            deliver_emails(app, db)
    for closed in (date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 27)):
        assert not banking_days.is_banking_day(closed)
    assert outcomes == ["declined"] * 3
    executions = sandbox.ledger()["executions"]
    assert [e["status"] for e in executions] == ["declined"] * 3
    assert len({e["idempotency_key"] for e in executions}) == 3  # a new debit each try
    payment = payments.get_payment(db, debit["id"])
    assert (payment["status"], payment["debit_tries"]) == ("failed", 3)
    assert orders.amounts(db, order["id"]).payable_now == TOTAL
    assert payments.allowed_now(db, order["id"]) == TOTAL

    # The customer's language is Swedish (the default).
    subjects = [m["Subject"] for m in smtp.messages]
    texts = [" ".join(body(m).split()) for m in smtp.messages]
    assert subjects[:3] == [
        "Det fanns inte tillräckligt med pengar på ditt konto: vi försöker igen den 28 december"
        " 2026",
        "Det fanns inte tillräckligt med pengar på ditt konto: vi försöker igen den 29 december"
        " 2026",
        "Din faktura från Test Shop kunde inte betalas från ditt konto"]
    for text, n in zip(texts[:2], (1, 2), strict=True):
        assert "tillräckligt med pengar på kontot, så inget drogs" in text
        assert f"Det här var försök {n} av 3" in text
        assert "Betala med kort nu" in text and "/links/pay/" in text
    assert "Det var vårt sista försök." in texts[2] and "vanlig faktura igen" in texts[2]
    assert subjects[3].replace("\xa0", " ").startswith("Påminnelse: 1 497,00 kr till Test Shop")
    assert len(smtp.messages) == 4


def test_paying_another_way_between_tries_stops_the_next_try(db, provider, sandbox,  # noqa: F811
                                                             scheduled):
    order, debit = scheduled
    sandbox.mode("insufficient_funds", times=1)
    assert try_debit(db, provider, TRIES[0]) == "declined"
    with time_machine.travel(at(date(2026, 12, 27)), tick=False):
        assert payments.allowed_now(db, order["id"]) == TOTAL  # may pay another way
        payments.record_transfer(db, order["id"], TOTAL, "OCR-paid", actor="test")
    assert try_debit(db, provider, TRIES[1]) == "skipped"
    assert payments.get_payment(db, debit["id"])["status"] == "cancelled"
    assert len(sandbox.ledger()["executions"]) == 1


def test_another_decline_is_not_tried_again(db, provider, sandbox, scheduled):  # noqa: F811
    order, debit = scheduled
    sandbox.mode("decline", times=1)
    assert try_debit(db, provider, TRIES[0]) == "declined"
    assert payments.get_payment(db, debit["id"])["status"] == "failed"
    with time_machine.travel(at(TRIES[1]), tick=False):
        assert outbox.claim(db, "worker", ("debit",)) is None


def test_a_debit_the_provider_never_answers_about_is_stuck_and_nobody_is_chased(
        app, db, sandbox, scheduled):
    """Past the worker's quick retries the debit's outcome is still unknown: it stays
    scheduled and is asked about every few hours, support's queue shows it at once with its own
    reason, and the customer is neither reminded nor offered to pay it again (the money may be
    gone). The provider's answer takes it out of the queue."""
    from returns_app.provider.client import ProviderClient
    from returns_app.services import stuck
    from tests import stuck_oracle

    order, debit = scheduled
    silent = ProviderClient(sandbox.url, read_timeout=1.0, sleep=lambda s: None)
    sandbox.mode("insufficient_funds", times=1)  # the first try is declined ...
    assert try_debit(db, silent, TRIES[0]) == "declined"
    sandbox.mode("error_500")  # ... and the second never answered
    moment = at(TRIES[1], 9)
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        with time_machine.travel(moment, tick=False):
            row = outbox.claim(db, "worker", ("debit",))
            assert row["attempts"] == attempt
            assert deliveries.deliver_debit(db, silent, row) == "unknown"
            page = stuck.stuck_queue(db, clock.now())
            found = [i for i in page.items if i.debit_id == debit["id"]]
            assert bool(found) is (attempt == outbox.MAX_ATTEMPTS)
        moment += timedelta(hours=1, seconds=1)
    gave_up_at = moment - timedelta(hours=1, seconds=1)
    assert payments.get_payment(db, debit["id"])["status"] == "scheduled"
    page = stuck.stuck_queue(db, gave_up_at)
    [item] = [i for i in page.items if i.debit_id == debit["id"]]
    assert (item.reason.code, item.order_id) == ("debit_outcome_unknown", order["id"])
    assert clock.parse(item.reason.since) == gave_up_at
    assert page.counts["debit_outcome_unknown"] == 1
    assert stuck.suggestion(item) == "open_order"
    assert [(i.debit_id, i.reasons) for i in stuck_oracle.stuck_items(db, gave_up_at)
            if i.debit_id] == [(debit["id"], item.reasons)]
    api = stuck.as_api(item, gave_up_at)
    assert (api["payment_id"], api["refund_id"], api["status"], api["amount"]) == (
        debit["id"], None, None, TOTAL)
    # Nothing is payable while the bank may have taken it: no pay button, no reminder.
    assert payments.allowed_now(db, order["id"]) == 0
    from returns_app.notifications import reminders
    with time_machine.travel(gave_up_at, tick=False):
        assert reminders.may_remind_about_order(db, order["id"]).reason == "payment_under_way"

    sandbox.mode("normal")
    with time_machine.travel(gave_up_at + timedelta(hours=7), tick=False):
        row = outbox.claim(db, "worker", ("debit",))
        assert deliveries.deliver_debit(db, silent, row) == "succeeded"
        assert not [i for i in stuck.stuck_queue(db, clock.now()).items if i.debit_id]
    payment = payments.get_payment(db, debit["id"])
    assert payment["status"] == "succeeded" and payment["provider_silent_since"] is None


def test_a_debit_the_provider_refuses_fails_at_once_and_the_invoice_is_payable_again(
        db, provider, sandbox, scheduled):  # noqa: F811
    """A 422 refuses the request itself: asking about it again would only be refused again.
    Here the debit's key was used for another amount before (as after a restore to an older
    backup): the debit fails with a sentence the customer can read, nothing is taken, and the
    invoice is paid as usual."""
    order, debit = scheduled
    _payment, _amount, account = payments.prepare_debit(db, debit["id"])
    earlier = provider.debit(payments.provider_key(debit), TOTAL - 100, "SEK",
                             f"payment-{debit['id']}", account)
    assert earlier.outcome == "succeeded"
    assert try_debit(db, provider, TRIES[0]) == "declined"
    payment = payments.get_payment(db, debit["id"])
    assert (payment["status"], payment["failure_reason"]) == (
        "failed", "The payment provider refused the debit")
    assert payment["provider_silent_since"] is None
    assert sandbox.ledger()["requests_per_key"][payments.provider_key(debit)] == 2
    with time_machine.travel(at(TRIES[1]), tick=False):
        assert outbox.claim(db, "worker", ("debit",)) is None  # not asked about again
        assert payments.allowed_now(db, order["id"]) == TOTAL
