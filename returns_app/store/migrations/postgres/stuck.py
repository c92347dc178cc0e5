"""The stuck queue's table as PostgreSQL builds it anew (m012, m014, m018, m021 rebuild it on
SQLite to change a CHECK; here too, so every step keeps SQLite's shape and refill), and the
views whose untyped NULL columns PostgreSQL needs typed."""

from __future__ import annotations

from ..stuck_sources import STUCK_DEBIT_SOURCE, STUCK_UNMATCHED_SOURCE

# A view's bare NULL is TEXT on PostgreSQL; stuck_candidate.order_id is BIGINT.
STUCK_UNMATCHED_SOURCE_PG = STUCK_UNMATCHED_SOURCE.replace(
    "NULL AS order_id", "NULL::bigint AS order_id")
STUCK_DEBIT_SOURCE_PG = STUCK_DEBIT_SOURCE


def rebuild_stuck_candidate(kinds: str, slow_codes: str, sources: tuple[str, ...]) -> str:
    """stuck_candidate dropped, created with the CHECKs given, and refilled from ``sources``."""
    refill = ";\n".join(f"INSERT INTO stuck_candidate SELECT * FROM {view}" for view in sources)
    return f"""
        DROP TABLE stuck_candidate;
        CREATE TABLE stuck_candidate (
            kind BIGINT NOT NULL CHECK (kind IN ({kinds})),
            item_id BIGINT NOT NULL,
            order_id BIGINT REFERENCES orders(id),
            deadline TEXT,
            deadline_since TEXT,
            slow_code TEXT CHECK (slow_code IN ({slow_codes})),
            slow_since TEXT,
            PRIMARY KEY (kind, item_id),
            CHECK ((kind = 2) = (order_id IS NULL))
        );
        CREATE INDEX stuck_candidate_deadline
            ON stuck_candidate(deadline, deadline_since, kind, item_id)
            WHERE deadline IS NOT NULL;
        CREATE INDEX stuck_candidate_slow
            ON stuck_candidate(slow_code, slow_since, kind, item_id, deadline)
            WHERE slow_code IS NOT NULL;
        CREATE INDEX stuck_candidate_order ON stuck_candidate(order_id);
        {refill}
        """
