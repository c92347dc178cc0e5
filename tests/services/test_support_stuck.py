"""The stuck queue's rules, each at its boundary: just before, at and just after the threshold,
with time frozen where the data is made and the queue asked at exact moments."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from returns_app.domain import clock
from returns_app.services import refunds, stuck
from returns_app.store.db import select_one, write_transaction
from tests import stuck_oracle
from tests.builders import decide, link_bank_account, make_merchant
from tests.support_helpers import paid_order_with_return, refund_needing_details

# Noon UTC is the same calendar day in Stockholm, so day counts are unambiguous.
T0 = datetime(2025, 3, 3, 12, 0, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.fixture
def merchant(db):
    with time_machine.travel(T0 - timedelta(days=10), tick=False):
        merchant, _ = make_merchant(db)
    return merchant


def codes_at(db, moment: datetime, **match) -> list[str]:
    """The reasons of the one item matching `match` (refund_id=... or return_id=...)."""
    found = [item for item in stuck_oracle.stuck_items(db, moment)
             if all(getattr(item, k) == v for k, v in match.items())]
    assert len(found) <= 1
    return [r.code for r in found[0].reasons] if found else []


def at_t0(fn, *args, **kwargs):
    with time_machine.travel(T0, tick=False):
        return fn(*args, **kwargs)


def worker_outcome(db, refund_id: int, outcome: str, detail: str = "") -> None:
    """What the worker records around one provider call."""
    with write_transaction(db):
        refunds.start_sending(db, refund_id)
    with write_transaction(db):
        refunds.record_outcome(db, refund_id, outcome, None, detail)


def ready_refund(db, merchant) -> dict:
    """A refund with a linked bank account: ready and queued, nobody has sent it yet. Another
    customer than refund_needing_details's: linking sends a customer's waiting refunds."""
    order, ret = paid_order_with_return(db, merchant["id"], customer={
        "email": "linked@example.se", "name": "Lin Linked"})
    link_bank_account(db, order["customer_id"])
    decide(db, merchant["id"], ret, (0, 1, 0))
    (refund,) = refunds.refunds_of_order(db, order["id"])
    return refund


@pytest.mark.parametrize("offset, stuck_", [
    (timedelta(days=3) - SECOND, False), (timedelta(days=3), False),
    (timedelta(days=3) + SECOND, True)])
def test_needs_details_is_stuck_after_3_days(db, merchant, offset, stuck_):
    refund = at_t0(refund_needing_details, db, merchant["id"])
    codes = codes_at(db, T0 + offset, refund_id=refund["id"])
    assert ("needs_details_over_3_days" in codes) is stuck_


def test_needs_details_since_is_when_it_started_waiting(db, merchant):
    refund = at_t0(refund_needing_details, db, merchant["id"])
    (item,) = stuck_oracle.stuck_items(db, T0 + timedelta(days=4))
    assert item.refund_id == refund["id"]
    assert clock.parse(item.reason.since) == T0


def test_a_failed_payout_is_stuck_at_once(db, merchant):
    refund = at_t0(ready_refund, db, merchant)
    assert codes_at(db, T0, refund_id=refund["id"]) == []
    at_t0(worker_outcome, db, refund["id"], "declined", "account_closed")
    (item,) = stuck_oracle.stuck_items(db, T0)
    assert item.reason.code == "failed" and item.reason.detail == "account_closed"


@pytest.mark.parametrize("offset, stuck_", [
    (timedelta(hours=1) - SECOND, False), (timedelta(hours=1), False),
    (timedelta(hours=1) + SECOND, True)])
def test_unknown_is_stuck_after_an_hour(db, merchant, offset, stuck_):
    refund = at_t0(ready_refund, db, merchant)
    at_t0(worker_outcome, db, refund["id"], "unknown", "timeout")
    assert ("unknown_over_1_hour" in codes_at(db, T0 + offset, refund_id=refund["id"])) is stuck_


def test_the_unknown_clock_survives_the_workers_retries(db, merchant):
    """Each retry takes the refund through sending and back to unknown; the hour counts from
    the first unknown, not the latest."""
    refund = at_t0(ready_refund, db, merchant)
    at_t0(worker_outcome, db, refund["id"], "unknown", "timeout")
    with time_machine.travel(T0 + timedelta(minutes=40), tick=False):
        worker_outcome(db, refund["id"], "unknown", "timeout again")
    (item,) = stuck_oracle.stuck_items(db, T0 + timedelta(hours=1, seconds=1))
    assert item.reason.code == "unknown_over_1_hour"
    assert clock.parse(item.reason.since) == T0


def test_a_settled_unknown_leaves_the_queue(db, merchant):
    refund = at_t0(ready_refund, db, merchant)
    at_t0(worker_outcome, db, refund["id"], "unknown", "timeout")
    with write_transaction(db):
        refunds.start_sending(db, refund["id"])
        refunds.record_outcome(db, refund["id"], "succeeded", "po_1", "")
    assert stuck_oracle.stuck_items(db, T0 + timedelta(hours=2)) == []
    assert refunds.get_refund(db, refund["id"])["unknown_since"] is None


@pytest.mark.parametrize("offset, stuck_", [
    (timedelta(days=14) - SECOND, False), (timedelta(days=14), False),
    (timedelta(days=14) + SECOND, True)])
def test_a_sent_return_not_registered_14_days_later(db, merchant, offset, stuck_):
    order, ret = at_t0(paid_order_with_return, db, merchant["id"])
    codes = codes_at(db, T0 + offset, return_id=ret["id"])
    assert ("not_registered_14_days_after_sent" in codes) is stuck_


def test_an_unregistered_return_has_no_refund_id_and_the_returns_value(db, merchant):
    order, ret = at_t0(paid_order_with_return, db, merchant["id"])
    page = stuck.stuck_queue(db, T0 + timedelta(days=15))
    (item,) = page.items
    api = stuck.as_api(item, T0 + timedelta(days=15))
    assert api["refund_id"] is None and api["status"] is None
    assert api["order_id"] == order["id"] and api["amount"] == 29900
    assert api["order_number"] == order["order_number"]


def test_an_unpaid_invoice_has_no_refund_deadline(db, merchant):
    """Nothing was paid, so no money is owed back: only the merchant's delay counts."""
    from returns_app.services import returns
    from tests.builders import make_order, make_return, viewer_for

    def unpaid():
        order = make_order(db, merchant["id"])
        ret = make_return(db, order)
        returns.mark_sent(db, viewer_for(order), ret["id"], None)
        return ret

    ret = at_t0(unpaid)
    assert codes_at(db, T0 + timedelta(days=13), return_id=ret["id"]) == []
    assert codes_at(db, T0 + timedelta(days=15), return_id=ret["id"]) == [
        "not_registered_14_days_after_sent"]


