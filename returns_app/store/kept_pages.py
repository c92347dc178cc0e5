"""What a kept page's key reads about its order besides the order's own row (web/page_cache.py):
the order's version, its merchant's newest instructions, and the customer's linked bank account
with its mandate and due-date choice."""

from __future__ import annotations

from .db import Database

_STAMP = (
    "SELECT coalesce((SELECT version FROM order_version WHERE order_id = :order), 0),"
    " (SELECT max(id) FROM instructions_version WHERE merchant_id = :merchant),"
    " (SELECT (bank_account_json IS NOT NULL) || ':' || pay_on_due_date || ':' ||"
    "  coalesce((SELECT max(id) FROM debit_mandate WHERE customer_id = :customer"
    "            AND ended_at IS NULL), 0) FROM customer WHERE id = :customer)"
)


def order_versions(db: Database, order: dict) -> tuple:
    """One read: (the order's version, the merchant's newest instructions id, the customer's
    "account linked:pays on due date:mandate id")."""
    return tuple(db.execute(_STAMP, {"order": order["id"], "merchant": order["merchant_id"],
                                     "customer": order["customer_id"]}).fetchone())
