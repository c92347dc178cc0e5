"""Idempotency keys: a retried request with the same key and body gets the first response again,
and nothing happens twice. The same key with another body is refused (422)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from ..domain import clock
from ..domain.errors import Conflict, Invalid, Malformed
from ..store import idempotency as idempotency_rows
from ..store.db import Database

MAX_KEY_LENGTH = 255
# A request that crashed between its two transactions leaves its key in flight; after this long
# a retry may take it over (the provider call it repeats is itself idempotent).
STALE_AFTER = timedelta(seconds=30)


@dataclass(frozen=True)
class Response:
    status: int
    body: dict


def check_key(key: str | None) -> str:
    if not key or not key.strip():
        raise Malformed("Send an Idempotency-Key header, unique for each new payment or "
                        "registration, and the same when you retry one.")
    if len(key) > MAX_KEY_LENGTH:
        raise Malformed(f"The Idempotency-Key may be at most {MAX_KEY_LENGTH} characters.")
    return key.strip()


def fingerprint(body) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"),
                                     default=str).encode()).hexdigest()


def claim(db: Database, scope: str, key: str, body) -> Response | None:
    """Inside the caller's write transaction: the stored response if this key already finished,
    else mark it in flight (None). Refuses a key reused with another body, or one in flight.

    The in-flight record is inserted first, so the unique (scope, key) settles a race between
    hosts; a key already recorded is read locked, so two takers of a stale one go one by one."""
    digest = fingerprint(body)
    now = clock.now()
    if idempotency_rows.add_in_flight(db, scope, key, digest, clock.iso(now)):
        return None
    row = idempotency_rows.record_of_key(db, scope, key, locked=True)
    if row:
        if row["request_hash"] != digest:
            raise Invalid("This Idempotency-Key was already used for a different request. "
                          "Use a new key for a new request.",
                          fields={"Idempotency-Key": "Already used with another body."})
        if row["status"] == "done":
            return Response(row["response_status"], json.loads(row["response_body"]))
        if clock.parse(row["created_at"]) > now - STALE_AFTER:
            raise Conflict("A request with this Idempotency-Key is still being processed. "
                           "Retry in a moment to get its result.", in_flight=True)
        idempotency_rows.take_over(db, row["id"], clock.iso(now))
        return None
    raise Conflict("A request with this Idempotency-Key is still being processed. "
                   "Retry in a moment to get its result.", in_flight=True)


def finish(db: Database, scope: str, key: str, response: Response) -> Response:
    idempotency_rows.finish(db, scope, key, response.status, json.dumps(response.body),
                            clock.now_iso())
    return response


def release(db: Database, scope: str, key: str) -> None:
    """Forget an in-flight key whose work failed before anything happened, so a retry may run."""
    idempotency_rows.release(db, scope, key)


def stored(db: Database, scope: str, key: str) -> Response | None:
    row = idempotency_rows.record_of_key(db, scope, key)
    if row and row["status"] == "done":
        return Response(row["response_status"], json.loads(row["response_body"]))
    return None
