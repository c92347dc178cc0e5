"""Merchants' webhooks: their endpoints (URL, events, secret, whether answering), the message
queued for each event and endpoint, and the record of every delivery attempt."""

from __future__ import annotations

from .db import Database, insert, select, select_one

# subject kind -> the merchant it belongs to
_MERCHANT_OF = {
    "return": "SELECT orders.merchant_id FROM returns"
              " JOIN orders ON orders.id = returns.order_id WHERE returns.id = ?",
    "refund": "SELECT orders.merchant_id FROM refund"
              " JOIN orders ON orders.id = refund.order_id WHERE refund.id = ?",
    "merchant": "SELECT id AS merchant_id FROM merchant WHERE id = ?",
}


# --- endpoints ---------------------------------------------------------------------------------

def endpoints_of_merchant(db: Database, merchant_id: int) -> list[dict]:
    """Oldest first; `events` as stored (JSON text)."""
    return select(db, "SELECT * FROM webhook_endpoint WHERE merchant_id = ? ORDER BY id",
                  [merchant_id])


def endpoint_of_merchant(db: Database, merchant_id: int, endpoint_id: int) -> dict | None:
    return select_one(db, "SELECT * FROM webhook_endpoint WHERE id = ? AND merchant_id = ?",
                      [endpoint_id, merchant_id])


def endpoint_by_id(db: Database, endpoint_id: int) -> dict | None:
    return select_one(db, "SELECT * FROM webhook_endpoint WHERE id = ?", [endpoint_id])


def count_endpoints(db: Database, merchant_id: int) -> int:
    return select(db, "SELECT count(*) AS n FROM webhook_endpoint WHERE merchant_id = ?",
                  [merchant_id])[0]["n"]


def add_endpoint(db: Database, row: dict) -> int:
    return insert(db, "webhook_endpoint", row)


def set_endpoint_url(db: Database, endpoint_id: int, url: str) -> None:
    db.execute("UPDATE webhook_endpoint SET url = ? WHERE id = ?", [url, endpoint_id])


def delete_endpoint(db: Database, endpoint_id: int) -> None:
    db.execute("DELETE FROM webhook_endpoint WHERE id = ?", [endpoint_id])


def set_endpoint_secret(db: Database, endpoint_id: int, secret: str, created_at: str) -> None:
    db.execute("UPDATE webhook_endpoint SET secret = ?, secret_created_at = ? WHERE id = ?",
               [secret, created_at, endpoint_id])


def mark_answering(db: Database, endpoint_id: int) -> None:
    db.execute("UPDATE webhook_endpoint SET status = 'active', failing_since = NULL"
               " WHERE id = ? AND status = 'failing'", [endpoint_id])


def mark_failing(db: Database, endpoint_id: int, since: str) -> bool:
    """Compare-and-set: True only for the call that turned an active endpoint failing."""
    return db.execute("UPDATE webhook_endpoint SET status = 'failing', failing_since = ?"
                      " WHERE id = ? AND status = 'active'", [since, endpoint_id]).rowcount > 0


# --- messages: one per event and endpoint ------------------------------------------------------

def merchant_of_subject(db: Database, subject_kind: str, subject_id: int) -> int | None:
    """The merchant a return, a refund or a merchant's own id belongs to."""
    row = select_one(db, _MERCHANT_OF[subject_kind], [subject_id])
    return row["merchant_id"] if row else None


def message_queued(db: Database, event_id: int, endpoint_id: int) -> bool:
    return select_one(db, "SELECT 1 AS queued FROM webhook_message WHERE event_id = ?"
                          " AND endpoint_id = ?", [event_id, endpoint_id]) is not None


def add_message(db: Database, row: dict) -> int:
    return insert(db, "webhook_message", row)


def target_of_delivery(db: Database, outbox_id: int) -> dict | None:
    """Where the message of an outbox row goes now: merchant_id, endpoint_id, url, secret
    (None when its endpoint was deleted)."""
    return select_one(db,
        "SELECT webhook_message.merchant_id, webhook_endpoint.id AS endpoint_id,"
        " webhook_endpoint.url, webhook_endpoint.secret FROM webhook_message"
        " JOIN webhook_endpoint ON webhook_endpoint.id = webhook_message.endpoint_id"
        " WHERE outbox_id = ?", [outbox_id])


def outbox_of_message(db: Database, merchant_id: int, message_id: int) -> int | None:
    row = select_one(db, "SELECT outbox_id FROM webhook_message WHERE id = ? AND merchant_id = ?",
                     [message_id, merchant_id])
    return row["outbox_id"] if row else None


def messages_of_merchant(db: Database, merchant_id: int, before_id: int, limit: int
                         ) -> list[dict]:
    """Newest first below `before_id` (keyset on (merchant_id, id)), with the state of each
    message's outbox row."""
    return select(db,
        "SELECT webhook_message.id, event_id, event_type, subject_kind,"
        " webhook_message.subject_id, webhook_message.created_at, outbox_id,"
        " outbox.status AS outbox_status, outbox.available_at, outbox.last_error"
        " FROM webhook_message JOIN outbox ON outbox.id = outbox_id"
        " WHERE merchant_id = ? AND webhook_message.id < ?"
        " ORDER BY webhook_message.id DESC LIMIT ?", [merchant_id, before_id, limit])


# --- delivery attempts -------------------------------------------------------------------------

def count_attempts(db: Database, outbox_id: int) -> int:
    return select(db, "SELECT count(*) AS n FROM webhook_delivery WHERE outbox_id = ?",
                  [outbox_id])[0]["n"]


def add_attempt(db: Database, row: dict) -> int:
    return insert(db, "webhook_delivery", row)


def attempts_of(db: Database, outbox_ids: list[int]) -> list[dict]:
    """Every attempt at these outbox rows, by row, first attempt first."""
    if not outbox_ids:
        return []
    return select(db,
        f"SELECT * FROM webhook_delivery WHERE outbox_id IN ({', '.join('?' for _ in outbox_ids)})"
        " ORDER BY outbox_id, attempt", outbox_ids)
