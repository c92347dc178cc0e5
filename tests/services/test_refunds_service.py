"""Refunds: where they go, and their payout through the real sandbox provider in each of its
failure modes. Money leaves at most once per refund, whatever the provider or the worker does."""

from __future__ import annotations

import json
import time as wall
from datetime import timedelta

import pytest
import time_machine

from returns_app.domain import clock
from returns_app.domain.errors import Conflict
from returns_app.domain.payout_details import parse_payout_details
from returns_app.provider.client import ProviderClient
from returns_app.services import payments, refunds
from returns_app.store import outbox
from returns_app.store.db import select, write_transaction
from returns_app.worker import deliveries
from tests.builders import decide, link_bank_account, make_merchant, make_order, make_return

JEANS = 1
JEAN = 79900
TOTAL = 149700
IBAN = parse_payout_details({"iban": "SE45 5000 0000 0583 9825 7466"})
SWISH = parse_payout_details({"swish_number": "070-123 45 67"})


@pytest.fixture
def provider(sandbox):
    return ProviderClient(sandbox.url, read_timeout=2.0, sleep=lambda s: None)


@pytest.fixture
def shop(db):
    merchant, _ = make_merchant(db)
    return merchant


def owed_refund(db, shop, linked: bool) -> dict:
    """An invoice paid in full by transfer, the jeans returned and accepted: 799 kr owed back,
    to the linked bank account (ready) or, without one, waiting for details."""
    order = make_order(db, shop["id"])
    if linked:
        link_bank_account(db, order["customer_id"])
    payments.record_transfer(db, order["id"], TOTAL, "OCR 1", "bank")
    decide(db, shop["id"], make_return(db, order, {JEANS: 1}), (0, 1, 0))
    [refund] = refunds.refunds_of_order(db, order["id"])
    return refund


@pytest.fixture
def waiting(db, shop):
    refund = owed_refund(db, shop, linked=False)
    assert refund["status"] == "needs_details"
    return refund


@pytest.fixture
def ready(db, shop):
    refund = owed_refund(db, shop, linked=True)
    assert refund["status"] == "ready"
    return refund


def payout_rows(db, refund_id: int) -> list[dict]:
    return list(select(db, "SELECT * FROM outbox WHERE kind = 'payout' AND subject_id = ?"
                         " ORDER BY id", [refund_id]))


def claim(db, owner: str = "worker-1") -> dict:
    row = outbox.claim(db, owner, ("payout",))
    assert row is not None, "no payout row to deliver"
    return row


def wait_for_execution(sandbox, key: str, seconds: float = 10.0) -> None:
    """A timed-out payout is executed by the sandbox after its delay: wait (bounded)."""
    deadline = wall.monotonic() + seconds
    while wall.monotonic() < deadline:
        if sandbox.ledger()["executions_per_key"].get(key):
            return
        wall.sleep(0.05)
    raise AssertionError(f"the sandbox did not execute {key} within {seconds}s")


def assert_paid_at_most_once(sandbox) -> dict:
    ledger = sandbox.ledger()
    assert all(n == 1 for n in ledger["executions_per_key"].values()), ledger
    return ledger


# --- where the refund goes ------------------------------------------------------------------

def test_choosing_a_destination_makes_a_waiting_refund_ready_and_queues_its_payout(db,
                                                                                   waiting):
    assert payout_rows(db, waiting["id"]) == []
    refund = refunds.set_destination(db, waiting["id"], IBAN, actor="customer:1")
    assert (refund["status"], refund["destination_kind"]) == ("ready", "iban")
    assert json.loads(refund["destination_json"]) == {"type": "iban",
                                                      "iban": "SE4550000000058398257466"}
    assert refund["destination_masked"] == IBAN.masked
    [row] = payout_rows(db, waiting["id"])
    assert row["status"] == "pending"
    actions = [r[0] for r in db.execute("SELECT action FROM audit_event WHERE subject_kind ="
                                        " 'refund' AND subject_id = ? ORDER BY id",
                                        [waiting["id"]])]
    assert actions == ["refund.created", "refund.destination_set"]


def test_a_ready_refund_cannot_be_sent_somewhere_else(db, ready):
    with pytest.raises(Conflict):
        refunds.set_destination(db, ready["id"], IBAN, actor="customer:1")
    assert refunds.get_refund(db, ready["id"]) == ready
    assert len(payout_rows(db, ready["id"])) == 1


def test_a_paid_refund_cannot_get_a_new_destination(db, provider, ready):
    assert deliveries.deliver_payout(db, provider, claim(db)) == "succeeded"
    with pytest.raises(Conflict, match="has been sent"):
        refunds.set_destination(db, ready["id"], IBAN, actor="customer:1")


# --- payouts in each of the provider's modes ------------------------------------------------

