"""Two-person approvals (m018), server-side sessions (m016), unknown debits in the stuck queue
(m021), staff credentials (m017) and staff languages (m020)."""

from __future__ import annotations

from ..db import Database
from .helpers import execute_all
from .stuck_sources import (
    STUCK_DEBIT_SOURCE,
    STUCK_REFUND_SOURCE_M018,
    refresh_stuck,
)


# stuck_candidate's rebuild is speed: README.md's speed machinery table, row "stuck_candidate".
# Its refund_objected bought nothing (only stuck_items read it): m023 dropped it.
def m018_destination_approvals(db: Database) -> None:
    """No refund moves on one support agent's word. An approval is of an `action` with its
    `payload`; a change of destination carries the new destination's provider form in
    `destination_json` (as refund.destination_json: read by the code that pays, never shown)
    and the masked form in the payload, and `pays_not_before`, the end of the customer's 24
    hours to object. `refund.objected_at`: the customer stopped a change, so the refund waits
    in support's queue (reason destination_objected) until it gets a new destination. SQLite
    can't change a CHECK, so support_approval and stuck_candidate are built anew
    (stuck_candidate refilled from its views; the triggers on other tables stay)."""
    execute_all(
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
        CREATE VIEW stuck_refund_source AS {STUCK_REFUND_SOURCE_M018};
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
        + refresh_stuck("refund", "OLD.id, NEW.id")
        + refresh_stuck("return", "OLD.return_id, NEW.return_id") + " END")

def m016_web_sessions(db: Database) -> None:
    """Signed-in sessions kept on the server (services/web_sessions.py): the cookie carries a
    random id, the row says whether it still counts, so sign-out, a password change, disabling
    a user or "sign out everywhere" end every copy of the cookie. Customer API tokens can be
    revoked (DELETE /api/v1/customer/session)."""
    execute_all(
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

# stuck_candidate's rebuild and triggers are speed: README.md's speed machinery table,
# row "stuck_candidate".
def m021_unknown_debits(db: Database) -> None:
    """`payment.provider_silent_since`: set (deliveries.deliver_debit) when a debit's outcome is
    still unknown once the worker's quick retries are used up, cleared by an answer. Such a
    debit is a stuck item of its own (kind 3, reason debit_outcome_unknown); stuck_candidate is
    built anew for the new kind and reason (SQLite can't change a CHECK) and refilled from its
    views."""
    execute_all(
        db,
        f"""
        ALTER TABLE payment ADD COLUMN provider_silent_since TEXT;
        CREATE VIEW stuck_debit_source AS {STUCK_DEBIT_SOURCE};
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
        execute_all(db, f"ALTER TABLE {table} " + staff_columns.format(table=table))
    # Deferred for this transaction only: the old notification rows leave before the new table
    # has them, and reminder_decision points at them in between.
    db.execute("PRAGMA defer_foreign_keys = ON")
    execute_all(
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

def m020_merchant_user_language(db: Database) -> None:
    """Merchant staff choose the portal's language (and their emails'): Swedish unless they
    pick English on their account page."""
    execute_all(
        db,
        """
        ALTER TABLE merchant_user ADD COLUMN language TEXT NOT NULL DEFAULT 'sv'
            CHECK (language IN ('sv', 'en'))
        """,
    )


# In the order they apply.
MIGRATIONS = (
    m018_destination_approvals,
    m016_web_sessions,
    m021_unknown_debits,
    m017_staff_credentials,
    m020_merchant_user_language,
)
