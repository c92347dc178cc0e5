"""Events a merchant's system wants to hear about become one outbox row each, written in the
transaction that made them happen (events.publish calls `on_event` inside it)."""

from __future__ import annotations

import json
from collections.abc import Callable

from ..services.events import Event
from ..store import outbox
from ..store.db import Database

OUTBOX_KIND = "webhook"
TEST_ACTION = "webhook.test"


def _return_data(db: Database, merchant_id: int, return_id: int) -> dict:
    from ..services import returns

    return returns.as_api(returns.return_for_merchant(db, merchant_id, return_id))


def _refund_data(db: Database, merchant_id: int, refund_id: int) -> dict:
    from ..services import refunds

    return refunds.as_api(refunds.get_refund(db, refund_id))


def _test_data(db: Database, merchant_id: int, _subject_id: int) -> dict:
    return {"merchant_id": merchant_id,
            "message": "A test event sent from the webhook settings page."}


# subject kind -> its merchant
_MERCHANT_OF = {
    "return": "SELECT orders.merchant_id FROM returns"
              " JOIN orders ON orders.id = returns.order_id WHERE returns.id = ?",
    "refund": "SELECT orders.merchant_id FROM refund"
              " JOIN orders ON orders.id = refund.order_id WHERE refund.id = ?",
    "merchant": "SELECT id FROM merchant WHERE id = ?",
}
DataBuilder = Callable[[Database, int, int], dict]
# action -> (subject kind, the event's data as the merchant's API shows the subject)
EVENT_TYPES: dict[str, tuple[str, DataBuilder]] = {
    "return.reported": ("return", _return_data),
    "return.sent": ("return", _return_data),
    "refund.succeeded": ("refund", _refund_data),
    TEST_ACTION: ("merchant", _test_data),
}


def _subscribed(db: Database, merchant_id: int, action: str) -> list[int]:
    """The merchant's endpoints that asked for this event (every one gets a test event)."""
    return [endpoint_id for endpoint_id, events in db.execute(
        "SELECT id, events FROM webhook_endpoint WHERE merchant_id = ? ORDER BY id",
        [merchant_id]).fetchall() if action == TEST_ACTION or action in json.loads(events)]


def on_event(db: Database, event: Event) -> None:
    """Inside the caller's transaction: one outbox row and one webhook_message per subscribed
    endpoint. The event id is the idempotency key: a unique index on (event, endpoint) holds
    one message each, whatever calls this twice."""
    handled = EVENT_TYPES.get(event.action)
    if handled is None or handled[0] != event.subject_kind:
        return
    subject_kind, build = handled
    row = db.execute(_MERCHANT_OF[subject_kind], [event.subject_id]).fetchone()
    if row is None:
        return
    merchant_id = row[0]
    payload = None
    for endpoint_id in _subscribed(db, merchant_id, event.action):
        if db.execute("SELECT 1 FROM webhook_message WHERE event_id = ? AND endpoint_id = ?",
                      [event.id, endpoint_id]).fetchone():
            continue
        payload = payload or {
            "id": f"evt_{event.id}",
            "type": event.action,
            "created_at": event.at,
            "data": build(db, merchant_id, event.subject_id),
        }
        outbox_id = outbox.enqueue(db, OUTBOX_KIND, event.id, payload)
        db["webhook_message"].insert({
            "merchant_id": merchant_id,
            "endpoint_id": endpoint_id,
            "event_id": event.id,
            "outbox_id": outbox_id,
            "event_type": event.action,
            "subject_kind": subject_kind,
            "subject_id": event.subject_id,
            "created_at": event.at,
        })