@pytest.mark.parametrize("mode, times, outcome, status", [
    ("normal", None, "succeeded", "succeeded"),
    ("decline", 1, "declined", "failed"),
    ("error_500", 2, "succeeded", "succeeded"),  # retried after asking, in one delivery
    ("lost_response", 1, "succeeded", "succeeded"),  # executed, answer lost: found by asking
])
def test_a_payout_ends_as_the_provider_decided_and_moves_money_at_most_once(
        db, provider, sandbox, ready, mode, times, outcome, status):
    sandbox.mode(mode, times=times)
    key = deliveries.payout_key(ready)
    assert deliveries.deliver_payout(db, provider, claim(db)) == outcome
    refund = refunds.get_refund(db, ready["id"])
    assert (refund["status"], refund["attempts"]) == (status, 1)
    ledger = assert_paid_at_most_once(sandbox)
    assert ledger["executions_per_key"] == {key: 1}
    assert ledger["money_moved_per_key"].get(key, 0) == (status == "succeeded")
    [execution] = ledger["executions"]
    assert (execution["amount"], execution["currency"]) == (JEAN, "SEK")
    assert execution["destination_type"] == "bank_account"
    assert refund["provider_payout_id"] == execution["id"]
    if status == "succeeded":
        assert refund["succeeded_at"] and refund["last_error"] is None
    else:
        assert refund["last_error"] == "account_closed"
    [row] = payout_rows(db, ready["id"])
    assert row["status"] == "done"
    if mode == "error_500":
        assert ledger["requests_per_key"][key] == 3


def test_a_timed_out_payout_is_settled_by_asking_on_a_later_delivery(db, sandbox, ready):
    provider = ProviderClient(sandbox.url, read_timeout=0.3, sleep=lambda s: None)
    sandbox.mode("timeout", times=1, delay=1.0)
    key = deliveries.payout_key(ready)
    first = deliveries.deliver_payout(db, provider, claim(db))
    assert first in ("succeeded", "unknown")
    if first == "unknown":
        refund = refunds.get_refund(db, ready["id"])
        assert refund["status"] == "unknown" and refund["last_error"]
        [row] = payout_rows(db, ready["id"])
        assert row["status"] == "pending" and row["available_at"] > clock.now_iso()
        assert outbox.claim(db, "worker-2", ("payout",)) is None  # backing off
        wait_for_execution(sandbox, key)
        with time_machine.travel(clock.now() + timedelta(hours=1), tick=False):
            row = claim(db, "worker-2")
            assert row["attempts"] == 2
            assert deliveries.deliver_payout(db, provider, row) == "succeeded"
    refund = refunds.get_refund(db, ready["id"])
    assert refund["status"] == "succeeded"
    ledger = assert_paid_at_most_once(sandbox)
    assert ledger["money_moved_per_key"] == {key: 1}
    assert [r["status"] for r in payout_rows(db, ready["id"])] == ["done"]


def test_a_new_destination_after_a_decline_gets_a_new_payout_key(db, provider, sandbox, ready):
    first_key = deliveries.payout_key(ready)
    assert first_key == deliveries.payout_key(refunds.get_refund(db, ready["id"]))  # stable
    sandbox.mode("decline", times=1)
    assert deliveries.deliver_payout(db, provider, claim(db)) == "declined"
    failed = refunds.get_refund(db, ready["id"])
    assert deliveries.payout_key(failed) == first_key
    refund = refunds.set_destination(db, ready["id"], SWISH, actor="customer:1")
    second_key = deliveries.payout_key(refund)
    assert second_key != first_key and second_key.startswith(f"refund-{ready['id']}-")
    assert deliveries.deliver_payout(db, provider, claim(db)) == "succeeded"
    ledger = assert_paid_at_most_once(sandbox)
    assert ledger["executions_per_key"] == {first_key: 1, second_key: 1}
    assert ledger["money_moved_per_key"] == {second_key: 1}
    assert refunds.get_refund(db, ready["id"])["destination_kind"] == "swish"


