"""Money in from the bank (m012), slow partners (m014), REPLACE refused on append-only tables
(m013) and the customer's own bank account (m015)."""

from __future__ import annotations

from ..db import Database
from .helpers import execute_all, refuse_replace
from .stuck_sources import (
    STUCK_REFUND_SOURCE_M014,
    STUCK_UNMATCHED_SOURCE,
    refresh_stuck,
)


# stuck_candidate's rebuild and triggers are speed: README.md's speed machinery table,
# row "stuck_candidate".
def m012_bank_payments(db: Database) -> None:
    """Money in from the bank: each imported file, and each payment in it once ever (UNIQUE on
    the bank's own booking reference), booked to an order or left unmatched for support.
    stuck_candidate is rebuilt (a derived table, refilled from its views) to take a third kind
    of item, an unmatched payment, which belongs to no order."""
    execute_all(
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
        CREATE VIEW stuck_unmatched_source AS {STUCK_UNMATCHED_SOURCE};
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

# stuck_candidate's rebuild is speed: README.md's speed machinery table, row "stuck_candidate".
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

    execute_all(
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
    execute_all(
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
        CREATE VIEW stuck_refund_source AS {STUCK_REFUND_SOURCE_M014};
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
        + refresh_stuck("refund", "OLD.id, NEW.id")
        + refresh_stuck("return", "OLD.return_id, NEW.return_id") + " END")

def m013_append_only_against_replace(db: Database) -> None:
    """The append-only tables made before `append_only` refused REPLACE too."""
    for table in ("ledger_entry", "audit_event", "webhook_delivery"):
        refuse_replace(db, table)

def m015_bank_accounts(db: Database) -> None:
    """A customer links a bank account and confirms a direct-debit mandate in their language
    before any debit is scheduled; the mandate keeps its exact wording and time. A declined
    debit is tried again (debit_tries, the next try's day in scheduled_for)."""
    execute_all(
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


# In the order they apply.
MIGRATIONS = (
    m012_bank_payments,
    m014_partners,
    m013_append_only_against_replace,
    m015_bank_accounts,
)
