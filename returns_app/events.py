"""What happened, told to whoever must act on it (webhooks, emails), inside the transaction that
made it happen: every audit row is an event, so a delivery it causes is in the outbox exactly when
the change commits, and never without it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .db import Database


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


def subscribers() -> tuple[Subscriber, ...]:
    """Imported late: the subscribers use the services, which publish through here."""
    from .notifications.subscriber import on_event as queue_emails
    from .services.checkouts import on_event as guard_checkouts
    from .webhooks import subscriber as webhooks

    return (webhooks.on_event, queue_emails, guard_checkouts)


def publish(db: Database, event: Event) -> None:
    for subscriber in subscribers():
        subscriber(db, event)