def test_a_payout_key_used_for_another_payout_fails_for_support_to_retry_under_a_new_one(
        app, db, provider, sandbox, ready):
    """The provider refuses a key it executed for another request (422): as after a restore to
    an older backup, when a refund id comes round again. Asking again would be refused again,
    so the refund fails at once with the provider's words in support's queue, and support's
    retry pays it under a new key."""
    from returns_app.services import stuck, support_actions
    from tests.support_helpers import make_support_user

    key = deliveries.payout_key(ready)
    earlier = provider.send_payout(key, JEAN - 100, "SEK", f"refund-{ready['id']}",
                                   json.loads(ready["destination_json"]))
    assert earlier.outcome == "succeeded"
    assert deliveries.deliver_payout(db, provider, claim(db)) == "declined"
    refund = refunds.get_refund(db, ready["id"])
    assert refund["status"] == "failed"
    assert refund["last_error"].startswith("idempotency_key_reused: ")  # the console's words
    assert [r["status"] for r in payout_rows(db, ready["id"])] == ["done"]  # not asked again
    [reason] = stuck.reasons_for_refund(db, ready["id"], clock.now())
    assert (reason.code, reason.detail) == ("failed", refund["last_error"])

    agent = make_support_user(db)
    support_actions.retry_payout(db, ready["id"], agent, "Key reused after the restore")
    assert deliveries.deliver_payout(db, provider, claim(db)) == "succeeded"
    new_key = deliveries.payout_key(refunds.get_refund(db, ready["id"]))
    assert new_key != key
    assert sandbox.ledger()["money_moved_per_key"] == {key: 1, new_key: 1}


@pytest.mark.parametrize("reached_provider", [True, False])
def test_a_payout_whose_worker_died_mid_delivery_is_paid_once(db, provider, sandbox, ready,
                                                              reached_provider):
    key = deliveries.payout_key(ready)
    row = claim(db, "worker-a")
    with write_transaction(db):  # worker A begins...
        refunds.start_sending(db, ready["id"])
    if reached_provider:  # ...its call gets through, then it dies before writing the outcome
        provider.send_payout(key, JEAN, "SEK", f"refund-{ready['id']}",
                             json.loads(ready["destination_json"]))
    assert outbox.claim(db, "worker-b", ("payout",)) is None  # still A's lease
    with time_machine.travel(clock.now() + outbox.LEASE + timedelta(seconds=5), tick=False):
        again = claim(db, "worker-b")
    assert (again["id"], again["attempts"]) == (row["id"], 2)
    assert deliveries.deliver_payout(db, provider, again) == "succeeded"
    # A duplicate delivery of the same row (a second worker, a replay) changes nothing, and
    # is told its lease is gone.
    with pytest.raises(outbox.LeaseLost):
        deliveries.deliver_payout(db, provider, again)
    assert outbox.claim(db, "worker-c", ("payout",)) is None
    refund = refunds.get_refund(db, ready["id"])
    assert refund["status"] == "succeeded"
    ledger = assert_paid_at_most_once(sandbox)
    assert ledger["money_moved_per_key"] == {key: 1}
    assert ledger["requests_per_key"][key] == 1  # B asked first and never resent
    assert ledger["lookups_per_key"][key] >= 1


def test_a_payout_the_provider_never_settles_is_asked_about_slowly_and_queued_for_support(
        db, sandbox, ready):
    """Past the quick retries the outcome is still unknown: the payout is not given up on (a
    failed outbox row would leave the money unaccounted for), it is asked about every few
    hours, and the stuck queue shows it that moment with its own reason."""
    from returns_app.services import stuck

    provider = ProviderClient(sandbox.url, read_timeout=1.0, sleep=lambda s: None)
    sandbox.mode("error_500")
    at = clock.now().replace(microsecond=0)
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        with time_machine.travel(at, tick=False):
            row = claim(db)
            assert row["attempts"] == attempt
            assert deliveries.deliver_payout(db, provider, row) == "unknown"
            codes = [r.code for r in stuck.reasons_for_refund(db, ready["id"], clock.now())]
            assert ("provider_not_answering" in codes) is (attempt == outbox.MAX_ATTEMPTS)
        at += timedelta(hours=1, seconds=1)  # past the longest quick backoff
    gave_up_at = at - timedelta(hours=1, seconds=1)
    [row] = payout_rows(db, ready["id"])
    assert row["status"] == "pending"  # still scheduled: asked again ...
    wait = clock.parse(row["available_at"]) - gave_up_at
    assert deliveries.ASK_SLOWLY_EVERY - 1 <= wait.total_seconds() <= (
        deliveries.ASK_SLOWLY_EVERY * 1.1)
    page = stuck.stuck_queue(db, gave_up_at)  # ... and support sees it at once
    [item] = [i for i in page.items if i.refund_id == ready["id"]]
    assert item.reason.code == "provider_not_answering"
    assert clock.parse(item.reason.since) == gave_up_at
    assert page.counts["provider_not_answering"] == 1

    sandbox.mode("normal")  # the provider answers again
    with time_machine.travel(gave_up_at + timedelta(hours=7), tick=False):
        assert deliveries.deliver_payout(db, provider, claim(db)) == "succeeded"
        assert stuck.reasons_for_refund(db, ready["id"], clock.now()) == []
    refund = refunds.get_refund(db, ready["id"])
    assert refund["status"] == "succeeded" and refund["provider_silent_since"] is None
    assert assert_paid_at_most_once(sandbox)["money_moved_per_key"] == {
        deliveries.payout_key(ready): 1}
