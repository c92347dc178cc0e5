"""A merchant's name and the people who work there, as the portal's header and the emails to
its staff read them (the staff's own accounts and sign-in are elsewhere)."""

from __future__ import annotations

from .db import Database, select, select_one


def merchant_name(db: Database, merchant_id: int) -> str | None:
    row = select_one(db, "SELECT name FROM merchant WHERE id = ?", [merchant_id])
    return row["name"] if row else None


def merchant_exists(db: Database, merchant_id: int) -> bool:
    return select_one(db, "SELECT 1 AS found FROM merchant WHERE id = ?",
                      [merchant_id]) is not None


def merchant_user_name(db: Database, user_id: int) -> str:
    return select_one(db, "SELECT name FROM merchant_user WHERE id = ?", [user_id])["name"]


def users_of_merchant(db: Database, merchant_id: int) -> list[dict]:
    """Every user of the merchant, oldest first: id, email, language."""
    return select(db, "SELECT id, email, language FROM merchant_user WHERE merchant_id = ?"
                      " ORDER BY id", [merchant_id])
