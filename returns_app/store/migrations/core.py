"""The first schema: customers, merchants, orders and returns (m001); money: payments,
refunds and the append-only ledger (m002); the merchant portal (m003)."""

from __future__ import annotations

from ..db import Database
from .helpers import append_only, execute_all


def m001_core(db: Database) -> None:
    execute_all(
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
    append_only(db, "ledger_entry")
    append_only(db, "audit_event")

def m002_money(db: Database) -> None:
    execute_all(
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

# Speed: README.md's speed machinery table, row "returns.merchant_id" (its two checks are
# integrity: a wrong copy would show a return to another shop).
def m003_merchant_portal(db: Database) -> None:
    """The merchant's inbox reads returns by merchant without touching orders.

    SQLite can't add a NOT NULL foreign-key column to a table with rows, and rebuilding
    `returns` would mean switching foreign keys off: so the column is backfilled here and kept
    filled and right by triggers, whoever inserts (the app, a bulk load, a benchmark).
    """
    execute_all(
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


# In the order they apply.
MIGRATIONS = (
    m001_core,
    m002_money,
    m003_merchant_portal,
)
