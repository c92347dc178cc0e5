"""Password and secret hashing in one place."""

from __future__ import annotations

import hashlib
import secrets

from werkzeug.security import check_password_hash, generate_password_hash

# OWASP's scrypt parameters: N=2^17, r=8, p=1 (memory-hard, ~128 MiB per hash).
SCRYPT_METHOD = "scrypt:131072:8:1"
# What an unknown account's password is checked against: a real hash with the same parameters
# (of a random password nobody kept), fixed so that even a process's first unknown account
# costs one hash, not the two that making a dummy on first use would.
DUMMY_HASH = (
    "scrypt:131072:8:1$f87iY6QLTVJdrciC$61e6c51ea4e316878858ec59335945ca2909e086f727565320e9393"
    "e24df18540e4513f7de5950b89f7bfe747b5582cbda8b79faddadd6ffb510da2b8db42e12")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=SCRYPT_METHOD)


def verify_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash:
        # Same work whether or not the account exists, so timing doesn't tell.
        check_password_hash(DUMMY_HASH, password)
        return False
    return check_password_hash(stored_hash, password)


def new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    # API keys and tokens carry 256 random bits: a fast hash is enough, and lookup stays indexed.
    return hashlib.sha256(secret.encode()).hexdigest()
