"""The connection a request (or a CLI command) works with.

Each thread of a worker process keeps one connection open and hands it to request after request:
opening one costs more than a whole indexed page read (the file, the WAL index, four pragmas),
and a kept connection keeps SQLite's page cache warm between requests. Kept per process id as
well, so a server that forks after the app was created never shares a connection across
processes (SQLite forbids it).
"""

from __future__ import annotations

import os
import threading

from flask import Flask, current_app, g

from .db import Database, connect

_EXTENSION = "returns_app.connections"


class _Kept(threading.local):
    db: Database | None = None
    owner: tuple[int, str] | None = None


def get_db() -> Database:
    if "db" not in g:
        g.db = _kept_connection(current_app)
    return g.db


def _kept_connection(app: Flask) -> Database:
    kept: _Kept = app.extensions[_EXTENSION]
    owner = (os.getpid(), app.config["DATABASE"])
    if kept.db is None or kept.owner != owner:
        kept.db, kept.owner = connect(owner[1]), owner
    return kept.db


def _release(_exc=None) -> None:
    db = g.pop("db", None)
    # A request that failed half way through a write must not hand its open transaction to the
    # next one (write_transaction rolls back itself; this covers anything that escaped it).
    if db is not None and db.conn.in_transaction:
        db.conn.execute("ROLLBACK")


def init_app(app: Flask) -> None:
    app.extensions[_EXTENSION] = _Kept()
    app.teardown_appcontext(_release)
