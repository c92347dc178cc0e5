"""A merchant's webhook: its URL and signing secret, a test event, and the deliveries so far."""

from __future__ import annotations

from dataclasses import dataclass

from .. import clock, outbox
from ..db import Database, select, write_transaction
from ..errors import Conflict, NotFound
from ..webhooks import signing, urls
from ..webhooks.subscriber import TEST_ACTION
from . import audit

PAGE_SIZE = 20


def settings(db: Database, merchant_id: int) -> dict:
    row = db.execute("SELECT webhook_url, webhook_secret IS NOT NULL, webhook_secret_created_at"
                     " FROM merchant WHERE id = ?", [merchant_id]).fetchone()
    if row is None:
        raise NotFound("No such merchant.")
    return {"url": row[0], "has_secret": bool(row[1]), "secret_created_at": row[2]}


def _new_secret(db: Database, merchant_id: int) -> str:
    secret = signing.new_signing_secret()
    db.execute("UPDATE merchant SET webhook_secret = ?, webhook_secret_created_at = ?"
               " WHERE id = ?", [secret, clock.now_iso(), merchant_id])
    return secret


def set_url(db: Database, merchant_id: int, raw_url: str | None, actor: str,
            allow_local: bool) -> str | None:
    """Returns the signing secret when one was created now (the first URL, or the first after a
    removal): the only time it is returned. Changing the URL keeps the secret."""
    url = urls.check_url(raw_url, allow_local)
    with write_transaction(db):
        current = settings(db, merchant_id)
        if current["url"] == url and current["has_secret"]:
            return None
        db.execute("UPDATE merchant SET webhook_url = ? WHERE id = ?", [url, merchant_id])
        secret = None if current["has_secret"] else _new_secret(db, merchant_id)
        audit.record(db, actor, "webhook.url_set", "merchant", merchant_id,
                     before={"url": current["url"]},
                     after={"url": url, "secret_created": secret is not None})
    return secret


def remove_url(db: Database, merchant_id: int, actor: str) -> None:
    """No URL, no secret: events stop being queued, and a new URL gets a new secret."""
    with write_transaction(db):
        current = settings(db, merchant_id)
        if current["url"] is None and not current["has_secret"]:
            return
        db.execute("UPDATE merchant SET webhook_url = NULL, webhook_secret = NULL,"
                   " webhook_secret_created_at = NULL WHERE id = ?", [merchant_id])
        audit.record(db, actor, "webhook.url_removed", "merchant", merchant_id,
                     before={"url": current["url"]}, after={"url": None})


def rotate_secret(db: Database, merchant_id: int, actor: str) -> str:
    """A new secret signs every request from now on, retries of older events included."""
    with write_transaction(db):
        if not settings(db, merchant_id)["url"]:
            raise Conflict("Set a webhook URL first: the secret comes with it.")
        secret = _new_secret(db, merchant_id)
        audit.record(db, actor, "webhook.secret_rotated", "merchant", merchant_id)
    return secret


def send_test_event(db: Database, merchant_id: int, actor: str) -> None:
    """Queued like any event (the webhook subscriber sees the audit row), so it also shows
    whether the worker, the URL and the receiver's signature check all work."""
    with write_transaction(db):
        if not settings(db, merchant_id)["url"]:
            raise Conflict("Set a webhook URL first, then send a test event to it.")
        audit.record(db, actor, TEST_ACTION, "merchant", merchant_id)


def _status(row: dict) -> str:
    if row["outbox_status"] == "done":
        return "delivered"
    if row["outbox_status"] == "failed":
        return "failed"
    return "retrying" if row["attempt_count"] else "queued"


@dataclass(frozen=True)
class DeliveryPage:
    deliveries: list[dict]
    older_than: int | None  # pass as `before` for the next (older) page; None on the last


def deliveries(db: Database, merchant_id: int, before: int | None = None,
               limit: int = PAGE_SIZE) -> DeliveryPage:
    """Newest first, a page at a time, keyset-paginated on (merchant_id, id)."""
    rows = select(db,
        "SELECT webhook_message.id, event_id, event_type, subject_kind,"
        " webhook_message.subject_id, webhook_message.created_at, outbox_id,"
        " outbox.status AS outbox_status, outbox.available_at, outbox.last_error"
        " FROM webhook_message JOIN outbox ON outbox.id = outbox_id"
        " WHERE merchant_id = ? AND webhook_message.id < ?"
        " ORDER BY webhook_message.id DESC LIMIT ?",
        [merchant_id, before or 2**62, limit + 1])
    page, more = rows[:limit], len(rows) > limit
    attempts: dict[int, list[dict]] = {row["outbox_id"]: [] for row in page}
    if page:
        marks = ", ".join("?" for _ in page)
        for attempt in select(db,
                f"SELECT * FROM webhook_delivery WHERE outbox_id IN ({marks})"
                " ORDER BY outbox_id, attempt", [row["outbox_id"] for row in page]):
            attempts[attempt["outbox_id"]].append(attempt)
    for row in page:
        row["attempts"] = attempts[row["outbox_id"]]
        row["attempt_count"] = len(row["attempts"])
        row["status"] = _status(row)
        row["next_attempt_at"] = row["available_at"] if row["status"] == "retrying" else None
        row["webhook_id"] = f"evt_{row['event_id']}"
    return DeliveryPage(page, page[-1]["id"] if more else None)


def redeliver(db: Database, merchant_id: int, message_id: int, actor: str) -> None:
    """A delivery given up on is tried again, with a fresh set of attempts and the same
    Webhook-Id (a receiver that did get it after all can tell)."""
    with write_transaction(db):
        row = db.execute("SELECT outbox_id FROM webhook_message WHERE id = ? AND merchant_id = ?",
                         [message_id, merchant_id]).fetchone()
        if row is None:
            raise NotFound("No such delivery.")
        if not settings(db, merchant_id)["url"]:
            raise Conflict("Set a webhook URL first, then send it again.")
        if not outbox.requeue(db, row[0]):
            raise Conflict("Only a failed delivery can be sent again; this one is already "
                           "delivered or still being tried.")
        audit.record(db, actor, "webhook.redelivered", "webhook_message", message_id)
