"""What happened, told to whoever must act on it (webhooks, emails), inside the transaction that
made it happen: every audit row is an event, so a delivery it causes is in the outbox exactly when
the change commits, and never without it.

Services publish here and import none of the subscribers (those use the services): create_app
wires them with `subscribe`, so no import runs upward."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..store.db import Database


@dataclass(frozen=True)
class Event:
    id: int  # the audit_event row: unique, so it makes a natural idempotency key
    at: str
    actor: str
    action: str  # "return.reported", "refund.succeeded", ...
    subject_kind: str
    subject_id: int
    before: dict | None
    after: dict | None


Subscriber = Callable[[Database, Event], None]


_subscribers: list[Subscriber] = []


def subscribe(*subscribers: Subscriber) -> None:
    """Who hears every event, in this order (create_app; asking again changes nothing)."""
    for subscriber in subscribers:
        if subscriber not in _subscribers:
            _subscribers.append(subscriber)


def publish(db: Database, event: Event) -> None:
    for subscriber in _subscribers:
        subscriber(db, event)
