"""The id of the request being handled, for everything it causes: its log line, the outbox rows
it writes, the provider calls made for it, and the worker's log lines when it delivers those
rows later. A context variable, so that the outbox and the provider client (which know nothing
of Flask) read it without every caller passing it down. No Flask, no database."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

HEADER = "X-Request-ID"
# What a proxy or a client may hand us: short, and nothing that could break a log line, a
# header or a query (letters, digits and . _ : - only); anything else gets an id of our own.
_SAFE = re.compile(r"[A-Za-z0-9._:-]{1,64}")

current: ContextVar[str | None] = ContextVar("request_id", default=None)


def new() -> str:
    return secrets.token_hex(16)


def accept(offered: str | None) -> str:
    """The offered id if it is safe to carry, else a new one."""
    if offered and _SAFE.fullmatch(offered):
        return offered
    return new()


@contextmanager
def bound(request_id: str | None) -> Iterator[None]:
    """Everything inside runs on behalf of `request_id` (None: of no request)."""
    token = current.set(request_id)
    try:
        yield
    finally:
        current.reset(token)
