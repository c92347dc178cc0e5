"""A customer's order and return pages and the API's order, kept (page_shelf.py: shared by the
worker processes) and served again until something they show has changed.

An entry's key holds everything the answer shows: the order's own row (with its merchant's and
customer's names), the order's version (db.ORDER_VERSIONED's triggers bump it on every change to
its lines, returns, refunds, payments and ledger), the merchant's newest instructions, whether
the customer has a bank account linked (with its mandate, and whether they pay on the due
date), the day (return windows close, due dates pass), and for
a page also the language, the URL and what the header shows. Who may see the order is checked
before the cache is asked, on every request.

What must differ between two views of one page is rendered as a placeholder and filled in on the
way out: the CSRF token (it belongs to the session) and the payment form's idempotency key (each
view offers a new payment; two views sharing a key would turn the second payment into a replay
of the first). A page showing a flash message or a payout-details link (signed with its own
expiry) is rendered afresh every time.

With PAGE_CACHE_VERIFY (on in the tests) every hit is rendered again and compared: a change the
version misses fails the test that made it.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from flask import Flask, current_app, g, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from . import clock
from .db import Database
from .page_shelf import Shelf

# Unguessable, so no text a merchant or customer typed can turn into one.
CSRF_PLACEHOLDER = f"csrf-{secrets.token_hex(16)}"
KEY_PLACEHOLDER = f"key-{secrets.token_hex(16)}"
_EXTENSION = "returns_app.page_cache"
_STAMP = (
    "SELECT coalesce((SELECT version FROM order_version WHERE order_id = :order), 0),"
    " (SELECT max(id) FROM instructions_version WHERE merchant_id = :merchant),"
    " (SELECT (bank_account_json IS NOT NULL) || ':' || pay_on_due_date || ':' ||"
    "  coalesce((SELECT max(id) FROM debit_mandate WHERE customer_id = :customer"
    "            AND ended_at IS NULL), 0) FROM customer WHERE id = :customer)"
)


class StalePage(AssertionError):
    """A kept page differs from a fresh render: something it shows changed without a version
    bump (a table missing from db.ORDER_VERSIONED, or something new in the key)."""


def init_app(app: Flask) -> None:
    app.config.setdefault("PAGE_CACHE_VERIFY", bool(app.config.get("TESTING")))
    app.config.setdefault("PAGE_CACHE_PATH", f"{app.config['DATABASE']}-pages")
    size = app.config["PAGE_CACHE_SIZE"]
    app.extensions[_EXTENSION] = (
        Shelf(app.config["PAGE_CACHE_PATH"], size) if size else None,
        _code_fingerprint(Path(app.root_path), Path(app.template_folder)))


@lru_cache(maxsize=4)  # once per process: code changes only with a restart (3 ms per app)
def _code_fingerprint(*roots: Path) -> str:
    """Which code and templates rendered a kept page: a page kept before a deploy is never
    served after it."""
    digest = hashlib.blake2b(digest_size=8)
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix in (".py", ".html", ".txt", ".mo"):
                stat = path.stat()
                digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def order_stamp(db: Database, order: dict) -> tuple:
    """Everything about an order its answers show, as one hashable value."""
    extra = db.execute(_STAMP, {"order": order["id"], "merchant": order["merchant_id"],
                                "customer": order["customer_id"]}).fetchone()
    return (*order.values(), *extra, clock.today().isoformat())


def page(db: Database, name: str, order: dict, render: Callable[[str], tuple[str, bool]]
         ) -> str:
    """An order's page. `render(idempotency_key)` renders it and says whether it may be kept
    (False when it holds something that expires)."""
    if "_flashes" in session:
        return _fill(render(uuid.uuid4().hex)[0])
    key = (name, request.full_path, _header(), str(get_locale()), *order_stamp(db, order))
    return _fill(_kept(key, lambda: _with_placeholders(render)))


def answer(db: Database, name: str, order: dict, render: Callable[[], bytes]) -> bytes:
    """An API answer about an order (no session, no language: the same for every caller who
    may see the order)."""
    return _kept((name, *order_stamp(db, order)), lambda: (render(), True))


def _kept(key: tuple, render: Callable[[], tuple]):
    shelf, code = current_app.extensions[_EXTENSION]
    if shelf is None:
        return render()[0]
    digest = hashlib.blake2b(repr((code, *key)).encode(), digest_size=16).digest()
    body = shelf.get(digest)
    if body is None:
        body, keep = render()
        if keep:
            shelf.put(digest, body)
    elif current_app.config["PAGE_CACHE_VERIFY"] and (fresh := render()[0]) != body:
        raise StalePage(f"kept {key[0]} differs from a fresh render:\n{body}\n---\n{fresh}")
    return body


def _header() -> str:
    """What the page header shows about who is looking."""
    if current_user.is_authenticated:
        return "signed-in"
    return "remembered" if session.get("order_ids") else "anonymous"


def _with_placeholders(render: Callable[[str], tuple[str, bool]]) -> tuple[str, bool]:
    # Flask-WTF signs the session's token once per request and keeps it on `g`: one kept there
    # first is what every form and csrf_token() on the page then shows.
    name = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    real = g.pop(name, None)
    setattr(g, name, CSRF_PLACEHOLDER)
    try:
        return render(KEY_PLACEHOLDER)
    finally:
        g.pop(name, None)
        if real is not None:
            setattr(g, name, real)


def _fill(body: str) -> str:
    return (body.replace(CSRF_PLACEHOLDER, generate_csrf())
            .replace(KEY_PLACEHOLDER, uuid.uuid4().hex))
