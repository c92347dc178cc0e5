"""The one way into the database: connections, the write transaction, and the schema.

Every other module receives a ``Database`` from here and never opens one itself.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import sqlite_utils

# Other modules name the type through here, so this stays the only importer of sqlite_utils.
Database = sqlite_utils.Database

BUSY_TIMEOUT_MS = 5000
T = TypeVar("T")


def connect(path: str | Path) -> Database:
    """Open a connection with the pragmas every connection needs.

    ``isolation_level=None`` stops the sqlite3 module from opening transactions behind our back:
    the only transactions are the explicit ones in ``write_transaction`` and sqlite-utils' own.
    """
    memory = str(path) == ":memory:"
    conn = sqlite3.connect(
        str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    if not memory:
        conn.execute("PRAGMA journal_mode=WAL")
    # FULL: a customer told "paid" stays paid after a power cut, even in WAL mode.
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    # A worker keeps its connection (database_session.py): reads through a memory map and a
    # 32 MB page cache instead of a system call per page, at a million orders 7 % of a page.
    conn.execute("PRAGMA mmap_size=1073741824")
    conn.execute("PRAGMA cache_size=-32000")
    return Database(conn)


class KeptConnections(threading.local):
    """One connection per thread and process, opened on first use and handed out again after:
    opening costs more than an indexed read, and a kept connection keeps its page cache warm.
    Opened anew in a forked child (SQLite connections must not cross a fork) and for another
    path."""

    def __init__(self, open_connection: Callable[[str], T]):
        self._open = open_connection
        self._owner: tuple[int, str] | None = None
        self._connection: T | None = None

    def get(self, path: str) -> T:
        owner = (os.getpid(), path)
        if self._owner != owner:
            self._connection, self._owner = self._open(path), owner
        return self._connection


@contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """Run a read-then-write unit of work atomically.

    BEGIN IMMEDIATE takes the write lock before the first read, so two processes can't both read
    the old state and both write (a plain deferred BEGIN loses updates or fails with "locked" under
    concurrency; see docs/decisions.md). sqlite-utils table methods called inside use savepoints.
    """
    if db.conn.in_transaction:
        raise RuntimeError("write_transaction does not nest; pass the open transaction down")
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
        db.conn.execute("COMMIT")
    except BaseException:
        # Also when COMMIT itself failed (a deferred foreign key, a full disk, SQLITE_BUSY):
        # the transaction is still open then, and a kept connection would carry it into the
        # next request.
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise


def select(db: Database, sql: str, params=()) -> list[dict]:
    """The rows of a read as dicts.

    Not ``db.query``: that wraps every statement in a SAVEPOINT and a RELEASE, three round
    trips where a read needs one, and hot pages run dozens of reads.
    """
    cursor = db.conn.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def insert(db: Database, table: str, row: dict) -> int:
    """Insert one row; its id.

    Not ``db[table].insert``: it asks sqlite_master whether the table is a view, twice per
    row, and a reported return writes four rows while holding the write lock.
    """
    columns = ", ".join(row)
    marks = ", ".join("?" * len(row))
    return db.conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                           list(row.values())).lastrowid


def select_one(db: Database, sql: str, params=()) -> dict | None:
    """The first row of a read as a dict, or None when there is none."""
    found = select(db, sql, params)
    return found[0] if found else None


# ---------------------------------------------------------------------------------------------
# Migrations: numbered functions, applied in order, each once, each in its own transaction.
# ---------------------------------------------------------------------------------------------

MIGRATIONS: list[Callable[[Database], None]] = []


def migration(fn: Callable[[Database], None]):
    MIGRATIONS.append(fn)
    return fn


def _execute_all(db: Database, script: str) -> None:
    # Not executescript(): it COMMITs first, which would split a migration across transactions.
    for statement in script.split(";\n"):
        if statement.strip():
            db.execute(statement)


def _append_only(db: Database, table: str) -> None:
    # Money and audit history are corrected by new rows, never rewritten.
    for action in ("UPDATE", "DELETE"):
        db.execute(
            f"""CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"""
        )
    _refuse_replace(db, table)


def _refuse_replace(db: Database, table: str) -> None:
    """REPLACE (and INSERT OR REPLACE) deletes the row it collides with, and SQLite fires DELETE
    triggers for that only when the connection has recursive triggers on. sqlite-utils turns
    them on for ours, but the sqlite3 shell, a backup script or any plain connection doesn't, and
    there `REPLACE INTO ledger_entry` rewrote history. So the table refuses, on every connection,
    an insert that collides with a row on its id or on any UNIQUE key (read from the schema, not
    copied here); a plain INSERT that collides fails as it did, with this message instead."""
    keys = [["id"]]
    for _, index, unique, _, partial in db.execute(f"PRAGMA index_list({table})").fetchall():
        if unique and not partial:
            keys.append([row[2] for row in db.execute(f"PRAGMA index_info({index})")])
    collides = " OR ".join(
        f"EXISTS (SELECT 1 FROM {table} WHERE "
        + " AND ".join(f"{column} = NEW.{column}" for column in key) + ")" for key in keys)
    db.execute(f"""CREATE TRIGGER IF NOT EXISTS {table}_no_replace BEFORE INSERT ON {table}
        WHEN {collides} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""")


@migration
def m001_core(db: Database) -> None:
    _execute_all(
        db,
        """
        CREATE TABLE merchant (
            id INTEGER PRIMARY KEY,
            slug TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            webhook_url TEXT,
            created_at TEXT NOT NULL
        );
        CREATE TABLE merchant_api_key (
            id INTEGER PRIMARY KEY,
            merchant_id INTEGER NOT NULL REFERENCES merchant(id),
            prefix TEXT NOT NULL,
            key_hash TEXT NOT NULL UNIQUE,
            label TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            revoked_at TEXT
        );
        CREATE TABLE merchant_user (
            id INTEGER PRIMARY KEY,
            merchant_id INTEGER NOT NULL REFERENCES merchant(id),
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            name TEXT NOT NULL DEFAULT '',
            password_hash TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE support_user (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            password_hash TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE customer (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            name TEXT NOT NULL,
            password_hash TEXT,
            bank_account_masked TEXT,
            uses_app INTEGER NOT NULL DEFAULT 0 CHECK (uses_app IN (0, 1)),
            language TEXT NOT NULL DEFAULT 'sv' CHECK (language IN ('sv', 'en')),
            created_at TEXT NOT NULL
        );
        CREATE TABLE instructions_version (
            id INTEGER PRIMARY KEY,
            merchant_id INTEGER NOT NULL REFERENCES merchant(id),
            version INTEGER NOT NULL CHECK (version > 0),
            language TEXT NOT NULL CHECK (language IN ('sv', 'en')),
            source TEXT NOT NULL,
            html TEXT NOT NULL,
            return_window_days INTEGER NOT NULL CHECK (return_window_days >= 14),
            days_to_send INTEGER NOT NULL CHECK (days_to_send > 0),
            send_methods TEXT NOT NULL,
            return_address TEXT NOT NULL,
            non_returnable TEXT NOT NULL DEFAULT '[]',
            content_hash TEXT NOT NULL,
            published_by TEXT NOT NULL,
            published_at TEXT NOT NULL,
            UNIQUE (merchant_id, version)
        );
        CREATE TABLE orders (
            id INTEGER PRIMARY KEY,
            merchant_id INTEGER NOT NULL REFERENCES merchant(id),
            customer_id INTEGER NOT NULL REFERENCES customer(id),
            order_number TEXT NOT NULL UNIQUE,
            merchant_reference TEXT NOT NULL,
            currency TEXT NOT NULL CHECK (length(currency) = 3),
            payment_method TEXT NOT NULL CHECK (payment_method IN ('invoice', 'card')),
            purchased_at TEXT NOT NULL,
            delivered_at TEXT,
            due_date TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (merchant_id, merchant_reference)
        );
        CREATE INDEX orders_customer ON orders(customer_id);
        CREATE TABLE order_line (
            id INTEGER PRIMARY KEY,
            order_id INTEGER NOT NULL REFERENCES orders(id),
            position INTEGER NOT NULL,
            sku TEXT NOT NULL,
            name TEXT NOT NULL,
            quantity INTEGER NOT NULL CHECK (quantity > 0),
            unit_price_minor INTEGER NOT NULL CHECK (unit_price_minor >= 0),
            returnable INTEGER NOT NULL DEFAULT 1 CHECK (returnable IN (0, 1)),
            non_returnable_reason TEXT,
            UNIQUE (order_id, position)
        );
        CREATE TABLE returns (
            id INTEGER PRIMARY KEY,
            order_id INTEGER NOT NULL REFERENCES orders(id),
            status TEXT NOT NULL CHECK (status IN
                ('reported', 'sent', 'received', 'resolved', 'cancelled', 'expired')),
            instructions_version_id INTEGER REFERENCES instructions_version(id),
            reported_at TEXT NOT NULL,
            send_by TEXT NOT NULL,
            refund_due_by TEXT NOT NULL,
            sent_at TEXT,
            tracking_number TEXT,
            received_at TEXT,
            resolved_at TEXT,
            cancelled_at TEXT,
            expired_at TEXT
        );
        CREATE INDEX returns_order ON returns(order_id);
        CREATE INDEX returns_status ON returns(status);
        CREATE TABLE return_item (
            id INTEGER PRIMARY KEY,
            return_id INTEGER NOT NULL REFERENCES returns(id),
            order_line_id INTEGER NOT NULL REFERENCES order_line(id),
            quantity INTEGER NOT NULL CHECK (quantity > 0),
            reason TEXT NOT NULL,
            comment TEXT NOT NULL DEFAULT '',
            received_quantity INTEGER NOT NULL DEFAULT 0 CHECK (received_quantity >= 0),
            accepted_quantity INTEGER NOT NULL DEFAULT 0 CHECK (accepted_quantity >= 0),
            rejected_quantity INTEGER NOT NULL DEFAULT 0 CHECK (rejected_quantity >= 0),
            decision_reason TEXT,
            CHECK (accepted_quantity + rejected_quantity <= quantity),
            UNIQUE (return_id, order_line_id)
        );
        CREATE INDEX return_item_line ON return_item(order_line_id);
        CREATE TABLE ledger_entry (
            id INTEGER PRIMARY KEY,
            order_id INTEGER NOT NULL REFERENCES orders(id),
            kind TEXT NOT NULL CHECK (kind IN ('charge', 'credit', 'payment', 'refund')),
            amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
            idempotency_key TEXT NOT NULL,
            memo TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            UNIQUE (order_id, kind, idempotency_key)
        );
        CREATE TABLE customer_token (
            id INTEGER PRIMARY KEY,
            customer_id INTEGER NOT NULL REFERENCES customer(id),
            order_id INTEGER REFERENCES orders(id),
            token_hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        );
        CREATE TABLE lookup_attempt (
            id INTEGER PRIMARY KEY,
            bucket TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX lookup_attempt_bucket ON lookup_attempt(bucket, at);
        CREATE TABLE audit_event (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            subject_kind TEXT NOT NULL,
            subject_id INTEGER NOT NULL,
            before_json TEXT,
            after_json TEXT,
            why TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX audit_event_subject ON audit_event(subject_kind, subject_id);
        """
    )
    _append_only(db, "ledger_entry")
    _append_only(db, "audit_event")


@migration
def m002_money(db: Database) -> None:
    _execute_all(
        db,
        """
        ALTER TABLE customer ADD COLUMN bank_account_json TEXT;
        ALTER TABLE return_item ADD COLUMN decided_at TEXT;
        CREATE TABLE payment (
            id INTEGER PRIMARY KEY,
            order_id INTEGER NOT NULL REFERENCES orders(id),
            amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
            method TEXT NOT NULL CHECK (method IN ('card', 'bank_account', 'bank_transfer')),
            status TEXT NOT NULL CHECK (status IN
                ('pending', 'scheduled', 'succeeded', 'failed', 'cancelled')),
            idempotency_key TEXT NOT NULL,
            provider_ref TEXT,
            provider_payment_id TEXT,
            card_last4 TEXT,
            checkout_url TEXT,
            scheduled_for TEXT,
            settled_amount_minor INTEGER CHECK (settled_amount_minor > 0),
            failure_reason TEXT,
            created_at TEXT NOT NULL,
            settled_at TEXT,
            UNIQUE (order_id, idempotency_key)
        );
        CREATE INDEX payment_order ON payment(order_id);
        CREATE INDEX payment_provider_ref ON payment(provider_ref);
        CREATE TABLE refund (
            id INTEGER PRIMARY KEY,
            order_id INTEGER NOT NULL REFERENCES orders(id),
            amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
            status TEXT NOT NULL CHECK (status IN
                ('needs_details', 'ready', 'sending', 'succeeded', 'failed', 'unknown')),
            destination_kind TEXT CHECK (destination_kind IN
                ('card', 'bank_account', 'iban', 'swish')),
            destination_json TEXT,
            destination_masked TEXT,
            reason TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            provider_payout_id TEXT,
            last_error TEXT,
            created_at TEXT NOT NULL,
            status_changed_at TEXT NOT NULL,
            succeeded_at TEXT
        );
        CREATE INDEX refund_order ON refund(order_id);
        CREATE INDEX refund_status ON refund(status, status_changed_at);
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            subject_id INTEGER NOT NULL,
            payload TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            available_at TEXT NOT NULL,
            lease_owner TEXT,
            lease_expires_at TEXT,
            last_error TEXT,
            created_at TEXT NOT NULL,
            done_at TEXT
        );
        CREATE INDEX outbox_ready ON outbox(status, available_at);
        CREATE TABLE idempotency_record (
            id INTEGER PRIMARY KEY,
            scope TEXT NOT NULL,
            key TEXT NOT NULL,
            request_hash TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('in_flight', 'done')),
            response_status INTEGER,
            response_body TEXT,
            created_at TEXT NOT NULL,
            completed_at TEXT,
            UNIQUE (scope, key)
        );
        """,
    )


@migration
def m003_merchant_portal(db: Database) -> None:
    """The merchant's inbox reads returns by merchant without touching orders.

    SQLite can't add a NOT NULL foreign-key column to a table with rows, and rebuilding
    `returns` would mean switching foreign keys off: so the column is backfilled here and kept
    filled and right by triggers, whoever inserts (the app, a bulk load, a benchmark).
    """
    _execute_all(
        db,
        """
        ALTER TABLE returns ADD COLUMN merchant_id INTEGER REFERENCES merchant(id);
        UPDATE returns SET merchant_id =
            (SELECT merchant_id FROM orders WHERE orders.id = returns.order_id);
        CREATE TRIGGER returns_merchant_id_fill AFTER INSERT ON returns
            WHEN NEW.merchant_id IS NULL
            BEGIN UPDATE returns SET merchant_id =
                (SELECT merchant_id FROM orders WHERE orders.id = NEW.order_id)
                WHERE id = NEW.id; END;
        CREATE TRIGGER returns_merchant_id_insert BEFORE INSERT ON returns
            WHEN NEW.merchant_id IS NOT NULL AND NEW.merchant_id IS NOT
                (SELECT merchant_id FROM orders WHERE orders.id = NEW.order_id)
            BEGIN SELECT RAISE(ABORT, 'returns.merchant_id must be the order''s merchant'); END;
        CREATE TRIGGER returns_merchant_id_update BEFORE UPDATE OF merchant_id, order_id
            ON returns
            WHEN NEW.merchant_id IS NOT
                (SELECT merchant_id FROM orders WHERE orders.id = NEW.order_id)
            BEGIN SELECT RAISE(ABORT, 'returns.merchant_id must be the order''s merchant'); END;
        CREATE INDEX returns_merchant_status ON returns(merchant_id, status, reported_at);
        CREATE INDEX returns_merchant_reported ON returns(merchant_id, reported_at);
        CREATE INDEX returns_merchant_open_due ON returns(merchant_id, refund_due_by)
            WHERE status IN ('reported', 'sent', 'received');
        ALTER TABLE merchant_api_key ADD COLUMN last_used_at TEXT;
        CREATE INDEX merchant_api_key_merchant ON merchant_api_key(merchant_id);
        CREATE INDEX merchant_user_merchant ON merchant_user(merchant_id);
        """,
    )


@migration
def m004_webhooks(db: Database) -> None:
    """The merchant's signing secret sits beside its webhook URL (m001). HMAC needs the secret
    itself, so it is stored as it is, shown once and never logged. One webhook_message per event
    (the audit_event it came from) and per outbox row; one webhook_delivery per HTTP attempt."""
    _execute_all(
        db,
        """
        ALTER TABLE merchant ADD COLUMN webhook_secret TEXT;
        ALTER TABLE merchant ADD COLUMN webhook_secret_created_at TEXT;
        CREATE TABLE webhook_message (
            id INTEGER PRIMARY KEY,
            merchant_id INTEGER NOT NULL REFERENCES merchant(id),
            event_id INTEGER NOT NULL UNIQUE REFERENCES audit_event(id),
            outbox_id INTEGER NOT NULL UNIQUE REFERENCES outbox(id),
            event_type TEXT NOT NULL,
            subject_kind TEXT NOT NULL,
            subject_id INTEGER NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX webhook_message_merchant ON webhook_message(merchant_id, id);
        CREATE UNIQUE INDEX outbox_webhook_event ON outbox(subject_id) WHERE kind = 'webhook';
        CREATE TABLE webhook_delivery (
            id INTEGER PRIMARY KEY,
            outbox_id INTEGER NOT NULL REFERENCES outbox(id),
            attempt INTEGER NOT NULL CHECK (attempt > 0),
            url TEXT NOT NULL,
            http_status INTEGER,
            error TEXT,
            duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0),
            response_excerpt TEXT NOT NULL DEFAULT '',
            at TEXT NOT NULL,
            CHECK ((http_status IS NULL) <> (error IS NULL)),
            UNIQUE (outbox_id, attempt)
        );
        """,
    )
    _append_only(db, "webhook_delivery")


@migration
def m005_support(db: Database) -> None:
    """The support console: who signs in with what, second-person approvals, invoice holds, and
    what the stuck queue needs to find every stuck refund through an index.

    `unknown_since` is kept by triggers, whoever moves a refund: each retry of the worker takes an
    unknown refund through sending and back, which resets status_changed_at, while support needs
    to know when its outcome FIRST became unknown. `payout_round` makes a new idempotency key
    when support retries a declined payout (the provider would replay the decline otherwise)."""
    _execute_all(
        db,
        """
        ALTER TABLE refund ADD COLUMN return_id INTEGER REFERENCES returns(id);
        ALTER TABLE refund ADD COLUMN unknown_since TEXT;
        ALTER TABLE refund ADD COLUMN payout_round INTEGER NOT NULL DEFAULT 0
            CHECK (payout_round >= 0);
        ALTER TABLE orders ADD COLUMN on_hold_until TEXT;
        CREATE TABLE support_token (
            id INTEGER PRIMARY KEY,
            support_user_id INTEGER NOT NULL REFERENCES support_user(id),
            token_hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        );
        CREATE TABLE support_approval (
            id INTEGER PRIMARY KEY,
            refund_id INTEGER NOT NULL REFERENCES refund(id),
            action TEXT NOT NULL CHECK (action IN ('mark_paid_outside')),
            amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
            reference TEXT NOT NULL,
            why TEXT NOT NULL,
            requested_by INTEGER NOT NULL REFERENCES support_user(id),
            requested_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'approved', 'declined')),
            decided_by INTEGER REFERENCES support_user(id),
            decided_at TEXT,
            decision_why TEXT,
            CHECK (decided_by IS NULL OR decided_by != requested_by)
        );
        CREATE UNIQUE INDEX support_approval_one_pending ON support_approval(refund_id)
            WHERE status = 'pending';
        CREATE INDEX support_approval_status ON support_approval(status, requested_at);
        CREATE INDEX refund_return ON refund(return_id);
        CREATE INDEX refund_unknown_since ON refund(unknown_since)
            WHERE unknown_since IS NOT NULL;
        CREATE INDEX refund_succeeded_at ON refund(succeeded_at)
            WHERE succeeded_at IS NOT NULL;
        CREATE INDEX returns_status_sent_at ON returns(status, sent_at);
        CREATE INDEX returns_status_refund_due_by ON returns(status, refund_due_by);
        CREATE INDEX outbox_subject ON outbox(kind, subject_id, status);
        CREATE TRIGGER refund_unknown_since_set AFTER UPDATE OF status ON refund
        WHEN NEW.status = 'unknown' AND NEW.unknown_since IS NULL
        BEGIN UPDATE refund SET unknown_since = NEW.status_changed_at WHERE id = NEW.id; END;
        CREATE TRIGGER refund_unknown_since_clear AFTER UPDATE OF status ON refund
        WHEN NEW.status NOT IN ('unknown', 'sending') AND NEW.unknown_since IS NOT NULL
        BEGIN UPDATE refund SET unknown_since = NULL WHERE id = NEW.id; END;
        UPDATE refund SET unknown_since = status_changed_at WHERE status = 'unknown';
        UPDATE refund SET return_id = (SELECT returns.id FROM returns
            WHERE returns.order_id = refund.order_id
            AND refund.reason = 'Return ' || returns.id || ': items accepted')
        WHERE reason LIKE 'Return %: items accepted'
        """,
    )


@migration
def m006_notifications(db: Database) -> None:
    """Emails as rows written in the transaction of the change that causes them, and the
    reminder scan's decisions, so a reminder is weighed once per kind, order and day."""
    _execute_all(
        db,
        """
        ALTER TABLE customer ADD COLUMN reminder_channel TEXT NOT NULL DEFAULT 'email'
            CHECK (reminder_channel IN ('email', 'sms', 'none'));
        CREATE TABLE notification (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            dedupe_key TEXT NOT NULL UNIQUE,
            customer_id INTEGER REFERENCES customer(id),
            merchant_user_id INTEGER REFERENCES merchant_user(id),
            order_id INTEGER REFERENCES orders(id),
            return_id INTEGER REFERENCES returns(id),
            refund_id INTEGER REFERENCES refund(id),
            payment_id INTEGER REFERENCES payment(id),
            recipient TEXT NOT NULL,
            language TEXT NOT NULL CHECK (language IN ('sv', 'en')),
            facts TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'sent', 'failed', 'withdrawn')),
            subject TEXT,
            body_text TEXT,
            body_html TEXT,
            message_id TEXT UNIQUE,
            last_error TEXT,
            created_at TEXT NOT NULL,
            rendered_at TEXT,
            sent_at TEXT,
            CHECK (customer_id IS NOT NULL OR merchant_user_id IS NOT NULL)
        );
        CREATE INDEX notification_order ON notification(order_id);
        CREATE TABLE reminder_decision (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            order_id INTEGER NOT NULL REFERENCES orders(id),
            day TEXT NOT NULL,
            outcome TEXT NOT NULL,
            notification_id INTEGER REFERENCES notification(id),
            decided_at TEXT NOT NULL,
            UNIQUE (kind, order_id, day)
        );
        CREATE INDEX orders_due_date ON orders(due_date) WHERE due_date IS NOT NULL;
        CREATE INDEX returns_reported_send_by ON returns(send_by) WHERE status = 'reported';
        """,
    )


