"""Customers and their API tokens: who they are, their language, their sign-in and the bearer
tokens a customer proved an order (or their password) for."""

from __future__ import annotations

from collections.abc import Sequence

from .db import Database, insert, select_one


def customer_id_by_email(db: Database, email: str) -> int | None:
    row = select_one(db, "SELECT id FROM customer WHERE email = ?", [email])
    return row["id"] if row else None


def add_customer(db: Database, email: str, name: str, created_at: str) -> int:
    return insert(db, "customer", {"email": email, "name": name, "created_at": created_at})


def customer(db: Database, customer_id: int) -> dict | None:
    return select_one(db, "SELECT id, email, name, language FROM customer WHERE id = ?",
                      [customer_id])


def customer_for_sign_in(db: Database, email: str) -> dict | None:
    return select_one(db, "SELECT id, password_hash FROM customer WHERE email = ?", [email])


def order_for_lookup(db: Database, order_number: str, email: str) -> dict | None:
    """The order with this number whose customer has this email: its id and customer_id."""
    return select_one(db,
        "SELECT orders.id, orders.customer_id FROM orders"
        " JOIN customer ON customer.id = orders.customer_id"
        " WHERE order_number = ? AND customer.email = ?", [order_number, email])


def set_language(db: Database, customer_id: int, language: str) -> None:
    db.conn.execute("UPDATE customer SET language = ? WHERE id = ?", [language, customer_id])


def set_language_of_orders(db: Database, order_ids: Sequence[int], language: str) -> None:
    """The customers of these orders."""
    db.conn.execute(
        "UPDATE customer SET language = ? WHERE id IN (SELECT customer_id FROM orders"
        f" WHERE id IN ({', '.join('?' * len(order_ids))}))", [language, *order_ids])


def set_password_and_bank_account(db: Database, email: str, password_hash: str, uses_app: int,
                                  bank_account_json: str | None,
                                  bank_account_masked: str | None) -> None:
    """Demo data: a customer who signs in and may have linked a bank account."""
    db.conn.execute(
        "UPDATE customer SET password_hash = ?, uses_app = ?, bank_account_json = ?,"
        " bank_account_masked = ? WHERE email = ?",
        [password_hash, uses_app, bank_account_json, bank_account_masked, email])


def set_bank_account_of_order(db: Database, order_id: int, bank_account_json: str,
                              bank_account_masked: str) -> None:
    """Demo data: the order's customer has linked this bank account."""
    db.conn.execute(
        "UPDATE customer SET bank_account_json = ?, bank_account_masked = ? WHERE id ="
        " (SELECT customer_id FROM orders WHERE id = ?)",
        [bank_account_json, bank_account_masked, order_id])


# --- API tokens -------------------------------------------------------------------------------

def add_token(db: Database, row: dict) -> int:
    return insert(db, "customer_token", row)


def live_token(db: Database, token_hash: str, now: str) -> dict | None:
    """The unexpired, unrevoked token's customer_id and order_id."""
    return select_one(db,
        "SELECT customer_id, order_id FROM customer_token WHERE token_hash = ? AND expires_at > ?"
        " AND revoked_at IS NULL", [token_hash, now])


def revoke_token(db: Database, token_hash: str, at: str) -> None:
    db.conn.execute("UPDATE customer_token SET revoked_at = ? WHERE token_hash = ?"
                    " AND revoked_at IS NULL", [at, token_hash])


def customer_of_token(db: Database, token_hash: str) -> int | None:
    row = select_one(db, "SELECT customer_id FROM customer_token WHERE token_hash = ?",
                     [token_hash])
    return row["customer_id"] if row else None

