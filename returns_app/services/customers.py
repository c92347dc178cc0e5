"""How customers get in: order number + email (no account), an API token, or a demo password."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from ..domain import clock
from ..domain.errors import NotFound, Unauthorized
from ..domain.passwords import hash_secret, new_secret
from ..domain.validation import email_for_lookup
from ..store import customers as customer_rows
from ..store.db import Database, write_transaction
from . import sign_in as guarded
from .orders import Viewer, normalize_order_number

LOOKUP_WINDOW = guarded.WINDOW
LOOKUP_LIMIT_PER_ORDER = 5  # a real customer mistypes a few times; a guesser needs thousands
LOOKUP_LIMIT_PER_CLIENT = 20
TOKEN_LIFETIME = timedelta(days=30)
LOOKUP_REFUSED = guarded.refuse_for_window(guarded.TOO_MANY)
NOT_FOUND_MESSAGE = (
    "We couldn't find an order with that order number and email address. Check both against "
    "your order confirmation email."
)


def find_order(db: Database, order_number: str, email: str, client: str) -> dict:
    """The order that matches both, or one generic NotFound; repeated guessing is refused
    (services/sign_in.py: only a look-up that finds nothing counts as a failure)."""
    number = normalize_order_number(order_number)
    email = email_for_lookup(email)
    buckets = ((f"order:{number}", LOOKUP_LIMIT_PER_ORDER),
               (f"client:{client}", LOOKUP_LIMIT_PER_CLIENT))
    found = guarded.record_attempt(
        db, buckets, LOOKUP_REFUSED,
        lambda db: customer_rows.order_for_lookup(db, number, email), found_counts=False).row
    if found is None:
        raise NotFound(NOT_FOUND_MESSAGE)
    return found


def create_api_session(db: Database, order_number: str, email: str,
                       client: str) -> str:
    """A bearer token scoped to the one order the customer proved they know."""
    found = find_order(db, order_number, email, client)
    token = new_secret("ct_")
    now = clock.now()
    with write_transaction(db):
        customer_rows.add_token(db, {
            "customer_id": found["customer_id"],
            "order_id": found["id"],
            "token_hash": hash_secret(token),
            "created_at": clock.iso(now),
            "expires_at": clock.iso(now + TOKEN_LIFETIME),
        })
    return token


def viewer_for_token(db: Database, token: str | None) -> Viewer:
    if not token:
        raise Unauthorized("Send your session token as 'Authorization: Bearer <token>'.")
    row = customer_rows.live_token(db, hash_secret(token), clock.now_iso())
    if row is None:
        raise Unauthorized("That session token is not valid or has expired.")
    customer_id, order_id = row["customer_id"], row["order_id"]
    if order_id is None:
        return Viewer(customer_id=customer_id)
    return Viewer(order_ids=frozenset({order_id}))


def revoke_api_session(db: Database, token: str | None) -> None:
    """Sign the token out: from now on it is refused like an unknown one. Only a live token
    revokes itself (Unauthorized otherwise), so the answer tells a stranger nothing."""
    viewer_for_token(db, token)
    with write_transaction(db):
        customer_rows.revoke_token(db, hash_secret(token), clock.now_iso())


SIGN_IN_FAILED = "That email and password don't match."
SIGN_IN_DOOR = guarded.Door("customer-sign-in", customer_rows.customer_for_sign_in,
                            SIGN_IN_FAILED)


def sign_in(db: Database, email: str, password: str, client: str) -> int:
    """The customer whose password this is; limited like staff sign-ins (services/sign_in.py)."""
    return guarded.sign_in(db, SIGN_IN_DOOR, email, password, client)[0]


def customer_for_token(db: Database, token: str | None) -> int:
    """The customer a valid token belongs to (an order's token too: it proved the order's
    number and email)."""
    viewer_for_token(db, token)
    return customer_rows.customer_of_token(db, hash_secret(token))


def get_customer(db: Database, customer_id: int) -> dict | None:
    return customer_rows.customer(db, customer_id)


def set_language(db: Database, customer_id: int, language: str) -> None:
    """The customer's chosen language ('sv' or 'en'): the one their emails are written in."""
    with write_transaction(db):
        customer_rows.set_language(db, customer_id, language)


def set_language_of_orders(db: Database, order_ids: Iterable[int], language: str) -> None:
    """A guest's chosen language, for the customers of the orders they have opened (with the
    order number and email, or a link sent to that email): their emails and the shop's
    instructions follow it from now on, as a signed-in customer's do."""
    ids = sorted(set(order_ids))
    if not ids:
        return
    with write_transaction(db):
        customer_rows.set_language_of_orders(db, ids, language)
