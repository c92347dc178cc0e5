"""Tables, indexes and triggers that exist for speed: hot indexes (m007), order versions for
the kept pages (m008), the stuck queue's read model (m009), and m023, which dropped the indexes
nothing read any more. Each names the figure it buys; README.md's "What each piece of speed
machinery buys" has them all, measured at 1,000,000 orders (bench/machinery.py)."""

from __future__ import annotations

from ..db import Database
from .helpers import execute_all
from .stuck_sources import (
    STUCK_REFUND_SOURCE,
    STUCK_RETURN_SOURCE,
    refresh_stuck,
)


# Speed: README.md's speed machinery table, rows "kept inbox counts" and "lookup_attempt_at"
# (refund_unfinished_return bought nothing once m009 came: m023 dropped it).
def m007_hot_indexes(db: Database) -> None:
    """Found by tests/store/test_hot_queries.py and the benchmark (bench/):

    - the failed-lookup clean-up deleted by time alone: a full scan of lookup_attempt on every
      failed order lookup and sign-in (the table is at its biggest when someone is guessing);
    - the stuck queue's deadline rule needs the refunds not yet paid out, a few hundred among
      tens of thousands: refund_status can't tell the planner that (its statistics average
      over the statuses), so it scanned every refund or walked every return past the date;
    - the merchant inbox's count per status counted every return of the merchant on every
      page view (4 ms for the biggest shop, growing with its history): the counts are kept
      by triggers instead, whoever inserts or moves a return (returns.merchant_id is filled
      by m003's trigger after the insert, so the update trigger counts those).
    """
    execute_all(
        db,
        """
        CREATE INDEX lookup_attempt_at ON lookup_attempt(at);
        CREATE INDEX refund_unfinished_return ON refund(return_id) WHERE status != 'succeeded';
        CREATE TABLE return_status_count (
            merchant_id INTEGER NOT NULL REFERENCES merchant(id),
            status TEXT NOT NULL,
            count INTEGER NOT NULL CHECK (count >= 0),
            PRIMARY KEY (merchant_id, status)
        ) WITHOUT ROWID;
        INSERT INTO return_status_count (merchant_id, status, count)
            SELECT merchant_id, status, count(*) FROM returns WHERE merchant_id IS NOT NULL
            GROUP BY merchant_id, status
        """,
    )
    # One statement each: their bodies hold the ";\n" that _execute_all splits on.
    db.execute("""CREATE TRIGGER return_status_count_insert AFTER INSERT ON returns
        WHEN NEW.merchant_id IS NOT NULL
        BEGIN INSERT INTO return_status_count (merchant_id, status, count)
            VALUES (NEW.merchant_id, NEW.status, 1)
            ON CONFLICT (merchant_id, status) DO UPDATE SET count = count + 1; END""")
    db.execute("""CREATE TRIGGER return_status_count_update AFTER UPDATE OF merchant_id, status
        ON returns WHEN OLD.merchant_id IS NOT NEW.merchant_id OR OLD.status IS NOT NEW.status
        BEGIN
            UPDATE return_status_count SET count = count - 1
                WHERE merchant_id = OLD.merchant_id AND status = OLD.status;
            INSERT INTO return_status_count (merchant_id, status, count)
                SELECT NEW.merchant_id, NEW.status, 1 WHERE NEW.merchant_id IS NOT NULL
                ON CONFLICT (merchant_id, status) DO UPDATE SET count = count + 1;
        END""")
    db.execute("""CREATE TRIGGER return_status_count_delete AFTER DELETE ON returns
        BEGIN UPDATE return_status_count SET count = count - 1
            WHERE merchant_id = OLD.merchant_id AND status = OLD.status; END""")

# What a customer's order page and the API's order show, beyond the order's own row: each change
# to these bumps the order's version (page_cache.py keys rendered pages by it). The expression
# finds the order a row belongs to; {row} is NEW or OLD.
ORDER_VERSIONED = {
    "order_line": "{row}.order_id",
    "returns": "{row}.order_id",
    "return_item": "(SELECT order_id FROM returns WHERE id = {row}.return_id)",
    "refund": "{row}.order_id",
    "payment": "{row}.order_id",
    "ledger_entry": "{row}.order_id",
}

