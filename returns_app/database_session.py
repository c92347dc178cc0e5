"""One connection per app context (a request, a CLI command), closed when it ends."""

from __future__ import annotations

from flask import Flask, current_app, g

from .db import Database, connect


def get_db() -> Database:
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"])
    return g.db


def _close(_exc=None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close)
