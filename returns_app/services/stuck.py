"""The stuck queue: every refund (and every sent return still without one, every bank payment
no order was found for, every due-date debit the provider never answered about) that needs a
person.

Why an item is stuck is decided by the rules table (domain/stuck_rules.py). The queue ranks,
counts and pages through the same rules rendered as SQL over stuck_candidate
(store/stuck_queue.py), then lets the table say why each shown item is stuck, so the page, the
API and the refund page can't disagree. A refund matching several rules is one item, its
reasons most urgent first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from ..domain import clock
from ..domain import stuck_rules as rules
from ..domain.states import REFUND_STATUSES
from ..domain.stuck_rules import Reason
from ..store import stuck_queue as queue_rows
from ..store.db import Database

NOT_SUCCEEDED = tuple(s for s in REFUND_STATUSES if s != "succeeded")
API_LIMIT = 100
API_MAX_LIMIT = 500


@dataclass
class StuckItem:
    """One line of the queue: a refund, a sent return (refund_id None) with no refund yet, a
    bank payment no order could be found for (order_id None), or a due-date debit whose
    outcome is unknown."""

    order_id: int | None
    reasons: list[Reason]
    refund_id: int | None = None
    return_id: int | None = None
    unmatched_id: int | None = None
    debit_id: int | None = None
    details: dict = field(default_factory=dict)  # filled for the items shown

    @property
    def reason(self) -> Reason:
        return self.reasons[0]


@dataclass(frozen=True)
class StuckPage:
    items: list[StuckItem]
    total: int
    counts: dict[str, int]  # main reason -> how many items, over the whole (filtered) queue


# --- searching ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Search:
    """What a search box text names: orders (by number or customer email) or a refund id."""

    text: str
    order_ids: frozenset[int]
    refund_ids: frozenset[int]

    def matches(self, item: StuckItem) -> bool:
        return item.order_id in self.order_ids or item.refund_id in self.refund_ids


def search(db: Database, text: str) -> Search:
    text = (text or "").strip()
    order_ids: set[int] = set()
    refund_ids: set[int] = set()
    digits = re.sub(r"\D", "", text)
    if "@" in text:
        order_ids.update(queue_rows.orders_of_customer_email(db, text.lower()))
    elif len(digits) == 9:
        number = f"{digits[0:3]}-{digits[3:6]}-{digits[6:9]}"
        order_ids.update(queue_rows.orders_numbered(db, number))
    elif re.fullmatch(r"(?i)(refund\s*)?#?\s*\d{1,18}", text):
        refund_ids.update(queue_rows.refunds_numbered(db, int(digits)))
    return Search(text, frozenset(order_ids), frozenset(refund_ids))




# --- one page of it -----------------------------------------------------------------------------

def stuck_queue(db: Database, now: datetime, query: Search | None = None,
                limit: int = 50, offset: int = 0) -> StuckPage:
    searched = ({"order_ids": query.order_ids, "refund_ids": query.refund_ids}
                if query is not None else {})
    counts = queue_rows.main_reason_counts(db, now, **searched)
    ranked = queue_rows.ranked_slice(db, now, counts, max(0, limit), max(0, offset), **searched)
    return StuckPage(_shown(db, ranked, now), sum(counts.values()), counts)


_DETAILS = ("amount", "status", "last_error", "destination_masked", "return_id",
            "order_number", "currency", "merchant_id", "customer_email", "customer_name",
            "merchant_name")


def _shown(db: Database, ranked: list[tuple[int, int]], now: datetime) -> list[StuckItem]:
    """The ranked items with all their reasons, from the same rules the refund page uses, and
    the details the queue shows."""
    def ids(kind: str) -> list[int]:
        return [item_id for number, item_id in ranked if number == rules.KIND_NUMBERS[kind]]

    refunds = queue_rows.shown_refunds(db, ids(rules.REFUND))
    returns = queue_rows.shown_returns(db, ids(rules.RETURN))
    payments = queue_rows.shown_bank_payments(db, ids(rules.UNMATCHED))
    debits = queue_rows.shown_debits(db, ids(rules.DEBIT))
    items = []
    for kind, item_id in ranked:
        if kind == rules.KIND_NUMBERS[rules.REFUND]:
            row = refunds[item_id]
            item = StuckItem(row["order_id"], rules.reasons(rules.REFUND, row, now),
                             refund_id=item_id)
            item.details = {key: row[key] for key in _DETAILS}
        elif kind == rules.KIND_NUMBERS[rules.DEBIT]:
            row = debits[item_id]
            item = StuckItem(row["order_id"], rules.reasons(rules.DEBIT, row, now),
                             debit_id=item_id)
            # A debit is no refund: no refund status, error or destination to show.
            item.details = {key: row.get(key) for key in _DETAILS} | {
                "status": None, "scheduled_for": row["scheduled_for"]}
        elif kind == rules.KIND_NUMBERS[rules.UNMATCHED]:
            row = payments[item_id]
            item = StuckItem(None, rules.reasons(rules.UNMATCHED, row, now),
                             unmatched_id=item_id)
            item.details = {key: None for key in _DETAILS} | {
                "amount": row["amount_minor"], "currency": row["currency"],
                "customer_name": row["payer_name"], "reference": row["reference"],
                "unmatched_reason": row["unmatched_reason"]}
        else:
            row = returns[item_id]
            item = StuckItem(row["order_id"], rules.reasons(rules.RETURN, row, now),
                             return_id=item_id)
            # A return has no payout: no refund status, error or destination to show.
            item.details = {key: row.get(key) for key in _DETAILS} | {"status": None}
        items.append(item)
    return items


def reasons_for_refund(db: Database, refund_id: int, now: datetime) -> list[Reason]:
    row = queue_rows.refund_for_rules(db, refund_id)
    return rules.reasons(rules.REFUND, row, now) if row else []


def reasons_for_return(db: Database, return_id: int, now: datetime) -> list[Reason]:
    row = queue_rows.return_for_rules(db, return_id)
    return rules.reasons(rules.RETURN, row, now) if row else []


def suggestion(item: StuckItem) -> str:
    """The action most likely to unstick it: details_link, retry, remind_merchant,
    match_payment, open_order or open."""
    if item.unmatched_id is not None:
        return "match_payment"
    if item.debit_id is not None:
        return "open_order"
    if item.refund_id is None:
        return "remind_merchant"
    status = item.details.get("status")
    if status == "needs_details":
        return "details_link"
    if status in ("failed", "unknown"):
        return "retry"
    return "open"


# --- in words, for the API ----------------------------------------------------------------------

def _days(since: str, now: datetime) -> int:
    return max(0, (now - clock.parse(since)).days)


def why(reason: Reason, now: datetime, merchant: str = "The merchant") -> str:
    """One English sentence for the API (the console says the same through its translations)."""
    if reason.code == "needs_details_over_3_days":
        return (f"Waiting {_days(reason.since, now)} days for the customer to say where the "
                "money should go.")
    if reason.code == "destination_objected":
        return ("The customer objected to a destination support chose; the payout was "
                "stopped.")
    if reason.code == "failed":
        return f"The payout was declined ({reason.detail or 'no reason given'})."
    if reason.code == "provider_not_answering":
        return ("The provider hasn't said whether the payout was made, however often it was "
                "asked; the worker keeps asking every few hours.")
    if reason.code == "debit_outcome_unknown":
        return ("The provider hasn't said whether the due-date debit was taken from the "
                "customer's account; the worker keeps asking every few hours and the customer "
                "isn't asked to pay it meanwhile.")
    if reason.code == "unknown_over_1_hour":
        hours = int((now - clock.parse(reason.since)).total_seconds() // 3600)
        return f"The provider hasn't confirmed the payout for {hours} hours."
    if reason.code == "unmatched_payment_over_2_banking_days":
        return (f"A bank payment booked on {reason.since} matches no order: book it to one or "
                "mark it for return.")
    if reason.code == "not_registered_14_days_after_sent":
        return (f"Sent {_days(reason.since, now)} days ago and {merchant} hasn't registered "
                "the return.")
    left = (date.fromisoformat(reason.deadline) - clock.local_date(now)).days
    if reason.code == "refund_deadline_passed":
        return f"The legal refund deadline {reason.deadline} passed {-left} days ago."
    return f"The legal refund deadline is {reason.deadline}, in {left} days."


def as_api(item: StuckItem, now: datetime) -> dict:
    d = item.details
    return {
        "refund_id": item.refund_id,
        "unmatched_payment_id": item.unmatched_id,
        "payment_id": item.debit_id,
        "order_id": item.order_id,
        "order_number": d["order_number"],
        "amount": d["amount"],
        "currency": d["currency"],
        "status": d["status"],
        "reason": item.reason.code,
        "why": why(item.reason, now, d["merchant_name"]),
        "since": clock.iso(clock.parse(item.reason.since)),
        "customer_email": d["customer_email"],
    }
