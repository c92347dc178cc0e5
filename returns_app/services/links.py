"""Signed, expiring, single-purpose links a customer can follow without signing in."""

from __future__ import annotations

import os
from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..domain.errors import NotFound

PAYOUT_DETAILS = "payout-details"  # subject: a refund
ORDER = "order"  # subject: an order
RETURN = "return"  # subject: a return
PAY = "pay"  # subject: an order, opened at its pay form
PREFERENCES = "preferences"  # subject: an order, whose customer's reminder choices it opens
BANK_ACCOUNT = "bank-account"  # subject: an order, whose customer's bank account page it opens
CALENDAR = "calendar"  # subject: an order, whose due and send-by dates it gives as .ics
# subject: support's request to change a refund's destination; it opens only the objection
OBJECT_CHANGE = "object-destination-change"
LIFETIME = timedelta(days=int(os.environ.get("RETURNS_LINK_DAYS", "30")))
LIFETIMES = {purpose: LIFETIME for purpose in (PAYOUT_DETAILS, ORDER, RETURN, PAY, PREFERENCES,
                                             BANK_ACCOUNT, CALENDAR)}
# Long enough to object to a change still waiting for approval after the 24-hour hold.
LIFETIMES[OBJECT_CHANGE] = timedelta(days=14)


class LinkExpired(Exception):
    def __init__(self, purpose: str, subject_id: int | None):
        super().__init__(purpose)
        self.purpose = purpose
        self.subject_id = subject_id


def _serializer(secret: str, purpose: str) -> URLSafeTimedSerializer:
    # The salt binds a token to its purpose: a payout-details link opens nothing else.
    return URLSafeTimedSerializer(secret, salt=f"returns-link:{purpose}")


def make_token(secret: str, purpose: str, subject_id: int) -> str:
    return _serializer(secret, purpose).dumps({"id": subject_id})


def read_token(secret: str, purpose: str, token: str) -> int:
    serializer = _serializer(secret, purpose)
    try:
        data = serializer.loads(token, max_age=int(LIFETIMES[purpose].total_seconds()))
    except SignatureExpired as exc:
        raise LinkExpired(purpose, _subject(serializer.loads_unsafe(token)[1])) from exc
    except BadSignature:
        data = None
    subject_id = _subject(data)
    if subject_id is None:
        # Our signature over a payload we never make (another version's, or a key reused
        # elsewhere) opens nothing, like a forged one.
        raise NotFound("This link is not valid. Check that you copied all of it.")
    return subject_id


def _subject(payload) -> int | None:
    subject_id = payload.get("id") if isinstance(payload, dict) else None
    if type(subject_id) is not int or subject_id <= 0:
        return None
    return subject_id
