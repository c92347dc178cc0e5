"""The payment table (money in: card checkouts, debits from a linked account, bank transfers)
and the customer columns a payment reads. Status changes go through store/status_moves.move."""

from __future__ import annotations

from .db import Database, insert, select, select_one


def payment_by_id(db: Database, payment_id: int) -> dict | None:
    return select_one(db, "SELECT * FROM payment WHERE id = ?", [payment_id])


def payments_of_order(db: Database, order_id: int) -> list[dict]:
    return select(db, "SELECT * FROM payment WHERE order_id = ? ORDER BY id", [order_id])


def add_payment(db: Database, row: dict) -> int:
    return insert(db, "payment", row)


def debits_under_way(db: Database, order_id: int) -> int:
    """The sum of scheduled debits not yet declined, and of those whose last try's outcome the
    provider hasn't told."""
    return select_one(db,
        "SELECT coalesce(sum(amount_minor), 0) AS total FROM payment WHERE order_id = ? AND"
        " status = 'scheduled' AND (debit_tries = 0 OR provider_silent_since IS NOT NULL)",
        [order_id])["total"]


def transfer_by_key(db: Database, order_id: int, key: str) -> dict | None:
    return select_one(db, "SELECT * FROM payment WHERE order_id = ? AND idempotency_key = ?",
                      [order_id, key])


def card_payment_by_checkout(db: Database, session_id: str) -> dict | None:
    return select_one(db, "SELECT * FROM payment WHERE provider_ref = ? AND method = 'card'",
                      [session_id])


def last_card_that_paid(db: Database, order_id: int) -> dict | None:
    return select_one(db,
        "SELECT provider_payment_id, card_last4 FROM payment WHERE order_id = ? AND method ="
        " 'card' AND status = 'succeeded' AND provider_payment_id IS NOT NULL"
        " ORDER BY id DESC LIMIT 1", [order_id])


def pending_card_payments(db: Database, order_id: int) -> list[dict]:
    return select(db, "SELECT * FROM payment WHERE order_id = ? AND method = 'card' AND"
                      " status = 'pending' ORDER BY id", [order_id])


def stale_checkouts(db: Database, created_before: str, limit: int = 100) -> list[str]:
    """The provider references of card checkouts still pending that were opened before
    `created_before`, oldest first."""
    return [row["provider_ref"] for row in select(db,
        "SELECT provider_ref FROM payment WHERE method = 'card' AND status = 'pending'"
        " AND created_at < ? ORDER BY id LIMIT ?", [created_before, limit])]


def scheduled_debit_of_order(db: Database, order_id: int) -> dict | None:
    return select_one(db, "SELECT * FROM payment WHERE order_id = ? AND method = 'bank_account'"
                          " AND status = 'scheduled' ORDER BY id DESC LIMIT 1", [order_id])


def untried_debits_of_order(db: Database, order_id: int) -> list[dict]:
    return select(db, "SELECT * FROM payment WHERE order_id = ? AND method = 'bank_account'"
                      " AND status = 'scheduled' AND debit_tries = 0", [order_id])


def scheduled_payments_of_customer(db: Database, customer_id: int) -> list[dict]:
    return select(db, "SELECT payment.* FROM payment JOIN orders ON orders.id ="
                      " payment.order_id WHERE orders.customer_id = ? AND payment.status ="
                      " 'scheduled' ORDER BY payment.id", [customer_id])


def set_scheduled_for(db: Database, payment_id: int, day: str) -> None:
    db.execute("UPDATE payment SET scheduled_for = ? WHERE id = ?", [day, payment_id])


def next_debit_try(db: Database, payment_id: int, tries_before: int, tries: int,
                   day: str) -> bool:
    """Count a declined try and move a still scheduled debit to `day`; whether it was still as
    read (`tries_before` tries, scheduled)."""
    return db.execute("UPDATE payment SET debit_tries = ?, scheduled_for = ? WHERE id = ?"
                      " AND status = 'scheduled' AND debit_tries = ?",
                      [tries, day, payment_id, tries_before]).rowcount == 1


def set_debit_tries(db: Database, payment_id: int, tries: int) -> None:
    db.execute("UPDATE payment SET debit_tries = ? WHERE id = ?", [tries, payment_id])


def invoices_without_debit(db: Database, customer_id: int | None) -> list[dict]:
    """Invoice orders with a due date and no debit ever, of this customer or (None) of every
    customer who pays on the due date."""
    who = "customer.id = ?" if customer_id is not None else "customer.pay_on_due_date = 1"
    return select(db,
        "SELECT orders.* FROM orders JOIN customer ON customer.id = orders.customer_id"
        f" WHERE {who} AND orders.payment_method = 'invoice' AND orders.due_date IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM payment WHERE payment.order_id = orders.id AND"
        " payment.method = 'bank_account') ORDER BY orders.id",
        [customer_id] if customer_id is not None else [])


def customer_bank_account(db: Database, customer_id: int) -> dict | None:
    """The customer's linked account: bank_account_json (None when none is linked) and
    bank_account_masked."""
    return select_one(db, "SELECT bank_account_json, bank_account_masked FROM customer"
                          " WHERE id = ?", [customer_id])


def payer_of_order(db: Database, order_id: int) -> dict:
    """The order's customer's id and linked account (bank_account_json)."""
    return select_one(db, "SELECT customer.id, customer.bank_account_json FROM customer JOIN"
                          " orders ON orders.customer_id = customer.id WHERE orders.id = ?",
                      [order_id])


def order_currency(db: Database, order_id: int) -> str:
    return select_one(db, "SELECT currency FROM orders WHERE id = ?", [order_id])["currency"]


def order_of(db: Database, table: str, row_id: int) -> int | None:
    """The order a returns or payment row belongs to (`table` is one of those two names)."""
    if table not in ("returns", "payment"):
        raise ValueError(table)
    row = select_one(db, f"SELECT order_id FROM {table} WHERE id = ?", [row_id])
    return row["order_id"] if row else None


def set_provider_silent(db: Database, table: str, row_id: int, since: str | None) -> None:
    """Mark (or, with None, clear) since when the provider hasn't told a refund's or a debit's
    outcome; a mark already set keeps its first time."""
    if table not in ("refund", "payment"):
        raise ValueError(table)
    if since is not None:
        db.execute(f"UPDATE {table} SET provider_silent_since = ? WHERE id = ?"
                   " AND provider_silent_since IS NULL", [since, row_id])
    else:
        db.execute(f"UPDATE {table} SET provider_silent_since = NULL WHERE id = ?"
                   " AND provider_silent_since IS NOT NULL", [row_id])


def start_recorded(db: Database, scope: str, key: str) -> bool:
    """Whether a payment request with this Idempotency-Key was made before (its record)."""
    return select_one(db, "SELECT 1 AS found FROM idempotency_record WHERE scope = ? AND key = ?",
                      [scope, key]) is not None


def another_start_in_flight(db: Database, scope: str, key: str, created_after: str) -> bool:
    """Whether another key of this scope is still in flight, started after `created_after`."""
    return select_one(db, "SELECT 1 AS found FROM idempotency_record WHERE scope = ? AND"
                          " key != ? AND status = 'in_flight' AND created_at > ?",
                      [scope, key, created_after]) is not None


def outbox_row_pending(db: Database, kind: str, subject_id: int) -> bool:
    """Whether an outbox row of `kind` about this payment still waits for the worker."""
    return select_one(db, "SELECT 1 AS found FROM outbox WHERE kind = ? AND subject_id = ? AND"
                          " status = 'pending'", [kind, subject_id]) is not None
