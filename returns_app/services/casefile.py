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
from ..store import audit as audit_rows
from ..store import casefile as case_rows
from ..store import payments as payment_rows
from ..store import returns as return_rows
from ..store.db import Database
from . import orders, refunds, stuck, support_actions

HISTORY_LIMIT = 500


def history(db: Database, subjects: list[tuple[str, int]]) -> list[dict]:
    """Audit rows of these subjects, oldest first, each with `changes`: [(field, before,
    after)] and the actor in words."""
    if not subjects:
        return []
    rows = audit_rows.events_of_subjects(db, subjects, HISTORY_LIMIT)
    support_ids = {int(r["actor"].split(":")[1]) for r in rows
                   if r["actor"].startswith("support_user:") and r["actor"][13:].isdigit()}
    emails = audit_rows.support_user_emails(db, support_ids)
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
    for kind in ("return", "refund", "payment"):
        subjects += [(kind, subject_id)
                     for subject_id in case_rows.subject_ids_of_order(db, kind, order_id)]
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
        "deliveries": case_rows.payout_deliveries(db, refund_id),
        "history": history(db, [("refund", refund_id)]),
    }


def _held_until(db: Database, refund: dict) -> str | None:
    """When a ready refund's payout may leave, if it waits for the customer's hold."""
    at = case_rows.latest_pending_payout_at(db, refund["id"])
    return at if at and at > clock.now_iso() else None


def order_case(db: Database, order_id: int, now: datetime) -> dict:
    details = orders.order_details(db, order_id)
    return {
        "order": details,
        "refunds": refunds.refunds_of_order(db, order_id),
        "payments": payment_rows.payments_of_order(db, order_id),
        "history": history(db, _subjects_of_order(db, order_id)),
    }


def _return_row(db: Database, return_id: int) -> dict:
    ret = return_rows.return_row(db, return_id)
    if ret is None:
        raise NotFound("No such return.")
    return ret


def return_case(db: Database, return_id: int, now: datetime) -> dict:
    ret = _return_row(db, return_id)
    ret["return_items"] = return_rows.items_as_reported(db, return_id)
    return {
        "ret": ret,
        "order": orders.get_order(db, ret["order_id"]),
        "refunds": case_rows.refunds_of_return(db, return_id),
        "reasons": stuck.reasons_for_return(db, return_id, now),
        "history": history(db, [("return", return_id)]),
    }


def refund_of_approval(db: Database, approval_id: int) -> int:
    refund_id = case_rows.refund_of_approval(db, approval_id)
    if refund_id is None:
        raise NotFound("No such approval request.")
    return refund_id


def orders_found(db: Database, found: stuck.Search, limit: int = 50) -> list[dict]:
    """The orders a search names (by number, by the customer's email, or the refund's order),
    newest first, whether or not anything about them is stuck."""
    order_ids = set(found.order_ids)
    if found.refund_ids:
        order_ids.update(case_rows.orders_of_refunds(db, found.refund_ids))
    if not order_ids:
        return []
    rows = case_rows.orders_with_customers(db, order_ids, limit)
    for row in rows:
        row["refunds"] = refunds.refunds_of_order(db, row["id"])
    return rows
