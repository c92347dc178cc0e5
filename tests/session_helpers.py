"""Signed-in sessions for tests that start signed in: the server-side row
(services/web_sessions.py) and the cookie's keys, as signing in makes them."""

from __future__ import annotations

from returns_app.services import web_sessions
from returns_app.store.db import connect
from returns_app.web.auth import SESSION_TOKEN_KEY


def session_keys(app, principal: str, stay_signed_in: bool = False) -> dict:
    """What Flask-Login and auth.begin_session put in the cookie for `principal`
    ("support_user:1", "customer:1", ...), with its live row in the app's database."""
    kind, _, raw_id = principal.partition(":")
    db = connect(app.config["DATABASE"])
    try:
        _id, token = web_sessions.start(db, kind, int(raw_id), stay_signed_in)
    finally:
        db.conn.close()
    return {"_user_id": principal, "_fresh": True, SESSION_TOKEN_KEY: token}
