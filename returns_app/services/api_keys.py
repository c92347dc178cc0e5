"""A merchant's API keys: created with a label (the key itself is shown once, stored hashed),
listed, revoked. Checking a key on a request is merchants.merchant_for_api_key."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain import clock
from ..domain.errors import Conflict, Invalid, NotFound
from ..domain.passwords import hash_secret, new_secret
from ..store import merchants as merchant_rows
from ..store.db import Database, lock_rows, write_transaction
from . import audit

API_KEY_PREFIX = "rk_"
MAX_LABEL = 80


@dataclass(frozen=True)
class NewApiKey:
    id: int
    key: str  # shown once, never stored


def add_api_key(db: Database, merchant_id: int, label: str) -> NewApiKey:
    """Inside the caller's transaction: a new key for the merchant (its first one too)."""
    key = new_secret(API_KEY_PREFIX)
    key_id = merchant_rows.add_api_key(db, {
        "merchant_id": merchant_id,
        "prefix": key[:8],
        "key_hash": hash_secret(key),
        "label": label,
        "created_at": clock.now_iso(),
    })
    return NewApiKey(key_id, key)


def create_api_key(db: Database, merchant_id: int, label: str, actor: str) -> NewApiKey:
    label = (label or "").strip()
    if not label:
        raise Invalid(fields={"label": "Give the key a name, such as the system that uses it."})
    if len(label) > MAX_LABEL:
        raise Invalid(fields={"label": f"Keep the name to {MAX_LABEL} characters or fewer."})
    with write_transaction(db):
        key = add_api_key(db, merchant_id, label)
        audit.record(db, actor, "api_key.created", "merchant", merchant_id,
                     after={"api_key_id": key.id, "label": label})
    return key


def api_keys(db: Database, merchant_id: int) -> list[dict]:
    """Active keys first, newest first; the hash never leaves this module."""
    return merchant_rows.api_keys_of_merchant(db, merchant_id)


def api_key(db: Database, merchant_id: int, key_id: int) -> dict:
    found = merchant_rows.api_key_of_merchant(db, merchant_id, key_id)
    if found is None:
        raise NotFound("No such API key.")
    return found


def revoke_api_key(db: Database, merchant_id: int, key_id: int, actor: str) -> dict:
    """From now on the key gets 401. Revoking is final: a new key is made instead."""
    with write_transaction(db):
        lock_rows(db, "merchant", merchant_id)  # revoked once, audited once
        key = api_key(db, merchant_id, key_id)
        if key["revoked_at"]:
            raise Conflict("This key was already revoked.")
        merchant_rows.revoke_api_key(db, key_id, clock.now_iso())
        audit.record(db, actor, "api_key.revoked", "merchant", merchant_id,
                     after={"api_key_id": key_id, "label": key["label"]})
    return api_key(db, merchant_id, key_id)
