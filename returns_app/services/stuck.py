"""The stuck queue: every refund (and every sent return still without one) that needs a person.

The rules are pure functions of a row and the time (`refund_reasons`, `return_reasons`); the
queue finds its candidates with one indexed query per rule (never a scan of all refunds or
returns) and lets the same pure functions say why each is stuck, so the page, the API and the
refund page can't disagree. A refund matching several rules is one item, its reasons most urgent
first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from .. import clock
from ..db import Database, select

NEEDS_DETAILS_AFTER = timedelta(days=3)
UNKNOWN_AFTER = timedelta(hours=1)
NOT_REGISTERED_AFTER = timedelta(days=14)
DEADLINE_NEAR_DAYS = 2

# Most urgent first: a broken legal deadline before anything that is merely slow.
REASONS = (
    "refund_deadline_passed",
    "refund_deadline_near",
    "failed",
    "unknown_over_1_hour",
    "needs_details_over_3_days",
    "not_registered_14_days_after_sent",
)
PRIORITY = {code: rank for rank, code in enumerate(REASONS)}
NOT_SUCCEEDED = ("needs_details", "ready", "sending", "failed", "unknown")
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
    """One line of the queue: a refund, or a sent return (refund_id None) with no refund yet."""

    order_id: int
    reasons: list[Reason]
    refund_id: int | None = None
    return_id: int | None = None
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
    status_changed_at, unknown_since, last_error and its return's refund_due_by and
    reported_at (None when it came from no return)."""
    status, changed = refund["status"], refund["status_changed_at"]
    found = []
    if status == "needs_details" and clock.parse(changed) < now - NEEDS_DETAILS_AFTER:
        found.append(Reason("needs_details_over_3_days", changed))
    if status == "failed":
        found.append(Reason("failed", changed, detail=refund.get("last_error")))
    if status in ("unknown", "sending"):
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


# --- finding them -------------------------------------------------------------------------------

_REFUND_COLUMNS = (
    "SELECT refund.id, refund.order_id, refund.status, refund.status_changed_at,"
    " refund.unknown_since, refund.last_error, refund.created_at, returns.refund_due_by,"
    " returns.reported_at FROM refund LEFT JOIN returns ON returns.id = refund.return_id")
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
        " UNION SELECT id FROM refund WHERE status = 'failed'"
        " UNION SELECT id FROM refund WHERE unknown_since < :unknown"
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
    items.sort(key=_rank)
    return items


def _rank(item: StuckItem) -> tuple:
    # Refunds before returns, then by id, where the reasons alone don't decide.
    kind, key = (0, item.refund_id) if item.refund_id is not None else (1, item.return_id)
    return (*item.reason.urgency, kind, key)


# Each candidate's main reason (the first of refund_reasons / return_reasons), in SQL, so the
# queue counts and orders every candidate and reads only one page of them: evaluating every
# candidate in Python grew with the backlog (~1,500 at 1,000,000 orders). The rules are the
# same as above, spelled as comparisons of stored ISO-8601 text; a test holds both in step.
_PRIORITY_SQL = "CASE code " + " ".join(
    f"WHEN '{code}' THEN {rank}" for code, rank in PRIORITY.items()) + " END"
_RANKED = f"""
WITH refund_row AS (
  {_REFUND_COLUMNS} WHERE refund.id IN (
    SELECT id FROM refund WHERE status = 'needs_details' AND status_changed_at < :nd
    UNION SELECT id FROM refund WHERE status = 'failed'
    UNION SELECT id FROM refund WHERE unknown_since < :unknown
    UNION SELECT id FROM refund WHERE status = 'sending' AND status_changed_at < :unknown
    UNION SELECT refund.id FROM refund CROSS JOIN returns ON returns.id = refund.return_id
    WHERE refund.status != 'succeeded' AND returns.refund_due_by <= :near)),
refund_main AS (
  SELECT 0 AS kind, id AS refund_id, NULL AS return_id, order_id,
    CASE
      WHEN status != 'succeeded' AND refund_due_by < :today THEN 'refund_deadline_passed'
      WHEN status != 'succeeded' AND refund_due_by <= :near THEN 'refund_deadline_near'
      WHEN status = 'failed' THEN 'failed'
      WHEN status IN ('unknown', 'sending')
        AND coalesce(unknown_since, status_changed_at) < :unknown THEN 'unknown_over_1_hour'
      WHEN status = 'needs_details' AND status_changed_at < :nd
        THEN 'needs_details_over_3_days'
    END AS code,
    CASE WHEN status != 'succeeded' AND refund_due_by <= :near THEN refund_due_by END
      AS deadline,
    CASE
      WHEN status != 'succeeded' AND refund_due_by <= :near
        THEN coalesce(nullif(reported_at, ''), created_at)
      WHEN status IN ('unknown', 'sending') THEN coalesce(unknown_since, status_changed_at)
      ELSE status_changed_at
    END AS since
  FROM refund_row),
return_row AS (
  {_RETURN_COLUMNS} WHERE returns.id IN (
    SELECT id FROM returns WHERE status = 'sent' AND sent_at < :sent
    UNION SELECT id FROM returns WHERE status IN ('sent', 'received')
    AND refund_due_by <= :near)),
return_main AS (
  SELECT 1 AS kind, NULL AS refund_id, id AS return_id, order_id,
    CASE
      WHEN owed AND refund_due_by < :today THEN 'refund_deadline_passed'
      WHEN owed AND refund_due_by <= :near THEN 'refund_deadline_near'
      WHEN status = 'sent' AND sent_at < :sent THEN 'not_registered_14_days_after_sent'
    END AS code,
    CASE WHEN owed AND refund_due_by <= :near THEN refund_due_by END AS deadline,
    CASE WHEN owed AND refund_due_by <= :near THEN reported_at ELSE sent_at END AS since
  FROM (SELECT *, status IN ('sent', 'received') AND NOT has_refund AND customer_paid
        AND refund_due_by IS NOT NULL AS owed FROM return_row)),
ranked AS (
  SELECT *, {_PRIORITY_SQL} AS priority FROM (
    SELECT * FROM refund_main UNION ALL SELECT * FROM return_main)
  WHERE code IS NOT NULL)
"""