# The return is reported on 3 March (T0): its refund is due by 17 March.
@pytest.mark.parametrize("day, expected", [
    (14, None), (15, "refund_deadline_near"), (17, "refund_deadline_near"),
    (18, "refund_deadline_passed")])
def test_refund_deadline_near_and_passed(db, merchant, day, expected):
    refund = at_t0(ready_refund, db, merchant)
    ret = select_one(db, "SELECT * FROM returns WHERE id = ?", [refund["return_id"]])
    assert ret["refund_due_by"] == "2025-03-17"
    moment = datetime(2025, 3, day, 8, 0, tzinfo=UTC)
    codes = codes_at(db, moment, refund_id=refund["id"])
    assert codes == ([expected] if expected else [])


def test_deadline_near_for_a_sent_return_without_a_refund(db, merchant):
    order, ret = at_t0(paid_order_with_return, db, merchant["id"])
    assert codes_at(db, datetime(2025, 3, 14, 8, tzinfo=UTC), return_id=ret["id"]) == []
    assert codes_at(db, datetime(2025, 3, 15, 8, tzinfo=UTC), return_id=ret["id"]) == [
        "refund_deadline_near"]


def test_a_paid_refund_has_no_deadline(db, merchant):
    refund = at_t0(ready_refund, db, merchant)
    at_t0(worker_outcome, db, refund["id"], "succeeded")
    assert stuck_oracle.stuck_items(db, datetime(2025, 3, 20, tzinfo=UTC)) == []


def test_a_refund_matching_several_rules_appears_once_with_the_most_urgent(db, merchant):
    refund = at_t0(refund_needing_details, db, merchant["id"])
    moment = datetime(2025, 3, 19, 8, tzinfo=UTC)  # deadline 17 March passed; waiting 16 days
    items = [i for i in stuck_oracle.stuck_items(db, moment) if i.refund_id == refund["id"]]
    assert len(items) == 1
    assert [r.code for r in items[0].reasons] == [
        "refund_deadline_passed", "needs_details_over_3_days"]
    (api,) = [a for a in (stuck.as_api(i, moment) for i in stuck.stuck_queue(
        db, moment).items) if a["refund_id"] == refund["id"]]
    assert api["reason"] == "refund_deadline_passed"
    assert "2025-03-17" in api["why"]


def test_most_urgent_first(db, merchant):
    waiting = at_t0(refund_needing_details, db, merchant["id"])
    declined = at_t0(ready_refund, db, merchant)
    at_t0(worker_outcome, db, declined["id"], "declined", "account_closed")
    moment = T0 + timedelta(days=4)
    assert [i.refund_id for i in stuck_oracle.stuck_items(db, moment)] == [
        declined["id"], waiting["id"]]


def test_search_by_order_number_email_and_refund_id(db, merchant):
    first = at_t0(refund_needing_details, db, merchant["id"])
    second = at_t0(refund_needing_details, db, merchant["id"],
                   customer={"email": "other@example.se", "name": "Olle"})
    moment = T0 + timedelta(days=4)
    order = select_one(db, "SELECT * FROM orders WHERE id = ?", [first["order_id"]])

    def found(text):
        return [i.refund_id for i in stuck.stuck_queue(db, moment, stuck.search(db, text)).items]

    assert found(order["order_number"].replace("-", " ")) == [first["id"]]
    assert found("OTHER@example.se") == [second["id"]]
    assert found(str(second["id"])) == [second["id"]]
    assert found("nobody@example.se") == []


@pytest.mark.sqlite_only(reason="reads SQLite's EXPLAIN QUERY PLAN through sqlite3's trace"
                                " callback")
@pytest.mark.parametrize("finder", [
    lambda db, now: stuck.stuck_queue(db, now),
    lambda db, now: (stuck.reasons_for_refund(db, 1, now), stuck.reasons_for_return(db, 1, now)),
    lambda db, now: stuck.stuck_queue(db, now, stuck.search(db, "kund@example.se"))])
def test_every_rule_is_an_indexed_query(db, finder):
    """No full scan of refunds or returns: each rule searches an index (the queue is
    benchmarked at a million orders)."""
    statements = []
    db.conn.set_trace_callback(statements.append)
    try:
        finder(db, T0)
    finally:
        db.conn.set_trace_callback(None)
    plans = [row[3] for sql in statements if sql.lstrip().upper().startswith(("SELECT", "WITH"))
             for row in db.execute("EXPLAIN QUERY PLAN " + sql)]
    assert plans
    # Scanning a subquery's or a CTE's own rows is fine: they are the few candidates.
    assert not [p for p in plans
                if re.match(r"SCAN (refund|returns|orders|ledger_entry)\b", p)], plans