# Speed: README.md's speed machinery table, row "order versions and kept pages".
def m008_order_versions(db: Database) -> None:
    """A version per order, bumped by triggers whoever changes what its pages show, so a page
    rendered once can be served again until something it shows has changed."""
    db.execute("""CREATE TABLE order_version (
        order_id INTEGER PRIMARY KEY REFERENCES orders(id),
        version INTEGER NOT NULL
    )""")
    for table, order_of in ORDER_VERSIONED.items():
        for action, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            db.execute(f"""CREATE TRIGGER {table}_{action.lower()}_order_version
                AFTER {action} ON {table} BEGIN
                INSERT INTO order_version (order_id, version)
                    SELECT id, 1 FROM (SELECT {order_of.format(row=row)} AS id) WHERE id NOT NULL
                    ON CONFLICT (order_id) DO UPDATE SET version = version + 1; END""")

# Speed: README.md's speed machinery table, row "stuck_candidate".
def m009_queue_speed(db: Database) -> None:
    """The stuck queue read, on every view, every unfinished refund and every sent return past
    a date, joined to their returns, refunds and ledger (13 ms twice per page at 1,000,000
    orders, growing with the backlog). stuck_candidate holds just what the ranking needs, one
    small row per live item, kept by triggers on every table a rule reads; its two partial
    indexes are in the queue's order, so a page reads only its own rows and each reason's
    count is one short index range."""
    execute_all(
        db,
        f"""
        CREATE VIEW stuck_refund_source AS {STUCK_REFUND_SOURCE};
        CREATE VIEW stuck_return_source AS {STUCK_RETURN_SOURCE};
        CREATE TABLE stuck_candidate (
            kind INTEGER NOT NULL CHECK (kind IN (0, 1)),
            item_id INTEGER NOT NULL,
            order_id INTEGER NOT NULL REFERENCES orders(id),
            deadline TEXT,
            deadline_since TEXT,
            slow_code TEXT CHECK (slow_code IN ('failed', 'unknown_over_1_hour',
                'needs_details_over_3_days', 'not_registered_14_days_after_sent')),
            slow_since TEXT,
            PRIMARY KEY (kind, item_id)
        ) WITHOUT ROWID;
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
    # item_id is a refund's id (kind 0) or a return's (kind 1): no one foreign key can say
    # that, so the delete triggers below remove a row whose refund or return goes.
    unfinished_of_return = "SELECT id FROM refund WHERE return_id = {} AND status != 'succeeded'"
    triggers = {
        "refund_insert AFTER INSERT ON refund":
            refresh_stuck("refund", "NEW.id") + refresh_stuck("return", "NEW.return_id"),
        "refund_update AFTER UPDATE OF status, status_changed_at, unknown_since, created_at,"
        " return_id, order_id ON refund":
            refresh_stuck("refund", "OLD.id, NEW.id")
            + refresh_stuck("return", "OLD.return_id, NEW.return_id"),
        "refund_delete AFTER DELETE ON refund":
            refresh_stuck("refund", "OLD.id") + refresh_stuck("return", "OLD.return_id"),
        "returns_insert AFTER INSERT ON returns": refresh_stuck("return", "NEW.id"),
        "returns_update AFTER UPDATE OF status, sent_at, refund_due_by, reported_at, order_id"
        " ON returns":
            refresh_stuck("return", "OLD.id, NEW.id")
            + refresh_stuck("refund", unfinished_of_return.format("NEW.id")),
        "returns_delete AFTER DELETE ON returns":
            refresh_stuck("return", "OLD.id")
            + refresh_stuck("refund", unfinished_of_return.format("OLD.id")),
        "payment_insert AFTER INSERT ON ledger_entry WHEN NEW.kind = 'payment'":
            refresh_stuck("return", "SELECT id FROM returns WHERE order_id = NEW.order_id"
                                     " AND status IN ('sent', 'received')"),
    }
    for head, body in triggers.items():
        db.execute(f"CREATE TRIGGER stuck_candidate_{head} BEGIN {body} END")


def m023_unread_queue_indexes(db: Database) -> None:
    """The indexes m005 and m007 made for the stuck queue's SQL over refunds and returns (and
    m018's for objected refunds): since m009 the queue reads stuck_candidate, and no page, job
    or trigger reads these any more (only stuck_items, the rules in Python that the tests hold
    the queue to, on their small databases). At 1,000,000 orders they bought nothing and every
    write to a return or refund kept them (README, "What each piece of speed machinery
    buys"; docs/decisions.md has the figures)."""
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


# In the order they apply.
MIGRATIONS = (
    m007_hot_indexes,
    m008_order_versions,
    m009_queue_speed,
)