def _ranked_params(now: datetime) -> dict:
    t = _thresholds(now)
    return {"nd": t["needs_details"], "unknown": t["unknown"], "sent": t["sent"],
            "near": t["near"], "today": clock.local_date(now).isoformat()}


def _ranked(db: Database, sql: str, now: datetime, query: Search | None,
            **extra) -> list:
    params = {**_ranked_params(now), **extra}
    where = ""
    if query is not None:
        params.update({f"o{i}": v for i, v in enumerate(sorted(query.order_ids))})
        params.update({f"r{i}": v for i, v in enumerate(sorted(query.refund_ids))})
        orders_in = ", ".join(f":o{i}" for i in range(len(query.order_ids))) or "NULL"
        refunds_in = ", ".join(f":r{i}" for i in range(len(query.refund_ids))) or "NULL"
        where = f" WHERE (order_id IN ({orders_in}) OR refund_id IN ({refunds_in}))"
    return db.execute(_RANKED + sql.format(where=where), params).fetchall()


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

# SQLite's integers are 64-bit: an offset past every item asks for nothing, however large.
_SQL_MAX = 2**63 - 1


def stuck_queue(db: Database, now: datetime, query: Search | None = None,
                limit: int = 50, offset: int = 0) -> StuckPage:
    counts = dict.fromkeys(REASONS, 0)
    counts.update(dict(_ranked(db, "SELECT code, count(*) FROM ranked{where} GROUP BY code",
                               now, query)))
    shown = []
    if limit > 0:
        for kind, item_id in _ranked(
                db, "SELECT kind, coalesce(refund_id, return_id) FROM ranked{where}"
                " ORDER BY priority, coalesce(deadline, ''), since, kind,"
                " coalesce(refund_id, return_id) LIMIT :limit OFFSET :offset",
                now, query, limit=min(limit, _SQL_MAX), offset=min(max(0, offset), _SQL_MAX)):
            shown.append(_item(db, kind, item_id, now))
    for item in shown:
        item.details = _details(db, item)
    return StuckPage(shown, sum(counts.values()), counts)


def _item(db: Database, kind: int, item_id: int, now: datetime) -> StuckItem:
    """One ranked item with all its reasons, from the same pure rules the refund page uses."""
    if kind == 0:
        row = select(db, _REFUND_COLUMNS + " WHERE refund.id = ?", [item_id])[0]
        return StuckItem(row["order_id"], refund_reasons(row, now), refund_id=item_id)
    row = select(db, _RETURN_COLUMNS + " WHERE returns.id = ?", [item_id])[0]
    return StuckItem(row["order_id"], return_reasons(row, now), return_id=item_id)


def _details(db: Database, item: StuckItem) -> dict:
    people = (" orders.order_number, orders.currency, orders.merchant_id,"
              " customer.email AS customer_email, customer.name AS customer_name,"
              " merchant.name AS merchant_name FROM orders"
              " JOIN customer ON customer.id = orders.customer_id"
              " JOIN merchant ON merchant.id = orders.merchant_id")
    if item.refund_id is not None:
        return next(iter(select(db,
            "SELECT refund.amount_minor AS amount, refund.status, refund.last_error,"
            " refund.destination_masked, refund.return_id," + people +
            " JOIN refund ON refund.order_id = orders.id WHERE refund.id = ?",
            [item.refund_id])))
    return next(iter(select(db,
        "SELECT (SELECT coalesce(sum((return_item.quantity - accepted_quantity"
        " - rejected_quantity) * unit_price_minor), 0) FROM return_item JOIN order_line"
        " ON order_line.id = return_item.order_line_id WHERE return_id = returns.id) AS amount,"
        " NULL AS status, NULL AS last_error, NULL AS destination_masked,"
        " returns.id AS return_id," + people +
        " JOIN returns ON returns.order_id = orders.id WHERE returns.id = ?", [item.return_id])))


def reasons_for_refund(db: Database, refund_id: int, now: datetime) -> list[Reason]:
    rows = select(db, _REFUND_COLUMNS + " WHERE refund.id = ?", [refund_id])
    return refund_reasons(rows[0], now) if rows else []


def reasons_for_return(db: Database, return_id: int, now: datetime) -> list[Reason]:
    rows = select(db, _RETURN_COLUMNS + " WHERE returns.id = ?", [return_id])
    return return_reasons(rows[0], now) if rows else []


def suggestion(item: StuckItem) -> str:
    """The action most likely to unstick it: details_link, retry, remind_merchant or open."""
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
    if reason.code == "failed":
        return f"The payout was declined ({reason.detail or 'no reason given'})."
    if reason.code == "unknown_over_1_hour":
        hours = int((now - clock.parse(reason.since)).total_seconds() // 3600)
        return f"The provider hasn't confirmed the payout for {hours} hours."
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
