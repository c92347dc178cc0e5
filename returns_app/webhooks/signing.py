"""The signature on every webhook request, as a receiver checks it.

Headers sent with each POST:
    Webhook-Id:        evt_<n>, the same on every retry of one event (receivers dedupe on it)
    Webhook-Timestamp: Unix seconds when this attempt was signed
    Webhook-Signature: v1=<hex HMAC-SHA256 of "<id>.<timestamp>.<body>", keyed with the secret>

The key is the secret exactly as shown to the merchant (UTF-8, "whsec_" prefix included); the
body is the raw request bytes. A receiver recomputes the HMAC, compares it in constant time, and
refuses timestamps far from its own clock (replays).
"""

from __future__ import annotations

import hashlib
import hmac

from ..passwords import new_secret

SCHEME = "v1"
SECRET_PREFIX = "whsec_"  # noqa: S105  (a prefix that says what it is, not a secret)
# A receiver should refuse an older timestamp; our own checks use the same tolerance.
TOLERANCE_SECONDS = 300


def new_signing_secret() -> str:
    return new_secret(SECRET_PREFIX)


def signature(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    message = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"{SCHEME}={digest}"


def headers(secret: str, webhook_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "Webhook-Id": webhook_id,
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Signature": signature(secret, webhook_id, timestamp, body),
    }


def verify(secret: str, received: dict[str, str], body: bytes, now: int) -> bool:
    """What a receiver does (and what the tests do as one)."""
    try:
        timestamp = int(received["Webhook-Timestamp"])
        expected = signature(secret, received["Webhook-Id"], timestamp, body)
        given = received["Webhook-Signature"]
    except (KeyError, ValueError):
        return False
    return abs(now - timestamp) <= TOLERANCE_SECONDS and hmac.compare_digest(expected, given)
