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

A view declares it is kept with `@kept_page`: it checks who may see the order and hands back the
order and how to render its answer; the key, the version and the shelf are this module's.

With PAGE_CACHE_VERIFY (on in the tests) every hit is rendered again and compared: a change the
version misses fails the test that made it.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Callable
from functools import lru_cache, wraps
from pathlib import Path

from flask import Flask, current_app, g, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from ..domain import clock
from ..store import kept_pages
from ..store.db import Database
from ..store.page_shelf import Shelf, default_path
from .database_session import get_db

_EXTENSION = "returns_app.web.page_cache"


class StalePage(AssertionError):
    """A kept page differs from a fresh render: something it shows changed without a version
    bump (a table missing from ORDER_VERSIONED, store/migrations/speed.py, or something new in
    the key)."""


def init_app(app: Flask) -> None:
    app.config.setdefault("PAGE_CACHE_VERIFY", bool(app.config.get("TESTING")))
    app.config.setdefault("PAGE_CACHE_PATH",
                          default_path(app.config["DATABASE"], app.instance_path))
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
    return (*order.values(), *kept_pages.order_versions(db, order), clock.today().isoformat())


def kept_page(name: str, *, answer: bool = False) -> Callable:
    """Declares a view whose answer about one order is kept, under `name`, and served again
    until something it shows changes.

    The view checks who may see the order (on every request: a kept copy is only ever served
    after it) and returns `(order, render)`. For a page, `render(idempotency_key)` gives the
    HTML and whether it may be kept (not when it holds something that expires). For an API
    answer (`answer=True`: no session, no language, the same for every caller who may see the
    order), `render()` gives the value answered as JSON.
    """
    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def kept(*args, **kwargs):
            order, render = view(*args, **kwargs)
            if answer:
                body = _kept((name, *order_stamp(get_db(), order)), lambda: (
                    current_app.json.response(render()).get_data(), True))
                return current_app.response_class(body, mimetype=current_app.json.mimetype)
            return _page(get_db(), name, order, render)
        return kept
    return decorate


def _page(db: Database, name: str, order: dict, render: Callable[[str], tuple[str, bool]]
          ) -> str:
    if "_flashes" in session:
        return _fill(render(uuid.uuid4().hex)[0])
    key = (name, request.full_path, _header(), str(get_locale()), *order_stamp(db, order))
    return _fill(_kept(key, lambda: _with_placeholders(render)))


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