def pending_migrations(db: Database) -> list[str]:
    """The migrations this code has that the database has not applied (readiness: a new version
    started before `flask migrate` ran)."""
    exists = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table'"
                        " AND name = '_migrations'").fetchone()
    applied = {row[0] for row in db.execute("SELECT name FROM _migrations")} if exists else set()
    return [fn.__name__ for fn in MIGRATIONS if fn.__name__ not in applied]


def migrate(db: Database) -> list[str]:
    """Apply every migration not yet applied; return the names applied now."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    applied = {row[0] for row in db.execute("SELECT name FROM _migrations").fetchall()}
    done = []
    for fn in MIGRATIONS:
        if fn.__name__ in applied:
            continue
        with write_transaction(db):
            fn(db)
            db.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, datetime('now'))",
                [fn.__name__],
            )
        done.append(fn.__name__)
    return done


@migration
def m007_hot_indexes(db: Database) -> None:
    """Found by tests/test_hot_queries.py and the benchmark (bench/):

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
    _execute_all(
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


@migration
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


# What the stuck queue ranks, per unfinished refund and per sent or received return, computed
# from the rows it depends on. The views are the definition; stuck_candidate is their contents
# kept by m009's triggers (a test holds the two equal). The rules' clocks are not stored: the
# queue compares these columns with the time when it is asked.
_STUCK_REFUND_SOURCE = """
    SELECT 0 AS kind, refund.id AS item_id, refund.order_id,
        returns.refund_due_by AS deadline,
        coalesce(nullif(returns.reported_at, ''), refund.created_at) AS deadline_since,
        CASE refund.status WHEN 'failed' THEN 'failed'
            WHEN 'unknown' THEN 'unknown_over_1_hour' WHEN 'sending' THEN 'unknown_over_1_hour'
            WHEN 'needs_details' THEN 'needs_details_over_3_days' END AS slow_code,
        CASE WHEN refund.status IN ('unknown', 'sending')
            THEN coalesce(refund.unknown_since, refund.status_changed_at)
            ELSE refund.status_changed_at END AS slow_since
    FROM refund LEFT JOIN returns ON returns.id = refund.return_id
    WHERE refund.status != 'succeeded'"""
_STUCK_RETURN_SOURCE = """
    SELECT 1 AS kind, returns.id AS item_id, returns.order_id,
        CASE WHEN NOT EXISTS (SELECT 1 FROM refund WHERE refund.return_id = returns.id)
            AND EXISTS (SELECT 1 FROM ledger_entry WHERE ledger_entry.order_id = returns.order_id
                        AND ledger_entry.kind = 'payment')
            THEN returns.refund_due_by END AS deadline,
        returns.reported_at AS deadline_since,
        CASE WHEN returns.status = 'sent' THEN 'not_registered_14_days_after_sent' END
            AS slow_code,
        returns.sent_at AS slow_since
    FROM returns WHERE returns.status IN ('sent', 'received')"""


def _refresh_stuck(kind: str, ids: str) -> str:
    """Trigger statements that recompute the queue's rows for the refunds or returns `ids`."""
    view, number = ("stuck_refund_source", 0) if kind == "refund" else ("stuck_return_source", 1)
    return (f"DELETE FROM stuck_candidate WHERE kind = {number} AND item_id IN ({ids});\n"
            f"INSERT INTO stuck_candidate SELECT * FROM {view} WHERE item_id IN ({ids});\n")


@migration
def m009_queue_speed(db: Database) -> None:
    """The stuck queue read, on every view, every unfinished refund and every sent return past
    a date, joined to their returns, refunds and ledger (13 ms twice per page at 1,000,000
    orders, growing with the backlog). stuck_candidate holds just what the ranking needs, one
    small row per live item, kept by triggers on every table a rule reads; its two partial
    indexes are in the queue's order, so a page reads only its own rows and each reason's
    count is one short index range."""
    _execute_all(
        db,
        f"""
        CREATE VIEW stuck_refund_source AS {_STUCK_REFUND_SOURCE};
        CREATE VIEW stuck_return_source AS {_STUCK_RETURN_SOURCE};
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
            _refresh_stuck("refund", "NEW.id") + _refresh_stuck("return", "NEW.return_id"),
        "refund_update AFTER UPDATE OF status, status_changed_at, unknown_since, created_at,"
        " return_id, order_id ON refund":
            _refresh_stuck("refund", "OLD.id, NEW.id")
            + _refresh_stuck("return", "OLD.return_id, NEW.return_id"),
        "refund_delete AFTER DELETE ON refund":
            _refresh_stuck("refund", "OLD.id") + _refresh_stuck("return", "OLD.return_id"),
        "returns_insert AFTER INSERT ON returns": _refresh_stuck("return", "NEW.id"),
        "returns_update AFTER UPDATE OF status, sent_at, refund_due_by, reported_at, order_id"
        " ON returns":
            _refresh_stuck("return", "OLD.id, NEW.id")
            + _refresh_stuck("refund", unfinished_of_return.format("NEW.id")),
        "returns_delete AFTER DELETE ON returns":
            _refresh_stuck("return", "OLD.id")
            + _refresh_stuck("refund", unfinished_of_return.format("OLD.id")),
        "payment_insert AFTER INSERT ON ledger_entry WHEN NEW.kind = 'payment'":
            _refresh_stuck("return", "SELECT id FROM returns WHERE order_id = NEW.order_id"
                                     " AND status IN ('sent', 'received')"),
    }
    for head, body in triggers.items():
        db.execute(f"CREATE TRIGGER stuck_candidate_{head} BEGIN {body} END")


@migration
def m010_operability(db: Database) -> None:
    """The worker's heartbeat, which readiness (/readyz) and the metrics read: one row per
    worker process, rewritten every round. And the id of the request that wrote an outbox row,
    so that the worker's log lines and provider calls for it carry the same id as the request's
    log line."""
    _execute_all(
        db,
        """
        CREATE TABLE worker_heartbeat (
            worker TEXT PRIMARY KEY,
            beat_at TEXT NOT NULL
        );
        ALTER TABLE outbox ADD COLUMN request_id TEXT
        """,
    )


@migration
def m011_disabled_users(db: Database) -> None:
    """Operators disable a staff account (cli.py) instead of deleting it: its audit rows,
    approvals and decisions keep pointing at it. A disabled account can't sign in, and the
    session loaders refuse it, so its open sessions end at their next request."""
    _execute_all(
        db,
        """
        ALTER TABLE merchant_user ADD COLUMN disabled_at TEXT;
        ALTER TABLE support_user ADD COLUMN disabled_at TEXT
        """,
    )


# An unmatched bank payment (m012) is stuck once it has waited 2 whole banking days; banking
# days need the holiday calendar, so the row keeps its booking date and the queue compares it
# with a cutoff computed in Python (services/stuck.py).
_STUCK_UNMATCHED_SOURCE = """
    SELECT 2 AS kind, bank_payment.id AS item_id, NULL AS order_id, NULL AS deadline,
        NULL AS deadline_since, 'unmatched_payment_over_2_banking_days' AS slow_code,
        bank_payment.booking_date AS slow_since
    FROM bank_payment WHERE bank_payment.status = 'unmatched'"""


@migration
def m012_bank_payments(db: Database) -> None:
    """Money in from the bank: each imported file, and each payment in it once ever (UNIQUE on
    the bank's own booking reference), booked to an order or left unmatched for support.
    stuck_candidate is rebuilt (a derived table, refilled from its views) to take a third kind
    of item, an unmatched payment, which belongs to no order."""
    _execute_all(
        db,
        f"""
        CREATE TABLE bank_file (
            id INTEGER PRIMARY KEY,
            format TEXT NOT NULL CHECK (format IN ('camt054', 'bgmax')),
            file_key TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            account TEXT NOT NULL,
            booked INTEGER NOT NULL CHECK (booked >= 0),
            unmatched INTEGER NOT NULL CHECK (unmatched >= 0),
            duplicates INTEGER NOT NULL CHECK (duplicates >= 0),
            imported_by TEXT NOT NULL,
            imported_at TEXT NOT NULL
        );
        CREATE INDEX bank_file_key ON bank_file(file_key);
        CREATE TABLE bank_payment (
            id INTEGER PRIMARY KEY,
            bank_file_id INTEGER NOT NULL REFERENCES bank_file(id),
            booking_key TEXT NOT NULL UNIQUE,
            amount_minor INTEGER NOT NULL CHECK (amount_minor != 0),
            currency TEXT NOT NULL CHECK (length(currency) = 3),
            reference TEXT NOT NULL DEFAULT '',
            structured INTEGER NOT NULL CHECK (structured IN (0, 1)),
            payer_name TEXT NOT NULL DEFAULT '',
            booking_date TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('booked', 'unmatched', 'to_return')),
            unmatched_reason TEXT CHECK (unmatched_reason IN ('wrong_check_digit',
                'unknown_reference', 'foreign_currency', 'no_reference', 'deduction')),
            order_id INTEGER REFERENCES orders(id),
            payment_id INTEGER REFERENCES payment(id),
            resolved_by TEXT,
            resolved_at TEXT,
            resolution_why TEXT,
            created_at TEXT NOT NULL,
            CHECK ((status = 'booked') = (payment_id IS NOT NULL))
        );
        CREATE INDEX bank_payment_open ON bank_payment(status, booking_date);
        CREATE INDEX bank_payment_order ON bank_payment(order_id);
        CREATE VIEW stuck_unmatched_source AS {_STUCK_UNMATCHED_SOURCE};
        DROP TABLE stuck_candidate;
        CREATE TABLE stuck_candidate (
            kind INTEGER NOT NULL CHECK (kind IN (0, 1, 2)),
            item_id INTEGER NOT NULL,
            order_id INTEGER REFERENCES orders(id),
            deadline TEXT,
            deadline_since TEXT,
            slow_code TEXT CHECK (slow_code IN ('failed', 'unknown_over_1_hour',
                'needs_details_over_3_days', 'not_registered_14_days_after_sent',
                'unmatched_payment_over_2_banking_days')),
            slow_since TEXT,
            PRIMARY KEY (kind, item_id),
            CHECK ((kind = 2) = (order_id IS NULL))
        ) WITHOUT ROWID;
        CREATE INDEX stuck_candidate_deadline
            ON stuck_candidate(deadline, deadline_since, kind, item_id)
            WHERE deadline IS NOT NULL;
        CREATE INDEX stuck_candidate_slow
            ON stuck_candidate(slow_code, slow_since, kind, item_id, deadline)
            WHERE slow_code IS NOT NULL;
        CREATE INDEX stuck_candidate_order ON stuck_candidate(order_id);
        INSERT INTO stuck_candidate SELECT * FROM stuck_refund_source;
        INSERT INTO stuck_candidate SELECT * FROM stuck_return_source;
        INSERT INTO stuck_candidate SELECT * FROM stuck_unmatched_source
        """,
    )
    refresh = ("DELETE FROM stuck_candidate WHERE kind = 2 AND item_id = NEW.id;\n"
               "INSERT INTO stuck_candidate SELECT * FROM stuck_unmatched_source"
               " WHERE item_id = NEW.id;\n")
    db.execute("CREATE TRIGGER stuck_candidate_bank_payment_insert AFTER INSERT ON bank_payment"
               f" BEGIN {refresh} END")
    db.execute("CREATE TRIGGER stuck_candidate_bank_payment_update AFTER UPDATE OF status,"
               f" booking_date ON bank_payment BEGIN {refresh} END")


# The stuck queue's refund rows as of m014: an unknown payout the worker stopped retrying
# quickly is "provider_not_answering" from that moment (no hour's wait), most urgent after
# "failed". m009's view stays as it was: a migration's text never changes.
_STUCK_REFUND_SOURCE_M014 = """
    SELECT 0 AS kind, refund.id AS item_id, refund.order_id,
        returns.refund_due_by AS deadline,
        coalesce(nullif(returns.reported_at, ''), refund.created_at) AS deadline_since,
        CASE WHEN refund.status = 'unknown' AND refund.provider_silent_since IS NOT NULL
                THEN 'provider_not_answering'
            WHEN refund.status = 'failed' THEN 'failed'
            WHEN refund.status IN ('unknown', 'sending') THEN 'unknown_over_1_hour'
            WHEN refund.status = 'needs_details' THEN 'needs_details_over_3_days' END
            AS slow_code,
        CASE WHEN refund.status = 'unknown' AND refund.provider_silent_since IS NOT NULL
                THEN refund.provider_silent_since
            WHEN refund.status IN ('unknown', 'sending')
                THEN coalesce(refund.unknown_since, refund.status_changed_at)
            ELSE refund.status_changed_at END AS slow_since
    FROM refund LEFT JOIN returns ON returns.id = refund.return_id
    WHERE refund.status != 'succeeded'"""


@migration
def m014_partners(db: Database) -> None:
    """Slow or broken partners.

    Webhook endpoints become rows of their own (several per merchant, each with its events,
    secret and health), moved out of the merchant row. Secrets of the old scheme (whose text was
    the HMAC key) are kept, not rotated: rewritten as "whsec_" + base64 of the old text, the
    Standard Webhooks form of the same key, so no receiver breaks at the upgrade. A message is
    one event for one endpoint.

    A payout whose outcome stays unknown after the worker's quick retries is asked about on a
    slow schedule for as long as it takes; refund.provider_silent_since marks it, and the stuck
    queue shows it at once as "provider_not_answering" (stuck_candidate rebuilt for the code)."""
    import base64  # only here: the one place old secrets are converted

    _execute_all(
        db,
        """
        CREATE TABLE webhook_endpoint (
            id INTEGER PRIMARY KEY,
            merchant_id INTEGER NOT NULL REFERENCES merchant(id),
            url TEXT NOT NULL,
            events TEXT NOT NULL,
            secret TEXT NOT NULL,
            secret_created_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'failing')),
            failing_since TEXT,
            created_at TEXT NOT NULL,
            CHECK ((status = 'failing') = (failing_since IS NOT NULL))
        );
        CREATE INDEX webhook_endpoint_merchant ON webhook_endpoint(merchant_id, id);
        CREATE TABLE webhook_message_m014 (
            id INTEGER PRIMARY KEY,
            merchant_id INTEGER NOT NULL REFERENCES merchant(id),
            endpoint_id INTEGER REFERENCES webhook_endpoint(id) ON DELETE SET NULL,
            event_id INTEGER NOT NULL REFERENCES audit_event(id),
            outbox_id INTEGER NOT NULL UNIQUE REFERENCES outbox(id),
            event_type TEXT NOT NULL,
            subject_kind TEXT NOT NULL,
            subject_id INTEGER NOT NULL,
            created_at TEXT NOT NULL
        )
        """,
    )
    for merchant_id, url, secret, created in db.execute(
            "SELECT id, webhook_url, webhook_secret, webhook_secret_created_at FROM merchant"
            " WHERE webhook_url IS NOT NULL AND webhook_secret IS NOT NULL").fetchall():
        db.execute(
            "INSERT INTO webhook_endpoint (merchant_id, url, events, secret, secret_created_at,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [merchant_id, url, '["return.reported", "return.sent", "refund.succeeded"]',
             "whsec_" + base64.b64encode(secret.encode()).decode(), created, created])
    _execute_all(
        db,
        f"""
        UPDATE merchant SET webhook_url = NULL, webhook_secret = NULL,
            webhook_secret_created_at = NULL;
        INSERT INTO webhook_message_m014 SELECT webhook_message.id, webhook_message.merchant_id,
            (SELECT min(id) FROM webhook_endpoint
             WHERE webhook_endpoint.merchant_id = webhook_message.merchant_id),
            event_id, outbox_id, event_type, subject_kind, subject_id,
            webhook_message.created_at FROM webhook_message;
        DROP TABLE webhook_message;
        ALTER TABLE webhook_message_m014 RENAME TO webhook_message;
        CREATE INDEX webhook_message_merchant ON webhook_message(merchant_id, id);
        CREATE UNIQUE INDEX webhook_message_event_endpoint
            ON webhook_message(event_id, endpoint_id);
        CREATE INDEX webhook_message_endpoint ON webhook_message(endpoint_id);
        DROP INDEX outbox_webhook_event;
        ALTER TABLE refund ADD COLUMN provider_silent_since TEXT;
        DROP TABLE stuck_candidate;
        DROP VIEW stuck_refund_source;
        CREATE VIEW stuck_refund_source AS {_STUCK_REFUND_SOURCE_M014};
        CREATE TABLE stuck_candidate (
            kind INTEGER NOT NULL CHECK (kind IN (0, 1, 2)),
            item_id INTEGER NOT NULL,
            order_id INTEGER REFERENCES orders(id),
            deadline TEXT,
            deadline_since TEXT,
            slow_code TEXT CHECK (slow_code IN ('failed', 'provider_not_answering',
                'unknown_over_1_hour', 'needs_details_over_3_days',
                'not_registered_14_days_after_sent', 'unmatched_payment_over_2_banking_days')),
            slow_since TEXT,
            PRIMARY KEY (kind, item_id),
            CHECK ((kind = 2) = (order_id IS NULL))
        ) WITHOUT ROWID;
        CREATE INDEX stuck_candidate_deadline
            ON stuck_candidate(deadline, deadline_since, kind, item_id)
            WHERE deadline IS NOT NULL;
        CREATE INDEX stuck_candidate_slow
            ON stuck_candidate(slow_code, slow_since, kind, item_id, deadline)
            WHERE slow_code IS NOT NULL;
        CREATE INDEX stuck_candidate_order ON stuck_candidate(order_id);
        INSERT INTO stuck_candidate SELECT * FROM stuck_refund_source;
        INSERT INTO stuck_candidate SELECT * FROM stuck_return_source;
        INSERT INTO stuck_candidate SELECT * FROM stuck_unmatched_source;
        DROP TRIGGER stuck_candidate_refund_update
        """,
    )
    db.execute(
        "CREATE TRIGGER stuck_candidate_refund_update AFTER UPDATE OF status, status_changed_at,"
        " unknown_since, provider_silent_since, created_at, return_id, order_id ON refund BEGIN "
        + _refresh_stuck("refund", "OLD.id, NEW.id")
        + _refresh_stuck("return", "OLD.return_id, NEW.return_id") + " END")


@migration
def m013_append_only_against_replace(db: Database) -> None:
    """The append-only tables made before `_append_only` refused REPLACE too."""
    for table in ("ledger_entry", "audit_event", "webhook_delivery"):
        _refuse_replace(db, table)


@migration
def m015_bank_accounts(db: Database) -> None:
    """A customer links a bank account and confirms a direct-debit mandate in their language
    before any debit is scheduled; the mandate keeps its exact wording and time. A declined
    debit is tried again (debit_tries, the next try's day in scheduled_for)."""
    _execute_all(
        db,
        """
        ALTER TABLE customer ADD COLUMN bank_account_linked_at TEXT;
        ALTER TABLE customer ADD COLUMN pay_on_due_date INTEGER NOT NULL DEFAULT 0
            CHECK (pay_on_due_date IN (0, 1));
        ALTER TABLE payment ADD COLUMN debit_tries INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE debit_mandate (
            id INTEGER PRIMARY KEY,
            customer_id INTEGER NOT NULL REFERENCES customer(id),
            account_masked TEXT NOT NULL,
            account_fingerprint TEXT NOT NULL,
            language TEXT NOT NULL CHECK (language IN ('sv', 'en')),
            version TEXT NOT NULL,
            wording TEXT NOT NULL,
            confirmed_at TEXT NOT NULL,
            ended_at TEXT
        );
        CREATE INDEX debit_mandate_customer ON debit_mandate(customer_id, ended_at)
        """,
    )


# The stuck queue's refund rows as of m018: a customer who objected to a destination support
# chose comes first of the slow reasons (a person must find out why), then m014's rules.
_STUCK_REFUND_SOURCE_M018 = """
    SELECT 0 AS kind, refund.id AS item_id, refund.order_id,
        returns.refund_due_by AS deadline,
        coalesce(nullif(returns.reported_at, ''), refund.created_at) AS deadline_since,
        CASE WHEN refund.objected_at IS NOT NULL THEN 'destination_objected'
            WHEN refund.status = 'unknown' AND refund.provider_silent_since IS NOT NULL
                THEN 'provider_not_answering'
            WHEN refund.status = 'failed' THEN 'failed'
            WHEN refund.status IN ('unknown', 'sending') THEN 'unknown_over_1_hour'
            WHEN refund.status = 'needs_details' THEN 'needs_details_over_3_days' END
            AS slow_code,
        CASE WHEN refund.objected_at IS NOT NULL THEN refund.objected_at
            WHEN refund.status = 'unknown' AND refund.provider_silent_since IS NOT NULL
                THEN refund.provider_silent_since
            WHEN refund.status IN ('unknown', 'sending')
                THEN coalesce(refund.unknown_since, refund.status_changed_at)
            ELSE refund.status_changed_at END AS slow_since
    FROM refund LEFT JOIN returns ON returns.id = refund.return_id
    WHERE refund.status != 'succeeded'"""


@migration
def m018_destination_approvals(db: Database) -> None:
    """No refund moves on one support agent's word. An approval is of an `action` with its
    `payload`; a change of destination carries the new destination's provider form in
    `destination_json` (as refund.destination_json: read by the code that pays, never shown)
    and the masked form in the payload, and `pays_not_before`, the end of the customer's 24
    hours to object. `refund.objected_at`: the customer stopped a change, so the refund waits
    in support's queue (reason destination_objected) until it gets a new destination. SQLite
    can't change a CHECK, so support_approval and stuck_candidate are built anew
    (stuck_candidate refilled from its views; the triggers on other tables stay)."""
    _execute_all(
        db,
        f"""
        CREATE TABLE support_approval_m018 (
            id INTEGER PRIMARY KEY,
            refund_id INTEGER NOT NULL REFERENCES refund(id),
            action TEXT NOT NULL CHECK (action IN ('mark_paid_outside', 'change_destination')),
            amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
            reference TEXT NOT NULL DEFAULT '',
            payload TEXT NOT NULL DEFAULT '{{}}' CHECK (json_valid(payload)),
            destination_json TEXT,
            pays_not_before TEXT,
            why TEXT NOT NULL,
            requested_by INTEGER NOT NULL REFERENCES support_user(id),
            requested_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'approved', 'declined', 'not_needed', 'objected')),
            decided_by INTEGER REFERENCES support_user(id),
            decided_at TEXT,
            decision_why TEXT,
            objected_at TEXT,
            CHECK (decided_by IS NULL OR decided_by != requested_by),
            CHECK (action != 'change_destination'
                   OR (destination_json IS NOT NULL AND pays_not_before IS NOT NULL))
        );
        INSERT INTO support_approval_m018 (id, refund_id, action, amount_minor, reference, why,
            requested_by, requested_at, status, decided_by, decided_at, decision_why)
            SELECT id, refund_id, action, amount_minor, reference, why, requested_by,
                requested_at, status, decided_by, decided_at, decision_why
            FROM support_approval;
        DROP TABLE support_approval;
        ALTER TABLE support_approval_m018 RENAME TO support_approval;
        CREATE UNIQUE INDEX support_approval_one_pending ON support_approval(refund_id)
            WHERE status = 'pending';
        CREATE INDEX support_approval_status ON support_approval(status, requested_at);
        CREATE INDEX support_approval_refund ON support_approval(refund_id, id);
        ALTER TABLE refund ADD COLUMN objected_at TEXT;
        CREATE INDEX refund_objected ON refund(objected_at) WHERE objected_at IS NOT NULL;
        DROP TABLE stuck_candidate;
        DROP VIEW stuck_refund_source;
        CREATE VIEW stuck_refund_source AS {_STUCK_REFUND_SOURCE_M018};
        CREATE TABLE stuck_candidate (
            kind INTEGER NOT NULL CHECK (kind IN (0, 1, 2)),
            item_id INTEGER NOT NULL,
            order_id INTEGER REFERENCES orders(id),
            deadline TEXT,
            deadline_since TEXT,
            slow_code TEXT CHECK (slow_code IN ('destination_objected', 'failed',
                'provider_not_answering', 'unknown_over_1_hour', 'needs_details_over_3_days',
                'not_registered_14_days_after_sent', 'unmatched_payment_over_2_banking_days')),
            slow_since TEXT,
            PRIMARY KEY (kind, item_id),
            CHECK ((kind = 2) = (order_id IS NULL))
        ) WITHOUT ROWID;
        CREATE INDEX stuck_candidate_deadline
            ON stuck_candidate(deadline, deadline_since, kind, item_id)
            WHERE deadline IS NOT NULL;
        CREATE INDEX stuck_candidate_slow
            ON stuck_candidate(slow_code, slow_since, kind, item_id, deadline)
            WHERE slow_code IS NOT NULL;
        CREATE INDEX stuck_candidate_order ON stuck_candidate(order_id);
        INSERT INTO stuck_candidate SELECT * FROM stuck_refund_source;
        INSERT INTO stuck_candidate SELECT * FROM stuck_return_source;
        INSERT INTO stuck_candidate SELECT * FROM stuck_unmatched_source;
        DROP TRIGGER stuck_candidate_refund_update
        """,
    )
    db.execute(
        "CREATE TRIGGER stuck_candidate_refund_update AFTER UPDATE OF status, status_changed_at,"
        " unknown_since, provider_silent_since, objected_at, created_at, return_id, order_id"
        " ON refund BEGIN "
        + _refresh_stuck("refund", "OLD.id, NEW.id")
        + _refresh_stuck("return", "OLD.return_id, NEW.return_id") + " END")


@migration
def m016_web_sessions(db: Database) -> None:
    """Signed-in sessions kept on the server (services/web_sessions.py): the cookie carries a
    random id, the row says whether it still counts, so sign-out, a password change, disabling
    a user or "sign out everywhere" end every copy of the cookie. Customer API tokens can be
    revoked (DELETE /api/v1/customer/session)."""
    _execute_all(
        db,
        """
        CREATE TABLE web_session (
            id INTEGER PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            principal_kind TEXT NOT NULL
                CHECK (principal_kind IN ('customer', 'merchant_user', 'support_user')),
            principal_id INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            idle_seconds INTEGER CHECK (idle_seconds IS NULL OR idle_seconds > 0),
            expires_at TEXT NOT NULL,
            ended_at TEXT
        );
        CREATE INDEX web_session_principal ON web_session(principal_kind, principal_id)
            WHERE ended_at IS NULL;
        ALTER TABLE customer_token ADD COLUMN revoked_at TEXT
        """,
    )


# A due-date debit whose outcome the provider hasn't told after the worker's quick retries:
# money may have left the customer's account, so a person must know (the worker keeps asking
# every few hours). Its own kind (3) of item, named by the payment.
_STUCK_DEBIT_SOURCE = """
    SELECT 3 AS kind, payment.id AS item_id, payment.order_id, NULL AS deadline,
        NULL AS deadline_since, 'debit_outcome_unknown' AS slow_code,
        payment.provider_silent_since AS slow_since
    FROM payment WHERE payment.status = 'scheduled'
        AND payment.provider_silent_since IS NOT NULL"""


@migration
def m021_unknown_debits(db: Database) -> None:
    """`payment.provider_silent_since`: set (deliveries.deliver_debit) when a debit's outcome is
    still unknown once the worker's quick retries are used up, cleared by an answer. Such a
    debit is a stuck item of its own (kind 3, reason debit_outcome_unknown); stuck_candidate is
    built anew for the new kind and reason (SQLite can't change a CHECK) and refilled from its
    views."""
    _execute_all(
        db,
        f"""
        ALTER TABLE payment ADD COLUMN provider_silent_since TEXT;
        CREATE VIEW stuck_debit_source AS {_STUCK_DEBIT_SOURCE};
        DROP TABLE stuck_candidate;
        CREATE TABLE stuck_candidate (
            kind INTEGER NOT NULL CHECK (kind IN (0, 1, 2, 3)),
            item_id INTEGER NOT NULL,
            order_id INTEGER REFERENCES orders(id),
            deadline TEXT,
            deadline_since TEXT,
            slow_code TEXT CHECK (slow_code IN ('destination_objected', 'failed',
                'provider_not_answering', 'debit_outcome_unknown', 'unknown_over_1_hour',
                'needs_details_over_3_days', 'not_registered_14_days_after_sent',
                'unmatched_payment_over_2_banking_days')),
            slow_since TEXT,
            PRIMARY KEY (kind, item_id),
            CHECK ((kind = 2) = (order_id IS NULL))
        ) WITHOUT ROWID;
        CREATE INDEX stuck_candidate_deadline
            ON stuck_candidate(deadline, deadline_since, kind, item_id)
            WHERE deadline IS NOT NULL;
        CREATE INDEX stuck_candidate_slow
            ON stuck_candidate(slow_code, slow_since, kind, item_id, deadline)
            WHERE slow_code IS NOT NULL;
        CREATE INDEX stuck_candidate_order ON stuck_candidate(order_id);
        INSERT INTO stuck_candidate SELECT * FROM stuck_refund_source;
        INSERT INTO stuck_candidate SELECT * FROM stuck_return_source;
        INSERT INTO stuck_candidate SELECT * FROM stuck_unmatched_source;
        INSERT INTO stuck_candidate SELECT * FROM stuck_debit_source
        """,
    )
    refresh = ("DELETE FROM stuck_candidate WHERE kind = 3 AND item_id = NEW.id;\n"
               "INSERT INTO stuck_candidate SELECT * FROM stuck_debit_source"
               " WHERE item_id = NEW.id;\n")
    db.execute("CREATE TRIGGER stuck_candidate_debit_update AFTER UPDATE OF status,"
               f" provider_silent_since ON payment BEGIN {refresh} END")
    # Only an update makes a debit silent; the insert trigger keeps the rows equal to the view
    # whatever writes them (a restored backup, a test), costing one index probe per payment.
    db.execute("CREATE TRIGGER stuck_candidate_debit_insert AFTER INSERT ON payment"
               " WHEN NEW.provider_silent_since IS NOT NULL"
               f" BEGIN {refresh} END")


@migration
def m017_staff_credentials(db: Database) -> None:
    """Staff credentials (services/staff_credentials.py, staff_second_factor.py): a one-time
    password must be changed at first sign-in (`must_change_password`); a reset by emailed link
    keeps only the link token's SHA-256 (`staff_password_reset`, one hour, single use); a TOTP
    second factor (`totp_secret` once confirmed, `totp_pending_secret` while enrolling,
    `totp_last_step` so a code isn't accepted twice) with single-use recovery codes kept hashed.
    Emails to support users need `notification.support_user_id`, and SQLite can't change the
    table's CHECK, so notification is built anew (its rows copied after the new table takes the
    name, so reminder_decision's references to it hold again before the commit)."""
    staff_columns = """
        ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0
            CHECK (must_change_password IN (0, 1));
        ALTER TABLE {table} ADD COLUMN password_changed_at TEXT;
        ALTER TABLE {table} ADD COLUMN totp_secret TEXT;
        ALTER TABLE {table} ADD COLUMN totp_pending_secret TEXT;
        ALTER TABLE {table} ADD COLUMN totp_enabled_at TEXT;
        ALTER TABLE {table} ADD COLUMN totp_last_step INTEGER;
        """
    for table in ("merchant_user", "support_user"):
        _execute_all(db, f"ALTER TABLE {table} " + staff_columns.format(table=table))
    # Deferred for this transaction only: the old notification rows leave before the new table
    # has them, and reminder_decision points at them in between.
    db.execute("PRAGMA defer_foreign_keys = ON")
    _execute_all(
        db,
        """
        CREATE TABLE staff_password_reset (
            id INTEGER PRIMARY KEY,
            principal_kind TEXT NOT NULL
                CHECK (principal_kind IN ('merchant_user', 'support_user')),
            principal_id INTEGER NOT NULL,
            token_hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_at TEXT
        );
        CREATE INDEX staff_password_reset_principal
            ON staff_password_reset(principal_kind, principal_id) WHERE used_at IS NULL;
        CREATE TABLE staff_recovery_code (
            id INTEGER PRIMARY KEY,
            principal_kind TEXT NOT NULL
                CHECK (principal_kind IN ('merchant_user', 'support_user')),
            principal_id INTEGER NOT NULL,
            code_hash TEXT NOT NULL,
            created_at TEXT NOT NULL,
            used_at TEXT
        );
        CREATE INDEX staff_recovery_code_principal
            ON staff_recovery_code(principal_kind, principal_id) WHERE used_at IS NULL;
        CREATE TEMP TABLE notification_m017 AS SELECT * FROM notification;
        DROP TABLE notification;
        CREATE TABLE notification (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            dedupe_key TEXT NOT NULL UNIQUE,
            customer_id INTEGER REFERENCES customer(id),
            merchant_user_id INTEGER REFERENCES merchant_user(id),
            order_id INTEGER REFERENCES orders(id),
            return_id INTEGER REFERENCES returns(id),
            refund_id INTEGER REFERENCES refund(id),
            payment_id INTEGER REFERENCES payment(id),
            recipient TEXT NOT NULL,
            language TEXT NOT NULL CHECK (language IN ('sv', 'en')),
            facts TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'sent', 'failed', 'withdrawn')),
            subject TEXT,
            body_text TEXT,
            body_html TEXT,
            message_id TEXT UNIQUE,
            last_error TEXT,
            created_at TEXT NOT NULL,
            rendered_at TEXT,
            sent_at TEXT,
            support_user_id INTEGER REFERENCES support_user(id),
            CHECK (customer_id IS NOT NULL OR merchant_user_id IS NOT NULL
                   OR support_user_id IS NOT NULL)
        );
        INSERT INTO notification SELECT *, NULL FROM temp.notification_m017;
        DROP TABLE temp.notification_m017;
        CREATE INDEX notification_order ON notification(order_id)
        """,
    )


@migration
def m020_merchant_user_language(db: Database) -> None:
    """Merchant staff choose the portal's language (and their emails'): Swedish unless they
    pick English on their account page."""
    _execute_all(
        db,
        """
        ALTER TABLE merchant_user ADD COLUMN language TEXT NOT NULL DEFAULT 'sv'
            CHECK (language IN ('sv', 'en'))
        """,
    )
