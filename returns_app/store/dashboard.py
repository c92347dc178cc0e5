"""The support dashboard's figures: how fast refunds follow reports, and how many refunds are in
each status."""

from __future__ import annotations

from .db import Database


def report_and_refund_times(db: Database, since: str, until: str) -> list[tuple[str, str]]:
    """(reported_at, succeeded_at) of each return's refund that succeeded between the two."""
    return [tuple(row) for row in db.execute(
        "SELECT returns.reported_at, refund.succeeded_at FROM refund"
        " JOIN returns ON returns.id = refund.return_id"
        " WHERE refund.succeeded_at >= ? AND refund.succeeded_at <= ?",
        [since, until]).fetchall()]


def refund_counts_by_status(db: Database) -> dict[str, int]:
    """How many refunds are in each status that has any."""
    return dict(db.execute("SELECT status, count(*) FROM refund GROUP BY status").fetchall())
