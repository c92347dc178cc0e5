"""The append-only audit trail (audit_event): written, and read back as a subject's history."""

from __future__ import annotations

from .db import Database, insert, select


def add_event(db: Database, row: dict) -> int:
    return insert(db, "audit_event", row)


def events_of_subjects(db: Database, subjects: list[tuple[str, int]], limit: int) -> list[dict]:
    """Every row about these (kind, id) subjects, oldest first, at most `limit`."""
    where = " OR ".join("(subject_kind = ? AND subject_id = ?)" for _ in subjects)
    return select(db, f"SELECT * FROM audit_event WHERE {where}"  # noqa: S608
                      f" ORDER BY id LIMIT {int(limit)}",
                  [value for subject in subjects for value in subject])


def events_of_return_with_merchant_users(db: Database, return_id: int) -> list[dict]:
    """The return's rows, oldest first, with the email of the merchant user who acted."""
    return select(db,
        "SELECT at, actor, action, before_json, after_json, why,"
        " merchant_user.email AS actor_email FROM audit_event"
        " LEFT JOIN merchant_user ON audit_event.actor = 'merchant_user:' || merchant_user.id"
        " WHERE subject_kind = 'return' AND subject_id = ? ORDER BY audit_event.id",
        [return_id])


def count_of_action(db: Database, subject_kind: str, subject_id: int, action: str) -> int:
    return select(db, "SELECT count(*) AS n FROM audit_event WHERE subject_kind = ? AND"
                      " subject_id = ? AND action = ?",
                  [subject_kind, subject_id, action])[0]["n"]


def support_user_emails(db: Database, user_ids: set[int]) -> dict[int, str]:
    """The email of each of these support agents (to name who acted)."""
    if not user_ids:
        return {}
    return {row["id"]: row["email"] for row in select(
        db, f"SELECT id, email FROM support_user WHERE id IN ({', '.join('?' * len(user_ids))})",  # noqa: S608
        list(user_ids))}
