"""The worker's handler for outbox rows of kind "webhook": one signed POST per attempt, outside
any transaction; each attempt recorded; 2xx delivered, anything else retried with backoff."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

import requests
from flask import current_app

from .. import clock, outbox
from ..db import Database, write_transaction
from . import signing, urls

log = logging.getLogger("returns_app.worker")

TIMEOUT = (3.0, 10.0)  # (connect, read) seconds; the tests shorten it through WEBHOOK_TIMEOUT
EXCERPT_BYTES = 1024
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
         allow_local: bool = False) -> Attempt:
    """One attempt. Never follows a redirect: the signed body goes only where the merchant said."""
    timestamp = int(clock.now().timestamp())
    headers = {**signing.headers(secret, webhook_id, timestamp, body),
               "User-Agent": "ReturnsAssistant-Webhooks/1"}
    started = time.monotonic()
    status, error, excerpt = None, None, b""
    try:
        if not allow_local:
            urls.refuse_private_addresses(url)
        with requests.post(url, data=body, headers=headers, timeout=timeout,
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
    (previous,) = db.execute("SELECT count(*) FROM webhook_delivery WHERE outbox_id = ?",
                             [outbox_id]).fetchone()
    db["webhook_delivery"].insert({
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
    found = db.execute(
        "SELECT webhook_message.merchant_id, merchant.webhook_url, merchant.webhook_secret"
        " FROM webhook_message JOIN merchant ON merchant.id = webhook_message.merchant_id"
        " WHERE outbox_id = ?", [row["id"]]).fetchone()
    if found is None or not found[1]:
        with write_transaction(db):
            outbox.give_up(db, row, URL_REMOVED)
        return "failed"
    merchant_id, url, secret = found
    payload = row["payload"]
    attempt = post(url, secret, payload["id"], encode(payload),
                   timeout=current_app.config.get("WEBHOOK_TIMEOUT", TIMEOUT),
                   allow_local=local_urls_allowed())
    with write_transaction(db):
        _record(db, row["id"], attempt)
        if attempt.delivered:
            outbox.complete(db, row)
            outcome = "delivered"
        elif outbox.retry_later(db, row, attempt.summary):
            outcome = "retrying"
        else:
            outcome = "failed"
    # Neither the URL (it may carry a token, and so may a transport error's text) nor the
    # secret is logged.
    log.info("webhook %s to merchant %s: %s (%s)", payload["id"], merchant_id, outcome,
             attempt.http_status or "no HTTP answer")
    return outcome
