"""Support staff accounts."""

from __future__ import annotations

import secrets

from .. import clock
from ..db import Database, write_transaction
from ..errors import Conflict
from ..passwords import hash_password
from ..validation import normalize_email
from . import audit


def create_support_user(db: Database, email: str, actor: str = "cli") -> tuple[dict, str]:
    """Create the user with a random password, returned once for the admin to hand over."""
    email = normalize_email(email)
    password = secrets.token_urlsafe(12)
    with write_transaction(db):
        if db.execute("SELECT 1 FROM support_user WHERE email = ?", [email]).fetchone():
            raise Conflict(f"A support user {email} already exists.")
        user_id = db["support_user"].insert({
            "email": email, "password_hash": hash_password(password),
            "created_at": clock.now_iso(),
        }).last_pk
        audit.record(db, actor, "support_user.created", "support_user", user_id,
                     after={"email": email})
    return {"id": user_id, "email": email}, password
