"""What the support console shows about one refund, order or return: the thing itself, what it
is tied to, why it is stuck, and its whole history from the audit trail (masked again on the way
out, for rows written before masking existed)."""

from __future__ import annotations

import json
from datetime import datetime

from ..domain import clock
from ..domain.errors import NotFound
from ..domain.masking import mask
from ..domain.money import format_decimal
from ..store.db import Database, select
from . import orders, refunds, stuck, support_actions

HISTORY_LIMIT = 500


def history(db: Database, subjects: list[tuple[str, int]]) -> list[dict]:
    """Audit rows of these subjects, oldest first, each with `changes`: [(field, before,
    after)] and the actor in words."""
    if not subjects:
        return []
    where = " OR ".join("(subject_kind = ? AND subject_id = ?)" for _ in subjects)
    rows = select(db,
        f"SELECT * FROM audit_event WHERE {where} ORDER BY id LIMIT {HISTORY_LIMIT}",
        [value for subject in subjects for value in subject])
    support_ids = {int(r["actor"].split(":")[1]) for r in rows
                   if r["actor"].startswith("support_user:") and r["actor"][13:].isdigit()}
    emails = dict(db.execute(
        f"SELECT id, email FROM support_user WHERE id IN ({', '.join('?' * len(support_ids))})",
        list(support_ids)).fetchall()) if support_ids else {}
    for row in rows:
        before = mask(json.loads(row["before_json"])) if row["before_json"] else {}
        after = mask(json.loads(row["after_json"])) if row["after_json"] else {}
        row["changes"] = [(key, _shown(key, before.get(key)), _shown(key, after.get(key)))
                          for key in sorted(set(before) | set(after))
                          if before.get(key) != after.get(key)]
        row["why"] = mask(row["why"])
        kind, _, raw_id = row["actor"].partition(":")
        row["actor_email"] = emails.get(int(raw_id)) if kind == "support_user" and \
            raw_id.isdigit() else None
    return rows


MONEY_KEYS = frozenset({"amount", "total", "credited", "rejected_value"})


def _shown(key: str, value) -> str:
    if value is None:
        return "—"
    if (key in MONEY_KEYS or key.endswith("_minor")) and isinstance(value, int):
        return format_decimal(value)  # minor units, as people read them (the order's currency)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _subjects_of_order(db: Database, order_id: int) -> list[tuple[str, int]]:
    subjects = [("order", order_id)]
    for table, kind in (("returns", "return"), ("refund", "refund"), ("payment", "payment")):
        subjects += [(kind, r[0]) for r in db.execute(
            f"SELECT id FROM {table} WHERE order_id = ?", [order_id])]
    return subjects


def refund_case(db: Database, refund_id: int, now: datetime) -> dict:
    refund = refunds.get_refund(db, refund_id)
    return {
        "refund": refund,
        "order": orders.get_order(db, refund["order_id"]),
        "ret": _return_row(db, refund["return_id"]) if refund["return_id"] else None,
        "reasons": stuck.reasons_for_refund(db, refund_id, now),
        "approvals": support_actions.pending_approvals(db, refund_id),
        "held_until": _held_until(db, refund),
        "deliveries": select(db,
            "SELECT id, status, attempts, available_at, last_error, created_at, done_at"
            " FROM outbox WHERE kind = 'payout' AND subject_id = ? ORDER BY id", [refund_id]),
        "history": history(db, [("refund", refund_id)]),
    }


def _held_until(db: Database, refund: dict) -> str | None:
    """When a ready refund's payout may leave, if it waits for the customer's hold."""
    row = db.execute("SELECT max(available_at) FROM outbox WHERE kind = 'payout'"
                     " AND subject_id = ? AND status = 'pending'", [refund["id"]]).fetchone()
    return row[0] if row and row[0] and row[0] > clock.now_iso() else None


def order_case(db: Database, order_id: int, now: datetime) -> dict:
    details = orders.order_details(db, order_id)
    return {
        "order": details,
        "refunds": refunds.refunds_of_order(db, order_id),
        "payments": select(db, "SELECT * FROM payment WHERE order_id = ? ORDER BY id",
                                  [order_id]),
        "history": history(db, _subjects_of_order(db, order_id)),
    }


def _return_row(db: Database, return_id: int) -> dict:
    rows = select(db, "SELECT * FROM returns WHERE id = ?", [return_id])
    if not rows:
        raise NotFound("No such return.")
    return rows[0]


def return_case(db: Database, return_id: int, now: datetime) -> dict:
    ret = _return_row(db, return_id)
    ret["return_items"] = select(db,
        "SELECT return_item.*, order_line.name, order_line.unit_price_minor FROM return_item"
        " JOIN order_line ON order_line.id = order_line_id WHERE return_id = ? ORDER BY"
        " return_item.id", [return_id])
    return {
        "ret": ret,
        "order": orders.get_order(db, ret["order_id"]),
        "refunds": select(db, "SELECT * FROM refund WHERE return_id = ? ORDER BY id",
                                 [return_id]),
        "reasons": stuck.reasons_for_return(db, return_id, now),
        "history": history(db, [("return", return_id)]),
    }


def refund_of_approval(db: Database, approval_id: int) -> int:
    row = db.execute("SELECT refund_id FROM support_approval WHERE id = ?",
                     [approval_id]).fetchone()
    if row is None:
        raise NotFound("No such approval request.")
    return row[0]


def orders_found(db: Database, found: stuck.Search, limit: int = 50) -> list[dict]:
    """The orders a search names (by number, by the customer's email, or the refund's order),
    newest first, whether or not anything about them is stuck."""
    order_ids = set(found.order_ids)
    if found.refund_ids:
        order_ids.update(r[0] for r in db.execute(
            f"SELECT order_id FROM refund WHERE id IN ({', '.join('?' * len(found.refund_ids))})",
            list(found.refund_ids)))
    if not order_ids:
        return []
    rows = select(db,
        "SELECT orders.id, order_number, purchased_at, currency, payment_method,"
        " merchant.name AS merchant_name, customer.email AS customer_email,"
        " customer.name AS customer_name FROM orders"
        " JOIN merchant ON merchant.id = orders.merchant_id"
        " JOIN customer ON customer.id = orders.customer_id"
        f" WHERE orders.id IN ({', '.join('?' * len(order_ids))})"
        f" ORDER BY purchased_at DESC LIMIT {int(limit)}", sorted(order_ids))
    for row in rows:
        row["refunds"] = refunds.refunds_of_order(db, row["id"])
    return rows
