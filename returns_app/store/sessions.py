"""Signed-in web sessions (web_session): one row per session, named by its token's hash."""

from __future__ import annotations

from .db import Database, insert, is_postgres, select_one


def add_session(db: Database, row: dict) -> int:
    return insert(db, "web_session", row)


def session_by_token_hash(db: Database, token_hash: str) -> dict | None:
    return select_one(db,
        "SELECT id, principal_kind, principal_id, last_seen_at, idle_seconds, expires_at,"
        " ended_at FROM web_session WHERE token_hash = ?", [token_hash])


def end_session(db: Database, session_id: int, at: str) -> None:
    db.conn.execute("UPDATE web_session SET ended_at = ? WHERE id = ? AND ended_at IS NULL",
                    [at, session_id])


def touch_session(db: Database, session_id: int, at: str, last_seen_at: str) -> None:
    """Last activity moved to `at`, if nobody moved it since it read `last_seen_at`."""
    db.conn.execute("UPDATE web_session SET last_seen_at = ? WHERE id = ? AND last_seen_at = ?",
                    [at, session_id, last_seen_at])


def end_session_by_token_hash(db: Database, token_hash: str, at: str) -> None:
    db.conn.execute("UPDATE web_session SET ended_at = ? WHERE token_hash = ?"
                    " AND ended_at IS NULL", [at, token_hash])


def end_sessions_of(db: Database, kind: str, user_id: int, at: str,
                    except_id: int | None = None) -> int:
    """End every live session of the principal but `except_id`; how many ended."""
    # `IS NOT ?` compares NULL as a value on SQLite; PostgreSQL spells it IS DISTINCT FROM.
    other = "IS DISTINCT FROM" if is_postgres(db) else "IS NOT"
    return db.conn.execute(
        "UPDATE web_session SET ended_at = ? WHERE principal_kind = ? AND principal_id = ?"
        f" AND ended_at IS NULL AND id {other} ?", [at, kind, user_id, except_id]).rowcount
