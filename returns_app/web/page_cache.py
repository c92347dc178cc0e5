"""A customer's order and return pages and the API's order, kept (page_shelf.py: shared by the
worker processes) and served again until something they show has changed.

An entry's key holds everything the answer shows: the order's own row (with its merchant's and
customer's names), the order's version (the triggers of store/migrations/speed.py's
ORDER_VERSIONED bump it on every change to its lines, returns, refunds, payments and ledger),
the merchant's newest instructions, whether the customer has a bank account linked (with its
mandate, and whether they pay on the due date), the day (return windows close, due dates
pass), and for a page also the language, the URL and what the header shows. Who may see the
order is checked before the cache is asked, on every request.

What must differ between two views of one page is rendered as a placeholder and filled in on the
way out: the CSRF token (it belongs to the session) and the payment form's idempotency key (each
view offers a new payment; two views sharing a key would turn the second payment into a replay
of the first). A page showing a flash message or a payout-details link (signed with its own
expiry) is rendered afresh every time.

Any worker may serve a page another worker kept, so nothing on the shelf, in its key or in the
placeholders may be made once per process. The placeholders are derived from the secret key
(every worker has the same one; nobody who types an instruction or a name can know them) and are
part of the key, so a page kept under another secret is never served. Reviewed, per process or
per session, and where each goes:

- CSRF token (per session): a placeholder, filled per view from the session (`_fill`).
- payment idempotency key (per view): a placeholder, a fresh uuid per view.
- the placeholders themselves: derived from SECRET_KEY, the same in every process (they were
  made with `secrets` at import: a page kept by one worker went out with `csrf-<hex>` from a
  worker that imported the package itself, and from every worker after a restart, since the
  shelf outlives the processes; tests/system restarts gunicorn halfway to prove it).
- secret key: RETURNS_SECRET_KEY, required outside development (config.py); in development one
  file made atomically, so two workers starting together can't each make their own.
- flashes (per session): a page holding one is rendered afresh and never kept.
- payout-details links (signed, expiring): the page is rendered afresh and never kept.
- the header (per session: signed in, orders remembered, neither): in the key (`_header`), and
  it shows no name, only which links to offer.
- language (per session or browser): in the key (`get_locale()`); the switch's "back here" is
  the URL, in the key.
- the day (return windows, due dates): in the key; pages show no time of day.
- the code fingerprint (per process, lru_cache): paths, sizes and modification times of the
  package's code, templates and catalogs, the same in every worker started from one install;
  a worker started after a deploy keys its pages apart from the old workers'.
- per-process lru_caches of pure functions (money and date formatting, locales, form
  translations, the CSP): a function of their arguments only, never of the process.
- the API answer: no session, no language, no token (who may ask is checked before the cache).
- nonces: none (the CSP allows 'self' only).

With PAGE_CACHE_VERIFY (on in the tests) every hit is rendered again and compared: a change the
version misses fails the test that made it.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from flask import Flask, current_app, g, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from ..domain import clock
from ..store.db import Database
from ..store.page_shelf import Shelf

_EXTENSION = "returns_app.web.page_cache"
_STAMP = (
    "SELECT coalesce((SELECT version FROM order_version WHERE order_id = :order), 0),"
    " (SELECT max(id) FROM instructions_version WHERE merchant_id = :merchant),"
    " (SELECT (bank_account_json IS NOT NULL) || ':' || pay_on_due_date || ':' ||"
    "  coalesce((SELECT max(id) FROM debit_mandate WHERE customer_id = :customer"
    "            AND ended_at IS NULL), 0) FROM customer WHERE id = :customer)"
)


class StalePage(AssertionError):
    """A kept page differs from a fresh render: something it shows changed without a version
    bump (a table missing from ORDER_VERSIONED, store/migrations/speed.py, or something new in
    the key)."""


def init_app(app: Flask) -> None:
    app.config.setdefault("PAGE_CACHE_VERIFY", bool(app.config.get("TESTING")))
    app.config.setdefault("PAGE_CACHE_PATH", f"{app.config['DATABASE']}-pages")
    size = app.config["PAGE_CACHE_SIZE"]
    app.extensions[_EXTENSION] = (
        Shelf(app.config["PAGE_CACHE_PATH"], size) if size else None,
        _code_fingerprint(Path(app.root_path), Path(app.template_folder)),
        placeholders(app.secret_key))


def placeholders(secret_key: str | bytes) -> tuple[str, str]:
    """The CSRF token's and the payment key's placeholders: the same in every worker that
    shares the secret key, and unguessable without it, so no text a merchant or customer typed
    can turn into one."""
    secret = secret_key.encode() if isinstance(secret_key, str) else secret_key
    return tuple(f"{name}-" + hmac.new(secret, f"page-cache {name} placeholder".encode(),
                                       hashlib.sha256).hexdigest()[:32]
                 for name in ("csrf", "key"))


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
    shelf, code, marks = current_app.extensions[_EXTENSION]
    if shelf is None:
        return render()[0]
    digest = hashlib.blake2b(repr((code, marks, *key)).encode(), digest_size=16).digest()
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
    csrf_mark, key_mark = current_app.extensions[_EXTENSION][2]
    real = g.pop(name, None)
    setattr(g, name, csrf_mark)
    try:
        return render(key_mark)
    finally:
        g.pop(name, None)
        if real is not None:
            setattr(g, name, real)


def _fill(body: str) -> str:
    csrf_mark, key_mark = current_app.extensions[_EXTENSION][2]
    return body.replace(csrf_mark, generate_csrf()).replace(key_mark, uuid.uuid4().hex)
