"""The stuck queue: every refund (and every sent return still without one) that needs a person.

The rules are pure functions of a row and the time (`refund_reasons`, `return_reasons`). The
queue ranks, counts and pages through the same rules spelled in SQL over stuck_candidate (one
small trigger-kept row per live refund or return, migration m009), then lets the pure functions
say why each shown item is stuck, so the page, the API and the refund page can't disagree.
`stuck_items` applies the pure rules to every candidate of the big tables instead: the tests
hold the two equal. A refund matching several rules is one item, its reasons most urgent first.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from ..domain import banking_days, clock
from ..domain.states import REFUND_STATUSES
from ..store.db import Database, select

NEEDS_DETAILS_AFTER = timedelta(days=3)
UNKNOWN_AFTER = timedelta(hours=1)
NOT_REGISTERED_AFTER = timedelta(days=14)
DEADLINE_NEAR_DAYS = 2
UNMATCHED_BANKING_DAYS = 2

# Most urgent first: a broken legal deadline before anything that is merely slow.
REASONS = (
    "refund_deadline_passed",
    "refund_deadline_near",
    "destination_objected",
    "failed",
    "provider_not_answering",
    # A due-date debit nobody knows the outcome of: the customer's money may be gone.
    "debit_outcome_unknown",
    "unknown_over_1_hour",
    # Money in that no order shows: its customer may be reminded of an invoice already paid.
    "unmatched_payment_over_2_banking_days",
    "needs_details_over_3_days",
    "not_registered_14_days_after_sent",
)
PRIORITY = {code: rank for rank, code in enumerate(REASONS)}
NOT_SUCCEEDED = tuple(s for s in REFUND_STATUSES if s != "succeeded")
API_LIMIT = 100
API_MAX_LIMIT = 500


@dataclass(frozen=True)
class Reason:
    code: str
    since: str  # ISO-8601 UTC: when the wait this reason describes began
    deadline: str | None = None  # the legal refund deadline (a date), for the deadline reasons
    detail: str | None = None  # the provider's decline, for "failed"

    @property
    def urgency(self) -> tuple:
        return (PRIORITY[self.code], self.deadline or "", self.since)


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


# --- the rules ----------------------------------------------------------------------------------

def _deadline_reason(due: str | None, since: str, today: date) -> Reason | None:
    if not due:
        return None
    due_day = date.fromisoformat(due)
    if due_day < today:
        return Reason("refund_deadline_passed", since, deadline=due)
    if due_day <= today + timedelta(days=DEADLINE_NEAR_DAYS):
        return Reason("refund_deadline_near", since, deadline=due)
    return None


def refund_reasons(refund: dict, now: datetime) -> list[Reason]:
    """Why this refund is stuck, most urgent first; [] when it isn't. `refund` needs status,
    status_changed_at, unknown_since, objected_at, last_error and its return's
    refund_due_by and reported_at (None when it came from no return)."""
    status, changed = refund["status"], refund["status_changed_at"]
    found: list[Reason] = []
    # The customer stopped a destination support chose: a person must find out why.
    if status != "succeeded" and refund.get("objected_at"):
        found.append(Reason("destination_objected", refund["objected_at"]))
    if status == "needs_details" and clock.parse(changed) < now - NEEDS_DETAILS_AFTER:
        found.append(Reason("needs_details_over_3_days", changed))
    if status == "failed":
        found.append(Reason("failed", changed, detail=refund.get("last_error")))
    if status == "unknown" and refund.get("provider_silent_since"):
        # The worker's quick retries are used up and it now asks only every few hours: a
        # person should know at once, not an hour later.
        found.append(Reason("provider_not_answering", refund["provider_silent_since"]))
    elif status in ("unknown", "sending"):
        began = refund["unknown_since"] or changed
        if clock.parse(began) < now - UNKNOWN_AFTER:
            found.append(Reason("unknown_over_1_hour", began))
    if status != "succeeded":
        deadline = _deadline_reason(refund.get("refund_due_by"), refund.get("reported_at") or
                                    refund["created_at"], clock.local_date(now))
        if deadline:
            found.append(deadline)
    return sorted(found, key=lambda r: r.urgency)


def return_reasons(ret: dict, now: datetime) -> list[Reason]:
    """Why this return (with no refund of its own yet) keeps a customer waiting. `ret` needs
    status, sent_at, refund_due_by, reported_at, has_refund and customer_paid."""
    found = []
    if ret["status"] == "sent" and clock.parse(ret["sent_at"]) < now - NOT_REGISTERED_AFTER:
        found.append(Reason("not_registered_14_days_after_sent", ret["sent_at"]))
    # The legal clock only matters where money is owed back: something was paid, and no refund
    # has started for this return (a started refund is judged as a refund).
    if ret["status"] in ("sent", "received") and not ret["has_refund"] and ret["customer_paid"]:
        deadline = _deadline_reason(ret["refund_due_by"], ret["reported_at"],
                                    clock.local_date(now))
        if deadline:
            found.append(deadline)
    return sorted(found, key=lambda r: r.urgency)


def unmatched_reasons(payment: dict, now: datetime) -> list[Reason]:
    """Why this bank payment waits for a person: still unmatched after 2 whole banking days
    (booked on a Friday, it is stuck from Wednesday). `payment` needs status, booking_date."""
    cutoff = banking_days.cutoff(clock.local_date(now), UNMATCHED_BANKING_DAYS)
    if payment["status"] == "unmatched" and payment["booking_date"] < cutoff.isoformat():
        return [Reason("unmatched_payment_over_2_banking_days", payment["booking_date"])]
    return []


def debit_reasons(payment: dict, now: datetime) -> list[Reason]:
    """Why this due-date debit needs a person: the provider hasn't said how it ended, however
    often it was asked (the worker asks every few hours now). `payment` needs status and
    provider_silent_since."""
    if payment["status"] == "scheduled" and payment.get("provider_silent_since"):
        return [Reason("debit_outcome_unknown", payment["provider_silent_since"])]
    return []


# --- finding them -------------------------------------------------------------------------------

_REFUND_COLUMNS = (
    "SELECT refund.id, refund.order_id, refund.status, refund.status_changed_at,"
    " refund.unknown_since, refund.provider_silent_since, refund.objected_at, refund.last_error,"
    " refund.created_at,"
    " returns.refund_due_by, returns.reported_at"
    " FROM refund LEFT JOIN returns ON returns.id = refund.return_id")
_RETURN_COLUMNS = (
    "SELECT returns.id, returns.order_id, returns.status, returns.sent_at,"
    " returns.refund_due_by, returns.reported_at,"
    " EXISTS (SELECT 1 FROM refund WHERE refund.return_id = returns.id) AS has_refund,"
    " EXISTS (SELECT 1 FROM ledger_entry WHERE ledger_entry.order_id = returns.order_id"
    " AND kind = 'payment') AS customer_paid FROM returns")


def _thresholds(now: datetime) -> dict:
    today = clock.local_date(now)
    return {
        "needs_details": clock.iso(now - NEEDS_DETAILS_AFTER),
        "unknown": clock.iso(now - UNKNOWN_AFTER),
        "sent": clock.iso(now - NOT_REGISTERED_AFTER),
        "near": (today + timedelta(days=DEADLINE_NEAR_DAYS)).isoformat(),
    }


def _refund_candidates(db: Database, now: datetime) -> list[dict]:
    t = _thresholds(now)
    # One index range per rule (refund_status, refund_unknown_since, refund_unfinished_return):
    # the union of their ids, then the rows by primary key. The deadline rule starts from the
    # few unfinished refunds (CROSS JOIN fixes the order, the `!=` matches the partial index):
    # left to itself, the planner walked every return past the date, 400 ms at 1M orders.
    return select(db,
        _REFUND_COLUMNS + " WHERE refund.id IN ("
        " SELECT id FROM refund WHERE status = 'needs_details' AND status_changed_at < :nd"
        " UNION SELECT id FROM refund WHERE objected_at IS NOT NULL AND status != 'succeeded'"
        " UNION SELECT id FROM refund WHERE status = 'failed'"
        " UNION SELECT id FROM refund WHERE unknown_since < :unknown"
        " UNION SELECT id FROM refund WHERE status = 'unknown'"
        " AND provider_silent_since IS NOT NULL"
        " UNION SELECT id FROM refund WHERE status = 'sending' AND status_changed_at < :unknown"
        " UNION SELECT refund.id FROM refund CROSS JOIN returns ON returns.id = refund.return_id"
        " WHERE refund.status != 'succeeded' AND returns.refund_due_by <= :near)",
        {"nd": t["needs_details"], "unknown": t["unknown"], "near": t["near"]})


def _return_candidates(db: Database, now: datetime) -> list[dict]:
    t = _thresholds(now)
    return select(db,
        _RETURN_COLUMNS + " WHERE returns.id IN ("
        " SELECT id FROM returns WHERE status = 'sent' AND sent_at < :sent"
        " UNION SELECT id FROM returns WHERE status IN ('sent', 'received')"
        " AND refund_due_by <= :near)",
        {"sent": t["sent"], "near": t["near"]})


def stuck_items(db: Database, now: datetime) -> list[StuckItem]:
    """Every stuck item, most urgent first (without details): the rules applied in Python to
    every candidate. The queue pages through the same ranking computed in SQL instead."""
    items = []
    for row in _refund_candidates(db, now):
        if reasons := refund_reasons(row, now):
            items.append(StuckItem(row["order_id"], reasons, refund_id=row["id"]))
    for row in _return_candidates(db, now):
        if reasons := return_reasons(row, now):
            items.append(StuckItem(row["order_id"], reasons, return_id=row["id"]))
    for row in select(db, "SELECT id, status, booking_date FROM bank_payment"
                          " WHERE status = 'unmatched'"):
        if reasons := unmatched_reasons(row, now):
            items.append(StuckItem(None, reasons, unmatched_id=row["id"]))
    for row in select(db, "SELECT id, order_id, status, provider_silent_since FROM payment"
                          " WHERE provider_silent_since IS NOT NULL"):
        if reasons := debit_reasons(row, now):
            items.append(StuckItem(row["order_id"], reasons, debit_id=row["id"]))
    items.sort(key=_rank)
    return items


def _rank(item: StuckItem) -> tuple:
    # Refunds before returns before payments in before debits, then by id, where the reasons
    # don't decide.
    if item.refund_id is not None:
        kind, key = 0, item.refund_id
    elif item.return_id is not None:
        kind, key = 1, item.return_id
    elif item.unmatched_id is not None:
        kind, key = 2, item.unmatched_id
    else:
        kind, key = 3, item.debit_id
    return (*item.reason.urgency, kind, key)


# Each item's main reason (the first of refund_reasons / return_reasons), as ranges of
# stuck_candidate (migration m009: one small row per unfinished refund and per sent or received
# return, kept by triggers). Each range is read in the queue's order straight off a partial
# index, most urgent reason first, so a page reads only its own rows and a count is one short
# index range: nothing grows with the orders, returns or refunds behind the queue. The rules
# are the same as above, spelled as comparisons of stored ISO-8601 text; a test holds both
# in step.
_NO_DEADLINE = "(deadline IS NULL OR deadline > :near)"
_BY_DEADLINE = "deadline, deadline_since, kind, item_id"
_BY_SINCE = "slow_since, kind, item_id"
_MAIN_REASONS = (  # (code, which rows, their order), in the order of REASONS
    ("refund_deadline_passed", "deadline < :today", _BY_DEADLINE),
    ("refund_deadline_near", "deadline >= :today AND deadline <= :near", _BY_DEADLINE),
    ("destination_objected", f"slow_code = 'destination_objected' AND {_NO_DEADLINE}",
     _BY_SINCE),
    ("failed", f"slow_code = 'failed' AND {_NO_DEADLINE}", _BY_SINCE),
    ("provider_not_answering", f"slow_code = 'provider_not_answering' AND {_NO_DEADLINE}",
     _BY_SINCE),
    ("debit_outcome_unknown", "slow_code = 'debit_outcome_unknown'", _BY_SINCE),
    ("unknown_over_1_hour", "slow_code = 'unknown_over_1_hour' AND slow_since < :unknown"
     f" AND {_NO_DEADLINE}", _BY_SINCE),
    ("unmatched_payment_over_2_banking_days", "slow_code ="
     " 'unmatched_payment_over_2_banking_days' AND slow_since < :unmatched", _BY_SINCE),
    ("needs_details_over_3_days", "slow_code = 'needs_details_over_3_days'"
     f" AND slow_since < :nd AND {_NO_DEADLINE}", _BY_SINCE),
    ("not_registered_14_days_after_sent", "slow_code = 'not_registered_14_days_after_sent'"
     f" AND slow_since < :sent AND {_NO_DEADLINE}", _BY_SINCE),
)
assert tuple(code for code, _where, _order in _MAIN_REASONS) == REASONS
_SEARCHED = (" AND (order_id IN (SELECT value FROM json_each(:orders))"
             " OR (kind = 0 AND item_id IN (SELECT value FROM json_each(:refunds))))")


def _ranked_params(now: datetime, query: Search | None) -> dict:
    t = _thresholds(now)
    params = {"nd": t["needs_details"], "unknown": t["unknown"], "sent": t["sent"],
              "near": t["near"], "today": clock.local_date(now).isoformat(),
              "unmatched": banking_days.cutoff(clock.local_date(now),
                                               UNMATCHED_BANKING_DAYS).isoformat()}
    if query is not None:
        params |= {"orders": json.dumps(sorted(query.order_ids)),
                   "refunds": json.dumps(sorted(query.refund_ids))}
    return params


def _main_counts(db: Database, params: dict, searched: str) -> dict[str, int]:
    counts = db.execute("SELECT " + ", ".join(
        f"(SELECT count(*) FROM stuck_candidate WHERE {where}{searched})"
        for _code, where, _order in _MAIN_REASONS), params).fetchone()
    return dict(zip(REASONS, counts, strict=True))


def _ranked_slice(db: Database, params: dict, searched: str, counts: dict[str, int],
                  limit: int, offset: int) -> list[tuple[int, int]]:
    """(kind, id) of the items at positions offset .. offset + limit of the whole queue: each
    reason's stretch of it is one index range, read from where the page starts in it."""
    found: list[tuple[int, int]] = []
    start = 0
    for code, where, order in _MAIN_REASONS:
        end = start + counts[code]
        if offset < end and offset + limit > start:
            skip = max(0, offset - start)
            found += db.execute(
                f"SELECT kind, item_id FROM stuck_candidate WHERE {where}{searched}"
                f" ORDER BY {order} LIMIT :take OFFSET :skip",
                {**params, "take": min(limit - len(found), end - start - skip),
                 "skip": skip}).fetchall()
        start = end
    return found


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
        order_ids.update(r[0] for r in db.execute(
            "SELECT orders.id FROM customer JOIN orders ON orders.customer_id = customer.id"
            " WHERE customer.email = ?", [text.lower()]))
    elif len(digits) == 9:
        number = f"{digits[0:3]}-{digits[3:6]}-{digits[6:9]}"
        order_ids.update(r[0] for r in db.execute(
            "SELECT id FROM orders WHERE order_number = ?", [number]))
    elif re.fullmatch(r"(?i)(refund\s*)?#?\s*\d{1,18}", text):
        refund_ids.update(r[0] for r in db.execute(
            "SELECT id FROM refund WHERE id = ?", [int(digits)]))
    return Search(text, frozenset(order_ids), frozenset(refund_ids))


