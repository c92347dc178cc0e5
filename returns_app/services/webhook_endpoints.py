"""A merchant's webhook endpoints: where events go, which ones, signed with whose secret, and
whether the endpoint is answering. The API and the portal's webhook page both go through here;
the secret is returned when it is made and never again."""

from __future__ import annotations

import json

from ..domain import clock
from ..domain.errors import Invalid, NotFound
from ..domain.validation import NOT_TEXT
from ..store import webhooks as webhook_rows
from ..store.db import Database, lock_rows, write_transaction
from ..webhooks import signing, urls
from ..webhooks.subscriber import EVENT_TYPES, TEST_ACTION
from . import audit

# What a merchant may subscribe to (the test event reaches every endpoint).
SUBSCRIBABLE = tuple(action for action in EVENT_TYPES if action != TEST_ACTION)
MAX_ENDPOINTS = 10


def check_events(raw) -> list[str]:
    """The events filter as stored: a list of event types, none twice. Absent means all."""
    if raw is None:
        return list(SUBSCRIBABLE)
    if not isinstance(raw, list) or not raw or not all(isinstance(e, str) for e in raw):
        raise Invalid(fields={"events": "Must be a non-empty list of event types (strings)."})
    unknown = sorted(set(raw) - set(SUBSCRIBABLE))
    if unknown:
        raise Invalid(fields={"events": f"Unknown event type {unknown[0]!r}; known: "
                                        + ", ".join(SUBSCRIBABLE) + "."})
    return [e for e in SUBSCRIBABLE if e in raw]


def _row(row: dict) -> dict:
    return {**row, "events": json.loads(row["events"])}


def endpoints(db: Database, merchant_id: int) -> list[dict]:
    return [_row(r) for r in webhook_rows.endpoints_of_merchant(db, merchant_id)]


def get_endpoint(db: Database, merchant_id: int, endpoint_id: int) -> dict:
    """Another merchant's endpoint is not found, like one that never existed."""
    row = webhook_rows.endpoint_of_merchant(db, merchant_id, endpoint_id)
    if row is None:
        raise NotFound("No such webhook endpoint.")
    return _row(row)


def create(db: Database, merchant_id: int, raw_url, raw_events, actor: str,
           allow_local: bool) -> tuple[dict, str]:
    """The new endpoint and its signing secret (the only time the secret is returned)."""
    if raw_url is not None and not isinstance(raw_url, str):
        raise Invalid(fields={"url": NOT_TEXT})
    url = urls.check_url(raw_url, allow_local)
    events = check_events(raw_events)
    with write_transaction(db):
        return add(db, merchant_id, url, events, actor)


def add(db: Database, merchant_id: int, url: str, events: list[str],
        actor: str) -> tuple[dict, str]:
    """Inside a transaction, `url` and `events` already checked. The merchant's row is locked:
    two additions at once can't both find room under MAX_ENDPOINTS."""
    lock_rows(db, "merchant", merchant_id)
    if webhook_rows.count_endpoints(db, merchant_id) >= MAX_ENDPOINTS:
        raise Invalid(fields={"url": f"A merchant can have at most {MAX_ENDPOINTS} webhook "
                                     "endpoints; delete one first."})
    secret, now = signing.new_signing_secret(), clock.now_iso()
    endpoint_id = webhook_rows.add_endpoint(db, {
        "merchant_id": merchant_id, "url": url, "events": json.dumps(events),
        "secret": secret, "secret_created_at": now, "created_at": now})
    audit.record(db, actor, "webhook.endpoint_created", "webhook_endpoint", endpoint_id,
                 after={"url": url, "events": events})
    return get_endpoint(db, merchant_id, endpoint_id), secret


def set_url(db: Database, merchant_id: int, endpoint_id: int, url: str, actor: str) -> None:
    """Inside a transaction; `url` already checked. The secret stays."""
    before = get_endpoint(db, merchant_id, endpoint_id)
    webhook_rows.set_endpoint_url(db, endpoint_id, url)
    audit.record(db, actor, "webhook.url_set", "webhook_endpoint", endpoint_id,
                 before={"url": before["url"]}, after={"url": url})


def delete(db: Database, merchant_id: int, endpoint_id: int, actor: str) -> dict:
    """Events still waiting for it end as failed ("the URL was removed") at their next try.
    Returns the endpoint as it was."""
    with write_transaction(db):
        endpoint = get_endpoint(db, merchant_id, endpoint_id)
        webhook_rows.delete_endpoint(db, endpoint_id)
        audit.record(db, actor, "webhook.endpoint_deleted", "webhook_endpoint", endpoint_id,
                     before={"url": endpoint["url"]})
    return endpoint


def rotate_secret(db: Database, merchant_id: int, endpoint_id: int, actor: str) -> str:
    """A new secret signs every request from now on, retries of older events included."""
    secret = signing.new_signing_secret()
    with write_transaction(db):
        get_endpoint(db, merchant_id, endpoint_id)
        webhook_rows.set_endpoint_secret(db, endpoint_id, secret, clock.now_iso())
        audit.record(db, actor, "webhook.secret_rotated", "webhook_endpoint", endpoint_id)
    return secret


def as_api(endpoint: dict) -> dict:
    """Never the secret."""
    return {key: endpoint[key] for key in (
        "id", "url", "events", "status", "failing_since", "created_at", "secret_created_at")}
