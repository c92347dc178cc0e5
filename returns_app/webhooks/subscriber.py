"""Events a merchant's system wants to hear about become one outbox row each, written in the
transaction that made them happen (events.publish calls `on_event` inside it)."""

from __future__ import annotations

import json
from collections.abc import Callable

from ..services.events import Event
from ..store import outbox
from ..store import webhooks as webhook_rows
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
    return [endpoint["id"] for endpoint in webhook_rows.endpoints_of_merchant(db, merchant_id)
            if action == TEST_ACTION or action in json.loads(endpoint["events"])]


def on_event(db: Database, event: Event) -> None:
    """Inside the caller's transaction: one outbox row and one webhook_message per subscribed
    endpoint. The event id is the idempotency key: a unique index on (event, endpoint) holds
    one message each, whatever calls this twice."""
    handled = EVENT_TYPES.get(event.action)
    if handled is None or handled[0] != event.subject_kind:
        return
    subject_kind, build = handled
    merchant_id = webhook_rows.merchant_of_subject(db, subject_kind, event.subject_id)
    if merchant_id is None:
        return
    payload = None
    for endpoint_id in _subscribed(db, merchant_id, event.action):
        if webhook_rows.message_queued(db, event.id, endpoint_id):
            continue
        payload = payload or {
            "id": f"evt_{event.id}",
            "type": event.action,
            "created_at": event.at,
            "data": build(db, merchant_id, event.subject_id),
        }
        outbox_id = outbox.enqueue(db, OUTBOX_KIND, event.id, payload)
        webhook_rows.add_message(db, {
            "merchant_id": merchant_id,
            "endpoint_id": endpoint_id,
            "event_id": event.id,
            "outbox_id": outbox_id,
            "event_type": event.action,
            "subject_kind": subject_kind,
            "subject_id": event.subject_id,
            "created_at": event.at,
        })