# --- one page of it -----------------------------------------------------------------------------

def stuck_queue(db: Database, now: datetime, query: Search | None = None,
                limit: int = 50, offset: int = 0) -> StuckPage:
    params = _ranked_params(now, query)
    searched = _SEARCHED if query is not None else ""
    counts = _main_counts(db, params, searched)
    ranked = _ranked_slice(db, params, searched, counts, max(0, limit), max(0, offset))
    return StuckPage(_shown(db, ranked, now), sum(counts.values()), counts)


_PEOPLE = (" orders.order_number, orders.currency, orders.merchant_id,"
           " customer.email AS customer_email, customer.name AS customer_name,"
           " merchant.name AS merchant_name")
_PEOPLE_JOINS = (" JOIN orders ON orders.id = {}.order_id"
                 " JOIN customer ON customer.id = orders.customer_id"
                 " JOIN merchant ON merchant.id = orders.merchant_id")
# The shown items' rows for the rules and their details for the page, a statement per kind
# (not per item): the refunds, and the returns with the value still open in them.
_SHOWN_REFUNDS = (
    "SELECT refund.id, refund.order_id, refund.status, refund.status_changed_at,"
    " refund.unknown_since, refund.provider_silent_since, refund.objected_at, refund.last_error,"
    " refund.created_at,"
    " returns.refund_due_by, returns.reported_at, refund.amount_minor AS amount,"
    " refund.destination_masked,"
    " refund.return_id," + _PEOPLE + " FROM refund"
    " LEFT JOIN returns ON returns.id = refund.return_id" + _PEOPLE_JOINS.format("refund") +
    " WHERE refund.id IN (SELECT value FROM json_each(?))")
