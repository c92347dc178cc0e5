"""The connection a request (or a CLI command) works with: each thread of a worker process
keeps one (db.KeptConnections) and hands it to request after request."""

from __future__ import annotations

from flask import Flask, current_app, g

from ..store.db import Database, KeptConnections, connect

_EXTENSION = "returns_app.connections"


def get_db() -> Database:
    if "db" not in g:
        g.db = current_app.extensions[_EXTENSION].get(current_app.config["DATABASE"])
    return g.db


def _release(_exc=None) -> None:
    db = g.pop("db", None)
    # A request that failed half way through a write must not hand its open transaction to the
    # next one (write_transaction rolls back itself; this covers anything that escaped it).
    if db is not None and db.conn.in_transaction:
        db.conn.execute("ROLLBACK")


def init_app(app: Flask) -> None:
    app.extensions[_EXTENSION] = KeptConnections(connect)
    app.teardown_appcontext(_release)
