"""PostgreSQL's m010-m011 (../operations.py): the same statements."""

from __future__ import annotations

from ...db import Database
from .helpers import execute_all


def m010_operability(db: Database) -> None:
    """The worker's heartbeat, which readiness (/readyz) and the metrics read: one row per
    worker process, rewritten every round. And the id of the request that wrote an outbox row,
    so that the worker's log lines and provider calls for it carry the same id as the request's
    log line."""
    execute_all(
        db,
        """
        CREATE TABLE worker_heartbeat (
            worker TEXT PRIMARY KEY,
            beat_at TEXT NOT NULL
        );
        ALTER TABLE outbox ADD COLUMN request_id TEXT
        """,
    )

def m011_disabled_users(db: Database) -> None:
    """Operators disable a staff account (cli.py) instead of deleting it: its audit rows,
    approvals and decisions keep pointing at it. A disabled account can't sign in, and the
    session loaders refuse it, so its open sessions end at their next request."""
    execute_all(
        db,
        """
        ALTER TABLE merchant_user ADD COLUMN disabled_at TEXT;
        ALTER TABLE support_user ADD COLUMN disabled_at TEXT
        """,
    )


# In the order they apply.
MIGRATIONS = (
    m010_operability,
    m011_disabled_users,
)