_SHOWN_RETURNS = (
    "SELECT returns.id, returns.order_id, returns.status, returns.sent_at,"
    " returns.refund_due_by, returns.reported_at,"
    " EXISTS (SELECT 1 FROM refund WHERE refund.return_id = returns.id) AS has_refund,"
    " EXISTS (SELECT 1 FROM ledger_entry WHERE ledger_entry.order_id = returns.order_id"
    " AND kind = 'payment') AS customer_paid,"
    " (SELECT coalesce(sum((return_item.quantity - accepted_quantity - rejected_quantity)"
    " * unit_price_minor), 0) FROM return_item JOIN order_line"
    " ON order_line.id = return_item.order_line_id WHERE return_id = returns.id) AS amount,"
    " returns.id AS return_id," + _PEOPLE + " FROM returns" + _PEOPLE_JOINS.format("returns") +
    " WHERE returns.id IN (SELECT value FROM json_each(?))")
_SHOWN_DEBITS = (
    "SELECT payment.id, payment.order_id, payment.status, payment.provider_silent_since,"
    " payment.amount_minor AS amount, payment.scheduled_for," + _PEOPLE + " FROM payment"
    + _PEOPLE_JOINS.format("payment") + " WHERE payment.id IN (SELECT value FROM json_each(?))")
