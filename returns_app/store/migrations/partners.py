"""Webhooks (m004), the support console (m005) and notifications (m006)."""

from __future__ import annotations

from ..db import Database
from .helpers import append_only, execute_all


def m004_webhooks(db: Database) -> None:
    """The merchant's signing secret sits beside its webhook URL (m001). HMAC needs the secret
    itself, so it is stored as it is, shown once and never logged. One webhook_message per event
    (the audit_event it came from) and per outbox row; one webhook_delivery per HTTP attempt."""
    execute_all(
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
    append_only(db, "webhook_delivery")

# Its refund_unknown_since, returns_status_sent_at and returns_status_refund_due_by bought
# nothing once m009 came, and m023 dropped them (README.md's speed machinery table).
def m005_support(db: Database) -> None:
    """The support console: who signs in with what, second-person approvals, invoice holds, and
    what the stuck queue needs to find every stuck refund through an index.

    `unknown_since` is kept by triggers, whoever moves a refund: each retry of the worker takes an
    unknown refund through sending and back, which resets status_changed_at, while support needs
    to know when its outcome FIRST became unknown. `payout_round` makes a new idempotency key
    when support retries a declined payout (the provider would replay the decline otherwise)."""
    execute_all(
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

def m006_notifications(db: Database) -> None:
    """Emails as rows written in the transaction of the change that causes them, and the
    reminder scan's decisions, so a reminder is weighed once per kind, order and day."""
    execute_all(
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


# In the order they apply.
MIGRATIONS = (
    m004_webhooks,
    m005_support,
    m006_notifications,
)
