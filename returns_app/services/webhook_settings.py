"""The portal's webhook page: the merchant's (first) endpoint's URL and signing secret, a test
event, and the deliveries so far. Endpoints themselves live in `webhook_endpoints`."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.errors import Conflict, NotFound
from ..store import merchants as merchant_rows
from ..store import outbox
from ..store import webhooks as webhook_rows
from ..store.db import Database, lock_rows, write_transaction
from ..webhooks import urls
from ..webhooks.subscriber import TEST_ACTION
from . import audit, webhook_endpoints

PAGE_SIZE = 20


def _first(db: Database, merchant_id: int) -> dict | None:
    found = webhook_endpoints.endpoints(db, merchant_id)
    return found[0] if found else None


def settings(db: Database, merchant_id: int) -> dict:
    """The page edits the merchant's first endpoint; any others (made through the API) are
    listed beside it."""
    if not merchant_rows.merchant_exists(db, merchant_id):
        raise NotFound("No such merchant.")
    found = webhook_endpoints.endpoints(db, merchant_id)
    first = found[0] if found else None
    return {"url": first["url"] if first else None, "has_secret": first is not None,
            "secret_created_at": first["secret_created_at"] if first else None,
            "endpoint": first, "others": found[1:]}


def set_url(db: Database, merchant_id: int, raw_url: str | None, actor: str,
            allow_local: bool) -> str | None:
    """Returns the signing secret when one was created now (the first URL, or the first after a
    removal): the only time it is returned. Changing the URL keeps the secret."""
    url = urls.check_url(raw_url, allow_local)
    with write_transaction(db):
        lock_rows(db, "merchant", merchant_id)  # two first URLs at once make one endpoint
        first = _first(db, merchant_id)
        if first is None:
            return webhook_endpoints.add(db, merchant_id, url,
                                         list(webhook_endpoints.SUBSCRIBABLE), actor)[1]
        if first["url"] != url:
            webhook_endpoints.set_url(db, merchant_id, first["id"], url, actor)
    return None


def remove_url(db: Database, merchant_id: int, actor: str) -> None:
    """No URL, no secret: events stop being queued for it, and a new URL gets a new secret."""
    first = _first(db, merchant_id)
    if first is not None:
        webhook_endpoints.delete(db, merchant_id, first["id"], actor)


def rotate_secret(db: Database, merchant_id: int, actor: str) -> str:
    """A new secret signs every request from now on, retries of older events included."""
    first = _first(db, merchant_id)
    if first is None:
        raise Conflict("Set a webhook URL first: the secret comes with it.")
    return webhook_endpoints.rotate_secret(db, merchant_id, first["id"], actor)


def send_test_event(db: Database, merchant_id: int, actor: str) -> None:
    """Queued like any event (the webhook subscriber sees the audit row), so it also shows
    whether the worker, the URL and the receiver's signature check all work."""
    with write_transaction(db):
        if _first(db, merchant_id) is None:
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
    rows = webhook_rows.messages_of_merchant(db, merchant_id, before or 2**62, limit + 1)
    page, more = rows[:limit], len(rows) > limit
    attempts: dict[int, list[dict]] = {row["outbox_id"]: [] for row in page}
    for attempt in webhook_rows.attempts_of(db, [row["outbox_id"] for row in page]):
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
        outbox_id = webhook_rows.outbox_of_message(db, merchant_id, message_id)
        if outbox_id is None:
            raise NotFound("No such delivery.")
        if _first(db, merchant_id) is None:
            raise Conflict("Set a webhook URL first, then send it again.")
        if not outbox.requeue(db, outbox_id):
            raise Conflict("Only a failed delivery can be sent again; this one is already "
                           "delivered or still being tried.")
        audit.record(db, actor, "webhook.redelivered", "webhook_message", message_id)
