"""What the app-level speed machinery buys (bench/machinery.py runs these): kept pages, db.connect's
pragmas, kept connections and the in-process caches, measured through the app itself on a
benchmark database."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from returns_app.store.db import Database, connect

from .generate import BENCH_PASSWORD, customer_email
from .timing import Timing, interleaved


def _app(path: Path, shelf: Path, size: int, connect_to: Callable | None = None):
    os.environ.setdefault("RETURNS_ENV", "development")
    from returns_app import create_app
    from returns_app.web import database_session

    real = database_session.connect
    if connect_to is not None:
        database_session.connect = connect_to
    try:
        app = create_app({"DATABASE": str(path), "SECRET_KEY": "machinery",
                          "WTF_CSRF_ENABLED": False, "PAGE_CACHE_SIZE": size,
                          "PAGE_CACHE_PATH": str(shelf), "PAGE_CACHE_VERIFY": False})
    finally:
        database_session.connect = real
    client = app.test_client()
    answer = client.post("/signin", data={"email": customer_email(1),
                                          "password": BENCH_PASSWORD})
    assert answer.status_code == 302, answer.status_code
    return client


def sqlite_defaults(path: str) -> Database:
    """A connection as db.connect opens it, without its memory map and 32 MB page cache."""
    db = connect(path)
    db.execute("PRAGMA mmap_size=0")
    db.execute("PRAGMA cache_size=-2000")
    return db


def order_pages(path: Path, repeat: int) -> dict[str, float]:
    """The signed-in order page (customer 1's orders in turn): kept (m008's order_version keys
    the shelf), rendered every time, and rendered every time without db.connect's pragmas."""
    db = connect(path)
    ids = [row[0] for row in db.execute("SELECT id FROM orders WHERE customer_id = 1")]
    db.close()
    shelf = Path(tempfile.mkdtemp()) / "pages.sqlite3"
    clients = {"kept": _app(path, shelf, 4096), "rendered": _app(path, shelf, 0),
               "rendered, SQLite's default cache, no mmap": _app(path, shelf, 0,
                                                                  sqlite_defaults)}
    turn = iter(range(10**9))

    def view(client) -> Timing:
        def one() -> None:
            assert client.get(f"/orders/{ids[next(turn) % len(ids)]}").status_code == 200
        return one

    for order_id in ids:  # each page viewed once: the shelf keeps it
        clients["kept"].get(f"/orders/{order_id}")
    return interleaved({name: view(client) for name, client in clients.items()}, repeat)


def opening(path: Path, repeat: int) -> dict[str, float]:
    """KeptConnections: what a request would pay to open its connection."""
    def open_and_read() -> None:
        db = connect(path)
        db.execute("SELECT id FROM orders WHERE id = 1").fetchone()
        db.close()

    kept = connect(path)
    found = interleaved({
        "opened per request": open_and_read,
        "kept": lambda: kept.execute("SELECT id FROM orders WHERE id = 1").fetchone()}, repeat)
    kept.close()
    return found


def in_process_caches(path: Path, repeat: int) -> dict[str, float]:
    """The per-process lru_caches of pure functions: one call answered from the cache against
    one computed (the function under the cache), inside a request in Swedish."""
    from datetime import date

    from returns_app.domain import banking_days, day_text, money
    from returns_app.web import domain_messages, filters, form_base, i18n

    client = _app(path, Path(tempfile.mkdtemp()) / "pages.sqlite3", 0)
    calls = {
        "money.format_minor": (money.format_minor, (123450, "SEK")),
        "day_text._day": (day_text._day, (date(2025, 3, 12), "d MMM yyyy", "sv")),
        "filters._moment": (filters._moment, ("2025-03-12T10:00:00+00:00", "short", "sv")),
        "i18n._locale": (i18n._locale, ("sv",)),
        "form_base.wtforms_catalog": (form_base.wtforms_catalog, ("sv",)),
        "banking_days._closed": (banking_days._closed, (2025,)),
        "domain_messages._patterns": (domain_messages._patterns, ()),
    }
    found = {}
    with client.application.test_request_context(headers={"Accept-Language": "sv"}):
        for name, (cached, args) in calls.items():
            cached(*args)
            found.update(interleaved({f"{name}, cached": lambda c=cached, a=args: c(*a),
                                      f"{name}, computed": lambda c=cached, a=args:
                                          c.__wrapped__(*a)}, max(3, repeat // 10)))
    return found



def order_reads(db: Database, bare: Database, repeat: int) -> dict[str, float]:
    """db.connect's mmap_size and cache_size: what the order page reads (the order with its
    lines and amounts, refunds, payments) for random orders, on a connection as db.connect
    opens it and on one with SQLite's defaults (2 MB page cache, reads by system call)."""
    import random

    from returns_app.services import orders, payments, refunds

    plain = sqlite_defaults(db.execute("PRAGMA database_list").fetchone()[2])
    top = db.execute("SELECT max(id) FROM orders").fetchone()[0]
    picks = random.Random(7)
    chosen = [picks.randrange(top) + 1 for _ in range(repeat)]

    def reads(on: Database) -> Timing:
        turn = iter(chosen)

        def read() -> None:
            order_id = next(turn)
            orders.order_details(on, order_id)
            refunds.refunds_of_order(on, order_id)
            payments.payments_of_order(on, order_id)
        return read

    found = interleaved({"db.connect": reads(db), "SQLite's defaults": reads(plain)}, repeat)
    plain.close()
    return found


