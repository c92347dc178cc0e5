"""A merchant's API keys: created with a label (the key itself is shown once, stored hashed),
listed, revoked. Checking a key on a request is merchants.merchant_for_api_key."""

from __future__ import annotations

from ..domain import clock
from ..domain.errors import Conflict, Invalid, NotFound
from ..store.db import Database, select, write_transaction
from . import audit
from .merchants import NewApiKey, _insert_api_key

MAX_LABEL = 80


def create_api_key(db: Database, merchant_id: int, label: str, actor: str) -> NewApiKey:
    label = (label or "").strip()
    if not label:
        raise Invalid(fields={"label": "Give the key a name, such as the system that uses it."})
    if len(label) > MAX_LABEL:
        raise Invalid(fields={"label": f"Keep the name to {MAX_LABEL} characters or fewer."})
    with write_transaction(db):
        key = _insert_api_key(db, merchant_id, label)
        audit.record(db, actor, "api_key.created", "merchant", merchant_id,
                     after={"api_key_id": key.id, "label": label})
    return key


def api_keys(db: Database, merchant_id: int) -> list[dict]:
    """Active keys first, newest first; the hash never leaves this module."""
    return select(db,
        "SELECT id, label, prefix, created_at, last_used_at, revoked_at FROM merchant_api_key"
        " WHERE merchant_id = ? ORDER BY revoked_at IS NOT NULL, id DESC", [merchant_id])


def api_key(db: Database, merchant_id: int, key_id: int) -> dict:
    rows = select(db,
        "SELECT id, label, prefix, created_at, last_used_at, revoked_at FROM merchant_api_key"
        " WHERE id = ? AND merchant_id = ?", [key_id, merchant_id])
    if not rows:
        raise NotFound("No such API key.")
    return rows[0]


def revoke_api_key(db: Database, merchant_id: int, key_id: int, actor: str) -> dict:
    """From now on the key gets 401. Revoking is final: a new key is made instead."""
    with write_transaction(db):
        key = api_key(db, merchant_id, key_id)
        if key["revoked_at"]:
            raise Conflict("This key was already revoked.")
        db.execute("UPDATE merchant_api_key SET revoked_at = ? WHERE id = ? AND revoked_at"
                   " IS NULL", [clock.now_iso(), key_id])
        audit.record(db, actor, "api_key.revoked", "merchant", merchant_id,
                     after={"api_key_id": key_id, "label": key["label"]})
    return api_key(db, merchant_id, key_id)
