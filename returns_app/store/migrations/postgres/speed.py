"""PostgreSQL's m007-m009 (../speed.py): the same indexes and read models, their triggers as
PL/pgSQL functions."""

from __future__ import annotations

from ...db import Database
from ..speed import ORDER_VERSIONED
from ..stuck_sources import STUCK_REFUND_SOURCE, STUCK_RETURN_SOURCE, refresh_stuck
from .helpers import execute_all, trigger


def m007_hot_indexes(db: Database) -> None:
    """The failed-lookup clean-up's index, the unfinished refunds' index and the inbox's counts
    per merchant and status, kept by triggers (../speed.py says what each buys)."""
    execute_all(
        db,
        """
        CREATE INDEX lookup_attempt_at ON lookup_attempt(at);
        CREATE INDEX refund_unfinished_return ON refund(return_id) WHERE status != 'succeeded';
        CREATE TABLE return_status_count (
            merchant_id BIGINT NOT NULL REFERENCES merchant(id),
            status TEXT NOT NULL,
            count BIGINT NOT NULL CHECK (count >= 0),
            PRIMARY KEY (merchant_id, status)
        );
        INSERT INTO return_status_count (merchant_id, status, count)
            SELECT merchant_id, status, count(*) FROM returns WHERE merchant_id IS NOT NULL
            GROUP BY merchant_id, status
        """,
    )
    count_new = ("INSERT INTO return_status_count (merchant_id, status, count)"
                 " VALUES (NEW.merchant_id, NEW.status, 1) ON CONFLICT (merchant_id, status)"
                 " DO UPDATE SET count = return_status_count.count + 1;")
    uncount_old = ("UPDATE return_status_count SET count = count - 1"
                   " WHERE merchant_id = OLD.merchant_id AND status = OLD.status;")
    trigger(db, "return_status_count_insert", "AFTER INSERT ON returns", count_new,
            when="NEW.merchant_id IS NOT NULL")
    trigger(db, "return_status_count_update", "AFTER UPDATE OF merchant_id, status ON returns",
            f"{uncount_old} IF NEW.merchant_id IS NOT NULL THEN {count_new} END IF;",
            when="OLD.merchant_id IS DISTINCT FROM NEW.merchant_id"
                 " OR OLD.status IS DISTINCT FROM NEW.status")
    trigger(db, "return_status_count_delete", "AFTER DELETE ON returns", uncount_old)


def m008_order_versions(db: Database) -> None:
    """A version per order, bumped whoever changes what its pages show (the same tables and
    order expressions as SQLite's, ../speed.py ORDER_VERSIONED)."""
    db.execute("""CREATE TABLE order_version (
        order_id BIGINT PRIMARY KEY REFERENCES orders(id),
        version BIGINT NOT NULL
    )""")
    for table, order_of in ORDER_VERSIONED.items():
        for action, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            trigger(db, f"{table}_{action.lower()}_order_version", f"AFTER {action} ON {table}",
                    "INSERT INTO order_version (order_id, version)"
                    f" SELECT id, 1 FROM (SELECT {order_of.format(row=row)} AS id) AS changed"
                    " WHERE id IS NOT NULL ON CONFLICT (order_id)"
                    " DO UPDATE SET version = order_version.version + 1;")


def m009_queue_speed(db: Database) -> None:
    """The stuck queue's read model: the same views, stuck_candidate their contents, kept by
    the same statements (refresh_stuck) run from PL/pgSQL triggers."""
    execute_all(
        db,
        f"""
        CREATE VIEW stuck_refund_source AS {STUCK_REFUND_SOURCE};
        CREATE VIEW stuck_return_source AS {STUCK_RETURN_SOURCE};
        CREATE TABLE stuck_candidate (
            kind BIGINT NOT NULL CHECK (kind IN (0, 1)),
            item_id BIGINT NOT NULL,
            order_id BIGINT NOT NULL REFERENCES orders(id),
            deadline TEXT,
            deadline_since TEXT,
            slow_code TEXT CHECK (slow_code IN ('failed', 'unknown_over_1_hour',
                'needs_details_over_3_days', 'not_registered_14_days_after_sent')),
            slow_since TEXT,
            PRIMARY KEY (kind, item_id)
        );
        CREATE INDEX stuck_candidate_deadline
            ON stuck_candidate(deadline, deadline_since, kind, item_id)
            WHERE deadline IS NOT NULL;
        CREATE INDEX stuck_candidate_slow
            ON stuck_candidate(slow_code, slow_since, kind, item_id, deadline)
            WHERE slow_code IS NOT NULL;
        CREATE INDEX stuck_candidate_order ON stuck_candidate(order_id);
        INSERT INTO stuck_candidate SELECT * FROM stuck_refund_source;
        INSERT INTO stuck_candidate SELECT * FROM stuck_return_source
        """,
    )
    unfinished_of_return = "SELECT id FROM refund WHERE return_id = {} AND status != 'succeeded'"
    triggers = {
        "refund_insert": ("AFTER INSERT ON refund", "",
                          refresh_stuck("refund", "NEW.id")
                          + refresh_stuck("return", "NEW.return_id")),
        "refund_update": ("AFTER UPDATE OF status, status_changed_at, unknown_since, created_at,"
                          " return_id, order_id ON refund", "", REFUND_UPDATE_BODY),
        "refund_delete": ("AFTER DELETE ON refund", "",
                          refresh_stuck("refund", "OLD.id")
                          + refresh_stuck("return", "OLD.return_id")),
        "returns_insert": ("AFTER INSERT ON returns", "", refresh_stuck("return", "NEW.id")),
        "returns_update": ("AFTER UPDATE OF status, sent_at, refund_due_by, reported_at,"
                           " order_id ON returns", "",
                           refresh_stuck("return", "OLD.id, NEW.id")
                           + refresh_stuck("refund", unfinished_of_return.format("NEW.id"))),
        "returns_delete": ("AFTER DELETE ON returns", "",
                           refresh_stuck("return", "OLD.id")
                           + refresh_stuck("refund", unfinished_of_return.format("OLD.id"))),
        "payment_insert": ("AFTER INSERT ON ledger_entry", "NEW.kind = 'payment'",
                           refresh_stuck("return", "SELECT id FROM returns"
                                         " WHERE order_id = NEW.order_id"
                                         " AND status IN ('sent', 'received')")),
    }
    for name, (event, when, body) in triggers.items():
        trigger(db, f"stuck_candidate_{name}", event, body, when=when)


# What refund's update trigger runs; m014 and m018 widen the columns that fire it, not this.
REFUND_UPDATE_BODY = (refresh_stuck("refund", "OLD.id, NEW.id")
                      + refresh_stuck("return", "OLD.return_id, NEW.return_id"))


def m023_unread_queue_indexes(db: Database) -> None:
    """The same five indexes as ../speed.py's m023: nothing but the tests' rules read them."""
    execute_all(
        db,
        """
        DROP INDEX refund_unfinished_return;
        DROP INDEX refund_unknown_since;
        DROP INDEX refund_objected;
        DROP INDEX returns_status_sent_at;
        DROP INDEX returns_status_refund_due_by
        """,
    )


MIGRATIONS = (
    m007_hot_indexes,
    m008_order_versions,
    m009_queue_speed,
    m023_unread_queue_indexes,
)