_SHOWN_PAYMENTS = (
    "SELECT id, status, booking_date, amount_minor, currency, payer_name, reference,"
    " unmatched_reason FROM bank_payment WHERE id IN (SELECT value FROM json_each(?))")
_DETAILS = ("amount", "status", "last_error", "destination_masked", "return_id",
            "order_number", "currency", "merchant_id", "customer_email", "customer_name",
            "merchant_name")


def _shown(db: Database, ranked: list[tuple[int, int]], now: datetime) -> list[StuckItem]:
    """The ranked items with all their reasons, from the same pure rules the refund page uses,
    and the details the queue shows."""
    refund_ids = [item_id for kind, item_id in ranked if kind == 0]
    return_ids = [item_id for kind, item_id in ranked if kind == 1]
    payment_ids = [item_id for kind, item_id in ranked if kind == 2]
    debit_ids = [item_id for kind, item_id in ranked if kind == 3]
    debits = {row["id"]: row for row in select(db, _SHOWN_DEBITS, [json.dumps(debit_ids)])
              } if debit_ids else {}
    payments = {row["id"]: row for row in select(db, _SHOWN_PAYMENTS, [json.dumps(payment_ids)])
                } if payment_ids else {}
    refunds = {row["id"]: row for row in select(db, _SHOWN_REFUNDS, [json.dumps(refund_ids)])
               } if refund_ids else {}
    returns = {row["id"]: row for row in select(db, _SHOWN_RETURNS, [json.dumps(return_ids)])
               } if return_ids else {}
    items = []
    for kind, item_id in ranked:
        if kind == 0:
            row = refunds[item_id]
            item = StuckItem(row["order_id"], refund_reasons(row, now), refund_id=item_id)
            item.details = {key: row[key] for key in _DETAILS}
        elif kind == 3:
            row = debits[item_id]
            item = StuckItem(row["order_id"], debit_reasons(row, now), debit_id=item_id)
            # A debit is no refund: no refund status, error or destination to show.
            item.details = {key: row.get(key) for key in _DETAILS} | {
                "status": None, "scheduled_for": row["scheduled_for"]}
        elif kind == 2:
            row = payments[item_id]
            item = StuckItem(None, unmatched_reasons(row, now), unmatched_id=item_id)
            item.details = {key: None for key in _DETAILS} | {
                "amount": row["amount_minor"], "currency": row["currency"],
                "customer_name": row["payer_name"], "reference": row["reference"],
                "unmatched_reason": row["unmatched_reason"]}
        else:
            row = returns[item_id]
            item = StuckItem(row["order_id"], return_reasons(row, now), return_id=item_id)
            # A return has no payout: no refund status, error or destination to show.
            item.details = {key: row.get(key) for key in _DETAILS} | {"status": None}
        items.append(item)
    return items


def reasons_for_refund(db: Database, refund_id: int, now: datetime) -> list[Reason]:
    rows = select(db, _REFUND_COLUMNS + " WHERE refund.id = ?", [refund_id])
    return refund_reasons(rows[0], now) if rows else []


def reasons_for_return(db: Database, return_id: int, now: datetime) -> list[Reason]:
    rows = select(db, _RETURN_COLUMNS + " WHERE returns.id = ?", [return_id])
    return return_reasons(rows[0], now) if rows else []


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
