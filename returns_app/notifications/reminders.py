"""Reminders, decided by a scan the worker runs every round: "send your return before <date>"
and "your invoice is due in 2 days". Each (kind, order, Stockholm day) is weighed once and the
decision kept, queued or not, so a round after the first costs two indexed look-ups."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from ..domain import clock
from ..services.holds import invoice_on_hold
from ..services.orders import amounts, get_order
from ..services.payments import allowed_now
from ..store import notifications as notification_rows
from ..store.db import Database, lock_rows, write_transaction
from . import INVOICE_DUE_REMINDER, SEND_RETURN_REMINDER
from .queue import queue_customer_email

REMIND_DAYS_BEFORE = 2
# Nobody is reminded of money at midnight: the day's reminders go out from 08:00 Stockholm time.
EARLIEST_LOCAL_HOUR = 8
BATCH = 200  # per kind and round, so one round stays short even on a busy due date
# "sms" is a choice some customers stored before we stopped offering it (no SMS is sent): it
# is kept, and it means email, never "nothing". New choices are CHOOSABLE only.
CHANNELS = ("email", "sms", "none")
CHOOSABLE = ("email", "none")
EMAIL_CHANNELS = ("email", "sms")


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str = ""


def may_remind_about_order(db: Database, order_id: int) -> Verdict:
    """May we remind this customer today to pay for this order? Every rule that can forbid
    chasing money is here and nowhere else, so the reminder scan and the last check before
    sending agree."""
    if invoice_on_hold(db, order_id, clock.local_date(clock.now())):
        return Verdict(False, "on_hold")
    owed = amounts(db, order_id)
    if owed.payable_now <= 0:
        # Paid, refunded, or everything left is paused by an open return.
        return Verdict(False, "paused" if owed.paused else "nothing_due")
    if allowed_now(db, order_id) <= 0:
        return Verdict(False, "payment_under_way")
    return Verdict(True)


def reminder_channel(db: Database, customer_id: int) -> str:
    return notification_rows.reminder_channel(db, customer_id)


def scan(db: Database) -> Counter:
    """Weigh every reminder due today not weighed yet; returns how each decision went."""
    outcomes: Counter = Counter()
    now = clock.now()
    if now.astimezone(clock.LOCAL_ZONE).hour < EARLIEST_LOCAL_HOUR:
        return outcomes
    today = clock.local_date(now)
    target = (today + timedelta(days=REMIND_DAYS_BEFORE)).isoformat()
    for kind, candidates in ((SEND_RETURN_REMINDER, notification_rows.returns_to_remind_of),
                             (INVOICE_DUE_REMINDER, notification_rows.invoices_to_remind_of)):
        for order_id in candidates(db, target, kind, today.isoformat(), BATCH):
            with write_transaction(db):
                outcomes[_decide(db, kind, order_id, today, target)] += 1
    return outcomes


def remind_of_invoice_now(db: Database, order_id: int) -> str:
    """Inside the caller's transaction: a debit that fell through leaves an ordinary invoice,
    reminded by the same rules (and at most once a day) as any other."""
    return _decide(db, INVOICE_DUE_REMINDER, order_id, clock.local_date(clock.now()),
                   get_order(db, order_id)["due_date"] or "")


def _decide(db: Database, kind: str, order_id: int, today: date, target: str) -> str:
    """Inside the write lock (the order's): weigh one reminder and keep the decision."""
    lock_rows(db, "orders", order_id)
    day = today.isoformat()
    if notification_rows.reminder_decided(db, kind, order_id, day):
        return "weighed_already"  # another worker got there first
    order = get_order(db, order_id)
    refs: dict = {}
    if kind == SEND_RETURN_REMINDER:
        return_ids = notification_rows.returns_waiting_to_be_sent(db, order_id, target)
        why_not = "" if return_ids else "not_waiting_to_be_sent"
        facts = {"return_ids": return_ids, "send_by": target}
        refs = {"return_id": return_ids[0]} if return_ids else {}
    else:
        verdict = may_remind_about_order(db, order_id)
        why_not = verdict.reason
        facts = {"amount": allowed_now(db, order_id), "due_date": order["due_date"]}
    notification_id = None
    if why_not:
        outcome = f"skipped:{why_not}"
    else:
        channel = reminder_channel(db, order["customer_id"])
        if channel in EMAIL_CHANNELS:
            notification_id = queue_customer_email(db, kind, f"{kind}:{order_id}:{day}", order,
                                                   facts=facts, **refs)
            outcome = "email"
        else:
            outcome = "skipped:customer_chose_none"
    notification_rows.add_reminder_decision(db, {
        "kind": kind, "order_id": order_id, "day": day, "outcome": outcome,
        "notification_id": notification_id, "decided_at": clock.now_iso(),
    })
    return outcome


def reason_to_withdraw(db: Database, notification: dict) -> str:
    """The last check before a queued reminder leaves (it may have waited out an SMTP outage):
    '' if it still should go, else why not."""
    if notification["customer_id"] and \
            reminder_channel(db, notification["customer_id"]) not in EMAIL_CHANNELS:
        return "the customer no longer wants email reminders"
    if notification["kind"] == SEND_RETURN_REMINDER:
        ids = notification["facts"].get("return_ids", [])
        waiting = notification_rows.count_still_reported(db, ids)
        return "" if waiting else "the return is no longer waiting to be sent"
    if notification["kind"] == INVOICE_DUE_REMINDER:
        verdict = may_remind_about_order(db, notification["order_id"])
        return "" if verdict.allowed else f"nothing to remind about: {verdict.reason}"
    return ""
