"""The worker's handler for outbox rows of kind "webhook": one signed POST per attempt, outside
any transaction; each attempt recorded; 2xx delivered, anything else retried on a schedule of
about a day, after which the endpoint is marked failing and the merchant's staff are emailed.

Delivery is at least once: a worker killed after the POST but before recording it sends the
event again, with the same webhook-id; receivers de-duplicate on it."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

import requests
from flask import current_app

from ..domain import clock
from ..store import outbox
from ..store import webhooks as webhook_rows
from ..store.db import Database, write_transaction
from . import health, signing, urls

log = logging.getLogger("returns_app.worker")

TIMEOUT = (3.0, 10.0)  # (connect, read) seconds; the tests shorten it through WEBHOOK_TIMEOUT
EXCERPT_BYTES = 1024
# Seconds to wait before each retry, as Svix (the Standard Webhooks authors) retry: 5 s, 5 min,
# 30 min, 2 h, 5 h, 10 h, 10 h after the first attempt; eight attempts over 27 h 35 min, so a
# receiver down for a night still gets every event. Then the endpoint is marked failing.
RETRY_SCHEDULE = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
URL_REMOVED = "The webhook URL was removed before this event could be delivered."


@dataclass(frozen=True)
class Attempt:
    url: str
    http_status: int | None
    error: str | None
    duration_ms: int
    excerpt: str

    @property
    def delivered(self) -> bool:
        return self.http_status is not None and 200 <= self.http_status < 300

    @property
    def summary(self) -> str:
        return self.error or f"HTTP {self.http_status}"


def encode(payload: dict) -> bytes:
    """The exact bytes sent and signed; the same for every attempt of one event."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def local_urls_allowed(app=None) -> bool:
    app = app or current_app
    return app.config["ENV_NAME"] == "development" or app.testing


def _read_excerpt(response: requests.Response, deadline: float) -> bytes:
    """At most EXCERPT_BYTES of the answer, and no waiting on a server that trickles it."""
    chunks: list[bytes] = []
    size = 0
    while size < EXCERPT_BYTES and time.monotonic() < deadline:
        chunk = response.raw.read1(EXCERPT_BYTES - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def post(url: str, secret: str, webhook_id: str, body: bytes, *, timeout=TIMEOUT,
         allow_local: bool = False, resolver: urls.Resolver | None = None) -> Attempt:
    """One attempt. Never follows a redirect: the signed body goes only where the merchant said,
    and only to the address checked for it (`urls.pinned_session`)."""
    timestamp = int(clock.now().timestamp())
    headers = {**signing.headers(secret, webhook_id, timestamp, body),
               "user-agent": "ReturnsAssistant-Webhooks/1"}
    started = time.monotonic()
    status, error, excerpt = None, None, b""
    try:
        with urls.pinned_session(url, allow_local, resolver) as session, \
                session.post(url, data=body, headers=headers, timeout=timeout,
                             allow_redirects=False, stream=True) as response:
            status = response.status_code
            excerpt = _read_excerpt(response, started + sum(timeout))
    except urls.AddressRefused as exc:
        error = str(exc)
    except requests.Timeout:
        error = f"No answer within {timeout[0]:g} s to connect, {timeout[1]:g} s to respond."
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"
    duration_ms = round((time.monotonic() - started) * 1000)
    return Attempt(url, status, error, duration_ms, excerpt.decode("utf-8", errors="replace"))


def _record(db: Database, outbox_id: int, attempt: Attempt) -> None:
    previous = webhook_rows.count_attempts(db, outbox_id)
    webhook_rows.add_attempt(db, {
        "outbox_id": outbox_id,
        "attempt": previous + 1,
        "url": attempt.url,
        "http_status": attempt.http_status,
        "error": attempt.error,
        "duration_ms": attempt.duration_ms,
        "response_excerpt": attempt.excerpt,
        "at": clock.now_iso(),
    })


def deliver_webhook(db: Database, _provider, row: dict) -> str:
    """The URL and secret are read now, not when the event happened: a rotated secret or a new
    URL applies to every delivery still waiting."""
    found = webhook_rows.target_of_delivery(db, row["id"])
    if found is None:
        with write_transaction(db):
            outbox.give_up(db, row, URL_REMOVED)
        return "failed"
    merchant_id, endpoint_id = found["merchant_id"], found["endpoint_id"]
    url, secret = found["url"], found["secret"]
    payload = row["payload"]
    attempt = post(url, secret, payload["id"], encode(payload),
                   timeout=current_app.config.get("WEBHOOK_TIMEOUT", TIMEOUT),
                   allow_local=local_urls_allowed())
    with write_transaction(db):
        _record(db, row["id"], attempt)
        if attempt.delivered:
            outbox.complete(db, row)
            health.answered(db, endpoint_id)
            outcome = "delivered"
        elif outbox.retry_later(db, row, attempt.summary, schedule=RETRY_SCHEDULE):
            outcome = "retrying"
        else:
            health.exhausted(db, endpoint_id)
            outcome = "failed"
    # Neither the URL (it may carry a token, and so may a transport error's text) nor the
    # secret is logged.
    log.info("webhook %s to merchant %s: %s (%s)", payload["id"], merchant_id, outcome,
             attempt.http_status or "no HTTP answer")
    return outcome
