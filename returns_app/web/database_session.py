"""The connection a request (or a CLI command) works with: each thread of a worker process
keeps one (db.KeptConnections) and hands it to request after request."""

from __future__ import annotations

from flask import Flask, current_app, g

from ..store import operations
from ..store.db import Database, KeptConnections, connect

_EXTENSION = "returns_app.connections"


def get_db() -> Database:
    if "db" not in g:
        g.db = current_app.extensions[_EXTENSION].get(current_app.config["DATABASE"])
    return g.db


def _release(_exc=None) -> None:
    db = g.pop("db", None)
    if db is not None:
        operations.roll_back_left_open(db)


def init_app(app: Flask) -> None:
    app.extensions[_EXTENSION] = KeptConnections(connect)
    app.teardown_appcontext(_release)
