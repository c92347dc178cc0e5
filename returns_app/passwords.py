"""Password and secret hashing in one place."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

# OWASP's scrypt parameters: N=2^17, r=8, p=1 (memory-hard, ~128 MiB per hash).
SCRYPT_METHOD = "scrypt:131072:8:1"


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=SCRYPT_METHOD)


def verify_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash:
        # Same work whether or not the account exists, so timing doesn't tell.
        check_password_hash(_dummy_hash(), password)
        return False
    return check_password_hash(stored_hash, password)


def new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    # API keys and tokens carry 256 random bits: a fast hash is enough, and lookup stays indexed.
    return hashlib.sha256(secret.encode()).hexdigest()


@cache
def _dummy_hash() -> str:
    return generate_password_hash("not-a-real-password", method=SCRYPT_METHOD)
