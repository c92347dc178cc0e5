"""Idempotency keys: a retried request with the same key and body gets the first response again,
and nothing happens twice. The same key with another body is refused (422)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from ..domain import clock
from ..domain.errors import Conflict, Invalid, Malformed
from ..store.db import Database, select

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
    else mark it in flight (None). Refuses a key reused with another body, or one in flight."""
    digest = fingerprint(body)
    rows = select(db, "SELECT * FROM idempotency_record WHERE scope = ? AND key = ?",
                         [scope, key])
    now = clock.now()
    if rows:
        row = rows[0]
        if row["request_hash"] != digest:
            raise Invalid("This Idempotency-Key was already used for a different request. "
                          "Use a new key for a new request.",
                          fields={"Idempotency-Key": "Already used with another body."})
        if row["status"] == "done":
            return Response(row["response_status"], json.loads(row["response_body"]))
        if clock.parse(row["created_at"]) > now - STALE_AFTER:
            raise Conflict("A request with this Idempotency-Key is still being processed. "
                           "Retry in a moment to get its result.", in_flight=True)
        db.execute("UPDATE idempotency_record SET created_at = ? WHERE id = ?",
                   [clock.iso(now), row["id"]])
        return None
    db["idempotency_record"].insert({
        "scope": scope, "key": key, "request_hash": digest, "status": "in_flight",
        "created_at": clock.iso(now),
    })
    return None


def finish(db: Database, scope: str, key: str, response: Response) -> Response:
    db.execute(
        "UPDATE idempotency_record SET status = 'done', response_status = ?, response_body = ?,"
        " completed_at = ? WHERE scope = ? AND key = ?",
        [response.status, json.dumps(response.body), clock.now_iso(), scope, key])
    return response


def release(db: Database, scope: str, key: str) -> None:
    """Forget an in-flight key whose work failed before anything happened, so a retry may run."""
    db.execute("DELETE FROM idempotency_record WHERE scope = ? AND key = ? AND status = "
               "'in_flight'", [scope, key])


def stored(db: Database, scope: str, key: str) -> Response | None:
    row = db.execute("SELECT status, response_status, response_body FROM idempotency_record"
                     " WHERE scope = ? AND key = ?", [scope, key]).fetchone()
    if row and row[0] == "done":
        return Response(row[1], json.loads(row[2]))
    return None
