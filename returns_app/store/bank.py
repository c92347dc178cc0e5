"""The bank side of money: a customer's linked account and direct-debit mandates, and the
bank's files (bank_file) and the payments in them (bank_payment). bank_payment's status moves
through store/status_moves.move."""

from __future__ import annotations

from .db import Database, insert, is_postgres, select, select_one

# --- linked accounts and mandates ---------------------------------------------------------------

def customer_account(db: Database, customer_id: int) -> dict | None:
    return select_one(db, "SELECT id, name, language, bank_account_json, bank_account_masked,"
                          " bank_account_linked_at, pay_on_due_date FROM customer WHERE id = ?",
                      [customer_id])


def set_account(db: Database, customer_id: int, provider_json: str, masked: str,
                at: str) -> None:
    db.execute("UPDATE customer SET bank_account_json = ?, bank_account_masked = ?,"
               " bank_account_linked_at = ? WHERE id = ?",
               [provider_json, masked, at, customer_id])


def remove_account(db: Database, customer_id: int) -> None:
    """No account linked any more, and so no paying on the due date either."""
    db.execute("UPDATE customer SET bank_account_json = NULL, bank_account_masked = NULL,"
               " bank_account_linked_at = NULL, pay_on_due_date = 0 WHERE id = ?",
               [customer_id])


def set_pay_on_due_date(db: Database, customer_id: int, on: bool) -> None:
    db.execute("UPDATE customer SET pay_on_due_date = ? WHERE id = ?", [int(on), customer_id])


def active_mandate(db: Database, customer_id: int, fingerprint: str) -> dict | None:
    return select_one(db, "SELECT * FROM debit_mandate WHERE customer_id = ? AND ended_at IS NULL"
                          " AND account_fingerprint = ? ORDER BY id DESC LIMIT 1",
                      [customer_id, fingerprint])


def end_mandates(db: Database, customer_id: int, at: str, keep: str | None = None) -> None:
    """End the customer's mandates, but for the account whose fingerprint is `keep`."""
    # `IS NOT ?` compares NULL as a value on SQLite; PostgreSQL spells it IS DISTINCT FROM.
    other = "IS DISTINCT FROM" if is_postgres(db) else "IS NOT"
    db.execute("UPDATE debit_mandate SET ended_at = ? WHERE customer_id = ? AND ended_at IS NULL"
               f" AND account_fingerprint {other} ?", [at, customer_id, keep])


def add_mandate(db: Database, row: dict) -> int:
    return insert(db, "debit_mandate", row)


# --- the bank's files ---------------------------------------------------------------------------

def add_file(db: Database, row: dict) -> int:
    return insert(db, "bank_file", row)


def set_file_counts(db: Database, file_id: int, booked: int, unmatched: int,
                    duplicates: int) -> None:
    db.execute("UPDATE bank_file SET booked = ?, unmatched = ?, duplicates = ? WHERE id = ?",
               [booked, unmatched, duplicates, file_id])


def booking_seen(db: Database, booking_key: str) -> bool:
    return select_one(db, "SELECT 1 AS found FROM bank_payment WHERE booking_key = ?",
                      [booking_key]) is not None


def add_bank_payment(db: Database, row: dict) -> int:
    return insert(db, "bank_payment", row)


def invoice_order_in(db: Database, order_id: int, currency: str) -> bool:
    """Whether the order exists, is paid by invoice and is in `currency`."""
    return select_one(db, "SELECT 1 AS found FROM orders WHERE id = ? AND payment_method ="
                          " 'invoice' AND currency = ?", [order_id, currency]) is not None


def order_by_number(db: Database, order_number: str) -> dict | None:
    """id and currency."""
    return select_one(db, "SELECT id, currency FROM orders WHERE order_number = ?",
                      [order_number])


def invoice_payer(db: Database, order_number: str) -> dict | None:
    """id, payment_method and the customer's name of the order with this number."""
    return select_one(db, "SELECT orders.id, orders.payment_method, customer.name FROM"
                          " orders JOIN customer ON customer.id = orders.customer_id"
                          " WHERE order_number = ?", [order_number])


# --- support's list -----------------------------------------------------------------------------

_ROWS = ("SELECT bank_payment.*, orders.order_number, bank_file.format FROM bank_payment"
         " JOIN bank_file ON bank_file.id = bank_payment.bank_file_id"
         " LEFT JOIN orders ON orders.id = bank_payment.order_id")


def bank_payment_by_id(db: Database, bank_payment_id: int) -> dict | None:
    """The row with its order's number and its file's format."""
    return select_one(db, _ROWS + " WHERE bank_payment.id = ?", [bank_payment_id])


def unmatched_payments(db: Database) -> list[dict]:
    return select(db, _ROWS + " WHERE bank_payment.status = 'unmatched'"
                  " ORDER BY booking_date, bank_payment.id")


def resolved_payments(db: Database, limit: int) -> list[dict]:
    return select(db, _ROWS + " WHERE resolved_at IS NOT NULL"
                  " ORDER BY resolved_at DESC, bank_payment.id DESC LIMIT ?", [limit])
