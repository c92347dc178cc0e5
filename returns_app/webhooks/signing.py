"""The signature on every webhook request, as the Standard Webhooks specification
(www.standardwebhooks.com) defines it, so its libraries verify our events unchanged.

Headers sent with each POST:
    webhook-id:        evt_<n>, the same on every retry of one event (receivers dedupe on it)
    webhook-timestamp: Unix seconds when this attempt was signed
    webhook-signature: v1,<base64 of HMAC-SHA256 over "<id>.<timestamp>.<raw body>">

The secret is shown to the merchant as "whsec_" + base64 of 32 random bytes; the HMAC key is
those bytes (the base64 part decoded), never the text. A receiver recomputes the HMAC, compares
it in constant time, and refuses timestamps more than five minutes from its own clock (replays).

Secrets made before this scheme were "whsec_" + URL-safe random text, and the text itself was
the key. Migration m014 kept their key: such a secret is stored as "whsec_" + base64 of the old
text's bytes, so the key bytes and any receiver holding the old text agree; the merchant's
Standard Webhooks form of an old secret is `"whsec_" + base64(old secret)` (see the README).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

SCHEME = "v1"
SECRET_PREFIX = "whsec_"  # noqa: S105  (a prefix that says what it is, not a secret)
SECRET_BYTES = 32
# A receiver should refuse an older timestamp; our own checks use the same tolerance.
TOLERANCE_SECONDS = 300


def new_signing_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def from_legacy(old_secret: str) -> str:
    """A secret of the old scheme (its text was the key), in the Standard Webhooks form that
    keys the HMAC with the very same bytes."""
    return SECRET_PREFIX + base64.b64encode(old_secret.encode()).decode()


def key(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise ValueError("not a Standard Webhooks secret (whsec_ + base64)") from None


def signature(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    message = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(key(secret), message, hashlib.sha256).digest()
    return f"{SCHEME},{base64.b64encode(digest).decode()}"


def headers(secret: str, webhook_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, webhook_id, timestamp, body),
    }


def verify(secret: str, received: dict[str, str], body: bytes, now: int) -> bool:
    """What a receiver does (the tests use the standardwebhooks library as well). The header
    may carry several space-separated signatures (during a receiver's own key change)."""
    fields = {name.lower(): value for name, value in received.items()}
    try:
        timestamp = int(fields["webhook-timestamp"])
        expected = signature(secret, fields["webhook-id"], timestamp, body)
        given = fields["webhook-signature"].split(" ")
    except (KeyError, ValueError):
        return False
    return abs(now - timestamp) <= TOLERANCE_SECONDS and any(
        hmac.compare_digest(expected, one) for one in given)
